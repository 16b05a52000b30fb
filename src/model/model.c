/* model.c - the public model API: reading a file (bounded), parsing it with jansson,
 * dispatching to the format's loader, freeing, and running a batch through the pipeline
 * (scalers, then the estimator's kernel) in blocks of PD_MODEL_BLOCK_ROWS rows.
 *
 * Owns every allocation of a pd_model_t (all made through pd__model_calloc, which counts
 * them into m->bytes). A model is immutable after pd_model_load returns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "model/json_util.h"
#include "model/model_impl.h"

void *pd__model_calloc(pd_model_t *m, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = calloc(n, size);
    if (p)
        m->bytes += n * size;
    return p;
}

char *pd__model_strdup(pd_model_t *m, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = pd__model_calloc(m, n, 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

void pd_model_free(pd_model_t *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->version);
    free(m->source);
    free(m->kind);
    if (m->feature_names)
        for (size_t i = 0; i < m->schema.n_features; i++)
            free(m->feature_names[i]);
    free(m->feature_names);
    if (m->class_str)
        for (size_t i = 0; i < m->schema.n_classes; i++)
            free(m->class_str[i]);
    free(m->class_str);
    free(m->class_int);
    for (size_t i = 0; i < m->n_scalers; i++) {
        free(m->scalers[i].a);
        free(m->scalers[i].b);
    }
    free(m->linear.coef);
    free(m->linear.intercept);
    if (m->mlp.layers)
        for (size_t i = 0; i < m->mlp.n_layers; i++) {
            free(m->mlp.layers[i].w);
            free(m->mlp.layers[i].b);
        }
    free(m->mlp.layers);
    free(m->trees.trees);
    free(m->trees.nodes32);
    free(m->trees.nodes64);
    free(m->trees.values);
    free(m->trees.value_off);
    free(m->trees.base);
    free(m);
}

/* Refuses JSON nested deeper than the limit before jansson sees it (so that no recursion
 * depends on the file), skipping brackets inside strings. */
static int check_depth(pd__jctx_t *c, const char *s, size_t n)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > PD_MODEL_MAX_JSON_DEPTH)
                return pd__jfail(c, "$", "JSON nested deeper than %d (at byte %zu)",
                                 PD_MODEL_MAX_JSON_DEPTH, i);
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return 0;
}

int pd_model_load_buffer(const char *data, size_t len, const char *label, pd_model_t **out,
                         char *err, size_t errlen)
{
    pd__jctx_t c = {label ? label : "model", err, errlen};
    if (err && errlen)
        err[0] = '\0';
    *out = NULL;
    if (len > PD_MODEL_MAX_FILE_BYTES)
    {
        pd__jfail(&c, "$", "file has %zu bytes, over the %zu limit", len, PD_MODEL_MAX_FILE_BYTES);
        return PD_ETOOBIG;
    }
    int rc = check_depth(&c, data, len);
    if (rc)
        return rc;
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pd__jfail(&c, "$", "invalid JSON at line %d, column %d: %s", jerr.line,
                         jerr.column, jerr.text);
    pd_model_t *m = calloc(1, sizeof *m);
    if (!m) {
        json_decref(root);
        pd__jfail(&c, "$", "out of memory");
        return PD_ENOMEM;
    }
    m->bytes = sizeof *m;
    if (!json_is_object(root))
        rc = pd__jfail(&c, "$", "expected a JSON object at the top level");
    else if (json_object_get(root, "learner"))
        rc = pd__load_xgboost(&c, root, m);
    else if (json_object_get(root, "format"))
        rc = pd__load_predictd(&c, root, m);
    else
        rc = pd__jfail(&c, "$", "neither a predictd model (no \"format\") nor an XGBoost "
                                "JSON model (no \"learner\")");
    json_decref(root);
    if (rc) {
        pd_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int pd_model_load(const char *path, pd_model_t **out, char *err, size_t errlen)
{
    pd__jctx_t c = {path, err, errlen};
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        pd__jfail(&c, "$", "cannot open: %s", strerror(errno));
        return PD_EIO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        pd__jfail(&c, "$", "not a regular file");
        return PD_EIO;
    }
    if ((uint64_t)st.st_size > PD_MODEL_MAX_FILE_BYTES) {
        fclose(f);
        pd__jfail(&c, "$", "file has %lld bytes, over the %zu limit", (long long)st.st_size,
                  PD_MODEL_MAX_FILE_BYTES);
        return PD_ETOOBIG;
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        pd__jfail(&c, "$", "out of memory reading %zu bytes", n);
        return PD_ENOMEM;
    }
    size_t got = fread(buf, 1, n, f);
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr || got != n) {
        free(buf);
        pd__jfail(&c, "$", "read failed");
        return PD_EIO;
    }
    buf[n] = '\0';
    int rc = pd_model_load_buffer(buf, n, path, out, err, errlen);
    free(buf);
    return rc;
}

const pd_model_schema_t *pd_model_schema(const pd_model_t *m)
{
    return &m->schema;
}

void pd_model_stats(const pd_model_t *m, pd_model_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (m->est == PD__EST_TREES) {
        out->n_trees = m->trees.n_trees;
        out->n_nodes = m->trees.n_nodes;
    }
    if (m->est == PD__EST_MLP)
        out->n_layers = m->mlp.n_layers;
    out->n_params = m->n_params;
    out->bytes = m->bytes;
}

static size_t est_scratch(const pd_model_t *m)
{
    switch (m->est) {
    case PD__EST_TREES: return pd__trees_scratch(m);
    case PD__EST_LINEAR: return pd__linear_scratch(m);
    case PD__EST_MLP: return pd__mlp_scratch(m);
    }
    return 0;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

size_t pd_model_scratch_size(const pd_model_t *m, size_t nrows)
{
    (void)nrows; /* batches run in blocks: the scratch does not grow with nrows */
    size_t s = align8(est_scratch(m));
    if (m->n_scalers)
        s += PD_MODEL_BLOCK_ROWS * m->schema.n_features * sizeof(double);
    return s;
}

int pd_model_predict(const pd_model_t *m, const double *x, size_t nrows, void *scratch,
                     const pd_predict_out_t *out)
{
    if (!m || !out || (nrows && (!x || !scratch)))
        return PD_EINVAL;
    size_t nf = m->schema.n_features, nc = m->schema.n_classes;
    char *ws = scratch;
    double *scaled = NULL;
    if (m->n_scalers) {
        scaled = (double *)(void *)ws;
        ws += PD_MODEL_BLOCK_ROWS * nf * sizeof(double);
    }
    for (size_t r0 = 0; r0 < nrows; r0 += PD_MODEL_BLOCK_ROWS) {
        size_t n = PD_MIN(PD_MODEL_BLOCK_ROWS, nrows - r0);
        const double *xb = x + r0 * nf;
        if (scaled) {
            pd__scalers_apply(m, xb, n, scaled);
            xb = scaled;
        }
        int32_t *cls = out->class_index ? out->class_index + r0 : NULL;
        double *val = out->value ? out->value + r0 : NULL;
        double *proba = out->proba ? out->proba + r0 * nc : NULL;
        if (m->schema.task == PD_TASK_CLASSIFICATION)
            val = NULL;
        else
            cls = NULL, proba = NULL;
        switch (m->est) {
        case PD__EST_TREES: pd__trees_predict(m, xb, n, ws, cls, val, proba); break;
        case PD__EST_LINEAR: pd__linear_predict(m, xb, n, ws, cls, val, proba); break;
        case PD__EST_MLP: pd__mlp_predict(m, xb, n, ws, cls, val, proba); break;
        }
    }
    return 0;
}
