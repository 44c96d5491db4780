/*
 * vecmath.h: branch-free elementwise math that compilers auto-vectorise.
 *
 * The row kernels of cgrad are loops `for i: o[i] = f(x[i])`. With libm's
 * scalar expf/tanhf/logf... in f, gcc -O3 cannot vectorise them (a call per
 * element, ~12 ns each for tanhf or tanh). The functions here are static inline,
 * straight-line arithmetic: range reduction, a polynomial, 2^n built from
 * exponent bits, and every special case (NaN, +-inf, overflow, underflow,
 * denormals, signed zeros) chosen with ternaries that compile to compares
 * and blends. No fma is assumed (cgrad builds with -ffp-contract=off and no
 * -march), no table look-ups (no gathers on SSE2), and no 64-bit integer
 * compares, conversions or arithmetic shifts (SSE2 has none): integers are
 * only shifted, added and masked, and turned into doubles with the 0x1.8p52
 * "magic number" trick.
 *
 * How the code must be written so that gcc really vectorises it (cgrad
 * builds without -fno-trapping-math, so gcc never executes a floating-point
 * operation that the C code only does conditionally, and a loop whose body
 * keeps such a branch is not vectorised):
 *  - everything is computed unconditionally from the raw input (garbage for
 *    out-of-range inputs is fine), and special cases are chosen only as the
 *    very last operations, VM_UNLIKELY(cond) ? constant-or-input : value
 *    (float32: after the conversion to float). An operation after a select
 *    with a constant arm gets folded on that arm and moved (by PRE or jump
 *    threading) under a branch; a clamp of the input first (x > 710 ? 710 :
 *    x) even folds the whole function on that path.
 *  - a ternary between two computed values lets gcc sink the computation of
 *    one arm into it; so arms are constants, the input, or values that other
 *    code uses too. The UNLIKELY hint keeps gcc from sinking the computation
 *    into the (then 90% likely) other arm.
 *  - values that must be zeroed midway (e^-t for t > 746 in sigmoid) are
 *    masked with integer ops (vm_mask_lt: subtract and shift, no compare).
 *  - no 64-bit integer selects or compares (no SSE2 instruction for them).
 *  - a float32 function whose result other arithmetic follows in a kernel
 *    (1 + e^-x in silu, tanh(log1p(e^x)) in mish, 1 + erf in gelu) chooses
 *    its special cases with integer masks (vm_blendf, or 64-bit masks
 *    before the final conversion), not selects: after a select with a
 *    constant arm gcc folds the next operation into that arm and branches.
 *    The masks come from float compares (a mask from a double compare
 *    would need narrowing to 32 bits, which SSE2 code does not vectorise).
 *
 * Accuracy, verified by bench/check_vecmath.py (float32: all 2^32 inputs;
 * float64: 100 million random and edge inputs per function, against glibc's
 * long double functions), as the maximum error in ulps of the exact value:
 *   float32 (computed in double with polynomials good to ~1e-10, rounded
 *   once): exp 0.503, log 0.500, tanh 0.507, sigmoid 0.503, erf 0.500,
 *   erfc 0.503, expm1 0.510, log1p 0.500.
 *   float64: exp 0.78, log 0.84, tanh 0.82, sigmoid 1.14 (erf, erfc, expm1
 *   and log1p have no float64 version here: cgrad keeps glibc's for those).
 * erf and erfc (float32): erfc(a) = t P(t) e^{-a^2}, t = 1 / (1 + 0.3 a), a
 * polynomial of degree 12 on a in [0, 10.1] (erfc(a) e^{a^2} is smooth in t);
 * erf = a Q(a^2) below 0.75 and 1 - erfc(a) above. expm1 = 2^n s + (2^n - 1)
 * with exp's reduction (exact for n = 0, where the cancellation would be);
 * log1p = log(u) + (x - (u - 1)), u = 1 + x in double (exact unless
 * |x| < 2^-29, where the second term restores what u lost).
 * cgrad uses all of them but vm_exp and vm_log, whose float64 versions are
 * slower than glibc's (see kernels_math.pxi); they stay here, verified, as
 * the basis of tanh and sigmoid and for targets where they win.
 * Special values follow glibc (and so PyTorch): NaN in -> NaN out; exp
 * overflows to inf and underflows through the denormals to +0; log(0) =
 * -inf, log(x < 0) = NaN, log(inf) = inf; tanh(+-inf) = +-1, tanh(-0) = -0;
 * sigmoid(+inf) = 1, sigmoid(-inf) = 0, tiny results stay denormal;
 * erf(+-inf) = +-1, erf(-0) = -0; erfc(+inf) = 0 (through the denormals),
 * erfc(-inf) = 2; expm1(inf) = inf, expm1(-inf) = -1, expm1(-0) = -0;
 * log1p(-1) = -inf, log1p(x < -1) = NaN, log1p(-0) = -0, log1p(inf) = inf;
 * a denormal x gives x for expm1 and log1p (PyTorch's float32 log1p
 * flushes it to 0; glibc and cgrad do not).
 *
 * Polynomial coefficients: near-minimax (Chebyshev) fits made with mpmath,
 * see `python bench/check_vecmath.py fit`.
 */
