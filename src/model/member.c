/* member.c - members of composite types (member.h) and the "pipeline" type: a part that
 * is itself transformers then an estimator, so that a member may be a scikit-learn
 * Pipeline. Column subsets are gathered into the member's scratch before its part runs. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/member.h"

static int load_member(pd__jctx_t *c, pd_model_t *m, const json_t *mj, const char *path,
                       const pd__part_t *p, pd_task_t task, pd__member_t *mb)
{
    json_t *step, *v;
    char q[PD__PATH_MAX];
    int rc;
    size_t nc = 0;
    mb->n_cols = p->n_in;
    mb->weight = 1.0;
    if ((rc = pd__jcheck(c, mj, path, PD__J_OBJ)) ||
        (rc = pd__jget(c, mj, path, "features", PD__J_ARR, 0, &v, q)))
        return rc;
    if (v) {
        if ((rc = pd__jlen(c, v, q, 1, PD_MODEL_MAX_FEATURES, &mb->n_cols)))
            return rc;
        if (!(mb->cols = pd__model_calloc(m, mb->n_cols, sizeof(int32_t))))
            return PD_ENOMEM;
        if ((rc = pd__jints(c, v, q, mb->n_cols, 0, (int64_t)p->n_in - 1, mb->cols)))
            return rc;
    }
    if ((rc = pd__jget(c, mj, path, "classes", PD__J_ARR, 0, &v, q)))
        return rc;
    if (task == PD_TASK_CLASSIFICATION) {
        nc = p->n_classes;
        if (v && (rc = pd__jlen(c, v, q, 2, p->n_classes, &nc)))
            return rc;
    } else if (v) {
        return pd__jfail(c, q, "a regressor member has no classes");
    }
    if ((rc = pd__jget(c, mj, path, "step", PD__J_OBJ, 1, &step, q)) ||
        (rc = pd__part_load(c, m, step, q, mb->n_cols, 0, task, nc, &mb->part)))
        return rc;
    if (task == PD_TASK_CLASSIFICATION) {
        if (!(mb->class_map = pd__model_calloc(m, nc, sizeof(int32_t))))
            return PD_ENOMEM;
        for (size_t i = 0; i < nc; i++)
            mb->class_map[i] = (int32_t)i;
        pd__jpath(q, sizeof q, path, ".classes");
        if (v && (rc = pd__jints(c, v, q, nc, 0, (int64_t)p->n_classes - 1, mb->class_map)))
            return rc;
    }
    if ((rc = pd__jget(c, mj, path, "weight", PD__J_NUM, 0, &v, q)) ||
        (v && (rc = pd__jnum(c, v, q, &mb->weight))))
        return rc;
    return 0;
}

int pd__members_load(pd__jctx_t *c, pd_model_t *m, const json_t *step, const char *path,
                     const char *key, const pd__part_t *p, pd_task_t task,
                     pd__member_t **out, size_t *n)
{
    json_t *a;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t k;
    int rc;
    *n = 0;
    if ((rc = pd__jget(c, step, path, key, PD__J_ARR, 1, &a, q)) ||
        (rc = pd__jlen(c, a, q, 1, PD_MODEL_MAX_MEMBERS, &k)))
        return rc;
    if (!(*out = pd__model_calloc(m, k, sizeof **out)))
        return PD_ENOMEM;
    for (size_t i = 0; i < k; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        *n = i + 1;
        if ((rc = load_member(c, m, json_array_get(a, i), qi, p, task, &(*out)[i])))
            return rc;
    }
    return 0;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

size_t pd__member_scratch(const pd__member_t *mb)
{
    size_t s = pd__part_scratch(&mb->part);
    if (mb->cols)
        s += align8(PD_MODEL_BLOCK_ROWS * mb->n_cols * sizeof(double));
    return s;
}

void pd__member_predict(const pd__member_t *mb, const double *x, size_t n_in, size_t nrows,
                        void *ws, const pd__out_t *out)
{
    char *w = ws;
    if (mb->cols) {
        double *g = (double *)(void *)w;
        for (size_t r = 0; r < nrows; r++)
            for (size_t j = 0; j < mb->n_cols; j++)
                g[r * mb->n_cols + j] = x[r * n_in + (size_t)mb->cols[j]];
        x = g;
        w += align8(PD_MODEL_BLOCK_ROWS * mb->n_cols * sizeof(double));
    }
    mb->part.ops->predict(&mb->part, x, nrows, w, out);
}

int pd__member_output(const pd__member_t *mb, const char *name)
{
    for (size_t k = 0; k < mb->part.n_outputs; k++)
        if (strcmp(mb->part.outputs[k].name, name) == 0)
            return (int)k;
    return -1;
}

void pd__members_free(pd__member_t *mbs, size_t n)
{
    for (size_t i = 0; mbs && i < n; i++)
        pd__part_free(&mbs[i].part);
}

void pd__members_stats(const pd__member_t *mbs, size_t n, pd_model_stats_t *st)
{
    for (size_t i = 0; i < n; i++)
        if (mbs[i].part.ops && mbs[i].part.ops->stats)
            mbs[i].part.ops->stats(&mbs[i].part, st);
}

/* ---- the "pipeline" type ------------------------------------------------------------ */

