# Single-rounding pointwise kernels (add/sub with alpha, lerp, addcmul,
# addcdiv): the rows are C (fma_rows.h, whose top comment records what
# PyTorch computes for each dtype and path); here the row of a dtype is
# picked, its numbers converted as PyTorch converts its Scalars, and run
# over broadcast operands. float16 / bfloat16 lerp, addcmul and addcdiv
# run the float32 row on converted blocks and round once (h16_blocks);
# their add with alpha has its own row (PyTorch's scalar path rounds in
# the 16-bit type).


cdef extern from "fma_rows.h" nogil:
    ctypedef struct cg_fma_ctx:
        double k
        float kf
        int bf16
    void cg_axpy_row_f32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_axpy_row_f64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_axpy_row_h16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_lerp_row_f32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_lerp_row_f64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_lerp_tensor_row_f32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_lerp_tensor_row_f64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_addcmul_row_f32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_addcmul_row_f64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_addcdiv_row_f32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept
    void cg_addcdiv_row_f64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept


cdef enum FusedKind:
    FUSED_AXPY          # a + alpha * b
    FUSED_LERP          # lerp(a, b, number)
    FUSED_LERP_TENSOR   # lerp(a, b, w)
    FUSED_ADDCMUL       # a + value * t1 * t2
    FUSED_ADDCDIV       # a + value * t1 / t2


cdef void lerp_row_h16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    h16_blocks(cg_lerp_row_f32, 3, p, s, n, ctx, 7, 4, (<cg_fma_ctx*>ctx).bf16)


cdef void lerp_tensor_row_h16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    h16_blocks(cg_lerp_tensor_row_f32, 4, p, s, n, ctx, 15, 4, (<cg_fma_ctx*>ctx).bf16)


cdef void addcmul_row_h16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    h16_blocks(cg_addcmul_row_f32, 4, p, s, n, ctx, 15, 4, (<cg_fma_ctx*>ctx).bf16)


cdef void addcdiv_row_h16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    h16_blocks(cg_addcdiv_row_f32, 4, p, s, n, ctx, 15, 4, (<cg_fma_ctx*>ctx).bf16)


cdef inline bint has_fused_rows(int dt) noexcept:
    """The dtypes these kernels serve (the floating ones; integers keep the
    composed kernels, exact in any order)."""
    return dt == F32 or dt == F64 or dt == F16 or dt == BF16


cdef RowFn fused_row(int kind, int dt) noexcept:
    cdef bint h16 = dt == F16 or dt == BF16
    if kind == FUSED_AXPY:
        return cg_axpy_row_f32 if dt == F32 else cg_axpy_row_f64 if dt == F64 else cg_axpy_row_h16
    if kind == FUSED_LERP:
        return cg_lerp_row_f32 if dt == F32 else cg_lerp_row_f64 if dt == F64 else lerp_row_h16
    if kind == FUSED_LERP_TENSOR:
        return (cg_lerp_tensor_row_f32 if dt == F32 else cg_lerp_tensor_row_f64 if dt == F64
                else lerp_tensor_row_h16)
    if kind == FUSED_ADDCMUL:
        return cg_addcmul_row_f32 if dt == F32 else cg_addcmul_row_f64 if dt == F64 else addcmul_row_h16
    return cg_addcdiv_row_f32 if dt == F32 else cg_addcdiv_row_f64 if dt == F64 else addcdiv_row_h16


cdef inline float in_dtype(double x, int dt) noexcept:
    """A Python number as PyTorch's Scalar.to<scalar_t>() gives it for a
    16-bit dtype (through float), back in float32 (exact)."""
    if dt == F16:
        return cg_h2f(cg_f2h(<float>x))
    if dt == BF16:
        return cg_bf2f(cg_f2bf(<float>x))
    return <float>x


