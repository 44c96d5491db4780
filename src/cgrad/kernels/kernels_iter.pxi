# Elementwise iteration: runs a row kernel over operands broadcast to one
# output shape. A row kernel (RowFn) is the only per-op code: it walks one
# row of `n` elements given a pointer and an element stride per operand;
# operand 0 is always the OUT buffer, the others are IN.
#
# Layers: run_elementwise() picks the flat fast path (every operand
# contiguous or a single element: one call, strides 1 or 0) or the strided
# path (plan_strided: broadcast strides, size-1 dims dropped, adjacent dims
# coalesced; run_rows: one call per row; run_tiles: the same rows in square
# tiles when one operand walks the other's transpose). Large work releases
# the GIL and is split over threads (run_parallel).

from cython.parallel cimport prange

# RowFn, Operand and MAX_OPERANDS are declared in _C.pxd.
cdef enum:
    GIL_RELEASE_NUMEL = 1 << 15   # below this, releasing the GIL costs more than it gives


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


cdef inline bint one_element_broadcast(const Operand* o) noexcept nogil:
    """An input that is one element expanded (every dim of size 1 or stride
    0, as the gradient sum() hands back): read as a scalar, so the work
    stays on the flat, vectorised path instead of a strided row walk."""
    cdef int d
    if o.strides == NULL:
        return False
    for d in range(o.ndim):
        if o.shape[d] != 1 and o.strides[d] != 0:
            return False
    return True


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


cdef struct StridedPlan:
    # the iteration after broadcasting, dropping size-1 dims and merging
    # adjacent dims: `rows` rows of `n` elements
    int nops
    int nd
    Py_ssize_t n
    Py_ssize_t rows
    Py_ssize_t sh[MAX_DIMS]
    Py_ssize_t st[MAX_OPERANDS][MAX_DIMS]    # outer strides, in bytes
    Py_ssize_t inner_s[MAX_OPERANDS]          # inner strides, in elements
    char* base[MAX_OPERANDS]
    int itemsize[MAX_OPERANDS]


cdef void plan_strided(StridedPlan* pl, int nops, Operand* ops, int ndim, const Py_ssize_t* shape,
                       Py_ssize_t numel) noexcept nogil:
    cdef Py_ssize_t stride
    cdef int k, d, od, i, j, nd = 0
    cdef int order[MAX_DIMS]
    cdef bint mergeable
    for i in range(ndim):
        order[i] = i
    if not ops[0].contiguous and ops[0].numel == numel and ops[0].ndim == ndim and ops[0].strides != NULL:
        # a permuted output is walked in its memory order, as PyTorch's
        # iterator walks it (which elements its vector loop rounds once, in
        # add with alpha, depends on that order)
        for i in range(1, ndim):
            j = i
            while j > 0 and ops[0].strides[order[j - 1]] < ops[0].strides[order[j]]:
                order[j - 1], order[j] = order[j], order[j - 1]
                j -= 1
    for i in range(ndim):
        d = order[i]
        if shape[d] == 1:
            continue
        mergeable = nd > 0
        if mergeable:
            for k in range(nops):
                od = d - (ndim - ops[k].ndim)
                stride = 0 if od < 0 or ops[k].shape[od] == 1 else ops[k].strides[od]
                if pl.st[k][nd - 1] != stride * shape[d]:
                    mergeable = False
                    break
        for k in range(nops):
            od = d - (ndim - ops[k].ndim)
            stride = 0 if od < 0 or ops[k].shape[od] == 1 else ops[k].strides[od]
            pl.st[k][nd - 1 if mergeable else nd] = stride
        if mergeable:
            pl.sh[nd - 1] *= shape[d]
        else:
            pl.sh[nd] = shape[d]
            nd += 1
    if nd == 0:
        pl.sh[0] = 1
        for k in range(nops):
            pl.st[k][0] = 0
        nd = 1
    for k in range(nops):
        pl.base[k] = ops[k].data
        pl.itemsize[k] = ops[k].itemsize
        pl.inner_s[k] = pl.st[k][nd - 1]
        for d in range(nd):
            pl.st[k][d] *= ops[k].itemsize
    pl.nops = nops
    pl.nd = nd
    pl.n = pl.sh[nd - 1]
    pl.rows = numel // pl.n


