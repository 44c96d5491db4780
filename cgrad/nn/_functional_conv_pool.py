"""cgrad.nn.functional's convolution, unfold/fold and pooling entries
(conv1d, conv2d, unfold, fold, max/avg/adaptive pooling in 1-D and 2-D):
the argument rules of PyTorch's front ends around the compiled ops.
cgrad.nn.functional imports them (and _int_tuple, which _padding uses) and
is where users find them; their __module__ says so.
"""
import warnings

import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad._op_support import dtype_title as _dtype_title


# --- convolution, unfold/fold ------------------------------------------------------
# The compiled ops take batched inputs and numeric paddings; these wrappers
# do what PyTorch's conv*/pool* front ends do around them: int-or-tuple
# arguments, padding='same'/'valid', unbatched inputs (unsqueeze, squeeze).

def _int_tuple(value, n, name, fname):
    """An int or a sequence of n ints as a tuple of n ints (PyTorch's
    IntArrayRef expansion)."""
    if isinstance(value, bool):
        raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, but found bool")
    if isinstance(value, int) or (isinstance(value, Tensor) and value.dim() == 0):
        return (int(value),) * n
    try:
        values = tuple(value)
    except TypeError:
        raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, not "
                        f"{type(value).__name__}") from None
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, but found element of "
                            f"type {type(v).__name__}")
    if len(values) == 1:
        return values * n
    return values


def _conv_param(value, n, name):
    values = _int_tuple(value, n, name, f"conv{n}d")
    if len(values) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to "
                           f"match the convolution dimensions, but got {name}={list(values)}")
    return values


def _conv(input, weight, bias, stride, padding, dilation, groups, n):
    fname = f"conv{n}d"
    input, weight, bias = _C._autocast_args(0, input, weight, bias)      # CPU autocast's lower-precision list
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{fname}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(weight).__name__}), but expected one of: "
                        f"(Tensor input, Tensor weight, Tensor bias, tuple of ints stride, "
                        f"tuple of ints padding, tuple of ints dilation, int groups)")
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {fname}, but "
                           f"got input of size: {list(input.shape)}")
    stride = _conv_param(stride, n, "stride")
    dilation = _conv_param(dilation, n, "dilation")
    if weight.dim() <= 2:
        raise RuntimeError("weight should have at least three dimensions")
    if weight.dim() - 2 != n:
        # PyTorch expands the arguments to the weight's spatial dims, not the op's
        raise RuntimeError(f"expected stride to be a single integer value or a list of {weight.dim() - 2} "
                           f"values to match the convolution dimensions, but got stride={list(stride)}")
    unbatched = input.dim() == n + 1
    if unbatched:
        input = input.unsqueeze(0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * n
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            if weight.dim() != n + 2:
                raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-"
                                   f"dimensional weight {list(weight.shape)}, but got {n + 2}-"
                                   f"dimensional input of size {list(input.shape)} instead")
            padding, extra = [], []
            for d, k in zip(dilation, weight.shape[2:]):
                total = d * (k - 1)
                left = total // 2
                padding.append(left)
                extra.append(total - 2 * left)
            if any(extra):
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require "
                              "a zero-padded copy of the input be created", stacklevel=3)
                pads = []
                for e in reversed(extra):
                    pads += [0, e]
                input = _C._pad(input, tuple(pads), 0, 0)
            padding = tuple(padding)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        from cgrad.nn._conv3d import _string_padding_dtypes
        _string_padding_dtypes(input, weight, stride, dilation, groups)
    else:
        padding = _conv_param(padding, n, "padding")
    if any(k == 0 for k in weight.shape[2:]) and input.dtype == weight.dtype and weight.dim() == n + 2:
        from cgrad.nn._conv_backend import check_kernel_size
        check_kernel_size(input, weight, stride, dilation, groups)
    out = _C._convolution(input, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of (N, C, L) or (C, L) input."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of (N, C, H, W) or (C, H, W) input."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def _im2col_dtype(input, kernel):
    """PyTorch's CPU im2col/col2im take floating and bool input, no other
    integers; a bool input goes through the uint8 kernel (0/1 copied, and
    summed in fold as PyTorch's bool kernel does: any 1 gives True)."""
    if isinstance(input, Tensor) and not input.is_floating_point() and not input.is_complex():
        if input.dtype != _C.bool_:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_title(input.dtype)}'")
        return True
    return False


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a (N, C, H, W) input as columns (N, C*kh*kw, L) (im2col)."""
    is_bool = _im2col_dtype(input, "im2col_out_cpu")
    out = _C._unfold(input.to(_C.uint8) if is_bool else input, _int_tuple(kernel_size, 2, "kernel_size", "im2col"),
                     _int_tuple(dilation, 2, "dilation", "im2col"),
                     _int_tuple(padding, 2, "padding", "im2col"),
                     _int_tuple(stride, 2, "stride", "im2col"))
    return out.to(_C.bool_) if is_bool else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums columns (N, C*kh*kw, L) back into (N, C, H, W) blocks (col2im)."""
    is_bool = _im2col_dtype(input, "col2im_out_cpu")
    out = _C._fold(input.to(_C.uint8) if is_bool else input, _int_tuple(output_size, 2, "output_size", "col2im"),
                   _int_tuple(kernel_size, 2, "kernel_size", "col2im"),
                   _int_tuple(dilation, 2, "dilation", "col2im"),
                   _int_tuple(padding, 2, "padding", "col2im"),
                   _int_tuple(stride, 2, "stride", "col2im"))
    return out.to(_C.bool_) if is_bool else out