cdef int run_fused_rows(int kind, int dt, Operand* ops, int nops, int nd, const Py_ssize_t* shape,
                        Py_ssize_t count, object k) except -1:
    """Run the fused row of `kind` for dtype dt over operands already in dt
    (ops[0] the output), with its number k: alpha in the dtype (PyTorch's
    alpha.to<scalar_t>()), weight and value in the compute type (float32
    for the 16-bit types: to<opmath_t>())."""
    cdef cg_fma_ctx c
    c.k = <double>k
    c.bf16 = dt == BF16
    c.kf = in_dtype(c.k, dt) if kind == FUSED_AXPY else <float>c.k
    return run_elementwise(fused_row(kind, dt), nops, ops, nd, shape, count, &c)


cdef bint same_dense_layout(Tensor x, Tensor y) noexcept:
    """Whether x and y have one shape and one layout that covers its
    memory without gaps (a permuted contiguous tensor: a transpose)."""
    cdef Py_ssize_t expected = 1, best = 0
    cdef int i, j, pick
    cdef bint used[MAX_DIMS]
    if x._ndim != y._ndim:
        return False
    for i in range(x._ndim):
        if x._shape[i] != y._shape[i] or (x._shape[i] > 1 and x._strides[i] != y._strides[i]):
            return False
        used[i] = x._shape[i] <= 1
    for j in range(x._ndim):        # the dims from the smallest stride up must tile the memory
        pick = -1
        for i in range(x._ndim):
            if not used[i] and (pick < 0 or x._strides[i] < best):
                pick = i
                best = x._strides[i]
        if pick < 0:
            break
        if best != expected:
            return False
        used[pick] = True
        expected *= x._shape[pick]
    return True


cdef Tensor axpy_h16_memory_order(Tensor x, Tensor y, object alpha, Tensor into):
    """16-bit add with alpha over operands of one gap-free permuted layout:
    PyTorch's iterator walks them as one contiguous row in memory order, and
    where its vector blocks end decides each element's rounding
    (fma_rows.h), so the row runs over the memory as it lies; the result
    goes into `into` or a new tensor, both in that layout."""
    cdef cg_fma_ctx c
    cdef char* p[3]
    cdef Py_ssize_t s[3]
    cdef Py_ssize_t n = x._numel
    cdef Tensor tmp = into if into is not None else new_strided(x._ndim, x._shape, x._strides, x._dtype)
    c.k = <double>alpha
    c.bf16 = x._dtype == BF16
    c.kf = in_dtype(c.k, x._dtype)
    p[0] = tmp._data
    p[1] = x._data
    p[2] = y._data
    s[0] = s[1] = s[2] = 1
    with nogil:
        cg_axpy_row_h16(p, s, n, &c)
    return tmp


cdef enum:
    TORCH_GRAIN_SIZE = 32768    # at::internal::GRAIN_SIZE: TensorIterator splits over threads from here


cdef inline bint uses_torch_chunks(int dt, Tensor out) noexcept:
    """Whether PyTorch splits this 16-bit add with alpha over threads."""
    return (dt == F16 or dt == BF16) and out._numel >= TORCH_GRAIN_SIZE and _num_threads > 1 and out._contiguous


cdef void axpy_h16_torch_chunks(Tensor out, Tensor x, char* y, bint y_one, object alpha) except *:
    """16-bit add with alpha over a large contiguous tensor, in the parts
    PyTorch's parallel_for gives its threads (min(threads, n / grain)
    equal parts): each part ends in its own scalar tail (fma_rows.h), so
    the parts decide which elements round twice. cgrad's thread count
    stands for torch's (both default to the cores). y is one element
    (broadcast) when y_one, else contiguous like x and out."""
    cdef cg_fma_ctx c
    cdef char* p[3]
    cdef Py_ssize_t s[3]
    cdef Py_ssize_t n = out._numel, parts, size, begin, end
    c.k = <double>alpha
    c.bf16 = out._dtype == BF16
    c.kf = in_dtype(c.k, out._dtype)
    parts = (n + TORCH_GRAIN_SIZE - 1) // TORCH_GRAIN_SIZE
    if parts > _num_threads:
        parts = _num_threads
    size = (n + parts - 1) // parts
    s[0] = s[1] = 1
    s[2] = 0 if y_one else 1
    with nogil:
        begin = 0
        while begin < n:
            end = begin + size if begin + size < n else n
            p[0] = out._data + 2 * begin
            p[1] = x._data + 2 * begin
            p[2] = y + 2 * begin * s[2]
            cg_axpy_row_h16(p, s, end - begin, &c)
            begin = end


