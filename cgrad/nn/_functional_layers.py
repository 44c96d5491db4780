"""nn.functional's small layers that PyTorch builds from other ops or runs
as layout ops: softmin, glu, gumbel_softmax, pixel_shuffle,
pixel_unshuffle, bilinear, alpha_dropout.

Each is a sequence of whole-tensor cgrad ops (no per-element Python);
where PyTorch's op has its own node (GluBackward0, PixelShuffleBackward0,
PixelUnshuffleBackward0) the result carries that name (see _named_node).
"""
import math

import cgrad
from cgrad.nn._named_node import named
from cgrad.nn.functional import _get_softmax_dim


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) over dim."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    if dtype is None:
        return (-input).softmax(dim)
    return (-input).softmax(dim, dtype=dtype)


def glu(input, dim=-1):
    """a * sigmoid(b), a and b the two halves of input along dim."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    wrapped = _wrap_dim(dim, input.dim())
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"glu_cpu\" not implemented for '{_title(input.dtype)}'")
    n = input.shape[wrapped]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {wrapped} is size {n}")
    # narrow, not split: an empty dimension has two empty halves
    a, b = input.narrow(wrapped, 0, n // 2), input.narrow(wrapped, n // 2, n // 2)
    return named(a * b.sigmoid(), "GluBackward0")


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel(0, 1) noise) / tau); hard gives the one-hot
    argmax with the soft sample's gradient (straight-through)."""
    import warnings
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -cgrad.empty_like(logits).exponential_().log()
    gumbels = (logits + gumbels) / tau
    y_soft = gumbels.softmax(dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = cgrad.zeros_like(logits).scatter_(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft


def _check_shuffle_input(input, name, factor_name, factor):
    if input.dim() < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {factor_name}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) to (*, C, H r, W r)."""
    r = upscale_factor
    _check_shuffle_input(input, "pixel_shuffle", "upscale_factor", r)
    c, h, w = input.shape[-3:]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    batch = tuple(input.shape[:-3])
    nb = len(batch)
    x = input.reshape(batch + (c // (r * r), r, r, h, w))
    x = x.permute(*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return named(x.reshape(batch + (c // (r * r), h * r, w * r)), "PixelShuffleBackward0")


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) to (*, C r^2, H, W)."""
    r = downscale_factor
    _check_shuffle_input(input, "pixel_unshuffle", "downscale_factor", r)
    c, h, w = input.shape[-3:]
    if h % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    batch = tuple(input.shape[:-3])
    nb = len(batch)
    x = input.reshape(batch + (c, h // r, r, w // r, r))
    x = x.permute(*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return named(x.reshape(batch + (c * r * r, h // r, w // r)), "PixelUnshuffleBackward0")


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    tensors = [input1, input2, weight] + ([] if bias is None else [bias])
    if any(t.dtype != input1.dtype for t in tensors):
        # ATen's first check, in C++'s type names
        from cgrad.nn._conv3d import _cpp
        names = ["input1", "input2", "weight", "bias"]
        raise RuntimeError("All tensors must have the same dtype, got "
                           + ", ".join(f"{n}: {_cpp(t)}" for n, t in zip(names, tensors)))
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got "
                               f"{input1.shape[i]} and {input2.shape[i]}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {weight.shape[2]}")
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but "
                           f"expected {weight.shape[0]}")
    out_features, in1, in2 = weight.shape
    output_size = tuple(input1.shape[:-1]) + (out_features,)
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (B, I) @ (I, O * J) -> (B, O, J), then contracted with x2 over J
    left = x1.matmul(weight.permute(1, 0, 2).reshape(in1, out_features * in2)).view(-1, out_features, in2)
    # PyTorch's bilinear is one _trilinear kernel between its views
    output = named(left.matmul(x2.unsqueeze(-1)).squeeze(-1), "TrilinearBackward0").view(output_size)
    if bias is not None:
        output = output + bias
    return output


_SELU_ALPHA_SCALE = 1.7580993408473766   # selu's alpha * scale: the value dropped units take, negated


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units are set to selu's negative
    saturation value and the result is scaled and shifted so that mean and
    variance stay those of the input (PyTorch's _dropout_impl)."""
    return _alpha_dropout(input, p, training, inplace, feature=False)


def _alpha_dropout(input, p, training, inplace, feature):
    """alpha_dropout of elements, or of whole channels (dim 1) when feature
    (feature_alpha_dropout): PyTorch's _dropout_impl."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = cgrad.zeros((), dtype=input.dtype)
        return input.mul_(zero) if inplace else input * zero
    if feature:
        noise = cgrad.empty(tuple(input.shape[:2]) + (1,) * (input.dim() - 2), dtype=input.dtype).bernoulli_(1 - p)
    else:
        noise = cgrad.empty_like(input).bernoulli_(1 - p)
    a = 1.0 / math.sqrt((_SELU_ALPHA_SCALE * _SELU_ALPHA_SCALE * p + 1) * (1 - p))
    b = noise.add(-1).mul_(_SELU_ALPHA_SCALE * a).add_(_SELU_ALPHA_SCALE * a * p)
    noise.mul_(a)
    if inplace:
        return input.mul_(noise).add_(b)
    return (input * noise).add_(b)


def _wrap_dim(dim, ndim):
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return dim + ndim if dim < 0 else dim


def _title(dtype):
    from cgrad.nn._distance import _dtype_title
    return _dtype_title(dtype)
