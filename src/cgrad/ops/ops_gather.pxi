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
    Py_ssize_t dstride                # its stride in the gathered-from / scattered-into tensor


cdef Py_ssize_t gather_walk(GatherGeo* g, const int64_t* idx, char* x, char* o, Py_ssize_t numel,
                            int itemsize, int add_dt, int64_t* bad) noexcept nogil:
    """add_dt -1: o[pos] = x[..idx..] (gather); -2: x[..idx..] = o[pos]
    (scatter); else x[..idx..] += o[pos]
    (scatter_add in dtype add_dt). Returns -1, or the position of an index out
    of range (its value in bad[0]); a gather is checked before any write."""
    return gather_walk_range(g, idx, x, o, 0, numel, itemsize, add_dt, bad)


ctypedef fused scatter_add_t:
    float
    double
    int64_t
    int32_t
    int16_t
    int8_t
    uint8_t


cdef Py_ssize_t scatter_add_row(scatter_add_t* x, const scatter_add_t* o, const int64_t* idx, Py_ssize_t k0,
                                Py_ssize_t k1, Py_ssize_t istep, Py_ssize_t ostep, Py_ssize_t xstep,
                                Py_ssize_t dstride, int64_t limit) noexcept nogil:
    """x[k * xstep + idx[k * istep] * dstride] += o[k * ostep] for k0 <= k < k1;
    -1, or the first k whose index is outside [0, limit)."""
    cdef Py_ssize_t k
    cdef int64_t v
    for k in range(k0, k1):
        v = idx[k * istep]
        if v < 0 or v >= limit:
            return k
        x[k * xstep + v * dstride] += o[k * ostep]
    return -1


cdef Py_ssize_t scatter_row(copy_t* x, const copy_t* o, const int64_t* idx, Py_ssize_t k0, Py_ssize_t k1,
                            Py_ssize_t istep, Py_ssize_t ostep, Py_ssize_t xstep, Py_ssize_t dstride,
                            int64_t limit, bint logical_or) noexcept nogil:
    """x[k * xstep + idx[k * istep] * dstride] = o[k * ostep] (or |= for bool
    scatter_add) for k0 <= k < k1; -1, or the first bad k."""
    cdef Py_ssize_t k
    cdef int64_t v
    for k in range(k0, k1):
        v = idx[k * istep]
        if v < 0 or v >= limit:
            return k
        if logical_or:
            x[k * xstep + v * dstride] = x[k * xstep + v * dstride] | o[k * ostep]
        else:
            x[k * xstep + v * dstride] = o[k * ostep]
    return -1


cdef inline Py_ssize_t gather_row_part(const copy_t* x, copy_t* o, const int64_t* idx, Py_ssize_t k0,
                                       Py_ssize_t k1, Py_ssize_t istep, Py_ssize_t ostep, Py_ssize_t xstep,
                                       Py_ssize_t dstride, int64_t limit) noexcept nogil:
    """gather_row over positions k0..k1-1 of a row; -1, or the first bad k."""
    cdef Py_ssize_t k = gather_row(x + k0 * xstep, o + k0 * ostep, idx + k0 * istep, k1 - k0, istep, ostep,
                                   xstep, dstride, limit)
    return -1 if k < 0 else k0 + k


