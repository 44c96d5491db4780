/* layer_norm's rows: the contiguous case of ops_norm.pxi's kernels (one
 * group per row, the affine weight and bias indexed by the position in the
 * row), in loops gcc vectorises. The general kernels there look the affine
 * index up per element and keep one running sum, which leaves every loop
 * scalar (2 ms of a 17 ms embedding + LayerNorm + MLP training step).
 *
 * Same formulas as the general kernels: mean and the two-pass variance as
 * sums kept in 8 partial sums (so they vectorise; the order of the
 * additions is the only difference), y = (x - mean) * rstd * w + b, and
 * the backward gx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with
 * gw = g * w. float64 rows are summed in double; float32 rows in float, as
 * PyTorch's float kernels do (twice the lanes of a double vector: the rows
 * of a LayerNorm in a training step were the step's slowest elementwise
 * work in double). The weight and bias gradients accumulate over rows in
 * double either way. Compiled for AVX2 too where gcc can pick at load time.
 */
#include <math.h>
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && !defined(_WIN32)
#  define CGRAD_LN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#  define CGRAD_LN_CLONES
#endif

#define CGRAD_LN_LANES 8

#define CGRAD_DEFINE_LAYER_NORM_ROWS(T, SUFFIX, ACC, SQRT)                                                \
/* rows [r0, r1) of n elements: y, and mean / rstd / biased var per row */    \
CGRAD_LN_CLONES static void cgrad_ln_fwd_rows_##SUFFIX(                                         \
        T *y, const T *x, const T *w, const T *b, double *mean, double *rstd, double *var,     \
        ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n, double eps)                                   \
{                                                                                              \
    for (ptrdiff_t r = r0; r < r1; r++) {                                                      \
        const T *xr = x + r * n;                                                               \
        T *yr = y + r * n;                                                                     \
        ACC acc[CGRAD_LN_LANES] = {0}, s = 0, m, v = 0, rs;                                   \
        ptrdiff_t i, l, nl = n - n % CGRAD_LN_LANES;                                           \
        for (i = 0; i < nl; i += CGRAD_LN_LANES)                                               \
            for (l = 0; l < CGRAD_LN_LANES; l++) acc[l] += (ACC)xr[i + l];                     \
        for (l = 0; l < CGRAD_LN_LANES; l++) s += acc[l];                                      \
        for (; i < n; i++) s += (ACC)xr[i];                                                    \
        m = n ? s / (ACC)n : (ACC)0;                                                           \
        for (l = 0; l < CGRAD_LN_LANES; l++) acc[l] = 0;                                       \
        for (i = 0; i < nl; i += CGRAD_LN_LANES)                                               \
            for (l = 0; l < CGRAD_LN_LANES; l++) {                                             \
                ACC d = (ACC)xr[i + l] - m;                                                    \
                acc[l] += d * d;                                                               \
            }                                                                                  \
        for (l = 0; l < CGRAD_LN_LANES; l++) v += acc[l];                                      \
        for (; i < n; i++) {                                                                   \
            ACC d = (ACC)xr[i] - m;                                                           \
            v += d * d;                                                                        \
        }                                                                                      \
        v = n ? v / (ACC)n : (ACC)0;                                                           \
        rs = (ACC)1 / SQRT(v + (ACC)eps);                                                      \
        mean[r] = m;                                                                           \
        rstd[r] = rs;                                                                          \
        var[r] = v;                                                                            \
        if (w && b)                                                                            \
            for (i = 0; i < n; i++)                                                            \
                yr[i] = (T)(((ACC)xr[i] - m) * rs * (ACC)w[i] + (ACC)b[i]);           \
        else if (w)                                                                            \
            for (i = 0; i < n; i++) yr[i] = (T)(((ACC)xr[i] - m) * rs * (ACC)w[i]);      \
        else if (b)                                                                            \
            for (i = 0; i < n; i++) yr[i] = (T)(((ACC)xr[i] - m) * rs + (ACC)b[i]);      \
        else                                                                                   \
            for (i = 0; i < n; i++) yr[i] = (T)(((ACC)xr[i] - m) * rs);                     \
    }                                                                                          \
}                                                                                              \
                                                                                               \
/* rows [r0, r1): gx from g, x, w (NULL: ones) and the saved statistics */    \
CGRAD_LN_CLONES static void cgrad_ln_bwd_rows_##SUFFIX(                                         \
        T *gx, const T *g, const T *x, const T *w, const double *mean, const double *rstd,     \
        ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n)                                               \
{                                                                                              \
    for (ptrdiff_t r = r0; r < r1; r++) {                                                      \
        const T *xr = x + r * n, *gr = g + r * n;                                              \
        T *out = gx + r * n;                                                                   \
        ACC a1[CGRAD_LN_LANES] = {0}, a2[CGRAD_LN_LANES] = {0}, s1 = 0, s2 = 0;                \
        const ACC m = (ACC)mean[r], rs = (ACC)rstd[r];                                         \
        ptrdiff_t i, l, nl = n - n % CGRAD_LN_LANES;                                           \
        for (i = 0; i < nl; i += CGRAD_LN_LANES)                                               \
            for (l = 0; l < CGRAD_LN_LANES; l++) {                                             \
                ACC gw = (ACC)gr[i + l] * (w ? (ACC)w[i + l] : (ACC)1);                        \
                a1[l] += gw;                                                                   \
                a2[l] += gw * ((ACC)xr[i + l] - m) * rs;                                       \
            }                                                                                  \
        for (l = 0; l < CGRAD_LN_LANES; l++) {                                                 \
            s1 += a1[l];                                                                       \
            s2 += a2[l];                                                                       \
        }                                                                                      \
        for (; i < n; i++) {                                                                   \
            ACC gw = (ACC)gr[i] * (w ? (ACC)w[i] : (ACC)1);                                    \
            s1 += gw;                                                                          \
            s2 += gw * ((ACC)xr[i] - m) * rs;                                                  \
        }                                                                                      \
        s1 = s1 / (ACC)n;                                                                      \
        s2 = s2 / (ACC)n;                                                                      \
        for (i = 0; i < n; i++) {                                                              \
            ACC gw = (ACC)gr[i] * (w ? (ACC)w[i] : (ACC)1);                                    \
            ACC xh = ((ACC)xr[i] - m) * rs;                                                    \
            out[i] = (T)(rs * (gw - s1 - xh * s2));                                            \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
                                                                                               \
/* the weight and bias gradients (either may be NULL), accumulated in double \
   over rows [0, rows) */                                                     \
CGRAD_LN_CLONES static void cgrad_ln_param_grads_##SUFFIX(                                      \
        double *gw, double *gb, const T *g, const T *x, const double *mean,                    \
        const double *rstd, ptrdiff_t rows, ptrdiff_t n)                                       \
{                                                                                              \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                     \
        const T *xr = x + r * n, *gr = g + r * n;                                              \
        const double m = mean[r], rs = rstd[r];                                                \
        if (gw)                                                                                \
            for (ptrdiff_t i = 0; i < n; i++) gw[i] += (double)gr[i] * ((double)xr[i] - m) * rs; \
        if (gb)                                                                                \
            for (ptrdiff_t i = 0; i < n; i++) gb[i] += (double)gr[i];                          \
    }                                                                                          \
}

CGRAD_DEFINE_LAYER_NORM_ROWS(float, f32, float, sqrtf)
CGRAD_DEFINE_LAYER_NORM_ROWS(double, f64, double, sqrt)
