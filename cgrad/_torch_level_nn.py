"""The nn ops PyTorch exposes as torch.<name> with ATen's own signatures
rather than nn.functional's: losses whose reduction is ATen's enum (0 none,
1 mean, 2 sum; any other value leaves the loss unreduced, as ATen's
apply_loss_reduction does), torch.embedding_bag with its four outputs,
torch.convolution and the grid samplers with integer modes.

These are the ATen functions nn.functional calls, so they skip the Python
checks F adds on top (F.triplet_margin_loss's margin > 0,
F.binary_cross_entropy_with_logits's equal sizes, F.margin_ranking_loss's
equal dims): what they raise is what ATen raises. Where the two agree the
work is delegated to F, so values, dtypes and grad_fn names are F's.

A left-out reduction is none (0), not the schema's mean: PyTorch's Python
binding parses the schema default `Mean` as 0 (torch.kl_div(a, b) is
unreduced), and scripts that call these rely on what torch does.
"""
import numpy as np

import cgrad
from cgrad import _C
from cgrad.nn import functional as F
from cgrad.nn import _functional_losses as losses
from cgrad.nn._grid_sample import grid_sampler

__all__ = ["kl_div", "binary_cross_entropy_with_logits", "cosine_embedding_loss", "hinge_embedding_loss",
           "margin_ranking_loss", "poisson_nll_loss", "triplet_margin_loss", "embedding_bag", "convolution",
           "grid_sampler_2d", "grid_sampler_3d"]



def _checked_int(fn, name, position, value):
    """PyTorch's argument parser: an int argument takes ints only (not bool, not float)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}(): argument '{name}' ({position}) must be int, not {type(value).__name__}")
    return int(value)


def _reduction_enum(fn, position, reduction):
    enum = _checked_int(fn, "reduction", f"position {position}", reduction)
    return enum if enum in (1, 2) else 0


def _reduction(fn, position, reduction):
    """nn.functional's name of the reduction."""
    return ("none", "mean", "sum")[_reduction_enum(fn, position, reduction)]


