# gather and scatter_add along a dim, with their nodes. Large gathers run
# over threads (gather_threads.pxi).


# ---------------------------------------------------------------------------
# gather(input, dim, index) and scatter_add(self, dim, index, src).
# GatherBackward0: zeros(input).scatter_add(dim, index, g);
# ScatterAddBackward0: g for self, g.gather(dim, index) for src.

cdef struct GatherGeo:
    int nd
    int dim
    Py_ssize_t shape[MAX_DIMS]        # the index's shape (the walk)
    Py_ssize_t istride[MAX_DIMS]      # index strides
    Py_ssize_t xstride[MAX_DIMS]      # strides of the gathered-from / scattered-into tensor
    Py_ssize_t ostride[MAX_DIMS]      # strides of the dense side (out of gather, src of scatter)
    Py_ssize_t limit                  # size of the indexed dim


cdef Py_ssize_t gather_walk(GatherGeo* g, const int64_t* idx, char* x, char* o, Py_ssize_t numel,
                            int itemsize, int add_dt, int64_t* bad) noexcept nogil:
    """add_dt -1: o[pos] = x[..idx..] (gather); -2: x[..idx..] = o[pos]
    (scatter); else x[..idx..] += o[pos]
    (scatter_add in dtype add_dt). Returns -1, or the position of an index out
    of range (its value in bad[0]); a gather is checked before any write."""
    return gather_walk_range(g, idx, x, o, 0, numel, itemsize, add_dt, bad)


cdef Py_ssize_t gather_walk_range(GatherGeo* g, const int64_t* idx, char* x, char* o, Py_ssize_t start,
                                  Py_ssize_t stop, int itemsize, int add_dt, int64_t* bad) noexcept nogil:
    """gather_walk over the positions start..stop-1 of the index (C order)."""
    cdef Py_ssize_t pos[MAX_DIMS]
    cdef Py_ssize_t k, ioff, xoff, ooff, rest = start
    cdef int d
    cdef int64_t v
    if start >= stop:
        return -1           # nothing to walk (and a size-0 dim must not divide below)
    for d in range(g.nd - 1, -1, -1):
        pos[d] = rest % g.shape[d]
        rest = rest // g.shape[d]
    for k in range(start, stop):
        ioff = 0
        xoff = 0
        ooff = 0
        for d in range(g.nd):
            ioff += pos[d] * g.istride[d]
            ooff += pos[d] * g.ostride[d]
            if d != g.dim:
                xoff += pos[d] * g.xstride[d]
        v = idx[ioff]
        if v < 0 or v >= g.limit:
            bad[0] = v
            return k
        if g.nd > 0:
            xoff += v * g.xstride[g.dim]
        if add_dt == -1:
            memcpy(o + ooff * itemsize, x + xoff * itemsize, itemsize)
        elif add_dt == -2:          # scatter: x[..idx..] = o[pos]
            memcpy(x + xoff * itemsize, o + ooff * itemsize, itemsize)
        elif add_dt == F32:
            (<float*>x)[xoff] += (<float*>o)[ooff]
        elif add_dt == F64:
            (<double*>x)[xoff] += (<double*>o)[ooff]
        elif add_dt == I64:
            (<int64_t*>x)[xoff] += (<int64_t*>o)[ooff]
        elif add_dt == I32:
            (<int32_t*>x)[xoff] += (<int32_t*>o)[ooff]
        elif add_dt == I16:
            (<int16_t*>x)[xoff] += (<int16_t*>o)[ooff]
        elif add_dt == I8:
            (<int8_t*>x)[xoff] += (<int8_t*>o)[ooff]
        elif add_dt == U8:
            (<uint8_t*>x)[xoff] += (<uint8_t*>o)[ooff]
        elif add_dt == BOOL:
            (<uint8_t*>x)[xoff] = (<uint8_t*>x)[xoff] | (<uint8_t*>o)[ooff]
        d = g.nd - 1
        while d >= 0:
            pos[d] += 1
            if pos[d] < g.shape[d]:
                break
            pos[d] = 0
            d -= 1
    return -1


