"""nn.functional.interpolate (and the deprecated upsample*): PyTorch's
argument handling and errors, and its CPU kernels' arithmetic.

PyTorch's CPU upsample kernels are separable: per spatial dimension they
compute, for each output coordinate, a few source indices and weights
(1 tap for nearest, 2 for linear, 4 for cubic), then combine the taps one
dimension at a time, innermost (W) first. cgrad does the same with whole-
tensor ops: the per-coordinate indices and weights are small arrays (one
entry per output coordinate, computed here in PyTorch's types and order of
operations), and each dimension is `sum_k x.index_select(d, idx_k) * w_k`,
so every element is handled by compiled kernels and the gradient (of any
order) comes from index_select's and mul's own backward. The result
carries PyTorch's node name (UpsampleBilinear2DBackward0, ...).
antialias=True is the same scheme with PyTorch's normalised filter taps
(as many as the widest output needs; shorter ones get zero weights), for
bilinear, bicubic and lanczos (Lanczos-3, antialias only, as PyTorch).
"""
import math
import warnings

import numpy as np

import cgrad
from cgrad.nn._distance import _dtype_title
from cgrad.nn._named_node import named

_NP_OPMATH = {cgrad.float32: np.float32, cgrad.float64: np.float64, cgrad.float16: np.float32}
_NP_DTYPE = {cgrad.float32: np.float32, cgrad.float64: np.float64, cgrad.float16: np.float16}
_LETTERS = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}
_NODE = {("nearest", 1): "UpsampleNearest1DBackward0", ("nearest", 2): "UpsampleNearest2DBackward0",
         ("nearest", 3): "UpsampleNearest3DBackward0",
         ("nearest-exact", 1): "UpsampleNearestExact1DBackward0",
         ("nearest-exact", 2): "UpsampleNearestExact2DBackward0",
         ("nearest-exact", 3): "UpsampleNearestExact3DBackward0",
         ("linear", 1): "UpsampleLinear1DBackward0", ("bilinear", 2): "UpsampleBilinear2DBackward0",
         ("trilinear", 3): "UpsampleTrilinear3DBackward0", ("bicubic", 2): "UpsampleBicubic2DBackward0",
         ("lanczos", 2): "UpsampleLanczos2DBackward0"}
_KERNEL = {("nearest", 1): "upsample_nearest1d", ("nearest", 2): "upsample_nearest2d_channels_last",
           ("nearest", 3): "upsample_nearest3d_channels_last",
           ("nearest-exact", 1): "upsample_nearest1d", ("nearest-exact", 2): "upsample_nearest2d_channels_last",
           ("nearest-exact", 3): "upsample_nearest3d_channels_last",
           ("linear", 1): "upsample_linear1d", ("bilinear", 2): "upsample_bilinear2d_channels_last",
           ("trilinear", 3): "upsample_trilinear3d_channels_last", ("bicubic", 2): "upsample_bicubic2d",
           ("lanczos", 2): "compute_index_ranges_weights"}
# the kernel an integer input's error names (PyTorch checks the index
# helpers' dtype first where the kernel has no 2-D channels-last variant)
_INT_KERNEL = {("nearest", 1): "compute_indices_weights_nearest", ("nearest", 3): "compute_indices_weights_nearest",
               ("nearest-exact", 1): "compute_indices_weights_nearest",
               ("nearest-exact", 3): "compute_indices_weights_nearest",
               ("linear", 1): "compute_indices_weights_linear", ("trilinear", 3): "compute_indices_weights_linear",
               ("bicubic", 2): "compute_indices_weights_cubic"}
# uint8 input PyTorch resamples: nearest picks input values (exact in any
# dtype); 2-D bilinear, bicubic and lanczos round in fixed point, in
# cgrad._C's upsample_uint8.pxi as in PyTorch's uint8 kernels
_UINT8_MODES = ("nearest", "nearest-exact")
_UINT8_FIXED_POINT_MODES = ("bilinear", "bicubic", "lanczos")


# --- per-dimension indices and weights (PyTorch's UpSample.h helpers) -----------

def _area_pixel_scale(in_size, out_size, align_corners, scale, op):
    if align_corners:
        return op(in_size - 1) / op(out_size - 1) if out_size > 1 else op(0)
    if scale is not None and scale > 0:
        return op(1.0 / scale)
    return op(in_size) / op(out_size)


