"""Reducing scatters: scatter_reduce (sum, prod, mean, amax, amin) and
index_reduce (prod, mean, amax, amin), with include_self, their in-place
forms and PyTorch's backward formulas (ScatterReduceBackward0,
IndexReduceBackward0).

Both reduce into a copy of self with one numpy ufunc.at call over the whole
index (index_reduce is scatter_reduce with its vector index broadcast along
the dim). The backward formulas are PyTorch's (scatter_reduce_backward and
index_reduce_backward in FunctionsManual.cpp), written with differentiable
ops so double backward works where PyTorch's does.
"""
import warnings

import numpy as np

from cgrad import _C
from cgrad._op_support import dtype_title
from cgrad._op_support import (attach, check_int, check_tensor, forward_ad_not_implemented, np_of, tangent_or_zeros,
                               tensor_of, wrap_dim)
from cgrad._op_support import with_out as _with_out

_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}
_INDEX_REDUCE_BETA_WARNED = [False]


_title = dtype_title      # PyTorch's name of a dtype in its errors ('Float')


def _identity(reduce, dtype):
    """The value a position starts from when include_self=False."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype == np.bool_:
        return reduce == "amin"
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    return -np.inf if reduce == "amax" else np.inf


def _reduce_into(self_arr, dim, idx, src, reduce, include_self):
    """A copy of self_arr with src (shaped as idx) reduced in at idx along dim."""
    out = np.array(self_arr, copy=True)
    if out.ndim == 0:
        out = out.reshape(1)
        idx = idx.reshape(-1)
        src = src.reshape(-1)
    grids = list(np.ogrid[tuple(slice(0, n) for n in idx.shape)]) if idx.ndim else []
    if idx.ndim:
        grids[dim] = idx
    where = tuple(grids)
    counts = None
    if not include_self:
        touched = np.zeros(out.shape, dtype=bool)
        touched[where] = True
        out[touched] = _identity(reduce, out.dtype)
    if reduce == "mean":
        counts = np.full(out.shape, 1 if include_self else 0, dtype=np.int64)
        np.add.at(counts, where, 1)
    with np.errstate(invalid="ignore"):      # NaN propagates through amax/amin as PyTorch's
        _UFUNCS[reduce].at(out, where, src)
    if counts is not None:
        counts[counts == 0] = 1
        if np.issubdtype(out.dtype, np.integer):
            out = np.floor_divide(out, counts).astype(out.dtype)
        elif out.dtype != np.bool_:
            out = (out / counts).astype(out.dtype)
    return out.reshape(self_arr.shape)


def _check_argument_types(op, input, dim, index, src, src_name, reduce):
    """The argument-parser errors of op(input, dim, index, src, reduce); returns dim wrapped."""
    check_tensor(input, op)
    d = wrap_dim(check_int(dim, op, "dim", 2), input.dim())
    check_tensor(index, op, "index", 3)
    check_tensor(src, op, src_name, 4)
    if not isinstance(reduce, str):
        raise TypeError(f"{op}(): argument 'reduce' (position 5) must be str, not {type(reduce).__name__}")
    return d


# --- scatter_reduce -------------------------------------------------------------

def _check_scatter_reduce(input, d, index, src, reduce):
    if index.dtype not in (_C.int64, _C.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if input.dtype != src.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    nd = max(input.dim(), 1)
    if max(index.dim(), 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if max(src.dim(), 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    ishape, sshape, xshape = (tuple(t.shape) or (1,) for t in (index, src, input))
    if index.numel() and any(ishape[k] > sshape[k] or (k != d and ishape[k] > xshape[k]) for k in range(nd)):
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} "
                           f"apart from dimension {d} and to be no larger size than src {list(src.shape)}")
    if reduce not in _UFUNCS:      # checked after the shapes, as PyTorch
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")


# PyTorch 2.13's scatter_reduce also takes the Tensor.max/min spellings
_REDUCE_ALIASES = {"max": "amax", "min": "amin"}


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    d = _check_argument_types("scatter_reduce", input, dim, index, src, "src", reduce)
    reduce = _REDUCE_ALIASES.get(reduce, reduce)
    _check_scatter_reduce(input, d, index, src, reduce)
    include_self = bool(include_self)
    idx = np_of(index).astype(np.int64)
    size = input.shape[d] if input.dim() else 1
    bad = (idx < 0) | (idx >= size)
    if bad.any():
        raise RuntimeError(f"index {int(idx.reshape(-1)[np.argmax(bad.reshape(-1))])} is out of bounds for "
                           f"dimension {d} with size {size}")
    s = np_of(src)
    if idx.ndim:
        s = s[tuple(slice(0, n) for n in idx.shape)]
    res = tensor_of(_reduce_into(np_of(input), d, idx, s, reduce, include_self))
    index64 = index if index.dtype == _C.int64 else index.long()

    def backward(g):
        gs, gi = _scatter_reduce_grads(g, input, d, index64, src, res, reduce, include_self)
        return (gi if input.requires_grad else None, gs if src.requires_grad else None)
    attach([res], "ScatterReduceBackward0", [input, src], backward, saved=[input, src, index, res],
           jvp=lambda t, nr: _scatter_reduce_jvp(input, t[0], d, index64, src, t[1], reduce, include_self, res))
    return res if out is None else _with_out(res, out, "scatter_reduce")


_warned_scatter_reduce_src = False


def scatter_with_reduce(input, dim, index, src, reduce):
    """scatter(input, dim, index, src or value, reduce='add' | 'multiply'),
    PyTorch's older form (deprecated with a Tensor src, warned once per
    process): scatter_reduce's sum or prod including input's values, a
    number src standing for a tensor of it. PyTorch has no derivative for
    it: its node (NotImplemented) raises in backward."""
    global _warned_scatter_reduce_src
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if isinstance(src, _C.Tensor):
        if not _warned_scatter_reduce_src:
            _warned_scatter_reduce_src = True
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in "
                          "a future PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=3)
        values = src.detach()
    else:
        values = _C.full(tuple(index.shape), src, dtype=input.dtype)
    from cgrad.autograd.grad_mode import no_grad
    with no_grad():
        res = scatter_reduce(input.detach(), dim, index, values, "sum" if reduce == "add" else "prod")

    def backward(g):
        raise RuntimeError("derivative for aten::scatter is not implemented")
    attach([res], "NotImplemented", [input, src if isinstance(src, _C.Tensor) else None], backward,
           jvp=forward_ad_not_implemented("scatter"))
    return res


def _scatter_reduce_jvp(x, x_t, d, index, src, src_t, reduce, include_self, result):
    """PyTorch's scatter_reduce_jvp (prod has no formula there: no tangent)."""
    x_t, src_t = tangent_or_zeros(x_t, x), tangent_or_zeros(src_t, src)
    if reduce in ("sum", "mean"):
        return scatter_reduce(x_t, d, index, src_t, reduce, include_self=include_self)
    if reduce == "prod":
        return None
    src_used = src if tuple(index.shape) == tuple(src.shape) else _narrowed(src, index)
    src_t = src_t if tuple(index.shape) == tuple(src_t.shape) else _narrowed(src_t, index)
    mask_self = x == result
    mask_src = src_used == result.gather(d, index)
    zero = _C.zeros((), dtype=x_t.dtype)
    count = scatter_reduce(mask_self.to(x_t.dtype), d, index, mask_src.to(x_t.dtype), "sum",
                           include_self=include_self)
    summed = scatter_reduce(_C.where(mask_self, x_t, zero), d, index, _C.where(mask_src, src_t, zero), "sum",
                            include_self=include_self)
    return summed / count