#ifndef CGRAD_VECMATH_H
#define CGRAD_VECMATH_H

#include <stdint.h>
#include <string.h>

/* Always inlined: the row kernels call these from inside their loops, and a
 * loop vectorises only with the whole function inlined into it. In cgrad's
 * large translation units (_C.c) gcc's growth limits otherwise keep the
 * bigger ones (erf, mish's tanh(log1p(exp))) as out-of-line calls. */
#if defined(__GNUC__) || defined(__clang__)
#define VM_INLINE static inline __attribute__((always_inline))
#else
#define VM_INLINE static inline
#endif

/* ---- bit helpers ---------------------------------------------------------- */

VM_INLINE uint64_t vm_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
VM_INLINE double vm_double(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }

#if (defined(__GNUC__) || defined(__clang__)) && !defined(VM_NO_BUILTINS)
#define VM_INF (__builtin_inf())
#define VM_NAN (__builtin_nan(""))
#define VM_INFF (__builtin_inff())
#define VM_NANF (__builtin_nanf(""))
#define VM_UNLIKELY(c) __builtin_expect(!!(c), 0)
VM_INLINE double vm_abs(double x) { return __builtin_fabs(x); }
VM_INLINE double vm_copysign(double x, double s) { return __builtin_copysign(x, s); }
VM_INLINE float vm_copysignf(float x, float s) { return __builtin_copysignf(x, s); }
#else   /* MSVC: correct, though its optimiser may not vectorise this */
#include <math.h>
#define VM_INF ((double)INFINITY)
#define VM_NAN ((double)NAN)
#define VM_INFF ((float)INFINITY)
#define VM_NANF ((float)NAN)
#define VM_UNLIKELY(c) (c)
VM_INLINE double vm_abs(double x) { return fabs(x); }
VM_INLINE double vm_copysign(double x, double s) { return copysign(x, s); }
VM_INLINE float vm_copysignf(float x, float s) { return copysignf(x, s); }
#endif
/* adding then subtracting this rounds a double with |x| < 2^51 to an integer
 * (current rounding mode: to nearest even); the low bits of the sum's bit
 * pattern are then that integer */
#define VM_SHIFT 6755399441055744.0     /* 0x1.8p52 */
#define VM_LOG2E 1.4426950408889634
#define VM_LN2 0.6931471805599453
/* ln2 split: VM_LN2HI has 32 significant bits, so n * VM_LN2HI is exact */
#define VM_LN2HI 6.93147180369123816490e-01
#define VM_LN2LO 1.90821492927058770002e-10

/* all ones if a < b, else 0, for a, b < 2^63 (unsigned compare as a
 * subtraction: SSE2 has no 64-bit compare, and gcc keeps this as integer
 * arithmetic instead of turning it into a branch) */
VM_INLINE uint64_t vm_mask_lt(uint64_t a, uint64_t b) { return (uint64_t)0 - ((a - b) >> 63); }

/* float32 results whose special cases other operations follow (1 + e^-x,
 * tanh(log1p(e^x))) choose them by masks, not selects: after a select with
 * a constant arm gcc folds the next operation on that arm into a branch */
