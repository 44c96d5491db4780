# Matrix products on cgrad's own OpenMP threads. numpy's OpenBLAS keeps a
# second pool of threads that, after each product, busy-wait (yielding) for
# the next one for tens of milliseconds; cgrad's elementwise kernels run on
# libgomp's pool. With two pools on two cores, whichever op comes next finds
# a core taken by the other pool's idle threads and waits a scheduler slice
# (0.2 ms products took 13 ms after a parallel elementwise op). So cgrad calls
# OpenBLAS's gemm single-threaded (its thread-local count set to 1, so its
# pool never starts) from inside its own parallel region, each thread taking
# whole matrices of a batch or a block of rows (or columns) of one product,
# as PyTorch runs its BLAS on its one OpenMP pool. Products below
# POOL_MIN_MACS_PER_THREAD multiply-adds per thread stay on the calling
# thread. Used only when numpy's OpenBLAS exports the ILP64 cblas gemm
# (scipy_openblas64_, numpy's wheels) and the per-thread count; otherwise
# products go through numpy.matmul as before.

cdef enum:
    POOL_MIN_MACS_PER_THREAD = 1 << 18

cdef sgemm64_fn _pool_sgemm = NULL
cdef dgemm64_fn _pool_dgemm = NULL
cdef bint _pool_probed = False
cdef bint _pool_enabled = True


cdef void probe_pool_gemm() except *:
    """The ILP64 gemm of blas_gemm.pxi, when OpenBLAS's per-thread thread
    count can be set too (products on cgrad's threads need both)."""
    global _pool_sgemm, _pool_dgemm, _pool_probed
    _pool_probed = True
    if not _blas_probed:
        probe_blas_threads()
    if not _cblas_gemm_probed:
        probe_cblas_gemm()
    if _blas_set_threads_local == NULL:
        return
    _pool_sgemm = _cblas_sgemm64
    _pool_dgemm = _cblas_dgemm64


def _set_blas_on_cgrad_threads(bint enabled):
    """Whether matrix products run on cgrad's threads (True, the default) or
    through numpy.matmul with OpenBLAS's own threads (for benchmarks)."""
    global _pool_enabled
    _pool_enabled = enabled


cdef struct GemmPlan:
    int dtype_f64
    int ta, tb
    int64_t m, n, k, lda, ldb
    double beta             # 0: c = a @ b; 1: c += a @ b (linear_gemm.pxi's addmm)
    char* a
    char* b
    char* c
    Py_ssize_t itemsize
    int64_t* offsets        # per matrix: a, b, c byte offsets
    Py_ssize_t count        # matrices
    int parts               # blocks per matrix (1: whole matrices per thread)
    bint split_rows


cdef bint gemm_layout(object arr, int64_t rows, int64_t cols, Py_ssize_t itemsize, int* trans,
                      int64_t* ld):
    """The cblas (transpose flag, leading dimension) of arr's matrices in
    row-major order, or False when their strides fit neither."""
    cdef Py_ssize_t s0 = arr.strides[arr.ndim - 2], s1 = arr.strides[arr.ndim - 1]
    if s0 % itemsize or s1 % itemsize:
        return False
    s0 //= itemsize
    s1 //= itemsize
    if cols == 1 and s0 >= 1:
        trans[0], ld[0] = CBLAS_NO_TRANS, s0 if rows > 1 else 1
        return True
    if s1 == 1 and (s0 >= cols or rows == 1):
        trans[0], ld[0] = CBLAS_NO_TRANS, s0 if rows > 1 else cols
        return True
    if s0 == 1 and (s1 >= rows or cols == 1):
        trans[0], ld[0] = CBLAS_TRANS, s1 if cols > 1 else rows
        return True
    return False


cdef void gemm_block(const GemmPlan* p, Py_ssize_t q, int part) noexcept nogil:
    """Matrix q of the plan, or its block `part` of p.parts."""
    cdef int64_t m = p.m, n = p.n, lo, hi, size
    cdef char* a = p.a + p.offsets[3 * q]
    cdef char* b = p.b + p.offsets[3 * q + 1]
    cdef char* c = p.c + p.offsets[3 * q + 2]
    _blas_set_threads_local(1)
    if p.parts > 1:
        size = m if p.split_rows else n
        lo = size * part // p.parts
        hi = size * (part + 1) // p.parts
        if hi <= lo:
            return
        if p.split_rows:
            a += (lo * p.lda if p.ta == CBLAS_NO_TRANS else lo) * p.itemsize
            c += lo * n * p.itemsize
            m = hi - lo
        else:
            b += (lo if p.tb == CBLAS_NO_TRANS else lo * p.ldb) * p.itemsize
            c += lo * p.itemsize
            n = hi - lo
    if p.dtype_f64:
        _pool_dgemm(CBLAS_ROW_MAJOR, p.ta, p.tb, m, n, p.k, 1.0, <double*>a, p.lda, <double*>b, p.ldb,
                    p.beta, <double*>c, p.n)
    else:
        _pool_sgemm(CBLAS_ROW_MAJOR, p.ta, p.tb, m, n, p.k, 1.0, <float*>a, p.lda, <float*>b, p.ldb,
                    <float>p.beta, <float*>c, p.n)


