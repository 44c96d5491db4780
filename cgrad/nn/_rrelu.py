"""Randomized leaky ReLU: cgrad.rrelu / rrelu_, nn.functional.rrelu /
rrelu_ (nn.RReLU uses them), as PyTorch's rrelu_with_noise.

Training: each element x <= 0 is multiplied by a slope drawn uniformly from
[lower, upper] with cgrad's generator (the `generator` argument, else the
default one); elements x > 0 keep slope 1. The slopes are the node's saved
noise and the backward is g * noise. Evaluation: the fixed slope
(lower + upper) / 2, as leaky_relu. Both record RreluWithNoiseBackward0
(RreluWithNoiseBackward1 in place, differentiating from the result). The
forward and backward are whole-tensor ops (uniform_, where, mul), so the
backward is itself differentiable.
"""
from cgrad import _C
from cgrad._op_support import attach, typename
from cgrad.autograd.grad_mode import no_grad

_Tensor = _C.Tensor
_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
          "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _title(t):
    return _NAMES[str(t.dtype).split(".")[-1]]


def _check(input, fname, lower, upper, training):
    if type(input).__name__ == "BatchedTensor":
        raise RuntimeError(f"vmap: we do not yet support aten::{fname}. Please file an issue")   # as PyTorch
    if not isinstance(input, _Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {typename(input)}")
    if float(lower) > float(upper):
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if training and input.dtype not in (_C.float32, _C.float64):
        raise NotImplementedError(f"\"rrelu_with_noise_out_cpu\" not implemented for '{_title(input)}'")
    if not training and not input.is_floating_point():
        raise NotImplementedError(f"\"leaky_relu_cpu\" not implemented for '{_title(input)}'")


def _slopes(x, lower, upper, training, generator):
    """The per-element multipliers (the saved noise in training), no history."""
    positive = x > 0
    if training:
        noise = _C.empty(tuple(x.shape), dtype=x.dtype).uniform_(lower, upper, generator=generator)
        return _C.where(positive, _C.ones((), dtype=x.dtype), noise)
    return _C.where(positive, _C.ones((), dtype=x.dtype), _C.full((), (lower + upper) / 2, dtype=x.dtype))


def _values(x, lower, upper, training, generator):
    with no_grad():
        xd = x.detach()
        if training:
            slopes = _slopes(xd, lower, upper, True, generator)
            return xd * slopes, slopes
        # leaky_relu: x * slope in the input's dtype where x <= 0
        return _C.where(xd > 0, xd, xd * ((lower + upper) / 2)), None


def _grad_scale(reference, lower, upper, training, noise):
    """What backward multiplies g by: the noise (training), else 1 where the
    reference (the input, or the result in place) is > 0 and the slope."""
    if training and upper - lower > 1e-6:
        return noise
    with no_grad():
        return _slopes(reference.detach(), lower, upper, False, None)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """cgrad.rrelu(input, lower, upper, training=False, generator=None)."""
    _check(input, "rrelu", lower, upper, training)
    result, noise = _values(input, lower, upper, training, generator)
    if input.requires_grad and _C.is_grad_enabled():
        scale = _grad_scale(input, lower, upper, training, noise)
        attach([result], "RreluWithNoiseBackward0", [input], lambda g: (g * scale,), saved=[input])
    return result


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """cgrad.rrelu_: rrelu written into input."""
    _check(input, "rrelu_", lower, upper, training)
    _C._check_inplace(input)
    result, noise = _values(input, lower, upper, training, generator)
    if input.requires_grad and _C.is_grad_enabled():
        old = _C._old_value(input)
        scale = _grad_scale(result, lower, upper, training, noise)
        attach([result], "RreluWithNoiseBackward1", [old], lambda g: (g * scale,))
    return _C._commit_inplace(input, result)


def functional_rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """nn.functional.rrelu."""
    if inplace:
        return rrelu_(input, lower, upper, training)
    return rrelu(input, lower, upper, training)


functional_rrelu.__name__ = functional_rrelu.__qualname__ = "rrelu"


def functional_rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """nn.functional.rrelu_."""
    return rrelu_(input, lower, upper, training)


functional_rrelu_.__name__ = functional_rrelu_.__qualname__ = "rrelu_"
