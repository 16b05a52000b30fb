/* repository_load.c - one model file's life in the repository keeper: its tracked record,
 * its load on the threadpool (parse, measure the cost per row), and on the loop its
 * install as a version of its model, or the failure recorded, plus the keeper's metrics.
 * Invariants: a record has at most one load in flight; a record with `installed` set has
 * its version in the registry under (name, number). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/repository_internal.h"
#include "common.h"
#include "obs/log.h"
#include "pool/pool.h"

/* ---- tracked files ---- */

pd__tracked_t *pd__repo_tracked_find(pd_repository_t *repo, const char *path)
{
    for (size_t i = 0; i < repo->n_tracked; i++)
        if (strcmp(repo->tracked[i]->path, path) == 0)
            return repo->tracked[i];
    return NULL;
}

pd__tracked_t *pd__repo_tracked_add(pd_repository_t *repo, const char *path)
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

void pd__repo_tracked_remove_at(pd_repository_t *repo, size_t i)
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

int pd__repo_metrics_init(pd_repository_t *repo, pd_metrics_t *m)
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

/* Lowers the calling threadpool thread to the workers' priority, once: parsing a big model
 * must not take CPU from the loop any more than inference does. Failure is harmless. */
static void lower_priority_once(void)
{
    static _Thread_local int done; /* per thread: no state shared between threads */
    if (done)
        return;
    done = 1;
    struct sched_param sp = {0};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    pid_t tid = gettid();
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, (id_t)tid);
    if (errno == 0 && cur < PD_POOL_DEFAULT_NICE)
        (void)setpriority(PRIO_PROCESS, (id_t)tid, PD_POOL_DEFAULT_NICE);
}

/* Threadpool: parses the file, reads its settings' feature source (a model whose settings
 * are wrong is not served: its old version, if any, stays) and measures its cost per row. */
void pd__repo_load_work(uv_work_t *req)
{
    pd__work_t *w = req->data;
    lower_priority_once();
    if (pd_model_load(w->path, &w->model, w->err, sizeof w->err) < 0) {
        w->model = NULL;
        return;
    }
    const pd_model_schema_t *s = pd_model_schema(w->model);
    if (w->settings != NULL &&
        pd_fsource_spec_read(w->settings, PD_REPO_SETTINGS_MAX_BYTES,
                             (const char *const *)s->feature_names, s->n_features,
                             s->missing_ok, &w->features, w->err, sizeof w->err) < 0) {
        pd_model_free(w->model);
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
    sm = path ? pd_registry_install(repo->reg, name, w->model, path, w->features, w->version,
                                    label, w->cost_us, w->err, sizeof w->err)
              : NULL;
    w->features = NULL; /* the registry's now, or freed */
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

void pd__repo_work_free(pd__work_t *w)
{
    pd_fsource_spec_free(w->features);
    free(w->settings);
    free(w->path);
    free(w->folder);
    free(w);
}

int pd__repo_unchanged(const pd__tracked_t *t, const pd_repo_entry_t *e)
{
    return pd_repo_identity_equal(&t->id, &e->id) &&
           pd_repo_identity_equal(&t->settings_id, &e->settings_id);
}

void pd__repo_load_after(uv_work_t *req, int status)
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
    pd__repo_work_free(w);
    pd__repo_round_maybe_done(repo);
}

pd__work_t *pd__repo_load_job(pd_repository_t *repo, pd__tracked_t *t, const pd_repo_entry_t *e)
{
    char settings[PATH_MAX];
    pd__work_t *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = strdup(e->path)) == NULL ||
        (e->name[0] && (w->folder = strdup(e->name)) == NULL) ||
        (pd_repo_settings_path(e, settings, sizeof settings) == 0 &&
         (w->settings = strdup(settings)) == NULL)) {
        if (w)
            pd__repo_work_free(w);
        return NULL;
    }
    w->repo = repo;
    w->t = t;
    w->version = e->version;
    w->req.data = w;
    t->id = e->id;
    t->settings_id = e->settings_id;
    t->loading = 1;
    t->again = 0;
    if (e->name[0] && (t->name == NULL || strcmp(t->name, e->name) == 0))
        pd_registry_loading(repo->reg, e->name);
    return w;
}

