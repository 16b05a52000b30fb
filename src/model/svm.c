/* svm.c - the "svm" model type: libsvm's prediction as scikit-learn 1.2 calls it for SVC,
 * NuSVC (c_svc, nu_svc), OneClassSVM (one_class), SVR and NuSVR (epsilon_svr, nu_svr),
 * with the linear, poly, rbf and sigmoid kernels.
 *
 * Per row: the kernel value with every support vector (in file order; rbf sums squared
 * differences, the others use x . sv; poly raises with libsvm's powi), then
 * - classification: one decision value per class pair (i < j) from the two classes'
 *   coefficients, a vote each (dec > 0 votes i), the first class with most votes; the
 *   probabilities are libsvm's: Platt's sigmoid per pair clipped to [1e-7, 1 - 1e-7], then
 *   Wu, Lin and Weng's pairwise coupling (multiclass_probability), iterated as libsvm
 *   iterates it; decision_function is scikit-learn's (binary: -dec; "ovr": votes plus
 *   confidences squashed by x / (3 (|x| + 1)); "ovo": the pair values);
 * - one_class: dec = sum - rho, label +1 when dec > 0; score_samples = dec + offset;
 * - regression: the value dec.
 * Scratch: per row, kernel values, pair values and (classifiers) the coupling's matrices.
 * No allocation when predicting. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

/* Classes an SVM classifier may have: the coupling needs two k x k matrices of scratch. */
#define PD_SVM_MAX_CLASSES 128
#define PD_SVM_MAX_DEGREE 100 /* polynomial kernel degree */
#define PD_SVM_MIN_PROB 1e-7  /* libsvm's clip of the pairwise probabilities */

typedef enum { T_C_SVC, T_NU_SVC, T_ONE_CLASS, T_EPS_SVR, T_NU_SVR, N_TYPES } svm_type_t;
typedef enum { K_LINEAR, K_POLY, K_RBF, K_SIGMOID, N_KERNELS } kernel_t;

static const char *const type_names[N_TYPES] = {"c_svc", "nu_svc", "one_class", "epsilon_svr",
                                                "nu_svr"};
static const char *const kernel_names[N_KERNELS] = {"linear", "poly", "rbf", "sigmoid"};

typedef struct {
    svm_type_t type;
    kernel_t kernel;
    double gamma, coef0;
    int degree;
    size_t n_sv, k;    /* support vectors; classes (classification), else 1 */
    size_t n_pairs;    /* k (k - 1) / 2, or 1 */
    double *sv;        /* n_sv x n_in, row-major */
    double *coef;      /* (k - 1) x n_sv (regression, one_class: 1 x n_sv) */
    double *intercept; /* n_pairs: -rho */
    size_t *start;     /* k + 1: first support vector of each class, then n_sv */
    double *prob_a, *prob_b; /* n_pairs each, or NULL */
    int ovr;           /* decision_function_shape "ovr" */
    int break_ties;
    double offset;     /* one_class */
} svm_t;

static int is_classifier(svm_type_t t)
{
    return t == T_C_SVC || t == T_NU_SVC;
}

