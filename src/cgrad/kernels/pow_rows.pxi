# Row kernels of PyTorch's fast scalar exponents of pow (float32, float64):
# x ** 2 as x * x, x ** 3 as x * x * x, x ** -2 as 1 / (x * x), the
# arithmetic of PyTorch's pow_tensor_scalar_optimized_kernel, so the values
# are bit-identical to PyTorch's (C pow rounds x ** 3 and x ** -2 once where
# PyTorch rounds twice) and the loops vectorise instead of calling libm per
# element. (0.5, -0.5 and -1 are sqrt, rsqrt and reciprocal: ops_pointwise.)


cdef extern from *:
    """
    #define CG_POW_ROW(NAME, T, EXPR)                                                     \\
    static void NAME(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) {            \\
        T* o = (T*)p[0];                                                                  \\
        const T* xp = (const T*)p[1];                                                     \\
        (void)ctx;                                                                        \\
        if (s[0] == 1 && s[1] == 1) {                                                     \\
            for (Py_ssize_t i = 0; i < n; i++) { T x = xp[i]; o[i] = (EXPR); }            \\
        } else {                                                                          \\
            for (Py_ssize_t i = 0; i < n; i++) { T x = xp[i * s[1]]; o[i * s[0]] = (EXPR); } \\
        }                                                                                 \\
    }
    CG_POW_ROW(cg_pow2_f32, float, x * x)
    CG_POW_ROW(cg_pow2_f64, double, x * x)
    CG_POW_ROW(cg_pow3_f32, float, x * x * x)
    CG_POW_ROW(cg_pow3_f64, double, x * x * x)
    CG_POW_ROW(cg_powm2_f32, float, 1.0f / (x * x))
    CG_POW_ROW(cg_powm2_f64, double, 1.0 / (x * x))
    """
    void cg_pow2_f32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil
    void cg_pow2_f64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil
    void cg_pow3_f32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil
    void cg_pow3_f64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil
    void cg_powm2_f32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil
    void cg_powm2_f64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil


cdef RowFn pow_fast_row(int dt, double e) noexcept:
    """The row kernel of x ** e for a float32/float64 dt when e is one of
    PyTorch's specialised exponents 2, 3, -2, else NULL (C pow)."""
    if dt == F32:
        if e == 2.0:
            return cg_pow2_f32
        if e == 3.0:
            return cg_pow3_f32
        if e == -2.0:
            return cg_powm2_f32
    elif dt == F64:
        if e == 2.0:
            return cg_pow2_f64
        if e == 3.0:
            return cg_pow3_f64
        if e == -2.0:
            return cg_powm2_f64
    return NULL
