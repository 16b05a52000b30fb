/* repository.c - rounds of scan, diff and loads, explicit control, start-up and life cycle
 * of the repository keeper (see repository.h; one file's load and install: repository_load.c).
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
#include "api/repository_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/repo_scan.h"
#include "api/repo_watch.h"
#include "common.h"
#include "obs/log.h"

static void start_scan(pd_repository_t *repo);

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
        pd__repo_tracked_remove_at(repo, i);
    }
}

/* Starts the loads that entry e needs; returns 1 when it must wait to settle. */
static int diff_entry(pd_repository_t *repo, const pd_repo_entry_t *e, int64_t now)
{
    pd__tracked_t *t = pd__repo_tracked_find(repo, e->path);
    if (t != NULL) {
        t->seen = 1;
        if (t->loading) {
            t->again |= !pd__repo_unchanged(t, e);
            return 0;
        }
        if (pd__repo_unchanged(t, e))
            return 0;
    }
    if (pinned(repo, e->name[0] ? e->name : t ? t->name : NULL))
        return 0;
    int64_t changed = PD_MAX(e->id.mtime_ns, e->settings_id.mtime_ns);
    if (!repo->force && now - changed < (int64_t)repo->o.settle_ms * 1000000)
        return 1;
    if (t == NULL && (t = pd__repo_tracked_add(repo, e->path)) == NULL) {
        pd_log_warn("%s: not loaded: more than %zu model files", e->path,
                       repo->o.max_entries);
        return 0;
    }
    t->seen = 1;
    pd__work_t *w = pd__repo_load_job(repo, t, e);
    if (w == NULL || uv_queue_work(repo->loop, &w->req, pd__repo_load_work, pd__repo_load_after) < 0) {
        pd_log_error("%s: cannot start its load", e->path);
        if (w)
            pd__repo_work_free(w);
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
    pd__repo_round_maybe_done(repo);
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
    pd__repo_round_maybe_done(repo);
}

void pd__repo_round_maybe_done(pd_repository_t *repo)
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
            pd__repo_tracked_remove_at(repo, i);
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
        pd__tracked_t *t = pd__repo_tracked_add(repo, e->path);
        pd__work_t *w = t ? pd__repo_load_job(repo, t, e) : NULL;
        if (w == NULL) {
            snprintf(err, errlen, "%s: out of memory or too many model files", e->path);
            return PD_ENOMEM;
        }
        t->seen = 1;
        pd__repo_load_work(&w->req);
        if (w->model == NULL && failures++ == 0)
            snprintf(err, errlen, "%s", w->err);
        repo->loading++;
        pd__repo_load_after(&w->req, 0);
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
    if (metrics != NULL && pd__repo_metrics_init(repo, metrics) < 0) {
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
        pd__repo_tracked_remove_at(repo, i);
    repo_free_parts(repo);
}
