/* repository_internal.h - the repository keeper's state, shared by repository.c (rounds,
 * diff, control, life cycle) and repository_load.c (tracked files, one file's load on the
 * threadpool and its install on the loop, metrics). Not for use outside these two files.
 * Threads: the loop thread owns everything here; a load's pd__work_t belongs to the
 * threadpool between uv_queue_work and its after-callback. */
#ifndef PD_API_REPOSITORY_INTERNAL_H
#define PD_API_REPOSITORY_INTERNAL_H

#include "api/fsource.h"
#include "api/repo_scan.h"
#include "api/repo_watch.h"
#include "api/repository.h"

typedef struct {
    char *path;             /* owned */
    char *name;             /* owned: the name it was installed (or failed) as; NULL before */
    uint64_t number;        /* the version number it was installed as */
    pd_repo_identity_t id;  /* of the file last loaded (or being loaded) */
    pd_repo_identity_t settings_id; /* of its settings file then (zero: none) */
    int loading;            /* a load is on the threadpool */
    int installed;          /* its version is in the registry under (name, number) */
    int again;              /* changed while loading: another round */
    int seen;               /* in the current scan (diff scratch) */
} pd__tracked_t;

typedef struct pd__waiter_s {
    pd_repository_sync_cb cb;
    void *arg;
    struct pd__waiter_s *next;
} pd__waiter_t;

struct pd_repository_s {
    uv_loop_t *loop;
    pd_registry_t *reg;
    pd_repository_options_t o;  /* paths point at `paths` */
    char **paths;               /* owned copies */
    pd__tracked_t **tracked;    /* owned, n_tracked of o.max_entries slots */
    size_t n_tracked;
    int scanning;               /* a scan is on the threadpool */
    int force_next, force;      /* the next / running round loads fresh files at once */
    size_t loading;             /* loads on the threadpool */
    int stopped;
    pd__waiter_t *pending;      /* syncs for the next round */
    pd__waiter_t *round;        /* syncs of the running round */
    uv_signal_t *sighup;        /* heap: freed by its close callback */
    uv_timer_t *settle;         /* heap: a rescan once fresh files have settled */
    pd_repo_watch_t *watch;     /* poll mode */
    unsigned long issues_hash;  /* of the last scan's issues: log them when they change */
    int quiet;                  /* initial load: reported by pd_repository_report */
    pd_repo_scan_t *initial;    /* the initial scan, kept until reported */
    pd_metrics_family_t *loads, *serving, *retired;
};

/* A scan or a load on the threadpool. */
typedef struct {
    uv_work_t req;
    pd_repository_t *repo;
    pd__tracked_t *t;       /* load: the file (stays valid: tracked records are only
                               freed when no load of theirs is in flight) */
    char *path, *folder;    /* load: owned copies */
    char *settings;         /* load: owned: the settings file to read with the model */
    pd_fsource_spec_t *features; /* load: its feature source (owned until installed) */
    uint64_t version;
    pd_model_t *model;      /* load: the result, or NULL with err */
    double cost_us;
    char err[PD_REGISTRY_REASON_MAX];
    pd_repo_scan_t *scan;   /* scan: the result */
    int scan_rc;
} pd__work_t;

/* ---- repository_load.c ---- */

/* The tracked record of path, or NULL. */
pd__tracked_t *pd__repo_tracked_find(pd_repository_t *repo, const char *path);
/* A new record for path (owned by repo), or NULL when max_entries are tracked or out of
 * memory. */
pd__tracked_t *pd__repo_tracked_add(pd_repository_t *repo, const char *path);
/* Frees record i (no load of it may be in flight); the last record takes its slot. */
void pd__repo_tracked_remove_at(pd_repository_t *repo, size_t i);
/* Registers the repository's metric families in m (borrowed). Returns 0 or negative. */
int pd__repo_metrics_init(pd_repository_t *repo, pd_metrics_t *m);
/* 1 when entry e is what record t last loaded: the model file and its settings file. */
int pd__repo_unchanged(const pd__tracked_t *t, const pd_repo_entry_t *e);
/* A load of entry e into record t (t is marked loading), or NULL when out of memory. */
pd__work_t *pd__repo_load_job(pd_repository_t *repo, pd__tracked_t *t, const pd_repo_entry_t *e);
/* The threadpool half of a load: parses the file, reads its settings' feature source and
 * measures its cost per row. */
void pd__repo_load_work(uv_work_t *req);
/* The loop half: installs the model or records the failure, frees the job, and ends the
 * round if it was the last job out. */
void pd__repo_load_after(uv_work_t *req, int status);
/* Frees a job that never ran. */
void pd__repo_work_free(pd__work_t *w);

/* ---- repository.c ---- */

/* Ends the running round when no scan or load is out: calls its waiters, starts the next
 * round if syncs are pending. */
void pd__repo_round_maybe_done(pd_repository_t *repo);

#endif
