"""More of PyTorch's numerical functions, each built from existing
differentiable ops by PyTorch's own formula (so values, dtypes and the
gradients agree) or, where there is no gradient, computed whole-array in
numpy: ldexp, frexp, nextafter, mvlgamma and histogram (vdot, diagflat and
the deprecated norms are in cgrad/_linalg_composites.py).
The results carry PyTorch's node names (cgrad.nn._named_node)."""
import math

import numpy as np

from cgrad import _C
from cgrad._op_support import attach, check_tensor, forward_ad_not_implemented, np_of, result as _result, same_dtype_of
from cgrad._ops_composites import _dtype_title, _inplace, _method
from cgrad.nn._named_node import named

__all__ = ["ldexp", "frexp", "nextafter", "mvlgamma", "histogram"]


def _tensor(x):
    return x if isinstance(x, _C.Tensor) else _C.tensor(x)


def ldexp(input, other, *, out=None):
    """input * 2 ** other, in a floating dtype (PyTorch's composite)."""
    check_tensor(input, "ldexp")
    check_tensor(other, "ldexp", "other", 2)      # ldexp has no number overloads
    result = named(_C.mul(input, _C.pow(2.0, other)), "LdexpBackward0")
    return result if out is None else _C._with_out(result, out, "ldexp")


def _tensor_ldexp(self, other):
    check_tensor(other, "ldexp", "other", 1)
    return ldexp(self, other)


def _ldexp_(self, other):
    check_tensor(other, "ldexp_", "other", 1)
    # ldexp's result is floating: only a floating self can take it
    if not self.is_floating_point():
        raise RuntimeError(f"ldexp can't be cast to the desired output type {_dtype_title(self.dtype)}")
    return _ldexp_inplace(self, other)


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent and
    0.5 <= |mantissa| < 1; the exponent is int32."""
    if not input.is_floating_point():
        raise RuntimeError("cgrad.frexp() only supports floating-point dtypes")
    mantissa, exponent = np.frexp(np_of(input))
    exponent = _C.from_numpy(np.array(exponent, np.int32, order="C"))
    values = (same_dtype_of(_C.from_numpy(np.array(mantissa, order="C")), input), exponent)
    # d mantissa / d input = 2 ** -exponent
    attach([values[0], None], "FrexpBackward0", [input],
           lambda grads: (grads[0] * _C.pow(2.0, -exponent.to(input.dtype)),),
           jvp=lambda tangents, nr: None if tangents[0] is None else tangents[0] * _C.pow(2.0, -exponent.to(input.dtype)))
    return _result("frexp", values) if out is None else _C._with_out(_result("frexp", values), out, "frexp")


def _nextafter_bfloat16(a, b):
    """nextafter on bfloat16 values given as float32 arrays: one step of
    the 16-bit pattern (sign and magnitude) toward b, as c10's nextafter
    on BFloat16; equal values give b, NaN gives NaN."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float32), np.asarray(b, np.float32))
    bits = (a.view(np.uint32) >> 16).astype(np.int32)
    magnitude = bits & 0x7fff
    negative = (bits & 0x8000) != 0
    away = (b > a) != negative                 # moving away from zero
    stepped = np.where(away, magnitude + 1, magnitude - 1)
    stepped = np.where(magnitude == 0, 1, stepped)          # from +-0: the smallest subnormal toward b
    sign = np.where(magnitude == 0, (b < a).astype(np.int32) << 15, bits & 0x8000)
    out = ((sign | stepped).astype(np.uint32) << 16).view(np.float32)
    out = np.where(a == b, b, out)
    return np.where(np.isnan(a) | np.isnan(b), np.float32(np.nan), out).astype(np.float32)


def nextafter(input, other, *, out=None):
    """The next representable value after input toward other, in input's
    dtype. PyTorch's gradient passes through to input and is zero for
    other."""
    a, b = _tensor(input), _tensor(other)
    dtype = _C.promote_types(a.dtype, b.dtype)
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for '{_dtype_title(dtype)}'")
    if dtype == _C.bfloat16:
        values = _nextafter_bfloat16(np_of(a.detach().to(dtype)), np_of(b.detach().to(dtype)))
        result = _C.from_numpy(np.array(values, order="C")).to(dtype)       # exact: bfloat16 values
    else:
        values = np.nextafter(a.detach().to(dtype).numpy(), b.detach().to(dtype).numpy())
        result = _C.from_numpy(np.array(values, order="C"))

    def backward(grad):
        return (grad.sum_to_size(a.shape).to(a.dtype), _C.zeros_like(b))

    def jvp(tangents, nr):
        return None if tangents[0] is None else tangents[0].expand(result.shape).to(dtype)

    attach([result], "NextafterBackward0", [a, b], backward, jvp=jvp)
    return result if out is None else _C._with_out(result, out, "nextafter")


def mvlgamma(input, p, *, out=None):
    """The multivariate log-gamma of dimension p:
    sum_i lgamma(x - i / 2) + p (p - 1) / 4 log(pi)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = input if input.is_floating_point() else input.to(_C._default_float_dtype())
    shifts = _C.arange(p, dtype=x.dtype) / -2.0
    result = (x.unsqueeze(-1) + shifts).lgamma().sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    result = named(result, "MvlgammaBackward0")
    return result if out is None else _C._with_out(result, out, "mvlgamma")


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """Counts (or weights) of input's values in `bins` equal bins over
    `range` (default: the values' min and max) or between the given edges."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_dtype_title(input.dtype)}'")
    values = input.detach().numpy().reshape(-1)
    if isinstance(bins, _C.Tensor):
        edges = bins.detach().numpy().astype(values.dtype)
    else:
        if bins <= 0:
            raise RuntimeError(f"cgrad.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None and range[0] > range[1]:
            raise RuntimeError(f"cgrad.histogramdd: min should not exceed max, but got min {range[0]:g} "
                               f"max {range[1]:g} for dimension 0")
        edges = int(bins)
    w = None if weight is None else weight.detach().numpy().reshape(-1)
    hist, bin_edges = np.histogram(values, bins=edges, range=range, weights=w, density=density)
    pair = (_C.from_numpy(np.ascontiguousarray(hist, dtype=values.dtype)),
            _C.from_numpy(np.ascontiguousarray(bin_edges, dtype=values.dtype)))

    def backward(grads):
        raise RuntimeError("derivative for aten::histogram is not implemented")
    # PyTorch's node here is its NotImplemented placeholder, by that name
    attach(list(pair), "NotImplemented", [input, bins if isinstance(bins, _C.Tensor) else None, weight], backward,
           jvp=forward_ad_not_implemented("histogram"))
    return _result("histogram", pair) if out is None else _C._with_out(_result("histogram", pair), out, "histogram")


_ldexp_inplace = _inplace(ldexp, "ldexp_")

_C._install_missing_tensor_methods({
    "ldexp": _tensor_ldexp, "ldexp_": _ldexp_, "frexp": _method(frexp),
    "nextafter": _method(nextafter), "nextafter_": _inplace(nextafter, "nextafter_"),
    "mvlgamma": _method(mvlgamma), "mvlgamma_": _inplace(mvlgamma, "mvlgamma_"), "histogram": _method(histogram),
})
