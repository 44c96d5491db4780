"""The losses of nn.functional that PyTorch builds from other ops (in ATen's
Loss.cpp or in torch/nn/functional.py): kl_div, huber_loss,
margin_ranking_loss, triplet_margin_loss, soft_margin_loss,
multilabel_soft_margin_loss, hinge_embedding_loss, cosine_embedding_loss,
poisson_nll_loss, gaussian_nll_loss.

Each is the same sequence of tensor ops as PyTorch's, so values, dtypes
and grad_fn names follow; the two PyTorch runs as single ops with their own
node (huber_loss, soft_margin_loss) carry that node's name (see
_named_node). Argument handling, warnings and errors are PyTorch's.
"""
import math
import warnings

import cgrad
from cgrad._op_support import dtype_title as _dtype_title
from cgrad.nn._named_node import named
from cgrad.nn._distance import pairwise_distance
from cgrad.nn.functional import _broadcast_pair, _get_enum as get_enum, _legacy_get_string as legacy_get_string
from cgrad.nn.functional import _size_warning



_EPSILON = 1e-12


def legacy_get_enum(size_average, reduce):
    return get_enum(legacy_get_string(size_average, reduce))


def _apply_reduction(loss, enum):
    if enum == 1:
        return loss.mean()
    if enum == 2:
        return loss.sum()
    return loss


def _margin_arg(margin, fname, position):
    """The argument parser's check of a `float margin`: a number or a tensor."""
    if not isinstance(margin, (int, float, cgrad.Tensor)):
        raise TypeError(f"{fname}(): argument 'margin' (position {position}) must be float, not "
                        f"{type(margin).__name__}")


