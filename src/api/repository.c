/* repository.c - scan, diff, load, install (see repository.h).
 *
 * One round: a scan runs on the threadpool (pd_repo_scan), its result is diffed on the loop
 * against `tracked` (one record per model file ever seen: path, identity, the name and
 * version it was installed as, its state), each new or changed file is loaded on the
 * threadpool, and each load's after-callback installs the model or records the failure.
 * A round ends when its scan and all its loads are back; sync callbacks asked for before
 * the round began are called then. A sync asked for during a round starts another round
 * after it (its change may have come too late for the running scan).
 *
 * Invariants (loop thread): at most one scan runs; a tracked file has at most one load in
 * flight (a change seen meanwhile sets `again`, which asks for one more round); a loaded
 * file's version is in the registry under (name, number) unless the model was unloaded
 * explicitly (then the file is forgotten, so that a later load reads it again). */
#include "api/repository.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/repo_scan.h"
#include "api/repo_watch.h"
#include "common.h"
#include "obs/log.h"

typedef struct {
    char *path;             /* owned */
    char *name;             /* owned: the name it was installed (or failed) as; NULL before */
    uint64_t number;        /* the version number it was installed as */
    pd_repo_identity_t id;  /* of the file last loaded (or being loaded) */
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
    uint64_t version;
    pd_model_t *model;      /* load: the result, or NULL with err */
    double cost_us;
    char err[PD_REGISTRY_REASON_MAX];
    pd_repo_scan_t *scan;   /* scan: the result */
    int scan_rc;
} pd__work_t;

static void round_maybe_done(pd_repository_t *repo);
static void start_scan(pd_repository_t *repo);

/* ---- tracked files ---- */

static pd__tracked_t *tracked_find(pd_repository_t *repo, const char *path)
{
    for (size_t i = 0; i < repo->n_tracked; i++)
        if (strcmp(repo->tracked[i]->path, path) == 0)
            return repo->tracked[i];
    return NULL;
}

static pd__tracked_t *tracked_add(pd_repository_t *repo, const char *path)
{
    if (repo->n_tracked >= repo->o.max_entries)
        return NULL;
    pd__tracked_t *t = calloc(1, sizeof *t);
    if (t == NULL || (t->path = strdup(path)) == NULL) {
        free(t);
        return NULL;
    }
    repo->tracked[repo->n_tracked++] = t;
    return t;
}

static void tracked_remove_at(pd_repository_t *repo, size_t i)
{
    pd__tracked_t *t = repo->tracked[i];
    free(t->path);
    free(t->name);
    free(t);
    repo->tracked[i] = repo->tracked[--repo->n_tracked];
}

static void set_name(pd__tracked_t *t, const char *name)
{
    if (t->name && strcmp(t->name, name) == 0)
        return;
    free(t->name);
    t->name = strdup(name);
}

/* ---- metrics ---- */

static void count_load(pd_repository_t *repo, const char *name, const char *outcome)
{
    const char *v[2] = {name, outcome};
    if (repo->loads)
        pd_metrics_inc(pd_metrics_series(repo->loads, v), 1);
}

static void collect_models(pd_metrics_family_t *f, void *ud)
{
    pd_repository_t *repo = ud;
    for (size_t i = 0; i < repo->reg->n; i++) {
        const pd_served_model_t *sm = repo->reg->models[i];
        const char *v[1] = {sm->name};
        if (f == repo->serving)
            pd_metrics_set(pd_metrics_series(f, v),
                           sm->primary ? (double)sm->primary->number : 0.0);
        else
            pd_metrics_set(pd_metrics_series(f, v), (double)sm->retired_refs);
    }
}

static int metrics_init(pd_repository_t *repo, pd_metrics_t *m)
{
    static const char *const lo[] = {"model", "outcome"};
    static const char *const l1[] = {"model"};
    int rc = pd_metrics_counter(m, "predictd_model_loads_total",
                                "Model version loads, by model and outcome (loaded, failed).",
                                lo, 2, &repo->loads);
    if (rc == 0)
        rc = pd_metrics_gauge(m, "predictd_model_serving_version",
                              "The version number the model's default routes serve.", l1, 1,
                              &repo->serving);
    if (rc == 0)
        rc = pd_metrics_gauge(m, "predictd_model_retired_references",
                              "Requests still holding a replaced or unloaded version of the "
                              "model (it is freed when they are answered).", l1, 1,
                              &repo->retired);
    if (rc == 0) {
        pd_metrics_on_collect(repo->serving, collect_models, repo);
        pd_metrics_on_collect(repo->retired, collect_models, repo);
    }
    return rc;
}

