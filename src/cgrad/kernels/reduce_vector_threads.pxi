# Full reductions of one long vector (outer = inner = 1) over threads:
# amax/amin, var/std and logsumexp. Each piece reduces a slice of the n
# elements; the partial results are combined in piece order, so the result
# does not depend on which thread ran what.

cdef struct VecJob:
    KernelArgs* a
    Py_ssize_t isz
    double* part            # two per thread
    double center           # var: the mean; logsumexp: the max
    int stage


cdef void vec_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    cdef VecJob* j = <VecJob*>ctx
    cdef KernelArgs sub = j.a[0]
    cdef Py_ssize_t a, b
    cdef const char* x
    chunk_range(sub.n, t, nthreads, CG_SUM_BLOCK, &a, &b)
    x = sub.x + a * j.isz
    if sub.kind == K_EXTREME or (sub.kind == K_LSE and j.stage == 0):
        # the slice's extreme, in x's dtype, into part[2t] (nothing for an empty slice)
        j.part[2 * t + 1] = b > a
        if b > a:
            sub.is_max = sub.is_max if sub.kind == K_EXTREME else True
            if sub.dtype == F32 or sub.dtype == F64:
                extreme_row(sub.dtype, x, b - a, sub.is_max, <char*>(j.part + 2 * t))
            else:
                sub.x = <char*>x
                sub.n = b - a
                sub.out = <char*>(j.part + 2 * t)
                sub.idx = NULL
                extreme_dispatch(&sub)
    elif j.stage == 0:
        j.part[2 * t] = sum_row(sub.dtype, x, b - a) if b > a else 0
    elif sub.kind == K_LSE:
        if sub.dtype == F32:
            j.part[2 * t] = cg_exp_sum_f32(<const float*>x, b - a, <float>j.center)
        else:
            j.part[2 * t] = cg_exp_sum_f64(<const double*>x, b - a, j.center)
    else:
        j.part[2 * t] = sq_dev_row(sub.dtype, x, b - a, j.center) if b > a else 0


cdef bint vector_threads(KernelArgs* a) noexcept:
    """A full reduction of a vector large enough to split its n elements."""
    return a.outer == 1 and a.inner == 1 and threads_for(a.n) > 1


cdef int run_vector_threads(KernelArgs* a) except -1:
    """a.kind (K_EXTREME without indices, K_VAR, K_STD, K_LSE; float32 or
    float64 except for K_EXTREME) of one long vector, over threads."""
    cdef VecJob j
    cdef int nthreads = threads_for(a.n), t, kept = 0
    cdef int npieces = pieces_for(nthreads)
    cdef double part[2 * MAX_PIECES]
    cdef double s = 0, v, divisor
    cdef float f
    cdef KernelArgs comb
    cdef char vals[8 * MAX_PIECES]
    j.a = a
    j.isz = ITEMSIZE[a.dtype]
    j.part = part
    j.stage = 0
    with nogil:
        run_pieces(vec_chunk, &j, npieces, nthreads)
    if a.kind == K_EXTREME or a.kind == K_LSE:
        # the extreme of the slices' extremes (NaN winning, as in one pass)
        for t in range(npieces):
            if part[2 * t + 1]:
                memcpy(vals + kept * j.isz, <char*>(part + 2 * t), j.isz)
                kept += 1
        comb = a[0]
        comb.x = vals
        comb.n = kept
        comb.idx = NULL
        comb.is_max = a.is_max if a.kind == K_EXTREME else True
        if a.kind == K_EXTREME:
            extreme_dispatch(&comb)
            return 0
        comb.out = vals            # the max in x's dtype, read back by memcpy
        extreme_dispatch(&comb)
        if a.dtype == F32:
            memcpy(&f, vals, sizeof(float))
            j.center = f
        else:
            memcpy(&v, vals, sizeof(double))
            j.center = v
        if j.center == cmath.INFINITY or j.center == -cmath.INFINITY:
            j.center = 0
    else:
        for t in range(npieces):
            s += part[2 * t]
        j.center = s / a.n
    j.stage = 1
    with nogil:
        run_pieces(vec_chunk, &j, npieces, nthreads)
    s = 0
    for t in range(npieces):
        s += part[2 * t]
    if a.kind == K_LSE:
        v = cmath.log(s) + j.center
    else:
        divisor = a.n - a.correction if a.n - a.correction > 0 else 0.0
        v = s / divisor
        if a.kind == K_STD:
            v = cmath.sqrt(v)
    if a.dtype == F32:
        (<float*>a.out)[0] = <float>v
    else:
        (<double*>a.out)[0] = v
    return 0
