# Elementwise iteration: runs a row kernel over operands broadcast to one
# output shape. A row kernel (RowFn) is the only per-op code: it walks one
# row of `n` elements given a pointer and an element stride per operand;
# operand 0 is always the OUT buffer, the others are IN.
#
# Layers: run_elementwise() picks the flat fast path (every operand
# contiguous or a single element: one call, strides 1 or 0) or the strided
# path (broadcast strides, size-1 dims dropped, adjacent dims coalesced,
# then one call per row). The GIL is released when the work is large.

ctypedef void (*RowFn)(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil

cdef enum:
    MAX_OPERANDS = 4
    GIL_RELEASE_NUMEL = 1 << 15   # below this, releasing the GIL costs more than it gives


cdef struct Operand:
    char* data
    int ndim
    int itemsize
    bint contiguous
    Py_ssize_t numel
    const Py_ssize_t* shape
    const Py_ssize_t* strides


cdef inline Operand operand_of(Tensor t) noexcept:
    cdef Operand o
    o.data = t._data
    o.ndim = t._ndim
    o.itemsize = ITEMSIZE[t._dtype]
    o.contiguous = t._contiguous
    o.numel = t._numel
    o.shape = t._shape
    o.strides = t._strides
    return o


cdef inline Operand operand_of_scalar(void* value, int itemsize) noexcept:
    cdef Operand o
    o.data = <char*>value
    o.ndim = 0
    o.itemsize = itemsize
    o.contiguous = True
    o.numel = 1
    o.shape = NULL
    o.strides = NULL
    return o


cdef void run_strided(RowFn fn, int nops, Operand* ops, int ndim, const Py_ssize_t* shape,
                      Py_ssize_t numel, void* ctx) noexcept nogil:
    cdef Py_ssize_t st[MAX_OPERANDS][MAX_DIMS]
    cdef Py_ssize_t sh[MAX_DIMS]
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t inner_s[MAX_OPERANDS]
    cdef char* p[MAX_OPERANDS]
    cdef Py_ssize_t stride, n, rows, r
    cdef int k, d, od, nd = 0
    cdef bint mergeable
    for d in range(ndim):
        if shape[d] == 1:
            continue
        mergeable = nd > 0
        if mergeable:
            for k in range(nops):
                od = d - (ndim - ops[k].ndim)
                stride = 0 if od < 0 or ops[k].shape[od] == 1 else ops[k].strides[od]
                if st[k][nd - 1] != stride * shape[d]:
                    mergeable = False
                    break
        for k in range(nops):
            od = d - (ndim - ops[k].ndim)
            stride = 0 if od < 0 or ops[k].shape[od] == 1 else ops[k].strides[od]
            st[k][nd - 1 if mergeable else nd] = stride
        if mergeable:
            sh[nd - 1] *= shape[d]
        else:
            sh[nd] = shape[d]
            nd += 1
    if nd == 0:
        sh[0] = 1
        for k in range(nops):
            st[k][0] = 0
        nd = 1
    for k in range(nops):
        p[k] = ops[k].data
        inner_s[k] = st[k][nd - 1]
        for d in range(nd):
            st[k][d] *= ops[k].itemsize      # outer strides in bytes from here on
    n = sh[nd - 1]
    rows = numel // n
    for d in range(nd):
        idx[d] = 0
    for r in range(rows):
        fn(p, inner_s, n, ctx)
        d = nd - 2
        while d >= 0:
            idx[d] += 1
            for k in range(nops):
                p[k] += st[k][d]
            if idx[d] < sh[d]:
                break
            for k in range(nops):
                p[k] -= st[k][d] * sh[d]
            idx[d] = 0
            d -= 1


cdef int run_elementwise(RowFn fn, int nops, Operand* ops, int ndim, const Py_ssize_t* shape,
                         Py_ssize_t numel, void* ctx) except -1:
    """Apply `fn` over `numel` elements of the broadcast shape. ops[0] is the
    output: contiguous, of exactly that shape. The other operands are
    right-aligned against the shape and broadcast (checked by the caller)."""
    cdef Py_ssize_t s[MAX_OPERANDS]
    cdef char* p[MAX_OPERANDS]
    cdef bint flat = True
    cdef int k
    if numel == 0:
        return 0
    for k in range(nops):
        p[k] = ops[k].data
        if ops[k].numel == 1:
            s[k] = 0
        elif ops[k].contiguous and ops[k].numel == numel:
            s[k] = 1
        else:
            flat = False
    if numel < GIL_RELEASE_NUMEL:
        run_loops(fn, flat, p, s, nops, ops, ndim, shape, numel, ctx)
    else:
        with nogil:
            run_loops(fn, flat, p, s, nops, ops, ndim, shape, numel, ctx)
    return 0


cdef int run_elementwise_holding_gil(RowFn fn, int nops, Operand* ops, int ndim,
                                    const Py_ssize_t* shape, Py_ssize_t numel, void* ctx) except -1:
    """run_elementwise without releasing the GIL: for writes into buffers
    other threads may write too (a shared leaf's .grad), where the GIL is
    the lock."""
    cdef Py_ssize_t s[MAX_OPERANDS]
    cdef char* p[MAX_OPERANDS]
    cdef bint flat = True
    cdef int k
    if numel == 0:
        return 0
    for k in range(nops):
        p[k] = ops[k].data
        if ops[k].numel == 1:
            s[k] = 0
        elif ops[k].contiguous and ops[k].numel == numel:
            s[k] = 1
        else:
            flat = False
    run_loops(fn, flat, p, s, nops, ops, ndim, shape, numel, ctx)
    return 0


cdef inline void run_loops(RowFn fn, bint flat, char** p, Py_ssize_t* s, int nops, Operand* ops,
                           int ndim, const Py_ssize_t* shape, Py_ssize_t numel, void* ctx) noexcept nogil:
    if flat:
        fn(p, s, numel, ctx)
    else:
        run_strided(fn, nops, ops, ndim, shape, numel, ctx)


cdef int broadcast_shapes(int andim, const Py_ssize_t* ashape, int bndim, const Py_ssize_t* bshape,
                          Py_ssize_t* out) except -1:
    """numpy's broadcasting of two shapes into `out`; returns the rank.
    Raises PyTorch's RuntimeError naming the rightmost mismatch, as PyTorch
    checks from the last dim."""
    cdef int nd = andim if andim > bndim else bndim
    cdef int i, ia, ib
    cdef Py_ssize_t da, db
    for i in range(nd - 1, -1, -1):
        ia = andim - nd + i
        ib = bndim - nd + i
        da = ashape[ia] if ia >= 0 else 1
        db = bshape[ib] if ib >= 0 else 1
        if da == db or db == 1:
            out[i] = da
        elif da == 1:
            out[i] = db
        else:
            raise RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) "
                f"at non-singleton dimension {i}")
    return nd
