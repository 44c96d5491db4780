# torch.linalg's solvers and determinants: inv_ex, solve_ex,
# solve_triangular, det, slogdet, cholesky_ex, cholesky_solve,
# cholesky_inverse, lu_factor_ex, lu_solve. The forward runs LAPACK through
# numpy.linalg on views of the tensors' buffers (batched by numpy, float32 in
# float32 as PyTorch's CPU kernels); what numpy.linalg lacks (getrf's pivots
# and info, trsm, potrf's info) runs in linalg_kernels.pxi. Each
# differentiable op has its node (named as PyTorch's) whose backward is
# PyTorch's published formula written with cgrad's differentiable ops, so
# create_graph=True differentiates through it. The decompositions (qr, svd,
# eigh, lstsq, pinv, matrix_exp, cross) are in ops_linalg_decomp.pxi.

cdef object _npla = np.linalg


class _LinAlgError(RuntimeError):
    """PyTorch's torch.linalg.LinAlgError: a matrix the algorithm cannot
    handle (singular, not positive-definite). Named as PyTorch names it
    (torch._C._LinAlgError), so tracebacks and type(e).__name__ agree."""


LinAlgError = _LinAlgError


cdef class LinalgNode(Node):
    """A node of this family: the tensors it saved (inputs as themselves,
    outputs as detached aliases with their output number), their versions,
    and the op's options."""
    cdef list saved
    cdef list versions
    cdef list out_nrs
    cdef tuple opts
    cdef list fw_outs       # forward AD: each output's tangent (a saved output read under it has one)

    cdef void release_saved(self) noexcept:
        self.saved = None

    cdef int keep(self, Tensor t, int out_nr) except -1:
        if self.saved is None:
            self.saved = []
            self.versions = []
            self.out_nrs = []
        if out_nr >= 0:
            self.versions.append(t._storage.version)
            self.saved.append(save_output(self, t))
        else:
            self.versions.append(save_version(self, t))
            self.saved.append(t)
        self.out_nrs.append(out_nr)
        return 0

    cdef Tensor get(self, int i):
        cdef Tensor t
        if self.saved is None:
            raise RuntimeError(FREED_MSG)
        if self.out_nrs[i] < 0:
            return unpack_input(self, <Tensor>self.saved[i], self.versions[i])
        t = <Tensor>self.saved[i]
        if t._storage.version != self.versions[i]:
            raise version_error(self, t, self.versions[i], True)
        if cgrad_grad_enabled:
            t = alias_detached(t)
            set_history(t, self, self.out_nrs[i])
            if cgrad_fwd_active and self.fw_outs is not None and self.out_nrs[i] < len(self.fw_outs):
                t._fw_grad = self.fw_outs[self.out_nrs[i]]      # forward over reverse: as unpack_output
        return t

    cdef list grad_list(self, object grads):
        return list(grads) if self.num_outputs > 1 else [grads]


cdef LinalgNode new_linalg_node(type cls, list inputs, int num_outputs, tuple opts=()):
    cdef LinalgNode node = cls.__new__(cls)
    wire_many(node, inputs, num_outputs)
    node.opts = opts
    return node


cdef bint any_needs_grad(list inputs) except -1:
    """Whether an input needs the op's node: it requires grad (grad mode),
    or it carries a forward-AD tangent (the node computes the output's)."""
    cdef Tensor t
    if not cgrad_grad_enabled and not cgrad_fwd_active:
        return False
    for x in inputs:
        if x is not None and needs_grad(<Tensor>x):
            return True
    return False


# ---------------------------------------------------------------------------
# Argument checks, with PyTorch's texts


cdef int check_linalg_input(Tensor A, str fname, bint square, str name="A",
                            bint allow_low=False) except -1:
    if A._ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")
    if square and A._shape[A._ndim - 1] != A._shape[A._ndim - 2]:
        raise RuntimeError(f"{fname}: {name} must be batches of square matrices, but they are "
                           f"{A._shape[A._ndim - 2]} by {A._shape[A._ndim - 1]} matrices")
    if is_half16(A._dtype) and not allow_low:
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {dtype_title(A._dtype)}")
    if not is_float(A._dtype):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {dtype_title(A._dtype)}")
    return 0


