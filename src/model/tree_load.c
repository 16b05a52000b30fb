/* tree_load.c - the "tree_ensemble" model type's step loader and its ops table. Two passes
 * over the trees: the first checks each tree's shape and counts nodes (so the node arrays
 * are allocated once, exactly), the second reads each tree's parallel arrays into
 * temporary buffers (freed before returning) and hands them to tree_build.c. A tree's
 * optional "categorical" / "category_sets" become tree_cat.c's splits. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include <stdio.h>

#include "model/tree.h"

typedef struct {
    int32_t *feature, *left, *right, *miss32, *cat;
    uint8_t *miss;
    double *thr, *value;
} bufs_t;

static void bufs_free(bufs_t *b)
{
    free(b->feature), free(b->left), free(b->right), free(b->miss32);
    free(b->miss), free(b->thr), free(b->value), free(b->cat);
}

/* One entry of a tree's "category_sets": {"left": [...], "right": [...], "other_left":
 * 0|1}, appended to t; its index into *index. */
static int read_catset(pd__jctx_t *c, pd_model_t *m, pd__trees_t *t, const json_t *e,
                       const char *path, int32_t *index)
{
    json_t *v[2], *o;
    char p[2][PD__PATH_MAX], q[PD__PATH_MAX];
    size_t len[2];
    int64_t other;
    int rc = pd__jcheck(c, e, path, PD__J_OBJ);
    const char *keys[2] = {"left", "right"};
    for (int k = 0; k < 2 && rc == 0; k++)
        if ((rc = pd__jget(c, e, path, keys[k], PD__J_ARR, 1, &v[k], p[k])) == 0)
            rc = pd__jlen(c, v[k], p[k], 0, PD__CAT_MAX + 1, &len[k]);
    if (rc || (rc = pd__jget(c, e, path, "other_left", PD__J_INT, 1, &o, q)) ||
        (rc = pd__jint(c, o, q, 0, 1, &other)))
        return rc;
    int32_t *cats = malloc((len[0] + len[1] + 1) * sizeof *cats);
    if (!cats)
        return PD_ENOMEM;
    if ((rc = pd__jints(c, v[0], p[0], len[0], 0, PD__CAT_MAX, cats)) == 0 &&
        (rc = pd__jints(c, v[1], p[1], len[1], 0, PD__CAT_MAX, cats + len[0])) == 0)
        rc = pd__trees_add_catsplit(c, m, t, path, cats, len[0], cats + len[0], len[1],
                                    (int)other, index);
    free(cats);
    return rc;
}

/* A tree's optional categorical splits: "categorical" (per node -1, or an index into
 * "category_sets"); fills b->cat with the ensemble's split indexes and sets in->cat_split.
 * Missing: every split is numeric. */
static int read_categorical(pd__jctx_t *c, pd_model_t *m, pd__trees_t *t, const json_t *tj,
                            const char *path, bufs_t *b, size_t n, pd__tree_in_t *in)
{
    json_t *v, *sets;
    char p[PD__PATH_MAX], ps[PD__PATH_MAX], pe[PD__PATH_MAX];
    size_t ns;
    int rc;
    if ((rc = pd__jget(c, tj, path, "categorical", PD__J_ARR, 0, &v, p)) || !v)
        return rc;
    if ((rc = pd__jget(c, tj, path, "category_sets", PD__J_ARR, 1, &sets, ps)) ||
        (rc = pd__jlen(c, sets, ps, 1, n, &ns)) ||
        (rc = pd__jints(c, v, p, n, -1, (int64_t)ns - 1, b->cat)))
        return rc;
    int32_t *idx = malloc(ns * sizeof *idx);
    if (!idx)
        return PD_ENOMEM;
    for (size_t k = 0; k < ns && rc == 0; k++) {
        pd__jpath(pe, sizeof pe, ps, "[%zu]", k);
        rc = read_catset(c, m, t, json_array_get(sets, k), pe, &idx[k]);
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        b->cat[i] = b->cat[i] < 0 || b->left[i] == -1 ? -1 : idx[b->cat[i]];
    free(idx);
    in->cat_split = b->cat;
    return rc;
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
    b->cat = malloc(n * sizeof(int32_t));
    return b->feature && b->left && b->right && b->miss32 && b->miss && b->thr && b->value &&
                   b->cat
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
    if ((rc = read_categorical(c, m, t, tj, path, b, n, &in)))
        return rc;
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
    static const char *const casts[] = {"int", "uint8"};
    char pc[PD__PATH_MAX];
    int cast = 0;
    const char *cs = pd__jstr(c, st, path, "category_cast", 0, "int", &rc);
    pd__jpath(pc, sizeof pc, path, ".category_cast");
    if (rc || (rc = pd__jenum(c, cs, pc, casts, 2, &cast)))
        return rc;
    t->cat_cast = cast == 1 ? PD__CAT_UINT8 : PD__CAT_INT;
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
