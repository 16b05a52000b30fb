/* quantile.c - the "quantile_transformer" transformer (scikit-learn 1.2's
 * QuantileTransformer.transform, _transform_col): for column j with quantiles q (n
 * entries, nondecreasing) and the shared references r (n entries, increasing in [0, 1]),
 *   u = 0.5 * (interp(x, q, r) - interp(-x, -q[::-1], -r[::-1]))
 * (np.interp both ways, so that repeated quantiles give their middle), then
 *   uniform: u = 1 where x == q[n-1], u = 0 where x == q[0];
 *   normal:  u = 1 where x + 1e-7 > q[n-1], u = 0 where x - 1e-7 < q[0], then
 *            y = clip(ppf(u), clip[0], clip[1]) with the standard normal ppf.
 * interp is numpy's: j = the last index with xp[j] <= x; below xp[0] fp[0], above xp[n-1]
 * fp[n-1], at xp[j] exactly fp[j], else slope * (x - xp[j]) + fp[j]. Everything but the ppf
 * is the library's arithmetic bit for bit; the clip bounds are scipy's own (the exporter
 * writes them); the ppf (pd__norm_ppf, math.c) is within a few ulp of scipy's ndtri
 * (measured in tests/e2e, documented in docs/model-format.md). NaN passes through. */
#include <math.h>
#include <stdio.h>

#include "common.h"
#include "model/model_impl.h"

#define QT_MAX_QUANTILES 100000 /* n_quantiles (the library caps it at n_samples) */
#define QT_BOUNDS 1e-7          /* sklearn's BOUNDS_THRESHOLD */

typedef struct {
    size_t nq;
    double *q;    /* n_in x nq */
    double *nq_;  /* n_in x nq: -q reversed */
    double *ref;  /* nq */
    double *nref; /* nq: -ref reversed */
    int normal;
    double clip[2];
} quantile_t;

static const char *const outputs[] = {"uniform", "normal"};

/* An array at `key` of n nondecreasing (strictly increasing if strict) numbers. */
static int sorted_vec(pd__jctx_t *c, const json_t *a, const char *p, size_t n, int strict,
                      double *out)
{
    int rc = pd__jdoubles(c, a, p, n, out);
    for (size_t i = 1; i < n && rc == 0; i++)
        if (out[i] < out[i - 1] || (strict && out[i] == out[i - 1])) {
            char q[PD__PATH_MAX];
            pd__jpath(q, sizeof q, p, "[%zu]", i);
            return pd__jfail(c, q, "must be %s", strict ? "increasing" : "nondecreasing");
        }
    return rc;
}