cdef void run_gemm_plan(GemmPlan* p, int nthreads) noexcept nogil:
    cdef Py_ssize_t t, total = p.count * p.parts
    cdef int previous = _blas_set_threads_local(1)
    if nthreads > 1:
        for t in prange(total, num_threads=nthreads, schedule="static"):
            gemm_block(p, t // p.parts, <int>(t % p.parts))
    else:
        for t in range(total):
            gemm_block(p, t // p.parts, <int>(t % p.parts))
    _blas_set_threads_local(previous)


cdef object _batch_offsets(object arr, tuple batch_shape):
    """Byte offsets of arr's matrices, broadcast over batch_shape (int64, flat)."""
    cdef int nb = len(batch_shape), extra = arr.ndim - 2, d
    offsets = np.zeros(batch_shape, dtype=np.int64)
    for d in range(extra):
        size = arr.shape[d]
        if size == 1:
            continue
        shape = [1] * nb
        shape[nb - extra + d] = size
        offsets = offsets + (np.arange(size, dtype=np.int64) * arr.strides[d]).reshape(shape)
    return np.ascontiguousarray(np.broadcast_to(offsets, batch_shape)).reshape(-1)


cdef bint pool_matmul(object a, object b, object out) except *:
    """out[...] = a @ b for numpy arrays of float32 or float64 (a: (..., m,
    k), b: (..., k, n), batch dimensions broadcast to out's, out
    C-contiguous), on cgrad's threads. False (nothing done) when the
    arrays do not fit: the caller uses numpy.matmul."""
    cdef GemmPlan plan
    cdef int64_t macs
    cdef int nthreads
    cdef object offsets
    if not _pool_enabled:
        return False
    if not _pool_probed:
        probe_pool_gemm()
    if _pool_sgemm == NULL:
        return False
    dt = out.dtype
    if dt != a.dtype or dt != b.dtype or (dt != np.float32 and dt != np.float64):
        return False
    if a.ndim < 2 or b.ndim < 2 or out.ndim < 2 or not out.flags.c_contiguous:
        return False
    plan.m, plan.k, plan.n = a.shape[a.ndim - 2], a.shape[a.ndim - 1], b.shape[b.ndim - 1]
    if out.shape[out.ndim - 2] != plan.m or out.shape[out.ndim - 1] != plan.n or b.shape[b.ndim - 2] != plan.k:
        return False
    if plan.m == 0 or plan.n == 0 or plan.k == 0:
        return False
    plan.itemsize = dt.itemsize
    plan.dtype_f64 = dt == np.float64
    if not gemm_layout(a, plan.m, plan.k, plan.itemsize, &plan.ta, &plan.lda):
        return False
    if not gemm_layout(b, plan.k, plan.n, plan.itemsize, &plan.tb, &plan.ldb):
        return False
    batch_shape = tuple(out.shape[:out.ndim - 2])
    try:
        offsets = np.stack([_batch_offsets(a, batch_shape), _batch_offsets(b, batch_shape),
                            np.arange(out.size // (plan.m * plan.n), dtype=np.int64)
                            * (plan.m * plan.n * plan.itemsize)], axis=1).reshape(-1)
    except ValueError:
        return False   # batch dimensions that do not broadcast: numpy raises its own error
    # (a raw pointer, not an int64_t[::1] memoryview: one memoryview in the
    # module pulls Cython's whole memoryview machinery into the binary)
    plan.offsets = <int64_t*><size_t>offsets.ctypes.data
    plan.count = offsets.shape[0] // 3
    plan.a = <char*><size_t>a.ctypes.data
    plan.b = <char*><size_t>b.ctypes.data
    plan.c = <char*><size_t>out.ctypes.data
    macs = plan.count * plan.m * plan.n * plan.k
    nthreads = <int>min(<int64_t>_num_threads, macs // POOL_MIN_MACS_PER_THREAD)
    if nthreads < 1:
        nthreads = 1
    plan.beta = 0.0
    plan.parts = 1
    plan.split_rows = plan.m >= plan.n
    if nthreads > 1 and plan.count < nthreads:
        plan.parts = nthreads
    with nogil:
        run_gemm_plan(&plan, nthreads)
    return True


# ---------------------------------------------------------------------------
# The same plan built from the tensors' own fields. pool_matmul's numpy setup
# (three ndarray views, np.stack of broadcast offset arrays) costs ~30 us, four
# times a 64 x 64 gemm; mm/bmm's operands are 2-D or 3-D tensors of one batch,
# whose offsets are one stride each, so the plan needs no numpy at all. The
# thread split is pool_matmul's, so large products stay threaded.

cdef enum:
    PLAN_STACK_MATRICES = 16


cdef bint tensor_gemm_layout(Tensor t, int64_t rows, int64_t cols, int* trans, int64_t* ld) noexcept:
    """gemm_layout on a tensor's element strides."""
    cdef Py_ssize_t s0 = t._strides[t._ndim - 2], s1 = t._strides[t._ndim - 1]
    if cols == 1 and s0 >= 1:
        trans[0], ld[0] = CBLAS_NO_TRANS, s0 if rows > 1 else 1
        return True
    if s1 == 1 and (s0 >= cols or rows == 1):
        trans[0], ld[0] = CBLAS_NO_TRANS, s0 if rows > 1 else cols
        return True
    if s0 == 1 and (s1 >= rows or cols == 1):
        trans[0], ld[0] = CBLAS_TRANS, s1 if cols > 1 else rows
        return True
    return False


cdef bint pool_matmul_tensors(Tensor a, Tensor b, Tensor out) except *:
    """out = a @ b for 2-D, or 3-D same-batch, float32/float64 tensors (out
    contiguous) on cgrad's threads, as pool_matmul; False when they do not
    fit (the caller falls back to pool_matmul / numpy)."""
    cdef GemmPlan plan
    cdef int64_t stack_offsets[3 * PLAN_STACK_MATRICES]
    cdef int64_t* offsets = stack_offsets
    cdef int nd = out._ndim, nthreads
    cdef Py_ssize_t q, count
    cdef int64_t macs, sa, sb
    if not _pool_enabled:
        return False
    if not _pool_probed:
        probe_pool_gemm()
    if _pool_sgemm == NULL:
        return False
    if (nd != 2 and nd != 3) or a._ndim != nd or b._ndim != nd:
        return False
    if a._dtype != out._dtype or b._dtype != out._dtype or (out._dtype != F32 and out._dtype != F64):
        return False
    count = out._shape[0] if nd == 3 else 1
    plan.m, plan.k, plan.n = a._shape[nd - 2], a._shape[nd - 1], b._shape[nd - 1]
    if out._shape[nd - 2] != plan.m or out._shape[nd - 1] != plan.n or b._shape[nd - 2] != plan.k:
        return False
    if nd == 3 and (a._shape[0] != count or b._shape[0] != count):
        return False
    if plan.m == 0 or plan.n == 0 or plan.k == 0 or count == 0:
        return False
    if (plan.n > 1 and out._strides[nd - 1] != 1) or (plan.m > 1 and out._strides[nd - 2] != plan.n) \
            or (nd == 3 and count > 1 and out._strides[0] != plan.m * plan.n):
        return False
    if not tensor_gemm_layout(a, plan.m, plan.k, &plan.ta, &plan.lda):
        return False
    if not tensor_gemm_layout(b, plan.k, plan.n, &plan.tb, &plan.ldb):
        return False
    plan.itemsize = ITEMSIZE[out._dtype]
    plan.dtype_f64 = out._dtype == F64
    sa = a._strides[0] * plan.itemsize if nd == 3 else 0
    sb = b._strides[0] * plan.itemsize if nd == 3 else 0
    if count > PLAN_STACK_MATRICES:
        offsets = <int64_t*>malloc(3 * count * sizeof(int64_t))
        if offsets == NULL:
            raise MemoryError()
    for q in range(count):
        offsets[3 * q] = q * sa
        offsets[3 * q + 1] = q * sb
        offsets[3 * q + 2] = q * plan.m * plan.n * plan.itemsize
    plan.offsets = offsets
    plan.count = count
    plan.a = a._data
    plan.b = b._data
    plan.c = out._data
    macs = plan.count * plan.m * plan.n * plan.k
    nthreads = <int>min(<int64_t>_num_threads, macs // POOL_MIN_MACS_PER_THREAD)
    if nthreads < 1:
        nthreads = 1
    plan.beta = 0.0
    plan.parts = 1
    plan.split_rows = plan.m >= plan.n
    if nthreads > 1 and plan.count < nthreads:
        plan.parts = nthreads
    with nogil:
        run_gemm_plan(&plan, nthreads)
    if offsets != stack_offsets:
        free(offsets)
    return True
