"""F.conv3d and F.conv_transpose3d, as PyTorch 2.13 computes them (weight
(out, in/groups, kD, kH, kW); transposed (in, out/groups, kD, kH, kW)).

A 3-D convolution is one 2-D convolution over depth windows: the input's
depth windows (kD strided slices along D, one per tap) are moved into the
batch and their kD taps into the channels, group by group, so that
conv2d with the weight viewed as (out, kD*in/groups, kH, kW) sums the whole
kD x kH x kW window in one BLAS product (cgrad's compiled conv2d). The
transposed convolution is conv_transpose2d per depth slice, its kD taps
laid out as channels, then col2im along depth (F.fold with a width of 1)
adds every tap into its output depth. Both are compositions of
differentiable ops, so any order of gradient works; the result carries
PyTorch's node name, ConvolutionBackward0.
"""
import warnings

from cgrad import _C
from cgrad._C import Tensor
from cgrad._op_support import dtype_cpp_name
from cgrad.nn._conv_backend import bias_mismatch_message, check_kernel_size, mismatch_message

__all__ = ["conv3d", "conv_transpose3d"]

_LEGACY_TYPE = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
                "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _functional():
    from cgrad.nn import functional
    return functional


def _named(result, name):
    from cgrad.nn._named_node import named
    return named(result, name)


def _cpp(t):
    return dtype_cpp_name(t.dtype)


def _legacy(t):
    return "cgrad." + _LEGACY_TYPE.get(str(t.dtype).split(".")[-1], "Tensor")


def _param(value, name, fname="conv3d"):
    values = _functional()._int_tuple(value, 3, name, fname)
    if len(values) != 3:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 3 values to "
                           f"match the convolution dimensions, but got {name}={list(values)}")
    return values


def _check_tensors(input, weight, bias, fname):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{fname}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(weight).__name__}), but expected one of: "
                        f"(Tensor input, Tensor weight, Tensor bias, tuple of ints stride, "
                        f"tuple of ints padding, tuple of ints dilation, int groups)")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{fname}(): argument 'bias' (position 3) must be Tensor, not {type(bias).__name__}")
    if input.dim() not in (4, 5):
        raise RuntimeError(f"Expected 4D (unbatched) or 5D (batched) input to {fname}, but "
                           f"got input of size: {list(input.shape)}")
    if weight.dim() <= 2:
        raise RuntimeError("weight should have at least three dimensions")


