# square, and the predicates: isnan/isinf/isfinite, any/all/count_nonzero,
# isclose/allclose, nonzero. Only square has history (PyTorch's composite
# pow(x, 2)); the others give bool, uint8 or int64 results.


# ---------------------------------------------------------------------------
# square: PyTorch's is a composite, pow(x, 2) (PowBackward0)

cdef Tensor op_square(Tensor x):
    return op_pow_scalar(x, 2)


cdef Tensor op_square_(Tensor x):
    cdef Tensor r
    check_inplace(x)
    if x._dtype == BOOL:
        raise RuntimeError("result type Long can't be cast to the desired output type Bool")
    if (cgrad_grad_enabled and x._requires_grad) or has_tangent(x):
        return commit_inplace(x, op_pow_scalar(old_value(x, True), 2))
    r = op_pow_scalar(x, 2)
    copy_into(x, r)
    x._storage.version += 1
    return x


def square(input):
    return op_square(input_arg(input, "square"))


def square_(input):
    return op_square_(input_arg(input, "square_"))


# ---------------------------------------------------------------------------
# isnan, isinf, isfinite: bool results, no history. ctx points to the mode.

cdef enum:
    FP_ISNAN = 0
    FP_ISINF = 1
    FP_ISFINITE = 2


cdef void fpclass_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint32_t* x = <const uint32_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint32_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]] & 0x7fffffffu
        if mode == FP_ISNAN:
            o[i * s[0]] = b > 0x7f800000u
        elif mode == FP_ISINF:
            o[i * s[0]] = b == 0x7f800000u
        else:
            o[i * s[0]] = b < 0x7f800000u


cdef void fpclass_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint64_t* x = <const uint64_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint64_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]] & 0x7fffffffffffffffULL
        if mode == FP_ISNAN:
            o[i * s[0]] = b > 0x7ff0000000000000ULL
        elif mode == FP_ISINF:
            o[i * s[0]] = b == 0x7ff0000000000000ULL
        else:
            o[i * s[0]] = b < 0x7ff0000000000000ULL


cdef void fpclass_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint16_t* x = <const uint16_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint16_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]] & 0x7fff
        if mode == FP_ISNAN:
            o[i * s[0]] = b > 0x7c00
        elif mode == FP_ISINF:
            o[i * s[0]] = b == 0x7c00
        else:
            o[i * s[0]] = b < 0x7c00


cdef Tensor op_fpclass(Tensor x, int mode):
    cdef Tensor out
    cdef Operand ops[2]
    if not is_float(x._dtype):
        out = new_tensor(x._ndim, x._shape, BOOL, True)
        if mode == FP_ISFINITE:
            fill_scalar(out, True)
        return out
    out = new_unary_result(x._ndim, x._shape, BOOL, x)
    if x._dtype == BF16:
        x = cast_tensor(x, F32)     # exact: a bfloat16 is a float32's top half
    ops[0] = operand_of(out)
    ops[1] = operand_of(x)
    run_elementwise(fpclass_F32 if x._dtype == F32 else (fpclass_F64 if x._dtype == F64 else fpclass_F16),
                    2, ops, out._ndim, out._shape, out._numel, &mode)
    return out


def isnan(input):
    return op_fpclass(input_arg(input, "isnan"), FP_ISNAN)


def isinf(input):
    return op_fpclass(input_arg(input, "isinf"), FP_ISINF)


def isfinite(input):
    return op_fpclass(input_arg(input, "isfinite"), FP_ISFINITE)


# ---------------------------------------------------------------------------
# any, all (bool results; uint8 for uint8 inputs, as PyTorch), count_nonzero:
# the nonzero mask summed by the int64 sum kernel over the reduced dims.

cdef Tensor op_any_all(Tensor x, object dim, bint keepdim, bint is_all):
    cdef Tensor mask, counts, out
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        # PyTorch's any/all over no dims reduce nothing: each element's truth (sum's () is every dim)
        out = op_compare(CMP_NE, alias_detached(x), 0)
        return cast_tensor(out, U8) if x._dtype == U8 else out
    mask = op_compare(CMP_EQ if is_all else CMP_NE, alias_detached(x), 0)
    counts = op_sum(mask, dim, keepdim)
    out = op_compare(CMP_EQ if is_all else CMP_NE, counts, 0)
    if x._dtype == U8:
        out = cast_tensor(out, U8)
    return out


cdef object reduce_dim_arg(object dim):
    if dim is None or isinstance(dim, (list, tuple)):
        return dim
    return as_index(dim, "dim")


def _any(input, dim=None, keepdim=False, *, out=None, **kwargs):
    cdef Tensor x
    if kwargs:
        dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "any")
    x = input_arg(input, "any")
    if isinstance(out, Tensor) and (<Tensor>out)._dtype != BOOL and (<Tensor>out)._dtype != U8:
        raise RuntimeError(f"any only supports bool tensor for result, got: {dtype_title((<Tensor>out)._dtype)}")
    return with_out(op_any_all(x, reduce_dim_arg(dim), keepdim, False), out, "any")


