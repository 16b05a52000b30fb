/* tree.c - tree-ensemble kernels: the dispatch point and the generic (portable, float32 and
 * float64) node-array walk. A float32 ensemble laid out as complete trees (t->cnodes, see
 * tree_fast.c) goes to pd__trees_accumulate_compact; one kept as node arrays goes, with an
 * AVX2 / AVX-512 variant chosen at load, to tree_nodes.c; the rest walks here (docs/kernels.md
 * has the figures). A walk is `depth` branch-free steps per tree (a leaf's
 * children are itself), and PD__GROUP rows walk the same tree side by side so that their
 * independent loads overlap. Per block: inputs are cast once to float32 (unless the
 * ensemble compares in float64), then trees are visited in file order, each adding its
 * leaf into every row's accumulator, so each row's sum is in tree order, as the libraries
 * compute it. No allocation: all temporaries live in the caller's scratch.
 *
 * Measured by bench/kernels/run.py on a shared 2-core machine (noisy, 1 thread): groups of
 * 16 rows rather than 8 took the forest batch (300 trees, depth 12) from ~1.3x to ~2.5x
 * sklearn and the XGBoost batch (300 x depth 6) from ~1.4x to ~1.7x libxgboost; walking 16
 * trees side by side for a single row took it from ~8 us to ~4 us (libxgboost: ~40 us).
 * Skipping the missing-value test when a block holds no NaN (checked once per block) took
 * the forest batch from ~78k to ~100k rows/s and its single row from ~14.5 to ~11.3 us;
 * the XGBoost batch did not move beyond the noise. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "common.h"
#include "model/tree.h"

#define PD__GROUP 16
#define PD__FEW_ROWS 4 /* below this many rows, trees are interleaved instead of rows */

size_t pd__trees_scratch(const pd__part_t *p)
{
    const pd__trees_t *t = p->state;
    size_t s = PD_MODEL_BLOCK_ROWS * t->n_outputs * sizeof(double);
    if (!t->input_f64)
        s += PD_MODEL_BLOCK_ROWS * p->n_in * sizeof(float);
    return s;
}

static inline int32_t step32(const pd__node32_t *nd, int32_t i, const float *row)
{
    const pd__node32_t *q = &nd[i];
    float x = row[q->fm & PD__FM_FEATURE];
    int gl = (x < q->thr) | ((x != x) & (int)(q->fm >> 31));
    return gl ? q->left : q->right;
}

static inline int32_t step64(const pd__node64_t *nd, int32_t i, const double *row)
{
    const pd__node64_t *q = &nd[i];
    double x = row[q->fm & PD__FM_FEATURE];
    int gl = (x < q->thr) | ((x != x) & (int)(q->fm >> 31));
    return gl ? q->left : q->right;
}

/* step32 for rows known to hold no NaN: the missing-value test is dead weight there. */
static inline int32_t step32_finite(const pd__node32_t *nd, int32_t i, const float *row)
{
    const pd__node32_t *q = &nd[i];
    int32_t gl = row[q->fm & PD__FM_FEATURE] < q->thr;
    return q->right ^ ((q->left ^ q->right) & -gl); /* branch-free: a ?: here compiles to a
                                                       jump that mispredicts half the time */
}

/* 1 if none of the n float32 values is NaN. */
static int no_nan_in(const float *x, size_t n)
{
    int nan = 0;
    for (size_t i = 0; i < n; i++)
        nan |= x[i] != x[i];
    return !nan;
}

/* Walks rows [r0, r0+g) of the block through tree `tr`; leaf node indexes into idx.
 * no_nan: the block holds no NaN (float32 input only), so the cheaper step applies. */
static void walk_group(const pd__trees_t *t, const pd__tree_t *tr, const void *xin, size_t nf,
                       size_t r0, size_t g, int no_nan, int32_t *idx)
{
    for (size_t k = 0; k < g; k++)
        idx[k] = 0;
    if (!t->input_f64) {
        const pd__node32_t *nd = t->nodes32 + tr->node_off;
        const float *x = (const float *)xin + r0 * nf;
        if (g == PD__GROUP && no_nan) {
            for (int32_t d = 0; d < tr->depth; d++)
                for (size_t k = 0; k < PD__GROUP; k++)
                    idx[k] = step32_finite(nd, idx[k], x + k * nf);
        } else if (g == PD__GROUP) {
            for (int32_t d = 0; d < tr->depth; d++)
                for (size_t k = 0; k < PD__GROUP; k++)
                    idx[k] = step32(nd, idx[k], x + k * nf);
        } else {
            for (int32_t d = 0; d < tr->depth; d++)
                for (size_t k = 0; k < g; k++)
                    idx[k] = step32(nd, idx[k], x + k * nf);
        }
    } else {
        const pd__node64_t *nd = t->nodes64 + tr->node_off;
        const double *x = (const double *)xin + r0 * nf;
        for (int32_t d = 0; d < tr->depth; d++)
            for (size_t k = 0; k < g; k++)
                idx[k] = step64(nd, idx[k], x + k * nf);
    }
}