cdef int check_same_linalg_dtype(Tensor A, Tensor B, str fname) except -1:
    if A._dtype != B._dtype:
        raise RuntimeError(f"{fname}: Expected A and B to have the same dtype, but found A of type "
                           f"{dtype_title(A._dtype)} and B of type {dtype_title(B._dtype)} instead")
    return 0


cdef str batch_prefix(object info_arr, Py_ssize_t flat_index, bint batched):
    return f"(Batch element {flat_index}): " if batched else ""


cdef object first_failure(object info):
    """The flat index of the first nonzero info, or -1."""
    cdef object flat = np.ravel(info)
    cdef object nz = np.flatnonzero(flat)
    return -1 if nz.size == 0 else int(nz[0])


# ---------------------------------------------------------------------------
# numpy bridges of the kernels


cdef Tensor from_np(object arr):
    """A tensor over a numpy result (0-d kept 0-d; copied only if not C-contiguous)."""
    a = np.asarray(arr)
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    return tensor_from_ndarray(a, True)


cdef tuple np_lu(object a_view):
    """(LU, pivots, info) of a batch of matrices, as getrf gives them."""
    cdef object a = np.array(a_view, order="C", copy=True)
    cdef tuple batch = a.shape[:-2]
    cdef Py_ssize_t m = a.shape[a.ndim - 2], n = a.shape[a.ndim - 1]
    cdef Py_ssize_t k = m if m < n else n
    cdef Py_ssize_t nb = 1
    for s in batch:
        nb *= s
    cdef object piv = np.empty(batch + (k,), np.int32)
    cdef object info = np.empty(batch, np.int32)
    if a.dtype == np.float32:
        with nogil:
            lu_batch(<float*>cnp.PyArray_DATA(<cnp.ndarray>a), <int32_t*>cnp.PyArray_DATA(<cnp.ndarray>piv),
                     <int32_t*>cnp.PyArray_DATA(<cnp.ndarray>info), nb, m, n)
    else:
        with nogil:
            lu_batch(<double*>cnp.PyArray_DATA(<cnp.ndarray>a), <int32_t*>cnp.PyArray_DATA(<cnp.ndarray>piv),
                     <int32_t*>cnp.PyArray_DATA(<cnp.ndarray>info), nb, m, n)
    return a, piv, info


cdef object np_trsm(object A, object B, bint upper, bint unit):
    """A^-1 B for triangular A (its `upper` or lower triangle), batch dims
    broadcast; a new C-contiguous array."""
    cdef tuple batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    cdef Py_ssize_t n = A.shape[A.ndim - 1], k = B.shape[B.ndim - 1]
    cdef object a = np.ascontiguousarray(np.broadcast_to(A, batch + (n, n)))
    cdef object b = np.array(np.broadcast_to(B, batch + (n, k)), order="C", copy=True)
    cdef Py_ssize_t nb = 1
    for s in batch:
        nb *= s
    if b.size == 0:
        return b
    if b.dtype == np.float32:
        with nogil:
            trsm_batch(<const float*>cnp.PyArray_DATA(<cnp.ndarray>a), <float*>cnp.PyArray_DATA(<cnp.ndarray>b), nb, n, k, upper, unit)
    else:
        with nogil:
            trsm_batch(<const double*>cnp.PyArray_DATA(<cnp.ndarray>a), <double*>cnp.PyArray_DATA(<cnp.ndarray>b), nb, n, k, upper, unit)
    return b


