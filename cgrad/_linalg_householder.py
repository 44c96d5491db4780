"""Householder reflectors as LAPACK stores them: torch.geqrf (numpy's
mode="raw" QR, which is geqrf's output transposed), torch.linalg.
householder_product (orgqr) and torch.ormqr.

The products H_0 H_1 ... H_{k-1}, H_i = I - tau_i v_i v_i^T, are applied one
reflector at a time as rank-one updates of the whole batch (k iterations of
matrix-vector products, never a loop over elements). The backward of
householder_product and ormqr is the vector-Jacobian product of the same
product written with differentiable cgrad ops (composite_grads), so
gradients and double backward follow from the composite while the nodes
keep PyTorch's names."""
import numpy as np

import cgrad
from cgrad import _C
from cgrad._linalg_results import _make
from cgrad._op_support import attach, check_tensor, composite_grads, np_of, tensor_of
from cgrad._linalg_lu import _type_title

GEQRF_RESULT = _make("geqrf", ("a", "tau"))


def geqrf(input, *, out=None):
    """(a, tau): R on and above a's diagonal, the reflectors' tails below it."""
    check_tensor(input, "geqrf", "input", 1)
    if input.dim() < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if input.dtype not in (_C.float32, _C.float64):
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for '{_type_title(input.dtype)}'")
    a = np_of(input)
    m, n = a.shape[-2], a.shape[-1]
    if a.size == 0:
        h, tau = a.copy(), np.zeros(a.shape[:-2] + (min(m, n),), a.dtype)
    else:
        h, tau = np.linalg.qr(a, mode="raw")
        h = np.swapaxes(h, -1, -2)
    result = tuple.__new__(GEQRF_RESULT, (tensor_of(h.astype(a.dtype, copy=False)),
                                          tensor_of(tau.astype(a.dtype, copy=False))))
    if input.requires_grad and cgrad.is_grad_enabled():
        def backward(grads):
            raise NotImplementedError("the derivative for 'geqrf' is not implemented.")
        attach(list(result), "GeqrfBackward0", [input], backward)
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(result, out, "geqrf")
    return result


def _reflector(A, i):
    """v_i = (0, ..., 0, 1, A[i+1:, i]) for each matrix of the batch."""
    m = A.shape[-2]
    col = A[..., i + 1:, i]
    batch = tuple(A.shape[:-2])
    head = cgrad.cat([cgrad.zeros(batch + (i,), dtype=A.dtype), cgrad.ones(batch + (1,), dtype=A.dtype)], -1)
    return cgrad.cat([head, col], -1) if i + 1 < m else head


def _apply_reflectors(A, tau, C, transpose):
    """H_0 ... H_{k-1} C (transpose: H_{k-1} ... H_0 C), differentiable."""
    k = tau.shape[-1]
    order = range(k) if transpose else range(k - 1, -1, -1)
    for i in order:
        v = _reflector(A, i)
        w = (v.unsqueeze(-2).matmul(C))                       # (..., 1, c): v^T C
        C = C - (tau[..., i].unsqueeze(-1).unsqueeze(-1) * v.unsqueeze(-1)).matmul(w)
    return C


def _apply_np(a, tau, c, transpose):
    """The numpy twin of _apply_reflectors (forward values, no graph)."""
    m = a.shape[-2]
    c = c.copy()
    k = tau.shape[-1]
    order = range(k) if transpose else range(k - 1, -1, -1)
    for i in order:
        v = np.zeros(a.shape[:-2] + (m,), a.dtype)
        v[..., i] = 1
        v[..., i + 1:] = a[..., i + 1:, i]
        w = np.matmul(v[..., None, :], c)
        c -= (tau[..., i, None, None] * v[..., :, None]) @ w
    return c


def _eye_columns(A, cols):
    batch = tuple(A.shape[:-2])
    m = A.shape[-2]
    return np.broadcast_to(np.eye(m, cols, dtype=np_of(A).dtype), batch + (m, cols))


def _check_tau(input, tau, fname):
    if tau.dim() != input.dim() - 1:
        raise RuntimeError(f"{fname}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.dim()} and input.ndim is equal to {input.dim()}")
    if input.dim() > 2 and tuple(tau.shape[:-1]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{fname}: Expected batch dimensions of tau to be equal to input.shape[:-2], "
                           f"but got {list(tau.shape[:-1])}")


