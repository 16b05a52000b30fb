/* registry.c - loads the served models (see registry.h) and measures what one row costs,
 * which decides whether /predict may answer on the loop thread. */
#include "api/registry.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "common.h"
#include "obs/log.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Median time of one single-row prediction on a row of zeros (the value does not matter
 * for the cost of linear models and MLPs; for trees it is one real root-to-leaf path). */
static int measure_cost(pd_served_model_t *sm, void *scratch)
{
    size_t nf = sm->schema->n_features;
    double *row = calloc(nf, sizeof *row);
    if (row == NULL)
        return PD_ENOMEM;
    double times[PD_REGISTRY_COST_RUNS];
    int32_t cls;
    double val;
    pd_predict_out_t out = {&cls, &val, NULL};
    for (size_t i = 0; i < PD_REGISTRY_COST_RUNS; i++) {
        uint64_t t0 = uv_hrtime();
        pd_model_predict(sm->model, row, 1, scratch, &out);
        times[i] = (double)(uv_hrtime() - t0) / 1000.0;
    }
    qsort(times, PD_REGISTRY_COST_RUNS, sizeof times[0], cmp_double);
    sm->cost_us = times[PD_REGISTRY_COST_RUNS / 2];
    free(row);
    return 0;
}

static int add_file(pd_registry_t *r, const char *path, char *err, size_t errlen)
{
    if (r->n >= PD_REGISTRY_MAX_MODELS) {
        snprintf(err, errlen, "%s: more than %d models", path, PD_REGISTRY_MAX_MODELS);
        return PD_EFULL;
    }
    pd_served_model_t *sm = &r->models[r->n];
    memset(sm, 0, sizeof *sm);
    int rc = pd_model_load(path, &sm->model, err, errlen);
    if (rc < 0)
        return rc;
    sm->schema = pd_model_schema(sm->model);
    if (sm->schema->n_features > r->max_features) {
        snprintf(err, errlen, "%s: %zu features; a served model takes at most %zu", path,
                 sm->schema->n_features, r->max_features);
        pd_model_free(sm->model);
        return PD_ETOOBIG;
    }
    if (pd_registry_find(r, sm->schema->name) != NULL) {
        snprintf(err, errlen, "%s: a model named '%s' is already loaded", path,
                 sm->schema->name);
        pd_model_free(sm->model);
        return PD_EINVAL;
    }
    sm->path = strdup(path);
    if (sm->path == NULL) {
        pd_model_free(sm->model);
        snprintf(err, errlen, "out of memory");
        return PD_ENOMEM;
    }
    sm->scratch_row = pd_model_scratch_size(sm->model, 1);
    r->n++;
    return 0;
}

/* Loads the *.json files of a directory in name order. */
static int add_dir(pd_registry_t *r, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return PD_EIO;
    }
    char *names[PD_REGISTRY_MAX_MODELS + 1];
    size_t n = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n > PD_REGISTRY_MAX_MODELS) {
            snprintf(err, errlen, "%s: more than %d model files", dir, PD_REGISTRY_MAX_MODELS);
            rc = PD_EFULL;
            break;
        }
        size_t dlen = strlen(dir);
        while (dlen > 1 && dir[dlen - 1] == '/')
            dlen--;
        if (asprintf(&names[n], "%.*s/%s", (int)dlen, dir, e->d_name) < 0) {
            snprintf(err, errlen, "out of memory");
            rc = PD_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0 && n == 0) {
        snprintf(err, errlen, "%s: no model files (*.json) in this directory", dir);
        rc = PD_ENOTFOUND;
    }
    qsort(names, n, sizeof names[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = add_file(r, names[i], err, errlen);
        free(names[i]);
    }
    return rc;
}

static int pick_default(pd_registry_t *r, const char *default_name, char *err, size_t errlen)
{
    if (r->n == 0) {
        snprintf(err, errlen, "no model to serve: name model files or directories");
        return PD_ENOTFOUND;
    }
    if (default_name != NULL) {
        pd_served_model_t *sm = pd_registry_find(r, default_name);
        if (sm == NULL) {
            snprintf(err, errlen, "--default-model: no loaded model is named '%s'",
                     default_name);
            return PD_ENOTFOUND;
        }
        r->def = (size_t)(sm - r->models);
        return 0;
    }
    if (r->n > 1)
        pd_log_info("default model: %s, the first loaded (choose with --default-model)",
                    r->models[0].schema->name);
    r->def = 0;
    return 0;
}

int pd_registry_load(pd_registry_t *r, const char *const *paths, size_t n_paths,
                     const char *default_name, double inline_below_us, size_t max_features,
                     char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->max_features = max_features;
    int rc = PD_ENOMEM;
    r->models = calloc(PD_REGISTRY_MAX_MODELS, sizeof *r->models);
    if (r->models == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n_paths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
            rc = PD_EIO;
            goto fail;
        }
        rc = S_ISDIR(st.st_mode) ? add_dir(r, paths[i], err, errlen)
                                 : add_file(r, paths[i], err, errlen);
        if (rc < 0)
            goto fail;
    }
    if ((rc = pick_default(r, default_name, err, errlen)) < 0)
        goto fail;
    size_t scratch = 0;
    for (size_t i = 0; i < r->n; i++)
        scratch = PD_MAX(scratch, r->models[i].scratch_row);
    r->loop_scratch = calloc(1, scratch ? scratch : 8);
    if (r->loop_scratch == NULL) {
        snprintf(err, errlen, "out of memory");
        rc = PD_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < r->n; i++) {
        pd_served_model_t *sm = &r->models[i];
        if ((rc = measure_cost(sm, r->loop_scratch)) < 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        sm->inline_ok = inline_below_us > 0 && sm->cost_us < inline_below_us;
        sm->loop_max_rows = 0;
        if (sm->inline_ok) /* the largest n with n * cost < threshold */
            sm->loop_max_rows = sm->cost_us > 0 ? (size_t)ceil(inline_below_us / sm->cost_us) - 1
                                                : SIZE_MAX;
        pd_log_info("model %s (%s, %zu features) from %s: %.2f us per row, /predict runs it %s",
                    sm->schema->name, sm->schema->kind ? sm->schema->kind : "?",
                    sm->schema->n_features, sm->path, sm->cost_us,
                    sm->inline_ok ? "on the loop" : "on the pool");
    }
    return 0;
fail:
    pd_registry_free(r);
    return rc;
}

void pd_registry_free(pd_registry_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        pd_model_free(r->models[i].model);
        free(r->models[i].path);
    }
    free(r->models);
    free(r->loop_scratch);
    memset(r, 0, sizeof *r);
}

pd_served_model_t *pd_registry_find(pd_registry_t *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->models[i].schema->name, name) == 0)
            return &r->models[i];
    return NULL;
}
