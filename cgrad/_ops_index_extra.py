"""Indexed reads and writes: masked_select, masked_scatter, index_add,
index_copy, index_fill, index_put, take, take_along_dim, put (each with
its in-place form where PyTorch has one).

The forward writes are numpy calls over whole buffers (np.add.at for the
accumulating ones); in-place forms run the out-of-place op on the tensor's
old value and commit it, so history continues at the op's node as in
PyTorch. Backward formulas are written with differentiable ops.
"""
import numpy as np

from cgrad import _C
from cgrad._op_support import dtype_title
from cgrad._op_support import numpy_dim_spellings
from cgrad._op_support import (attach, check_int, check_tensor, np_of, same_dtype_of, tangent_or_zeros, tensor_of,
                               typename,
                               wrap_dim)
from cgrad._op_support import with_out as _with_out



_title = dtype_title      # PyTorch's name of a dtype in its errors ('Float')


def _inplace(fn):
    """fn(self, ...) out of place -> the in-place method self.fn_(...)."""
    def method(self, *args, **kwargs):
        _C._check_inplace(self)
        src = _C._old_value(self) if self.requires_grad and _C.is_grad_enabled() else self
        return _C._commit_inplace(self, fn(src, *args, _inplace=True, **kwargs))
    method.__name__ = fn.__name__ + "_"
    return method


def _broadcast_shape(a, b):
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        # PyTorch's wording, from the first mismatching dim seen from the right
        n = max(len(a), len(b))
        pa = (1,) * (n - len(a)) + tuple(a)
        pb = (1,) * (n - len(b)) + tuple(b)
        for i in range(n - 1, -1, -1):
            if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
                raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                                   f"non-singleton dimension {i}") from None
        raise


# --- masked -----------------------------------------------------------------

def masked_select(input, mask, *, out=None):
    check_tensor(input, "masked_select")
    check_tensor(mask, "masked_select", "mask", 2)
    if mask.dtype != _C.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = _broadcast_shape(mask.shape, input.shape)
    a = np.broadcast_to(np_of(input), shape)
    m = np.broadcast_to(np_of(mask), shape)
    res = tensor_of(a[m])
    in_shape = tuple(input.shape)
    mask_b = mask.expand(shape)

    def backward(g):
        full = _C.zeros(shape, dtype=g.dtype).masked_scatter(mask_b, g)
        return (_sum_to(full, in_shape),)
    attach([res], "MaskedSelectBackward0", [input], backward, saved=[mask],
           jvp=lambda t, nr: masked_select(t[0], mask))
    from cgrad._op_support import with_out
    return with_out(res, out, "masked_select")


def _sum_to(g, shape):
    if tuple(g.shape) == tuple(shape):
        return g
    lead = g.dim() - len(shape)
    if lead:
        g = g.sum(list(range(lead)))
    dims = [i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1]
    return g.sum(dims, True) if dims else g


def masked_scatter(input, mask, source, _inplace=False):
    check_tensor(input, "masked_scatter")
    check_tensor(mask, "masked_scatter", "mask", 2)
    check_tensor(source, "masked_scatter", "source", 3)
    if mask.dtype != _C.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_title(mask.dtype)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_title(input.dtype)} and {_title(source.dtype)}")
    shape = tuple(input.shape) if _inplace else _broadcast_shape(input.shape, mask.shape)
    if _inplace:
        _broadcast_shape(input.shape, mask.shape)
    m = np.broadcast_to(np_of(mask), shape)
    count = int(m.sum())
    src = np_of(source).reshape(-1)
    if src.size < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    a = np.array(np.broadcast_to(np_of(input), shape))
    a[m] = src[:count]
    res = tensor_of(a)
    in_shape = tuple(input.shape)
    mask_b = mask.expand(shape)
    src_n = source.numel()
    src_shape = tuple(source.shape)

    def backward(g):
        gi = _sum_to(g.masked_fill(mask_b, 0), in_shape) if input.requires_grad else None
        gs = None
        if source.requires_grad:
            picked = masked_select(g, mask_b)
            gs = _C.cat([picked, _C.zeros(src_n - picked.numel(), dtype=g.dtype)]).reshape(src_shape)
        return (gi, gs)
    attach([res], "MaskedScatterBackward0", [input, source], backward, saved=[mask],
           jvp=lambda t, nr: masked_scatter(tangent_or_zeros(t[0], input), mask, tangent_or_zeros(t[1], source)))
    return res


