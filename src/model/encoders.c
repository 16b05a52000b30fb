/* encoders.c - the categorical encoders "onehot_encoder" and "ordinal_encoder" (scikit-
 * learn's OneHotEncoder and OrdinalEncoder), in code space: a string column's values
 * arrive as codes (model.h pd_model_input_t), a number column's as themselves, and each
 * column maps its categories (numbers, or null for NaN) to what the encoder writes.
 *
 *  onehot_encoder: {"n_out": N, "handle_unknown": "error"|"ignore"|"infrequent_if_exist",
 *    "features": [{"categories": [c...], "outputs": [o...], "unknown_output": u}, ...]}
 *    category k of column j sets output column outputs[k] to 1 (-1: no column, a dropped
 *    category); a value that is no category sets unknown_output (-1: none, all zeros).
 *    The exporter computes outputs from the encoder itself, so infrequent grouping and
 *    drop are the library's.
 *  ordinal_encoder: {"unknown_value": v|null (absent: handle_unknown="error"),
 *    "features": [{"categories": [c...], "values": [v...] (default 0..k-1)}, ...]}.
 *
 * Invariants: each column's non-NaN categories are sorted ascending and unique at load
 * (binary search in the kernel), at most one NaN category; every output index is in
 * range. NaN in: a NaN category, else an unknown value (handle_unknown="error": the
 * library refuses it, so nan_in_ok is 0 and the model does not take missing values). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef struct {
    size_t n;       /* non-NaN categories */
    double *cats;   /* n, sorted */
    double *vals;   /* n: output column (onehot) or value (ordinal) */
    int has_nan;    /* a NaN category */
    double nan_val; /* its output column / value */
    double unk;     /* unknown: output column (-1 none) / value */
} enc_col_t;

typedef struct {
    int onehot;
    int unk_error;
    enc_col_t *cols; /* n_in */
} enc_t;

typedef struct {
    double c, v;
} pair_t;

static int cmp_pair(const void *a, const void *b)
{
    double x = ((const pair_t *)a)->c, y = ((const pair_t *)b)->c;
    return x < y ? -1 : x > y;
}

/* Reads categories and their values (NULL vals: the index) of one column. */
static int load_col(pd__jctx_t *c, pd_model_t *m, const json_t *f, const char *path,
                    const enc_t *e, size_t n_out, enc_col_t *col)
{
    json_t *cats, *vals, *u;
    char pc[PD__PATH_MAX], pv[PD__PATH_MAX], pu[PD__PATH_MAX];
    size_t n;
    int rc;
    if ((rc = pd__jcheck(c, f, path, PD__J_OBJ)) ||
        (rc = pd__jget(c, f, path, "categories", PD__J_ARR, 1, &cats, pc)) ||
        (rc = pd__jlen(c, cats, pc, 1, PD_MODEL_MAX_CATEGORIES, &n)) ||
        (rc = pd__jget(c, f, path, e->onehot ? "outputs" : "values", PD__J_ARR, e->onehot,
                       &vals, pv)))
        return rc;
    size_t nv;
    if (vals && ((rc = pd__jlen(c, vals, pv, n, n, &nv))))
        return rc;
    pair_t *pr = pd__model_calloc(m, n, sizeof *pr);
    if (!pr)
        return PD_ENOMEM;
    col->unk = -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *cv = json_array_get(cats, i), *vv = vals ? json_array_get(vals, i) : NULL;
        char p[PD__PATH_MAX];
        double val = (double)i;
        pd__jpath(p, sizeof p, pv, "[%zu]", i);
        if (e->onehot) {
            int64_t o;
            if ((rc = pd__jint(c, vv, p, -1, (int64_t)n_out - 1, &o)))
                return rc;
            val = (double)o;
        } else if (vv && json_is_null(vv)) {
            val = NAN;
        } else if (vv && (rc = pd__jnum(c, vv, p, &val))) {
            return rc;
        }
        pd__jpath(p, sizeof p, pc, "[%zu]", i);
        if (json_is_null(cv)) {
            if (col->has_nan)
                return pd__jfail(c, p, "a second NaN (null) category");
            col->has_nan = 1;
            col->nan_val = val;
            continue;
        }
        if ((rc = pd__jnum(c, cv, p, &pr[k].c)))
            return rc;
        pr[k++].v = val;
    }
    qsort(pr, k, sizeof *pr, cmp_pair);
    for (size_t i = 1; i < k; i++)
        if (pr[i - 1].c == pr[i].c)
            return pd__jfail(c, pc, "duplicate category %.17g", pr[i].c);
    col->n = k;
    col->cats = pd__model_calloc(m, k ? k : 1, sizeof(double));
    col->vals = pd__model_calloc(m, k ? k : 1, sizeof(double));
    if (!col->cats || !col->vals)
        return PD_ENOMEM;
    for (size_t i = 0; i < k; i++)
        col->cats[i] = pr[i].c, col->vals[i] = pr[i].v;
    m->n_params += n;
    if (!e->onehot)
        return 0;
    if ((rc = pd__jget(c, f, path, "unknown_output", PD__J_INT, 0, &u, pu)))
        return rc;
    int64_t o = -1;
    if (u && (rc = pd__jint(c, u, pu, -1, (int64_t)n_out - 1, &o)))
        return rc;
    col->unk = (double)o;
    return 0;
}

