/* linear.c - the "linear" model type: z = coef . x + intercept summed in float64 in feature
 * order, then the link: regression identity or exp (GLMs with a log link); classification
 * logistic, softmax, one-vs-rest, modified_huber (SGD) or decision (no probabilities:
 * LinearSVC, Perceptron, RidgeClassifier, ...). Classifiers also offer z as the named
 * output "decision_function". Scratch: n_rows scores. No allocation when predicting. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef enum {
    LINK_IDENTITY = 0,
    LINK_LOGISTIC = 1,
    LINK_SOFTMAX = 2,
    LINK_OVR = 3,
    LINK_EXP = 4,
    LINK_DECISION = 5,
    LINK_MHUBER = 6,
    N_LINKS
} link_t;

typedef struct {
    size_t n_rows;     /* 1 or n_classes */
    double *coef;      /* n_rows * n_in, row-major */
    double *intercept; /* n_rows */
    link_t link;
    double proba_scale; /* logistic: p = sigmoid(proba_scale * z) */
} linear_t;

static const char *const links[N_LINKS] = {"identity", "logistic", "softmax", "ovr",
                                           "exp", "decision", "modified_huber"};

/* Regression links; the others are classification links. */
static int is_regression_link(int li)
{
    return li == LINK_IDENTITY || li == LINK_EXP;
}

/* "scores_output" (optional): the name z is served under, as the library names it. */
static int load_scores_output(pd__jctx_t *c, const json_t *step, const char *path,
                              pd__part_t *p)
{
    static const char *const names[] = {"decision_function", "predict_joint_log_proba"};
    static const char *const desc[] = {
        "decision_function: coef . x + intercept per class (binary: one column)",
        "joint log likelihood per class (naive Bayes)"};
    char q[PD__PATH_MAX];
    int rc, k = 0;
    const char *s = pd__jstr(c, step, path, "scores_output", 0, names[0], &rc);
    pd__jpath(q, sizeof q, path, ".scores_output");
    if (rc || (rc = pd__jenum(c, s, q, names, PD_ARRAY_SIZE(names), &k)))
        return rc;
    const linear_t *L = p->state;
    return pd__part_add_output(p, names[k], L->n_rows, desc[k]);
}

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
    if (cls == is_regression_link(li) || (li == LINK_LOGISTIC && p->n_classes != 2))
        return pd__jfail(c, pl, "link \"%s\" does not fit a %s model with %zu classes", ls,
                         cls ? "classification" : "regression", p->n_classes);
    p->has_proba = cls && li != LINK_DECISION;
    /* binary: one row of coefficients (z > 0 is classes[1]); else one per class */
    int binary_rows = li == LINK_LOGISTIC ||
                      ((li == LINK_DECISION || li == LINK_MHUBER) && p->n_classes == 2);
    L->n_rows = !cls || binary_rows ? 1 : p->n_classes;
    size_t nf = p->n_in, nr;
    json_t *coef, *icpt, *ps;
    if ((rc = pd__jget(c, step, path, "coef", PD__J_ARR, 1, &coef, pc)) ||
        (rc = pd__jget(c, step, path, "intercept", PD__J_ARR, 1, &icpt, pi)) ||
        (rc = pd__jlen(c, coef, pc, L->n_rows, L->n_rows, &nr)) ||
        (rc = pd__jget(c, step, path, "proba_scale", PD__J_NUM, 0, &ps, q)))
        return rc;
    L->proba_scale = 1.0;
    if (ps && ((rc = pd__jnum(c, ps, q, &L->proba_scale)) ||
               !(L->proba_scale > 0.0) || li != LINK_LOGISTIC))
        return rc ? rc : pd__jfail(c, q, "must be > 0, with the logistic link only");
    if (L->n_rows * nf > PD_MODEL_MAX_ARRAY)
        return pd__jfail(c, pc, "%zu x %zu coefficients, over the %zu limit", L->n_rows, nf,
                         PD_MODEL_MAX_ARRAY);
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
    if ((rc = pd__jdoubles(c, icpt, pi, L->n_rows, L->intercept)))
        return rc;
    return p->task == PD_TASK_CLASSIFICATION ? load_scores_output(c, step, path, p) : 0;
}

/* SGDClassifier(loss="modified_huber").predict_proba: (clip(z, -1, 1) + 1) / 2, binary
 * [1 - p, p], else normalised per row (a row of zeros becomes uniform). */
static void mhuber_proba(const double *z, size_t n_rows, size_t nc, double *pr)
{
    if (n_rows == 1) {
        double q = (fmin(fmax(z[0], -1.0), 1.0) + 1.0) / 2.0;
        pr[0] = 1.0 - q, pr[1] = q;
        return;
    }
    double sum = 0.0;
    for (size_t k = 0; k < nc; k++)
        sum += (pr[k] = (fmin(fmax(z[k], -1.0), 1.0) + 1.0) / 2.0);
    if (sum == 0.0) {
        for (size_t k = 0; k < nc; k++)
            pr[k] = 1.0;
        sum = (double)nc;
    }
    for (size_t k = 0; k < nc; k++)
        pr[k] /= sum;
}

/* Class probabilities of one row of scores z (not for LINK_DECISION). */
static void class_proba(const linear_t *L, const double *z, size_t nc, double *pr)
{
    if (L->link == LINK_LOGISTIC) {
        double q = pd__sigmoid(L->proba_scale == 1.0 ? z[0] : L->proba_scale * z[0]);
        pr[0] = 1.0 - q, pr[1] = q;
    } else if (L->link == LINK_SOFTMAX) {
        memcpy(pr, z, nc * sizeof *z);
        pd__softmax(pr, nc);
    } else if (L->link == LINK_OVR) {
        double sum = 0.0;
        for (size_t k = 0; k < nc; k++)
            sum += (pr[k] = pd__sigmoid(z[k]));
        for (size_t k = 0; k < nc; k++)
            pr[k] /= sum;
    } else {
        mhuber_proba(z, L->n_rows, nc, pr);
    }
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
        if (L->link == LINK_IDENTITY || L->link == LINK_EXP) {
            if (val)
                val[r] = L->link == LINK_EXP ? exp(z[0]) : z[0];
            continue;
        }
        if (out->extra[0])
            memcpy(out->extra[0] + r * L->n_rows, z, L->n_rows * sizeof *z);
        if (cls)
            cls[r] = L->n_rows == 1 ? z[0] > 0.0 : pd__argmax(z, L->n_rows);
        if (proba)
            class_proba(L, z, nc, proba + r * nc);
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