# --- index_* along a dim -------------------------------------------------------

def _moved(a, d):
    return np.moveaxis(a, d, 0) if a.ndim else a.reshape(1)


def _check_bounds(idx, size, prefix=""):
    bad = (idx < 0) | (idx >= size)
    if bad.any():
        v = int(idx[np.argmax(bad)])
        return f"{prefix}index {v} is out of bounds for dimension {{dim}} with size {size}"
    return None


def index_add(input, dim, index, source, *, alpha=1, out=None, _inplace=False):
    check_tensor(input, "index_add")
    d = wrap_dim(check_int(dim, "index_add", "dim", 2), input.dim())
    check_tensor(index, "index_add", "index", 3)
    check_tensor(source, "index_add", "source", 4)
    if index.dtype not in (_C.int64, _C.int32):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: {_title(index.dtype)}")
    if index.dim() > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {index.dim()} with type: "
                         f"{_title(index.dtype)} and size: {list(index.shape)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"index_add_(): self ({_title(input.dtype)}) and source ({_title(source.dtype)}) must "
                           "have the same scalar type")
    idx = np_of(index).reshape(-1).astype(np.int64)
    src_len = source.shape[d] if source.dim() else 1
    if source.dim() and idx.size != src_len:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                           f"({src_len}), for dim: {d}")
    size = input.shape[d] if input.dim() else 1
    msg = _check_bounds(idx, size)
    if msg:
        if input.dim() <= 1:            # PyTorch's 1-D kernel words it as index_select does
            raise IndexError("index out of range in self")
        raise RuntimeError(msg.format(dim=d))
    a = np_of(input).copy()
    s = np_of(source)
    if alpha != 1:
        s = s * np.asarray(alpha, dtype=s.dtype)
    np.add.at(_moved(a, d), idx, _moved(s, d) if s.ndim else s.reshape(1))
    res = same_dtype_of(tensor_of(a), input)
    src_shape = tuple(source.shape)

    def backward(g):
        gs = None
        if source.requires_grad:
            gs = g.index_select(d, index) if g.dim() else g.reshape(1)
            gs = (gs * alpha if alpha != 1 else gs).reshape(src_shape)
        return (g if input.requires_grad else None, gs)
    attach([res], "IndexAddBackward0", [input, source], backward, saved=[index],
           jvp=lambda t, nr: index_add(tangent_or_zeros(t[0], input), d, index, tangent_or_zeros(t[1], source),
                                       alpha=alpha))
    return res if out is None else _with_out(res, out, "index_add")


def index_copy(input, dim, index, source, *, out=None, _inplace=False):
    check_tensor(input, "index_copy")
    d = wrap_dim(check_int(dim, "index_copy", "dim", 2), input.dim())
    check_tensor(index, "index_copy", "index", 3)
    check_tensor(source, "index_copy", "source", 4)
    if index.dtype != _C.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {_title(index.dtype)}")
    if index.dim() > 1:
        raise IndexError("index_copy_(): Index should have dimension 1 or 0 (got " f"{index.dim()})")
    if input.dtype != source.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_title(input.dtype)} and (source) {_title(source.dtype)}")
    idx = np_of(index).reshape(-1)
    src_len = source.shape[d] if source.dim() else 1
    if idx.size != src_len:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                         f"({src_len})")
    size = input.shape[d] if input.dim() else 1
    msg = _check_bounds(idx, size, "index_copy_(): ")
    if msg:
        raise IndexError(msg.format(dim=d))
    a = np_of(input).copy()
    s = np_of(source)
    _moved(a, d)[idx] = _moved(s, d) if s.ndim else s.reshape(1)
    res = tensor_of(a)
    src_shape = tuple(source.shape)

    def backward(g):
        gi = g.index_fill(d, index, 0) if input.requires_grad else None
        gs = (g.index_select(d, index) if g.dim() else g).reshape(src_shape) if source.requires_grad else None
        return (gi, gs)
    attach([res], "IndexCopyBackward0", [input, source], backward, saved=[index],
           jvp=lambda t, nr: index_copy(tangent_or_zeros(t[0], input), d, index, tangent_or_zeros(t[1], source)))
    return res if out is None else _with_out(res, out, "index_copy")


