# The arithmetic of scaled_dot_product_attention's CPU flash node
# (cgrad/nn/_flash_attention.py) on whole (batch, heads) stacks of matrices:
# forward scores, softmax and product, backward the four products and the
# softmax's gradient. Each product is one cblas gemm per matrix on cgrad's
# threads (blas_pool.pxi's ILP64 gemm), with the softmax scale folded into
# the gemm's alpha. Composed from separate ops, the node paid a pass to
# scale q, a pass to scale grad_q, numpy-built batch offsets for every 4-D
# product (~35 us each) and an autograd.grad call for the softmax.
#
# Used for float32 / float64 query, key and value of one batch size and one
# head count (no mask, no grouped heads); None tells the caller to use its
# composite path. Operands need unit stride along their last dim (the caller
# checks, as PyTorch's flash dispatch does); other strides are taken as
# they are, so the heads that multi_head_attention_forward views out of its
# packed projection are read in place.

cdef struct AttnMats:
    char* data
    int64_t batch_bytes     # from one batch's matrices to the next
    int64_t head_bytes      # from one head's matrix to the next
    int64_t ld              # row stride in elements (cblas's leading dimension)


cdef AttnMats attn_mats(Tensor t) noexcept:
    """The matrices of a 4-D tensor whose last dim has unit stride."""
    cdef AttnMats mats
    cdef Py_ssize_t itemsize = ITEMSIZE[t._dtype]
    mats.data = t._data
    mats.batch_bytes = t._strides[0] * itemsize
    mats.head_bytes = t._strides[1] * itemsize
    # a single row's stride is arbitrary; cblas wants at least the row length
    mats.ld = t._strides[2] if t._shape[2] > 1 else t._shape[3]
    if mats.ld < t._shape[3]:
        mats.ld = t._shape[3]
    return mats


cdef bint attn_operand_fits(Tensor t) noexcept:
    """Whether gemm reads t's matrices as they lie: unit stride along the
    last dim and rows that do not overlap."""
    if t._ndim != 4:
        return False
    if t._shape[3] > 1 and t._strides[3] != 1:
        return False
    return t._shape[2] <= 1 or t._strides[2] >= t._shape[3]


cdef Tensor attn_operand(Tensor t):
    return t if attn_operand_fits(t) else contiguous_copy(t)


cdef void attn_gemm_one(bint f64, Py_ssize_t q, Py_ssize_t heads, int ta, int tb, int64_t m, int64_t n,
                        int64_t k, double alpha, const AttnMats* a, const AttnMats* b,
                        const AttnMats* c) noexcept nogil:
    """c[q] = alpha * op(a[q]) @ op(b[q]) for matrix q (batch q // heads,
    head q % heads); on the calling thread (OpenBLAS's own pool unused)."""
    cdef Py_ssize_t bi = q // heads, hi = q % heads
    cdef const char* pa = a.data + bi * a.batch_bytes + hi * a.head_bytes
    cdef const char* pb = b.data + bi * b.batch_bytes + hi * b.head_bytes
    cdef char* pc = c.data + bi * c.batch_bytes + hi * c.head_bytes
    _blas_set_threads_local(1)
    if f64:
        _pool_dgemm(CBLAS_ROW_MAJOR, ta, tb, m, n, k, alpha, <const double*>pa, a.ld, <const double*>pb, b.ld,
                    0.0, <double*>pc, c.ld)
    else:
        _pool_sgemm(CBLAS_ROW_MAJOR, ta, tb, m, n, k, <float>alpha, <const float*>pa, a.ld,
                    <const float*>pb, b.ld, 0.0, <float*>pc, c.ld)


