# "Creating Extensions Using NumPy and SciPy": BadFFTFunction (numpy rfft2 on detached input, input.new(result)), ScipyConv2dFunction with a learnable filter and bias, its Module, and gradcheck.
import numpy as np
import torch
from torch.autograd import Function
from numpy.fft import rfft2, irfft2
from scipy.signal import convolve2d, correlate2d
from torch.nn.modules.module import Module
from torch.nn.parameter import Parameter


class BadFFTFunction(Function):
    @staticmethod
    def forward(ctx, input):
        numpy_input = input.detach().numpy()
        result = abs(rfft2(numpy_input))
        return input.new(result)

    @staticmethod
    def backward(ctx, grad_output):
        numpy_go = grad_output.numpy()
        result = irfft2(numpy_go)
        return grad_output.new(result)


def incorrect_fft(input):
    return BadFFTFunction.apply(input)


input = torch.from_numpy(np.random.RandomState(0).randn(8, 8).astype(np.float32)).requires_grad_()
result = incorrect_fft(input)
print(result.shape, result.dtype, result.grad_fn.name())
print(result[:2].round(decimals=3))
result.backward(torch.from_numpy(np.random.RandomState(1).randn(*result.size()).astype(np.float32)))
print(input.grad.shape, input.grad[0].round(decimals=3))


class ScipyConv2dFunction(Function):
    @staticmethod
    def forward(ctx, input, filter, bias):
        input, filter, bias = input.detach(), filter.detach(), bias.detach()
        result = correlate2d(input.numpy(), filter.numpy(), mode='valid')
        result += bias.numpy()
        ctx.save_for_backward(input, filter, bias)
        return torch.as_tensor(result, dtype=input.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        grad_output = grad_output.detach()
        input, filter, bias = ctx.saved_tensors
        grad_output = grad_output.numpy()
        grad_bias = np.sum(grad_output, keepdims=True)
        grad_input = convolve2d(grad_output, filter.numpy(), mode='full')
        grad_filter = correlate2d(input.numpy(), grad_output, mode='valid')
        return torch.from_numpy(grad_input), torch.from_numpy(grad_filter).to(torch.float), \
            torch.from_numpy(grad_bias).to(torch.float)


class ScipyConv2d(Module):
    def __init__(self, filter_width, filter_height):
        super(ScipyConv2d, self).__init__()
        self.filter = Parameter(torch.from_numpy(
            np.random.RandomState(2).randn(filter_width, filter_height).astype(np.float32)))
        self.bias = Parameter(torch.from_numpy(np.random.RandomState(3).randn(1, 1).astype(np.float32)))

    def forward(self, input):
        return ScipyConv2dFunction.apply(input, self.filter, self.bias)


module = ScipyConv2d(3, 3)
print("Filter and bias: ", list(module.parameters()))
input = torch.from_numpy(np.random.RandomState(4).randn(10, 10).astype(np.float32)).requires_grad_()
output = module(input)
print("Output from the convolution: ", output.shape, output[0].round(decimals=3))
output.backward(torch.from_numpy(np.random.RandomState(5).randn(8, 8).astype(np.float32)))
print("Gradient for the input map: ", input.grad.shape, input.grad[0].round(decimals=3))
print(module.filter.grad.round(decimals=3), module.bias.grad.round(decimals=3))

from torch.autograd.gradcheck import gradcheck
moduleConv = ScipyConv2d(3, 3)
input = [torch.from_numpy(np.random.RandomState(6).randn(20, 20)).requires_grad_()]
test = gradcheck(moduleConv, input, eps=1e-6, atol=1e-4)
print("Are the gradients correct: ", test)
t = torch.tensor([1.0, 2.0])
print(t.new(np.array([[1.5, 2.5]])), t.new(np.array([3, 4])).dtype, t.new([1, 2]).dtype, t.new(2, 3).shape)
