/* registry.c - served models, their versions and the references that keep retired ones
 * alive (see registry.h). Everything runs on the loop thread; the only field a worker reads
 * is a version's `unloaded` flag.
 *
 * Invariants: sm->versions holds the served versions of sm sorted by number, without
 * duplicates; sm->primary is the last of them (or NULL); each served version has refs >= 1
 * (the registry's own); a retired version is in no versions array and is freed by the
 * release that drops its refs to 0; sm->retired_refs sums the refs of sm's retired
 * versions. */
#include "api/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/fsource.h"
#include "common.h"
#include "obs/log.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int pd_registry_measure(const pd_model_t *m, void *scratch, double *cost_us)
{
    size_t nf = pd_model_schema(m)->n_features;
    double *row = calloc(nf ? nf : 1, sizeof *row);
    double *times = malloc(PD_REGISTRY_COST_RUNS * sizeof *times);
    if (row == NULL || times == NULL) {
        free(row);
        free(times);
        return PD_ENOMEM;
    }
    int32_t cls;
    double val;
    pd_predict_out_t out = {&cls, &val, NULL};
    for (size_t i = 0; i < PD_REGISTRY_COST_RUNS; i++) {
        uint64_t t0 = uv_hrtime();
        pd_model_predict(m, row, 1, scratch, &out);
        times[i] = (double)(uv_hrtime() - t0) / 1000.0;
    }
    qsort(times, PD_REGISTRY_COST_RUNS, sizeof times[0], cmp_double);
    *cost_us = times[PD_REGISTRY_COST_RUNS / 2];
    free(times);
    free(row);
    return 0;
}

int pd_registry_init(pd_registry_t *r, size_t max_models, const char *default_name,
                     double inline_below_us, size_t max_features)
{
    memset(r, 0, sizeof *r);
    r->max_models = max_models ? max_models : PD_REGISTRY_DEFAULT_MAX_MODELS;
    r->inline_below_us = inline_below_us;
    r->max_features = max_features;
    r->models = calloc(r->max_models, sizeof *r->models);
    if (r->models == NULL || (default_name && !(r->default_name = strdup(default_name)))) {
        pd_registry_free(r);
        return PD_ENOMEM;
    }
    return 0;
}

static void version_free(pd_model_version_t *v)
{
    if (v == NULL)
        return;
    pd_model_free(v->model);
    pd_infer_stats_free(&v->stats);
    pd_fsource_spec_free(v->features);
    free(v->path);
    free(v);
}

void pd_registry_free(pd_registry_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        pd_served_model_t *sm = r->models[i];
        for (size_t k = 0; k < sm->n_versions; k++)
            version_free(sm->versions[k]);
        if (sm->retired_refs)
            pd_log_warn("model %s: %u references on retired versions at exit", sm->name,
                           sm->retired_refs);
        free(sm->name);
        free(sm);
    }
    free(r->models);
    free(r->default_name);
    free(r->loop_scratch);
    memset(r, 0, sizeof *r);
}

pd_served_model_t *pd_registry_find(pd_registry_t *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->models[i]->name, name) == 0)
            return r->models[i];
    return NULL;
}

pd_served_model_t *pd_registry_default(pd_registry_t *r)
{
    if (r->default_name != NULL) {
        pd_served_model_t *sm = pd_registry_find(r, r->default_name);
        return sm && sm->primary ? sm : NULL;
    }
    for (size_t i = 0; i < r->n; i++) /* the first in arrival order that serves */
        if (r->models[i]->primary != NULL)
            return r->models[i];
    return NULL;
}

pd_model_version_t *pd_registry_acquire(pd_registry_t *r, const char *name,
                                        const char *version)
{
    pd_served_model_t *sm = name ? pd_registry_find(r, name) : pd_registry_default(r);
    if (sm == NULL)
        return NULL;
    pd_model_version_t *v = sm->primary;
    if (version != NULL) {
        v = NULL;
        for (size_t i = 0; i < sm->n_versions && v == NULL; i++)
            if (strcmp(sm->versions[i]->label, version) == 0)
                v = sm->versions[i];
    }
    if (v != NULL)
        v->refs++;
    return v;
}

void pd_registry_release(pd_registry_t *r, pd_model_version_t *v)
{
    (void)r;
    if (v == NULL)
        return;
    if (v->retired)
        v->owner->retired_refs--;
    if (--v->refs == 0)
        version_free(v);
}

/* Takes v out of service: the registry's reference goes, the requests' stay. */
static void retire(pd_model_version_t *v)
{
    v->retired = 1;
    v->owner->retired_refs += v->refs - 1; /* what still holds it besides the registry */
    if (--v->refs == 0)
        version_free(v);
}

static pd_served_model_t *model_get(pd_registry_t *r, const char *name)
{
    pd_served_model_t *sm = pd_registry_find(r, name);
    if (sm != NULL || r->n >= r->max_models)
        return sm;
    sm = calloc(1, sizeof *sm);
    if (sm == NULL || (sm->name = strdup(name)) == NULL) {
        free(sm);
        return NULL;
    }
    sm->state = PD_MODEL_LOADING;
    r->models[r->n++] = sm;
    return sm;
}

static void update_primary(pd_served_model_t *sm)
{
    sm->primary = sm->n_versions ? sm->versions[sm->n_versions - 1] : NULL;
    if (sm->primary)
        sm->state = PD_MODEL_READY;
}

