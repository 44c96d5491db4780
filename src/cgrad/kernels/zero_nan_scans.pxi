# Elementwise scans of the selecting ops: the count of zeros (prod takes
# another gradient formula where an input is zero) and a NaN mask (where a
# NaN wins a max/min-like pick, its gradient and tangent go there), per
# float dtype, the half types read as bits. Run through run_elementwise
# over x alone or (out, x).

cdef void count_zeros_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef const float* x = <const float*>p[0]
    cdef Py_ssize_t i, c = 0
    for i in range(n):
        if x[i * s[0]] == 0:
            c += 1
    (<Py_ssize_t*>ctx)[0] += c

cdef void count_zeros_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef const double* x = <const double*>p[0]
    cdef Py_ssize_t i, c = 0
    for i in range(n):
        if x[i * s[0]] == 0:
            c += 1
    (<Py_ssize_t*>ctx)[0] += c


cdef void count_zeros_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef const uint16_t* x = <const uint16_t*>p[0]
    cdef Py_ssize_t i, c = 0
    for i in range(n):
        if (x[i * s[0]] & 0x7fff) == 0:
            c += 1
    (<Py_ssize_t*>ctx)[0] += c


cdef Py_ssize_t count_zeros(Tensor x) except -1:
    cdef Py_ssize_t c = 0
    cdef Operand ops[1]
    ops[0] = operand_of(x)
    # (count_zeros_F16 reads the bits: zero in bfloat16 too)
    run_elementwise(count_zeros_F32 if x._dtype == F32 else (count_zeros_F16 if is_half16(x._dtype) else count_zeros_F64),
                    1, ops, x._ndim, x._shape, x._numel, &c)
    return c


cdef void isnan_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const float* x = <const float*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = x[i * s[1]] != x[i * s[1]]

cdef void isnan_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const double* x = <const double*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = x[i * s[1]] != x[i * s[1]]


cdef void isnan_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint16_t* x = <const uint16_t*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = (x[i * s[1]] & 0x7fff) > 0x7c00


cdef void isnan_BF16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint16_t* x = <const uint16_t*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = (x[i * s[1]] & 0x7fff) > 0x7f80


cdef Tensor isnan_mask(Tensor x):
    cdef Tensor out = new_unary_result(x._ndim, x._shape, BOOL, x)
    run_unary(isnan_F32 if x._dtype == F32 else (isnan_F16 if x._dtype == F16 else
              (isnan_BF16 if x._dtype == BF16 else isnan_F64)), out, x)
    return out
