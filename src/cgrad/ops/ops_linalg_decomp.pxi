# torch.linalg's decompositions and the ops built on them: qr, svd, eigh,
# lstsq, pinv, matrix_exp, cross, lu_factor_ex, lu_solve. Forward through
# numpy.linalg on the tensors' buffers (batched by numpy; matrix_exp is
# scaling and squaring of a Pade approximant written with numpy's batched
# matmul and solve); backward as PyTorch's published formulas, in cgrad's
# differentiable ops (helpers and LinalgNode in ops_linalg_lapack.pxi).


cdef double eps_of(Tensor A):
    return 1.1920928955078125e-07 if A._dtype == F32 else 2.220446049250313e-16


# ---------------------------------------------------------------------------
# qr


cdef class LinalgQrBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef list gl = self.grad_list(grads)
        cdef str mode = self.opts[0]
        cdef Tensor Q, R, gA, sym, skew, X
        cdef object gQ = gl[0], gR = gl[1]
        if mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                "linalg.qr.")
        Q = self.get(0)
        R = self.get(1)
        m = Q._shape[Q._ndim - 2]
        n = R._shape[R._ndim - 1]
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        if gQ is not None:
            gA = op_neg(op_matmul(mH(Q), <Tensor>gQ))
            if gR is not None:
                gA = op_add(op_matmul(<Tensor>gR, mH(R)), gA)
        else:
            gA = op_matmul(<Tensor>gR, mH(R))
        if m >= n:
            sym = op_tri(gA, 0, False)
            sym = op_add(sym, mH(sym))
            sym = op_sub(sym, diag_embed_last(op_mul_scalar(diagonal_last(sym), 0.5)))
            gA = op_matmul(Q, sym)
            if gQ is not None:
                gA = op_add(gA, <Tensor>gQ)
            return (solve_triangular_op(mH(R), gA, False, False, False),)
        X = op_neg(gA)
        skew = op_tri(op_sub(X, mH(X)), 0, True)
        gA = solve_triangular_op(mH(op_narrow(R, -1, 0, m)), op_matmul(Q, skew), False, False, False)
        gA = op_cat([gA, op_zeros_like(op_narrow(R, -1, m, n - m))], -1)
        if gR is not None:
            gA = op_add(gA, op_matmul(Q, <Tensor>gR))
        return (gA,)


def _linalg_qr(Tensor A, str mode="reduced"):
    cdef Tensor Q, R
    cdef LinalgNode node
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           "(default), 'r', or 'complete'")
    check_linalg_input(A, "linalg.qr", False)
    a = ndarray_view(A)
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    if A._numel == 0:
        qc = m if mode == "complete" else k
        q = np.broadcast_to(np.eye(m, qc, dtype=a.dtype), a.shape[:-2] + (m, qc))
        r = np.zeros(a.shape[:-2] + (qc if mode != "r" else k, n), a.dtype)
    elif mode == "r":
        r = _npla.qr(a, mode="r")
        q = np.empty((0,), a.dtype)
    else:
        q, r = _npla.qr(a, mode=mode)
    Q = from_np(q)
    R = from_np(r)
    if any_needs_grad([A]):
        node = new_linalg_node(LinalgQrBackward0, [A], 2, (mode,))
        if mode != "r":
            node.keep(Q, 0)
            node.keep(R, 1)
        # mode="r": PyTorch's empty Q is an output of the node too
        set_history(Q, node, 0)
        set_history(R, node, 1)
    return Q, R


# ---------------------------------------------------------------------------
# svd


cdef class LinalgSvdBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef list gl = self.grad_list(grads)
        cdef bint full = self.opts[0]
        cdef Tensor U = self.get(0), S = self.get(1), Vh = self.get(2)
        return (svd_backward(gl[0], gl[1], gl[2], U, S, Vh, full),)


