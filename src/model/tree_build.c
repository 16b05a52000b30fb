/* tree_build.c - turns a tree given as parallel arrays into the kernel's flat layout.
 *
 * Checks, in order: child indexes in range, the root is nobody's child, every node has at
 * most one parent, leaves are well formed, split features < n_features; then a
 * breadth-first walk from the root renumbers reachable nodes (so the top levels share
 * cache lines), makes each leaf loop onto itself, and bounds the depth. A tree whose
 * nodes are not all reachable (orphans, cycles) is refused, except deleted nodes in
 * XGBoost files. Temporary arrays are freed before returning. */
#include "model/tree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int pd__trees_alloc(pd_model_t *m, pd__trees_t *t, size_t n_trees, size_t total_nodes)
{
    t->trees = pd__model_calloc(m, n_trees, sizeof *t->trees);
    t->value_off = pd__model_calloc(m, n_trees, sizeof *t->value_off);
    t->base = pd__model_calloc(m, t->n_outputs, sizeof *t->base);
    if (!t->trees || !t->value_off || !t->base)
        return PD_ENOMEM;
    if (t->input_f64)
        t->nodes64 = pd__model_calloc(m, total_nodes, sizeof *t->nodes64);
    else
        t->nodes32 = pd__model_calloc(m, total_nodes, sizeof *t->nodes32);
    if (!t->nodes64 && !t->nodes32)
        return PD_ENOMEM;
    t->cap_nodes = total_nodes;
    if (!t->f32acc) {
        if (t->n_outputs && total_nodes > SIZE_MAX / t->n_outputs)
            return PD_ENOMEM;
        t->cap_values = total_nodes * t->n_outputs;
        t->values = pd__model_calloc(m, t->cap_values, sizeof *t->values);
        if (!t->values)
            return PD_ENOMEM;
    }
    return 0;
}

/* Tree ti's node i, as the leaf ordinal it holds (leaf) and whether it is a leaf. */
static int leaf_at(const pd__trees_t *t, size_t node, int32_t i, uint64_t *leaf)
{
    if (t->input_f64) {
        const pd__node64_t *d = &t->nodes64[node];
        *leaf = d->leaf;
        return d->left == i;
    }
    const pd__node32_t *d = &t->nodes32[node];
    *leaf = d->leaf;
    return d->left == i;
}

static void set_leaf(pd__trees_t *t, size_t node, uint64_t leaf)
{
    if (t->input_f64)
        t->nodes64[node].leaf = leaf;
    else
        t->nodes32[node].leaf = (uint32_t)leaf;
}