cdef void run_rows(RowFn fn, const StridedPlan* pl, Py_ssize_t r0, Py_ssize_t r1,
                   void* ctx) noexcept nogil:
    """Rows r0..r1-1 of a plan: pointers start at row r0's position."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef char* p[MAX_OPERANDS]
    cdef Py_ssize_t rest = r0, r
    cdef int k, d, nd = pl.nd
    for k in range(pl.nops):
        p[k] = pl.base[k]
    for d in range(nd - 2, -1, -1):
        idx[d] = rest % pl.sh[d]
        rest = rest // pl.sh[d]
        for k in range(pl.nops):
            p[k] += idx[d] * pl.st[k][d]
    for r in range(r0, r1):
        fn(p, pl.inner_s, pl.n, ctx)
        d = nd - 2
        while d >= 0:
            idx[d] += 1
            for k in range(pl.nops):
                p[k] += pl.st[k][d]
            if idx[d] < pl.sh[d]:
                break
            for k in range(pl.nops):
                p[k] -= pl.st[k][d] * pl.sh[d]
            idx[d] = 0
            d -= 1


# Transposing walks. When one operand is unit-stride along the rows (the
# last dim) and another along the columns (the dim before it), a row of one
# touches a new cache line per element of the other: an 8192x8192 float32
# transpose copy would stream each line in 16 times. Walking the same rows
# TILE x TILE at a time (a tile of each operand stays in L1) reads and
# writes every line once. Results are the same elements in the same
# operations: only the order of independent writes changes.

cdef enum:
    TILE = 64
    TILED_MIN_NUMEL = 1 << 16     # below this the rows fit in cache anyway


cdef inline bint plan_transposes(const StridedPlan* pl) noexcept nogil:
    """Does one operand walk a transpose of another (see run_tiles)?"""
    cdef int k
    cdef bint rows_unit = False, cols_unit = False
    if pl.nd < 2 or pl.n < TILE or pl.sh[pl.nd - 2] < TILE or pl.rows * pl.n < TILED_MIN_NUMEL:
        return False
    # an output accumulating over either dim (a reduction) keeps its order of additions
    if pl.inner_s[0] == 0 or pl.st[0][pl.nd - 2] == 0:
        return False
    for k in range(pl.nops):
        if pl.inner_s[k] == 1:
            rows_unit = True
        elif pl.inner_s[k] != 0 and pl.st[k][pl.nd - 2] == pl.itemsize[k]:
            cols_unit = True
    return rows_unit and cols_unit


cdef void run_tiles(RowFn fn, const StridedPlan* pl, Py_ssize_t b0, Py_ssize_t b1,
                    void* ctx) noexcept nogil:
    """Row blocks b0..b1-1 of a plan whose last two dims are walked in
    TILE x TILE tiles; a row block is TILE rows (the dim before the last)
    of one 2-d slab, all of its columns."""
    cdef Py_ssize_t idx, rest, slab, r0, r1, r, c0, cn
    cdef Py_ssize_t nrows = pl.sh[pl.nd - 2], blocks = (nrows + TILE - 1) // TILE
    cdef char* p[MAX_OPERANDS]
    cdef char* q[MAX_OPERANDS]
    cdef int k, d, nd = pl.nd
    cdef Py_ssize_t b
    for b in range(b0, b1):
        slab = b // blocks
        r0 = (b % blocks) * TILE
        r1 = min(r0 + TILE, nrows)
        for k in range(pl.nops):
            p[k] = pl.base[k] + r0 * pl.st[k][nd - 2]
        rest = slab
        for d in range(nd - 3, -1, -1):
            idx = rest % pl.sh[d]
            rest = rest // pl.sh[d]
            for k in range(pl.nops):
                p[k] += idx * pl.st[k][d]
        c0 = 0
        while c0 < pl.n:
            cn = min(<Py_ssize_t>TILE, pl.n - c0)
            for r in range(r0, r1):
                for k in range(pl.nops):
                    q[k] = p[k] + (r - r0) * pl.st[k][nd - 2] + c0 * pl.inner_s[k] * pl.itemsize[k]
                fn(q, pl.inner_s, cn, ctx)
            c0 += cn


cdef bint elementwise_tiles(int nops, Operand* ops, int ndim, const Py_ssize_t* shape,
                            Py_ssize_t numel) noexcept nogil:
    """Would run_elementwise walk these operands in tiles (run_tiles)?"""
    cdef StridedPlan pl
    cdef int k
    for k in range(nops):
        if not (ops[k].numel == 1 or (ops[k].contiguous and ops[k].numel == numel)):
            break
    else:
        return False        # the flat path
    plan_strided(&pl, nops, ops, ndim, shape, numel)
    return plan_transposes(&pl)


cdef inline Py_ssize_t tile_blocks(const StridedPlan* pl) noexcept nogil:
    return (pl.rows // pl.sh[pl.nd - 2]) * ((pl.sh[pl.nd - 2] + TILE - 1) // TILE)


cdef void run_flat_chunk(RowFn fn, int nops, char** p, Py_ssize_t* s, Operand* ops, Py_ssize_t start,
                         Py_ssize_t count, void* ctx) noexcept nogil:
    cdef char* q[MAX_OPERANDS]
    cdef int k
    for k in range(nops):
        q[k] = p[k] + start * s[k] * ops[k].itemsize
    fn(q, s, count, ctx)


# ---------------------------------------------------------------------------
# Threads. Large elementwise work is split over threads (OpenMP, when the
# compiler has it; otherwise prange runs serially). Only work whose output
# receives each element once is split: reductions accumulate into shared
# outputs and stay on one thread.

cdef enum:
    # Each thread gets at least this much work: a parallel region can wait a
    # whole scheduler slice for a busy core, so only large work is split.
    MIN_NUMEL_PER_THREAD = 1 << 18

def set_num_threads(int n):
    """The number of threads cgrad's kernels use for large tensors."""
    global _num_threads
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _num_threads = n


