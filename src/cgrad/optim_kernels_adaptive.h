/* Update kernels of the adaptive optimizers (RMSprop, Adagrad, Adadelta,
 * Adamax, NAdam, RAdam): PyTorch's single-tensor rules, one pass over a
 * parameter's buffers, with fused multiply-adds exactly where PyTorch's CPU
 * kernels have them (add with alpha, addcmul, lerp; addcdiv and the scalar
 * mul/div/reciprocal are plain roundings), so float64 updates agree with
 * torch's bit for bit. Scalars that PyTorch computes in Python floats (bias
 * corrections, clr, NAdam's mu terms, RAdam's rectification) come in as
 * arguments.
 */
#include <math.h>
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && !defined(_WIN32)
#  define CGRAD_FMA_CLONES_A __attribute__((target_clones("fma", "default")))
#else
#  define CGRAD_FMA_CLONES_A
#endif

/* exp_avg.lerp_(grad, w): PyTorch's two-sided formula */
#define CGRAD_LERP(FMA, T, start, end, w, low) \
    ((low) ? FMA((w), (end) - (start), (start)) : FMA(-((end) - (start)), (T)1 - (w), (end)))

/* grad, negated under maximize, plus weight_decay * param (grad.add(param, alpha=wd)) */
#define CGRAD_GRAD_WD(T, FMA, d, g, p, wd, maximize, coupled) \
    T d = (maximize) ? -(g) : (g);                         \
    if (coupled) d = FMA((wd), (p), d);

#define CGRAD_DEFINE_ADAPTIVE_KERNELS(T, SUFFIX, FMA, SQRT)                                    \
CGRAD_FMA_CLONES_A static void cgrad_rmsprop_##SUFFIX(                                          \
        T *p, const T *g, T *sq, T *gavg, T *buf, ptrdiff_t n, double lr, double alpha,        \
        double eps, double weight_decay, double momentum, int maximize)                        \
{                                                                                              \
    const T wd = (T)weight_decay, a = (T)alpha, w = (T)(1 - alpha), e = (T)eps;                \
    const T mom = (T)momentum, neg_lr = (T)(-lr);                                              \
    const int low = (1 - alpha) < 0.5, coupled = weight_decay != 0;                            \
    for (ptrdiff_t i = 0; i < n; i++) {                                                        \
        CGRAD_GRAD_WD(T, FMA, d, g[i], p[i], wd, maximize, coupled)                               \
        T s = FMA(w * d, d, sq[i] * a);           /* mul_(alpha).addcmul_(g, g, 1-alpha) */   \
        sq[i] = s;                                                                             \
        T avg;                                                                                 \
        if (gavg) {                                                                            \
            T ga = CGRAD_LERP(FMA, T, gavg[i], d, w, low);                                     \
            gavg[i] = ga;                                                                      \
            avg = SQRT(FMA(-ga, ga, s));          /* addcmul(ga, ga, value=-1).sqrt_() */      \
        } else {                                                                               \
            avg = SQRT(s);                                                                     \
        }                                                                                      \
        avg = avg + e;                                                                         \
        if (buf) {                                                                             \
            T b = buf[i] * mom + d / avg;         /* mul_(momentum).addcdiv_(grad, avg) */     \
            buf[i] = b;                                                                        \
            p[i] = FMA(neg_lr, b, p[i]);                                                       \
        } else {                                                                               \
            p[i] = p[i] + neg_lr * d / avg;       /* addcdiv_(grad, avg, value=-lr) */         \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
                                                                                               \
CGRAD_FMA_CLONES_A static void cgrad_adagrad_##SUFFIX(                                          \
        T *p, const T *g, T *sum, ptrdiff_t n, double clr, double eps, double weight_decay,    \
        int maximize)                                                                          \
{                                                                                              \
    const T wd = (T)weight_decay, e = (T)eps, neg_clr = (T)(-clr);                             \
    const int coupled = weight_decay != 0;                                                     \
    for (ptrdiff_t i = 0; i < n; i++) {                                                        \
        CGRAD_GRAD_WD(T, FMA, d, g[i], p[i], wd, maximize, coupled)                               \
        T s = FMA(d, d, sum[i]);                  /* addcmul_(grad, grad, value=1) */          \
        sum[i] = s;                                                                            \
        T std = SQRT(s) + e;                                                                   \
        p[i] = p[i] + neg_clr * d / std;          /* addcdiv_(grad, std, value=-clr) */        \
    }                                                                                          \
}                                                                                              \
                                                                                               \
CGRAD_FMA_CLONES_A static void cgrad_adadelta_##SUFFIX(                                         \
        T *p, const T *g, T *sq, T *acc, ptrdiff_t n, double lr, double rho, double eps,       \
        double weight_decay, int maximize)                                                     \
{                                                                                              \
    const T wd = (T)weight_decay, r = (T)rho, w = (T)(1 - rho), e = (T)eps, neg_lr = (T)(-lr); \
    const int coupled = weight_decay != 0;                                                     \
    for (ptrdiff_t i = 0; i < n; i++) {                                                        \
        CGRAD_GRAD_WD(T, FMA, d, g[i], p[i], wd, maximize, coupled)                               \
        T s = FMA(w * d, d, sq[i] * r);                                                        \
        sq[i] = s;                                                                             \
        T std = SQRT(s + e);                                                                   \
        T delta = SQRT(acc[i] + e) / std * d;     /* div_(std).mul_(grad) */                   \
        acc[i] = FMA(w * delta, delta, acc[i] * r);                                            \
        p[i] = FMA(neg_lr, delta, p[i]);                                                       \
    }                                                                                          \
}                                                                                              \
                                                                                               \
CGRAD_FMA_CLONES_A static void cgrad_adamax_##SUFFIX(                                           \
        T *p, const T *g, T *m, T *u, ptrdiff_t n, double beta1, double beta2, double eps,     \
        double weight_decay, int maximize, double clr)                                         \
{                                                                                              \
    const T wd = (T)weight_decay, w1 = (T)(1 - beta1), b2 = (T)beta2, e = (T)eps;              \
    const T neg_clr = (T)(-clr);                                                               \
    const int low = (1 - beta1) < 0.5, coupled = weight_decay != 0;                            \
    for (ptrdiff_t i = 0; i < n; i++) {                                                        \
        CGRAD_GRAD_WD(T, FMA, d, g[i], p[i], wd, maximize, coupled)                               \
        T mi = CGRAD_LERP(FMA, T, m[i], d, w1, low);                                           \
        m[i] = mi;                                                                             \
        T decayed = u[i] * b2, bound = (d < 0 ? -d : d) + e;                                   \
        /* torch.maximum: NaN from either side wins */                                         \
        T ui = (decayed != decayed || decayed > bound) ? decayed : bound;                      \
        u[i] = ui;                                                                             \
        p[i] = p[i] + neg_clr * mi / ui;          /* addcdiv_(exp_avg, exp_inf, -clr) */       \
    }                                                                                          \
}                                                                                              \
                                                                                               \