cdef object np_swap_rows(object B, object piv, bint forward):
    """P^T B (forward) or P B for the interchanges piv; batch dims broadcast."""
    cdef Py_ssize_t npiv = piv.shape[piv.ndim - 1], k = B.shape[B.ndim - 1]
    cdef tuple batch = np.broadcast_shapes(piv.shape[:-1], B.shape[:-2])
    cdef object b = np.array(np.broadcast_to(B, batch + B.shape[-2:]), order="C", copy=True)
    cdef object p = np.ascontiguousarray(np.broadcast_to(piv, batch + (npiv,)), dtype=np.int32)
    cdef Py_ssize_t nb = 1
    for s in batch:
        nb *= s
    if b.size == 0:
        return b
    if b.dtype == np.float32:
        with nogil:
            swap_rows_batch(<float*>cnp.PyArray_DATA(<cnp.ndarray>b), <const int32_t*>cnp.PyArray_DATA(<cnp.ndarray>p), nb, npiv, k, forward)
    else:
        with nogil:
            swap_rows_batch(<double*>cnp.PyArray_DATA(<cnp.ndarray>b), <const int32_t*>cnp.PyArray_DATA(<cnp.ndarray>p), nb, npiv, k, forward)
    return b


cdef object np_lu_solve(object LU, object piv, object B, bint adjoint):
    """A^-1 B (or A^-H B) from A's packed LU and pivots."""
    if not adjoint:
        y = np_swap_rows(B, piv, True)
        y = np_trsm(LU, y, False, True)
        return np_trsm(LU, y, True, False)
    LUt = np.swapaxes(LU, -1, -2)
    y = np_trsm(LUt, B, False, False)
    y = np_trsm(LUt, y, True, True)
    return np_swap_rows(y, piv, False)


cdef tuple np_cholesky_kernel(object a_view):
    """(L, info) through the typed kernel (the path of a failure)."""
    cdef object a = np.array(a_view, order="C", copy=True)
    cdef Py_ssize_t n = a.shape[a.ndim - 1]
    cdef object info = np.empty(a.shape[:-2], np.int32)
    cdef Py_ssize_t nb = info.size
    cdef void* pa = cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef int32_t* pinfo = <int32_t*>cnp.PyArray_DATA(<cnp.ndarray>info)
    if a.size:
        if a.dtype == np.float32:
            with nogil:
                cholesky_info_batch(<float*>pa, pinfo, nb, n)
        else:
            with nogil:
                cholesky_info_batch(<double*>pa, pinfo, nb, n)
    else:
        info[...] = 0
    return np.tril(a), info


# ---------------------------------------------------------------------------
# Small differentiable helpers of the backward formulas


cdef inline Tensor mH(Tensor x):
    return op_transpose(x, -2, -1)


cdef Tensor eye_as(Py_ssize_t n, Tensor like):
    return tensor_from_ndarray(np.eye(n, dtype=ndarray_view(like).dtype), True)


cdef Tensor diag_embed_last(Tensor v):
    """A batch of diagonal matrices with v on their diagonals."""
    return op_mul(op_unsqueeze(v, -1), eye_as(v._shape[v._ndim - 1], v))


cdef Tensor diagonal_last(Tensor X):
    return op_sum(op_mul(X, eye_as(X._shape[X._ndim - 1], X)), -1)


cdef Tensor int32_tensor(object arr):
    return from_np(np.asarray(arr, dtype=np.int32))


# ---------------------------------------------------------------------------
# inv_ex


cdef class LinalgInvExBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef Tensor inv_h = mH(self.get(0))
        return (op_neg(op_matmul(inv_h, op_matmul(g, inv_h))),)


cdef str INV_SINGULAR = ("The diagonal element {} is zero, the inversion could not be completed "
                         "because the input matrix is singular.")


def _linalg_inv_ex(Tensor A, bint check_errors=False, str fname="linalg.inv"):
    """(inverse, info) of a batch of square matrices."""
    cdef Tensor inverse
    cdef LinalgNode node
    check_linalg_input(A, fname, True)
    a = ndarray_view(A)
    try:
        inv = _npla.inv(a) if A._numel else np.empty(a.shape, a.dtype)
        info = np.zeros(a.shape[:-2], np.int32)
    except _npla.LinAlgError:
        lu, piv, info = np_lu(a)
        n = a.shape[-1]
        inv = np_lu_solve(lu, piv, np.broadcast_to(np.eye(n, dtype=a.dtype), a.shape), False)
        bad = first_failure(info)
        if check_errors and bad >= 0:
            raise LinAlgError(f"{fname}: {batch_prefix(info, bad, A._ndim > 2)}"
                              + INV_SINGULAR.format(int(np.ravel(info)[bad])))
    inverse = from_np(inv)
    if any_needs_grad([A]):
        node = new_linalg_node(LinalgInvExBackward0, [A], 2)
        node.keep(inverse, 0)
        set_history(inverse, node, 0)
    return inverse, int32_tensor(info)


