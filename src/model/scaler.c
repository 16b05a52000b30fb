/* scaler.c - the four scaler types (standard_scaler, minmax_scaler, maxabs_scaler,
 * robust_scaler): column-wise affine transforms in float64, n_out = n_in, NaN passes
 * through as NaN; each type reads its own field names, all share one state and kernel.
 * Also "binarizer" (sklearn's Binarizer and BernoulliNB's binarize): x > threshold ? 1 : 0,
 * so NaN becomes 0 as in scikit-learn (it does not take missing values). */
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef enum {
    SC_STANDARD = 1, /* (x - a) / b, a and b optional */
    SC_MINMAX = 2,   /* x * a + b */
    SC_MAXABS = 3,   /* x / b */
    SC_BINARIZE = 4, /* x > threshold */
} sc_kind_t;

typedef struct {
    sc_kind_t kind;
    double *a; /* n_in entries, or NULL (standard: no centering) */
    double *b; /* n_in entries, or NULL (standard: no scaling) */
    double threshold; /* binarizer */
} scaler_t;

/* An optional (or required) array of n numbers, into a new array. */
static int vec(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
               const char *key, int required, size_t n, double **out)
{
    json_t *v;
    char p[PD__PATH_MAX];
    int rc = pd__jget(c, step, path, key, PD__J_ARR, required, &v, p);
    if (rc || !v)
        return rc;
    if (!(*out = pd__model_calloc(m, n, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += n;
    return pd__jdoubles(c, v, p, n, *out);
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                pd__part_t *p)
{
    scaler_t *s = p->state;
    const char *t = p->ops->type;
    size_t n = p->n_in;
    int rc;
    p->n_out = n;
    if (strcmp(t, "minmax_scaler") == 0) {
        s->kind = SC_MINMAX;
        if ((rc = vec(c, m, step, path, "scale", 1, n, &s->a)))
            return rc;
        return vec(c, m, step, path, "min", 1, n, &s->b);
    }
    if (strcmp(t, "binarizer") == 0) {
        json_t *v;
        char q[PD__PATH_MAX];
        s->kind = SC_BINARIZE;
        if ((rc = pd__jget(c, step, path, "threshold", PD__J_NUM, 1, &v, q)))
            return rc;
        return pd__jnum(c, v, q, &s->threshold);
    }
    if (strcmp(t, "maxabs_scaler") == 0) {
        s->kind = SC_MAXABS;
        return vec(c, m, step, path, "scale", 1, n, &s->b);
    }
    s->kind = SC_STANDARD; /* standard and robust: same arithmetic, other names */
    if ((rc = vec(c, m, step, path, strcmp(t, "robust_scaler") ? "mean" : "center", 0, n,
                  &s->a)))
        return rc;
    return vec(c, m, step, path, "scale", 0, n, &s->b);
}

static void transform(const pd__part_t *p, const double *x, size_t nrows, double *y,
                      void *ws)
{
    (void)ws;
    const scaler_t *s = p->state;
    size_t nf = p->n_in;
    memcpy(y, x, nrows * nf * sizeof *y);
    for (size_t r = 0; r < nrows; r++) {
        double *row = y + r * nf;
        switch (s->kind) {
        case SC_STANDARD:
            if (s->a)
                for (size_t j = 0; j < nf; j++)
                    row[j] -= s->a[j];
            if (s->b)
                for (size_t j = 0; j < nf; j++)
                    row[j] /= s->b[j];
            break;
        case SC_MINMAX:
            for (size_t j = 0; j < nf; j++)
                row[j] = row[j] * s->a[j] + s->b[j];
            break;
        case SC_MAXABS:
            for (size_t j = 0; j < nf; j++)
                row[j] /= s->b[j];
            break;
        case SC_BINARIZE:
            for (size_t j = 0; j < nf; j++)
                row[j] = row[j] > s->threshold ? 1.0 : 0.0;
            break;
        }
    }
}

#define SCALER_OPS(name)                                                               \
    {                                                                                  \
        .type = name, .flags = PD__PART_TRANSFORM | PD__PART_NAN_OK,                   \
        .state_size = sizeof(scaler_t), .load = load, .transform = transform,          \
    }

const pd__part_ops_t pd__standard_scaler_ops = SCALER_OPS("standard_scaler");
const pd__part_ops_t pd__minmax_scaler_ops = SCALER_OPS("minmax_scaler");
const pd__part_ops_t pd__maxabs_scaler_ops = SCALER_OPS("maxabs_scaler");
const pd__part_ops_t pd__robust_scaler_ops = SCALER_OPS("robust_scaler");
const pd__part_ops_t pd__binarizer_ops = {
    .type = "binarizer", .flags = PD__PART_TRANSFORM, .state_size = sizeof(scaler_t),
    .load = load, .transform = transform,
};
