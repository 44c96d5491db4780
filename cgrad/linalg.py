"""cgrad.linalg: PyTorch's torch.linalg. The LAPACK-backed ops and their
nodes are compiled (src/cgrad/ops_linalg_lapack.pxi, ops_linalg_decomp.pxi);
this module holds the thin wrappers with PyTorch's signatures and named
results, and the ops PyTorch itself composes from others (matrix_norm, norm,
matrix_rank, matrix_power, multi_dot, vecdot), composed the same way so
their grad_fn chains match."""
import math

import numpy as _np

import cgrad
from cgrad._C import (
    LinAlgError,
    Tensor,
    _linalg_cholesky_ex,
    _linalg_cross,
    _linalg_det,
    _linalg_eigh,
    _linalg_inv_ex,
    _linalg_lstsq,
    _linalg_lu_factor_ex,
    _linalg_lu_solve,
    _linalg_matrix_exp,
    _linalg_pinv,
    _linalg_qr,
    _linalg_slogdet,
    _linalg_solve_ex,
    _linalg_solve_triangular,
    _linalg_svd,
    _vector_norm,
)
from cgrad._linalg_results import result_type as _result

__all__ = [
    "LinAlgError", "vector_norm", "inv", "inv_ex", "solve", "solve_ex", "solve_triangular", "det",
    "slogdet", "cholesky", "cholesky_ex", "qr", "svd", "svdvals", "eigh", "eigvalsh", "lstsq",
    "pinv", "matrix_norm", "norm", "matrix_rank", "matrix_power", "matrix_exp", "cross",
    "multi_dot", "lu_factor", "lu_factor_ex", "lu_solve", "vecdot",
]


def _tensor_arg(x, fname, name, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be Tensor, "
                        f"not {type(x).__name__}")
    return x


