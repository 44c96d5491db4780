# torch.special's entr, ndtri, log_ndtr, xlog1py, i0e and i1e as scalar
# functions for their op-table rows (src/codegen/table_unary.py,
# table_binary.py). Written from the math, not ported:
#   entr      -x log x, 0 at 0, -inf below 0 (PyTorch's convention)
#   ndtri     the normal quantile: a rational first guess (Acklam's, about
#             1e-9 relative) polished by two Halley steps on
#             Phi(x) - p (in the tail its relative error, from log_ndtr,
#             so subnormal p keeps full precision); p > 0.5 mirrors to -ndtri(1 - p), where
#             1 - p is exact
#   log_ndtr  log Phi(x): log1p(-erfc(x/sqrt 2)/2) above -1, and below it
#             log(erfcx(-x/sqrt 2)/2) - x^2/2, finite down to -1e154
#   i0e, i1e  the Chebyshev series of special_math.h (PyTorch's Cephes
#             algorithm), declared here
# float32 kernels compute in double and round once.

cdef extern from "special_math.h" nogil:
    double cg_i0e(double)
    float cg_i0e_f(float)
    double cg_i1e(double)
    float cg_i1e_f(float)

cdef double CG_SQRT1_2 = 0.7071067811865476
cdef double CG_SQRT_2PI = 2.5066282746310002

cdef double[6] _ACKLAM_A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
cdef double[5] _ACKLAM_B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                            6.680131188771972e+01, -1.328068155288572e+01]
cdef double[6] _ACKLAM_C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                            -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
cdef double[4] _ACKLAM_D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                            3.754408661907416e+00]


cdef inline real_t c_entr(real_t x) noexcept nogil:
    if x != x:
        return x
    if x > 0:
        return -x * c_log(x)
    if x == 0:
        return 0
    return -cmath.INFINITY


cdef double cg_log_ndtr(double x) noexcept nogil:
    cdef double t = x * CG_SQRT1_2
    if x < -1:
        return cmath.log(cg_erfcx(-t) * 0.5) - t * t
    return cmath.log1p(-m_erfc(t) * 0.5)


cdef double _ndtri_lower(double p) noexcept nogil:
    """ndtri for 0 < p <= 0.5."""
    cdef double q, r, x, u
    cdef int k
    if p < 0.02425:
        q = cmath.sqrt(-2 * cmath.log(p))
        x = ((((( _ACKLAM_C[0] * q + _ACKLAM_C[1]) * q + _ACKLAM_C[2]) * q + _ACKLAM_C[3]) * q
              + _ACKLAM_C[4]) * q + _ACKLAM_C[5]) / \
            ((((_ACKLAM_D[0] * q + _ACKLAM_D[1]) * q + _ACKLAM_D[2]) * q + _ACKLAM_D[3]) * q + 1)
    else:
        q = p - 0.5
        r = q * q
        x = ((((( _ACKLAM_A[0] * r + _ACKLAM_A[1]) * r + _ACKLAM_A[2]) * r + _ACKLAM_A[3]) * r
              + _ACKLAM_A[4]) * r + _ACKLAM_A[5]) * q / \
            (((((_ACKLAM_B[0] * r + _ACKLAM_B[1]) * r + _ACKLAM_B[2]) * r + _ACKLAM_B[3]) * r
              + _ACKLAM_B[4]) * r + 1)
    for k in range(2):
        if p < 0.02425:
            # relative error of Phi(x) through log Phi, and p / pdf(x) in
            # logs: neither underflows for subnormal p
            u = cmath.expm1(cg_log_ndtr(x) - cmath.log(p)) * CG_SQRT_2PI * cmath.exp(cmath.log(p) + x * x * 0.5)
        else:
            u = (0.5 * m_erfc(-x * CG_SQRT1_2) - p) * CG_SQRT_2PI * cmath.exp(x * x * 0.5)
        if not cmath.isfinite(u):
            break
        x = x - u / (1 + x * u * 0.5)
    return x


cdef double cg_ndtri(double p) noexcept nogil:
    if p != p or p < 0 or p > 1:
        return cmath.NAN
    if p == 0:
        return -cmath.INFINITY
    if p == 1:
        return cmath.INFINITY
    if p > 0.5:
        return -_ndtri_lower(1 - p)
    return _ndtri_lower(p)


cdef inline real_t c_xlog1py(real_t a, real_t b) noexcept nogil:
    if b != b:
        return b
    if a == 0:
        return 0
    return a * c_log1p(b)


cdef inline real_t c_i0e(real_t x) noexcept nogil:
    if real_t is float:
        return cg_i0e_f(x)
    else:
        return cg_i0e(x)


cdef inline real_t c_i1e(real_t x) noexcept nogil:
    if real_t is float:
        return cg_i1e_f(x)
    else:
        return cg_i1e(x)
