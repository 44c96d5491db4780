# Logical ops (bool results of any dtype) and bitwise ops (integer types and
# bool; the shifts integer types only): no history.


# ---------------------------------------------------------------------------
# Logical ops (bool results, any dtype; computed in the promoted dtype) and
# bitwise ops (integer types and bool; & | ^ ~).

# (LG_* and BW_* are declared in _C.pxd)

cdef tuple LOGICAL_NAMES = ("logical_and", "logical_or", "logical_xor")
cdef tuple BITWISE_NAMES = ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                             "bitwise_right_shift")
# the kernel names PyTorch's "not implemented for" errors print
cdef tuple BITWISE_KERNELS = ("bitwise_and_cpu", "bitwise_or_cpu", "bitwise_xor_cpu", "lshift_cpu", "rshift_cpu")


cdef RowFn* logical_rows(int op) noexcept:
    if op == LG_AND:
        return LOGICAL_AND_ROWS
    if op == LG_OR:
        return LOGICAL_OR_ROWS
    return LOGICAL_XOR_ROWS


cdef RowFn* bitwise_rows(int op) noexcept:
    if op == BW_AND:
        return BITWISE_AND_ROWS
    if op == BW_OR:
        return BITWISE_OR_ROWS
    if op == BW_LSHIFT:
        return BITWISE_LEFT_SHIFT_ROWS
    if op == BW_RSHIFT:
        return BITWISE_RIGHT_SHIFT_ROWS
    return BITWISE_XOR_ROWS


cdef Tensor op_logical(int op, Tensor a, Tensor b):
    cdef int dt
    cdef RowFn* rows = logical_rows(op)
    check_broadcast2(a, b)
    dt = tensor_result_type(a, b)
    return binary_kernel(rows, a, b, dt, BOOL, LOGICAL_NAMES[op])


cdef Tensor op_logical_not(Tensor a):
    cdef Tensor out = new_unary_result(a._ndim, a._shape, BOOL, a)
    run_unary(LOGICAL_NOT_ROWS[a._dtype], out, a)
    return out


cdef Tensor op_bitwise(int op, Tensor a, object b, bint scalar_first=False):
    """a & b, a | b, a ^ b, a << b or a >> b: b a tensor or a number (b op a
    with scalar_first, for the shifts, which do not commute); integer types
    and bool only."""
    cdef int dt
    cdef Tensor bt
    cdef RowFn* rows = bitwise_rows(op)
    if isinstance(b, Tensor):
        bt = <Tensor>b
        check_broadcast2(a, bt)
        dt = tensor_result_type(a, bt)
    else:
        dt = scalar_result_type(a._dtype, b)
        b = wrapped_int(b, a._dtype, dt)
    if rows[dt] == NULL:
        raise NotImplementedError(f"\"{BITWISE_KERNELS[op]}\" not implemented for '{dtype_title(dt)}'")
    if isinstance(b, Tensor):
        return binary_kernel(rows, a, <Tensor>b, dt, dt, BITWISE_NAMES[op])
    return scalar_kernel(rows, a, b, scalar_first, dt, dt, BITWISE_NAMES[op])


cdef Tensor op_bitwise_not(Tensor a):
    cdef Tensor out
    if BITWISE_NOT_ROWS[a._dtype] == NULL:
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for '{dtype_title(a._dtype)}'")
    out = new_unary_result(a._ndim, a._shape, a._dtype, a)
    run_unary(BITWISE_NOT_ROWS[a._dtype], out, a)
    return out


cdef Tensor op_invert(Tensor a):
    if is_float(a._dtype):
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return op_bitwise_not(a)


cdef inline object bitwise_operator(int op, Tensor a, object other):
    if isinstance(other, Tensor):
        return op_bitwise(op, a, other)
    if is_scalar(other):
        return op_bitwise(op, a, normalize_scalar(other))
    return NotImplemented


cdef inline object reflected_shift(int op, Tensor a, object other):
    """other << a or other >> a for a number other (a Tensor other takes its
    own __lshift__)."""
    if is_scalar(other):
        return op_bitwise(op, a, normalize_scalar(other), True)
    return NotImplemented


