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
 * bfloat16: stored as the top 16 bits of a float32 and computed in float32,
 * as PyTorch computes BFloat16 on the CPU:
 *   cg_bf2f bfloat16 -> float: exact (the bits shifted up)
 *   cg_f2bf float -> bfloat16: round to nearest, ties to even, on the bits
 *           (c10::round_to_nearest_even); NaN gives c10's quiet NaN 0x7FC0
 *           (PyTorch's vectorised copies give 0xFFFF: NaN either way)
 *   cg_d2bf double -> bfloat16 through float, as c10::BFloat16(double)
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

#include <stddef.h>
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

static inline float cg_bf2f(uint16_t b) { return cg_bitsf((uint32_t)b << 16); }

static inline uint16_t cg_f2bf(float f)
{
    uint32_t u = cg_fbits(f);
    uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    return (uint16_t)cg_sel((u & 0x7fffffffu) > 0x7f800000u, 0x7FC0u, rounded);
}

static inline uint16_t cg_d2bf(double d) { return cg_f2bf((float)d); }


/* Bulk conversions: n halves at src (every stride-th) into floats at dst,
 * and n floats into halves at dst (every stride-th). The float16 kernels
 * convert blocks with these and compute in float32. On x86-64 CPUs with
 * F16C the contiguous case uses the hardware conversions (picked at load
 * time, cg_half_init), with signalling NaNs put back as cg_h2f / cg_f2h
 * give them (the hardware quiets them); the results are the same bits. */

static int cg_use_f16c = 0;

/* a module that includes this header for cg_h2f/cg_f2h alone does not call
 * the bulk conversions: no unused-function warning for them there */
#if defined(__GNUC__) || defined(__clang__)
#define CG_MAYBE_UNUSED __attribute__((unused))
#else
#define CG_MAYBE_UNUSED
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define CG_F16C_TARGET __attribute__((target("avx2,f16c")))

CG_F16C_TARGET static void cg_load_half_f16c(float* dst, const uint16_t* src, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    const __m256i exp_quiet = _mm256_set1_epi32(0x7e00), exp_only = _mm256_set1_epi32(0x7c00);
    const __m256i mant = _mm256_set1_epi32(0x3ff), quiet_bit = _mm256_set1_epi32(0x00400000);
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i*)(src + i));
        __m256i w = _mm256_cvtepu16_epi32(h);
        __m256i snan_exp = _mm256_cmpeq_epi32(_mm256_and_si256(w, exp_quiet), exp_only);
        __m256i no_mant = _mm256_cmpeq_epi32(_mm256_and_si256(w, mant), _mm256_setzero_si256());
        __m256i snan = _mm256_andnot_si256(no_mant, snan_exp);
        __m256i f = _mm256_castps_si256(_mm256_cvtph_ps(h));
        f = _mm256_andnot_si256(_mm256_and_si256(snan, quiet_bit), f);
        _mm256_storeu_si256((__m256i*)(dst + i), f);
    }
    for (; i < n; i++)
        dst[i] = cg_h2f(src[i]);
}

CG_F16C_TARGET static void cg_store_half_f16c(uint16_t* dst, const float* src, ptrdiff_t n)
{
    ptrdiff_t i = 0, k;
    const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i quiet_bit = _mm256_set1_epi32(0x00400000);
    for (; i + 8 <= n; i += 8) {
        __m256i fb = _mm256_loadu_si256((const __m256i*)(src + i));
        __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(fb, abs_mask), inf);
        __m256i quiet = _mm256_cmpeq_epi32(_mm256_and_si256(fb, quiet_bit), quiet_bit);
        __m128i h = _mm256_cvtps_ph(_mm256_castsi256_ps(fb), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i*)(dst + i), h);
        if (_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_andnot_si256(quiet, is_nan))))
            for (k = i; k < i + 8; k++)
                dst[k] = cg_f2h(src[k]);          /* a signalling NaN: numpy's bits */
    }
    for (; i < n; i++)
        dst[i] = cg_f2h(src[i]);
}

static void cg_half_init(void)
{
    __builtin_cpu_init();
    cg_use_f16c = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}
#else
static void cg_half_init(void) {}
#define cg_load_half_f16c(d, s, n) ((void)0)
#define cg_store_half_f16c(d, s, n) ((void)0)
#endif

CG_MAYBE_UNUSED static void cg_load_half(float* dst, const uint16_t* src, ptrdiff_t stride, ptrdiff_t n)
{
    ptrdiff_t i;
    if (stride == 1) {
        if (cg_use_f16c) {
            cg_load_half_f16c(dst, src, n);
            return;
        }
        for (i = 0; i < n; i++)
            dst[i] = cg_h2f(src[i]);
        return;
    }
    for (i = 0; i < n; i++)
        dst[i] = cg_h2f(src[i * stride]);
}

CG_MAYBE_UNUSED static void cg_store_half(uint16_t* dst, ptrdiff_t stride, const float* src, ptrdiff_t n)
{
    ptrdiff_t i;
    if (stride == 1) {
        if (cg_use_f16c) {
            cg_store_half_f16c(dst, src, n);
            return;
        }
        for (i = 0; i < n; i++)
            dst[i] = cg_f2h(src[i]);
        return;
    }
    for (i = 0; i < n; i++)
        dst[i * stride] = cg_f2h(src[i]);
}

/* The bulk conversions of bfloat16: plain loops (gcc -O3 versions them for
 * a unit stride, -fversion-loops-for-strides, and vectorises that copy). */
CG_MAYBE_UNUSED static void cg_load_bf16(float* dst, const uint16_t* src, ptrdiff_t stride, ptrdiff_t n)
{
    ptrdiff_t i;
    for (i = 0; i < n; i++)
        dst[i] = cg_bf2f(src[i * stride]);
}

CG_MAYBE_UNUSED static void cg_store_bf16(uint16_t* dst, ptrdiff_t stride, const float* src, ptrdiff_t n)
{
    ptrdiff_t i;
    for (i = 0; i < n; i++)
        dst[i * stride] = cg_f2bf(src[i]);
}

/* Either 16-bit float, by a flag (the kernels shared by float16 and bfloat16) */
static inline float cg_h16_to_f(uint16_t v, int bf16) { return bf16 ? cg_bf2f(v) : cg_h2f(v); }
static inline uint16_t cg_f_to_h16(float f, int bf16) { return bf16 ? cg_f2bf(f) : cg_f2h(f); }
/* f rounded to the 16-bit float, as a float (one step of c10::Half / BFloat16 arithmetic) */
static inline float cg_round_h16(float f, int bf16) { return cg_h16_to_f(cg_f_to_h16(f, bf16), bf16); }

CG_MAYBE_UNUSED static void cg_load_h16(float* dst, const uint16_t* src, ptrdiff_t stride, ptrdiff_t n, int bf16)
{
    if (bf16)
        cg_load_bf16(dst, src, stride, n);
    else
        cg_load_half(dst, src, stride, n);
}

CG_MAYBE_UNUSED static void cg_store_h16(uint16_t* dst, ptrdiff_t stride, const float* src, ptrdiff_t n, int bf16)
{
    if (bf16)
        cg_store_bf16(dst, stride, src, n);
    else
        cg_store_half(dst, stride, src, n);
}

static inline int32_t cg_d2i32(double x)
{
    return (x > -2147483649.0 && x < 2147483648.0) ? (int32_t)x : INT32_MIN;
}

static inline int64_t cg_d2i64(double x)
{
    return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x : INT64_MIN;
}

#endif