# ---------------------------------------------------------------------------
# solve_ex


cdef bint is_vector_rhs(Tensor A, Tensor B) noexcept:
    cdef int i
    if B._ndim == 1:
        return True
    if B._ndim != A._ndim - 1:
        return False
    for i in range(B._ndim):
        if B._shape[i] != A._shape[i]:
            return False
    return True


cdef class LinalgSolveExBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef bint left = self.opts[0], vector = self.opts[1]
        cdef Tensor A = self.get(0), X = self.get(1), gB, gA = None
        if vector:
            g = op_unsqueeze(g, -1)
            X = op_unsqueeze(X, -1)
        gB = solve_op(mH(A), g, left, False, "linalg.solve")
        if wants_grad(self, 0):
            gA = op_neg(op_matmul(gB, mH(X)) if left else op_matmul(mH(X), gB))
            gA = op_sum_to(gA, self.opts[2])
        if not wants_grad(self, 1):
            return (gA, None)
        if vector:
            gB = op_squeeze_dim(gB, -1, False)
        return (gA, op_sum_to(gB, self.opts[3]))


cdef Tensor solve_op(Tensor A, Tensor B, bint left, bint check_errors, str fname):
    return <Tensor>(_linalg_solve_ex(A, B, left, check_errors, fname)[0])


def _linalg_solve_ex(Tensor A, Tensor B, bint left=True, bint check_errors=False,
                     str fname="linalg.solve"):
    """(X, info) with A X = B (left) or X A = B; batch dims broadcast; B a
    vector when it is 1-D or A's shape without its last dim."""
    cdef bint vector
    cdef Tensor X
    cdef LinalgNode node
    check_linalg_input(A, fname, True)
    check_same_linalg_dtype(A, B, fname)
    vector = left and is_vector_rhs(A, B)
    a = ndarray_view(A)
    b = ndarray_view(B)
    if vector:
        b = b[..., None]
    if b.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor B must have at least 2 dimensions.")
    n = a.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    if not left:
        a = np.swapaxes(a, -1, -2)
        b = np.swapaxes(b, -1, -2)
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a_b = np.broadcast_to(a, batch + a.shape[-2:])
        b_b = np.broadcast_to(b, batch + b.shape[-2:])
        x = _npla.solve(a_b, b_b) if a_b.size and b_b.size else np.zeros(b_b.shape, a.dtype)
        info = np.zeros(batch, np.int32)
    except _npla.LinAlgError:
        lu, piv, info = np_lu(a_b)
        x = np_lu_solve(lu, piv, b_b, False)
        bad = first_failure(info)
        if check_errors and bad >= 0:
            prefix = f"(Batch element {bad}): " if len(batch) else ""
            raise LinAlgError(f"torch.linalg.solve: {prefix}The solver failed because the input "
                              "matrix is singular.")
    except ValueError:
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'}") from None
    if not left:
        x = np.swapaxes(x, -1, -2)
    if vector:
        x = x[..., 0]
    X = from_np(x)
    if any_needs_grad([A, B]):
        node = new_linalg_node(LinalgSolveExBackward0, [A, B], 2,
                               (left, vector, shape_tuple(A), shape_tuple(B)))
        node.keep(A, -1)
        node.keep(X, 0)
        set_history(X, node, 0)
    return X, int32_tensor(info)


# ---------------------------------------------------------------------------
# solve_triangular


cdef class LinalgSolveTriangularBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef bint upper = self.opts[0], left = self.opts[1], unit = self.opts[2]
        cdef Tensor A = self.get(0), X = self.get(1), gB, gA = None
        gB = solve_triangular_op(mH(A), g, not upper, left, unit)
        if wants_grad(self, 0):
            gA = op_neg(op_matmul(gB, mH(X)) if left else op_matmul(mH(X), gB))
            gA = op_tri(gA, (1 if unit else 0) if upper else (-1 if unit else 0), not upper)
            gA = op_sum_to(gA, self.opts[3])
        return (gA, op_sum_to(gB, self.opts[4]) if wants_grad(self, 1) else None)


