/*
 * pointwise_math.h: scalar C99 functions for cgrad's binary pointwise ops
 * (xlogy, xlog1py, heaviside, copysign, hypot, logaddexp, logaddexp2) and
 * activations (mish, logsigmoid, hardswish, ..., with their backward
 * formulas), written to give the values PyTorch 2.13's CPU kernels give.
 * Part of special_math.h, which includes it at its end and whose top
 * comment gives the sources and the CG_FMA rule these follow; including
 * this header alone includes special_math.h first.
 */
#ifndef CGRAD_POINTWISE_MATH_H
#define CGRAD_POINTWISE_MATH_H

#include "special_math.h"

/* ---- binary ops: xlogy, xlog1py, heaviside, copysign, hypot, logaddexp --- */

/* x * log(y); NaN if y is NaN, else 0 where x == 0 (even for y = 0 or inf). */
static inline double cg_xlogy(double x, double y) {
    if (isnan(y))
        return NAN;
    if (x == 0)
        return 0;
    return x * log(y);
}

static inline float cg_xlogy_f(float x, float y) {
    if (isnan(y))
        return NAN;
    if (x == 0)
        return 0;
    return x * logf(y);
}

static inline double cg_xlog1py(double x, double y) {
    if (isnan(y))
        return NAN;
    if (x == 0)
        return 0;
    return x * log1p(y);
}

static inline float cg_xlog1py_f(float x, float y) {
    if (isnan(y))
        return NAN;
    if (x == 0)
        return 0;
    return x * log1pf(y);
}

/* values where x == 0 (either sign), else x > 0 (NaN gives 0). */
static inline double cg_heaviside(double x, double values) {
    return x == 0 ? values : (double)(x > 0);
}

static inline float cg_heaviside_f(float x, float values) {
    return x == 0 ? values : (float)(x > 0);
}

static inline double cg_copysign(double x, double y) { return copysign(x, y); }
static inline float cg_copysign_f(float x, float y) { return copysignf(x, y); }

/* copysign's gradient for self: grad * result / self, 0 where self == 0
 * (its gradient for other is 0). */
static inline double cg_copysign_backward(double grad, double self, double result) {
    return grad * (self == 0 ? 0 : result / self);
}

static inline float cg_copysign_backward_f(float grad, float self, float result) {
    return grad * (self == 0 ? 0 : result / self);
}

static inline double cg_hypot(double x, double y) { return hypot(x, y); }
static inline float cg_hypot_f(float x, float y) { return hypotf(x, y); }

/* max + log1p(exp(-|a - b|)); a when both are the same infinity (where the
 * formula would give inf - inf). */
static inline double cg_logaddexp(double a, double b) {
    double m;
    if (isinf(a) && a == b)
        return a;
    m = a < b ? b : a;
    return m + log1p(exp(-fabs(a - b)));
}

static inline float cg_logaddexp_f(float a, float b) {
    float m;
    if (isinf(a) && a == b)
        return a;
    m = a < b ? b : a;
    return m + log1pf(expf(-fabsf(a - b)));
}

/* max + log1p(2^-|a - b|) / ln 2, the factor 1/ln 2 rounded to the dtype. */
static inline double cg_logaddexp2(double a, double b) {
    const double inv_ln2 = 1.0 / 0.693147180559945309417232121458176568;
    double m;
    if (isinf(a) && a == b)
        return a;
    m = a < b ? b : a;
    return CG_FMA(log1p(exp2(-fabs(a - b))), inv_ln2, m);
}

static inline float cg_logaddexp2_f(float a, float b) {
    const float inv_ln2 = (float)(1.0 / 0.693147180559945309417232121458176568);
    float m;
    if (isinf(a) && a == b)
        return a;
    m = a < b ? b : a;
    return CG_FMAF(log1pf(exp2f(-fabsf(a - b))), inv_ln2, m);
}

/* ---- activations --------------------------------------------------------- */

/* mish = x * tanh(log1p(exp(x))) (no threshold: exp overflows to inf and
 * tanh(inf) = 1). Backward: g * (ts + x * sigmoid(x) * (1 - ts^2)),
 * ts = tanh(softplus(x)), sigmoid = 1 / (1 + exp(-x)). */
