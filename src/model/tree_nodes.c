/* tree_nodes.c - AVX2 and AVX-512 walks over the node arrays (pd__node32_t) of float32
 * ensembles too deep or sparse for the complete layout (tree_fast.c), such as random
 * forests of depth 12. Every row of the block walks a tree at once (4 zmm vectors of 16
 * rows, or 8 ymm vectors of 8), so that many node and feature loads, which miss the
 * caches for a multi-megabyte forest, are in flight together.
 *
 * Relies on the node array's invariant (tree_build.c): a split's children are adjacent
 * (right == left + 1, breadth-first numbering) and a leaf's left is itself, so a step
 * loads left only: next = left + (goes right and not a leaf). The comparison and NaN rule
 * are tree.c's; leaves are added in tree order (pd__trees_add_leaves), so results are
 * bit-identical to the scalar walk. */
#include "common.h"
#include "model/tree.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "model/tree_simd.h"

/* Rows [0, n) of x (n <= PD_MODEL_BLOCK_ROWS) through the tree at nd of depth D; leaf
 * words (node field thr/leaf) into out (PD_MODEL_BLOCK_ROWS entries). */
__attribute__((target("avx512f"))) static void walk512(const pd__node32_t *nd, int D,
                                                       const float *x, size_t nf, size_t n,
                                                       int no_nan, uint32_t *out)
{
    const __m512i one = _mm512_set1_epi32(1), fmask = _mm512_set1_epi32(PD__FM_FEATURE);
    const __m512i sign = _mm512_set1_epi32((int)PD__FM_MISSING_LEFT);
    const char *b = (const char *)nd;
    const void *fmp = b + offsetof(pd__node32_t, fm), *thp = b + offsetof(pd__node32_t, thr);
    const void *lp = b + offsetof(pd__node32_t, left);
    __m512i idx[PD_MODEL_BLOCK_ROWS / 16], roff[PD_MODEL_BLOCK_ROWS / 16];
    size_t nv = (n + 15) / 16;
    lanes512_init(n, nf, roff, idx);
    for (int d = 0; d < D; d++)
        for (size_t v = 0; v < nv; v++) {
            __m512i i4 = _mm512_slli_epi32(idx[v], 2); /* 16-byte nodes, 4-byte scale */
            __m512i fm = _mm512_i32gather_epi32(i4, fmp, 4);
            __m512 th = _mm512_i32gather_ps(i4, thp, 4);
            __m512i left = _mm512_i32gather_epi32(i4, lp, 4);
            __m512 xv = _mm512_i32gather_ps(_mm512_add_epi32(roff[v], _mm512_and_si512(fm, fmask)),
                                            x, 4);
            __mmask16 gl = _mm512_cmp_ps_mask(xv, th, _CMP_LT_OQ);
            if (!no_nan)
                gl |= _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q) & _mm512_test_epi32_mask(fm, sign);
            __mmask16 stay = gl | _mm512_cmpeq_epi32_mask(left, idx[v]); /* left, or a leaf */
            idx[v] = _mm512_mask_add_epi32(left, (__mmask16)~stay, left, one);
        }
    for (size_t v = 0; v < nv; v++)
        _mm512_storeu_si512(out + 16 * v,
                            _mm512_i32gather_epi32(_mm512_slli_epi32(idx[v], 2), thp, 4));
}

/* One row through every tree, 64 trees side by side (4 vectors of 16; a leaf loops on
 * itself, so lanes past their tree's depth stay); leaves added in tree order. */
__attribute__((target("avx512f"))) static void row512(const pd__trees_t *t, const float *row,
                                                      size_t nf, int no_nan, void *a)
{
    __m512 x0, x1;
    int inreg = row_regs(row, nf, &x0, &x1);
    const __m512i one = _mm512_set1_epi32(1), fmask = _mm512_set1_epi32(PD__FM_FEATURE);
    const __m512i sign = _mm512_set1_epi32((int)PD__FM_MISSING_LEFT);
    const char *b = (const char *)t->nodes32;
    const void *fmp = b + offsetof(pd__node32_t, fm), *thp = b + offsetof(pd__node32_t, thr);
    const void *lp = b + offsetof(pd__node32_t, left);
    for (size_t t0 = 0; t0 < t->n_trees; t0 += 64) {
        __m512i off[4], loc[4], mx = _mm512_setzero_si512();
        __mmask16 live[4];
        uint32_t lw[64];
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            size_t s0 = t0 + 16 * (size_t)v, g = s0 < t->n_trees ? t->n_trees - s0 : 0;
            live[v] = (__mmask16)(g >= 16 ? 0xffffu : (1u << g) - 1);
            off[v] = _mm512_maskz_loadu_epi32(live[v], t->ct_node + (g ? s0 : 0));
            mx = _mm512_max_epi32(mx, _mm512_maskz_loadu_epi32(live[v], t->ct_depth + (g ? s0 : 0)));
            loc[v] = _mm512_setzero_si512();
        }
        int32_t depth = _mm512_reduce_max_epi32(mx);
        for (int32_t d = 0; d < depth; d++)
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) {
                __m512i i4 = _mm512_slli_epi32(_mm512_add_epi32(off[v], loc[v]), 2);
                __mmask16 k = live[v];
                __m512i z = _mm512_setzero_si512();
                __m512i fm = _mm512_mask_i32gather_epi32(z, k, i4, fmp, 4);
                __m512 th = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, i4, thp, 4);
                __m512i left = _mm512_mask_i32gather_epi32(z, k, i4, lp, 4);
                __m512 xv = PD__ROW_VALUES(inreg, x0, x1, _mm512_and_si512(fm, fmask), k, row);
                __mmask16 gl = _mm512_cmp_ps_mask(xv, th, _CMP_LT_OQ);
                if (!no_nan)
                    gl |= _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q) &
                          _mm512_test_epi32_mask(fm, sign);
                __mmask16 stay = gl | _mm512_cmpeq_epi32_mask(left, loc[v]);
                loc[v] = _mm512_mask_add_epi32(left, (__mmask16)~stay, left, one);
            }
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            __m512i i4 = _mm512_slli_epi32(_mm512_add_epi32(off[v], loc[v]), 2);
            _mm512_storeu_si512(lw + 16 * v, _mm512_mask_i32gather_epi32(
                                                 _mm512_setzero_si512(), live[v], i4, thp, 4));
        }
        pd__trees_add_row_words(t, t0, lw, PD_MIN(64, t->n_trees - t0), a);
    }
}

