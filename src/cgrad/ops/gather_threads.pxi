# Large gathers over threads: advanced indexing by one index tensor
# (`a.flatten()[idx]`, index_select of a vector) and gather().
#
# gather() of two or more dims walks the index row by row (a row: its last
# dim): the offsets of the leading dims are worked out once a row, and the
# row is one typed loop (gather_row), instead of gather_walk's per-element
# loop over dims and byte copy. Each thread takes whole rows.
#
# Above GATHER_THREADS_NUMEL outputs, a gather by one contiguous int64
# index into a contiguous output is one fused pass, each thread a slice of
# the positions: read the index, check and wrap it, copy the element. (The
# general driver of index_kernels.pxi first writes two offset tables, three
# extra passes over memory.) An index out of range is reported as the serial
# walk reports it: the one at the lowest position. The output is a new
# tensor, so the elements copied before that point are never seen.

cdef enum:
    GATHER_THREADS_NUMEL = 1 << 16
    MAX_GATHER_THREADS = 64


cdef extern from *:
    """
    /* out[j] = a[v * stride] for j in [j0, j1), v = idx[j * istride], wrapped
       from [-size, 0) when `wrap` (indexing) or refused there (gather).
       Returns -1, or the first j whose index is out of range. */
    #define CG_GATHER_FLAT(NAME, T)                                                      \\
    static Py_ssize_t NAME(const T* a, Py_ssize_t stride, int64_t size, int wrap,        \\
                           const int64_t* idx, Py_ssize_t istride, T* out,               \\
                           Py_ssize_t j0, Py_ssize_t j1) {                               \\
        int64_t low = wrap ? -size : 0;                                                  \\
        for (Py_ssize_t j = j0; j < j1; j++) {                                           \\
            int64_t v = idx[j * istride];                                                \\
            if (v < low || v >= size) return j;                                          \\
            if (v < 0) v += size;                                                        \\
            out[j] = a[v * stride];                                                      \\
        }                                                                                \\
        return -1;                                                                       \\
    }
    CG_GATHER_FLAT(cg_gather_flat1, uint8_t)
    CG_GATHER_FLAT(cg_gather_flat2, uint16_t)
    CG_GATHER_FLAT(cg_gather_flat4, uint32_t)
    CG_GATHER_FLAT(cg_gather_flat8, uint64_t)
    """
    Py_ssize_t cg_gather_flat1(const uint8_t* a, Py_ssize_t stride, int64_t size, int wrap, const int64_t* idx,
                               Py_ssize_t istride, uint8_t* out, Py_ssize_t j0, Py_ssize_t j1) noexcept nogil
    Py_ssize_t cg_gather_flat2(const uint16_t* a, Py_ssize_t stride, int64_t size, int wrap, const int64_t* idx,
                               Py_ssize_t istride, uint16_t* out, Py_ssize_t j0, Py_ssize_t j1) noexcept nogil
    Py_ssize_t cg_gather_flat4(const uint32_t* a, Py_ssize_t stride, int64_t size, int wrap, const int64_t* idx,
                               Py_ssize_t istride, uint32_t* out, Py_ssize_t j0, Py_ssize_t j1) noexcept nogil
    Py_ssize_t cg_gather_flat8(const uint64_t* a, Py_ssize_t stride, int64_t size, int wrap, const int64_t* idx,
                               Py_ssize_t istride, uint64_t* out, Py_ssize_t j0, Py_ssize_t j1) noexcept nogil


cdef struct FlatGatherJob:
    const char* a
    Py_ssize_t stride       # in elements
    int64_t size
    bint wrap
    const int64_t* idx
    Py_ssize_t istride
    char* out
    Py_ssize_t count
    int isz
    Py_ssize_t bad[MAX_GATHER_THREADS]


cdef void flat_gather_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    cdef FlatGatherJob* j = <FlatGatherJob*>ctx
    cdef Py_ssize_t a, b
    chunk_range(j.count, t, nthreads, 64, &a, &b)
    if j.isz == 1:
        j.bad[t] = cg_gather_flat1(<const uint8_t*>j.a, j.stride, j.size, j.wrap, j.idx, j.istride,
                                   <uint8_t*>j.out, a, b)
    elif j.isz == 2:
        j.bad[t] = cg_gather_flat2(<const uint16_t*>j.a, j.stride, j.size, j.wrap, j.idx, j.istride,
                                   <uint16_t*>j.out, a, b)
    elif j.isz == 4:
        j.bad[t] = cg_gather_flat4(<const uint32_t*>j.a, j.stride, j.size, j.wrap, j.idx, j.istride,
                                   <uint32_t*>j.out, a, b)
    else:
        j.bad[t] = cg_gather_flat8(<const uint64_t*>j.a, j.stride, j.size, j.wrap, j.idx, j.istride,
                                   <uint64_t*>j.out, a, b)


