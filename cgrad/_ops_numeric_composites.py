"""Numerical helpers PyTorch has and scripts use, built from existing
differentiable ops by PyTorch's own formulas (so values, dtypes and the
gradients' graphs agree): trapezoid and cumulative_trapezoid, vander, cov
and corrcoef, renorm, sum_to_size; and the integer helpers unravel_index,
gcd and lcm (no gradients; elementwise in numpy)."""
import collections.abc
import itertools
import operator
import warnings

import numpy as np

from cgrad import _C
from cgrad._op_support import numpy_dim_spellings
from cgrad.nn._named_node import named

__all__ = ["trapezoid", "trapz", "cumulative_trapezoid", "vander", "cov", "corrcoef", "renorm", "unravel_index",
           "gcd", "lcm"]


def _wrap_dim(dim, ndim):
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


@numpy_dim_spellings
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along dim, with unit (or dx) spacing or at the
    sample points x."""
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: received both x and dx; only one may be given")
    dim = _wrap_dim(dim, y.dim())
    length = y.shape[dim]
    if x is None:
        spacing = 1 if dx is None else dx
        if length == 0:
            return y.sum(dim) * spacing
        # PyTorch's graph ends in its scalar multiply (MulBackward1)
        return named((y.sum(dim) - (y.select(dim, 0) + y.select(dim, -1)) * 0.5) * spacing, "MulBackward1")
    if x.dim() == 1:
        if x.shape[0] != length:
            raise RuntimeError(f"trapezoid: There must be one `x` value for each sample point, but got "
                               f"{x.shape[0]} x values and {length} samples")
        shape = [1] * y.dim()
        shape[dim] = length - 1 if length else 0
        spacing = x.diff().view(*shape)
    else:
        spacing = x.diff(dim=dim)
    if length == 0:
        return y.sum(dim)
    return named((spacing * (y.narrow(dim, 1, length - 1) + y.narrow(dim, 0, length - 1))).sum(dim) / 2.0,
                 "DivBackward1")


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


@numpy_dim_spellings
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    if x is not None and dx is not None:
        raise RuntimeError("cumulative_trapezoid: received both x and dx; only one may be given")
    dim = _wrap_dim(dim, y.dim())
    length = y.shape[dim]
    left = y.narrow(dim, 0, max(length - 1, 0))
    right = y.narrow(dim, 1, max(length - 1, 0)) if length else left
    if x is None:
        spacing = 1 if dx is None else dx
        return (spacing / 2.0 * (left + right)).cumsum(dim)
    if x.dim() == 1:
        shape = [1] * y.dim()
        shape[dim] = max(length - 1, 0)
        spacing = x.diff().view(*shape)
    else:
        spacing = x.diff(dim=dim)
    return named((spacing * (left + right)).cumsum(dim) / 2.0, "DivBackward1")


def vander(x, N=None, increasing=False):
    """Columns x**(N-1), ..., x**0 (or ascending with increasing=True)."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = _C.promote_types(x.dtype, _C.int64)
    if n == 0:
        return _C.empty(x.shape[0], 0, dtype=dtype)
    columns = [_C.ones(x.shape[0], 1, dtype=dtype)]
    if n > 1:
        powers = x.to(dtype).unsqueeze(1).expand(x.shape[0], n - 1).cumprod(1)
        columns.append(powers)
    result = _C.cat(columns, 1)
    return result if increasing else result.flip(1)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the rows of input (variables) over its
    columns (observations), with frequency and/or importance weights."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    if input.dtype == _C.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    if not input.is_floating_point():       # integers are averaged in the default float dtype, as PyTorch does
        input = input.to(_C._default_float_dtype())
    observations = input if input.dim() == 2 else input.view(1, -1)
    count = observations.shape[1]
    weights = None
    if fweights is not None:
        if fweights.is_floating_point():
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{str(fweights.dtype).split('.')[-1].capitalize()} dtype")
        weights = fweights
    if aweights is not None:
        if not aweights.is_floating_point():
            raise RuntimeError("cov(): expected aweights to have floating point dtype")
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        average = observations.mean(1)
        weight_sum = count
    else:
        weight_sum = weights.sum()
        average = (observations * weights).sum(1) / weight_sum
    if weights is None:
        norm_factor = weight_sum - correction
    elif correction == 0:
        norm_factor = weight_sum
    elif aweights is None:
        norm_factor = weight_sum - correction
    else:
        norm_factor = weight_sum - correction * (weights * aweights).sum() / weight_sum
    if (norm_factor.item() if isinstance(norm_factor, _C.Tensor) else norm_factor) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm_factor = 0
    centred = observations - average.unsqueeze(1)
    product = _C.mm(centred, (centred if weights is None else centred * weights).t())
    return (product / norm_factor).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the rows of input, clipped to
    [-1, 1]."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / stddev.view(-1, 1)
    c = c / stddev.view(1, -1)
    return c.clip(-1, 1)


