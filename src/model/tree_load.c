/* tree_load.c - the "tree_ensemble" model type's step loader and its ops table. Two passes
 * over the trees: the first checks each tree's shape and counts nodes (so the node arrays
 * are allocated once, exactly), the second reads each tree's parallel arrays into
 * temporary buffers (freed before returning) and hands them to tree_build.c. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include <stdio.h>

#include "model/tree.h"

typedef struct {
    int32_t *feature, *left, *right, *miss32;
    uint8_t *miss;
    double *thr, *value;
} bufs_t;

static void bufs_free(bufs_t *b)
{
    free(b->feature), free(b->left), free(b->right), free(b->miss32);
    free(b->miss), free(b->thr), free(b->value);
}

static int bufs_alloc(bufs_t *b, size_t n, size_t width)
{
    b->feature = malloc(n * sizeof(int32_t));
    b->left = malloc(n * sizeof(int32_t));
    b->right = malloc(n * sizeof(int32_t));
    b->miss32 = malloc(n * sizeof(int32_t));
    b->miss = malloc(n);
    b->thr = malloc(n * sizeof(double));
    b->value = malloc(n * width * sizeof(double));
    return b->feature && b->left && b->right && b->miss32 && b->miss && b->thr && b->value
               ? 0
               : PD_ENOMEM;
}

static int read_tree(pd__jctx_t *c, const json_t *tj, const char *path, pd_model_t *m,
                     pd__part_t *part, bufs_t *b, size_t n, int cmp_le)
{
    pd__trees_t *t = part->state;
    json_t *v;
    char p[PD__PATH_MAX];
    int rc;
    pd__tree_in_t in = {path, "feature", "left", "right", n, b->feature, b->left, b->right,
                        b->thr, NULL, b->value, -1, 0, cmp_le, NULL};
    if ((rc = pd__jget(c, tj, path, "output", PD__J_INT, 0, &v, p)))
        return rc;
    if (v) {
        int64_t o;
        if ((rc = pd__jint(c, v, p, 0, (int64_t)t->n_outputs - 1, &o)))
            return rc;
        in.output = (int32_t)o;
    }
    size_t width = in.output >= 0 ? 1 : t->n_outputs;
    if ((rc = pd__jget(c, tj, path, "feature", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, -1, INT32_MAX, b->feature)) ||
        (rc = pd__jget(c, tj, path, "left", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, INT32_MIN, INT32_MAX, b->left)) ||
        (rc = pd__jget(c, tj, path, "right", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jints(c, v, p, n, INT32_MIN, INT32_MAX, b->right)) ||
        (rc = pd__jget(c, tj, path, "threshold", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jdoubles(c, v, p, n, b->thr)) ||
        (rc = pd__jget(c, tj, path, "value", PD__J_ARR, 1, &v, p)) ||
        (rc = pd__jdoubles(c, v, p, n * width, b->value)) ||
        (rc = pd__jget(c, tj, path, "missing_left", PD__J_ARR, 0, &v, p)))
        return rc;
    if (v) {
        if ((rc = pd__jints(c, v, p, n, 0, 1, b->miss32)))
            return rc;
        for (size_t i = 0; i < n; i++)
            b->miss[i] = (uint8_t)b->miss32[i];
        in.miss_left = b->miss;
        part->nan_default = 1;
    }
    return pd__tree_add(c, m, t, part->n_in, &in);
}

/* Reads the scalar fields of the step and checks them against the task. */
static int read_header(pd__jctx_t *c, const json_t *st, const char *path, pd__part_t *part,
                       int *cmp_le)
{
    static const char *const aggs[] = {"average", "sum"};
    static const char *const inputs[] = {"float32", "float64"};
    static const char *const cmps[] = {"le", "lt"};
    static const char *const posts[] = {"identity", "logistic", "softmax", "normalize"};
    static const pd__post_t post_of[] = {PD__POST_IDENTITY, PD__POST_LOGISTIC, PD__POST_SOFTMAX,
                                         PD__POST_NORMALIZE};
    pd__trees_t *t = part->state;
    json_t *v;
    char p[PD__PATH_MAX];
    int rc, agg, inp, cmp, post;
    int64_t no;
    if ((rc = pd__jget(c, st, path, "n_outputs", PD__J_INT, 1, &v, p)) ||
        (rc = pd__jint(c, v, p, 1, PD_MODEL_MAX_CLASSES, &no)))
        return rc;
    t->n_outputs = (size_t)no;
    const char *key[4] = {"aggregate", "input_type", "comparison", "post_transform"};
    const char *const *lists[4] = {aggs, inputs, cmps, posts};
    size_t lens[4] = {2, 2, 2, 4};
    int *outs[4] = {&agg, &inp, &cmp, &post};
    for (int k = 0; k < 4; k++) {
        const char *s = pd__jstr(c, st, path, key[k], 1, NULL, &rc);
        pd__jpath(p, sizeof p, path, ".%s", key[k]);
        if (rc || (rc = pd__jenum(c, s, p, lists[k], lens[k], outs[k])))
            return rc;
    }
    t->aggregate_sum = agg == 1;
    t->input_f64 = inp == 1;
    *cmp_le = cmp == 0;
    t->post = post_of[post];
    int cls = part->task == PD_TASK_CLASSIFICATION;
    size_t nc = part->n_classes;
    part->has_proba = cls;
    int ok = cls ? (post == 1 ? no == 1 && nc == 2 : (size_t)no == nc)
                 : (no == 1 && post <= 1);
    if (!ok)
        return pd__jfail(c, p, "post_transform \"%s\" with n_outputs %lld does not fit a %s "
                         "model with %zu classes", posts[post], (long long)no,
                         cls ? "classification" : "regression", nc);
    return 0;
}

