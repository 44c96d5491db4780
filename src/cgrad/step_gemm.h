/*
 * step_gemm.h: the recurrent layers' per-step float32 product with a weight
 * packed once per layer call (ops/nn/ops_rnn.pxi).
 *
 * Why not BLAS here: a step multiplies a small batch (32 x 256) by the same
 * large weight (256 x 1024) 64 times, and OpenBLAS repacks that weight at
 * every call: about half of each 0.2 ms step is spent copying 1 MB, not
 * multiplying. Packing it once into column panels of 32 and running a
 * register-blocked AVX-512 kernel over them takes that copy out of the
 * loop. CPUs without AVX-512 (and float64) keep BLAS: cg_step_gemm_ready()
 * says which.
 *
 * The input products of all steps (one tall product per layer call) run on
 * the same kernel, their biases added as the accumulators' start.
 *
 * The kernel keeps an 8-row by 32-column block of C in 16 zmm registers and
 * walks K, each step one broadcast of A's element per row and two loads of
 * the panel; rows past the last full block of 8 run the same kernel with
 * fewer rows, columns past the last full panel are masked. Each output is
 * C + sum_k A[i,k] B[k,j] accumulated in k order with fused multiply-adds
 * (as BLAS kernels do; the order and rounding differ from OpenBLAS's, as
 * two BLAS libraries differ).
 */
#ifndef CGRAD_STEP_GEMM_H
#define CGRAD_STEP_GEMM_H

#include <stddef.h>
#include <string.h>

#define CG_SG_NR 32
#define CG_SG_MR 8

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#include <immintrin.h>

