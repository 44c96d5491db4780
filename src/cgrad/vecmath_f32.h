/*
 * vecmath_f32.h: exp, log, tanh and sigmoid of float32 computed in float32
 * arithmetic, for cgrad.compile's fused pointwise programs
 * (fused_pointwise.h) when cgrad._dynamo.config.fused_float32_math is on.
 *
 * vecmath.h's float32 functions compute in double and round once (0.51 ulp
 * at most): exact to the last bit almost always, but each element is
 * converted to double and back and a vector holds 4 doubles where it holds
 * 8 floats. These are the float32 forms of the same algorithms (the
 * structure and the vectorisation rules of vecmath.h's top comment apply:
 * straight-line arithmetic, special cases chosen last, masks made with
 * 32-bit integer arithmetic), accurate to within PyTorch's float32
 * tolerance rather than correctly rounded, and 1.6 (log) to 2.1 (exp,
 * sigmoid) times as fast as vecmath.h's on x86-64-v3, AVX2 + FMA (tanh 1.9;
 * check_vecmath_f32.py's timing, Zen 4).
 *
 * Polynomials and reductions are written as fused multiply-adds (vmf_fma).
 * With VMF_USE_FMA (below) each is one rounding, fmaf: the build's
 * -ffp-contract=off forbids gcc to contract a * b + c itself, and the
 * explicit form gives the same bits on every target (vfmadd where the
 * target has FMA, libm's fmaf elsewhere), which the fused interpreter's gcc
 * clones rely on (tests/compile/test_vecmath_f32_clones.py). A build with no
 * FMA anywhere (x86-64 without gcc's clones: MSVC, Apple clang) computes a * b
 * rounded, then + c: fmaf would be a libm call per operation there, ten
 * times the cost of the function.
 *
 * Maximum error against the exact value (bench/check_vecmath_f32.py, which
 * also measures PyTorch's own on the same inputs), with fma: tanh 1.05 ulp,
 * exp 0.77 and log 0.84 over every float32, sigmoid 2.40 over every third
 * bit pattern; without: tanh 1.17, exp 0.78, log 0.84, sigmoid 2.40.
 * PyTorch's exp, log and tanh are within 0.6 ulp.
 * tests/compile/test_compile_f32_math.py bounds them on a dense sample.
 *
 * Algorithms:
 *   exp: e^x = 2^n e^r, r = x - n ln2 (Cody-Waite, ln2 split so that n * hi
 *     is exact), e^r = hi + (lo + r^2 Q(r)), hi + lo being 1 + r without
 *     r's rounding (Fast2Sum), the scale applied in two halves so that
 *     denormal results round once.
 *   tanh: t + t^3 P(t^2) for |x| < 0.875 (where the other form's rounding
 *     errors would reach 1 ulp); above, 1 - 2 / (E + 1) with
 *     E = 2^n (1 + s) and E + 1 formed as (2^n + 1) + 2^n s, one rounding.
 *   sigmoid: 1 / (1 + e^-|x|) for x >= 0, e^-|x| / (1 + e^-|x|) below.
 *   log: FreeBSD's e_logf.c (fdlibm): x = 2^k m, m in [sqrt2/2, sqrt2),
 *     log m = f - hfsq + s (hfsq + R(s^2)), s = f / (2 + f).
 */
#ifndef CGRAD_VECMATH_F32_H
#define CGRAD_VECMATH_F32_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "vecmath.h"