static int load_common(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                       pd__part_t *p, size_t n_out)
{
    enc_t *e = p->state;
    json_t *fs;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n;
    int rc;
    if ((rc = pd__jget(c, step, path, "features", PD__J_ARR, 1, &fs, q)) ||
        (rc = pd__jlen(c, fs, q, p->n_in, p->n_in, &n)))
        return rc;
    if (!(e->cols = pd__model_calloc(m, n, sizeof *e->cols)))
        return PD_ENOMEM;
    int all_nan = 1;
    for (size_t j = 0; j < n; j++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", j);
        if ((rc = load_col(c, m, json_array_get(fs, j), qi, e, n_out, &e->cols[j])))
            return rc;
        all_nan &= e->cols[j].has_nan;
    }
    p->nan_in_ok = !e->unk_error || all_nan;
    return 0;
}

static int onehot_load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                       pd__part_t *p)
{
    static const char *const modes[] = {"error", "ignore", "infrequent_if_exist"};
    enc_t *e = p->state;
    json_t *v;
    char q[PD__PATH_MAX];
    int64_t n_out;
    int rc, mode;
    e->onehot = 1;
    if ((rc = pd__jget(c, step, path, "n_out", PD__J_INT, 1, &v, q)) ||
        (rc = pd__jint(c, v, q, 1, PD_MODEL_MAX_FEATURES, &n_out)))
        return rc;
    const char *hs = pd__jstr(c, step, path, "handle_unknown", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".handle_unknown");
    if (rc || (rc = pd__jenum(c, hs, q, modes, 3, &mode)))
        return rc;
    e->unk_error = mode == 0;
    p->n_out = (size_t)n_out;
    p->nan_out = 0;
    return load_common(c, m, step, path, p, (size_t)n_out);
}

static int ordinal_load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                        pd__part_t *p)
{
    enc_t *e = p->state;
    json_t *v;
    char q[PD__PATH_MAX];
    double unk = NAN;
    int rc;
    if ((rc = pd__jget(c, step, path, "unknown_value", PD__J_ANY, 0, &v, q)))
        return rc;
    e->unk_error = v == NULL;
    if (v && !json_is_null(v) && (rc = pd__jnum(c, v, q, &unk)))
        return rc;
    p->n_out = p->n_in;
    if ((rc = load_common(c, m, step, path, p, 0)))
        return rc;
    int nan_out = !e->unk_error && isnan(unk);
    for (size_t j = 0; j < p->n_in; j++) {
        e->cols[j].unk = unk;
        nan_out |= e->cols[j].has_nan && isnan(e->cols[j].nan_val);
        for (size_t k = 0; k < e->cols[j].n; k++)
            nan_out |= isnan(e->cols[j].vals[k]);
    }
    p->nan_out = nan_out;
    return 0;
}

/* What column col maps x to: its value for the category, else col->unk. */
static double lookup(const enc_col_t *col, double x)
{
    if (isnan(x))
        return col->has_nan ? col->nan_val : col->unk;
    size_t lo = 0, hi = col->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (col->cats[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < col->n && col->cats[lo] == x ? col->vals[lo] : col->unk;
}

static void onehot_transform(const pd__part_t *p, const double *x, size_t nrows, double *y,
                             void *ws)
{
    (void)ws;
    const enc_t *e = p->state;
    memset(y, 0, nrows * p->n_out * sizeof *y);
    for (size_t r = 0; r < nrows; r++)
        for (size_t j = 0; j < p->n_in; j++) {
            double o = lookup(&e->cols[j], x[r * p->n_in + j]);
            if (o >= 0)
                y[r * p->n_out + (size_t)o] = 1.0;
        }
}

static void ordinal_transform(const pd__part_t *p, const double *x, size_t nrows, double *y,
                              void *ws)
{
    (void)ws;
    const enc_t *e = p->state;
    for (size_t r = 0; r < nrows; r++)
        for (size_t j = 0; j < p->n_in; j++)
            y[r * p->n_in + j] = lookup(&e->cols[j], x[r * p->n_in + j]);
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const enc_t *e = p->state;
    size_t k = 0;
    for (size_t j = 0; j < p->n_in; j++)
        k += e->cols[j].n + (size_t)e->cols[j].has_nan;
    return snprintf(buf, n, "%zu columns, %zu categories%s", p->n_in, k,
                    e->unk_error ? ", unknown refused" : "");
}

const pd__part_ops_t pd__onehot_encoder_ops = {
    .type = "onehot_encoder", .flags = PD__PART_TRANSFORM | PD__PART_NAN_OWN,
    .state_size = sizeof(enc_t), .load = onehot_load, .transform = onehot_transform,
    .describe = describe,
};
const pd__part_ops_t pd__ordinal_encoder_ops = {
    .type = "ordinal_encoder", .flags = PD__PART_TRANSFORM | PD__PART_NAN_OWN,
    .state_size = sizeof(enc_t), .load = ordinal_load, .transform = ordinal_transform,
    .describe = describe,
};
