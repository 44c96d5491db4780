# Scalar math of the everyday unary ops (ops_unary.pxi.tp's later rows),
# specialised per float type like kernels_math.pxi: float32 kernels call the
# float32 libm functions. Inline, like kernels_math.pxd.
#
# float32 erf, erfc, expm1 and log1p are vecmath.h's branch-free versions
# (computed in double, rounded once: within 0.51 ulp on every float32, glibc's
# special values; bench/check_vecmath.py), so the loops of erf, gelu, elu,
# softplus, mish... vectorise; their float64 forms stay on glibc.

from libc cimport math as cmath
from libc.stdint cimport uint32_t, uint64_t
from cgrad.kernels_math cimport real_t

cdef extern from "<math.h>" nogil:
    float m_log1pf "log1pf"(float)
    double m_log1p "log1p"(double)
    float m_expm1f "expm1f"(float)
    double m_expm1 "expm1"(double)
    float m_log2f "log2f"(float)
    double m_log2 "log2"(double)
    float m_log10f "log10f"(float)
    double m_log10 "log10"(double)
    float m_sinhf "sinhf"(float)
    double m_sinh "sinh"(double)
    float m_coshf "coshf"(float)
    double m_cosh "cosh"(double)
    float m_asinf "asinf"(float)
    double m_asin "asin"(double)
    float m_acosf "acosf"(float)
    double m_acos "acos"(double)
    float m_atanf "atanf"(float)
    double m_atan "atan"(double)
    float m_erff "erff"(float)
    double m_erf "erf"(double)
    float m_floorf "floorf"(float)
    double m_floor "floor"(double)
    float m_ceilf "ceilf"(float)
    double m_ceil "ceil"(double)
    float m_nearbyintf "nearbyintf"(float)
    double m_nearbyint "nearbyint"(double)
    float m_truncf "truncf"(float)
    double m_trunc "trunc"(double)
    float m_tanf "tanf"(float)
    double m_tan "tan"(double)
    float m_asinhf "asinhf"(float)
    double m_asinh "asinh"(double)
    float m_acoshf "acoshf"(float)
    double m_acosh "acosh"(double)
    float m_atanhf "atanhf"(float)
    double m_atanh "atanh"(double)
    float m_exp2f "exp2f"(float)
    double m_exp2 "exp2"(double)
    float m_erfcf "erfcf"(float)
    double m_erfc "erfc"(double)


cdef extern from "vecmath.h" nogil:
    float vm_erff(float x)
    float vm_erfcf(float x)
    float vm_expm1f(float x)
    float vm_log1pf(float x)
    uint32_t vm_maskf(int c)
    float vm_blendf(uint32_t m, float a, float b)
    uint64_t vm_bits(double x)
    double vm_double(uint64_t u)
    uint64_t vm_mask_lt(uint64_t a, uint64_t b)


cdef inline real_t c_where(bint c, real_t a, real_t b) noexcept nogil:
    # `a if c else b` with both arms computed (they are arguments): a row
    # kernel whose loop chooses between two computed values this way
    # vectorises, where the lazy ternary keeps one arm under a branch (gcc
    # does not speculate floating-point operations); float32 blends with an
    # integer mask (vecmath.h), float64 rows call libm anyway.
    if real_t is float:
        return vm_blendf(vm_maskf(c), a, b)
    else:
        return a if c else b


cdef inline real_t c_log1p(real_t x) noexcept nogil:
    if real_t is float:
        return vm_log1pf(x)
    else:
        return m_log1p(x)


cdef inline real_t c_expm1(real_t x) noexcept nogil:
    if real_t is float:
        return vm_expm1f(x)
    else:
        return m_expm1(x)


cdef inline real_t c_log2(real_t x) noexcept nogil:
    if real_t is float:
        return m_log2f(x)
    else:
        return m_log2(x)


cdef inline real_t c_log10(real_t x) noexcept nogil:
    if real_t is float:
        return m_log10f(x)
    else:
        return m_log10(x)


cdef inline real_t c_sinh(real_t x) noexcept nogil:
    if real_t is float:
        return m_sinhf(x)
    else:
        return m_sinh(x)


cdef inline real_t c_cosh(real_t x) noexcept nogil:
    if real_t is float:
        return m_coshf(x)
    else:
        return m_cosh(x)


cdef inline real_t c_asin(real_t x) noexcept nogil:
    if real_t is float:
        return m_asinf(x)
    else:
        return m_asin(x)


cdef inline real_t c_acos(real_t x) noexcept nogil:
    if real_t is float:
        return m_acosf(x)
    else:
        return m_acos(x)


cdef inline real_t c_atan(real_t x) noexcept nogil:
    if real_t is float:
        return m_atanf(x)
    else:
        return m_atan(x)


cdef inline real_t c_erf(real_t x) noexcept nogil:
    if real_t is float:
        return vm_erff(x)
    else:
        return m_erf(x)


cdef inline real_t c_floor(real_t x) noexcept nogil:
    if real_t is float:
        return m_floorf(x)
    else:
        return m_floor(x)


cdef inline real_t c_ceil(real_t x) noexcept nogil:
    if real_t is float:
        return m_ceilf(x)
    else:
        return m_ceil(x)


cdef inline real_t c_round(real_t x) noexcept nogil:
    # half to even, as PyTorch's round (nearbyint in the default rounding
    # mode). Below 2**23 (float64: 2**52), adding and taking away that power
    # rounds |x| to an integer in the FPU's round-to-nearest-even; larger
    # values, inf and NaN are integers already. Bit-identical to nearbyint
    # (copysign keeps -0.0), and it vectorises where nearbyint is a libm
    # call an element: the choice between r and x is a mask blend (a
    # ternary lets gcc put r's computation under a branch, and the loop
    # stays scalar).
    cdef real_t big, ax, r
    cdef uint64_t keep
    if real_t is float:
        big = 8388608.0
        ax = cmath.fabsf(x)
        r = cmath.copysignf((ax + big) - big, x)
        return vm_blendf(vm_maskf(ax < big), r, x)
    else:
        big = 4503599627370496.0
        ax = cmath.fabs(x)
        r = cmath.copysign((ax + big) - big, x)
        keep = vm_mask_lt(vm_bits(ax), 0x4330000000000000)     # ax < 2**52
        return vm_double((vm_bits(r) & keep) | (vm_bits(x) & ~keep))


cdef inline real_t c_trunc(real_t x) noexcept nogil:
    if real_t is float:
        return m_truncf(x)
    else:
        return m_trunc(x)


cdef inline real_t c_rsqrt(real_t x) noexcept nogil:
    if real_t is float:
        return 1 / cmath.sqrtf(x)
    else:
        return 1 / cmath.sqrt(x)


cdef inline real_t c_tan(real_t x) noexcept nogil:
    if real_t is float:
        return m_tanf(x)
    else:
        return m_tan(x)


cdef inline real_t c_asinh(real_t x) noexcept nogil:
    if real_t is float:
        return m_asinhf(x)
    else:
        return m_asinh(x)


cdef inline real_t c_acosh(real_t x) noexcept nogil:
    if real_t is float:
        return m_acoshf(x)
    else:
        return m_acosh(x)


cdef inline real_t c_atanh(real_t x) noexcept nogil:
    if real_t is float:
        return m_atanhf(x)
    else:
        return m_atanh(x)


cdef inline real_t c_exp2(real_t x) noexcept nogil:
    if real_t is float:
        return m_exp2f(x)
    else:
        return m_exp2(x)


cdef inline real_t c_erfc(real_t x) noexcept nogil:
    if real_t is float:
        return vm_erfcf(x)
    else:
        return m_erfc(x)
