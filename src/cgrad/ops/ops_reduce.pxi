# Reductions: sum and mean over all dims or a set of dims.
#
# Kernel: the accumulator is an operand whose reduced dims have size 1, so
# run_elementwise broadcasts it (stride 0) against the input: a row kernel
# sees either a reduced inner dim (stride 0: one running sum) or a kept one
# (o[i] += x[i], vectorised). float32 accumulates in float64, which makes
# its sums at least as accurate as PyTorch's cascade summation. Large
# contiguous float inputs take reduce_sum_threads.pxi's blocked kernels over
# threads instead (sum_large).

ctypedef fused sum_in_t:
    float
    double
    int64_t
    uint8_t
    int8_t
    int16_t
    int32_t


cdef inline void sum_row_impl(sum_in_t* x, char** p, const Py_ssize_t* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, sx = s[1]
    cdef double d0 = 0, d1 = 0, d2 = 0, d3 = 0
    cdef int64_t k0 = 0
    cdef double* od
    cdef int64_t* oi
    if sum_in_t is float or sum_in_t is double:
        od = <double*>p[0]
        if s[0] == 0:
            # four partial sums: shorter dependency chains, smaller rounding error
            i = 0
            if sx == 1:
                while i + 4 <= n:
                    d0 += x[i]
                    d1 += x[i + 1]
                    d2 += x[i + 2]
                    d3 += x[i + 3]
                    i += 4
            while i < n:
                d0 += x[i * sx]
                i += 1
            od[0] += (d0 + d1) + (d2 + d3)
        else:
            for i in range(n):
                od[i * s[0]] += x[i * sx]
    else:
        oi = <int64_t*>p[0]
        if s[0] == 0:
            for i in range(n):
                k0 += x[i * sx]
            oi[0] += k0
        else:
            for i in range(n):
                oi[i * s[0]] += x[i * sx]


cdef void sum_row_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    sum_row_impl(<float*>p[1], p, s, n)

cdef void sum_row_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    sum_row_impl(<double*>p[1], p, s, n)

cdef void sum_row_I64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    sum_row_impl(<int64_t*>p[1], p, s, n)

cdef void sum_row_BOOL(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    sum_row_impl(<uint8_t*>p[1], p, s, n)

cdef void sum_row_I8(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    sum_row_impl(<int8_t*>p[1], p, s, n)

cdef void sum_row_I16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    sum_row_impl(<int16_t*>p[1], p, s, n)

cdef void sum_row_I32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    sum_row_impl(<int32_t*>p[1], p, s, n)


cdef void sum_row_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    # float16: blocks converted to float32, then float32's row (float64
    # accumulation; PyTorch accumulates half in float32), rounded once at the end
    half_blocks(sum_row_F32, 2, p, s, n, ctx, 2, sizeof(double))


cdef void sum_row_BF16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    bf16_blocks(sum_row_F32, 2, p, s, n, ctx, 2, sizeof(double))


cdef RowFn SUM_ROWS[NUM_DTYPES]
SUM_ROWS[F32] = sum_row_F32
SUM_ROWS[F64] = sum_row_F64
SUM_ROWS[I64] = sum_row_I64
SUM_ROWS[BOOL] = sum_row_BOOL
SUM_ROWS[F16] = sum_row_F16
SUM_ROWS[I8] = sum_row_I8
SUM_ROWS[I16] = sum_row_I16
SUM_ROWS[I32] = sum_row_I32
SUM_ROWS[U8] = sum_row_BOOL
SUM_ROWS[BF16] = sum_row_BF16


cdef bint is_dim_arg(object dim):
    """What PyTorch's parser takes as a reduction's dim: None, an int or a
    sequence of ints."""
    cdef object item
    if dim is None or type(dim) is int:
        return True
    if type(dim) is tuple or type(dim) is list:
        for item in dim:
            if type(item) is not int and not isinstance(item, np.integer):
                return False
        return True
    if isinstance(dim, np.integer):
        return True
    return isinstance(dim, Tensor) and (<Tensor>dim)._numel == 1 and not is_float((<Tensor>dim)._dtype)


cdef int check_reduce_dim(object dim, str name) except -1:
    """sum(dim=<not ints>) / mean(...): PyTorch's invalid-combination text
    (as for the dim given alone, positionally)."""
    if not is_dim_arg(dim):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({py_typename(dim)}), but expected "
            f"one of:\n * (*, cgrad.dtype dtype = None)\n * (tuple of ints dim, bool keepdim = False, *, "
            f"cgrad.dtype dtype = None)\n")
    return 0


cdef int parse_dims(object dim, int ndim, bint* mask) except -1:
    """Fill mask[d] for the dims to reduce. dim: None, an int or a sequence
    (empty meaning all, as in PyTorch). Returns the number of reduced dims."""
    cdef int d, count = 0
    for d in range(ndim):
        mask[d] = False
    if dim is None:
        for d in range(ndim):
            mask[d] = True
        return ndim
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            for d in range(ndim):
                mask[d] = True
            return ndim
        for item in dim:
            d = wrap_dim(as_index(item, "dim"), ndim)
            if ndim == 0:
                # every dim of a 0-d tensor is dim 0: named twice is an error too
                if count:
                    raise RuntimeError("dim 0 appears multiple times in the list of dims")
                count = 1
                continue
            if mask[d]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
            mask[d] = True
            count += 1
        return count if ndim > 0 else 0
    d = wrap_dim(as_index(dim, "dim"), ndim)
    if ndim > 0:
        mask[d] = True
        return 1
    return 0


cdef Tensor sum_kernel(Tensor x, const bint* mask, bint keepdim, bint mean):
    """OUT the sum (or mean) of x over the masked dims (no history)."""
    cdef Py_ssize_t kshape[MAX_DIMS]
    cdef Py_ssize_t oshape[MAX_DIMS]
    cdef int d, ond = 0
    cdef Py_ssize_t count = 1
    cdef int acc_dt = F64 if is_float(x._dtype) else I64
    cdef int out_dt = x._dtype if is_float(x._dtype) else I64
    cdef Tensor acc, out
    cdef Operand ops[2]
    out = sum_large(x, mask, keepdim, mean)     # None below its size threshold
    if out is not None:
        return out
    for d in range(x._ndim):
        if mask[d]:
            kshape[d] = 1
            count *= x._shape[d]
            if keepdim:
                oshape[ond] = 1
                ond += 1
        else:
            kshape[d] = x._shape[d]
            oshape[ond] = x._shape[d]
            ond += 1
    acc = new_tensor(x._ndim, kshape, acc_dt, True)
    ops[0] = operand_of(acc)
    ops[1] = operand_of(x)
    run_elementwise(SUM_ROWS[x._dtype], 2, ops, x._ndim, x._shape, x._numel, NULL)
    if mean:
        acc = scalar_kernel(DIV_ROWS, acc, <double>count, False, F64, F64, "div")
    if acc_dt == out_dt:
        out = acc
    else:
        out = cast_tensor(acc, out_dt)
    # drop the reduced dims (or keep them as 1s): same buffer, new shape
    init_dims_reshape(out, ond, oshape)
    return out


cdef void init_dims_reshape(Tensor t, int ndim, const Py_ssize_t* shape) except *:
    """Give a fresh contiguous tensor a new shape of the same numel."""
    cdef int i
    if t._shape != t._dims:
        free(t._shape)
    init_dims(t, ndim)
    for i in range(ndim):
        t._shape[i] = shape[i]
    set_contiguous_strides(t)


cdef class ReduceNode(Node):
    """Base of the sum/mean nodes: with dtype= the reduction ran on a
    converted input, and the gradient goes back in the input's own dtype (as
    PyTorch's engine casts it to the input's metadata; no ToCopyBackward0)."""
    cdef int self_dtype

    cdef inline Tensor to_input_dtype(self, Tensor g):
        return g if g._dtype == self.self_dtype else op_to_dtype(g, self.self_dtype)


cdef class SumBackward0(ReduceNode):
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (self.to_input_dtype(op_expand(<Tensor>grads, self.self_sizes)),)


cdef class SumBackward1(ReduceNode):
    cdef tuple self_sizes
    cdef tuple dims        # reduced dims, ascending
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        if not self.keepdim:
            g = unsqueeze_dims(g, self.dims)
        return (self.to_input_dtype(op_expand(g, self.self_sizes)),)


cdef class MeanBackward0(ReduceNode):
    cdef tuple self_sizes
    cdef Py_ssize_t count

    cdef tuple apply(self, object grads):
        return (self.to_input_dtype(op_div_scalar(op_expand(<Tensor>grads, self.self_sizes), self.count)),)


cdef class MeanBackward1(ReduceNode):
    cdef tuple self_sizes
    cdef tuple dims
    cdef bint keepdim
    cdef Py_ssize_t count

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        if not self.keepdim:
            g = unsqueeze_dims(g, self.dims)
        return (self.to_input_dtype(op_div_scalar(op_expand(g, self.self_sizes), self.count)),)


cdef Tensor unsqueeze_dims(Tensor g, tuple dims):
    for d in dims:
        g = op_unsqueeze(g, d)
    return g


cdef tuple masked_dims(const bint* mask, int ndim):
    cdef int d
    return tuple([d for d in range(ndim) if mask[d]])


cdef Tensor op_sum(Tensor x, object dim=None, bint keepdim=False, object dtype=None):
    """sum; integer and bool inputs give int64, and dtype= converts the input
    first and is the result's dtype."""
    cdef bint mask[MAX_DIMS]
    cdef Tensor out, src = x
    cdef SumBackward0 n0
    cdef SumBackward1 n1
    cdef int dt = -1
    if dtype is not None:
        dt = dtype_code(dtype)
        if needs_grad(x) and not is_float(dt):
            raise RuntimeError(f"Autograd not support dtype: {dtype_title(dt)}")
        if dt != x._dtype:
            src = cast_tensor(x, dt)
    parse_dims(dim, x._ndim, mask)
    out = sum_kernel(src, mask, keepdim, False)
    if dt >= 0 and out._dtype != dt:
        out = cast_tensor(out, dt)
    if needs_grad(x):
        if dim is None:
            n0 = SumBackward0.__new__(SumBackward0)
            wire1(n0, x)
            n0.self_sizes = shape_tuple(x)
            n0.self_dtype = x._dtype
            set_history(out, n0)
        else:
            n1 = SumBackward1.__new__(SumBackward1)
            wire1(n1, x)
            n1.self_sizes = shape_tuple(x)
            n1.dims = masked_dims(mask, x._ndim)
            n1.keepdim = keepdim
            n1.self_dtype = x._dtype
            set_history(out, n1)
    return out


cdef Tensor op_mean(Tensor x, object dim=None, bint keepdim=False, object dtype=None):
    cdef bint mask[MAX_DIMS]
    cdef Tensor out
    cdef MeanBackward0 n0
    cdef MeanBackward1 n1
    cdef Py_ssize_t count = 1
    cdef int d
    cdef Tensor src = x
    cdef int half_result = -1
    if dtype is not None:
        d = dtype_code(dtype)
        if d != x._dtype and (d == F16 or d == BF16):
            # PyTorch's CPU mean into a half type: the input converted to float32 (not to the half
            # type), summed and divided there, rounded once at the end
            half_result = d
            d = F32
        if d != x._dtype:
            src = cast_tensor(x, d)
    if not is_float(src._dtype):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {dtype_title(src._dtype)}")
    parse_dims(dim, x._ndim, mask)
    for d in range(x._ndim):
        if mask[d]:
            count *= x._shape[d]
    out = sum_kernel(src, mask, keepdim, True)
    if half_result >= 0:
        out = cast_tensor(out, half_result)
    if needs_grad(x):
        if dim is None:
            n0 = MeanBackward0.__new__(MeanBackward0)
            wire1(n0, x)
            n0.self_sizes = shape_tuple(x)
            n0.count = count
            n0.self_dtype = x._dtype
            set_history(out, n0)
        else:
            n1 = MeanBackward1.__new__(MeanBackward1)
            wire1(n1, x)
            n1.self_sizes = shape_tuple(x)
            n1.dims = masked_dims(mask, x._ndim)
            n1.keepdim = keepdim
            n1.count = count
            n1.self_dtype = x._dtype
            set_history(out, n1)
    return out


cdef Tensor op_sum_to(Tensor g, tuple shape):
    """Sum g down to `shape` (which g's shape broadcasts from): the leading
    extra dims and the dims where shape has 1."""
    cdef int lead = g._ndim - len(shape)
    cdef list dims = list(range(lead))
    cdef int i
    for i in range(len(shape)):
        if shape[i] == 1 and g._shape[lead + i] != 1:
            dims.append(lead + i)
    if dims:
        g = op_sum(g, tuple(dims), True)
    if lead > 0 or g._ndim != len(shape):
        g = op_view(g, shape)
    return g


cdef bint has_nan(Tensor t):
    if not is_float(t._dtype):
        return False
    if t._dtype == BF16:
        t = cast_tensor(t, F32)
    return bool(np.isnan(ndarray_view(t)).any())
