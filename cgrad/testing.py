"""cgrad.testing: make_tensor (cgrad/_testing_creation.py) and assert_close,
as torch.testing.assert_close: tensors,
Python numbers and (nested) sequences and mappings of them compared
elementwise with dtype-based default tolerances, attribute checks (shape,
dtype, device, requires_grad optionally, stride optionally) and PyTorch's
failure messages ("Tensor-likes are not close!", the mismatch count, the
greatest absolute and relative differences and where they are)."""
import collections.abc
import math

from cgrad import _C
from cgrad._testing_creation import make_tensor

__all__ = ["assert_close", "make_tensor"]

# PyTorch's default (rtol, atol) per dtype; integers and bool compare exactly
_DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


class _Mismatch(Exception):
    """One failed comparison: its exception type and message, before the
    location within nested containers is appended."""

    def __init__(self, type_, message):
        super().__init__(message)
        self.type = type_
        self.message = message
        self.path = []      # the keys and indices leading to the failed pair, outermost first


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


def _tolerances(*dtypes):
    pairs = [_DEFAULT_TOLERANCES.get(_dtype_name(d), (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _diff_line(kind, diff, index, tolerance, equality):
    line = f"{kind.title()} difference: {diff}" if index is None else \
        f"Greatest {kind} difference: {diff} at index {index}"
    return line + ("" if equality else f" (up to {tolerance} allowed)")


def _mismatch_message(identifier, equality, extra, abs_diff, abs_index, atol, rel_diff, rel_index, rtol):
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", ""]
    if extra:
        lines.append(extra)
    lines.append(_diff_line("absolute", abs_diff, abs_index, atol, equality))
    lines.append(_diff_line("relative", rel_diff, rel_index, rtol, equality))
    return "\n".join(lines).strip()


def _compare_scalars(actual, expected, rtol, atol, equal_nan, message):
    if rtol is None:
        rtol, atol = (1.3e-6, 1e-5) if isinstance(actual, float) or isinstance(expected, float) else (0.0, 0.0)
    if actual == expected or (equal_nan and isinstance(actual, float) and isinstance(expected, float)
                              and math.isnan(actual) and math.isnan(expected)):
        return
    abs_diff = abs(actual - expected)
    if abs_diff <= atol + rtol * abs(expected):
        return
    if message is not None:
        raise _Mismatch(AssertionError, message)
    equality = rtol == 0 and atol == 0
    rel_diff = abs_diff / abs(expected) if expected != 0 else math.inf
    lines = [f"Scalars are not {'equal' if equality else 'close'}!", "", f"Expected {expected} but got {actual}.",
             _diff_line("absolute", abs_diff, None, atol, equality),
             _diff_line("relative", rel_diff, None, rtol, equality)]
    raise _Mismatch(AssertionError, "\n".join(lines))


def _unravel(flat_index, shape):
    index = []
    for size in reversed(shape):
        index.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(index))


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_layout,
                     check_stride, message):
    def attribute_mismatch(name, a, e):
        raise _Mismatch(AssertionError, message if message is not None else
                        f"The values for attribute '{name}' do not match: {a} != {e}.")

    if actual.shape != expected.shape:
        attribute_mismatch("shape", actual.shape, expected.shape)
    if check_device and actual.device != expected.device:
        attribute_mismatch("device", actual.device, expected.device)
    if check_dtype and actual.dtype != expected.dtype:
        attribute_mismatch("dtype", actual.dtype, expected.dtype)
    if check_stride and actual.stride() != expected.stride():
        attribute_mismatch("stride()", actual.stride(), expected.stride())
    if rtol is None:
        rtol, atol = _tolerances(actual.dtype, expected.dtype)
    actual, expected = actual.detach(), expected.detach()
    if actual.dtype != expected.dtype:
        common = _C.promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(common), expected.to(common)
    if actual.numel() == 0:
        return
    matches = _C.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if bool(matches.all()):
        return
    if message is not None:
        raise _Mismatch(AssertionError, message)
    equality = rtol == 0 and atol == 0
    if actual.dim() == 0:
        _compare_scalars(actual.item(), expected.item(), rtol, atol, equal_nan, None)
        return
    total = matches.numel()
    mismatched = total - int(matches.sum())
    extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
    actual_flat, expected_flat, matches_flat = actual.flatten(), expected.flatten(), matches.flatten()
    if not actual.dtype.is_floating_point:
        actual_flat, expected_flat = actual_flat.to(_C.int64), expected_flat.to(_C.int64)
    abs_diff = (actual_flat - expected_flat).abs()
    abs_diff[matches_flat] = 0
    max_abs, max_abs_index = _C.max(abs_diff, 0)
    rel_diff = abs_diff / expected_flat.abs()
    rel_diff[matches_flat] = 0
    max_rel, max_rel_index = _C.max(rel_diff, 0)
    shape = tuple(actual.shape)
    raise _Mismatch(AssertionError, _mismatch_message(
        "Tensor-likes", equality, extra, max_abs.item(), _unravel(int(max_abs_index), shape), atol,
        max_rel.item(), _unravel(int(max_rel_index), shape), rtol))


def _compare_item(actual, expected, key, options):
    try:
        _compare(actual, expected, options)
    except _Mismatch as mismatch:
        mismatch.path.insert(0, key)
        raise


def _compare(actual, expected, options):
    tensor_a, tensor_e = isinstance(actual, _C.Tensor), isinstance(expected, _C.Tensor)
    if tensor_a and tensor_e:
        return _compare_tensors(actual, expected, **options)
    number_types = (int, float, bool)
    if not tensor_a and not tensor_e and isinstance(actual, number_types) and isinstance(expected, number_types):
        if options["check_dtype"] and type(actual) is not type(expected):
            raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: {type(actual)} != "
                                            f"{type(expected)}.")
        return _compare_scalars(actual, expected, options["rtol"], options["atol"], options["equal_nan"],
                                options["message"])
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
            raise _Mismatch(AssertionError, f"The keys of the mappings do not match:\n"
                                            f"Missing keys in the actual mapping: {missing}\n"
                                            f"Additional keys in the actual mapping: {extra}")
        for key in actual:
            _compare_item(actual[key], expected[key], repr(key), options)
        return
    sequence = (collections.abc.Sequence,)
    if (isinstance(actual, sequence) and isinstance(expected, sequence)
            and not isinstance(actual, str) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare_item(a, e, str(i), options)
        return
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                               f"{type(expected)}.")


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless actual and expected are close:
    |actual - expected| <= atol + rtol * |expected| elementwise, with
    PyTorch's defaults per dtype when rtol and atol are omitted."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {'rtol' if rtol is None else 'atol'}.")
    options = {"rtol": rtol, "atol": atol, "equal_nan": equal_nan, "check_device": check_device,
               "check_dtype": check_dtype, "check_layout": check_layout, "check_stride": check_stride,
               "message": msg if isinstance(msg, str) else None}
    try:
        _compare(actual, expected, options)
    except _Mismatch as mismatch:
        text = mismatch.message
        if callable(msg):
            text = msg(text)
        if mismatch.path and mismatch.type is AssertionError:
            text += "\n\nThe failure occurred for item " + "".join(f"[{key}]" for key in mismatch.path)
        raise mismatch.type(text) from None
