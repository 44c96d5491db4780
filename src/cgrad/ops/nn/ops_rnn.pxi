# Fused recurrent layers: one node per layer and direction for RNN (tanh,
# relu), LSTM (with projections) and GRU. The forward runs the whole time
# loop in C: the input products for every step in one gemm up front, then per
# step one gemm for the hidden product and the gate math of rnn_gates.h
# (cloned there for AVX2 and AVX-512, where most of a step's non-gemm time is).
# It keeps the gate activations, the states fed into each step (and for
# LSTM the cells, for GRU the hidden-side candidate product) so the backward
# is a reverse time loop with one gemm per step, and the weight gradients are
# single large gemms over all steps afterwards.
#
# gemm is OpenBLAS's cblas entry point in numpy's bundled library
# (blas_gemm.pxi), so the step loop calls BLAS without the GIL or numpy's
# per-call overhead; without such a library a typed triple loop stands in.
#
# Packed sequences arrive padded with per-row lengths: a row past its length
# keeps its state, outputs zero and passes its gradient through unchanged,
# which is what PyTorch's shrinking batch per step computes.
#
# Under create_graph the backward is not this C loop: it recomputes the layer
# from the decomposed ops (cgrad/nn/_rnn_math.py) and differentiates that, so
# double backward works as in PyTorch.

from libc.string cimport memcpy as _rnn_memcpy, memset as _rnn_memset

cdef extern from "rnn_gates.h" nogil:
    void cg_rnn_tanh_fwd_row_f32(float* g, Py_ssize_t H)
    void cg_rnn_tanh_fwd_row_f64(double* g, Py_ssize_t H)
    void cg_lstm_fwd_row_f32(float* g, const float* cp, float* c, float* h, Py_ssize_t H)
    void cg_lstm_fwd_row_f64(double* g, const double* cp, double* c, double* h, Py_ssize_t H)
    void cg_gru_fwd_row_f32(float* g, float* hh, float* hn, const float* hp, Py_ssize_t H)
    void cg_gru_fwd_row_f64(double* g, double* hh, double* hn, const double* hp, Py_ssize_t H)
    void cg_lstm_bwd_row_f32(const float* g, const float* cin, const float* cout, const float* dq,
                             float* dc, float* d, float* tc, Py_ssize_t H)
    void cg_lstm_bwd_row_f64(const double* g, const double* cin, const double* cout, const double* dq,
                             double* dc, double* d, double* tc, Py_ssize_t H)
    void cg_gru_bwd_row_f32(const float* g, const float* hn, const float* hin, const float* dh,
                            float* d, float* dd, float* dr, Py_ssize_t H)
    void cg_gru_bwd_row_f64(const double* g, const double* hn, const double* hin, const double* dh,
                            double* d, double* dd, double* dr, Py_ssize_t H)


cdef extern from "step_gemm.h" nogil:
    int cg_step_gemm_ready()
    size_t cg_step_gemm_packed_size(Py_ssize_t K, Py_ssize_t N)
    void cg_step_gemm_pack(const float* B, Py_ssize_t ldb, Py_ssize_t K, Py_ssize_t N, float* Bp)
    void cg_step_gemm_pack_t(const float* Bt, Py_ssize_t ldbt, Py_ssize_t K, Py_ssize_t N, float* Bp)
    void cg_step_gemm(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const float* A, Py_ssize_t lda, const float* Bp,
                      int accumulate, const float* row, float* C, Py_ssize_t ldc)


cdef float* pack_step_weight(const real_t* w, Py_ssize_t ldw, Py_ssize_t K, Py_ssize_t N) noexcept nogil:
    """The weight of the per-step products (K x N, row-major) packed once for
    step_gemm.h's kernel; NULL where BLAS runs the steps instead (float64,
    a CPU without AVX-512, no memory). The caller frees it."""
    cdef float* wp = NULL
    if real_t is float:
        if cg_step_gemm_ready():
            wp = <float*>malloc(cg_step_gemm_packed_size(K, N) * sizeof(float))
            if wp != NULL:
                cg_step_gemm_pack(w, ldw, K, N, wp)
    return wp


cdef inline void step_gemm(const float* wp, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const real_t* A,
                           Py_ssize_t lda, const real_t* w, Py_ssize_t ldw, bint accumulate, real_t* C,
                           Py_ssize_t ldc) noexcept nogil:
    """C = A w, or C += A w: over the packed weight wp where there is one,
    else BLAS over w."""
    if real_t is float:
        if wp != NULL:
            cg_step_gemm(M, N, K, A, lda, wp, accumulate, NULL, C, ldc)
            return
    rgemm(False, False, M, N, K, <real_t>1, A, lda, w, ldw, <real_t>(1 if accumulate else 0), C, ldc)


