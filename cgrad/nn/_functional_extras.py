"""nn.functional ops scripts use that cgrad lacked, each written as
PyTorch's own composite (torch/nn/functional.py) or, where PyTorch has one
ATen kernel, as a composite of cgrad's differentiable ops with PyTorch's
node name on top (cgrad.nn._named_node): lp_pool1d/2d, max_unpool1d/2d,
local_response_norm, pdist, multi_margin_loss, multilabel_margin_loss,
triplet_margin_with_distance_loss, feature_alpha_dropout, dropout3d and
relu_."""
import warnings

import numpy as np

import cgrad
from cgrad._op_support import dtype_title as _dtype_title
from cgrad.nn._functional_losses import _apply_reduction, _reduction_enum
from cgrad.nn._named_node import named
from cgrad.nn.modules.utils import _pair, _single, _triple



__all__ = ["lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "local_response_norm", "pdist",
           "multi_margin_loss", "multilabel_margin_loss", "triplet_margin_with_distance_loss",
           "feature_alpha_dropout", "dropout3d", "relu_"]


# --- pooling ---------------------------------------------------------------------

def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """The p-norm over each window: (sum x^p)^(1/p), by PyTorch's formula
    (an average pool of x^p scaled back by the window size)."""
    from cgrad.nn import functional as F
    out = F.avg_pool1d(input.pow(norm_type), kernel_size, stride if stride is not None else kernel_size, 0,
                       ceil_mode)
    return (cgrad.sign(out) * F.relu(cgrad.abs(out))).mul(kernel_size).pow(1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from cgrad.nn import functional as F
    kw, kh = _pair(kernel_size)
    out = F.avg_pool2d(input.pow(norm_type), kernel_size, stride if stride is not None else kernel_size, 0,
                       ceil_mode)
    return (cgrad.sign(out) * F.relu(cgrad.abs(out))).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from cgrad.nn import functional as F
    kd, kw, kh = _triple(kernel_size)
    out = F.avg_pool3d(input.pow(norm_type), kernel_size, stride if stride is not None else kernel_size, 0,
                       ceil_mode)
    return (cgrad.sign(out) * F.relu(cgrad.abs(out))).mul(kd * kw * kh).pow(1.0 / norm_type)


def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    input_size = tuple(input.shape)
    default_size = [(input_size[-len(kernel_size) + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
                    for d in range(len(kernel_size))]
    if output_size is None:
        return default_size
    if len(output_size) == len(kernel_size) + 2:
        output_size = output_size[2:]
    if len(output_size) != len(kernel_size):
        raise ValueError(f"output_size should be a sequence containing {len(kernel_size)} or "
                         f"{len(kernel_size) + 2} elements, but it has a length of '{len(output_size)}'")
    for d in range(len(kernel_size)):
        min_size = default_size[d] - stride[d]
        max_size = default_size[d] + stride[d]
        if not min_size < output_size[d] < max_size:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {min_size} and '
                             f'{max_size})')
    return output_size


def _max_unpool(input, indices, output_size):
    """Scatter input's values into zeros of output_size's spatial shape (2
    or 3 dims) at the flat positions indices holds (max_pool2d/3d's
    return_indices)."""
    spatial = len(output_size)
    if indices.dtype != cgrad.int64:
        # ATen's first check; its 3-d text does not name the dtype
        raise RuntimeError("elements in indices should be type int64"
                           + (f" but got: {_dtype_title(indices.dtype)}" if spatial == 2 else ""))
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"Input to max_unpooling{spatial}d should be a {spatial + 1}d or {spatial + 2}d Tensor, "
                           f"but got a tensor with {input.dim()} dimensions.")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"max_unpool{spatial}d\" not implemented for '{_dtype_title(input.dtype)}'")
    volume = 1
    for size in output_size:
        volume *= size
    lead = tuple(input.shape[:-spatial])
    flat_indices = indices.reshape(*lead, -1)
    if flat_indices.numel() and (int(flat_indices.min()) < 0 or int(flat_indices.max()) >= volume):
        bad = int(flat_indices.max()) if int(flat_indices.max()) >= volume else int(flat_indices.min())
        # PyTorch's 3-d text closes its parenthesis, its 2-d text does not
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(str(size) for size in output_size)}{')' if spatial == 3 else ''}")
    out = cgrad.zeros(*lead, volume, dtype=input.dtype)
    out = out.scatter(-1, flat_indices, input.reshape(*lead, -1))
    return named(out.view(*lead, *output_size), f"MaxUnpool{spatial}DBackward0")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel_size = _single(kernel_size)
    stride = _single(stride) if stride is not None else kernel_size
    padding = _single(padding)
    size = list(_unpool_output_size(input, kernel_size, stride, padding, output_size)) + [1]
    return _max_unpool(input.unsqueeze(-1), indices.unsqueeze(-1), size).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel_size = _pair(kernel_size)
    stride = _pair(stride) if stride is not None else kernel_size
    padding = _pair(padding)
    return _max_unpool(input, indices, _unpool_output_size(input, kernel_size, stride, padding, output_size))


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel_size = _triple(kernel_size)
    stride = _triple(stride) if stride is not None else kernel_size
    padding = _triple(padding)
    return _max_unpool(input, indices, _unpool_output_size(input, kernel_size, stride, padding, output_size))


