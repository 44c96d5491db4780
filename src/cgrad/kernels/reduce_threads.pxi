# Large reductions over threads: the split shared by the files that run
# them (reduce_sum_threads.pxi: sum and mean; reduce_block_threads.pxi:
# the [outer, n, inner] kernels of select_kernels.pxi; reduce_vector_threads.pxi:
# full reductions of a long vector; ops/nn/softmax_threads.pxi; cumsum_threads.pxi),
# the declarations of reduce_rows.h's kernels and the thread runners.
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

