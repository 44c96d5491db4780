/*
 * fused_pointwise.h: the interpreter of cgrad.compile's fused pointwise
 * programs (fused_support.pxi builds them, cgrad/_dynamo/fusion.py plans
 * them).
 *
 * A program is a list of instructions over registers, run block by block
 * as numexpr runs its expressions: each block of CG_FUSED_BLOCK elements
 * goes through every instruction before the next block starts, so the
 * registers that hold intermediates are CG_FUSED_BLOCK elements of scratch
 * that stay in L1/L2, and a chain of N ops over a large tensor is one pass
 * over memory instead of N. Each instruction is a plain loop over one block,
 * which gcc vectorises (the math is vecmath.h's, the functions eager's
 * kernels call, so each value is the same bits eager computes; float32
 * programs planned with config.fused_float32_math run
 * cg_fused_run_f32_math instead, vecmath_f32.h's float32 arithmetic).
 *
 * A register is external (an input's or an output's buffer: the block's
 * slice of it) or scratch (a block of the thread's scratch area).
 */
#ifndef CGRAD_FUSED_POINTWISE_H
#define CGRAD_FUSED_POINTWISE_H

#include <stddef.h>
#include <string.h>
#include "vecmath.h"

/* AVX-512, AVX2 + FMA and baseline clones, chosen at load time. Every clone
   keeps the build's -ffp-contract=off (every rounding as written), so the
   clones give the same bits: eager's for the programs that match eager, and
   vecmath_f32.h's measured ones for the float32-arithmetic programs, whose
   fused multiply-adds are explicit (vmf_fma: vfmadd in the v3 and v4
   clones, libm's correctly rounded fmaf in the baseline one).
   tests/compile/test_vecmath_f32_clones.py compares the three builds' bits. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__) && defined(__linux__)
#define CG_FUSED_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define VMF_USE_FMA 1
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
/* gcc before 12 has no arch=x86-64-vN clones, and its "avx2" clone has no
   FMA: vecmath_f32.h computes without fma in both clones */
#define CG_FUSED_CLONES __attribute__((target_clones("avx2", "default")))
#else
/* one build for the compiler's target (vecmath_f32.h uses fma if it has it) */
#define CG_FUSED_CLONES
#endif

#include "vecmath_f32.h"

/* 128 elements: a block's registers (its scratch and its slices of the
   inputs and outputs) stay in L1 between one instruction and the next.
   With 1024 they did not (5 scratch registers and 3 buffers of 4 KiB in
   float32 fill Zen 4's 32 KiB L1), and every instruction went to L2: the
   4M-element chain ((x*y+x).tanh()*y).sum() and its backward took 6.6 ms
   (float32 arithmetic) against 4.3 at 128, 8.9 against 6.1 in eager's
   bits, 29 against 19 in float64 (one thread). 64 is no faster, and from
   32 the per-block dispatch shows. Software prefetching of the next block,
   which helped the 1024-element blocks, slows these down (the hardware
   prefetchers follow the few sequential streams). */
#define CG_FUSED_BLOCK 128

/* Registers are either one buffer or disjoint ones (fused_support.pxi
   declines a call whose external buffers overlap otherwise), so a loop
   whose destination is its operand (d == a) has no dependence between
   iterations: without the pragma gcc guards each loop with an overlap check
   that d == a fails, and runs the scalar copy. */
#define CG_FUSED_LOOP _Pragma("GCC ivdep") for (i = 0; i < n; i++)

enum {
    CGF_COPY = 0, CGF_FILL,                             /* d = a; d = s */
    CGF_ADD, CGF_SUB, CGF_MUL, CGF_DIV,                 /* d = a op b */
    CGF_ADDS, CGF_SUBS, CGF_RSUBS, CGF_MULS, CGF_DIVS,  /* d = a op s; RSUBS: s - a */
    CGF_NEG, CGF_TANH, CGF_SIGMOID, CGF_EXP, CGF_LOG, CGF_RELU,
    /* the backward formulas as the op table's Cython renders them: its 1 is
       the double 1.0, so float32 grads are computed in double and rounded
       once, and so are they here (cg_fused_run_f32_math: in float32, as
       PyTorch's kernels compute them) */
    CGF_TANH_BWD,       /* d = a * (1.0 - b * b)   (a: grad, b: tanh's output) */
    CGF_SIGMOID_BWD,    /* d = a * (1.0 - b) * b   (b: sigmoid's output) */
    CGF_RELU_BWD,       /* d = b <= 0 ? 0 : a    (b: relu's output) */
    /* a product read only by one sum, computed inside it (the planner's
       peephole, fusion_plan.pxi): the same two roundings as MUL then ADD
       (no fma: -ffp-contract=off), one load and store of a register less.
       The two forms write the sum as the program had it. */
    CGF_MULADD,         /* d = a * b + c */
    CGF_MULADD_R,       /* d = c + a * b */
    CGF_NOPS
};

typedef struct {
    int op, dst, a, b, c;   /* c: MULADD's addend (a for the other ops) */
    double s;           /* the scalar operand, as a double (cast to the dtype when run) */
} cg_fused_instr;

/* One block of n elements through the whole program. The interpreter calls
   it with n the constant CG_FUSED_BLOCK for every full block, so that gcc
   compiles a copy whose loops have a known trip count (no remainder
   iterations, no alignment peeling): the loop overhead of an instruction is
   a large part of its cost at 128 elements. */
