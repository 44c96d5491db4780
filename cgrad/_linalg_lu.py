"""LU in PyTorch's other shapes: torch.linalg.lu (P, L, U of any m x n
matrix), torch.lu_unpack, the deprecated torch.lu, and the deprecated
torch.triangular_solve.

The factorization is the compiled getrf of cgrad.linalg.lu_factor_ex; this
module unpacks it in whole-batch numpy calls (one vectorised row swap per
pivot, never per element). Backward formulas are PyTorch's
(linalg_lu_backward, lu_unpack_backward) written with differentiable cgrad
ops; under create_graph the factors are recomputed from A with history, so
double backward differentiates through them."""
import warnings

import numpy as np

import cgrad
from cgrad import _C
from cgrad._linalg_results import _make
from cgrad._op_support import attach, check_tensor, composite_grads, np_of, tensor_of

RESULT_TYPES = {
    "linalg_lu": _make("linalg_lu", ("P", "L", "U")),
    "lu_unpack": _make("lu_unpack", ("P", "L", "U")),
    "_lu_with_info": _make("_lu_with_info", ("LU", "pivots", "info")),
    "triangular_solve": _make("triangular_solve", ("solution", "cloned_coefficient")),
}


_WARNED = set()


def warn_once(key, message):
    """PyTorch's TORCH_WARN_ONCE: the first call in the process warns."""
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, UserWarning, stacklevel=3)


def _named(name, values):
    return tuple.__new__(RESULT_TYPES[name], tuple(values))


def _permutation_matrices(pivots, m, dtype):
    """P with A = P L U for getrf's 1-based row interchanges (batched)."""
    piv = np.asarray(pivots, dtype=np.int64) - 1
    batch = piv.shape[:-1]
    perm = np.broadcast_to(np.arange(m), batch + (m,)).copy()
    for i in range(piv.shape[-1]):        # one whole-batch swap per interchange
        j = piv[..., i:i + 1]
        at_i = perm[..., i:i + 1].copy()
        np.put_along_axis(perm, np.full_like(j, i), np.take_along_axis(perm, j, -1), -1)
        np.put_along_axis(perm, j, at_i, -1)
    # row r of P^T A is row perm[r] of A, so P[perm[r], r] = 1
    P = np.zeros(batch + (m, m), dtype=dtype)
    np.put_along_axis(P, perm[..., :, None], 1, -1)
    return np.swapaxes(P, -1, -2).copy()


def _unpack_np(lu, pivots, unpack_data=True, unpack_pivots=True):
    m, n = lu.shape[-2], lu.shape[-1]
    k = min(m, n)
    if unpack_data:
        L = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
        U = np.triu(lu[..., :k, :])
    else:
        L = U = np.empty((0,), dtype=lu.dtype)
    P = _permutation_matrices(pivots, m, lu.dtype) if unpack_pivots else np.empty((0,), dtype=lu.dtype)
    return P, L, U


# --- linalg.lu -------------------------------------------------------------

def _lu_grad(A, P, L, U, gL, gU):
    """PyTorch's linalg_lu_backward (pivot=True), for square, wide and tall A."""
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    solve_tri = cgrad.linalg.solve_triangular
    if m == n:
        gA = None
        if gL is not None:
            gA = L.mH.matmul(gL).tril(-1)
        if gU is not None:
            t = gU.matmul(U.mH).triu()
            gA = t if gA is None else gA + t
        gA = solve_tri(U.mH, gA, upper=False, left=False)
        gA = solve_tri(L.mH, gA, upper=True, left=True, unitriangular=True)
        return P.matmul(gA)
    if m < n:
        U1 = U.narrow(-1, 0, k)
        gA = L.mH.matmul(gL) if gL is not None else None
        if gU is not None:
            t = gU.triu().matmul(U.mH)
            gA = -t if gA is None else gA - t
        gA = solve_tri(U1.mH, gA.tril(-1), upper=False, left=False)
        if gU is not None:
            gA = cgrad.cat([gA + gU.narrow(-1, 0, k).triu(), gU.narrow(-1, k, n - k)], -1)
        gA = solve_tri(L.mH, gA, upper=True, left=True, unitriangular=True)
        if gU is None:
            gA = cgrad.cat([gA, cgrad.zeros_like(U.narrow(-1, k, n - k))], -1)
        return P.matmul(gA)
    L1 = L.narrow(-2, 0, k)
    gA = gU.matmul(U.mH) if gU is not None else None
    if gL is not None:
        t = L.mH.matmul(gL.tril(-1))
        gA = -t if gA is None else gA - t
    gA = solve_tri(L1.mH, gA.triu(), upper=True, left=True, unitriangular=True)
    if gL is not None:
        gA = cgrad.cat([gA + gL.narrow(-2, 0, k).tril(-1), gL.narrow(-2, k, m - k)], -2)
    gA = solve_tri(U.mH, gA, upper=False, left=False)
    if gL is None:
        gA = cgrad.cat([gA, cgrad.zeros_like(L.narrow(-2, k, m - k))], -2)
    return P.matmul(gA)