cdef bint input_products_packed(Py_ssize_t M, Py_ssize_t GH, Py_ssize_t NI, Py_ssize_t H, bint fold_hh,
                                const real_t* x, const real_t* w_ih, const real_t* b_ih, const real_t* b_hh,
                                real_t* gates) noexcept nogil:
    """gates = x w_ih^T plus the biases of every step (b_hh's where it folds
    in: all of it, or GRU's r and z parts) on step_gemm.h's kernel, the
    biases as the accumulators' start instead of a pass of their own.
    False where it does not run (float64, no AVX-512, no memory)."""
    cdef float* wp
    cdef float* row = NULL
    cdef Py_ssize_t j
    if real_t is float:
        if not cg_step_gemm_ready():
            return False
        wp = <float*>malloc(cg_step_gemm_packed_size(NI, GH) * sizeof(float))
        if b_ih != NULL:
            row = <float*>malloc(GH * sizeof(float))
        if wp == NULL or (b_ih != NULL and row == NULL):
            free(wp)
            free(row)
            return False
        if b_ih != NULL:
            for j in range(GH):
                row[j] = b_ih[j] + b_hh[j] if fold_hh or j < 2 * H else b_ih[j]
        cg_step_gemm_pack_t(w_ih, NI, NI, GH, wp)
        cg_step_gemm(M, GH, NI, x, NI, wp, 0, row, gates, GH)
        free(wp)
        free(row)
        return True
    else:
        return False


# The gate math of one batch row and step, in rnn_gates.h (cloned for AVX2
# and AVX-512 there), for either float type.
cdef inline void tanh_fwd_row(real_t* g, Py_ssize_t H) noexcept nogil:
    if real_t is float:
        cg_rnn_tanh_fwd_row_f32(g, H)
    else:
        cg_rnn_tanh_fwd_row_f64(g, H)


cdef inline void lstm_fwd_row(real_t* g, const real_t* cp, real_t* c, real_t* h, Py_ssize_t H) noexcept nogil:
    if real_t is float:
        cg_lstm_fwd_row_f32(g, cp, c, h, H)
    else:
        cg_lstm_fwd_row_f64(g, cp, c, h, H)


cdef inline void gru_fwd_row(real_t* g, real_t* hh, real_t* hn, const real_t* hp, Py_ssize_t H) noexcept nogil:
    if real_t is float:
        cg_gru_fwd_row_f32(g, hh, hn, hp, H)
    else:
        cg_gru_fwd_row_f64(g, hh, hn, hp, H)


cdef inline void lstm_bwd_row(const real_t* g, const real_t* cin, const real_t* cout, const real_t* dq,
                              real_t* dc, real_t* d, real_t* tc, Py_ssize_t H) noexcept nogil:
    if real_t is float:
        cg_lstm_bwd_row_f32(g, cin, cout, dq, dc, d, tc, H)
    else:
        cg_lstm_bwd_row_f64(g, cin, cout, dq, dc, d, tc, H)


cdef inline void gru_bwd_row(const real_t* g, const real_t* hn, const real_t* hin, const real_t* dh,
                             real_t* d, real_t* dd, real_t* dr, Py_ssize_t H) noexcept nogil:
    if real_t is float:
        cg_gru_bwd_row_f32(g, hn, hin, dh, d, dd, dr, H)
    else:
        cg_gru_bwd_row_f64(g, hn, hin, dh, d, dd, dr, H)

cdef enum:
    RNN_TANH = 0
    RNN_RELU = 1
    RNN_LSTM = 2
    RNN_GRU = 3


cdef void naive_gemm(bint ta, bint tb, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, real_t alpha,
                     const real_t* A, Py_ssize_t lda, const real_t* B, Py_ssize_t ldb, real_t beta,
                     real_t* C, Py_ssize_t ldc) noexcept nogil:
    cdef Py_ssize_t i, j, p
    cdef real_t a
    for i in range(M):
        for j in range(N):
            C[i * ldc + j] = 0 if beta == 0 else C[i * ldc + j] * beta
        for p in range(K):
            a = alpha * (A[p * lda + i] if ta else A[i * lda + p])
            if tb:
                for j in range(N):
                    C[i * ldc + j] += a * B[j * ldb + p]
            else:
                for j in range(N):
                    C[i * ldc + j] += a * B[p * ldb + j]


