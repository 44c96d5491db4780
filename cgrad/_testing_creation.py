"""cgrad.testing.make_tensor, as torch.testing.make_tensor: a tensor of the
given shape and dtype filled uniformly from [low, high) (per-dtype
defaults: bool [0, 2), unsigned [0, 10), signed [-9, 10), floating
[-9, 9)), optionally non-contiguous, in a memory format, without zeros,
requiring grad. The draws are cgrad's randint and uniform_, in the order
PyTorch's make_tensor makes them, so a seeded call follows the generator
as PyTorch's does."""
import functools
import math
import operator
import warnings

from cgrad import _C
from cgrad._type_info import finfo, iinfo

_INTEGRAL = ("uint8", "int8", "int16", "int32", "int64")
_FLOATING = ("float16", "bfloat16", "float32", "float64")


def _name(dtype):
    return str(dtype).split(".")[-1]


def _bounds(dtype, low, high, lowest, highest_exclusive, default_low, default_high):
    """low and high checked and clamped to what dtype holds (ints rounded
    up, as PyTorch's make_tensor does)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and _name(dtype) in _FLOATING:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                      "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                      FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but "
                         f"{dtype} only supports [{lowest}, {highest_exclusive})")
    low = min(max(low, lowest), highest_exclusive)
    high = min(max(high, lowest), highest_exclusive)
    if _name(dtype) not in _FLOATING:
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    shape = tuple(shape)
    name = _name(dtype)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and (name == "bool" or name in _INTEGRAL):
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    noncontiguous = noncontiguous and functools.reduce(operator.mul, shape, 1) > 1
    if noncontiguous:
        shape = shape[:-1] + (2 * shape[-1],)
    if name == "bool":
        low, high = _bounds(dtype, low, high, 0, 2, 0, 2)
        result = _C.randint(low, high, shape, device=device, dtype=dtype)
    elif name in _INTEGRAL:
        info = iinfo(dtype)
        low, high = _bounds(dtype, low, high, info.min, info.max + (1 if name != "int64" else 0), -9, 10)
        result = _C.randint(low, high, shape, device=device, dtype=dtype)
    elif name in _FLOATING:
        info = finfo(dtype)
        low, high = _bounds(dtype, low, high, info.min, info.max, -9, 9)
        result = _C.empty(shape, device=device, dtype=dtype)
        if high - low >= info.max:       # the width itself would overflow: draw half of it, then double
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        "torch.testing.make_tensor(). To request support, file an issue at: "
                        "https://github.com/pytorch/pytorch/issues")
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if name == "bool" or name in _INTEGRAL else finfo(dtype).tiny
    if name in _FLOATING:
        result.requires_grad = requires_grad
    return result