#define CG_FUSED_BLOCK_FN(NAME, T, TANH, SIGMOID, EXP, LOG, ONE)                                 \
static inline __attribute__((always_inline)) void NAME(const cg_fused_instr* code, int ncode,     \
                                                       T* const* reg, Py_ssize_t n) {              \
    Py_ssize_t i;                                                                          \
    int k;                                                                                 \
    for (k = 0; k < ncode; k++) {                                                          \
        const cg_fused_instr* c = code + k;                                                \
        T* d = reg[c->dst];                                                                \
        const T* a = reg[c->a];                                                            \
        const T* bb = reg[c->b];                                                           \
        const T* cc = reg[c->c];                                                           \
        T s = (T)c->s;                                                                     \
        switch (c->op) {                                                                   \
            case CGF_COPY: memmove(d, a, n * sizeof(T)); break;                            \
            case CGF_FILL: CG_FUSED_LOOP d[i] = s; break;                                  \
            case CGF_ADD: CG_FUSED_LOOP d[i] = a[i] + bb[i]; break;                        \
            case CGF_SUB: CG_FUSED_LOOP d[i] = a[i] - bb[i]; break;                        \
            case CGF_MUL: CG_FUSED_LOOP d[i] = a[i] * bb[i]; break;                        \
            case CGF_DIV: CG_FUSED_LOOP d[i] = a[i] / bb[i]; break;                        \
            case CGF_ADDS: CG_FUSED_LOOP d[i] = a[i] + s; break;                           \
            case CGF_SUBS: CG_FUSED_LOOP d[i] = a[i] - s; break;                           \
            case CGF_RSUBS: CG_FUSED_LOOP d[i] = s - a[i]; break;                          \
            case CGF_MULS: CG_FUSED_LOOP d[i] = a[i] * s; break;                           \
            case CGF_DIVS: CG_FUSED_LOOP d[i] = a[i] / s; break;                           \
            case CGF_NEG: CG_FUSED_LOOP d[i] = -a[i]; break;                               \
            case CGF_TANH: CG_FUSED_LOOP d[i] = TANH(a[i]); break;                         \
            case CGF_SIGMOID: CG_FUSED_LOOP d[i] = SIGMOID(a[i]); break;                   \
            case CGF_EXP: CG_FUSED_LOOP d[i] = EXP(a[i]); break;                           \
            case CGF_LOG: CG_FUSED_LOOP d[i] = LOG(a[i]); break;                           \
            case CGF_RELU: CG_FUSED_LOOP d[i] = a[i] < 0 ? 0 : a[i]; break;                \
            case CGF_TANH_BWD:                                                             \
                CG_FUSED_LOOP { d[i] = a[i] * (ONE - (bb[i] * bb[i])); }                   \
                break;                                                                     \
            case CGF_SIGMOID_BWD:                                                          \
                CG_FUSED_LOOP { d[i] = (a[i] * (ONE - bb[i])) * bb[i]; }                   \
                break;                                                                     \
            case CGF_MULADD: CG_FUSED_LOOP d[i] = a[i] * bb[i] + cc[i]; break;             \
            case CGF_MULADD_R: CG_FUSED_LOOP d[i] = cc[i] + a[i] * bb[i]; break;           \
            case CGF_RELU_BWD:                                                             \
                CG_FUSED_LOOP { d[i] = bb[i] <= 0 ? 0 : a[i]; }                            \
                break;                                                                     \
        }                                                                                  \
    }                                                                                      \
}

#define CG_FUSED_RUN(NAME, CLONES, T, TANH, SIGMOID, EXP, LOG, ONE)                      \
CG_FUSED_BLOCK_FN(NAME##_block, T, TANH, SIGMOID, EXP, LOG, ONE)                           \
CLONES static void NAME(const cg_fused_instr* code, int ncode, char** ext, int nregs,     \
                 T* scratch, Py_ssize_t start, Py_ssize_t stop) {                          \
    T* reg[256];                                                                           \
    Py_ssize_t b0, n;                                                                      \
    int r;                                                                                 \
    for (b0 = start; b0 < stop; b0 += CG_FUSED_BLOCK) {                                    \
        n = stop - b0 < CG_FUSED_BLOCK ? stop - b0 : CG_FUSED_BLOCK;                       \
        for (r = 0; r < nregs; r++)                                                        \
            reg[r] = ext[r] ? (T*)ext[r] + b0 : scratch + (Py_ssize_t)r * CG_FUSED_BLOCK;  \
        if (n == CG_FUSED_BLOCK)                                                           \
            NAME##_block(code, ncode, reg, CG_FUSED_BLOCK);                                \
        else                                                                               \
            NAME##_block(code, ncode, reg, n);                                             \
    }                                                                                      \
}

CG_FUSED_RUN(cg_fused_run_f32, CG_FUSED_CLONES, float, vm_tanhf, vm_sigmoidf, vm_expf, vm_logf, 1.0)
CG_FUSED_RUN(cg_fused_run_f64, CG_FUSED_CLONES, double, vm_tanh, vm_sigmoid, exp, log, 1.0)
/* float32 in float32 arithmetic (vecmath_f32.h; config.fused_float32_math):
   not eager's bits: within 1.05 ulp of the exact values (sigmoid 2.4), faster */
CG_FUSED_RUN(cg_fused_run_f32_math, CG_FUSED_CLONES, float, vmf_tanhf, vmf_sigmoidf, vmf_expf, vmf_logf, 1.0f)

#endif