def index_fill(input, dim, index, value, _inplace=False):
    check_tensor(input, "index_fill")
    d = wrap_dim(check_int(dim, "index_fill", "dim", 2), input.dim())
    check_tensor(index, "index_fill", "index", 3)
    if index.dtype != _C.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index.dim() > 1:
        raise IndexError(f"index_fill_(): Index is supposed to be a vector")
    value_t = None
    if isinstance(value, _C.Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
        value_t = value
        v = np_of(value)
    else:
        v = value
    idx = np_of(index).reshape(-1)
    size = input.shape[d] if input.dim() else 1
    neg_ok = (idx >= -size) & (idx < size)
    if not neg_ok.all():
        bad = int(idx[np.argmax(~neg_ok)])
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    idx = np.where(idx < 0, idx + size, idx)
    a = np_of(input).copy()
    _moved(a, d)[idx] = v
    res = tensor_of(a)
    if value_t is None:
        attach([res], "IndexFillBackward0", [input],
               lambda g: (g.index_fill(d, index, 0) if g.dim() else g * 0,), saved=[index],
               jvp=lambda t, nr: index_fill(t[0], d, index, 0))
    else:
        def backward(g):
            gi = g.index_fill(d, index, 0) if input.requires_grad else None
            gv = None
            if value_t.requires_grad:
                gv = (g.index_select(d, index.remainder(size)) if g.dim() else g).sum().to(value_t.dtype)
            return (gi, gv)
        attach([res], "IndexFillBackward1", [input, value_t], backward, saved=[index],
               jvp=lambda t, nr: index_fill(tangent_or_zeros(t[0], input), d, index, tangent_or_zeros(t[1], value_t)))
    return res


# --- index_put ---------------------------------------------------------------------

def _numpy_indices(input, indices):
    idx = []
    for t in indices:
        if t is None:
            idx.append(slice(None))
        elif not isinstance(t, _C.Tensor):
            raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {typename(t)}")
        elif t.dtype in (_C.bool_, _C.uint8):
            idx.append(np_of(t).astype(bool))
        elif t.dtype in (_C.int64, _C.int32, _C.int16, _C.int8):
            idx.append(np_of(t).astype(np.int64))
        else:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    nd = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1 for i in idx)
    if nd > input.dim():
        raise IndexError(f"too many indices for tensor of dimension {input.dim()} (got {nd})")
    dim = 0
    for i in idx:
        if isinstance(i, np.ndarray) and i.dtype != bool:
            size = input.shape[dim]
            bad = (i < -size) | (i >= size)
            if bad.any():
                raise IndexError(f"index {int(i[bad].flat[0])} is out of bounds for dimension {dim} with size {size}")
        dim += i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1
    return tuple(idx)


def index_put(input, indices, values, accumulate=False, _inplace=False):
    check_tensor(input, "index_put")
    check_tensor(values, "index_put", "values", 3)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' (position 2) must be tuple of Tensors, not "
                        f"{typename(indices)}")
    if input.dtype != values.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_title(input.dtype)} for the destination and {_title(values.dtype)} for the source.")
    idx = _numpy_indices(input, indices)
    a = np_of(input).copy()
    target_shape = a[idx].shape
    v = np_of(values)
    try:
        vb = np.broadcast_to(v, target_shape)
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(target_shape)}") from None
    if accumulate:
        np.add.at(a, idx, vb)
    else:
        a[idx] = vb
    res = tensor_of(a)
    idx_tensors = tuple(indices)
    v_shape = tuple(values.shape)

    def backward(g):
        # an input with only a forward-AD tangent needs its part too (forward AD transposes this)
        gi = None
        if input.requires_grad or _C._fw_tangent(input) is not None:
            gi = g if accumulate else index_put(g, idx_tensors, _C.zeros((), dtype=g.dtype))
        needs_values = values.requires_grad or _C._fw_tangent(values) is not None
        gv = _sum_to(g[idx_tensors], v_shape) if needs_values else None
        return (gi, gv)
    attach([res], "IndexPutBackward0", [input, values], backward,
           saved=[t for t in idx_tensors if isinstance(t, _C.Tensor)],
           jvp=lambda t, nr: index_put(tangent_or_zeros(t[0], input), idx_tensors,
                                       _C.zeros((), dtype=input.dtype) if t[1] is None else t[1], accumulate))
    return res


