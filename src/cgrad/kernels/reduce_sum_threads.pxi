# sum and mean of large contiguous float32/float64 tensors over threads
# (sum_large, called by ops_reduce.pxi's sum_kernel above its size
# threshold), split as reduce_threads.pxi describes. float32 sums
# accumulate in float64 (reduce_rows.h's row kernel; the column kernels
# below add each column in row order), so the result does not depend on
# the number of threads for a reduction over a leading dim.

cdef extern from *:
    """
    #if !defined(CGRAD_RT_CLONES)
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define CGRAD_RT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define CGRAD_RT_CLONES
    #endif
    #endif
    /* 4 KiB ahead, as reduce_rows.h's CG_PREFETCH (see there) */
    #if defined(__GNUC__) || defined(__clang__)
    #define CG_SUM_PREFETCH(p) __builtin_prefetch((const char*)(p) + 4096)
    #else
    #define CG_SUM_PREFETCH(p) ((void)0)
    #endif
    /* float64 sum of x[0:n]: sixteen lanes within blocks of CG_SUM_BLOCK
       elements, the lanes added pairwise, the block totals in order (the
       float32 one is reduce_rows.h's) */
    #define CG_SUM_ROW(NAME, T)                                                     \\
    CGRAD_RT_CLONES static double NAME(const T* x, Py_ssize_t n) {                  \\
        double total = 0;                                                           \\
        Py_ssize_t b = 0;                                                           \\
        while (b < n) {                                                             \\
            Py_ssize_t e = n - b > CG_SUM_BLOCK ? b + CG_SUM_BLOCK : n, i = b;      \\
            double a[16] = {0};                                                     \\
            int j;                                                                  \\
            for (; i + 16 <= e; i += 16) {                                          \\
                CG_SUM_PREFETCH(x + i);                                             \\
                CG_SUM_PREFETCH(x + i + 8);                                         \\
                for (j = 0; j < 16; j++) a[j] += (double)x[i + j];                  \\
            }                                                                       \\
            for (j = 0; j < 8; j++) a[j] += a[j + 8];                               \\
            for (j = 0; j < 4; j++) a[j] += a[j + 4];                               \\
            double s = (a[0] + a[1]) + (a[2] + a[3]);                               \\
            for (; i < e; i++) s += (double)x[i];                                   \\
            total += s;                                                             \\
            b = e;                                                                  \\
        }                                                                           \\
        return total;                                                               \\
    }
    CG_SUM_ROW(cg_sum_row_f64, double)

    /* acc[i] += x[k * ld + i] for k < n, i < w, row after row (four rows a
       pass, added in row order: the same roundings as one at a time) */
    #define CG_SUM_COLS(NAME, T)                                                    \\
    CGRAD_RT_CLONES static void NAME(const T* restrict x, Py_ssize_t n, Py_ssize_t ld, \\
                                     Py_ssize_t w, double* restrict acc) {           \\
        Py_ssize_t k = 0, i;                                                        \\
        for (; k + 4 <= n; k += 4) {                                                \\
            const T* r0 = x + k * ld;                                               \\
            const T* r1 = r0 + ld;                                                  \\
            const T* r2 = r1 + ld;                                                  \\
            const T* r3 = r2 + ld;                                                  \\
            for (i = 0; i < w; i++)                                                 \\
                acc[i] = (((acc[i] + (double)r0[i]) + (double)r1[i]) + (double)r2[i])  \\
                         + (double)r3[i];                                           \\
        }                                                                           \\
        for (; k < n; k++) {                                                        \\
            const T* r0 = x + k * ld;                                               \\
            for (i = 0; i < w; i++) acc[i] += (double)r0[i];                        \\
        }                                                                           \\
    }
    CG_SUM_COLS(cg_sum_cols_f32, float)
    CG_SUM_COLS(cg_sum_cols_f64, double)
    """
    double cg_sum_row_f64(const double* x, Py_ssize_t n) noexcept nogil
    void cg_sum_cols_f32(const float* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* acc) noexcept nogil
    void cg_sum_cols_f64(const double* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* acc) noexcept nogil


cdef struct SumJob:
    int dt                  # F32 or F64: input and output
    const char* x
    char* out
    Py_ssize_t outer
    Py_ssize_t n
    Py_ssize_t inner
    double div              # 1 for a sum, the count for a mean
    double* acc             # float64 scratch: npieces * inner (SPLIT_COLS: inner)
    Py_ssize_t o            # the outer index SPLIT_COLS / SPLIT_N work on
    int mode
    int nthreads
    int npieces             # SPLIT_OUTER and SPLIT_N: pieces (run_pieces); SPLIT_COLS: threads


cdef inline double sum_row(int dt, const char* x, Py_ssize_t n) noexcept nogil:
    if dt == F32:
        return cg_sum_row_f32(<const float*>x, n)
    return cg_sum_row_f64(<const double*>x, n)


