# The forwards of op-table rows whose PyTorch BFloat16 kernel is scalar
# c10::BFloat16 arithmetic (std::log and friends on a BFloat16 return a
# BFloat16): every step rounded to bfloat16, where the float16 kernels
# (c10::Half converts to float) compute in float32 and round once. A row
# names its function in the table's `bf16_fwd` column; _table_ops.pyx
# includes this file before the rendered rows.

cdef inline float bf16_round(float v) noexcept nogil:
    return cg_round_h16(v, 1)


cdef inline float bf16_logit(float x, double eps) noexcept nogil:
    cdef float lo, hi
    if eps >= 0:
        lo = bf16_round(<float>eps)
        hi = bf16_round(1 - lo)
        x = lo if x < lo else (hi if x > hi else x)
    if x == 1:
        return cmath.INFINITY
    return cmath.logf(bf16_round(x / bf16_round(1 - x)))


cdef inline float bf16_entr(float x) noexcept nogil:
    if x != x:
        return x
    if x > 0:
        return -x * bf16_round(cmath.logf(x))
    if x == 0:
        return 0
    return -cmath.INFINITY


cdef inline float bf16_xlogy(float a, float b) noexcept nogil:
    if b != b:
        return b
    if a == 0:
        return 0
    return a * bf16_round(cmath.logf(b))


cdef inline float bf16_xlog1py(float a, float b) noexcept nogil:
    if b != b:
        return b
    if a == 0:
        return 0
    return a * bf16_round(cmath.log1pf(b))
