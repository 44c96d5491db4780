/* Optimizer update kernels: PyTorch's single-tensor SGD / Adam / AdamW
 * rules, one pass over a parameter's buffers.
 *
 * PyTorch's CPU kernels compute `x + alpha * y` (add with alpha), lerp and
 * addcmul with fused multiply-adds (one rounding), so these kernels call
 * fma() at exactly those points: in float64 the updates then agree with
 * torch's bit for bit. On x86 the functions are compiled twice (with FMA
 * instructions, and a baseline fallback) and picked at load time, so fma()
 * is one instruction where the CPU has it.
 *
 * Vectorised loops: the options that change which operations run
 * (maximize, the weight-decay mode, amsgrad, momentum) are compile-time
 * constants of an always-inlined element body, and the kernel dispatches
 * once to the loop specialised for them. With the options tested per
 * element (and amsgrad's conditional store) gcc kept the loop scalar: one
 * sqrtss and two divss per element, 2-3x the time of torch's vectorised
 * multi-pass update. The loops take a [lo, hi) range so the caller can
 * split a large parameter over threads; every element is independent, so
 * the split changes no result.
 */
#include <math.h>
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && !defined(_WIN32)
#  define CGRAD_FMA_CLONES __attribute__((target_clones("fma", "default")))
#else
#  define CGRAD_FMA_CLONES
#endif

#if defined(__GNUC__)
#  define CGRAD_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#  define CGRAD_ALWAYS_INLINE static inline
#endif

/* weight-decay modes */
#define CGRAD_WD_NONE 0
#define CGRAD_WD_L2 1          /* grad.add(param, alpha=wd) */
#define CGRAD_WD_DECOUPLED 2   /* param.mul_(1 - lr*wd) (AdamW) */

#define CGRAD_DEFINE_OPTIM_KERNELS(T, SUFFIX, FMA)                                             \
typedef struct {                                                                               \
    T wd, mom, one_minus_damp, neg_lr;                                                         \
} cgrad_sgd_consts_##SUFFIX;                                                                   \
                                                                                               \
CGRAD_ALWAYS_INLINE void cgrad_sgd_body_##SUFFIX(                                               \
        T *p, const T *g, T *buf, ptrdiff_t i, const cgrad_sgd_consts_##SUFFIX *k,             \
        const int maximize, const int decay, const int momentum, const int nesterov,          \
        const int first)                                                                       \
{                                                                                              \
    T d = maximize ? -g[i] : g[i];                                                             \
    if (decay) d = FMA(k->wd, p[i], d);                      /* grad.add(param, alpha=wd) */  \
    if (momentum) {                                                                            \
        T b = first ? d : FMA(k->one_minus_damp, d, buf[i] * k->mom); /* buf*m + (1-damp)*d */ \
        buf[i] = b;                                                                            \
        d = nesterov ? FMA(k->mom, b, d) : b;                                                  \
    }                                                                                          \
    p[i] = FMA(k->neg_lr, d, p[i]);                          /* param.add_(d, alpha=-lr) */   \
}                                                                                              \
                                                                                               \
CGRAD_FMA_CLONES static void cgrad_sgd_##SUFFIX(                                                \
        T *p, const T *g, T *buf, ptrdiff_t lo, ptrdiff_t hi, double lr, double momentum,      \
        double dampening, double weight_decay, int nesterov, int maximize, int first)          \
{                                                                                              \
    cgrad_sgd_consts_##SUFFIX k;                                                               \
    const int decay = weight_decay != 0, mom = momentum != 0;                                  \
    ptrdiff_t i;                                                                               \
    k.wd = (T)weight_decay;                                                                    \
    k.mom = (T)momentum;                                                                       \
    k.one_minus_damp = (T)(1 - dampening);                                                     \
    k.neg_lr = (T)(-lr);                                                                       \
    nesterov = nesterov != 0;                                                                  \
    first = first != 0;                                                                        \
    /* the common cases get their own loops; the rest share one with the       \
       per-element tests (still correct, just not vectorised) */              \
    if (!maximize && !decay && !mom) {                                                         \
        for (i = lo; i < hi; i++) cgrad_sgd_body_##SUFFIX(p, g, buf, i, &k, 0, 0, 0, 0, 0);    \
    } else if (!maximize && decay && !mom) {                                                   \
        for (i = lo; i < hi; i++) cgrad_sgd_body_##SUFFIX(p, g, buf, i, &k, 0, 1, 0, 0, 0);    \
    } else if (!maximize && !decay && mom && !nesterov && !first) {                            \
        for (i = lo; i < hi; i++) cgrad_sgd_body_##SUFFIX(p, g, buf, i, &k, 0, 0, 1, 0, 0);    \
    } else if (!maximize && decay && mom && !nesterov && !first) {                             \
        for (i = lo; i < hi; i++) cgrad_sgd_body_##SUFFIX(p, g, buf, i, &k, 0, 1, 1, 0, 0);    \
    } else if (!maximize && !decay && mom && nesterov && !first) {                             \
        for (i = lo; i < hi; i++) cgrad_sgd_body_##SUFFIX(p, g, buf, i, &k, 0, 0, 1, 1, 0);    \
    } else {                                                                                   \
        for (i = lo; i < hi; i++)                                                              \
            cgrad_sgd_body_##SUFFIX(p, g, buf, i, &k, maximize, decay, mom, nesterov, first);  \
    }                                                                                          \
}                                                                                              \
                                                                                               \
