/* column_transformer.c - "column_transformer" (scikit-learn's ColumnTransformer): a
 * transformer made of entries, each a chain of transformer steps over a subset of the
 * input columns; the outputs of the entries are written side by side, in entry order.
 *
 *  {"type": "column_transformer", "transformers": [{"columns": [input column indexes],
 *    "steps": [transformer steps...]}, ...]}
 *
 * An entry with no steps passes its columns through ("passthrough", remainder=
 * "passthrough"); "drop" entries are simply not written; a remainder transformer is one
 * more entry; a nested Pipeline of transformers is an entry's chain, and a nested
 * ColumnTransformer is a step like any other. Entries run one after the other on the
 * block, each gathering its columns into scratch and ping-ponging between two buffers.
 *
 * Invariants: every column index was range-checked at load; each entry writes
 * `width` > 0 columns and the widths sum to n_out; the scratch holds the largest entry's
 * needs (gather + 2 buffers + its widest step's scratch). */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

/* Entries of one column_transformer. */
#define PD_MODEL_MAX_CT_ENTRIES 1024

typedef struct {
    size_t n_cols;
    int32_t *cols;
    size_t n_parts;
    pd__part_t *parts; /* transformers, chained */
    size_t width;      /* columns written */
    size_t max_width;  /* widest row within the entry */
} ct_entry_t;

typedef struct {
    size_t n;
    ct_entry_t *e;
} ct_t;

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static int load_entry(pd__jctx_t *c, pd_model_t *m, const json_t *ej, const char *path,
                      const pd__part_t *p, ct_entry_t *e)
{
    json_t *v, *steps;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n;
    int rc;
    if ((rc = pd__jcheck(c, ej, path, PD__J_OBJ)) ||
        (rc = pd__jget(c, ej, path, "columns", PD__J_ARR, 1, &v, q)) ||
        (rc = pd__jlen(c, v, q, 1, PD_MODEL_MAX_FEATURES, &e->n_cols)))
        return rc;
    if (!(e->cols = pd__model_calloc(m, e->n_cols, sizeof(int32_t))))
        return PD_ENOMEM;
    if ((rc = pd__jints(c, v, q, e->n_cols, 0, (int64_t)p->n_in - 1, e->cols)) ||
        (rc = pd__jget(c, ej, path, "steps", PD__J_ARR, 1, &steps, q)) ||
        (rc = pd__jlen(c, steps, q, 0, PD_MODEL_MAX_STEPS, &n)))
        return rc;
    if (!(e->parts = pd__model_calloc(m, n ? n : 1, sizeof *e->parts)))
        return PD_ENOMEM;
    size_t width = e->n_cols;
    e->max_width = width;
    for (size_t i = 0; i < n; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        e->n_parts = i + 1;
        if ((rc = pd__part_load(c, m, json_array_get(steps, i), qi, width, 1, p->task,
                                p->n_classes, &e->parts[i])))
            return rc;
        width = e->parts[i].n_out;
        if (width < 1 || width > PD_MODEL_MAX_FEATURES)
            return pd__jfail(c, qi, "transformer writes %zu columns (1..%d)", width,
                             PD_MODEL_MAX_FEATURES);
        e->max_width = PD_MAX(e->max_width, width);
    }
    e->width = width;
    return 0;
}

static int ct_load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                   pd__part_t *p)
{
    ct_t *t = p->state;
    json_t *a;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n;
    int rc;
    if ((rc = pd__jget(c, step, path, "transformers", PD__J_ARR, 1, &a, q)) ||
        (rc = pd__jlen(c, a, q, 1, PD_MODEL_MAX_CT_ENTRIES, &n)))
        return rc;
    if (!(t->e = pd__model_calloc(m, n, sizeof *t->e)))
        return PD_ENOMEM;
    size_t width = 0;
    p->nan_in_ok = 1;
    p->nan_out = 0;
    for (size_t i = 0; i < n; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        t->n = i + 1;
        if ((rc = load_entry(c, m, json_array_get(a, i), qi, p, &t->e[i])))
            return rc;
        int ok, out;
        pd__parts_nan(t->e[i].parts, t->e[i].n_parts, 1, 0, &ok, &out);
        p->nan_in_ok &= ok;
        p->nan_out |= out;
        width += t->e[i].width;
        if (width > PD_MODEL_MAX_FEATURES)
            return pd__jfail(c, q, "the entries write more than %d columns",
                             PD_MODEL_MAX_FEATURES);
    }
    p->n_out = width;
    return 0;
}