/* ---- loading (threadpool) and installing (loop) ---- */

/* Threadpool: parses the file and measures its cost per row. */
static void load_work(uv_work_t *req)
{
    pd__work_t *w = req->data;
    if (pd_model_load(w->path, &w->model, w->err, sizeof w->err) < 0) {
        w->model = NULL;
        return;
    }
    size_t ss = pd_model_scratch_size(w->model, 1);
    void *scratch = calloc(1, ss ? ss : 8);
    if (scratch == NULL || pd_registry_measure(w->model, scratch, &w->cost_us) < 0) {
        snprintf(w->err, sizeof w->err, "%s: out of memory", w->path);
        pd_model_free(w->model);
        w->model = NULL;
    }
    free(scratch);
}

/* The name a failed file is reported under: its folder's, the one it was served as, or
 * its file name without the extension. */
static void failure_name(const pd__work_t *w, char *out, size_t n)
{
    if (w->folder) {
        snprintf(out, n, "%s", w->folder);
        return;
    }
    if (w->t->name) {
        snprintf(out, n, "%s", w->t->name);
        return;
    }
    const char *base = strrchr(w->path, '/');
    base = base ? base + 1 : w->path;
    const char *dot = strchr(base, '.');
    snprintf(out, n, "%.*s", (int)(dot && dot > base ? (size_t)(dot - base) : strlen(base)), base);
}

static void load_failed(pd_repository_t *repo, pd__work_t *w)
{
    char name[PD_REPO_NAME_MAX + 1];
    failure_name(w, name, sizeof name);
    if (!repo->quiet)
        pd_log_error("model %s: %s", name, w->err);
    pd_registry_fail(repo->reg, name, w->err);
    count_load(repo, name, "failed");
    if (!w->t->installed) /* a reload failure keeps the name it serves under */
        set_name(w->t, name);
}

/* Another file already serves (name, number): two loose files that name the same model. */
static const char *conflict(pd_repository_t *repo, const pd__tracked_t *t, const char *name,
                            uint64_t number)
{
    for (size_t i = 0; i < repo->n_tracked; i++) {
        const pd__tracked_t *o = repo->tracked[i];
        if (o != t && o->installed && o->name && strcmp(o->name, name) == 0 &&
            o->number == number)
            return o->path;
    }
    return NULL;
}

static void load_succeeded(pd_repository_t *repo, pd__work_t *w)
{
    pd__tracked_t *t = w->t;
    const char *name = w->folder ? w->folder : pd_model_schema(w->model)->name;
    pd_served_model_t *sm = pd_registry_find(repo->reg, name);
    const char *other = conflict(repo, t, name, w->version);
    if (other != NULL || (sm && sm->pinned_unloaded)) {
        if (other)
            snprintf(w->err, sizeof w->err, "%s: model '%s' is already served from %s",
                     w->path, name, other);
        pd_model_free(w->model);
        if (other)
            load_failed(repo, w);
        else
            set_name(t, name); /* explicitly unloaded: a load reads it again */
        return;
    }
    if (t->installed && strcmp(t->name, name) != 0) { /* renamed in the file */
        pd_served_model_t *old = pd_registry_find(repo->reg, t->name);
        if (old)
            pd_registry_remove_version(repo->reg, old, t->number);
        t->installed = 0;
    }
    char label[PD_REGISTRY_LABEL_MAX];
    if (w->version)
        snprintf(label, sizeof label, "%llu", (unsigned long long)w->version);
    else
        snprintf(label, sizeof label, "%s", pd_model_schema(w->model)->version);
    char *path = strdup(w->path);
    sm = path ? pd_registry_install(repo->reg, name, w->model, path, w->version, label,
                                    w->cost_us, w->err, sizeof w->err)
              : NULL;
    if (path == NULL)
        pd_model_free(w->model);
    if (sm == NULL) {
        load_failed(repo, w);
        return;
    }
    set_name(t, name);
    t->number = w->version;
    t->installed = 1;
    count_load(repo, name, "loaded");
    if (!repo->quiet)
        pd_log_info("model %s version %s from %s: %.2f us per row", name, label, w->path,
                    w->cost_us);
}

static void work_free(pd__work_t *w)
{
    free(w->path);
    free(w->folder);
    free(w);
}

