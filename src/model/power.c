/* power.c - the "power_transformer" transformer (scikit-learn's PowerTransformer without
 * its standardize step, which the exporter writes as a following standard_scaler): column
 * j is mapped with lambda = lambdas[j] by
 *   yeo-johnson (PowerTransformer._yeo_johnson_transform): x >= 0: log1p(x) when
 *     |lambda| < DBL_EPSILON, else (pow(x + 1, lambda) - 1) / lambda; x < 0:
 *     -log1p(-x) when |lambda - 2| <= DBL_EPSILON, else
 *     -(pow(-x + 1, 2 - lambda) - 1) / (2 - lambda);
 *   box-cox (scipy.special.boxcox): log(x) when |lambda| < 1e-19, else
 *     expm1(lambda * log(x)) / lambda; x <= 0 (which the library refuses with an error)
 *     gives NaN.
 * in float64 with libm's pow, log1p, log and expm1, as numpy and scipy call them. NaN
 * passes through as NaN (the library allows it). */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "common.h"
#include "model/model_impl.h"

typedef struct {
    int box_cox;
    double *lambdas; /* n_in */
} power_t;

static const char *const methods[] = {"yeo-johnson", "box-cox"};

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    power_t *P = p->state;
    json_t *v;
    char q[PD__PATH_MAX];
    int rc, k;
    const char *s = pd__jstr(c, st, path, "method", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".method");
    if (rc || (rc = pd__jenum(c, s, q, methods, 2, &k)) ||
        (rc = pd__jget(c, st, path, "lambdas", PD__J_ARR, 1, &v, q)))
        return rc;
    P->box_cox = k == 1;
    if (!(P->lambdas = pd__model_calloc(m, p->n_in, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += p->n_in;
    p->n_out = p->n_in;
    return pd__jdoubles(c, v, q, p->n_in, P->lambdas);
}

static double yeo_johnson(double x, double l)
{
    if (x >= 0)
        return fabs(l) < DBL_EPSILON ? log1p(x) : (pow(x + 1, l) - 1) / l;
    if (fabs(l - 2) > DBL_EPSILON)
        return -(pow(-x + 1, 2 - l) - 1) / (2 - l);
    return -log1p(-x);
}

static double box_cox(double x, double l)
{
    if (!(x > 0))
        return NAN;
    return fabs(l) < 1e-19 ? log(x) : expm1(l * log(x)) / l;
}

static void transform(const pd__part_t *p, const double *x, size_t nrows, double *y, void *ws)
{
    (void)ws;
    const power_t *P = p->state;
    size_t n = p->n_in;
    for (size_t r = 0; r < nrows; r++)
        for (size_t j = 0; j < n; j++) {
            double v = x[r * n + j];
            y[r * n + j] = P->box_cox ? box_cox(v, P->lambdas[j]) : yeo_johnson(v, P->lambdas[j]);
        }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const power_t *P = p->state;
    return snprintf(buf, n, "%s", methods[P->box_cox]);
}

const pd__part_ops_t pd__power_ops = {
    .type = "power_transformer",
    .flags = PD__PART_TRANSFORM | PD__PART_NAN_OK,
    .state_size = sizeof(power_t),
    .load = load,
    .transform = transform,
    .describe = describe,
};
