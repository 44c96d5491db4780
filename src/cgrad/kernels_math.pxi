# Scalar math used inside row kernels, declared once over both float types
# (the `real_t` fused type); each call site is specialised by the type of
# its argument, so float32 kernels call the float32 libm functions and never
# widen to double by accident.

ctypedef fused real_t:
    float
    double


# Branch-free exp/log/tanh/sigmoid that gcc vectorises inside the row
# kernels' loops (a libm call keeps a loop scalar: ~12 ns/element for tanhf
# and tanh). float32 results within 0.51 ulp, float64 within ~1.1 ulp, with
# glibc's special values; see vecmath.h and bench/check_vecmath.py.
# float64 exp and log stay on libm: glibc's (table-driven, FMA at run time)
# take ~2.9 ns/element against ~4.5 for the 2-lane SSE2 versions.
cdef extern from "vecmath.h" nogil:
    float vm_expf(float x)
    float vm_logf(float x)
    float vm_tanhf(float x)
    double vm_tanh(double x)
    float vm_sigmoidf(float x)
    double vm_sigmoid(double x)


cdef inline real_t c_exp(real_t x) noexcept nogil:
    if real_t is float:
        return vm_expf(x)
    else:
        return cmath.exp(x)


cdef inline real_t c_log(real_t x) noexcept nogil:
    if real_t is float:
        return vm_logf(x)
    else:
        return cmath.log(x)


cdef inline real_t c_tanh(real_t x) noexcept nogil:
    if real_t is float:
        return vm_tanhf(x)
    else:
        return vm_tanh(x)


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
    # 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, branch-free
    if real_t is float:
        return vm_sigmoidf(x)
    else:
        return vm_sigmoid(x)


cdef inline real_t c_sign(real_t x) noexcept nogil:
    # PyTorch's sign: (0 < x) - (x < 0), so NaN and -0. give +0.
    return <real_t>((x > 0) - (x < 0))


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
