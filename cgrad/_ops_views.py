"""Strided views and the layout ops around them: diagonal, as_strided (and
as_strided_),
Tensor.unfold, narrow_copy, rot90, diag_embed, trace, block_diag, meshgrid,
cartesian_prod, combinations, triu_indices, tril_indices.

A view shares its input's storage (made by the compiled _strided_view); its
backward adds the gradient into the input's elements at the view elements'
positions (scatter_add over flat positions computed once by numpy), which
is right for overlapping views (unfold with step < size, as_strided) and
differentiable for double backward.
"""
import numpy as np

from cgrad import _C
from cgrad.autograd.grad_mode import no_grad
from cgrad._op_support import (attach, check_int, check_tensor, node_class, np_of, tensor_of, typename,
                               with_out, wrap_dim)


def _strides_of(t):
    return tuple(t.stride())


def _positions(size, stride, offset):
    """Storage positions of the elements of a (size, stride, offset) view."""
    pos = np.full(tuple(size), offset, np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        pos = pos + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return pos


def _view_backward(x, view_size, view_stride, view_offset):
    """backward(g) of a view of x: g added at the view's storage positions,
    read back at x's."""
    vpos = _positions(view_size, view_stride, view_offset).reshape(-1)
    xpos = _positions(tuple(x.shape), _strides_of(x), x.storage_offset()).reshape(-1)
    extent = int(max(vpos.max(initial=-1), xpos.max(initial=-1))) + 1
    vpos_t = tensor_of(vpos)
    xpos_t = tensor_of(xpos)
    shape = tuple(x.shape)

    def backward(g):
        buf = _C.zeros(extent, dtype=g.dtype).scatter_add(0, vpos_t, g.reshape(-1))
        return (buf.gather(0, xpos_t).reshape(shape),)
    return backward


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return strides[::-1]


def _logical_view_backward(shape, size, stride, offset):
    """backward(g) of a view defined on x's elements (not its storage):
    size/stride/offset address x laid out contiguously, so an x that is
    itself an overlapping view (an expand, an unfold) gets each of its
    elements' own share, as PyTorch's unfold_backward/diagonal_backward."""
    vpos_t = tensor_of(_positions(size, stride, offset).reshape(-1))
    extent = int(np.prod(shape))

    def backward(g):
        return (_C.zeros(extent, dtype=g.dtype).scatter_add(0, vpos_t, g.reshape(-1)).reshape(tuple(shape)),)
    return backward


def _view(x, size, stride, offset, node, logical=None):
    """logical: the view's (size, stride, offset) over x's elements laid out
    contiguously, for views defined on x's elements (unfold, diagonal)."""
    v = _C._strided_view(x, tuple(size), tuple(stride), offset)
    if (x.requires_grad and _C.is_grad_enabled()) or _C._fw_tangent(x) is not None:
        backward = (_view_backward(x, size, stride, offset) if logical is None
                    else _logical_view_backward(tuple(x.shape), *logical))
        # a view's tangent: the same view of x's tangent (one laid out as x when it is not)
        attach([v], node, [x], backward,
               jvp=lambda t, nr: _C._fw_view_tangent(x, t[0], v))
    return v


def diagonal(input, offset=0, dim1=0, dim2=1):
    check_tensor(input, "diagonal")
    nd = input.dim()
    offset = check_int(offset, "diagonal", "offset", 2)
    d1 = wrap_dim(check_int(dim1, "diagonal", "dim1", 3), nd)
    d2 = wrap_dim(check_int(dim2, "diagonal", "dim2", 4), nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = list(input.shape)

    def geometry(stride, start):
        if offset >= 0:
            n = max(min(shape[d1], shape[d2] - offset), 0)
            if n > 0:
                start += offset * stride[d2]
        else:
            n = max(min(shape[d1] + offset, shape[d2]), 0)
            if n > 0:
                start -= offset * stride[d1]
        rest = [k for k in range(nd) if k not in (d1, d2)]
        return [shape[k] for k in rest] + [n], [stride[k] for k in rest] + [stride[d1] + stride[d2]], start
    size, strides, start = geometry(list(_strides_of(input)), input.storage_offset())
    return _view(input, size, strides, start, "DiagonalBackward0",
                 logical=geometry(_contiguous_strides(shape), 0))


def as_strided(input, size, stride, storage_offset=None):
    check_tensor(input, "as_strided")
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape")
    for s in stride:
        if s < 0:
            raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                               f"strides: {list(stride)}")
    if any(s < 0 for s in size):
        # PyTorch's storage-size computation refuses a negative size (with a zero size beside it, it
        # makes a tensor with a negative dim; cgrad refuses that too)
        if 0 not in size:
            raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                               f"strides={list(stride)}")
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if all(s > 0 for s in size):
        need = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        have = _C._storage_extent(input)
        if need > have:
            itemsize = input.element_size()
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize "
                f"{itemsize} requiring a storage size of {need * itemsize} are out of bounds for storage of "
                f"size {have * itemsize}")
    return _view(input, size, stride, offset, "AsStridedBackward0")


