/*
 * expf_avx512.h: vecmath.h's float32 exp (vm_expf) over contiguous rows,
 * sixteen lanes at a time with AVX-512 and FMA, giving vm_expf's bits for
 * every input: the exp row (vec_rows.h) and logsumexp's exponentials and
 * their float64 sums (reduce_rows.h: rows, columns, long vectors).
 *
 * Why: vm_expf computes e^x in double (a degree-5 polynomial on the reduced
 * argument) and rounds once to float. The target_clones loops over it
 * already run eight doubles a register, but without FMA (cgrad builds with
 * -ffp-contract=off, so that every CPU rounds the same): about 25 double
 * operations per eight lanes, and float32 exp and logsumexp of large
 * tensors are bound by that arithmetic, not by memory. Here the same
 * algorithm uses fused multiply-adds (the reduction r = x - n ln2 and the
 * polynomial: 7 fmas for 12 operations) and takes 2^n from the bits the
 * rounding of n already made: 15 double operations. Measured (C harness,
 * one thread, an 8192-float row in cache, the shared 2-core Zen 4 VM):
 * exp 0.73 -> 0.61 ns an element; logsumexp of a row, with the sum fused,
 * 0.94-1.05 -> 0.78-0.85; of columns 1.20-1.34 -> 1.06-1.13.
 *
 * Identical bits: the fused form's double result differs from vm_expf's
 * unrounded one by at most 62 units in its last place (vm_expf's n ln2 is
 * rounded, which shows for |x| near 87), so their roundings to float
 * differ only where that double lies that close to a float rounding
 * midpoint. Such lanes (the 29 bits that the rounding drops within
 * CG_EXPF_NEAR of half their range), and every lane whose result is not a
 * normal float or that is NaN (x outside [-87, 88]), send their 16-lane
 * block to vm_expf itself (about one block in 65,000 of random in-range
 * inputs). So each element's result is vm_expf's by construction;
 * bench/check_expf_bits.c checks it for all 2^32 float32 inputs (0
 * mismatches) and measures the largest difference the margin must cover.
 * The fallback is vm_expf only because cgrad builds with
 * -ffp-contract=off: inside these FMA-enabled functions gcc would
 * otherwise contract vm_expf's own arithmetic.
 *
 * Only x86-64 Linux gcc (as the other headers' clones); callers check
 * cg_expf_avx512_ok() and keep their loops over vm_expf otherwise.
 */
#ifndef CGRAD_EXPF_AVX512_H
#define CGRAD_EXPF_AVX512_H

#include "vecmath.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CG_EXPF_AVX512 1
#include <immintrin.h>

/* the margin, in units of the double's last place, around a float rounding
   midpoint within which a lane goes to vm_expf (check_expf_bits.c measures
   the largest difference: 62 units, for |x| near 87) */
#define CG_EXPF_NEAR 256

#define CG_EXPF_TARGET __attribute__((target("avx512f,fma")))

/* vm_expf_core with fmas, on eight doubles (double results) */
CG_EXPF_TARGET static inline __m512d cg_expf8_fma_pd(__m256 xf)
{
    const __m512d shift = _mm512_set1_pd(VM_SHIFT);
    __m512d x = _mm512_cvtps_pd(xf);
    __m512d t = _mm512_add_pd(_mm512_mul_pd(x, _mm512_set1_pd(VM_LOG2E)), shift);
    __m512d n = _mm512_sub_pd(t, shift);       /* exact: t - shift, as vm_expf_core's n */
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(VM_LN2), x);
    __m512d q = _mm512_set1_pd(VM_EXPF_Q5);
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(VM_EXPF_Q4));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(VM_EXPF_Q3));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(VM_EXPF_Q2));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(VM_EXPF_Q1));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(VM_EXPF_Q0));
    __m512d s = _mm512_fmadd_pd(_mm512_mul_pd(r, r), q, r);
    __m512d y = _mm512_add_pd(_mm512_set1_pd(1.0), s);
    /* 2^n: t's low bits are n (n + shift == t exactly), as vm_pow2i */
    __m512i p = _mm512_slli_epi64(_mm512_add_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(1023)), 52);
    return _mm512_mul_pd(y, _mm512_castsi512_pd(p));
}

/* cg_expf8_fma_pd rounded to float; *near: lanes whose rounding could
   differ from vm_expf's */
CG_EXPF_TARGET static inline __m256 cg_expf8_fma(__m256 xf, __mmask8* near)
{
    __m512d y = cg_expf8_fma_pd(xf);
    /* the 29 bits below float precision (a normal float result), less half
       their range: near a midpoint when within CG_EXPF_NEAR of 0 */
    __m512i low = _mm512_and_si512(_mm512_castpd_si512(y), _mm512_set1_epi64(0x1fffffff));
    __m512i d = _mm512_add_epi64(_mm512_sub_epi64(low, _mm512_set1_epi64(0x10000000)),
                                 _mm512_set1_epi64(CG_EXPF_NEAR));
    *near = _mm512_cmple_epu64_mask(d, _mm512_set1_epi64(2 * CG_EXPF_NEAR));
    return _mm512_cvtpd_ps(y);
}

/* vm_expf of the 16 floats xs (already shifted) into *y0 (lanes 0-7) and
   *y1 (8-15): the fused path, or vm_expf itself for the whole block when a
   lane is out of range, NaN or near a rounding midpoint */