# --- pooling ---------------------------------------------------------------------

def _pool_param(value, n, name, fname, allow_empty=False):
    """int or tuple of 1 or n ints (PyTorch's pooling argument rule)."""
    values = _int_tuple(value, n, name, fname)
    if allow_empty and len(values) == 0:
        return None
    if len(values) != n:
        rule = {"kernel_size": "must either be a single int, or a tuple of",
                "stride": "must either be omitted, a single int, or a tuple of",
                "padding": "must either be a single int, or a tuple of",
                "dilation": "must be either a single int, or a tuple of"}[name]
        count = "two ints" if n == 2 else "one int"
        raise RuntimeError(f"{fname}: {name} {rule} {count}")
    return values


def _max_pool2d_args(kernel_size, stride, padding, dilation, fname="max_pool2d"):
    kernel = _pool_param(kernel_size, 2, "kernel_size", fname)
    strides = None if stride is None else _pool_param(stride, 2, "stride", fname, True)
    return (kernel, kernel if strides is None else strides,
            _pool_param(padding, 2, "padding", fname), _pool_param(dilation, 2, "dilation", fname))


def _integer_max_pool2d(input, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's CPU max_pool2d takes every integer dtype but bool; the
    compiled kernel floats only: the argmax comes from a float64 copy
    (order kept; exact below 2**53) and the values are gathered from the
    input itself."""
    flat_indices = _C._max_pool2d(input.to(_C.float64), kernel, stride, padding, dilation, ceil_mode)[1]
    values = input.flatten(-2).gather(-1, flat_indices.flatten(-2)).view(tuple(flat_indices.shape))
    return values, flat_indices


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    kernel, stride, padding, dilation = _max_pool2d_args(kernel_size, stride, padding, dilation)
    if isinstance(input, Tensor) and not input.is_floating_point() and input.dtype != _C.bool_ \
            and not input.is_complex():
        return _integer_max_pool2d(input, kernel, stride, padding, dilation, ceil_mode)
    return _C._max_pool2d(input, kernel, stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kernel windows of (N, C, H, W) or (C, H, W) input; with
    return_indices the flat argmax of each window in its plane too."""
    out, indices = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def _pool1d_input(input, fname):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for "
                           f"argument #1 'self' (while checking arguments for {fname})")
    return input.unsqueeze(-2)