def _src_grad_shaped(gs, src):
    if tuple(gs.shape) != tuple(src.shape):
        raise RuntimeError(f"Function ScatterReduceBackward0 returned an invalid gradient at index 1 - got "
                           f"{list(gs.shape)} but expected shape compatible with {list(src.shape)}")
    return gs


def _scatter_reduce_grads(g, x, d, index, src, result, reduce, include_self):
    """PyTorch's scatter_reduce_backward: (grad_src, grad_self)."""
    src_used = src if tuple(index.shape) == tuple(src.shape) else _narrowed(src, index)
    grad_self, grad_src = _reduction_grads(
        g, x, src_used, result, reduce, include_self,
        reduce_with=lambda base, s: scatter_reduce(base, d, index, s, "prod", include_self=include_self),
        count_into=lambda base, s: base.scatter_add(d, index, s),
        pick=lambda t: t.gather(d, index), clear=lambda t: t.scatter(d, index, 0), op="scatter_reduce")
    return _src_grad_shaped(grad_src, src), grad_self


def _reduction_grads(g, x, src, result, reduce, include_self, reduce_with, count_into, pick, clear, op):
    """(grad_self, grad_src) of a reduction of src into self's positions, for
    scatter_reduce and index_reduce alike: count_into accumulates source
    values into self-shaped positions (scatter_add / index_add), pick reads
    each source element's position (gather / index_select), clear zeroes the
    positions written (scatter / index_fill), reduce_with redoes the product."""
    if reduce == "sum":
        grad_self = g
        grad_src = pick(g)
    elif reduce == "mean":
        n = count_into(_C.ones_like(g) if include_self else _C.zeros_like(g), _C.ones_like(src))
        n = n.masked_fill(n == 0, 1)
        grad_self = g / n
        grad_src = pick(g) / pick(n)
    elif reduce == "prod":
        grad_self, grad_src = _prod_grads(g, x, src, result, reduce_with, count_into, pick, op)
    else:
        # amax / amin: the gradient is shared evenly among the elements equal to the result
        value = pick(result)
        self_is_result = (x == result).to(x.dtype)
        src_is_result = (src == value).to(x.dtype)
        distributed = g / count_into(self_is_result, src_is_result)
        grad_self = self_is_result * distributed
        grad_src = src_is_result * pick(distributed)
    if not include_self:
        grad_self = clear(grad_self)
    return grad_self, grad_src


