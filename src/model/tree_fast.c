/* tree_fast.c - the complete-tree layout of a float32 tree ensemble and its walks: portable
 * C, AVX2 (8-lane gathers) and AVX-512 (16-lane gathers), chosen at load time by CPU
 * feature (PD_TREE_KERNEL forces one, for tests and benchmarks).
 *
 * Layout (tree.h, pd__cnode_t): a tree of depth D is 2^D - 1 splits in level order and
 * 2^D leaf words; a step is `p = 2p + 2 - goes_left`, so a walk loads only a split's
 * threshold, its feature id and the row's value (no child indexes), and a D-step walk
 * always ends on a leaf position. Leaves above depth D are padded with splits whose two
 * sides hold copies of the leaf, so every row gets the leaf value it gets in the file.
 *
 * Exactness: the same float32 comparison (x < thr; NaN goes left iff the split's
 * default-left bit) and, per row, leaves added in tree order into the same accumulator as
 * the generic walk (tree.c), so results are bit-identical.
 *
 * Batches (PD__FEW_ROWS rows or more): per tree, every row of the block walks at once:
 * AVX-512 as 4 vectors of 16 rows, AVX2 as 8 vectors of 8, C as groups of 16 rows, each
 * step of one vector independent of the others so their gathers overlap. A single row:
 * 16 (AVX-512) / 8 (AVX2) / 16 (C) trees walk side by side instead, lanes of shallower
 * trees masked off once they reach their depth.
 *
 * Measured (bench/kernels/run.py and shapes.py, 1 thread, shared 2-core Xeon with
 * AVX-512): see docs/kernels.md for the figures and what was tried and lost. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/tree.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "model/tree_simd.h"
#define PD__X86 1
#endif

#define PD__FEW_ROWS 4 /* below this many rows, trees walk side by side instead of rows */
#define PD__G 16       /* rows (C batch walk) or trees (C single-row walk) side by side */

pd__tkern_t pd__tree_kernel_choice(void)
{
    static const char *const names[] = {"generic", "scalar", "avx2", "avx512"};
    pd__tkern_t best = PD__TK_SCALAR;
#ifdef PD__X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        best = PD__TK_AVX2;
    if (__builtin_cpu_supports("avx512f"))
        best = PD__TK_AVX512;
#endif
    const char *e = getenv("PD_TREE_KERNEL");
    for (int k = 0; e && k < 4; k++)
        if (strcmp(e, names[k]) == 0)
            return (pd__tkern_t)k < best ? (pd__tkern_t)k : best;
    return best;
}

/* Fills tree ti's splits (cn) and leaf words (cl) from its node array. */
static void fill_tree(const pd__trees_t *t, size_t ti, pd__cnode_t *cn, uint32_t *cl)
{
    int32_t src[2 << PD__CT_MAX_DEPTH]; /* position -> node of the node array */
    const pd__node32_t *nd = t->nodes32 + t->trees[ti].node_off;
    size_t ns = ((size_t)1 << t->trees[ti].depth) - 1;
    src[0] = 0;
    for (size_t p = 0; p < ns; p++) {
        int32_t s = src[p];
        const pd__node32_t *q = &nd[s];
        int leaf = q->left == s; /* a split's children are never itself */
        cn[p].thr = leaf ? 0.0f : q->thr;
        cn[p].fm = leaf ? 0u : q->fm; /* feature 0 exists; both sides are the same leaf */
        src[2 * p + 1] = leaf ? s : q->left;
        src[2 * p + 2] = leaf ? s : q->right;
    }
    for (size_t p = 0; p <= ns; p++)
        cl[p] = nd[src[ns + p]].leaf; /* at depth D every node is a leaf */
}

/* For the node-array walks: ct_node (first node) and ct_depth per tree, when every node's
 * 4-byte word index fits a gather's int32 (AVX-512 single-row walk, tree_nodes.c). */
static int nodes_lanes(pd_model_t *m, pd__trees_t *t)
{
    if (t->kernel != PD__TK_AVX512 || t->n_nodes > INT32_MAX / 4)
        return 0;
    uint32_t *on = pd__model_calloc(m, t->n_trees, sizeof *on);
    int32_t *dp = pd__model_calloc(m, t->n_trees, sizeof *dp);
    if (!on || !dp)
        return PD_ENOMEM;
    for (size_t i = 0; i < t->n_trees; i++)
        on[i] = (uint32_t)t->trees[i].node_off, dp[i] = t->trees[i].depth;
    t->ct_node = on, t->ct_depth = dp;
    return 0;
}