static int load(pd__jctx_t *c, pd_model_t *m, const json_t *st, const char *path,
                pd__part_t *part)
{
    int rc, cmp_le;
    json_t *trees, *v;
    char pt[PD__PATH_MAX], p[PD__PATH_MAX];
    size_t nt, total = 0, maxn = 0;
    if ((rc = read_header(c, st, path, part, &cmp_le)) ||
        (rc = pd__jget(c, st, path, "trees", PD__J_ARR, 1, &trees, pt)) ||
        (rc = pd__jlen(c, trees, pt, 1, PD_MODEL_MAX_TREES, &nt)))
        return rc;
    for (size_t i = 0; i < nt; i++) {
        size_t n;
        pd__jpath(p, sizeof p, pt, "[%zu]", i);
        const json_t *tj = json_array_get(trees, i);
        if ((rc = pd__jcheck(c, tj, p, PD__J_OBJ)) ||
            (rc = pd__jget(c, tj, p, "left", PD__J_ARR, 1, &v, NULL)))
            return rc;
        pd__jpath(p, sizeof p, pt, "[%zu].left", i);
        if ((rc = pd__jlen(c, v, p, 1, PD_MODEL_MAX_NODES, &n)))
            return rc;
        total += n;
        maxn = n > maxn ? n : maxn;
    }
    pd__trees_t *t = part->state;
    if ((rc = pd__trees_alloc(m, t, nt, total)))
        return rc;
    json_t *bs;
    if ((rc = pd__jget(c, st, path, "base_score", PD__J_ARR, 0, &bs, p)) ||
        (bs && (rc = pd__jdoubles(c, bs, p, t->n_outputs, t->base))))
        return rc;
    bufs_t b = {0};
    if ((rc = bufs_alloc(&b, maxn, t->n_outputs)) == 0) {
        for (size_t i = 0; i < nt && rc == 0; i++) {
            pd__jpath(p, sizeof p, pt, "[%zu]", i);
            size_t n = json_array_size(json_object_get(json_array_get(trees, i), "left"));
            rc = read_tree(c, json_array_get(trees, i), p, m, part, &b, n, cmp_le);
        }
    }
    bufs_free(&b);
    if (rc == PD_ENOMEM)
        pd__jfail(c, path, "out of memory");
    if (rc == 0)
        pd__trees_finish(m, t);
    return rc;
}

static void stats(const pd__part_t *p, pd_model_stats_t *st)
{
    const pd__trees_t *t = p->state;
    st->n_trees += t->n_trees;
    st->n_nodes += t->n_nodes;
}

static int describe(const pd__part_t *p, char *buf, size_t n)
{
    static const char *const posts[] = {"identity", "logistic", "softmax", "normalize",
                                        "exp", "exp (double)"}; /* pd__post_t order */
    const pd__trees_t *t = p->state;
    return snprintf(buf, n, "%zu trees, %zu nodes, %s of %zu outputs, %s, %s", t->n_trees,
                    t->n_nodes, t->aggregate_sum ? "sum" : "average", t->n_outputs,
                    t->input_f64 ? "float64" : "float32", posts[t->post]);
}

const pd__part_ops_t pd__trees_ops = {
    .type = "tree_ensemble",
    .flags = PD__PART_NAN_OK,
    .state_size = sizeof(pd__trees_t),
    .load = load,
    .scratch = pd__trees_scratch,
    .predict = pd__trees_predict,
    .stats = stats,
    .describe = describe,
};