def _narrowed(t, index):
    for k, n in enumerate(index.shape):
        if t.shape[k] != n:
            t = t.narrow(k, 0, n)
    return t


def _prod_grads(g, x, src, result, reduce_with, count_into, pick, op):
    """The product's gradients without dividing by a zero: a zero of self
    or a lone zero among the sources reduced into a position gets the
    product of the others (PyTorch's exclusive-product formula)."""
    masked_self = x.masked_fill(x == 0, 1)
    grad_self = g * reduce_with(masked_self, src) / masked_self
    src_zero = src == 0
    src_num_zeros = pick(count_into(_C.zeros_like(x), src_zero.to(x.dtype)))
    src_single_zero = src_zero & (src_num_zeros == 1)
    masked_src_result = reduce_with(x, src.masked_fill(src_single_zero, 1))
    grad_src = _C.where(src_single_zero, pick(g * masked_src_result),
                        pick(g * result) / src.masked_fill(src_zero, 1))
    if bool((src_num_zeros > 1).any()) and _C.is_grad_enabled() and grad_src.requires_grad:
        grad_src = _delayed_error(grad_src, f"{op}(): Double backward is unsupported for src when >1 zeros in src "
                                            "are scattered to the same position. This may be supported in future")
    return grad_self, grad_src


def _delayed_error(t, message):
    """t, whose own backward raises message (PyTorch's DelayedError node)."""
    res = t.detach().clone()

    def backward(g):
        raise RuntimeError(message)
    attach([res], "DelayedError", [t], backward, jvp=lambda tangents, nr: tangents[0])
    return res