def _with_out(result, out, fname):
    """out= as PyTorch treats it: no autograd through it, out resized to the
    result's shape and written."""
    if out is None:
        return result
    results = result if isinstance(result, tuple) else (result,)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if len(outs) != len(results):
        raise TypeError(f"{fname}(): argument 'out' must be tuple of Tensors of size {len(results)}")
    for r, o in zip(results, outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(o).__name__}")
        if cgrad.is_grad_enabled() and (o.requires_grad or r.requires_grad):
            raise RuntimeError(f"{fname}(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
    with cgrad.no_grad():
        for r, o in zip(results, outs):
            if o.shape != r.shape:
                o.resize_(r.shape)
            o.copy_(r)
    return out


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ord-norm of x's elements (over dim if given): ord a number, inf or -inf."""
    return _vector_norm(x, ord, dim, keepdim, dtype=dtype)


# --- inverses and solvers -------------------------------------------------

def inv_ex(A, *, check_errors=False, out=None):
    _tensor_arg(A, "linalg_inv_ex", "A", 1)
    return _with_out(_result("linalg_inv_ex", _linalg_inv_ex(A, check_errors)), out, "linalg_inv_ex")


def inv(A, *, out=None):
    _tensor_arg(A, "linalg_inv", "A", 1)
    return _with_out(_linalg_inv_ex(A, True)[0], out, "linalg_inv")


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    _tensor_arg(A, "linalg_solve_ex", "A", 1)
    _tensor_arg(B, "linalg_solve_ex", "B", 2)
    return _with_out(_result("linalg_solve_ex", _linalg_solve_ex(A, B, left, check_errors)), out,
                     "linalg_solve_ex")


def solve(A, B, *, left=True, out=None):
    _tensor_arg(A, "linalg_solve", "A", 1)
    _tensor_arg(B, "linalg_solve", "B", 2)
    return _with_out(_linalg_solve_ex(A, B, left, True)[0], out, "linalg_solve")


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    _tensor_arg(A, "linalg_solve_triangular", "input", 1)
    _tensor_arg(B, "linalg_solve_triangular", "B", 2)
    return _with_out(_linalg_solve_triangular(A, B, upper, left, unitriangular), out,
                     "linalg_solve_triangular")


def det(A, *, out=None):
    _tensor_arg(A, "linalg_det", "A", 1)
    return _with_out(_linalg_det(A), out, "linalg_det")


def slogdet(A, *, out=None):
    _tensor_arg(A, "linalg_slogdet", "A", 1)
    return _with_out(_result("linalg_slogdet", _linalg_slogdet(A)), out, "linalg_slogdet")


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    _tensor_arg(A, "linalg_cholesky_ex", "A", 1)
    return _with_out(_result("linalg_cholesky_ex", _linalg_cholesky_ex(A, upper, check_errors)),
                     out, "linalg_cholesky_ex")


def cholesky(A, *, upper=False, out=None):
    _tensor_arg(A, "linalg_cholesky", "A", 1)
    return _with_out(_linalg_cholesky_ex(A, upper, True)[0], out, "linalg_cholesky")


def _lu_factor_ex(A, pivot, check_errors, fname="torch.linalg.lu_factor"):
    """The compiled factorization; a wide or tall A that needs a node goes
    through _linalg_lu.py (the compiled node handles square matrices)."""
    if (A.dim() >= 2 and A.shape[-1] != A.shape[-2] and A.requires_grad and cgrad.is_grad_enabled()
            and A.dtype.is_floating_point and pivot):
        from cgrad._linalg_lu import lu_factor_ex_rectangular
        return lu_factor_ex_rectangular(A, pivot, check_errors, fname)
    return _linalg_lu_factor_ex(A, pivot, check_errors)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    _tensor_arg(A, "linalg_lu_factor_ex", "A", 1)
    return _with_out(_result("linalg_lu_factor_ex", _lu_factor_ex(A, pivot, check_errors)),
                     out, "linalg_lu_factor_ex")


def lu_factor(A, *, pivot=True, out=None):
    _tensor_arg(A, "linalg_lu_factor", "A", 1)
    LU, pivots, _ = _lu_factor_ex(A, pivot, True)
    return _with_out(_result("linalg_lu_factor", (LU, pivots)), out, "linalg_lu_factor")


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    _tensor_arg(LU, "linalg_lu_solve", "LU", 1)
    _tensor_arg(pivots, "linalg_lu_solve", "pivots", 2)
    _tensor_arg(B, "linalg_lu_solve", "B", 3)
    return _with_out(_linalg_lu_solve(LU, pivots, B, left, adjoint), out, "linalg_lu_solve")


def lstsq(A, B, rcond=None, *, driver=None):
    _tensor_arg(A, "linalg_lstsq", "self", 1)
    _tensor_arg(B, "linalg_lstsq", "b", 2)
    return _result("linalg_lstsq", _linalg_lstsq(A, B, rcond, driver))


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    _tensor_arg(A, "linalg_pinv", "input", 1)
    return _with_out(_linalg_pinv(A, atol, rtol, hermitian), out, "linalg_pinv")


# --- decompositions --------------------------------------------------------

def qr(A, mode="reduced", *, out=None):
    _tensor_arg(A, "linalg_qr", "A", 1)
    return _with_out(_result("linalg_qr", _linalg_qr(A, mode)), out, "linalg_qr")


def _check_dispatch(A, kernel, fname, integers_dispatch):
    """PyTorch's dtype errors of svd and eigh: after the rank check, Half (and,
    for eigh, any non-float dtype) fails the CPU kernel's dispatch."""
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor A must have at least 2 dimensions.")
    if A.dtype == cgrad.float16 or (integers_dispatch and not A.dtype.is_floating_point):
        name = {"float16": "Half", "bfloat16": "BFloat16", "bool": "Bool", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte"}.get(str(A.dtype).split(".")[-1], str(A.dtype))
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def svd(A, full_matrices=True, *, driver=None, out=None):
    _tensor_arg(A, "linalg_svd", "A", 1)
    _check_dispatch(A, "linalg_svd_cpu", "linalg.svd", False)
    return _with_out(_result("linalg_svd", _linalg_svd(A, full_matrices, True)), out, "linalg_svd")


def svdvals(A, *, driver=None, out=None):
    _tensor_arg(A, "linalg_svdvals", "A", 1)
    _check_dispatch(A, "linalg_svd_cpu", "linalg.svd", False)
    return _with_out(_linalg_svd(A, False, False, "linalg.svd")[1], out, "linalg_svdvals")


def eigh(A, UPLO="L", *, out=None):
    _tensor_arg(A, "linalg_eigh", "A", 1)
    _check_dispatch(A, "linalg_eigh_cpu", "linalg.eigh", True)
    return _with_out(_result("linalg_eigh", _linalg_eigh(A, UPLO, True)), out, "linalg_eigh")


def eigvalsh(A, UPLO="L", *, out=None):
    _tensor_arg(A, "linalg_eigvalsh", "A", 1)
    _check_dispatch(A, "linalg_eigh_cpu", "linalg.eigh", True)
    return _with_out(_linalg_eigh(A, UPLO, False, "linalg.eigh")[0], out, "linalg_eigvalsh")


def matrix_exp(A):
    _tensor_arg(A, "linalg_matrix_exp", "A", 1)
    return _linalg_matrix_exp(A)


def cross(input, other, *, dim=-1, out=None):
    _tensor_arg(input, "linalg_cross", "input", 1)
    _tensor_arg(other, "linalg_cross", "other", 2)
    if input.dim() == other.dim() and input.shape != other.shape:
        shape = _np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        input, other = input.expand(shape), other.expand(shape)
    return _with_out(_linalg_cross(input, other, dim), out, "linalg_cross")


# --- composites, as PyTorch composes them ----------------------------------

def _check_matrix(A, fname):
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor A must have at least 2 dimensions.")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {str(A.dtype).split('.')[-1].capitalize()}")


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    _tensor_arg(A, "linalg_matrix_norm", "A", 1)
    fname = "linalg.matrix_norm"
    _check_matrix(A, fname)
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f"{fname}: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    nd = A.dim()
    d0, d1 = (d % nd for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{fname}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if dtype is not None:
        A = A.to(dtype)
    if isinstance(ord, str):
        if ord == "fro":
            return _with_out(_vector_norm(A, 2, (d0, d1), keepdim), out, "linalg_matrix_norm")
        if ord != "nuc":
            raise RuntimeError(f"{fname}: Order {ord} not supported.")
        result = None
    elif abs(ord) not in (1, 2, math.inf):
        raise RuntimeError(f"{fname}: Order {ord} not supported.")
    if ord == "nuc" or abs(ord) == 2:
        # PyTorch's order: the two dims moved last by a permutation, reduced
        # with keepdim, and under keepdim permuted back
        perm = [d for d in range(nd) if d not in (d0, d1)] + [d0, d1]
        s = svdvals(A.permute(perm))
        if ord == "nuc":
            result = s.sum(-1, keepdim=keepdim)
        else:
            result = s.amax(-1, keepdim=keepdim) if ord > 0 else s.amin(-1, keepdim=keepdim)
        if keepdim:
            inverse = [perm.index(d) for d in range(nd)]
            result = result.unsqueeze(-1).permute(inverse)
        return _with_out(result, out, "linalg_matrix_norm")
    if abs(ord) == math.inf:
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    s = vector_norm(A, 1, dim=d0, keepdim=keepdim)      # PyTorch's form (LinalgVectorNormBackward0)
    result = s.amax(d1, keepdim=keepdim) if ord > 0 else s.amin(d1, keepdim=keepdim)
    return _with_out(result, out, "linalg_matrix_norm")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    _tensor_arg(A, "linalg_norm", "input", 1)
    if isinstance(dim, int):
        dim = (dim,)
    if ord is not None:
        if isinstance(ord, str) or (dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2):
            if dim is None and A.dim() != 2:
                raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                                   f"1D or 2D. Got {A.dim()}D.")
            return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype, out=out)
        if dim is None and A.dim() != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                               f"1D or 2D. Got {A.dim()}D.")
        return _with_out(_vector_norm(A, ord, dim, keepdim, dtype=dtype), out, "linalg_norm")
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro", dim, keepdim, dtype=dtype, out=out)
    return _with_out(_vector_norm(A, 2, dim, keepdim, dtype=dtype), out, "linalg_norm")


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    _tensor_arg(A, "linalg_matrix_rank", "input", 1)
    _check_matrix(A, "linalg.matrix_rank")
    if tol is not None:
        atol, rtol = tol, 0.0
    with cgrad.no_grad():
        s = eigvalsh(A).abs() if hermitian else svdvals(A)
        m, n = A.shape[-2], A.shape[-1]
        eps = cgrad.finfo(A.dtype).eps if hasattr(cgrad, "finfo") else (
            1.1920928955078125e-07 if A.dtype == cgrad.float32 else 2.220446049250313e-16)
        if rtol is None:
            rtol = eps * max(m, n) if atol is None or (not isinstance(atol, Tensor) and atol <= 0) else 0.0
        if atol is None:
            atol = 0.0
        smax = s.amax(-1, keepdim=True) if s.shape[-1] else cgrad.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
        atol_t = atol.unsqueeze(-1) if isinstance(atol, Tensor) else atol
        rtol_t = rtol.unsqueeze(-1) if isinstance(rtol, Tensor) else rtol
        thr = cgrad.maximum(cgrad.as_tensor(atol_t, dtype=s.dtype), smax * rtol_t)
        result = (s > thr).sum(-1)
    return _with_out(result, out, "linalg_matrix_rank")