/* A matrix of `rows` arrays of `cols` numbers at obj[key], into a new array. */
static int load_matrix(pd__jctx_t *c, pd_model_t *m, const json_t *obj, const char *path,
                       const char *key, size_t rows, size_t cols, double **out)
{
    json_t *a;
    char p[PD__PATH_MAX], q[PD__PATH_MAX];
    size_t n;
    int rc;
    if ((rc = pd__jget(c, obj, path, key, PD__J_ARR, 1, &a, p)) ||
        (rc = pd__jlen(c, a, p, rows, rows, &n)))
        return rc;
    if (rows * cols > PD_MODEL_MAX_ARRAY)
        return pd__jfail(c, p, "%zu x %zu numbers, over the %zu limit", rows, cols,
                         PD_MODEL_MAX_ARRAY);
    if (!(*out = pd__model_calloc(m, rows * cols, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += rows * cols;
    for (size_t i = 0; i < rows; i++) {
        pd__jpath(q, sizeof q, p, "[%zu]", i);
        if ((rc = pd__jdoubles(c, json_array_get(a, i), q, cols, *out + i * cols)))
            return rc;
    }
    return 0;
}

/* An array of n numbers at obj[key] (optional when !required: *out stays NULL). */
static int load_vec(pd__jctx_t *c, pd_model_t *m, const json_t *obj, const char *path,
                    const char *key, int required, size_t n, double **out)
{
    json_t *a;
    char p[PD__PATH_MAX];
    int rc = pd__jget(c, obj, path, key, PD__J_ARR, required, &a, p);
    if (rc || !a)
        return rc;
    if (!(*out = pd__model_calloc(m, n, sizeof(double))))
        return PD_ENOMEM;
    m->n_params += n;
    return pd__jdoubles(c, a, p, n, *out);
}

/* A number at obj[key] into *out; when absent, dflt (or an error if required). */
static int load_num(pd__jctx_t *c, const json_t *obj, const char *path, const char *key,
                    int required, double dflt, double *out)
{
    json_t *v;
    char p[PD__PATH_MAX];
    int rc = pd__jget(c, obj, path, key, PD__J_NUM, required, &v, p);
    *out = dflt;
    return rc || !v ? rc : pd__jnum(c, v, p, out);
}

/* Kernel and its parameters. */
static int load_kernel(pd__jctx_t *c, const json_t *st, const char *path, svm_t *S)
{
    char p[PD__PATH_MAX];
    int rc, k;
    const char *ks = pd__jstr(c, st, path, "kernel", 1, NULL, &rc);
    pd__jpath(p, sizeof p, path, ".kernel");
    if (rc || (rc = pd__jenum(c, ks, p, kernel_names, N_KERNELS, &k)))
        return rc;
    S->kernel = (kernel_t)k;
    json_t *v;
    int64_t deg = 3;
    if ((rc = load_num(c, st, path, "gamma", S->kernel != K_LINEAR, 0.0, &S->gamma)) ||
        (rc = load_num(c, st, path, "coef0", 0, 0.0, &S->coef0)) ||
        (rc = pd__jget(c, st, path, "degree", PD__J_INT, S->kernel == K_POLY, &v, p)) ||
        (v && (rc = pd__jint(c, v, p, 0, PD_SVM_MAX_DEGREE, &deg))))
        return rc;
    S->degree = (int)deg;
    return 0;
}

/* Classification: n_support (classes and the start of each one's support vectors). */
static int load_classes(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                        pd__part_t *p, svm_t *S)
{
    json_t *ns;
    char q[PD__PATH_MAX];
    size_t k;
    int rc;
    if ((rc = pd__jget(c, st, path, "n_support", PD__J_ARR, 1, &ns, q)) ||
        (rc = pd__jlen(c, ns, q, p->n_classes, p->n_classes, &k)))
        return rc;
    if (k > PD_SVM_MAX_CLASSES)
        return pd__jfail(c, q, "%zu classes, over the SVM limit of %d", k,
                         PD_SVM_MAX_CLASSES);
    if (!(S->start = pd__model_calloc(m, k + 1, sizeof(size_t))))
        return PD_ENOMEM;
    for (size_t i = 0; i < k; i++) {
        int64_t n;
        char qi[PD__PATH_MAX];
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        if ((rc = pd__jint(c, json_array_get(ns, i), qi, 0, PD_MODEL_MAX_ARRAY, &n)))
            return rc;
        S->start[i + 1] = S->start[i] + (size_t)n;
    }
    if (S->start[k] < 1 || S->start[k] > PD_MODEL_MAX_ARRAY)
        return pd__jfail(c, q, "%zu support vectors in all (1..%zu)", S->start[k],
                         PD_MODEL_MAX_ARRAY);
    S->k = k;
    S->n_sv = S->start[k];
    S->n_pairs = k * (k - 1) / 2;
    return 0;
}

/* Number of support vectors of a regression / one-class model: len(support_vectors). */
static int count_sv(pd__jctx_t *c, const json_t *st, const char *path, svm_t *S)
{
    json_t *a;
    char q[PD__PATH_MAX];
    int rc;
    if ((rc = pd__jget(c, st, path, "support_vectors", PD__J_ARR, 1, &a, q)) ||
        (rc = pd__jlen(c, a, q, 1, PD_MODEL_MAX_ARRAY, &S->n_sv)))
        return rc;
    S->k = 1;
    S->n_pairs = 1;
    return 0;
}

/* decision_function_shape, break_ties, prob_a/prob_b, and the named outputs. */
static int load_classifier_options(pd__jctx_t *c, pd_model_t *m, const json_t *st,
                                   const char *path, pd__part_t *p, svm_t *S)
{
    static const char *const shapes[] = {"ovr", "ovo"};
    char q[PD__PATH_MAX];
    int rc, shape;
    const char *s = pd__jstr(c, st, path, "decision_function_shape", 0, "ovr", &rc);
    pd__jpath(q, sizeof q, path, ".decision_function_shape");
    if (rc || (rc = pd__jenum(c, s, q, shapes, 2, &shape)))
        return rc;
    S->ovr = shape == 0;
    const json_t *bt = json_object_get(st, "break_ties");
    if (bt && !json_is_boolean(bt)) {
        pd__jpath(q, sizeof q, path, ".break_ties");
        return pd__jfail(c, q, "expected true or false");
    }
    S->break_ties = bt && json_is_true(bt);
    if ((rc = load_vec(c, m, st, path, "prob_a", 0, S->n_pairs, &S->prob_a)) ||
        (rc = load_vec(c, m, st, path, "prob_b", S->prob_a != NULL, S->n_pairs, &S->prob_b)))
        return rc;
    if (S->prob_b && !S->prob_a)
        return pd__jfail(c, path, "prob_b without prob_a");
    p->has_proba = S->prob_a != NULL;
    size_t w = S->k == 2 ? 1 : S->ovr ? S->k : S->n_pairs;
    return pd__part_add_output(p, "decision_function", w,
                               S->ovr ? "decision_function (ovr: votes + squashed confidences)"
                                      : "decision_function (one value per pair of classes)");
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    svm_t *S = p->state;
    char q[PD__PATH_MAX];
    int rc, t;
    const char *ts = pd__jstr(c, st, path, "svm_type", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".svm_type");
    if (rc || (rc = pd__jenum(c, ts, q, type_names, N_TYPES, &t)))
        return rc;
    S->type = (svm_type_t)t;
    int cls = p->task == PD_TASK_CLASSIFICATION;
    if (cls != (t <= T_ONE_CLASS) || (t == T_ONE_CLASS && p->n_classes != 2))
        return pd__jfail(c, q, "\"%s\" does not fit a %s model with %zu classes", ts,
                         cls ? "classification" : "regression", p->n_classes);
    if ((rc = load_kernel(c, st, path, S)) ||
        (rc = is_classifier(S->type) ? load_classes(c, m, st, path, p, S)
                                     : count_sv(c, st, path, S)) ||
        (rc = load_matrix(c, m, st, path, "support_vectors", S->n_sv, p->n_in, &S->sv)) ||
        (rc = load_matrix(c, m, st, path, "dual_coef", is_classifier(S->type) ? S->k - 1 : 1,
                          S->n_sv, &S->coef)) ||
        (rc = load_vec(c, m, st, path, "intercept", 1, S->n_pairs, &S->intercept)))
        return rc;
    if (is_classifier(S->type))
        return load_classifier_options(c, m, st, path, p, S);
    if (S->type != T_ONE_CLASS)
        return 0;
    if ((rc = load_num(c, st, path, "offset", 1, 0.0, &S->offset)) ||
        (rc = pd__part_add_output(p, "decision_function", 1,
                                  "signed distance: positive for an inlier")))
        return rc;
    return pd__part_add_output(p, "score_samples", 1, "decision_function + offset_");
}

static size_t scratch(const pd__part_t *p)
{
    const svm_t *S = p->state;
    size_t n = S->n_sv + S->n_pairs + 2 * S->k;
    if (p->has_proba)
        n += 2 * S->k * S->k + 2 * S->k;
    return n * sizeof(double);
}

/* libsvm's powi: base^times by squaring. */
static double powi(double base, int times)
{
    double tmp = base, ret = 1.0;
    for (int t = times; t > 0; t /= 2) {
        if (t % 2 == 1)
            ret *= tmp;
        tmp = tmp * tmp;
    }
    return ret;
}

/* The sums kernel_values needs for PD_SVM_LANES consecutive support vectors v (each in
 * feature order, the value the one-at-a-time loop gives): rbf Σ (x - v)², else x . v. The
 * lanes' chains of additions overlap instead of waiting on one another. */
#define PD_SVM_LANES 4
static void sums4(int rbf, const double *x, const double *v, size_t n, double *out)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    const double *v1 = v + n, *v2 = v1 + n, *v3 = v2 + n;
    if (rbf)
        for (size_t j = 0; j < n; j++) {
            double d0 = x[j] - v[j], d1 = x[j] - v1[j], d2 = x[j] - v2[j], d3 = x[j] - v3[j];
            s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
        }
    else
        for (size_t j = 0; j < n; j++)
            s0 += x[j] * v[j], s1 += x[j] * v1[j], s2 += x[j] * v2[j], s3 += x[j] * v3[j];
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

/* A kernel value from its sum (rbf: squared distance; others: dot product). */
static double kernel_of(const svm_t *S, double sum)
{
    switch (S->kernel) {
    case K_RBF: return exp(-S->gamma * sum);
    case K_LINEAR: return sum;
    case K_POLY: return powi(S->gamma * sum + S->coef0, S->degree);
    default: return tanh(S->gamma * sum + S->coef0);
    }
}

/* Kernel values of row x (n features) with every support vector, into kv. */
static void kernel_values(const svm_t *S, const double *x, size_t n, double *kv)
{
    size_t i = 0;
    for (; i + PD_SVM_LANES <= S->n_sv; i += PD_SVM_LANES) {
        double s[PD_SVM_LANES];
        sums4(S->kernel == K_RBF, x, S->sv + i * n, n, s);
        for (size_t l = 0; l < PD_SVM_LANES; l++)
            kv[i + l] = kernel_of(S, s[l]);
    }
    for (; i < S->n_sv; i++) {
        const double *v = S->sv + i * n;
        double sum = 0.0;
        if (S->kernel == K_RBF)
            for (size_t j = 0; j < n; j++)
                sum += (x[j] - v[j]) * (x[j] - v[j]);
        else
            for (size_t j = 0; j < n; j++)
                sum += x[j] * v[j];
        kv[i] = kernel_of(S, sum);
    }
}

/* Classification: the pair values into dec, votes into vote; returns the voted class. */
static int32_t pair_values(const svm_t *S, const double *kv, double *dec, double *vote)
{
    size_t k = S->k, pi = 0;
    for (size_t i = 0; i < k; i++)
        vote[i] = 0.0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++, pi++) {
            const double *c1 = S->coef + (j - 1) * S->n_sv, *c2 = S->coef + i * S->n_sv;
            double sum = 0.0;
            for (size_t s = S->start[i]; s < S->start[i + 1]; s++)
                sum += c1[s] * kv[s];
            for (size_t s = S->start[j]; s < S->start[j + 1]; s++)
                sum += c2[s] * kv[s];
            dec[pi] = sum + S->intercept[pi]; /* sum - rho */
            vote[dec[pi] > 0.0 ? i : j] += 1.0;
        }
    return pd__argmax(vote, k);
}

/* scikit-learn's _ovr_decision_function(dec < 0, -dec, k) for one row. */
static void ovr_decision(const svm_t *S, const double *dec, double *conf, double *out)
{
    size_t k = S->k, pi = 0;
    for (size_t i = 0; i < k; i++)
        out[i] = 0.0, conf[i] = 0.0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++, pi++) {
            conf[i] -= -dec[pi];
            conf[j] += -dec[pi];
            out[dec[pi] < 0.0 ? j : i] += 1.0;
        }
    for (size_t i = 0; i < k; i++)
        out[i] += conf[i] / (3.0 * (fabs(conf[i]) + 1.0));
}

/* libsvm's sigmoid_predict. */
static double sigmoid_predict(double dec, double a, double b)
{
    double f = dec * a + b;
    return f >= 0 ? exp(-f) / (1.0 + exp(-f)) : 1.0 / (1.0 + exp(f));
}

/* libsvm's multiclass_probability (Wu, Lin and Weng's method 2): k classes, pairwise
 * probabilities r (k x k), result p; Q (k x k) and qp (k) are scratch. */
static void couple(size_t k, const double *r, double *p, double *Q, double *qp)
{
    size_t max_iter = k > 100 ? k : 100;
    double eps = 0.005 / (double)k, pqp;
    for (size_t t = 0; t < k; t++) {
        p[t] = 1.0 / (double)k;
        Q[t * k + t] = 0;
        for (size_t j = 0; j < t; j++) {
            Q[t * k + t] += r[j * k + t] * r[j * k + t];
            Q[t * k + j] = Q[j * k + t];
        }
        for (size_t j = t + 1; j < k; j++) {
            Q[t * k + t] += r[j * k + t] * r[j * k + t];
            Q[t * k + j] = -r[j * k + t] * r[t * k + j];
        }
    }
    for (size_t iter = 0; iter < max_iter; iter++) {
        pqp = 0;
        for (size_t t = 0; t < k; t++) {
            qp[t] = 0;
            for (size_t j = 0; j < k; j++)
                qp[t] += Q[t * k + j] * p[j];
            pqp += p[t] * qp[t];
        }
        double max_error = 0;
        for (size_t t = 0; t < k; t++) {
            double e = fabs(qp[t] - pqp);
            max_error = e > max_error ? e : max_error;
        }
        if (max_error < eps)
            break;
        for (size_t t = 0; t < k; t++) {
            double diff = (-qp[t] + pqp) / Q[t * k + t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * Q[t * k + t] + 2 * qp[t])) / (1 + diff) / (1 + diff);
            for (size_t j = 0; j < k; j++) {
                qp[j] = (qp[j] + diff * Q[t * k + j]) / (1 + diff);
                p[j] /= (1 + diff);
            }
        }
    }
}