def _scatter_reduce_inplace(self, dim, index, src, reduce, *, include_self=True):
    _C._check_inplace(self)
    base = _C._old_value(self) if self.requires_grad and _C.is_grad_enabled() else self
    return _C._commit_inplace(self, scatter_reduce(base, dim, index, src, reduce, include_self=include_self))


# --- index_reduce ---------------------------------------------------------------

def _check_index_reduce(input, d, index, source, reduce):
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if index.dim() > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {index.dim()} with type: "
                         f"{_title(index.dtype)} and size: {list(index.shape)}")
    if index.dtype not in (_C.int64, _C.int32):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: {_title(index.dtype)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_title(input.dtype)}) and source ({_title(source.dtype)}) "
                           "must have the same scalar type")
    src_len = source.shape[d] if source.dim() else 1
    if index.numel() != src_len:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({src_len}), for dim: {d}")
    if source.dim() and input.dim() and any(source.shape[k] != input.shape[k]
                                            for k in range(input.dim()) if k != d):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    if not _INDEX_REDUCE_BETA_WARNED[0]:
        _INDEX_REDUCE_BETA_WARNED[0] = True
        warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning, stacklevel=2)
    d = _check_argument_types("index_reduce", input, dim, index, source, "source", reduce)
    _check_index_reduce(input, d, index, source, reduce)
    include_self = bool(include_self)
    idx = np_of(index).reshape(-1).astype(np.int64)
    size = input.shape[d] if input.dim() else 1
    if ((idx < 0) | (idx >= size)).any():
        raise IndexError("index out of range in self")
    s = np_of(source)
    if input.dim():
        s = s.reshape(tuple(input.shape[:d]) + (idx.size,) + tuple(input.shape[d + 1:]))
        full = np.broadcast_to(idx.reshape((1,) * d + (-1,) + (1,) * (s.ndim - d - 1)), s.shape)
    else:
        s, full = s.reshape(-1), idx
    res = tensor_of(_reduce_into(np_of(input), d, full, s, reduce, include_self))
    index64 = index.reshape(-1) if index.dtype == _C.int64 else index.reshape(-1).long()

    def backward(g):
        gs, gi = _index_reduce_grads(g, input, d, index64, source, res, reduce, include_self)
        return (gi if input.requires_grad else None, gs if source.requires_grad else None)
    attach([res], "IndexReduceBackward0", [input, source], backward, saved=[input, source, index, res],
           jvp=forward_ad_not_implemented("index_reduce"))
    return res if out is None else _with_out(res, out, "index_reduce")


def _index_reduce_grads(g, x, d, index, source, result, reduce, include_self):
    """PyTorch's index_reduce_backward: (grad_source, grad_self)."""
    src = source if source.dim() or not x.dim() else source.reshape(1)
    grad_self, grad_src = _reduction_grads(
        g, x, src, result, reduce, include_self,
        reduce_with=lambda base, s: index_reduce(base, d, index, s, "prod", include_self=include_self),
        count_into=lambda base, s: base.index_add(d, index, s),
        pick=lambda t: t.index_select(d, index), clear=lambda t: t.index_fill(d, index, 0), op="index_reduce")
    return grad_src.reshape(tuple(source.shape)), grad_self


def _index_reduce_inplace(self, dim, index, source, reduce, *, include_self=True):
    _C._check_inplace(self)
    base = _C._old_value(self) if self.requires_grad and _C.is_grad_enabled() else self
    return _C._commit_inplace(self, index_reduce(base, dim, index, source, reduce, include_self=include_self))


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    return method


_METHODS = {"scatter_reduce": _method(scatter_reduce), "scatter_reduce_": _scatter_reduce_inplace,
            "index_reduce": _method(index_reduce), "index_reduce_": _index_reduce_inplace}
_scatter_reduce_inplace.__name__ = "scatter_reduce_"
_index_reduce_inplace.__name__ = "index_reduce_"
_C._install_tensor_methods(_METHODS)

__all__ = ["scatter_reduce", "index_reduce"]