typedef struct {                                                                               \
    T wd, decay, w1, one_minus_w1, b2, w2, c2, e, neg_step;                                    \
    int lerp_low;                                                                              \
} cgrad_adam_consts_##SUFFIX;                                                                  \
                                                                                               \
/* pass 1 of a block: the moments (and amsgrad's maximum); the value whose    \
   square root the denominator takes goes to root[] */                        \
CGRAD_ALWAYS_INLINE void cgrad_adam_moments_##SUFFIX(                                           \
        const T *p, const T *g, T *m, T *v, T *vmax, T *root, ptrdiff_t lo, ptrdiff_t n,       \
        const cgrad_adam_consts_##SUFFIX *k, const int maximize, const int wd_mode,            \
        const int amsgrad)                                                                     \
{                                                                                              \
    for (ptrdiff_t j = 0; j < n; j++) {                                                        \
        ptrdiff_t i = lo + j;                                                                  \
        T d = maximize ? -g[i] : g[i];                                                         \
        if (wd_mode == CGRAD_WD_L2) d = FMA(k->wd, p[i], d);    /* grad.add(param, wd) */     \
        T m0 = m[i], diff = d - m0;                                                            \
        T mi = k->lerp_low ? FMA(k->w1, diff, m0)               /* exp_avg.lerp_(grad, w1) */ \
                           : FMA(-diff, k->one_minus_w1, d);                                   \
        m[i] = mi;                                                                             \
        T vi = FMA(k->w2 * d, d, v[i] * k->b2);                 /* addcmul_(g, g, 1-beta2) */ \
        v[i] = vi;                                                                             \
        if (amsgrad) {                                                                         \
            T vm = vmax[i];                                     /* maximum() keeps a NaN */   \
            vm = (vi > vm || vi != vi) ? vi : vm;                                              \
            vmax[i] = vm;                                                                      \
            vi = vm;                                                                           \
        }                                                                                      \
        root[j] = vi;                                                                          \
    }                                                                                          \
}                                                                                              \
                                                                                               \
/* pass 3 of a block: the parameter, from root[] = sqrt(v) */                 \
CGRAD_ALWAYS_INLINE void cgrad_adam_params_##SUFFIX(                                            \
        T *p, const T *m, const T *root, ptrdiff_t lo, ptrdiff_t n,                            \
        const cgrad_adam_consts_##SUFFIX *k, const int wd_mode)                                \
{                                                                                              \
    for (ptrdiff_t j = 0; j < n; j++) {                                                        \
        ptrdiff_t i = lo + j;                                                                  \
        T pi = p[i];                                                                           \
        if (wd_mode == CGRAD_WD_DECOUPLED) pi = pi * k->decay;  /* param.mul_(1 - lr*wd) */   \
        T denom = root[j] / k->c2 + k->e;                                                      \
        p[i] = pi + k->neg_step * m[i] / denom;                 /* addcdiv_(m, denom, -step) */ \
    }                                                                                          \
}                                                                                              \
                                                                                               \
CGRAD_ALWAYS_INLINE void cgrad_adam_loop_##SUFFIX(                                              \
        T *p, const T *g, T *m, T *v, T *vmax, ptrdiff_t lo, ptrdiff_t hi,                     \
        const cgrad_adam_consts_##SUFFIX *k, const int maximize, const int wd_mode,            \
        const int amsgrad)                                                                     \
{                                                                                              \
    T root[CGRAD_OPTIM_BLOCK];                                                                 \
    for (ptrdiff_t b = lo; b < hi; b += CGRAD_OPTIM_BLOCK) {                                   \
        ptrdiff_t n = hi - b < CGRAD_OPTIM_BLOCK ? hi - b : CGRAD_OPTIM_BLOCK;                 \
        cgrad_adam_moments_##SUFFIX(p, g, m, v, vmax, root, b, n, k, maximize, wd_mode,        \
                                    amsgrad);                                                  \
        cgrad_sqrt_block_##SUFFIX(root, n);                                                    \
        cgrad_adam_params_##SUFFIX(p, m, root, b, n, k, wd_mode);                              \
    }                                                                                          \
}                                                                                              \
                                                                                               \