# --- normalisation, distances ------------------------------------------------------

def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta
    (PyTorch's formula; the channel window is an average pool over a
    (N, 1, C, rest) view)."""
    from cgrad.nn import functional as F
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sizes = tuple(input.shape)
    squares = input.mul(input)
    if dim > 3 and (squares.dtype in (cgrad.float16, cgrad.bfloat16)
                    or not (squares.is_floating_point() or squares.dtype == cgrad.int64)):
        # PyTorch pools more than 3 dims with avg_pool3d, whose kernel has fewer dtypes than avg_pool2d's
        raise NotImplementedError(f"\"avg_pool3d_out_frame\" not implemented for '{_dtype_title(squares.dtype)}'")
    div = squares.reshape(sizes[0], 1, sizes[1], -1)
    div = F.pad(div, (0, 0, size // 2, (size - 1) // 2))
    div = F.avg_pool2d(div, (size, 1), stride=1).reshape(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


def pdist(input, p=2):
    """The p-norm distances between the rows of a 2-D input, for i < j in
    row-major order."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    rows = input.shape[0]
    first, second = np.triu_indices(rows, 1)
    first, second = cgrad.from_numpy(first.astype(np.int64)), cgrad.from_numpy(second.astype(np.int64))
    difference = input.index_select(0, first) - input.index_select(0, second)
    return named(cgrad.linalg.vector_norm(difference, p, dim=1), "PdistBackward0")


# --- losses ----------------------------------------------------------------------------