def matrix_power(A, n, *, out=None):
    _tensor_arg(A, "linalg_matrix_power", "input", 1)
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if n == 0:
        # PyTorch's form: A's clone overwritten, so the result hangs off A (CopyBackwards)
        result = A.clone(memory_format=cgrad.contiguous_format).copy_(
            cgrad.eye(A.shape[-1], dtype=A.dtype).expand(A.shape))
        return _with_out(result, out, "linalg_matrix_power")
    if n < 0:
        A = inv(A)
        n = -n
    if n == 1:
        return _with_out(A.clone(), out, "linalg_matrix_power")
    if n == 2:
        return _with_out(cgrad.matmul(A, A), out, "linalg_matrix_power")
    if n == 3:
        return _with_out(cgrad.matmul(cgrad.matmul(A, A), A), out, "linalg_matrix_power")
    z = result = None
    while n > 0:
        bit = n % 2
        n //= 2
        z = A if z is None else cgrad.matmul(z, z)
        if bit == 1:
            result = z if result is None else cgrad.matmul(result, z)
    return _with_out(result, out, "linalg_matrix_power")


def _chain_order(shapes):
    """PyTorch's matrix-chain dynamic programme: the cheapest split of each
    span (the first one found on ties)."""
    n = len(shapes)
    p = [shapes[0][0]] + [s[1] for s in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if cost[i][j] is None or q < cost[i][j]:
                    cost[i][j] = q
                    split[i][j] = k
    return split


def multi_dot(tensors, *, out=None):
    tensors = list(tensors)
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first, last = tensors[0], tensors[-1]
    if first.dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.dim()}D")
    if last.dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.dim()}D")
    for i in range(1, n - 1):
        if tensors[i].dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {tensors[i].dim()}D")
    out_shape = []
    if first.dim() == 2:
        out_shape.append(first.shape[0])
    if last.dim() == 2:
        out_shape.append(last.shape[1])
    mats = list(tensors)
    if first.dim() == 1:
        mats[0] = first.unsqueeze(0)
    if last.dim() == 1:
        mats[-1] = last.unsqueeze(-1)
    dtype = mats[0].dtype
    for i in range(n):
        if mats[i].dtype != dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{dtype} and tensor {i} {mats[i].dtype}")
    for i in range(n - 1):
        if mats[i].shape[-1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} cannot be "
                               "multiplied")
    if n == 2:
        result = cgrad.mm(mats[0], mats[1])
    elif n == 3:
        a, b, c, d = mats[0].shape[0], mats[1].shape[0], mats[2].shape[0], mats[2].shape[1]
        if (a * c) * (b + d) > (b * d) * (a + c):
            result = cgrad.mm(mats[0], cgrad.mm(mats[1], mats[2]))
        else:
            result = cgrad.mm(cgrad.mm(mats[0], mats[1]), mats[2])
    else:
        split = _chain_order([tuple(m.shape) for m in mats])
        stack = [(0, n - 1, None)]
        done = {}
        # an explicit stack (no recursion): each span after its two halves
        while stack:
            i, j, _ = stack.pop()
            if i == j:
                done[(i, j)] = mats[i]
                continue
            k = split[i][j]
            if (i, k) in done and (k + 1, j) in done:
                done[(i, j)] = cgrad.mm(done[(i, k)], done[(k + 1, j)])
                continue
            stack.append((i, j, None))
            stack.append((k + 1, j, None))
            stack.append((i, k, None))
        result = done[(0, n - 1)]
    return _with_out(result.view(out_shape), out, "linalg_multi_dot")


