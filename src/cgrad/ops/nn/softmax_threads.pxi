# softmax and log_softmax of large contiguous float32/float64 tensors over
# threads (ops_softmax.pxi's nn_softmax_run per share): rows or outer
# blocks split, else column blocks of each outer index.

cdef struct SoftmaxJob:
    int dt
    char* out
    const char* x
    Py_ssize_t outer
    Py_ssize_t n
    Py_ssize_t inner
    bint log
    char* mx                # per column and thread: a max (8 bytes a column)
    double* sm              # per column and thread: a sum
    Py_ssize_t o
    int mode


cdef void softmax_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    cdef SoftmaxJob* j = <SoftmaxJob*>ctx
    cdef Py_ssize_t isz = ITEMSIZE[j.dt], a, b, off
    if j.mode == SPLIT_OUTER:
        chunk_range(j.outer, t, nthreads, 1, &a, &b)
        if b > a:
            off = a * j.n * j.inner * isz
            if j.inner == 1:
                nn_softmax_run(j.dt, j.out + off, j.x + off, b - a, j.n, 1, j.log, NULL, NULL, 1)
            else:
                nn_softmax_run(j.dt, j.out + off, j.x + off, b - a, j.n, j.inner, j.log,
                               j.mx + t * j.inner * 8, j.sm + t * j.inner, j.inner)
    else:
        chunk_range(j.inner, t, nthreads, COL_ALIGN, &a, &b)
        if b > a:
            off = (j.o * j.n * j.inner + a) * isz
            nn_softmax_run(j.dt, j.out + off, j.x + off, 1, j.n, b - a, j.log,
                           j.mx + a * 8, j.sm + a, j.inner)


cdef int softmax_threads(int dt, char* out, const char* x, Py_ssize_t outer, Py_ssize_t n,
                         Py_ssize_t inner, bint log) except -1:
    """nn_softmax_run over threads: rows (or outer blocks) split, else
    column blocks of each outer index."""
    cdef SoftmaxJob j
    cdef int nthreads = threads_for(outer * n * inner)
    cdef Py_ssize_t o
    j.dt = dt
    j.out = out
    j.x = x
    j.outer = outer
    j.n = n
    j.inner = inner
    j.log = log
    j.mode = SPLIT_OUTER if inner == 1 or outer >= 4 * nthreads else SPLIT_COLS
    j.mx = NULL
    j.sm = NULL
    if inner > 1:
        j.mx = <char*>malloc(nthreads * inner * 8)
        j.sm = <double*>malloc(nthreads * inner * sizeof(double))
        if j.mx == NULL or j.sm == NULL:
            free(j.mx)
            free(j.sm)
            raise MemoryError()
    with nogil:
        if j.mode == SPLIT_OUTER:
            run_chunks(softmax_chunk, &j, nthreads)
        else:
            for o in range(outer):
                j.o = o
                run_chunks(softmax_chunk, &j, nthreads)
    free(j.mx)
    free(j.sm)
    return 0
