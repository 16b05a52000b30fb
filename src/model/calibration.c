/* calibration.c - the "calibrated" model type (CalibratedClassifierCV, sigmoid or isotonic):
 * the mean, over its calibrated classifiers (members), of each one's probabilities, as
 * scikit-learn 1.2's _CalibratedClassifier.predict_proba computes them: the base's
 * decision_function or predict_proba columns (binary: one column, for classes[1]), one
 * calibrator per column (sigmoid: 1 / (1 + exp(a t + b)); isotonic: t clipped to the
 * fitted range, then numpy.interp over the thresholds), binary [1 - p, p], else
 * normalised (a row of zeros becomes uniform); values in (1, 1 + 1e-5] become 1. The
 * label is the first class with the largest mean probability. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/member.h"

#define PD_CAL_MAX_THRESHOLDS 10000000 /* isotonic thresholds of one calibrator */
#define PD_CAL_OVERSHOOT 1e-5          /* scikit-learn's "minimally exceeds 1.0" */

typedef struct {
    int isotonic;
    double a, b;     /* sigmoid */
    size_t n;        /* isotonic: thresholds */
    double *x, *y;   /* isotonic: X_thresholds_, y_thresholds_ */
    double lo, hi;   /* isotonic: X_min_, X_max_ */
} calibrator_t;

typedef struct {
    size_t n;
    pd__member_t *members;
    calibrator_t **cal; /* per member: one calibrator per input column */
    size_t *n_cols;     /* per member: input columns (1 when binary) */
    int use_decision;   /* input: decision_function, else predict_proba */
    size_t width;       /* widest member input */
} calibrated_t;

static int load_calibrator(pd__jctx_t *c, pd_model_t *m, const json_t *j, const char *path,
                           calibrator_t *k)
{
    static const char *const methods[] = {"sigmoid", "isotonic"};
    char q[PD__PATH_MAX];
    json_t *v;
    int rc, mi;
    const char *ms = pd__jstr(c, j, path, "method", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".method");
    if (rc || (rc = pd__jenum(c, ms, q, methods, 2, &mi)))
        return rc;
    k->isotonic = mi == 1;
    if (!k->isotonic) {
        if ((rc = pd__jget(c, j, path, "a", PD__J_NUM, 1, &v, q)) ||
            (rc = pd__jnum(c, v, q, &k->a)) ||
            (rc = pd__jget(c, j, path, "b", PD__J_NUM, 1, &v, q)))
            return rc;
        return pd__jnum(c, v, q, &k->b);
    }
    if ((rc = pd__jget(c, j, path, "x", PD__J_ARR, 1, &v, q)) ||
        (rc = pd__jlen(c, v, q, 1, PD_CAL_MAX_THRESHOLDS, &k->n)))
        return rc;
    k->x = pd__model_calloc(m, k->n, sizeof(double));
    k->y = pd__model_calloc(m, k->n, sizeof(double));
    if (!k->x || !k->y)
        return PD_ENOMEM;
    m->n_params += 2 * k->n;
    if ((rc = pd__jdoubles(c, v, q, k->n, k->x)) ||
        (rc = pd__jget(c, j, path, "y", PD__J_ARR, 1, &v, q)) ||
        (rc = pd__jdoubles(c, v, q, k->n, k->y)))
        return rc;
    for (size_t i = 1; i < k->n; i++)
        if (!(k->x[i] > k->x[i - 1])) {
            pd__jpath(q, sizeof q, path, ".x[%zu]", i);
            return pd__jfail(c, q, "thresholds must increase");
        }
    if ((rc = pd__jget(c, j, path, "min", PD__J_NUM, 1, &v, q)) ||
        (rc = pd__jnum(c, v, q, &k->lo)) ||
        (rc = pd__jget(c, j, path, "max", PD__J_NUM, 1, &v, q)))
        return rc;
    return pd__jnum(c, v, q, &k->hi);
}

/* The calibrators of member i (its JSON at path) and its input columns. */
static int load_member_cal(pd__jctx_t *c, pd_model_t *m, const json_t *mj, const char *path,
                           const pd__part_t *p, calibrated_t *C, size_t i)
{
    const pd__member_t *mb = &C->members[i];
    json_t *a;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n;
    int rc;
    if (C->use_decision ? pd__member_output(mb, "decision_function") < 0 : !mb->part.has_proba)
        return pd__jfail(c, path, "the member (\"%s\") has no %s", mb->part.ops->type,
                         C->use_decision ? "decision_function" : "probabilities");
    C->n_cols[i] = p->n_classes == 2 ? 1 : mb->part.n_classes;
    if ((rc = pd__jget(c, mj, path, "calibrators", PD__J_ARR, 1, &a, q)) ||
        (rc = pd__jlen(c, a, q, C->n_cols[i], C->n_cols[i], &n)))
        return rc;
    if (!(C->cal[i] = pd__model_calloc(m, n, sizeof(calibrator_t))))
        return PD_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", k);
        if ((rc = pd__jcheck(c, json_array_get(a, k), qi, PD__J_OBJ)) ||
            (rc = load_calibrator(c, m, json_array_get(a, k), qi, &C->cal[i][k])))
            return rc;
    }
    C->width = PD_MAX(C->width, mb->part.n_classes);
    return 0;
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    static const char *const inputs[] = {"decision_function", "predict_proba"};
    calibrated_t *C = p->state;
    json_t *a;
    char q[PD__PATH_MAX];
    int rc, in;
    if (p->task != PD_TASK_CLASSIFICATION)
        return pd__jfail(c, path, "a calibrated classifier needs a classification model");
    const char *is = pd__jstr(c, st, path, "input", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".input");
    if (rc || (rc = pd__jenum(c, is, q, inputs, 2, &in)))
        return rc;
    C->use_decision = in == 0;
    if ((rc = pd__members_load(c, m, st, path, "members", p, p->task, &C->members, &C->n)))
        return rc;
    C->cal = pd__model_calloc(m, C->n, sizeof *C->cal);
    C->n_cols = pd__model_calloc(m, C->n, sizeof *C->n_cols);
    if (!C->cal || !C->n_cols)
        return PD_ENOMEM;
    C->width = p->n_classes;
    a = json_object_get(st, "members");
    for (size_t i = 0; i < C->n; i++) {
        pd__jpath(q, sizeof q, path, ".members[%zu]", i);
        if ((rc = load_member_cal(c, m, json_array_get(a, i), q, p, C, i)))
            return rc;
    }
    p->has_proba = 1;
    return 0;
}

