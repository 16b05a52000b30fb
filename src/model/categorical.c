/* categorical.c - the "categorical_nb" type: scikit-learn 1.2's CategoricalNB.
 *
 * Inputs are category indexes (integers sent as numbers). As sklearn (check_array with
 * dtype=int, then check_non_negative) a value v is the category trunc(v); it must lie in
 * 0 .. n_categories[j] - 1 of its feature j (sklearn raises ValueError below 0 and
 * IndexError above; predictd refuses the row before predicting: the check op, called by
 * pd_model_check, which is why the type is only ever a model's only step). Then, in
 * sklearn's order of operations:
 *   jll = 0; for j in features: jll += feature_log_prob[j][:, x_j]   (per class)
 *   total = jll + class_log_prior                                    (predict_joint_log_proba)
 *   label = first largest total
 *   proba = exp(total - logsumexp(total)), logsumexp as scipy: m = max; log(Σ exp(t - m)) + m,
 *           Σ as numpy sums (pairwise)
 * State: per feature j an offset into one table of n_categories[j] x n_classes log
 * probabilities (category-major, so a row reads n_classes consecutive values). Scratch: one
 * row's totals and their exponentials. No allocation when predicting. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

/* Categories one feature may have. */
#define PD_CATNB_MAX_CATEGORIES ((size_t)1 << 20)

typedef struct {
    size_t *n_cat;     /* n_in: categories of each feature */
    size_t *off;       /* n_in: where feature j's n_cat[j] x n_classes block starts in lp */
    double *lp;        /* the blocks: lp[off[j] + cat * n_classes + class] */
    double *log_prior; /* n_classes: class_log_prior_ */
    size_t total;      /* categories of all features */
} catnb_t;

/* feature_log_prob[j]: n_classes rows of n_cat numbers (sklearn's shape), stored
 * transposed at lp. */
static int load_feature(pd__jctx_t *c, const json_t *fj, const char *q, size_t nc,
                        size_t ncat, double *lp)
{
    char qk[PD__PATH_MAX], qv[PD__PATH_MAX];
    size_t n;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < nc; k++) {
        const json_t *row = json_array_get(fj, k);
        pd__jpath(qk, sizeof qk, q, "[%zu]", k);
        rc = pd__jlen(c, row, qk, ncat, ncat, &n);
        for (size_t v = 0; rc == 0 && v < ncat; v++) {
            const json_t *x = json_array_get(row, v);
            double d = json_is_number(x) ? json_number_value(x) : NAN;
            if (isfinite(d)) { /* the usual case; else the path and the reason */
                lp[v * nc + k] = d;
                continue;
            }
            pd__jpath(qv, sizeof qv, qk, "[%zu]", v);
            rc = pd__jnum(c, x, qv, &lp[v * nc + k]);
        }
    }
    return rc;
}

/* The shapes of "feature_log_prob": n_in arrays of n_classes arrays of the same length
 * (the feature's categories, 1..PD_CATNB_MAX_CATEGORIES). */
static int shapes(pd__jctx_t *c, const json_t *a, const char *q, const pd__part_t *p,
                  catnb_t *N)
{
    char qj[PD__PATH_MAX], qk[PD__PATH_MAX];
    size_t n;
    int rc;
    if ((rc = pd__jlen(c, a, q, p->n_in, p->n_in, &n)))
        return rc;
    for (size_t j = 0; j < p->n_in; j++) {
        const json_t *fj = json_array_get(a, j);
        pd__jpath(qj, sizeof qj, q, "[%zu]", j);
        if ((rc = pd__jlen(c, fj, qj, p->n_classes, p->n_classes, &n)))
            return rc;
        pd__jpath(qk, sizeof qk, qj, "[0]");
        if ((rc = pd__jcheck(c, json_array_get(fj, 0), qk, PD__J_ARR)))
            return rc;
        N->n_cat[j] = json_array_size(json_array_get(fj, 0));
        if (N->n_cat[j] < 1 || N->n_cat[j] > PD_CATNB_MAX_CATEGORIES)
            return pd__jfail(c, qk, "%zu categories (expected 1..%zu)", N->n_cat[j],
                             PD_CATNB_MAX_CATEGORIES);
        N->off[j] = N->total * p->n_classes;
        N->total += N->n_cat[j];
        if (N->total > PD_MODEL_MAX_ARRAY / p->n_classes)
            return pd__jfail(c, qj, "more than %zu log probabilities in all",
                             PD_MODEL_MAX_ARRAY);
    }
    return 0;
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    catnb_t *N = p->state;
    json_t *a, *lpj;
    char q[PD__PATH_MAX], qp[PD__PATH_MAX], qj[PD__PATH_MAX];
    size_t nc = p->n_classes;
    int rc;
    if (p->task != PD_TASK_CLASSIFICATION)
        return pd__jfail(c, path, "\"categorical_nb\" needs a classification model");
    if ((rc = pd__jget(c, st, path, "feature_log_prob", PD__J_ARR, 1, &a, q)) ||
        (rc = pd__jget(c, st, path, "class_log_prior", PD__J_ARR, 1, &lpj, qp)))
        return rc;
    N->n_cat = pd__model_calloc(m, p->n_in, sizeof *N->n_cat);
    N->off = pd__model_calloc(m, p->n_in, sizeof *N->off);
    N->log_prior = pd__model_calloc(m, nc, sizeof *N->log_prior);
    if (!N->n_cat || !N->off || !N->log_prior)
        return PD_ENOMEM;
    if ((rc = shapes(c, a, q, p, N)) || (rc = pd__jdoubles(c, lpj, qp, nc, N->log_prior)))
        return rc;
    if (!(N->lp = pd__model_calloc(m, N->total * nc, sizeof *N->lp)))
        return PD_ENOMEM;
    m->n_params += N->total * nc + nc;
    for (size_t j = 0; j < p->n_in; j++) {
        pd__jpath(qj, sizeof qj, q, "[%zu]", j);
        if ((rc = load_feature(c, json_array_get(a, j), qj, nc, N->n_cat[j], N->lp + N->off[j])))
            return rc;
    }
    p->has_proba = 1;
    return pd__part_add_output(p, "predict_joint_log_proba", nc,
                               "joint log likelihood per class (log prior + log likelihoods)");
}

