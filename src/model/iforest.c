/* iforest.c - the "isolation_forest" model type (IsolationForest): a composite over one
 * "tree_ensemble" part (its `forest`: regression trees summed from 0 in tree order, whose
 * leaves hold scikit-learn's per-tree path length, depth + c(n_node_samples) - 1, with the
 * trees' features already mapped to input columns). Then, as scikit-learn 1.2 computes it:
 * score_samples = -2^(-(sum / denominator)) (denominator = n_trees * c(max_samples_);
 * 0 means a score of -0.5), decision_function = score_samples - offset, and the label is
 * -1 when decision_function < 0, else 1 (classes [-1, 1]). No probabilities.
 * Scratch: the sub-part's, then one sum per row of a block. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "model/model_impl.h"

typedef struct {
    pd__part_t forest; /* a tree_ensemble, regression */
    double denominator, offset;
} iforest_t;

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *p)
{
    iforest_t *F = p->state;
    json_t *f, *v;
    char q[PD__PATH_MAX];
    int rc;
    if (p->task != PD_TASK_CLASSIFICATION || p->n_classes != 2)
        return pd__jfail(c, path, "an isolation forest labels rows -1 or 1: the model must be "
                                  "a classification with classes [-1, 1]");
    if ((rc = pd__jget(c, st, path, "forest", PD__J_OBJ, 1, &f, q)))
        return rc;
    const char *ft = pd__jstr(c, f, q, "type", 1, NULL, &rc);
    if (rc)
        return rc;
    if (strcmp(ft, "tree_ensemble") != 0) {
        pd__jpath(q, sizeof q, path, ".forest.type");
        return pd__jfail(c, q, "expected \"tree_ensemble\", not \"%.64s\"", ft);
    }
    if ((rc = pd__part_load(c, m, f, q, p->n_in, 0, PD_TASK_REGRESSION, 0, &F->forest)))
        return rc;
    if ((rc = pd__jget(c, st, path, "denominator", PD__J_NUM, 1, &v, q)) ||
        (rc = pd__jnum(c, v, q, &F->denominator)) ||
        (rc = pd__jget(c, st, path, "offset", PD__J_NUM, 1, &v, q)) ||
        (rc = pd__jnum(c, v, q, &F->offset)))
        return rc;
    if ((rc = pd__part_add_output(p, "score_samples", 1,
                                  "opposite of the anomaly score: lower is more abnormal")))
        return rc;
    return pd__part_add_output(p, "decision_function", 1,
                               "score_samples - offset_: negative for outliers");
}

static size_t scratch(const pd__part_t *p)
{
    const iforest_t *F = p->state;
    return pd__part_scratch(&F->forest) + PD_MODEL_BLOCK_ROWS * sizeof(double);
}

static void predict(const pd__part_t *p, const double *x, size_t nrows, void *ws,
                    const pd__out_t *out)
{
    const iforest_t *F = p->state;
    double *sums = (double *)(void *)((char *)ws + pd__part_scratch(&F->forest));
    pd__out_t o = {.val = sums};
    F->forest.ops->predict(&F->forest, x, nrows, ws, &o);
    for (size_t r = 0; r < nrows; r++) {
        double ratio = F->denominator != 0.0 ? sums[r] / F->denominator : 1.0;
        double score = -pow(2.0, -ratio), dec = score - F->offset;
        if (out->cls)
            out->cls[r] = !(dec < 0.0);
        if (out->extra[0])
            out->extra[0][r] = score;
        if (out->extra[1])
            out->extra[1][r] = dec;
    }
}

static void stats(const pd__part_t *p, pd_model_stats_t *st)
{
    const iforest_t *F = p->state;
    if (F->forest.ops && F->forest.ops->stats)
        F->forest.ops->stats(&F->forest, st);
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    const iforest_t *F = p->state;
    int k = snprintf(buf, n, "offset %g, ", F->offset);
    size_t at = k > 0 && (size_t)k < n ? (size_t)k : n ? n - 1 : 0;
    int j = F->forest.ops->describe(&F->forest, buf + at, n - at);
    return k + (j > 0 ? j : 0);
}

static void free_part(pd__part_t *p)
{
    iforest_t *F = p->state;
    if (F)
        pd__part_free(&F->forest);
}

const pd__part_ops_t pd__iforest_ops = {
    .type = "isolation_forest",
    .state_size = sizeof(iforest_t),
    .load = load,
    .scratch = scratch,
    .predict = predict,
    .stats = stats,
    .describe = describe,
    .free = free_part,
};