int pd__trees_compact(pd_model_t *m, pd__trees_t *t, pd__tkern_t kernel)
{
    if (t->input_f64 || !t->nodes32 || t->n_trees == 0)
        return 0;
    t->kernel = kernel; /* deep trees: the node-array walk of this variant (tree_nodes.c) */
    if (kernel == PD__TK_GENERIC)
        return 0;
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < t->n_trees; i++) {
        if (t->trees[i].depth > PD__CT_MAX_DEPTH)
            return nodes_lanes(m, t);
        ns += ((size_t)1 << t->trees[i].depth) - 1;
        nl += (size_t)1 << t->trees[i].depth;
    }
    size_t bytes = ns * sizeof(pd__cnode_t) + (nl + 4 * t->n_trees) * sizeof(uint32_t);
    if (bytes > t->n_nodes * sizeof(pd__node32_t) * 5 / 4 || ns > INT32_MAX || nl > INT32_MAX)
        return nodes_lanes(m, t); /* sparse deep trees: padding would cost more memory than
                                     it saves time */
    pd__cnode_t *cn = pd__model_calloc(m, ns + 1, sizeof *cn); /* + 1: a depth-0 last tree's
                                                                  root is readable */
    uint32_t *cl = pd__model_calloc(m, nl, sizeof *cl);
    uint32_t *on = pd__model_calloc(m, t->n_trees, sizeof *on);
    uint32_t *ol = pd__model_calloc(m, t->n_trees, sizeof *ol);
    int32_t *dp = pd__model_calloc(m, t->n_trees, sizeof *dp);
    int32_t *lb = pd__model_calloc(m, t->n_trees, sizeof *lb);
    if (!cn || !cl || !on || !ol || !dp || !lb)
        return PD_ENOMEM;
    size_t pn = 0, pl = 0;
    for (size_t i = 0; i < t->n_trees; i++) {
        on[i] = (uint32_t)pn, ol[i] = (uint32_t)pl, dp[i] = t->trees[i].depth;
        lb[i] = (int32_t)pl - ((1 << dp[i]) - 1);
        fill_tree(t, i, cn + pn, cl + pl);
        pn += ((size_t)1 << t->trees[i].depth) - 1;
        pl += (size_t)1 << t->trees[i].depth;
    }
    t->cnodes = cn, t->cleaves = cl, t->ct_node = on, t->ct_leaf = ol;
    t->ct_depth = dp, t->ct_lbase = lb;
    pd__model_realloc(m, t->nodes32, 0, sizeof *t->nodes32); /* shrinks to 1 byte; cannot
                                                                 fail when shrinking */
    t->nodes32 = NULL;
    t->kernel = kernel;
    return 0;
}

void pd__trees_add_leaves(const pd__trees_t *t, size_t ti, const uint32_t *lw, size_t n,
                          void *acc)
{
    const pd__tree_t *tr = &t->trees[ti];
    size_t no = t->n_outputs;
    if (t->f32acc) {
        float *a = (float *)acc + tr->output, v;
        for (size_t r = 0; r < n; r++) {
            memcpy(&v, &lw[r], sizeof v);
            a[r * no] += v;
        }
        return;
    }
    const double *vals = t->values + t->value_off[ti];
    double *a = acc;
    if (tr->output >= 0) {
        for (size_t r = 0; r < n; r++)
            a[r * no + (size_t)tr->output] += vals[lw[r]];
        return;
    }
    for (size_t r = 0; r < n; r++) {
        const double *v = vals + (size_t)lw[r] * no;
        for (size_t o = 0; o < no; o++)
            a[r * no + o] += v[o];
    }
}

/* ---- Batch walks: rows [0, n) of x (n <= PD_MODEL_BLOCK_ROWS) through one tree of
 * depth D (splits nd, leaf words lv), leaf words into out (PD_MODEL_BLOCK_ROWS entries). */

