"""Cumulative ops along a dim: cumprod (and cumprod_), cummax, cummin,
logcumsumexp.

Forward values come from numpy's accumulate over the whole buffer (cummax
and cummin of float32/float64/int64: one C pass a row,
kernels/cum_extreme_rows.pxi); cummax and cummin's indices are the last
position where the running extreme was reached (PyTorch's kernel updates
on >= / <=, and on NaN). Backward
formulas use differentiable ops only (cumprod's handles zeros as
PyTorch's: only the first zero of a row gets a gradient past it).
"""
import numpy as np

from cgrad import _C
from cgrad._op_support import dtype_title, numpy_dim_spellings
from cgrad._op_support import (attach, check_int, check_tensor, np_of, result, same_dtype_of, tensor_of, with_out,
                               with_out_tuple, wrap_dim, RESULT_TYPES)


def _rev_cumsum(t, dim):
    return t.flip(dim).cumsum(dim).flip(dim)


def _cumprod_grad(x, g, dim):
    """d(sum(g * cumprod(x)))/dx, zeros included."""
    if x.dim() == 0:
        return g
    out = cumprod(x, dim)
    is_zero = x == 0
    zeros_so_far = is_zero.to(_C.int64).cumsum(dim)
    before = zeros_so_far == 0                        # no zero at or before
    safe_x = _C.where(before, x, _C.ones_like(x))
    grad = _C.where(before, _rev_cumsum(g * out, dim) / safe_x, _C.zeros_like(x))
    first_zero = is_zero.logical_and(zeros_so_far == 1)
    if _C.is_grad_enabled() and bool(first_zero.any()):
        return _cumprod_grad_quadratic(x, g, dim)
    if bool(first_zero.any()):
        prefix = cumprod(safe_x, dim).narrow(dim, x.shape[dim] - 1, 1)     # product before the zero
        after = (zeros_so_far > 0).logical_and(first_zero.logical_not())
        tail = cumprod(_C.where(after, x, _C.ones_like(x)), dim)          # prod over z < j <= k
        at_zero = _rev_cumsum(g * _C.where(zeros_so_far > 0, tail, _C.zeros_like(x)), dim)
        grad = grad + _C.where(first_zero, prefix * at_zero, _C.zeros_like(x))
    return grad


def _cumprod_grad_quadratic(x, g, dim):
    """The same gradient as sum_{k>=i} g_k prod_{j<=k, j!=i} x_j over an
    n x n product table: O(n^2), but a smooth function of every x_j, so its
    own derivative is right where x has zeros (used for double backward)."""
    n = x.shape[dim]
    xm = x.movedim(dim, -1).unsqueeze(-2)                       # (..., 1, n)
    eye = _C.eye(n, dtype=_C.bool_)
    table = cumprod(_C.where(eye, _C.ones_like(xm), xm), -1)    # row i: x with x_i set to 1
    later = _C.ones((n, n), dtype=_C.bool_).triu()              # k >= i
    gm = g.movedim(dim, -1).unsqueeze(-2)
    return (gm * table * later).sum(-1).movedim(-1, dim)


def _cumprod_dtype(x, dtype):
    if dtype is not None:
        return dtype
    if x.is_floating_point():
        return x.dtype
    return _C.int64


@numpy_dim_spellings
def cumprod(input, dim, *, dtype=None, out=None):
    check_tensor(input, "cumprod")
    if isinstance(out, _C.Tensor) and dtype is None and out.dtype != _C.bool_:
        dtype = out.dtype       # PyTorch's cumprod_out multiplies in out's dtype (each element converted first)
    d = wrap_dim(check_int(dim, "cumprod", "dim", 2), input.dim())
    dt = _cumprod_dtype(input, dtype)
    if input.requires_grad and _C.is_grad_enabled() and not dt.is_floating_point:
        raise RuntimeError(f"Autograd not support dtype: {dtype_title(dt)}")
    x = input if input.dtype == dt else input.to(dt)
    a = np_of(x)
    vals = a.copy() if a.ndim == 0 else np.cumprod(a, axis=d, dtype=a.dtype)
    res = same_dtype_of(tensor_of(vals), x)
    if x.is_floating_point():
        attach([res], "CumprodBackward0", [x], lambda g: (_cumprod_grad(x, g, d),), saved=[x],
               jvp=lambda t, nr: _cumprod_jvp(t[0], x, res, d))
    return with_out(res, out, "cumprod")


def _cumprod_jvp(t, x, result, dim):
    """PyTorch's cumprod_jvp: cumsum(t / x) * result where no zero came
    before; from the first zero of a row on, the product with that zero's
    factor replaced by its tangent, cumprod(where(first_zero, t, x))."""
    if x.dim() == 0:
        return t.clone()
    gradient = (t / x).cumsum(dim) * result
    is_zero = x == 0
    first_zero = is_zero.logical_and(is_zero.to(_C.int64).cumsum(dim) == 1)
    if not bool(first_zero.any()):
        return gradient
    new_grad = cumprod(_C.where(first_zero, t, x), dim)
    after_first_zero = first_zero.to(_C.int64).cumsum(dim) > 0
    return _C.where(after_first_zero, new_grad, gradient)


def _tensor_cumprod_(self, dim, *, dtype=None):
    _C._check_inplace(self)
    src = _C._old_value(self) if self.requires_grad and _C.is_grad_enabled() else self
    return _C._commit_inplace(self, cumprod(src, dim, dtype=dtype if dtype is not None else self.dtype))


