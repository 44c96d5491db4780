/* Optimizer update kernels: PyTorch's single-tensor SGD / Adam / AdamW
 * rules, one pass over a parameter's buffers.
 *
 * PyTorch's CPU kernels compute `x + alpha * y` (add with alpha), lerp and
 * addcmul with fused multiply-adds (one rounding), so these kernels call
 * fma() at exactly those points: in float64 the updates then agree with
 * torch's bit for bit. On x86 the functions are compiled twice (with FMA
 * instructions, and a baseline fallback) and picked at load time, so fma()
 * is one instruction where the CPU has it.
 */
#include <math.h>
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && !defined(_WIN32)
#  define CGRAD_FMA_CLONES __attribute__((target_clones("fma", "default")))
#else
#  define CGRAD_FMA_CLONES
#endif

#define CGRAD_DEFINE_OPTIM_KERNELS(T, SUFFIX, FMA, SQRT)                                       \
CGRAD_FMA_CLONES static void cgrad_sgd_##SUFFIX(                                                \
        T *p, const T *g, T *buf, ptrdiff_t n, double lr, double momentum, double dampening,  \
        double weight_decay, int nesterov, int maximize, int first)                           \
{                                                                                              \
    const T wd = (T)weight_decay, mom = (T)momentum, one_minus_damp = (T)(1 - dampening);     \
    const T neg_lr = (T)(-lr);                                                                 \
    for (ptrdiff_t i = 0; i < n; i++) {                                                        \
        T d = maximize ? -g[i] : g[i];                                                         \
        if (weight_decay != 0) d = FMA(wd, p[i], d);          /* grad.add(param, alpha=wd) */ \
        if (momentum != 0) {                                                                   \
            T b = first ? d : FMA(one_minus_damp, d, buf[i] * mom); /* buf*m + (1-damp)*d */  \
            buf[i] = b;                                                                        \
            d = nesterov ? FMA(mom, b, d) : b;                                                 \
        }                                                                                      \
        p[i] = FMA(neg_lr, d, p[i]);                          /* param.add_(d, alpha=-lr) */  \
    }                                                                                          \
}                                                                                              \
                                                                                               \
CGRAD_FMA_CLONES static void cgrad_adam_##SUFFIX(                                               \
        T *p, const T *g, T *m, T *v, T *vmax, ptrdiff_t n, double lr, double beta1,           \
        double beta2, double eps, double weight_decay, int decoupled, int maximize,            \
        double step_size, double bc2_sqrt)                                                     \
{                                                                                              \
    const T wd = (T)weight_decay, decay = (T)(1 - lr * weight_decay);                         \
    const T w1 = (T)(1 - beta1), b2 = (T)beta2, w2 = (T)(1 - beta2);                           \
    const T c2 = (T)bc2_sqrt, e = (T)eps, neg_step = (T)(-step_size);                          \
    const int lerp_low = (1 - beta1) < 0.5;                                                    \
    for (ptrdiff_t i = 0; i < n; i++) {                                                        \
        T d = maximize ? -g[i] : g[i];                                                         \
        if (weight_decay != 0) {                                                               \
            if (decoupled) p[i] = p[i] * decay;                  /* param.mul_(1 - lr*wd) */  \
            else d = FMA(wd, p[i], d);                           /* grad.add(param, wd) */    \
        }                                                                                      \
        T mi = lerp_low ? FMA(w1, d - m[i], m[i])                /* exp_avg.lerp_(grad, w1) */ \
                        : FMA(-(d - m[i]), (T)1 - w1, d);                                      \
        m[i] = mi;                                                                             \
        T vi = FMA(w2 * d, d, v[i] * b2);                        /* addcmul_(g, g, 1-beta2) */ \
        v[i] = vi;                                                                             \
        if (vmax) {                                                                            \
            if (vi > vmax[i] || vi != vi) vmax[i] = vi;                                        \
            vi = vmax[i];                                                                      \
        }                                                                                      \
        T denom = SQRT(vi) / c2 + e;                                                           \
        p[i] = p[i] + neg_step * mi / denom;                     /* addcdiv_(m, denom, -step) */ \
    }                                                                                          \
}

/* sqrt() may set errno, so by default gcc keeps a call per element and
 * cannot vectorise the update loop; errno is never read here, and the
 * results are the same IEEE square roots either way. */
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC push_options
#  pragma GCC optimize("no-math-errno")
#endif
CGRAD_DEFINE_OPTIM_KERNELS(float, f32, fmaf, sqrtf)
CGRAD_DEFINE_OPTIM_KERNELS(double, f64, fma, sqrt)
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC pop_options
#endif