def _all(input, dim=None, keepdim=False, *, out=None, **kwargs):
    cdef Tensor x
    if kwargs:
        dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "all")
    x = input_arg(input, "all")
    if isinstance(out, Tensor) and (<Tensor>out)._dtype != BOOL and (<Tensor>out)._dtype != U8:
        raise RuntimeError(f"all only supports bool tensor for result, got: {dtype_title((<Tensor>out)._dtype)}")
    return with_out(op_any_all(x, reduce_dim_arg(dim), keepdim, True), out, "all")


export_as("any", _any)
export_as("all", _all)


cdef Tensor op_count_nonzero(Tensor x, object dim):
    return op_sum(op_compare(CMP_NE, alias_detached(x), 0), reduce_dim_arg(dim), False)


def count_nonzero(input, dim=None, **kwargs):
    if kwargs:
        dim = axis_kwarg(NO_ARG if dim is None else dim, kwargs, "count_nonzero")
    return op_count_nonzero(input_arg(input, "count_nonzero"), dim)


# ---------------------------------------------------------------------------
# isclose / allclose: PyTorch's formula, |a - b| <= atol + |rtol * b| where
# finite, or a == b (NaN == NaN with equal_nan), on detached inputs.

cdef Tensor op_isclose(Tensor a, Tensor b, double rtol, double atol, bint equal_nan):
    cdef Tensor close, ca, cb, allowed, actual
    if a._dtype != b._dtype:
        raise RuntimeError(f"{dtype_title(a._dtype)} did not match {dtype_title(b._dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {format_double(rtol)}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {format_double(atol)}")
    a = alias_detached(a)
    b = alias_detached(b)
    close = op_compare(CMP_EQ, a, b)
    if equal_nan and is_float(a._dtype):
        close = op_logical(LG_OR, close, op_logical(LG_AND, op_fpclass(a, FP_ISNAN),
                                                              op_fpclass(b, FP_ISNAN)))
    if rtol == 0 and atol == 0:
        return close
    ca = a if is_float(a._dtype) else cast_tensor(a, DEFAULT_FLOAT)
    cb = b if is_float(b._dtype) else cast_tensor(b, DEFAULT_FLOAT)
    allowed = op_add_scalar(op_abs(op_mul_scalar(cb, rtol)), atol)
    actual = op_abs(op_sub(ca, cb))
    return op_logical(LG_OR, close, op_logical(LG_AND, op_fpclass(actual, FP_ISFINITE),
                                                    op_compare(CMP_LE, actual, allowed)))


cdef str format_double(double v):
    return str(int(v)) if v == <long long>v else repr(v)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return op_isclose(input_arg(input, "isclose"), need_tensor(other, "isclose", "other", 2),
                      rtol, atol, equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    cdef Tensor c = op_isclose(input_arg(input, "allclose"), need_tensor(other, "allclose", "other", 2),
                               rtol, atol, equal_nan)
    return memchr(c._data, 0, c._numel) == NULL


# ---------------------------------------------------------------------------
# nonzero: the int64 (count, ndim) indices of the nonzero elements in
# row-major order; as_tuple gives one index tensor per dim.

cdef void nonzero_fill(const uint8_t* m, Py_ssize_t numel, int nd, const Py_ssize_t* shape,
                       int64_t* out) noexcept nogil:
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, k = 0
    cdef int d
    for d in range(nd):
        idx[d] = 0
    for i in range(numel):
        if m[i]:
            for d in range(nd):
                out[k * nd + d] = idx[d]
            k += 1
        d = nd - 1
        while d >= 0:
            idx[d] += 1
            if idx[d] < shape[d]:
                break
            idx[d] = 0
            d -= 1


cdef Tensor op_nonzero(Tensor x):
    cdef Tensor m = op_compare(CMP_NE, alias_detached(x), 0)
    cdef Py_ssize_t count
    cdef Py_ssize_t shape[2]
    cdef Tensor out
    if not m._contiguous:
        m = contiguous_copy(m)
    with nogil:
        count = count_true(<const uint8_t*>m._data, m._numel)
    shape[0] = count
    shape[1] = x._ndim
    out = new_tensor(2, shape, I64)
    if count > 0 and x._ndim > 0:
        with nogil:
            nonzero_fill(<const uint8_t*>m._data, m._numel, x._ndim, m._shape, <int64_t*>out._data)
    return out


cdef Py_ssize_t count_true(const uint8_t* m, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, c = 0
    for i in range(n):
        c += m[i] != 0
    return c


cdef object nonzero_call(Tensor x, bint as_tuple):
    cdef Tensor idx = op_nonzero(x)
    cdef Py_ssize_t shape[1]
    if not as_tuple:
        return idx
    if x._ndim == 0:
        # a 0-d input counts as 1-d, as in PyTorch
        shape[0] = idx._shape[0]
        return (new_tensor(1, shape, I64, True),)
    return tuple([contiguous_copy(op_select(idx, 1, d)) for d in range(x._ndim)])


def nonzero(input, *, out=None, as_tuple=False):
    return with_out(nonzero_call(input_arg(input, "nonzero"), as_tuple), out, "nonzero")
