/* Row kernels of PyTorch's single-rounding pointwise ops: add/sub with
 * alpha, lerp, addcmul, addcdiv (the float32 and float64 rows; the float16
 * and bfloat16 ones are built on them in kernels/fma_rows.pxi).
 *
 * What PyTorch 2.13's CPU kernels compute (AVX512 build, measured against
 * torch bit for bit, tests/ops/test_single_rounding.py):
 *
 * - add(a, b, alpha) = fma(b, alpha, a), alpha converted to the dtype first;
 *   sub is add with -alpha; rsub(a, b, alpha) = fma(a, -alpha, b). The
 *   ufunc's vector path calls vec::fmadd and gcc contracts its scalar path
 *   (`self + alpha * other`) to the same fma, so every float32 / float64
 *   element is one rounding, contiguous, strided or broadcast. alpha = 1 is
 *   a plain add (exact either way).
 * - float16 / bfloat16 add with alpha: the vector path converts to float32,
 *   fmas with alpha rounded to the dtype, rounds once; the scalar path (the
 *   elements after the last whole vector of 32 in each contiguous run, and
 *   every element of a run that is not contiguous) computes in c10::Half /
 *   BFloat16 arithmetic: round(a + round(alpha * b)). The same split inside
 *   one run decides the result, so these rows take it over.
 * - Tensor + number with alpha (add(a, 2.5, alpha=0.3)) and a broadcast
 *   `other` (stride 0 in the row): the vector path fmas (fma(s, alpha, a));
 *   in the scalar tail (n % 16 float32 elements, n % 8 float64) gcc
 *   vectorised part of the loop with s * alpha hoisted, rounded on its own:
 *   cg_tail_rounds_twice() says which elements.
 * - lerp(a, b, w) = |w| < 0.5 ? fma(w, b - a, a) : fma(w - 1, b - a, b)
 *   (the vector form; the scalar one, b - (b - a)(1 - w), contracts to the
 *   same value as 1 - w = -(w - 1) exactly); a number weight is converted
 *   to the dtype (float32 for the 16-bit types); float16 / bfloat16 compute
 *   in float32 and round once, in both paths.
 * - addcmul(s, t1, t2, value) = fma(value * t1, t2, s) (`self + value * t1
 *   * t2`, contracted), value in the dtype (float32 for 16-bit types).
 * - addcdiv(s, t1, t2, value) = s + (value * t1) / t2: a quotient does not
 *   contract, two roundings, in this order.
 * - Integer dtypes compute in their own wrapping arithmetic, where the order
 *   does not change the result; they keep the composed kernels.
 *
 * Each function is compiled twice (FMA instructions, and a baseline whose
 * fma() is libm's exact one) and picked at load time, so the unit-stride
 * loops vectorise with vfmadd where the CPU has FMA; no -ffast-math (the
 * build passes -ffp-contract=off: every fma is written out).
 */
#ifndef CGRAD_FMA_ROWS_H
#define CGRAD_FMA_ROWS_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "half.h"

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && !defined(_WIN32)
#  define CG_FMA_ROW_CLONES __attribute__((target_clones("fma", "default")))
#else
#  define CG_FMA_ROW_CLONES
#endif

/* The number of a row: alpha, weight or value. */
typedef struct {
    double k;
    float kf;          /* as float32 (the float32 and 16-bit rows) */
    int bf16;          /* 16-bit rows: bfloat16, else float16 */
} cg_fma_ctx;

/* PyTorch's AVX512 vector widths: elements per Vectorized<T> */
#define CG_VEC_F32 16
#define CG_VEC_F64 8
#define CG_VEC_H16 32

/* -------------------------------------------------------------------- */
/* add with alpha: OUT o, IN a, IN b: fma(b, alpha, a) */

/* Where PyTorch's scalar tail of a row with a broadcast `b` (a number, or
 * a stride-0 tensor) rounds twice: the tail is n % W elements after the
 * whole W-wide vectors (W = PyTorch's vector width); gcc peeled its first
 * element (contracted to fma), vectorised the next multiple of L with
 * alpha * b hoisted out of the loop (two roundings), and left the rest to
 * the contracted scalar epilogue. Measured for every tail length. */
static inline int cg_tail_rounds_twice(ptrdiff_t j, ptrdiff_t tail, ptrdiff_t lanes)
{
    return j >= 1 && j < 1 + lanes * ((tail - 1) / lanes);
}