def householder_product(A, tau, *, out=None):
    """The first n columns of H_0 H_1 ... H_{k-1} (LAPACK's orgqr)."""
    check_tensor(A, "linalg_householder_product", "input", 1)
    check_tensor(tau, "linalg_householder_product", "tau", 2)
    fname = "torch.linalg.householder_product"
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: input must have at least 2 dimensions.")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"{fname}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if A.shape[-1] < tau.shape[-1] if tau.dim() else False:
        raise RuntimeError(f"{fname}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    _check_tau(A, tau, fname)
    if A.dtype != tau.dtype:
        raise RuntimeError(f"{fname}: tau dtype {_type_title(tau.dtype)} does not match input dtype "
                           f"{_type_title(A.dtype)}")
    if A.dtype not in (_C.float32, _C.float64):
        raise NotImplementedError(f"\"orgqr_cpu\" not implemented for '{_type_title(A.dtype)}'")
    n = A.shape[-1]
    q = _apply_np(np_of(A), np_of(tau), _eye_columns(A, n), False)
    Q = tensor_of(q)

    def composite(A_, tau_):
        return _apply_reflectors(A_, tau_, cgrad.tensor(_eye_columns(A, n)), False)
    attach([Q], "LinalgHouseholderProductBackward0", [A, tau],
           lambda g: composite_grads(composite, [A, tau], g), saved=[A, tau])
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(Q, out, "linalg_householder_product")
    return Q


def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """Q other, Q^T other, other Q or other Q^T, Q = H_0 ... H_{k-1} (m x m)."""
    check_tensor(input, "ormqr", "input", 1)
    check_tensor(tau, "ormqr", "input2", 2)
    check_tensor(other, "ormqr", "input3", 3)
    fname = "torch.ormqr"
    if input.dim() < 2:
        raise RuntimeError(f"{fname}: input must have at least 2 dimensions.")
    if other.dim() < 2:
        raise RuntimeError(f"{fname}: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"{fname}: other.shape[{side}] must be equal to input.shape[-2]")
    if tau.dim() and tau.shape[-1] > min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"{fname}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           "input.shape[-1])")
    _check_tau(input, tau, fname)
    if other.dim() != input.dim():
        raise RuntimeError(f"{fname}: Expected other to have the same number of dimensions as input, but "
                           f"got other.ndim equal to {other.dim()} and input.ndim is equal to {input.dim()}")
    if input.dim() > 2 and tuple(other.shape[:-2]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{fname}: Expected batch dimensions of other to be equal to input.shape[:-2], "
                           f"but got {list(other.shape[:-2])}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"{fname}: Expected input and other to have the same dtype, but input has dtype"
                           f"{_type_title(input.dtype)} and other has dtype {_type_title(other.dtype)}")
    if input.dtype != tau.dtype:
        raise RuntimeError(f"{fname}: Expected input and tau to have the same dtype, but input has dtype"
                           f"{_type_title(input.dtype)} and tau has dtype {_type_title(tau.dtype)}")
    if input.dtype not in (_C.float32, _C.float64):
        raise NotImplementedError(f"\"ormqr_cpu\" not implemented for '{_type_title(input.dtype)}'")
    left, transpose = bool(left), bool(transpose)

    def apply(A_, tau_, C_, reflect):
        # Q C = reflect(C, no transpose); C Q = (Q^T C^T)^T
        if left:
            return reflect(A_, tau_, C_, transpose)
        return reflect(A_, tau_, C_.mT, not transpose).mT

    a, t, c = np_of(input), np_of(tau), np_of(other)
    if left:
        res = tensor_of(_apply_np(a, t, c, transpose))
    else:
        res = tensor_of(np.swapaxes(_apply_np(a, t, np.swapaxes(c, -1, -2), not transpose), -1, -2))

    def composite(A_, tau_, C_):
        return apply(A_, tau_, C_, _apply_reflectors)
    attach([res], "OrmqrBackward0", [input, tau, other],
           lambda g: composite_grads(composite, [input, tau, other], g), saved=[input, tau, other])
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(res, out, "ormqr")
    return res
