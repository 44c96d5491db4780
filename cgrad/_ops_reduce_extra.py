"""Reductions PyTorch records as one node (or composes): nansum, nanmean,
std_mean, var_mean, aminmax.

nansum's node is PyTorch's formula (g * ~isnan(x), so a NaN gradient stays
NaN); std_mean/var_mean/aminmax run the compiled reductions, and their one node
(StdMeanBackward0, ...) takes the gradient of that composite recorded
afresh in backward (composite_op), so it is the compiled ops' gradient and
differentiable again.
"""
from cgrad import _C
from cgrad._op_support import dtype_title
from cgrad._op_support import numpy_dim_spellings
from cgrad._op_support import (attach, check_tensor, composite_op, result, with_out, with_out_tuple, wrap_dim,
                               RESULT_TYPES)


def _dims(dim, ndim):
    if dim is None:
        return None
    if isinstance(dim, int):
        return [wrap_dim(dim, ndim)]
    return [wrap_dim(int(d), ndim) for d in dim]


def _sum_dtype(x, dtype):
    if dtype is not None:
        return dtype
    return x.dtype if x.is_floating_point() else _C.int64


@numpy_dim_spellings
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    check_tensor(input, "nansum")
    dt = _sum_dtype(input, dtype)
    if input.requires_grad and _C.is_grad_enabled() and not dt.is_floating_point:
        raise RuntimeError(f"Autograd not support dtype: {_title(dt)}")
    dims = _dims(dim, input.dim())

    def compute(x):
        if x.is_floating_point():
            x = _C.where(x.isnan(), _C.zeros_like(x), x)
        return reduce(x)

    def reduce(x):
        # sum(dtype=) converts each element first, as PyTorch's nansum does
        if dims is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
            r = x.sum(dtype=dt)
            return r.reshape((1,) * input.dim()) if keepdim else r
        return x.sum(dims, keepdim, dtype=dt)
    from cgrad.autograd.grad_mode import no_grad
    with no_grad():
        res = compute(input)
    if input.is_floating_point():
        shape = tuple(input.shape)
        kept = [1 if (dims is None or k in dims) else n for k, n in enumerate(shape)]

        def backward(g):
            # PyTorch's formula: g * ~isnan(x) (a NaN gradient stays NaN)
            keep = input.detach().isnan().logical_not().to(g.dtype)
            return (g.reshape(tuple(kept)).expand(shape) * keep,)
        attach([res], "NansumBackward0", [input], backward,
               jvp=lambda t, nr: reduce(_C.where(input.detach().isnan(), _C.zeros_like(t[0]), t[0])))
    return with_out(res, out, "nansum")


@numpy_dim_spellings
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    check_tensor(input, "nanmean")
    if not input.is_floating_point():
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_title(input.dtype)}")
    if dtype is not None and not dtype.is_floating_point:
        raise RuntimeError("nanmean(): could not infer output dtype. Optional dtype must be either a floating "
                           f"point or complex dtype. Got: {_title(dtype)}")
    count = input.isnan().logical_not().sum(_dims(dim, input.dim()) if dim is not None else None,
                                            keepdim) if dim is not None else input.isnan().logical_not().sum()
    if dim is None and keepdim:
        count = count.reshape((1,) * input.dim())
    return with_out(nansum(input, dim, keepdim, dtype=dtype) / count, out, "nanmean")


_title = dtype_title      # PyTorch's name of a dtype in its errors ('Float')


def _moments(name, is_std, input, args, kwargs):
    check_tensor(input, name)
    if not input.is_floating_point():
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    reduce = _C.std if is_std else _C.var
    out = kwargs.pop("out", None)
    # numpy's spellings, renamed here so that mean reduces the same dims as std/var
    for alias, own in (("axis", "dim"), ("keepdims", "keepdim")):
        if alias in kwargs and own not in kwargs:
            kwargs[own] = kwargs.pop(alias)

    def compute(x):
        return reduce(x, *args, **kwargs), _C.mean(x, *_mean_args(args, kwargs))
    if input.requires_grad and _C.is_grad_enabled():
        res = composite_op("StdMeanBackward0" if is_std else "VarMeanBackward0", compute, [input])
    else:
        from cgrad.autograd.grad_mode import no_grad
        with no_grad():
            res = compute(input)
    return with_out_tuple(tuple(res), out, name)


def _mean_args(args, kwargs):
    """mean's (dim, keepdim) from std/var's arguments."""
    dim = kwargs.get("dim", args[0] if args and not isinstance(args[0], bool) else None)
    keepdim = kwargs.get("keepdim", False)
    if len(args) >= 3:
        keepdim = args[2]
    if dim is None:
        if keepdim:
            return (), True
        return ()
    return (dim, keepdim)


def std_mean(input, *args, **kwargs):
    return _moments("std_mean", True, input, args, kwargs)


def var_mean(input, *args, **kwargs):
    return _moments("var_mean", False, input, args, kwargs)


@numpy_dim_spellings
def aminmax(input, *, dim=None, keepdim=False, out=None):
    check_tensor(input, "aminmax")
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
    else:
        d = wrap_dim(int(dim), input.dim())
        if input.dim() and input.shape[d] == 0:
            raise IndexError(f"aminmax(): Expected reduction dim {d} to have non-zero size.")

    def compute(x):
        if dim is None:
            lo, hi = x.amin(), x.amax()
            if keepdim:
                lo = lo.reshape((1,) * x.dim())
                hi = hi.reshape((1,) * x.dim())
            return lo, hi
        if x.dim() == 0:
            return x.clone(), x.clone()
        return x.amin(d, keepdim), x.amax(d, keepdim)
    if input.is_floating_point() and input.requires_grad and _C.is_grad_enabled():
        res = composite_op("AminmaxBackward0", compute, [input])
    else:
        from cgrad.autograd.grad_mode import no_grad
        with no_grad():
            res = compute(input)
    _C._check_strict_out(tuple(res), out, "resize")
    return with_out_tuple(tuple(res), out, "aminmax", RESULT_TYPES["aminmax"])