cdef Tensor svd_backward(object gU_, object gS_, object gVh_, Tensor U, Tensor S, Tensor Vh, bint full):
    cdef Py_ssize_t k = S._shape[S._ndim - 1]
    cdef Py_ssize_t m = U._shape[U._ndim - 2], n = Vh._shape[Vh._ndim - 1]
    cdef Tensor gU = gU_, gS = gS_, gVh = gVh_, gA, UhgU = None, VhgV = None, S2, E, t
    if full:
        U = op_narrow(U, -1, 0, k)
        Vh = op_narrow(Vh, -2, 0, k)
        if gU is not None:
            gU = op_narrow(gU, -1, 0, k)
        if gVh is not None:
            gVh = op_narrow(gVh, -2, 0, k)
    if gU is None and gVh is None:
        if m >= n:
            return op_matmul(U, op_mul(op_unsqueeze(gS, -1), Vh))
        return op_matmul(op_mul(U, op_unsqueeze(gS, -2)), Vh)
    if gU is not None:
        t = op_matmul(mH(U), gU)
        UhgU = op_sub(t, mH(t))
    if gVh is not None:
        t = op_matmul(Vh, mH(gVh))
        VhgV = op_sub(t, mH(t))
    S2 = op_mul(S, S)
    E = op_add(op_sub(op_unsqueeze(S2, -2), op_unsqueeze(S2, -1)), eye_as(k, S))
    if UhgU is not None and VhgV is not None:
        gA = op_div(op_add(op_mul(UhgU, op_unsqueeze(S, -2)), op_mul(op_unsqueeze(S, -1), VhgV)), E)
    elif UhgU is not None:
        gA = op_mul(op_div(UhgU, E), op_unsqueeze(S, -2))
    else:
        gA = op_mul(op_unsqueeze(S, -1), op_div(VhgV, E))
    if gS is not None:
        gA = op_add(gA, diag_embed_last(gS))
    if m > n and gU is not None:
        gA = op_matmul(U, gA)
        t = op_div(gU, op_unsqueeze(S, -2))
        gA = op_sub(op_add(gA, t), op_matmul(U, op_matmul(mH(U), t)))
        return op_matmul(gA, Vh)
    if m < n and gVh is not None:
        gA = op_matmul(gA, Vh)
        t = op_div(gVh, op_unsqueeze(S, -1))
        gA = op_sub(op_add(gA, t), op_matmul(op_matmul(t, mH(Vh)), Vh))
        return op_matmul(U, gA)
    if m >= n:
        return op_matmul(U, op_matmul(gA, Vh))
    return op_matmul(op_matmul(U, gA), Vh)


def _linalg_svd(Tensor A, bint full_matrices=True, bint compute_uv=True, str fname="linalg.svd"):
    """(U, S, Vh); without compute_uv, U and Vh are empty (svdvals)."""
    cdef Tensor U, S, Vh
    cdef LinalgNode node
    check_linalg_input(A, fname, False)
    a = ndarray_view(A)
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    batch = a.shape[:-2]
    if A._numel == 0:
        s = np.zeros(batch + (k,), a.dtype)
        u = np.broadcast_to(np.eye(m, m if full_matrices else k, dtype=a.dtype), batch + (m, m if full_matrices else k))
        vh = np.broadcast_to(np.eye(n if full_matrices else k, n, dtype=a.dtype), batch + (n if full_matrices else k, n))
    elif compute_uv:
        u, s, vh = _npla.svd(a, full_matrices=full_matrices)
    else:
        s = _npla.svd(a, compute_uv=False)
    S = from_np(s)
    if not compute_uv:
        U = from_np(np.empty((0,), a.dtype))
        Vh = from_np(np.empty((0,), a.dtype))
    else:
        U = from_np(u)
        Vh = from_np(vh)
    if any_needs_grad([A]):
        if not compute_uv:
            # PyTorch computes the vectors when the values need a gradient
            return _linalg_svd(A, False, True, fname)
        node = new_linalg_node(LinalgSvdBackward0, [A], 3, (full_matrices,))
        node.keep(U, 0)
        node.keep(S, 1)
        node.keep(Vh, 2)
        set_history(U, node, 0)
        set_history(S, node, 1)
        set_history(Vh, node, 2)
    return U, S, Vh


# ---------------------------------------------------------------------------
# eigh


cdef class LinalgEighBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef list gl = self.grad_list(grads)
        cdef Tensor L = self.get(0), V = self.get(1), gA, VhgV, E
        cdef Py_ssize_t n = L._shape[L._ndim - 1]
        if gl[1] is None:
            return (op_matmul(op_mul(V, op_unsqueeze(<Tensor>gl[0], -2)), mH(V)),)
        VhgV = op_matmul(mH(V), <Tensor>gl[1])
        VhgV = op_mul_scalar(op_sub(VhgV, mH(VhgV)), 0.5)
        E = op_add(op_sub(op_unsqueeze(L, -2), op_unsqueeze(L, -1)), eye_as(n, L))
        gA = op_div(VhgV, E)
        if gl[0] is not None:
            gA = op_add(op_sub(gA, diag_embed_last(diagonal_last(gA))), diag_embed_last(<Tensor>gl[0]))
        return (op_matmul(V, op_matmul(gA, mH(V))),)