static int cg_step_gemm_ready(void)
{
    static int ready = -1;
    if (ready < 0) {
        __builtin_cpu_init();
        ready = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return ready;
}

/* floats of the packed copy of a K x N weight */
static inline size_t cg_step_gemm_packed_size(ptrdiff_t K, ptrdiff_t N)
{
    return (size_t)K * (size_t)((N + CG_SG_NR - 1) / CG_SG_NR) * CG_SG_NR;
}

/* Bp[panel][k][0..31] = B[k][panel * 32 + 0..31] (B row-major, K x N,
   leading dimension ldb), the last panel zero-padded. */
static void cg_step_gemm_pack(const float* B, ptrdiff_t ldb, ptrdiff_t K, ptrdiff_t N, float* Bp)
{
    ptrdiff_t p, k, panels = (N + CG_SG_NR - 1) / CG_SG_NR;
    for (p = 0; p < panels; p++) {
        ptrdiff_t j0 = p * CG_SG_NR, w = N - j0 < CG_SG_NR ? N - j0 : CG_SG_NR;
        float* dst = Bp + (size_t)p * K * CG_SG_NR;
        for (k = 0; k < K; k++) {
            memcpy(dst + k * CG_SG_NR, B + k * ldb + j0, (size_t)w * sizeof(float));
            if (w < CG_SG_NR)
                memset(dst + k * CG_SG_NR + w, 0, (size_t)(CG_SG_NR - w) * sizeof(float));
        }
    }
}

/* The same packing of B = Bt^T, from Bt (N x K row-major, leading
   dimension ldbt): a weight stored output-major, as nn layers store theirs. */
static void cg_step_gemm_pack_t(const float* Bt, ptrdiff_t ldbt, ptrdiff_t K, ptrdiff_t N, float* Bp)
{
    ptrdiff_t p, k, j, panels = (N + CG_SG_NR - 1) / CG_SG_NR;
    for (p = 0; p < panels; p++) {
        ptrdiff_t j0 = p * CG_SG_NR, w = N - j0 < CG_SG_NR ? N - j0 : CG_SG_NR;
        float* dst = Bp + (size_t)p * K * CG_SG_NR;
        for (j = 0; j < CG_SG_NR; j++)      /* Bt's rows read in order; the panel stays in L1 */
            for (k = 0; k < K; k++)
                dst[k * CG_SG_NR + j] = j < w ? Bt[(j0 + j) * ldbt + k] : 0.0f;
    }
}

/* C[0:mr, j0:j0+32] (masked to w columns) (+)= A[0:mr, :] Bpanel */
__attribute__((target("avx512f"), always_inline))
static inline void cg_sg_block(int mr, ptrdiff_t K, const float* A, ptrdiff_t lda, const float* Bpanel,
                               int accumulate, const float* row, float* C, ptrdiff_t ldc, __mmask16 m0,
                               __mmask16 m1)
{
    __m512 c0[CG_SG_MR], c1[CG_SG_MR];
    __m512 r0 = row ? _mm512_maskz_loadu_ps(m0, row) : _mm512_setzero_ps();
    __m512 r1 = row ? _mm512_maskz_loadu_ps(m1, row + 16) : _mm512_setzero_ps();
    ptrdiff_t k;
    int i;
    for (i = 0; i < mr; i++) {
        c0[i] = accumulate ? _mm512_maskz_loadu_ps(m0, C + i * ldc) : r0;
        c1[i] = accumulate ? _mm512_maskz_loadu_ps(m1, C + i * ldc + 16) : r1;
    }
    for (k = 0; k < K; k++) {
        __m512 b0 = _mm512_loadu_ps(Bpanel + k * CG_SG_NR);
        __m512 b1 = _mm512_loadu_ps(Bpanel + k * CG_SG_NR + 16);
        for (i = 0; i < mr; i++) {
            __m512 a = _mm512_set1_ps(A[i * lda + k]);
            c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
        }
    }
    for (i = 0; i < mr; i++) {
        _mm512_mask_storeu_ps(C + i * ldc, m0, c0[i]);
        _mm512_mask_storeu_ps(C + i * ldc + 16, m1, c1[i]);
    }
}

/* the row count as a constant, so each block's accumulators stay in registers */
#define CG_SG_ROWS(R) case R: cg_sg_block(R, K, A, lda, Bpanel, accumulate, row, C, ldc, m0, m1); break;

__attribute__((target("avx512f")))
static void cg_sg_rows(int mr, ptrdiff_t K, const float* A, ptrdiff_t lda, const float* Bpanel, int accumulate,
                       const float* row, float* C, ptrdiff_t ldc, __mmask16 m0, __mmask16 m1)
{
    switch (mr) {
        CG_SG_ROWS(1) CG_SG_ROWS(2) CG_SG_ROWS(3) CG_SG_ROWS(4)
        CG_SG_ROWS(5) CG_SG_ROWS(6) CG_SG_ROWS(7) CG_SG_ROWS(8)
        default: break;
    }
}

/* Rows of A taken per sweep over the panels: a 32 KB block of A (K = 256)
   stays in L2 while every panel passes it, so a tall A (the input products
   of all steps at once) is read once per panel sweep, not once per panel. */
#define CG_SG_MC 128

/* C (M x N, ldc) = A (M x K, lda) Bp, or C += it when accumulate, or
   C = row + A Bp for every row when row (N floats) is given; Bp from
   cg_step_gemm_pack(_t). Only where cg_step_gemm_ready(). */
__attribute__((target("avx512f")))
static void cg_step_gemm(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, const float* A, ptrdiff_t lda, const float* Bp,
                         int accumulate, const float* row, float* C, ptrdiff_t ldc)
{
    ptrdiff_t p, i, i0, panels = (N + CG_SG_NR - 1) / CG_SG_NR;
    for (i0 = 0; i0 < M; i0 += CG_SG_MC) {
        ptrdiff_t i1 = M - i0 < CG_SG_MC ? M : i0 + CG_SG_MC;
        for (p = 0; p < panels; p++) {
            ptrdiff_t j0 = p * CG_SG_NR, w = N - j0 < CG_SG_NR ? N - j0 : CG_SG_NR;
            __mmask16 m0 = (__mmask16)(w >= 16 ? 0xFFFF : (1u << w) - 1);
            __mmask16 m1 = (__mmask16)(w >= 32 ? 0xFFFF : (w > 16 ? (1u << (w - 16)) - 1 : 0));
            const float* Bpanel = Bp + (size_t)p * K * CG_SG_NR;
            for (i = i0; i < i1; i += CG_SG_MR) {
                int mr = (int)(i1 - i < CG_SG_MR ? i1 - i : CG_SG_MR);
                cg_sg_rows(mr, K, A + i * lda, lda, Bpanel, accumulate, row ? row + j0 : NULL, C + i * ldc + j0,
                           ldc, m0, m1);
            }
        }
    }
}

#else   /* no AVX-512 kernel: the recurrent layers keep BLAS */

static int cg_step_gemm_ready(void) { return 0; }
static inline size_t cg_step_gemm_packed_size(ptrdiff_t K, ptrdiff_t N) { (void)K; (void)N; return 0; }
static void cg_step_gemm_pack(const float* B, ptrdiff_t ldb, ptrdiff_t K, ptrdiff_t N, float* Bp)
{ (void)B; (void)ldb; (void)K; (void)N; (void)Bp; }
static void cg_step_gemm_pack_t(const float* Bt, ptrdiff_t ldbt, ptrdiff_t K, ptrdiff_t N, float* Bp)
{ (void)Bt; (void)ldbt; (void)K; (void)N; (void)Bp; }
static void cg_step_gemm(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, const float* A, ptrdiff_t lda, const float* Bp,
                         int accumulate, const float* row, float* C, ptrdiff_t ldc)
{ (void)M; (void)N; (void)K; (void)A; (void)lda; (void)Bp; (void)accumulate; (void)row; (void)C; (void)ldc; }

#endif

#endif /* CGRAD_STEP_GEMM_H */
