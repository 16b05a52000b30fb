/* pipeline.c - a model's pipeline of parts (part.h): building it from the predictd format's
 * "steps", deriving the schema fields that depend on its parts, and running a batch
 * through it in blocks of PD_MODEL_BLOCK_ROWS rows (transformers in order, each writing a
 * block of its own width into scratch, then the estimator). Predicting never allocates
 * and never writes the caller's input. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/load_common.h"

int pd__pipeline_load(pd__jctx_t *c, pd_model_t *m, const json_t *steps, const char *path)
{
    size_t n;
    int rc = pd__jlen(c, steps, path, 1, PD_MODEL_MAX_STEPS, &n);
    if (rc)
        return rc;
    size_t width = m->schema.n_features;
    for (size_t i = 0; i < n; i++) {
        char p[PD__PATH_MAX];
        pd__jpath(p, sizeof p, path, "[%zu]", i);
        pd__part_t *part = &m->parts[i];
        m->n_parts = i + 1; /* so that pd_model_free releases a half-loaded part */
        rc = pd__part_load(c, m, json_array_get(steps, i), p, width, i + 1 < n,
                           m->schema.task, m->schema.n_classes, part);
        if (rc)
            return rc;
        if ((part->ops->flags & PD__PART_INPUTS) && n != 1)
            return pd__jfail(c, p, "\"%s\" must be the model's only step (it reads the "
                             "model's inputs as they are sent, so no transformer may come "
                             "before it)", part->ops->type);
        if (i + 1 < n) {
            if (part->n_out < 1 || part->n_out > PD_MODEL_MAX_FEATURES)
                return pd__jfail(c, p, "transformer writes %zu columns (1..%d)", part->n_out,
                                 PD_MODEL_MAX_FEATURES);
            width = part->n_out;
        }
    }
    return 0;
}

int pd__pipeline_finish(pd__jctx_t *c, pd_model_t *m)
{
    (void)c;
    const pd__part_t *est = &m->parts[m->n_parts - 1];
    m->max_width = m->schema.n_features;
    for (size_t i = 0; i + 1 < m->n_parts; i++)
        m->max_width = PD_MAX(m->max_width, m->parts[i].n_out);
    m->schema.proba_ok = m->schema.task == PD_TASK_CLASSIFICATION && est->has_proba;
    m->schema.n_outputs = est->n_outputs;
    m->schema.outputs = est->n_outputs ? est->outputs : NULL;
    int nan_ok, nan_out;
    pd__parts_nan(m->parts, m->n_parts, 1, 0, &nan_ok, &nan_out);
    m->schema.missing_ok = nan_ok;
    return 0;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Row buffers between parts: none without transformers, else one or two (ping-pong). */
static size_t n_buffers(const pd_model_t *m)
{
    return m->n_parts <= 1 ? 0 : m->n_parts == 2 ? 1 : 2;
}

size_t pd_model_scratch_size(const pd_model_t *m, size_t nrows)
{
    (void)nrows; /* batches run in blocks: the scratch does not grow with nrows */
    size_t s = 0;
    for (size_t i = 0; i < m->n_parts; i++)
        s = PD_MAX(s, pd__part_scratch(&m->parts[i]));
    return s + n_buffers(m) * align8(PD_MODEL_BLOCK_ROWS * m->max_width * sizeof(double));
}

int pd_model_check(const pd_model_t *m, const double *x, size_t nrows, size_t *row, char *msg,
                   size_t len)
{
    const pd__part_t *p = &m->parts[0]; /* PD__PART_INPUTS parts are only steps */
    size_t col;
    char why[PD_MODEL_CHECK_MSG];
    if (m->n_parts != 1 || p->ops->check == NULL || p->ops->check(p, x, nrows, row, &col,
                                                                  why, sizeof why) == 0)
        return 0;
    if (msg && len)
        snprintf(msg, len, "feature '%.*s': %s", PD_MODEL_MAX_NAME,
                 m->schema.feature_names[col], why);
    return PD_EINVAL;
}

int pd_model_predict(const pd_model_t *m, const double *x, size_t nrows, void *scratch,
                     const pd_predict_out_t *out)
{
    return pd_model_predict_ex(m, x, nrows, scratch, out, NULL);
}

/* Runs one block of n rows (x: n_features columns) through the parts. */
static void run_block(const pd_model_t *m, const double *x, size_t n, char *ws,
                      double *const *bufs, const pd__out_t *o)
{
    const double *xb = x;
    for (size_t i = 0; i + 1 < m->n_parts; i++) {
        const pd__part_t *p = &m->parts[i];
        double *y = bufs[i & 1];
        p->ops->transform(p, xb, n, y, ws);
        xb = y;
    }
    const pd__part_t *est = &m->parts[m->n_parts - 1];
    est->ops->predict(est, xb, n, ws, o);
}

int pd_model_predict_ex(const pd_model_t *m, const double *x, size_t nrows, void *scratch,
                        const pd_predict_out_t *out, double *const *extra)
{
    if (!m || !out || (nrows && (!x || !scratch)))
        return PD_EINVAL;
    size_t nf = m->schema.n_features, nc = m->schema.n_classes;
    int cls_task = m->schema.task == PD_TASK_CLASSIFICATION;
    char *ws = scratch;
    double *bufs[2] = {NULL, NULL};
    size_t bb = align8(PD_MODEL_BLOCK_ROWS * m->max_width * sizeof(double));
    for (size_t k = 0; k < n_buffers(m); k++, ws += bb)
        bufs[k] = (double *)(void *)ws;
    for (size_t r0 = 0; r0 < nrows; r0 += PD_MODEL_BLOCK_ROWS) {
        size_t n = PD_MIN(PD_MODEL_BLOCK_ROWS, nrows - r0);
        pd__out_t o = {0};
        if (cls_task) {
            o.cls = out->class_index ? out->class_index + r0 : NULL;
            double *pr = out->proba ? out->proba + r0 * nc : NULL;
            if (pr && !m->schema.proba_ok)
                for (size_t i = 0; i < n * nc; i++)
                    pr[i] = NAN;
            else
                o.proba = pr;
        } else {
            o.val = out->value ? out->value + r0 : NULL;
        }
        for (size_t k = 0; extra && k < m->schema.n_outputs; k++)
            o.extra[k] = extra[k] ? extra[k] + r0 * m->schema.outputs[k].width : NULL;
        run_block(m, x + r0 * nf, n, ws, bufs, &o);
    }
    return 0;
}
