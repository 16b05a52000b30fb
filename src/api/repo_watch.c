/* repo_watch.c - inotify watchers on the repository's folders, debounced, with a periodic
 * fallback (see repo_watch.h).
 *
 * A cycle: a threadpool job lists the folders to watch (dir_t, sorted by path, deduplicated
 * by inode, at most PD_REPO_WATCH_MAX_DIRS); back on the loop, apply() merges that list
 * with the watchers open now (closing those of folders gone, replaced by another inode or
 * named by their own "deleted"/"moved" event, starting the new ones), then cb runs.
 *
 * Invariants: w->watched is sorted by path and holds open watchers only (n_watched <=
 * PD_REPO_WATCH_MAX_DIRS); at most one job is in flight (w->job); w->paths never change
 * after start, which is what lets the job read them on a threadpool thread; the job reads
 * nothing else of w. cb runs only while !stopping. w is freed only once stopping, with no
 * handle closing (n_closing == 0) and no job in flight. */
#include "api/repo_watch.h"

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/repo_scan.h"
#include "common.h"
#include "obs/log.h"

/* A folder to watch, identified by path and inode (a folder replaced under the same path
 * needs a new watcher: inotify watches the inode). */
typedef struct dir_s {
    char *path; /* owned */
    uint64_t dev, ino;
    int level;  /* 0: a repository (expand to model folders), 1: a model folder (expand to
                   version folders), 2: a leaf (version folder, parent of a file PATH) */
} dir_t;

typedef struct watcher_s {
    uv_fs_event_t h; /* h.data = this */
    pd_repo_watch_t *w;
    dir_t d;
    int stale; /* the folder was deleted or moved: the next cycle re-arms (see mark_stale) */
} watcher_t;

typedef struct job_s {
    uv_work_t req; /* req.data = this */
    pd_repo_watch_t *w;
    char *const *paths; /* w->paths: immutable while the watch exists */
    size_t n_paths;
    unsigned reasons; /* 1 << pd_repo_watch_reason_t, for the cb after this cycle */
    dir_t *dirs;      /* owned: the folders found (work thread), sorted by path */
    size_t n;
    int over;  /* more folders than PD_REPO_WATCH_MAX_DIRS */
    int nomem; /* the list is incomplete: apply nothing */
} job_t;

struct pd_repo_watch_s {
    uv_loop_t *loop;
    char **paths; /* owned, n_paths strings */
    size_t n_paths;
    pd_repo_watch_cb cb;
    void *ud;
    uv_timer_t debounce, periodic; /* data = this */
    watcher_t **watched;           /* owned array of PD_REPO_WATCH_MAX_DIRS slots */
    watcher_t **spare;             /* owned, same size: apply() builds the next set here */
    size_t n_watched;
    job_t *job;         /* the cycle in flight, or NULL */
    unsigned want;      /* reasons of the next cycle (1 << reason) */
    uint64_t burst_start;
    int in_burst;
    size_t n_closing;   /* handles whose close callback has not run yet */
    int stopping;
    int warned_full;
    unsigned n_warnings;
};

/* ---- the folder list (threadpool) ---- */

/* out = path "/" name, no doubled slash: how every watched folder's path is built.
 * Returns its length, or PD_ETOOBIG. */
static int child_path(char out[PATH_MAX], const char *path, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                     name);
    return n > 0 && n < PATH_MAX ? n : PD_ETOOBIG;
}