def kl_div(input, target, reduction=0, *, log_target=False):
    enum = _reduction_enum("kl_div", 3, reduction)
    # F warns on 'mean' (its batchmean advice); ATen's kl_div does not: reduce the pointwise loss here
    return losses._apply_reduction(F.kl_div(input, target, reduction="none", log_target=log_target), enum)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    enum = _reduction_enum("binary_cross_entropy_with_logits", 5, reduction)
    return _C._binary_cross_entropy_with_logits(input, target, weight, pos_weight, enum)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction("cosine_embedding_loss", 5, reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction("hinge_embedding_loss", 4, reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    enum = _reduction_enum("margin_ranking_loss", 5, reduction)
    output = (-target * (input1 - input2) + margin).clamp_min(0)
    return losses._apply_reduction(output, enum)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction("poisson_nll_loss", 6, reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False, reduction=0):
    return losses.triplet_margin_loss_enum(anchor, positive, negative, margin, p, eps, swap,
                                           _reduction_enum("triplet_margin_loss", 8, reduction))


# --- embedding_bag ----------------------------------------------------------------

def _bag_bookkeeping(weight, indices, offsets, mode, per_sample_weights, include_last_offset, padding_idx):
    """offset2bag, bag_size and max_indices as PyTorch's CPU kernel leaves them.

    offset2bag (each index's bag) is empty when the sum mode takes ATen's fast
    path (float32 weight, no padding_idx); bag_size counts each bag's
    non-padding indices in the mean and max modes, the last bag running to
    the end of indices; max_indices is bag_size in the mean mode, each
    output element's weight row in the max mode (the first of equal maxima,
    0 for a bag with none), zeros in the sum mode."""
    idx = indices.detach().numpy().astype(np.int64, copy=False).reshape(-1)
    offs = offsets.detach().numpy().astype(np.int64, copy=False).reshape(-1)
    n_bags = offs.shape[0] - 1 if include_last_offset else offs.shape[0]
    index_dtype = indices.dtype
    fast_sum = mode == 0 and weight.dtype == cgrad.float32 and padding_idx is None
    if fast_sum:
        offset2bag = np.zeros(0, np.int64)
    else:
        offset2bag = np.searchsorted(offs[:n_bags], np.arange(idx.shape[0]), side="right") - 1
        offset2bag = np.maximum(offset2bag, 0)
    if mode == 0:
        size = n_bags if (weight.requires_grad and include_last_offset) else offs.shape[0]
        zeros = cgrad.zeros(size, dtype=index_dtype)
        return cgrad.tensor(offset2bag, dtype=index_dtype), zeros, zeros.clone()
    kept = np.ones(idx.shape[0], bool) if padding_idx is None else idx != padding_idx
    bag_of = np.searchsorted(offs[:n_bags], np.arange(idx.shape[0]), side="right") - 1
    in_bag = kept & (bag_of >= 0)
    bag_size = np.bincount(bag_of[in_bag], minlength=n_bags)[:n_bags]
    if mode == 1:
        max_indices = bag_size
    else:
        rows = weight.detach().numpy()
        dim = rows.shape[1]
        max_indices = np.zeros((n_bags, dim), np.int64)
        pos = np.nonzero(in_bag)[0]
        if pos.shape[0]:
            values = rows[idx[pos]]                                   # (kept, dim)
            bags = bag_of[pos]
            for_column = np.broadcast_to(bags[:, None], values.shape).T.reshape(-1)
            columns = np.repeat(np.arange(dim), pos.shape[0])
            order = np.lexsort((np.tile(np.arange(pos.shape[0]), dim), -values.T.reshape(-1), for_column, columns))
            group = columns[order] * n_bags + for_column[order]
            first = np.ones(order.shape[0], bool)
            first[1:] = group[1:] != group[:-1]
            winner = order[first] % pos.shape[0]
            max_indices[for_column[order][first], columns[order][first]] = idx[pos[winner]]
    return (cgrad.tensor(offset2bag, dtype=index_dtype), cgrad.tensor(bag_size, dtype=index_dtype),
            cgrad.tensor(max_indices, dtype=index_dtype))


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """(output, offset2bag, bag_size, max_indices): F.embedding_bag's bags of
    rows with the bookkeeping tensors ATen's kernel returns beside them."""
    mode = _checked_int("embedding_bag", "mode", "position 5", mode)
    if mode not in (0, 1, 2):
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.size(0)
    output = F.embedding_bag(indices, weight, offsets, None, 2, scale_grad_by_freq, ("sum", "mean", "max")[mode],
                             sparse, per_sample_weights, include_last_offset, padding_idx)
    return (output,) + _bag_bookkeeping(weight, indices, offsets, mode, per_sample_weights, include_last_offset,
                                        padding_idx)


# --- convolution and the grid samplers ------------------------------------------------

_CONVS = {3: (F.conv1d, F.conv_transpose1d), 4: (F.conv2d, F.conv_transpose2d), 5: (F.conv3d, F.conv_transpose3d)}


def _int_list(name, position, value, spatial):
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"convolution(): argument '{name}' (position {position}) must be tuple of ints, "
                        f"not {type(value).__name__}")
    value = tuple(int(v) for v in value)
    return value * spatial if len(value) == 1 else value


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """torch.convolution: every conv and conv_transpose, chosen by the weight's
    dims and transposed; output_padding counts only when transposed."""
    if weight.dim() not in _CONVS:
        raise RuntimeError(f"Expected 3D, 4D or 5D weight for convolution, but got {weight.dim()}D weight of size "
                           f"{list(weight.shape)}")
    if input.dim() != weight.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
                           f"{list(weight.shape)}, but got {input.dim()}-dimensional input of size "
                           f"{list(input.shape)} instead")
    spatial = weight.dim() - 2
    stride = _int_list("stride", 4, stride, spatial)
    padding = _int_list("padding", 5, padding, spatial)
    dilation = _int_list("dilation", 6, dilation, spatial)
    output_padding = _int_list("output_padding", 8, output_padding, spatial)
    conv, conv_transpose = _CONVS[weight.dim()]
    if transposed:
        return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return conv(input, weight, bias, stride, padding, dilation, groups)


def _grid_sampler_nd(dims, input, grid, interpolation_mode, padding_mode, align_corners):
    # ATen's common check (the batch sizes) comes before the 2-D/3-D one
    if input.dim() and grid.dim() and input.size(0) != grid.size(0):
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.dim() != dims or grid.dim() != dims:
        raise RuntimeError(f"grid_sampler(): expected {dims}D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    return _grid_sampler_nd(4, input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    return _grid_sampler_nd(5, input, grid, interpolation_mode, padding_mode, align_corners)