def renorm(input, p, dim, maxnorm):
    """Each slice along dim scaled down to p-norm maxnorm where it is
    larger."""
    if input.dim() < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    dim = _wrap_dim(dim, input.dim())
    reduce_dims = [d for d in range(input.dim()) if d != dim]
    from cgrad import linalg
    norms = linalg.vector_norm(input, p, reduce_dims, True)
    factor = _C.where(norms > maxnorm, maxnorm / (norms + 1e-7), _C.ones_like(norms))
    return named(input * factor, "RenormBackward0")


def _sum_to_size(self, *size, **kwargs):
    if kwargs:
        if set(kwargs) != {"size"} or size:
            raise TypeError(f"sum_to_size() got an unexpected keyword argument '{next(iter(kwargs))}'")
        size = (kwargs["size"],)
    if not size:
        raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list, _C.Size)):
        size = tuple(size[0])
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    compatible = lead >= 0 and all(s == 1 or s == t for s, t in zip(size, shape[lead:]))
    if not compatible:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    reduce_dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1)
    if not reduce_dims:
        return self
    result = self.sum(reduce_dims, keepdim=True)
    return result.view(size) if lead else result


def unravel_index(indices, shape):
    """The coordinates, in a tensor of `shape`, of flat `indices`: as
    torch.functional's, floor division by each dim's stride, then modulo
    the dim's size (an index past either end wraps around)."""
    if not isinstance(indices, _C.Tensor):
        raise AttributeError(f"'{type(indices).__name__}' object has no attribute 'is_complex'")
    if indices.is_floating_point() or indices.dtype == _C.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, int):
        shape = [shape]
    elif isinstance(shape, collections.abc.Sequence):
        for dim in shape:
            if not isinstance(dim, int):
                raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(dim)}")
        shape = [int(dim) for dim in shape]
    else:
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if any(dim < 0 for dim in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {tuple(shape)}")
    coefs = list(reversed(list(itertools.accumulate(reversed(shape[1:] + [1]), func=operator.mul))))
    result = indices.unsqueeze(-1).floor_divide(_C.tensor(coefs, dtype=_C.int64)) % _C.tensor(shape, dtype=_C.int64)
    return tuple(result.unbind(-1))


def _integer_pair(name, input, other):
    for t in (input, other):
        if isinstance(t, _C.Tensor) and (t.is_floating_point()):
            title = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}[str(t.dtype).split(".")[-1]]
            raise RuntimeError(f"\"{name}_cpu\" not implemented for '{title}'")
    a = input if isinstance(input, _C.Tensor) else _C.tensor(input)
    b = other if isinstance(other, _C.Tensor) else _C.tensor(other)
    dtype = _C.promote_types(a.dtype, b.dtype)
    return a.numpy(), b.numpy(), dtype


def gcd(input, other, *, out=None):
    a, b, dtype = _integer_pair("gcd", input, other)
    return _C._with_out(_C.tensor(np.gcd(a, b), dtype=dtype), out, "gcd")


def lcm(input, other, *, out=None):
    a, b, dtype = _integer_pair("lcm", input, other)
    return _C._with_out(_C.tensor(np.lcm(a, b), dtype=dtype), out, "lcm")


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__
    return method


_C._install_missing_tensor_methods({
    "cov": _method(cov), "corrcoef": _method(corrcoef), "renorm": _method(renorm), "gcd": _method(gcd),
    "lcm": _method(lcm), "sum_to_size": _sum_to_size,
})
