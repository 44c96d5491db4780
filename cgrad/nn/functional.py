"""cgrad.nn.functional: PyTorch's torch.nn.functional over cgrad's kernels.

This layer only sorts out arguments the way torch.nn.functional does
(reduction strings, the legacy size_average/reduce flags, implicit softmax
dims, broadcasting warnings) and raises PyTorch's errors; the core losses,
softmax and linear map run as one compiled op (cgrad._C), with its own
fused backward and the grad_fn names PyTorch gives. The entries PyTorch
itself composes from other ops (distances, most of the other losses,
small layers, interpolate) live in the _distance, _functional_losses,
_functional_layers and _interpolate modules imported at the end; the
front ends of convolution and pooling in _functional_conv_pool.
"""
import warnings

import cgrad
from cgrad import _C
from cgrad._C import Tensor

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "dropout",
    "nll_loss", "cross_entropy", "mse_loss", "l1_loss", "binary_cross_entropy",
    "conv1d", "conv2d", "unfold", "fold", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "pad",
    "embedding", "embedding_bag", "layer_norm", "group_norm", "batch_norm", "instance_norm", "one_hot",
    "dropout1d", "dropout2d",
]


# --- reductions (torch.nn._reduction) ---------------------------------------

def _get_enum(reduction):
    if reduction == "none":
        return 0
    if reduction == "mean":
        return 1
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=3)
        return 1
    if reduction == "sum":
        return 2
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_get_string(size_average, reduce, emit_warning=True):
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                      stacklevel=3)
    return ret


def _broadcast_shapes(*shapes):
    """torch.broadcast_shapes, with its error texts."""
    common = [1] * max(len(s) for s in shapes)
    for arg_idx, shape in enumerate(shapes):
        for idx in range(-1, -1 - len(shape), -1):
            if shape[idx] == common[idx]:
                continue
            if common[idx] == 1:
                if shape[idx] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[idx] = shape[idx]
            if shape[idx] == 1:
                continue
            if common[idx] != shape[idx]:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {shape[idx]} at {idx}! Mismatching "
                    f"argument at index {arg_idx} had {shape}; but expected shape should be broadcastable "
                    f"to {common}")
    return cgrad.Size(common)


def _broadcast_pair(a, b):
    """torch.broadcast_tensors(a, b): each expanded to the common shape
    (only when it differs), with broadcasting's error text."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa == sb:
        return a, b
    nd = max(len(sa), len(sb))
    shape = []
    for i in range(nd - 1, -1, -1):     # from the last dim, as PyTorch's infer_size
        da = sa[i - nd + len(sa)] if i - nd + len(sa) >= 0 else 1
        db = sb[i - nd + len(sb)] if i - nd + len(sb) >= 0 else 1
        if da == db or db == 1:
            shape.append(da)
        elif da == 1:
            shape.append(db)
        else:
            raise RuntimeError(f"The size of tensor a ({da}) must match the size of tensor b ({db}) "
                               f"at non-singleton dimension {i}")
    shape = tuple(reversed(shape))
    return (a if sa == shape else a.expand(shape)), (b if sb == shape else b.expand(shape))


def _size_warning(input, target):
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


# --- activations --------------------------------------------------------------

def relu(input, inplace=False):
    """max(input, 0); inplace=True writes into input (torch.relu_)."""
    if inplace:
        return cgrad.relu_(input)
    return cgrad.relu(input)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def silu(input, inplace=False):
    """x * sigmoid(x) (SiluBackward0)."""
    return _C._activation(input, 0, 0.0, 0.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x."""
    return _C._activation(input, 1, negative_slope, 0.0, inplace)


def leaky_relu_(input, negative_slope=0.01):
    return _C._activation(input, 1, negative_slope, 0.0, True)


prelu = _C.prelu


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return _C._activation(input, 2, alpha, 0.0, inplace)


def elu_(input, alpha=1.0):
    return _C._activation(input, 2, alpha, 0.0, True)


def gelu(input, approximate="none"):
    """x * Phi(x), or its tanh approximation (approximate='tanh')."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _C._activation(input, 3 if approximate == "none" else 4, 0.0, 0.0, False)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, x itself where beta * x > threshold."""
    return _C._activation(input, 5, beta, threshold, False)


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) over dim (max-subtracted); dtype converts the
    input first."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    if dtype is None:
        return input.softmax(dim)
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - log(sum(exp(x))) over dim (max-subtracted); dtype converts the
    input first."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    if dtype is None:
        return input.log_softmax(dim)
    return input.log_softmax(dim, dtype=dtype)


