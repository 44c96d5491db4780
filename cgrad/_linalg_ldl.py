"""torch.linalg.ldl_factor, ldl_factor_ex and ldl_solve: the
Bunch-Kaufman factorization A = L D L^T of a symmetric matrix (its lower
triangle read) as LAPACK's sytf2 computes it (1x1 and 2x2 pivots, the same
pivot choices and the same packed LD and 1-based pivots), and the solve
from that packed form as sytrs does.

numpy exposes no sytrf, so the factorization runs here: one step per
column (or column pair), each a whole-column numpy update; matrices of a
batch are factored one after another (their pivot choices differ). Neither
function is differentiable in PyTorch: a result that requires grad carries
a node whose backward raises PyTorch's error."""
import math

import numpy as np

import cgrad
from cgrad import _C
from cgrad._linalg_results import _make
from cgrad._op_support import attach, check_tensor, np_of, tensor_of
from cgrad._linalg_lu import _type_title

LDL_FACTOR = _make("linalg_ldl_factor", ("LD", "pivots"))
LDL_FACTOR_EX = _make("linalg_ldl_factor_ex", ("LD", "pivots", "info"))

_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0       # Bunch-Kaufman's growth bound


def _sytf2_lower(a):
    """Factor one symmetric matrix in place (its lower triangle); returns
    (pivots, info) in LAPACK's 1-based convention."""
    n = a.shape[0]
    ipiv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = abs(a[k, k])
        if k < n - 1:
            col = np.abs(a[k + 1:, k])
            imax = k + 1 + int(np.argmax(col))
            colmax = col[imax - k - 1]
        else:
            imax, colmax = k, 0.0
        if max(absakk, colmax) == 0 or math.isnan(absakk):
            if info == 0:
                info = k + 1
            kp = k
        else:
            if absakk >= _ALPHA * colmax:
                kp = k
            else:
                rowmax = np.abs(a[imax, k:imax]).max()
                if imax < n - 1:
                    rowmax = max(rowmax, np.abs(a[imax + 1:, imax]).max())
                if absakk >= _ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif abs(a[imax, imax]) >= _ALPHA * rowmax:
                    kp = imax
                else:
                    kp = imax
                    kstep = 2
            kk = k + kstep - 1
            if kp != kk:
                # interchange rows and columns kk and kp of the trailing lower triangle
                if kp < n - 1:
                    a[kp + 1:, [kk, kp]] = a[kp + 1:, [kp, kk]]
                seg = a[kk + 1:kp, kk].copy()
                a[kk + 1:kp, kk] = a[kp, kk + 1:kp]
                a[kp, kk + 1:kp] = seg
                a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
                if kstep == 2:
                    a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
            if kstep == 1:
                if k < n - 1:
                    d11 = 1.0 / a[k, k]
                    x = a[k + 1:, k].copy()
                    a[k + 1:, k + 1:] -= np.tril(d11 * np.outer(x, x))
                    a[k + 1:, k] *= d11
            elif k < n - 2:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1.0 / (d11 * d22 - 1.0)
                d21 = t / d21
                ck, ck1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
                wk = d21 * (d11 * ck - ck1)
                wkp1 = d21 * (d22 * ck1 - ck)
                a[k + 2:, k + 2:] -= np.tril(np.outer(ck, wk) + np.outer(ck1, wkp1))
                a[k + 2:, k] = wk
                a[k + 2:, k + 1] = wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return ipiv, info


def _check_square_float(A, fname, kernel):
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fname}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    if A.dtype == _C.float16:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Half'")
    if A.dtype not in (_C.float32, _C.float64):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{_type_title(A.dtype)}")


def _not_differentiable(outputs, inputs, op):
    def backward(grads):
        raise RuntimeError(f"derivative for aten::{op} is not implemented")
    attach(outputs, "NotImplemented", inputs, backward)


def _unknown_error(fname, code):
    return RuntimeError('false INTERNAL ASSERT FAILED at "/__w/pytorch/pytorch/aten/src/ATen/native/'
                        'BatchLinearAlgebra.cpp":1642, please report a bug to PyTorch. '
                        f"{fname}: Unknown error code: {code}.")


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info): L's unit-diagonal multipliers below D's blocks,
    LAPACK's pivots, info > 0 where D is singular."""
    check_tensor(A, "linalg_ldl_factor_ex", "self", 1)
    fname = "torch.linalg.ldl_factor_ex"
    _check_square_float(A, fname, "ldl_factor_kernel_cpu")
    a = np.array(np_of(A), dtype=np_of(A).dtype, order="C", copy=True)
    n = a.shape[-1]
    batch = a.shape[:-2]
    flat = a.reshape((-1, n, n))
    pivots = np.zeros((flat.shape[0], n), np.int32)
    infos = np.zeros(flat.shape[0], np.int32)
    for b in range(flat.shape[0]):            # one matrix at a time: their pivot choices differ
        pivots[b], infos[b] = _sytf2_lower(flat[b])
    LD = np.tril(flat).reshape(a.shape)
    info = infos.reshape(batch)
    if check_errors and info.size and info.max() > 0:
        raise _unknown_error(fname, int(info.ravel()[np.flatnonzero(info)[0]]))
    result = (tensor_of(LD), tensor_of(pivots.reshape(batch + (n,))), tensor_of(info))
    _not_differentiable([result[0], None, None], [A], "linalg_ldl_factor_ex")
    result = tuple.__new__(LDL_FACTOR_EX, result)
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(result, out, "linalg_ldl_factor_ex")
    return result