static void load_after(uv_work_t *req, int status)
{
    pd__work_t *w = req->data;
    pd_repository_t *repo = w->repo;
    repo->loading--;
    w->t->loading = 0;
    if (repo->stopped || status < 0) {
        pd_model_free(w->model);
    } else if (w->model == NULL) {
        load_failed(repo, w);
    } else {
        load_succeeded(repo, w);
    }
    if (w->t->again) {
        w->t->again = 0;
        pd_repository_sync(repo, NULL, NULL);
    }
    work_free(w);
    round_maybe_done(repo);
}

static pd__work_t *load_job(pd_repository_t *repo, pd__tracked_t *t, const pd_repo_entry_t *e)
{
    pd__work_t *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = strdup(e->path)) == NULL ||
        (e->name[0] && (w->folder = strdup(e->name)) == NULL)) {
        if (w)
            work_free(w);
        return NULL;
    }
    w->repo = repo;
    w->t = t;
    w->version = e->version;
    w->req.data = w;
    t->id = e->id;
    t->loading = 1;
    t->again = 0;
    if (e->name[0] && (t->name == NULL || strcmp(t->name, e->name) == 0))
        pd_registry_loading(repo->reg, e->name);
    return w;
}

/* ---- diff ---- */

static int64_t now_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int pinned(pd_repository_t *repo, const char *name)
{
    const pd_served_model_t *sm = name ? pd_registry_find(repo->reg, name) : NULL;
    return sm != NULL && sm->pinned_unloaded;
}

/* Whether a tracked file missing from the scan is really gone, or only unreadable now
 * (its PATH or its model folder failed: keep serving it). */
static int really_gone(const pd_repo_scan_t *s, const pd__tracked_t *t)
{
    for (size_t i = 0; i < s->n_issues; i++)
        if (s->issues[i].root_failed &&
            strncmp(t->path, s->issues[i].path, strlen(s->issues[i].path)) == 0)
            return 0;
    const pd_repo_model_t *m = t->name ? pd_repo_scan_model(s, t->name) : NULL;
    return m == NULL || !m->failed;
}

static void retire_gone(pd_repository_t *repo, const pd_repo_scan_t *s)
{
    for (size_t i = repo->n_tracked; i-- > 0;) {
        pd__tracked_t *t = repo->tracked[i];
        if (t->seen || t->loading || !really_gone(s, t))
            continue;
        pd_served_model_t *sm = t->name ? pd_registry_find(repo->reg, t->name) : NULL;
        if (sm && t->installed) {
            pd_log_info("model %s version %llu: %s was removed", t->name,
                        (unsigned long long)t->number, t->path);
            pd_registry_remove_version(repo->reg, sm, t->number);
        }
        tracked_remove_at(repo, i);
    }
}

/* Starts the loads that entry e needs; returns 1 when it must wait to settle. */
static int diff_entry(pd_repository_t *repo, const pd_repo_entry_t *e, int64_t now)
{
    pd__tracked_t *t = tracked_find(repo, e->path);
    if (t != NULL) {
        t->seen = 1;
        if (t->loading) {
            t->again |= !pd_repo_identity_equal(&t->id, &e->id);
            return 0;
        }
        if (pd_repo_identity_equal(&t->id, &e->id))
            return 0;
    }
    if (pinned(repo, e->name[0] ? e->name : t ? t->name : NULL))
        return 0;
    if (!repo->force && now - e->id.mtime_ns < (int64_t)repo->o.settle_ms * 1000000)
        return 1;
    if (t == NULL && (t = tracked_add(repo, e->path)) == NULL) {
        pd_log_warn("%s: not loaded: more than %zu model files", e->path,
                       repo->o.max_entries);
        return 0;
    }
    t->seen = 1;
    pd__work_t *w = load_job(repo, t, e);
    if (w == NULL || uv_queue_work(repo->loop, &w->req, load_work, load_after) < 0) {
        pd_log_error("%s: cannot start its load", e->path);
        if (w)
            work_free(w);
        t->loading = 0;
        return 0;
    }
    repo->loading++;
    return 0;
}

static void log_issues(pd_repository_t *repo, const pd_repo_scan_t *s, int always)
{
    unsigned long h = 5381;
    for (size_t i = 0; i < s->n_issues; i++)
        for (const char *p = s->issues[i].message; *p; p++)
            h = h * 33 + (unsigned char)*p;
    if (!always && h == repo->issues_hash)
        return;
    repo->issues_hash = h;
    for (size_t i = 0; i < s->n_issues; i++) {
        const pd_repo_issue_t *is = &s->issues[i];
        if (is->is_error)
            pd_log_error("%s: %s", is->path, is->message);
        else
            pd_log_warn("%s: %s", is->path, is->message);
    }
}

