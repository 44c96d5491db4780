"""F.max_pool3d, avg_pool3d, adaptive_avg_pool3d and adaptive_max_pool3d
over (N, C, D, H, W) or (C, D, H, W) input, with PyTorch 2.13's argument
checks, output sizes (ceil_mode) and node names.

The max pools find each window's argmax with numpy over all windows at once
(a strided window view, or per-dim index tables for the adaptive windows)
as PyTorch's flat index into the D*H*W plane; the values are then
input.gather(indices), so the gradient is the gather's scatter and double
backward works. avg_pool3d sums Tensor.unfold windows of the zero-padded
input (strided slices added), one dim after the other (a box sum is
separable), and divides by
PyTorch's divisor (count_include_pad, divisor_override). adaptive_avg_pool3d is separable: one averaging matrix
per dim, applied by matmul. Each result carries PyTorch's node name.
"""
import numpy as np

import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad._op_support import dtype_title, np_of, tensor_of

__all__ = ["max_pool3d", "max_pool3d_with_indices", "avg_pool3d", "adaptive_avg_pool3d",
           "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices"]

_RULES = {("max", "kernel_size"): "must either be a single int, or a tuple of three ints",
          ("max", "stride"): "must either be omitted, a single int, or a tuple of three ints",
          ("max", "padding"): "must either be a single int, or a tuple of three ints",
          ("max", "dilation"): "must be either a single int, or a tuple of three ints",
          ("avg", "kernel_size"): "must be a single int, or a tuple of three ints",
          ("avg", "stride"): "must be omitted, a single int, or a tuple of three ints",
          ("avg", "padding"): "must be a single int, or a tuple of three ints"}


def _named(result, name):
    from cgrad.nn._named_node import named
    return named(result, name)


def _triple(value, name, kind):
    from cgrad.nn.functional import _int_tuple
    fname = f"{kind}_pool3d"
    values = _int_tuple(value, 3, name, fname)
    if len(values) != 3:
        raise RuntimeError(f"{fname}: {name} {_RULES[kind, name]}")
    return values


def _check_input(input, fname):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")


