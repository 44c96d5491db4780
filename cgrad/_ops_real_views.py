"""PyTorch's complex-number functions as they act on cgrad's real dtypes
(cgrad has no complex dtype): conj, conj_physical, resolve_conj,
resolve_neg and Tensor.real return the tensor itself, Tensor.imag raises
PyTorch's error, isreal is all True, is_conj/is_neg are False, and angle
is 0 or pi by sign (nan stays nan) with a zero gradient, as PyTorch
computes them for real inputs. Scripts written for complex-capable code
call these on real tensors, so they must exist and agree."""
import math

from cgrad import _C
from cgrad._ops_composites import _method
from cgrad.autograd.function import Function

__all__ = ["conj", "conj_physical", "conj_physical_", "resolve_conj", "resolve_neg", "real", "imag", "isreal",
           "is_conj", "is_neg", "angle"]


def conj(input):
    return input


def conj_physical(input, *, out=None):
    return input if out is None else _C._with_out(input.clone(), out, "conj_physical")


def conj_physical_(input):
    return input


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def real(input):
    return input


def imag(input):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def isreal(input):
    return _C.ones_like(input, dtype=_C.bool_)


def is_conj(input):
    return False


def is_neg(input):
    return False


class _Angle(Function):
    """angle of a real x: pi where x < 0, else 0 (nan where x is nan); the
    derivative is 0 everywhere, as PyTorch defines it for real inputs."""

    @staticmethod
    def forward(ctx, x):
        result = _C.where(x < 0, math.pi, 0.0).to(x.dtype)
        return _C.where(x != x, x, result)

    @staticmethod
    def backward(ctx, grad):
        return _C.zeros_like(grad)


_Angle._backward_cls.__name__ = _Angle._backward_cls.__qualname__ = "AngleBackward0"


def angle(input, *, out=None):
    if not input.is_floating_point():
        input = input.to(_C._default_float_dtype())
    result = _Angle.apply(input)
    return result if out is None else _C._with_out(result, out, "angle")


def _set_imag(self, value):
    imag(self)


def _set_real(self, value):
    self.copy_(value)


_C._install_missing_tensor_methods({
    **{name: _method(globals()[name]) for name in ("conj", "conj_physical", "conj_physical_", "resolve_conj",
                                                     "resolve_neg", "isreal", "is_conj", "is_neg", "angle")},
    "real": property(real, _set_real), "imag": property(imag, _set_imag),
})
