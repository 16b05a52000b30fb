/* ensemble.c - composite model types over members (member.h), combining them as
 * scikit-learn 1.2 does:
 * - "voting": VotingClassifier soft (Σ w p / Σ w, label = first largest), hard (first class
 *   with the largest Σ w of the members voting for it; no probabilities), VotingRegressor
 *   (Σ w y / Σ w);
 * - "bagging": BaggingClassifier (Σ of the members' probabilities mapped to the bag's
 *   classes, or a vote for a member without them, / n; label = first largest),
 *   BaggingRegressor (Σ y / n);
 * - "adaboost": AdaBoostClassifier SAMME (Σ w one-hot) and SAMME.R (Σ (K-1)(log p - mean
 *   log p), p clipped to >= DBL_EPSILON), divided by Σ weights; binary decision = pred1 -
 *   pred0; proba = softmax(decision / (K-1)) (binary: [-d, d] / 2); AdaBoostRegressor's
 *   weighted median.
 * Members run one after the other over a block, accumulating in member order. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/member.h"

typedef enum { V_SOFT, V_HARD, BAG, ADA_SAMME, ADA_SAMME_R, ADA_MEDIAN, N_COMBINE } combine_t;
static const char *const combine_names[N_COMBINE] = {"soft", "hard", "bagging", "SAMME",
                                                     "SAMME.R", "median"};

typedef struct {
    combine_t how;
    size_t n;              /* members */
    pd__member_t *members;
    double weight_sum;     /* voting: Σ w; adaboost: the divisor (estimator_weights_.sum()) */
    size_t width;          /* per-row values a member writes (its classes, or 1) */
} ensemble_t;

static int check_combine(pd__jctx_t *c, const char *path, const pd__part_t *p,
                         combine_t how)
{
    int cls = p->task == PD_TASK_CLASSIFICATION;
    int ok = how == BAG || (cls ? how != ADA_MEDIAN : (how == V_SOFT || how == ADA_MEDIAN));
    if (!ok)
        return pd__jfail(c, path, "\"%s\" does not fit a %s model", combine_names[how],
                         cls ? "classification" : "regression");
    return 0;
}

/* Members of soft voting and SAMME.R need probabilities. */
static int check_members(pd__jctx_t *c, const char *path, const ensemble_t *E)
{
    for (size_t i = 0; i < E->n; i++) {
        const pd__part_t *mp = &E->members[i].part;
        if ((E->how == V_SOFT || E->how == ADA_SAMME_R) && mp->task ==
            PD_TASK_CLASSIFICATION && !mp->has_proba)
            return pd__jfail(c, path, "member %zu (\"%s\") has no probabilities, which \"%s\" "
                             "needs", i, mp->ops->type, combine_names[E->how]);
    }
    return 0;
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    ensemble_t *E = p->state;
    char q[PD__PATH_MAX];
    int rc, h;
    const char *hs = pd__jstr(c, st, path, "combine", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".combine");
    if (rc || (rc = pd__jenum(c, hs, q, combine_names, N_COMBINE, &h)) ||
        (rc = check_combine(c, q, p, (combine_t)h)))
        return rc;
    E->how = (combine_t)h;
    rc = pd__members_load(c, m, st, path, "members", p, p->task, &E->members, &E->n);
    if (rc || (rc = check_members(c, path, E)))
        return rc;
    E->width = p->task == PD_TASK_CLASSIFICATION ? p->n_classes : 1;
    E->weight_sum = 0.0;
    for (size_t i = 0; i < E->n; i++)
        E->weight_sum += E->members[i].weight;
    json_t *v;
    if ((rc = pd__jget(c, st, path, "weight_sum", PD__J_NUM, 0, &v, q)) ||
        (v && (rc = pd__jnum(c, v, q, &E->weight_sum))))
        return rc;
    p->has_proba = p->task == PD_TASK_CLASSIFICATION && E->how != V_HARD;
    if (E->how == ADA_SAMME || E->how == ADA_SAMME_R)
        return pd__part_add_output(p, "decision_function", p->n_classes == 2 ? 1 : p->n_classes,
                                   "AdaBoost's decision_function");
    return 0;
}

