/*
 * fmod_rows.h: float32 fmod and remainder of a contiguous row by one number
 * (x % 0.3, fmod(x, 2.5)), as a loop gcc vectorises, cloned for AVX2 and
 * AVX-512 (as vec_rows.h).
 *
 * kernels_math.pxd's fmod_real computes float32 fmod exactly without libm
 * when |a / b| < 2^24: t = trunc(a / b) in double is the truncated quotient
 * or one too far from zero, a - t b is exact in double, and one correction
 * gives C's fmod. But it branches on that condition (libm's fmodf beyond)
 * and on the correction, data-dependent branches that mispredict about
 * half the time. Here the same steps are straight-line: the quotient is
 * clamped to 0 where it is out of range (so the int conversion is defined),
 * the corrections are added under masks, and an element where the fast
 * form does not hold (|a / b| >= 2^24 as rounded to float, a or b not
 * finite, b = 0, NaN) is written as NaN; the caller (the fmod and
 * remainder row kernels, kernels/pointwise_kernels.pxi.tp) recomputes the
 * NaN elements with fmod_real / remainder_real, whose result they then
 * get whichever path it takes. So the values are bit-identical.
 *
 * Masks follow vecmath.h's rules: 64-bit ones from double compares for
 * double values, 32-bit ones from float compares for float values.
 */
#ifndef CGRAD_FMOD_ROWS_H
#define CGRAD_FMOD_ROWS_H

#include "vecmath.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CG_FMOD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CG_FMOD_CLONES
#endif

/* all ones if c (a double compare), else 0 */
static inline uint64_t cg_fmod_mask64(int c) { return (uint64_t)0 - (uint64_t)c; }

/* fmod(a, b) for a float32 a and b, or NaN where the fast form does not
 * hold; `remainder` adds b where the result's sign differs from b's. */
static inline float cg_fmod_fast_f32(float a, float b, int remainder)
{
    double ad = a, bd = b;
    double q = ad / bd;
    float qf = (float)q;
    uint32_t ok = vm_maskf((vm_float(vm_fbits(qf) & 0x7fffffffu) < 16777216.0f)
                           & (vm_float(vm_fbits(b) & 0x7fffffffu) <= 3.4028234663852886e38f));
    /* q itself where |q| < 2^24, else 0, so (int) is in range */
    double qs = vm_double(vm_bits(q) & cg_fmod_mask64(vm_abs(q) < 16777216.0));
    double r = ad - (double)(int)qs * bd;
    /* one too far from zero: back by b, toward a's sign */
    uint64_t fix = cg_fmod_mask64((r != 0.0) & ((r < 0.0) != (ad < 0.0)));
    r = r + vm_double(vm_bits(vm_copysign(bd, ad)) & fix);
    float y = (float)r;
    y = vm_blendf(vm_maskf(y == 0.0f), vm_copysignf(0.0f, a), y);
    if (remainder)
        y = vm_blendf(vm_maskf((y != 0.0f) & ((b < 0.0f) != (y < 0.0f))), y + b, y);
    return vm_blendf(ok, y, VM_NANF);
}

CG_FMOD_CLONES __attribute__((unused)) static void cg_fmod_rows_f32(const float* a, float b, float* o,
                                                                    Py_ssize_t n, int remainder)
{
    if (remainder)
        for (Py_ssize_t i = 0; i < n; i++) o[i] = cg_fmod_fast_f32(a[i], b, 1);
    else
        for (Py_ssize_t i = 0; i < n; i++) o[i] = cg_fmod_fast_f32(a[i], b, 0);
}

#endif /* CGRAD_FMOD_ROWS_H */
