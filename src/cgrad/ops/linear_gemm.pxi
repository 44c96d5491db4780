# addmm (F.linear's product) as PyTorch's CPU addmm computes it: the bias
# broadcast into the output first, then one gemm with beta = 1 that adds the
# product onto it. Computed as mm then a bias add, the output made a second
# pass (read and write) over memory after the gemm; here the gemm's own
# write of C is the only one. Runs on blas_pool.pxi's plan (cgrad's
# threads, the same thread split as mm), for 2-D float32 / float64
# operands that gemm reads in place; anything else, and products small
# enough for ops_linalg.pxi's typed loop, keeps the mm-then-add path.

cdef int64_t _single_matrix_offsets[3]     # zeros: one matrix, no batch offsets


cdef bint gemm_plan_2d(Tensor a, Tensor b, Tensor out, GemmPlan* plan) except *:
    """blas_pool.pxi's plan of out = a @ b for 2-D float32 / float64 tensors
    of one dtype, out contiguous; False (plan unset) when they do not fit."""
    cdef int64_t macs
    cdef int nthreads
    if not _pool_enabled:
        return False
    if not _pool_probed:
        probe_pool_gemm()
    if _pool_sgemm == NULL or _pool_dgemm == NULL:
        return False
    if a._ndim != 2 or b._ndim != 2 or out._ndim != 2 or not out._contiguous:
        return False
    if a._dtype != out._dtype or b._dtype != out._dtype or (out._dtype != F32 and out._dtype != F64):
        return False
    plan.m, plan.k, plan.n = a._shape[0], a._shape[1], b._shape[1]
    if out._shape[0] != plan.m or out._shape[1] != plan.n or b._shape[0] != plan.k:
        return False
    if plan.m == 0 or plan.n == 0 or plan.k == 0:
        return False
    if not tensor_gemm_layout(a, plan.m, plan.k, &plan.ta, &plan.lda):
        return False
    if not tensor_gemm_layout(b, plan.k, plan.n, &plan.tb, &plan.ldb):
        return False
    plan.itemsize = ITEMSIZE[out._dtype]
    plan.dtype_f64 = out._dtype == F64
    plan.beta = 0.0
    plan.offsets = _single_matrix_offsets
    plan.count = 1
    plan.a = a._data
    plan.b = b._data
    plan.c = out._data
    macs = plan.m * plan.n * plan.k
    nthreads = <int>min(<int64_t>_num_threads, macs // POOL_MIN_MACS_PER_THREAD)
    plan.parts = nthreads if nthreads > 1 else 1
    plan.split_rows = plan.m >= plan.n
    return True


cdef bint addmm_fused_into(Tensor out, Tensor bias, Tensor m1, Tensor m2) except *:
    """out = bias + m1 @ m2 (bias already broadcast to out's shape) as one
    gemm with beta = 1; False, with out untouched, when the operands do not
    fit (see the top of this file)."""
    cdef GemmPlan plan
    if m1._shape[0] * m1._shape[1] * m2._shape[1] <= SMALL_MM_FLOPS:
        return False
    if not gemm_plan_2d(m1, m2, out, &plan):
        return False
    copy_into(out, bias)
    plan.beta = 1.0
    with nogil:
        run_gemm_plan(&plan, plan.parts)
    return True


cdef bint column_major(Tensor t) noexcept:
    """Whether a matrix is laid out as the transpose of a contiguous one
    (PyTorch's test in mm_mat2_backward: strides (1, rows))."""
    return t._ndim == 2 and t._strides[0] == 1 and t._strides[1] == t._shape[0]


cdef Tensor mat2_gradient(Tensor grad, Tensor mat1, bint mat2_column_major):
    """The gradient of mm/addmm's mat2 (before alpha). For a column-major
    mat2 (F.linear's weight.t()) PyTorch computes (grad^T @ mat1)^T, so that
    the transpose back to the weight is a contiguous buffer the leaf keeps
    as its .grad without a copy (TBackward0 hands it over whole)."""
    if mat2_column_major:
        return op_t(op_mm(op_t(grad), mat1))
    return op_mm(op_t(mat1), grad)


cdef bint is_transpose_of_base(Tensor g) noexcept:
    """Whether g is its base's transpose exactly (a 2-D view over all of it),
    so that the transpose of g is the base itself."""
    cdef Tensor base = g._base
    if base is None or g._ndim != 2 or base._ndim != 2 or g._grad_fn is not None or base._grad_fn is not None \
            or base._requires_grad:
        return False
    return (base._offset == g._offset and base._shape[0] == g._shape[1] and base._shape[1] == g._shape[0]
            and base._strides[0] == g._strides[1] and base._strides[1] == g._strides[0])
