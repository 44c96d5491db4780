"""PyTorch's torch.* linear-algebra functions outside torch.linalg (inverse,
det, logdet, slogdet, cholesky, cholesky_solve, cholesky_inverse, pinverse,
svd, qr, cross, lu_solve, matrix_exp, matrix_power), with their older
signatures, mapped onto cgrad.linalg as PyTorch maps them."""
import warnings

import numpy as _np

import cgrad
from cgrad import linalg as _la
from cgrad._C import LinAlgError, Tensor, _cholesky_inverse, _cholesky_solve, _linalg_cholesky_ex, \
    _linalg_slogdet
from cgrad._linalg_results import result_type as _result


def inverse(input, *, out=None):
    _la._tensor_arg(input, "inverse", "input", 1)
    return _la._with_out(_la._linalg_inv_ex(input, True)[0], out, "inverse")


def det(input):
    _la._tensor_arg(input, "det", "input", 1)
    return _la.det(input)


def slogdet(input):
    _la._tensor_arg(input, "slogdet", "input", 1)
    return _result("slogdet", _linalg_slogdet(input))


def logdet(input):
    """log det: nan where the determinant is negative (where over slogdet)."""
    _la._tensor_arg(input, "logdet", "input", 1)
    sign, logabsdet = _linalg_slogdet(input)
    return cgrad.where(sign == -1, float("nan"), logabsdet)


def cholesky(input, upper=False, *, out=None):
    _la._tensor_arg(input, "cholesky", "input", 1)
    return _la._with_out(_linalg_cholesky_ex(input, upper, True, "cholesky", True)[0], out, "cholesky")


def cholesky_solve(input, input2, upper=False, *, out=None):
    _la._tensor_arg(input, "cholesky_solve", "input", 1)
    _la._tensor_arg(input2, "cholesky_solve", "input2", 2)
    return _la._with_out(_cholesky_solve(input, input2, upper), out, "cholesky_solve")


def cholesky_inverse(input, upper=False, *, out=None):
    _la._tensor_arg(input, "cholesky_inverse", "input", 1)
    return _la._with_out(_cholesky_inverse(input, upper), out, "cholesky_inverse")


def pinverse(input, rcond=1e-15):
    _la._tensor_arg(input, "pinverse", "input", 1)
    return _la.pinv(input, rtol=rcond)


def svd(input, some=True, compute_uv=True, *, out=None):
    """(U, S, V) with V, not Vh; without compute_uv, U and V are zeros."""
    _la._tensor_arg(input, "svd", "input", 1)
    if compute_uv:
        U, S, Vh = _la._linalg_svd(input, not some, True)
        return _la._with_out(_result("svd", (U, S, Vh.mH)), out, "svd")
    S = _la.svdvals(input)
    m, n = input.shape[-2], input.shape[-1]
    batch = tuple(input.shape[:-2])
    U = cgrad.zeros(batch + (m, m), dtype=input.dtype)
    V = cgrad.zeros(batch + (n, n), dtype=input.dtype)
    return _la._with_out(_result("svd", (U, S, V)), out, "svd")


def qr(input, some=True, *, out=None):
    _la._tensor_arg(input, "qr", "input", 1)
    Q, R = _la._linalg_qr(input, "reduced" if some else "complete")
    return _la._with_out(_result("qr", (Q, R)), out, "qr")


def cross(input, other, dim=None, *, out=None):
    """torch.cross: without dim, the first dim of size 3 (deprecated in PyTorch)."""
    _la._tensor_arg(input, "cross", "input", 1)
    _la._tensor_arg(other, "cross", "other", 2)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
                      "pass the dim explicitly or simply use torch.linalg.cross.\nThe default value of "
                      "dim will change to agree with that of linalg.cross in a future release.",
                      UserWarning, stacklevel=2)
        shape = _np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return _la.cross(input, other, dim=dim, out=out)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    _la._tensor_arg(b, "lu_solve", "input", 1)
    return _la._with_out(_la._linalg_lu_solve(LU_data, LU_pivots, b, True, False), out, "lu_solve")


def matrix_exp(input):
    _la._tensor_arg(input, "matrix_exp", "input", 1)
    return _la.matrix_exp(input)


def matrix_power(input, n):
    return _la.matrix_power(input, n)
