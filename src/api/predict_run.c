/* predict_run.c - what workers run for the request pipeline (see predict_internal.h): the
 * model on one chunk in place, or on several small chunks gathered into one kernel call.
 * Invariant: a chunk writes only its own rows' results (labels, values, probabilities and
 * the named outputs its request asked for); a gathered call copies its chunks' rows into
 * the worker's scratch and their results back, nothing else. */
#include <stdatomic.h>
#include <string.h>

#include "api/predict_internal.h"
#include "common.h"

/* Chunks of fewer rows than this are gathered with others into one kernel call. */
#define PD__GATHER_ROWS 16

int pd__predict_range(pd__preq_t *p, size_t row0, size_t n, void *scratch)
{
    pd_rows_t *r = &p->rows;
    pd_predict_out_t out = {r->cls + row0, r->val + row0,
                            r->proba ? r->proba + row0 * r->n_classes : NULL};
    double *extra[PD_MODEL_MAX_OUTPUTS] = {NULL};
    for (size_t k = 0; k < PD_MODEL_MAX_OUTPUTS; k++)
        extra[k] = r->extra[k] ? r->extra[k] + row0 * r->extra_width[k] : NULL;
    return pd_model_predict_ex(p->v->model, r->x + row0 * r->n_cols, n, scratch, &out, extra);
}

/* Doubles per row of the named outputs the chunks' requests asked for (the union: a
 * gathered call computes each for every row, and copies back only what was asked). */
static size_t extra_per_row(const pd_model_schema_t *s, pd__chunk_t **cs, size_t k,
                            unsigned *named)
{
    *named = 0;
    for (size_t i = 0; i < k; i++)
        *named |= cs[i]->p->rows.outputs & PD_OUT_NAMED_ALL;
    size_t w = 0;
    for (size_t j = 0; j < s->n_outputs && j < PD_MODEL_MAX_OUTPUTS; j++)
        if (*named & PD_OUT_NAMED(j))
            w += s->outputs[j].width;
    return w;
}

/* Copies a gathered call's results of chunk c (its rows from `at` on) back into its
 * request's rows. */
static void copy_back(pd__chunk_t *c, size_t at, const int32_t *cls, const double *val,
                      const double *proba, double *const *extra)
{
    pd_rows_t *r = &c->p->rows;
    size_t nc = r->n_classes;
    memcpy(r->cls + c->row0, cls + at, c->n * sizeof *cls);
    memcpy(r->val + c->row0, val + at, c->n * sizeof *val);
    if (r->proba)
        memcpy(r->proba + c->row0 * nc, proba + at * nc, c->n * nc * sizeof *proba);
    for (size_t j = 0; j < PD_MODEL_MAX_OUTPUTS; j++) {
        size_t w = r->extra_width[j];
        if (r->extra[j] != NULL && extra[j] != NULL)
            memcpy(r->extra[j] + c->row0 * w, extra[j] + at * w, c->n * w * sizeof(double));
    }
}

/* Worker: several small chunks (of different requests, one model version) as one kernel
 * call, its inputs and results in the worker's scratch (rows x widths, no allocation
 * once the scratch has grown to it). */
static int predict_gathered(const pd_model_version_t *v, pd__chunk_t **cs, size_t k,
                            size_t rows, pd_pool_worker_t *w)
{
    const pd_model_schema_t *sc = v->schema;
    size_t nf = sc->n_features, nc = sc->n_classes;
    unsigned named;
    size_t ew = extra_per_row(sc, cs, k, &named);
    size_t xb = rows * nf * sizeof(double), vb = rows * sizeof(double);
    size_t cb = (rows * sizeof(int32_t) + 7) & ~(size_t)7, pb = rows * nc * sizeof(double);
    size_t eb = rows * ew * sizeof(double);
    char *s = pd_pool_worker_scratch(w, xb + vb + cb + pb + eb + v->scratch_row);
    if (s == NULL)
        return PD_ENOMEM;
    double *x = (double *)(void *)s, *val = (double *)(void *)(s + xb);
    int32_t *cls = (int32_t *)(void *)(s + xb + vb);
    double *proba = nc ? (double *)(void *)(s + xb + vb + cb) : NULL;
    double *extra[PD_MODEL_MAX_OUTPUTS] = {NULL};
    double *e = (double *)(void *)(s + xb + vb + cb + pb);
    for (size_t j = 0; j < sc->n_outputs && j < PD_MODEL_MAX_OUTPUTS; j++)
        if (named & PD_OUT_NAMED(j)) {
            extra[j] = e;
            e += rows * sc->outputs[j].width;
        }
    for (size_t i = 0, at = 0; i < k; at += cs[i]->n, i++)
        memcpy(x + at * nf, cs[i]->p->rows.x + cs[i]->row0 * nf, cs[i]->n * nf * sizeof *x);
    pd_predict_out_t out = {cls, val, proba};
    int rc = pd_model_predict_ex(v->model, x, rows, s + xb + vb + cb + pb + eb, &out, extra);
    for (size_t i = 0, at = 0; rc == 0 && i < k; at += cs[i]->n, i++)
        copy_back(cs[i], at, cls, val, proba, extra);
    return rc;
}

/* Worker: runs chunk c alone, in place. */
static void run_one(pd__chunk_t *c, pd_pool_worker_t *w)
{
    void *scratch = pd_pool_worker_scratch(w, c->p->v->scratch_row);
    if (scratch == NULL || pd__predict_range(c->p, c->row0, c->n, scratch) < 0)
        c->failed = 1;
}

/* Worker: n chunks of one model (a reload may mix versions in its queue). Chunks of an
 * unloaded version are skipped; big ones run in place; small ones are gathered per
 * version into one kernel call (cs is reordered). */
void pd__predict_run_chunks(void *ud, pd_job_t **jobs, size_t n, pd_pool_worker_t *w)
{
    pd__chunk_t **cs = (pd__chunk_t **)jobs;
    size_t k = 0;
    (void)ud;
    for (size_t i = 0; i < n; i++) {
        pd__chunk_t *c = cs[i];
        if (atomic_load_explicit(&c->p->v->unloaded, memory_order_acquire))
            c->unloaded = 1;
        else if (c->n >= PD__GATHER_ROWS)
            run_one(c, w);
        else
            cs[k++] = c; /* the small ones, compacted to the front */
    }
    while (k > 0) { /* gather the small chunks of the first one's version, then the rest */
        const pd_model_version_t *v = cs[0]->p->v;
        size_t same = 0, rows = 0;
        for (size_t i = 0; i < k; i++) {
            if (cs[i]->p->v != v)
                continue;
            pd__chunk_t *t = cs[same];
            cs[same++] = cs[i];
            cs[i] = t;
            rows += cs[same - 1]->n;
        }
        if (predict_gathered(v, cs, same, rows, w) < 0)
            for (size_t i = 0; i < same; i++)
                cs[i]->failed = 1;
        cs += same;
        k -= same;
    }
}