cdef Tensor solve_triangular_op(Tensor A, Tensor B, bint upper, bint left, bint unit):
    return <Tensor>_linalg_solve_triangular(A, B, upper, left, unit)


def _linalg_solve_triangular(Tensor A, Tensor B, bint upper, bint left=True, bint unitriangular=False):
    cdef Tensor X
    cdef LinalgNode node
    cdef str fname = "linalg.solve_triangular"
    check_linalg_input(A, fname, True)
    if B._ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor B must have at least 2 dimensions.")
    check_same_linalg_dtype(A, B, fname)
    a = ndarray_view(A)
    b = ndarray_view(B)
    n = a.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    if left:
        x = np_trsm(a, b, upper, unitriangular)
    else:
        x = np.swapaxes(np_trsm(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), not upper, unitriangular), -1, -2)
    X = from_np(x)
    if any_needs_grad([A, B]):
        node = new_linalg_node(LinalgSolveTriangularBackward0, [A, B], 1,
                               (upper, left, unitriangular, shape_tuple(A), shape_tuple(B)))
        node.keep(A, -1)
        node.keep(X, 0)
        set_history(X, node, 0)
    return X


# ---------------------------------------------------------------------------
# det, slogdet


cdef class LinalgDetBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef Tensor A = self.get(0), det = self.get(1), d
        cdef Py_ssize_t n = A._shape[A._ndim - 1]
        if A._numel == 0:
            return (op_zeros_like(A),)
        if n == 1:
            return (op_expand(op_unsqueeze(op_unsqueeze(g, -1), -1), shape_tuple(A)),)
        eps = 1.1920928955078125e-07 if A._dtype == F32 else 2.220446049250313e-16
        singular = np.abs(ndarray_view(det)) < 100.0 * eps
        d = diag_embed_last(op_expand(op_unsqueeze(op_mul(g, det), -1), shape_tuple(det) + (n,)))
        if not singular.any():
            return (solve_op(mH(A), d, True, False, "linalg.solve"),)
        if singular.all():
            return (det_singular_backward(g, A),)
        mask = from_np(singular[..., None, None])
        ones = np.ones(ndarray_view(A).shape[:-1], ndarray_view(A).dtype)
        identity = from_np(ones[..., None] * np.eye(n, dtype=ones.dtype))
        distinct = from_np(np.cumsum(ones, -1)[..., None] * np.eye(n, dtype=ones.dtype))
        return (op_where(mask, det_singular_backward(g, op_where(mask, A, distinct)),
                         solve_op(mH(op_where(mask, identity, A)), d, True, False, "linalg.solve")),)


cdef Tensor det_singular_backward(Tensor g, Tensor A):
    """det A = det U det Vh prod S: the product rule through the singular
    values needs no division (PyTorch's path for singular matrices)."""
    cdef tuple usv = _linalg_svd(A, True, True)
    cdef Tensor U = <Tensor>usv[0], S = <Tensor>usv[1], Vh = <Tensor>usv[2]
    cdef Py_ssize_t n = S._shape[S._ndim - 1]
    cdef Tensor alpha = op_mul(op_mul(det_op(U), det_op(Vh)), g)
    # prod over j != i of S_j: S spread over rows with ones on the diagonal
    cdef Tensor eye = eye_as(n, S)
    cdef Tensor others = op_add(op_mul(op_unsqueeze(S, -2), op_rsub_scalar(eye, 1)), eye)
    cdef Tensor D = op_mul(op_unsqueeze(alpha, -1), op_prod(others, -1, False, None))
    return op_matmul(op_mul(U, op_unsqueeze(D, -2)), Vh)


cdef dict LOG_OF_ZERO_IS_INF = {"divide": "ignore"}     # numpy's errstate: log(0) = -inf, quietly