def get_num_threads():
    return _num_threads


def _default_num_threads():
    import os
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return os.cpu_count() or 1


_num_threads = _default_num_threads()


cdef inline int threads_for(Py_ssize_t numel) noexcept nogil:
    cdef Py_ssize_t t = numel // MIN_NUMEL_PER_THREAD
    if t > _num_threads:
        t = _num_threads
    return <int>t if t > 1 else 1


cdef void run_parallel(RowFn fn, bint flat, char** p, Py_ssize_t* s, int nops, Operand* ops,
                       int ndim, const Py_ssize_t* shape, Py_ssize_t numel, void* ctx,
                       int nthreads) noexcept nogil:
    cdef StridedPlan pl
    cdef Py_ssize_t chunk, t, start, count, per, blocks
    if flat:
        chunk = (numel + nthreads - 1) // nthreads
        for t in prange(nthreads, num_threads=nthreads, schedule="static"):
            start = t * chunk
            count = min(chunk, numel - start)
            if count > 0:
                run_flat_chunk(fn, nops, p, s, ops, start, count, ctx)
        return
    plan_strided(&pl, nops, ops, ndim, shape, numel)
    if plan_transposes(&pl):
        blocks = tile_blocks(&pl)
        per = (blocks + nthreads - 1) // nthreads
        for t in prange(nthreads, num_threads=nthreads, schedule="static"):
            start = t * per
            count = min(per, blocks - start)
            if count > 0:
                run_tiles(fn, &pl, start, start + count, ctx)
        return
    if pl.rows < nthreads:
        run_rows(fn, &pl, 0, pl.rows, ctx)
        return
    per = (pl.rows + nthreads - 1) // nthreads
    for t in prange(nthreads, num_threads=nthreads, schedule="static"):
        start = t * per
        count = min(per, pl.rows - start)
        if count > 0:
            run_rows(fn, &pl, start, start + count, ctx)


cdef int run_elementwise(RowFn fn, int nops, Operand* ops, int ndim, const Py_ssize_t* shape,
                         Py_ssize_t numel, void* ctx) except -1:
    """Apply `fn` over `numel` elements of the broadcast shape. ops[0] is the
    output, broadcast like the others (a stride-0 output accumulates: a
    reduction); the other operands are right-aligned against the shape and
    broadcast (checked by the caller). Large work releases the GIL and,
    when each output element is written once, is split over threads."""
    cdef Py_ssize_t s[MAX_OPERANDS]
    cdef char* p[MAX_OPERANDS]
    cdef bint flat = True
    cdef int k, nthreads
    if numel == 0:
        return 0
    for k in range(nops):
        p[k] = ops[k].data
        if ops[k].numel == 1:
            s[k] = 0
        elif ops[k].contiguous and ops[k].numel == numel:
            s[k] = 1
        elif k > 0 and one_element_broadcast(&ops[k]):
            s[k] = 0
        else:
            flat = False
    if numel < GIL_RELEASE_NUMEL:
        run_loops(fn, flat, p, s, nops, ops, ndim, shape, numel, ctx)
        return 0
    nthreads = threads_for(numel) if ops[0].numel == numel else 1
    with nogil:
        if nthreads > 1:
            run_parallel(fn, flat, p, s, nops, ops, ndim, shape, numel, ctx, nthreads)
        else:
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
        elif k > 0 and one_element_broadcast(&ops[k]):
            s[k] = 0
        else:
            flat = False
    run_loops(fn, flat, p, s, nops, ops, ndim, shape, numel, ctx)
    return 0


cdef inline void run_loops(RowFn fn, bint flat, char** p, Py_ssize_t* s, int nops, Operand* ops,
                           int ndim, const Py_ssize_t* shape, Py_ssize_t numel, void* ctx) noexcept nogil:
    cdef StridedPlan pl
    if flat:
        fn(p, s, numel, ctx)
    else:
        plan_strided(&pl, nops, ops, ndim, shape, numel)
        if plan_transposes(&pl):
            run_tiles(fn, &pl, 0, tile_blocks(&pl), ctx)
        else:
            run_rows(fn, &pl, 0, pl.rows, ctx)


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
