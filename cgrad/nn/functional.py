"""cgrad.nn.functional: PyTorch's torch.nn.functional over cgrad's kernels.

This layer only sorts out arguments the way torch.nn.functional does
(reduction strings, the legacy size_average/reduce flags, implicit softmax
dims, broadcasting warnings) and raises PyTorch's errors; every loss,
softmax and linear map runs as one compiled op (cgrad._C), with its own
fused backward and the grad_fn names PyTorch gives.
"""
import warnings

import cgrad
from cgrad import _C
from cgrad._C import Tensor

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "dropout",
    "nll_loss", "cross_entropy", "mse_loss", "l1_loss", "binary_cross_entropy",
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
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    return _C._nll_loss_nd(input, target, weight, _get_enum(reduction), ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim then nll_loss for class-index targets;
    class probabilities when target has input's shape; label_smoothing."""
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
    if size_average is not None or reduce is not None:
        enum = _get_enum(_legacy_get_string(size_average, reduce))
    else:
        enum = _get_enum(reduction)
    if not (target.size() == input.size()):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    return _C._binary_cross_entropy_with_logits(input, target, weight, pos_weight, enum)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log(x) + (1 - t) log(1 - x)), logs clamped at -100, reduced."""
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
