/* tree_simd.h - AVX2 / AVX-512 helpers shared by the walks of tree_fast.c and
 * tree_nodes.c (x86-64 with GCC-compatible compilers only; include after immintrin.h).
 * Functions carry their own target attribute: callers need not be compiled for AVX-512. */
#ifndef PD_MODEL_TREE_SIMD_H
#define PD_MODEL_TREE_SIMD_H

#include <immintrin.h>
#include <stddef.h>

#include "model/tree.h"

/* The row's values at features fi: from the two registers x0:x1 (the row, when it has
 * at most PD__ROW_IN_REGS features; a permute, ~3 cycles) or gathered (~20). */
#define PD__ROW_VALUES(inreg, x0, x1, fi, k, row)                                          \
    ((inreg) ? _mm512_permutex2var_ps((x0), (fi), (x1))                                   \
             : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), (k), (fi), (row), 4))

/* Loads a row of nf floats into x0:x1 when nf <= PD__ROW_IN_REGS (returns 1), else 0. */
__attribute__((target("avx512f"))) static inline int row_regs(const float *row, size_t nf,
                                                             __m512 *x0, __m512 *x1)
{
    *x0 = *x1 = _mm512_setzero_ps();
    if (nf > PD__ROW_IN_REGS)
        return 0;
    *x0 = _mm512_maskz_loadu_ps((__mmask16)(nf >= 16 ? 0xffffu : (1u << nf) - 1), row);
    if (nf > 16)
        *x1 = _mm512_maskz_loadu_ps((__mmask16)(nf >= 32 ? 0xffffu : (1u << (nf - 16)) - 1),
                                    row + 16);
    return 1;
}

/* Lane setup of a batch walk over n rows (1..PD_MODEL_BLOCK_ROWS) of nf features, 16 rows
 * a vector: roff[v] holds each lane's row offset (row * nf; tail lanes repeat the last
 * row, so they redo it harmlessly) and idx[v] starts every lane at node 0. Writes
 * (n + 15) / 16 vectors of each. */
__attribute__((target("avx512f"))) static inline void lanes512_init(size_t n, size_t nf,
                                                                  __m512i *roff, __m512i *idx)
{
    for (size_t v = 0; v < (n + 15) / 16; v++) {
        __m512i r = _mm512_add_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32((int)(16 * v)));
        r = _mm512_min_epi32(r, _mm512_set1_epi32((int)n - 1));
        roff[v] = _mm512_mullo_epi32(r, _mm512_set1_epi32((int)nf));
        idx[v] = _mm512_setzero_si512();
    }
}

/* The same for AVX2: 8 rows a vector, (n + 7) / 8 vectors. */
__attribute__((target("avx2"))) static inline void lanes256_init(size_t n, size_t nf,
                                                               __m256i *roff, __m256i *idx)
{
    for (size_t v = 0; v < (n + 7) / 8; v++) {
        __m256i r = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                     _mm256_set1_epi32((int)(8 * v)));
        r = _mm256_min_epi32(r, _mm256_set1_epi32((int)n - 1));
        roff[v] = _mm256_mullo_epi32(r, _mm256_set1_epi32((int)nf));
        idx[v] = _mm256_setzero_si256();
    }
}

#endif