typedef struct {
    size_t n_parts;
    pd__part_t *parts; /* transformers, then the estimator */
    size_t max_width;
} pipe_t;

static int pipe_load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                     pd__part_t *p)
{
    pipe_t *P = p->state;
    json_t *steps;
    char q[PD__PATH_MAX], qi[PD__PATH_MAX];
    size_t n, width = p->n_in;
    int rc;
    if ((rc = pd__jget(c, st, path, "steps", PD__J_ARR, 1, &steps, q)) ||
        (rc = pd__jlen(c, steps, q, 1, PD_MODEL_MAX_STEPS, &n)))
        return rc;
    if (!(P->parts = pd__model_calloc(m, n, sizeof *P->parts)))
        return PD_ENOMEM;
    P->max_width = width;
    for (size_t i = 0; i < n; i++) {
        pd__jpath(qi, sizeof qi, q, "[%zu]", i);
        P->n_parts = i + 1;
        if ((rc = pd__part_load(c, m, json_array_get(steps, i), qi, width, i + 1 < n, p->task,
                                p->n_classes, &P->parts[i])))
            return rc;
        if (i + 1 < n)
            width = P->parts[i].n_out;
        P->max_width = PD_MAX(P->max_width, width);
    }
    const pd__part_t *est = &P->parts[n - 1];
    p->has_proba = est->has_proba;
    p->n_outputs = est->n_outputs;
    memcpy(p->outputs, est->outputs, sizeof p->outputs);
    return 0;
}

static size_t pipe_scratch(const pd__part_t *p)
{
    const pipe_t *P = p->state;
    size_t s = 0;
    for (size_t i = 0; i < P->n_parts; i++)
        s = PD_MAX(s, pd__part_scratch(&P->parts[i]));
    return s + 2 * align8(PD_MODEL_BLOCK_ROWS * P->max_width * sizeof(double));
}

static void pipe_predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                         const pd__out_t *out)
{
    const pipe_t *P = p->state;
    size_t bb = align8(PD_MODEL_BLOCK_ROWS * P->max_width * sizeof(double));
    double *bufs[2] = {ws, (double *)(void *)((char *)ws + bb)};
    char *w = (char *)ws + 2 * bb;
    for (size_t i = 0; i + 1 < P->n_parts; i++) {
        P->parts[i].ops->transform(&P->parts[i], x, nrows, bufs[i & 1], w);
        x = bufs[i & 1];
    }
    const pd__part_t *est = &P->parts[P->n_parts - 1];
    est->ops->predict(est, x, nrows, w, out);
}

static void pipe_stats(const pd__part_t *p, pd_model_stats_t *st)
{
    const pipe_t *P = p->state;
    for (size_t i = 0; i < P->n_parts; i++)
        if (P->parts[i].ops && P->parts[i].ops->stats)
            P->parts[i].ops->stats(&P->parts[i], st);
}

static int pipe_describe(const pd__part_t *p, char *buf, size_t n)
{
    const pipe_t *P = p->state;
    size_t used = 0;
    for (size_t i = 0; i < P->n_parts; i++) {
        size_t at = PD_MIN(used, n ? n - 1 : 0);
        int k = snprintf(buf + at, n - at, "%s%s", i ? " > " : "", P->parts[i].ops->type);
        used += k > 0 ? (size_t)k : 0;
    }
    return (int)used;
}

static void pipe_free(pd__part_t *p)
{
    pipe_t *P = p->state;
    for (size_t i = 0; P && P->parts && i < P->n_parts; i++)
        pd__part_free(&P->parts[i]);
}

const pd__part_ops_t pd__pipeline_ops = {
    .type = "pipeline",
    .state_size = sizeof(pipe_t),
    .load = pipe_load,
    .scratch = pipe_scratch,
    .predict = pipe_predict,
    .stats = pipe_stats,
    .describe = pipe_describe,
    .free = pipe_free,
};