static void walk_scalar(const pd__cnode_t *nd, const uint32_t *lv, int D, const float *x,
                        size_t nf, size_t n, int no_nan, uint32_t *out)
{
    uint32_t ns = (1u << D) - 1;
    for (size_t r0 = 0; r0 < n; r0 += PD__G) {
        size_t g = PD_MIN(PD__G, n - r0);
        const float *xr = x + r0 * nf;
        uint32_t idx[PD__G] = {0};
        if (g == PD__G && no_nan) {
            for (int d = 0; d < D; d++)
                for (size_t k = 0; k < PD__G; k++) {
                    const pd__cnode_t *q = &nd[idx[k]];
                    float v = xr[k * nf + (q->fm & PD__FM_FEATURE)];
                    idx[k] = 2 * idx[k] + 1 + !(v < q->thr);
                }
        } else {
            for (int d = 0; d < D; d++)
                for (size_t k = 0; k < g; k++) {
                    const pd__cnode_t *q = &nd[idx[k]];
                    float v = xr[k * nf + (q->fm & PD__FM_FEATURE)];
                    uint32_t gl = (v < q->thr) | ((v != v) & (q->fm >> 31));
                    idx[k] = 2 * idx[k] + 2 - gl;
                }
        }
        for (size_t k = 0; k < g; k++)
            out[r0 + k] = lv[idx[k] - ns];
    }
}

#ifdef PD__X86
__attribute__((target("avx2"))) static void walk_avx2(const pd__cnode_t *nd,
                                                      const uint32_t *lv, int D,
                                                      const float *x, size_t nf, size_t n,
                                                      int no_nan, uint32_t *out)
{
    const __m256i two = _mm256_set1_epi32(2), fmask = _mm256_set1_epi32(PD__FM_FEATURE);
    const int *fmp = (const int *)(const void *)&nd->fm;
    const float *thp = &nd->thr;
    __m256i idx[PD_MODEL_BLOCK_ROWS / 8], roff[PD_MODEL_BLOCK_ROWS / 8];
    size_t nv = (n + 7) / 8;
    lanes256_init(n, nf, roff, idx);
    for (int d = 0; d < D; d++)
        for (size_t v = 0; v < nv; v++) {
            __m256i fm = _mm256_i32gather_epi32(fmp, idx[v], 8);
            __m256 th = _mm256_i32gather_ps(thp, idx[v], 8);
            __m256i xi = _mm256_add_epi32(roff[v], _mm256_and_si256(fm, fmask));
            __m256 xv = _mm256_i32gather_ps(x, xi, 4);
            __m256i gl = _mm256_castps_si256(_mm256_cmp_ps(xv, th, _CMP_LT_OQ));
            if (!no_nan) {
                __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(xv, xv, _CMP_UNORD_Q));
                gl = _mm256_or_si256(gl, _mm256_and_si256(nan, _mm256_srai_epi32(fm, 31)));
            }
            /* gl is -1 for left: p = 2p + 2 + gl */
            idx[v] = _mm256_add_epi32(_mm256_add_epi32(idx[v], idx[v]), _mm256_add_epi32(two, gl));
        }
    const __m256i ns = _mm256_set1_epi32((1 << D) - 1);
    for (size_t v = 0; v < nv; v++) {
        __m256i w = _mm256_i32gather_epi32((const int *)lv, _mm256_sub_epi32(idx[v], ns), 4);
        _mm256_storeu_si256((__m256i *)(void *)(out + 8 * v), w);
    }
}

/* The splits at the 16 positions idx of nd, as two 8-lane 64-bit gathers (half the load
 * operations of gathering thresholds and features apart); lanes off in act are zero. */
__attribute__((target("avx512f"))) static inline void splits512(const pd__cnode_t *nd,
                                                               __m512i idx, __mmask16 act,
                                                               __m512 *th, __m512i *fm)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    __m512i lo = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), (__mmask8)act,
                                             _mm512_castsi512_si256(idx), nd, 8);
    __m512i hi = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), (__mmask8)(act >> 8),
                                             _mm512_extracti64x4_epi64(idx, 1), nd, 8);
    *th = _mm512_castsi512_ps(_mm512_permutex2var_epi32(lo, ev, hi));
    *fm = _mm512_permutex2var_epi32(lo, od, hi);
}

