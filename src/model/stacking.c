/* stacking.c - two composites that feed one estimator from another:
 * - "stacking" (StackingClassifier / StackingRegressor): the members' outputs side by side
 *   (each member's predict_proba, decision_function or predict, as stack_method_ says; a
 *   binary predict_proba keeps its second column only), then the input columns when
 *   `passthrough`, are the rows of the final estimator, whose labels, probabilities and
 *   named outputs are the model's;
 * - "transformed_target" (TransformedTargetRegressor): the regressor's value through the
 *   target transformer's inverse: y * scale + mean (StandardScaler), (y - min) / scale
 *   (MinMaxScaler), or exp, expm1, log, log1p, sqrt, square (inverse_func). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/member.h"

typedef enum { S_PROBA, S_DECISION, S_PREDICT } smethod_t;

typedef struct {
    size_t n;
    pd__member_t *members;
    smethod_t *method;  /* per member */
    size_t *cols;       /* per member: meta columns it writes */
    int passthrough;
    size_t n_meta, width; /* final estimator's columns; widest member output */
    pd__part_t final;
} stacking_t;

static int load_methods(pd__jctx_t *c, const json_t *st, const char *path,
                        const pd__part_t *p, stacking_t *S)
{
    static const char *const names[] = {"predict_proba", "decision_function", "predict"};
    const json_t *a = json_object_get(st, "members");
    char q[PD__PATH_MAX];
    int rc, k;
    for (size_t i = 0; i < S->n; i++) {
        const pd__member_t *mb = &S->members[i];
        pd__jpath(q, sizeof q, path, ".members[%zu]", i);
        const char *ms = pd__jstr(c, json_array_get(a, i), q, "method", 1, NULL, &rc);
        pd__jpath(q, sizeof q, path, ".members[%zu].method", i);
        if (rc || (rc = pd__jenum(c, ms, q, names, 3, &k)))
            return rc;
        S->method[i] = (smethod_t)k;
        int cls = p->task == PD_TASK_CLASSIFICATION;
        if ((k == S_PROBA && (!cls || !mb->part.has_proba)) ||
            (k == S_DECISION && pd__member_output(mb, "decision_function") < 0))
            return pd__jfail(c, q, "the member (\"%s\") has no %s", mb->part.ops->type, ms);
        size_t w = k == S_PREDICT ? 1 : k == S_PROBA ? mb->part.n_classes
                   : mb->part.outputs[pd__member_output(mb, "decision_function")].width;
        S->width = PD_MAX(S->width, w);
        S->cols[i] = k == S_PROBA && p->n_classes == 2 ? w - 1 : w;
        S->n_meta += S->cols[i];
    }
    return 0;
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    stacking_t *S = p->state;
    json_t *f;
    char q[PD__PATH_MAX];
    int rc;
    if ((rc = pd__members_load(c, m, st, path, "members", p, p->task, &S->members, &S->n)))
        return rc;
    S->method = pd__model_calloc(m, S->n, sizeof *S->method);
    S->cols = pd__model_calloc(m, S->n, sizeof *S->cols);
    if (!S->method || !S->cols)
        return PD_ENOMEM;
    if ((rc = load_methods(c, st, path, p, S)))
        return rc;
    const json_t *pt = json_object_get(st, "passthrough");
    if (pt && !json_is_boolean(pt)) {
        pd__jpath(q, sizeof q, path, ".passthrough");
        return pd__jfail(c, q, "expected true or false");
    }
    S->passthrough = pt && json_is_true(pt);
    if (S->passthrough)
        S->n_meta += p->n_in;
    if ((rc = pd__jget(c, st, path, "final", PD__J_OBJ, 1, &f, q)) ||
        (rc = pd__part_load(c, m, f, q, S->n_meta, 0, p->task, p->n_classes, &S->final)))
        return rc;
    p->has_proba = S->final.has_proba;
    p->n_outputs = S->final.n_outputs;
    memcpy(p->outputs, S->final.outputs, sizeof p->outputs);
    return 0;
}

static size_t scratch(const pd__part_t *p)
{
    const stacking_t *S = p->state;
    size_t ms = pd__part_scratch(&S->final);
    for (size_t i = 0; i < S->n; i++)
        ms = PD_MAX(ms, pd__member_scratch(&S->members[i]));
    return PD_MODEL_BLOCK_ROWS * (S->n_meta + S->width + 1) * sizeof(double) + ms;
}

/* Writes member i's meta columns of n rows at column `at` of meta (n_meta wide). */
static void member_columns(const stacking_t *S, const pd__part_t *p, size_t i, const double *x,
                           size_t n, double *meta, size_t at, double *buf, void *ws)
{
    const pd__member_t *mb = &S->members[i];
    int32_t *cls = (int32_t *)(void *)buf;
    pd__out_t o = {0};
    size_t w = S->method[i] == S_PREDICT ? 1 : S->cols[i], skip = 0;
    if (S->method[i] == S_PROBA) {
        o.proba = buf;
        w = mb->part.n_classes;
        skip = w - S->cols[i];
    } else if (S->method[i] == S_DECISION) {
        o.extra[pd__member_output(mb, "decision_function")] = buf;
    } else if (p->task == PD_TASK_CLASSIFICATION) {
        o.cls = cls;
    } else {
        o.val = buf;
    }
    pd__member_predict(mb, x, p->n_in, n, ws, &o);
    for (size_t r = 0; r < n; r++) {
        double *dst = meta + r * S->n_meta + at;
        if (o.cls)
            dst[0] = (double)mb->class_map[cls[r]];
        else
            memcpy(dst, buf + r * w + skip, S->cols[i] * sizeof *dst);
    }
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const stacking_t *S = p->state;
    double *meta = ws, *buf = meta + PD_MODEL_BLOCK_ROWS * S->n_meta;
    void *mws = buf + PD_MODEL_BLOCK_ROWS * (S->width + 1);
    size_t at = 0;
    for (size_t i = 0; i < S->n; i++) {
        member_columns(S, p, i, x, nrows, meta, at, buf, mws);
        at += S->cols[i];
    }
    if (S->passthrough)
        for (size_t r = 0; r < nrows; r++)
            memcpy(meta + r * S->n_meta + at, x + r * p->n_in, p->n_in * sizeof *x);
    S->final.ops->predict(&S->final, meta, nrows, mws, out);
}

