# Large reductions over threads: sum and mean, the [outer, n, inner]
# kernels of select_kernels.pxi (amax/amin, max/min(dim), var/std,
# logsumexp), softmax and log_softmax, and cumsum.
#
# Small work never gets here: each entry point is called only above a size
# threshold, so the small-tensor path stays what it was. Above it the work,
# seen as a contiguous block [outer, n, inner] (n reduced elements per
# output), is split three ways (split_mode):
#   SPLIT_OUTER  each thread whole [n, inner] blocks (many outputs: rows of
#                sum(1), or outer blocks of sum(1) of a 3-d tensor);
#   SPLIT_COLS   one outer index at a time, each thread a block of the inner
#                columns, walking the n rows contiguously into its slice of a
#                float64 row buffer (sum(0) of a matrix): each column is summed
#                by one thread in row order, so the result does not depend on
#                the number of threads;
#   SPLIT_N      few and narrow outputs (a full reduction of a vector): each
#                piece reduces a slice of the n rows; the partial results are
#                combined in piece order.
# SPLIT_OUTER and SPLIT_N work (of sum/mean and of full vector reductions) is
# cut into pieces, several per thread, that threads take as they come free
# (run_pieces): on a shared machine a thread left waiting by the scheduler
# no longer holds up the whole result.
# float32 sums accumulate in float64, in sixteen lanes within blocks of 4096
# whose totals are added in order: more accurate than PyTorch's cascade sum
# in float32 (as ops_reduce.pxi's serial kernel).

cdef enum:
    SPLIT_OUTER = 0
    SPLIT_COLS = 1
    SPLIT_N = 2
    # below this many elements sum/mean keep ops_reduce.pxi's serial path
    LARGE_REDUCE_NUMEL = 1 << 16
    # columns per thread block: a cache line of float32
    COL_ALIGN = 16
    # rows and slices of a large reduction are cut into this many pieces per
    # thread, handed to the threads as they come free (see run_pieces)
    PIECES_PER_THREAD = 8
    # at most this many pieces (run_vector_threads keeps two doubles each)
    MAX_PIECES = 64


# the vectorised row and column kernels (see the header's comment)
cdef extern from "reduce_rows.h" nogil:
    enum:
        CG_SUM_BLOCK
    double cg_sum_row_f32(const float* x, Py_ssize_t n)
    float cg_max_row_f32(const float* x, Py_ssize_t n)
    float cg_min_row_f32(const float* x, Py_ssize_t n)
    double cg_max_row_f64(const double* x, Py_ssize_t n)
    double cg_min_row_f64(const double* x, Py_ssize_t n)
    void cg_max_cols_f32(const float* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, float* out)
    void cg_min_cols_f32(const float* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, float* out)
    void cg_max_cols_f64(const double* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* out)
    void cg_min_cols_f64(const double* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* out)
    double cg_exp_sum_f32(const float* x, Py_ssize_t n, float m)
    double cg_exp_sum_f64(const double* x, Py_ssize_t n, double m)
    float cg_lse_row_f32(const float* x, Py_ssize_t n)
    double cg_lse_row_f64(const double* x, Py_ssize_t n)
    void cg_lse_cols_f32(const float* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, float* out,
                         float* mx, double* sm)
    void cg_lse_cols_f64(const double* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* out,
                         double* mx, double* sm)
    double cg_sqdev_row_f32(const float* x, Py_ssize_t n, double m)
    double cg_sqdev_row_f64(const double* x, Py_ssize_t n, double m)
    void cg_var_cols_f32(const float* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* mean, double* m2)
    void cg_var_cols_f64(const double* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* mean, double* m2)


cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define CGRAD_RT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define CGRAD_RT_CLONES
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
            for (; i + 16 <= e; i += 16)                                            \\
                for (j = 0; j < 16; j++) a[j] += (double)x[i + j];                  \\
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

    /* float32 cumsum along rows of x (row stride ld, w columns), accumulated
       in double as PyTorch's CPU kernel does (acc_type<float> is double) */
    CGRAD_RT_CLONES static void cg_cumsum_cols_f32(const float* restrict x, float* restrict out,
                                                   Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w,
                                                   double* restrict acc) {
        Py_ssize_t k, i;
        for (i = 0; i < w; i++) acc[i] = 0;
        for (k = 0; k < n; k++) {
            const float* r = x + k * ld;
            float* o = out + k * ld;
            for (i = 0; i < w; i++) {
                acc[i] += (double)r[i];
                o[i] = (float)acc[i];
            }
        }
    }
    """
    double cg_sum_row_f64(const double* x, Py_ssize_t n) noexcept nogil
    void cg_sum_cols_f32(const float* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* acc) noexcept nogil
    void cg_sum_cols_f64(const double* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w, double* acc) noexcept nogil
    void cg_cumsum_cols_f32(const float* x, float* out, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w,
                            double* acc) noexcept nogil


# ---------------------------------------------------------------------------
# Threads

ctypedef void (*ChunkFn)(void* ctx, int t, int nthreads) noexcept nogil


cdef void run_chunks(ChunkFn fn, void* ctx, int nthreads) noexcept nogil:
    """fn(ctx, t, nthreads) for each t < nthreads, each on its own thread."""
    cdef int t
    if nthreads <= 1:
        fn(ctx, 0, 1)
        return
    for t in prange(nthreads, num_threads=nthreads, schedule="static"):
        fn(ctx, t, nthreads)


cdef void run_pieces(ChunkFn fn, void* ctx, int npieces, int nthreads) noexcept nogil:
    """fn(ctx, p, npieces) for each piece p < npieces, the pieces handed to
    nthreads threads one at a time as each comes free. On a machine shared
    with other work, a thread the scheduler leaves waiting holds up the
    result for its whole share under a static split; here the others take
    over its remaining pieces. Callers combine per-piece results in piece
    order, so the result does not depend on which thread ran what."""
    cdef int p
    if nthreads <= 1 or npieces <= 1:
        for p in range(npieces):
            fn(ctx, p, npieces)
        return
    for p in prange(npieces, num_threads=nthreads, schedule="dynamic"):
        fn(ctx, p, npieces)


cdef inline int pieces_for(int nthreads) noexcept nogil:
    """The pieces run_pieces cuts work for nthreads threads into."""
    if nthreads <= 1:
        return 1
    return nthreads * PIECES_PER_THREAD if nthreads * PIECES_PER_THREAD <= MAX_PIECES else MAX_PIECES


cdef inline void chunk_range(Py_ssize_t total, int t, int nthreads, Py_ssize_t align,
                             Py_ssize_t* start, Py_ssize_t* stop) noexcept nogil:
    """Thread t's share [start, stop) of `total` items, in multiples of align."""
    cdef Py_ssize_t per = (total + nthreads - 1) // nthreads
    per = (per + align - 1) // align * align
    start[0] = t * per if t * per < total else total
    stop[0] = start[0] + per if start[0] + per < total else total


cdef inline int split_mode(Py_ssize_t outer, Py_ssize_t inner, int nthreads) noexcept nogil:
    """How [outer, n, inner] work goes over nthreads (see the top comment).
    A few outer blocks would share out unevenly: columns or rows then."""
    if outer >= 4 * nthreads or nthreads == 1:
        return SPLIT_OUTER
    if inner >= COL_ALIGN * nthreads:
        return SPLIT_COLS
    return SPLIT_N


cdef bint reduction_run(Tensor x, const bint* mask, Py_ssize_t* outer, Py_ssize_t* n,
                        Py_ssize_t* inner) noexcept:
    """x contiguous with its reduced dims (size-1 dims aside) adjacent: x as
    [outer, n, inner]. False when x is not so laid out or nothing is reduced."""
    cdef int d, first = -1, last = -1
    if not x._contiguous:
        return False
    for d in range(x._ndim):
        if mask[d] and x._shape[d] != 1:
            if first < 0:
                first = d
            last = d
    if first < 0:
        return False
    outer[0] = 1
    n[0] = 1
    inner[0] = 1
    for d in range(x._ndim):
        if d < first:
            outer[0] *= x._shape[d]
        elif d > last:
            inner[0] *= x._shape[d]
        elif mask[d]:
            n[0] *= x._shape[d]
        elif x._shape[d] != 1:
            return False
    return True


# ---------------------------------------------------------------------------
# sum and mean

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


# ---------------------------------------------------------------------------
# The [outer, n, inner] kernels of select_kernels.pxi (a KernelArgs each)

cdef struct BlockJob:
    DispatchFn fn
    KernelArgs* a
    Py_ssize_t isz          # item sizes of x and out
    Py_ssize_t osz
    Py_ssize_t acc_cols     # float64 scratch per column the kernel uses
    Py_ssize_t o
    int mode


cdef void block_chunk(void* ctx, int t, int nthreads) noexcept nogil:
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


cdef Py_ssize_t block_scratch(KernelArgs* a, Py_ssize_t acc_cols) noexcept:
    """The float64 scratch run_block_threads needs: acc_cols per column and thread."""
    return acc_cols * a.inner * block_threads(a)


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
        if j.mode == SPLIT_OUTER:
            run_chunks(block_chunk, &j, nthreads)
        else:
            for o in range(a.outer):
                j.o = o
                run_chunks(block_chunk, &j, nthreads)
    return 0


# Full reductions of a long vector (outer = inner = 1): each piece a slice
# of the n elements, then the partial results combined in piece order.

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


# ---------------------------------------------------------------------------
# softmax and log_softmax (float32 and float64, contiguous)

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


# ---------------------------------------------------------------------------
# cumsum (float32 accumulating in float64; float64; int64)