static inline double cg_mish(double x) { return x * tanh(log1p(exp(x))); }
static inline float cg_mish_f(float x) { return x * tanhf(log1pf(expf(x))); }

static inline double cg_mish_backward(double grad, double x) {
    double sigmoid = 1 / (1 + exp(-x));
    double ts = tanh(log1p(exp(x)));
    return grad * CG_FMA(x * sigmoid, CG_FMA(-ts, ts, 1), ts);
}

static inline float cg_mish_backward_f(float grad, float x) {
    float sigmoid = 1 / (1 + expf(-x));
    float ts = tanhf(log1pf(expf(x)));
    return grad * CG_FMAF(x * sigmoid, CG_FMAF(-ts, ts, 1), ts);
}

/* min(max(x + 3, 0), 6) with std::max/std::min semantics: NaN stays NaN. */
static inline double cg_relu6_shifted(double x) {
    double t = x + 3;
    t = t < 0 ? 0 : t;
    return 6 < t ? 6 : t;
}

static inline float cg_relu6_shifted_f(float x) {
    float t = x + 3;
    t = t < 0 ? 0 : t;
    return 6 < t ? 6 : t;
}

/* hardsigmoid = min(max(x + 3, 0), 6) / 6; backward g * one_sixth on the
 * open interval (-3, 3), else 0, where one_sixth is 1.0f / 6.0f, a float
 * constant even for float64 (as PyTorch's kernel writes it). */
static inline double cg_hardsigmoid(double x) { return cg_relu6_shifted(x) / 6; }
static inline float cg_hardsigmoid_f(float x) { return cg_relu6_shifted_f(x) / 6; }

static inline double cg_hardsigmoid_backward(double grad, double x) {
    return (x > -3 && x < 3) ? grad * (double)(1.0f / 6.0f) : 0;
}

static inline float cg_hardsigmoid_backward_f(float grad, float x) {
    return (x > -3 && x < 3) ? grad * (1.0f / 6.0f) : 0;
}

/* hardswish = x * min(max(x + 3, 0), 6) / 6 (multiply first, then divide). */
static inline double cg_hardswish(double x) { return x * cg_relu6_shifted(x) / 6; }
static inline float cg_hardswish_f(float x) { return x * cg_relu6_shifted_f(x) / 6; }

/* hardswish backward: 0 up to -3, g * (x / 3 + 0.5) on (-3, 3), g from 3 on
 * (NaN x gives g on PyTorch's scalar path, NaN on its vector path). */
static inline double cg_hardswish_backward(double grad, double x) {
    if (x <= -3)
        return 0;
    if (x < 3)
        return grad * (x / 3 + 0.5);
    return grad;
}

static inline float cg_hardswish_backward_f(float grad, float x) {
    if (x <= -3)
        return 0;
    if (x < 3)
        return grad * (x / 3 + 0.5f);
    return grad;
}

/* elu family (PyTorch's elu kernel): negcoef = alpha * scale, poscoef =
 * scale, negiptcoef = input_scale, each rounded to the dtype first;
 * selu: alpha CG_SELU_ALPHA, scale CG_SELU_SCALE, input_scale 1;
 * celu: alpha, scale 1, input_scale 1 / alpha in double for the forward,
 * but 1.0 / (double)(float)alpha for the backward (derivatives.yaml takes
 * alpha.toFloat()). */
#define CG_SELU_ALPHA 1.6732632423543772848170429916717
#define CG_SELU_SCALE 1.0507009873554804934193349852946

static inline double cg_elu(double x, double negcoef, double poscoef, double negiptcoef) {
    return x <= 0 ? expm1(x * negiptcoef) * negcoef : x * poscoef;
}

static inline float cg_elu_f(float x, float negcoef, float poscoef, float negiptcoef) {
    return x <= 0 ? expm1f(x * negiptcoef) * negcoef : x * poscoef;
}