static inline uint32_t vmf_bits(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
static inline float vmf_float(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }
static inline float vmf_abs(float x) { return vmf_float(vmf_bits(x) & 0x7fffffffu); }

/* VMF_USE_FMA: 1 where these functions are built for a target with FMA or
 * as gcc clones some of which have it (fused_pointwise.h defines it then),
 * 0 where no build has it (see the top comment) */
#ifndef VMF_USE_FMA
#if defined(__FMA__) || defined(__aarch64__) || defined(_M_ARM64)
#define VMF_USE_FMA 1
#else
#define VMF_USE_FMA 0
#endif
#endif

/* a * b + c. With VMF_USE_FMA rounded once: a clone compiled for a target
 * with FMA (the fused interpreter's x86-64-v3 and v4 clones) emits vfmadd;
 * elsewhere gcc calls libm's fmaf, which is correctly rounded too, so every
 * clone gives the same bits (slowly on a CPU without FMA). */
#if VMF_USE_FMA
static inline float vmf_fma(float a, float b, float c) { return fmaf(a, b, c); }
#else
static inline float vmf_fma(float a, float b, float c) { return a * b + c; }
#endif

/* all ones if a < b, else 0, for a, b < 2^31 (as vm_mask_lt, in 32 bits) */
static inline uint32_t vmf_mask_lt(uint32_t a, uint32_t b) { return (uint32_t)0 - ((a - b) >> 31); }

/* adding then subtracting 0x1.8p23 rounds a float with |x| < 2^22 to an
 * integer; the low bits of the sum's pattern are then that integer */
#define VMF_SHIFT 12582912.0f
#define VMF_LOG2E 1.44269502925872802734375f
/* ln2 = VMF_LN2A - VMF_LN2B: VMF_LN2A has 9 significant bits (n * it is exact) */
#define VMF_LN2A 0.693359375f
#define VMF_LN2B 2.12194440e-4f

/* (e^r - 1 - r) / r^2, degree 5 on [-ln2/2, ln2/2] (vecmath.h's VM_EXPF_Q) */
#define VMF_EXP_Q5 0.00019890980869750327f
#define VMF_EXP_Q4 0.0013933641031986701f
#define VMF_EXP_Q3 0.008333310934448869f
#define VMF_EXP_Q2 0.04166646500604005f
#define VMF_EXP_Q1 0.16666666681614256f
#define VMF_EXP_Q0 0.5000000013457727f

/* (tanh(x) - x) / x^3 as a polynomial of z = x^2, degree 7 on
 * [0, 0.875^2], fit error 2.8e-10 (mpmath chebyfit) */
#define VMF_TANH_P7 0.00019299528705049753f
#define VMF_TANH_P6 -0.0010672448764519767f
#define VMF_TANH_P5 0.003368668756904949f
#define VMF_TANH_P4 -0.008788256451794813f
#define VMF_TANH_P3 0.021855453180294457f
#define VMF_TANH_P2 -0.0539669424678397f
#define VMF_TANH_P1 0.1333332861018852f
#define VMF_TANH_P0 -0.3333333330515042f

/* FreeBSD e_logf.c */
#define VMF_LN2HI 6.9313812256e-01f     /* 0x3f317180 */
#define VMF_LN2LO 9.0580006145e-06f     /* 0x3717f7d1 */
#define VMF_LG1 0.66666662693f          /* 0xaaaaaa.0p-24 */
#define VMF_LG2 0.40000972152f          /* 0xccce13.0p-25 */
#define VMF_LG3 0.28498786688f          /* 0x91e9ee.0p-25 */
#define VMF_LG4 0.24279078841f          /* 0xf89e26.0p-26 */

/* 2^n for an integer-valued float n in [-126, 127] */
static inline float vmf_pow2i(float n)
{
    uint32_t b = vmf_bits(n + VMF_SHIFT);
    return vmf_float((b + 127u) << 23);
}

/* the nearest integer n to x / ln2 (as a float) and r = x - n ln2 in two
 * parts: r_hi = x - n * VMF_LN2A exactly and r_lo = n * VMF_LN2B */
static inline float vmf_exp_reduce(float x, float* r_hi, float* r_lo)
{
    float n = vmf_fma(x, VMF_LOG2E, VMF_SHIFT) - VMF_SHIFT;
    *r_hi = x - n * VMF_LN2A;
    *r_lo = n * VMF_LN2B;
    return n;
}

/* (e^r - 1 - r) / r^2 */
static inline float vmf_exp_q(float r)
{
    float q = VMF_EXP_Q5;
    q = vmf_fma(q, r, VMF_EXP_Q4);
    q = vmf_fma(q, r, VMF_EXP_Q3);
    q = vmf_fma(q, r, VMF_EXP_Q2);
    q = vmf_fma(q, r, VMF_EXP_Q1);
    return vmf_fma(q, r, VMF_EXP_Q0);
}

/* e^r - 1 for r = x - n ln2, with n (an integer-valued float) returned */
static inline float vmf_expm1_reduced(float x, float* n_out)
{
    float r_hi, r_lo;
    *n_out = vmf_exp_reduce(x, &r_hi, &r_lo);
    float r = r_hi + r_lo;
    return vmf_fma(r * r, vmf_exp_q(r), r);
}

/* e^x for x in [-110, 89] (overflow to inf and denormals included); garbage
 * outside, NaN passes */
static inline float vmf_exp_core(float x)
{
    float r_hi, r_lo;
    float n = vmf_exp_reduce(x, &r_hi, &r_lo);
    float r = r_hi + r_lo;
    /* e^r = 1 + r + r^2 Q(r) with 1 + r_hi split into hi + its exact error
     * (Fast2Sum: |r_hi| < 1), so that the rounding of r and of e^r - 1 do
     * not add to the final one (the form 1 + (e^r - 1) reached 0.99 ulp with
     * fma, 0.96 without, over every float32) */
    float hi = 1.0f + r_hi;
    float lo = ((1.0f - hi) + r_hi) + r_lo;
    float p = hi + vmf_fma(r * r, vmf_exp_q(r), lo);
    float n1 = (n * 0.5f + VMF_SHIFT) - VMF_SHIFT;
    float n2 = n - n1;
    return (p * vmf_pow2i(n1)) * vmf_pow2i(n2);
}

static inline float vmf_expf(float x)
{
    float y = vmf_exp_core(x);
    y = VM_UNLIKELY(x > 89.0f) ? VM_INFF : y;
    return VM_UNLIKELY(x < -110.0f) ? 0.0f : y;     /* NaN passes through both */
}

static inline float vmf_tanhf(float x)
{
    float t = vmf_abs(x);
    float z = t * t;
    float p = VMF_TANH_P7;
    p = vmf_fma(p, z, VMF_TANH_P6);
    p = vmf_fma(p, z, VMF_TANH_P5);
    p = vmf_fma(p, z, VMF_TANH_P4);
    p = vmf_fma(p, z, VMF_TANH_P3);
    p = vmf_fma(p, z, VMF_TANH_P2);
    p = vmf_fma(p, z, VMF_TANH_P1);
    p = vmf_fma(p, z, VMF_TANH_P0);
    float small = vmf_fma(t, z * p, t);
    float n;
    float s = vmf_expm1_reduced(2.0f * t, &n);     /* garbage for t > 40: replaced */
    float sc = vmf_pow2i(n);
    float d = vmf_fma(sc, s, sc + 1.0f);            /* E + 1, one rounding (sc + 1 exact, n <= 24) */
    float large = 1.0f - 2.0f / d;
    uint32_t m = vmf_mask_lt(vmf_bits(t), 0x3f600000u);    /* t < 0.875 */
    float y = vmf_float((vmf_bits(small) & m) | (vmf_bits(large) & ~m));
    y = VM_UNLIKELY(t > 9.5f) ? 1.0f : y;           /* tanh(9.5) rounds to 1; NaN passes */
    return vm_copysignf(y, x);
}

static inline float vmf_sigmoidf(float x)
{
    float t = vmf_abs(x);
    float e = vmf_exp_core(-t);
    uint32_t big = vmf_mask_lt(0x42dc0000u, vmf_bits(t));     /* 110 < t, inf, NaN */
    e = vmf_float(vmf_bits(e) & ~big);
    float num = x < 0.0f ? e : 1.0f;
    float y = num / (1.0f + e);
    return VM_UNLIKELY(x != x) ? x : y;
}

static inline float vmf_logf(float x)
{
    /* denormals (and +0) are scaled by 2^25 into the normal range first */
    uint32_t tiny = vmf_mask_lt(vmf_bits(x), 0x00800000u);  /* negative x: sign bit set, not tiny */
    float scale = vmf_float(0x3f800000u + (tiny & 0x0c800000u));
    float kadj = vmf_float(tiny & 0x41c80000u);              /* 25.0 or 0 */
    uint32_t ix = vmf_bits(x * scale);
    ix += 0x3f800000u - 0x3f3504f3u;                 /* the exponent of m in [sqrt2/2, sqrt2) */
    float k = (float)(int32_t)((ix >> 23) & 0xffu) - 127.0f - kadj;
    float f = vmf_float((ix & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
    float hfsq = 0.5f * f * f;
    float s = f / (2.0f + f);
    float z = s * s;
    float w = z * z;
    float t1 = w * vmf_fma(w, VMF_LG4, VMF_LG2);
    float R = vmf_fma(z, vmf_fma(w, VMF_LG3, VMF_LG1), t1);
    float y = k * VMF_LN2HI - ((hfsq - vmf_fma(s, hfsq + R, k * VMF_LN2LO)) - f);
    y = VM_UNLIKELY(x == VM_INFF) ? VM_INFF : y;
    y = VM_UNLIKELY(x == 0.0f) ? -VM_INFF : y;
    y = VM_UNLIKELY(x < 0.0f) ? VM_NANF : y;
    return VM_UNLIKELY(x != x) ? x : y;
}

#endif /* CGRAD_VECMATH_F32_H */
