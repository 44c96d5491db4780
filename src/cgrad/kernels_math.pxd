# Scalar math used inside row kernels, declared once over both float types
# (the `real_t` fused type); each call site is specialised by the type of
# its argument, so float32 kernels call the float32 libm functions and never
# widen to double by accident. A .pxd of inline functions: every extension
# module that cimports it compiles its own copy, inlined into its kernels.

from libc cimport math as cmath
from libc.stdint cimport int64_t, uint64_t

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


# The rounding divisions (floor_divide, remainder, fmod, div's rounding
# modes) as PyTorch computes them (c10's generic_math.h and its CPU kernels),
# so results match bit for bit.
cdef inline real_t floor_div_real(real_t a, real_t b) noexcept nogil:
    cdef real_t mod, div, floordiv
    if b == 0:
        return a / b
    mod = fmod_real(a, b)
    div = (a - mod) / b
    if mod != 0 and (b < 0) != (mod < 0):
        div -= 1
    if div != 0:
        floordiv = <real_t>cmath.floor(div)
        if div - floordiv > <real_t>0.5:
            floordiv += 1
        return floordiv
    return <real_t>cmath.copysign(0, a / b)


cdef inline real_t fmod_real(real_t a, real_t b) noexcept nogil:
    # float32: when |a / b| < 2**24 (a, b finite), t = trunc(a / b) in
    # double is the truncated quotient or one too far from zero (the
    # division rounds up onto an integer), and a - t * b is exact in double
    # (t * b has at most 48 bits; the difference is below 2|b| and a
    # multiple of the smaller ulp), so one correction gives C fmod's exact
    # result without libm's bit-by-bit loop. float64 and the rest: C fmod.
    cdef double q, r
    if real_t is float:
        q = <double>a / <double>b
        if cmath.fabs(q) < 16777216.0 and cmath.fabsf(b) <= 3.4028234663852886e38:
            r = <double>a - <double>(<int>q) * <double>b
            if r != 0 and (r < 0) != (a < 0):
                r += cmath.copysign(<double>b, <double>a)
            if r == 0:
                return cmath.copysignf(0, a)
            return <float>r
    return <real_t>cmath.fmod(a, b)


cdef inline real_t trunc_div_real(real_t a, real_t b) noexcept nogil:
    return <real_t>cmath.trunc(a / b)


cdef inline real_t remainder_real(real_t a, real_t b) noexcept nogil:
    cdef real_t mod = fmod_real(a, b)
    if mod != 0 and (b < 0) != (mod < 0):
        mod += b
    return mod


# Integers are computed in int64 (narrower types wrap on store, as C++'s
# promotions make PyTorch's). b == -1 is answered without dividing: the
# hardware traps on INT64_MIN / -1.
cdef inline int64_t trunc_div_int(int64_t a, int64_t b) noexcept nogil:
    if b == -1:
        return <int64_t>(<uint64_t>0 - <uint64_t>a)
    return a // b


cdef inline int64_t fmod_int(int64_t a, int64_t b) noexcept nogil:
    if b == -1:
        return 0
    return a % b


cdef inline int64_t floor_div_int(int64_t a, int64_t b) noexcept nogil:
    cdef int64_t q = trunc_div_int(a, b)
    if (a < 0) != (b < 0) and fmod_int(a, b) != 0:
        q -= 1
    return q


cdef inline int64_t remainder_int(int64_t a, int64_t b) noexcept nogil:
    cdef int64_t r = fmod_int(a, b)
    if r != 0 and (r < 0) != (b < 0):
        r += b
    return r