static int load_normal(pd__jctx_t *c, const json_t *st, const char *path, quantile_t *Q)
{
    json_t *v;
    char q[PD__PATH_MAX];
    int rc = pd__jget(c, st, path, "clip", PD__J_ARR, 1, &v, q);
    if (rc || (rc = pd__jdoubles(c, v, q, 2, Q->clip)))
        return rc;
    if (!(Q->clip[0] < 0 && Q->clip[1] > 0))
        return pd__jfail(c, q, "expected [negative, positive] bounds");
    return 0;
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    quantile_t *Q = p->state;
    json_t *qs, *rv;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX], qr[PD__PATH_MAX];
    size_t nf, nq;
    int rc, k;
    const char *s = pd__jstr(c, st, path, "output", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".output");
    if (rc || (rc = pd__jenum(c, s, q, outputs, 2, &k)) ||
        (rc = pd__jget(c, st, path, "references", PD__J_ARR, 1, &rv, qr)) ||
        (rc = pd__jlen(c, rv, qr, 2, QT_MAX_QUANTILES, &nq)) ||
        (rc = pd__jget(c, st, path, "quantiles", PD__J_ARR, 1, &qs, q)) ||
        (rc = pd__jlen(c, qs, q, p->n_in, p->n_in, &nf)))
        return rc;
    if (nf * nq > PD_MODEL_MAX_ARRAY)
        return pd__jfail(c, q, "%zu x %zu numbers, over the %zu limit", nf, nq,
                         PD_MODEL_MAX_ARRAY);
    Q->normal = k == 1, Q->nq = nq;
    if ((Q->normal && (rc = load_normal(c, st, path, Q))))
        return rc;
    Q->q = pd__model_calloc(m, nf * nq, sizeof(double));
    Q->nq_ = pd__model_calloc(m, nf * nq, sizeof(double));
    Q->ref = pd__model_calloc(m, nq, sizeof(double));
    Q->nref = pd__model_calloc(m, nq, sizeof(double));
    if (!Q->q || !Q->nq_ || !Q->ref || !Q->nref)
        return PD_ENOMEM;
    if ((rc = sorted_vec(c, rv, qr, nq, 1, Q->ref)))
        return rc;
    if (Q->ref[0] < 0 || Q->ref[nq - 1] > 1)
        return pd__jfail(c, qr, "references must lie in [0, 1]");
    for (size_t i = 0; i < nq; i++)
        Q->nref[i] = -Q->ref[nq - 1 - i];
    for (size_t j = 0; j < nf; j++) {
        double *col = Q->q + j * nq, *neg = Q->nq_ + j * nq;
        pd__jpath(qi, sizeof qi, q, "[%zu]", j);
        if ((rc = sorted_vec(c, json_array_get(qs, j), qi, nq, 0, col)))
            return rc;
        for (size_t i = 0; i < nq; i++)
            neg[i] = -col[nq - 1 - i];
    }
    m->n_params += nf * nq + nq;
    p->n_out = p->n_in;
    return 0;
}

/* np.interp(x, xp, fp) for one finite-or-infinite x (not NaN), n >= 2. */
static double interp(double x, const double *xp, const double *fp, size_t n)
{
    if (x > xp[n - 1])
        return fp[n - 1];
    if (x < xp[0])
        return fp[0];
    size_t lo = 0, hi = n; /* count of xp[i] <= x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x >= xp[mid])
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t j = lo - 1;
    if (j == n - 1 || xp[j] == x)
        return fp[j];
    double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    double v = slope * (x - xp[j]) + fp[j];
    if (isnan(v)) { /* numpy's fallback: from the other end */
        v = slope * (x - xp[j + 1]) + fp[j + 1];
        if (isnan(v) && fp[j] == fp[j + 1])
            v = fp[j];
    }
    return v;
}

static double column(const quantile_t *Q, size_t j, double x)
{
    size_t n = Q->nq;
    const double *q = Q->q + j * n;
    if (isnan(x))
        return x;
    double u = 0.5 * (interp(x, q, Q->ref, n) - interp(-x, Q->nq_ + j * n, Q->nref, n));
    if (!Q->normal) {
        if (x == q[n - 1])
            u = 1;
        if (x == q[0])
            u = 0;
        return u;
    }
    if (x + QT_BOUNDS > q[n - 1])
        u = 1;
    if (x - QT_BOUNDS < q[0])
        u = 0;
    double y = pd__norm_ppf(u);
    return y < Q->clip[0] ? Q->clip[0] : y > Q->clip[1] ? Q->clip[1] : y;
}

static void transform(const pd__part_t *p, const double *x, size_t nrows, double *y, void *ws)
{
    (void)ws;
    const quantile_t *Q = p->state;
    size_t n = p->n_in;
    for (size_t r = 0; r < nrows; r++)
        for (size_t j = 0; j < n; j++)
            y[r * n + j] = column(Q, j, x[r * n + j]);
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const quantile_t *Q = p->state;
    return snprintf(buf, n, "%s, %zu quantiles", outputs[Q->normal], Q->nq);
}

const pd__part_ops_t pd__quantile_ops = {
    .type = "quantile_transformer",
    .flags = PD__PART_TRANSFORM | PD__PART_NAN_OK,
    .state_size = sizeof(quantile_t),
    .load = load,
    .transform = transform,
    .describe = describe,
};
