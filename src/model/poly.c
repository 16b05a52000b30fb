/* poly.c - the "polynomial_features" transformer (scikit-learn's PolynomialFeatures): each
 * output column is one term, the product of the input columns listed for it, multiplied
 * left to right in float64 (((x[a] * x[b]) * x[c]), as PolynomialFeatures.transform builds
 * a degree-d column from the degree d-1 column times one feature); an empty term is the
 * bias column 1.0. The file lists the terms in the library's output column order (the
 * exporter writes them from powers_), so degree, interaction_only and include_bias are
 * whatever the terms say. No missing values (the library refuses NaN). */
#include <stdio.h>

#include "common.h"
#include "model/model_impl.h"

#define POLY_MAX_DEGREE 32 /* factors in one term */

typedef struct {
    size_t *off;     /* n_out + 1: term t is idx[off[t] .. off[t+1]) */
    uint32_t *idx;   /* input columns, in multiplication order */
    size_t degree;   /* longest term */
} poly_t;

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    poly_t *P = p->state;
    json_t *terms;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n, total = 0;
    int rc;
    if ((rc = pd__jget(c, st, path, "terms", PD__J_ARR, 1, &terms, q)) ||
        (rc = pd__jlen(c, terms, q, 1, PD_MODEL_MAX_FEATURES, &n)))
        return rc;
    for (size_t t = 0; t < n; t++) {
        size_t k;
        pd__jpath(qi, sizeof qi, q, "[%zu]", t);
        if ((rc = pd__jlen(c, json_array_get(terms, t), qi, 0, POLY_MAX_DEGREE, &k)))
            return rc;
        total += k;
    }
    if (!(P->off = pd__model_calloc(m, n + 1, sizeof *P->off)) ||
        !(P->idx = pd__model_calloc(m, total ? total : 1, sizeof *P->idx)))
        return PD_ENOMEM;
    int32_t cols[POLY_MAX_DEGREE];
    for (size_t t = 0; t < n; t++) {
        const json_t *a = json_array_get(terms, t);
        size_t k = json_array_size(a);
        pd__jpath(qi, sizeof qi, q, "[%zu]", t);
        if ((rc = pd__jints(c, a, qi, k, 0, (int64_t)p->n_in - 1, cols)))
            return rc;
        P->off[t + 1] = P->off[t] + k;
        for (size_t i = 0; i < k; i++)
            P->idx[P->off[t] + i] = (uint32_t)cols[i];
        P->degree = k > P->degree ? k : P->degree;
    }
    m->n_params += total;
    p->n_out = n;
    return 0;
}

static void transform(const pd__part_t *p, const double *x, size_t nrows, double *y, void *ws)
{
    (void)ws;
    const poly_t *P = p->state;
    size_t ni = p->n_in, no = p->n_out;
    for (size_t r = 0; r < nrows; r++) {
        const double *row = x + r * ni;
        for (size_t t = 0; t < no; t++) {
            size_t a = P->off[t], b = P->off[t + 1];
            double v = a == b ? 1.0 : row[P->idx[a]];
            for (size_t i = a + 1; i < b; i++)
                v *= row[P->idx[i]];
            y[r * no + t] = v;
        }
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const poly_t *P = p->state;
    return snprintf(buf, n, "%zu -> %zu terms, degree %zu", p->n_in, p->n_out, P->degree);
}

const pd__part_ops_t pd__poly_ops = {
    .type = "polynomial_features",
    .flags = PD__PART_TRANSFORM,
    .state_size = sizeof(poly_t),
    .load = load,
    .transform = transform,
    .describe = describe,
};
