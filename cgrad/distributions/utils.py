"""Helpers shared by the distributions, as torch.distributions.utils:
broadcasting of parameters, probabilities and logits, lazy properties, and
the float limits (finfo) the distributions clamp with."""
import math
from functools import update_wrapper
from numbers import Number

import numpy as np

import cgrad

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060  # Euler Mascheroni Constant

_Number = (int, float, bool)


class _Finfo:
    __slots__ = ("eps", "tiny", "min", "max")

    def __init__(self, eps, tiny, lo, hi):
        self.eps, self.tiny, self.min, self.max = eps, tiny, lo, hi


def _numpy_finfo(np_dtype):
    fi = np.finfo(np_dtype)
    return _Finfo(float(fi.eps), float(fi.tiny), float(fi.min), float(fi.max))


_FINFO = {cgrad.float16: _numpy_finfo(np.float16), cgrad.float32: _numpy_finfo(np.float32),
          cgrad.float64: _numpy_finfo(np.float64)}


def finfo(dtype):
    """eps, tiny, min and max of a floating dtype (torch.finfo's values)."""
    try:
        return _FINFO[dtype]
    except KeyError:
        raise TypeError(f"finfo expects a floating point dtype, got {dtype}") from None


def broadcast_shapes(*shapes):
    """The shape all `shapes` broadcast to (RuntimeError as torch when they do not)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for k, shape in enumerate(shapes):
        for i, size in enumerate(shape):
            j = ndim - len(shape) + i
            if out[j] == 1:
                out[j] = size
            elif size != 1 and size != out[j]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {size} at {j - ndim}! "
                                   f"Mismatching argument at index {k} had {tuple(shape)}; but expected shape "
                                   f"should be broadcastable to {out}")
    return cgrad.Size(out)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def broadcast_all(*values):
    """Tensors and numbers broadcast to one shape; numbers become tensors of
    the first tensor's dtype (of the default dtype when all are numbers)."""
    if not all(isinstance(v, cgrad.Tensor) or isinstance(v, Number) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, cgrad.Tensor) for v in values):
        dtype = cgrad.get_default_dtype()
        for v in values:
            if isinstance(v, cgrad.Tensor):
                dtype = v.dtype
                break
        values = [v if isinstance(v, cgrad.Tensor) else cgrad.tensor(v, dtype=dtype) for v in values]
    return broadcast_tensors(*values)


def _standard_normal(shape, dtype, device=None):
    return cgrad.empty(shape, dtype=dtype).normal_()


def _sum_rightmost(value, dim):
    """Sum out the `dim` rightmost dimensions of `value`."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def _diagonal(matrices):
    """The diagonals of a batch of square matrices (..., n, n) -> (..., n), differentiable."""
    n = matrices.shape[-1]
    return matrices.reshape(matrices.shape[:-2] + (n * n,))[..., ::n + 1]


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return cgrad.sigmoid(logits)
    return cgrad.nn.functional.softmax(logits, dim=-1)


def clamp_probs(probs):
    """probs clamped to [eps, 1 - eps] of their dtype."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return cgrad.log(ps_clamped) - cgrad.log1p(-ps_clamped)
    return cgrad.log(ps_clamped)


class lazy_property:
    """A property computed on first access (with grad enabled) and then
    stored on the instance, replacing itself."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with cgrad.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular elements of (batches of) D x D matrices, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    arange = cgrad.arange(n)
    tril_mask = arange < arange.view(-1, 1) + (diag + 1)
    return mat[..., tril_mask]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of tril_matrix_to_vec."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n.item()) if isinstance(n, cgrad.Tensor) else round(n)
    mat = vec.new_zeros(vec.shape[:-1] + cgrad.Size((n, n)))
    arange = cgrad.arange(n)
    tril_mask = arange < arange.view(-1, 1) + (diag + 1)
    mat[..., tril_mask] = vec
    return mat


def _fmt(value):
    """What torch prints for `value` inside an f-string: a 0-d tensor as its
    number (Tensor.__format__), anything else as str()."""
    if isinstance(value, cgrad.Tensor) and value.dim() == 0:
        return value.item()
    return value


def _is_all_true(valid):
    return bool(valid.all()) if isinstance(valid, cgrad.Tensor) else bool(valid)


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


class _LazyFunctional:
    """cgrad.nn.functional, imported on first use: the distributions need a
    few of its functions, and importing cgrad.nn with cgrad.distributions
    would more than double that import's cost."""

    def __getattr__(self, name):
        from cgrad.nn import functional
        return getattr(functional, name)


lazy_functional = _LazyFunctional()
