"""F.conv_transpose1d / conv_transpose2d: the adjoint of a convolution, as
PyTorch 2.13 computes it (weight (in, out/groups, *kernel)).

The forward is a convolution's input gradient: per group W^T @ x gives the
columns (N, out*kh*kw, H*W), which col2im (F.fold's kernel) scatters into
the output of size (H-1)*stride - 2*padding + dilation*(k-1) +
output_padding + 1. When output_padding reaches past the last block
(output_padding >= stride, allowed when dilation is larger) the columns
are folded into the uncropped image and the window is copied out. A 1-D
call is the 2-D one with a height of 1.

The node is PyTorch's ConvolutionBackward0, through the Python-node bridge;
it keeps PyTorch's _saved_* attributes. Its backward is written with
differentiable ops so double backward works:
input = conv2d(g, W) (the same geometry), weight = x @ unfold(g)^T per
group summed over the batch, bias = g summed over all but channels."""
import weakref

import numpy as np

from cgrad import _C
from cgrad._C import Tensor
from cgrad._op_support import _version_checked
from cgrad.autograd.grad_mode import no_grad
from cgrad.nn._conv_backend import bias_mismatch_message, mismatch_message, takes_onednn

__all__ = ["conv_transpose1d", "conv_transpose2d"]

_TENSOR_TYPE = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
                "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


_WIDENED = (_C.float16,)


_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
          "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
          "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
          "if you need to access saved tensors after calling backward.")


class ConvolutionBackward0(_C.PythonBackward):
    """PyTorch's node of a (transposed) convolution, with its _saved_* view
    of the arguments. The backward function holds the saved tensors; the
    node only refers to them weakly, so freeing the graph frees them."""
    __module__ = "cgrad.autograd.graph"

    def _saved_tensor(self, which):
        tensor = self._saved[which]() if self.backward_fn is not None else None
        if tensor is None:
            raise RuntimeError(_FREED)
        return tensor

    @property
    def _saved_input(self):
        return self._saved_tensor("input")

    @property
    def _saved_weight(self):
        return self._saved_tensor("weight")

    def __getattr__(self, name):
        saved = self.__dict__.get("_saved")
        if saved is not None and name.startswith("_saved_") and name[7:] in saved:
            return saved[name[7:]]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


def _type_name(t):
    return "cgrad." + _TENSOR_TYPE.get(str(t.dtype).split(".")[-1], "Tensor")


def _int_arg(value, fname, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{fname}(): argument '{name}' must be int, not {type(value).__name__}")
    return value


def _int_tuple(value, n, fname, name):
    if isinstance(value, bool):
        raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, but found bool")
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, (str, float)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")
    values = tuple(value)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, but found element of "
                            f"type {type(v).__name__}")
    return values


def _expand(values, n, name):
    """PyTorch expands each argument to the weight's spatial dims."""
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to "
                           f"match the convolution dimensions, but got {name}={list(values)}")
    return values


def _check(x, w, b, stride, padding, output_padding, dilation, groups):
    """PyTorch's checks, in its order, on batched x and w of equal rank."""
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    wshape, xshape = list(w.shape), list(x.shape)
    if w.dim() != x.dim():
        raise RuntimeError(f"Expected {w.dim()}-dimensional input for {w.dim()}-dimensional weight {wshape}, "
                           f"but got {x.dim()}-dimensional input of size {xshape} instead")
    if wshape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{wshape}] instead")
    if xshape[1] != wshape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {wshape}, expected input{xshape} to have "
                           f"{wshape[0]} channels, but got {xshape[1]} channels instead")
    out_channels = wshape[1] * groups
    if b is not None and (b.dim() != 1 or b.shape[0] != out_channels):
        raise RuntimeError(f"Given transposed=1, weight of size {wshape}, expected bias to be 1-dimensional "
                           f"with {out_channels} elements, but got bias of size {list(b.shape)} instead")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        names = ("height", "width") if len(stride) == 2 else ("width",)
        parts = [f"output_padding_{n}: {v}" for n, v in zip(names, output_padding)]
        parts += [f"stride_{n}: {v}" for n, v in zip(names, stride)]
        parts += [f"dilation_{n}: {v}" for n, v in zip(names, dilation)]
        if len(stride) == 1:    # PyTorch reports a 1-D call as 2-D with height 1 and the defaults
            parts = ["output_padding_height: 0", parts[0], "stride_height: 1", parts[1],
                     "dilation_height: 1", parts[2]]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           + " ".join(parts))
    if not x.dtype.is_floating_point and str(x.dtype) != "cgrad.int64":
        # the native kernels' dtype dispatch comes before their check of the weight's dtype
        raise NotImplementedError(f"\"slow_conv_transpose{3 if len(stride) == 3 else 2}d_out_cpu\" not "
                                  f"implemented for '{_TENSOR_TYPE[str(x.dtype).split('.')[-1]][:-6]}'")
    if w.dtype != x.dtype:
        raise RuntimeError(mismatch_message(x, w, stride, dilation, groups, _type_name))
    if b is not None and b.dtype != x.dtype and takes_onednn(str(x.dtype).split(".")[-1], tuple(xshape),
                                                             tuple(wshape), stride, dilation, groups,
                                                             _C.get_num_threads()):
        # (off oneDNN's path, PyTorch's native kernels add such a bias cast to the input's dtype)
        raise RuntimeError(bias_mismatch_message(x, w, b, stride, dilation, groups, _type_name))
    if any(v == 0 for v in xshape[2:]):
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input shape: "
                           f"{xshape}")
    if w.numel() == 0:
        raise RuntimeError(f"non-empty 2D or 4D weight tensor expected, but got: {wshape}")
    sizes = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1
             for i, s, p, d, k, op in zip(xshape[2:], stride, padding, dilation, wshape[2:], output_padding)]
    if any(v < 1 for v in sizes):
        def per_channel(vals):
            return "(" + " x ".join(str(v) for v in vals) + ")"
        raise RuntimeError(f"Given input size per channel: {per_channel(xshape[2:])}. Calculated output size "
                           f"per channel: {per_channel(sizes)}. Output size is too small")
    return sizes


