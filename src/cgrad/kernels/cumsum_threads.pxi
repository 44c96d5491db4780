# cumsum of contiguous tensors seen as [outer, n, inner] along n, over
# threads when large (ops_layout.pxi calls cumsum_run): rows split, or
# column blocks of each outer index. float32 accumulates in float64, as
# PyTorch's CPU kernel does.

cdef extern from *:
    """
    #if !defined(CGRAD_RT_CLONES)
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define CGRAD_RT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define CGRAD_RT_CLONES
    #endif
    #endif
    /* float32 cumsum along rows of x (row stride ld, w columns), accumulated
       in double as PyTorch's CPU kernel does (acc_type<float> is double).
       Four rows a pass, the running sums held in registers across them:
       the same additions in the same order, with a quarter of the loads and
       stores of acc (8192x8192, one thread, CPU time on the shared 2-core
       VM: 35-36 -> 29-30 ms) */
    CGRAD_RT_CLONES static void cg_cumsum_cols_f32(const float* restrict x, float* restrict out,
                                                   Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w,
                                                   double* restrict acc) {
        Py_ssize_t k = 0, i;
        for (i = 0; i < w; i++) acc[i] = 0;
        for (; k + 4 <= n; k += 4) {
            const float* r = x + k * ld;
            float* o = out + k * ld;
            for (i = 0; i < w; i++) {
                double a = acc[i] + (double)r[i];
                o[i] = (float)a;
                a += (double)r[ld + i];
                o[ld + i] = (float)a;
                a += (double)r[2 * ld + i];
                o[2 * ld + i] = (float)a;
                a += (double)r[3 * ld + i];
                o[3 * ld + i] = (float)a;
                acc[i] = a;
            }
        }
        for (; k < n; k++) {
            const float* r = x + k * ld;
            float* o = out + k * ld;
            for (i = 0; i < w; i++) {
                acc[i] += (double)r[i];
                o[i] = (float)acc[i];
            }
        }
    }
    /* cumsum of `rows` contiguous rows of n in a double running sum,
       CG_CUMSUM_ILV rows side by side: a running sum is one chain of
       dependent additions (an add's latency per element); rows walked
       together keep that many chains in flight. Each row's additions are
       the one-row loop's, in its order. Four: the rows' lines (8 streams)
       stay within one L1 set's ways when the row stride is a multiple of
       4 KiB.
       The rows go CG_CUMSUM_BLOCK elements at a time: all the block's
       loads, then its additions, then its stores. Loading and storing
       element by element, each load of row j + 1 came just after the
       store of row j at the same column, whose address has the same low
       12 bits when the row stride is a multiple of 4 KiB (and the buffers
       are page-aligned): the load waited on the store as if it might
       depend on it (4K aliasing). Measured on one core, 8192x8192
       float32: 105-110 ms element by element, 44-55 ms by blocks of 64
       (16: 52-55, 128: 50-52); the values are the same bit for bit. */
    #define CG_CUMSUM_ILV 4
    #define CG_CUMSUM_BLOCK 64
    #define CG_CUMSUM_ROWS(NAME, T)                                                 \
    static void NAME(const T* x, T* out, Py_ssize_t rows, Py_ssize_t n) {          \
        Py_ssize_t r = 0, k, kb;                                                    \
        int j;                                                                      \
        double t[CG_CUMSUM_ILV][CG_CUMSUM_BLOCK];                                   \
        for (; r + CG_CUMSUM_ILV <= rows; r += CG_CUMSUM_ILV) {                     \
            const T* xr = x + r * n;                                                \
            T* o = out + r * n;                                                     \
            double a[CG_CUMSUM_ILV] = {0};                                          \
            for (kb = 0; kb + CG_CUMSUM_BLOCK <= n; kb += CG_CUMSUM_BLOCK) {        \
                for (j = 0; j < CG_CUMSUM_ILV; j++)                                 \
                    for (k = 0; k < CG_CUMSUM_BLOCK; k++)                           \
                        t[j][k] = (double)xr[j * n + kb + k];                       \
                for (k = 0; k < CG_CUMSUM_BLOCK; k++)                               \
                    for (j = 0; j < CG_CUMSUM_ILV; j++) {                           \
                        a[j] += t[j][k];                                            \
                        t[j][k] = a[j];                                             \
                    }                                                               \
                for (j = 0; j < CG_CUMSUM_ILV; j++)                                 \
                    for (k = 0; k < CG_CUMSUM_BLOCK; k++)                           \
                        o[j * n + kb + k] = (T)t[j][k];                             \
            }                                                                       \
            for (k = kb; k < n; k++)                                                \
                for (j = 0; j < CG_CUMSUM_ILV; j++) {                               \
                    a[j] += (double)xr[j * n + k];                                  \
                    o[j * n + k] = (T)a[j];                                         \
                }                                                                   \
        }                                                                           \
        for (; r < rows; r++) {                                                     \
            double a = 0;                                                           \
            for (k = 0; k < n; k++) {                                               \
                a += (double)x[r * n + k];                                          \
                out[r * n + k] = (T)a;                                              \
            }                                                                       \
        }                                                                           \
    }
    CG_CUMSUM_ROWS(cg_cumsum_rows_f32, float)
    CG_CUMSUM_ROWS(cg_cumsum_rows_f64, double)
    """
    void cg_cumsum_rows_f32(const float* x, float* out, Py_ssize_t rows, Py_ssize_t n) noexcept nogil
    void cg_cumsum_rows_f64(const double* x, double* out, Py_ssize_t rows, Py_ssize_t n) noexcept nogil
    void cg_cumsum_cols_f32(const float* x, float* out, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t w,
                            double* acc) noexcept nogil


cdef void cumsum_rows(cum_t* out, const cum_t* x, Py_ssize_t rows, Py_ssize_t n, bint wide) noexcept nogil:
    """Each of `rows` contiguous rows of n; float32 in a float64 running sum
    when `wide`."""
    cdef Py_ssize_t r, k
    cdef const cum_t* xr
    cdef cum_t* orow
    cdef cum_t acc
    if cum_t is double:
        cg_cumsum_rows_f64(x, out, rows, n)
    else:
        if cum_t is float:
            if wide:
                cg_cumsum_rows_f32(x, out, rows, n)
                return
        for r in range(rows):
            xr = x + r * n
            orow = out + r * n
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
            if j.mode == SPLIT_OUTER and inner == 1 and nthreads > 1:
                # rows need no scratch: pieces, taken by threads as they come free
                run_pieces(cumsum_chunk, &j, pieces_for(nthreads), nthreads)
            elif j.mode == SPLIT_OUTER:
                run_chunks(cumsum_chunk, &j, nthreads)
            else:
                for o in range(outer):
                    j.o = o
                    run_chunks(cumsum_chunk, &j, nthreads)
    free(j.acc)
    return 0
