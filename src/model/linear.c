/* linear.c - the "linear" model type: z = coef . x + intercept summed in float64 in feature
 * order, then the link (identity, logistic, softmax, one-vs-rest). Scratch: n_rows scores.
 * No allocation when predicting. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef enum { LINK_IDENTITY = 0, LINK_LOGISTIC = 1, LINK_SOFTMAX = 2, LINK_OVR = 3 } link_t;

typedef struct {
    size_t n_rows;     /* 1 or n_classes */
    double *coef;      /* n_rows * n_in, row-major */
    double *intercept; /* n_rows */
    link_t link;
} linear_t;

static const char *const links[] = {"identity", "logistic", "softmax", "ovr"};

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                pd__part_t *p)
{
    linear_t *L = p->state;
    int rc, li;
    char pl[PD__PATH_MAX], pc[PD__PATH_MAX], pi[PD__PATH_MAX], q[PD__PATH_MAX];
    const char *ls = pd__jstr(c, step, path, "link", 1, NULL, &rc);
    pd__jpath(pl, sizeof pl, path, ".link");
    if (rc || (rc = pd__jenum(c, ls, pl, links, PD_ARRAY_SIZE(links), &li)))
        return rc;
    L->link = (link_t)li;
    int cls = p->task == PD_TASK_CLASSIFICATION;
    if (cls != (li != LINK_IDENTITY) || (li == LINK_LOGISTIC && p->n_classes != 2))
        return pd__jfail(c, pl, "link \"%s\" does not fit a %s model with %zu classes", ls,
                         cls ? "classification" : "regression", p->n_classes);
    p->has_proba = cls;
    L->n_rows = li <= LINK_LOGISTIC ? 1 : p->n_classes;
    size_t nf = p->n_in, nr;
    json_t *coef, *icpt;
    if ((rc = pd__jget(c, step, path, "coef", PD__J_ARR, 1, &coef, pc)) ||
        (rc = pd__jget(c, step, path, "intercept", PD__J_ARR, 1, &icpt, pi)) ||
        (rc = pd__jlen(c, coef, pc, L->n_rows, L->n_rows, &nr)))
        return rc;
    L->coef = pd__model_calloc(m, L->n_rows * nf, sizeof(double));
    L->intercept = pd__model_calloc(m, L->n_rows, sizeof(double));
    if (!L->coef || !L->intercept)
        return PD_ENOMEM;
    for (size_t k = 0; k < L->n_rows; k++) {
        pd__jpath(q, sizeof q, pc, "[%zu]", k);
        if ((rc = pd__jdoubles(c, json_array_get(coef, k), q, nf, L->coef + k * nf)))
            return rc;
    }
    m->n_params += L->n_rows * (nf + 1);
    return pd__jdoubles(c, icpt, pi, L->n_rows, L->intercept);
}

static size_t scratch(const pd__part_t *p)
{
    return ((const linear_t *)p->state)->n_rows * sizeof(double);
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const linear_t *L = p->state;
    size_t nf = p->n_in, nc = p->n_classes;
    int32_t *cls = out->cls;
    double *z = ws, *val = out->val, *proba = out->proba;
    for (size_t r = 0; r < nrows; r++) {
        const double *row = x + r * nf;
        for (size_t k = 0; k < L->n_rows; k++) {
            const double *w = L->coef + k * nf;
            double s = 0.0;
            for (size_t j = 0; j < nf; j++)
                s += w[j] * row[j];
            z[k] = s + L->intercept[k];
        }
        if (L->link == LINK_IDENTITY) {
            if (val)
                val[r] = z[0];
            continue;
        }
        if (L->link == LINK_LOGISTIC) {
            double q = pd__sigmoid(z[0]);
            if (proba)
                proba[r * 2] = 1.0 - q, proba[r * 2 + 1] = q;
            if (cls)
                cls[r] = z[0] > 0.0;
            continue;
        }
        if (cls)
            cls[r] = pd__argmax(z, L->n_rows);
        if (!proba)
            continue;
        double *pr = proba + r * nc;
        if (L->link == LINK_SOFTMAX) {
            memcpy(pr, z, nc * sizeof *z);
            pd__softmax(pr, nc);
        } else { /* ovr */
            double sum = 0.0;
            for (size_t k = 0; k < nc; k++)
                sum += (pr[k] = pd__sigmoid(z[k]));
            for (size_t k = 0; k < nc; k++)
                pr[k] /= sum;
        }
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const linear_t *L = p->state;
    return snprintf(buf, n, "%s link, %zu x %zu coefficients", links[L->link], L->n_rows,
                    p->n_in);
}

const pd__part_ops_t pd__linear_ops = {
    .type = "linear",
    .state_size = sizeof(linear_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .describe = describe,
};