cdef int check_gather_args(Tensor x, int dim, Tensor index, Tensor other, str name) except -1:
    """PyTorch's shape checks; `other` is src of scatter_add (or None)."""
    cdef int d
    if index._dtype != I64 and index._dtype != I32:
        raise RuntimeError(f"{'gather' if name == 'gather' else 'scatter'}(): Expected dtype "
                           "int32/int64 for index")
    if max(index._ndim, 1) != max(x._ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    if other is not None and max(other._ndim, 1) != max(x._ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for d in range(index._ndim):
        if other is not None:
            if (d != dim and index._shape[d] > x._shape[d]) or index._shape[d] > other._shape[d]:
                raise RuntimeError(
                    f"Expected index {shape_str(index._shape, index._ndim)} to be no larger than self "
                    f"{shape_str(x._shape, x._ndim)} apart from dimension {dim} and to be no larger size "
                    f"than src {shape_str(other._shape, other._ndim)}")
        elif d != dim and x._ndim > 0 and index._shape[d] > x._shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {shape_str(index._shape, index._ndim)} "
                f"to be no larger than self {shape_str(x._shape, x._ndim)} apart from dimension {dim}")
    return 0


cdef int fill_geo(GatherGeo* g, Tensor x, int dim, Tensor index, Tensor dense) except -1:
    cdef int d
    g.nd = index._ndim
    g.dim = dim
    g.limit = x._shape[dim] if x._ndim > 0 else 1
    for d in range(index._ndim):
        g.shape[d] = index._shape[d]
        g.istride[d] = index._strides[d]
        g.xstride[d] = x._strides[d] if x._ndim > 0 else 0
        g.ostride[d] = dense._strides[d] if dense._ndim > 0 else 0
    return 0


cdef class GatherBackward0(Node):
    cdef readonly Tensor index
    cdef int dim
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor z = new_tensor_from_tuple(self.self_sizes, g._dtype, True)
        return (op_scatter_add(z, self.dim, self.index, g),)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef Tensor op_gather(Tensor x, int dim, Tensor index):
    """dim: wrapped."""
    cdef GatherGeo geo
    cdef Tensor out, idx = index
    cdef Py_ssize_t at
    cdef int64_t bad = 0
    cdef GatherBackward0 node
    check_gather_args(x, dim, index, None, "gather")
    if idx._dtype != I64:
        idx = cast_tensor(idx, I64)
    out = new_tensor(index._ndim, index._shape, x._dtype)
    fill_geo(&geo, x, dim, idx, out)
    at = gather_threads(&geo, <const int64_t*>idx._data, x._data, out._data, out._numel,
                        ITEMSIZE[x._dtype], &bad)
    if at >= 0:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {geo.limit}")
    if needs_grad(x):
        node = GatherBackward0.__new__(GatherBackward0)
        wire1(node, x)
        node.index = idx
        node.dim = dim
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


def gather(input, dim, index, *, sparse_grad=False, out=None):
    cdef Tensor x = input_arg(input, "gather")
    return op_gather(x, wrap_dim(as_index(dim, "dim"), x._ndim),
                     need_tensor(index, "gather", "index", 3))


cdef class ScatterAddBackward0(Node):
    cdef readonly Tensor index
    cdef int dim
    cdef tuple src_sizes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object gs = None
        if wants_grad(self, 1):
            if shape_tuple(self.index) != self.src_sizes:
                # PyTorch's formula gives src a gradient of index's shape
                raise RuntimeError(
                    f"Function ScatterAddBackward0 returned an invalid gradient at index 1 - got "
                    f"{list(shape_tuple(self.index))} but expected shape compatible with {list(self.src_sizes)}")
            gs = op_gather(g, self.dim, self.index)
        return (g if wants_grad(self, 0) else None, gs)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef Tensor op_scatter_add(Tensor x, int dim, Tensor index, Tensor src):
    """A copy of x with src's elements added at index along dim (dim wrapped)."""
    cdef GatherGeo geo
    cdef Tensor out, s = src
    cdef Py_ssize_t at
    cdef int64_t bad = 0
    cdef int dt = x._dtype
    cdef ScatterAddBackward0 node
    if src._dtype != x._dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
    check_gather_args(x, dim, index, src, "scatter_add")
    if index._dtype != I64:
        index = cast_tensor(index, I64)
    out = contiguous_copy(alias_detached(x))
    if dt == F16:
        out = cast_tensor(out, F32)
        s = cast_tensor(src, F32)
    fill_geo(&geo, out, dim, index, s)
    dt = out._dtype
    with nogil:
        at = gather_walk(&geo, <const int64_t*>index._data, out._data, s._data, index._numel,
                         ITEMSIZE[dt], dt, &bad)
    if at >= 0:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {geo.limit}")
    if x._dtype == F16:
        out = cast_tensor(out, F16)
    if needs_grad2(x, src):
        node = ScatterAddBackward0.__new__(ScatterAddBackward0)
        wire2(node, x, src)
        node.index = index
        node.dim = dim
        node.src_sizes = shape_tuple(src)
        set_history(out, node)
    return out


def scatter_add(input, dim, index, src):
    cdef Tensor x = input_arg(input, "scatter_add")
    return op_scatter_add(x, wrap_dim(as_index(dim, "dim"), x._ndim),
                          need_tensor(index, "scatter_add", "index", 3),
                          need_tensor(src, "scatter_add", "src", 4))