def _source_index(scale, out_size, align_corners, cubic, op):
    i = np.arange(out_size).astype(op)
    if align_corners:
        return scale * i
    src = scale * (i + op(0.5)) - op(0.5)
    return src if cubic else np.maximum(src, op(0))


def _floor_index(real, in_size):
    """static_cast<int64_t>(floorf(real)), capped at in_size - 1."""
    return np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), in_size - 1)


def _nearest_taps(in_size, out_size, scale, exact, op):
    s = _area_pixel_scale(in_size, out_size, False, scale, op)
    if exact:
        real = _source_index(s, out_size, False, False, op) + op(0.5)
    else:
        real = _source_index(s, out_size, True, False, op)
    return [(_floor_index(real, in_size), None)]


def _guard(real, in_size, op):
    index = _floor_index(real, in_size)
    lam = np.minimum(np.maximum(real - index.astype(op), op(0)), op(1))
    return index, lam


def _linear_taps(in_size, out_size, align_corners, scale, op):
    if in_size == out_size:
        i = np.arange(out_size)
        return [(i, np.ones(out_size, op)), (i, np.zeros(out_size, op))]
    s = _area_pixel_scale(in_size, out_size, align_corners, scale, op)
    idx0, lam1 = _guard(_source_index(s, out_size, align_corners, False, op), in_size, op)
    idx1 = idx0 + (idx0 < in_size - 1)
    return [(idx0, op(1) - lam1), (idx1, lam1)]


def _cubic_taps(in_size, out_size, align_corners, scale, op):
    s = _area_pixel_scale(in_size, out_size, align_corners, scale, op)
    index, t = _guard(_source_index(s, out_size, align_corners, True, op), in_size, op)
    a = op(-0.75)

    def conv1(x):
        return ((a + op(2)) * x - (a + op(3))) * x * x + op(1)

    def conv2(x):
        return ((a * x - op(5) * a) * x + op(8) * a) * x - op(4) * a

    x2 = (1.0 - t.astype(np.float64)).astype(op)
    weights = (conv2((t.astype(np.float64) + 1.0).astype(op)), conv1(t), conv1(x2),
               conv2((x2.astype(np.float64) + 1.0).astype(op)))
    return [(np.clip(index + (j - 1), 0, in_size - 1), weights[j]) for j in range(4)]


def _aa_filter_linear(x, op):
    x = np.abs(x)
    return np.where(x < op(1), op(1) - x, op(0)).astype(op)


def _aa_filter_cubic(x, op):
    a = op(-0.5)
    x = np.abs(x)
    near = ((a + op(2)) * x - (a + op(3))) * x * x + op(1)
    far = ((a * x - op(5) * a) * x + op(8) * a) * x - op(4) * a
    return np.where(x < op(1), near, np.where(x < op(2), far, op(0))).astype(op)


def _aa_filter_lanczos(x, op):
    """Lanczos-3: sinc(x) sinc(x / 3) on |x| < 3 (PIL's LANCZOS filter)."""
    x = np.abs(x).astype(np.float64)

    def sinc(v):
        safe = np.where(v == 0, 1.0, v * math.pi)
        return np.where(v == 0, 1.0, np.sin(safe) / safe)
    return np.where(x < 3.0, sinc(x) * sinc(x / 3.0), 0.0).astype(op)