static uint64_t leaf_of(const pd__trees_t *t, const pd__tree_t *tr, int32_t i)
{
    return t->input_f64 ? t->nodes64[tr->node_off + (size_t)i].leaf
                        : t->nodes32[tr->node_off + (size_t)i].leaf;
}

/* Adds the leaf `i` of tree `ti` into row accumulator a (n_outputs entries). */
static inline void add_leaf(const pd__trees_t *t, size_t ti, int32_t i, void *a)
{
    const pd__tree_t *tr = &t->trees[ti];
    size_t no = t->n_outputs;
    if (t->f32acc) {
        ((float *)a)[tr->output] += t->nodes32[tr->node_off + (size_t)i].thr;
        return;
    }
    const double *vals = t->values + t->value_off[ti];
    double *d = a;
    if (tr->output >= 0) {
        d[tr->output] += vals[leaf_of(t, tr, i)];
        return;
    }
    const double *v = vals + leaf_of(t, tr, i) * no;
    for (size_t o = 0; o < no; o++)
        d[o] += v[o];
}

/* Few rows (a single request): PD__GROUP trees walk side by side instead of rows, so that
 * their independent loads overlap; leaves are still added in tree order. float32 only. */
static void accumulate_few(const pd__trees_t *t, const float *xf, size_t nf, size_t n,
                           void *acc)
{
    size_t no = t->n_outputs, es = t->f32acc ? sizeof(float) : sizeof(double);
    for (size_t r = 0; r < n; r++) {
        const float *row = xf + r * nf;
        void *a = (char *)acc + r * no * es;
        int no_nan = no_nan_in(row, nf);
        for (size_t t0 = 0; t0 < t->n_trees; t0 += PD__GROUP) {
            size_t g = PD_MIN(PD__GROUP, t->n_trees - t0);
            const pd__node32_t *nd[PD__GROUP];
            int32_t idx[PD__GROUP], depth = 0;
            for (size_t k = 0; k < PD__GROUP; k++) {
                size_t ti = t0 + (k < g ? k : 0);
                nd[k] = t->nodes32 + t->trees[ti].node_off;
                idx[k] = 0;
                depth = t->trees[ti].depth > depth ? t->trees[ti].depth : depth;
            }
            if (no_nan)
                for (int32_t d = 0; d < depth; d++)
                    for (size_t k = 0; k < PD__GROUP; k++)
                        idx[k] = step32_finite(nd[k], idx[k], row);
            else
                for (int32_t d = 0; d < depth; d++)
                    for (size_t k = 0; k < PD__GROUP; k++)
                        idx[k] = step32(nd[k], idx[k], row);
            for (size_t k = 0; k < g; k++)
                add_leaf(t, t0 + k, idx[k], a);
        }
    }
}

/* Sums every tree into acc (n rows x n_outputs): float64 (sklearn) or float32 (XGBoost,
 * acc is then a float array). */
static void accumulate(const pd__trees_t *t, const void *xin, size_t nf, size_t n, void *acc)
{
    if (!t->input_f64 && n < PD__FEW_ROWS && !t->cnodes && !t->ct_node) {
        accumulate_few(t, xin, nf, n, acc);
        return;
    }
    size_t no = t->n_outputs;
    int32_t idx[PD__GROUP];
    int no_nan = !t->input_f64 && no_nan_in(xin, n * nf);
    if (t->cnodes) {
        pd__trees_accumulate_compact(t, xin, nf, n, no_nan, acc);
        return;
    }
    if (!t->input_f64 && (t->kernel == PD__TK_AVX2 || t->kernel == PD__TK_AVX512)) {
        pd__trees_accumulate_nodes(t, xin, nf, n, no_nan, acc);
        return;
    }
    for (size_t ti = 0; ti < t->n_trees; ti++) {
        const pd__tree_t *tr = &t->trees[ti];
        const double *vals = t->values ? t->values + t->value_off[ti] : NULL;
        for (size_t r0 = 0; r0 < n; r0 += PD__GROUP) {
            size_t g = PD_MIN(PD__GROUP, n - r0);
            walk_group(t, tr, xin, nf, r0, g, no_nan, idx);
            if (t->f32acc) {
                float *a = (float *)acc;
                const pd__node32_t *nd = t->nodes32 + tr->node_off;
                for (size_t k = 0; k < g; k++)
                    a[(r0 + k) * no + (size_t)tr->output] += nd[idx[k]].thr;
            } else if (tr->output >= 0) {
                double *a = (double *)acc;
                for (size_t k = 0; k < g; k++)
                    a[(r0 + k) * no + (size_t)tr->output] += vals[leaf_of(t, tr, idx[k])];
            } else {
                double *a = (double *)acc;
                for (size_t k = 0; k < g; k++) {
                    const double *v = vals + leaf_of(t, tr, idx[k]) * no;
                    for (size_t o = 0; o < no; o++)
                        a[(r0 + k) * no + o] += v[o];
                }
            }
        }
    }
}

/* XGBoost 1.7's common::Sigmoid: the exponent is clamped at 88.7 (so a margin below -88.7
 * gives ~3e-39, not 0) and a float epsilon is added to the denominator. */