def _check_lu_input(A, fname):
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if A.dtype not in (_C.float32, _C.float64):
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_type_title(A.dtype)}'")


def _type_title(dtype):
    return {"float16": "Half", "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
            "int8": "Char", "uint8": "Byte", "bool": "Bool", "float32": "Float",
            "float64": "Double"}.get(str(dtype).split(".")[-1], str(dtype))


def lu(A, *, pivot=True, out=None):
    """A = P L U with partial pivoting: P (m, m), L (m, k) unit lower, U (k, n)."""
    check_tensor(A, "linalg_lu", "A", 1)
    _check_lu_input(A, "linalg.lu")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, piv, _ = _C._linalg_lu_factor_ex(A.detach(), True, False)
    P, L, U = (tensor_of(x) for x in _unpack_np(np_of(LU), np_of(piv)))

    def backward(grads):
        gL, gU = grads[1], grads[2]
        if gL is None and gU is None:
            return (None,)
        if _C.is_grad_enabled():         # create_graph: factors with history for double backward
            _, Lh, Uh = lu(A)
            return (_lu_grad(A, P, Lh, Uh, gL, gU),)
        return (_lu_grad(A, P, L, U, gL, gU),)
    attach([None, L, U], "LinalgLuBackward0", [A], backward, saved=[A])
    result = _named("linalg_lu", (P, L, U))
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(result, out, "linalg_lu")
    return result


# --- lu_unpack -------------------------------------------------------------

def _pad_to(t, rows, cols):
    """t zero-padded at the bottom/right to (..., rows, cols)."""
    r, c = t.shape[-2], t.shape[-1]
    if c < cols:
        t = cgrad.cat([t, cgrad.zeros(tuple(t.shape[:-1]) + (cols - c,), dtype=t.dtype)], -1)
    if r < rows:
        t = cgrad.cat([t, cgrad.zeros(tuple(t.shape[:-2]) + (rows - r, cols), dtype=t.dtype)], -2)
    return t


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    check_tensor(LU_data, "lu_unpack", "LU_data", 1)
    check_tensor(LU_pivots, "lu_unpack", "LU_pivots", 2)
    if LU_data.dim() < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(LU_data.shape)} instead")
    if unpack_pivots and LU_pivots.dtype != _C.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with the output "
                           "produced by torch.linalg.lu_factor")
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    if unpack_pivots:
        piv = np_of(LU_pivots)
        if piv.size and (piv.min() < 1 or piv.max() > m):
            raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive."
                               "Did you properly pass the result of lu_factor?")
        piv = np.broadcast_to(piv[..., :k], tuple(LU_data.shape[:-2]) + piv[..., :k].shape[-1:])
    else:
        piv = None
    P, L, U = (tensor_of(x) for x in _unpack_np(np_of(LU_data), piv, unpack_data, unpack_pivots))

    def backward(grads):
        gL, gU = grads[1], grads[2]
        if gL is None and gU is None:
            return (None, None)
        g = None
        if gL is not None:
            g = _pad_to(gL.tril(-1), m, n)
        if gU is not None:
            t = _pad_to(gU.triu(), m, n)
            g = t if g is None else g + t
        return (g, None)
    if unpack_data and LU_data.is_floating_point():
        attach([None, L, U], "LuUnpackBackward0", [LU_data, None], backward)
    result = _named("lu_unpack", (P, L, U))
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(result, out, "lu_unpack")
    return result


