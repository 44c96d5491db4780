"""PyTorch's less common factories: the spectral windows (hann, hamming,
blackman, bartlett, kaiser), scalar_tensor, the deprecated inclusive
range, empty_strided, and frombuffer (a tensor over the memory of any
object with the buffer protocol).

A window is a whole-array formula: numpy evaluates it in float64 and the
result is cast once to the requested dtype (PyTorch evaluates in that
dtype, so float32 results may differ in the last bit). A periodic window
of length N is the symmetric window of length N + 1 without its last
sample, as in PyTorch and scipy.signal.get_window."""
import builtins
import warnings

import numpy as np

from cgrad import _C
from cgrad._op_support import dtype_cpp_name

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window",
           "scalar_tensor", "range", "empty_strided", "frombuffer"]

def _window(name, window_length, periodic, dtype, requires_grad, symmetric_values):
    if isinstance(window_length, builtins.bool) or not isinstance(window_length, int):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, "
                        f"not {type(window_length).__name__}")
    if dtype is None:
        dtype = _C._default_float_dtype()
    if not dtype.is_floating_point:
        cpp_name = dtype_cpp_name(dtype)
        raise RuntimeError(f"{name} expects floating point dtypes, got: TensorOptions(dtype={cpp_name}, device=cpu, "
                           f"layout=Strided (default), requires_grad={'true' if requires_grad else 'false (default)'}, "
                           f"pinned_memory=false, memory_format=(nullopt))")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        values = np.ones(window_length)
    else:
        length = window_length + 1 if periodic else window_length
        values = symmetric_values(length)[:window_length]
    result = _C.from_numpy(np.ascontiguousarray(values)).to(dtype)
    return result.requires_grad_() if requires_grad else result


def _cosine_sum(coefficients):
    """a0 - a1 cos(2 pi n / (N - 1)) + a2 cos(4 pi n / (N - 1)) - ..."""
    def values(length):
        phase = 2 * np.pi * np.arange(length) / (length - 1)
        return builtins.sum((-1) ** k * a * np.cos(k * phase) for k, a in enumerate(coefficients))
    return values


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    return _window("hann_window", window_length, periodic, dtype, requires_grad, _cosine_sum((0.5, 0.5)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False):
    return _window("hamming_window", window_length, periodic, dtype, requires_grad, _cosine_sum((alpha, beta)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    return _window("blackman_window", window_length, periodic, dtype, requires_grad,
                   _cosine_sum((0.42, 0.5, 0.08)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    def values(length):
        return 1.0 - np.abs(2.0 * np.arange(length) / (length - 1) - 1.0)
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, values)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad,
                   lambda length: np.kaiser(length, beta))


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False):
    """A 0-d tensor of s in the default float dtype (not the dtype s's
    Python type would infer, unlike cgrad.tensor)."""
    return _C.tensor(s, dtype=_C._default_float_dtype() if dtype is None else dtype, requires_grad=requires_grad)


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False):
    """The values start, start + step, ... up to and including end
    (deprecated in PyTorch for arange, whose end is excluded)."""
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    count = int(np.floor((end - start) / step)) + 1
    values = start + step * np.arange(count, dtype=np.float64)
    result = _C.from_numpy(values).to(_C._default_float_dtype() if dtype is None else dtype)
    if out is not None:
        result = _C._with_out(result, out, "range")
    return result.requires_grad_() if requires_grad else result


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False):
    """An uninitialised tensor with the given strides: a view of a buffer
    just large enough to hold them (PyTorch's result owns that buffer
    itself; here its _base is the buffer)."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    extent = 0 if 0 in size else 1 + builtins.sum((n - 1) * s for n, s in zip(size, stride))
    base = _C.empty(extent, dtype=dtype)
    result = base.as_strided(size, stride) if extent else _C.empty(size, dtype=dtype)
    return result.requires_grad_() if requires_grad else result


_warned_read_only_buffer = False


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor sharing `buffer`'s memory: `count` elements of `dtype`
    (all that fit when -1) from byte `offset`."""
    global _warned_read_only_buffer
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    length = view.nbytes
    itemsize = dtype.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({length} "
                         "bytes) minus 1")
    if count < 0:
        if (length - offset) % itemsize != 0:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a "
                             f"multiple of element size ({itemsize})")
        count = (length - offset) // itemsize
    elif offset + count * itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {itemsize} bytes) after offset ({offset} bytes) must "
                         f"not be greater than actual buffer length ({length} bytes)")
    array = np.frombuffer(view.cast("B"), dtype=np.dtype(str(dtype).rsplit(".", 1)[-1]), count=count, offset=offset)
    if view.readonly and not _warned_read_only_buffer:
        _warned_read_only_buffer = True
        warnings.warn("The given buffer is not writable, and PyTorch does not support non-writable tensors. This "
                      "means you can write to the underlying (supposedly non-writable) buffer using the tensor. You "
                      "may want to copy the buffer to protect its data or make it writable before converting it to a "
                      "tensor. This type of warning will be suppressed for the rest of this program.", stacklevel=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # numpy's own not-writable text: the buffer's was given above
        tensor = _C.from_numpy(array)
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor
