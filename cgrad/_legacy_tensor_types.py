"""PyTorch's legacy tensor type objects (cgrad.FloatTensor, LongTensor, ...),
cgrad.typename and cgrad.set_default_tensor_type, as old tutorials use
them: FloatTensor(2, 3) makes an uninitialised 2x3 float tensor,
FloatTensor([1, 2]) one from data, isinstance(t, FloatTensor) tests the
dtype, t.type(cgrad.DoubleTensor) converts. They are not subclasses of
Tensor: every tensor is a plain cgrad.Tensor, as in PyTorch."""
import warnings

import numpy as np

from cgrad import _C
from cgrad._op_support import dtype_cpp_name

_LEGACY_DTYPES = {
    "FloatTensor": _C.float32, "DoubleTensor": _C.float64, "HalfTensor": _C.float16,
    "LongTensor": _C.int64, "IntTensor": _C.int32, "ShortTensor": _C.int16, "CharTensor": _C.int8,
    "ByteTensor": _C.uint8, "BoolTensor": _C.bool_, "BFloat16Tensor": _C.bfloat16,
}

__all__ = list(_LEGACY_DTYPES) + ["typename", "set_default_tensor_type"]


def _tensor_options(dtype):
    return (f"TensorOptions(dtype={dtype_cpp_name(dtype)}, device=cpu, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), memory_format=(nullopt))")


class tensortype(type):
    """The type of the legacy type objects: calling one creates a tensor of
    its dtype, isinstance checks a tensor's dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _C.Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args, device=None):
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device} was passed")
        if not args:
            return _C.empty(0, dtype=cls.dtype)
        if len(args) == 1 and isinstance(args[0], _C.Tensor):
            source = args[0]
            if device is not None:
                raise RuntimeError("Legacy tensor constructor of the form torch.Tensor(tensor, device=device) is not "
                                   "supported.  Use torch.tensor(...) or torch.as_tensor(...) instead.")
            if source.dtype != cls.dtype:
                raise TypeError(f"expected {_tensor_options(cls.dtype)} (got {_tensor_options(source.dtype)})")
            return _C.Tensor(source)        # an alias, as PyTorch's new(Tensor other)
        if len(args) == 1 and isinstance(args[0], _C.Size):
            return _C.empty(tuple(args[0]), dtype=cls.dtype)
        if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)):
            return _C.tensor(args[0], dtype=cls.dtype)
        for position, size in enumerate(args):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
                raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {position + 1} with "
                                f"error \"type must be tuple of ints,but got {type(size).__name__}\"")
        return _C.empty(tuple(int(s) for s in args), dtype=cls.dtype)


def _legacy_type(name, dtype):
    cls = tensortype(name, (), {"dtype": dtype, "is_cuda": False, "is_sparse": False,
                                "__doc__": f"Legacy constructor of {dtype} tensors (cgrad.tensor(..., dtype=...))."})
    cls.__module__ = "cgrad"
    return cls


tensortype.__module__ = "cgrad"
globals().update({name: _legacy_type(name, dtype) for name, dtype in _LEGACY_DTYPES.items()})


def typename(obj):
    """The type's name as PyTorch prints it: 'cgrad.FloatTensor' for a
    tensor, the module-qualified class name otherwise."""
    if isinstance(obj, _C.Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


def set_default_tensor_type(t):
    """Deprecated in PyTorch 2.1: sets the default dtype from a legacy type
    object or its name."""
    import cgrad
    warnings.warn("cgrad.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "cgrad.set_default_dtype() and cgrad.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    if isinstance(t, str):
        name = t.split(".")[-1]
        if t.split(".")[0] not in ("cgrad", "torch") or name not in _LEGACY_DTYPES:
            raise TypeError(f"invalid type: '{t}'")
        dtype = _LEGACY_DTYPES[name]
    elif isinstance(t, tensortype):
        dtype = t.dtype
    else:
        raise TypeError(f"invalid type: '{t}'")
    if not dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    cgrad.set_default_dtype(dtype)


def _tensor_new(self, *args, device=None):
    """Tensor.new(...): the legacy constructor of self's dtype (old code's
    `weight.new(n, m).zero_()`)."""
    return globals()[_C.empty(0, dtype=self.dtype).type().split(".")[-1]](*args, device=device)


_tensor_new.__name__ = _tensor_new.__qualname__ = "new"
_C._install_missing_tensor_methods({"new": _tensor_new})