# --- flat positions ---------------------------------------------------------------------

def take(input, index, *, out=None):
    check_tensor(input, "take")
    check_tensor(index, "take", "index", 2)
    if index.dtype != _C.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_title(index.dtype)}")
    n = input.numel()
    idx = np_of(index)
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(idx[bad].flat[0])} on a tensor of {n} elements.")
    flat = np.ascontiguousarray(np_of(input)).reshape(-1)
    res = tensor_of(flat[idx])
    shape = tuple(input.shape)

    def backward(g):
        z = _C.zeros(n, dtype=g.dtype)
        return (put(z, index, g, accumulate=True).reshape(shape),)
    attach([res], "TakeBackward0", [input], backward, saved=[index], jvp=lambda t, nr: take(t[0], index))
    from cgrad._op_support import with_out
    return with_out(res, out, "take")


def put(input, index, source, accumulate=False, _inplace=False):
    fname = "put_" if _inplace else "put"
    check_tensor(input, fname)
    check_tensor(index, fname, "index", 2)
    check_tensor(source, fname, "source", 3)
    if index.dtype != _C.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_title(index.dtype)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_title(input.dtype)} and source.dtype = {_title(source.dtype)}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    n = input.numel()
    idx = np_of(index).reshape(-1)
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(idx[bad].flat[0])} on a tensor of {n} elements.")
    a = np.array(np_of(input), order="C")
    flat = a.reshape(-1)
    s = np_of(source).reshape(-1)
    if accumulate:
        np.add.at(flat, idx, s)
    else:
        flat[idx] = s
    res = tensor_of(a)
    src_shape = tuple(source.shape)

    def backward(g):
        gi = None
        if input.requires_grad:
            gi = g if accumulate else put(g, index, _C.zeros(src_shape, dtype=g.dtype))
        gs = take(g, index).reshape(src_shape) if source.requires_grad else None
        return (gi, gs)
    attach([res], "PutBackward0", [input, source], backward, saved=[index],
           jvp=lambda t, nr: put(tangent_or_zeros(t[0], input), index, tangent_or_zeros(t[1], source), accumulate))
    return res


@numpy_dim_spellings
def take_along_dim(input, indices, dim=None, *, out=None):
    check_tensor(input, "take_along_dim")
    check_tensor(indices, "take_along_dim", "indices", 2)
    from cgrad._op_support import with_out
    if dim is None:
        # the flattened gather, which takes int32 indices too and refuses negative ones
        return with_out(input.reshape(-1).gather(0, indices.reshape(-1)), out, "take_along_dim")
    if indices.dtype != _C.int64:
        raise RuntimeError(f"cgrad.take_along_dim(): dtype of indices should be Long but got "
                           f"{_title(indices.dtype)}")
    d = wrap_dim(check_int(dim, "take_along_dim", "dim", 3), input.dim())
    if input.dim() and input.shape[d]:
        # PyTorch 2.13 takes indices along dim modulo its size (-1 is the last, size + 1 the second)
        indices = indices.remainder(input.shape[d])
    if input.dim() != indices.dim():
        raise RuntimeError(f"cgrad.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.dim()} dimensions for input, and {indices.dim()} dimensions for indices")
    ishape = list(input.shape)
    jshape = list(indices.shape)
    ishape[d] = 1
    jshape[d] = 1
    common = list(_broadcast_shape(ishape, jshape))
    in_b = list(common)
    in_b[d] = input.shape[d]
    ix_b = list(common)
    ix_b[d] = indices.shape[d]
    x = input.expand(tuple(in_b))     # always, as PyTorch (its ExpandBackward0 even when no dim grows)
    ix = indices if list(indices.shape) == ix_b else indices.expand(tuple(ix_b))
    return with_out(x.gather(d, ix), out, "take_along_dim")


index_add_ = _inplace(index_add)
index_copy_ = _inplace(index_copy)
index_fill_ = _inplace(index_fill)
index_put_ = _inplace(index_put)
masked_scatter_ = _inplace(masked_scatter)
put_ = _inplace(put)
