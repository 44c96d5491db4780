# dtype promotion (PyTorch's result_type: zero-dim tensors and Python
# scalars count only when their category is higher) and Python scalars as
# operands of the pointwise ops: normalising numpy scalars, storing one in
# a dtype's bytes, PyTorch's overflow checks, and the float16 path of a
# tensor-and-scalar op. Included just before ops_pointwise.pxi, which runs
# the kernels these feed.


# ---------------------------------------------------------------------------
# Promotion


cdef int tensor_result_type(Tensor a, Tensor b) noexcept:
    """PyTorch's promotion of two tensors: zero-dim tensors only count when
    their category is above that of the dimensioned one."""
    cdef int da = a._dtype, db = b._dtype
    if da == db:
        return da
    if (a._ndim == 0) == (b._ndim == 0):
        return promote_types(da, db)
    if a._ndim == 0:
        return da if CATEGORY[da] > CATEGORY[db] else db
    return db if CATEGORY[db] > CATEGORY[da] else da


def _promote_types(type1, type2):
    """The dtype PyTorch's promotion table gives two dtypes (torch.promote_types)."""
    if not isinstance(type1, dtype):
        raise TypeError(f"promote_types(): argument 'type1' (position 1) must be cgrad.dtype, not "
                        f"{type(type1).__name__}")
    if not isinstance(type2, dtype):
        raise TypeError(f"promote_types(): argument 'type2' (position 2) must be cgrad.dtype, not "
                        f"{type(type2).__name__}")
    return DTYPES[PROMOTE[(<dtype>type1)._code][(<dtype>type2)._code]]


export_as("promote_types", _promote_types)   # the name of a cdef function here


def result_type(tensor1, tensor2):
    """The dtype of an arithmetic op on tensor1 and tensor2 (tensors or
    numbers): PyTorch's result_type (dimensioned tensors, then zero-dim
    ones, then numbers, each only when of a higher category)."""
    if not isinstance(tensor1, Tensor) and not isinstance(tensor2, Tensor):
        if not is_scalar(tensor1) or not is_scalar(tensor2):
            raise TypeError("result_type(): arguments must be tensors or numbers")
        return DTYPES[scalar_pair_type(normalize_scalar(tensor1), normalize_scalar(tensor2))]
    for v in (tensor1, tensor2):
        if not isinstance(v, Tensor) and not is_scalar(v):
            raise TypeError(f"result_type(): argument must be Tensor or Number, not {type(v).__name__}")
    return DTYPES[result_type3(normalize_scalar(tensor1), normalize_scalar(tensor2), None)]