static size_t scratch(const pd__part_t *p)
{
    const calibrated_t *C = p->state;
    size_t ms = 0;
    for (size_t i = 0; i < C->n; i++)
        ms = PD_MAX(ms, pd__member_scratch(&C->members[i]));
    return PD_MODEL_BLOCK_ROWS * (2 * p->n_classes + C->width) * sizeof(double) + ms;
}

/* numpy.interp(t, x, y) after clipping t to [lo, hi] (IsotonicRegression.predict). */
static double isotonic(const calibrator_t *k, double t)
{
    t = fmin(fmax(t, k->lo), k->hi);
    if (k->n == 1 || t <= k->x[0])
        return k->y[0];
    if (t >= k->x[k->n - 1])
        return k->y[k->n - 1];
    size_t lo = 0, hi = k->n - 1; /* x[lo] <= t < x[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->x[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (k->x[lo] == t)
        return k->y[lo];
    double slope = (k->y[lo + 1] - k->y[lo]) / (k->x[lo + 1] - k->x[lo]);
    return slope * (t - k->x[lo]) + k->y[lo];
}

static double calibrate(const calibrator_t *k, double t)
{
    return k->isotonic ? isotonic(k, t) : pd__sigmoid(-(k->a * t + k->b));
}

/* Adds member i's calibrated probabilities of n rows into acc. */
static void add_member(const pd__part_t *p, size_t i, const double *x, size_t n, double *acc,
                       double *buf, double *pr, void *ws)
{
    const calibrated_t *C = p->state;
    const pd__member_t *mb = &C->members[i];
    size_t K = p->n_classes, mk = mb->part.n_classes, nc = C->n_cols[i];
    pd__out_t o = {0};
    if (C->use_decision)
        o.extra[pd__member_output(mb, "decision_function")] = buf;
    else
        o.proba = buf;
    pd__member_predict(mb, x, p->n_in, n, ws, &o);
    for (size_t r = 0; r < n; r++) {
        const double *in = buf + r * (C->use_decision ? nc : mk);
        if (!C->use_decision && K == 2)
            in += 1; /* predict_proba[:, 1:] */
        memset(pr, 0, K * sizeof *pr);
        if (K == 2) {
            pr[1] = calibrate(&C->cal[i][0], in[0]);
            pr[0] = 1.0 - pr[1];
        } else {
            double den = 0.0;
            for (size_t k = 0; k < nc; k++)
                pr[mb->class_map[k]] = calibrate(&C->cal[i][k], in[k]);
            for (size_t k = 0; k < K; k++)
                den += pr[k];
            for (size_t k = 0; k < K; k++)
                pr[k] = den != 0.0 ? pr[k] / den : 1.0 / (double)K;
        }
        for (size_t k = 0; k < K; k++) {
            double v = pr[k] > 1.0 && pr[k] <= 1.0 + PD_CAL_OVERSHOOT ? 1.0 : pr[k];
            acc[r * K + k] += v;
        }
    }
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const calibrated_t *C = p->state;
    size_t K = p->n_classes;
    double *acc = ws, *pr = acc + PD_MODEL_BLOCK_ROWS * K, *buf = pr + PD_MODEL_BLOCK_ROWS * K;
    void *mws = buf + PD_MODEL_BLOCK_ROWS * C->width;
    memset(acc, 0, nrows * K * sizeof *acc);
    for (size_t i = 0; i < C->n; i++)
        add_member(p, i, x, nrows, acc, buf, pr, mws);
    for (size_t r = 0; r < nrows; r++) {
        double *a = acc + r * K;
        for (size_t k = 0; k < K; k++)
            a[k] /= (double)C->n;
        if (out->cls)
            out->cls[r] = pd__argmax(a, K);
        if (out->proba)
            memcpy(out->proba + r * K, a, K * sizeof *a);
    }
}

static void stats(const pd__part_t *p, pd_model_stats_t *st)
{
    const calibrated_t *C = p->state;
    pd__members_stats(C->members, C->n, st);
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const calibrated_t *C = p->state;
    return snprintf(buf, n, "%zu calibrated %s, %s of its %s", C->n,
                    C->members[0].part.ops->type, C->cal[0][0].isotonic ? "isotonic" : "sigmoid",
                    C->use_decision ? "decision_function" : "probabilities");
}

static void free_part(pd__part_t *p)
{
    calibrated_t *C = p->state;
    if (C)
        pd__members_free(C->members, C->n);
}

const pd__part_ops_t pd__calibrated_ops = {
    .type = "calibrated",
    .state_size = sizeof(calibrated_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .stats = stats,
    .describe = describe,
    .free = free_part,
};