def ldl_factor(A, *, hermitian=False, out=None):
    check_tensor(A, "linalg_ldl_factor", "self", 1)
    fname = "torch.linalg.ldl_factor"
    _check_square_float(A, "torch.linalg.ldl_factor_ex", "ldl_factor_kernel_cpu")
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    if info.numel() and int(info.max()) > 0:
        raise _unknown_error(fname, int(info.flatten()[int(cgrad.nonzero(info.flatten())[0, 0])]))
    result = tuple.__new__(LDL_FACTOR, (LD, pivots))
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(result, out, "linalg_ldl_factor")
    return result


def _sytrs_lower(a, ipiv, b):
    """X with A X = B from one matrix's packed factorization (in place on b)."""
    n = a.shape[0]
    k = 0
    while k < n:                              # L D Y = B
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            if k < n - 1:
                b[k + 1:] -= np.outer(a[k + 1:, k], b[k])
            b[k] /= a[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                b[[k + 1, kp]] = b[[kp, k + 1]]
            if k < n - 2:
                b[k + 2:] -= np.outer(a[k + 2:, k], b[k]) + np.outer(a[k + 2:, k + 1], b[k + 1])
            akm1k = a[k + 1, k]
            akm1 = a[k, k] / akm1k
            ak = a[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1.0
            bkm1 = b[k] / akm1k
            bk = b[k + 1] / akm1k
            b[k] = (ak * bkm1 - bk) / denom
            b[k + 1] = (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:                             # L^T X = Y
        if ipiv[k] > 0:
            if k < n - 1:
                b[k] -= a[k + 1:, k] @ b[k + 1:]
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            if k < n - 1:
                b[k] -= a[k + 1:, k] @ b[k + 1:]
                b[k - 1] -= a[k + 1:, k - 1] @ b[k + 1:]
            kp = -ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """X with A X = B, A given by ldl_factor's (LD, pivots)."""
    check_tensor(LD, "linalg_ldl_solve", "LD", 1)
    check_tensor(pivots, "linalg_ldl_solve", "pivots", 2)
    check_tensor(B, "linalg_ldl_solve", "B", 3)
    fname = "torch.linalg.ldl_solve"
    if LD.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor LD must have at least 2 dimensions.")
    if LD.shape[-1] != LD.shape[-2]:
        raise RuntimeError(f"{fname}: LD must be batches of square matrices, but they are {LD.shape[-2]} by "
                           f"{LD.shape[-1]} matrices")
    if B.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{max(B.dim(), 1)}, "
                         f"{max(B.dim(), 1) - 1}], but got -2)")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {fname}: each A matrix is {n} by {n} but each b "
                           f"matrix is {B.shape[-2]} by {B.shape[-1]}")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{fname}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots "
                           f"with shape {list(pivots.shape)} instead")
    if pivots.is_floating_point() or pivots.dtype == _C.bool_:
        raise RuntimeError(f"{fname}: Expected pivots to be integers. Got {_type_title(pivots.dtype)}")
    if B.dtype != LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_type_title(B.dtype)} "
                           f"and A of type {_type_title(LD.dtype)} instead.")
    if LD.dtype not in (_C.float32, _C.float64):
        raise NotImplementedError(f"\"ldl_solve_cpu\" not implemented for '{_type_title(LD.dtype)}'")
    batch = tuple(np.broadcast_shapes(tuple(LD.shape[:-2]), tuple(B.shape[:-2])))
    ld = np.broadcast_to(np_of(LD), batch + (n, n)).reshape((-1, n, n))
    piv = np.broadcast_to(np_of(pivots).astype(np.int64), batch + (n,)).reshape((-1, n))
    b = np.array(np.broadcast_to(np_of(B), batch + tuple(B.shape[-2:])), order="C", copy=True)
    flat = b.reshape((-1,) + tuple(B.shape[-2:]))
    for i in range(flat.shape[0]):            # one system at a time: their pivot structures differ
        _sytrs_lower(ld[i], piv[i], flat[i])
    X = tensor_of(b)
    _not_differentiable([X], [LD, None, B], "linalg_ldl_solve")
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(X, out, "linalg_ldl_solve")
    return X
