/* Element conversions of cgrad's dtypes, in portable C.
 *
 * float16: stored as its IEEE binary16 bit pattern (uint16_t) and computed
 * in float32, as PyTorch computes Half on the CPU. `_Float16` is not
 * portable, so the conversions are done here on bit patterns:
 *   cg_h2f  half -> float: exact (every half is a float), NaN payloads kept
 *   cg_f2h  float -> half: round to nearest, ties to even; overflow gives
 *           inf, tiny values subnormals or signed zero; NaN payloads are
 *           truncated (and kept NaN), bit for bit as numpy's conversion
 *           (checked on all 2^32 floats)
 *   cg_d2h  double -> half through float, as c10::Half(double) converts
 *           (two roundings, like PyTorch; numpy rounds once)
 *
 * float -> integer: C leaves out-of-range conversions undefined; PyTorch's
 * CPU kernels get x86's answers (cvttss2si: the "integer indefinite"
 * INT_MIN for NaN and out-of-range values), which these helpers give on
 * every platform:
 *   int32, and int16 / int8 through int32     cg_d2i32
 *   int64, and uint8 through int64            cg_d2i64
 * (PyTorch converts to uint8 through int64: c10::static_cast_with_inter_type.)
 */
#ifndef CGRAD_HALF_H
#define CGRAD_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t cg_fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float cg_bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
/* c ? a : b for c in {0, 1}, as masks: a ternary on a float result would be
   turned back into a branch (floating point may trap), and the loop would
   not vectorise */
static inline uint32_t cg_sel(uint32_t c, uint32_t a, uint32_t b)
{
    uint32_t m = 0u - c;
    return (a & m) | (b & ~m);
}

/* Both conversions are branch-free (mask selects only), so the compiler
 * vectorises the loops that call them. They are the FP16 library's
 * (fp16_ieee_to_fp32_value / fp16_ieee_from_fp32_value, which PyTorch's
 * c10::Half uses: float arithmetic does the rounding, exactly), except for
 * NaN, kept with its payload as numpy keeps it (the FP16 library and
 * PyTorch quiet signalling NaNs). Checked against numpy on every float. */

static inline float cg_h2f(uint16_t h)
{
    uint32_t w = (uint32_t)h << 16;
    uint32_t sign = w & 0x80000000u;
    uint32_t two_w = w + w;
    /* normal: the exponent rebiased by a multiply (exact) */
    uint32_t normalized = cg_fbits(cg_bitsf((two_w >> 4) + (0xE0u << 23)) * cg_bitsf(0x07800000u));   /* 2^-112 */
    /* subnormal: the mantissa as the fraction of a float in [0.5, 1), minus 0.5 (exact) */
    uint32_t denormalized = cg_fbits(cg_bitsf((two_w >> 17) | (126u << 23)) - 0.5f);
    uint32_t special = (two_w >> 4) | 0x7f800000u;       /* inf, NaN: payload as it is */
    uint32_t r = cg_sel(two_w < (1u << 27), denormalized, normalized);
    r = cg_sel(two_w >= 0xF8000000u, special, r);
    return cg_bitsf(sign | r);
}

static inline uint16_t cg_f2h(float f)
{
    uint32_t w = cg_fbits(f);
    uint32_t shl1_w = w + w;
    uint32_t sign = (w & 0x80000000u) >> 16;
    uint32_t bias = shl1_w & 0xFF000000u;
    /* |f| scaled up then down: values beyond the half range become inf,
       and the addition below rounds the mantissa to 10 bits (to nearest,
       ties to even, subnormals included) */
    float base = (cg_bitsf(w & 0x7fffffffu) * cg_bitsf(0x77800000u)) * cg_bitsf(0x08800000u);  /* 2^112, 2^-110 */
    uint32_t bits, nonsign, m13, nan16;
    bias = cg_sel(bias < 0x71000000u, 0x71000000u, bias);
    base = cg_bitsf((bias >> 1) + 0x07800000u) + base;
    bits = cg_fbits(base);
    nonsign = ((bits >> 13) & 0x7C00u) + (bits & 0x0FFFu);
    m13 = (w & 0x007fffffu) >> 13;
    nan16 = 0x7C00u | m13 | (uint32_t)(m13 == 0);        /* NaN: the payload's top bits, kept NaN */
    return (uint16_t)(sign | cg_sel(shl1_w > 0xFF000000u, nan16, nonsign));
}

static inline uint16_t cg_d2h(double d) { return cg_f2h((float)d); }

static inline int32_t cg_d2i32(double x)
{
    return (x > -2147483649.0 && x < 2147483648.0) ? (int32_t)x : INT32_MIN;
}

static inline int64_t cg_d2i64(double x)
{
    return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x : INT64_MIN;
}

#endif