__attribute__((target("avx512f"))) static void walk_avx512(const pd__cnode_t *nd,
                                                           const uint32_t *lv, int D,
                                                           const float *x, size_t nf,
                                                           size_t n, int no_nan,
                                                           uint32_t *out)
{
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2);
    const __m512i fmask = _mm512_set1_epi32(PD__FM_FEATURE);
    const __m512i sign = _mm512_set1_epi32((int)PD__FM_MISSING_LEFT);
    __m512i idx[PD_MODEL_BLOCK_ROWS / 16], roff[PD_MODEL_BLOCK_ROWS / 16];
    size_t nv = (n + 15) / 16;
    lanes512_init(n, nf, roff, idx);
    for (int d = 0; d < D; d++)
        for (size_t v = 0; v < nv; v++) {
            __m512 th;
            __m512i fm;
            splits512(nd, idx[v], 0xffff, &th, &fm);
            __m512i xi = _mm512_add_epi32(roff[v], _mm512_and_si512(fm, fmask));
            __m512 xv = _mm512_i32gather_ps(xi, x, 4);
            __mmask16 gl = _mm512_cmp_ps_mask(xv, th, _CMP_LT_OQ);
            if (!no_nan)
                gl |= _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q) & _mm512_test_epi32_mask(fm, sign);
            __m512i p2 = _mm512_add_epi32(_mm512_add_epi32(idx[v], idx[v]), two);
            idx[v] = _mm512_mask_sub_epi32(p2, gl, p2, one);
        }
    const __m512i ns = _mm512_set1_epi32((1 << D) - 1);
    for (size_t v = 0; v < nv; v++) {
        __m512i w = _mm512_i32gather_epi32(_mm512_sub_epi32(idx[v], ns), lv, 4);
        _mm512_storeu_si512(out + 16 * v, w);
    }
}
#endif

/* ---- Single-row walks: one row through every tree, trees side by side; leaves added in
 * tree order into a (n_outputs entries). */

/* A single-output float32 sum is kept in a register: through memory, each add would wait
 * for the previous one's store. */
void pd__trees_add_row_words(const pd__trees_t *t, size_t t0, const uint32_t *lw, size_t g,
                             void *a)
{
    if (t->f32acc && t->n_outputs == 1) {
        float s = *(float *)a, v;
        for (size_t k = 0; k < g; k++) {
            memcpy(&v, &lw[k], sizeof v);
            s += v;
        }
        *(float *)a = s;
    } else if (t->f32acc) {
        float *f = a, v;
        for (size_t k = 0; k < g; k++) {
            memcpy(&v, &lw[k], sizeof v);
            f[t->trees[t0 + k].output] += v;
        }
    } else {
        for (size_t k = 0; k < g; k++)
            pd__trees_add_leaves(t, t0 + k, &lw[k], 1, a);
    }
}

static void row_scalar(const pd__trees_t *t, const float *row, int no_nan, void *a)
{
    for (size_t t0 = 0; t0 < t->n_trees; t0 += PD__G) {
        size_t g = PD_MIN(PD__G, t->n_trees - t0);
        const pd__cnode_t *nd[PD__G];
        uint32_t idx[PD__G] = {0};
        int32_t depth = 0, dep[PD__G];
        for (size_t k = 0; k < g; k++) {
            nd[k] = t->cnodes + t->ct_node[t0 + k];
            dep[k] = t->trees[t0 + k].depth, depth = PD_MAX(depth, dep[k]);
        }
        for (int32_t d = 0; d < depth; d++)
            for (size_t k = 0; k < g; k++) {
                uint32_t act = -(uint32_t)(d < dep[k]); /* branch-free: a finished walk */
                const pd__cnode_t *q = &nd[k][idx[k] & act]; /* rereads its root */
                float v = row[q->fm & PD__FM_FEATURE];
                uint32_t gl = (v < q->thr) | (!no_nan & (v != v) & (q->fm >> 31));
                idx[k] = (idx[k] & ~act) | ((2 * idx[k] + 2 - gl) & act);
            }
        uint32_t lw[PD__G];
        for (size_t k = 0; k < g; k++) {
            uint32_t ns = (1u << t->trees[t0 + k].depth) - 1;
            lw[k] = t->cleaves[t->ct_leaf[t0 + k] + idx[k] - ns];
        }
        pd__trees_add_row_words(t, t0, lw, g, a);
    }
}

