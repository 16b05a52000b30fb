/* gaussian.c - two Gaussian class-conditional types, as scikit-learn 1.2 computes them:
 * - "gaussian_nb" (GaussianNB): jll_i = log_prior_i + (c_i - 0.5 Σ_j (x_j - θ_ij)² / var_ij)
 *   with c_i = -0.5 Σ log(2π var_i) as the file gives it; proba = softmax(jll); label =
 *   first largest; jll is served as "predict_joint_log_proba";
 * - "qda" (QuadraticDiscriminantAnalysis): d_i = -0.5 (Σ_k ((x - mean_i) · W_i[:, k])² +
 *   u_i) + log_prior_i with W_i = rotations_i * scalings_i^-0.5 (n_in x r_i) and u_i = Σ log
 *   scalings_i; proba = exp(d - max d) / Σ; label = first largest; decision_function is
 *   d (binary: d_1 - d_0).
 * Scratch: per row the class scores and the centred row. No allocation when predicting. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef struct {
    int qda;
    double *mean;      /* n_classes x n_in: theta_ (NB) or means_ (QDA) */
    double *var;       /* NB: n_classes x n_in */
    double **w;        /* QDA: per class, n_in x rank[i] */
    size_t *rank;      /* QDA */
    double *c;         /* NB: c_i; QDA: u_i */
    double *log_prior; /* n_classes */
} gauss_t;

static int vec(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
               const char *key, size_t n, double **out)
{
    json_t *v;
    char q[PD__PATH_MAX];
    int rc;
    if ((rc = pd__jget(c, st, path, key, PD__J_ARR, 1, &v, q)))
        return rc;
    if (!(*out = pd__model_calloc(m, n, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += n;
    return pd__jdoubles(c, v, q, n, *out);
}

/* rows x cols numbers at st[key] (an array of rows), into out (allocated). */
static int mat(pd__jctx_t *c, pd_model_t *m, const json_t *a, const char *q, size_t rows,
               size_t cols, double **out)
{
    char qi[PD__PATH_MAX];
    size_t n;
    int rc;
    if ((rc = pd__jlen(c, a, q, rows, rows, &n)))
        return rc;
    if (rows * cols > PD_MODEL_MAX_ARRAY)
        return pd__jfail(c, q, "%zu x %zu numbers, over the %zu limit", rows, cols,
                         PD_MODEL_MAX_ARRAY);
    if (!(*out = pd__model_calloc(m, rows * cols, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += rows * cols;
    for (size_t i = 0; i < rows; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        if ((rc = pd__jdoubles(c, json_array_get(a, i), qi, cols, *out + i * cols)))
            return rc;
    }
    return 0;
}

/* QDA: per class a W matrix of n_in rows, its width (rank) read from the first row. */
static int load_w(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                  const pd__part_t *p, gauss_t *G)
{
    json_t *a, *wi;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n;
    int rc;
    if ((rc = pd__jget(c, st, path, "w", PD__J_ARR, 1, &a, q)) ||
        (rc = pd__jlen(c, a, q, p->n_classes, p->n_classes, &n)))
        return rc;
    G->w = pd__model_calloc(m, n, sizeof *G->w);
    G->rank = pd__model_calloc(m, n, sizeof *G->rank);
    if (!G->w || !G->rank)
        return PD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        wi = json_array_get(a, i);
        if ((rc = pd__jcheck(c, wi, qi, PD__J_ARR)))
            return rc;
        const json_t *r0 = json_array_get(wi, 0);
        G->rank[i] = json_is_array(r0) ? json_array_size(r0) : 0;
        if (G->rank[i] < 1 || G->rank[i] > p->n_in)
            return pd__jfail(c, qi, "expected %zu rows of 1..%zu numbers", p->n_in, p->n_in);
        if ((rc = mat(c, m, wi, qi, p->n_in, G->rank[i], &G->w[i])))
            return rc;
    }
    return 0;
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    gauss_t *G = p->state;
    json_t *a;
    char q[PD__PATH_MAX];
    int rc;
    size_t K = p->n_classes;
    G->qda = strcmp(p->ops->type, "qda") == 0;
    if (p->task != PD_TASK_CLASSIFICATION)
        return pd__jfail(c, path, "\"%s\" needs a classification model", p->ops->type);
    if ((rc = pd__jget(c, st, path, G->qda ? "means" : "theta", PD__J_ARR, 1, &a, q)) ||
        (rc = mat(c, m, a, q, K, p->n_in, &G->mean)) ||
        (rc = vec(c, m, st, path, G->qda ? "u" : "c", K, &G->c)) ||
        (rc = vec(c, m, st, path, "log_prior", K, &G->log_prior)))
        return rc;
    if (G->qda)
        rc = load_w(c, m, st, path, p, G);
    else if (!(rc = pd__jget(c, st, path, "var", PD__J_ARR, 1, &a, q)))
        rc = mat(c, m, a, q, K, p->n_in, &G->var);
    if (rc)
        return rc;
    p->has_proba = 1;
    if (G->qda)
        return pd__part_add_output(p, "decision_function", K == 2 ? 1 : K,
                                   "log posterior up to a constant (binary: d1 - d0)");
    return pd__part_add_output(p, "predict_joint_log_proba", K,
                               "joint log likelihood per class");
}

static size_t scratch(const pd__part_t *p)
{
    return (2 * p->n_classes + p->n_in) * sizeof(double);
}

/* Class scores of one row into d. xm: n_in scratch. */
static void scores(const pd__part_t *p, const double *x, double *d, double *xm)
{
    const gauss_t *G = p->state;
    size_t n = p->n_in;
    for (size_t i = 0; i < p->n_classes; i++) {
        const double *mu = G->mean + i * n;
        double s = 0.0;
        if (!G->qda) {
            const double *v = G->var + i * n;
            for (size_t j = 0; j < n; j++)
                s += (x[j] - mu[j]) * (x[j] - mu[j]) / v[j];
            d[i] = G->log_prior[i] + (G->c[i] - 0.5 * s);
            continue;
        }
        for (size_t j = 0; j < n; j++)
            xm[j] = x[j] - mu[j];
        for (size_t k = 0; k < G->rank[i]; k++) {
            double t = 0.0;
            for (size_t j = 0; j < n; j++)
                t += xm[j] * G->w[i][j * G->rank[i] + k];
            s += t * t;
        }
        d[i] = -0.5 * (s + G->c[i]) + G->log_prior[i];
    }
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const gauss_t *G = p->state;
    size_t K = p->n_classes;
    double *d = ws, *e = d + K, *xm = e + K;
    for (size_t r = 0; r < nrows; r++) {
        scores(p, x + r * p->n_in, d, xm);
        if (out->cls)
            out->cls[r] = pd__argmax(d, K);
        if (out->extra[0]) {
            if (G->qda && K == 2)
                out->extra[0][r] = d[1] - d[0];
            else
                memcpy(out->extra[0] + r * K, d, K * sizeof *d);
        }
        if (out->proba) {
            memcpy(e, d, K * sizeof *d);
            pd__softmax(e, K);
            memcpy(out->proba + r * K, e, K * sizeof *e);
        }
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    return snprintf(buf, n, "%zu classes x %zu features", p->n_classes, p->n_in);
}

const pd__part_ops_t pd__gaussian_nb_ops = {
    .type = "gaussian_nb",
    .state_size = sizeof(gauss_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .describe = describe,
};

const pd__part_ops_t pd__qda_ops = {
    .type = "qda",
    .state_size = sizeof(gauss_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .describe = describe,
};