/* Scratch: accumulator, one member's outputs (values, proba, labels), member scratch;
 * the median keeps every member's value of a block and a sort order. */
static size_t scratch(const pd__part_t *p)
{
    const ensemble_t *E = p->state;
    size_t ms = 0;
    for (size_t i = 0; i < E->n; i++)
        ms = PD_MAX(ms, pd__member_scratch(&E->members[i]));
    size_t per_row = 3 * E->width + 2 + (E->how == ADA_MEDIAN ? 2 * E->n : 0);
    return PD_MODEL_BLOCK_ROWS * per_row * sizeof(double) + ms;
}

/* Adds member i's contribution for n rows into acc (n x width). */
static void accumulate(const pd__part_t *p, const pd__member_t *mb, const double *x,
                       size_t n, double *acc, double *tmp, int32_t *cls, void *ws)
{
    const ensemble_t *E = p->state;
    size_t K = E->width, mk = mb->part.n_classes;
    pd__out_t o = {0};
    int use_proba = E->how != V_HARD && E->how != ADA_SAMME && mb->part.has_proba;
    if (p->task == PD_TASK_REGRESSION)
        o.val = tmp;
    else if (use_proba)
        o.proba = tmp;
    else
        o.cls = cls;
    pd__member_predict(mb, x, p->n_in, n, ws, &o);
    for (size_t r = 0; r < n; r++) {
        double *a = acc + r * K;
        if (o.val) {
            a[0] += E->how == V_SOFT ? mb->weight * tmp[r] : tmp[r];
        } else if (!use_proba) {
            double w = E->how == BAG ? 1.0 : mb->weight;
            a[mb->class_map[cls[r]]] += w;
        } else if (E->how == ADA_SAMME_R) {
            const double *pr = tmp + r * mk;
            double s = 0.0;
            for (size_t k = 0; k < mk; k++)
                s += log(fmax(pr[k], DBL_EPSILON));
            for (size_t k = 0; k < mk; k++) {
                double l = log(fmax(pr[k], DBL_EPSILON));
                a[mb->class_map[k]] += ((double)K - 1.0) * (l - (1.0 / (double)K) * s);
            }
        } else {
            const double *pr = tmp + r * mk;
            double w = E->how == V_SOFT ? mb->weight : 1.0;
            for (size_t k = 0; k < mk; k++)
                a[mb->class_map[k]] += E->how == V_SOFT ? w * pr[k] : pr[k];
        }
    }
}

/* AdaBoostRegressor's weighted median of one row's member values v (n entries); ord is
 * scratch for n indexes (as doubles). Shell sort by value: members are few. */
static double weighted_median(const ensemble_t *E, const double *v, double *ord)
{
    size_t n = E->n;
    for (size_t i = 0; i < n; i++)
        ord[i] = (double)i;
    for (size_t gap = n / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < n; i++) {
            double t = ord[i];
            size_t j = i;
            while (j >= gap && v[(size_t)ord[j - gap]] > v[(size_t)t]) {
                ord[j] = ord[j - gap];
                j -= gap;
            }
            ord[j] = t;
        }
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += E->members[(size_t)ord[i]].weight;
    double cdf = 0.0;
    for (size_t i = 0; i < n; i++) {
        cdf += E->members[(size_t)ord[i]].weight;
        if (cdf >= 0.5 * total)
            return v[(size_t)ord[i]];
    }
    return v[(size_t)ord[n - 1]];
}

