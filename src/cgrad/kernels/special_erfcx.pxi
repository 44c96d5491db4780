# special.erfcx, the scaled complementary error function exp(x*x) * erfc(x),
# for the op table's erfcx row (PyTorch has it in torch.special only, with
# no float16 kernel), computed in double for both float types:
#   x < 2.5            exp(x*x) * erfc(x), within a few ulp there (erfc has
#                      no cancellation for x >= 0; x*x's rounding costs x*x ulp)
#   x >= 2.5           the continued fraction of erfc, 50 terms backwards,
#                      converged to the last bit there and beyond
#   x < 0              2 exp(x*x) - erfcx(-x), infinite below -26.7 as PyTorch's


cdef double cg_erfcx(double x) noexcept nogil:
    cdef double f
    cdef int n
    if x != x:
        return x
    if x < 0:
        if x < -26.7:
            return cmath.INFINITY
        return 2 * cmath.exp(x * x) - cg_erfcx(-x)
    if x < 2.5:
        return cmath.exp(x * x) * m_erfc(x)
    f = x
    for n in range(50, 0, -1):
        f = x + (n * 0.5) / f
    return 0.5641895835477563 / f      # 1 / sqrt(pi)


cdef int check_no_half(Tensor x, str kernel) except -1:
    """PyTorch has no float16 (nor bfloat16) kernel for this row."""
    if x._dtype == F16 or x._dtype == BF16:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_title(x._dtype)}'")
    return 0
