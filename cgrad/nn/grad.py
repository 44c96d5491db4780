"""torch.nn.grad: the gradients of a convolution with respect to its input
or its weight, given the gradient of its output (what a hand-written
backward or a gradient-of-gradient recipe asks for).

A convolution is linear in its input and in its weight, so each gradient is
the vector-Jacobian product of the convolution at any point: cgrad runs the
convolution on zeros of the requested size and differentiates it, which
keeps the result differentiable where the weight (or the input) and the
output gradient require grad, as PyTorch's convolution_backward is; the
result carries PyTorch's node name, ConvolutionBackwardBackward0.
"""
import cgrad
from cgrad.nn import functional as F
from cgrad.nn._named_node import named

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]

_CONVS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _vjp(spatial, wrt_input, point, other, grad_output, stride, padding, dilation, groups):
    """The gradient of conv(input, weight) with respect to the tensor made of
    zeros of size `point` (the input when wrt_input, else the weight)."""
    conv = _CONVS[spatial]
    fixed = other.detach() if not (cgrad.is_grad_enabled() and other.requires_grad) else other
    create_graph = cgrad.is_grad_enabled() and (fixed.requires_grad or grad_output.requires_grad)
    with cgrad.enable_grad():
        zero = cgrad.zeros(tuple(point), dtype=grad_output.dtype, requires_grad=True)
        out = (conv(zero, fixed, None, stride, padding, dilation, groups) if wrt_input
               else conv(fixed, zero, None, stride, padding, dilation, groups))
        grad, = cgrad.autograd.grad(out, zero, grad_output, create_graph=create_graph)
    return named(grad, "ConvolutionBackwardBackward0") if grad.requires_grad else grad


def _input_gradient(spatial):
    def conv_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
        return _vjp(spatial, True, input_size, weight, grad_output, stride, padding, dilation, groups)
    conv_input.__name__ = conv_input.__qualname__ = f"conv{spatial}d_input"
    return conv_input


def _weight_gradient(spatial):
    def conv_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
        return _vjp(spatial, False, weight_size, input, grad_output, stride, padding, dilation, groups)
    conv_weight.__name__ = conv_weight.__qualname__ = f"conv{spatial}d_weight"
    return conv_weight


conv1d_input, conv2d_input, conv3d_input = (_input_gradient(n) for n in (1, 2, 3))
conv1d_weight, conv2d_weight, conv3d_weight = (_weight_gradient(n) for n in (1, 2, 3))
