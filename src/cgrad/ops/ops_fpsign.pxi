# signbit, isposinf, isneginf (bool results, no history, read from the
# floats' bits as PyTorch's kernels do: signbit(-0.0) and signbit(-nan) are
# True) and positive (the input itself; refused for bool, as PyTorch).
# Integer inputs: signbit is x < 0, the infinity tests are all False.

cdef enum:
    FS_SIGNBIT = 0
    FS_POSINF = 1
    FS_NEGINF = 2


cdef void fpsign_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint32_t* x = <const uint32_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint32_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]]
        if mode == FS_SIGNBIT:
            o[i * s[0]] = (b >> 31) != 0
        elif mode == FS_POSINF:
            o[i * s[0]] = b == 0x7f800000u
        else:
            o[i * s[0]] = b == 0xff800000u


cdef void fpsign_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint64_t* x = <const uint64_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint64_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]]
        if mode == FS_SIGNBIT:
            o[i * s[0]] = (b >> 63) != 0
        elif mode == FS_POSINF:
            o[i * s[0]] = b == 0x7ff0000000000000ULL
        else:
            o[i * s[0]] = b == 0xfff0000000000000ULL


cdef void fpsign_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint16_t* x = <const uint16_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint16_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]]
        if mode == FS_SIGNBIT:
            o[i * s[0]] = (b >> 15) != 0
        elif mode == FS_POSINF:
            o[i * s[0]] = b == 0x7c00
        else:
            o[i * s[0]] = b == 0xfc00


cdef Tensor op_fpsign(Tensor x, int mode):
    cdef Tensor out
    cdef Operand ops[2]
    if not is_float(x._dtype):
        if mode == FS_SIGNBIT and x._dtype != BOOL and x._dtype != U8:
            return op_compare(CMP_LT, x, 0)
        return new_tensor(x._ndim, x._shape, BOOL, True)
    out = new_unary_result(x._ndim, x._shape, BOOL, x)
    if x._dtype == BF16:
        x = cast_tensor(x, F32)     # exact, sign and infinities kept
    ops[0] = operand_of(out)
    ops[1] = operand_of(x)
    run_elementwise(fpsign_F32 if x._dtype == F32 else (fpsign_F64 if x._dtype == F64 else fpsign_F16),
                    2, ops, out._ndim, out._shape, out._numel, &mode)
    return out


cdef object fpsign_call(object input, object out, int mode, str fname):
    cdef Tensor x = input_arg(input, fname)
    if out is not None and isinstance(out, Tensor) and (<Tensor>out)._dtype != BOOL:
        raise RuntimeError(f"{fname} does not support non-boolean outputs.")
    return with_out(op_fpsign(x, mode), out, fname)


def signbit(input, *, out=None):
    return fpsign_call(input, out, FS_SIGNBIT, "signbit")


def isposinf(input, *, out=None):
    return fpsign_call(input, out, FS_POSINF, "isposinf")


def isneginf(input, *, out=None):
    return fpsign_call(input, out, FS_NEGINF, "isneginf")


cdef Tensor op_positive(Tensor x):
    if x._dtype == BOOL:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


def positive(input):
    return op_positive(input_arg(input, "positive"))


def _tensor_signbit(Tensor self):
    return op_fpsign(self, FS_SIGNBIT)


def _tensor_isposinf(Tensor self):
    return op_fpsign(self, FS_POSINF)


def _tensor_isneginf(Tensor self):
    return op_fpsign(self, FS_NEGINF)


def _tensor_positive(Tensor self):
    return op_positive(self)


install_tensor_methods({"signbit": _tensor_signbit, "isposinf": _tensor_isposinf, "isneginf": _tensor_isneginf,
                        "positive": _tensor_positive})