static float sigmoid_f(float z)
{
    const float eps = 1e-16f, lim = 88.7f;
    float x = lim < -z ? lim : -z;
    float denom = expf(x) + 1.0f + eps;
    return 1.0f / denom;
}

/* XGBoost 1.7's softmax (multiclass_obj.cu PredTransform): max starts at FLT_MIN, the sum
 * of expf is kept in double, each probability is expf(z - max) / (float)sum. */
static void softmax_f(const float *z, size_t n, double *out)
{
    float wmax = FLT_MIN;
    for (size_t i = 0; i < n; i++)
        wmax = fmaxf(z[i], wmax);
    double wsum = 0.0;
    for (size_t i = 0; i < n; i++)
        wsum += expf(z[i] - wmax);
    for (size_t i = 0; i < n; i++)
        out[i] = (double)(expf(z[i] - wmax) / (float)wsum);
}

static int32_t argmax_f(const float *z, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (z[i] > z[best])
            best = i;
    return (int32_t)best;
}

static void finish_f32(const pd__part_t *part, const float *acc, size_t n, int32_t *cls,
                       double *val, double *proba)
{
    const pd__trees_t *t = part->state;
    size_t no = t->n_outputs, nc = part->n_classes;
    double tmp[2];
    for (size_t r = 0; r < n; r++) {
        const float *z = acc + r * no;
        if (part->task == PD_TASK_REGRESSION) {
            if (val)
                val[r] = t->post == PD__POST_LOGISTIC ? (double)sigmoid_f(z[0])
                         : t->post == PD__POST_EXP    ? (double)expf(z[0])
                         : t->post == PD__POST_EXP_F64 ? (double)(float)exp((double)z[0])
                                                       : (double)z[0];
        } else if (t->post == PD__POST_LOGISTIC) {
            float p = sigmoid_f(z[0]);
            tmp[0] = (double)(1.0f - p), tmp[1] = (double)p;
            if (proba)
                memcpy(proba + r * 2, tmp, sizeof tmp);
            if (cls)
                cls[r] = p > 0.5f;
        } else {
            double *pr = proba ? proba + r * nc : NULL;
            if (pr)
                softmax_f(z, no, pr);
            if (cls) {
                if (t->label_by_margin || !pr)
                    cls[r] = argmax_f(z, no);
                else
                    cls[r] = pd__argmax(pr, nc);
            }
        }
    }
}

static void finish_f64(const pd__part_t *part, double *acc, size_t n, int32_t *cls, double *val,
                       double *proba)
{
    const pd__trees_t *t = part->state;
    size_t no = t->n_outputs, nc = part->n_classes;
    for (size_t r = 0; r < n; r++) {
        double *z = acc + r * no;
        if (!t->aggregate_sum)
            for (size_t o = 0; o < no; o++)
                z[o] = z[o] / (double)t->n_trees + t->base[o];
        if (part->task == PD_TASK_REGRESSION) {
            if (val)
                val[r] = t->post == PD__POST_LOGISTIC ? pd__sigmoid(z[0]) : z[0];
            continue;
        }
        if (t->post == PD__POST_LOGISTIC) {
            double p = pd__sigmoid(z[0]);
            if (proba)
                proba[r * 2] = 1.0 - p, proba[r * 2 + 1] = p;
            if (cls)
                cls[r] = p > 0.5;
            continue;
        }
        if (t->post == PD__POST_SOFTMAX)
            pd__softmax(z, no);
        if (proba)
            memcpy(proba + r * nc, z, nc * sizeof *z);
        if (cls)
            cls[r] = pd__argmax(z, nc);
    }
}

void pd__trees_predict(const pd__part_t *part, const double *x, size_t n, void *ws,
                       const pd__out_t *out)
{
    const pd__trees_t *t = part->state;
    size_t nf = part->n_in, no = t->n_outputs;
    char *p = ws;
    void *acc = p;
    p += PD_MODEL_BLOCK_ROWS * no * sizeof(double);
    const void *xin = x;
    if (!t->input_f64) {
        float *xf = (float *)(void *)p;
        for (size_t i = 0; i < n * nf; i++)
            xf[i] = (float)x[i];
        xin = xf;
    }
    if (t->f32acc) {
        float *a = acc;
        for (size_t r = 0; r < n; r++)
            for (size_t o = 0; o < no; o++)
                a[r * no + o] = (float)t->base[o];
    } else {
        double *a = acc;
        for (size_t r = 0; r < n; r++)
            for (size_t o = 0; o < no; o++)
                a[r * no + o] = t->aggregate_sum ? t->base[o] : 0.0;
    }
    if (t->cat_of) /* categorical splits: tree_cat.c's walk, the kernels below untouched */
        pd__trees_accumulate_cat(t, xin, nf, n, acc);
    else
        accumulate(t, xin, nf, n, acc);
    if (t->f32acc)
        finish_f32(part, acc, n, out->cls, out->val, out->proba);
    else
        finish_f64(part, acc, n, out->cls, out->val, out->proba);
}