#define CG_DEFINE_AXPY(T, SUF, FMA, K, W, L)                                                \
CG_FMA_ROW_CLONES static void cg_axpy_row_##SUF(char **p, const ptrdiff_t *s, ptrdiff_t n, \
                                                void *vctx)                                \
{                                                                                          \
    const T al = (T)((const cg_fma_ctx *)vctx)->K;                                         \
    T *o = (T *)p[0];                                                                      \
    const T *a = (const T *)p[1], *b = (const T *)p[2];                                    \
    ptrdiff_t i;                                                                           \
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {                                             \
        for (i = 0; i < n; i++) o[i] = FMA(b[i], al, a[i]);                                \
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {                                      \
        const T bb = b[0], product = bb * al;                                              \
        const ptrdiff_t nv = n - n % W;                                                    \
        for (i = 0; i < nv; i++) o[i] = FMA(bb, al, a[i]);                                 \
        for (i = nv; i < n; i++)                                                           \
            o[i] = cg_tail_rounds_twice(i - nv, n - nv, L) ? a[i] + product                \
                                                           : FMA(bb, al, a[i]);            \
    } else {                                                                               \
        for (i = 0; i < n; i++) o[i * s[0]] = FMA(b[i * s[2]], al, a[i * s[1]]);           \
    }                                                                                      \
}

CG_DEFINE_AXPY(float, f32, fmaf, kf, CG_VEC_F32, 4)
CG_DEFINE_AXPY(double, f64, fma, k, CG_VEC_F64, 2)

/* float16 / bfloat16 add with alpha (alpha already rounded to the dtype):
 * vector blocks of 32 in float32 with one rounding, the rest in the
 * dtype's own arithmetic. */
CG_FMA_ROW_CLONES static void cg_axpy_row_h16(char **p, const ptrdiff_t *s, ptrdiff_t n, void *vctx)
{
    const cg_fma_ctx *c = (const cg_fma_ctx *)vctx;
    const float al = c->kf;
    const int bf = c->bf16;
    uint16_t *o = (uint16_t *)p[0];
    const uint16_t *a = (const uint16_t *)p[1], *b = (const uint16_t *)p[2];
    ptrdiff_t i, nv = 0;
    if (s[0] == 1 && ((s[1] == 1 && s[2] == 1) || (s[1] == 0 && s[2] == 1) || (s[1] == 1 && s[2] == 0))) {
        nv = n - n % CG_VEC_H16;
        if (bf) {
            for (i = 0; i < nv; i++)
                o[i] = cg_f2bf(fmaf(cg_bf2f(b[i * s[2]]), al, cg_bf2f(a[i * s[1]])));
        } else {
            for (i = 0; i < nv; i++)
                o[i] = cg_f2h(fmaf(cg_h2f(b[i * s[2]]), al, cg_h2f(a[i * s[1]])));
        }
    }
    if (bf) {
        for (i = nv; i < n; i++)
            o[i * s[0]] = cg_f2bf(cg_bf2f(a[i * s[1]]) + cg_bf2f(cg_f2bf(al * cg_bf2f(b[i * s[2]]))));
    } else {
        for (i = nv; i < n; i++)
            o[i * s[0]] = cg_f2h(cg_h2f(a[i * s[1]]) + cg_h2f(cg_f2h(al * cg_h2f(b[i * s[2]]))));
    }
}

/* -------------------------------------------------------------------- */
/* lerp: OUT o, IN a (start), IN b (end)[, IN w (weight)] */

#define CG_DEFINE_LERP(T, SUF, FMA, FABS, K, U, ABSMASK, HALFBITS)                                             \
CG_FMA_ROW_CLONES static void cg_lerp_row_##SUF(char **p, const ptrdiff_t *s, ptrdiff_t n, \
                                                void *vctx)                                \
{                                                                                          \
    const T w = (T)((const cg_fma_ctx *)vctx)->K;                                          \
    const int small = FABS(w) < (T)0.5;                                                    \
    const T coeff = small ? w : w - (T)1;                                                  \
    T *o = (T *)p[0];                                                                      \
    const T *a = (const T *)p[1], *b = (const T *)p[2];                                    \
    ptrdiff_t i;                                                                           \
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {                                             \
        if (small) { for (i = 0; i < n; i++) o[i] = FMA(coeff, b[i] - a[i], a[i]); }       \
        else { for (i = 0; i < n; i++) o[i] = FMA(coeff, b[i] - a[i], b[i]); }             \
    } else {                                                                               \
        for (i = 0; i < n; i++) {                                                          \
            T x = a[i * s[1]], y = b[i * s[2]];                                            \
            o[i * s[0]] = FMA(coeff, y - x, small ? x : y);                                \
        }                                                                                  \
    }                                                                                      \
}                                                                                          \
                                                                                           \
