/*
 * vec_rows.h: contiguous row kernels o[i] = f(x[i]) for the op table's
 * transcendental rows (exp, log, tanh, sigmoid, erf, erfc, expm1, log1p,
 * mish, logsigmoid, selu, round), compiled for AVX-512 and
 * AVX2 beside the baseline and picked at run time (target_clones).
 *
 * Why: cgrad builds without -march (wheels run on any x86-64), so the
 * table's own loops over vecmath.h's functions vectorise for SSE2 only: two
 * doubles a register, where float32 exp is computed in double. On large
 * tensors those loops are compute-bound (float32 exp of 200M elements took
 * longer than PyTorch's, which dispatches to AVX-512 itself). The clones
 * run the very same C arithmetic on eight (AVX-512) or four (AVX2) doubles
 * a register: no FMA contraction (-ffp-contract=off), no reassociation, so
 * every clone gives bit-identical results to the baseline loop.
 *
 * Only the op table's F32/F64 forward kernels call these, on contiguous
 * operands of at least CG_VEC_ROWS_MIN elements: below that the indirect
 * call through the clone resolver costs more than it saves, and small
 * tensors keep the inline loop. No restrict: the in-place forms pass o == x.
 */
#ifndef CGRAD_VEC_ROWS_H
#define CGRAD_VEC_ROWS_H

#include "vecmath.h"
#include "expf_avx512.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CG_VR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CG_VR_CLONES
#endif

#define CG_VEC_ROWS_MIN 256

/* unused: the op table's rows live in two modules (_C, _table_ops), each
 * including this header and calling only its own rows */
#define CG_VEC_ROW(NAME, T, F)                                                     \
CG_VR_CLONES __attribute__((unused)) static void NAME(const T* x, T* o, Py_ssize_t n) { \
    Py_ssize_t i;                                                                  \
    for (i = 0; i < n; i++) o[i] = F(x[i]);                                        \
}

CG_VEC_ROW(cg_vrow_exp_f32_clones, float, vm_expf)

/* float32 exp: expf_avx512.h's fused row where the CPU has AVX-512F and
 * FMA (vm_expf's bits, checked for every input; ~15% less CPU), else the
 * clones */
__attribute__((unused)) static void cg_vrow_exp_f32(const float* x, float* o, Py_ssize_t n)
{
#ifdef CG_EXPF_AVX512
    if (cg_expf_avx512_ok()) {
        const float zero = 0.0f;
        cg_expf_row_avx512(x, &zero, 0, o, n);
        return;
    }
#endif
    cg_vrow_exp_f32_clones(x, o, n);
}
CG_VEC_ROW(cg_vrow_log_f32, float, vm_logf)
CG_VEC_ROW(cg_vrow_tanh_f32, float, vm_tanhf)
CG_VEC_ROW(cg_vrow_sigmoid_f32, float, vm_sigmoidf)
CG_VEC_ROW(cg_vrow_tanh_f64, double, vm_tanh)
CG_VEC_ROW(cg_vrow_sigmoid_f64, double, vm_sigmoid)

/* erf, erfc, expm1, log1p, mish, logsigmoid, selu, round: the same arithmetic as their
 * rows' Cython expressions (whose c_* are these vm_* for float32) */
static inline float cg_mish_f32(float x) { return x * vm_tanhf(vm_log1pf(vm_expf(x))); }
static inline float cg_logsigmoid_f32(float x)
{
    return (x < 0 ? x : 0.0f) - vm_log1pf(vm_expf(-vm_float(vm_fbits(x) & 0x7fffffffu)));
}
/* selu: SELU_ALPHA and SELU_SCALE of src/codegen/table_unary.py */
static inline float cg_selu_f32(float x)
{
    return vm_blendf(vm_maskf(x <= 0), vm_expm1f(x) * ((float)1.6732632423543772 * (float)1.0507009873554805),
                     x * (float)1.0507009873554805);
}
/* round half to even: kernels_math_extra's c_round (float32) */
static inline float cg_round_f32(float x)
{
    float ax = vm_float(vm_fbits(x) & 0x7fffffffu);
    float r = vm_copysignf((ax + 8388608.0f) - 8388608.0f, x);
    return vm_blendf(vm_maskf(ax < 8388608.0f), r, x);
}
CG_VEC_ROW(cg_vrow_erf_f32, float, vm_erff)
CG_VEC_ROW(cg_vrow_erfc_f32, float, vm_erfcf)
CG_VEC_ROW(cg_vrow_expm1_f32, float, vm_expm1f)
CG_VEC_ROW(cg_vrow_log1p_f32, float, vm_log1pf)
CG_VEC_ROW(cg_vrow_mish_f32, float, cg_mish_f32)
CG_VEC_ROW(cg_vrow_logsigmoid_f32, float, cg_logsigmoid_f32)
CG_VEC_ROW(cg_vrow_selu_f32, float, cg_selu_f32)
CG_VEC_ROW(cg_vrow_round_f32, float, cg_round_f32)

#endif /* CGRAD_VEC_ROWS_H */