# --- linear and dropout ------------------------------------------------------------

def linear(input, weight, bias=None):
    """input @ weight.T + bias (AddmmBackward0 for 2-D input with bias)."""
    return _C._linear(input, weight, bias)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p (drawn from cgrad.manual_seed's
    generator) and scale the rest by 1 / (1 - p), when training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return _C._dropout(input, p, training, inplace)


# --- losses ---------------------------------------------------------------------------

def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """The negative log-likelihood of class-index targets: input (N, C),
    (N, C, d1, ...) or unbatched (C,) log-probabilities, target int64 of the
    batch shape; mean reduction divides by the sum of the target weights."""
    input, target = _C._autocast_args(1, input, target)      # CPU autocast's fp32 list
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    return _C._nll_loss_nd(input, target, weight, _get_enum(reduction), ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim then nll_loss for class-index targets;
    class probabilities when target has input's shape; label_smoothing."""
    input, target = _C._autocast_args(1, input, target)      # CPU autocast's fp32 list
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    return _C._cross_entropy(input, target, weight, _get_enum(reduction), ignore_index,
                             label_smoothing)


def _weighted_reduction(errors, weight, reduction):
    if reduction == "none":
        return errors
    if reduction == "sum":
        return cgrad.sum(errors)
    if reduction == "mean":
        return cgrad.sum(errors) / cgrad.sum(weight)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, reduced; a target of another shape broadcasts
    (with PyTorch's warning)."""
    input, target = _C._autocast_args(1, input, target)      # CPU autocast's fp32 list
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    expanded_input, expanded_target = _broadcast_pair(input, target)
    if weight is not None:
        if weight.size() != input.size():
            raise ValueError("Weights and input must have the same size.")
        return _weighted_reduction(cgrad.pow(expanded_input - expanded_target, 2) * weight, weight,
                                   reduction)
    return _C._mse_loss(expanded_input, expanded_target, _get_enum(reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, reduced; a target of another shape broadcasts."""
    input, target = _C._autocast_args(1, input, target)      # CPU autocast's fp32 list
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    expanded_input, expanded_target = _broadcast_pair(input, target)
    if weight is not None:
        if weight.size() != input.size():
            raise ValueError("Weights and input must have the same size.")
        return _weighted_reduction(cgrad.abs(expanded_input - expanded_target) * weight, weight,
                                   reduction)
    enum = _get_enum(reduction)
    loss = (expanded_input - expanded_target).abs()
    if enum == 1:
        return loss.mean()
    if enum == 2:
        return loss.sum()
    return loss


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 (input - target)^2 / beta where |input - target| < beta, else
    |input - target| - 0.5 beta; reduced. beta == 0 is l1_loss."""
    input, target = _C._autocast_args(1, input, target)      # CPU autocast's fp32 list
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    expanded_input, expanded_target = _broadcast_pair(input, target)
    return _C._smooth_l1_loss(expanded_input, expanded_target, _get_enum(reduction), beta)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """binary_cross_entropy of sigmoid(input), computed stably from the logits;
    pos_weight weighs the positive targets, weight every element."""
    input, target = _C._autocast_args(1, input, target)      # CPU autocast's fp32 list
    if size_average is not None or reduce is not None:
        enum = _get_enum(_legacy_get_string(size_average, reduce))
    else:
        enum = _get_enum(reduction)
    if not (target.size() == input.size()):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    if isinstance(target, Tensor) and isinstance(input, Tensor) and target.dtype != input.dtype:
        # ATen's composite starts from (1 - target) and works in place on it: a bool target fails
        # there, and a floating one gives the loss its dtype
        if target.dtype == cgrad.bool:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                               "`^` or `logical_xor()` operator instead.")
        if target.is_floating_point():
            from cgrad.nn._named_node import named
            loss = _C._binary_cross_entropy_with_logits(input, target, weight, pos_weight, 0).to(target.dtype)
            if enum == 1:
                loss = loss.mean()
            elif enum == 2:
                loss = loss.sum()
            return named(loss, "BinaryCrossEntropyWithLogitsBackward0")
    return _C._binary_cross_entropy_with_logits(input, target, weight, pos_weight, enum)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log(x) + (1 - t) log(1 - x)), logs clamped at -100, reduced."""
    input, target = _C._autocast_args(1, input, target)      # CPU autocast's fp32 list
    if size_average is not None or reduce is not None:
        enum = _get_enum(_legacy_get_string(size_average, reduce))
    else:
        enum = _get_enum(reduction)
    if target.size() != input.size():
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) "
            "is deprecated. Please ensure they have the same size.")
    if weight is not None:
        new_size = _broadcast_shapes(target.size(), weight.size())
        weight = weight.expand(new_size)
    return _C._binary_cross_entropy(input, target, weight, enum)


# The op table's nn.functional entries (hardtanh, hardsigmoid, hardswish,
# mish, softshrink, hardshrink, threshold, logsigmoid and their in-place
# forms), rendered with their kernels in the compiled module.
globals().update(_C._FUNCTIONAL)
# under PyTorch's names (F.selu.__name__ == "selu"), not the table's _functional_selu
for _name, _fn in _C._FUNCTIONAL.items():
    _fn.__name__ = _fn.__qualname__ = {"logsigmoid": "log_sigmoid", "threshold": "_threshold"}.get(_name, _name)
    _fn.__module__ = __name__


_table_hardtanh = _C._FUNCTIONAL["hardtanh"]


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    # PyTorch checks the bounds here, in Python (its hardtanh_ does not)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _table_hardtanh(input, min_val, max_val, inplace)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


# --- convolution, unfold/fold, pooling ------------------------------------------
# PyTorch's conv*/pool* front ends around the compiled ops: cgrad/nn/_functional_conv_pool.py.

from cgrad.nn._functional_conv_pool import (  # noqa: E402,F401
    _int_tuple, _conv_param, _conv, _pool_param, _max_pool2d_args, _pool1d_input, _list_with_default,
    _adaptive_size, _check_pool1d_input, conv1d, conv2d, unfold, fold, max_pool2d_with_indices, max_pool2d,
    max_pool1d_with_indices, max_pool1d, avg_pool2d, avg_pool1d, adaptive_avg_pool2d,
    adaptive_max_pool2d_with_indices, adaptive_max_pool2d, adaptive_avg_pool1d,
    adaptive_max_pool1d_with_indices, adaptive_max_pool1d,
)

# F.conv2d to users (as in PyTorch), wherever the code lives
for _fn in (
    conv1d, conv2d, unfold, fold, max_pool2d_with_indices, max_pool2d, max_pool1d_with_indices, max_pool1d,
    avg_pool2d, avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool2d_with_indices, adaptive_max_pool2d,
    adaptive_avg_pool1d, adaptive_max_pool1d_with_indices, adaptive_max_pool1d,
):
    _fn.__module__ = __name__


# --- padding ------------------------------------------------------------------------
# F.pad's argument rules and its circular mode live in cgrad/nn/_padding.py.

from cgrad.nn._padding import pad  # noqa: E402  (after the helpers it does not need)


# --- embedding -------------------------------------------------------------------

def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of weight picked by the integer indices in input; padding_idx's
    row gets no gradient; max_norm renormalises the rows used, in place."""
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < weight.size(0), "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -weight.size(0), "Padding_idx must be within num_embeddings"
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    if sparse:
        raise NotImplementedError("cgrad has no sparse tensors: embedding(sparse=True) is not supported")
    if max_norm is not None:
        input = input.contiguous()
        with cgrad.no_grad():
            _C._embedding_renorm_(weight, input, max_norm, norm_type)
    return _C._embedding(weight, input, padding_idx, bool(scale_grad_by_freq))


# --- normalisation ---------------------------------------------------------------

def _verify_batch_size(size):
    size_prods = size[0]
    for i in range(len(size) - 2):
        size_prods *= size[i + 2]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size):
    size_prods = 1
    for i in range(2, len(size)):
        size_prods *= size[i]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the last len(normalized_shape) dims, then the
    elementwise affine map (NativeLayerNormBackward0)."""
    if isinstance(normalized_shape, int):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    return _C._layer_norm(input, tuple(normalized_shape), weight, bias, float(eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises each of num_groups channel groups per sample, then the
    per-channel affine map (NativeGroupNormBackward0)."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    _verify_batch_size([input.size(0) * input.size(1) // num_groups, num_groups] + list(input.size()[2:]))
    return _C._group_norm(input, num_groups, weight, bias, float(eps))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Normalises each channel (dim 1) over the batch and spatial dims with
    the batch's statistics (training; running ones updated in place) or the
    running ones (NativeBatchNormBackward0)."""
    if training:
        _verify_batch_size(input.size())
    return _C._batch_norm(input, weight, bias, running_mean, running_var, bool(training),
                          0.0 if momentum is None else float(momentum), float(eps))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalises each channel of each sample over its spatial dims: batch
    norm of the input viewed as (1, N*C, *), as PyTorch computes it."""
    if use_input_stats:
        _verify_spatial_size(input.size())
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    b, c = input.size(0), input.size(1)
    reshaped = input.contiguous().view((1, b * c) + tuple(input.shape[2:]))

    def repeat(t):
        return None if t is None else t.repeat(b)
    # ATen's instance_norm hands batch_norm its running statistics in the
    # parameters' dtype (the input's without weight): their own dtype never
    # makes the call a mixed-dtype one
    stats_dtype = input.dtype if weight is None else weight.dtype

    def repeat_stat(t):
        return None if t is None else t.repeat(b).to(stats_dtype)
    mean_rep, var_rep = repeat_stat(running_mean), repeat_stat(running_var)
    out = _C._batch_norm(reshaped, repeat(weight), repeat(bias), mean_rep, var_rep, bool(use_input_stats),
                         float(momentum), float(eps))
    with cgrad.no_grad():
        if running_mean is not None:
            running_mean.copy_(mean_rep.view(b, c).mean(0))
        if running_var is not None:
            running_var.copy_(var_rep.view(b, c).mean(0))
    return out.view(input.shape)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embedding rows: a 2-D input is a
    batch of equal bags, a 1-D one is cut into bags at offsets."""
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
                         f"then it must have the same shape as the input ({input.shape})")
    if not weight.dim() == 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            type_str = "<class 'cgrad.Tensor'>" if isinstance(offsets, Tensor) else str(type(offsets))
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                             f"of fixed length sequences. However, found offsets of type {type_str}")
        offsets = cgrad.arange(0, input.numel(), input.size(1), dtype=input.dtype)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode == "sum":
        mode_enum = 0
    elif mode == "mean":
        mode_enum = 1
    elif mode == "max":
        mode_enum = 2
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    else:
        raise ValueError("mode has to be one of sum, mean or max")
    if sparse:
        raise NotImplementedError("cgrad has no sparse tensors: embedding_bag(sparse=True) is not supported")
    if max_norm is not None:
        with cgrad.no_grad():
            _C._embedding_renorm_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += weight.size(0)
    return _C._embedding_bag(weight, input, offsets, mode_enum, per_sample_weights, bool(include_last_offset),
                             padding_idx, bool(scale_grad_by_freq))


