# The drivers that run one row kernel over whole tensors, no autograd:
# a unary row into a result, a dtype conversion, a (broadcast, converting)
# copy. The ops use them, and so do the select, optimizer and attention
# kernels, which is why they sit in the kernels layer. Large same-dtype
# copies into a fresh buffer (contiguous(), clone, cat/stack) take
# copy_same_dtype's block and streaming paths (kernels/copy_blocks.h), and
# large whole-row gathers (index_select(0, ...)) gather_rows_fresh.

cdef extern from "kernels/copy_blocks.h" nogil:
    void cg_copy_bytes_to(char* dst, const char* src, size_t nbytes, int stream)
    void cg_fill_bytes_to(char* dst, size_t nbytes, const char* value, size_t isz, int stream)
    void cg_copy_fence()
    int cg_tile_cols(int isz)
    void cg_transpose_cols(char* d, Py_ssize_t dld, const char* s, Py_ssize_t sld, Py_ssize_t nrows,
                           Py_ssize_t c0, Py_ssize_t c1, int isz, int stream)

cdef enum:
    # from this many bytes on, a same-dtype copy into a fresh buffer takes
    # copy_same_dtype (below it the row kernels, whose tiles fit in cache)
    BLOCK_COPY_MIN_BYTES = 1 << 20
    # rows shorter than this keep the row kernels (a call per row costs more)
    BLOCK_COPY_MIN_ROW_BYTES = 256
    COPY_FLAT = 0         # one dense run of bytes each
    COPY_ROWS = 1         # rows: dst unit-stride, src unit-stride or one value (expanded)
    COPY_TRANSPOSE = 2    # 2-d slabs, dst unit-stride along one dim and src along the other
    # (transposes take copy_blocks.h only by streaming stores: with ordinary
    # stores its scattered destination pieces are slower than the row
    # kernels' tiles)


cdef struct CopyJob:
    StridedPlan pl
    int kind
    int isz
    int stream
    Py_ssize_t units          # FLAT: bytes; ROWS: rows; TRANSPOSE: slabs x column strips
    Py_ssize_t nrows          # TRANSPOSE: rows of a slab (after any swap), ncols its columns
    Py_ssize_t ncols
    Py_ssize_t dld            # TRANSPOSE: items between dst rows / src columns
    Py_ssize_t sld
    int strip                 # TRANSPOSE: columns of a strip


cdef inline void copy_row_pointers(const StridedPlan* pl, Py_ssize_t row, int lastdim, char** p) noexcept nogil:
    """p[k]: operand k at the start of outer index `row` over dims 0..lastdim-1."""
    cdef Py_ssize_t idx
    cdef int d, k
    for k in range(2):
        p[k] = pl.base[k]
    for d in range(lastdim - 1, -1, -1):
        idx = row % pl.sh[d]
        row = row // pl.sh[d]
        for k in range(2):
            p[k] += idx * pl.st[k][d]


cdef void copy_part(CopyJob* j, Py_ssize_t u0, Py_ssize_t u1) noexcept nogil:
    """Units u0..u1-1 of a copy job."""
    cdef char* p[2]
    cdef Py_ssize_t u, strips, slab, c0, c1
    cdef const StridedPlan* pl = &j.pl
    if j.kind == COPY_FLAT:
        cg_copy_bytes_to(pl.base[0] + u0, pl.base[1] + u0, u1 - u0, j.stream)
    elif j.kind == COPY_ROWS:
        for u in range(u0, u1):
            copy_row_pointers(pl, u, pl.nd - 1, p)
            if pl.inner_s[1] == 0:
                cg_fill_bytes_to(p[0], pl.n * j.isz, p[1], j.isz, j.stream)
            else:
                cg_copy_bytes_to(p[0], p[1], pl.n * j.isz, j.stream)
    else:
        strips = (j.ncols + j.strip - 1) // j.strip
        u = u0
        while u < u1:
            slab = u // strips
            c0 = (u % strips) * j.strip
            # this slab's strips within the part, in one call
            c1 = min(j.ncols, c0 + (u1 - u) * j.strip)
            copy_row_pointers(pl, slab, pl.nd - 2, p)
            cg_transpose_cols(p[0], j.dld, p[1], j.sld, j.nrows, c0, c1, j.isz, j.stream)
            u += (c1 - c0 + j.strip - 1) // j.strip
    if j.stream:
        cg_copy_fence()