CG_FMA_ROW_CLONES static void cg_lerp_tensor_row_##SUF(char **p, const ptrdiff_t *s,       \
                                                       ptrdiff_t n, void *vctx)            \
{                                                                                          \
    T *o = (T *)p[0];                                                                      \
    const T *a = (const T *)p[1], *b = (const T *)p[2], *wp = (const T *)p[3];             \
    ptrdiff_t i;                                                                           \
    (void)vctx;                                                                            \
    if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {                                \
        for (i = 0; i < n; i++) {                                                          \
            /* both sides and a select on the bits (|w| < 0.5 as integers; a NaN    */     \
            /* weight takes the second side, as fabs(NaN) < 0.5 is false): gcc      */     \
            /* vectorises this; a float compare-and-select it keeps as a branch     */     \
            T x = a[i], y = b[i], w = wp[i], d = y - x;                                    \
            T lo = FMA(w, d, x), hi = FMA(w - (T)1, d, y), r;                              \
            U wb, lb, hb, m;                                                               \
            memcpy(&wb, &w, sizeof w);                                                     \
            memcpy(&lb, &lo, sizeof lo);                                                   \
            memcpy(&hb, &hi, sizeof hi);                                                   \
            m = (U)0 - (U)((wb & ABSMASK) < HALFBITS);                                     \
            lb = (lb & m) | (hb & ~m);                                                     \
            memcpy(&r, &lb, sizeof r);                                                     \
            o[i] = r;                                                                      \
        }                                                                                  \
    } else {                                                                               \
        for (i = 0; i < n; i++) {                                                          \
            T x = a[i * s[1]], y = b[i * s[2]], w = wp[i * s[3]];                          \
            int small = FABS(w) < (T)0.5;                                                  \
            o[i * s[0]] = FMA(small ? w : w - (T)1, y - x, small ? x : y);                 \
        }                                                                                  \
    }                                                                                      \
}

CG_DEFINE_LERP(float, f32, fmaf, fabsf, kf, uint32_t, 0x7fffffffu, 0x3f000000u)
CG_DEFINE_LERP(double, f64, fma, fabs, k, uint64_t, 0x7fffffffffffffffull, 0x3fe0000000000000ull)

/* -------------------------------------------------------------------- */
/* addcmul / addcdiv: OUT o, IN self, IN t1, IN t2 */

/* addcmul: fma(value * t1, t2, self); addcdiv: self + (value * t1) / t2 */
#define CG_ADDCMUL_EXPR(FMA, v, x, a, b) FMA((v) * (a), (b), (x))
#define CG_ADDCDIV_EXPR(FMA, v, x, a, b) ((x) + (v) * (a) / (b))

#define CG_DEFINE_ADDC_ROW(NAME, EXPR, T, FMA, K)                                          \
CG_FMA_ROW_CLONES static void NAME(char **p, const ptrdiff_t *s, ptrdiff_t n, void *vctx)  \
{                                                                                          \
    const T v = (T)((const cg_fma_ctx *)vctx)->K;                                          \
    T *o = (T *)p[0];                                                                      \
    const T *x = (const T *)p[1], *t1 = (const T *)p[2], *t2 = (const T *)p[3];            \
    ptrdiff_t i;                                                                           \
    if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {                                \
        for (i = 0; i < n; i++) o[i] = EXPR(FMA, v, x[i], t1[i], t2[i]);                   \
    } else {                                                                               \
        for (i = 0; i < n; i++)                                                            \
            o[i * s[0]] = EXPR(FMA, v, x[i * s[1]], t1[i * s[2]], t2[i * s[3]]);           \
    }                                                                                      \
}

#define CG_DEFINE_ADDC(T, SUF, FMA, K)                                                     \
CG_DEFINE_ADDC_ROW(cg_addcmul_row_##SUF, CG_ADDCMUL_EXPR, T, FMA, K)                       \
CG_DEFINE_ADDC_ROW(cg_addcdiv_row_##SUF, CG_ADDCDIV_EXPR, T, FMA, K)

CG_DEFINE_ADDC(float, f32, fmaf, kf)
CG_DEFINE_ADDC(double, f64, fma, k)

#endif