cdef int scalar_pair_type(object a, object b) except -1:
    """Two numbers: float beats int beats bool; float is the default dtype,
    int int64 (torch.result_type of two Python numbers)."""
    cdef int cat = max(scalar_category(a), scalar_category(b))
    return BOOL if cat == CAT_BOOL else (I64 if cat == CAT_INT else DEFAULT_FLOAT)


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow from_ -> to in type-promoting
    ops: never to a lower category (float to integer, integer to bool)."""
    if not isinstance(from_, dtype):
        raise TypeError(f"can_cast(): argument 'from_' (position 1) must be cgrad.dtype, not "
                        f"{type(from_).__name__}")
    if not isinstance(to, dtype):
        raise TypeError(f"can_cast(): argument 'to' (position 2) must be cgrad.dtype, not "
                        f"{type(to).__name__}")
    return CATEGORY[(<dtype>from_)._code] <= CATEGORY[(<dtype>to)._code]


cdef int scalar_category(object s) except -1:
    if isinstance(s, bool):
        return CAT_BOOL
    if isinstance(s, int):
        return CAT_INT
    return CAT_FLOAT


cdef int scalar_result_type(int dt, object s) except -1:
    """A tensor of dtype dt against a Python scalar: the scalar only lifts
    the category (to int64 or the default float), never the width."""
    cdef int cat = scalar_category(s)
    if cat <= CATEGORY[dt]:
        return dt
    return DEFAULT_FLOAT if cat == CAT_FLOAT else I64


cdef bint is_scalar(object s):
    return isinstance(s, (float, int)) or isinstance(s, (np.floating, np.integer, np.bool_))


cdef object INT_SCALAR_MIN = -(1 << 63)
cdef object INT_SCALAR_END = 1 << 64


cdef object normalize_scalar(object s):
    if type(s) is float:
        return s
    if type(s) is int:
        # PyTorch's Scalar takes int64, else uint64 (CPython's texts)
        if s >= INT_SCALAR_END:
            raise OverflowError("int too big to convert")
        if s < INT_SCALAR_MIN:
            raise OverflowError("can't convert negative int to unsigned")
        return s
    if isinstance(s, (np.floating,)):
        return float(s)
    if isinstance(s, np.bool_):
        return bool(s)
    if isinstance(s, np.integer):
        return int(s)
    return s


cdef union ScalarBuf:
    float f32
    double f64
    int64_t i64
    uint8_t b8
    uint16_t f16
    int8_t i8
    int16_t i16
    int32_t i32
    uint8_t u8


cdef int store_scalar(ScalarBuf* buf, object s, int dt) except -1:
    """Write Python scalar s into buf as dtype dt, converted as PyTorch's
    Scalar.to<T>() converts it unchecked: integers wrap around, floats go
    to integers as the cast kernels take them, double to half via float."""
    cdef double d
    cdef int64_t i
    if dt == BOOL:
        buf.b8 = 1 if s else 0
        return 0
    if isinstance(s, float):
        d = <double>s
        if dt == F32:
            buf.f32 = <float>d
        elif dt == F64:
            buf.f64 = d
        elif dt == F16:
            buf.f16 = cg_d2h(d)
        elif dt == BF16:
            buf.f16 = cg_d2bf(d)
        elif dt == I64:
            buf.i64 = cg_d2i64(d)
        elif dt == U8:
            buf.u8 = <uint8_t>cg_d2i64(d)
        elif dt == I32:
            buf.i32 = cg_d2i32(d)
        elif dt == I16:
            buf.i16 = <int16_t>cg_d2i32(d)
        else:
            buf.i8 = <int8_t>cg_d2i32(d)
        return 0
    if dt == F32:
        buf.f32 = <float>(<double>s)
    elif dt == F64:
        buf.f64 = <double>s
    elif dt == F16:
        buf.f16 = cg_f2h(<float>(<double>s))
    elif dt == BF16:
        buf.f16 = cg_f2bf(<float>(<double>s))
    else:
        if s >= (1 << 63):
            s = s - (1 << 64)       # a uint64 Scalar: wraps around to the type
        i = <int64_t>s
        if dt == I64:
            buf.i64 = i
        elif dt == I32:
            buf.i32 = <int32_t>i
        elif dt == I16:
            buf.i16 = <int16_t>i
        elif dt == I8:
            buf.i8 = <int8_t>i
        else:
            buf.u8 = <uint8_t>i
    return 0


cdef tuple INT_LIMITS = ((0, 0), (0, 0), (-(1 << 63), (1 << 63) - 1), (0, 1), (0, 0), (-128, 127),
                         (-32768, 32767), (-(1 << 31), (1 << 31) - 1), (0, 255), (0, 0))
cdef double HALF_MAX = 65504.0
cdef double BFLOAT16_MAX = 3.3895313892515355e38
cdef double FLOAT_MAX = 3.4028234663852886e38


cdef bint scalar_overflows(object s, int dt) except -1:
    """c10::overflows<T>(value): whether Scalar.to<T>() of the Python number
    s refuses it. Integers: out of the type's range (uint8 also takes
    -255..-1, wrapping around); floats: out of range, and NaN and inf for
    integer types."""
    cdef double d
    if isinstance(s, bool) or dt == BOOL or dt == F64:
        return False
    if isinstance(s, int):
        if is_int(dt):
            lo, hi = INT_LIMITS[dt]
            if dt == U8 and s < 0:
                return s < -255
            return s < lo or s > hi
        if dt == F16:
            return s > HALF_MAX or s < -HALF_MAX
        if dt == BF16:
            return s > BFLOAT16_MAX or s < -BFLOAT16_MAX
        return False
    d = <double>s
    if is_int(dt):
        lo, hi = INT_LIMITS[dt]
        return d != d or d < lo or d > hi
    if d != d or d == cmath.INFINITY or d == -cmath.INFINITY:
        return False
    if dt == F16:
        return d > HALF_MAX or d < -HALF_MAX
    if dt == BF16:
        return d > BFLOAT16_MAX or d < -BFLOAT16_MAX
    return d > FLOAT_MAX or d < -FLOAT_MAX


cdef int check_scalar_convert(object s, int dt, str name=None) except -1:
    """Scalar.to<T>()'s checked conversion: PyTorch's RuntimeError naming the
    C type (or `name`) when s does not fit dtype dt."""
    if isinstance(s, int) and not isinstance(s, bool) and (s >= (1 << 64) or s < -(1 << 63)):
        raise OverflowError("int too big to convert")
    if scalar_overflows(s, dt):
        raise RuntimeError(
            f"value cannot be converted to type {C_SCALAR_NAMES[dt] if name is None else name} "
            "without overflow")
    return 0


cdef object wrap_int(object s, int dt):
    """An integer as the integer dtype dt holds it (C's wrap-around)."""
    cdef object bits = ITEMSIZE[dt] * 8      # a Python int: the shifts exceed C's int
    cdef object v = int(s) & ((1 << bits) - 1)
    if dt != U8 and v >= (1 << (bits - 1)):
        v -= 1 << bits
    return v


cdef double element_as_double(const char* p, int dt) noexcept nogil:
    """One element of dtype dt as a double (exact except int64 beyond 2^53)."""
    if dt == F32:
        return (<const float*>p)[0]
    if dt == F64:
        return (<const double*>p)[0]
    if dt == I64:
        return <double>(<const int64_t*>p)[0]
    if dt == F16:
        return cg_h2f((<const uint16_t*>p)[0])
    if dt == BF16:
        return cg_bf2f((<const uint16_t*>p)[0])
    if dt == I8:
        return (<const int8_t*>p)[0]
    if dt == I16:
        return (<const int16_t*>p)[0]
    if dt == I32:
        return (<const int32_t*>p)[0]
    return (<const uint8_t*>p)[0]


cdef inline float scalar_operand_as_float(Tensor b) noexcept:
    """A one-element operand as PyTorch's iter.original_scalar_value<float>
    reads it (int64 via float directly)."""
    if b._dtype == I64:
        return <float>(<int64_t*>b._data)[0]
    return <float>element_as_double(b._data, b._dtype)


cdef Tensor f16_scalar_kernel(RowFn fn, Tensor a, int nd, const Py_ssize_t* shape, float value,
                              int dt=F16):
    """OUT a float16 (or bfloat16: dt) tensor of the given (broadcast)
    shape: fn(a, value), a converted to dt first when needed (mul/div by a
    scalar)."""
    cdef Tensor out
    cdef Operand ops[2]
    if a._dtype != dt:
        a = cast_tensor(a, dt)
    out = new_tensor(nd, shape, dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(a)
    run_elementwise(fn, 2, ops, nd, shape, out._numel, &value)
    return out