cdef tuple lu_diagonal_and_sign(Tensor A, object a):
    """U's diagonal and the permutation's sign (+-1, in A's dtype) of the LU
    factorisation PyTorch's det and slogdet use: of A^T where A is
    contiguous (det(A^T) = det(A), and getrf then reads it in place), as
    its CPU kernels do, so the products round alike; a singular matrix's
    determinant keeps the sign of zero they give."""
    lu, piv, info = np_lu(np.swapaxes(a, -1, -2) if A._contiguous else a)
    cdef Py_ssize_t n = a.shape[a.ndim - 1]
    swaps = np.count_nonzero(piv != np.arange(1, n + 1, dtype=np.int32), axis=-1)
    sign = np.where(swaps % 2 == 1, -1, 1).astype(a.dtype)
    return np.diagonal(lu, axis1=-2, axis2=-1), sign


cdef Tensor det_op(Tensor A):
    return <Tensor>_linalg_det(A)


def _linalg_det(Tensor A):
    cdef Tensor det
    cdef LinalgNode node
    check_linalg_input(A, "linalg.det", True)
    a = ndarray_view(A)
    if A._numel:
        diag, perm_sign = lu_diagonal_and_sign(A, a)
        det = from_np(perm_sign * np.prod(diag, axis=-1))
    else:
        det = from_np(np.ones(a.shape[:-2], a.dtype))
    if any_needs_grad([A]):
        node = new_linalg_node(LinalgDetBackward0, [A], 1)
        node.keep(A, -1)
        node.keep(det, 0)
        set_history(det, node, 0)
    return det


cdef class LinalgSlogdetBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef list gl = self.grad_list(grads)
        cdef Tensor A = self.get(0), g
        if gl[1] is None:
            return (None,)
        g = <Tensor>gl[1]
        return (solve_op(mH(A), diag_embed_last(op_expand(op_unsqueeze(g, -1), shape_tuple(g) + (A._shape[A._ndim - 1],))),
                         True, False, "linalg.solve"),)


def _linalg_slogdet(Tensor A):
    cdef Tensor sign, logabsdet
    cdef LinalgNode node
    check_linalg_input(A, "linalg.slogdet", True)
    a = ndarray_view(A)
    if A._numel:
        diag, perm_sign = lu_diagonal_and_sign(A, a)
        s = np.prod(np.sign(diag), axis=-1) * perm_sign
        with np.errstate(**LOG_OF_ZERO_IS_INF):
            l = np.sum(np.log(np.abs(diag)), axis=-1)
    else:
        s, l = np.ones(a.shape[:-2], a.dtype), np.zeros(a.shape[:-2], a.dtype)
    sign = from_np(np.asarray(s, a.dtype))
    logabsdet = from_np(np.asarray(l, a.dtype))
    if any_needs_grad([A]):
        node = new_linalg_node(LinalgSlogdetBackward0, [A], 2)
        node.keep(A, -1)
        set_history(sign, node, 0)
        set_history(logabsdet, node, 1)
    return sign, logabsdet


# ---------------------------------------------------------------------------
# cholesky_ex, cholesky_solve, cholesky_inverse


cdef class LinalgCholeskyExBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor gL = <Tensor>self.grad_list(grads)[0]
        cdef bint upper = self.opts[0]
        cdef Tensor L = self.get(0), gA
        if upper:
            L = mH(L)
            gL = mH(gL)
        gA = op_tri(op_matmul(mH(L), gL), 0, True)
        gA = op_mul_scalar(op_add(gA, mH(op_tri(gA, -1, True))), 0.5)
        gA = solve_triangular_op(mH(L), gA, True, True, False)
        return (solve_triangular_op(L, gA, False, False, False),)


cdef class CholeskyBackward0(LinalgCholeskyExBackward0):
    """torch.cholesky's node: the same formula under its older name."""