# the dtypes kernels/cum_extreme_rows.pxi takes (numpy's accumulate does the rest)
_CUM_EXTREME_CODES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.int64): 2}


def _cum_extreme(input, dim, is_max, out):
    name = "cummax" if is_max else "cummin"
    check_tensor(input, name)
    d = wrap_dim(check_int(dim, name, "dim", 2), input.dim())
    a = np_of(input)
    code = _CUM_EXTREME_CODES.get(a.dtype)
    if a.ndim == 0 or a.size == 0:
        vals, idx = a.copy(), np.zeros(a.shape, np.int64)
    elif code is not None:
        rows = np.ascontiguousarray(np.moveaxis(a, d, -1))
        vals = np.empty(rows.shape, a.dtype)
        idx = np.empty(rows.shape, np.int64)
        _C._cum_extreme_rows(rows, rows.size // rows.shape[-1], rows.shape[-1], is_max, code, vals, idx)
        vals = np.moveaxis(vals, -1, d)
        idx = np.moveaxis(idx, -1, d)
    else:
        work = a.view(np.uint8) if a.dtype == np.bool_ else a
        vals = (np.maximum if is_max else np.minimum).accumulate(work, axis=d)
        reached = work == vals
        if a.dtype.kind == "f":
            reached |= np.isnan(work) & np.isnan(vals)
        shape = [1] * a.ndim
        shape[d] = a.shape[d]
        pos = np.arange(a.shape[d], dtype=np.int64).reshape(shape)
        idx = np.maximum.accumulate(np.where(reached, pos, 0), axis=d)
        vals = vals.astype(a.dtype, copy=False)
    values = same_dtype_of(tensor_of(vals), input)
    indices = tensor_of(idx.astype(np.int64, copy=False))
    sizes = tuple(input.shape)

    def backward(grads):
        g = grads[0]
        if g is None:
            return (None,)
        if len(sizes) == 0:
            return (g,)
        return (_C.zeros(sizes, dtype=g.dtype).scatter_add(d, indices, g),)
    if input.is_floating_point():
        attach([values, None], "CummaxBackward0" if is_max else "CumminBackward0", [input], backward,
               saved=[indices], jvp=lambda t, nr: t[0].clone() if len(sizes) == 0 else t[0].gather(d, indices))
    _C._check_strict_out((values, indices), out, "scan")
    return with_out_tuple((values, indices), out, name, RESULT_TYPES[name])


@numpy_dim_spellings
def cummax(input, dim, *, out=None):
    return _cum_extreme(input, dim, True, out)


@numpy_dim_spellings
def cummin(input, dim, *, out=None):
    return _cum_extreme(input, dim, False, out)


_TITLES = {"cgrad.int64": "Long", "cgrad.int32": "Int", "cgrad.int16": "Short", "cgrad.int8": "Char",
           "cgrad.uint8": "Byte", "cgrad.bool": "Bool"}


def _logcumsumexp_grad(x, g, out, dim):
    """sum_{k>=i} g_k exp(x_i - out_k), split by the sign of g so each part
    is a stable logcumsumexp (PyTorch's formula)."""
    if x.dim() == 0:
        return g
    neg_inf = _C.full_like(g, float("-inf"))
    pos = g > 0
    neg = g < 0
    log_pos = _C.where(pos, _C.where(pos, g, _C.ones_like(g)).log() - out, neg_inf)
    log_neg = _C.where(neg, _C.where(neg, -g, _C.ones_like(g)).log() - out, neg_inf)
    rev_pos = logcumsumexp(log_pos.flip(dim), dim).flip(dim)
    rev_neg = logcumsumexp(log_neg.flip(dim), dim).flip(dim)
    return (rev_pos + x).exp() - (rev_neg + x).exp()


@numpy_dim_spellings
def logcumsumexp(input, dim, *, out=None):
    check_tensor(input, "logcumsumexp")
    d = wrap_dim(check_int(dim, "logcumsumexp", "dim", 2), input.dim())
    if not input.is_floating_point():
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_TITLES[str(input.dtype)]}'")
    x = input
    a = np_of(x)
    if a.ndim == 0:
        vals = a.copy()
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            vals = np.logaddexp.accumulate(a, axis=d, dtype=a.dtype)
    res = tensor_of(vals)
    # out is recomputed from x in backward so double backward sees its dependence on x
    attach([res], "LogcumsumexpBackward0", [x], lambda g: (_logcumsumexp_grad(x, g, logcumsumexp(x, d), d),),
           saved=[x], jvp=lambda t, nr: _logcumsumexp_jvp(x, t[0], d))
    _C._check_strict_out(res, out, "scan")
    return with_out(res, out, "logcumsumexp")


def _logcumsumexp_jvp(x, t, dim):
    """PyTorch's logcumsumexp_jvp: cumsum(exp(x) t) / cumsum(exp(x)), both
    scaled by exp(-max(x)) (exp-normalize), 0 where the denominator
    vanishes."""
    if x.dim() == 0:
        return t.clone()
    e = (x - x.amax(dim, keepdim=True)).exp() if x.numel() else x.exp()
    denominator = e.cumsum(dim)
    return _C.where(denominator < 1e-13, _C.zeros_like(denominator), (e * t).cumsum(dim) / denominator)
