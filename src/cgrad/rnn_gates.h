/*
 * rnn_gates.h: the per-row gate math of the fused recurrent layers
 * (ops/nn/ops_rnn.pxi runs the time loop and the products; these run the
 * pointwise part of one step for one batch row).
 *
 * Why a C header and not the Cython loops they replace: the gate math is a
 * quarter of an LSTM layer's forward (sigmoid and tanh of every gate, for
 * every step) and gcc only vectorises vecmath.h's functions as wide as the
 * build's baseline allows, SSE2's two double lanes. Functions here are
 * cloned for x86-64-v4 (AVX-512) and AVX2 and chosen when the module loads,
 * as fused_pointwise.h's are. Every clone keeps -ffp-contract=off, so all
 * give the bits the Cython loops gave, which these reproduce operation for
 * operation (the `1.0` literals are Cython's: it writes `1 - x` as
 * `1.0 - x`, so a float32 layer's backward computes those factors in
 * double and rounds each stored value once).
 */
#ifndef CGRAD_RNN_GATES_H
#define CGRAD_RNN_GATES_H

#include <stddef.h>
#include "vecmath.h"

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__) && defined(__linux__)
#define CG_RNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CG_RNN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CG_RNN_CLONES
#endif

/* The rows of one batch entry are disjoint buffers (gates, cells, states and
   their gradients each have their own allocation), so no loop here carries a
   dependence; without the pragma gcc adds overlap checks for every pair. */
#define CG_RNN_LOOP(FROM, TO) _Pragma("GCC ivdep") for (j = (FROM); j < (TO); j++)

#define CG_RNN_ROWS(SUF, T, SIG, TANH)                                                           \
/* RNN with tanh: g = tanh(g) */                                                                 \
CG_RNN_CLONES static void cg_rnn_tanh_fwd_row_##SUF(T* g, ptrdiff_t H)                           \
{                                                                                                \
    ptrdiff_t j;                                                                                 \
    CG_RNN_LOOP(0, H) g[j] = TANH(g[j]);                                                         \
}                                                                                                \
/* LSTM: gates i, f, g, o in g[0:4H] (pre-activations in, activations out);                    \
   c = f * c_prev + i * g; h = o * tanh(c) */                                                    \
CG_RNN_CLONES static void cg_lstm_fwd_row_##SUF(T* g, const T* cp, T* c, T* h, ptrdiff_t H)      \
{                                                                                                \
    ptrdiff_t j;                                                                                 \
    CG_RNN_LOOP(0, 2 * H) g[j] = SIG(g[j]);                                                      \
    CG_RNN_LOOP(2 * H, 3 * H) g[j] = TANH(g[j]);                                                 \
    CG_RNN_LOOP(3 * H, 4 * H) g[j] = SIG(g[j]);                                                  \
    CG_RNN_LOOP(0, H) c[j] = g[H + j] * cp[j] + g[j] * g[2 * H + j];                             \
    CG_RNN_LOOP(0, H) h[j] = g[3 * H + j] * TANH(c[j]);                                          \
}                                                                                                \
/* GRU: g holds the input side's r, z, n (biases added), hh the hidden side's                   \
   product (its n part with b_hn); n's hidden part is kept in hn for the                         \
   backward, and the new state is written over hh's r part */                                    \
CG_RNN_CLONES static void cg_gru_fwd_row_##SUF(T* g, T* hh, T* hn, const T* hp, ptrdiff_t H)     \
{                                                                                                \
    ptrdiff_t j;                                                                                 \
    CG_RNN_LOOP(0, 2 * H) g[j] = SIG(g[j] + hh[j]);                                              \
    CG_RNN_LOOP(0, H) hn[j] = hh[2 * H + j];                                                     \
    CG_RNN_LOOP(0, H) g[2 * H + j] = TANH(g[2 * H + j] + g[j] * hn[j]);                          \
    CG_RNN_LOOP(0, H) hh[j] = (1.0 - g[H + j]) * g[2 * H + j] + g[H + j] * hp[j];                \
}                                                                                                \
/* LSTM backward of one row: dq the state's gradient, dc the cell's (updated                    \
   to the previous step's), d the gates' pre-activation gradients, tc scratch */                \
CG_RNN_CLONES static void cg_lstm_bwd_row_##SUF(const T* g, const T* cin, const T* cout,         \
                                                const T* dq, T* dc, T* d, T* tc, ptrdiff_t H)    \
{                                                                                                \
    ptrdiff_t j;                                                                                 \
    CG_RNN_LOOP(0, H) tc[j] = TANH(cout[j]);                                                     \
    CG_RNN_LOOP(0, H) {                                                                          \
        T ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j], t = tc[j], v = dq[j];  \
        T dcv = dc[j] + v * og * (1.0 - t * t);                                                  \
        T dov = v * t;                                                                           \
        d[j] = dcv * gg * ig * (1.0 - ig);                                                       \
        d[H + j] = dcv * cin[j] * fg * (1.0 - fg);                                               \
        d[2 * H + j] = dcv * ig * (1.0 - gg * gg);                                               \
        d[3 * H + j] = dov * og * (1.0 - og);                                                    \
        dc[j] = dcv * fg;                                                                        \
    }                                                                                            \
}                                                                                                \
/* GRU backward of one row: dh the state's gradient; d the input side's gate                    \
   gradients, dd the hidden side's, dr the part of dh that flows straight to                     \
   the previous state */                                                                         \
CG_RNN_CLONES static void cg_gru_bwd_row_##SUF(const T* g, const T* hn, const T* hin,            \
                                               const T* dh, T* d, T* dd, T* dr, ptrdiff_t H)     \
{                                                                                                \
    ptrdiff_t j;                                                                                 \
    CG_RNN_LOOP(0, H) {                                                                          \
        T r = g[j], z = g[H + j], n = g[2 * H + j], v = dh[j];                                   \
        T dn = v * (1.0 - z);                                                                    \
        T dnp = dn * (1.0 - n * n);                                                              \
        d[j] = dnp * hn[j] * r * (1.0 - r);                                                      \
        d[H + j] = v * (hin[j] - n) * z * (1.0 - z);                                             \
        d[2 * H + j] = dnp;                                                                      \
        dd[j] = d[j];                                                                            \
        dd[H + j] = d[H + j];                                                                    \
        dd[2 * H + j] = dnp * r;                                                                 \
        dr[j] = v * z;                                                                           \
    }                                                                                            \
}

CG_RNN_ROWS(f32, float, vm_sigmoidf, vm_tanhf)
CG_RNN_ROWS(f64, double, vm_sigmoid, vm_tanh)

#endif /* CGRAD_RNN_GATES_H */