cdef Tensor fused_values(int kind, int dt, Tensor x, Tensor y, Tensor z, object k, Tensor into):
    """OUT the fused op of `kind` over x, y (and z, None for the
    three-operand kinds) converted to dt and broadcast together, with the
    number k; OUT is `into` when given (in place: it has the
    broadcast shape, the caller checked), else a new tensor. No history."""
    cdef Py_ssize_t xy[MAX_DIMS]
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Operand ops[4]
    cdef Tensor out
    cdef int nd = broadcast_shapes(x._ndim, x._shape, y._ndim, y._shape, shape)
    cdef int nops = 3 if z is None else 4
    cdef Tensor x0 = x, y0 = y, z0 = z     # the result is laid out from these, not from cast copies
    if z is not None:
        memcpy(xy, shape, nd * sizeof(Py_ssize_t))
        nd = broadcast_shapes(nd, xy, z._ndim, z._shape, shape)
    if z is not None:
        if z._dtype != dt:
            z = cast_tensor(z, dt)
    if x._dtype != dt:
        x = cast_tensor(x, dt)
    if y._dtype != dt:
        y = cast_tensor(y, dt)
    if kind == FUSED_AXPY and (dt == F16 or dt == BF16) and not x._contiguous and same_dense_layout(x, y) \
            and (into is None or same_dense_layout(x, into)):
        return axpy_h16_memory_order(x, y, k, into)
    out = into if into is not None else new_result(nd, shape, dt, x0, y0, z0)
    if (kind == FUSED_AXPY and uses_torch_chunks(dt, out) and x._contiguous and x._numel == out._numel
            and (y._numel == 1 or (y._contiguous and y._numel == out._numel))):
        axpy_h16_torch_chunks(out, x, y._data, y._numel == 1, k)
        return out
    ops[0] = operand_of(out)
    ops[1] = operand_of(x)
    ops[2] = operand_of(y)
    if z is not None:
        ops[3] = operand_of(z)
    run_fused_rows(kind, dt, ops, nops, nd, shape, out._numel, k)
    return out


cdef Tensor fused_number_values(int dt, Tensor x, object number, object alpha, Tensor into):
    """OUT x + number * alpha (PyTorch's add(Tensor, Scalar, alpha): the
    number is a broadcast operand in the dtype), new or `into`; no history."""
    cdef Operand ops[3]
    # the number in dt (Scalar.to<scalar_t>()), each width in a variable of
    # its own type (no type-punned stores)
    cdef double number_f64 = 0
    cdef float number_f32 = 0
    cdef uint16_t number_16 = 0
    cdef char* buf
    cdef Tensor out
    out = into if into is not None else new_scalar_result(x._ndim, x._shape, dt, x)
    if x._dtype != dt:
        x = cast_tensor(x, dt)
    if dt == F64:
        number_f64 = <double>number
        buf = <char*>&number_f64
    elif dt == F32:
        number_f32 = <float><double>number
        buf = <char*>&number_f32
    else:
        number_16 = cg_f2h(<float><double>number) if dt == F16 else cg_f2bf(<float><double>number)
        buf = <char*>&number_16
    if (uses_torch_chunks(dt, out) and x._contiguous):
        axpy_h16_torch_chunks(out, x, buf, True, alpha)
        return out
    ops[0] = operand_of(out)
    ops[1] = operand_of(x)
    ops[2] = operand_of_scalar(buf, ITEMSIZE[dt])
    run_fused_rows(FUSED_AXPY, dt, ops, 3, out._ndim, out._shape, out._numel, alpha)
    return out
