"""Set and counting ops: unique, unique_consecutive, bincount, histc,
searchsorted, bucketize.

All are numpy calls over whole buffers (np.unique with NaNs kept apart as
PyTorch keeps them, np.searchsorted per row, np.bincount, np.histogram).
unique's values carry PyTorch's node (Unique2Backward0, UniqueDimBackward0,
UniqueConsecutiveBackward0), whose backward is not implemented in PyTorch
either.
"""
import numpy as np

from cgrad import _C
from cgrad._op_support import dtype_title
from cgrad._op_support import (attach, check_int, check_tensor, forward_ad_not_implemented, np_of, same_dtype_of,
                               tensor_of, with_out, wrap_dim)



_title = dtype_title      # PyTorch's name of a dtype in its errors ('Float')


def _not_differentiable(values, input, node, derivative):
    def backward(g):
        raise NotImplementedError(f"the derivative for '{derivative}' is not implemented.")
    attach([values], node, [input], backward, jvp=forward_ad_not_implemented(derivative))


def _pack(values, inverse, counts, return_inverse, return_counts):
    if not return_inverse and not return_counts:
        return values
    out = [values]
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(counts)
    return tuple(out)


def _rows_unique(rows, consecutive):
    """(first index of each group in sorted order, order, group id per row)
    for the rows of a 2-D array, compared lexicographically."""
    n = rows.shape[0]
    if consecutive:
        order = np.arange(n)
    else:
        order = np.lexsort(rows.T[::-1]) if rows.shape[1] else np.arange(n)
    s = rows[order]
    if n == 0:
        return np.zeros(0, np.int64), order, np.zeros(0, np.int64)
    new = np.ones(n, bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1) if rows.shape[1] else False
    group = np.cumsum(new) - 1
    ids = np.empty(n, np.int64)
    ids[order] = group
    return np.flatnonzero(new), order, ids


def _unique_flat(a, consecutive):
    flat = a.reshape(-1)
    n = flat.size
    if consecutive:
        order = np.arange(n)
    else:
        order = np.argsort(flat, kind="stable")
    s = flat[order]
    new = np.ones(n, bool)
    if n:
        new[1:] = s[1:] != s[:-1]          # NaN != NaN: each NaN stays apart, as in PyTorch
    group = np.cumsum(new) - 1
    inverse = np.empty(n, np.int64)
    inverse[order] = group
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, n)).astype(np.int64)
    return s[starts], inverse.reshape(a.shape), counts


def _unique_dim(a, d, consecutive):
    moved = np.moveaxis(a, d, 0)
    rows = moved.reshape(moved.shape[0], -1)
    starts, order, ids = _rows_unique(rows, consecutive)
    counts = np.diff(np.append(starts, rows.shape[0])).astype(np.int64)
    picked = moved[order[starts]]
    return np.moveaxis(picked, 0, d), ids, counts


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    check_tensor(input, "unique")
    a = np_of(input)
    if dim is None:
        vals, inverse, counts = _unique_flat(a, False)
        node, deriv = "Unique2Backward0", "_unique2"
    else:
        d = wrap_dim(check_int(dim, "unique", "dim", 5), input.dim())
        if a.ndim == 0:
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
        vals, inverse, counts = _unique_dim(a, d, False)
        node, deriv = "UniqueDimBackward0", "unique_dim"
    values = same_dtype_of(tensor_of(vals.astype(a.dtype, copy=False)), input)
    _not_differentiable(values, input, node, deriv)
    return _pack(values, tensor_of(inverse), tensor_of(counts), return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    check_tensor(input, "unique_consecutive")
    a = np_of(input)
    if dim is None:
        vals, inverse, counts = _unique_flat(a, True)
    else:
        d = wrap_dim(check_int(dim, "unique_consecutive", "dim", 4), input.dim())
        vals, inverse, counts = _unique_dim(a, d, True)
    values = same_dtype_of(tensor_of(vals.astype(a.dtype, copy=False)), input)
    _not_differentiable(values, input, "UniqueConsecutiveBackward0", "unique_consecutive")
    return _pack(values, tensor_of(inverse), tensor_of(counts), return_inverse, return_counts)


def _tensor_unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return unique(self, sorted, return_inverse, return_counts, dim)


def bincount(input, weights=None, minlength=0):
    check_tensor(input, "bincount")
    if input.is_floating_point() or input.dtype == _C.bool_:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_title(input.dtype)}'")
    minlength = check_int(minlength, "bincount", "minlength", 3)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    a = np_of(input)
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None:
        w = np_of(weights)
        if w.ndim != 1 or w.shape[0] != a.shape[0]:
            raise RuntimeError("weights should be 1-d and have the same length as input")
        if a.size == 0:
            return tensor_of(np.zeros(minlength, np.int64))     # PyTorch's empty case: int64, whatever the weights
        out_dt = w.dtype if w.dtype in (np.float32, np.float64) else np.float64
        return tensor_of(np.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(out_dt))
    return tensor_of(np.bincount(a, minlength=minlength).astype(np.int64))