def _pool1d_size_one(value, name):
    """max_pool1d_with_indices' argument parser: one int (a 1-tuple or list too)."""
    values = _int_tuple(value, 1, name, "max_pool1d")
    if len(values) != 1:
        raise RuntimeError(f"max_pool1d() argument '{name}' should contain one int (got {len(values)})")
    return values


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    x = _pool1d_input(input, "max_pool1d")
    kernel = _pool1d_size_one(kernel_size, "kernel_size")
    strides = None if stride is None else _int_tuple(stride, 1, "stride", "max_pool1d")
    strides = kernel if not strides else _pool1d_size_one(strides, "stride")
    pad = _pool1d_size_one(padding, "padding")
    dil = _pool1d_size_one(dilation, "dilation")
    if not x.is_floating_point() and x.dtype != _C.bool_ and not x.is_complex():
        out, indices = _integer_max_pool2d(x, (1,) + kernel, (1,) + strides, (0,) + pad, (1,) + dil, ceil_mode)
    else:
        out, indices = _C._max_pool2d(x, (1,) + kernel, (1,) + strides, (0,) + pad, (1,) + dil, ceil_mode)
    return out.squeeze(-2), indices.squeeze(-2)


def _check_max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode):
    """ATen's max_pool1d without indices (MaxPooling.cpp): its own input and
    argument checks and texts, before it picks max_pool1d_impl or, for a
    gradient, max_pool1d_with_indices."""
    if not isinstance(input, Tensor):
        raise TypeError(f"max_pool1d(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    shape = list(input.shape)
    if not ((len(shape) == 2 and shape[-1] != 0) or (len(shape) == 3 and shape[1] != 0 and shape[-1] != 0)):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{shape}")
    kernel = list(_int_tuple(kernel_size, 1, "kernel_size", "max_pool1d"))
    strides = [] if stride is None else list(_int_tuple(stride, 1, "stride", "max_pool1d"))
    pad = list(_int_tuple(padding, 1, "padding", "max_pool1d"))
    dil = list(_int_tuple(dilation, 1, "dilation", "max_pool1d"))
    for name, values, allowed, rule in (("kernel_size", kernel, (1,), "an int, list of ints or tuple of ints"),
                                        ("stride", strides, (0, 1), "None, an int, list of ints, or tuple of ints"),
                                        ("padding", pad, (1,), "an int, list of ints, or tuple of ints"),
                                        ("dilation", dil, (1,), "an int, list of ints or tuple of ints")):
        if len(values) not in allowed:
            raise RuntimeError(f"max_pool1d() {name} must be {rule} of size 1 but got size {len(values)}")
    strides = strides or kernel
    if kernel[0] <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {kernel[0]}")
    if strides[0] <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {strides[0]}")
    if pad[0] < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {pad[0]}")
    if pad[0] > kernel[0] // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={pad[0]} and kernel_size={kernel[0]}")
    if dil[0] <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dil[0]}")
    span = shape[-1] + 2 * pad[0] - dil[0] * (kernel[0] - 1) - 1
    out = (-(-span // strides[0]) if ceil_mode else span // strides[0]) + 1
    if ceil_mode and (out - 1) * strides[0] >= shape[-1] + pad[0]:
        out -= 1
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kernel windows of (N, C, L) or (C, L) input."""
    if not return_indices:
        _check_max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)
        if not input.is_floating_point() and not input.is_complex():
            # PyTorch's float-only max_pool1d_impl (an integer tensor never requires grad)
            raise NotImplementedError(f"\"max_pool1d_impl\" not implemented for '{_dtype_title(input.dtype)}'")
    out, indices = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kernel windows of (N, C, H, W) or (C, H, W) input."""
    kernel = _pool_param(kernel_size, 2, "kernel_size", "avg_pool2d")
    strides = None if stride is None else _pool_param(stride, 2, "stride", "avg_pool2d", True)
    return _avg_pool2d(input, kernel, kernel if strides is None else strides,
                       _pool_param(padding, 2, "padding", "avg_pool2d"), ceil_mode, count_include_pad,
                       divisor_override)


def _avg_pool2d(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """The compiled float pool; int64 input (the one integer dtype PyTorch's
    CPU kernel takes) is summed exactly in int64 and divided truncating, as
    PyTorch's kernel does, by avg_pool3d's integer path over a depth of 1,
    after the 2-d checks (run on a zero float64 view of the input's shape)."""
    if not (isinstance(input, Tensor) and input.dtype == _C.int64):
        return _C._avg_pool2d(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    _C._avg_pool2d(_C.zeros((), dtype=_C.float64).expand(tuple(input.shape)), kernel, stride, padding,
                   ceil_mode, count_include_pad, divisor_override)
    from cgrad.nn._pool3d import avg_pool3d
    return avg_pool3d(input.unsqueeze(-3), (1,) + tuple(kernel), (1,) + tuple(stride), (0,) + tuple(padding),
                      ceil_mode, count_include_pad, divisor_override).squeeze(-3)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over kernel windows of (N, C, L) or (C, L) input."""
    x = _pool1d_input(input, "avg_pool1d")
    kernel = _pool_param(kernel_size, 1, "kernel_size", "avg_pool1d")
    strides = None if stride is None else _pool_param(stride, 1, "stride", "avg_pool1d", True)
    strides = kernel if strides is None else strides
    pad = _pool_param(padding, 1, "padding", "avg_pool1d")
    return _avg_pool2d(x, (1,) + kernel, (1,) + strides, (0,) + pad, ceil_mode, count_include_pad,
                       None).squeeze(-2)


def _list_with_default(out_size, defaults):
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def _adaptive_size(output_size, n):
    if isinstance(output_size, int):
        return (output_size,) * n
    return tuple(output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean over the adaptive (floor/ceil bounded) windows giving output_size
    (None entries keep the input's size)."""
    size = _adaptive_size(_list_with_default(output_size, input.size()), 2)
    if size == (1, 1) and isinstance(input, Tensor):
        # PyTorch's shortcut, before any check of the input: a mean over H and W
        # (whatever the rank; integer input fails as mean does), its strides
        # channels-last when the input suggests that layout
        out = input.mean((-1, -2), keepdim=True)
        if input.dim() == 4 and _C._suggest_memory_format(input) is cgrad.channels_last:
            n, c = input.shape[:2]
            out.as_strided_((n, c, 1, 1), (c, 1, c, c))
        return out
    return _C._adaptive_pool2d(input, size, False)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    size = _adaptive_size(_list_with_default(output_size, input.size()), 2)
    return _C._adaptive_pool2d(input, size, True)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows; with return_indices the argmax too."""
    out, indices = adaptive_max_pool2d_with_indices(input, output_size)
    return (out, indices) if return_indices else out


def adaptive_avg_pool1d(input, output_size):
    """Mean over adaptive windows of (N, C, L) or (C, L) input."""
    if not isinstance(input, Tensor):
        raise TypeError(f"adaptive_avg_pool1d(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    size = _int_tuple(output_size, 1, "output_size", "adaptive_avg_pool1d")
    _check_pool1d_input(input, size, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1,) + size).squeeze(-2)


def _check_pool1d_input(input, size, fname):
    """PyTorch's checkDimRange and check1d of the adaptive 1-d pools."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for "
                           f"argument #1 'self' (while checking arguments for {fname})")
    if len(size) != 1:
        raise RuntimeError(f"{fname}() argument 'output_size' should contain one int (got {len(size)})")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    if not isinstance(input, Tensor):
        raise TypeError(f"adaptive_max_pool1d(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    size = _int_tuple(output_size, 1, "output_size", "adaptive_max_pool1d")
    _check_pool1d_input(input, size, "adaptive_max_pool1d")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"adaptive_max_pool1d(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with dimension {d} being "
                               f"empty")
    out, indices = _C._adaptive_pool2d(input.unsqueeze(-2), (1,) + size, True)
    return out.squeeze(-2), indices.squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    out, indices = adaptive_max_pool1d_with_indices(input, output_size)
    return (out, indices) if return_indices else out
