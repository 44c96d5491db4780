/*
 * reduce_rows.h: the vectorised row and column kernels of the large
 * reductions (reduce_threads.pxi and the files it names): the float32 sum
 * of a row, max/min, logsumexp and var/std of contiguous rows (a reduction over the last dim)
 * and of column blocks (a reduction over a leading dim, walked row after
 * row).
 *
 * Why these exist beside select_kernels.pxi's serial kernels: a loop that
 * keeps one running max or one float64 sum is one dependency chain and stays
 * scalar (gcc may not reassociate IEEE arithmetic), and a loop that both
 * calls vm_expf and sums stays scalar too. Here each row is walked in
 * independent lanes that gcc turns into vector registers, combined at the
 * end, and exponentials are written to a small buffer by a plain loop
 * before they are summed. Results: max/min exactly the serial kernels';
 * sums and logsumexp in float64 as before (only the order of the float64
 * additions differs, invisible after the final rounding to float32 but for
 * rare ties).
 *
 * NaN: max/min return NaN when the row holds one (as PyTorch, and the serial
 * kernels). The lanes keep `v > m ? v : m`, which skips NaN and compiles to
 * maxps; a second set of lanes notes whether a NaN was seen, and the row is
 * then rescanned in order to return the serial kernel's NaN.
 *
 * x86-64 Linux gcc (the build has no -march): functions are cloned for
 * AVX-512 and AVX2 (target_clones), with plain SSE2 as the default; the
 * float32 row sum has an AVX-512 intrinsics version (see there), chosen at
 * run time, that makes the same additions as the plain one.
 */
#ifndef CGRAD_REDUCE_ROWS_H
#define CGRAD_REDUCE_ROWS_H

#include <math.h>
#include <stdint.h>
#include "vecmath.h"
#include "expf_avx512.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CG_RR_X86 1
#include <immintrin.h>
#define CG_RR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CG_RR_CLONES
#endif

#define CG_RR_LANES 32

/* Software prefetch CG_PF_BYTES ahead of a row walk. On the shared 2-core
 * VM these kernels were measured on, the hardware prefetchers alone left a
 * float32 row sum or max about 20% (CPU time) short of what the same loop
 * reaches with it; a prefetch past the row's end is harmless (prefetches
 * never fault). */
#define CG_PF_BYTES 4096
#if defined(__GNUC__) || defined(__clang__)
#define CG_PREFETCH(p) __builtin_prefetch((const char*)(p) + CG_PF_BYTES)
#else
#define CG_PREFETCH(p) ((void)0)
#endif

/* the extreme of x[0:n] (n >= 1) as the serial kernel walks it: the first
   value, then each later value that beats it or is NaN */
#define CG_EXTREME_SERIAL(NAME, T, CMP)                                            \
static T NAME(const T* x, Py_ssize_t n) {                                          \
    T r = x[0];                                                                    \
    Py_ssize_t i;                                                                  \
    for (i = 1; i < n; i++) {                                                      \
        T v = x[i];                                                                \
        r = ((v CMP r) | (v != v)) ? v : r;                                        \
    }                                                                              \
    return r;                                                                      \
}

/* max (CMP >) or min (CMP <) of x[0:n], n >= 1, in CG_RR_LANES lanes */
#define CG_EXTREME_ROW(NAME, SERIAL, T, IT, CMP)                                   \
CG_RR_CLONES static T NAME(const T* x, Py_ssize_t n) {                             \
    T m[CG_RR_LANES];                                                              \
    IT bad[CG_RR_LANES];                                                           \
    Py_ssize_t i = CG_RR_LANES;                                                    \
    int j;                                                                         \
    if (n < 2 * CG_RR_LANES) return SERIAL(x, n);                                  \
    for (j = 0; j < CG_RR_LANES; j++) {                                            \
        m[j] = x[j];                                                               \
        bad[j] = x[j] != x[j];                                                     \
    }                                                                              \
    for (; i + CG_RR_LANES <= n; i += CG_RR_LANES) {                               \
        /* a lane block is 128 or 256 bytes: one prefetch per 64-byte line */     \
        for (j = 0; j < CG_RR_LANES; j += 64 / (int)sizeof(T))                      \
            CG_PREFETCH(x + i + j);                                                \
        for (j = 0; j < CG_RR_LANES; j++) {                                        \
            T v = x[i + j];                                                        \
            m[j] = v CMP m[j] ? v : m[j];                                          \
            bad[j] |= v != v;                                                      \
        }                                                                          \
    }                                                                              \
    for (; i < n; i++) {                                                           \
        T v = x[i];                                                                \
        m[0] = v CMP m[0] ? v : m[0];                                              \
        bad[0] |= v != v;                                                          \
    }                                                                              \
    IT any = 0;                                                                    \
    for (j = 0; j < CG_RR_LANES; j++) any |= bad[j];                               \
    if (any) return SERIAL(x, n);                                                  \
    T r = m[0];                                                                    \
    for (j = 1; j < CG_RR_LANES; j++) r = m[j] CMP r ? m[j] : r;                   \
    return r;                                                                      \
}

