"""The torch.linalg functions PyTorch composes from others (cond,
tensorinv, tensorsolve, vander, diagonal, matmul), composed the same way so
their values, dtypes and grad_fn chains match; the deprecated torch.*
forms that map onto them (chain_matmul, vdot); and the torch.* functions
PyTorch removed in 1.9 (solve, lstsq, symeig, eig, matrix_rank), which
raise PyTorch's RuntimeError with its migration text."""
import math
import cgrad
from cgrad import _C
from cgrad._op_support import attach, check_tensor, composite_grads
from cgrad._linalg_lu import _type_title, warn_once


def _ord_text(ord):
    if isinstance(ord, float) and math.isinf(ord):
        return "inf" if ord > 0 else "-inf"
    return str(int(ord))


def cond(A, p=None, *, out=None):
    """The condition number of A in norm p (None: 2-norm, through svdvals)."""
    check_tensor(A, "linalg_cond", "A", 1)
    from cgrad.linalg import _with_out
    if isinstance(p, str):
        return _with_out(_cond_string(A, p), out, "linalg_cond")
    if A.dim() < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    ord = 2 if p is None else p
    if abs(ord) not in (1, 2, math.inf):
        value = float(ord)
        raise RuntimeError(f"linalg.cond got an invalid norm type: {value:g}")
    if A.numel() == 0:
        return _with_out(_empty_cond(A), out, "linalg_cond")
    if abs(ord) == 2:
        s = cgrad.linalg.svdvals(A)
        s_max, s_min = s.narrow(-1, 0, 1), s.narrow(-1, s.shape[-1] - 1, 1)
        result = (s_min / s_max) if ord == -2 else (s_max / s_min)
        return _with_out(result.squeeze(-1), out, "linalg_cond")
    _check_square(A, f"linalg.cond(ord={_ord_text(ord)})")
    return _with_out(_cond_through_inverse(A, ord), out, "linalg_cond")


def _check_square(A, fname):
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fname}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")


def _empty_cond(A):
    """NumPy's 0 for each empty matrix, in A's dtype (integers included, as PyTorch)."""
    return cgrad.zeros(tuple(A.shape[:-2]), dtype=A.dtype)


def _cond_string(A, p):
    if A.dim() < 2:
        raise RuntimeError(f"linalg.cond(ord={p}): The input tensor A must have at least 2 dimensions.")
    _check_square(A, f"linalg.cond(ord={p})")
    if p not in ("fro", "nuc"):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.numel() == 0:
        return _empty_cond(A)
    if p == "nuc":
        s = cgrad.linalg.svdvals(A)
        return s.sum(-1) * s.reciprocal().sum(-1)
    return _cond_through_inverse(A, p)


def _cond_through_inverse(A, ord):
    """norm(A) * norm(A^-1), infinite for singular A (PyTorch's
    _linalg_cond_helper: inv_ex, masked_fill_ of the singular, nan_to_num_)."""
    inverse, info = cgrad.linalg.inv_ex(A)
    info = info.unsqueeze(-1).unsqueeze(-1)
    inverse.masked_fill_(info > 0, math.inf)
    result = cgrad.linalg.matrix_norm(A, ord) * cgrad.linalg.matrix_norm(inverse, ord)
    return result.nan_to_num_(math.inf, math.inf, -math.inf)


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A seen as a prod(shape[:ind]) square matrix, shaped shape[ind:] + shape[:ind]."""
    check_tensor(A, "linalg_tensorinv", "input", 1)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    end, start = list(A.shape[ind:]), list(A.shape[:ind])
    prod_end, prod_start = math.prod(end), math.prod(start)
    if prod_end != prod_start:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {prod_end} != {prod_start}")
    inverse = cgrad.linalg.inv(A.reshape(prod_end, prod_end))
    from cgrad.linalg import _with_out
    return _with_out(inverse.reshape(end + start), out, "linalg_tensorinv")


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B."""
    check_tensor(A, "linalg_tensorsolve", "A", 1)
    check_tensor(B, "linalg_tensorsolve", "B", 2)
    nd = A.dim()
    if dims is not None:
        dims = list(dims)
        A = cgrad.movedim(A, dims, list(range(nd - len(dims), nd)))
    result_shape = list(A.shape[B.dim():])
    result_product, other_product = math.prod(result_shape), B.numel()
    if result_product != other_product:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {result_product} != {other_product}")
    X = cgrad.linalg.solve(A.reshape(result_product, result_product), B.flatten())
    from cgrad.linalg import _with_out
    return _with_out(X.reshape(result_shape), out, "linalg_tensorsolve")


def vander(x, *, N=None):
    """Columns x^0, x^1, ..., x^(N-1): a row of ones beside a cumprod."""
    check_tensor(x, "linalg_vander", "x", 1)
    if not (x.dtype in (_C.float32, _C.float64) or (not x.is_floating_point() and x.dtype != _C.bool_)):
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{_TITLES.get(str(x.dtype).split('.')[-1], str(x.dtype))}")
    x_ = x.unsqueeze(-1) if x.dim() == 0 else x
    shape = list(x_.shape)
    n = shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    result = cgrad.cumprod(x_.unsqueeze(-1).expand(shape + [n - 1]), -1)
    ones = result.new_ones(shape + [1])
    return cgrad.cat([ones, result], -1)


