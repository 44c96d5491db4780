"""cgrad.types: the type aliases PyTorch's torch.types gives annotations in
scripts and libraries (`from torch.types import Number`): Number, Device,
FileLike, Storage and the underscored shorthands (_int, _size, _dtype,
_TensorOrTensors, ...). Aliases only; nothing here is called."""
import os
from collections.abc import Sequence
from typing import IO, Union

from cgrad import _C

__all__ = ["Number", "Device", "FileLike", "Storage"]

_bool = bool
_bytes = bytes
_complex = complex
_float = float
_int = int
_str = str

_dtype = _C.dtype
_device = _C.device
_size = Union[_C.Size, list[int], tuple[int, ...]]

_TensorOrTensors = Union[_C.Tensor, Sequence[_C.Tensor]]
_TensorOrOptionalTensors = Union[_C.Tensor, Sequence[Union[_C.Tensor, None]]]

_Number = (int, float, bool)     # for isinstance checks, as PyTorch's
Number = Union[int, float, bool]
Device = Union[_C.device, str, int, None]
FileLike = Union[str, os.PathLike, IO[bytes]]


def __getattr__(name):
    # the storage and layout classes import after this module
    if name == "Storage":
        from cgrad import UntypedStorage
        return UntypedStorage
    if name == "_layout":
        from cgrad import layout
        return layout
    raise AttributeError(f"module 'cgrad.types' has no attribute '{name}'")