/* 1 when v is a category of feature j: trunc(v) in 0 .. n_cat[j] - 1. */
static int in_range(const catnb_t *N, size_t j, double v)
{
    return v > -1.0 && v < (double)N->n_cat[j]; /* false for NaN */
}

static int check(const pd__part_t *p, const double *x, size_t nrows, size_t *row,
                 size_t *col, char *why, size_t n)
{
    const catnb_t *N = p->state;
    for (size_t r = 0; r < nrows; r++)
        for (size_t j = 0; j < p->n_in; j++) {
            double v = x[r * p->n_in + j];
            if (in_range(N, j, v))
                continue;
            *row = r;
            *col = j;
            snprintf(why, n, "%.15g is not one of its categories: CategoricalNB takes the "
                     "category's index, an integer from 0 to %zu (the categories it was "
                     "fitted on)", v, N->n_cat[j] - 1);
            return -1;
        }
    return 0;
}

static size_t scratch(const pd__part_t *p)
{
    return 2 * p->n_classes * sizeof(double);
}

/* The totals of one row into t (NaN when a value is not a category: never served, the
 * check refuses such rows first). */
static void totals(const pd__part_t *p, const double *x, double *t)
{
    const catnb_t *N = p->state;
    size_t nc = p->n_classes;
    for (size_t k = 0; k < nc; k++)
        t[k] = 0.0;
    for (size_t j = 0; j < p->n_in; j++) {
        if (!in_range(N, j, x[j])) {
            for (size_t k = 0; k < nc; k++)
                t[k] = NAN;
            return;
        }
        const double *b = N->lp + N->off[j] + (size_t)(int64_t)x[j] * nc;
        for (size_t k = 0; k < nc; k++)
            t[k] += b[k];
    }
    for (size_t k = 0; k < nc; k++)
        t[k] = t[k] + N->log_prior[k];
}

/* numpy's sum of n doubles (its pairwise_sum: 8 accumulators up to 128 values, halves
 * beyond), so that logsumexp's sum rounds as scipy's does. Recursion depth is log2(n / 128),
 * n <= PD_MODEL_MAX_CLASSES. */
static double np_sum(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n > 128) {
        size_t h = n / 2;
        h -= h % 8;
        return np_sum(a, h) + np_sum(a + h, n - h);
    }
    double r[8];
    size_t i;
    memcpy(r, a, sizeof r);
    for (i = 8; i < n - (n % 8); i += 8)
        for (size_t j = 0; j < 8; j++)
            r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++)
        res += a[i];
    return res;
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    size_t nc = p->n_classes;
    double *t = ws;
    for (size_t r = 0; r < nrows; r++) {
        totals(p, x + r * p->n_in, t);
        if (out->cls)
            out->cls[r] = pd__argmax(t, nc);
        if (out->extra[0])
            memcpy(out->extra[0] + r * nc, t, nc * sizeof *t);
        if (!out->proba)
            continue;
        double mx = t[0], *e = t + nc; /* scipy.special.logsumexp */
        for (size_t k = 1; k < nc; k++)
            mx = t[k] > mx ? t[k] : mx;
        if (!isfinite(mx))
            mx = 0.0;
        for (size_t k = 0; k < nc; k++)
            e[k] = exp(t[k] - mx);
        double lse = log(np_sum(e, nc)) + mx;
        for (size_t k = 0; k < nc; k++)
            out->proba[r * nc + k] = exp(t[k] - lse);
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const catnb_t *N = p->state;
    return snprintf(buf, n, "%zu classes x %zu features, %zu categories", p->n_classes, p->n_in,
                    N->total);
}

const pd__part_ops_t pd__categorical_nb_ops = {
    .type = "categorical_nb",
    .flags = PD__PART_INPUTS,
    .state_size = sizeof(catnb_t),
    .load = load,
    .check = check,
    .scratch = scratch,
    .predict = predict,
    .describe = describe,
};
