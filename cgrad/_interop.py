"""Exchanging tensors with other array libraries without copies.

DLPack (the array-API standard's protocol, with PyTorch's rules for what may
be exported) is built on numpy's own DLPack implementation over the zero-copy
numpy view of a tensor: the capsule owns that view, and the view owns the
tensor's storage, so the memory lives as long as the consumer needs it.
Importing goes the other way: numpy consumes the producer's capsule and
cgrad.from_numpy shares the resulting array's memory.

numpy has no bfloat16: a bfloat16 tensor goes out as the capsule of its
bits (an int16 view) whose DLPack dtype is then set to kDLBfloat 16, and a
kDLBfloat 16 capsule comes in with its dtype set to kDLInt 16 for numpy,
viewed back as bfloat16 (the dtype field is the only thing changed; the
producer's deleter frees the memory as before).

numpy's ufuncs on tensors come back as tensors through __array_wrap__, as
PyTorch's do (bool results become uint8, as in PyTorch)."""
import ctypes
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


# DLDataType codes, and where a capsule's DLTensor.dtype is: byte 20 of a
# DLManagedTensor ("dltensor"), byte 52 of a DLManagedTensorVersioned (its
# version, manager_ctx, deleter and flags come first)
_KDL_INT = 0
_KDL_BFLOAT = 4
_DTYPE_OFFSETS = ((b"dltensor", 20), (b"dltensor_versioned", 52))
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_valid.restype = ctypes.c_int
_capsule_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _capsule_dtype(capsule):
    """The (code, bits) bytes of an unconsumed capsule's DLTensor.dtype (a
    writable ctypes array), or None."""
    for name, offset in _DTYPE_OFFSETS:
        if _capsule_valid(capsule, name):
            address = _capsule_pointer(capsule, name) + offset
            return (ctypes.c_uint8 * 2).from_address(address)
    return None


def _retag(capsule, code_from, code_to):
    """Change a 16-bit capsule's dtype code from code_from to code_to;
    whether it had code_from."""
    field = _capsule_dtype(capsule)
    if field is None or field[0] != code_from or field[1] != 16:
        return False
    field[0] = code_to
    return True


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
    bf16 = tensor.dtype == _C.bfloat16
    view = tensor.view(_C.int16).numpy() if bf16 else tensor.numpy()
    if max_version is None or max_version[0] < 1:
        capsule = view.__dlpack__(copy=copy)
    else:
        capsule = view.__dlpack__(max_version=tuple(max_version), copy=copy)
    if bf16:
        _retag(capsule, _KDL_INT, _KDL_BFLOAT)
    return capsule


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
    bf16 = False
    if hasattr(ext_tensor, "__dlpack__") and _is_bfloat16(ext_tensor):
        # an unversioned capsule we can retag (numpy asks the producer for a versioned one)
        source = _CapsuleHolder(ext_tensor.__dlpack__())
    if isinstance(source, _CapsuleHolder):
        bf16 = _retag(source.capsule, _KDL_BFLOAT, _KDL_INT)
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
        t = _C.from_numpy(arr)
    return t.view(_C.bfloat16) if bf16 else t


def _is_bfloat16(obj):
    """Whether another library's tensor is bfloat16 (by its dtype's name:
    torch.bfloat16, jax's and ml_dtypes' bfloat16)."""
    return str(getattr(obj, "dtype", "")).split(".")[-1] == "bfloat16"


def to_dlpack(tensor):
    """torch.utils.dlpack.to_dlpack: an unversioned capsule of the tensor's
    memory (no requires_grad check, as in PyTorch)."""
    if not isinstance(tensor, _C.Tensor):
        raise TypeError(f"to_dlpack(): argument 'data' (position 1) must be Tensor, not {type(tensor).__name__}")
    t = tensor.detach()
    if t.dtype != _C.bfloat16:
        return t.numpy().__dlpack__()
    capsule = t.view(_C.int16).numpy().__dlpack__()
    _retag(capsule, _KDL_INT, _KDL_BFLOAT)
    return capsule


def array_wrap(array):
    """Tensor.__array_wrap__: a numpy ufunc's result as a tensor sharing its
    memory; bool results as uint8, as PyTorch makes them."""
    array = np.asarray(array)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return _C.from_numpy(array)