def _linalg_eigh(Tensor A, str UPLO="L", bint compute_v=True, str fname="linalg.eigh"):
    cdef Tensor L, V
    cdef LinalgNode node
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    check_linalg_input(A, fname, True)
    a = ndarray_view(A)
    if A._numel == 0:
        w = np.zeros(a.shape[:-1], a.dtype)
        v = np.zeros(a.shape, a.dtype)
    elif compute_v or any_needs_grad([A]):
        w, v = _npla.eigh(a, UPLO=UPLO)
    else:
        w = _npla.eigvalsh(a, UPLO=UPLO)
        v = np.empty((0,), a.dtype)
    L = from_np(w)
    V = from_np(v)
    if any_needs_grad([A]):
        node = new_linalg_node(LinalgEighBackward0, [A], 2)
        node.keep(L, 0)
        node.keep(V, 1)
        set_history(L, node, 0)
        set_history(V, node, 1)
    return L, V


# ---------------------------------------------------------------------------
# pinv, lstsq


cdef Tensor pinv_backward(Tensor g, Tensor pinvA, Tensor A):
    cdef Py_ssize_t m = A._shape[A._ndim - 2], n = A._shape[A._ndim - 1]
    cdef Tensor pinvAh = mH(pinvA), gh = mH(g), K, KpinvAh, pinvAhK
    if m <= n:
        K = op_matmul(gh, pinvA)
        KpinvAh = op_matmul(K, pinvAh)
        return op_add(op_sub(op_add(op_neg(mH(op_matmul(pinvA, K))), KpinvAh),
                             op_matmul(op_matmul(A, pinvA), KpinvAh)),
                      op_matmul(op_matmul(pinvAh, pinvA), op_sub(gh, op_matmul(K, A))))
    K = op_matmul(pinvA, gh)
    pinvAhK = op_matmul(pinvAh, K)
    return op_sub(op_add(op_add(op_neg(mH(op_matmul(K, pinvA))),
                                op_matmul(op_matmul(op_sub(gh, op_matmul(A, K)), pinvA), pinvAh)),
                         pinvAhK),
                  op_matmul(op_matmul(pinvAhK, pinvA), A))


cdef class LinalgPinvBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        return (pinv_backward(g, self.get(1), self.get(0)),)


cdef object tolerance_array(object tol, object like):
    if tol is None:
        return None
    if isinstance(tol, Tensor):
        return np.asarray(ndarray_view(<Tensor>tol), dtype=like.dtype)
    return np.asarray(tol, dtype=like.dtype)


def _linalg_pinv(Tensor A, object atol=None, object rtol=None, bint hermitian=False):
    cdef Tensor P
    cdef LinalgNode node
    check_linalg_input(A, "linalg.pinv", False)
    a = ndarray_view(A)
    m, n = a.shape[-2], a.shape[-1]
    at = tolerance_array(atol, a)
    rt = tolerance_array(rtol, a)
    if rt is None:
        rt = np.asarray(eps_of(A) * max(m, n) if at is None or not np.any(at > 0) else 0.0, a.dtype)
    if at is None:
        at = np.zeros((), a.dtype)
    if A._numel == 0:
        p = np.zeros(a.shape[:-2] + (n, m), a.dtype)
    elif hermitian:
        w, v = _npla.eigh(a)
        absw = np.abs(w)
        thr = np.maximum(at[..., None], rt[..., None] * absw.max(-1, keepdims=True))
        winv = np.where(absw > thr, 1 / np.where(absw > thr, w, 1), 0).astype(a.dtype)
        p = np.matmul(v * winv[..., None, :], np.swapaxes(v, -1, -2))
    else:
        u, s, vh = _npla.svd(a, full_matrices=False)
        thr = np.maximum(at[..., None], rt[..., None] * s[..., :1])
        sinv = np.where(s > thr, 1 / np.where(s > thr, s, 1), 0).astype(a.dtype)
        p = np.matmul(np.swapaxes(vh, -1, -2) * sinv[..., None, :], np.swapaxes(u, -1, -2))
    P = from_np(p)
    if any_needs_grad([A]):
        node = new_linalg_node(LinalgPinvBackward0, [A], 1)
        node.keep(A, -1)
        node.keep(P, 0)
        set_history(P, node, 0)
    return P