/* Probabilities of one row from its pair values (libsvm's svm_predict_probability). */
static void class_proba(const svm_t *S, const double *dec, double *ws, double *out)
{
    size_t k = S->k, pi = 0;
    double *r = ws, *Q = r + k * k, *qp = Q + k * k;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++, pi++) {
            double v = sigmoid_predict(dec[pi], S->prob_a[pi], S->prob_b[pi]);
            v = fmin(fmax(v, PD_SVM_MIN_PROB), 1 - PD_SVM_MIN_PROB);
            r[i * k + j] = v;
            r[j * k + i] = 1 - v;
        }
    couple(k, r, out, Q, qp);
}

static void predict_classifier(const pd__part_t *p, const double *kv, double *dec,
                               double *ws, const pd__out_t *out, size_t r)
{
    const svm_t *S = p->state;
    size_t k = S->k;
    double *vote = ws, *conf = ws + k, *rest = ws + 2 * k;
    int32_t label = pair_values(S, kv, dec, vote);
    double *df = out->extra[0];
    int need_ovr = S->ovr && k > 2 && (df || (S->break_ties && out->cls));
    if (need_ovr) {
        ovr_decision(S, dec, conf, vote); /* votes no longer needed: reuse */
        if (S->break_ties)
            label = pd__argmax(vote, k);
    }
    if (out->cls)
        out->cls[r] = label;
    if (df) {
        if (k == 2)
            df[r] = -dec[0];
        else if (S->ovr)
            memcpy(df + r * k, vote, k * sizeof *vote);
        else
            memcpy(df + r * S->n_pairs, dec, S->n_pairs * sizeof *dec);
    }
    if (out->proba && p->has_proba)
        class_proba(S, dec, rest, out->proba + r * k);
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const svm_t *S = p->state;
    double *kv = ws, *dec = kv + S->n_sv, *rest = dec + S->n_pairs;
    for (size_t r = 0; r < nrows; r++) {
        kernel_values(S, x + r * p->n_in, p->n_in, kv);
        if (is_classifier(S->type)) {
            predict_classifier(p, kv, dec, rest, out, r);
            continue;
        }
        double sum = 0.0;
        for (size_t i = 0; i < S->n_sv; i++)
            sum += S->coef[i] * kv[i];
        double d = sum + S->intercept[0];
        if (S->type != T_ONE_CLASS) {
            if (out->val)
                out->val[r] = d;
            continue;
        }
        if (out->cls)
            out->cls[r] = d > 0.0; /* classes [-1, 1] */
        if (out->extra[0])
            out->extra[0][r] = d;
        if (out->extra[1])
            out->extra[1][r] = d + S->offset;
    }
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const svm_t *S = p->state;
    return snprintf(buf, n, "%s, %s kernel, %zu support vectors%s%s", type_names[S->type],
                    kernel_names[S->kernel], S->n_sv,
                    is_classifier(S->type) ? (S->ovr ? ", ovr" : ", ovo") : "",
                    p->has_proba ? ", probabilities" : "");
}

const pd__part_ops_t pd__svm_ops = {
    .type = "svm",
    .state_size = sizeof(svm_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .describe = describe,
};