static size_t entry_scratch(const ct_entry_t *e)
{
    size_t s = 0;
    for (size_t i = 0; i < e->n_parts; i++)
        s = PD_MAX(s, pd__part_scratch(&e->parts[i]));
    return s + 3 * align8(PD_MODEL_BLOCK_ROWS * e->max_width * sizeof(double));
}

static size_t ct_scratch(const pd__part_t *p)
{
    const ct_t *t = p->state;
    size_t s = 0;
    for (size_t i = 0; i < t->n; i++)
        s = PD_MAX(s, entry_scratch(&t->e[i]));
    return s;
}

static void ct_transform(const pd__part_t *p, const double *x, size_t nrows, double *y,
                         void *ws)
{
    const ct_t *t = p->state;
    size_t off = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ct_entry_t *e = &t->e[i];
        size_t bb = align8(PD_MODEL_BLOCK_ROWS * e->max_width * sizeof(double));
        double *g = ws;
        double *bufs[2] = {(double *)(void *)((char *)ws + bb),
                           (double *)(void *)((char *)ws + 2 * bb)};
        char *w = (char *)ws + 3 * bb;
        for (size_t r = 0; r < nrows; r++)
            for (size_t j = 0; j < e->n_cols; j++)
                g[r * e->n_cols + j] = x[r * p->n_in + (size_t)e->cols[j]];
        const double *xb = g;
        for (size_t k = 0; k < e->n_parts; k++) {
            e->parts[k].ops->transform(&e->parts[k], xb, nrows, bufs[k & 1], w);
            xb = bufs[k & 1];
        }
        for (size_t r = 0; r < nrows; r++)
            memcpy(y + r * p->n_out + off, xb + r * e->width, e->width * sizeof *y);
        off += e->width;
    }
}

static void ct_stats(const pd__part_t *p, pd_model_stats_t *st)
{
    const ct_t *t = p->state;
    for (size_t i = 0; i < t->n; i++)
        for (size_t k = 0; k < t->e[i].n_parts; k++)
            if (t->e[i].parts[k].ops->stats)
                t->e[i].parts[k].ops->stats(&t->e[i].parts[k], st);
}

static int ct_describe(const pd__part_t *p, char *buf, size_t n)
{
    const ct_t *t = p->state;
    size_t used = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ct_entry_t *e = &t->e[i];
        for (size_t k = 0; k <= e->n_parts; k++) {
            const char *name = e->n_parts ? (k < e->n_parts ? e->parts[k].ops->type : NULL)
                                          : (k == 0 ? "passthrough" : NULL);
            if (!name)
                break;
            size_t at = PD_MIN(used, n ? n - 1 : 0);
            int w = snprintf(buf + at, n - at, "%s%s", k ? " > " : i ? "; " : "", name);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    return (int)used;
}

static void ct_free(pd__part_t *p)
{
    ct_t *t = p->state;
    for (size_t i = 0; t && t->e && i < t->n; i++)
        for (size_t k = 0; t->e[i].parts && k < t->e[i].n_parts; k++)
            pd__part_free(&t->e[i].parts[k]);
}

const pd__part_ops_t pd__column_transformer_ops = {
    .type = "column_transformer", .flags = PD__PART_TRANSFORM | PD__PART_NAN_OWN,
    .state_size = sizeof(ct_t), .load = ct_load, .scratch = ct_scratch,
    .transform = ct_transform, .stats = ct_stats, .describe = ct_describe, .free = ct_free,
};
