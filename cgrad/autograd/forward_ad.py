"""cgrad.autograd.forward_ad: PyTorch's forward-mode AD API.

Tangents live on the tensors themselves (a C slot, see
src/cgrad/forward_ad.pxi) and flow through every op while a dual level is
active; a level is a plain counter here, and PyTorch allows only one at a
time. Argument checks and error texts follow torch/autograd/forward_ad.py.
"""
from typing import NamedTuple, Optional

from cgrad import _C
from cgrad._C import Tensor
from cgrad.autograd.grad_mode import _DecoratorContextManager

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "dual_level"]

_current_level = -1


def enter_dual_level():
    """Enter a new forward grad level; returns its index."""
    global _current_level
    new_level = _C._fw_enter_level()
    if new_level != _current_level + 1:
        raise RuntimeError("Entering a new forward AD level but the current level is not valid. Make sure you "
                           "did not modify it directly.")
    _current_level = new_level
    return new_level


def exit_dual_level(*, level=None):
    """Exit the latest forward grad level, deleting every tangent of it."""
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    _C._fw_exit_level(level)
    _current_level = level - 1


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` carrying `tangent` (as-is when laid out as
    `tensor`, else a copy) at the current dual level."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not tensor.is_floating_point():
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not tangent.is_floating_point():
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if level != _current_level:
        # PyTorch's C++ checks: a level that does not exist, or not the one running
        if _current_level < 0:
            raise RuntimeError("Trying to access a forward AD level with an invalid index. This index was "
                               "either not created or is already deleted.")
        raise RuntimeError("Invalid level given to _make_dual")
    return _C._fw_make_dual(tensor, tangent)


class UnpackedDualTensor(NamedTuple):
    """What unpack_dual returns: the primal and the tangent (or None)."""
    primal: Tensor
    tangent: Optional[Tensor]


def unpack_dual(tensor, *, level=None):
    """(primal, tangent) of `tensor` at the current level; the primal is a
    view of `tensor` without the tangent."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    primal, tangent = _C._fw_unpack_dual(tensor)
    if level != _current_level:
        if tangent is not None:     # PyTorch checks the level when the tensor has a tangent
            raise RuntimeError("Invalid level given to _fw_primal")
        return UnpackedDualTensor(primal, None)
    return UnpackedDualTensor(primal, tangent)


class dual_level(_DecoratorContextManager):
    """Context manager of a forward AD level (PyTorch supports no nesting:
    entering a second one raises)."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, exc_type, exc_value, traceback):
        exit_dual_level()