_TITLES = {"float16": "Half", "bfloat16": "BFloat16", "bool": "Bool"}


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.diagonal with the last two dims as its default."""
    check_tensor(A, "linalg_diagonal", "A", 1)
    return cgrad.diagonal(A, offset=offset, dim1=dim1, dim2=dim2)


def matmul(input, other, *, out=None):
    return cgrad.matmul(input, other, out=out)


def chain_matmul(*matrices, out=None):
    """Deprecated: multi_dot of two or more 2-D matrices, a clone of one."""
    warn_once("chain_matmul", "torch.chain_matmul is deprecated and will be removed in a future PyTorch "
              "release. Use torch.linalg.multi_dot instead, which accepts a list of two or more tensors "
              "rather than multiple parameters.")
    for m in matrices:
        check_tensor(m, "chain_matmul", "matrices", 1)
        if m.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {m.dim()}, expected 2 instead.")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    if len(matrices) == 1:
        result = matrices[0].clone()
        if out is not None:
            from cgrad.linalg import _with_out
            return _with_out(result, out, "chain_matmul")
        return result
    return cgrad.linalg.multi_dot(matrices, out=out)


def vdot(input, other, *, out=None):
    """The dot product of two 1-D tensors (conjugating the first, a no-op for real dtypes)."""
    check_tensor(input, "vdot", "input", 1)
    check_tensor(other, "vdot", "other", 2)
    with cgrad.no_grad():
        value = cgrad.dot(input.detach(), other.detach())
    if input.is_floating_point():
        attach([value], "VdotBackward0", [input, other],
               lambda g: composite_grads(lambda a, b: (a * b).sum(), [input, other], g), saved=[input, other])
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(value, out, "vdot")
    return value


def diagflat(input, offset=0):
    """A matrix with input's elements (flattened) on diagonal `offset`."""
    check_tensor(input, "diagflat", "input", 1)
    return cgrad.diag_embed(input.contiguous().view(-1), offset)


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """Deprecated: the 2-norm over at most two dims (PyTorch's at::norm, NormBackward1)."""
    check_tensor(input, "frobenius_norm", "input", 1)
    warn_once("frobenius_norm", "at::frobenius_norm is deprecated and it is just left for JIT compatibility. "
              "It will be removed in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, "
              "keepdim)` instead")
    dim = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dim) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions instead.")
    if not input.is_floating_point():
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{_type_title(input.dtype)} instead.")

    def norm(x):
        return cgrad.linalg.vector_norm(x, 2, dim if dim else None, keepdim)
    with cgrad.no_grad():
        result = norm(input.detach())
    attach([result], "NormBackward1", [input], lambda g: composite_grads(norm, [input], g), saved=[input])
    if out is not None:
        from cgrad.linalg import _with_out
        return _with_out(result, out, "frobenius_norm")
    return result


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """Deprecated: linalg.matrix_norm(input, 'nuc', dim, keepdim)."""
    if isinstance(dim, bool):             # nuclear_norm(input, keepdim) overload
        dim, keepdim = None, dim
    check_tensor(input, "nuclear_norm", "input", 1)
    warn_once("nuclear_norm", "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It "
              "will be removed in a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, "
              "keepdim)` instead")
    return cgrad.linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, out=out)


# --- removed in PyTorch 1.9: PyTorch still defines them, raising ------------

def solve(input, A, *, out=None):
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. "
        "`torch.solve` is deprecated in favor of `torch.linalg.solve`. "
        "`torch.linalg.solve` has its arguments reversed and does not return the LU factorization.\n\n"
        "To get the LU factorization see `torch.lu`, which can be used with `torch.lu_solve` or "
        "`torch.lu_unpack`.\nX = torch.solve(B, A).solution should be replaced with:\nX = torch.linalg.solve(A, B)")


def lstsq(input, A, *, out=None):
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. "
        "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
        "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition in "
        "the returned tuple (although it returns other information about the problem).\n\n"
        "To get the QR decomposition consider using `torch.linalg.qr`.\n\n"
        "The returned solution in `torch.lstsq` stored the residuals of the solution in the "
        "last m - n columns of the returned value whenever m > n. In torch.linalg.lstsq, "
        "the residuals are in the field 'residuals' of the returned named tuple.\n\n"
        "The unpacking of the solution, as in\n"
        "X, _ = torch.lstsq(B, A).solution[:A.size(1)]\n"
        "should be replaced with:\n"
        "X = torch.linalg.lstsq(A, B).solution")


def symeig(input, eigenvectors=False, upper=True, *, out=None):
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. "
        "The default behavior has changed from using the upper triangular portion of the matrix by default "
        "to using the lower triangular portion.\n\n"
        "L, _ = torch.symeig(A, upper=upper) should be replaced with:\n"
        "L = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\n"
        "and\n\n"
        "L, V = torch.symeig(A, eigenvectors=True) should be replaced with:\n"
        "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')")


def eig(self, eigenvectors=False, *, e=None, v=None):
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. "
        "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors "
        "mimicking complex tensors.\n\n"
        "L, _ = torch.eig(A) should be replaced with:\n"
        "L_complex = torch.linalg.eigvals(A)\n\n"
        "and\n\n"
        "L, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
        "L_complex, V_complex = torch.linalg.eig(A)")


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed.\n"
        "Please use the `torch.linalg.matrix_rank` function instead. "
        "The parameter 'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.")