/* Grows the loop's scratch to hold one row of v. */
static int loop_scratch_fit(pd_registry_t *r, const pd_model_version_t *v)
{
    if (v->scratch_row <= r->loop_scratch_size && r->loop_scratch != NULL)
        return 0;
    void *p = calloc(1, v->scratch_row ? v->scratch_row : 8);
    if (p == NULL)
        return PD_ENOMEM;
    free(r->loop_scratch);
    r->loop_scratch = p;
    r->loop_scratch_size = v->scratch_row;
    return 0;
}

/* Puts v into sm->versions in order, retiring a version of the same number. */
static int add_version(pd_served_model_t *sm, pd_model_version_t *v)
{
    size_t i = 0;
    while (i < sm->n_versions && sm->versions[i]->number < v->number)
        i++;
    if (i < sm->n_versions && sm->versions[i]->number == v->number) {
        retire(sm->versions[i]);
        sm->versions[i] = v;
        return 0;
    }
    if (sm->n_versions >= PD_REGISTRY_MAX_VERSIONS)
        return PD_EFULL;
    memmove(&sm->versions[i + 1], &sm->versions[i], (sm->n_versions - i) * sizeof v);
    sm->versions[i] = v;
    sm->n_versions++;
    return 0;
}

pd_served_model_t *pd_registry_install(pd_registry_t *r, const char *name, pd_model_t *m,
                                       char *path, struct pd_fsource_spec_s *features,
                                       uint64_t number, const char *label, double cost_us,
                                       char *err, size_t errlen)
{
    const pd_model_schema_t *s = pd_model_schema(m);
    pd_served_model_t *sm = NULL;
    pd_model_version_t *v = calloc(1, sizeof *v);
    const char *why = "out of memory";
    if (v == NULL)
        goto fail;
    v->model = m;
    v->schema = s;
    v->path = path;
    v->features = features;
    v->number = number;
    v->cost_us = cost_us;
    v->refs = 1;
    v->scratch_row = pd_model_scratch_size(m, 1);
    snprintf(v->label, sizeof v->label, "%s", label);
    why = "too wide";
    if (s->n_features > r->max_features)
        goto fail;
    why = "too many models (--max-models)";
    if ((sm = model_get(r, name ? name : s->name)) == NULL)
        goto fail;
    v->owner = sm;
    why = "out of memory";
    if (loop_scratch_fit(r, v) < 0)
        goto fail;
    why = "too many versions of one model";
    if (add_version(sm, v) < 0)
        goto fail;
    sm->pinned_unloaded = 0;
    sm->reason[0] = '\0';
    sm->loads_ok++;
    r->installs++;
    update_primary(sm);
    return sm;
fail:
    if (s->n_features > r->max_features)
        snprintf(err, errlen, "%zu features; a served model takes at most %zu", s->n_features,
                 r->max_features);
    else
        snprintf(err, errlen, "%s", why);
    if (v != NULL) {
        version_free(v);
    } else {
        pd_model_free(m);
        pd_fsource_spec_free(features);
        free(path);
    }
    return NULL;
}

pd_served_model_t *pd_registry_fail(pd_registry_t *r, const char *name, const char *reason)
{
    pd_served_model_t *sm = model_get(r, name);
    if (sm == NULL)
        return NULL;
    snprintf(sm->reason, sizeof sm->reason, "%s", reason);
    sm->loads_failed++;
    if (sm->primary == NULL)
        sm->state = PD_MODEL_FAILED;
    return sm;
}

pd_served_model_t *pd_registry_loading(pd_registry_t *r, const char *name)
{
    pd_served_model_t *sm = model_get(r, name);
    if (sm != NULL && sm->primary == NULL)
        sm->state = PD_MODEL_LOADING;
    return sm;
}

void pd_registry_remove_version(pd_registry_t *r, pd_served_model_t *sm, uint64_t number)
{
    (void)r;
    for (size_t i = 0; i < sm->n_versions; i++) {
        if (sm->versions[i]->number != number)
            continue;
        retire(sm->versions[i]);
        memmove(&sm->versions[i], &sm->versions[i + 1], (sm->n_versions - i - 1) * sizeof(void *));
        sm->n_versions--;
        break;
    }
    update_primary(sm);
    if (sm->primary == NULL)
        sm->state = PD_MODEL_UNLOADED;
}

void pd_registry_unload(pd_registry_t *r, pd_served_model_t *sm)
{
    (void)r;
    for (size_t i = 0; i < sm->n_versions; i++) {
        atomic_store_explicit(&sm->versions[i]->unloaded, 1, memory_order_release);
        retire(sm->versions[i]);
    }
    sm->n_versions = 0;
    sm->primary = NULL;
    sm->state = PD_MODEL_UNLOADED;
}

size_t pd_registry_loop_max_rows(const pd_registry_t *r, const pd_model_version_t *v)
{
    if (r->inline_below_us <= 0 || v->cost_us >= r->inline_below_us)
        return 0;
    if (v->cost_us <= 0)
        return SIZE_MAX;
    double n = r->inline_below_us / v->cost_us; /* n rows cost exactly the threshold */
    size_t k = (size_t)n;
    return (double)k == n ? k - 1 : k;
}

int pd_registry_ready(const pd_registry_t *r)
{
    int ready = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->models[i]->state == PD_MODEL_LOADING)
            return 0;
        ready |= r->models[i]->primary != NULL;
    }
    return ready;
}