static uint64_t hash_vec(const double *v, size_t w)
{
    uint64_t h = 0x9e3779b97f4a7c15u, b;
    for (size_t k = 0; k < w; k++) {
        memcpy(&b, &v[k], sizeof b);
        h = (h ^ b) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    return h;
}

/* Leaf values shared: every leaf vector (compared bit for bit) is stored once and every
 * leaf's ordinal becomes its index in the shared array, with value_off all 0. Kernels
 * read values[value_off[tree] + leaf * width] as before, so each row gets the same bits.
 * Forests are the gain: many leaves hold the same class fractions (a pure leaf's 1 and 0).
 * Only when every tree has the same width; in place (a leaf's new slot never passes the
 * one being read, as leaves are visited in the order their values were appended). */
static void share_leaf_values(pd__trees_t *t)
{
    if (!t->values || t->f32acc || t->n_values == 0 || t->n_trees == 0)
        return;
    size_t w = t->trees[0].output >= 0 ? 1 : t->n_outputs;
    for (size_t i = 0; i < t->n_trees; i++)
        if ((t->trees[i].output >= 0 ? 1 : t->n_outputs) != w || w == 0)
            return;
    size_t nleaf = t->n_values / w, cap = 16;
    while (cap < 2 * nleaf)
        cap *= 2;
    uint32_t *slot = malloc(cap * sizeof *slot); /* 0: empty, else 1 + shared index */
    if (!slot || nleaf >= UINT32_MAX) {
        free(slot);
        return;
    }
    memset(slot, 0, cap * sizeof *slot);
    size_t nu = 0;
    for (size_t ti = 0; ti < t->n_trees; ti++) {
        size_t off = t->trees[ti].node_off;
        size_t end = ti + 1 < t->n_trees ? t->trees[ti + 1].node_off : t->n_nodes;
        for (size_t nd = off; nd < end; nd++) {
            uint64_t leaf;
            if (!leaf_at(t, nd, (int32_t)(nd - off), &leaf))
                continue;
            const double *v = t->values + t->value_off[ti] + leaf * w;
            size_t h = (size_t)hash_vec(v, w) & (cap - 1);
            while (slot[h] && memcmp(t->values + (size_t)(slot[h] - 1) * w, v, w * sizeof *v))
                h = (h + 1) & (cap - 1);
            if (!slot[h]) {
                memmove(t->values + nu * w, v, w * sizeof *v);
                slot[h] = (uint32_t)++nu;
            }
            set_leaf(t, nd, slot[h] - 1);
        }
    }
    free(slot);
    for (size_t ti = 0; ti < t->n_trees; ti++)
        t->value_off[ti] = 0;
    t->n_values = nu * w;
}

void pd__trees_finish(pd_model_t *m, pd__trees_t *t)
{
    share_leaf_values(t);
    if (t->values && t->n_values != t->cap_values && t->n_values != 0) {
        double *v = pd__model_realloc(m, t->values, t->n_values, sizeof *v);
        if (v) {
            t->values = v;
            t->cap_values = t->n_values;
        }
    }
    /* categorical splits: only tree_cat.c walks them, over the node arrays */
    (void)pd__trees_compact(m, t, t->cat_of ? PD__TK_GENERIC : pd__tree_kernel_choice());
}

float pd__thr32(double t, int cmp_le)
{
    float f = (float)t;
    if (cmp_le) {
        if ((double)f > t)
            f = nextafterf(f, -INFINITY); /* largest float <= t */
        return nextafterf(f, INFINITY);
    }
    if ((double)f < t)
        f = nextafterf(f, INFINITY); /* smallest float >= t */
    return f;
}

/* Structural checks that need no traversal. */
static int check_nodes(pd__jctx_t *c, size_t n_features, const pd__tree_in_t *in,
                       uint8_t *has_parent)
{
    char p[PD__PATH_MAX];
    size_t n = in->n_nodes;
    for (size_t i = 0; i < n; i++) {
        int32_t l = in->left[i], r = in->right[i];
        if (l == -1) {
            if (!in->xgb && (r != -1 || in->feature[i] != -1)) {
                pd__jpath(p, sizeof p, in->path, ".%s[%zu]",
                          r != -1 ? in->right_key : in->feature_key, i);
                return pd__jfail(c, p, "leaf node %zu (left is -1) must have -1 here", i);
            }
            continue;
        }
        const int32_t kids[2] = {l, r};
        const char *keys[2] = {in->left_key, in->right_key};
        for (int k = 0; k < 2; k++) {
            pd__jpath(p, sizeof p, in->path, ".%s[%zu]", keys[k], i);
            if (kids[k] < 0 || (size_t)kids[k] >= n)
                return pd__jfail(c, p, "child index %d out of range (%zu nodes)", kids[k], n);
            if (kids[k] == 0)
                return pd__jfail(c, p, "node 0 is the root and cannot be a child (cycle)");
            if (has_parent[kids[k]])
                return pd__jfail(c, p, "node %d has two parents (shared child or cycle)",
                                 kids[k]);
            has_parent[kids[k]] = 1;
        }
        if (in->feature[i] < 0 || (size_t)in->feature[i] >= n_features) {
            pd__jpath(p, sizeof p, in->path, ".%s[%zu]", in->feature_key, i);
            return pd__jfail(c, p, "feature index %d out of range (%zu features)",
                             in->feature[i], n_features);
        }
    }
    return 0;
}

/* Writes node `old` of `in` as node `nw` of the flat tree; children get new indexes
 * from map (already assigned). */
static void emit(pd__trees_t *t, const pd__tree_in_t *in, size_t base, size_t old, int32_t nw,
                 const int32_t *map, uint32_t leaf_ord)
{
    int leaf = in->left[old] == -1;
    uint32_t fm = leaf ? 0u : (uint32_t)in->feature[old];
    if (!leaf && in->miss_left && in->miss_left[old])
        fm |= PD__FM_MISSING_LEFT;
    int32_t l = leaf ? nw : map[in->left[old]], r = leaf ? nw : map[in->right[old]];
    size_t width = in->output >= 0 ? 1 : t->n_outputs;
    if (t->input_f64) {
        pd__node64_t *d = &t->nodes64[base + (size_t)nw];
        d->fm = fm, d->left = l, d->right = r;
        if (leaf)
            d->leaf = leaf_ord;
        else
            d->thr = in->cmp_le ? nextafter(in->thr[old], INFINITY) : in->thr[old];
    } else {
        pd__node32_t *d = &t->nodes32[base + (size_t)nw];
        d->fm = fm, d->left = l, d->right = r;
        if (leaf && t->f32acc)
            d->thr = (float)in->value[old];
        else if (leaf)
            d->leaf = leaf_ord;
        else if (in->xgb) /* the file prints XGBoost's float32 threshold: round to it */
            d->thr = (float)in->thr[old];
        else
            d->thr = pd__thr32(in->thr[old], in->cmp_le);
    }
    if (t->cat_of)
        t->cat_of[base + (size_t)nw] = !leaf && in->cat_split ? in->cat_split[old] : -1;
    if (leaf && !t->f32acc)
        memcpy(&t->values[t->n_values + (size_t)leaf_ord * width], &in->value[old * width],
               width * sizeof(double));
}

typedef struct {
    int32_t *queue, *map, *depth;
    uint8_t *has_parent;
} tmp_t;

/* Breadth-first renumbering from the root; returns the tree depth or a negative code. */
static int walk(pd__jctx_t *c, pd__trees_t *t, const pd__tree_in_t *in, tmp_t *tp)
{
    size_t n = in->n_nodes, head = 0, tail = 0;
    size_t base = t->n_nodes, width = in->output >= 0 ? 1 : t->n_outputs;
    for (size_t i = 0; i < n; i++)
        tp->map[i] = -1;
    tp->queue[tail++] = 0, tp->map[0] = 0, tp->depth[0] = 0;
    int32_t maxd = 0;
    uint32_t leaves = 0;
    /* First pass assigns new indexes in BFS order; children are queued once each. */
    while (head < tail) {
        int32_t o = tp->queue[head++];
        if (in->left[o] == -1)
            continue;
        int32_t d = tp->depth[tp->map[o]] + 1;
        if (d > PD_MODEL_MAX_TREE_DEPTH) {
            char p[PD__PATH_MAX];
            pd__jpath(p, sizeof p, in->path, ".%s[%d]", in->left_key, o);
            return pd__jfail(c, p, "tree deeper than %d", PD_MODEL_MAX_TREE_DEPTH);
        }
        maxd = d > maxd ? d : maxd;
        const int32_t kids[2] = {in->left[o], in->right[o]};
        for (int k = 0; k < 2; k++) {
            tp->map[kids[k]] = (int32_t)tail;
            tp->depth[tail] = d;
            tp->queue[tail++] = kids[k];
        }
    }
    if (tail != n && !in->xgb) {
        size_t u = 0;
        while (tp->map[u] != -1)
            u++;
        char p[PD__PATH_MAX];
        pd__jpath(p, sizeof p, in->path, ".%s[%zu]", in->left_key, u);
        return pd__jfail(c, p, "node %zu is unreachable from the root (cycle or orphan)", u);
    }
    for (size_t k = 0; k < tail; k++) {
        size_t o = (size_t)tp->queue[k];
        int leaf = in->left[o] == -1;
        emit(t, in, base, o, (int32_t)k, tp->map, leaf ? leaves : 0);
        leaves += leaf;
    }
    t->trees[t->n_trees].node_off = base;
    t->trees[t->n_trees].depth = maxd;
    t->trees[t->n_trees].output = in->output;
    t->value_off[t->n_trees] = t->n_values;
    t->n_nodes += tail;
    if (!t->f32acc)
        t->n_values += (size_t)leaves * width;
    t->n_trees++;
    return 0;
}

int pd__tree_add(pd__jctx_t *c, pd_model_t *m, pd__trees_t *t, size_t n_features,
                 const pd__tree_in_t *in)
{
    size_t n = in->n_nodes;
    tmp_t tp = {malloc(n * sizeof(int32_t)), malloc(n * sizeof(int32_t)),
                malloc(n * sizeof(int32_t)), calloc(n, 1)};
    int rc = PD_ENOMEM;
    if (!tp.queue || !tp.map || !tp.depth || !tp.has_parent) {
        pd__jfail(c, in->path, "out of memory");
        goto out;
    }
    rc = check_nodes(c, n_features, in, tp.has_parent);
    if (rc == 0)
        rc = walk(c, t, in, &tp);
    if (rc == 0)
        m->n_params += n * 2;
out:
    free(tp.queue);
    free(tp.map);
    free(tp.depth);
    free(tp.has_parent);
    return rc;
}