def as_strided_(input, size, stride, storage_offset=None):
    """as_strided in place: input takes the new geometry (checked as
    as_strided checks it); recorded as AsStridedBackward1, whose backward
    maps the gradient through the old geometry (as PyTorch's)."""
    check_tensor(input, "as_strided_")
    view = as_strided(input.detach(), size, stride, storage_offset)
    if not (input.requires_grad and _C.is_grad_enabled()):
        return _C._view_inplace(input, view)
    backward = _view_backward(input, tuple(view.shape), _strides_of(view), view.storage_offset())
    return _C._view_inplace(input, view, node_class("AsStridedBackward1"), backward)


def _tensor_unfold(self, dimension, size, step):
    dimension = check_int(dimension, "unfold", "dimension", 1)
    size = check_int(size, "unfold", "size", 2)
    step = check_int(step, "unfold", "step", 3)
    nd = self.dim()
    d = wrap_dim(dimension, nd)
    length = self.shape[d] if nd else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    shape = list(self.shape)
    stride = list(_strides_of(self))
    if nd == 0:
        return _view(self, [size], [1], self.storage_offset(), "UnfoldBackward0")
    count = (length - size) // step + 1
    new_size = shape[:d] + [count] + shape[d + 1:] + [size]

    def strides_over(stride):
        return stride[:d] + [stride[d] * step] + stride[d + 1:] + [stride[d]]
    return _view(self, new_size, strides_over(stride), self.storage_offset(), "UnfoldBackward0",
                 logical=(new_size, strides_over(_contiguous_strides(shape)), 0))


def narrow_copy(input, dim, start, length, *, out=None):
    check_tensor(input, "narrow_copy")
    view = input.detach().narrow(dim, start, length)
    result = view.clone()
    if (input.requires_grad and _C.is_grad_enabled()) or _C._fw_tangent(input) is not None:
        d = wrap_dim(check_int(dim, "narrow_copy", "dim", 2), input.dim())
        s = check_int(start, "narrow_copy", "start", 3)
        s = s + input.shape[d] if s < 0 else s
        n = input.shape[d]
        shape = tuple(input.shape)

        def backward(g):
            before = list(shape)
            before[d] = s
            after = list(shape)
            after[d] = n - s - g.shape[d]
            parts = [_C.zeros(tuple(before), dtype=g.dtype), g, _C.zeros(tuple(after), dtype=g.dtype)]
            return (_C.cat(parts, d),)
        attach([result], "NarrowCopyBackward0", [input], backward,
               jvp=lambda t, nr: t[0].narrow(d, s, result.shape[d]).clone())
    return with_out(result, out, "narrow_copy")


def _rot90_plain(x, k, d0, d1):
    k = k % 4
    if k == 1:
        return x.flip(d1).transpose(d0, d1)
    if k == 2:
        return x.flip((d0, d1))
    if k == 3:
        return x.flip(d0).transpose(d0, d1)
    return x