#ifdef PD__X86
/* row_avx512's lane setup for 8 trees from t0 (live lanes: below n_trees). */
__attribute__((target("avx2"))) static __m256i lanes256(const pd__trees_t *t, size_t t0,
                                                        __m256i *dep, __m256i *off,
                                                        __m256i *lb, int32_t *maxd)
{
    int32_t dd[8] = {0}, on[8] = {0}, ol[8] = {0};
    size_t g = t0 < t->n_trees ? PD_MIN(8, t->n_trees - t0) : 0;
    for (size_t k = 0; k < g; k++) {
        dd[k] = t->trees[t0 + k].depth, *maxd = PD_MAX(*maxd, dd[k]);
        on[k] = (int32_t)t->ct_node[t0 + k];
        ol[k] = (int32_t)t->ct_leaf[t0 + k] - ((1 << dd[k]) - 1);
    }
    *dep = _mm256_loadu_si256((const __m256i *)(const void *)dd);
    *off = _mm256_loadu_si256((const __m256i *)(const void *)on);
    *lb = _mm256_loadu_si256((const __m256i *)(const void *)ol);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)g), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* 32 trees at a time: 4 vectors of 8, whose steps are independent so gathers overlap. */
__attribute__((target("avx2"))) static void row_avx2(const pd__trees_t *t, const float *row,
                                                     int no_nan, void *a)
{
    const __m256i two = _mm256_set1_epi32(2), fmask = _mm256_set1_epi32(PD__FM_FEATURE);
    const int *fmp = (const int *)(const void *)&t->cnodes->fm;
    const float *thp = &t->cnodes->thr;
    for (size_t t0 = 0; t0 < t->n_trees; t0 += 32) {
        __m256i dep[4], off[4], lb[4], loc[4], live[4];
        int32_t depth = 0;
        uint32_t lw[32];
        for (int v = 0; v < 4; v++) {
            live[v] = lanes256(t, t0 + 8 * (size_t)v, &dep[v], &off[v], &lb[v], &depth);
            loc[v] = _mm256_setzero_si256();
        }
        for (int32_t d = 0; d < depth; d++)
            for (int v = 0; v < 4; v++) {
                __m256i act = _mm256_cmpgt_epi32(dep[v], _mm256_set1_epi32(d));
                __m256 actf = _mm256_castsi256_ps(act);
                __m256i gi = _mm256_add_epi32(off[v], loc[v]);
                __m256i fm = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), fmp, gi, act, 8);
                __m256 th = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), thp, gi, actf, 8);
                __m256 xv = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), row,
                                                     _mm256_and_si256(fm, fmask), actf, 4);
                __m256i gl = _mm256_castps_si256(_mm256_cmp_ps(xv, th, _CMP_LT_OQ));
                if (!no_nan) {
                    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(xv, xv, _CMP_UNORD_Q));
                    gl = _mm256_or_si256(gl, _mm256_and_si256(nan, _mm256_srai_epi32(fm, 31)));
                }
                __m256i nl = _mm256_add_epi32(_mm256_add_epi32(loc[v], loc[v]),
                                              _mm256_add_epi32(two, gl));
                loc[v] = _mm256_blendv_epi8(loc[v], nl, act);
            }
        for (int v = 0; v < 4; v++) {
            __m256i w = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(),
                                                    (const int *)t->cleaves,
                                                    _mm256_add_epi32(lb[v], loc[v]), live[v], 4);
            _mm256_storeu_si256((__m256i *)(void *)(lw + 8 * v), w);
        }
        pd__trees_add_row_words(t, t0, lw, PD_MIN(32, t->n_trees - t0), a);
    }
}

/* 64 trees at a time: 4 vectors of 16, whose steps are independent so gathers overlap
 * (unrolled, so that the vectors stay in registers). */