cdef void attn_gemm(bint f64, Py_ssize_t count, Py_ssize_t heads, int ta, int tb, int64_t m, int64_t n,
                    int64_t k, double alpha, AttnMats a, AttnMats b, AttnMats c) noexcept nogil:
    """Every matrix of the stack, whole matrices per thread (blas_pool.pxi's
    thread count rule: at least POOL_MIN_MACS_PER_THREAD each)."""
    cdef Py_ssize_t q
    cdef int64_t macs = <int64_t>count * m * n * k
    cdef int nthreads = <int>min(<int64_t>_num_threads, macs // POOL_MIN_MACS_PER_THREAD)
    cdef int previous = _blas_set_threads_local(1)
    if nthreads > count:
        nthreads = <int>count
    if nthreads > 1:
        for q in prange(count, num_threads=nthreads, schedule="static"):
            attn_gemm_one(f64, q, heads, ta, tb, m, n, k, alpha, &a, &b, &c)
    else:
        for q in range(count):
            attn_gemm_one(f64, q, heads, ta, tb, m, n, k, alpha, &a, &b, &c)
    _blas_set_threads_local(previous)


cdef int attn_product(Tensor c, Tensor a, int ta, Tensor b, int tb, int64_t m, int64_t n, int64_t k,
                      double alpha) except -1:
    """c = alpha * op(a) @ op(b) over the (batch, heads) stack, without the GIL."""
    cdef AttnMats ma = attn_mats(a), mb = attn_mats(b), mc = attn_mats(c)
    cdef bint f64 = c._dtype == F64
    cdef Py_ssize_t heads = c._shape[1], count = c._shape[0] * c._shape[1]
    with nogil:
        attn_gemm(f64, count, heads, ta, tb, m, n, k, alpha, ma, mb, mc)
    return 0


cdef Tensor attn_stack(Tensor like, Py_ssize_t rows, Py_ssize_t cols):
    """A new contiguous (batch, heads, rows, cols) tensor of like's dtype."""
    cdef Py_ssize_t shape[4]
    shape[0] = like._shape[0]
    shape[1] = like._shape[1]
    shape[2] = rows
    shape[3] = cols
    return new_tensor(4, shape, like._dtype)


cdef bint attn_inputs_fit(Tensor q, Tensor k, Tensor v) noexcept:
    if not _pool_probed:
        try:
            probe_pool_gemm()
        except Exception:
            return False
    if _pool_sgemm == NULL or _pool_dgemm == NULL:
        return False
    if q._dtype != F32 and q._dtype != F64:
        return False
    if k._dtype != q._dtype or v._dtype != q._dtype:
        return False
    if q._ndim != 4 or k._ndim != 4 or v._ndim != 4:
        return False
    if k._shape[0] != q._shape[0] or v._shape[0] != q._shape[0]:
        return False
    if k._shape[1] != q._shape[1] or v._shape[1] != q._shape[1]:
        return False
    if k._shape[3] != q._shape[3] or v._shape[2] != k._shape[2]:
        return False
    # empty stacks and zero-length products: the composite handles them
    return q._numel > 0 and k._numel > 0 and v._numel > 0


def _attention_forward(Tensor query, Tensor key, Tensor value, double scale):
    """(softmax(scale * q k^T) v, the softmax's weights) for 4-D (batch,
    heads, length, features) float32 / float64 tensors, unrecorded; None
    when the inputs do not fit (see the top of this file)."""
    cdef Tensor scores, weights, out
    cdef Py_ssize_t L, S, E, Ev
    # _set_blas_on_cgrad_threads(False) (benchmarks) sends products to numpy
    if not _pool_enabled or not attn_inputs_fit(query, key, value):
        return None
    query, key, value = attn_operand(query), attn_operand(key), attn_operand(value)
    L, E, S, Ev = query._shape[2], query._shape[3], key._shape[2], value._shape[3]
    scores = attn_stack(query, L, S)
    attn_product(scores, query, CBLAS_NO_TRANS, key, CBLAS_TRANS, L, S, E, scale)
    weights = attn_stack(query, L, S)
    nn_softmax_kernel(weights, scores, 3, False)
    scores = None
    out = attn_stack(query, L, Ev)
    attn_product(out, weights, CBLAS_NO_TRANS, value, CBLAS_NO_TRANS, L, Ev, S, 1.0)
    return out, weights


def _attention_backward(Tensor grad_out, Tensor query, Tensor key, Tensor value, Tensor weights, double scale,
                        bint need_query, bint need_key, bint need_value):
    """(grad query, grad key, grad value) of _attention_forward's output,
    None where not needed; None altogether when the inputs do not fit
    (never for those of a forward that fit)."""
    cdef Tensor grad_w, grad_s, grad_q = None, grad_k = None, grad_v = None
    cdef Py_ssize_t L, S, E, Ev
    if not attn_inputs_fit(query, key, value) or grad_out._dtype != query._dtype:
        return None
    if grad_out._ndim != 4 or weights._ndim != 4 or not weights._contiguous:
        return None
    query, key, value = attn_operand(query), attn_operand(key), attn_operand(value)
    grad_out = attn_operand(grad_out)
    L, E, S, Ev = query._shape[2], query._shape[3], key._shape[2], value._shape[3]
    if need_value:
        grad_v = attn_stack(query, S, Ev)
        attn_product(grad_v, weights, CBLAS_TRANS, grad_out, CBLAS_NO_TRANS, S, Ev, L, 1.0)
    if need_query or need_key:
        grad_w = attn_stack(query, L, S)
        attn_product(grad_w, grad_out, CBLAS_NO_TRANS, value, CBLAS_TRANS, L, S, Ev, 1.0)
        grad_s = nn_softmax_backward_kernel(grad_w, weights, 3, False)
        grad_w = None
        if need_query:
            grad_q = attn_stack(query, L, E)
            attn_product(grad_q, grad_s, CBLAS_NO_TRANS, key, CBLAS_NO_TRANS, L, E, S, scale)
        if need_key:
            grad_k = attn_stack(query, S, E)
            attn_product(grad_k, grad_s, CBLAS_TRANS, query, CBLAS_NO_TRANS, S, E, L, scale)
    return grad_q, grad_k, grad_v