cdef inline bint operands_overlap(const StridedPlan* pl) noexcept nogil:
    """Whether the bytes the two operands span intersect."""
    cdef char* lo[2]
    cdef char* hi[2]
    cdef Py_ssize_t ext
    cdef int k, d
    for k in range(2):
        lo[k] = pl.base[k]
        hi[k] = pl.base[k] + pl.itemsize[k]
        for d in range(pl.nd):
            ext = (pl.sh[d] - 1) * pl.st[k][d]
            if ext < 0:
                lo[k] += ext
            else:
                hi[k] += ext
    return lo[0] < hi[1] and lo[1] < hi[0]


cdef bint copy_same_dtype(Operand* ops, int ndim, const Py_ssize_t* shape, Py_ssize_t numel) noexcept nogil:
    """ops[0][...] = ops[1] (same itemsize, ops[1] broadcast to shape) by
    copy_blocks.h's streaming and block copies, over threads. False when
    the copy is not one of their shapes (the caller runs the row kernels):
    small, dst not written once per element, operands overlapping, rows
    too short, or strides neither kind handles."""
    cdef CopyJob j
    cdef StridedPlan* pl = &j.pl
    cdef Py_ssize_t nbytes, per, t, start, count
    cdef int nthreads, d, k
    j.isz = ops[0].itemsize
    nbytes = numel * j.isz
    if nbytes < BLOCK_COPY_MIN_BYTES or ops[1].itemsize != j.isz:
        return False
    plan_strided(pl, 2, ops, ndim, shape, numel)
    for d in range(pl.nd):
        if pl.st[0][d] == 0:
            return False
    if operands_overlap(pl):
        return False
    if pl.nd == 1 and pl.inner_s[0] == 1 and pl.inner_s[1] == 1:
        j.kind = COPY_FLAT
        j.units = nbytes
    elif plan_transposes(pl):
        j.kind = COPY_TRANSPOSE
        j.strip = cg_tile_cols(j.isz)
        k = pl.nd - 2
        if pl.inner_s[0] == 1 and pl.st[1][k] == j.isz:
            j.nrows = pl.sh[k]
            j.ncols = pl.n
            j.dld = pl.st[0][k] // j.isz
            j.sld = pl.inner_s[1]
        elif pl.st[0][k] == j.isz and pl.inner_s[1] == 1:
            # dst walks the columns: the same copy with rows and columns swapped
            j.nrows = pl.n
            j.ncols = pl.sh[k]
            j.dld = pl.inner_s[0]
            j.sld = pl.st[1][k] // j.isz
        else:
            return False
        # streaming stores only (see COPY_TRANSPOSE), of whole lines
        if nbytes < STREAM_FILL_BYTES or (<size_t>pl.base[0]) % 64 != 0 or (j.dld * j.isz) % 64 != 0:
            return False
        for d in range(pl.nd - 2):
            if pl.st[0][d] % 64 != 0:
                return False
        j.units = (pl.rows // pl.sh[k]) * ((j.ncols + j.strip - 1) // j.strip)
    elif pl.inner_s[0] == 1 and (pl.inner_s[1] == 1 or pl.inner_s[1] == 0) \
            and pl.n * j.isz >= BLOCK_COPY_MIN_ROW_BYTES:
        j.kind = COPY_ROWS
        j.units = pl.rows
    else:
        return False
    # streaming stores pay off past the caches, on pages already in memory
    # (fresh ones fault in faster by ordinary stores: stream_fill.h)
    j.stream = nbytes >= STREAM_FILL_BYTES and (j.kind == COPY_TRANSPOSE or cg_page_resident(pl.base[0]))
    nthreads = <int>min(<Py_ssize_t>_num_threads, max(nbytes // PARALLEL_BYTES, 1))
    if j.kind == COPY_FLAT:
        # whole 64-byte lines per thread
        per = ((nbytes + nthreads - 1) // nthreads + 63) & ~(<Py_ssize_t>63)
    else:
        nthreads = <int>min(<Py_ssize_t>nthreads, j.units)
        per = (j.units + nthreads - 1) // nthreads
    if nthreads <= 1:
        copy_part(&j, 0, j.units)
        return True
    for t in prange(nthreads, num_threads=nthreads, schedule="static"):
        start = t * per
        count = min(per, j.units - start)
        if count > 0:
            copy_part(&j, start, start + count)
    return True


cdef inline int run_unary(RowFn fn, Tensor out, Tensor x) except -1:
    cdef Operand ops[2]
    ops[0] = operand_of(out)
    ops[1] = operand_of(x)
    return run_elementwise(fn, 2, ops, out._ndim, out._shape, out._numel, NULL)


cdef struct RowGatherJob:
    char* out
    const char* src
    const int64_t* src_rows     # element offsets of each row in src
    const int64_t* out_rows     # and in out
    Py_ssize_t nrows
    Py_ssize_t row_bytes
    int isz
    int stream


cdef void row_gather_part(RowGatherJob* j, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    cdef Py_ssize_t r
    for r in range(r0, r1):
        cg_copy_bytes_to(j.out + j.out_rows[r] * j.isz, j.src + j.src_rows[r] * j.isz, j.row_bytes, j.stream)
    if j.stream:
        cg_copy_fence()


cdef bint gather_rows_fresh(char* out, const int64_t* out_rows, const char* src, const int64_t* src_rows,
                            Py_ssize_t nrows, Py_ssize_t row_n, int isz) noexcept nogil:
    """out[out_rows[r] + i] = src[src_rows[r] + i] for i < row_n, r < nrows
    (offsets in items; out a fresh buffer the rows do not overlap in): the
    rows of an index_select / row indexing, over threads and by streaming
    stores when large (as copy_same_dtype). False when small or the rows
    are short (the caller's loop)."""
    cdef RowGatherJob j
    cdef Py_ssize_t nbytes = nrows * row_n * isz, per, t, start, count
    cdef int nthreads
    if nbytes < BLOCK_COPY_MIN_BYTES or row_n * isz < BLOCK_COPY_MIN_ROW_BYTES:
        return False
    j.out = out
    j.src = src
    j.src_rows = src_rows
    j.out_rows = out_rows
    j.nrows = nrows
    j.row_bytes = row_n * isz
    j.isz = isz
    j.stream = nbytes >= STREAM_FILL_BYTES and cg_page_resident(out)
    nthreads = <int>min(<Py_ssize_t>_num_threads, max(nbytes // PARALLEL_BYTES, 1), nrows)
    if nthreads <= 1:
        row_gather_part(&j, 0, nrows)
        return True
    per = (nrows + nthreads - 1) // nthreads
    for t in prange(nthreads, num_threads=nthreads, schedule="static"):
        start = t * per
        count = min(per, nrows - start)
        if count > 0:
            row_gather_part(&j, start, start + count)
    return True


cdef bint copy_fresh(Tensor dst, Tensor src) except -1:
    """dst[...] = src by copy_same_dtype, src broadcast to dst's shape and of
    its dtype, dst a buffer no other thread writes: False when not done."""
    cdef Operand ops[2]
    cdef bint done
    ops[0] = operand_of(dst)
    ops[1] = operand_of(src)
    with nogil:
        done = copy_same_dtype(ops, dst._ndim, dst._shape, dst._numel)
    return done


cdef Tensor cast_tensor(Tensor x, int dt):
    """A contiguous copy of x as dtype dt (no history)."""
    cdef Tensor out = new_tensor(x._ndim, x._shape, dt)
    if dt == x._dtype and x._numel * ITEMSIZE[dt] >= BLOCK_COPY_MIN_BYTES and copy_fresh(out, x):
        return out
    run_unary(CAST_ROWS[x._dtype][dt], out, x)
    return out


cdef Tensor contiguous_copy(Tensor x):
    return cast_tensor(x, x._dtype)


cdef int copy_into(Tensor dst, Tensor src) except -1:
    """dst[...] = src, src broadcast to dst's shape, converted to dst's dtype."""
    cdef Operand ops[2]
    ops[0] = operand_of(dst)
    ops[1] = operand_of(src)
    return run_elementwise(CAST_ROWS[src._dtype][dst._dtype], 2, ops, dst._ndim, dst._shape,
                           dst._numel, NULL)