cdef Py_ssize_t flat_gather(const char* a, Py_ssize_t stride, int64_t size, bint wrap, const int64_t* idx,
                            Py_ssize_t istride, char* out, Py_ssize_t count, int isz) noexcept:
    """out[j] = a[idx[j] * stride] for j < count (out contiguous), over threads.
    Returns -1, or the lowest position whose index is out of range."""
    cdef FlatGatherJob j
    cdef int nthreads = threads_for(count), t
    if nthreads > MAX_GATHER_THREADS:
        nthreads = MAX_GATHER_THREADS
    j.a = a
    j.stride = stride
    j.size = size
    j.wrap = wrap
    j.idx = idx
    j.istride = istride
    j.out = out
    j.count = count
    j.isz = isz
    with nogil:
        run_chunks(flat_gather_chunk, &j, nthreads)
    for t in range(nthreads):
        if j.bad[t] >= 0:
            return j.bad[t]
    return -1


cdef int adv_gather_flat(_AdvIndex ai, Tensor a, Tensor dense) except 0:
    """adv_run's gather when it is one fused pass: a single index tensor,
    contiguous, of as many elements as the result, no dims of `a` besides the
    indexed one, a contiguous result, and a large one. Returns 1 when done,
    2 when the case is not this one."""
    cdef Tensor t = None
    cdef int d, k = -1
    cdef Py_ssize_t at
    if ai.m != 1 or ai.nb < GATHER_THREADS_NUMEL or not dense._contiguous or dense._numel != ai.nb:
        return 2
    for d in range(a._ndim):
        if ai.idx[d] is not None:
            t = <Tensor>ai.idx[d]
            k = d
        elif a._shape[d] != 1:
            return 2
    if t is None or not t._contiguous or t._numel != ai.nb:
        return 2
    at = flat_gather(a._data, a._strides[k], a._shape[k], True, <const int64_t*>t._data, 1,
                     dense._data, ai.nb, ITEMSIZE[a._dtype])
    if at >= 0:
        raise IndexError(f"index {(<int64_t*>t._data)[at]} is out of bounds for dimension 0 "
                         f"with size {a._shape[k]}")
    return 1


# gather(): threads over the rows of the index

cdef Py_ssize_t gather_row(const copy_t* x, copy_t* o, const int64_t* idx, Py_ssize_t n,
                           Py_ssize_t istep, Py_ssize_t ostep, Py_ssize_t xstep, Py_ssize_t dstride,
                           int64_t limit) noexcept nogil:
    """o[k * ostep] = x[k * xstep + idx[k * istep] * dstride] for k < n (xstep
    0 when the row runs along the gathered dim). Returns -1, or the first k
    whose index is outside [0, limit)."""
    cdef Py_ssize_t k
    cdef int64_t v
    for k in range(n):
        v = idx[k * istep]
        if v < 0 or v >= limit:
            return k
        o[k * ostep] = x[k * xstep + v * dstride]
    return -1


cdef struct RowsJob:
    GatherGeo* g
    const int64_t* idx
    char* x
    char* o
    Py_ssize_t rows         # positions of the index's leading dims
    int itemsize
    Py_ssize_t bad[MAX_GATHER_THREADS]
    int64_t bad_value[MAX_GATHER_THREADS]