cdef Py_ssize_t walk_row(const int64_t* idx, char* x, char* o, Py_ssize_t k0, Py_ssize_t k1, Py_ssize_t istep,
                         Py_ssize_t ostep, Py_ssize_t xstep, Py_ssize_t dstride, int64_t limit, int itemsize,
                         int add_dt) noexcept nogil:
    """Positions k0..k1-1 of one row of the walk (idx, x and o point at the
    row's first element, x without the gathered dim's part; the steps are
    the row's element strides, xstep 0 along the gathered dim), one typed
    loop per row instead of a dispatch per element. Returns -1, or the
    first k whose index is outside [0, limit)."""
    if add_dt == -1 or add_dt == -2:
        if itemsize == 4:
            if add_dt == -1:
                return gather_row_part(<const uint32_t*>x, <uint32_t*>o, idx, k0, k1, istep, ostep, xstep, dstride,
                                       limit)
            return scatter_row(<uint32_t*>x, <const uint32_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit,
                               False)
        if itemsize == 8:
            if add_dt == -1:
                return gather_row_part(<const uint64_t*>x, <uint64_t*>o, idx, k0, k1, istep, ostep, xstep, dstride,
                                       limit)
            return scatter_row(<uint64_t*>x, <const uint64_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit,
                               False)
        if itemsize == 2:
            if add_dt == -1:
                return gather_row_part(<const uint16_t*>x, <uint16_t*>o, idx, k0, k1, istep, ostep, xstep, dstride,
                                       limit)
            return scatter_row(<uint16_t*>x, <const uint16_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit,
                               False)
        if add_dt == -1:
            return gather_row_part(<const uint8_t*>x, <uint8_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit)
        return scatter_row(<uint8_t*>x, <const uint8_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit, False)
    if add_dt == F32:
        return scatter_add_row(<float*>x, <const float*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit)
    if add_dt == F64:
        return scatter_add_row(<double*>x, <const double*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit)
    if add_dt == I64:
        return scatter_add_row(<int64_t*>x, <const int64_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit)
    if add_dt == I32:
        return scatter_add_row(<int32_t*>x, <const int32_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit)
    if add_dt == I16:
        return scatter_add_row(<int16_t*>x, <const int16_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit)
    if add_dt == I8:
        return scatter_add_row(<int8_t*>x, <const int8_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit)
    if add_dt == U8:
        return scatter_add_row(<uint8_t*>x, <const uint8_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit)
    return scatter_row(<uint8_t*>x, <const uint8_t*>o, idx, k0, k1, istep, ostep, xstep, dstride, limit, True)


cdef Py_ssize_t gather_walk_range(GatherGeo* g, const int64_t* idx, char* x, char* o, Py_ssize_t start,
                                  Py_ssize_t stop, int itemsize, int add_dt, int64_t* bad) noexcept nogil:
    """gather_walk over the positions start..stop-1 of the index (C order),
    row by row along its last dim (a row may be cut at start and stop)."""
    cdef Py_ssize_t pos[MAX_DIMS]
    cdef Py_ssize_t n, k, k0, k1, ioff, xoff, ooff, row, rest
    cdef int d, last = g.nd - 1
    if start >= stop:
        return -1           # nothing to walk (and a size-0 dim must not divide below)
    if g.nd == 0:           # a 0-d index: one element, x's along the dim (or x itself when 0-d)
        if walk_row(idx, x, o, 0, 1, 0, 0, 0, g.dstride, g.limit, itemsize, add_dt) >= 0:
            bad[0] = idx[0]
            return 0
        return -1
    n = g.shape[last]
    row = start // n
    rest = row
    for d in range(last - 1, -1, -1):
        pos[d] = rest % g.shape[d]
        rest = rest // g.shape[d]
    k0 = start - row * n
    while row * n < stop:
        ioff = 0
        xoff = 0
        ooff = 0
        for d in range(last):
            ioff += pos[d] * g.istride[d]
            ooff += pos[d] * g.ostride[d]
            if d != g.dim:
                xoff += pos[d] * g.xstride[d]
        k1 = n if stop - row * n >= n else stop - row * n
        k = walk_row(idx + ioff, x + xoff * itemsize, o + ooff * itemsize, k0, k1, g.istride[last],
                     g.ostride[last], 0 if g.dim == last else g.xstride[last], g.dstride, g.limit, itemsize, add_dt)
        if k >= 0:
            bad[0] = idx[ioff + k * g.istride[last]]
            return row * n + k
        k0 = 0
        row += 1
        d = last - 1
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
    g.dstride = x._strides[dim] if x._ndim > 0 else 0      # also when the index is 0-d and x is not
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
    if is_half16(dt):
        out = cast_tensor(out, F32)
        s = cast_tensor(src, F32)
    fill_geo(&geo, out, dim, index, s)
    dt = out._dtype
    with nogil:
        at = gather_walk(&geo, <const int64_t*>index._data, out._data, s._data, index._numel,
                         ITEMSIZE[dt], dt, &bad)
    if at >= 0:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {geo.limit}")
    if is_half16(x._dtype):
        out = cast_tensor(out, x._dtype)
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
