/* normalizer.c - the "normalizer" transformer (scikit-learn's Normalizer): each row divided
 * by its norm, "l1" (sum of |x|), "l2" (sqrt of the sum of squares) or "max" (largest |x|);
 * a norm below 10 * DBL_EPSILON divides by 1 instead (_handle_zeros_in_scale). The l1 sum
 * is numpy's pairwise summation (np.abs(X).sum(axis=1)), so it is bit for bit the
 * library's; the l2 sum of squares is taken in column order while numpy's einsum uses its
 * own SIMD order: the two differ by a few ulp at most (docs/model-format.md). No missing
 * values (the library refuses NaN). */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "common.h"
#include "model/model_impl.h"

#define PAIRWISE_BLOCK 128 /* numpy's PW_BLOCKSIZE */

typedef enum { NORM_L1, NORM_L2, NORM_MAX } norm_t;

typedef struct {
    norm_t norm;
} normalizer_t;

static const char *const norms[] = {"l1", "l2", "max"};

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    (void)m;
    normalizer_t *N = p->state;
    char q[PD__PATH_MAX];
    int rc, k;
    const char *s = pd__jstr(c, st, path, "norm", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".norm");
    if (rc || (rc = pd__jenum(c, s, q, norms, 3, &k)))
        return rc;
    N->norm = (norm_t)k;
    p->n_out = p->n_in;
    return 0;
}

/* numpy's pairwise_sum of |a[i]| (n >= 0): below 8 terms in order, up to 128 in eight
 * interleaved partial sums combined pairwise, above that the two halves (split at a
 * multiple of 8) recursively; recursion depth is log2(n / 128). */
static double abs_sum(const double *a, size_t n)
{
    if (n < 8) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += fabs(a[i]);
        return s;
    }
    if (n <= PAIRWISE_BLOCK) {
        double r[8];
        size_t i;
        for (int j = 0; j < 8; j++)
            r[j] = fabs(a[j]);
        for (i = 8; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += fabs(a[i + (size_t)j]);
        double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            s += fabs(a[i]);
        return s;
    }
    size_t h = n / 2;
    h -= h % 8;
    return abs_sum(a, h) + abs_sum(a + h, n - h);
}

static void transform(const pd__part_t *p, const double *x, size_t nrows, double *y, void *ws)
{
    (void)ws;
    const normalizer_t *N = p->state;
    size_t n = p->n_in;
    for (size_t r = 0; r < nrows; r++) {
        const double *row = x + r * n;
        double s = 0.0;
        if (N->norm == NORM_L1) {
            s = 0.0 + abs_sum(row, n);
        } else if (N->norm == NORM_L2) {
            for (size_t j = 0; j < n; j++)
                s += row[j] * row[j];
            s = sqrt(s);
        } else {
            for (size_t j = 0; j < n; j++)
                s = fabs(row[j]) > s ? fabs(row[j]) : s;
        }
        if (s < 10 * DBL_EPSILON)
            s = 1.0;
        for (size_t j = 0; j < n; j++)
            y[r * n + j] = row[j] / s;
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const normalizer_t *N = p->state;
    return snprintf(buf, n, "%s", norms[N->norm]);
}

const pd__part_ops_t pd__normalizer_ops = {
    .type = "normalizer",
    .flags = PD__PART_TRANSFORM,
    .state_size = sizeof(normalizer_t),
    .load = load,
    .transform = transform,
    .describe = describe,
};