def vecdot(x, y, *, dim=-1, out=None):
    _tensor_arg(x, "linalg_vecdot", "x", 1)
    _tensor_arg(y, "linalg_vecdot", "y", 2)
    return _with_out((x * y).sum(dim), out, "linalg_vecdot")


# --- added beside the above (issue 16): LU with P, Householder products,
# the composites PyTorch builds from the ops here, torch.matmul/diagonal
from cgrad._linalg_lu import lu  # noqa: E402
from cgrad._linalg_householder import householder_product  # noqa: E402
from cgrad._linalg_composites import cond, diagonal, matmul, tensorinv, tensorsolve, vander  # noqa: E402

__all__ += ["lu", "householder_product", "cond", "diagonal", "matmul", "tensorinv", "tensorsolve", "vander"]
from cgrad._linalg_ldl import ldl_factor, ldl_factor_ex, ldl_solve  # noqa: E402

__all__ += ["ldl_factor", "ldl_factor_ex", "ldl_solve"]

# the shared notes of PyTorch's linalg docstrings (torch.linalg.common_notes)
common_notes = {'experimental_warning': 'This function is "experimental" and it may change in a future PyTorch release.', 'sync_note': 'When inputs are on a CUDA device, this function synchronizes that device with the CPU.', 'sync_note_ex': 'When the inputs are on a CUDA device, this function synchronizes only when :attr:`check_errors`\\ `= True`.', 'sync_note_has_ex': 'When inputs are on a CUDA device, this function synchronizes that device with the CPU. For a version of this function that does not synchronize, see :func:`{}`.'}
