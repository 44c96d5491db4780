# float16 and bfloat16 conversions of half.h, for every extension module of cgrad that
# loads or stores float16 (each calls cg_half_init once at import).

from libc.stdint cimport int32_t, int64_t, uint16_t

cdef extern from "half.h" nogil:
    float cg_h2f(uint16_t h)
    uint16_t cg_f2h(float f)
    uint16_t cg_d2h(double d)
    float cg_bf2f(uint16_t b)
    uint16_t cg_f2bf(float f)
    uint16_t cg_d2bf(double d)
    float cg_h16_to_f(uint16_t v, int bf16)
    uint16_t cg_f_to_h16(float f, int bf16)
    float cg_round_h16(float f, int bf16)
    int32_t cg_d2i32(double x)
    int64_t cg_d2i64(double x)
    void cg_half_init()
    void cg_load_half(float* dst, const uint16_t* src, Py_ssize_t stride, Py_ssize_t n)
    void cg_store_half(uint16_t* dst, Py_ssize_t stride, const float* src, Py_ssize_t n)
    void cg_load_bf16(float* dst, const uint16_t* src, Py_ssize_t stride, Py_ssize_t n)
    void cg_store_bf16(uint16_t* dst, Py_ssize_t stride, const float* src, Py_ssize_t n)
    void cg_load_h16(float* dst, const uint16_t* src, Py_ssize_t stride, Py_ssize_t n, int bf16)
    void cg_store_h16(uint16_t* dst, Py_ssize_t stride, const float* src, Py_ssize_t n, int bf16)