CG_EXPF_TARGET static inline void cg_expf16(__m512 xs, __m256* y0, __m256* y1)
{
    /* ordered compares: NaN lanes are not in range */
    __mmask16 ok = _mm512_cmp_ps_mask(xs, _mm512_set1_ps(-87.0f), _CMP_GE_OQ)
                   & _mm512_cmp_ps_mask(xs, _mm512_set1_ps(88.0f), _CMP_LE_OQ);
    __mmask8 n0, n1;
    *y0 = cg_expf8_fma(_mm512_castps512_ps256(xs), &n0);
    *y1 = cg_expf8_fma(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xs), 1)), &n1);
    if (__builtin_expect(ok != 0xffff || (n0 | n1) != 0, 0)) {
        float v[16];
        int j;
        _mm512_storeu_ps(v, xs);
        for (j = 0; j < 16; j++) v[j] = vm_expf(v[j]);
        *y0 = _mm256_loadu_ps(v);
        *y1 = _mm256_loadu_ps(v + 8);
    }
}

/* o[i] = vm_expf(x[i] - m[i * m_step]), i < n (m_step 0: one shift for the
   row; the subtraction in float, as the callers' loops). No restrict: the
   in-place exp passes o == x (each block is read before it is written). */
CG_EXPF_TARGET __attribute__((unused)) static void cg_expf_row_avx512(const float* x, const float* m, Py_ssize_t m_step,
                                              float* o, Py_ssize_t n)
{
    __m512 mv = _mm512_set1_ps(m[0]);
    __m256 y0, y1;
    Py_ssize_t i = 0;
    int j;
    for (; i + 16 <= n; i += 16) {
        if (m_step)
            mv = _mm512_loadu_ps(m + i);
        cg_expf16(_mm512_sub_ps(_mm512_loadu_ps(x + i), mv), &y0, &y1);
        _mm256_storeu_ps(o + i, y0);
        _mm256_storeu_ps(o + i + 8, y1);
    }
    /* the last n % 16 (under 16: an int count keeps gcc from reasoning
       about huge trip counts) */
    int rest = (int)(n - i);
    for (j = 0; j < rest; j++) o[i + j] = vm_expf(x[i + j] - (m_step ? m[i + j] : m[0]));
}

/* s[j] += (double)vm_expf(x[i + j] - m) for i = 0, 32, 64, ... < n (n a
   multiple of 32), j < 32: reduce_rows.h's lane sums of exponentials
   (cg_exp_sum_f32, each lane's additions in the same order), without
   storing the exponentials between */
CG_EXPF_TARGET __attribute__((unused)) static void cg_expf_sum32_avx512(const float* x, float m, Py_ssize_t n, double* s)
{
    __m512 mv = _mm512_set1_ps(m);
    __m512d a0 = _mm512_loadu_pd(s), a1 = _mm512_loadu_pd(s + 8);
    __m512d a2 = _mm512_loadu_pd(s + 16), a3 = _mm512_loadu_pd(s + 24);
    __m256 y0, y1, y2, y3;
    Py_ssize_t i;
    for (i = 0; i < n; i += 32) {
        cg_expf16(_mm512_sub_ps(_mm512_loadu_ps(x + i), mv), &y0, &y1);
        cg_expf16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), mv), &y2, &y3);
        a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(y0));
        a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(y1));
        a2 = _mm512_add_pd(a2, _mm512_cvtps_pd(y2));
        a3 = _mm512_add_pd(a3, _mm512_cvtps_pd(y3));
    }
    _mm512_storeu_pd(s, a0);
    _mm512_storeu_pd(s + 8, a1);
    _mm512_storeu_pd(s + 16, a2);
    _mm512_storeu_pd(s + 24, a3);
}

/* sm[i] += (double)vm_expf(x[i] - m[i]), i < n: one row of reduce_rows.h's
   logsumexp of columns (cg_lse_strip_f32), each column's addition as
   there, without storing the exponentials between */
CG_EXPF_TARGET __attribute__((unused)) static void cg_expf_addcols_avx512(const float* x, const float* m,
                                                                          double* sm, Py_ssize_t n)
{
    __m256 y0, y1;
    Py_ssize_t i = 0;
    int j;
    for (; i + 16 <= n; i += 16) {
        cg_expf16(_mm512_sub_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(m + i)), &y0, &y1);
        _mm512_storeu_pd(sm + i, _mm512_add_pd(_mm512_loadu_pd(sm + i), _mm512_cvtps_pd(y0)));
        _mm512_storeu_pd(sm + i + 8, _mm512_add_pd(_mm512_loadu_pd(sm + i + 8), _mm512_cvtps_pd(y1)));
    }
    int rest = (int)(n - i);
    for (j = 0; j < rest; j++) sm[i + j] += (double)vm_expf(x[i + j] - m[i + j]);
}

/* AVX-512F and FMA present (cached: a benign race, every thread writes the same) */
static inline int cg_expf_avx512_ok(void)
{
    static int ok = -1;
    if (ok < 0)
        ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    return ok;
}

#else
static inline int cg_expf_avx512_ok(void) { return 0; }
#endif

#endif /* CGRAD_EXPF_AVX512_H */
