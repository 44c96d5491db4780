"""ATen's native_* functions and the other torch-level ops scripts and
decompositions call directly: native_layer_norm, native_batch_norm,
native_group_norm (each (out, mean, rstd) in PyTorch's shapes),
native_dropout ((out, bool mask)), norm_except_dim, the in-place dropouts,
embedding_renorm_, binomial, put, resize_as_, empty_permuted,
nonzero_static and histogramdd.

The main output is computed by the nn.functional op that already carries
PyTorch's node (NativeLayerNormBackward0, ...); the statistics beside it
are recomputed from the input with the same formula (biased variance,
1 / sqrt(var + eps)). PyTorch's layer and batch norm statistics are not
differentiable (no grad_fn); group norm's are, under the group norm node,
so they are built from differentiable ops and carry that name. Dropout
masks come from the same bernoulli_ draws as PyTorch's kernel, so
cgrad.manual_seed(s) gives torch.manual_seed(s)'s mask.

(torch.native_norm is left out: PyTorch runs it for sparse tensors only,
which cgrad has none of.)
"""
import numpy as np

import cgrad
from cgrad import _C
from cgrad._op_support import attach, forward_ad_not_implemented, result
from cgrad.nn import functional as F
from cgrad.nn._functional_layers import _alpha_dropout
from cgrad.nn._named_node import named
from cgrad._ops_composites import _dtype_title

__all__ = ["native_layer_norm", "native_batch_norm", "native_group_norm", "native_dropout", "norm_except_dim",
           "batch_norm_update_stats", "native_channel_shuffle",
           "feature_dropout_", "alpha_dropout_", "feature_alpha_dropout_", "embedding_renorm_", "binomial", "put",
           "resize_as_", "empty_permuted", "nonzero_static", "histogramdd"]