def _antialias_taps(in_size, out_size, align_corners, scale, op, interp_size, filt):
    """PyTorch's _compute_weights_aa: each output averages the inputs under
    a filter stretched by the scale when downsampling, weights normalised
    to sum 1; outputs with fewer taps than the widest get zero weights on
    their last input."""
    s = _area_pixel_scale(in_size, out_size, align_corners, scale, op)
    support = op((interp_size * 0.5) * float(s)) if s >= 1.0 else op(interp_size * 0.5)
    max_taps = int(math.ceil(support)) * 2 + 1
    invscale = op(1.0 / float(s)) if s >= 1.0 else op(1.0)
    center = (float(s) * (np.arange(out_size) + 0.5)).astype(op)
    xmin = np.maximum((center - support).astype(np.float64) + 0.5, 0).astype(np.int64)
    xsize = np.clip(np.minimum(((center + support).astype(np.float64) + 0.5).astype(np.int64), in_size) - xmin,
                    0, max_taps)
    j = np.arange(max_taps)[:, None]
    offsets = ((j + xmin - center).astype(op).astype(np.float64) + 0.5) * float(invscale)
    w = np.where(j < xsize, filt(offsets.astype(op), op), op(0))
    total = np.zeros(out_size, op)
    for k in range(max_taps):   # in tap order, as PyTorch accumulates
        total = (total + w[k]).astype(op)
    w = np.where(total != 0, w / np.where(total != 0, total, op(1)), w).astype(op)
    last = xmin + np.maximum(xsize, 1) - 1
    index = np.where(j < xsize, xmin + j, last)
    return [(np.clip(index[k], 0, in_size - 1), w[k]) for k in range(max_taps)]


def _resample(x, dim, taps, dtype):
    """sum_k x.index_select(dim, idx_k) * w_k along dim (weights rounded to
    the input's dtype, as PyTorch stores them)."""
    out = None
    shape = [1] * x.dim()
    shape[dim] = -1
    for index, weight in taps:
        picked = x.index_select(dim, cgrad.from_numpy(np.ascontiguousarray(index, dtype=np.int64)))
        if weight is None:
            return picked
        w = cgrad.from_numpy(weight.astype(_NP_DTYPE[dtype]).astype(_NP_OPMATH[dtype])).view(shape)
        term = picked * w
        out = term if out is None else out + term
    return out


def _upsample(input, mode, output_size, scales, align_corners, antialias=False):
    n = input.dim() - 2
    letters = _LETTERS[n]
    fixed_point = input.dtype == cgrad.uint8 and n == 2 and mode in _UINT8_FIXED_POINT_MODES
    if antialias and input.dtype not in (cgrad.float32, cgrad.float64) and not fixed_point:
        # PyTorch's antialias weights exist for float, double (and a uint8 path cgrad lacks)
        raise NotImplementedError(f"\"compute_index_ranges_weights\" not implemented for "
                                  f"'{'Half' if input.dtype == cgrad.float16 else _dtype_title(input.dtype)}'")
    if not input.dtype.is_floating_point and not fixed_point and not (input.dtype == cgrad.uint8
                                                                      and mode in _UINT8_MODES):
        kernel = _INT_KERNEL.get((mode, n), _KERNEL[(mode, n)])
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_title(input.dtype)}'")
    in_sizes = list(input.shape[2:])
    if output_size is None:
        output_size = [int(s * f) for s, f in zip(in_sizes, scales)]
    else:
        output_size = list(output_size)
    if not all(s > 0 for s in in_sizes) or not all(s > 0 for s in output_size):
        given = ", ".join(f"{c}: {s}" for c, s in zip(letters, in_sizes))
        wanted = ", ".join(f"{c}: {s}" for c, s in zip(letters, output_size))
        joint = " and " if n == 1 else " "
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({given}){joint}"
                           f"output ({wanted})")
    if input.numel() == 0 and math.prod(input.shape[1:]) == 0:
        raise RuntimeError(f"Non-empty {n + 2}D data tensor expected but got a tensor with sizes "
                           f"{list(input.shape)}")
    if scales is None:
        scales = [None] * n
    if fixed_point:
        return cgrad._C._upsample_uint8_2d(input, output_size[0], output_size[1], bool(align_corners),
                                           scales[0], scales[1], antialias, mode)
    dtype = input.dtype
    op = _NP_OPMATH.get(dtype, np.float32)  # uint8 (nearest): PyTorch's float index arithmetic
    x = input.float() if dtype == cgrad.float16 else input
    for d in reversed(range(n)):  # innermost first, as PyTorch's separable kernels
        in_size, out_size, scale = in_sizes[d], output_size[d], scales[d]
        if antialias:
            filt, width = {"bicubic": (_aa_filter_cubic, 4), "lanczos": (_aa_filter_lanczos, 6)}.get(
                mode, (_aa_filter_linear, 2))
            taps = _antialias_taps(in_size, out_size, align_corners, scale, op, width, filt)
        elif mode in ("nearest", "nearest-exact"):
            taps = _nearest_taps(in_size, out_size, scale, mode == "nearest-exact", op)
        elif mode == "bicubic":
            taps = _cubic_taps(in_size, out_size, align_corners, scale, op)
        else:
            taps = _linear_taps(in_size, out_size, align_corners, scale, op)
        x = _resample(x, d + 2, taps, dtype)
    if dtype == cgrad.float16:
        x = x.half()
    x = named(x, _NODE[(mode, n)].replace("2DBackward", "2DAaBackward") if antialias else _NODE[(mode, n)])
    return cgrad._C._follow_input_format(x, input)     # channels-last in, channels-last out


