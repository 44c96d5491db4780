"""Exchanging tensors with other array libraries without copies.

DLPack (the array-API standard's protocol, with PyTorch's rules for what may
be exported) is built on numpy's own DLPack implementation over the zero-copy
numpy view of a tensor: the capsule owns that view, and the view owns the
tensor's storage, so the memory lives as long as the consumer needs it.
Importing goes the other way: numpy consumes the producer's capsule and
cgrad.from_numpy shares the resulting array's memory.

numpy's ufuncs on tensors come back as tensors through __array_wrap__, as
PyTorch's do (bool results become uint8, as in PyTorch)."""
import enum
import warnings

import numpy as np

from cgrad import _C


class DLDeviceType(enum.IntEnum):
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


_INVALID_CAPSULE = ("from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed "
                    "only once, so you might have already constructed a tensor from it once.")


def dlpack_device(tensor):
    return (DLDeviceType.kDLCPU, 0)


def tensor_dlpack(tensor, stream, max_version, dl_device, copy):
    """Tensor.__dlpack__: a DLPack capsule over the tensor's memory (a copy
    only when copy=True); versioned when the consumer's max_version >= 1."""
    if tensor.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    if stream is not None and stream != -1:
        raise AssertionError("stream should be None on cpu.")
    if dl_device is not None and tuple(dl_device) != (DLDeviceType.kDLCPU, 0):
        raise BufferError(f"cgrad tensors live on the CPU and can only be exported to dl_device "
                          f"(kDLCPU, 0), not {tuple(dl_device)}")
    view = tensor.numpy()
    if max_version is None or max_version[0] < 1:
        return view.__dlpack__(copy=copy)
    return view.__dlpack__(max_version=tuple(max_version), copy=copy)


class _CapsuleHolder:
    """Lets numpy consume a bare capsule (what to_dlpack returns)."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        return self.capsule

    def __dlpack_device__(self):
        return (DLDeviceType.kDLCPU, 0)


def _is_capsule(obj):
    return type(obj).__name__ == "PyCapsule"


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A cgrad tensor sharing memory with another library's tensor (any
    object with __dlpack__, or a DLPack capsule); copy=True copies, and
    copy=None copies only what cgrad cannot share (negative strides)."""
    if device is not None:
        _C._check_device(device)   # PyTorch's CPU-only build errors for other devices
    if hasattr(ext_tensor, "__dlpack__"):
        dev = ext_tensor.__dlpack_device__() if hasattr(ext_tensor, "__dlpack_device__") else (1, 0)
        if int(dev[0]) not in (DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost):
            name = DLDeviceType(int(dev[0])).name if int(dev[0]) in DLDeviceType._value2member_map_ else dev[0]
            raise RuntimeError(f"cgrad runs on the CPU only; cannot import a DLPack tensor on device {name}")
        source = ext_tensor
    elif _is_capsule(ext_tensor):
        source = _CapsuleHolder(ext_tensor)
    else:
        raise RuntimeError(_INVALID_CAPSULE)
    try:
        arr = np.from_dlpack(source, copy=copy)
    except (ValueError, RuntimeError) as e:
        if _is_capsule(ext_tensor):
            raise RuntimeError(_INVALID_CAPSULE) from e
        raise RuntimeError(f"cgrad cannot import this DLPack tensor: {e} (cgrad has float16/32/64, "
                           "int8/16/32/64, uint8 and bool)") from e
    if any(s < 0 for s in arr.strides):
        if copy is False:
            raise BufferError("cgrad tensors cannot have negative strides; this DLPack tensor can only be "
                              "imported with a copy (copy=None or copy=True)")
        arr = arr.copy()
    with warnings.catch_warnings():
        # A read-only producer (a JAX array) is shared as PyTorch shares it: without a warning.
        warnings.simplefilter("ignore", UserWarning)
        return _C.from_numpy(arr)


def to_dlpack(tensor):
    """torch.utils.dlpack.to_dlpack: an unversioned capsule of the tensor's
    memory (no requires_grad check, as in PyTorch)."""
    if not isinstance(tensor, _C.Tensor):
        raise TypeError(f"to_dlpack(): argument 'data' (position 1) must be Tensor, not {type(tensor).__name__}")
    return tensor.detach().numpy().__dlpack__()


def array_wrap(array):
    """Tensor.__array_wrap__: a numpy ufunc's result as a tensor sharing its
    memory; bool results as uint8, as PyTorch makes them."""
    array = np.asarray(array)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return _C.from_numpy(array)
