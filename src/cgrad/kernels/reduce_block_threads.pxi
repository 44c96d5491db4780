# The [outer, n, inner] kernels of select_kernels.pxi (a KernelArgs each:
# amax/amin, max/min(dim), var/std, logsumexp) over threads when large:
# outer blocks or column blocks per thread (reduce_threads.pxi's split),
# run by reduce_rows.h's vectorised kernels where they cover the work.

cdef struct BlockJob:
    DispatchFn fn
    KernelArgs* a
    Py_ssize_t isz          # item sizes of x and out
    Py_ssize_t osz
    Py_ssize_t acc_cols     # float64 scratch per column the kernel uses
    Py_ssize_t o
    int mode


cdef void block_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    """Share t of nthreads: a thread's, or a piece's of rows (run_pieces)."""
    cdef BlockJob* j = <BlockJob*>ctx
    cdef KernelArgs sub = j.a[0]
    cdef Py_ssize_t a, b, n = sub.n, inner = sub.inner
    if j.mode == SPLIT_OUTER:
        chunk_range(sub.outer, t, nthreads, 1, &a, &b)
        if b <= a:
            return
        sub.x = sub.x + a * n * inner * j.isz
        sub.out = sub.out + a * inner * j.osz
        if sub.idx != NULL:
            sub.idx = sub.idx + a * inner
        if sub.acc != NULL:
            sub.acc = sub.acc + t * j.acc_cols * inner
        sub.outer = b - a
    else:
        chunk_range(inner, t, nthreads, COL_ALIGN, &a, &b)
        if b <= a:
            return
        sub.x = sub.x + (j.o * n * inner + a) * j.isz
        sub.out = sub.out + (j.o * inner + a) * j.osz
        if sub.idx != NULL:
            sub.idx = sub.idx + j.o * inner + a
        if sub.acc != NULL:
            sub.acc = sub.acc + j.acc_cols * a
        sub.outer = 1
        sub.inner = b - a
        sub.ld = inner
    j.fn(&sub)


cdef int block_threads(KernelArgs* a) noexcept:
    """The threads a KernelArgs kernel runs on: 1 when small, or when the
    work is a few narrow outputs (the caller's SPLIT_N, if any, takes it)."""
    cdef int nthreads = threads_for(a.outer * a.n * a.inner)
    if nthreads > 1 and split_mode(a.outer, a.inner, nthreads) == SPLIT_N:
        return 1
    return nthreads


cdef inline bint block_rows_pieces(KernelArgs* a, int nthreads) noexcept nogil:
    """Rows (inner == 1) split over threads go out in pieces (run_pieces):
    their per-piece scratch is a few doubles. Wider outer blocks keep one
    static share per thread, whose scratch (a row of columns) is large."""
    return nthreads > 1 and a.inner == 1 and split_mode(a.outer, a.inner, nthreads) == SPLIT_OUTER


cdef Py_ssize_t block_scratch(KernelArgs* a, Py_ssize_t acc_cols) noexcept:
    """The float64 scratch run_block_threads needs: acc_cols per column and
    thread (per piece for rows)."""
    cdef int nthreads = block_threads(a)
    if block_rows_pieces(a, nthreads):
        return acc_cols * a.inner * pieces_for(nthreads)
    return acc_cols * a.inner * nthreads


cdef inline bint rows_kernel_covers(KernelArgs* a) noexcept nogil:
    """reduce_rows.h has a vectorised kernel for a: max/min without indices,
    logsumexp, or var/std of at least one element, of float32 or float64."""
    if a.dtype != F32 and a.dtype != F64:
        return False
    if a.kind == K_VAR or a.kind == K_STD:
        return a.n > 0
    return (a.kind == K_EXTREME and a.idx == NULL) or a.kind == K_LSE


cdef inline double sq_dev_row(int dt, const char* x, Py_ssize_t n, double m) noexcept nogil:
    """The float64 sum of (x[i] - m)^2 over a float32/float64 row of n."""
    if dt == F32:
        return cg_sqdev_row_f32(<const float*>x, n, m)
    return cg_sqdev_row_f64(<const double*>x, n, m)


cdef void var_rows_run(KernelArgs* a, const char* x, char* out) noexcept nogil:
    """var or std (a.kind) of one outer index of a (n >= 1): a row
    (inner == 1) or columns (row stride a.ld; a.acc: 2 * inner doubles)."""
    cdef Py_ssize_t i, n = a.n, inner = a.inner
    cdef double divisor = n - a.correction if n - a.correction > 0 else 0.0
    cdef double v
    cdef double* m2 = a.acc + inner
    if inner == 1:
        v = sq_dev_row(a.dtype, x, n, sum_row(a.dtype, x, n) / n) / divisor
        store_var(a, out, 0, v)
        return
    if a.dtype == F32:
        cg_var_cols_f32(<const float*>x, n, a.ld, inner, a.acc, m2)
    else:
        cg_var_cols_f64(<const double*>x, n, a.ld, inner, a.acc, m2)
    for i in range(inner):
        store_var(a, out, i, m2[i] / divisor)