def _area_taps(in_size, out_size):
    """Adaptive average pooling along one dim: output i averages inputs
    [floor(i in / out), ceil((i + 1) in / out)), as equal weights (zero on
    the taps a shorter window does not have)."""
    i = np.arange(out_size)
    start = (i * in_size) // out_size
    end = -((-(i + 1) * in_size) // out_size)
    count = end - start
    taps = []
    for k in range(int(count.max())):
        inside = k < count
        taps.append((np.where(inside, start + k, start), np.where(inside, 1.0 / count, 0.0)))
    return taps


def _adaptive_avg_pool3d(input, output_size):
    """interpolate(mode='area') on 5-D input: PyTorch's adaptive_avg_pool3d,
    separable like the upsample kernels (a box average is a product of
    per-dim averages), float16 computed in float32."""
    dtype = input.dtype
    if list(output_size) == [1, 1, 1]:
        # PyTorch's shortcut, before its dtype check (integer input fails as mean does)
        return input.mean((-1, -2, -3), keepdim=True)
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"adaptive_avg_pool3d_cpu\" not implemented for '{_dtype_title(dtype)}'")
    x = input.float() if dtype == cgrad.float16 else input
    for d in reversed(range(3)):
        x = _resample(x, d + 2, _area_taps(input.shape[d + 2], output_size[d]), x.dtype)
    if dtype == cgrad.float16:
        x = x.half()
    return named(x, "AdaptiveAvgPool3DBackward0")


def _is_integer(x):
    return isinstance(x, int) or (isinstance(x, cgrad.Tensor) and not x.dtype.is_floating_point
                                  and x.dim() == 0)


_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resamples (N, C, *spatial) input to `size` or by `scale_factor`
    (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area;
    lanczos with antialias=True)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the "
                             "interpolating modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    elif size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}")
            output_size = [int(s) for s in size]
        else:
            output_size = [size for _ in range(dim)]
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = list(scale_factor)
        else:
            scale_factors = [scale_factor for _ in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor is not None and recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor is not None and recompute_scale_factor:
        output_size = [math.floor(input.size(i + 2) * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
                         "requires a 4-D tensor as input")
    if mode == "lanczos" and dim == 2:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if antialias:
        return _upsample(input, mode, output_size, scale_factors, align_corners, antialias=True)
    if mode in ("nearest", "nearest-exact") and 1 <= dim <= 3:
        return _upsample(input, mode, output_size, scale_factors, None)
    if mode == "area" and 1 <= dim <= 2:
        pool = cgrad.nn.functional.adaptive_avg_pool1d if dim == 1 else cgrad.nn.functional.adaptive_avg_pool2d
        return pool(input, output_size)
    if mode == "area" and dim == 3:
        return _adaptive_avg_pool3d(input, output_size)
    if (mode, dim) in (("linear", 1), ("bilinear", 2), ("trilinear", 3), ("bicubic", 2)):
        return _upsample(input, mode, output_size, scale_factors, align_corners)
    for m, need in (("bilinear", 4), ("trilinear", 5), ("linear", 3)):
        if mode == m and input.dim() in (3, 4, 5) and input.dim() != need:
            raise NotImplementedError(f"Got {input.dim()}D input, but {m} mode needs {need}D input")
    raise NotImplementedError(
        "Input Error: Only 3D, 4D and 5D input Tensors supported"
        f" (got {input.dim()}D) for the modes: {_MODES}"
        f" (got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated spelling of interpolate."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated spelling of interpolate(mode='nearest')."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated spelling of interpolate(mode='bilinear', align_corners=True)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
