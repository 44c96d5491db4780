"""cgrad: a fast eager autograd library for the CPU with PyTorch's API.

Everything performance-critical (storage, graph recording, the backward
engine, the kernels) lives in the compiled module cgrad._C; this package
re-exports it under PyTorch's names and adds the pure-Python parts.
"""
import builtins as _builtins
import os as _os

# The kernels' OpenMP threads sleep between parallel regions instead of
# spinning (unless the user chose otherwise): spinning threads fight with
# numpy's BLAS threads and with the rest of the program for the cores, and a
# spinning pool made small ops 100x slower on a loaded 2-core machine. The
# variable is read once, when the OpenMP runtime loads with cgrad._C, and is
# put back right after so other libraries see the environment as it was.
_omp_policy_set = "OMP_WAIT_POLICY" not in _os.environ
if _omp_policy_set:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
try:
    from cgrad import _C
finally:
    if _omp_policy_set:
        del _os.environ["OMP_WAIT_POLICY"]


def _is_public(name, obj):
    """Every public function, class and dtype the compiled core defines is
    cgrad's own (tensor, zeros, add, matmul, Tensor, Size, ...), except the
    engine's internals (grad_fn classes, storage, the ready heap)."""
    if name.startswith("_") or name in ("Storage", "ReadyHeap", "Geometry", "bool_"):
        return False
    if isinstance(obj, type) and issubclass(obj, _C.Node):
        return False
    # (Tensor by identity: its type is named 'Tensor', as PyTorch's, so its
    # __module__ reads 'builtins')
    return (getattr(obj, "__module__", None) == "cgrad._C" or isinstance(obj, _C.dtype)
            or obj is _C.Tensor)


globals().update({name: obj for name, obj in vars(_C).items() if _is_public(name, obj)})
from cgrad._C import float16, float32, float64, int8, int16, int32, int64, uint8
from cgrad import autograd, linalg, nn, optim, viz
# data loading, the device surface of a CPU-only build (issue 15)
from cgrad import backends, cuda, random, utils
from cgrad._C import Generator, default_generator
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
