# Scalar math used inside row kernels, declared once over both float types
# (the `real_t` fused type); each call site is specialised by the type of
# its argument, so float32 kernels call the float32 libm functions and never
# widen to double by accident.

ctypedef fused real_t:
    float
    double


cdef inline real_t c_exp(real_t x) noexcept nogil:
    if real_t is float:
        return cmath.expf(x)
    else:
        return cmath.exp(x)


cdef inline real_t c_log(real_t x) noexcept nogil:
    if real_t is float:
        return cmath.logf(x)
    else:
        return cmath.log(x)


cdef inline real_t c_tanh(real_t x) noexcept nogil:
    if real_t is float:
        return cmath.tanhf(x)
    else:
        return cmath.tanh(x)


cdef inline real_t c_sqrt(real_t x) noexcept nogil:
    if real_t is float:
        return cmath.sqrtf(x)
    else:
        return cmath.sqrt(x)


cdef inline real_t c_sin(real_t x) noexcept nogil:
    if real_t is float:
        return cmath.sinf(x)
    else:
        return cmath.sin(x)


cdef inline real_t c_cos(real_t x) noexcept nogil:
    if real_t is float:
        return cmath.cosf(x)
    else:
        return cmath.cos(x)


cdef inline real_t c_abs(real_t x) noexcept nogil:
    if real_t is float:
        return cmath.fabsf(x)
    else:
        return cmath.fabs(x)


cdef inline real_t c_pow(real_t x, real_t y) noexcept nogil:
    if real_t is float:
        return cmath.powf(x, y)
    else:
        return cmath.pow(x, y)


cdef inline real_t c_sigmoid(real_t x) noexcept nogil:
    # Two branches so that neither exp() overflows for large |x|.
    cdef real_t e
    if x >= 0:
        return 1 / (1 + c_exp(-x))
    e = c_exp(x)
    return e / (1 + e)


cdef inline real_t c_sign(real_t x) noexcept nogil:
    # sign(NaN) is NaN in PyTorch's sgn, hence the last branch.
    if x > 0:
        return 1
    if x < 0:
        return -1
    if x == 0:
        return 0
    return x


cdef inline int64_t ipow(int64_t base, int64_t exp) noexcept nogil:
    cdef int64_t result = 1
    while exp > 0:
        if exp & 1:
            result *= base
        base *= base
        exp >>= 1
    return result


cdef inline int64_t ifloordiv(int64_t a, int64_t b) noexcept nogil:
    cdef int64_t q
    if b == 0:
        return 0
    q = a // b
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q -= 1
    return q
