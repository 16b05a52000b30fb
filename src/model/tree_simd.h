/* tree_simd.h - AVX-512 helpers shared by the single-row walks of tree_fast.c and
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

#endif