def one_hot(tensor, num_classes=-1):
    """int64 (..., num_classes) with a 1 at each index of tensor (int64);
    num_classes -1 takes the largest index + 1."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' (position 1) must be Tensor, not {type(tensor).__name__}")
    if tensor.dtype != cgrad.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return cgrad.zeros(tuple(tensor.shape) + (num_classes,), dtype=cgrad.int64)
    if int(tensor.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(tensor.max()) + 1
    elif not num_classes > int(tensor.max()):
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (tensor.unsqueeze(-1) == cgrad.arange(num_classes)).long()


# --- channel-wise dropout --------------------------------------------------------

def _feature_dropout(input, p, training, inplace):
    """PyTorch's feature_dropout: whole channels (dim 1) zeroed with
    probability p, the others scaled by 1 / (1 - p) (a MulBackward0)."""
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = cgrad.zeros((), dtype=input.dtype)
        return input.mul_(zero) if inplace else input * zero
    noise_shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    noise = cgrad.empty(noise_shape, dtype=input.dtype).bernoulli_(1 - p).div_(1 - p)
    return input.mul_(noise) if inplace else input * noise


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input while training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    inp_dim = input.dim()
    if inp_dim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {inp_dim}D input. "
                           "Note that dropout1d exists to provide channel-wise dropout on inputs with 1 "
                           "spatial dimension, a channel dimension, and an optional batch dimension "
                           "(i.e. 2D or 3D inputs).")
    is_batched = inp_dim == 3
    if not is_batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    result = _feature_dropout(input, p, training, inplace)
    if not is_batched:
        result = result.squeeze_(0) if inplace else result.squeeze(0)
    return result


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) input while training (a 3-D
    input is taken as (N, C, L), as PyTorch still does)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    inp_dim = input.dim()
    if inp_dim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {inp_dim}-D input to dropout2d, which is deprecated "
                      "and will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead. Note that dropout2d "
                      "exists to provide channel-wise dropout on inputs with 2 spatial dimensions, "
                      "a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
                      stacklevel=2)
    if inp_dim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
                      "is the channel dim. This behavior will change in a future release to interpret the "
                      "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
                      "channel-wise dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


# --- composites of other modules: distances, losses, small layers, resampling ----
from cgrad.nn._distance import cosine_similarity, normalize, pairwise_distance  # noqa: E402
from cgrad.nn._functional_losses import (  # noqa: E402
    cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div, margin_ranking_loss,
    multilabel_soft_margin_loss, poisson_nll_loss, soft_margin_loss, triplet_margin_loss)
from cgrad.nn._functional_layers import (  # noqa: E402
    alpha_dropout, bilinear, glu, gumbel_softmax, pixel_shuffle, pixel_unshuffle, softmin)
from cgrad.nn._interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest  # noqa: E402

__all__ += [
    "selu", "celu", "selu_", "celu_", "normalize", "cosine_similarity", "pairwise_distance", "kl_div",
    "huber_loss", "margin_ranking_loss", "triplet_margin_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "hinge_embedding_loss", "cosine_embedding_loss", "poisson_nll_loss",
    "gaussian_nll_loss", "softmin", "glu", "gumbel_softmax", "pixel_shuffle", "pixel_unshuffle", "bilinear",
    "alpha_dropout", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
]
from cgrad.nn._attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402
__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]
from cgrad.nn._rrelu import functional_rrelu as rrelu, functional_rrelu_ as rrelu_  # noqa: E402
__all__ += ["rrelu", "rrelu_"]
from cgrad.nn._channel_shuffle import channel_shuffle  # noqa: E402
__all__ += ["channel_shuffle"]
from cgrad.nn._rms_norm import rms_norm  # noqa: E402
__all__ += ["rms_norm"]
from cgrad.nn._conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: E402
__all__ += ["conv_transpose1d", "conv_transpose2d"]
from cgrad.nn._functional_extras import (  # noqa: E402
    dropout3d, feature_alpha_dropout, local_response_norm, lp_pool1d, lp_pool2d, lp_pool3d, max_unpool1d,
    max_unpool2d, max_unpool3d, multi_margin_loss, multilabel_margin_loss, pdist, relu_, triplet_margin_with_distance_loss)
__all__ += ["dropout3d", "feature_alpha_dropout", "local_response_norm", "lp_pool1d", "lp_pool2d", "lp_pool3d",
            "max_unpool1d", "max_unpool2d", "max_unpool3d", "multi_margin_loss", "multilabel_margin_loss", "pdist", "relu_",
            "triplet_margin_with_distance_loss"]
from cgrad.nn._functional_3d import *  # noqa: E402,F401,F403  (conv3d, conv_transpose3d, 3-D pools, grid_sample)
from cgrad.nn._functional_3d import __all__ as _functional_3d_all  # noqa: E402
__all__ += _functional_3d_all
__all__ += ["max_pool1d_with_indices", "max_pool2d_with_indices", "adaptive_max_pool1d_with_indices",
            "adaptive_max_pool2d_with_indices"]
from cgrad.nn._ctc_loss import ctc_loss  # noqa: E402
__all__ += ["ctc_loss"]
from cgrad.nn._fractional_max_pool import (fractional_max_pool2d, fractional_max_pool2d_with_indices,  # noqa: E402
                                           fractional_max_pool3d, fractional_max_pool3d_with_indices)
__all__ += ["fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
            "fractional_max_pool3d_with_indices"]