cdef void cumsum_rows(cum_t* out, const cum_t* x, Py_ssize_t rows, Py_ssize_t n, bint wide) noexcept nogil:
    """Each of `rows` contiguous rows of n; float32 in a float64 running sum
    when `wide`."""
    cdef Py_ssize_t r, k
    cdef const cum_t* xr
    cdef cum_t* orow
    cdef double dacc
    cdef cum_t acc
    for r in range(rows):
        xr = x + r * n
        orow = out + r * n
        if cum_t is float:
            if wide:
                dacc = 0
                for k in range(n):
                    dacc += xr[k]
                    orow[k] = <float>dacc
                continue
        acc = 0
        for k in range(n):
            acc = acc + xr[k]
            orow[k] = acc


cdef void cumsum_cols(cum_t* out, const cum_t* x, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w,
                      bint wide, double* acc) noexcept nogil:
    """w columns (row stride ld) of n rows, walked row after row."""
    cdef Py_ssize_t k, i
    if cum_t is float:
        if wide:
            cg_cumsum_cols_f32(x, out, n, ld, w, acc)
            return
    if n == 0:
        return
    for i in range(w):
        out[i] = x[i]
    for k in range(1, n):
        for i in range(w):
            out[k * ld + i] = out[(k - 1) * ld + i] + x[k * ld + i]


cdef struct CumsumJob:
    int dt                  # F32, F64 or I64
    bint wide               # float32 summed in float64
    char* out
    const char* x
    Py_ssize_t outer
    Py_ssize_t n
    Py_ssize_t inner
    double* acc             # wide: float64 running sums, inner per thread
    Py_ssize_t o
    int mode


cdef void cumsum_outer_blocks(CumsumJob* j, Py_ssize_t off, Py_ssize_t rows, Py_ssize_t n, Py_ssize_t w,
                       double* acc) noexcept nogil:
    """rows outer blocks (of n x w with row stride j.inner) at element off."""
    cdef Py_ssize_t r, step = n * j.inner
    if j.inner == 1:
        if j.dt == F32:
            cumsum_rows(<float*>j.out + off, <const float*>j.x + off, rows, n, j.wide)
        elif j.dt == F64:
            cumsum_rows(<double*>j.out + off, <const double*>j.x + off, rows, n, j.wide)
        else:
            cumsum_rows(<int64_t*>j.out + off, <const int64_t*>j.x + off, rows, n, j.wide)
        return
    for r in range(rows):
        if j.dt == F32:
            cumsum_cols(<float*>j.out + off, <const float*>j.x + off, n, j.inner, w, j.wide, acc)
        elif j.dt == F64:
            cumsum_cols(<double*>j.out + off, <const double*>j.x + off, n, j.inner, w, j.wide, acc)
        else:
            cumsum_cols(<int64_t*>j.out + off, <const int64_t*>j.x + off, n, j.inner, w, j.wide, acc)
        off += step


cdef void cumsum_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    cdef CumsumJob* j = <CumsumJob*>ctx
    cdef Py_ssize_t a, b
    if j.mode == SPLIT_OUTER:
        chunk_range(j.outer, t, nthreads, 1, &a, &b)
        if b > a:
            cumsum_outer_blocks(j, a * j.n * j.inner, b - a, j.n, j.inner, j.acc + t * j.inner)
    else:
        chunk_range(j.inner, t, nthreads, COL_ALIGN, &a, &b)
        if b > a:
            cumsum_outer_blocks(j, j.o * j.n * j.inner + a, 1, j.n, b - a, j.acc + a)


cdef int cumsum_run(int dt, bint wide, char* out, const char* x, Py_ssize_t outer, Py_ssize_t n,
                    Py_ssize_t inner) except -1:
    """cumsum of contiguous x seen as [outer, n, inner] along n; over threads
    when large (rows split, or column blocks of each outer index)."""
    cdef CumsumJob j
    cdef Py_ssize_t numel = outer * n * inner, o
    cdef int nthreads = threads_for(numel)
    j.dt = dt
    j.wide = wide
    j.out = out
    j.x = x
    j.outer = outer
    j.n = n
    j.inner = inner
    j.mode = SPLIT_OUTER if (nthreads == 1 or inner == 1 or outer >= 4 * nthreads
                             or inner < COL_ALIGN * nthreads) else SPLIT_COLS
    if j.mode == SPLIT_OUTER and inner == 1 and outer < nthreads:
        nthreads = 1        # one long row: a running sum is serial
    j.acc = NULL
    if wide and inner > 1:
        j.acc = <double*>malloc(nthreads * inner * sizeof(double))
        if j.acc == NULL:
            raise MemoryError()
    if numel < GIL_RELEASE_NUMEL:
        cumsum_chunk(&j, 0, 1)
    else:
        with nogil:
            if j.mode == SPLIT_OUTER:
                run_chunks(cumsum_chunk, &j, nthreads)
            else:
                for o in range(outer):
                    j.o = o
                    run_chunks(cumsum_chunk, &j, nthreads)
    free(j.acc)
    return 0