CGRAD_FMA_CLONES_A static void cgrad_nadam_##SUFFIX(                                            \
        T *p, const T *g, T *m, T *v, ptrdiff_t n, double lr, double beta1, double beta2,      \
        double eps, double weight_decay, int decoupled, int maximize, double bias_correction2, \
        double grad_coef, double exp_avg_coef)                                                 \
{                                                                                              \
    const T wd = (T)weight_decay, decay = (T)(1 - lr * weight_decay);                         \
    const T w1 = (T)(1 - beta1), b2 = (T)beta2, w2 = (T)(1 - beta2), e = (T)eps;               \
    const T bc2 = (T)bias_correction2, cg = (T)grad_coef, cm = (T)exp_avg_coef;                \
    const int low = (1 - beta1) < 0.5, coupled = weight_decay != 0 && !decoupled;              \
    for (ptrdiff_t i = 0; i < n; i++) {                                                        \
        if (weight_decay != 0 && decoupled) p[i] = p[i] * decay;                               \
        CGRAD_GRAD_WD(T, FMA, d, g[i], p[i], wd, maximize, coupled)                               \
        T mi = CGRAD_LERP(FMA, T, m[i], d, w1, low);                                           \
        m[i] = mi;                                                                             \
        T vi = FMA(w2 * d, d, v[i] * b2);                                                      \
        v[i] = vi;                                                                             \
        T denom = SQRT(vi / bc2) + e;                                                          \
        T q = p[i] + cg * d / denom;                                                           \
        p[i] = q + cm * mi / denom;                                                            \
    }                                                                                          \
}                                                                                              \
                                                                                               \
CGRAD_FMA_CLONES_A static void cgrad_radam_##SUFFIX(                                            \
        T *p, const T *g, T *m, T *v, ptrdiff_t n, double lr, double beta1, double beta2,      \
        double eps, double weight_decay, int decoupled, int maximize, double bias_correction1, \
        double bc2_sqrt, int rectify, double rect)                                             \
{                                                                                              \
    const T wd = (T)weight_decay, decay = (T)(1 - lr * weight_decay);                         \
    const T w1 = (T)(1 - beta1), b2 = (T)beta2, w2 = (T)(1 - beta2), e = (T)eps;               \
    const T bc1 = (T)bias_correction1, c2 = (T)bc2_sqrt, l = (T)lr, rc = (T)rect;              \
    const int low = (1 - beta1) < 0.5, coupled = weight_decay != 0 && !decoupled;              \
    for (ptrdiff_t i = 0; i < n; i++) {                                                        \
        if (weight_decay != 0 && decoupled) p[i] = p[i] * decay;                               \
        CGRAD_GRAD_WD(T, FMA, d, g[i], p[i], wd, maximize, coupled)                               \
        T mi = CGRAD_LERP(FMA, T, m[i], d, w1, low);                                           \
        m[i] = mi;                                                                             \
        T vi = FMA(w2 * d, d, v[i] * b2);                                                      \
        v[i] = vi;                                                                             \
        T step = (mi / bc1) * l;                  /* bias_corrected_exp_avg * lr */            \
        if (rectify) {                                                                         \
            T adaptive = ((T)1 / (SQRT(vi) + e)) * c2;  /* bc2**0.5 / (sqrt(v) + eps) */       \
            step = (step * adaptive) * rc;                                                     \
        }                                                                                      \
        p[i] = p[i] - step;                       /* add_(update, alpha=-1) */                 \
    }                                                                                          \
}

/* sqrt() may set errno, so by default gcc keeps a call per element and
 * cannot vectorise the update loop; errno is never read here, and the
 * results are the same IEEE square roots either way. */
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC push_options
#  pragma GCC optimize("no-math-errno")
#endif
CGRAD_DEFINE_ADAPTIVE_KERNELS(float, f32, fmaf, sqrtf)
CGRAD_DEFINE_ADAPTIVE_KERNELS(double, f64, fma, sqrt)
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC pop_options
#endif