CG_EXTREME_SERIAL(cg_max_serial_f32, float, >)
CG_EXTREME_SERIAL(cg_min_serial_f32, float, <)
CG_EXTREME_SERIAL(cg_max_serial_f64, double, >)
CG_EXTREME_SERIAL(cg_min_serial_f64, double, <)
CG_EXTREME_ROW(cg_max_row_f32, cg_max_serial_f32, float, int32_t, >)
CG_EXTREME_ROW(cg_min_row_f32, cg_min_serial_f32, float, int32_t, <)
CG_EXTREME_ROW(cg_max_row_f64, cg_max_serial_f64, double, int64_t, >)
CG_EXTREME_ROW(cg_min_row_f64, cg_min_serial_f64, double, int64_t, <)

/* acc[i] = extreme over k < n of x[k * ld + i], i < w (n >= 1), NaN
   sticking once met (the serial column kernel's pick), four rows a pass:
   the same picks in the same order, with a quarter of the loads and stores
   of out (8192x8192 float32, half the columns, one thread, CPU time on the
   shared 2-core VM: 11 -> 8 ms) */
#define CG_PICK(v, b, CMP) ((((v) CMP (b)) | ((v) != (v))) ? (v) : (b))
/* r0..r3: rows k..k+3 of x (row stride ld) */
#define CG_FOUR_ROWS(T, x, k, ld)                                                  \
    const T* restrict r0 = (x) + (k) * (ld);                                       \
    const T* restrict r1 = r0 + (ld);                                              \
    const T* restrict r2 = r1 + (ld);                                              \
    const T* restrict r3 = r2 + (ld)
#define CG_EXTREME_COLS(NAME, T, CMP)                                              \
CG_RR_CLONES static void NAME(const T* restrict x, Py_ssize_t n, Py_ssize_t ld,   \
                              Py_ssize_t w, T* restrict out) {                     \
    Py_ssize_t k = 1, i;                                                           \
    for (i = 0; i < w; i++) out[i] = x[i];                                         \
    for (; k + 4 <= n; k += 4) {                                                   \
        CG_FOUR_ROWS(T, x, k, ld);                                                 \
        for (i = 0; i < w; i++) {                                                  \
            T b = out[i];                                                          \
            b = CG_PICK(r0[i], b, CMP);                                            \
            b = CG_PICK(r1[i], b, CMP);                                            \
            b = CG_PICK(r2[i], b, CMP);                                            \
            out[i] = CG_PICK(r3[i], b, CMP);                                       \
        }                                                                          \
    }                                                                              \
    for (; k < n; k++) {                                                           \
        const T* restrict r = x + k * ld;                                          \
        for (i = 0; i < w; i++) out[i] = CG_PICK(r[i], out[i], CMP);               \
    }                                                                              \
}

CG_EXTREME_COLS(cg_max_cols_f32, float, >)
CG_EXTREME_COLS(cg_min_cols_f32, float, <)
CG_EXTREME_COLS(cg_max_cols_f64, double, >)
CG_EXTREME_COLS(cg_min_cols_f64, double, <)

/* the shift logsumexp subtracts: the max, 0 when infinite (PyTorch's rule) */
static inline double cg_lse_shift(double m) {
    return (m == INFINITY || m == -INFINITY) ? 0.0 : m;
}

#define CG_EXP_CHUNK 256

/* e[i] = exp(x[i] - m), i < n: a plain loop over a chunk, as the pointwise
   kernels write it, so that gcc vectorises vm_expf (inside a loop that also
   sums, it stays scalar); with AVX-512F and FMA, expf_avx512.h's fused row
   (vm_expf's bits) */