static void settle_fire(uv_timer_t *h)
{
    pd_repository_sync(h->data, NULL, NULL);
}

static void apply_scan(pd_repository_t *repo, const pd_repo_scan_t *s)
{
    log_issues(repo, s, 0);
    for (size_t i = 0; i < repo->n_tracked; i++)
        repo->tracked[i]->seen = 0;
    int64_t now = now_realtime_ns();
    int fresh = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        fresh |= diff_entry(repo, &s->entries[i], now);
    retire_gone(repo, s);
    if (fresh && !uv_is_active((uv_handle_t *)repo->settle))
        uv_timer_start(repo->settle, settle_fire, repo->o.settle_ms, 0);
}

/* ---- rounds ---- */

static void scan_work(uv_work_t *req)
{
    pd__work_t *w = req->data;
    pd_repository_t *repo = w->repo;
    w->scan_rc = pd_repo_scan((const char *const *)repo->paths, repo->o.n_paths,
                              repo->o.max_entries, &w->scan);
}

static void scan_after(uv_work_t *req, int status)
{
    pd__work_t *w = req->data;
    pd_repository_t *repo = w->repo;
    repo->scanning = 0;
    if (!repo->stopped && status == 0 && w->scan != NULL)
        apply_scan(repo, w->scan);
    else if (!repo->stopped && w->scan_rc < 0)
        pd_log_error("repository: scan failed: %s", pd_strerror(w->scan_rc));
    pd_repo_scan_free(w->scan);
    free(w);
    round_maybe_done(repo);
}

static void start_scan(pd_repository_t *repo)
{
    pd__work_t *w = calloc(1, sizeof *w);
    repo->round = repo->pending;
    repo->pending = NULL;
    repo->force = repo->force_next;
    repo->force_next = 0;
    if (w != NULL) {
        w->repo = repo;
        w->req.data = w;
        if (uv_queue_work(repo->loop, &w->req, scan_work, scan_after) == 0) {
            repo->scanning = 1;
            return;
        }
        free(w);
    }
    pd_log_error("repository: cannot start a scan");
    round_maybe_done(repo);
}

static void round_maybe_done(pd_repository_t *repo)
{
    if (repo->scanning || repo->loading)
        return;
    pd__waiter_t *w = repo->round;
    repo->round = NULL;
    while (w) {
        pd__waiter_t *next = w->next;
        if (w->cb)
            w->cb(w->arg);
        free(w);
        w = next;
    }
    if (repo->pending && !repo->stopped)
        start_scan(repo);
}

int pd_repository_sync(pd_repository_t *repo, pd_repository_sync_cb cb, void *arg)
{
    pd__waiter_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return PD_ENOMEM;
    w->cb = cb;
    w->arg = arg;
    if (repo->stopped) {
        free(w);
        if (cb)
            cb(arg);
        return 0;
    }
    w->next = repo->pending;
    repo->pending = w;
    if (!repo->scanning && !repo->loading)
        start_scan(repo);
    return 0;
}

/* ---- explicit control ---- */

int pd_repository_load_model(pd_repository_t *repo, const char *name,
                             pd_repository_sync_cb cb, void *arg)
{
    pd_served_model_t *sm = pd_registry_find(repo->reg, name);
    if (sm != NULL)
        sm->pinned_unloaded = 0;
    for (size_t i = repo->n_tracked; i-- > 0;) { /* forget its files: read them again */
        pd__tracked_t *t = repo->tracked[i];
        if (t->name && strcmp(t->name, name) == 0 && !t->loading)
            tracked_remove_at(repo, i);
    }
    repo->force_next = 1; /* asked for now: do not wait for fresh files to settle */
    return pd_repository_sync(repo, cb, arg);
}

int pd_repository_unload_model(pd_repository_t *repo, const char *name)
{
    pd_served_model_t *sm = pd_registry_find(repo->reg, name);
    if (sm == NULL || (sm->state != PD_MODEL_READY && sm->state != PD_MODEL_LOADING))
        return PD_ENOTFOUND;
    pd_registry_unload(repo->reg, sm);
    sm->pinned_unloaded = 1;
    for (size_t i = 0; i < repo->n_tracked; i++) {
        pd__tracked_t *t = repo->tracked[i];
        if (t->name && strcmp(t->name, name) == 0)
            t->installed = 0;
    }
    pd_log_info("model %s: unloaded", name);
    return 0;
}

