"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue,
median, nanmedian, mode, quantile, nanquantile.

The order is found by numpy's stable argsort over the whole buffer (NaN
sorts above every number, as in PyTorch); descending order sorts the
reversed rows so equal values keep their original order. The selected
values' gradient goes back through a scatter at the indices (PyTorch's
value_selecting_reduction_backward), written with differentiable ops so
double backward works. quantile is PyTorch's composite: sort, gather, lerp.
"""
import numpy as np

from cgrad import _C
from cgrad._op_support import numpy_dim_spellings
from cgrad._op_support import (attach, check_int, check_tensor, np_of, same_dtype_of, tensor_of,
                               with_out, with_out_tuple, wrap_dim, RESULT_TYPES)


def _argsort_np(a, dim, descending):
    """Stable order along dim (int64 indices)."""
    if descending:
        n = a.shape[dim]
        idx = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
        return (n - 1) - np.flip(idx, dim)
    return np.argsort(a, axis=dim, kind="stable")


_SELECT_CODES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.int64): 2}


def _select_c(a, d, k, position, largest):
    """(values, indices) along dim d by the C selection of kernels/select_rows.pxi:
    the k first in order (largest first when `largest`), sorted, or with
    `position` (int64, a's shape with 1 at d) each row's element at that
    sorted position. None for the dtypes it does not take (numpy's stable
    argsort does those) and for empty rows."""
    code = _SELECT_CODES.get(a.dtype)
    if code is None or a.shape[d] == 0 or a.size == 0:
        return None
    rows = np.ascontiguousarray(np.moveaxis(a, d, -1))
    n = rows.shape[-1]
    count = rows.size // n
    m = 1 if position is not None else k
    vals = np.empty(rows.shape[:-1] + (m,), a.dtype)
    idx = np.empty(rows.shape[:-1] + (m,), np.int64)
    pos = None if position is None else np.ascontiguousarray(np.moveaxis(position, d, -1), np.int64)
    _C._select_rows(rows, count, n, k, pos, largest, code, vals, idx)
    return np.moveaxis(vals, -1, d), np.moveaxis(idx, -1, d)


def _scatter_back(g, dim, indices, sizes, keepdim=True):
    """zeros(sizes) with g at indices along dim (g, indices reduced shape)."""
    if len(sizes) == 0:
        return g.reshape(())
    if not keepdim:
        g = g.unsqueeze(dim)
        indices = indices.unsqueeze(dim)
    return _C.zeros(sizes, dtype=g.dtype).scatter(dim, indices, g)


def _gather_selected(t, dim, indices, keepdim=True):
    """The tangent at the selected indices (PyTorch's
    gather_with_keepdimed_indices): values_t of sort, topk, kthvalue, ..."""
    if t.dim() == 0:
        return t.clone()
    if not keepdim:
        return t.gather(dim, indices.unsqueeze(dim)).squeeze(dim)
    return t.gather(dim, indices)


def _selected(x, values_np, indices_np, dim, node, keepdim=True):
    """(values, indices) tensors, values differentiable through a scatter."""
    values = same_dtype_of(tensor_of(values_np.astype(np_of(x).dtype, copy=False)), x)
    indices = tensor_of(indices_np.astype(np.int64, copy=False))
    sizes = tuple(x.shape)
    saved = indices

    def backward(grads):
        g = grads[0] if isinstance(grads, list) else grads
        if g is None:
            return (None,)
        return (_scatter_back(g, dim, saved, sizes, keepdim),)
    attach([values, None], node, [x], backward, saved=[indices],
           jvp=lambda t, nr: _gather_selected(t[0], dim, saved, keepdim))
    return values, indices


def _sort_impl(x, dim, descending, node="SortBackward0"):
    a = np_of(x)
    if a.ndim == 0:
        return _selected(x, a.copy(), np.zeros((), np.int64), 0, node)
    idx = _argsort_np(a, dim, descending)
    return _selected(x, np.take_along_axis(a, idx, dim), idx, dim, node)


_UNSET = object()


@numpy_dim_spellings
def sort(input, dim=-1, descending=False, *, stable=_UNSET, out=None):
    """Always stable (PyTorch's CPU sort is too); passing `stable` selects
    PyTorch's sort.stable overload, whose node is SortBackward1."""
    check_tensor(input, "sort")
    if isinstance(dim, bool):          # sort(x, True): the old descending spelling is not accepted
        raise TypeError("sort(): argument 'dim' (position 2) must be int, not bool")
    d = wrap_dim(check_int(dim, "sort", "dim", 2), input.dim())
    res = _sort_impl(input, d, bool(descending), "SortBackward0" if stable is _UNSET else "SortBackward1")
    _C._check_strict_out(res, out, "resize")
    return with_out_tuple(res, out, "sort", RESULT_TYPES["sort"])


@numpy_dim_spellings
def argsort(input, dim=-1, descending=False, *, stable=False, out=None):
    check_tensor(input, "argsort")
    d = wrap_dim(check_int(dim, "argsort", "dim", 2), input.dim())
    a = np_of(input)
    idx = np.zeros((), np.int64) if a.ndim == 0 else _argsort_np(a, d, bool(descending))
    return with_out(tensor_of(idx.astype(np.int64, copy=False)), out, "argsort")


def msort(input, *, out=None):
    check_tensor(input, "msort")
    return with_out(_sort_impl(input, 0, False)[0], out, "msort")


@numpy_dim_spellings
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    check_tensor(input, "topk")
    k = check_int(k, "topk", "k", 2)
    d = wrap_dim(check_int(dim, "topk", "dim", 3), input.dim())
    a = np_of(input)
    size = a.shape[d] if a.ndim else 1
    if k < 0 or k > size:
        raise RuntimeError("selected index k out of range")
    if a.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if a.ndim == 0:
        res = _selected(input, a.copy() if k else a.reshape(1)[:0].reshape(()), np.zeros((), np.int64), 0,
                        "TopkBackward0")
        _C._check_strict_out(res, out, "resize")
        return with_out_tuple(res, out, "topk", RESULT_TYPES["topk"])
    picked = _select_c(a, d, k, None, bool(largest))
    if picked is None:
        idx = _argsort_np(a, d, bool(largest))
        idx = np.take(idx, np.arange(k), axis=d)
        picked = np.take_along_axis(a, idx, d), idx
    res = _selected(input, picked[0], picked[1], d, "TopkBackward0")
    _C._check_strict_out(res, out, "resize")
    return with_out_tuple(res, out, "topk", RESULT_TYPES["topk"])


def _pick(x, a, d, position, keepdim, node):
    """The element of each row at sorted `position` (an int array of the
    reduced shape, keepdim'ed) and its index."""
    picked = _select_c(a, d, 0, position, False)
    if picked is None:
        idx = np.take_along_axis(_argsort_np(a, d, False), position, d)
        vals = np.take_along_axis(a, idx, d)
    else:
        vals, idx = picked
    if not keepdim:
        idx = np.squeeze(idx, d)
        vals = np.squeeze(vals, d)
    return _selected(x, vals, idx, d, node, keepdim)


def _reduced_position(a, d, value):
    shape = list(a.shape)
    shape[d] = 1
    return np.full(shape, value, np.int64)


@numpy_dim_spellings
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    check_tensor(input, "kthvalue")
    k = check_int(k, "kthvalue", "k", 2)
    d = wrap_dim(check_int(dim, "kthvalue", "dim", 3), input.dim())
    a = np_of(input)
    size = a.shape[d] if a.ndim else 1
    if size == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if k < 1 or k > size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if a.ndim == 0:
        res = _selected(input, a.copy(), np.zeros((), np.int64), 0, "KthvalueBackward0")
    else:
        if a.dtype == np.bool_:
            raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
        res = _pick(input, a, d, _reduced_position(a, d, k - 1), bool(keepdim), "KthvalueBackward0")
    _C._check_strict_out(res, out, "kthvalue")
    return with_out_tuple(res, out, "kthvalue", RESULT_TYPES["kthvalue"])


def _evenly_distributed(x, value, node):
    """A full reduction to one of x's values: the gradient is shared by the
    elements equal to it (all NaNs when it is NaN), as PyTorch's
    evenly_distribute_backward."""
    def mask_of():
        v = value.detach()
        return (x.detach() == v).logical_or(x.detach().isnan().logical_and(v.isnan()))

    def backward(g):
        mask = mask_of()
        return (mask * (g / mask.sum()),)

    def jvp(t, nr):
        # evenly_read_jvp: the mean of the tangent over the elements equal to the result (no NaN
        # matches NaN there, so a NaN result gets a NaN tangent)
        mask = x.detach() == value.detach()
        return (mask * (t[0] / mask.sum())).sum()
    attach([value], node, [x], backward, saved=[x, value], jvp=jvp)
    return value


def _lower_median_np(a, ignore_nan):
    """Lower median of a flat array; NaN when it holds NaN (or only NaN when ignoring)."""
    if ignore_nan:
        a = a[~np.isnan(a)] if a.dtype.kind == "f" else a
        if a.size == 0:
            return np.array(np.nan, np.float64)
    elif a.dtype.kind == "f" and np.isnan(a).any():
        return np.array(np.nan, a.dtype)
    return np.sort(a, kind="stable")[(a.size - 1) // 2]


def _empty_median(dtype):
    """An empty input's median: NaN, which PyTorch's kernel converts to an
    integer dtype as x86 does (the lowest int32/int64; 0 in the narrower
    types, which take the int32 conversion's low bits)."""
    if dtype.kind == "f":
        return np.array(np.nan, dtype)
    return np.array(np.iinfo(dtype).min if dtype in (np.int32, np.int64) else 0, dtype)


def _refuse_bool(input, kernel):
    if input.dtype == _C.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _median_dim(input, dim, keepdim, ignore_nan, fname, node):
    _refuse_bool(input, "median_out")
    d = wrap_dim(check_int(dim, fname, "dim", 2), input.dim())
    a = np_of(input)
    if a.ndim == 0:
        return _selected(input, a.copy(), np.zeros((), np.int64), 0, node)
    if a.shape[d] == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")   # nanmedian too
    n = a.shape[d]
    if a.dtype.kind == "f":
        nans = np.isnan(a).sum(axis=d, keepdims=True)
    else:
        nans = np.zeros(_reduced_position(a, d, 0).shape, np.int64)
    if ignore_nan:
        count = n - nans
        position = np.where(count > 0, (count - 1) // 2, 0)
    else:
        # a row holding NaN gives its first NaN (stable order puts it first among them)
        position = np.where(nans > 0, n - nans, (n - 1) // 2)
    return _pick(input, a, d, position.astype(np.int64), keepdim, node)


@numpy_dim_spellings
def median(input, dim=None, keepdim=False, *, out=None):
    check_tensor(input, "median")
    if dim is None:
        _refuse_bool(input, "median_cpu")
        if out is not None and not isinstance(out, _C.Tensor):
            raise TypeError(f"median(): argument 'out' must be Tensor, not {type(out).__name__}")
        a = np_of(input)
        if a.size == 0:
            # an empty input's median is NaN, still in the graph (its gradient: empty)
            value = tensor_of(_empty_median(a.dtype))
            return with_out(_evenly_distributed(input, value, "MedianBackward0"), out, "median")
        value = same_dtype_of(tensor_of(np.asarray(_lower_median_np(a.reshape(-1), False)).astype(a.dtype)), input)
        return with_out(_evenly_distributed(input, value, "MedianBackward0"), out, "median")
    res = _median_dim(input, dim, bool(keepdim), False, "median", "MedianBackward1")
    _C._check_strict_out(res, out, "median")
    return with_out_tuple(res, out, "median", RESULT_TYPES["median"])


@numpy_dim_spellings
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    check_tensor(input, "nanmedian")
    if dim is None:
        _refuse_bool(input, "median_cpu")
        a = np_of(input)
        if a.size == 0:
            # an empty input's median is NaN, still in the graph (its gradient: empty)
            value = tensor_of(_empty_median(a.dtype))
            return with_out(_evenly_distributed(input, value, "NanmedianBackward0"), out, "nanmedian")
        value = same_dtype_of(tensor_of(np.asarray(_lower_median_np(a.reshape(-1), True)).astype(a.dtype)), input)
        return with_out(_evenly_distributed(input, value, "NanmedianBackward0"), out, "nanmedian")
    res = _median_dim(input, dim, bool(keepdim), True, "nanmedian", "NanmedianBackward1")
    _C._check_strict_out(res, out, "median")
    return with_out_tuple(res, out, "nanmedian", RESULT_TYPES["nanmedian"])


@numpy_dim_spellings
def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value of each row (the smallest among equally
    frequent ones) and the index of its last occurrence, as PyTorch's CPU
    kernel."""
    check_tensor(input, "mode")
    d = wrap_dim(check_int(dim, "mode", "dim", 2), input.dim())
    a = np_of(input)
    if a.ndim == 0:
        res = _selected(input, a.copy(), np.zeros((), np.int64), 0, "ModeBackward0")
        _C._check_strict_out(res, out, "mode")
        return with_out_tuple(res, out, "mode", RESULT_TYPES["mode"])
    if a.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    rows = np.moveaxis(a, d, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    n = flat.shape[1]
    order = np.argsort(flat, axis=1, kind="stable")
    s = np.take_along_axis(flat, order, 1)
    # run starts of equal values in each sorted row (NaNs form one run, as in a sort)
    same = (s[:, 1:] == s[:, :-1]) | (np.isnan(s[:, 1:]) & np.isnan(s[:, :-1]) if s.dtype.kind == "f"
                                      else np.zeros(s[:, 1:].shape, bool))
    start = np.ones(s.shape, bool)
    start[:, 1:] = ~same
    run_start = np.maximum.accumulate(np.where(start, np.arange(n), 0), axis=1)
    run_len_at = np.arange(n) - run_start + 1          # length of each run up to here
    best_len = run_len_at.max(axis=1)
    # the end of the first longest run: runs are in ascending value order
    first_max = np.argmax(run_len_at == best_len[:, None], axis=1)
    vals = s[np.arange(len(flat)), first_max]
    # the last original index among that run (stable sort: the run's last entry)
    idx = order[np.arange(len(flat)), first_max]
    out_shape = rows.shape[:-1]
    vals = vals.reshape(out_shape)
    idx = idx.reshape(out_shape)
    if keepdim:
        vals = np.expand_dims(vals, d)
        idx = np.expand_dims(idx, d)
    res = _selected(input, vals, idx, d, "ModeBackward0", bool(keepdim))
    _C._check_strict_out(res, out, "mode")
    return with_out_tuple(res, out, "mode", RESULT_TYPES["mode"])


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, fname, out=None):
    """PyTorch's quantile_compute: sort, rank per q, gather the neighbours
    and lerp between them (linear, midpoint). The checks come in ATen's
    order, and in its words ("quantile()" for nanquantile too): a number q's
    range, the interpolation, then quantile_checks (non-empty input, q's
    rank, float input, q's dtype), out's dtype, dim, and q tensor's values."""
    check_tensor(input, fname)
    if not isinstance(q, _C.Tensor):
        qf = float(q)
        if not 0 <= qf <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {qf:g}")
    if not isinstance(interpolation, str) or interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or "
                           f"nearest, but got {interpolation}")
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if isinstance(q, _C.Tensor) and q.dim() > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if input.dtype not in (_C.float32, _C.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if isinstance(q, _C.Tensor) and q.dtype != input.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if isinstance(out, _C.Tensor) and out.dtype != input.dtype:
        raise RuntimeError("quantile() out tensor must be same dtype as the input tensor")
    if dim is not None:
        wrap_dim(check_int(dim, fname, "dim", 3), input.dim())
    if isinstance(q, _C.Tensor):
        qv = np_of(q)
        if ((qv < 0) | (qv > 1)).any():
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
        q_t = q
        q_scalar = q.dim() == 0
    else:
        q_t = _C.tensor(qf, dtype=input.dtype)
        q_scalar = True
    if dim is None:
        out_shape = [1] * input.dim() if keepdim else []
        srt = sort(input.reshape(-1)).values
    else:
        d = wrap_dim(check_int(dim, fname, "dim", 3), input.dim())
        out_shape = list(input.shape)
        if input.dim() == 0:
            out_shape = [1] if keepdim else []
        elif keepdim:
            out_shape[d] = 1
        else:
            del out_shape[d]
        if input.dim() == 0:
            srt = input.reshape(1)
        elif d == input.dim() - 1:
            srt = sort(input).values
        else:
            srt = sort(input.unsqueeze(-1).transpose(d, -1)).values
    nq = 1 if q_scalar else q_t.numel()
    srt = srt.reshape(tuple(out_shape) + (srt.shape[-1],))
    last = srt.shape[-1] - 1
    qcol = q_t.reshape((-1,) + (1,) * len(out_shape)).movedim(0, -1) if not q_scalar else q_t
    nan_rows = srt.detach().isnan()
    if ignore_nan:
        valid = nan_rows.logical_not().sum(-1, keepdim=True).to(input.dtype) - 1
        ranks = qcol * valid
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:
        ranks = (qcol * last).expand(tuple(out_shape) + (nq,)).clone()
        ranks = ranks.masked_fill(nan_rows.any(-1, keepdim=True).expand(tuple(out_shape) + (nq,)), last)
    if ranks.shape != tuple(out_shape) + (nq,):
        ranks = ranks.expand(tuple(out_shape) + (nq,)).clone()
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    below = ranks.to(_C.int64)
    values = srt.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        weights = _C.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below.to(ranks.dtype)
        above = srt.gather(-1, ranks.ceil().to(_C.int64))
        values = values.lerp(above, weights)
    if q_scalar:
        final_shape = tuple(out_shape)
    else:
        # PyTorch's in-place form: q's dim to the front (UnsqueezeBackward1, TransposeBackward1)
        values = values.unsqueeze_(0).transpose_(0, -1)
        final_shape = (nq,) + tuple(out_shape)
    out = values.detach().reshape(final_shape).clone()
    src = values
    attach([out], "SqueezeBackward4", [src], lambda g: (g.reshape(tuple(src.shape)),),
           jvp=lambda t, nr: t[0].reshape(tuple(out.shape)))
    return out


@numpy_dim_spellings
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return with_out(_quantile(input, q, dim, keepdim, interpolation, False, "quantile", out), out, "quantile")


@numpy_dim_spellings
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return with_out(_quantile(input, q, dim, keepdim, interpolation, True, "nanquantile", out), out,
                    "nanquantile")