cdef class LinalgLstsqBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef list gl = self.grad_list(grads)
        cdef bint vector = self.opts[0]
        cdef Tensor A = self.get(0), B = self.get(1), gX, pinvA, gL, twice_res
        cdef object gA = None, gB = None
        # the residuals' gradient: only where they were computed (not empty)
        cdef bint residual_grad = gl[1] is not None and (<Tensor>gl[1])._numel > 0
        if gl[0] is None and not residual_grad:
            return (None, None)
        if vector:
            B = op_unsqueeze(B, -1)
        pinvA = <Tensor>_linalg_pinv(A)
        if gl[0] is not None:
            gX = <Tensor>gl[0]
            if vector:
                gX = op_unsqueeze(gX, -1)
            if wants_grad(self, 0):
                gA = pinv_backward(op_matmul(gX, mH(B)), pinvA, A)
            if wants_grad(self, 1):
                gB = op_matmul(mH(pinvA), gX)
        if residual_grad:
            # residuals = ||A X - B||^2 per column at the minimiser X = pinv(A) B,
            # so d/dA = 2 (A X - B) X^H and d/dB = -2 (A X - B), scaled per column
            gL = <Tensor>gl[1]
            gL = op_unsqueeze(gL, -2)
            twice_res = op_mul(op_mul_scalar(op_sub(op_matmul(A, op_matmul(pinvA, B)), B), 2.0), gL)
            if wants_grad(self, 0):
                gA = op_add(<Tensor>gA, op_matmul(twice_res, mH(op_matmul(pinvA, B)))) if gA is not None \
                    else op_matmul(twice_res, mH(op_matmul(pinvA, B)))
            if wants_grad(self, 1):
                gB = op_sub(<Tensor>gB, twice_res) if gB is not None else op_neg(twice_res)
        if vector and gB is not None:
            gB = op_squeeze_dim(<Tensor>gB, -1, False)
        return (gA, gB)


def _linalg_lstsq(Tensor A, Tensor B, object rcond=None, object driver=None):
    """(solution, residuals, rank, singular_values) as PyTorch's CPU lstsq
    returns them for each driver; the minimum-norm solution through the SVD."""
    cdef Tensor X, residuals_t
    cdef LinalgNode node
    cdef str drv = "gelsy" if driver is None else driver
    if drv not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    check_linalg_input(A, "torch.linalg.lstsq", False, "A", False)
    check_same_linalg_dtype(A, B, "torch.linalg.lstsq")
    vector = B._ndim == A._ndim - 1
    a = ndarray_view(A)
    b = ndarray_view(B)
    if vector:
        b = b[..., None]
    m, n = a.shape[-2], a.shape[-1]
    if b.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2). "
                           f"Got {m} != {b.shape[-2]}")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a_b = np.broadcast_to(a, batch + (m, n))
    b_b = np.broadcast_to(b, batch + b.shape[-2:])
    k = min(m, n)
    rc = eps_of(A) * max(m, n) if rcond is None else float(rcond)
    if a_b.size:
        u, s, vh = _npla.svd(a_b, full_matrices=False)
        thr = rc * s[..., :1]
        keep = s > thr
        sinv = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(a.dtype)
        x = np.matmul(np.swapaxes(vh, -1, -2), sinv[..., :, None] * np.matmul(np.swapaxes(u, -1, -2), b_b))
        rank = keep.sum(-1).astype(np.int64)
    else:
        s = np.zeros(batch + (k,), a.dtype)
        x = np.zeros(batch + (n, b_b.shape[-1]), a.dtype)
        rank = np.zeros(batch, np.int64)
    if m > n and drv != "gelsy" and np.all(rank == n):
        res = (np.matmul(a_b, x) - b_b)
        residuals = (res * res).sum(-2).astype(a.dtype)     # (..., 1) for a vector B too, as PyTorch
    else:
        residuals = np.empty((0,), a.dtype)
    if vector:
        x = x[..., 0]
    X = from_np(x)
    residuals_t = from_np(residuals)
    if any_needs_grad([A, B]):
        node = new_linalg_node(LinalgLstsqBackward0, [A, B], 2, (vector,))
        node.keep(A, -1)
        node.keep(B, -1)
        set_history(X, node, 0)
        set_history(residuals_t, node, 1)
    return (X, residuals_t,
            from_np(rank) if drv != "gels" else from_np(np.empty((0,), np.int64)),
            from_np(s.astype(a.dtype)) if drv in ("gelsd", "gelss") else from_np(np.empty((0,), a.dtype)))