CGRAD_FMA_CLONES static void cgrad_adam_##SUFFIX(                                               \
        T *p, const T *g, T *m, T *v, T *vmax, ptrdiff_t lo, ptrdiff_t hi, double lr,          \
        double beta1, double beta2, double eps, double weight_decay, int decoupled,            \
        int maximize, double step_size, double bc2_sqrt)                                       \
{                                                                                              \
    cgrad_adam_consts_##SUFFIX k;                                                              \
    const int wd_mode = weight_decay == 0 ? CGRAD_WD_NONE                                      \
                        : (decoupled ? CGRAD_WD_DECOUPLED : CGRAD_WD_L2);                      \
    k.wd = (T)weight_decay;                                                                    \
    k.decay = (T)(1 - lr * weight_decay);                                                      \
    k.w1 = (T)(1 - beta1);                                                                     \
    k.one_minus_w1 = (T)1 - k.w1;                                                              \
    k.b2 = (T)beta2;                                                                           \
    k.w2 = (T)(1 - beta2);                                                                     \
    k.c2 = (T)bc2_sqrt;                                                                        \
    k.e = (T)eps;                                                                              \
    k.neg_step = (T)(-step_size);                                                              \
    k.lerp_low = (1 - beta1) < 0.5;                                                            \
    if (maximize)                                                                              \
        cgrad_adam_loop_##SUFFIX(p, g, m, v, vmax, lo, hi, &k, 1, wd_mode, vmax != NULL);      \
    else if (vmax == NULL) {                                                                   \
        if (wd_mode == CGRAD_WD_NONE)                                                          \
            cgrad_adam_loop_##SUFFIX(p, g, m, v, vmax, lo, hi, &k, 0, CGRAD_WD_NONE, 0);       \
        else if (wd_mode == CGRAD_WD_L2)                                                       \
            cgrad_adam_loop_##SUFFIX(p, g, m, v, vmax, lo, hi, &k, 0, CGRAD_WD_L2, 0);         \
        else                                                                                   \
            cgrad_adam_loop_##SUFFIX(p, g, m, v, vmax, lo, hi, &k, 0, CGRAD_WD_DECOUPLED, 0);  \
    } else {                                                                                   \
        if (wd_mode == CGRAD_WD_NONE)                                                          \
            cgrad_adam_loop_##SUFFIX(p, g, m, v, vmax, lo, hi, &k, 0, CGRAD_WD_NONE, 1);       \
        else if (wd_mode == CGRAD_WD_L2)                                                       \
            cgrad_adam_loop_##SUFFIX(p, g, m, v, vmax, lo, hi, &k, 0, CGRAD_WD_L2, 1);         \
        else                                                                                   \
            cgrad_adam_loop_##SUFFIX(p, g, m, v, vmax, lo, hi, &k, 0, CGRAD_WD_DECOUPLED, 1);  \
    }                                                                                          \
}

/* Square roots of a block in place. gcc keeps a libm call (for errno) beside
 * each sqrt unless the whole build has -fno-math-errno (the optimize pragma
 * and attribute do not reach the builtin), and that call stops the loop
 * from vectorising; the SSE instructions are the same IEEE square roots. */
#if defined(__SSE2__) || defined(_M_X64)
#  include <emmintrin.h>
static inline void cgrad_sqrt_block_f32(float *x, ptrdiff_t n)
{
    ptrdiff_t j = 0;
    for (; j + 4 <= n; j += 4) _mm_storeu_ps(x + j, _mm_sqrt_ps(_mm_loadu_ps(x + j)));
    for (; j < n; j++) _mm_store_ss(x + j, _mm_sqrt_ss(_mm_load_ss(x + j)));
}
static inline void cgrad_sqrt_block_f64(double *x, ptrdiff_t n)
{
    ptrdiff_t j = 0;
    for (; j + 2 <= n; j += 2) _mm_storeu_pd(x + j, _mm_sqrt_pd(_mm_loadu_pd(x + j)));
    for (; j < n; j++) _mm_store_sd(x + j, _mm_sqrt_sd(_mm_setzero_pd(), _mm_load_sd(x + j)));
}
#else
static inline void cgrad_sqrt_block_f32(float *x, ptrdiff_t n)
{
    for (ptrdiff_t j = 0; j < n; j++) x[j] = sqrtf(x[j]);
}
static inline void cgrad_sqrt_block_f64(double *x, ptrdiff_t n)
{
    for (ptrdiff_t j = 0; j < n; j++) x[j] = sqrt(x[j]);
}
#endif

#define CGRAD_OPTIM_BLOCK 256

CGRAD_DEFINE_OPTIM_KERNELS(float, f32, fmaf)
CGRAD_DEFINE_OPTIM_KERNELS(double, f64, fma)
