"""cgrad: a fast eager autograd library for the CPU with PyTorch's API.

Everything performance-critical (storage, graph recording, the backward
engine, the kernels) lives in the compiled module cgrad._C; this package
re-exports it under PyTorch's names and adds the pure-Python parts.
"""
import builtins as _builtins

from cgrad import _C
from cgrad._C import (Generator, Size, Tensor, abs, add, arange, as_tensor, clone, cos, device,
                      div, divide, dot, dtype, empty, empty_like, exp, from_numpy, full, full_like,
                      initial_seed, is_tensor, log, manual_seed, matmul, mean, mm, mul, multiply,
                      mv, neg, negative, numel, ones, ones_like, permute, pow, rand, randn,
                      reciprocal, relu, reshape, rsub, seed, sigmoid, sign, sin, sqrt, squeeze, sub,
                      subtract, sum, t, tanh, tensor, transpose, true_divide, unsqueeze, zeros,
                      zeros_like)
from cgrad._C import float32, float64, int64
from cgrad import autograd
from cgrad._tensor_str import set_printoptions
from cgrad.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                      is_inference_mode_enabled, no_grad, set_grad_enabled)

bool = _C.bool_
float = float32
double = float64
long = int64

__version__ = "0.1.0"


def is_floating_point(input):
    return input.is_floating_point()


def get_default_dtype():
    return float32