# ---------------------------------------------------------------------------
# matrix_exp


cdef tuple PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
                     129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
                     40840800., 960960., 16380., 182., 1.)


cdef object np_expm(object a):
    """exp of a batch of matrices: Pade(13) with scaling and squaring
    (Higham 2005), each matrix scaled by its own power of two."""
    n = a.shape[-1]
    work = a.astype(np.float64)
    norms = np.abs(work).sum(-2).max(-1) if n else np.zeros(a.shape[:-2])
    theta = 5.371920351148152
    s = np.maximum(0, np.ceil(np.log2(np.maximum(norms, 1e-300) / theta))).astype(np.int64)
    work = work / (2.0 ** s)[..., None, None]
    ident = np.broadcast_to(np.eye(n), work.shape)
    b = PADE13
    A2 = work @ work
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = work @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * ident)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * ident
    R = _npla.solve(V - U, V + U) if work.size else work
    for i in range(int(s.max()) if s.size else 0):
        R = np.where((i < s)[..., None, None], R @ R, R)
    return R.astype(a.dtype)


cdef class LinalgMatrixExpBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef Tensor A = self.get(0), Ah = mH(A), top, bottom, big
        cdef Py_ssize_t n = A._shape[A._ndim - 1]
        top = op_cat([Ah, g], -1)
        bottom = op_cat([op_zeros_like(Ah), Ah], -1)
        big = matrix_exp_op(op_cat([top, bottom], -2))
        return (op_narrow(op_narrow(big, -2, 0, n), -1, n, n),)


cdef Tensor matrix_exp_op(Tensor A):
    return <Tensor>_linalg_matrix_exp(A)


def _linalg_matrix_exp(Tensor A):
    cdef Tensor E
    cdef LinalgNode node
    check_linalg_input(A, "linalg.matrix_exp", True, "A", False)
    if A._dtype == F16:
        raise RuntimeError("\"linalg_matrix_exp\" not implemented for 'Half'")
    E = from_np(np_expm(ndarray_view(A)))
    if any_needs_grad([A]):
        node = new_linalg_node(LinalgMatrixExpBackward0, [A], 1)
        node.keep(A, -1)
        set_history(E, node, 0)
    return E


# ---------------------------------------------------------------------------
# cross


cdef class LinalgCrossBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef object dim = self.opts[0]
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = op_sum_to(cross_op(self.get(1), g, dim), self.opts[1])
        if wants_grad(self, 1):
            gb = op_sum_to(cross_op(g, self.get(0), dim), self.opts[2])
        return (ga, gb)


cdef Tensor cross_op(Tensor a, Tensor b, object dim):
    return <Tensor>_linalg_cross(a, b, dim)


def _linalg_cross(Tensor a, Tensor b, object dim=-1):
    cdef Tensor out
    cdef LinalgNode node
    cdef int nd
    if a._ndim != b._ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions.")
    nd = a._ndim
    d = dim + nd if dim < 0 else dim
    if d < 0 or d >= max(nd, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(nd, 1)}, "
                         f"{max(nd, 1) - 1}], but got {dim})")
    if a._shape[d] != 3 or b._shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                           f"Got {a._shape[d]} and {b._shape[d]}")
    if a._dtype != b._dtype:
        raise RuntimeError(f"expected scalar type {dtype_title(a._dtype)} but found {dtype_title(b._dtype)}")
    out = from_np(np.cross(ndarray_view(a), ndarray_view(b), axis=d))
    if any_needs_grad([a, b]):
        node = new_linalg_node(LinalgCrossBackward0, [a, b], 1, (d, shape_tuple(a), shape_tuple(b)))
        node.keep(a, -1)
        node.keep(b, -1)
        set_history(out, node, 0)
    return out


# ---------------------------------------------------------------------------
# lu_factor_ex, lu_solve (square matrices differentiable)


cdef tuple lu_unpack_np(object lu, object piv):
    """(P, L, U) of a packed square LU factorization, P as a permutation matrix."""
    n = lu.shape[-1]
    eye = np.broadcast_to(np.eye(n, dtype=lu.dtype), lu.shape)
    P = np_swap_rows(eye, piv, False)
    return P, np.tril(lu, -1) + eye, np.triu(lu)


