/* Element conversions of cgrad's dtypes, in portable C.
 *
 * float16: stored as its IEEE binary16 bit pattern (uint16_t) and computed
 * in float32, as PyTorch computes Half on the CPU. `_Float16` is not
 * portable, so the conversions are done here on bit patterns:
 *   cg_h2f  half -> float: exact (every half is a float), NaN payloads kept
 *   cg_f2h  float -> half: round to nearest, ties to even; overflow gives
 *           inf, tiny values subnormals or signed zero; NaN payloads are
 *           truncated (and kept NaN), bit for bit as numpy's conversion
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

static inline float cg_h2f(uint16_t h)
{
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    uint32_t e = ((uint32_t)h >> 10) & 0x1fu;
    uint32_t m = (uint32_t)h & 0x3ffu;
    if (e == 0x1fu)                       /* inf, NaN (payload kept) */
        return cg_bitsf(sign | 0x7f800000u | (m << 13));
    if (e != 0)                           /* normal */
        return cg_bitsf(sign | ((e + 112u) << 23) | (m << 13));
    /* zero or subnormal: m * 2^-24, exact in float */
    return cg_bitsf(sign | cg_fbits((float)m * 5.9604644775390625e-08f));
}

static inline uint16_t cg_f2h(float f)
{
    uint32_t x = cg_fbits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t fexp = x & 0x7f800000u;
    uint32_t fsig = x & 0x007fffffu;
    uint32_t q, rem, r;
    if (fexp >= 0x47800000u) {            /* |f| >= 2^16, inf or NaN */
        if (fexp == 0x7f800000u && fsig != 0) {
            r = 0x7c00u + (fsig >> 13);
            if (r == 0x7c00u)
                r++;                      /* a payload in the low bits only: stay NaN */
            return (uint16_t)(sign + r);
        }
        return (uint16_t)(sign + 0x7c00u);
    }
    if (fexp <= 0x38000000u) {            /* |f| < 2^-14: a subnormal half or zero */
        uint32_t e, sig, shift, halfbit;
        if (fexp < 0x33000000u)           /* below 2^-25: rounds to zero */
            return (uint16_t)sign;
        e = fexp >> 23;                   /* 102 .. 112 */
        sig = 0x00800000u | fsig;
        shift = 126u - e;                 /* in units of 2^-24 */
        halfbit = 1u << (shift - 1);
        q = sig >> shift;
        rem = sig & ((1u << shift) - 1u);
        if (rem > halfbit || (rem == halfbit && (q & 1u)))
            q++;                          /* may carry into the smallest normal: right */
        return (uint16_t)(sign + q);
    }
    q = fsig >> 13;
    rem = fsig & 0x1fffu;
    r = ((fexp - 0x38000000u) >> 13) + q;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u)))
        r++;                              /* a carry into the exponent is right, up to inf */
    return (uint16_t)(sign + r);
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
