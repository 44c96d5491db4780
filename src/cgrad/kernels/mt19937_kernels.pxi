# PyTorch's CPU random stream in C: the 32-bit MT19937 engine of ATen's
# CPUGeneratorImpl (seeded with init_genrand(seed & 0xffffffff); random64 is
# two draws, the first the high half) and the fills behind rand/randn/randint/
# random_/randperm/bernoulli, each drawing exactly as ATen's CPU kernels do
# (aten/src/ATen/core/DistributionsHelper.h, TransformationHelper.h,
# native/cpu/DistributionTemplates.h), so that a seed gives PyTorch's numbers
# bit for bit. Where ATen's arithmetic is fused (its kernels are built with
# FMA and GCC contracts a*b+c) the fills call fma explicitly; the module is
# built with -ffp-contract=off, so nothing else is fused. float32 normal_fill
# runs Box-Muller through avx_mathfun's Cephes log and sincos (ATen's AVX2
# path), transcribed lane by lane with the contractions GCC makes there
# (checked against torch on millions of draws). Draws are serial, as ATen's
# (cpu_serial_kernel under the generator's lock): threads never change them.

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #include <math.h>
    #include <float.h>
    #if !defined(CGRAD_RT_CLONES)
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define CGRAD_RT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define CGRAD_RT_CLONES
    #endif
    #endif
    #define CG_MT_N 624
    #define CG_MT_M 397

    typedef struct {
        uint64_t seed;
        int left;
        int seeded;
        uint32_t next;
        uint32_t state[CG_MT_N];
        double next_double_normal;
        int has_double_normal;
        float next_float_normal;
        int has_float_normal;
    } cg_mt;

    static void cg_mt_seed(cg_mt* g, uint64_t seed) {
        int j;
        g->seed = seed;
        g->seeded = 1;
        g->state[0] = (uint32_t)(seed & 0xffffffffu);
        for (j = 1; j < CG_MT_N; j++)
            g->state[j] = 1812433253u * (g->state[j - 1] ^ (g->state[j - 1] >> 30)) + (uint32_t)j;
        g->left = 1;
        g->next = 0;
        g->has_double_normal = 0;
        g->has_float_normal = 0;
        g->next_double_normal = 0;
        g->next_float_normal = 0;
    }

    #define CG_MIX(u, v) (((u) & 0x80000000u) | ((v) & 0x7fffffffu))
    #define CG_TWIST(u, v) ((CG_MIX(u, v) >> 1) ^ (((v) & 1u) ? 0x9908b0dfu : 0u))

    static void cg_mt_next_state(cg_mt* g) {
        uint32_t* p = g->state;
        int j;
        g->left = CG_MT_N;
        g->next = 0;
        for (j = CG_MT_N - CG_MT_M + 1; --j; p++) *p = p[CG_MT_M] ^ CG_TWIST(p[0], p[1]);
        for (j = CG_MT_M; --j; p++) *p = p[CG_MT_M - CG_MT_N] ^ CG_TWIST(p[0], p[1]);
        *p = p[CG_MT_M - CG_MT_N] ^ CG_TWIST(p[0], g->state[0]);
    }

    static inline uint32_t cg_random(cg_mt* g) {
        uint32_t y;
        if (--(g->left) == 0) cg_mt_next_state(g);
        y = g->state[g->next++];
        y ^= (y >> 11);
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= (y >> 18);
        return y;
    }

    static inline uint64_t cg_random64(cg_mt* g) {
        uint64_t hi = cg_random(g);
        uint64_t lo = cg_random(g);
        return (hi << 32) | lo;
    }

    static inline float cg_uniform_f(cg_mt* g) {
        return (float)(cg_random(g) & ((1u << 24) - 1)) * (1.0f / (float)(1u << 24));
    }

    static inline double cg_uniform_d(cg_mt* g) {
        return (double)(cg_random64(g) & ((UINT64_C(1) << 53) - 1)) * (1.0 / (double)(UINT64_C(1) << 53));
    }

    /* at::normal_distribution<double>: a Box-Muller pair, its sine half kept for the next draw */
    static inline double cg_normal_d(cg_mt* g) {
        double u1, u2, r, theta;
        if (g->has_double_normal) {
            g->has_double_normal = 0;
            return g->next_double_normal;
        }
        u1 = cg_uniform_d(g);
        u2 = cg_uniform_d(g);
        r = sqrt(-2.0 * log1p(-u2));
        theta = 2.0 * M_PI * u1;
        g->next_double_normal = r * sin(theta);
        g->has_double_normal = 1;
        return r * cos(theta);
    }

    /* uniform_kernel: float opmath, a value rounded up to `to` becomes `from` */
    static void cg_fill_uniform_f32(cg_mt* g, float* out, int64_t n, float from, float to) {
        int64_t i;
        float span = to - from;
        for (i = 0; i < n; i++) {
            float v = fmaf(cg_uniform_f(g), span, from);
            out[i] = v == to ? from : v;
        }
    }

    static void cg_fill_uniform_f64(cg_mt* g, double* out, int64_t n, double from, double to) {
        int64_t i;
        double span = to - from;
        for (i = 0; i < n; i++) {
            double v = fma(cg_uniform_d(g), span, from);
            out[i] = v == to ? from : v;
        }
    }

    static inline float cg_bits_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
    static inline uint32_t cg_f_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

    /* avx_mathfun.h's log256_ps, one lane */
    static inline float cg_log_cephes(float x) {
        int invalid = !(x > 0), mask;
        uint32_t ix;
        int32_t e_int;
        float e, z, y, tmp;
        if (x < cg_bits_f(0x00800000u)) x = cg_bits_f(0x00800000u);
        ix = cg_f_bits(x);
        e_int = (int32_t)(ix >> 23) - 0x7f;
        x = cg_bits_f((ix & ~0x7f800000u) | cg_f_bits(0.5f));
        e = (float)e_int + 1.0f;
        mask = x < 0.707106781186547524f;
        tmp = mask ? x : 0.0f;
        x = x - 1.0f;
        e = e - (mask ? 1.0f : 0.0f);
        x = x + tmp;
        z = x * x;
        y = 7.0376836292E-2f;
        y = fmaf(y, x, -1.1514610310E-1f);
        y = fmaf(y, x, 1.1676998740E-1f);
        y = fmaf(y, x, -1.2420140846E-1f);
        y = fmaf(y, x, 1.4249322787E-1f);
        y = fmaf(y, x, -1.6668057665E-1f);
        y = fmaf(y, x, 2.0000714765E-1f);
        y = fmaf(y, x, -2.4999993993E-1f);
        y = fmaf(y, x, 3.3333331174E-1f);
        y = y * x;
        y = fmaf(y, z, e * -2.12194440e-4f);
        y = fmaf(z, -0.5f, y);
        x = x + y;
        x = fmaf(e, 0.693359375f, x);
        return invalid ? NAN : x;
    }

    /* avx_mathfun.h's sincos256_ps, one lane */
    static inline void cg_sincos_cephes(float xin, float* s, float* c) {
        uint32_t sign_sin = cg_f_bits(xin) & 0x80000000u, sign_cos;
        float x = cg_bits_f(cg_f_bits(xin) & 0x7fffffffu), y, z, y2, ysin1, ysin2;
        int32_t j, j4;
        int poly;
        y = x * 1.27323954473516f;
        j = ((int32_t)y + 1) & ~1;
        y = (float)j;
        sign_sin ^= ((uint32_t)(j & 4)) << 29;
        poly = (j & 2) == 0;
        x = fmaf(y, -0.78515625f, x);
        x = fmaf(y, -2.4187564849853515625e-4f, x);
        x = fmaf(y, -3.77489497744594108e-8f, x);
        j4 = j - 2;
        sign_cos = ((uint32_t)(~j4 & 4)) << 29;
        z = x * x;
        y = 2.443315711809948E-005f;
        y = fmaf(y, z, -1.388731625493765E-003f);
        y = fmaf(y, z, 4.166664568298827E-002f);
        y = y * z;
        y = fmaf(y, z, -(z * 0.5f));
        y = y + 1.0f;
        y2 = -1.9515295891E-4f;
        y2 = fmaf(y2, z, 8.3321608736E-3f);
        y2 = fmaf(y2, z, -1.6666654611E-1f);
        y2 = y2 * z;
        y2 = fmaf(y2, x, x);
        ysin2 = poly ? y2 : 0.0f;
        ysin1 = poly ? 0.0f : y;
        y2 = y2 - ysin2;
        y = y - ysin1;
        *s = cg_bits_f(cg_f_bits(ysin1 + ysin2) ^ sign_sin);
        *c = cg_bits_f(cg_f_bits(y + y2) ^ sign_cos);
    }

    CGRAD_RT_CLONES static void cg_normal16_f32(float* data, float mean, float std) {
        const float two_pi = (float)(2.0f * 3.14159265358979323846);
        int j;
        for (j = 0; j < 8; j++) {
            float u1 = 1.0f - data[j], u2 = data[j + 8], st, ct;
            float radius = sqrtf(-2.0f * cg_log_cephes(u1));
            cg_sincos_cephes(two_pi * u2, &st, &ct);
            data[j] = fmaf(radius * ct, std, mean);
            data[j + 8] = fmaf(radius * st, std, mean);
        }
    }

    static void cg_normal16_f64(double* data, double mean, double std) {
        int j;
        for (j = 0; j < 8; j++) {
            double u1 = 1 - data[j], u2 = data[j + 8];
            double radius = sqrt(-2 * log(u1));
            double theta = 2.0f * M_PI * u2;
            data[j] = fma(radius * cos(theta), std, mean);
            data[j + 8] = fma(radius * sin(theta), std, mean);
        }
    }

    /* normal_fill (contiguous, n >= 16): all uniforms first, Box-Muller per 16, the
       last 16 redrawn when n is not a multiple of 16 */
    static void cg_fill_normal16_f32(cg_mt* g, float* data, int64_t n, float mean, float std) {
        int64_t i;
        for (i = 0; i < n; i++) data[i] = cg_uniform_f(g);
        for (i = 0; i < n - 15; i += 16) cg_normal16_f32(data + i, mean, std);
        if (n % 16) {
            data += n - 16;
            for (i = 0; i < 16; i++) data[i] = cg_uniform_f(g);
            cg_normal16_f32(data, mean, std);
        }
    }

    static void cg_fill_normal16_f64(cg_mt* g, double* data, int64_t n, double mean, double std) {
        int64_t i;
        for (i = 0; i < n; i++) data[i] = cg_uniform_d(g);
        for (i = 0; i < n - 15; i += 16) cg_normal16_f64(data + i, mean, std);
        if (n % 16) {
            data += n - 16;
            for (i = 0; i < 16; i++) data[i] = cg_uniform_d(g);
            cg_normal16_f64(data, mean, std);
        }
    }

    /* normal_fill for float16: per block of 16 a float buffer drawn and
       transformed, the last 16 redrawn (n - n % 16 + 16 draws, not n + 16) */
    static void cg_fill_normal16_blocks_f32(cg_mt* g, float* data, int64_t n, float mean, float std) {
        int64_t i, j;
        for (i = 0; i < n - 15; i += 16) {
            for (j = 0; j < 16; j++) data[i + j] = cg_uniform_f(g);
            cg_normal16_f32(data + i, mean, std);
        }
        if (n % 16) {
            float buf[16];
            for (j = 0; j < 16; j++) buf[j] = cg_uniform_f(g);
            cg_normal16_f32(buf, mean, std);
            for (j = 0; j < 16; j++) data[n - 16 + j] = buf[j];
        }
    }

    /* the serial path (n < 16 or not contiguous): normal_distribution<double> */
    static void cg_fill_normal_serial(cg_mt* g, double* out, int64_t n, double mean, double std) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = fma(cg_normal_d(g), std, mean);
    }

    /* uniform_int_from_to_distribution: random64 for a range of 2^28 or more
       (torch 2.13 on every dtype, measured), random below */
    static void cg_fill_int_from_to(cg_mt* g, int64_t* out, int64_t n, uint64_t range, int64_t base) {
        int64_t i;
        if (range >= (UINT64_C(1) << 28)) {
            for (i = 0; i < n; i++) out[i] = (int64_t)((cg_random64(g) % range) + (uint64_t)base);
        } else {
            for (i = 0; i < n; i++) out[i] = (int64_t)((cg_random(g) % range) + (uint64_t)base);
        }
    }

    /* uniform_int_distribution (random_() without bounds): modulus is the dtype's top + 1 */
    static void cg_fill_int_default(cg_mt* g, int64_t* out, int64_t n, uint64_t modulus, int use64) {
        int64_t i;
        if (use64) {
            for (i = 0; i < n; i++) out[i] = (int64_t)(cg_random64(g) % modulus);
        } else {
            for (i = 0; i < n; i++) out[i] = (int64_t)(cg_random(g) % modulus);
        }
    }

    static void cg_fill_int_full64(cg_mt* g, int64_t* out, int64_t n) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = (int64_t)cg_random64(g);
    }

    /* randperm_cpu: Fisher-Yates from the front with random() % (n - i) for
       n below 2^32 / 20; the inside-out variant on random64 above */
    static void cg_randperm(cg_mt* g, int64_t* r, int64_t n) {
        int64_t i;
        if (n < (int64_t)(UINT32_MAX / 20)) {
            for (i = 0; i < n; i++) r[i] = i;
            for (i = 0; i < n - 1; i++) {
                int64_t z = (int64_t)(cg_random(g) % (uint64_t)(n - i));
                int64_t sav = r[i];
                r[i] = r[z + i];
                r[z + i] = sav;
            }
            return;
        }
        for (i = 0; i < n; i++) {
            int64_t z = (int64_t)(cg_random64(g) % (uint64_t)(i + 1));
            r[i] = r[z];
            r[z] = i;
        }
    }

    /* bernoulli_(p scalar): bernoulli_distribution<double> (a random64 uniform < p) */
    static void cg_fill_bernoulli_scalar(cg_mt* g, uint8_t* out, int64_t n, double p) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = cg_uniform_d(g) < p;
    }

    /* bernoulli_(p tensor): float p compares a float uniform, double p a double one */
    static void cg_fill_bernoulli_f32(cg_mt* g, uint8_t* out, const float* p, int64_t n) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = cg_uniform_f(g) < p[i];
    }

    static void cg_fill_bernoulli_f64(cg_mt* g, uint8_t* out, const double* p, int64_t n) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = cg_uniform_d(g) < p[i];
    }

    /* serial uniform doubles (for the transformations of exponential_, cauchy_, ...) */
    static void cg_fill_uniform_serial(cg_mt* g, double* out, int64_t n) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = cg_uniform_d(g);
    }

    /* exponential_, cauchy_, geometric_, log_normal_: ATen's transformations of
       one double uniform (log_normal: of one normal_distribution<double> draw) */
    static void cg_fill_exponential(cg_mt* g, double* out, int64_t n, double lambd) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = -1.0 / lambd * log1p(-cg_uniform_d(g));
    }

    static void cg_fill_cauchy(cg_mt* g, double* out, int64_t n, double median, double sigma) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = fma(sigma, tan(M_PI * (cg_uniform_d(g) - 0.5)), median);
    }

    static void cg_fill_geometric(cg_mt* g, double* out, int64_t n, double p) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = ceil(log(cg_uniform_d(g)) / log1p(-p));
    }

    static void cg_fill_log_normal(cg_mt* g, double* out, int64_t n, double mean, double std) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = exp(fma(cg_normal_d(g), std, mean));
    }

    /* poisson: ATen's sample_poisson in the input's type T (transformed
       rejection for lambda >= 10, Knuth's product below), on double uniforms */
    #define CG_POISSON_SAMPLER(NAME, T, SQRT, LOG, EXP, LGAMMA)                              \
    static T NAME(cg_mt* g, T lambda) {                                                      \
        if (lambda >= 10) {                                                                  \
            int64_t k;                                                                       \
            T U, V, a, b, invalpha, vr, us;                                                  \
            T slam = SQRT(lambda);                                                           \
            T loglam = LOG(lambda);                                                          \
            b = 0.931 + 2.53 * slam;                                                         \
            a = -0.059 + 0.02483 * b;                                                        \
            invalpha = 1.1239 + 1.1328 / (b - 3.4);                                          \
            vr = 0.9277 - 3.6224 / (b - 2);                                                  \
            while (1) {                                                                      \
                U = cg_uniform_d(g) - 0.5;                                                   \
                V = cg_uniform_d(g);                                                         \
                us = 0.5 - fabs(U);                                                          \
                k = (int64_t)floor((2 * a / us + b) * U + lambda + 0.43);                    \
                if ((us >= 0.07) && (V <= vr)) return (T)k;                                  \
                if ((k < 0) || ((us < 0.013) && (V > us))) continue;                         \
                if ((LOG(V) + LOG(invalpha) - LOG(a / (us * us) + b)) <=                     \
                    (-lambda + k * loglam - LGAMMA((T)k + 1)))                               \
                    return (T)k;                                                             \
            }                                                                                \
        } else if (lambda == 0) {                                                            \
            return 0;                                                                        \
        } else {                                                                             \
            int64_t X = 0;                                                                   \
            T prod = 1.0, U, enlam = EXP(-lambda);                                           \
            while (1) {                                                                      \
                U = cg_uniform_d(g);                                                         \
                prod *= U;                                                                   \
                if (prod > enlam) X += 1;                                                    \
                else return (T)X;                                                            \
            }                                                                                \
        }                                                                                    \
    }
    CG_POISSON_SAMPLER(cg_poisson_f32, float, sqrtf, logf, expf, lgammaf)
    CG_POISSON_SAMPLER(cg_poisson_f64, double, sqrt, log, exp, lgamma)

    /* _standard_gamma: ATen's sample_gamma (Marsaglia and Tsang, alpha < 1
       boosted) in the input's type T with double accumulation, on double
       uniforms and normal_distribution<double> draws; floored at T's tiny */
    #define CG_GAMMA_SAMPLER(NAME, T, TINY)                                                  \
    static T NAME(cg_mt* g, T alpha) {                                                       \
        double scale = 1.0f, d, c, x, y, v, u, xx, sample;                                   \
        if (alpha < 1.0f) {                                                                  \
            if (alpha == 0.f) return TINY;                                                   \
            scale *= pow(1 - cg_uniform_d(g), 1.0f / alpha);                                 \
            alpha += 1.0f;                                                                   \
        }                                                                                    \
        d = alpha - 1.0f / 3.0f;                                                             \
        c = 1.0f / sqrt(9.0f * d);                                                           \
        for (;;) {                                                                           \
            do {                                                                             \
                x = cg_normal_d(g);                                                          \
                y = 1.0f + c * x;                                                            \
            } while (y <= 0);                                                                \
            v = y * y * y;                                                                   \
            u = 1 - cg_uniform_d(g);                                                         \
            xx = x * x;                                                                      \
            if (u < 1.0f - 0.0331f * xx * xx) { sample = scale * d * v; break; }             \
            if (log(u) < 0.5f * xx + d * (1.0f - v + log(v))) { sample = scale * d * v; break; } \
        }                                                                                    \
        return (T)sample > TINY ? (T)sample : TINY;                                          \
    }
    CG_GAMMA_SAMPLER(cg_gamma_f32, float, FLT_MIN)
    CG_GAMMA_SAMPLER(cg_gamma_f64, double, DBL_MIN)

    static void cg_fill_gamma_f32(cg_mt* g, float* out, const float* alpha, int64_t n) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = cg_gamma_f32(g, alpha[i]);
    }

    static void cg_fill_gamma_f64(cg_mt* g, double* out, const double* alpha, int64_t n) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = cg_gamma_f64(g, alpha[i]);
    }

    static void cg_fill_poisson_f32(cg_mt* g, float* out, const float* rates, int64_t n) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = cg_poisson_f32(g, rates[i]);
    }

    static void cg_fill_poisson_f64(cg_mt* g, double* out, const double* rates, int64_t n) {
        int64_t i;
        for (i = 0; i < n; i++) out[i] = cg_poisson_f64(g, rates[i]);
    }
    """
    ctypedef struct cg_mt:
        uint64_t seed
        int left
        int seeded
        uint32_t next
        uint32_t state[624]
        double next_double_normal
        int has_double_normal
        float next_float_normal
        int has_float_normal
    void cg_mt_seed(cg_mt* g, uint64_t seed) noexcept nogil
    uint32_t cg_random(cg_mt* g) noexcept nogil
    uint64_t cg_random64(cg_mt* g) noexcept nogil
    void cg_fill_uniform_f32(cg_mt* g, float* out, int64_t n, float lo, float hi) noexcept nogil
    void cg_fill_uniform_f64(cg_mt* g, double* out, int64_t n, double lo, double hi) noexcept nogil
    void cg_fill_normal16_f32(cg_mt* g, float* out, int64_t n, float mean, float std) noexcept nogil
    void cg_fill_normal16_f64(cg_mt* g, double* out, int64_t n, double mean, double std) noexcept nogil
    void cg_fill_normal16_blocks_f32(cg_mt* g, float* out, int64_t n, float mean, float std) noexcept nogil
    void cg_fill_normal_serial(cg_mt* g, double* out, int64_t n, double mean, double std) noexcept nogil
    void cg_fill_int_from_to(cg_mt* g, int64_t* out, int64_t n, uint64_t rng_range, int64_t base) noexcept nogil
    void cg_fill_int_default(cg_mt* g, int64_t* out, int64_t n, uint64_t modulus, int use64) noexcept nogil
    void cg_fill_int_full64(cg_mt* g, int64_t* out, int64_t n) noexcept nogil
    void cg_randperm(cg_mt* g, int64_t* r, int64_t n) noexcept nogil
    void cg_fill_bernoulli_scalar(cg_mt* g, uint8_t* out, int64_t n, double p) noexcept nogil
    void cg_fill_bernoulli_f32(cg_mt* g, uint8_t* out, const float* p, int64_t n) noexcept nogil
    void cg_fill_bernoulli_f64(cg_mt* g, uint8_t* out, const double* p, int64_t n) noexcept nogil
    void cg_fill_uniform_serial(cg_mt* g, double* out, int64_t n) noexcept nogil
    void cg_fill_exponential(cg_mt* g, double* out, int64_t n, double lambd) noexcept nogil
    void cg_fill_cauchy(cg_mt* g, double* out, int64_t n, double median, double sigma) noexcept nogil
    void cg_fill_geometric(cg_mt* g, double* out, int64_t n, double p) noexcept nogil
    void cg_fill_log_normal(cg_mt* g, double* out, int64_t n, double mean, double std) noexcept nogil
    void cg_fill_poisson_f32(cg_mt* g, float* out, const float* rates, int64_t n) noexcept nogil
    void cg_fill_poisson_f64(cg_mt* g, double* out, const double* rates, int64_t n) noexcept nogil
    void cg_fill_gamma_f32(cg_mt* g, float* out, const float* alpha, int64_t n) noexcept nogil
    void cg_fill_gamma_f64(cg_mt* g, double* out, const double* alpha, int64_t n) noexcept nogil