cdef class LinalgLuFactorExBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef Tensor LU = self.get(0), piv = self.get(1), L, U, P, gA
        p = lu_unpack_np(ndarray_view(LU), ndarray_view(piv))[0]
        n = LU._shape[LU._ndim - 1]
        U = op_tri(LU, 0, False)
        L = op_add(op_tri(LU, -1, True), eye_as(n, LU))
        P = from_np(p)
        gA = op_add(op_tri(op_matmul(mH(L), op_tri(g, -1, True)), -1, True),
                    op_tri(op_matmul(op_tri(g, 0, False), mH(U)), 0, False))
        gA = solve_triangular_op(mH(U), gA, False, False, False)
        gA = solve_triangular_op(mH(L), gA, True, True, True)
        return (op_matmul(P, gA),)


def _linalg_lu_factor_ex(Tensor A, bint pivot=True, bint check_errors=False, str fname="torch.linalg.lu_factor"):
    cdef Tensor LU, piv
    cdef LinalgNode node
    check_linalg_input(A, fname, False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, p, info = np_lu(ndarray_view(A))
    bad = first_failure(info)
    if check_errors and bad >= 0:
        raise RuntimeError(f"{fname}: {batch_prefix(info, bad, A._ndim > 2)}U[{info.ravel()[bad]},"
                          f"{info.ravel()[bad]}] is zero and using it on lu_solve would result in a "
                          "division by zero. If you still want to perform the factorization, consider calling "
                          "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    LU = from_np(lu)
    piv = from_np(p)
    if any_needs_grad([A]):
        if A._shape[A._ndim - 1] != A._shape[A._ndim - 2]:
            raise NotImplementedError("cgrad: the derivative of lu_factor of a non-square matrix is not implemented")
        node = new_linalg_node(LinalgLuFactorExBackward0, [A], 3)
        node.keep(LU, 0)
        node.keep(piv, -1)
        set_history(LU, node, 0)
    return LU, piv, int32_tensor(info)


cdef class LinalgLuSolveBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef bint left = self.opts[0], adjoint = self.opts[1]
        cdef Tensor LU = self.get(0), piv = self.get(1), X = self.get(2), L, U, P, gR, gL
        cdef object gLU = None, gB = None
        n = LU._shape[LU._ndim - 1]
        if wants_grad(self, 2):
            gB = op_sum_to(<Tensor>_linalg_lu_solve(LU, piv, g, left, not adjoint), self.opts[3])
        if wants_grad(self, 0):
            p = lu_unpack_np(ndarray_view(LU), ndarray_view(piv))[0]
            U = op_tri(LU, 0, False)
            L = op_add(op_tri(LU, -1, True), eye_as(n, LU))
            P = from_np(p)
            if left != adjoint:
                gR = op_neg(op_matmul(g if left else mH(g), mH(X) if left else X))
                gR = solve_triangular_op(mH(U), gR, False, True, False)
                gL = op_tri(solve_triangular_op(mH(L), op_matmul(gR, mH(U)), True, True, True), -1, True)
                gLU = op_add(gL, op_tri(gR, 0, False))
            else:
                gR = op_neg(op_matmul(op_matmul(op_matmul(op_transpose(P, -2, -1), X if left else mH(X)),
                                                mH(g) if left else g), P))
                gR = solve_triangular_op(mH(L), gR, True, False, True)
                gU = op_tri(solve_triangular_op(mH(U), op_matmul(mH(L), gR), False, False, False), 0, False)
                gLU = op_add(op_tri(gR, -1, True), gU)
            gLU = op_sum_to(gLU, self.opts[2])
        return (gLU, None, gB)


def _linalg_lu_solve(Tensor LU, Tensor pivots, Tensor B, bint left=True, bint adjoint=False):
    cdef Tensor X
    cdef LinalgNode node
    check_linalg_input(LU, "linalg.lu_solve", True, "LU")
    if B._ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    check_same_linalg_dtype(LU, B, "linalg.lu_solve")
    lu = ndarray_view(LU)
    piv = ndarray_view(pivots)
    b = ndarray_view(B)
    n = lu.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    if left:
        x = np_lu_solve(lu, piv, b, adjoint)
    else:
        x = np.swapaxes(np_lu_solve(lu, piv, np.swapaxes(b, -1, -2), not adjoint), -1, -2)
    X = from_np(x)
    if any_needs_grad([LU, B]):
        node = new_linalg_node(LinalgLuSolveBackward0, [LU, None, B], 1,
                               (left, adjoint, shape_tuple(LU), shape_tuple(B)))
        node.keep(LU, -1)
        node.keep(pivots, -1)
        node.keep(X, 0)
        set_history(X, node, 0)
    return X