def _linalg_cholesky_ex(Tensor A, bint upper=False, bint check_errors=False, str fname="linalg.cholesky",
                        bint legacy=False):
    """(L, info): A = L L^H from A's lower triangle (upper: A = U^H U from its upper)."""
    cdef Tensor L
    cdef LinalgNode node
    check_linalg_input(A, fname, True)
    a = ndarray_view(A)
    if upper:
        a = np.swapaxes(a, -1, -2)
    try:
        l = _npla.cholesky(a) if A._numel else np.zeros(a.shape, a.dtype)
        info = np.zeros(a.shape[:-2], np.int32)
    except _npla.LinAlgError:
        l, info = np_cholesky_kernel(a)
        bad = first_failure(info)
        if check_errors and bad >= 0:
            raise LinAlgError(
                f"{fname}: {batch_prefix(info, bad, A._ndim > 2)}The factorization could not be "
                "completed because the input is not positive-definite (the leading minor of order "
                f"{int(np.ravel(info)[bad])} is not positive-definite).")
    if upper:
        l = np.swapaxes(l, -1, -2)
    L = from_np(l)
    if any_needs_grad([A]):
        node = new_linalg_node(CholeskyBackward0 if legacy else LinalgCholeskyExBackward0, [A],
                               1 if legacy else 2, (upper,))
        node.keep(L, 0)
        set_history(L, node, 0)
    return L, int32_tensor(info)


cdef class CholeskySolveBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef bint upper = self.opts[0]
        cdef Tensor L = self.get(0), X = self.get(1), gB, gL = None, common
        gB = <Tensor>_cholesky_solve(g, L, upper)
        if wants_grad(self, 1):
            common = op_matmul(gB, mH(X))
            common = op_add(common, mH(common))
            gL = op_neg(op_matmul(L, common) if upper else op_matmul(common, L))
            gL = op_sum_to(gL, self.opts[2])
        return (op_sum_to(gB, self.opts[1]) if wants_grad(self, 0) else None, gL)


def _cholesky_solve(Tensor B, Tensor L, bint upper=False):
    """X with (L L^H) X = B (upper: (U^H U) X = B)."""
    cdef Tensor X
    cdef LinalgNode node
    if B._ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B._ndim} dimensions instead")
    if L._ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L._ndim} dimensions instead")
    if B._dtype != L._dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{dtype_title(B._dtype)} and A of type {dtype_title(L._dtype)} instead.")
    check_linalg_input(L, "cholesky_solve", True)
    l = ndarray_view(L)
    b = ndarray_view(B)
    if upper:
        y = np_trsm(np.swapaxes(l, -1, -2), b, False, False)
        x = np_trsm(l, y, True, False)
    else:
        y = np_trsm(l, b, False, False)
        x = np_trsm(np.swapaxes(l, -1, -2), y, True, False)
    X = from_np(x)
    if any_needs_grad([B, L]):
        node = new_linalg_node(CholeskySolveBackward0, [B, L], 1, (upper, shape_tuple(B), shape_tuple(L)))
        node.keep(L, -1)
        node.keep(X, 0)
        set_history(X, node, 0)
    return X


cdef class CholeskyInverseBackward0(LinalgNode):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>self.grad_list(grads)[0]
        cdef bint upper = self.opts[0]
        cdef Tensor L = self.get(0), inverse = self.get(1), common
        common = op_add(g, mH(g))
        common = op_matmul(inverse, op_matmul(common, inverse))
        return (op_neg(op_matmul(L, common) if upper else op_matmul(common, L)),)


def _cholesky_inverse(Tensor L, bint upper=False):
    """(L L^H)^-1 from the factor L (upper: (U^H U)^-1)."""
    cdef Tensor inverse
    cdef LinalgNode node
    check_linalg_input(L, "cholesky_inverse", True)
    l = ndarray_view(L)
    n = l.shape[-1]
    eye = np.broadcast_to(np.eye(n, dtype=l.dtype), l.shape)
    if upper:
        y = np_trsm(np.swapaxes(l, -1, -2), eye, False, False)
        x = np_trsm(l, y, True, False)
    else:
        y = np_trsm(l, eye, False, False)
        x = np_trsm(np.swapaxes(l, -1, -2), y, True, False)
    inverse = from_np(x)
    if any_needs_grad([L]):
        node = new_linalg_node(CholeskyInverseBackward0, [L], 1, (upper,))
        node.keep(L, -1)
        node.keep(inverse, 0)
        set_history(inverse, node, 0)
    return inverse