cdef void rgemm(bint ta, bint tb, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, real_t alpha,
                const real_t* A, Py_ssize_t lda, const real_t* B, Py_ssize_t ldb, real_t beta,
                real_t* C, Py_ssize_t ldc) noexcept nogil:
    """Row-major C (M x N) = alpha op(A) op(B) + beta C."""
    cdef int oa = CBLAS_TRANS if ta else CBLAS_NO_TRANS, ob = CBLAS_TRANS if tb else CBLAS_NO_TRANS
    if M <= 0 or N <= 0:
        return
    if K <= 0 or lda <= 0 or ldb <= 0:
        naive_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
        return
    if real_t is float:
        if _cblas_sgemm64 != NULL:
            _cblas_sgemm64(CBLAS_ROW_MAJOR, oa, ob, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
            return
        if _cblas_sgemm32 != NULL:
            _cblas_sgemm32(CBLAS_ROW_MAJOR, oa, ob, <int32_t>M, <int32_t>N, <int32_t>K, alpha, A, <int32_t>lda,
                         B, <int32_t>ldb, beta, C, <int32_t>ldc)
            return
    else:
        if _cblas_dgemm64 != NULL:
            _cblas_dgemm64(CBLAS_ROW_MAJOR, oa, ob, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
            return
        if _cblas_dgemm32 != NULL:
            _cblas_dgemm32(CBLAS_ROW_MAJOR, oa, ob, <int32_t>M, <int32_t>N, <int32_t>K, alpha, A, <int32_t>lda,
                         B, <int32_t>ldb, beta, C, <int32_t>ldc)
            return
    naive_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)


cdef void transpose_into(real_t* dst, const real_t* src, Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    """dst (cols x rows) = src (rows x cols) transposed, both contiguous; in
    tiles, so both sides stay in cache."""
    cdef Py_ssize_t i0, j0, i, j, i1, j1
    for i0 in range(0, rows, 32):
        i1 = min(i0 + 32, rows)
        for j0 in range(0, cols, 32):
            j1 = min(j0 + 32, cols)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    dst[j * rows + i] = src[i * cols + j]


cdef inline bint rnn_active(const int64_t* lengths, Py_ssize_t t, Py_ssize_t b) noexcept nogil:
    return lengths == NULL or t < lengths[b]


cdef void rnn_forward_kernel(int mode, bint reverse, Py_ssize_t T, Py_ssize_t B, Py_ssize_t NI,
                             Py_ssize_t H, Py_ssize_t P, const real_t* x, const real_t* w_ih,
                             const real_t* w_hh, const real_t* b_ih, const real_t* b_hh,
                             const real_t* w_hr, const int64_t* lengths, real_t* gates, real_t* hin,
                             real_t* cin, real_t* cout, real_t* rbuf, real_t* hnbuf, real_t* hg,
                             real_t* out, real_t* hn, real_t* cn, real_t* w_hh_t, real_t* w_hr_t) noexcept nogil:
    # IN hn = h0, cn = c0 (B x P, B x H). OUT out (T x B x P), hn, cn (final
    # states), and what the backward reads: gates (activations, T x B x GH),
    # hin (state into each step), cin/cout (LSTM cells), rbuf (LSTM with
    # projection: o * tanh(c)), hnbuf (GRU: W_hn h + b_hn). w_hh_t, w_hr_t:
    # scratch for w_hh and w_hr transposed (P x GH, H x P): the step's product
    # h @ w_hh^T then reads its right operand row-major without a transpose,
    # which OpenBLAS packs much faster (one 32 x 256 @ 256 x 1024 step: 0.22
    # against 0.36 ms), and the packing of that large operand is repeated at
    # every step while the transpose is made once.
    cdef Py_ssize_t G = 4 if mode == RNN_LSTM else (3 if mode == RNN_GRU else 1)
    cdef Py_ssize_t GH = G * H, s, t, b, j
    cdef real_t* g
    cdef real_t* h
    cdef real_t* c
    cdef real_t* o
    cdef const real_t* hp
    cdef real_t v
    cdef bint fold_hh = mode != RNN_GRU
    transpose_into(w_hh_t, w_hh, GH, P)
    cdef float* wp = pack_step_weight(w_hh_t, GH, P, GH)
    if P != H:
        transpose_into(w_hr_t, w_hr, P, H)
    if not input_products_packed(T * B, GH, NI, H, fold_hh, x, w_ih, b_ih, b_hh, gates):
        rgemm(False, True, T * B, GH, NI, <real_t>1, x, NI, w_ih, NI, <real_t>0, gates, GH)
        if b_ih != NULL:
            for s in range(T * B):
                g = gates + s * GH
                for j in range(GH):
                    g[j] += b_ih[j]
                if fold_hh:
                    for j in range(GH):
                        g[j] += b_hh[j]
                else:
                    for j in range(2 * H):
                        g[j] += b_hh[j]
    for s in range(T):
        t = T - 1 - s if reverse else s
        _rnn_memcpy(hin + t * B * P, hn, B * P * sizeof(real_t))
        hp = hin + t * B * P
        if mode == RNN_LSTM:
            _rnn_memcpy(cin + t * B * H, cn, B * H * sizeof(real_t))
        if fold_hh:
            step_gemm(wp, B, GH, P, hp, P, w_hh_t, GH, True, gates + t * B * GH, GH)
        else:
            step_gemm(wp, B, GH, H, hp, H, w_hh_t, GH, False, hg, GH)
            if b_hh != NULL:
                for b in range(B):
                    for j in range(2 * H, GH):
                        hg[b * GH + j] += b_hh[j]
        o = out + t * B * P
        for b in range(B):
            g = gates + (t * B + b) * GH
            if mode == RNN_TANH:
                tanh_fwd_row(g, H)
                h = g
            elif mode == RNN_RELU:
                for j in range(H):
                    v = g[j]
                    g[j] = v if v > 0 else (<real_t>0 if v == v else v)
                h = g
            elif mode == RNN_LSTM:
                c = cout + (t * B + b) * H
                h = rbuf + (t * B + b) * H
                lstm_fwd_row(g, cin + (t * B + b) * H, c, h, H)
                if rnn_active(lengths, t, b):
                    _rnn_memcpy(cn + b * H, c, H * sizeof(real_t))
            else:
                h = hg + b * GH        # the new state goes over the r part, once read
                gru_fwd_row(g, h, hnbuf + (t * B + b) * H, hp + b * H, H)
            if P != H:
                continue    # projected below, all rows at once
            if rnn_active(lengths, t, b):
                _rnn_memcpy(hn + b * P, h, P * sizeof(real_t))
                _rnn_memcpy(o + b * P, h, P * sizeof(real_t))
            else:
                _rnn_memset(o + b * P, 0, P * sizeof(real_t))
        if P != H:
            rgemm(False, False, B, P, H, <real_t>1, rbuf + t * B * H, H, w_hr_t, P, <real_t>0, hg, P)
            for b in range(B):
                if rnn_active(lengths, t, b):
                    _rnn_memcpy(hn + b * P, hg + b * P, P * sizeof(real_t))
                    _rnn_memcpy(o + b * P, hg + b * P, P * sizeof(real_t))
                else:
                    _rnn_memset(o + b * P, 0, P * sizeof(real_t))
    free(wp)


cdef void rnn_backward_kernel(int mode, bint reverse, Py_ssize_t T, Py_ssize_t B, Py_ssize_t NI,
                              Py_ssize_t H, Py_ssize_t P, const real_t* x, const real_t* w_ih,
                              const real_t* w_hh, const real_t* w_hr, const int64_t* lengths,
                              const real_t* gates, const real_t* hin, const real_t* cin,
                              const real_t* cout, const real_t* rbuf, const real_t* hnbuf,
                              const real_t* gout, real_t* dG, real_t* dGh, real_t* dHs, real_t* dr,
                              real_t* dh, real_t* dhn, real_t* dc, real_t* dx, real_t* dw_ih,
                              real_t* dw_hh, real_t* db_ih, real_t* db_hh, real_t* dw_hr) noexcept nogil:
    # IN dh, dc: the gradients of the final states (zeros when none); gout
    # (T x B x P) or NULL. OUT dh, dc: those of the initial states; the
    # parameter and input gradients (any may be NULL when not wanted).
    # dGh is dG except for GRU, whose candidate gate differs on the hidden side.
    cdef Py_ssize_t G = 4 if mode == RNN_LSTM else (3 if mode == RNN_GRU else 1)
    cdef Py_ssize_t GH = G * H, s, t, b, j
    cdef const real_t* g
    cdef const real_t* go
    cdef const real_t* dq
    cdef real_t* d
    cdef float* wp = pack_step_weight(w_hh, P, GH, P)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        if gout != NULL:
            go = gout + t * B * P
            for b in range(B):
                if rnn_active(lengths, t, b):
                    for j in range(P):
                        dh[b * P + j] += go[b * P + j]
        dq = dh
        if mode == RNN_LSTM and P != H:
            for b in range(B):
                if rnn_active(lengths, t, b):
                    _rnn_memcpy(dHs + (t * B + b) * P, dh + b * P, P * sizeof(real_t))
                else:
                    _rnn_memset(dHs + (t * B + b) * P, 0, P * sizeof(real_t))
            rgemm(False, False, B, H, P, <real_t>1, dHs + t * B * P, P, w_hr, H, <real_t>0, dr, H)
            dq = dr
        for b in range(B):
            d = dG + (t * B + b) * GH
            if not rnn_active(lengths, t, b):
                _rnn_memset(d, 0, GH * sizeof(real_t))
                if mode == RNN_GRU:
                    _rnn_memset(dGh + (t * B + b) * GH, 0, GH * sizeof(real_t))
                    for j in range(H):
                        dr[b * H + j] = dh[b * H + j]
                continue
            g = gates + (t * B + b) * GH
            if mode == RNN_TANH:
                for j in range(H):
                    d[j] = dq[b * H + j] * (1 - g[j] * g[j])
            elif mode == RNN_RELU:
                for j in range(H):
                    d[j] = dq[b * H + j] if g[j] > 0 else <real_t>0
            elif mode == RNN_LSTM:
                lstm_bwd_row(g, cin + (t * B + b) * H, cout + (t * B + b) * H, dq + b * H, dc + b * H, d,
                             dr + B * H + b * H, H)
            else:
                gru_bwd_row(g, hnbuf + (t * B + b) * H, hin + (t * B + b) * H, dh + b * H, d,
                            dGh + (t * B + b) * GH, dr + b * H, H)
        step_gemm(wp, B, P, GH, (dGh if mode == RNN_GRU else dG) + t * B * GH, GH, w_hh, P, False, dhn, P)
        for b in range(B):
            if mode == RNN_GRU:
                for j in range(H):
                    dhn[b * H + j] += dr[b * H + j]
            elif not rnn_active(lengths, t, b):
                _rnn_memcpy(dhn + b * P, dh + b * P, P * sizeof(real_t))
        _rnn_memcpy(dh, dhn, B * P * sizeof(real_t))
    free(wp)
    if mode != RNN_GRU:
        dGh = dG
    if dx != NULL:
        rgemm(False, False, T * B, NI, GH, <real_t>1, dG, GH, w_ih, NI, <real_t>0, dx, NI)
    if dw_ih != NULL:
        rgemm(True, False, GH, NI, T * B, <real_t>1, dG, GH, x, NI, <real_t>0, dw_ih, NI)
    if dw_hh != NULL:
        rgemm(True, False, GH, P, T * B, <real_t>1, dGh, GH, hin, P, <real_t>0, dw_hh, P)
    if dw_hr != NULL:
        rgemm(True, False, P, H, T * B, <real_t>1, dHs, P, rbuf, H, <real_t>0, dw_hr, H)
    if db_ih != NULL:
        _rnn_memset(db_ih, 0, GH * sizeof(real_t))
        for s in range(T * B):
            for j in range(GH):
                db_ih[j] += dG[s * GH + j]
    if db_hh != NULL:
        _rnn_memset(db_hh, 0, GH * sizeof(real_t))
        for s in range(T * B):
            for j in range(GH):
                db_hh[j] += dGh[s * GH + j]


cdef inline Tensor rnn_contig(Tensor t):
    if t is None or t._contiguous:
        return t
    return contiguous_copy(t)


cdef inline char* rnn_ptr(Tensor t) noexcept:
    return NULL if t is None else t._data


cdef Tensor rnn_buffer(int dt, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c, bint zeroed=False):
    cdef Py_ssize_t shape[3]
    shape[0] = a
    shape[1] = b
    shape[2] = c
    return new_tensor(3, shape, dt, zeroed)


cdef class _RnnLayerNode(Node):
    """One layer and direction of a fused recurrent layer. Inputs: input,
    h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr (absent ones have no edge);
    outputs: output, h_n and, for LSTM, c_n."""
    cdef int mode
    cdef bint reverse
    cdef Py_ssize_t T, B, NI, H, P
    cdef tuple inputs
    cdef long long versions[8]
    cdef Tensor lengths, gates, hin, cin, cout, rbuf, hnbuf

    cdef tuple apply(self, object grads):
        cdef list gl = <list>grads
        cdef Tensor x, w_ih, w_hh, w_hr, t
        cdef Tensor gout = None, ghn = None, gcn = None
        cdef Tensor dG, dGh, dHs, dr, dh, dhn, dc
        cdef Tensor dx = None, dw_ih = None, dw_hh = None, db_ih = None, db_hh = None, dw_hr = None
        cdef int dt, i, previous = 0
        cdef Py_ssize_t T = self.T, B = self.B, NI = self.NI, H = self.H, P = self.P
        cdef Py_ssize_t GH = (4 if self.mode == RNN_LSTM else (3 if self.mode == RNN_GRU else 1)) * H
        cdef Py_ssize_t shape[2]
        cdef char* p_x
        cdef char* p_wi
        cdef char* p_wh
        cdef char* p_wr
        cdef char* p_gates
        cdef char* p_hin
        cdef char* p_cin
        cdef char* p_cout
        cdef char* p_rbuf
        cdef char* p_hnbuf
        cdef char* p_gout
        cdef char* p_dG
        cdef char* p_dGh
        cdef char* p_dHs
        cdef char* p_dr
        cdef char* p_dh
        cdef char* p_dhn
        cdef char* p_dc
        cdef char* p_dx
        cdef char* p_dwi
        cdef char* p_dwh
        cdef char* p_dbi
        cdef char* p_dbh
        cdef char* p_dwr
        cdef int64_t* p_len
        cdef int mode
        cdef bint reverse
        if self.gates is None:
            raise RuntimeError(FREED_MSG)
        for i in range(8):
            t = <Tensor>self.inputs[i]
            if t is not None:
                unpack_input(self, t, self.versions[i])
        if cgrad_grad_enabled:
            from cgrad.nn._rnn_math import fused_layer_double_backward
            return tuple(fused_layer_double_backward(
                self.mode, self.reverse, self.inputs, self.lengths, gl,
                tuple([wants_grad(self, i) for i in range(8)])))
        x = rnn_contig(<Tensor>self.inputs[0])
        w_ih = rnn_contig(<Tensor>self.inputs[3])
        w_hh = rnn_contig(<Tensor>self.inputs[4])
        w_hr = rnn_contig(<Tensor>self.inputs[7])
        dt = x._dtype
        if gl[0] is not None:
            gout = rnn_contig(<Tensor>gl[0])
        dh = new_tensor(2, (<Tensor>self.inputs[1])._shape, dt, True)
        if gl[1] is not None:
            copy_into(dh, <Tensor>gl[1])
        shape[0] = B
        shape[1] = H
        dc = new_tensor(2, shape, dt, True)
        if len(gl) > 2 and gl[2] is not None:
            copy_into(dc, <Tensor>gl[2])
        dhn = new_tensor(2, dh._shape, dt)
        dG = rnn_buffer(dt, T, B, GH)
        dGh = rnn_buffer(dt, T, B, GH) if self.mode == RNN_GRU else None
        dHs = rnn_buffer(dt, T, B, P) if P != H else None
        dr = rnn_buffer(dt, 1, B, 2 * H)   # GRU's direct term or LSTM's projected dh; then tanh(c) per row
        if wants_grad(self, 0):
            dx = rnn_buffer(dt, T, B, NI)
        if wants_grad(self, 3):
            dw_ih = new_tensor(2, w_ih._shape, dt)
        if wants_grad(self, 4):
            dw_hh = new_tensor(2, w_hh._shape, dt)
        if wants_grad(self, 5):
            db_ih = new_tensor(1, &GH, dt)
        if wants_grad(self, 6):
            db_hh = new_tensor(1, &GH, dt)
        if wants_grad(self, 7):
            dw_hr = new_tensor(2, w_hr._shape, dt)
        p_x, p_wi, p_wh, p_wr = x._data, w_ih._data, w_hh._data, rnn_ptr(w_hr)
        p_len = <int64_t*>rnn_ptr(self.lengths)
        p_gates, p_hin, p_cin, p_cout = self.gates._data, self.hin._data, rnn_ptr(self.cin), rnn_ptr(self.cout)
        p_rbuf, p_hnbuf, p_gout = rnn_ptr(self.rbuf), rnn_ptr(self.hnbuf), rnn_ptr(gout)
        p_dG, p_dGh, p_dHs, p_dr = dG._data, rnn_ptr(dGh), rnn_ptr(dHs), dr._data
        p_dh, p_dhn, p_dc, p_dx = dh._data, dhn._data, dc._data, rnn_ptr(dx)
        p_dwi, p_dwh, p_dbi, p_dbh, p_dwr = (rnn_ptr(dw_ih), rnn_ptr(dw_hh), rnn_ptr(db_ih), rnn_ptr(db_hh),
                                             rnn_ptr(dw_hr))
        mode = self.mode
        reverse = self.reverse
        if _blas_set_threads_local != NULL:
            previous = _blas_set_threads_local(_num_threads)
        try:
            if dt == F32:
                with nogil:
                    rnn_backward_kernel(
                        mode, reverse, T, B, NI, H, P, <float*>p_x, <float*>p_wi, <float*>p_wh, <float*>p_wr,
                        p_len, <float*>p_gates, <float*>p_hin, <float*>p_cin, <float*>p_cout, <float*>p_rbuf,
                        <float*>p_hnbuf, <float*>p_gout, <float*>p_dG, <float*>p_dGh, <float*>p_dHs,
                        <float*>p_dr, <float*>p_dh, <float*>p_dhn, <float*>p_dc, <float*>p_dx, <float*>p_dwi,
                        <float*>p_dwh, <float*>p_dbi, <float*>p_dbh, <float*>p_dwr)
            else:
                with nogil:
                    rnn_backward_kernel(
                        mode, reverse, T, B, NI, H, P, <double*>p_x, <double*>p_wi, <double*>p_wh, <double*>p_wr,
                        p_len, <double*>p_gates, <double*>p_hin, <double*>p_cin, <double*>p_cout, <double*>p_rbuf,
                        <double*>p_hnbuf, <double*>p_gout, <double*>p_dG, <double*>p_dGh, <double*>p_dHs,
                        <double*>p_dr, <double*>p_dh, <double*>p_dhn, <double*>p_dc, <double*>p_dx, <double*>p_dwi,
                        <double*>p_dwh, <double*>p_dbi, <double*>p_dbh, <double*>p_dwr)
        finally:
            if _blas_set_threads_local != NULL:
                _blas_set_threads_local(previous)
        return (dx, dh if wants_grad(self, 1) else None,
                dc if self.mode == RNN_LSTM and wants_grad(self, 2) else None,
                dw_ih, dw_hh, db_ih, db_hh, dw_hr)

    cdef void release_saved(self) noexcept:
        self.inputs = None
        self.lengths = None
        self.gates = None
        self.hin = None
        self.cin = None
        self.cout = None
        self.rbuf = None
        self.hnbuf = None


cdef class MkldnnRnnLayerBackward0(_RnnLayerNode):
    """LSTM layers (PyTorch's CPU LSTM runs as mkldnn_rnn_layer: same name)."""
    pass


cdef class RnnFusedLayerBackward0(_RnnLayerNode):
    """RNN and GRU layers (PyTorch decomposes these on CPU; no one node)."""
    pass


cdef Tensor rnn_arg(object t, str name, int dt, bint optional=False):
    cdef Tensor r
    if t is None:
        if optional:
            return None
        raise TypeError(f"_rnn_layer(): argument '{name}' must be Tensor, not None")
    if not isinstance(t, Tensor):
        raise TypeError(f"_rnn_layer(): argument '{name}' must be Tensor, not {py_typename(t)}")
    r = <Tensor>t
    if r._dtype != dt:
        raise RuntimeError(f"expected scalar type {C_TYPE_NAME[dt]} but found {C_TYPE_NAME[r._dtype]}")
    return r


def _rnn_layer(int mode, bint reverse, input, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr, lengths):
    """One layer and direction over a whole (T, B, NI) sequence: (output
    (T, B, P), h_n (B, P), c_n (B, H) or None). lengths: None or an int64
    (B,) tensor of per-row lengths (packed input, padded)."""
    cdef Tensor x, h0, c0, wi, wh, bi, bh, wr, lens = None
    cdef Tensor out, hn, cn = None, gates, hin, cin = None, cout = None, rbuf = None, hnbuf = None, hg
    cdef Tensor w_hh_t, w_hr_t = None
    cdef Py_ssize_t T, B, NI, H, P, G, i
    cdef int dt, previous = 0
    cdef _RnnLayerNode node
    cdef list ins
    cdef bint track
    cdef char* p_x
    cdef char* p_wi
    cdef char* p_wh
    cdef char* p_bi
    cdef char* p_bh
    cdef char* p_wr
    cdef char* p_gates
    cdef char* p_hin
    cdef char* p_cin
    cdef char* p_cout
    cdef char* p_rbuf
    cdef char* p_hnbuf
    cdef char* p_hg
    cdef char* p_out
    cdef char* p_hn
    cdef char* p_cn
    cdef char* p_wht
    cdef char* p_wrt
    cdef int64_t* p_len
    if not isinstance(input, Tensor):
        raise TypeError(f"_rnn_layer(): argument 'input' must be Tensor, not {py_typename(input)}")
    x = <Tensor>input
    dt = x._dtype
    if dt != F32 and dt != F64:
        raise NotImplementedError(f"\"rnn\" not implemented for '{dtype_title(dt)}'")
    if mode < RNN_TANH or mode > RNN_GRU:
        raise ValueError(f"_rnn_layer(): unknown mode {mode}")
    h0 = rnn_arg(hx, "hx", dt)
    c0 = rnn_arg(cx, "cx", dt, mode != RNN_LSTM)
    wi = rnn_arg(w_ih, "w_ih", dt)
    wh = rnn_arg(w_hh, "w_hh", dt)
    bi = rnn_arg(b_ih, "b_ih", dt, True)
    bh = rnn_arg(b_hh, "b_hh", dt, True)
    wr = rnn_arg(w_hr, "w_hr", dt, True)
    G = 4 if mode == RNN_LSTM else (3 if mode == RNN_GRU else 1)
    if x._ndim != 3 or wi._ndim != 2 or wh._ndim != 2:
        raise RuntimeError("_rnn_layer(): input must be 3-D and the weights 2-D")
    T = x._shape[0]
    B = x._shape[1]
    NI = x._shape[2]
    H = wh._shape[0] // G
    P = wr._shape[0] if wr is not None else H
    if (wh._shape[0] != G * H or wh._shape[1] != P or wi._shape[0] != G * H or wi._shape[1] != NI
            or (bi is None) != (bh is None)
            or (bi is not None and (bi._ndim != 1 or bi._shape[0] != G * H or bh._ndim != 1
                                    or bh._shape[0] != G * H))
            or (wr is not None and (mode != RNN_LSTM or wr._ndim != 2 or wr._shape[1] != H))
            or h0._ndim != 2 or h0._shape[0] != B or h0._shape[1] != P
            or (c0 is not None and (c0._ndim != 2 or c0._shape[0] != B or c0._shape[1] != H))):
        raise RuntimeError("_rnn_layer(): inconsistent input, state and weight shapes")
    if lengths is not None:
        lens = rnn_contig(<Tensor>lengths) if isinstance(lengths, Tensor) else None
        if lens is None or lens._dtype != I64 or lens._ndim != 1 or lens._shape[0] != B:
            raise RuntimeError("_rnn_layer(): lengths must be an int64 tensor of one entry per batch row")
        for i in range(B):
            if (<int64_t*>lens._data)[i] < 0 or (<int64_t*>lens._data)[i] > T:
                raise RuntimeError("_rnn_layer(): a length is outside [0, T]")
    if not _cblas_gemm_probed:
        probe_cblas_gemm()
    x = rnn_contig(x)
    wi = rnn_contig(wi)
    wh = rnn_contig(wh)
    bi = rnn_contig(bi)
    bh = rnn_contig(bh)
    wr = rnn_contig(wr)
    out = rnn_buffer(dt, T, B, P)
    hn = contiguous_copy(h0)
    if mode == RNN_LSTM:
        cn = contiguous_copy(c0)
        cin = rnn_buffer(dt, T, B, H)
        cout = rnn_buffer(dt, T, B, H)
        if P != H:
            rbuf = rnn_buffer(dt, T, B, H)
    else:
        rbuf = None
    if mode == RNN_LSTM and P == H:
        rbuf = rnn_buffer(dt, T, B, H)     # the step's h before it is copied out
    if mode == RNN_GRU:
        hnbuf = rnn_buffer(dt, T, B, H)
    gates = rnn_buffer(dt, T, B, G * H)
    hin = rnn_buffer(dt, T, B, P)
    hg = rnn_buffer(dt, 1, B, G * H if G * H > P else P)
    w_hh_t = rnn_buffer(dt, 1, P, G * H)
    if wr is not None:
        w_hr_t = rnn_buffer(dt, 1, H, P)
    p_x, p_wi, p_wh, p_bi, p_bh, p_wr = x._data, wi._data, wh._data, rnn_ptr(bi), rnn_ptr(bh), rnn_ptr(wr)
    p_len = <int64_t*>rnn_ptr(lens)
    p_gates, p_hin, p_cin, p_cout = gates._data, hin._data, rnn_ptr(cin), rnn_ptr(cout)
    p_rbuf, p_hnbuf, p_hg, p_out, p_hn, p_cn = rnn_ptr(rbuf), rnn_ptr(hnbuf), hg._data, out._data, hn._data, rnn_ptr(cn)
    p_wht, p_wrt = w_hh_t._data, rnn_ptr(w_hr_t)
    if _blas_set_threads_local != NULL:
        previous = _blas_set_threads_local(_num_threads)
    try:
        if dt == F32:
            with nogil:
                rnn_forward_kernel(mode, reverse, T, B, NI, H, P, <float*>p_x, <float*>p_wi, <float*>p_wh,
                                   <float*>p_bi, <float*>p_bh, <float*>p_wr, p_len, <float*>p_gates,
                                   <float*>p_hin, <float*>p_cin, <float*>p_cout, <float*>p_rbuf,
                                   <float*>p_hnbuf, <float*>p_hg, <float*>p_out, <float*>p_hn, <float*>p_cn,
                                   <float*>p_wht, <float*>p_wrt)
        else:
            with nogil:
                rnn_forward_kernel(mode, reverse, T, B, NI, H, P, <double*>p_x, <double*>p_wi, <double*>p_wh,
                                   <double*>p_bi, <double*>p_bh, <double*>p_wr, p_len, <double*>p_gates,
                                   <double*>p_hin, <double*>p_cin, <double*>p_cout, <double*>p_rbuf,
                                   <double*>p_hnbuf, <double*>p_hg, <double*>p_out, <double*>p_hn, <double*>p_cn,
                                   <double*>p_wht, <double*>p_wrt)
    finally:
        if _blas_set_threads_local != NULL:
            _blas_set_threads_local(previous)
    ins = [input, hx, cx if mode == RNN_LSTM else None, w_ih, w_hh, b_ih, b_hh, w_hr]
    track = False
    for i in range(8):
        if ins[i] is not None and needs_grad(<Tensor>ins[i]):
            track = True
    if track:
        node = (MkldnnRnnLayerBackward0.__new__(MkldnnRnnLayerBackward0) if mode == RNN_LSTM
                else RnnFusedLayerBackward0.__new__(RnnFusedLayerBackward0))
        wire_many(node, ins, 3 if mode == RNN_LSTM else 2)
        node.mode = mode
        node.reverse = reverse
        node.T = T
        node.B = B
        node.NI = NI
        node.H = H
        node.P = P
        for i in range(8):
            if ins[i] is not None:
                node.versions[i] = save_version(node, <Tensor>ins[i])
        node.inputs = tuple(ins)
        node.lengths = lens
        node.gates = gates
        node.hin = hin
        node.cin = cin
        node.cout = cout
        node.rbuf = rbuf if mode == RNN_LSTM and P != H else None
        node.hnbuf = hnbuf
        set_history(out, node, 0)
        set_history(hn, node, 1)
        if cn is not None:
            set_history(cn, node, 2)
    return out, hn, cn