__attribute__((target("avx2"))) static void walk256(const pd__node32_t *nd, int D,
                                                    const float *x, size_t nf, size_t n,
                                                    int no_nan, uint32_t *out)
{
    const __m256i one = _mm256_set1_epi32(1), fmask = _mm256_set1_epi32(PD__FM_FEATURE);
    const char *b = (const char *)nd;
    const int *fmp = (const int *)(const void *)(b + offsetof(pd__node32_t, fm));
    const float *thp = (const float *)(const void *)(b + offsetof(pd__node32_t, thr));
    const int *lp = (const int *)(const void *)(b + offsetof(pd__node32_t, left));
    __m256i idx[PD_MODEL_BLOCK_ROWS / 8], roff[PD_MODEL_BLOCK_ROWS / 8];
    size_t nv = (n + 7) / 8;
    lanes256_init(n, nf, roff, idx);
    for (int d = 0; d < D; d++)
        for (size_t v = 0; v < nv; v++) {
            __m256i i4 = _mm256_slli_epi32(idx[v], 2);
            __m256i fm = _mm256_i32gather_epi32(fmp, i4, 4);
            __m256 th = _mm256_i32gather_ps(thp, i4, 4);
            __m256i left = _mm256_i32gather_epi32(lp, i4, 4);
            __m256 xv = _mm256_i32gather_ps(
                x, _mm256_add_epi32(roff[v], _mm256_and_si256(fm, fmask)), 4);
            __m256i gl = _mm256_castps_si256(_mm256_cmp_ps(xv, th, _CMP_LT_OQ));
            if (!no_nan) {
                __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(xv, xv, _CMP_UNORD_Q));
                gl = _mm256_or_si256(gl, _mm256_and_si256(nan, _mm256_srai_epi32(fm, 31)));
            }
            __m256i stay = _mm256_or_si256(gl, _mm256_cmpeq_epi32(left, idx[v]));
            idx[v] = _mm256_add_epi32(left, _mm256_andnot_si256(stay, one));
        }
    for (size_t v = 0; v < nv; v++)
        _mm256_storeu_si256((__m256i *)(void *)(out + 8 * v),
                            _mm256_i32gather_epi32((const int *)thp,
                                                   _mm256_slli_epi32(idx[v], 2), 4));
}
#endif

void pd__trees_accumulate_nodes(const pd__trees_t *t, const float *xf, size_t nf, size_t n,
                                int no_nan, void *acc)
{
    size_t es = t->f32acc ? sizeof(float) : sizeof(double), no = t->n_outputs;
    uint32_t lw[PD_MODEL_BLOCK_ROWS];
#if defined(__x86_64__) && defined(__GNUC__)
    if (n < 4) { /* PD__FEW_ROWS; reached with AVX-512 and ct_node only (tree.c) */
        for (size_t r = 0; r < n; r++)
            row512(t, xf + r * nf, nf, no_nan, (char *)acc + r * no * es);
        return;
    }
#endif
    for (size_t r0 = 0; r0 < n; r0 += PD_MODEL_BLOCK_ROWS) {
        size_t g = PD_MIN(PD_MODEL_BLOCK_ROWS, n - r0);
        const float *x = xf + r0 * nf;
        void *a = (char *)acc + r0 * no * es;
        for (size_t ti = 0; ti < t->n_trees; ti++) {
            const pd__node32_t *nd = t->nodes32 + t->trees[ti].node_off;
#if defined(__x86_64__) && defined(__GNUC__)
            if (t->kernel == PD__TK_AVX512)
                walk512(nd, t->trees[ti].depth, x, nf, g, no_nan, lw);
            else
                walk256(nd, t->trees[ti].depth, x, nf, g, no_nan, lw);
#else
            (void)nd, (void)x, (void)no_nan;
            return; /* not reached: these variants exist on x86-64 only */
#endif
            pd__trees_add_leaves(t, ti, lw, g, a);
        }
    }
}
