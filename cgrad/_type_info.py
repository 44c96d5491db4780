"""cgrad.finfo and cgrad.iinfo: the numeric limits of a floating-point or
integer dtype, with PyTorch's attributes (bits, eps, max, min, resolution,
smallest_normal, tiny; dtype as a name such as 'float32'), reprs and
errors. The figures are numpy's for the same machine type."""
import numpy as np

from cgrad import _C

__all__ = ["finfo", "iinfo"]


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


def _numpy_type(dtype):
    return _C.empty(0, dtype=dtype).numpy().dtype


def _require_dtype(fname, dtype):
    if not isinstance(dtype, _C.dtype):
        raise TypeError(f"{fname}(): argument 'type' (position 1) must be cgrad.dtype, not {type(dtype).__name__}")


class finfo:
    """Machine limits of a floating-point dtype (the default dtype without
    an argument)."""

    def __init__(self, type=None):
        import cgrad
        dtype = cgrad.get_default_dtype() if type is None else type
        _require_dtype("finfo", dtype)
        if not dtype.is_floating_point:
            raise TypeError("cgrad.finfo() requires a floating point input type. Use cgrad.iinfo to handle "
                            "'cgrad.finfo'")
        if dtype == _C.bfloat16:     # numpy has no bfloat16: its figures (8 exponent, 7 mantissa bits)
            self._set_bfloat16()
            return
        info = np.finfo(_numpy_type(dtype))
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.resolution = 10.0 ** -int(info.precision)
        self.smallest_normal = float(info.smallest_normal)
        self.tiny = self.smallest_normal
        self.dtype = _dtype_name(dtype)

    def _set_bfloat16(self):
        self.bits = 16
        self.eps = 2.0 ** -7
        self.max = (2.0 - 2.0 ** -7) * 2.0 ** 127
        self.min = -self.max
        self.resolution = 0.01           # 10 ** -floor(7 * log10(2)), numpy's precision rule
        self.smallest_normal = 2.0 ** -126
        self.tiny = self.smallest_normal
        self.dtype = "bfloat16"

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype."""

    def __init__(self, type):
        _require_dtype("iinfo", type)
        if type == _C.bool_:
            raise TypeError("cgrad.bool is not supported by cgrad.iinfo")
        if type.is_floating_point:
            raise TypeError("cgrad.iinfo() requires an integer input type. Use cgrad.finfo to handle "
                            "'cgrad.iinfo'")
        info = np.iinfo(_numpy_type(type))
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = _dtype_name(type)

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