/* ---- start-up ---- */

static void on_sighup(uv_signal_t *h, int signum)
{
    (void)signum;
    pd_repository_t *repo = h->data;
    pd_log_info("SIGHUP: rescanning the model repository");
    repo->force_next = 1; /* asked for now: do not wait for fresh files to settle */
    pd_repository_sync(repo, NULL, NULL);
}

static void on_watch(pd_repo_watch_reason_t reason, void *ud)
{
    (void)reason; /* armed, events or the periodic timer: each means "rescan" */
    pd_repository_sync(ud, NULL, NULL);
}

/* Loads every entry of s now, on this thread; the first failure's message in err. */
static int load_all_now(pd_repository_t *repo, const pd_repo_scan_t *s, char *err,
                        size_t errlen)
{
    int failures = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        const pd_repo_entry_t *e = &s->entries[i];
        pd__tracked_t *t = tracked_add(repo, e->path);
        pd__work_t *w = t ? load_job(repo, t, e) : NULL;
        if (w == NULL) {
            snprintf(err, errlen, "%s: out of memory or too many model files", e->path);
            return PD_ENOMEM;
        }
        t->seen = 1;
        load_work(&w->req);
        if (w->model == NULL && failures++ == 0)
            snprintf(err, errlen, "%s", w->err);
        repo->loading++;
        load_after(&w->req, 0);
    }
    return failures;
}

static int start_watching(pd_repository_t *repo, char *err, size_t errlen)
{
    int rc = uv_signal_start(repo->sighup, on_sighup, SIGHUP);
    if (rc == 0)
        uv_unref((uv_handle_t *)repo->sighup);
    if (rc == 0 && repo->o.mode == PD_CONTROL_POLL)
        rc = pd_repo_watch_start(repo->loop, (const char *const *)repo->paths,
                                 repo->o.n_paths, repo->o.poll_ms, on_watch, repo,
                                 &repo->watch);
    if (rc < 0)
        snprintf(err, errlen, "cannot watch the model repository: %s",
                 rc < -100 ? uv_strerror(rc) : pd_strerror(rc));
    return rc < 0 ? PD_EIO : 0;
}

/* Start-up's verdict on the scan: a PATH that cannot be read is fatal, and with strict any
 * error. Returns 0 or PD_EIO with the first such issue in err. */
static int fatal_issue(const pd_repository_t *repo, const pd_repo_scan_t *s, int scan_rc,
                       char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n_issues; i++) {
        const pd_repo_issue_t *is = &s->issues[i];
        if (is->is_error && (is->root_failed || repo->o.strict || scan_rc < 0)) {
            snprintf(err, errlen, "%s: %s", is->path, is->message);
            return scan_rc < 0 ? scan_rc : PD_EIO;
        }
    }
    return 0;
}

/* Nothing to serve at all (mode none cannot get a model later): the first failure, or
 * that there were no model files. */
static int nothing_served(const pd_repository_t *repo, int failures, char *err, size_t errlen)
{
    for (size_t i = 0; i < repo->reg->n; i++)
        if (repo->reg->models[i]->primary != NULL || repo->o.mode != PD_CONTROL_NONE)
            return 0;
    if (failures == 0) {
        int n = snprintf(err, errlen, "no model to serve: no model files in");
        for (size_t i = 0; i < repo->o.n_paths && n >= 0 && (size_t)n < errlen; i++)
            n += snprintf(err + n, errlen - (size_t)n, "%s %s", i ? "," : "", repo->paths[i]);
    }
    return PD_ENOTFOUND;
}

int pd_repository_load_initial(pd_repository_t *repo, char *err, size_t errlen)
{
    pd_repo_scan_t *s = NULL;
    int rc = pd_repo_scan((const char *const *)repo->paths, repo->o.n_paths,
                          repo->o.max_entries, &s);
    if (rc < 0 && s == NULL) {
        snprintf(err, errlen, "cannot scan the model paths: %s", pd_strerror(rc));
        return rc;
    }
    if ((rc = fatal_issue(repo, s, rc, err, errlen)) < 0) {
        pd_repo_scan_free(s);
        return rc;
    }
    repo->quiet = 1; /* a fatal failure is the caller's one line; else logged below */
    int failures = load_all_now(repo, s, err, errlen);
    repo->quiet = 0;
    if (failures < 0 || (failures > 0 && repo->o.strict) ||
        nothing_served(repo, failures, err, errlen) < 0) {
        pd_repo_scan_free(s);
        return failures < 0 ? failures : failures > 0 && repo->o.strict ? PD_EFORMAT
                                                                       : PD_ENOTFOUND;
    }
    repo->initial = s;
    return start_watching(repo, err, errlen);
}