def _stats(x, dims, eps):
    """(mean, 1 / sqrt(biased var + eps)) over dims, kept."""
    mean = x.mean(dims, keepdim=True)
    var = (x - mean).square().mean(dims, keepdim=True)
    return mean, (var + eps).rsqrt()


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(out, mean, rstd); mean and rstd have input's leading dims and 1s
    for the normalized ones."""
    out = F.layer_norm(input, list(normalized_shape), weight, bias, eps)
    dims = tuple(range(input.dim() - len(normalized_shape), input.dim()))
    with cgrad.no_grad():
        mean, rstd = _stats(input, dims, eps) if input.numel() else (
            cgrad.empty(tuple(input.shape[:input.dim() - len(dims)]) + (1,) * len(dims), dtype=input.dtype),) * 2
    return out, mean, rstd


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(out, save_mean, save_invstd): the batch's per-channel mean and
    1 / sqrt(biased var + eps) while training (the running stats updated
    in place), empty tensors otherwise."""
    if not training and (running_mean is None or running_var is None):
        # PyTorch's CPU kernel reads the missing running stats (a crash); an error here
        raise RuntimeError("native_batch_norm: running_mean and running_var must be defined in evaluation mode")
    out = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        return out, cgrad.empty(0, dtype=input.dtype), cgrad.empty(0, dtype=input.dtype)
    dims = (0,) + tuple(range(2, input.dim()))
    with cgrad.no_grad():
        mean, invstd = _stats(input, dims, eps)
    return out, mean.reshape(-1), invstd.reshape(-1)


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(out, mean, rstd), the statistics (N, group) and differentiable as in
    PyTorch (under its NativeGroupNormBackward0)."""
    if input.numel() != N * C * HxW:
        raise RuntimeError("Expected X.numel() == N * C * HxW to be true, but got false.  (Could this error "
                           "message be improved?  If so, please report an enhancement request to PyTorch.)")
    out = F.group_norm(input, group, weight, bias, eps)
    grouped = input.reshape(N, group, -1)
    mean, rstd = _stats(grouped, (2,), eps)
    return out, named(mean.reshape(N, group), "NativeGroupNormBackward0"), \
        named(rstd.reshape(N, group), "NativeGroupNormBackward0")


def native_dropout(input, p, train):
    """(out, mask): out = input * mask / (1 - p) with a bool mask of kept
    elements; train False returns a copy and an all-True mask. train None
    draws as True, but PyTorch's backward then scales by 1, not 1 / (1 - p)
    (its derivatives.yaml), and so does this node."""
    if train is False:
        return named(input.clone(), "NativeDropoutBackward0"), cgrad.ones(input.shape, dtype=cgrad.bool)
    keep = 1.0 - p
    mask = cgrad.empty_like(input).bernoulli_(keep)
    scale = 0.0 if keep == 0 else 1.0 / keep
    grad_scale = 1.0 if train is None else scale
    with cgrad.no_grad():
        out = input * mask * scale

    def backward(grad):
        return (grad * mask * grad_scale,)

    attach([out], "NativeDropoutBackward0", [input], backward)
    return out, mask.to(cgrad.bool)


def batch_norm_update_stats(input, running_mean, running_var, momentum):
    """(mean, biased var) per channel of input, the running statistics (when
    given) moved toward the mean and the unbiased var by momentum, in place."""
    dims = (0,) + tuple(range(2, input.dim()))
    with cgrad.no_grad():
        mean = input.mean(dims)
        var = input.var(dims, unbiased=False)
        count = input.numel() // input.size(1)
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean * momentum)
        if running_var is not None:
            running_var.mul_(1 - momentum).add_(var * (momentum * count / max(count - 1, 1)))
    return tuple(_not_implemented_node("batch_norm_update_stats", [mean, var], [input]))


def native_channel_shuffle(input, groups):
    """channel_shuffle's values under ATen's native op, which has no derivative."""
    with cgrad.no_grad():
        out = F.channel_shuffle(input, groups)
    return _not_implemented_node("native_channel_shuffle", [out], [input])[0]


def norm_except_dim(v, pow=2, dim=0):
    """The pow-norm of v over every dim but `dim` (kept as size 1), or of all
    of v when dim is -1 (weight_norm's g)."""
    if isinstance(pow, bool) or not isinstance(pow, (int, np.integer)):
        raise TypeError(f"norm_except_dim(): argument 'pow' (position 2) must be int, not {type(pow).__name__}")
    if dim == -1:
        # ATen's Tensor::norm, recorded under norm's own node (not linalg_vector_norm's)
        return named(v.norm(pow), "NormBackward0")
    last = v.dim() - 1
    if dim == 0:
        return v.contiguous().view(v.size(0), -1).norm(pow, 1).view((v.size(0),) + (1,) * last)
    if dim == last:
        return v.contiguous().view(-1, v.size(last)).norm(pow, 0).view((1,) * last + (v.size(last),))
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def _check_probability(p):
    if p < 0 or p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def _check_feature_input(input):
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")


def feature_dropout_(input, p, train):
    _check_probability(p)
    _check_feature_input(input)
    return F._feature_dropout(input, p, train, True)


def alpha_dropout_(input, p, train):
    _check_probability(p)
    return _alpha_dropout(input, p, train, True, feature=False)


def feature_alpha_dropout_(input, p, train):
    _check_probability(p)
    _check_feature_input(input)
    return _alpha_dropout(input, p, train, True, feature=True)


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescales the rows of input named in indices to norm at most max_norm, in place; returns input."""
    with cgrad.no_grad():
        _C._embedding_renorm_(input, indices, max_norm, norm_type)
    return input


def binomial(count, prob, generator=None):
    """Draws of Binomial(count, prob), in count's dtype (cgrad.distributions'
    sampler: numpy's, seeded from cgrad's generator, so not torch's draws)."""
    if not count.is_floating_point():
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {_dtype_title(count.dtype)}")
    if prob.dtype != count.dtype:
        raise RuntimeError(f"Found dtype {_dtype_title(prob.dtype)} but expected {_dtype_title(count.dtype)}")
    shape = cgrad.broadcast_shapes(count.shape, prob.shape)
    seed_source = cgrad.randint(0, 2 ** 62, (), dtype=cgrad.int64, generator=generator) if generator is not None \
        else cgrad.randint(0, 2 ** 62, (), dtype=cgrad.int64)
    n = np.broadcast_to(count.detach().numpy(), shape).astype(np.int64)
    p = np.clip(np.broadcast_to(prob.detach().numpy(), shape).astype(np.float64), 0.0, 1.0)
    draws = np.random.default_rng(int(seed_source.item())).binomial(n, p)
    result = _C.from_numpy(np.array(draws, dtype=count.detach().numpy().dtype))    # keeps 0-dim (ascontiguousarray does not)
    return _not_implemented_node("binomial", [result], [count, prob])[0]


def _not_implemented_node(op, outputs, inputs):
    """outputs under PyTorch's NotImplemented placeholder node (an op without
    a derivative): backward through them raises PyTorch's error."""
    def backward(grads):
        raise RuntimeError(f"derivative for aten::{op} is not implemented")
    attach(outputs, "NotImplemented", inputs, backward, jvp=forward_ad_not_implemented(op))
    return outputs


def put(input, index, source, accumulate=False):
    """input with source written (or, with accumulate, added) at the flat indices index."""
    return input.put(index, source, accumulate)


def resize_as_(input, the_template, *, memory_format=None):
    return input.resize_as_(the_template) if memory_format is None else \
        input.resize_as_(the_template, memory_format=memory_format)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised tensor of `size` whose memory holds the dims in the
    order physical_layout (its strides are those of a contiguous tensor of
    the permuted size, permuted back)."""
    size = tuple(int(s) for s in size)
    physical_layout = tuple(int(d) for d in physical_layout)
    if len(physical_layout) != len(size):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; "
                           f"i.e. len(size) = {len(size)} is not equal to len(physical_layout) = "
                           f"{len(physical_layout)}")
    if sorted(physical_layout) != list(range(len(size))):
        raise RuntimeError("Duplicate dim not allowed")
    physical = cgrad.empty(tuple(size[d] for d in physical_layout), dtype=dtype, device=device)
    inverse = [0] * len(size)
    for position, d in enumerate(physical_layout):
        inverse[d] = position
    out = physical.permute(inverse)
    return out.requires_grad_() if requires_grad else out


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero's (count, ndim) indices cut or padded with fill_value to exactly `size` rows."""
    return input.nonzero_static(size=size, fill_value=fill_value)


def histogramdd(input, bins, range=None, weight=None, density=False):
    """(hist, bin_edges): counts (or weights) of the rows of input (..., D)
    in a D-dimensional grid of bins: one count per dim, one for all, or each
    dim's edges as tensors; range is (min0, max0, min1, max1, ...)."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_dtype_title(input.dtype)}'")
    dims = input.shape[-1]
    points = input.detach().numpy().reshape(-1, dims)
    if isinstance(bins, int):
        bins = [bins] * dims
    if len(bins) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    if isinstance(bins[0], _C.Tensor):
        spec = [b.detach().numpy().astype(points.dtype) for b in bins]
        ranges = None
    else:
        spec = [int(b) for b in bins]
        for d, b in enumerate(spec):
            if b <= 0:
                raise RuntimeError(f"histogramdd(): bins must be > 0, but got {b} for dimension {d}")
        if range is not None:
            ranges = [(float(range[2 * d]), float(range[2 * d + 1])) for d in _dims(dims)]
        else:
            ranges = [(float(points[:, d].min()), float(points[:, d].max())) if points.shape[0] else (0.0, 0.0)
                      for d in _dims(dims)]
        # an empty range widens as PyTorch's does (numpy widens by 0.5 too)
        ranges = [(lo - 0.5, hi + 0.5) if lo == hi and range is None else (lo, hi) for lo, hi in ranges]
    w = None if weight is None else weight.detach().numpy().reshape(-1)
    hist, edges = np.histogramdd(points, bins=spec, range=ranges, weights=w, density=density)
    return result("histogramdd", (_C.from_numpy(np.ascontiguousarray(hist, dtype=points.dtype)),
                                  tuple(_C.from_numpy(np.ascontiguousarray(e, dtype=points.dtype)) for e in edges)))


_dims = range    # histogramdd's argument `range` hides the builtin there