cdef object bitwise_inplace(int op, Tensor self, object other):
    """self &= other (|=, ^=): no history (integer types and bool never need grad)."""
    cdef Tensor result
    cdef int dt
    if not (isinstance(other, Tensor) or is_scalar(other)):
        return NotImplemented
    check_inplace(self)
    check_written_overlap(self)
    check_input_overlap(self, other)
    other = normalize_scalar(other)
    dt = tensor_result_type(self, <Tensor>other) if isinstance(other, Tensor) else \
        scalar_result_type(self._dtype, other)
    if CATEGORY[dt] > CATEGORY[self._dtype]:
        raise RuntimeError(f"result type {dtype_title(dt)} can't be cast to the desired "
                           f"output type {dtype_title(self._dtype)}")
    result = op_bitwise(op, self, other)
    if not same_shape(result, self):
        raise RuntimeError(
            f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the broadcast "
            f"shape {shape_str(result._shape, result._ndim)}")
    copy_into(self, result)
    self._storage.version += 1
    return self


cdef list BITWISE_METHOD_OPTIONS = [("(Tensor other)", ["Tensor"]), ("(Number other)", ["Number"])]


cdef list bitwise_function_options():
    return [("(Tensor input, Tensor other, *, Tensor out = None)", None),
            ("(Number self, Tensor other)", ["Number", "Tensor"]),
            ("(Tensor input, Number other, *, Tensor out = None)", None)]


cdef Tensor bitwise_method(int op, Tensor a, object other):
    if isinstance(other, Tensor) or is_scalar(other):
        return op_bitwise(op, a, normalize_scalar(other))
    raise invalid_arguments(BITWISE_NAMES[op], (other,), BITWISE_METHOD_OPTIONS)


cdef Tensor bitwise_function(int op, object input, object other, object out):
    if isinstance(input, Tensor) and (isinstance(other, Tensor) or is_scalar(other)):
        return with_out(op_bitwise(op, <Tensor>input, normalize_scalar(other)), out, BITWISE_NAMES[op])
    if is_scalar(input) and isinstance(other, Tensor):
        # (Number self, Tensor other): & | ^ commute, the shifts do not
        return with_out(op_bitwise(op, <Tensor>other, normalize_scalar(input), op >= BW_LSHIFT), out,
                        BITWISE_NAMES[op])
    raise invalid_arguments(BITWISE_NAMES[op], (input, other), bitwise_function_options())


def logical_not(input, *, out=None):
    """True where input is zero (any dtype), as bool."""
    return with_out(op_logical_not(need_tensor(input, "logical_not", "input", 1)), out, "logical_not")


def logical_and(input, other, *, out=None):
    cdef Tensor a = need_tensor(input, "logical_and", "input", 1)
    return with_out(op_logical(LG_AND, a, need_tensor(other, "logical_and", "other", 2)), out, "logical_and")


def logical_or(input, other, *, out=None):
    cdef Tensor a = need_tensor(input, "logical_or", "input", 1)
    return with_out(op_logical(LG_OR, a, need_tensor(other, "logical_or", "other", 2)), out, "logical_or")


def logical_xor(input, other, *, out=None):
    cdef Tensor a = need_tensor(input, "logical_xor", "input", 1)
    return with_out(op_logical(LG_XOR, a, need_tensor(other, "logical_xor", "other", 2)), out, "logical_xor")


def bitwise_not(input, *, out=None):
    return with_out(op_bitwise_not(need_tensor(input, "bitwise_not", "input", 1)), out, "bitwise_not")


def bitwise_and(input, other, *, out=None):
    return bitwise_function(BW_AND, input, other, out)


def bitwise_or(input, other, *, out=None):
    return bitwise_function(BW_OR, input, other, out)


def bitwise_xor(input, other, *, out=None):
    return bitwise_function(BW_XOR, input, other, out)


def bitwise_left_shift(input, other, *, out=None):
    return bitwise_function(BW_LSHIFT, input, other, out)


def bitwise_right_shift(input, other, *, out=None):
    return bitwise_function(BW_RSHIFT, input, other, out)