cdef Py_ssize_t gather_rows_range(GatherGeo* g, const int64_t* idx, char* x, char* o, Py_ssize_t r0,
                                  Py_ssize_t r1, int itemsize, int64_t* bad) noexcept nogil:
    """The gather of rows r0..r1-1 of the index (g.nd >= 2; a row: the last
    dim). Returns -1, or the position of the first index out of range (its
    value in bad[0])."""
    cdef Py_ssize_t pos[MAX_DIMS]
    cdef int last = g.nd - 1, d
    cdef Py_ssize_t n = g.shape[last], r, rest = r0, ioff, xoff, ooff, k
    cdef Py_ssize_t istep = g.istride[last], ostep = g.ostride[last]
    cdef Py_ssize_t xstep = 0 if g.dim == last else g.xstride[last], dstride = g.xstride[g.dim]
    for d in range(last - 1, -1, -1):
        pos[d] = rest % g.shape[d]
        rest = rest // g.shape[d]
    for r in range(r0, r1):
        ioff = 0
        xoff = 0
        ooff = 0
        for d in range(last):
            ioff += pos[d] * g.istride[d]
            ooff += pos[d] * g.ostride[d]
            if d != g.dim:
                xoff += pos[d] * g.xstride[d]
        if itemsize == 4:
            k = gather_row(<const uint32_t*>x + xoff, <uint32_t*>o + ooff, idx + ioff, n, istep, ostep,
                           xstep, dstride, g.limit)
        elif itemsize == 8:
            k = gather_row(<const uint64_t*>x + xoff, <uint64_t*>o + ooff, idx + ioff, n, istep, ostep,
                           xstep, dstride, g.limit)
        elif itemsize == 2:
            k = gather_row(<const uint16_t*>x + xoff, <uint16_t*>o + ooff, idx + ioff, n, istep, ostep,
                           xstep, dstride, g.limit)
        else:
            k = gather_row(<const uint8_t*>x + xoff, <uint8_t*>o + ooff, idx + ioff, n, istep, ostep,
                           xstep, dstride, g.limit)
        if k >= 0:
            bad[0] = idx[ioff + k * istep]
            return r * n + k
        d = last - 1
        while d >= 0:
            pos[d] += 1
            if pos[d] < g.shape[d]:
                break
            pos[d] = 0
            d -= 1
    return -1


cdef void rows_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    cdef RowsJob* j = <RowsJob*>ctx
    cdef Py_ssize_t a, b
    chunk_range(j.rows, t, nthreads, 1, &a, &b)
    j.bad[t] = gather_rows_range(j.g, j.idx, j.x, j.o, a, b, j.itemsize, &j.bad_value[t]) if b > a else -1


cdef struct WalkJob:
    GatherGeo* g
    const int64_t* idx
    char* x
    char* o
    Py_ssize_t numel
    int itemsize
    Py_ssize_t bad[MAX_GATHER_THREADS]
    int64_t bad_value[MAX_GATHER_THREADS]


cdef void walk_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    cdef WalkJob* j = <WalkJob*>ctx
    cdef Py_ssize_t a, b
    chunk_range(j.numel, t, nthreads, 64, &a, &b)
    j.bad[t] = gather_walk_range(j.g, j.idx, j.x, j.o, a, b, j.itemsize, -1, &j.bad_value[t])


cdef Py_ssize_t gather_threads(GatherGeo* g, const int64_t* idx, char* x, char* o, Py_ssize_t numel,
                               int itemsize, int64_t* bad) noexcept:
    """gather_walk's gather (add_dt -1) over threads: 1-d in one fused pass."""
    cdef WalkJob j
    cdef int nthreads = threads_for(numel), t
    cdef Py_ssize_t at
    if nthreads > MAX_GATHER_THREADS:
        nthreads = MAX_GATHER_THREADS
    if numel < GATHER_THREADS_NUMEL:
        with nogil:
            at = gather_walk(g, idx, x, o, numel, itemsize, -1, bad)
        return at
    if g.nd == 1:
        j.bad[0] = flat_gather(x, g.xstride[0], g.limit, False, idx, g.istride[0], o, numel, itemsize)
        if j.bad[0] >= 0:
            bad[0] = idx[j.bad[0] * g.istride[0]]
        return j.bad[0]
    if g.shape[g.nd - 1] > 0 and numel // g.shape[g.nd - 1] >= nthreads:
        return gather_rows_threads(g, idx, x, o, numel // g.shape[g.nd - 1], itemsize, nthreads, bad)
    j.g = g
    j.idx = idx
    j.x = x
    j.o = o
    j.numel = numel
    j.itemsize = itemsize
    with nogil:
        run_chunks(walk_chunk, &j, nthreads)
    for t in range(nthreads):
        if j.bad[t] >= 0:
            bad[0] = j.bad_value[t]
            return j.bad[t]
    return -1


cdef Py_ssize_t gather_rows_threads(GatherGeo* g, const int64_t* idx, char* x, char* o, Py_ssize_t rows,
                                    int itemsize, int nthreads, int64_t* bad) noexcept:
    """gather_threads by rows of the index (g.nd >= 2): the lowest bad
    position is in the lowest thread that met one."""
    cdef RowsJob j
    cdef int t
    j.g = g
    j.idx = idx
    j.x = x
    j.o = o
    j.rows = rows
    j.itemsize = itemsize
    with nogil:
        run_chunks(rows_chunk, &j, nthreads)
    for t in range(nthreads):
        if j.bad[t] >= 0:
            bad[0] = j.bad_value[t]
            return j.bad[t]
    return -1