static inline void cg_exp_shifted_f32(const float* restrict x, const float* restrict m,
                                      Py_ssize_t m_step, Py_ssize_t n, float* restrict e) {
    Py_ssize_t i;
#ifdef CG_EXPF_AVX512
    if (cg_expf_avx512_ok()) {
        cg_expf_row_avx512(x, m, m_step, e, n);
        return;
    }
#endif
    if (m_step == 0) {
        float mf = m[0];
        for (i = 0; i < n; i++) e[i] = vm_expf(x[i] - mf);
    } else {
        for (i = 0; i < n; i++) e[i] = vm_expf(x[i] - m[i]);
    }
}

/* sum of exp(x[i] - m), i < n, in float64: exponentials in float32 by
   chunks, summed in CG_RR_LANES lanes (added pairwise at the end) */
CG_RR_CLONES static double cg_exp_sum_f32(const float* x, Py_ssize_t n, float m) {
    float e[CG_EXP_CHUNK];
    double s[CG_RR_LANES] = {0};
    Py_ssize_t b, i, len;
    int j, h;
    double t = 0;
    b = 0;
#ifdef CG_EXPF_AVX512
    /* the full chunks in one fused pass (the same lane additions) */
    if (cg_expf_avx512_ok() && CG_RR_LANES == 32) {
        b = n / CG_EXP_CHUNK * CG_EXP_CHUNK;
        cg_expf_sum32_avx512(x, m, b, s);
    }
#endif
    for (; b < n; b += CG_EXP_CHUNK) {
        len = n - b < CG_EXP_CHUNK ? n - b : CG_EXP_CHUNK;
        cg_exp_shifted_f32(x + b, &m, 0, len, e);
        if (len == CG_EXP_CHUNK) {
            for (i = 0; i < CG_EXP_CHUNK; i += CG_RR_LANES)
                for (j = 0; j < CG_RR_LANES; j++) s[j] += (double)e[i + j];
        } else {
            for (i = 0; i < len; i++) t += (double)e[i];
        }
    }
    for (h = CG_RR_LANES / 2; h > 0; h /= 2)
        for (j = 0; j < h; j++) s[j] += s[j + h];
    return t + s[0];
}

/* float64: glibc's exp (faster than a 2-lane polynomial); the lanes only
   break the sum's dependency chain */
static double cg_exp_sum_f64(const double* x, Py_ssize_t n, double m) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += exp(x[i] - m);
        s1 += exp(x[i + 1] - m);
        s2 += exp(x[i + 2] - m);
        s3 += exp(x[i + 3] - m);
    }
    s0 = (s0 + s1) + (s2 + s3);
    for (; i < n; i++) s0 += exp(x[i] - m);
    return s0;
}

/* logsumexp of x[0:n] (n >= 1): log(sum(exp(x - m))) + m, m the row's max
   (NaN winning, 0 when infinite) */
static float cg_lse_row_f32(const float* x, Py_ssize_t n) {
    double md = cg_lse_shift((double)cg_max_row_f32(x, n));
    return (float)(log(cg_exp_sum_f32(x, n, (float)md)) + md);
}

static double cg_lse_row_f64(const double* x, Py_ssize_t n) {
    double md = cg_lse_shift(cg_max_row_f64(x, n));
    return log(cg_exp_sum_f64(x, n, md)) + md;
}

/* out[i] = logsumexp over k < n of x[k * ld + i], i < w (n >= 1); mx and
   sm: w floats and w doubles of scratch */
CG_RR_CLONES static void cg_lse_cols_f32(const float* restrict x, Py_ssize_t n, Py_ssize_t ld,
                                         Py_ssize_t w, float* restrict out,
                                         float* restrict mx, double* restrict sm) {
    Py_ssize_t k, i;
    cg_max_cols_f32(x, n, ld, w, mx);
    for (i = 0; i < w; i++) {
        mx[i] = (float)cg_lse_shift((double)mx[i]);
        sm[i] = 0;
    }
    float e[CG_EXP_CHUNK];
    Py_ssize_t c, len;
    Py_ssize_t k0 = 0;
#ifdef CG_EXPF_AVX512
    /* each row's exponentials added in one fused pass (the same additions) */
    if (cg_expf_avx512_ok())
        for (; k0 < n; k0++)
            cg_expf_addcols_avx512(x + k0 * ld, mx, sm, w);
#endif
    for (k = k0; k < n; k++) {
        const float* restrict r = x + k * ld;
        for (c = 0; c < w; c += CG_EXP_CHUNK) {
            len = w - c < CG_EXP_CHUNK ? w - c : CG_EXP_CHUNK;
            cg_exp_shifted_f32(r + c, mx + c, 1, len, e);
            for (i = 0; i < len; i++) sm[c + i] += (double)e[i];
        }
    }
    for (i = 0; i < w; i++) out[i] = (float)(log(sm[i]) + (double)mx[i]);
}

