# "Python Custom Operators" tutorial: torch.library.custom_op wrapping numpy code, register_fake, register_autograd with setup_context, mutates_args, and the op called through torch.ops.
import numpy as np
import torch
from torch import Tensor


@torch.library.custom_op("mylib::numpy_sin", mutates_args=())
def numpy_sin(x: Tensor) -> Tensor:
    x_np = x.numpy()
    y_np = np.sin(x_np)
    return torch.from_numpy(y_np)


@numpy_sin.register_fake
def _(x):
    return torch.empty_like(x)


def setup_context(ctx, inputs, output):
    x, = inputs
    ctx.save_for_backward(x)


def backward(ctx, grad):
    x, = ctx.saved_tensors
    return grad * x.cos()


numpy_sin.register_autograd(backward, setup_context=setup_context)
x = torch.tensor([0.0, 0.5, 1.0, 1.5], requires_grad=True)
y = numpy_sin(x)
print(y)
print(y.requires_grad)
y.sum().backward()
print(x.grad)
print(torch.allclose(x.grad, x.detach().cos()))
print(torch.ops.mylib.numpy_sin(torch.tensor([0.25])))
z = torch.ops.mylib.numpy_sin.default(torch.tensor([[0.1, 0.2]], dtype=torch.float64))
print(z, z.dtype)


@torch.library.custom_op("mylib::numpy_mul", mutates_args=())
def numpy_mul(x: Tensor, y: Tensor) -> Tensor:
    return torch.from_numpy(x.numpy() * y.numpy())


@numpy_mul.register_fake
def _(x, y):
    return torch.empty_like(x)


def mul_setup_context(ctx, inputs, output):
    x, y = inputs
    saved_x = x if ctx.needs_input_grad[1] else None
    saved_y = y if ctx.needs_input_grad[0] else None
    ctx.save_for_backward(saved_x, saved_y)


def mul_backward(ctx, grad):
    x, y = ctx.saved_tensors
    grad_x = grad * y if ctx.needs_input_grad[0] else None
    grad_y = grad * x if ctx.needs_input_grad[1] else None
    return grad_x, grad_y


numpy_mul.register_autograd(mul_backward, setup_context=mul_setup_context)
a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = torch.tensor([4.0, 5.0, 6.0])
c = numpy_mul(a, b)
c.sum().backward()
print(c, a.grad, b.grad)
a64 = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
b64 = torch.tensor([1.5, 2.5], dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(numpy_mul, (a64, b64)))


@torch.library.custom_op("mylib::numpy_sin_out", mutates_args={"out"})
def numpy_sin_out(x: Tensor, out: Tensor) -> None:
    assert x.device == out.device
    x_np = x.numpy()
    out_np = out.numpy()
    np.sin(x_np, out=out_np)


x = torch.tensor([0.0, 1.0, 2.0])
out = torch.empty(3)
v = out._version
result = numpy_sin_out(x, out)
print(result, out, out._version > v)
print(type(numpy_sin).__name__, numpy_sin._name if hasattr(numpy_sin, "_name") else None)