def rot90(input, k=1, dims=(0, 1)):
    check_tensor(input, "rot90")
    k = check_int(k, "rot90", "k", 2)
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input.dim()
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    if dims[0] == dims[1] or abs(dims[0] - dims[1]) == nd:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    if not (-nd <= dims[0] < nd):
        raise RuntimeError(f"Rotation dim0 out of range, dim0 = {dims[0]}")
    if not (-nd <= dims[1] < nd):
        raise RuntimeError(f"Rotation dim1 out of range, dim1 = {dims[1]}")
    d0, d1 = dims[0] % nd, dims[1] % nd
    with no_grad():
        result = _rot90_plain(input.detach(), k, d0, d1).clone()
    attach([result], "Rot90Backward0", [input], lambda g: (rot90(g, -k, [d0, d1]),),
           jvp=lambda t, nr: rot90(t[0], k, [d0, d1]))
    return result


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    check_tensor(input, "diag_embed")
    offset = check_int(offset, "diag_embed", "offset", 2)
    nd = input.dim() + 1
    d1 = wrap_dim(check_int(dim1, "diag_embed", "dim1", 3), nd)
    d2 = wrap_dim(check_int(dim2, "diag_embed", "dim2", 4), nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    last = input.shape[-1] if input.dim() else 1
    n = last + abs(offset)
    shape = list(input.shape[:-1]) if input.dim() else []
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    result = _C.zeros(tuple(shape), dtype=input.dtype)
    with no_grad():
        diagonal(result, offset, d1, d2).copy_(input.detach())
    attach([result], "DiagEmbedBackward0", [input], lambda g: (diagonal(g, offset, d1, d2),),
           jvp=lambda t, nr: diag_embed(t[0], offset, d1, d2))
    return result


def trace(input):
    check_tensor(input, "trace")
    if input.dim() != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " f"{input.dim()}")
    d = diagonal(input.detach())
    dt = input.dtype if input.is_floating_point() else _C.int64
    result = d.sum(dtype=dt) if input.dtype != dt else d.sum()
    result = result.detach().clone()
    shape = tuple(input.shape)

    def backward(g):
        n = min(shape)
        eye = _C.eye(shape[0], shape[1], dtype=g.dtype)
        return (eye * g,)
    attach([result], "TraceBackward0", [input], backward)
    return result


def block_diag(*tensors):
    mats = []
    for i, t in enumerate(tensors):
        if not isinstance(t, _C.Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {typename(t)}")
        if t.dim() > 2:
            raise RuntimeError(f"cgrad.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
        mats.append(t.reshape(1, -1) if t.dim() < 2 else t)
    if not mats:
        return _C.empty((1, 0))
    dt = mats[0].dtype
    for m in mats[1:]:
        dt = _C.promote_types(dt, m.dtype)
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    result = _C.zeros((rows, cols), dtype=dt)
    spans = []
    r = c = 0
    with no_grad():
        for m in mats:
            result[r:r + m.shape[0], c:c + m.shape[1]] = m.detach().to(dt)
            spans.append((r, c, m.shape[0], m.shape[1]))
            r += m.shape[0]
            c += m.shape[1]
    shapes = [tuple(t.shape) for t in tensors]
    dtypes = [t.dtype for t in tensors]

    def backward(g):
        return tuple(g[r0:r0 + h, c0:c0 + w].reshape(s).to(d)
                     for (r0, c0, h, w), s, d in zip(spans, shapes, dtypes))
    attach([result], "BlockDiagBackward0", list(tensors), backward,
           jvp=lambda t, nr: block_diag(*[x if tan is None else tan for x, tan in zip(
               [_C.zeros_like(m) for m in tensors], t)]))
    return result


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
        if len(tensors) >= 2:
            import warnings
            warnings.warn("cgrad.meshgrid: in an upcoming release, it will be required to pass the indexing "
                          "argument.", UserWarning, stacklevel=2)
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"cgrad.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if len(tensors) == 0:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, _C.Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {typename(t)}")
        if t.dim() > 1:
            raise RuntimeError(f"cgrad.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    for t in tensors[1:]:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("cgrad.meshgrid: expects all tensors to have the same dtype")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        out.append(t.view(tuple(view)).expand(shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if not isinstance(t, _C.Tensor) or t.dim() != 1:
            raise RuntimeError("Expect a 1D vector, but got shape "
                               f"{list(t.shape) if isinstance(t, _C.Tensor) else t}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return _C.stack([g.flatten() for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    check_tensor(input, "combinations")
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    r = check_int(r, "combinations", "r", 2)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _C.empty(0, dtype=input.dtype)
    n = input.shape[0]
    grids = np.meshgrid(*([np.arange(n)] * r), indexing="ij")
    keep = np.ones(grids[0].shape, bool)
    for a, b in zip(grids[:-1], grids[1:]):
        keep &= (a <= b) if with_replacement else (a < b)
    cols = [tensor_of(g[keep].astype(np.int64)) for g in grids]
    if cols[0].numel() == 0:
        return _C.empty((0, r), dtype=input.dtype) if r > 1 else _C.empty(0, dtype=input.dtype)
    return _C.stack([input.index_select(0, c) for c in cols], 1)


def _tri_indices(row, col, offset, upper, dtype, fname):
    for name, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{name} must be non-negative, got{v}")
    r, c = np.indices((row, col))
    keep = (c - r >= offset) if upper else (c - r <= offset)
    out = np.stack([r[keep], c[keep]]).astype(np.int64)
    t = tensor_of(out)
    return t if dtype is None or dtype == _C.int64 else t.to(dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(int(row), int(col), int(offset), True, dtype, "triu_indices")


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(int(row), int(col), int(offset), False, dtype, "tril_indices")
