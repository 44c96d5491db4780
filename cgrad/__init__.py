"""cgrad: a fast eager autograd library for the CPU with PyTorch's API.

Everything performance-critical (storage, graph recording, the backward
engine, the kernels) lives in the compiled module cgrad._C; this package
re-exports it under PyTorch's names and adds the pure-Python parts.
"""
import builtins as _builtins

from cgrad import _C


def _is_public(name, obj):
    """Every public function, class and dtype the compiled core defines is
    cgrad's own (tensor, zeros, add, matmul, Tensor, Size, ...), except the
    engine's internals (grad_fn classes, storage, the ready heap)."""
    if name.startswith("_") or name in ("Storage", "ReadyHeap", "bool_"):
        return False
    if isinstance(obj, type) and issubclass(obj, _C.Node):
        return False
    return getattr(obj, "__module__", None) == "cgrad._C" or isinstance(obj, _C.dtype)


globals().update({name: obj for name, obj in vars(_C).items() if _is_public(name, obj)})
from cgrad._C import float16, float32, float64, int8, int16, int32, int64, uint8
from cgrad import autograd, nn, optim, viz
from cgrad.serialization import load, save
from cgrad._tensor_str import set_printoptions
from cgrad.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                      is_inference_mode_enabled, no_grad, set_grad_enabled)

bool = _C.bool_
float = float32
double = float64
half = float16
long = int64
int = int32
short = int16

__version__ = "0.1.0"


def is_floating_point(input):
    return input.is_floating_point()


def get_default_dtype():
    return float32
