/* predict_run.c - what workers run for the request pipeline (see predict_internal.h): the
 * model on one chunk in place, or on several small chunks gathered into one kernel call.
 * Invariant: a chunk writes only its own rows' results; a gathered call copies its chunks'
 * rows into the worker's scratch and their results back, nothing else. */
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
    return pd_model_predict(p->v->model, r->x + row0 * r->n_cols, n, scratch, &out);
}

/* Worker: several small chunks (of different requests, one model version) as one kernel
 * call. */
static int predict_gathered(const pd_model_version_t *v, pd__chunk_t **cs, size_t k,
                            size_t rows, pd_pool_worker_t *w)
{
    size_t nf = v->schema->n_features, nc = v->schema->n_classes;
    size_t xb = rows * nf * sizeof(double), vb = rows * sizeof(double);
    size_t cb = (rows * sizeof(int32_t) + 7) & ~(size_t)7, pb = rows * nc * sizeof(double);
    char *s = pd_pool_worker_scratch(w, xb + vb + cb + pb + v->scratch_row);
    if (s == NULL)
        return PD_ENOMEM;
    double *x = (double *)(void *)s, *val = (double *)(void *)(s + xb);
    int32_t *cls = (int32_t *)(void *)(s + xb + vb);
    double *proba = nc ? (double *)(void *)(s + xb + vb + cb) : NULL;
    for (size_t i = 0, at = 0; i < k; at += cs[i]->n, i++)
        memcpy(x + at * nf, cs[i]->p->rows.x + cs[i]->row0 * nf, cs[i]->n * nf * sizeof *x);
    pd_predict_out_t out = {cls, val, proba};
    int rc = pd_model_predict(v->model, x, rows, s + xb + vb + cb + pb, &out);
    for (size_t i = 0, at = 0; rc == 0 && i < k; at += cs[i]->n, i++) {
        pd_rows_t *r = &cs[i]->p->rows;
        memcpy(r->cls + cs[i]->row0, cls + at, cs[i]->n * sizeof *cls);
        memcpy(r->val + cs[i]->row0, val + at, cs[i]->n * sizeof *val);
        if (r->proba)
            memcpy(r->proba + cs[i]->row0 * nc, proba + at * nc, cs[i]->n * nc * sizeof *proba);
    }
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