__attribute__((target("avx512f"))) static void row_avx512(const pd__trees_t *t,
                                                          const float *row, size_t nf,
                                                          int no_nan, void *a)
{
    __m512 x0, x1;
    int inreg = row_regs(row, nf, &x0, &x1);
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2);
    const __m512i fmask = _mm512_set1_epi32(PD__FM_FEATURE);
    const __m512i sign = _mm512_set1_epi32((int)PD__FM_MISSING_LEFT);
    for (size_t t0 = 0; t0 < t->n_trees; t0 += 64) {
        __m512i dep[4], off[4], lb[4], loc[4], mx = _mm512_setzero_si512();
        __mmask16 live[4];
        uint32_t lw[64];
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            size_t s0 = t0 + 16 * (size_t)v, g = s0 < t->n_trees ? t->n_trees - s0 : 0;
            live[v] = (__mmask16)(g >= 16 ? 0xffffu : (1u << g) - 1);
            dep[v] = _mm512_maskz_loadu_epi32(live[v], t->ct_depth + (g ? s0 : 0));
            off[v] = _mm512_maskz_loadu_epi32(live[v], t->ct_node + (g ? s0 : 0));
            lb[v] = _mm512_maskz_loadu_epi32(live[v], t->ct_lbase + (g ? s0 : 0));
            loc[v] = _mm512_setzero_si512();
            mx = _mm512_max_epi32(mx, dep[v]);
        }
        int32_t depth = _mm512_reduce_max_epi32(mx);
        for (int32_t d = 0; d < depth; d++) {
            __m512i dv = _mm512_set1_epi32(d);
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) {
                __mmask16 act = _mm512_cmpgt_epi32_mask(dep[v], dv);
                __m512i gi = _mm512_add_epi32(off[v], loc[v]);
                __m512 th;
                __m512i fm;
                splits512(t->cnodes, gi, act, &th, &fm);
                __m512 xv = PD__ROW_VALUES(inreg, x0, x1, _mm512_and_si512(fm, fmask), act, row);
                __mmask16 gl = _mm512_cmp_ps_mask(xv, th, _CMP_LT_OQ);
                if (!no_nan)
                    gl |= _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q) &
                          _mm512_test_epi32_mask(fm, sign);
                __m512i p2 = _mm512_add_epi32(_mm512_add_epi32(loc[v], loc[v]), two);
                loc[v] = _mm512_mask_mov_epi32(loc[v], act, _mm512_mask_sub_epi32(p2, gl, p2, one));
            }
        }
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            __m512i w = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live[v],
                                                    _mm512_add_epi32(lb[v], loc[v]),
                                                    t->cleaves, 4);
            _mm512_storeu_si512(lw + 16 * v, w);
        }
        pd__trees_add_row_words(t, t0, lw, PD_MIN(64, t->n_trees - t0), a);
    }
}
#endif

void pd__trees_accumulate_compact(const pd__trees_t *t, const float *xf, size_t nf, size_t n,
                                  int no_nan, void *acc)
{
    size_t es = t->f32acc ? sizeof(float) : sizeof(double), no = t->n_outputs;
    if (n < PD__FEW_ROWS) {
        for (size_t r = 0; r < n; r++) {
            void *a = (char *)acc + r * no * es;
#ifdef PD__X86
            if (t->kernel == PD__TK_AVX512)
                row_avx512(t, xf + r * nf, nf, no_nan, a);
            else if (t->kernel == PD__TK_AVX2)
                row_avx2(t, xf + r * nf, no_nan, a);
            else
#endif
                row_scalar(t, xf + r * nf, no_nan, a);
        }
        return;
    }
    uint32_t lw[PD_MODEL_BLOCK_ROWS];
    for (size_t r0 = 0; r0 < n; r0 += PD_MODEL_BLOCK_ROWS) {
        size_t g = PD_MIN(PD_MODEL_BLOCK_ROWS, n - r0);
        const float *x = xf + r0 * nf;
        void *a = (char *)acc + r0 * no * es;
        for (size_t ti = 0; ti < t->n_trees; ti++) {
            const pd__cnode_t *nd = t->cnodes + t->ct_node[ti];
            const uint32_t *lv = t->cleaves + t->ct_leaf[ti];
            int D = t->trees[ti].depth;
#ifdef PD__X86
            if (t->kernel == PD__TK_AVX512)
                walk_avx512(nd, lv, D, x, nf, g, no_nan, lw);
            else if (t->kernel == PD__TK_AVX2)
                walk_avx2(nd, lv, D, x, nf, g, no_nan, lw);
            else
#endif
                walk_scalar(nd, lv, D, x, nf, g, no_nan, lw);
            pd__trees_add_leaves(t, ti, lw, g, a);
        }
    }
}