cdef inline void store_var(KernelArgs* a, char* out, Py_ssize_t i, double v) noexcept nogil:
    if a.kind == K_STD:
        v = cmath.sqrt(v)
    if a.dtype == F32:
        (<float*>out)[i] = <float>v
    else:
        (<double*>out)[i] = v


cdef inline void extreme_row(int dt, const char* x, Py_ssize_t n, bint is_max, char* out) noexcept nogil:
    """The max or min of a float32/float64 row of n >= 1, into out[0]."""
    if dt == F32:
        (<float*>out)[0] = cg_max_row_f32(<const float*>x, n) if is_max else cg_min_row_f32(<const float*>x, n)
    elif is_max:
        (<double*>out)[0] = cg_max_row_f64(<const double*>x, n)
    else:
        (<double*>out)[0] = cg_min_row_f64(<const double*>x, n)


cdef void rows_dispatch(KernelArgs* a) noexcept nogil:
    """A KernelArgs kernel (as extreme_dispatch / reduce_dispatch, for what
    rows_kernel_covers) on reduce_rows.h's kernels: each outer index's row
    (inner == 1) or block of columns (row stride a.ld). logsumexp of columns
    keeps a max and a sum per column in a.acc (2 * inner doubles)."""
    cdef Py_ssize_t o, i, isz = ITEMSIZE[a.dtype], n = a.n, inner = a.inner
    cdef const char* x
    cdef char* out
    cdef bint f32 = a.dtype == F32
    for o in range(a.outer):
        x = a.x + o * n * a.ld * isz
        out = a.out + o * inner * isz
        if a.kind == K_VAR or a.kind == K_STD:
            var_rows_run(a, x, out)
        elif a.kind == K_LSE and n == 0:
            for i in range(inner):
                if f32:
                    (<float*>out)[i] = -cmath.INFINITY
                else:
                    (<double*>out)[i] = -cmath.INFINITY
        elif a.kind == K_LSE and inner == 1:
            if f32:
                (<float*>out)[0] = cg_lse_row_f32(<const float*>x, n)
            else:
                (<double*>out)[0] = cg_lse_row_f64(<const double*>x, n)
        elif a.kind == K_LSE:
            if f32:
                cg_lse_cols_f32(<const float*>x, n, a.ld, inner, <float*>out, <float*>a.acc, a.acc + inner)
            else:
                cg_lse_cols_f64(<const double*>x, n, a.ld, inner, <double*>out, a.acc, a.acc + inner)
        elif inner == 1:
            extreme_row(a.dtype, x, n, a.is_max, out)
        elif f32:
            if a.is_max:
                cg_max_cols_f32(<const float*>x, n, a.ld, inner, <float*>out)
            else:
                cg_min_cols_f32(<const float*>x, n, a.ld, inner, <float*>out)
        elif a.is_max:
            cg_max_cols_f64(<const double*>x, n, a.ld, inner, <double*>out)
        else:
            cg_min_cols_f64(<const double*>x, n, a.ld, inner, <double*>out)


cdef int run_block_threads(DispatchFn fn, KernelArgs* a, Py_ssize_t isz, Py_ssize_t osz,
                           Py_ssize_t acc_cols) except -1:
    """run_dispatch split over threads (outer blocks or column blocks) when
    the work is large; a.acc holds block_scratch(a, acc_cols) doubles."""
    cdef BlockJob j
    cdef int nthreads = block_threads(a)
    cdef Py_ssize_t o
    if a.outer * a.n * a.inner >= LARGE_REDUCE_NUMEL and rows_kernel_covers(a):
        fn = rows_dispatch
    if nthreads == 1:
        run_dispatch(fn, a)
        return 0
    j.fn = fn
    j.a = a
    j.isz = isz
    j.osz = osz
    j.acc_cols = acc_cols
    j.mode = split_mode(a.outer, a.inner, nthreads)
    with nogil:
        if block_rows_pieces(a, nthreads):
            run_pieces(block_chunk, &j, pieces_for(nthreads), nthreads)
        elif j.mode == SPLIT_OUTER:
            run_chunks(block_chunk, &j, nthreads)
        else:
            for o in range(a.outer):
                j.o = o
                run_chunks(block_chunk, &j, nthreads)
    return 0