cdef inline void sum_cols(int dt, const char* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w,
                          double* acc) noexcept nogil:
    if dt == F32:
        cg_sum_cols_f32(<const float*>x, n, ld, w, acc)
    else:
        cg_sum_cols_f64(<const double*>x, n, ld, w, acc)


cdef inline void store_sums(int dt, char* out, const double* acc, Py_ssize_t w, double div) noexcept nogil:
    cdef Py_ssize_t i
    if dt == F32:
        for i in range(w):
            (<float*>out)[i] = <float>(acc[i] / div)
    else:
        for i in range(w):
            (<double*>out)[i] = acc[i] / div


cdef void sum_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    """Piece t of nthreads (of j.npieces; SPLIT_COLS: thread t)."""
    cdef SumJob* j = <SumJob*>ctx
    cdef Py_ssize_t isz = ITEMSIZE[j.dt], a, b, o
    cdef double* acc
    cdef double s
    if j.mode == SPLIT_OUTER:
        chunk_range(j.outer, t, nthreads, 1, &a, &b)
        if j.inner == 1:
            for o in range(a, b):
                s = sum_row(j.dt, j.x + o * j.n * isz, j.n)
                store_sums(j.dt, j.out + o * isz, &s, 1, j.div)
            return
        acc = j.acc + t * j.inner
        for o in range(a, b):
            memset(acc, 0, j.inner * sizeof(double))
            sum_cols(j.dt, j.x + o * j.n * j.inner * isz, j.n, j.inner, j.inner, acc)
            store_sums(j.dt, j.out + o * j.inner * isz, acc, j.inner, j.div)
    elif j.mode == SPLIT_COLS:
        chunk_range(j.inner, t, nthreads, COL_ALIGN, &a, &b)
        if b > a:
            acc = j.acc + a
            memset(acc, 0, (b - a) * sizeof(double))
            sum_cols(j.dt, j.x + (j.o * j.n * j.inner + a) * isz, j.n, j.inner, b - a, acc)
            store_sums(j.dt, j.out + (j.o * j.inner + a) * isz, acc, b - a, j.div)
    else:
        # thread t's rows of outer index o, partial sums into acc + t * inner
        chunk_range(j.n, t, nthreads, CG_SUM_BLOCK if j.inner == 1 else 1, &a, &b)
        acc = j.acc + t * j.inner
        memset(acc, 0, j.inner * sizeof(double))
        if b <= a:
            return
        if j.inner == 1:
            acc[0] = sum_row(j.dt, j.x + (j.o * j.n + a) * isz, b - a)
        else:
            sum_cols(j.dt, j.x + (j.o * j.n + a) * j.inner * isz, b - a, j.inner, j.inner, acc)


cdef void sum_job_run(SumJob* j) noexcept nogil:
    cdef Py_ssize_t o, i, isz = ITEMSIZE[j.dt]
    cdef int t
    if j.mode == SPLIT_OUTER:
        run_pieces(sum_chunk, j, j.npieces, j.nthreads)
        return
    for o in range(j.outer):
        j.o = o
        if j.mode == SPLIT_COLS:
            # one block of columns per thread: narrower blocks would walk
            # shorter runs of each row
            run_chunks(sum_chunk, j, j.nthreads)
            continue
        run_pieces(sum_chunk, j, j.npieces, j.nthreads)
        if j.mode == SPLIT_N:
            for t in range(1, j.npieces):
                for i in range(j.inner):
                    j.acc[i] += j.acc[t * j.inner + i]
            store_sums(j.dt, j.out + o * j.inner * isz, j.acc, j.inner, j.div)


cdef Tensor sum_large(Tensor x, const bint* mask, bint keepdim, bint mean):
    """sum (or mean) of a large contiguous float32/float64 x over threads, or
    None when x is small, of another dtype or not laid out as one run of
    reduced dims (ops_reduce.pxi's serial kernel takes those)."""
    cdef SumJob j
    cdef Tensor out
    cdef int nthreads
    if x._numel < LARGE_REDUCE_NUMEL or (x._dtype != F32 and x._dtype != F64):
        return None
    if not reduction_run(x, mask, &j.outer, &j.n, &j.inner):
        return None
    out = reduced_output(x, mask, keepdim, x._dtype)
    nthreads = threads_for(x._numel)
    j.dt = x._dtype
    j.x = x._data
    j.out = out._data
    j.div = <double>j.n if mean else 1.0
    j.mode = split_mode(j.outer, j.inner, nthreads)
    j.nthreads = nthreads
    j.npieces = nthreads if j.mode == SPLIT_COLS else pieces_for(nthreads)
    j.acc = <double*>malloc((j.npieces * j.inner + 1) * sizeof(double))
    if j.acc == NULL:
        raise MemoryError()
    with nogil:
        sum_job_run(&j)
    free(j.acc)
    return out