# --- the deprecated torch.lu ----------------------------------------------

_LU_DEPRECATION = (
    "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be "
    "removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced "
    "with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
    "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
    "torch.linalg.lu_factor_ex(A, compute_pivots)")


def lu_deprecated(A, pivot=True, get_infos=False, out=None):
    """torch.lu: (LU, pivots), or with get_infos the named (LU, pivots, info);
    never raises for a singular matrix (PyTorch ignores check_errors here)."""
    check_tensor(A, "_lu_with_info", "input", 1)
    warn_once("lu", _LU_DEPRECATION)
    res = cgrad.linalg.lu_factor_ex(A, pivot=pivot)
    LU, pivots, info = res
    if get_infos:
        result = _named("_lu_with_info", (LU, pivots, info))
    else:
        result = (LU, pivots)
    if out is not None:
        from cgrad.linalg import _with_out
        _with_out(result, out, "lu")
        return out
    return result


# --- the deprecated torch.triangular_solve --------------------------------

_TRIANGULAR_DEPRECATION = (
    "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed in "
    "a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not "
    "return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced "
    "with\nX = torch.linalg.solve_triangular(A, B).")


def _triangular_composite(upper, transpose, unitriangular):
    def fn(b, A):
        batch = tuple(np.broadcast_shapes(tuple(b.shape[:-2]), tuple(A.shape[:-2])))
        b = b.expand(batch + tuple(b.shape[-2:]))
        A = A.expand(batch + tuple(A.shape[-2:]))
        M = A.mT if transpose else A
        X = cgrad.linalg.solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular)
        return X, A.clone()
    return fn


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """(X, A.clone()) with op(A) X = input for the triangle of A (op: transpose or not)."""
    check_tensor(input, "triangular_solve", "input", 1)
    check_tensor(A, "triangular_solve", "A", 2)
    warn_once("triangular_solve", _TRIANGULAR_DEPRECATION)
    if input.dim() < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
                           f"{input.dim()} dimensions instead")
    if A.dim() < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has "
                           f"{A.dim()} dimensions instead")
    if input.dtype != A.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_type_title(input.dtype)} and A of type {_type_title(A.dtype)} instead.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    if A.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is {A.shape[-2]} "
                           f"by {A.shape[-1]} but each b matrix is {input.shape[-2]} by {input.shape[-1]}")
    if input.dtype not in (_C.float32, _C.float64):
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for '{_type_title(input.dtype)}'")
    fn = _triangular_composite(bool(upper), bool(transpose), bool(unitriangular))
    with cgrad.no_grad():
        X, M = fn(input.detach(), A.detach())
        X, M = X.contiguous(), M.contiguous()
    attach([X, M], "TriangularSolveBackward0", [input, A],
           lambda grads: composite_grads(fn, [input, A], grads), saved=[input, A])
    result = _named("triangular_solve", (X, M))
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(result, out, "triangular_solve")
    return result


# --- lu_factor_ex of a non-square matrix, differentiable ----------------

def lu_factor_ex_rectangular(A, pivot, check_errors, fname):
    """lu_factor_ex of a wide or tall A whose result needs a node: the
    compiled factorization, and PyTorch's lu_factor_ex_backward (the packed
    gradient split into L's and U's, through linalg_lu_backward)."""
    LU, pivots, info = _C._linalg_lu_factor_ex(A.detach(), pivot, check_errors, fname)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)

    def backward(grads):
        g = grads[0] if isinstance(grads, (list, tuple)) else grads
        if g is None:
            return (None,)
        if _C.is_grad_enabled():         # create_graph: factors with history for double backward
            _, L, U = lu(A)
        else:
            _, L, U = (tensor_of(x) for x in _unpack_np(np_of(LU), np_of(pivots)))
        P = tensor_of(_permutation_matrices(np_of(pivots), m, np_of(LU).dtype))
        return (_lu_grad(A, P, L, U, g.narrow(-1, 0, k), g.narrow(-2, 0, k)),)
    attach([LU, None, None], "LinalgLuFactorExBackward0", [A], backward, saved=[A])
    return LU, pivots, info