static void add_dir(job_t *j, const char *path, int level)
{
    struct stat st;
    if (j->nomem || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return;
    for (size_t i = 0; i < j->n; i++)
        if (j->dirs[i].dev == (uint64_t)st.st_dev && j->dirs[i].ino == (uint64_t)st.st_ino)
            return;
    if (j->n >= PD_REPO_WATCH_MAX_DIRS) {
        j->over = 1;
        return;
    }
    dir_t *d = &j->dirs[j->n];
    *d = (dir_t){strdup(path), (uint64_t)st.st_dev, (uint64_t)st.st_ino, level};
    if (d->path == NULL)
        j->nomem = 1;
    else
        j->n++;
}

/* Adds the model folders (level 0) or version folders (level 1) of dir. */
static void expand(job_t *j, const char *dir, int level)
{
    char p[PATH_MAX];
    size_t names = 0;
    uint64_t v;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while (!j->nomem && names < PD_REPO_MAX_DIR_NAMES && (e = readdir(d)) != NULL) {
        if (pd_repo_name_skipped(e->d_name))
            continue;
        names++;
        if (level == 0 ? !pd_repo_name_valid(e->d_name)
                       : pd_repo_version_parse(e->d_name, &v) < 0)
            continue;
        if (child_path(p, dir, e->d_name) > 0)
            add_dir(j, p, level + 1);
    }
    closedir(d);
}

/* The folder holding path (a file PATH, or a missing one): "a/b.json" -> "a", "b" -> ".". */
static void parent_of(const char *path, char out[PATH_MAX])
{
    snprintf(out, PATH_MAX, "%s", path);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    char *slash = strrchr(out, '/');
    if (slash == NULL)
        snprintf(out, PATH_MAX, ".");
    else
        slash[slash == out ? 1 : 0] = '\0';
}

static int cmp_dir(const void *a, const void *b)
{
    return strcmp(((const dir_t *)a)->path, ((const dir_t *)b)->path);
}

/* Threadpool: lists the folders to watch, breadth first (repositories, then the parents
 * of file PATHs, then model folders, then version folders), so when there are too many it
 * is the deepest that go unwatched. Reads only j (and the immutable paths). */
static void job_work(uv_work_t *req)
{
    job_t *j = req->data;
    char parent[PATH_MAX];
    struct stat st;
    j->dirs = calloc(PD_REPO_WATCH_MAX_DIRS, sizeof *j->dirs);
    if (j->dirs == NULL) {
        j->nomem = 1;
        return;
    }
    for (size_t i = 0; i < j->n_paths; i++)
        if (stat(j->paths[i], &st) == 0 && S_ISDIR(st.st_mode))
            add_dir(j, j->paths[i], 0);
    for (size_t i = 0; i < j->n_paths; i++) {
        if (stat(j->paths[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            parent_of(j->paths[i], parent);
            add_dir(j, parent, 2);
        }
    }
    for (int level = 0; level < 2; level++) /* j->n grows inside: new ones are expanded */
        for (size_t i = 0; i < j->n; i++)
            if (j->dirs[i].level == level)
                expand(j, j->dirs[i].path, level);
    if (j->n > 1)
        qsort(j->dirs, j->n, sizeof *j->dirs, cmp_dir);
}

static void job_free(job_t *j)
{
    for (size_t i = 0; j->dirs != NULL && i < j->n; i++)
        free(j->dirs[i].path);
    free(j->dirs);
    free(j);
}

/* ---- watchers and teardown (loop thread) ---- */

static void maybe_free(pd_repo_watch_t *w)
{
    if (!w->stopping || w->n_closing > 0 || w->job != NULL)
        return;
    for (size_t i = 0; i < w->n_paths; i++)
        free(w->paths[i]);
    free(w->paths);
    free(w->watched);
    free(w->spare);
    free(w);
}

static void on_watcher_closed(uv_handle_t *h)
{
    watcher_t *wt = h->data;
    pd_repo_watch_t *w = wt->w;
    free(wt->d.path);
    free(wt);
    w->n_closing--;
    maybe_free(w);
}

static void on_timer_closed(uv_handle_t *h)
{
    pd_repo_watch_t *w = h->data;
    w->n_closing--;
    maybe_free(w);
}

static void close_watcher(watcher_t *wt)
{
    wt->w->n_closing++;
    uv_close((uv_handle_t *)&wt->h, on_watcher_closed);
}

static void on_debounce(uv_timer_t *t);

/* An event in wt's folder named like the folder itself: the kernel's "deleted" or "moved"
 * event on the folder (libuv names those by the folder's base name; a child of the same
 * name only costs a needless re-arm). The folder may come back under the same path, even
 * with the same inode number (file systems reuse them at once): the next cycle re-arms. */
static void mark_stale(watcher_t *wt, const char *name)
{
    const char *p = wt->d.path;
    size_t end = strlen(p), start;
    while (end > 1 && p[end - 1] == '/') /* a PATH may end in '/' */
        end--;
    for (start = end; start > 0 && p[start - 1] != '/'; start--)
        ;
    if (strlen(name) == end - start && strncmp(p + start, name, end - start) == 0)
        wt->stale = 1;
}

/* Any event in a watched folder (or an error): end the burst DEBOUNCE_MS from now, but no
 * later than MAX_DELAY_MS after its first event. */
static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    (void)events;
    (void)status;
    pd_repo_watch_t *w = ((watcher_t *)h->data)->w;
    if (w->stopping)
        return;
    if (filename != NULL)
        mark_stale(h->data, filename);
    uint64_t now = uv_now(w->loop);
    if (!w->in_burst) {
        w->in_burst = 1;
        w->burst_start = now;
    }
    uint64_t elapsed = now - w->burst_start, delay = PD_REPO_WATCH_DEBOUNCE_MS;
    if (elapsed + delay > PD_REPO_WATCH_MAX_DELAY_MS)
        delay = elapsed >= PD_REPO_WATCH_MAX_DELAY_MS ? 0 : PD_REPO_WATCH_MAX_DELAY_MS - elapsed;
    uv_timer_start(&w->debounce, on_debounce, delay, 0);
}

static void warn(pd_repo_watch_t *w, const char *path, int err)
{
    if (w->n_warnings++ < PD_REPO_WATCH_MAX_WARNINGS)
        pd_log_warn("repository watch: cannot watch %s (%s); it is rescanned every cycle%s",
                    path, uv_strerror(err),
                    w->n_warnings == PD_REPO_WATCH_MAX_WARNINGS ? " (last such warning)" : "");
}

/* Starts a watcher on d, taking its path. Returns it, or NULL (warned; d->path freed). */
static watcher_t *start_watcher(pd_repo_watch_t *w, dir_t *d)
{
    watcher_t *wt = calloc(1, sizeof *wt);
    if (wt == NULL) {
        warn(w, d->path, UV_ENOMEM);
        free(d->path);
        d->path = NULL;
        return NULL;
    }
    wt->w = w;
    wt->d = *d;
    d->path = NULL;
    wt->h.data = wt;
    int rc = uv_fs_event_init(w->loop, &wt->h);
    if (rc == 0)
        rc = uv_fs_event_start(&wt->h, on_event, wt->d.path, 0);
    if (rc == 0)
        return wt;
    warn(w, wt->d.path, rc);
    close_watcher(wt); /* uv_fs_event_init cannot fail on Linux: the handle is open */
    return NULL;
}

/* Merges the folder list of a job into the open watchers (both sorted by path). */
static void apply(pd_repo_watch_t *w, job_t *j)
{
    size_t i = 0, k = 0, n = 0;
    while (i < w->n_watched || k < j->n) {
        watcher_t *old = i < w->n_watched ? w->watched[i] : NULL;
        dir_t *d = k < j->n ? &j->dirs[k] : NULL;
        int c = old == NULL ? 1 : d == NULL ? -1 : strcmp(old->d.path, d->path);
        if (c == 0 && old->d.dev == d->dev && old->d.ino == d->ino && !old->stale) {
            w->spare[n++] = old; /* unchanged */
            i++;
            k++;
            continue;
        }
        if (c <= 0) { /* gone, or (maybe) replaced by another folder of the same path */
            close_watcher(old);
            i++;
        }
        if (c >= 0) {
            watcher_t *wt = start_watcher(w, d);
            if (wt != NULL)
                w->spare[n++] = wt;
            k++;
        }
    }
    watcher_t **t = w->watched;
    w->watched = w->spare;
    w->spare = t;
    w->n_watched = n;
    if (j->over && !w->warned_full) {
        w->warned_full = 1;
        pd_log_warn("repository watch: more than %d folders; the others are rescanned "
                    "every %llu ms", PD_REPO_WATCH_MAX_DIRS,
                    (unsigned long long)uv_timer_get_repeat(&w->periodic));
    }
}

/* ---- cycles ---- */

static pd_repo_watch_reason_t pick(unsigned reasons)
{
    if (reasons & (1u << PD_REPO_WATCH_ARMED))
        return PD_REPO_WATCH_ARMED;
    return (reasons & (1u << PD_REPO_WATCH_EVENT)) ? PD_REPO_WATCH_EVENT : PD_REPO_WATCH_TIMER;
}

static void start_job(pd_repo_watch_t *w);

static void job_done(uv_work_t *req, int status)
{
    job_t *j = req->data;
    pd_repo_watch_t *w = j->w;
    w->job = NULL;
    if (status == 0 && !w->stopping && !j->nomem)
        apply(w, j);
    else if (status == 0 && j->nomem)
        pd_log_warn("repository watch: out of memory; watchers left as they were");
    unsigned reasons = j->reasons;
    job_free(j);
    if (w->stopping) {
        maybe_free(w);
        return;
    }
    w->cb(pick(reasons), w->ud);
    if (!w->stopping && w->want != 0)
        start_job(w);
}

/* Starts a cycle for the reasons in w->want (no job in flight). Without memory for it,
 * calls cb at once: the caller rescans with the watchers left as they are. */
static void start_job(pd_repo_watch_t *w)
{
    job_t *j = calloc(1, sizeof *j);
    unsigned reasons = w->want;
    w->want = 0;
    if (j != NULL) {
        *j = (job_t){.w = w, .paths = w->paths, .n_paths = w->n_paths, .reasons = reasons};
        j->req.data = j;
        if (uv_queue_work(w->loop, &j->req, job_work, job_done) == 0) {
            w->job = j;
            return;
        }
        free(j);
    }
    pd_log_warn("repository watch: cannot start a cycle; rescanning without re-arming");
    w->cb(pick(reasons), w->ud);
}

static void request_cycle(pd_repo_watch_t *w, pd_repo_watch_reason_t reason)
{
    w->want |= 1u << reason;
    if (w->job == NULL && !w->stopping)
        start_job(w);
}

static void on_debounce(uv_timer_t *t)
{
    pd_repo_watch_t *w = t->data;
    w->in_burst = 0;
    request_cycle(w, PD_REPO_WATCH_EVENT);
}

static void on_periodic(uv_timer_t *t)
{
    request_cycle(t->data, PD_REPO_WATCH_TIMER);
}

/* ---- the public calls ---- */

int pd_repo_watch_start(uv_loop_t *loop, const char *const *paths, size_t n,
                        unsigned interval_ms, pd_repo_watch_cb cb, void *ud,
                        pd_repo_watch_t **out)
{
    if (out == NULL)
        return PD_EINVAL;
    *out = NULL;
    if (loop == NULL || paths == NULL || n == 0 || n > PD_REPO_MAX_PATHS || cb == NULL ||
        interval_ms > PD_REPO_WATCH_MAX_INTERVAL_MS)
        return PD_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (paths[i] == NULL || paths[i][0] == '\0' || strlen(paths[i]) >= PATH_MAX)
            return PD_EINVAL;
    pd_repo_watch_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return PD_ENOMEM;
    w->paths = calloc(n, sizeof *w->paths);
    w->watched = calloc(PD_REPO_WATCH_MAX_DIRS, sizeof *w->watched);
    w->spare = calloc(PD_REPO_WATCH_MAX_DIRS, sizeof *w->spare);
    if (w->paths == NULL || w->watched == NULL || w->spare == NULL)
        goto nomem;
    for (w->n_paths = 0; w->n_paths < n; w->n_paths++)
        if ((w->paths[w->n_paths] = strdup(paths[w->n_paths])) == NULL)
            goto nomem;
    w->loop = loop;
    w->cb = cb;
    w->ud = ud;
    uv_timer_init(loop, &w->debounce); /* cannot fail; from here on only stop unwinds */
    uv_timer_init(loop, &w->periodic);
    w->debounce.data = w->periodic.data = w;
    interval_ms = interval_ms ? interval_ms : PD_REPO_WATCH_DEFAULT_INTERVAL_MS;
    uv_timer_start(&w->periodic, on_periodic, interval_ms, interval_ms);
    request_cycle(w, PD_REPO_WATCH_ARMED);
    *out = w;
    return 0;
nomem:
    w->stopping = 1;
    maybe_free(w);
    return PD_ENOMEM;
}

void pd_repo_watch_stop(pd_repo_watch_t *w)
{
    if (w == NULL || w->stopping)
        return;
    w->stopping = 1;
    for (size_t i = 0; i < w->n_watched; i++)
        close_watcher(w->watched[i]);
    w->n_watched = 0;
    w->n_closing += 2;
    uv_close((uv_handle_t *)&w->debounce, on_timer_closed);
    uv_close((uv_handle_t *)&w->periodic, on_timer_closed);
    if (w->job != NULL)
        uv_cancel((uv_req_t *)&w->job->req); /* else job_done frees it after it ran */
}

size_t pd_repo_watch_dirs(const pd_repo_watch_t *w)
{
    return w == NULL ? 0 : w->n_watched;
}