def _check_numbers(stride, padding, dilation, groups):
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"conv3d(): argument 'groups' (position 7) must be int, not {type(groups).__name__}")
    if any(v <= 0 for v in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(v < 0 for v in padding):
        raise RuntimeError("negative padding is not supported")
    if any(v <= 0 for v in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")


def _check_dtypes(x, w, b, stride, dilation, groups):
    if b is not None and b.dtype != x.dtype:
        raise RuntimeError(f"Input type ({_cpp(x)}) and bias type ({_cpp(b)}) should be the same")
    if x.dtype != w.dtype:
        raise RuntimeError(mismatch_message(x, w, stride, dilation, groups, _legacy))


def _string_padding_dtypes(x, w, stride, dilation, groups):
    """padding='same'/'valid' (PyTorch's _convolution_mode) meets a weight of
    another dtype before any check of the bias's."""
    if x.dtype != w.dtype:
        raise RuntimeError(mismatch_message(x, w, stride, dilation, groups, _legacy))


def _check_transposed_dtypes(x, w, b, stride, dilation, groups):
    """A transposed convolution checks the bias only after the weight, and
    on its native path as its kernel does (an "expected scalar type");
    its dtype dispatch comes first."""
    if not x.dtype.is_floating_point and str(x.dtype) != "cgrad.int64":
        raise NotImplementedError(f"\"slow_conv_transpose3d_out_cpu\" not implemented for "
                                  f"'{_LEGACY_TYPE[str(x.dtype).split('.')[-1]][:-6]}'")
    if x.dtype != w.dtype:
        raise RuntimeError(mismatch_message(x, w, stride, dilation, groups, _legacy))
    if b is not None and b.dtype != x.dtype:
        raise RuntimeError(bias_mismatch_message(x, w, b, stride, dilation, groups, _legacy))


def _same_padding(input, weight, stride, dilation):
    """padding='same': each side's padding, and the input padded on the
    right where the total is odd (PyTorch's warning then)."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    padding, extra = [], []
    for d, k in zip(dilation, weight.shape[2:]):
        total = d * (k - 1)
        padding.append(total // 2)
        extra.append(total - 2 * (total // 2))
    if any(extra):
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require "
                      "a zero-padded copy of the input be created", stacklevel=4)
        pads = []
        for e in reversed(extra):
            pads += [0, e]
        input = _C._pad(input, tuple(pads), 0, 0)
    return input, tuple(padding)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation) of (N, C, D, H, W) or (C, D, H, W) input."""
    input, weight, bias = _C._autocast_args(0, input, weight, bias)      # CPU autocast's lower-precision list
    _check_tensors(input, weight, bias, "conv3d")
    stride = _param(stride, "stride")
    dilation = _param(dilation, "dilation")
    if weight.dim() != 5:
        raise RuntimeError(f"expected stride to be a single integer value or a list of {weight.dim() - 2} "
                           f"values to match the convolution dimensions, but got stride={list(stride)}")
    unbatched = input.dim() == 4
    if unbatched:
        input = input.unsqueeze(0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0, 0)
        elif padding == "same":
            input, padding = _same_padding(input, weight, stride, dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        _string_padding_dtypes(input, weight, stride, dilation, groups)
    else:
        padding = _param(padding, "padding")
    _check_numbers(stride, padding, dilation, groups)
    out = _conv3d_batched(input, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


def _check_geometry(x, w, b, groups, padding, dilation):
    oc = w.shape[0]
    shape_w = list(w.shape)
    if oc < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but "
                           f"got weight of size {shape_w} instead")
    if oc % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{shape_w}] instead")
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {shape_w}, expected input{list(x.shape)} to "
                           f"have {w.shape[1] * groups} channels, but got {x.shape[1]} channels instead")
    if b is not None and not (b.dim() == 1 and b.shape[0] == oc):
        raise RuntimeError(f"Given weight of size {shape_w}, expected bias to be 1-dimensional with {oc} "
                           f"elements, but got bias of size {list(b.shape)} instead")
    padded = [x.shape[2 + i] + 2 * padding[i] for i in range(3)]
    effective = [dilation[i] * (w.shape[2 + i] - 1) + 1 for i in range(3)]
    if any(p < e for p, e in zip(padded, effective)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                           f"size: ({' x '.join(map(str, effective))}). Kernel size can't be greater than actual "
                           "input size")


def _conv3d_batched(x, w, b, stride, padding, dilation, groups):
    _check_dtypes(x, w, b, stride, dilation, groups)
    _check_geometry(x, w, b, groups, padding, dilation)
    check_kernel_size(x, w, stride, dilation, groups)
    n, c, depth = x.shape[0], x.shape[1], x.shape[2]
    oc, cg, kd = w.shape[0], w.shape[1], w.shape[2]
    sd, pd, dd = stride[0], padding[0], dilation[0]
    if pd:
        x = _C._pad(x, (0, 0, 0, 0, pd, pd), 0, 0)
    span = dd * (kd - 1) + 1
    od = (depth + 2 * pd - span) // sd + 1
    # taps (N, C, oD, H, W, kD) -> (N*oD, G*kD*C/G, H, W)
    reach = sd * (od - 1) + 1
    taps = _C.stack([x[:, :, t * dd:t * dd + reach:sd] for t in range(kd)], -1)
    h, wd = x.shape[3], x.shape[4]
    taps = taps.reshape(n, groups, cg, od, h, wd, kd).permute(0, 3, 1, 6, 2, 4, 5)
    taps = taps.reshape(n * od, groups * kd * cg, h, wd)
    w2 = w.permute(0, 2, 1, 3, 4).reshape(oc, kd * cg, w.shape[3], w.shape[4])
    y = _C._convolution(taps, w2, b, tuple(stride[1:]), tuple(padding[1:]), tuple(dilation[1:]), groups)
    y = y.reshape(n, od, oc, y.shape[2], y.shape[3]).permute(0, 2, 1, 3, 4).contiguous()
    return _named(y, "ConvolutionBackward0") if y.requires_grad else y


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution of (N, C, D, H, W) or (C, D, H, W) input."""
    input, weight, bias = _C._autocast_args(0, input, weight, bias)      # CPU autocast's lower-precision list
    _check_tensors(input, weight, bias, "conv_transpose3d")
    stride = _param(stride, "stride", "conv_transpose3d")
    padding = _param(padding, "padding", "conv_transpose3d")
    output_padding = _param(output_padding, "output_padding", "conv_transpose3d")
    dilation = _param(dilation, "dilation", "conv_transpose3d")
    if weight.dim() != 5:
        raise RuntimeError(f"expected stride to be a single integer value or a list of {weight.dim() - 2} "
                           f"values to match the convolution dimensions, but got stride={list(stride)}")
    _check_numbers(stride, padding, dilation, groups)
    if any(v < 0 for v in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           f"output_padding_depth: {output_padding[0]} output_padding_height: {output_padding[1]} "
                           f"output_padding_width: {output_padding[2]} stride_depth: {stride[0]} stride_height: "
                           f"{stride[1]} stride_width: {stride[2]} dilation_depth: {dilation[0]} "
                           f"dilation_height: {dilation[1]} dilation_width: {dilation[2]}")
    unbatched = input.dim() == 4
    x = input.unsqueeze(0) if unbatched else input
    _check_transposed_dtypes(x, weight, bias, stride, dilation, groups)
    cin = weight.shape[0]
    if x.shape[1] != cin or cin % groups:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                           f"{list(x.shape)} to have {cin} channels, but got {x.shape[1]} channels instead")
    ocg = weight.shape[1]
    if bias is not None and not (bias.dim() == 1 and bias.shape[0] == ocg * groups):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {ocg * groups} elements, but got bias of size {list(bias.shape)} "
                           "instead")
    out_sizes = [(x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (weight.shape[2 + i] - 1)
                 + output_padding[i] + 1 for i in range(3)]
    if any(s <= 0 for s in out_sizes):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(str(v) for v in x.shape[2:])}). "
                           f"Calculated output size per channel: ({' x '.join(map(str, out_sizes))}). "
                           "Output size is too small")
    out = _conv_transpose3d_batched(x, weight, bias, stride, padding, output_padding, groups, dilation, out_sizes)
    return out.squeeze(0) if unbatched else out


def _conv_transpose3d_batched(x, w, b, stride, padding, output_padding, groups, dilation, out_sizes):
    F = _functional()
    n, cin, depth, h, wd = x.shape
    ocg, kd = w.shape[1], w.shape[2]
    # every depth slice through conv_transpose2d, the kD taps as output channels (G, kD, OC/G)
    slices = x.permute(0, 2, 1, 3, 4).reshape(n * depth, cin, h, wd)
    w2 = w.reshape(cin, ocg, kd, w.shape[3], w.shape[4]).permute(0, 2, 1, 3, 4)
    w2 = w2.reshape(cin, kd * ocg, w.shape[3], w.shape[4])
    y = F.conv_transpose2d(slices, w2, None, tuple(stride[1:]), tuple(padding[1:]), tuple(output_padding[1:]),
                           groups, tuple(dilation[1:]))
    oh, ow = y.shape[2], y.shape[3]
    # col2im along depth: columns (N, G*OC/G*oH*oW*kD, D) folded into (N, ..., oD, 1)
    cols = y.reshape(n, depth, groups, kd, ocg, oh, ow).permute(0, 2, 4, 5, 6, 3, 1)
    cols = cols.reshape(n, groups * ocg * oh * ow * kd, depth)
    # output_padding (which may reach past the last tap when dilation allows it) is zeros at the end
    full_depth = (depth - 1) * stride[0] + dilation[0] * (kd - 1) + 1
    folded = F.fold(cols, (full_depth, 1), (kd, 1), dilation=(dilation[0], 1), stride=(stride[0], 1))
    out = folded.reshape(n, groups * ocg, oh, ow, full_depth)
    if output_padding[0]:
        out = _C._pad(out, (0, output_padding[0]), 0, 0)
    out = out.narrow(4, padding[0], out_sizes[0]).permute(0, 1, 4, 2, 3).contiguous()
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1, 1)
    return _named(out, "ConvolutionBackward0") if out.requires_grad else out
