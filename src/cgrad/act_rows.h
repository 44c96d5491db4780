/*
 * act_rows.h: the contiguous float32 row kernels of nn.functional's
 * activations with parameters (silu, leaky_relu, elu, gelu, gelu 'tanh',
 * softplus; ops/nn/ops_activations.pxi), forward and fused backward, one
 * loop per kind, compiled for AVX-512 and AVX2 beside the baseline
 * (target_clones, as vec_rows.h).
 *
 * Why C and not the .pxi's Cython loop: that loop switches on the kind per
 * element and evaluates `x if x > 0 else a * expm1(x)` lazily; gcc neither
 * vectorises a loop over a switch nor executes a floating-point operation
 * the source only does conditionally (cgrad builds with trapping math), so
 * every element went through scalar code. Here each kind has its own loop,
 * every arm is computed unconditionally from vecmath.h's branch-free
 * functions, and the choice between arms is a blend with an integer mask
 * (vm_blendf; vecmath.h's top comment gives the rules: a ternary lets gcc
 * sink an arm into a branch). The arithmetic, and its order, is the .pxi's
 * act_fwd / act_bwd (PyTorch's CPU formulas, in float as PyTorch's float
 * kernels), so results are bit-identical to the strided path; the clones
 * run the same C operations on wider registers (no FMA contraction:
 * -ffp-contract=off), so they agree bit for bit too.
 *
 * Kinds are the K_* values of ops_activations.pxi; `a` is the slope, alpha
 * or beta, `b` softplus's threshold. No restrict: in-place forms pass o == x.
 */
#ifndef CGRAD_ACT_ROWS_H
#define CGRAD_ACT_ROWS_H

#include "vecmath.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CG_ACT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CG_ACT_CLONES
#endif

enum { CG_ACT_SILU = 0, CG_ACT_LEAKY = 1, CG_ACT_ELU = 2, CG_ACT_GELU = 3, CG_ACT_GELU_TANH = 4,
       CG_ACT_SOFTPLUS = 5, CG_ACT_LEAKY_R = 6, CG_ACT_ELU_R = 7 };

/* the .pxi's constants, rounded to float from the same doubles */
#define CG_GELU_BETA ((float)0.7978845608028654)       /* M_SQRT2 * M_2_SQRTPI * 0.5 */
#define CG_GELU_KAPPA ((float)0.044715)
#define CG_SQRT1_2 ((float)0.7071067811865476)
#define CG_INV_SQRT_2PI ((float)0.3989422804014327)

/* one loop per kind: body computes `v` from x[i] (and g[i]) */
#define CG_ACT_LOOP(body) for (Py_ssize_t i = 0; i < n; i++) { body }

/* returns 0 for a kind it has no loop for (the caller keeps its own) */
CG_ACT_CLONES static int cg_act_fwd_rows_f32(int kind, float a, float b, const float* x, float* o,
                                             Py_ssize_t n)
{
    switch (kind) {
    case CG_ACT_SILU:
        CG_ACT_LOOP(float v = x[i]; o[i] = v / (1.0f + vm_expf(-v));)
        return 1;
    case CG_ACT_LEAKY:
        CG_ACT_LOOP(float v = x[i]; float neg = v * a; o[i] = vm_blendf(vm_maskf(v > 0), v, neg);)
        return 1;
    case CG_ACT_ELU:
        CG_ACT_LOOP(float v = x[i]; float neg = a * vm_expm1f(v); o[i] = vm_blendf(vm_maskf(v > 0), v, neg);)
        return 1;
    case CG_ACT_GELU:
        CG_ACT_LOOP(float v = x[i]; o[i] = v * 0.5f * (1.0f + vm_erff(v * CG_SQRT1_2));)
        return 1;
    case CG_ACT_GELU_TANH:
        CG_ACT_LOOP(float v = x[i];
                    float t = CG_GELU_BETA * (v + CG_GELU_KAPPA * (v * v * v));
                    o[i] = 0.5f * v * (1.0f + vm_tanhf(t));)
        return 1;
    case CG_ACT_SOFTPLUS:
        CG_ACT_LOOP(float v = x[i]; float t = v * a;
                    float soft = vm_log1pf(vm_expf(t)) / a;
                    o[i] = vm_blendf(vm_maskf(t > b), v, soft);)
        return 1;
    }
    return 0;
}

/* the fused backward: o = grad of x from g and x (the result for *_R) */
CG_ACT_CLONES static int cg_act_bwd_rows_f32(int kind, float a, float b, const float* g, const float* x,
                                             float* o, Py_ssize_t n)
{
    switch (kind) {
    case CG_ACT_SILU:
        CG_ACT_LOOP(float v = x[i]; float s = 1.0f / (1.0f + vm_expf(-v));
                    o[i] = g[i] * s * (1.0f + v * (1.0f - s));)
        return 1;
    case CG_ACT_LEAKY:
    case CG_ACT_LEAKY_R:
        CG_ACT_LOOP(float gv = g[i]; float neg = gv * a; o[i] = vm_blendf(vm_maskf(x[i] > 0), gv, neg);)
        return 1;
    case CG_ACT_ELU:
        CG_ACT_LOOP(float v = x[i]; float gv = g[i]; float neg = gv * a * vm_expf(v);
                    o[i] = vm_blendf(vm_maskf(v > 0), gv, neg);)
        return 1;
    case CG_ACT_ELU_R:
        CG_ACT_LOOP(float v = x[i]; float gv = g[i]; float neg = gv * (v + a);
                    o[i] = vm_blendf(vm_maskf(v > 0), gv, neg);)
        return 1;
    case CG_ACT_GELU:
        CG_ACT_LOOP(float v = x[i];
                    float cdf = 0.5f * (1.0f + vm_erff(v * CG_SQRT1_2));
                    float pdf = CG_INV_SQRT_2PI * vm_expf(v * v * -0.5f);
                    o[i] = g[i] * (cdf + v * pdf);)
        return 1;
    case CG_ACT_GELU_TANH:
        CG_ACT_LOOP(float v = x[i]; float x2 = v * v;
                    float inner = CG_GELU_BETA * (v + CG_GELU_KAPPA * (x2 * v));
                    float th = vm_tanhf(inner);
                    float left = 0.5f * v;
                    float right = 1.0f + th;
                    o[i] = g[i] * (0.5f * right + left * (1.0f - th * th)
                                   * (CG_GELU_BETA * (1.0f + 3.0f * CG_GELU_KAPPA * x2)));)
        return 1;
    case CG_ACT_SOFTPLUS:
        CG_ACT_LOOP(float v = x[i]; float gv = g[i]; float s = vm_expf(v * a);
                    float soft = gv * s / (s + 1.0f);
                    o[i] = vm_blendf(vm_maskf(v * a > b), gv, soft);)
        return 1;
    }
    return 0;
}

#undef CG_ACT_LOOP

#endif /* CGRAD_ACT_ROWS_H */