def _forward_values(x4, w4, b, stride, padding, dilation, groups, out_hw):
    """The output values (no history) of the 2-D-shaped call."""
    n, cin, h, w = x4.shape
    kh, kw = w4.shape[2], w4.shape[3]
    ocg = w4.shape[1]
    oc = ocg * groups
    k = ocg * kh * kw
    cols = _C.matmul(w4.reshape(groups, cin // groups, k).transpose(1, 2),
                     x4.reshape(n, groups, cin // groups, h * w)).reshape(n, oc * kh * kw, h * w)
    kernel = (kh, kw)
    blocks = [(o + 2 * p - d * (kk - 1) - 1) // s + 1
              for o, p, d, kk, s in zip(out_hw, padding, dilation, kernel, stride)]
    if blocks == [h, w]:
        out = _C._fold(cols, tuple(out_hw), kernel, tuple(dilation), tuple(padding), tuple(stride))
    else:
        full = [(i - 1) * s + d * (kk - 1) + 1 for i, s, d, kk in zip((h, w), stride, dilation, kernel)]
        whole = _C._fold(cols, tuple(full), kernel, tuple(dilation), (0, 0), tuple(stride)).numpy()
        window = np.zeros((n, oc) + tuple(out_hw), dtype=whole.dtype)
        reach = [min(o, f - p) for o, f, p in zip(out_hw, full, padding)]
        window[:, :, :reach[0], :reach[1]] = whole[:, :, padding[0]:padding[0] + reach[0],
                                                   padding[1]:padding[1] + reach[1]]
        out = _C.from_numpy(window)
    if b is not None:
        out = out + b.reshape(1, oc, 1, 1)
    return out


def _backward(g, x4, w4, has_bias, wants, stride, padding, dilation, groups):
    """(grad_x4, grad_w4, grad_bias) of the 2-D-shaped call, differentiable."""
    n, cin, h, w = x4.shape
    kh, kw = w4.shape[2], w4.shape[3]
    ocg = w4.shape[1]
    gx = gw = gb = None
    if wants[0]:
        gx = _C._convolution(g, w4, None, tuple(stride), tuple(padding), tuple(dilation), groups)
        if tuple(gx.shape[2:]) != (h, w):
            gx = gx[:, :, :h, :w]
    if wants[1]:
        cols = _C._unfold(g, (kh, kw), tuple(dilation), tuple(padding), tuple(stride))
        oh = (g.shape[2] + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        ow = (g.shape[3] + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        if (oh, ow) != (h, w):
            cols = cols.reshape(n, ocg * groups * kh * kw, oh, ow)[:, :, :h, :w]
        cols = cols.reshape(n, groups, ocg * kh * kw, h * w)
        per_sample = _C.matmul(x4.reshape(n, groups, cin // groups, h * w), cols.transpose(-1, -2))
        gw = per_sample.sum(0).reshape(cin, ocg, kh, kw)
    if has_bias and wants[2]:
        gb = g.sum((0, 2, 3))
    return gx, gw, gb


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, n):
    fname = f"conv_transpose{n}d"
    input, weight, bias = _C._autocast_args(0, input, weight, bias)      # CPU autocast's lower-precision list
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fname}(): argument 'weight' (position 2) must be Tensor, not "
                        f"{type(weight).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{fname}(): argument 'bias' (position 3) must be Tensor, not {type(bias).__name__}")
    stride = _int_tuple(stride, n, fname, "stride")
    padding = _int_tuple(padding, n, fname, "padding")
    output_padding = _int_tuple(output_padding, n, fname, "output_padding")
    groups = _int_arg(groups, fname, "groups")
    dilation = _int_tuple(dilation, n, fname, "dilation")
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {fname}, but "
                           f"got input of size: {list(input.shape)}")
    unbatched = input.dim() == n + 1
    x = input.unsqueeze(0) if unbatched else input
    spatial = max(weight.dim() - 2, 1)
    stride = _expand(stride, spatial, "stride")
    padding = _expand(padding, spatial, "padding")
    output_padding = _expand(output_padding, spatial, "output_padding")
    dilation = _expand(dilation, spatial, "dilation")
    sizes = _check(x, weight, bias, stride, padding, output_padding, dilation, groups)
    if bias is not None and bias.dtype != x.dtype:
        bias = bias.to(x.dtype)       # _check refused it where PyTorch does; its gradient keeps its dtype
    if n == 1:              # the 2-D computation with a height of 1
        stride, padding, dilation = (1,) + stride, (0,) + padding, (1,) + dilation
        out_hw = [1] + sizes
    else:
        out_hw = sizes
    x4 = x.detach().unsqueeze(2) if n == 1 else x.detach()
    w4 = weight.detach().unsqueeze(2) if n == 1 else weight.detach()
    b = None if bias is None else bias.detach()
    with no_grad():
        if x.dtype in _WIDENED:      # half precision runs in float32, as PyTorch's CPU kernels accumulate
            out = _forward_values(x4.float(), w4.float(), None if b is None else b.float(), stride, padding,
                                  dilation, groups, out_hw).to(x.dtype)
        else:
            out = _forward_values(x4.contiguous(), w4.contiguous(), b, stride, padding, dilation, groups,
                                  out_hw)
        if n == 1:
            out = out.squeeze(2)
        out = _C._follow_input_format(out, x, weight)     # channels-last in, channels-last out
    x_shape, w_shape = tuple(x.shape), tuple(weight.shape)

    def backward(grads):
        g = grads[0] if isinstance(grads, list) else grads
        if g is None:
            return (None, None, None)
        wants = (x.requires_grad, weight.requires_grad, bias is not None and bias.requires_grad)
        gx, gw, gb = _backward(g.unsqueeze(2) if n == 1 else g,
                               x.unsqueeze(2) if n == 1 else x,
                               weight.unsqueeze(2) if n == 1 else weight,
                               bias is not None, wants, stride, padding, dilation, groups)
        if n == 1:
            gx = None if gx is None else gx.reshape(x_shape)
            gw = None if gw is None else gw.reshape(w_shape)
        return (gx, gw, gb)
    # recorded for reverse mode, or for forward mode alone (a dual input that does not require grad)
    if (_C.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, weight, bias))) or \
            any(t is not None and _C._fw_tangent(t) is not None for t in (x, weight, bias)):
        spatial_args = slice(1, None) if n == 1 else slice(None)
        geometry = (stride[spatial_args], padding[spatial_args], tuple(output_padding), groups,
                    dilation[spatial_args])

        def jvp(tangents, nr):
            # bilinear in (input, weight), affine in bias
            xt, wt, bt = tangents
            terms = [] if xt is None else [_conv_transpose(xt, weight.detach(), None, *geometry, n)]
            if wt is not None:
                terms.append(_conv_transpose(x.detach(), wt, None, *geometry, n))
            if bt is not None:
                terms.append(bt.reshape((1, -1) + (1,) * n).expand(tuple(out.shape)))
            return None if not terms else sum(terms[1:], terms[0])
        node = _C._attach_history([out], ConvolutionBackward0, [x, weight, bias],
                                  _version_checked(backward, [input, weight]), jvp)
        node._saved = {"input": weakref.ref(x), "weight": weakref.ref(weight), "stride": stride[spatial_args],
                       "padding": padding[spatial_args], "dilation": dilation[spatial_args],
                       "output_padding": tuple(output_padding), "groups": groups, "transposed": True,
                       "bias_sym_sizes_opt": (0,) if bias is None else tuple(bias.shape)}
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution of (N, C_in, L) or (C_in, L) input."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution of (N, C_in, H, W) or (C_in, H, W) input."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)
