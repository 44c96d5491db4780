"""Randomized leaky ReLU: cgrad.rrelu / rrelu_, nn.functional.rrelu /
rrelu_ (nn.RReLU uses them), as PyTorch's rrelu_with_noise.

Training: each element x <= 0 is multiplied by a slope drawn uniformly from
[lower, upper] with cgrad's generator (the `generator` argument, else the
default one); elements x > 0 keep slope 1. The slopes are the node's saved
noise and the backward is g * noise. Evaluation: the fixed slope
(lower + upper) / 2, as leaky_relu. Both record RreluWithNoiseBackward0
(RreluWithNoiseBackward1 in place) over input * slopes: whole-tensor ops
(uniform_, where, mul), so the backward (g * slopes) is itself
differentiable and forward AD gets slopes * tangent.
"""
from cgrad import _C
from cgrad._op_support import dtype_title, typename
from cgrad.autograd.grad_mode import no_grad
from cgrad.nn._named_node import named

_Tensor = _C.Tensor


def _title(t):
    return dtype_title(t.dtype)


def _check(input, fname, lower, upper, training):
    if type(input).__name__ == "BatchedTensor":
        raise RuntimeError(f"vmap: we do not yet support aten::{fname}. Please file an issue")   # as PyTorch
    if not isinstance(input, _Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {typename(input)}")
    if float(lower) > float(upper):
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if training and input.dtype not in (_C.float32, _C.float64, _C.bfloat16):
        raise NotImplementedError(f"\"rrelu_with_noise_out_cpu\" not implemented for '{_title(input)}'")
    if not training and not input.is_floating_point():
        raise NotImplementedError(f"\"leaky_relu_cpu\" not implemented for '{_title(input)}'")


def _slopes(x, lower, upper, generator):
    """The noise of training, drawn as PyTorch's _rrelu_with_noise_train:
    for each x <= 0 in order, lower + u * (upper - lower) with u a double
    uniform and the bounds in x's dtype (float32 for bfloat16); 1 elsewhere (no history)."""
    opmath = _C.float32 if x.dtype == _C.bfloat16 else x.dtype      # bfloat16's bounds are float32s
    bounds = _C.tensor([float(lower), float(upper)], dtype=opmath).double().tolist()
    drawn = x <= 0
    u = _C._uniform_doubles(int(drawn.sum()), generator)
    noise = _C.ones(tuple(x.shape), dtype=opmath)
    noise[drawn] = (u * (bounds[1] - bounds[0]) + bounds[0]).to(opmath)
    return noise


def _apply(x, lower, upper, training, generator):
    """x times its slopes: the drawn noise in training; in evaluation
    leaky_relu's x * slope with the slope as a number (computed in the
    dtype's opmath type, float for float16, as PyTorch)."""
    if training:
        with no_grad():
            noise = _slopes(x.detach(), lower, upper, generator)
        if noise.dtype == x.dtype:
            return x * noise
        # bfloat16: PyTorch's kernel multiplies by the float32 slope and rounds once, but saves
        # (and differentiates with) the slope rounded to bfloat16
        saved = noise.to(x.dtype)
        result = x * saved
        with no_grad():
            exact = (x.detach().float() * noise).to(x.dtype)
        return result + (exact - result.detach())
    return _C.where(x > 0, x, x * ((lower + upper) / 2))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """cgrad.rrelu(input, lower, upper, training=False, generator=None)."""
    _check(input, "rrelu", lower, upper, training)
    return named(_apply(input, lower, upper, training, generator), "RreluWithNoiseBackward0")


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """cgrad.rrelu_: rrelu written into input."""
    _check(input, "rrelu_", lower, upper, training)
    _C._check_inplace(input)
    if _C._fw_tangent(input) is not None:
        raise NotImplementedError(
            "Trying to use forward AD with rrelu_with_noise_ that does not support it because it has not been "
            "implemented yet.\nPlease file an issue to PyTorch at "
            "https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so that we can prioritize "
            "its implementation.")      # as PyTorch: its in-place rrelu has no forward-mode formula
    if input.requires_grad and _C.is_grad_enabled():
        result = _apply(_C._old_value(input), lower, upper, training, generator)
        return _C._commit_inplace(input, named(result, "RreluWithNoiseBackward1"))
    return _C._commit_inplace(input, _apply(input, lower, upper, training, generator))


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