static void cg_lse_cols_f64(const double* restrict x, Py_ssize_t n, Py_ssize_t ld,
                            Py_ssize_t w, double* restrict out,
                            double* restrict mx, double* restrict sm) {
    Py_ssize_t k, i;
    cg_max_cols_f64(x, n, ld, w, mx);
    for (i = 0; i < w; i++) {
        mx[i] = cg_lse_shift(mx[i]);
        sm[i] = 0;
    }
    for (k = 0; k < n; k++) {
        const double* restrict r = x + k * ld;
        for (i = 0; i < w; i++) sm[i] += exp(r[i] - mx[i]);
    }
    for (i = 0; i < w; i++) out[i] = log(sm[i]) + mx[i];
}

/* var and std: the sum of squared deviations (x[i] - m)^2 of x[0:n] in
   float64, in CG_RR_LANES lanes (added pairwise at the end), the rest one by
   one */
#define CG_SQDEV_ROW(NAME, T)                                                      \
CG_RR_CLONES static double NAME(const T* x, Py_ssize_t n, double m) {              \
    double s[CG_RR_LANES] = {0};                                                   \
    Py_ssize_t i = 0;                                                              \
    int j, h;                                                                      \
    for (; i + CG_RR_LANES <= n; i += CG_RR_LANES) {                               \
        for (j = 0; j < CG_RR_LANES; j += 64 / (int)sizeof(T))                      \
            CG_PREFETCH(x + i + j);                                                \
        for (j = 0; j < CG_RR_LANES; j++) {                                        \
            double d = (double)x[i + j] - m;                                       \
            s[j] += d * d;                                                         \
        }                                                                          \
    }                                                                              \
    for (h = CG_RR_LANES / 2; h > 0; h /= 2)                                       \
        for (j = 0; j < h; j++) s[j] += s[j + h];                                  \
    double t = s[0];                                                               \
    for (; i < n; i++) {                                                           \
        double d = (double)x[i] - m;                                               \
        t += d * d;                                                                \
    }                                                                              \
    return t;                                                                      \
}

CG_SQDEV_ROW(cg_sqdev_row_f32, float)
CG_SQDEV_ROW(cg_sqdev_row_f64, double)

/* var and std over a leading dim: mean[i] and m2[i] (the sum of squared
   deviations) of column i < w of n >= 1 rows (row stride ld), each column
   walked in row order: the very additions of select_kernels.pxi's serial
   var_kernel, on wider vectors, four rows a pass (as CG_EXTREME_COLS: the
   same additions in the same order; 8192x8192 float32, half the columns,
   one thread: 23 -> 16.5 ms) */
#define CG_VAR_COLS(NAME, T)                                                       \
CG_RR_CLONES static void NAME(const T* restrict x, Py_ssize_t n, Py_ssize_t ld,   \
                              Py_ssize_t w, double* restrict mean,                 \
                              double* restrict m2) {                               \
    Py_ssize_t k, i;                                                               \
    for (i = 0; i < w; i++) {                                                      \
        mean[i] = 0;                                                               \
        m2[i] = 0;                                                                 \
    }                                                                              \
    for (k = 0; k + 4 <= n; k += 4) {                                              \
        CG_FOUR_ROWS(T, x, k, ld);                                                 \
        for (i = 0; i < w; i++)                                                    \
            mean[i] = (((mean[i] + (double)r0[i]) + (double)r1[i]) + (double)r2[i]) \
                      + (double)r3[i];                                             \
    }                                                                              \
    for (; k < n; k++) {                                                           \
        const T* restrict r = x + k * ld;                                          \
        for (i = 0; i < w; i++) mean[i] += (double)r[i];                           \
    }                                                                              \
    for (i = 0; i < w; i++) mean[i] /= (double)n;                                  \
    for (k = 0; k + 4 <= n; k += 4) {                                              \
        CG_FOUR_ROWS(T, x, k, ld);                                                 \
        for (i = 0; i < w; i++) {                                                  \
            double m = mean[i];                                                    \
            double d0 = (double)r0[i] - m, d1 = (double)r1[i] - m;                 \
            double d2 = (double)r2[i] - m, d3 = (double)r3[i] - m;                 \
            m2[i] = (((m2[i] + d0 * d0) + d1 * d1) + d2 * d2) + d3 * d3;           \
        }                                                                          \
    }                                                                              \
    for (; k < n; k++) {                                                           \
        const T* restrict r = x + k * ld;                                          \
        for (i = 0; i < w; i++) {                                                  \
            double d = (double)r[i] - mean[i];                                     \
            m2[i] += d * d;                                                        \
        }                                                                          \
    }                                                                              \
}

