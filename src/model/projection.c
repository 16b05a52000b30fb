/* projection.c - the "projection" transformer: y = ((x - mean) . components[i]) / scale[i]
 * for each output column i, summed in float64 in feature order (PCA, IncrementalPCA and
 * TruncatedSVD's transform; whitened PCA divides by sqrt(explained_variance_), given as
 * `scale`). NaN would spread to every output column: it does not take missing values. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef struct {
    double *mean;       /* n_in, or NULL */
    double *components; /* n_out x n_in */
    double *scale;      /* n_out, or NULL */
} projection_t;

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    projection_t *P = p->state;
    json_t *a, *v;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n_out;
    int rc;
    if ((rc = pd__jget(c, st, path, "components", PD__J_ARR, 1, &a, q)) ||
        (rc = pd__jlen(c, a, q, 1, PD_MODEL_MAX_FEATURES, &n_out)))
        return rc;
    if (n_out * p->n_in > PD_MODEL_MAX_ARRAY)
        return pd__jfail(c, q, "%zu x %zu numbers, over the %zu limit", n_out, p->n_in,
                         PD_MODEL_MAX_ARRAY);
    p->n_out = n_out;
    if (!(P->components = pd__model_calloc(m, n_out * p->n_in, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += n_out * p->n_in;
    for (size_t i = 0; i < n_out; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        if ((rc = pd__jdoubles(c, json_array_get(a, i), qi, p->n_in,
                               P->components + i * p->n_in)))
            return rc;
    }
    const char *keys[2] = {"mean", "scale"};
    double **dst[2] = {&P->mean, &P->scale};
    size_t lens[2] = {p->n_in, n_out};
    for (int k = 0; k < 2; k++) {
        if ((rc = pd__jget(c, st, path, keys[k], PD__J_ARR, 0, &v, q)))
            return rc;
        if (!v)
            continue;
        if (!(*dst[k] = pd__model_calloc(m, lens[k], sizeof(double))))
            return PD_ENOMEM;
        m->n_params += lens[k];
        if ((rc = pd__jdoubles(c, v, q, lens[k], *dst[k])))
            return rc;
    }
    return 0;
}

static size_t scratch(const pd__part_t *p)
{
    return p->n_in * sizeof(double);
}

static void transform(const pd__part_t *p, const double *x, size_t nrows, double *y, void *ws)
{
    const projection_t *P = p->state;
    size_t n = p->n_in, no = p->n_out;
    double *xc = ws;
    for (size_t r = 0; r < nrows; r++) {
        const double *row = x + r * n;
        if (P->mean) {
            for (size_t j = 0; j < n; j++)
                xc[j] = row[j] - P->mean[j];
            row = xc;
        }
        for (size_t i = 0; i < no; i++) {
            const double *w = P->components + i * n;
            double s = 0.0;
            for (size_t j = 0; j < n; j++)
                s += row[j] * w[j];
            y[r * no + i] = P->scale ? s / P->scale[i] : s;
        }
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const projection_t *P = p->state;
    return snprintf(buf, n, "%zu -> %zu%s%s", p->n_in, p->n_out, P->mean ? ", centred" : "",
                    P->scale ? ", whitened" : "");
}

const pd__part_ops_t pd__projection_ops = {
    .type = "projection",
    .flags = PD__PART_TRANSFORM,
    .state_size = sizeof(projection_t),
    .load = load,
    .scratch = scratch,
    .transform = transform,
    .describe = describe,
};