static void stats(const pd__part_t *p, pd_model_stats_t *st)
{
    const stacking_t *S = p->state;
    pd__members_stats(S->members, S->n, st);
    if (S->final.ops && S->final.ops->stats)
        S->final.ops->stats(&S->final, st);
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const stacking_t *S = p->state;
    return snprintf(buf, n, "%zu members -> %zu columns%s -> %s", S->n, S->n_meta,
                    S->passthrough ? " (with passthrough)" : "", S->final.ops->type);
}

static void free_part(pd__part_t *p)
{
    stacking_t *S = p->state;
    if (!S)
        return;
    pd__members_free(S->members, S->n);
    pd__part_free(&S->final);
}

const pd__part_ops_t pd__stacking_ops = {
    .type = "stacking",
    .state_size = sizeof(stacking_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .stats = stats,
    .describe = describe,
    .free = free_part,
};

/* ---- transformed_target ------------------------------------------------------------- */

typedef enum { I_IDENTITY, I_STANDARD, I_MINMAX, I_EXP, I_EXPM1, I_LOG, I_LOG1P, I_SQRT,
               I_SQUARE, N_INVERSE } inverse_t;
static const char *const inverse_names[N_INVERSE] = {"identity", "standard", "minmax", "exp",
                                                     "expm1", "log", "log1p", "sqrt", "square"};

typedef struct {
    pd__part_t reg;
    inverse_t inv;
    double a, b; /* standard: y * a + b (scale_, mean_); minmax: (y - a) / b (min_, scale_) */
    int has_a, has_b;
} target_t;

static int tt_load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                   pd__part_t *p)
{
    target_t *T = p->state;
    json_t *r, *v;
    char q[PD__PATH_MAX];
    int rc, k;
    if (p->task != PD_TASK_REGRESSION)
        return pd__jfail(c, path, "transformed_target needs a regression model");
    const char *is = pd__jstr(c, st, path, "inverse", 1, NULL, &rc);
    pd__jpath(q, sizeof q, path, ".inverse");
    if (rc || (rc = pd__jenum(c, is, q, inverse_names, N_INVERSE, &k)))
        return rc;
    T->inv = (inverse_t)k;
    const char *ka = k == I_STANDARD ? "scale" : "min", *kb = k == I_STANDARD ? "mean" : "scale";
    if (k == I_STANDARD || k == I_MINMAX) {
        if ((rc = pd__jget(c, st, path, ka, PD__J_NUM, k == I_MINMAX, &v, q)) ||
            (v && (rc = pd__jnum(c, v, q, &T->a))))
            return rc;
        T->has_a = v != NULL;
        if ((rc = pd__jget(c, st, path, kb, PD__J_NUM, k == I_MINMAX, &v, q)) ||
            (v && (rc = pd__jnum(c, v, q, &T->b))))
            return rc;
        T->has_b = v != NULL;
    }
    if ((rc = pd__jget(c, st, path, "regressor", PD__J_OBJ, 1, &r, q)))
        return rc;
    return pd__part_load(c, m, r, q, p->n_in, 0, PD_TASK_REGRESSION, 0, &T->reg);
}

static size_t tt_scratch(const pd__part_t *p)
{
    const target_t *T = p->state;
    return pd__part_scratch(&T->reg) + PD_MODEL_BLOCK_ROWS * sizeof(double);
}

static double inverse(const target_t *T, double y)
{
    switch (T->inv) {
    case I_STANDARD:
        if (T->has_a)
            y *= T->a;
        return T->has_b ? y + T->b : y;
    case I_MINMAX: return (y - T->a) / T->b;
    case I_EXP: return exp(y);
    case I_EXPM1: return expm1(y);
    case I_LOG: return log(y);
    case I_LOG1P: return log1p(y);
    case I_SQRT: return sqrt(y);
    case I_SQUARE: return y * y;
    default: return y;
    }
}

static void tt_predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                       const pd__out_t *out)
{
    const target_t *T = p->state;
    double *v = (double *)(void *)((char *)ws + pd__part_scratch(&T->reg));
    pd__out_t o = {.val = v};
    T->reg.ops->predict(&T->reg, x, nrows, ws, &o);
    for (size_t r = 0; out->val && r < nrows; r++)
        out->val[r] = inverse(T, v[r]);
}

static void tt_stats(const pd__part_t *p, pd_model_stats_t *st)
{
    const target_t *T = p->state;
    if (T->reg.ops && T->reg.ops->stats)
        T->reg.ops->stats(&T->reg, st);
}

static int tt_describe(const pd__part_t *p, char *buf, size_t n)
{
    const target_t *T = p->state;
    return snprintf(buf, n, "%s, inverse %s", T->reg.ops->type, inverse_names[T->inv]);
}

static void tt_free(pd__part_t *p)
{
    target_t *T = p->state;
    if (T)
        pd__part_free(&T->reg);
}

const pd__part_ops_t pd__target_ops = {
    .type = "transformed_target",
    .state_size = sizeof(target_t),
    .load = tt_load,
    .scratch = tt_scratch,
    .predict = tt_predict,
    .stats = tt_stats,
    .describe = tt_describe,
    .free = tt_free,
};