CG_VAR_COLS(cg_var_cols_f32, float)
CG_VAR_COLS(cg_var_cols_f64, double)

/* float32 row sums in float64: 64 lanes within blocks of CG_SUM_BLOCK
   elements, the lanes added pairwise, the blocks' totals in order, the
   rest of a block one by one. The same additions on every CPU: AVX-512
   (eight registers of eight float64, converted straight from memory: the
   plain loop gcc writes does not keep up with memory there), or the plain
   loop, cloned for AVX2. */
#define CG_SUM_BLOCK 4096
#define CG_SUM_LANES 64

static double cg_sum_lanes_total(double* a, const float* x, Py_ssize_t i, Py_ssize_t e) {
    int j, h;
    for (h = CG_SUM_LANES / 2; h > 0; h /= 2)
        for (j = 0; j < h; j++) a[j] += a[j + h];
    double s = a[0];
    for (; i < e; i++) s += (double)x[i];
    return s;
}

__attribute__((target_clones("avx2", "default")))
static double cg_sum_row_f32_lanes(const float* x, Py_ssize_t n) {
    double total = 0;
    Py_ssize_t b = 0;
    while (b < n) {
        Py_ssize_t e = n - b > CG_SUM_BLOCK ? b + CG_SUM_BLOCK : n, i = b;
        double a[CG_SUM_LANES] = {0};
        int j;
        for (; i + CG_SUM_LANES <= e; i += CG_SUM_LANES) {
            for (j = 0; j < CG_SUM_LANES; j += 16)
                CG_PREFETCH(x + i + j);
            for (j = 0; j < CG_SUM_LANES; j++) a[j] += (double)x[i + j];
        }
        total += cg_sum_lanes_total(a, x, i, e);
        b = e;
    }
    return total;
}

#ifdef CG_RR_X86
__attribute__((target("avx512f")))
static double cg_sum_row_f32_avx512(const float* x, Py_ssize_t n) {
    double total = 0;
    Py_ssize_t b = 0;
    while (b < n) {
        Py_ssize_t e = n - b > CG_SUM_BLOCK ? b + CG_SUM_BLOCK : n, i = b;
        __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        double a[CG_SUM_LANES];
        for (; i + CG_SUM_LANES <= e; i += CG_SUM_LANES) {
            CG_PREFETCH(x + i);
            CG_PREFETCH(x + i + 16);
            CG_PREFETCH(x + i + 32);
            CG_PREFETCH(x + i + 48);
            a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
            a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)));
            a2 = _mm512_add_pd(a2, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 16)));
            a3 = _mm512_add_pd(a3, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 24)));
            a4 = _mm512_add_pd(a4, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 32)));
            a5 = _mm512_add_pd(a5, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 40)));
            a6 = _mm512_add_pd(a6, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 48)));
            a7 = _mm512_add_pd(a7, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 56)));
        }
        _mm512_storeu_pd(a, a0);
        _mm512_storeu_pd(a + 8, a1);
        _mm512_storeu_pd(a + 16, a2);
        _mm512_storeu_pd(a + 24, a3);
        _mm512_storeu_pd(a + 32, a4);
        _mm512_storeu_pd(a + 40, a5);
        _mm512_storeu_pd(a + 48, a6);
        _mm512_storeu_pd(a + 56, a7);
        total += cg_sum_lanes_total(a, x, i, e);
        b = e;
    }
    return total;
}
#endif

static double cg_sum_row_f32(const float* x, Py_ssize_t n) {
#ifdef CG_RR_X86
    static int avx512 = -1;         /* a benign race: every thread writes the same */
    if (avx512 < 0)
        avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
    if (avx512)
        return cg_sum_row_f32_avx512(x, n);
#endif
    return cg_sum_row_f32_lanes(x, n);
}

#endif
