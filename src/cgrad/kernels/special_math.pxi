# The special functions of special_math.h (PyTorch's algorithms, see the
# header's top comment) as fused-type scalar functions, so the op table's
# expressions call one name in float32 and float64 kernels alike.

cdef extern from "special_math.h" nogil:
    double cg_lgamma(double)
    float cg_lgamma_f(float)
    double cg_digamma(double)
    float cg_digamma_f(float)
    double cg_trigamma(double)
    float cg_trigamma_f(float)
    double cg_polygamma(int, double)
    float cg_polygamma_f(int, float)
    double cg_erfinv(double)
    float cg_erfinv_f(float)
    double cg_i0(double)
    float cg_i0_f(float)
    double cg_i1(double)
    float cg_i1_f(float)
    double cg_logit(double, double)
    float cg_logit_f(float, float)
    double cg_hypot(double, double)
    float cg_hypot_f(float, float)
    double cg_copysign(double, double)
    float cg_copysign_f(float, float)
    double cg_logaddexp(double, double)
    float cg_logaddexp_f(float, float)
    double cg_logaddexp2(double, double)
    float cg_logaddexp2_f(float, float)
    double cg_xlogy(double, double)
    float cg_xlogy_f(float, float)
    double cg_heaviside(double, double)
    float cg_heaviside_f(float, float)
    double cg_logit_backward(double, double, double)
    float cg_logit_backward_f(float, float, float)


cdef inline real_t c_lgamma(real_t x) noexcept nogil:
    if real_t is float:
        return cg_lgamma_f(x)
    else:
        return cg_lgamma(x)


cdef inline real_t c_digamma(real_t x) noexcept nogil:
    if real_t is float:
        return cg_digamma_f(x)
    else:
        return cg_digamma(x)


cdef inline real_t c_polygamma(real_t n, real_t x) noexcept nogil:
    # n is a whole number (the op checks it); passed as the kernel's type
    if real_t is float:
        return cg_polygamma_f(<int>n, x)
    else:
        return cg_polygamma(<int>n, x)


cdef inline real_t c_erfinv(real_t x) noexcept nogil:
    if real_t is float:
        return cg_erfinv_f(x)
    else:
        return cg_erfinv(x)


cdef inline real_t c_i0(real_t x) noexcept nogil:
    if real_t is float:
        return cg_i0_f(x)
    else:
        return cg_i0(x)


cdef inline real_t c_i1(real_t x) noexcept nogil:
    if real_t is float:
        return cg_i1_f(x)
    else:
        return cg_i1(x)


cdef inline real_t c_logit(real_t x, real_t eps) noexcept nogil:
    if real_t is float:
        return cg_logit_f(x, eps)
    else:
        return cg_logit(x, eps)


cdef inline real_t c_logit_backward(real_t g, real_t x, real_t eps) noexcept nogil:
    if real_t is float:
        return cg_logit_backward_f(g, x, eps)
    else:
        return cg_logit_backward(g, x, eps)


cdef inline real_t c_hypot(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return cg_hypot_f(a, b)
    else:
        return cg_hypot(a, b)


cdef inline real_t c_copysign(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return cg_copysign_f(a, b)
    else:
        return cg_copysign(a, b)


cdef inline real_t c_logaddexp(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return cg_logaddexp_f(a, b)
    else:
        return cg_logaddexp(a, b)


cdef inline real_t c_logaddexp2(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return cg_logaddexp2_f(a, b)
    else:
        return cg_logaddexp2(a, b)


cdef inline real_t c_xlogy(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return cg_xlogy_f(a, b)
    else:
        return cg_xlogy(a, b)


cdef inline real_t c_heaviside(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return cg_heaviside_f(a, b)
    else:
        return cg_heaviside(a, b)