static void predict_median(const pd__part_t *p, const double *x, size_t nrows, double *buf,
                           void *ws, const pd__out_t *out)
{
    const ensemble_t *E = p->state;
    double *vals = buf, *row = buf + PD_MODEL_BLOCK_ROWS * E->n, *ord = row + E->n;
    for (size_t i = 0; i < E->n; i++) {
        pd__out_t o = {.val = vals + i * PD_MODEL_BLOCK_ROWS};
        pd__member_predict(&E->members[i], x, p->n_in, nrows, ws, &o);
    }
    for (size_t r = 0; r < nrows; r++) {
        for (size_t i = 0; i < E->n; i++)
            row[i] = vals[i * PD_MODEL_BLOCK_ROWS + r];
        if (out->val)
            out->val[r] = weighted_median(E, row, ord);
    }
}

/* Turns one row's accumulated a (K values) into outputs. */
static void finish_row(const pd__part_t *p, double *a, size_t r, const pd__out_t *out)
{
    const ensemble_t *E = p->state;
    size_t K = E->width;
    if (p->task == PD_TASK_REGRESSION) {
        if (out->val)
            out->val[r] = E->how == V_SOFT ? a[0] / E->weight_sum : a[0] / (double)E->n;
        return;
    }
    if (E->how == ADA_SAMME || E->how == ADA_SAMME_R) {
        for (size_t k = 0; k < K; k++)
            a[k] /= E->weight_sum;
        double d = K == 2 ? -a[0] + a[1] : 0.0;
        if (out->extra[0]) {
            if (K == 2)
                out->extra[0][r] = d;
            else
                memcpy(out->extra[0] + r * K, a, K * sizeof *a);
        }
        if (out->cls)
            out->cls[r] = K == 2 ? d > 0.0 : pd__argmax(a, K);
        if (K == 2)
            a[0] = -d / 2, a[1] = d / 2;
        else
            for (size_t k = 0; k < K; k++)
                a[k] /= (double)(K - 1);
        pd__softmax(a, K);
    } else if (E->how == V_SOFT || E->how == BAG) {
        double div = E->how == V_SOFT ? E->weight_sum : (double)E->n;
        for (size_t k = 0; k < K; k++)
            a[k] /= div;
        if (out->cls)
            out->cls[r] = pd__argmax(a, K);
    } else if (out->cls) {
        out->cls[r] = pd__argmax(a, K);
    }
    if (out->proba && p->has_proba)
        memcpy(out->proba + r * K, a, K * sizeof *a);
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const ensemble_t *E = p->state;
    size_t K = E->width, per_row = 3 * K + 2 + (E->how == ADA_MEDIAN ? 2 * E->n : 0);
    double *acc = ws, *tmp = acc + PD_MODEL_BLOCK_ROWS * K;
    int32_t *cls = (int32_t *)(void *)(tmp + PD_MODEL_BLOCK_ROWS * 2 * K);
    void *mws = (char *)ws + PD_MODEL_BLOCK_ROWS * per_row * sizeof(double);
    if (E->how == ADA_MEDIAN) {
        predict_median(p, x, nrows, acc, mws, out);
        return;
    }
    memset(acc, 0, nrows * K * sizeof *acc);
    for (size_t i = 0; i < E->n; i++)
        accumulate(p, &E->members[i], x, nrows, acc, tmp, cls, mws);
    for (size_t r = 0; r < nrows; r++)
        finish_row(p, acc + r * K, r, out);
}

static void stats(const pd__part_t *p, pd_model_stats_t *st)
{
    const ensemble_t *E = p->state;
    pd__members_stats(E->members, E->n, st);
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const ensemble_t *E = p->state;
    return snprintf(buf, n, "%s of %zu members (first: %s)", combine_names[E->how], E->n,
                    E->members[0].part.ops->type);
}

static void free_part(pd__part_t *p)
{
    ensemble_t *E = p->state;
    if (E)
        pd__members_free(E->members, E->n);
}

const pd__part_ops_t pd__ensemble_ops = {
    .type = "ensemble",
    .state_size = sizeof(ensemble_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .stats = stats,
    .describe = describe,
    .free = free_part,
};