def _reduction_enum(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return legacy_get_enum(size_average, reduce)
    return get_enum(reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target * (log target - input) (input holds
    log-probabilities; target too when log_target), reduced; 'batchmean'
    divides the sum by the batch size."""
    if size_average is not None or reduce is not None:
        reduction_enum = legacy_get_enum(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                stacklevel=2)
        reduction_enum = get_enum("sum") if reduction == "batchmean" else get_enum(reduction)
    if not input.dtype.is_floating_point or not target.dtype.is_floating_point:
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        output = cgrad.exp(target) * (target - input)
    else:
        output = cgrad.xlogy(target, target) - target * input
    reduced = _apply_reduction(output, reduction_enum)
    if reduction == "batchmean" and input.dim() != 0:
        reduced = reduced / input.size()[0]
    return reduced


def _huber(input, target, enum, delta):
    """PyTorch's kernel computes in the common dtype and writes a loss of the
    input's dtype; its backward kernel takes only operands of one dtype, so
    a target of another dtype (bool included) fails there, not before."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input_dtype, target_dtype = input.dtype, target.dtype
    if input_dtype == cgrad.bool or target_dtype == cgrad.bool:
        # a bool side is 0/1 in the common dtype
        common = cgrad.promote_types(input_dtype, target_dtype)
        input, target = input.to(common), target.to(common)
    z = (input - target).abs()
    loss = cgrad.where(z < delta, z * z * 0.5, (z - 0.5 * delta) * delta)
    if loss.dtype != input_dtype:
        loss = loss.to(input_dtype)
    result = named(_apply_reduction(loss, enum), "HuberLossBackward0")
    if input_dtype != target_dtype and result.requires_grad:
        # the backward kernel's operands: the input's gradient first (its dtype expected), else the target's
        expected, found = ((input_dtype, target_dtype) if input.requires_grad else (target_dtype, input_dtype))

        def refuse(grad):
            raise RuntimeError(f"Found dtype {_dtype_title(found)} but expected {_dtype_title(expected)}")
        result.register_hook(refuse)
    return result


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 (x - y)^2 where |x - y| < delta, else delta (|x - y| - delta / 2);
    weight scales each element before the reduction."""
    _size_warning(input, target)
    expanded_input, expanded_target = _broadcast_pair(input, target)
    if weight is None:
        return _huber(expanded_input, expanded_target, get_enum(reduction), delta)
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    weighted_loss = _huber(expanded_input, expanded_target, get_enum("none"), delta) * weight
    if reduction == "none":
        return weighted_loss
    if reduction == "sum":
        return cgrad.sum(weighted_loss)
    if reduction == "mean":
        return weighted_loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin), reduced."""
    reduction_enum = _reduction_enum(size_average, reduce, reduction)
    _margin_arg(margin, "margin_ranking_loss", 4)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    output = (-target * (input1 - input2) + margin).clamp_min(0)
    return _apply_reduction(output, reduction_enum)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the p-norm pairwise
    distance; swap takes min(d(a, n), d(p, n))."""
    reduction_enum = _reduction_enum(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return triplet_margin_loss_enum(anchor, positive, negative, margin, p, eps, swap, reduction_enum)


def triplet_margin_loss_enum(anchor, positive, negative, margin, p, eps, swap, reduction_enum):
    """ATen's triplet_margin_loss (torch.triplet_margin_loss): no check of the margin's sign."""
    a_dim, p_dim, n_dim = anchor.dim(), positive.dim(), negative.dim()
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs")
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = cgrad.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    output = cgrad.clamp_min(margin + dist_pos - dist_neg, 0)
    return _apply_reduction(output, reduction_enum)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), reduced (SoftMarginLossBackward0)."""
    reduction_enum = _reduction_enum(size_average, reduce, reduction)
    if isinstance(target, cgrad.Tensor) and target.requires_grad and cgrad.is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect to argument "
                           "'target'. This input cannot have requires_grad True.")
    output = cgrad.log1p(cgrad.exp(-input * target))
    if output.shape != input.shape:
        # PyTorch's kernel writes into a loss of the input's shape and dtype
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast shape "
                           f"{list(output.shape)}")
    if output.dtype != input.dtype:
        if not cgrad.can_cast(output.dtype, input.dtype):
            raise RuntimeError(f"result type {_dtype_title(output.dtype)} can't be cast to the desired output type "
                               f"{_dtype_title(input.dtype)}")
        output = output.to(input.dtype)
    result = named(_apply_reduction(output, reduction_enum), "SoftMarginLossBackward0")
    if isinstance(target, cgrad.Tensor) and target.dtype == cgrad.bool and result.requires_grad:
        # the backward kernel negates the target
        def refuse(grad):
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                               "to invert a mask, use the `~` or `logical_not()` operator instead.")
        result.register_hook(refuse)
    return result


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per-class binary logistic losses averaged over the class (last) dim."""
    from cgrad.nn.functional import logsigmoid
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    C = input.size(class_dim)
    loss = loss.sum(dim=class_dim) / C
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where it is -1."""
    reduction_enum = _reduction_enum(size_average, reduce, reduction)
    _margin_arg(margin, "hinge_embedding_loss", 3)
    zeros = cgrad.zeros_like(input)
    margin_clamp = (margin - input).clamp_min_(0)
    output_margin = cgrad.where(target != 1, margin_clamp, zeros)
    output_self = cgrad.where(target != -1, input, zeros)
    return _apply_reduction(output_margin + output_self, reduction_enum)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin)
    where it is -1."""
    reduction_enum = _reduction_enum(size_average, reduce, reduction)
    _margin_arg(margin, "cosine_embedding_loss", 4)
    targ_dim = target.dim()
    if targ_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if targ_dim == 1:
        if not (input1.dim() == 2 and input2.dim() == 2):
            raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                               f"{list(input1.shape)} and {list(input2.shape)}.")
    elif not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    prod_sum = (input1 * input2).sum(targ_dim)
    mag_square1 = (input1 * input1).sum(targ_dim) + _EPSILON
    mag_square2 = (input2 * input2).sum(targ_dim) + _EPSILON
    denom = (mag_square1 * mag_square2).sqrt()
    cos = prod_sum / denom
    zeros = cgrad.zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min_(0)
    output_pos = cgrad.where(target == 1, pos, zeros)
    output_neg = cgrad.where(target == -1, neg, zeros)
    return _apply_reduction(output_pos + output_neg, reduction_enum)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(input) - target * input (log_input), else input - target *
    log(input + eps); full adds Stirling's approximation term."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    if reduction != "none" and reduction != "mean" and reduction != "sum":
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = cgrad.exp(input) - target * input
    else:
        loss = input - target * cgrad.log(input + eps)
    if full:
        stirling_term = target * cgrad.log(target) - target + 0.5 * cgrad.log(2 * math.pi * target)
        loss = loss + stirling_term.masked_fill(target <= 1, 0)
    return _apply_reduction(loss, get_enum(reduction))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(var) + (input - target)^2 / var), var clamped at eps (without
    gradient through the clamp); full adds 0.5 log(2 pi)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * cgrad.ones_like(input)
    elif cgrad.any(var < 0):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = cgrad.unsqueeze(var, -1)
        elif input.dim() == var.dim() and sum(
                y for x, y in zip(input.size(), var.size()) if x != y) == 1:   # heteroscedastic
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction != "none" and reduction != "mean" and reduction != "sum":
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with cgrad.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (cgrad.log(var) + (input - target) ** 2 / var)
    if full:
        loss += 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