def _margin_loss_frames(input):
    """(samples, classes) of the margin losses' input, after ATen's shape
    check: a non-empty vector or matrix (or a 0-dim tensor, one class)."""
    ndims = input.dim()
    if not ((ndims == 2 and input.shape[1] != 0) or (ndims == 1 and input.shape[0] != 0) or ndims == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    if ndims <= 1:
        return 1, (1 if ndims == 0 else input.shape[0])
    return input.shape[0], input.shape[1]


def _margin_loss_dtypes(input, target, kernel):
    """The kernels' dtype dispatch (float32/float64 input) and their int64
    view of the target."""
    if input.dtype not in (cgrad.float32, cgrad.float64):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_title(input.dtype)}'")
    if target.dtype != cgrad.int64:
        raise RuntimeError(f"expected scalar type Long but found {_dtype_title(target.dtype)}")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over j != y of max(0, margin - x[y] + x[j])^p (times weight[y]),
    divided by the number of classes."""
    reduction = _reduction_enum(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    frames, classes = _margin_loss_frames(input)
    if not (target.dim() <= 1 and target.numel() == frames):
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{frames}], but got {list(target.shape)}. "
                           f"Input has shape {list(input.shape)}.")
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight.shape)}")
    _margin_loss_dtypes(input, target, "multi_margin_loss_cpu_kernel")
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_dtype_title(input.dtype)} but found {_dtype_title(weight.dtype)}")
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= classes):
        raise RuntimeError("target out of range")
    batched = input.dim() == 2
    x = input if batched else input.reshape(1, -1)
    y = target.reshape(-1)
    picked = x.gather(1, y.unsqueeze(1))
    terms = (margin - picked + x).clamp_min(0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * weight.index_select(0, y).unsqueeze(1)
    others = 1.0 - cgrad.nn.functional.one_hot(y, classes).to(x.dtype)
    loss = (terms * others).sum(1) / classes
    if not batched:
        loss = loss.reshape(())
    return named(_apply_reduction(loss, reduction), "MultiMarginLossBackward0")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """For each sample, target lists class indices up to the first -1; the
    loss sums max(0, 1 - (x[j] - x[i])) over listed j and unlisted i,
    divided by the number of classes."""
    reduction = _reduction_enum(size_average, reduce, reduction)
    frames, classes = _margin_loss_frames(input)
    batched = input.dim() == 2
    if (target.dim() != 2 or tuple(target.shape) != (frames, classes)) if batched else \
            (target.dim() > 1 or target.numel() != classes):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    _margin_loss_dtypes(input, target, "multilabel_margin_loss_forward_out_frame")
    x = input if batched else input.reshape(1, -1)
    labels = target.detach().reshape(x.shape).numpy()
    if labels.size and (labels.min() < -1 or labels.max() >= classes):
        # ATen checks every entry, those after the first -1 too
        raise RuntimeError("argument #2 'target' is out of range")
    samples, classes = x.shape
    # the listed entries: those before the first -1 of each row
    listed = np.cumprod(labels >= 0, axis=1).astype(bool)
    rows, columns = np.nonzero(listed)
    chosen = labels[rows, columns]
    listed_times = np.zeros((samples, classes))
    np.add.at(listed_times, (rows, chosen), 1.0)
    is_target = listed_times > 0
    pair_weight = cgrad.from_numpy(listed_times[:, :, None] * (~is_target)[:, None, :]).to(x.dtype)
    hinge = (1.0 - x.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)
    loss = (hinge * pair_weight).sum((1, 2)) / classes
    if not batched:
        loss = loss.reshape(())
    return named(_apply_reduction(loss, reduction), "MultilabelMarginLossBackward0")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):        # checked by name: no legacy 'elementwise_mean'
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a_dim, p_dim, n_dim = anchor.dim(), positive.dim(), negative.dim()
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs")
    if distance_function is None:
        from cgrad.nn.functional import pairwise_distance as distance_function
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = cgrad.minimum(dist_neg, distance_function(positive, negative))
    loss = cgrad.clamp_min(margin + dist_pos - dist_neg, 0)
    return _apply_reduction(loss, _reduction_enum(None, None, reduction))


# --- dropout --------------------------------------------------------------------------

def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout over whole channels (dim 1): a dropped channel takes
    selu's saturation value, and the result is scaled and shifted to keep
    the mean and variance."""
    from cgrad.nn._functional_layers import _alpha_dropout
    return _alpha_dropout(input, p, training, inplace, feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input while
    training."""
    from cgrad.nn.functional import _feature_dropout
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    inp_dim = input.dim()
    if inp_dim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {inp_dim}-D input to dropout3d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", stacklevel=2)
    is_batched = inp_dim == 5
    if not is_batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    result = _feature_dropout(input, p, training, inplace)
    if not is_batched:
        result = result.squeeze_(0) if inplace else result.squeeze(0)
    return result


def relu_(input):
    return input.relu_()