def _output_size(size, k, pad, stride, dilation, ceil_mode):
    """PyTorch's pooling_output_shape."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > ((k - 1) * dilation + 1) // 2:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pad}, "
                           f"kernel_size={k} and dilation={dilation}")
    out = (size + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _window_args(input, kernel_size, stride, padding, dilation, ceil_mode, kind):
    kernel = _triple(kernel_size, "kernel_size", kind)
    strides = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _triple(stride, "stride", kind)
    pads = _triple(padding, "padding", kind)
    dils = _triple(dilation, "dilation", kind) if kind == "max" else (1, 1, 1)
    fname = "max_pool3d_with_indices_out_cpu_template" if kind == "max" else "avg_pool3d"
    _check_input(input, fname if kind == "avg" else "max_pool3d")
    sizes = tuple(input.shape[-3:])
    outs = tuple(_output_size(sizes[i], kernel[i], pads[i], strides[i], dils[i], ceil_mode) for i in range(3))
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {kernel[0]} kH: {kernel[1]} "
                           f"kW: {kernel[2]}")
    if any(s <= 0 for s in strides):
        raise RuntimeError(f"stride should be greater than zero, but got dT: {strides[0]} dH: {strides[1]} "
                           f"dW: {strides[2]}")
    if any(d <= 0 for d in dils):
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: {dils[0]} dilationH: "
                           f"{dils[1]} dilationW: {dils[2]}")
    for d in range(input.dim() - 4, input.dim()):
        if input.shape[d] == 0:
            # PyTorch's text names dimension 0 whichever it is
            raise RuntimeError(f"{fname}(): Expected input's non-batch dimensions to have positive length, but "
                               f"input has a shape of {list(input.shape)} and non-batch dimension 0 has "
                               "length zero!")
    if kind == "avg" and any(sizes[i] < kernel[i] - pads[i] for i in range(3)):
        raise RuntimeError(f"input image (T: {sizes[0]} H: {sizes[1]} W: {sizes[2]}) smaller than kernel size "
                           f"(kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
    if any(o < 1 for o in outs):
        planes = input.shape[-4]
        raise RuntimeError(f"Given input size: ({planes}x{sizes[0]}x{sizes[1]}x{sizes[2]}). Calculated output "
                           f"size: ({planes}x{outs[0]}x{outs[1]}x{outs[2]}). Output size is too small")
    return kernel, strides, pads, dils, outs


def _lowest(dtype):
    return -np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).min


def _pick(input, flat_index, out_shape, name):
    """input's values at flat D*H*W indices (N, C, *out), differentiable as a gather."""
    n, c = input.shape[0], input.shape[1]
    index = tensor_of(flat_index)
    planes, points = int(np.prod(input.shape[2:])), int(np.prod(out_shape))
    values = input.reshape(n, c, planes).gather(2, index.reshape(n, c, points)).reshape((n, c) + tuple(out_shape))
    return values, index


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    kernel, strides, pads, dils, outs = _window_args(input, kernel_size, stride, padding, dilation, ceil_mode,
                                                     "max")
    unbatched = input.dim() == 4
    x = input.unsqueeze(0) if unbatched else input
    sizes = tuple(x.shape[2:])
    a = np_of(x)
    if a.dtype == np.bool_:
        raise NotImplementedError("\"max_pool3d\" not implemented for 'Bool'")
    spans = [dils[i] * (kernel[i] - 1) + 1 for i in range(3)]
    right = [max(pads[i], (outs[i] - 1) * strides[i] + spans[i] - sizes[i] - pads[i]) for i in range(3)]
    padded = np.pad(a, [(0, 0), (0, 0)] + [(pads[i], right[i]) for i in range(3)], constant_values=_lowest(a.dtype))
    windows = np.lib.stride_tricks.sliding_window_view(padded, spans, axis=(2, 3, 4))
    windows = windows[(slice(None), slice(None)) + tuple(slice(0, outs[i] * strides[i], strides[i]) for i in range(3))
                      + tuple(slice(None, None, dils[i]) for i in range(3))]
    flat = windows.reshape(windows.shape[:5] + (kernel[0] * kernel[1] * kernel[2],))
    best = flat.argmax(axis=-1)
    taps = np.unravel_index(best, tuple(kernel))
    coords = []
    for i in range(3):
        start = (np.arange(outs[i]) * strides[i] - pads[i]).reshape([-1 if j == i else 1 for j in range(3)])
        at = start + taps[i] * dils[i]
        # PyTorch starts each window at its first position inside the input: a window of
        # -inf only (or all lowest integers) keeps that index
        first = start + np.maximum(0, -(-(-start) // dils[i])) * dils[i]
        coords.append((at, first))
    lowest_only = np.take_along_axis(flat, best[..., None], -1)[..., 0] == _lowest(a.dtype)
    d, h, w = (np.where(lowest_only, first, at) for at, first in coords)
    index = (d * sizes[1] + h) * sizes[2] + w
    values, indices = _pick(x, index.astype(np.int64), outs, "MaxPool3DWithIndicesBackward0")
    if unbatched:
        values, indices = values.squeeze(0), indices.reshape(tuple(input.shape[:1]) + outs)
    else:
        indices = indices.reshape(tuple(x.shape[:2]) + outs)
    return _named(values, "MaxPool3DWithIndicesBackward0"), indices


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kernel windows of (N, C, D, H, W) or (C, D, H, W) input; with
    return_indices the flat argmax of each window in its D*H*W volume too."""
    out, indices = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def _avg_counts(size, k, pad, stride, out, count_include_pad):
    start = np.arange(out) * stride - pad
    end = np.minimum(start + k, size + pad)
    pool = end - start
    lo, hi = np.maximum(start, 0), np.minimum(end, size)
    return pool if count_include_pad else hi - lo


def _window_sums(x, dim, k, stride, out):
    """Sums of the k-long windows along dim, every stride-th, out of them:
    k strided slices added (their backward is the compiled slice's)."""
    span = (out - 1) * stride + 1
    total = None
    for j in range(k):
        where = [slice(None)] * x.dim()
        where[dim] = slice(j, j + span, stride)
        total = x[tuple(where)] if total is None else total + x[tuple(where)]
    return total


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kernel windows of (N, C, D, H, W) or (C, D, H, W) input."""
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    kernel, strides, pads, _, outs = _window_args(input, kernel_size, stride, padding, 1, ceil_mode, "avg")
    if input.dtype in (_C.float16, _C.bfloat16) or not (input.is_floating_point() or input.dtype == _C.int64):
        raise NotImplementedError(f"\"avg_pool3d_out_frame\" not implemented for '{_title(input)}'")
    unbatched = input.dim() == 4
    x = input.unsqueeze(0) if unbatched else input
    sizes = tuple(x.shape[2:])
    right = [max(pads[i], (outs[i] - 1) * strides[i] + kernel[i] - sizes[i] - pads[i]) for i in range(3)]
    pad_arg = (pads[2], right[2], pads[1], right[1], pads[0], right[0])
    xp = _C._pad(x, pad_arg, 0, 0) if any(pad_arg) else x
    # a box sum is separable: window sums along D, then H, then W (k1 + k2 + k3 terms, not k1*k2*k3)
    sums = xp
    for i in range(3):
        sums = _window_sums(sums, 2 + i, kernel[i], strides[i], outs[i])
    if divisor_override is not None:
        divisor = np.full(outs, int(divisor_override), dtype=np.int64)
    else:
        d, h, w = (_avg_counts(sizes[i], kernel[i], pads[i], strides[i], outs[i], count_include_pad)
                   for i in range(3))
        divisor = d[:, None, None] * h[None, :, None] * w[None, None, :]
    if x.is_floating_point():
        out = sums / tensor_of(divisor.astype(np_of(x).dtype))
    else:
        out = sums.div(tensor_of(divisor), rounding_mode="trunc").to(x.dtype)
    if unbatched:
        out = out.squeeze(0)
    return _named(out, "AvgPool3DBackward0")


def _adaptive_size(input, output_size, fname):
    if isinstance(output_size, int):
        return (output_size,) * 3
    size = tuple(output_size)
    if len(size) != 3:
        if fname == "adaptive_max_pool3d":
            raise RuntimeError("adaptive_max_pool3d(): internal error: output_size.size() must be 3")
        raise RuntimeError("adaptive_avg_pool3d: output_size must be 3")
    if input.dim() <= 3:
        raise ValueError("Input dimension should be at least 4")
    return tuple(input.shape[-3 + i] if v is None else int(v) for i, v in enumerate(size))


def _check_adaptive_input(input, fname):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() <= 3:
        raise ValueError("Input dimension should be at least 4")


def _check_adaptive_shape(input, fname):
    if input.dim() not in (4, 5):
        raise RuntimeError(f"{fname}(): Expected 4D or 5D tensor, but got {list(input.shape)}")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but "
                               f"input has sizes {list(input.shape)} with dimension {d} being empty")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"{fname}_cpu\" not implemented for '{_title(input)}'")


def _title(t):
    return dtype_title(t.dtype)


def _bounds(size, out):
    """PyTorch's adaptive windows: [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    return (i * size) // out, -(-((i + 1) * size) // out)


def adaptive_avg_pool3d(input, output_size):
    """Mean over the adaptive windows giving output_size (None keeps a size)."""
    _check_adaptive_input(input, "adaptive_avg_pool3d")
    size = _adaptive_size(input, output_size, "adaptive_avg_pool3d")
    _check_adaptive_shape(input, "adaptive_avg_pool3d")
    if size == (1, 1, 1):
        return input.mean((-1, -2, -3), keepdim=True)     # PyTorch's shortcut (MeanBackward1)
    dtype = np_of(input).dtype
    mats = []
    for i in range(3):
        n_in = input.shape[-3 + i]
        lo, hi = _bounds(n_in, size[i])
        cols = np.arange(n_in)
        inside = (cols[None, :] >= lo[:, None]) & (cols[None, :] < hi[:, None])
        mats.append(tensor_of((inside / (hi - lo)[:, None]).astype(dtype)))
    lead = tuple(input.shape[:-3])
    d, h, w = input.shape[-3:]
    # float16/bfloat16 accumulate in float32 (PyTorch's opmath), rounded once at the end
    half = input.dtype in (_C.float16, _C.bfloat16)
    x = input.to(_C.float32) if half else input
    mats = [m.to(x.dtype) for m in mats]
    y = cgrad.matmul(x, mats[2].t())                                           # (..., D, H, oW)
    y = cgrad.matmul(mats[1], y)                                               # (..., D, oH, oW)
    y = cgrad.matmul(mats[0], y.reshape(lead + (d, size[1] * size[2])))        # (..., oD, oH*oW)
    y = y.reshape(lead + size)
    return _named(y.to(input.dtype) if half else y, "AdaptiveAvgPool3DBackward0")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    _check_adaptive_input(input, "adaptive_max_pool3d")
    size = _adaptive_size(input, output_size, "adaptive_max_pool3d")
    _check_adaptive_shape(input, "adaptive_max_pool3d")
    unbatched = input.dim() == 4
    x = input.unsqueeze(0) if unbatched else input
    a = np_of(x)
    tables, valid = [], []
    for i in range(3):
        lo, hi = _bounds(x.shape[2 + i], size[i])
        longest = int((hi - lo).max())
        idx = lo[:, None] + np.arange(longest)[None, :]
        valid.append(idx < hi[:, None])
        tables.append(np.minimum(idx, x.shape[2 + i] - 1))
    od, oh, ow = size
    md, mh, mw = (t.shape[1] for t in tables)
    di = tables[0].reshape(od, 1, 1, md, 1, 1)
    hi_ = tables[1].reshape(1, oh, 1, 1, mh, 1)
    wi = tables[2].reshape(1, 1, ow, 1, 1, mw)
    windows = a[:, :, di, hi_, wi]                      # (N, C, oD, oH, oW, mD, mH, mW)
    inside = (valid[0].reshape(od, 1, 1, md, 1, 1) & valid[1].reshape(1, oh, 1, 1, mh, 1)
              & valid[2].reshape(1, 1, ow, 1, 1, mw))
    windows = np.where(inside, windows, -np.inf)
    best = windows.reshape(windows.shape[:5] + (md * mh * mw,)).argmax(axis=-1)
    jd, jh, jw = np.unravel_index(best, (md, mh, mw))
    d = tables[0][np.arange(od)[:, None, None], jd]
    h = tables[1][np.arange(oh)[None, :, None], jh]
    w = tables[2][np.arange(ow)[None, None, :], jw]
    index = ((d * x.shape[3] + h) * x.shape[4] + w).astype(np.int64)
    values, indices = _pick(x, index, size, "AdaptiveMaxPool3DBackward0")
    indices = indices.reshape(tuple(x.shape[:2]) + size)
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return _named(values, "AdaptiveMaxPool3DBackward0"), indices


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over adaptive windows; with return_indices the argmax too."""
    out, indices = adaptive_max_pool3d_with_indices(input, output_size)
    return (out, indices) if return_indices else out