void pd_repository_report(pd_repository_t *repo)
{
    if (repo->initial != NULL)
        log_issues(repo, repo->initial, 1);
    pd_repo_scan_free(repo->initial);
    repo->initial = NULL;
    for (size_t i = 0; i < repo->reg->n; i++) {
        const pd_served_model_t *sm = repo->reg->models[i];
        for (size_t k = 0; k < sm->n_versions; k++)
            pd_log_info("model %s version %s from %s: %.2f us per row", sm->name,
                        sm->versions[k]->label, sm->versions[k]->path,
                        sm->versions[k]->cost_us);
        if (sm->reason[0] != '\0')
            pd_log_error("model %s: %s (skipped)", sm->name, sm->reason);
    }
}

/* ---- life cycle ---- */

static void options_resolve(pd_repository_options_t *o)
{
    if (o->poll_ms == 0)
        o->poll_ms = PD_REPOSITORY_DEFAULT_POLL_MS;
    if (o->settle_ms == 0)
        o->settle_ms = PD_REPOSITORY_DEFAULT_SETTLE_MS;
    if (o->max_entries == 0)
        o->max_entries = PD_REPOSITORY_DEFAULT_MAX_ENTRIES;
}

static void repo_free_parts(pd_repository_t *repo)
{
    for (size_t i = 0; repo->paths && i < repo->o.n_paths; i++)
        free(repo->paths[i]);
    free(repo->paths);
    free(repo->tracked);
    free(repo);
}

int pd_repository_create(pd_repository_t **out, uv_loop_t *loop, pd_registry_t *reg,
                         pd_metrics_t *metrics, const pd_repository_options_t *o, char *err,
                         size_t errlen)
{
    pd_repository_t *repo = calloc(1, sizeof *repo);
    if (repo == NULL) {
        snprintf(err, errlen, "out of memory");
        return PD_ENOMEM;
    }
    repo->loop = loop;
    repo->reg = reg;
    repo->o = *o;
    options_resolve(&repo->o);
    repo->o.paths = NULL; /* repo->paths holds the copies */
    repo->paths = calloc(o->n_paths ? o->n_paths : 1, sizeof *repo->paths);
    repo->tracked = calloc(repo->o.max_entries, sizeof *repo->tracked);
    int ok = repo->paths && repo->tracked;
    for (size_t i = 0; ok && i < o->n_paths; i++)
        ok = (repo->paths[i] = strdup(o->paths[i])) != NULL;
    repo->sighup = ok ? malloc(sizeof *repo->sighup) : NULL;
    repo->settle = repo->sighup ? malloc(sizeof *repo->settle) : NULL;
    if (repo->settle == NULL) {
        free(repo->sighup);
        repo_free_parts(repo);
        snprintf(err, errlen, "out of memory");
        return PD_ENOMEM;
    }
    uv_signal_init(loop, repo->sighup); /* from here on, pd_repository_destroy frees it all */
    repo->sighup->data = repo;
    uv_timer_init(loop, repo->settle);
    uv_unref((uv_handle_t *)repo->settle);
    repo->settle->data = repo;
    if (metrics != NULL && metrics_init(repo, metrics) < 0) {
        snprintf(err, errlen, "repository metrics: cannot register them");
        pd_repository_destroy(repo);
        return PD_EINVAL;
    }
    *out = repo;
    return 0;
}

void pd_repository_stop(pd_repository_t *repo)
{
    if (repo == NULL || repo->stopped)
        return;
    repo->stopped = 1;
    uv_signal_stop(repo->sighup);
    uv_timer_stop(repo->settle);
    pd_repo_watch_stop(repo->watch);
    repo->watch = NULL;
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

void pd_repository_destroy(pd_repository_t *repo)
{
    if (repo == NULL)
        return;
    pd_repository_stop(repo);
    pd_repo_scan_free(repo->initial);
    uv_close((uv_handle_t *)repo->sighup, free_handle);
    uv_close((uv_handle_t *)repo->settle, free_handle);
    for (pd__waiter_t *w = repo->pending, *n; w; w = n) {
        n = w->next;
        free(w);
    }
    for (size_t i = repo->n_tracked; i-- > 0;)
        tracked_remove_at(repo, i);
    repo_free_parts(repo);
}