VM_INLINE uint32_t vm_fbits(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
VM_INLINE float vm_float(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }
VM_INLINE uint32_t vm_maskf(int c) { return (uint32_t)0 - (uint32_t)c; }
/* m ? a : b, bit by bit, for a mask m from vm_maskf */
VM_INLINE float vm_blendf(uint32_t m, float a, float b)
{
    return vm_float((vm_fbits(a) & m) | (vm_fbits(b) & ~m));
}

/* 2^n for an integer-valued double n in [-1022, 1023]. */
VM_INLINE double vm_pow2i(double n)
{
    uint64_t b = vm_bits(n + VM_SHIFT);   /* low bits: n (two's complement) */
    return vm_double((b + 1023) << 52);
}

/* ---- polynomials (see `check_vecmath.py fit`) -------------------------------- */

/* (e^r - 1 - r) / r^2, degree 10 on [-ln2/2, ln2/2], fit error 1.4e-18 */
#define VM_EXP_Q10 2.0914679376583935e-09
#define VM_EXP_Q9 2.510520637395701e-08
#define VM_EXP_Q8 2.7557273661348637e-07
#define VM_EXP_Q7 2.7557255425746435e-06
#define VM_EXP_Q6 2.4801587325533363e-05
#define VM_EXP_Q5 0.00019841269874800493
#define VM_EXP_Q4 0.0013888888888883752
#define VM_EXP_Q3 0.008333333333326141
#define VM_EXP_Q2 0.04166666666666667
#define VM_EXP_Q1 0.1666666666666667
#define VM_EXP_Q0 0.5

/* the same, degree 5, fit error 1.4e-9 (float32 results) */
#define VM_EXPF_Q5 0.00019890980869750327
#define VM_EXPF_Q4 0.0013933641031986701
#define VM_EXPF_Q3 0.008333310934448869
#define VM_EXPF_Q2 0.04166646500604005
#define VM_EXPF_Q1 0.16666666681614256
#define VM_EXPF_Q0 0.5000000013457727

/* (tanh(x) - x) / x^3 as a polynomial of z = x^2, degree 11 on
 * z in [0, 0.625^2], fit error 3.9e-18 (used for |x| < 0.625) */
#define VM_TANH_P11 6.485163482793113e-06
#define VM_TANH_P10 -3.12011014257974e-05
#define VM_TANH_P9 9.257116129556769e-05
#define VM_TANH_P8 -0.0002375906496055562
#define VM_TANH_P7 0.0005896606577757043
#define VM_TANH_P6 -0.0014557754120478055
#define VM_TANH_P5 0.0035921217511549622
#define VM_TANH_P4 -0.008863235103240878
#define VM_TANH_P3 0.021869488519008305
#define VM_TANH_P2 -0.05396825396789699
#define VM_TANH_P1 0.13333333333333042
#define VM_TANH_P0 -0.3333333333333333

/* log: fdlibm's e_log.c coefficients, log(1+f) = f - f^2/2 + s*(f^2/2 + R),
 * s = f / (2 + f), R a polynomial of s^2 (error < 2^-58.45) */
#define VM_LG1 6.666666666666735130e-01
#define VM_LG2 3.999999999940941908e-01
#define VM_LG3 2.857142874366239149e-01
#define VM_LG4 2.222219843214978396e-01
#define VM_LG5 1.818357216161805012e-01
#define VM_LG6 1.531383769920937332e-01
#define VM_LG7 1.479819860511658591e-01

/* (atanh(s)/s - 1) / s^2 as a polynomial of z = s^2, degree 3 on
 * [0, ((sqrt2-1)/(sqrt2+1))^2], fit error 5.8e-10 (float32 results) */
#define VM_LOGF_R3 0.11665233608151918
#define VM_LOGF_R2 0.14275410407980332
#define VM_LOGF_R1 0.20000060919903062
#define VM_LOGF_R0 0.33333333277248545

/* erfc(x) e^{x^2} / t, t = 1 / (1 + 0.3 x), as a polynomial of t, degree 12
 * on [1/(1 + 0.3 * 10.1), 1] (x in [0, 10.1]), fit error 5.5e-12 (float32
 * erf and erfc; erfc(x) e^{x^2} is smooth in t up to t = 0, x = inf) */
#define VM_ERFC_P12 -0.02566135621880515
#define VM_ERFC_P11 0.19611884846913816
#define VM_ERFC_P10 -0.6195449755884707
#define VM_ERFC_P9 1.0510937217277296
#define VM_ERFC_P8 -1.1343481487842157
#define VM_ERFC_P7 0.9376897012722425
#define VM_ERFC_P6 -0.42862751841901253
#define VM_ERFC_P5 0.3008936445725232
#define VM_ERFC_P4 0.06508634304037544
#define VM_ERFC_P3 0.15870899473643613
#define VM_ERFC_P2 0.15994177609291832
#define VM_ERFC_P1 0.16939735200944386
#define VM_ERFC_P0 0.16925161708844252

/* erf(x) / x as a polynomial of z = x^2, degree 7 on [0, 0.75^2], fit error
 * 4.0e-13 (float32 erf for |x| < 0.75, where 1 - erfc would lose bits) */
#define VM_ERF_P7 -1.1670695835841978e-05
#define VM_ERF_P6 0.00011770666147871012
#define VM_ERF_P5 -0.000853506666612136
#define VM_ERF_P4 0.005223632235499854
#define VM_ERF_P3 -0.026866121555512844
#define VM_ERF_P2 0.11283791327312258
#define VM_ERF_P1 -0.3761263889399989
#define VM_ERF_P0 1.128379167095109

/* ---- float64 ------------------------------------------------------------------ */

/* e^x = 2^n * e^r, r = x - n ln2 in [-ln2/2, ln2/2]: r is kept as the exact
 * hi minus the small lo, and e^r - 1 = s = hi + (r^2 Q(r) - lo) loses only
 * one rounding, which a 2Sum recovers. The scale 2^n is applied in two
 * halves so that results in the denormal range round only once and overflow
 * gives inf. Valid for x in [-746, 710] (garbage outside: callers select).
 * Returns 2^n and e^r - 1 = *s + *serr. */
VM_INLINE double vm_exp_parts(double x, double* s_out, double* serr_out, double* n_out)
{
    double n = (x * VM_LOG2E + VM_SHIFT) - VM_SHIFT;
    double hi = x - n * VM_LN2HI;          /* exact */
    double lo = n * VM_LN2LO;
    double r = hi - lo;
    double q = VM_EXP_Q10;
    q = q * r + VM_EXP_Q9;
    q = q * r + VM_EXP_Q8;
    q = q * r + VM_EXP_Q7;
    q = q * r + VM_EXP_Q6;
    q = q * r + VM_EXP_Q5;
    q = q * r + VM_EXP_Q4;
    q = q * r + VM_EXP_Q3;
    q = q * r + VM_EXP_Q2;
    q = q * r + VM_EXP_Q1;
    q = q * r + VM_EXP_Q0;
    double t = (r * r) * q - lo;
    double s = hi + t;
    double sb = s - hi;
    *serr_out = (hi - (s - sb)) + (t - sb);    /* 2Sum: s + serr = hi + t */
    *s_out = s;
    *n_out = n;
    return 0.0;
}

/* e^x ~ result + *elo for x in [-746, 710] (garbage outside). */
VM_INLINE double vm_exp_hl(double x, double* elo)
{
    double s, serr, n;
    vm_exp_parts(x, &s, &serr, &n);
    double y = 1.0 + s;
    double yerr = ((1.0 - y) + s) + serr;       /* Fast2Sum, |s| < 1 */
    double n1 = (n * 0.5 + VM_SHIFT) - VM_SHIFT;
    double n2 = n - n1;                    /* both in [-538, 512] */
    double p1 = vm_pow2i(n1), p2 = vm_pow2i(n2);
    *elo = (yerr * p1) * p2;
    return (y * p1) * p2;
}

/* e^x: as vm_exp_hl, with the low part added before the scaling (so the
 * result is within ~0.55 ulp), then the special cases. */
VM_INLINE double vm_exp(double x)
{
    double s, serr, n;
    vm_exp_parts(x, &s, &serr, &n);
    double yh = 1.0 + s;
    double yl = ((1.0 - yh) + s) + serr;
    double n1 = (n * 0.5 + VM_SHIFT) - VM_SHIFT;
    double n2 = n - n1;
    double y = ((yh + yl) * vm_pow2i(n1)) * vm_pow2i(n2);
    y = VM_UNLIKELY(x > 710.0) ? VM_INF : y;   /* (709.79, 710] overflow by themselves */
    return VM_UNLIKELY(x < -746.0) ? 0.0 : y;  /* NaN passes through both */
}

/* log(x) = k ln2 + log(m), x = 2^k m with m in [sqrt2/2, sqrt2): fdlibm's
 * algorithm (error < 1 ulp), with the exponent split done on the bits. */
VM_INLINE double vm_log(double x)
{
    /* denormals (and +0) are scaled by 2^54 into the normal range first; the
     * factor, 2^54 or 1, is made with integer masks (see the top) */
    uint64_t tiny = vm_mask_lt(vm_bits(x), 0x0010000000000000ULL);
    double scale = vm_double(0x3ff0000000000000ULL + (tiny & 0x0360000000000000ULL));
    double kadj = -54.0 * vm_double(tiny & 0x3ff0000000000000ULL);
    double xs = x * scale;
    uint64_t ix = vm_bits(xs);
    /* ix - bits(sqrt2/2): its top 12 bits are k (two's complement) */
    uint64_t tmp = ix - 0x3fe6a09e667f3bcdULL;
    /* k + 1024 as a double: (tmp + 2^62) >> 52 is in [0, 4095] for every
     * positive finite xs, then the magic-number conversion */
    uint64_t kb = (tmp + 0x4000000000000000ULL) >> 52;
    double k = vm_double(0x4330000000000000ULL | kb) - 4503599627370496.0 - 1024.0 + kadj;
    double m = vm_double(ix - (tmp & 0xfff0000000000000ULL));
    double f = m - 1.0;
    double hfsq = 0.5 * f * f;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (VM_LG2 + w * (VM_LG4 + w * VM_LG6));
    double t2 = z * (VM_LG1 + w * (VM_LG3 + w * (VM_LG5 + w * VM_LG7)));
    double R = t2 + t1;
    double y = s * (hfsq + R) + k * VM_LN2LO - hfsq + f + k * VM_LN2HI;
    y = VM_UNLIKELY(x == VM_INF) ? VM_INF : y;
    y = VM_UNLIKELY(x == 0.0) ? -VM_INF : y;
    y = VM_UNLIKELY(x < 0.0) ? VM_NAN : y;
    return VM_UNLIKELY(x != x) ? x : y;
}

/* tanh: an odd polynomial for |x| < 0.625; above, 1 - 2/(E + 1) with
 * E = e^{2|x|} = eh + el and the roundings of E + 1 and of 1 - q
 * compensated (the division's is all that is left). Both are computed and
 * blended with an integer mask (see the top); the sign is copied from x, so
 * tanh(-0) = -0. */
VM_INLINE double vm_tanh(double x)
{
    double t = vm_abs(x);
    double z = t * t;
    double p = VM_TANH_P11;
    p = p * z + VM_TANH_P10;
    p = p * z + VM_TANH_P9;
    p = p * z + VM_TANH_P8;
    p = p * z + VM_TANH_P7;
    p = p * z + VM_TANH_P6;
    p = p * z + VM_TANH_P5;
    p = p * z + VM_TANH_P4;
    p = p * z + VM_TANH_P3;
    p = p * z + VM_TANH_P2;
    p = p * z + VM_TANH_P1;
    p = p * z + VM_TANH_P0;
    double small = t + t * (z * p);
    double el;
    double eh = vm_exp_hl(2.0 * t, &el);   /* garbage for t > 355: replaced */
    double d = eh + 1.0;
    double dl = ((eh - d) + 1.0) + el;     /* E + 1 = d + dl (eh >= 1) */
    double q = 2.0 / d;                    /* 2/(E + 1) ~ q - q dl/d */
    double rh = 1.0 - q;
    double rl = (1.0 - rh) - q;            /* rh + rl = 1 - q exactly */
    double large = rh + (rl + q * dl / d);
    uint64_t m = vm_mask_lt(vm_bits(t), 0x3fe4000000000000ULL);   /* t < 0.625 */
    double y = vm_double((vm_bits(small) & m) | (vm_bits(large) & ~m));
    y = VM_UNLIKELY(t > 22.0) ? 1.0 : y;   /* tanh(22) rounds to 1; NaN passes */
    return vm_copysign(y, x);
}

/* sigmoid: 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below, so that
 * neither overflows and tiny results keep their precision; e^-|x| = eh + el
 * and 1 + e^-|x| = d + c carry their rounding errors into a last correction
 * (the division's rounding is all that is left). */
VM_INLINE double vm_sigmoid(double x)
{
    double t = vm_abs(x);
    double el;
    double eh = vm_exp_hl(-t, &el);
    uint64_t big = vm_mask_lt(0x4087500000000000ULL, vm_bits(t));   /* 746 < t, inf, NaN */
    eh = vm_double(vm_bits(eh) & ~big);
    el = vm_double(vm_bits(el) & ~big);
    double d = 1.0 + eh;
    double c = ((1.0 - d) + eh) + el;      /* 1 + e = d + c (eh <= 1) */
    double nh = x < 0.0 ? eh : 1.0;
    double nl = x < 0.0 ? el : 0.0;
    double q = nh / d;
    double y = q + (nl - q * c) / d;
    return VM_UNLIKELY(x != x) ? x : y;
}

/* ---- float32: computed in double, rounded once ------------------------------- */

/* e^x for x in [-130, 100] (double result, no overflow or denormal) with
 * relative error ~2e-10; garbage outside. */
VM_INLINE double vm_expf_core(double x)
{
    double n = (x * VM_LOG2E + VM_SHIFT) - VM_SHIFT;
    double r = x - n * VM_LN2;
    double q = VM_EXPF_Q5;
    q = q * r + VM_EXPF_Q4;
    q = q * r + VM_EXPF_Q3;
    q = q * r + VM_EXPF_Q2;
    q = q * r + VM_EXPF_Q1;
    q = q * r + VM_EXPF_Q0;
    return (1.0 + (r + (r * r) * q)) * vm_pow2i(n);
}

VM_INLINE float vm_expf(float xf)
{
    float y = (float)vm_expf_core(xf);            /* NaN passes */
    uint32_t over = vm_maskf(xf > 100.0f);          /* e^100 > FLT_MAX */
    uint32_t under = vm_maskf(xf < -130.0f);        /* e^-130 < FLT_TRUE_MIN/2 */
    return vm_float((vm_fbits(y) & ~(over | under)) | (0x7f800000u & over));
}

VM_INLINE float vm_logf(float xf)
{
    double x = xf;                         /* float denormals are normal here */
    uint64_t ix = vm_bits(x);
    uint64_t tmp = ix - 0x3fe6a09e667f3bcdULL;
    uint64_t kb = (tmp + 0x4000000000000000ULL) >> 52;
    double k = vm_double(0x4330000000000000ULL | kb) - 4503599627370496.0 - 1024.0;
    double m = vm_double(ix - (tmp & 0xfff0000000000000ULL));
    double s = (m - 1.0) / (m + 1.0);      /* log m = 2 atanh(s) */
    double z = s * s;
    double R = VM_LOGF_R3;
    R = R * z + VM_LOGF_R2;
    R = R * z + VM_LOGF_R1;
    R = R * z + VM_LOGF_R0;
    float y = (float)(k * VM_LN2 + (2.0 * s + (2.0 * s) * (z * R)));
    y = VM_UNLIKELY(xf == VM_INFF) ? xf : y;
    y = VM_UNLIKELY(xf == 0.0f) ? -VM_INFF : y;
    y = VM_UNLIKELY(xf < 0.0f) ? VM_NANF : y;
    return VM_UNLIKELY(xf != xf) ? xf : y;
}

/* e^x - 1 = 2^n (1 + s) - 1 = 2^n s + (2^n - 1), s = e^r - 1: exact for
 * n = 0 (|x| < ln2/2, where the cancellation would be), one rounding else;
 * relative error ~2e-10 for x in [-130, 100], garbage outside. */
VM_INLINE double vm_expm1f_core(double x)
{
    double n = (x * VM_LOG2E + VM_SHIFT) - VM_SHIFT;
    double r = x - n * VM_LN2;
    double q = VM_EXPF_Q5;
    q = q * r + VM_EXPF_Q4;
    q = q * r + VM_EXPF_Q3;
    q = q * r + VM_EXPF_Q2;
    q = q * r + VM_EXPF_Q1;
    q = q * r + VM_EXPF_Q0;
    double s = r + (r * r) * q;
    double sc = vm_pow2i(n);
    return sc * s + (sc - 1.0);
}

/* tanh(t) = expm1(2t) / (expm1(2t) + 2), accurate also for tiny t. */
VM_INLINE float vm_tanhf(float xf)
{
    double x = xf;
    double t = vm_abs(x);
    double em1 = vm_expm1f_core(2.0 * t);
    float y = (float)(em1 / (em1 + 2.0));
    /* tanh(10) rounds to 1; NaN passes (a float compare: a mask from a
     * double one would need narrowing, which keeps the loop scalar) */
    y = vm_blendf(vm_maskf(vm_float(vm_fbits(xf) & 0x7fffffffu) > 10.0f), 1.0f, y);
    return vm_copysignf(y, xf);
}

VM_INLINE float vm_sigmoidf(float xf)
{
    double x = xf;
    double t = vm_abs(x);
    double e = vm_expf_core(-t);
    uint64_t big = vm_mask_lt(0x405e000000000000ULL, vm_bits(t));   /* 120 < t, inf, NaN */
    e = vm_double(vm_bits(e) & ~big);
    double num = x < 0.0 ? e : 1.0;
    float y = (float)(num / (1.0 + e));
    return VM_UNLIKELY(xf != xf) ? xf : y;
}

/* ---- float32 special functions: expm1, log1p, erf, erfc ----------------------
 * Computed in double and rounded once, as above. */

/* vm_expm1f_core, and its special cases */
VM_INLINE float vm_expm1f(float xf)
{
    float y = (float)vm_expm1f_core(xf);       /* garbage outside [-130, 100]: replaced */
    y = vm_blendf(vm_maskf(xf > 100.0f), VM_INFF, y);     /* e^100 > FLT_MAX */
    y = vm_blendf(vm_maskf(xf < -130.0f), -1.0f, y);      /* -1 + e^-130 rounds to -1 */
    return vm_blendf(vm_maskf((xf == 0.0f) | (xf != xf)), xf, y);   /* expm1(-0) = -0; NaN */
}

/* log(1 + x) = log(u) + c, u = 1 + x in double: exact unless |x| < 2^-29
 * (then u = 1 + x - c with c its rounding error, log(u) ~ u - 1, and c is
 * added back) or x > 2^29 (c, below u 2^-53, is dropped: masked to 0).
 * log(u) as vm_logf's. */
VM_INLINE float vm_log1pf(float xf)
{
    double x = xf;
    double u = 1.0 + x;
    double c = x - (u - 1.0);
    c = vm_double(vm_bits(c) & vm_mask_lt(vm_bits(u), 0x4000000000000000ULL));   /* u < 2 */
    uint64_t iu = vm_bits(u);
    uint64_t tmp = iu - 0x3fe6a09e667f3bcdULL;
    uint64_t kb = (tmp + 0x4000000000000000ULL) >> 52;
    double k = vm_double(0x4330000000000000ULL | kb) - 4503599627370496.0 - 1024.0;
    double m = vm_double(iu - (tmp & 0xfff0000000000000ULL));
    double s = (m - 1.0) / (m + 1.0);
    double z = s * s;
    double R = VM_LOGF_R3;
    R = R * z + VM_LOGF_R2;
    R = R * z + VM_LOGF_R1;
    R = R * z + VM_LOGF_R0;
    float y = (float)(k * VM_LN2 + ((2.0 * s + (2.0 * s) * (z * R)) + c));
    y = vm_blendf(vm_maskf(xf == -1.0f), -VM_INFF, y);
    y = vm_blendf(vm_maskf(xf < -1.0f), VM_NANF, y);
    /* log1p(inf) = inf, log1p(-0) = -0, NaN */
    return vm_blendf(vm_maskf((xf == VM_INFF) | (xf == 0.0f) | (xf != xf)), xf, y);
}

/* erfc(a) for a in [0, 10.1] as t P(t) e^{-a^2}, t = 1 / (1 + 0.3 a)
 * (relative error ~3e-11; garbage above 11.4, where e^{-a^2} leaves
 * vm_expf_core's range). a^2 of a float is exact in double. */
VM_INLINE double vm_erfcf_core(double a)
{
    double t = 1.0 / (1.0 + 0.3 * a);
    double p = VM_ERFC_P12;
    p = p * t + VM_ERFC_P11;
    p = p * t + VM_ERFC_P10;
    p = p * t + VM_ERFC_P9;
    p = p * t + VM_ERFC_P8;
    p = p * t + VM_ERFC_P7;
    p = p * t + VM_ERFC_P6;
    p = p * t + VM_ERFC_P5;
    p = p * t + VM_ERFC_P4;
    p = p * t + VM_ERFC_P3;
    p = p * t + VM_ERFC_P2;
    p = p * t + VM_ERFC_P1;
    p = p * t + VM_ERFC_P0;
    return (t * p) * vm_expf_core(-(a * a));
}

/* erf: x P(x^2) for |x| < 0.75, 1 - erfc(|x|) above; 1 above 4 (erf
 * rounds to +-1 from |x| = 3.92), NaN itself; the sign copied from x
 * (erf(-0) = -0). All choices are integer masks and the conversion to float
 * is the last operation, so 1 + erf(x) in gelu still vectorises (an
 * operation after a select with a constant arm would get folded). */
VM_INLINE float vm_erff(float xf)
{
    double x = xf;
    double a = vm_abs(x);
    double z = a * a;
    double p = VM_ERF_P7;
    p = p * z + VM_ERF_P6;
    p = p * z + VM_ERF_P5;
    p = p * z + VM_ERF_P4;
    p = p * z + VM_ERF_P3;
    p = p * z + VM_ERF_P2;
    p = p * z + VM_ERF_P1;
    p = p * z + VM_ERF_P0;
    double small = a * p;
    double large = 1.0 - vm_erfcf_core(a);
    uint64_t m = vm_mask_lt(vm_bits(a), 0x3fe8000000000000ULL);   /* a < 0.75 */
    uint64_t big = vm_mask_lt(0x4010000000000000ULL, vm_bits(a));  /* 4 < a, inf, NaN */
    uint64_t nan = vm_mask_lt(0x7ff0000000000000ULL, vm_bits(a));
    uint64_t y = (vm_bits(small) & m) | (vm_bits(large) & ~m);
    y = (y & ~big) | (0x3ff0000000000000ULL & big & ~nan) | (vm_bits(a) & nan);
    return (float)vm_copysign(vm_double(y), x);
}

/* erfc: the core for x >= 0, 2 - core(-x) below (2 added by a mask from the
 * sign bit, so erfc(-0) = 2 - 1 = 1); 0 above 10.1 (erfc(10.06) is below
 * half the smallest denormal) by masking the core, so -inf gives 2. */
VM_INLINE float vm_erfcf(float xf)
{
    double x = xf;
    double a = vm_abs(x);
    double r = vm_erfcf_core(a);
    uint64_t big = vm_mask_lt(0x4024333333333333ULL, vm_bits(a));    /* 10.1 < a, inf, NaN */
    r = vm_double(vm_bits(r) & ~big);
    uint64_t neg = (uint64_t)0 - (vm_bits(x) >> 63);
    double two = vm_double(0x4000000000000000ULL & neg);
    float y = (float)(two + vm_copysign(r, x));
    return vm_blendf(vm_maskf(xf != xf), xf, y);
}

#endif /* CGRAD_VECMATH_H */