def _c_float(v):
    """A double as C++'s ostream prints it in PyTorch's message."""
    if np.isnan(v):
        return "-nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:g}"


def histc(input, bins=100, min=0, max=0, *, out=None):
    check_tensor(input, "histc")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_title(input.dtype)}'")
    bins = check_int(bins, "histc", "bins", 2)
    if bins <= 0:
        raise RuntimeError(f"cgrad.histogram(): bins must be > 0, but got {bins} for dimension 0")
    a = np_of(input).reshape(-1)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("cgrad.histc: max must be larger than min")
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())      # NaN and inf propagate into the check below
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"cgrad.histc: range of [{_c_float(lo)}, {_c_float(hi)}] is not finite")
    if lo == hi:
        lo -= 1
        hi += 1
    inside = a[(a >= lo) & (a <= hi)].astype(np.float64)
    # the bin of x is floor((x - lo) * bins / (hi - lo)), the top edge in the last bin (PyTorch's rule)
    pos = ((inside - lo) * bins / (hi - lo)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)
    counts = np.bincount(pos, minlength=bins).astype(a.dtype)
    return with_out(same_dtype_of(tensor_of(counts), input), out, "histc")


def _search(boundaries, values, right, side, out_int32, sorter, fname):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"cgrad.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("cgrad.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    b = np_of(boundaries)
    scalar = not isinstance(values, _C.Tensor)
    v = np.asarray(values) if scalar else np_of(values)
    if sorter is not None:
        b = np.take_along_axis(b, np_of(sorter), -1)
    how = "right" if right else "left"
    if b.ndim == 1:
        res = np.searchsorted(b, v, side=how)
    else:
        if v.ndim != b.ndim or v.shape[:-1] != b.shape[:-1]:
            raise RuntimeError(
                "cgrad.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
                f"{list(b.shape)} and input value tensor {list(v.shape)}")
        bb = b.reshape(-1, b.shape[-1])
        vv = v.reshape(-1, v.shape[-1])
        res = _rowwise_search(bb, vv, right).reshape(v.shape)
    return tensor_of(np.asarray(res).astype(np.int32 if out_int32 else np.int64))


def _rowwise_search(bb, vv, right):
    """np.searchsorted of each row of vv in the same row of bb, as one
    lexsort of both (rows first, then value, then boundaries before or after
    equal values by side) and a running count of boundaries."""
    rows_n, nb = bb.shape
    nv = vv.shape[1]
    keys = np.concatenate([bb, vv.astype(bb.dtype, copy=False)], axis=1).reshape(-1)
    rows = np.repeat(np.arange(rows_n), nb + nv)
    is_b = np.tile(np.concatenate([np.ones(nb, np.int64), np.zeros(nv, np.int64)]), rows_n)
    tie = (1 - is_b) if right else is_b
    order = np.lexsort((tie, keys, rows))
    before = np.cumsum(is_b[order]) - rows[order] * nb
    res = np.empty(keys.size, np.int64)
    res[order] = before
    return res.reshape(rows_n, nb + nv)[:, nb:]


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    check_tensor(sorted_sequence, "searchsorted", "sorted_sequence", 1)
    return with_out(_search(sorted_sequence, input, right, side, out_int32, sorter, "searchsorted"), out,
                    "searchsorted")


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    check_tensor(boundaries, "bucketize", "boundaries", 2)
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return with_out(_search(boundaries, input, right, None, out_int32, None, "bucketize"), out, "bucketize")