/* elu backward from the input (is_result = false, as selu and celu use). */
static inline double cg_elu_backward(double grad, double x, double negcoef, double poscoef,
                                     double negiptcoef) {
    return x <= 0 ? grad * negiptcoef * negcoef * exp(x * negiptcoef) : grad * poscoef;
}

static inline float cg_elu_backward_f(float grad, float x, float negcoef, float poscoef,
                                      float negiptcoef) {
    return x <= 0 ? grad * negiptcoef * negcoef * expf(x * negiptcoef) : grad * poscoef;
}

/* elu backward from the result (is_result = true: elu_ with the output saved). */
static inline double cg_elu_backward_result(double grad, double result, double negcoef,
                                            double poscoef, double negiptcoef) {
    return result <= 0 ? grad * negiptcoef * (result + negcoef) : grad * poscoef;
}

static inline float cg_elu_backward_result_f(float grad, float result, float negcoef,
                                             float poscoef, float negiptcoef) {
    return result <= 0 ? grad * negiptcoef * (result + negcoef) : grad * poscoef;
}

/* logsigmoid = min(x, 0) - log1p(buffer), buffer = exp(-|x|), which the
 * forward saves; backward: g * (1 - b/(1+b)) for x < 0, g * (b/(1+b))
 * otherwise, with b the saved buffer (cg_logsigmoid_buffer). */
static inline double cg_logsigmoid_buffer(double x) { return exp(-fabs(x)); }
static inline float cg_logsigmoid_buffer_f(float x) { return expf(-fabsf(x)); }

static inline double cg_logsigmoid(double x) {
    double m = x < 0 ? x : 0;    /* vec::minimum propagates NaN */
    if (isnan(x))
        m = x;
    return m - log1p(exp(-fabs(x)));
}

static inline float cg_logsigmoid_f(float x) {
    float m = x < 0 ? x : 0;
    if (isnan(x))
        m = x;
    return m - log1pf(expf(-fabsf(x)));
}

static inline double cg_logsigmoid_backward(double grad, double x, double buffer) {
    double max_deriv = x < 0 ? 1 : 0, sign = x < 0 ? 1 : -1;
    return (max_deriv - sign * (buffer / (1 + buffer))) * grad;
}

static inline float cg_logsigmoid_backward_f(float grad, float x, float buffer) {
    float max_deriv = x < 0 ? 1.0f : 0.0f, sign = x < 0 ? 1.0f : -1.0f;
    return (max_deriv - sign * (buffer / (1 + buffer))) * grad;
}

/* softshrink: x - l above l, x + l below -l, else x * 0 (keeps the sign of
 * x's zero, NaN stays NaN; PyTorch's vector path gives +0 there). hardshrink: 0 on [-l, l], else x. Both backwards:
 * 0 on [-l, l], else grad (cg_shrink_backward). */
static inline double cg_softshrink(double x, double lambd) {
    return x > lambd ? x - lambd : (x < -lambd ? x + lambd : x * 0);
}

static inline float cg_softshrink_f(float x, float lambd) {
    return x > lambd ? x - lambd : (x < -lambd ? x + lambd : x * 0);
}

static inline double cg_hardshrink(double x, double lambd) {
    return (x >= -lambd && x <= lambd) ? 0 : x;
}

static inline float cg_hardshrink_f(float x, float lambd) {
    return (x >= -lambd && x <= lambd) ? 0 : x;
}

static inline double cg_shrink_backward(double grad, double x, double lambd) {
    return (x >= -lambd && x <= lambd) ? 0 : grad;
}

static inline float cg_shrink_backward_f(float grad, float x, float lambd) {
    return (x >= -lambd && x <= lambd) ? 0 : grad;
}

/* tanhshrink = x - tanh(x); backward g * tanh(x)^2. */
static inline double cg_tanhshrink(double x) { return x - tanh(x); }
static inline float cg_tanhshrink_f(float x) { return x - tanhf(x); }

static inline double cg_tanhshrink_backward(double grad, double x) {
    double t = tanh(x);
    return grad * (t * t);
}

static inline float cg_tanhshrink_backward_f(float grad, float x) {
    float t = tanhf(x);
    return grad * (t * t);
}

#endif /* CGRAD_POINTWISE_MATH_H */
