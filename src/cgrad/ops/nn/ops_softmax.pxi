# Neural-net functions: softmax, log_softmax, losses, linear, dropout.
#
# Each op has a fused nogil kernel for its forward and for its plain
# backward (grad mode off during backward); under create_graph the backward
# is the same formula written with differentiable ops, so higher-order
# gradients come for free. The argument checks raise PyTorch's exception
# types and texts, in PyTorch's order. The public entry points used by
# cgrad.nn.functional are the `_`-prefixed defs at the end of each part
# (kept out of the cgrad namespace); softmax, log_softmax and dropout are
# also torch.* functions and are exported as such.

cdef enum:
    NN_RED_NONE = 0      # PyTorch's Reduction enum
    NN_RED_MEAN = 1
    NN_RED_SUM = 2


# ---------------------------------------------------------------------------
# Argument parsing with PyTorch's error texts ("softmax(): argument 'dim'
# (position 2) must be int, not str"): position only for positional args.


cdef tuple nn_parse_args(str fname, tuple args, dict kwargs, tuple names, int required):
    """Bind args/kwargs to `names` (the first `required` mandatory; a
    method's self is not among them, as PyTorch counts). Returns a tuple of
    (value, position) pairs: position 0 for keywords, the value NO_ARG
    when not given."""
    cdef int n = len(names)
    cdef list values = [NO_ARG] * n
    cdef list positions = [0] * n
    cdef list missing
    cdef int i
    if len(args) > n:
        raise TypeError(
            f"{fname}() takes from {required} to {n} positional arguments but {len(args)} were given")
    for i in range(len(args)):
        values[i] = args[i]
        positions[i] = i + 1
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError(f"{fname}() got an unexpected keyword argument '{key}'")
        i = names.index(key)
        if positions[i]:
            raise TypeError(f"{fname}() got multiple values for argument '{key}'")
        values[i] = value
    missing = [names[i] for i in range(required) if values[i] is NO_ARG]
    if missing:
        if len(missing) == 1:
            raise TypeError(f'{fname}() missing 1 required positional arguments: "{missing[0]}"')
        raise TypeError(f"{fname}() missing {len(missing)} required positional argument: "
                        + ", ".join([f'"{m}"' for m in missing]))
    return tuple([(values[i], positions[i]) for i in range(n)])




cdef str nn_where(int position):
    return f" (position {position})" if position else ""


cdef Py_ssize_t nn_int_arg(object v, str fname, str argname, int position) except? -1:
    """An int argument as PyTorch's parser takes it: ints, numpy integers and
    integer tensors of one element; not bool, float or None."""
    if isinstance(v, bool) or not (isinstance(v, (int, np.integer)) or
                                   (isinstance(v, Tensor) and not is_float((<Tensor>v)._dtype)
                                    and (<Tensor>v)._numel == 1)):
        raise TypeError(f"{fname}(): argument '{argname}'{nn_where(position)} must be int, "
                        f"not {type(v).__name__}")
    return _operator.index(v)


cdef Tensor nn_tensor_arg(object v, str fname, str argname, int position):
    if not isinstance(v, Tensor):
        raise TypeError(f"{fname}(): argument '{argname}'{nn_where(position)} must be Tensor, "
                        f"not {type(v).__name__}")
    return <Tensor>v


cdef Tensor nn_optional_tensor_arg(object v, str fname, str argname, int position):
    if v is None:
        return None
    return nn_tensor_arg(v, fname, argname, position)


cdef int nn_dtype_arg(object v, str fname) except -2:
    """-1 for None, else the dtype code."""
    if v is None:
        return -1
    if isinstance(v, dtype) or v in (float, int, bool):
        return dtype_code(v)
    raise TypeError(f"{fname}(): argument 'dtype' must be cgrad.dtype, not {type(v).__name__}")


cdef Tensor nn_contiguous(Tensor t):
    return t if t._contiguous else contiguous_copy(t)


cdef void nn_split_dim(Tensor x, int dim, Py_ssize_t* outer, Py_ssize_t* n, Py_ssize_t* inner) noexcept:
    """x viewed as (outer, n, inner) around dim (x contiguous)."""
    cdef int d
    outer[0] = 1
    inner[0] = 1
    n[0] = x._shape[dim] if x._ndim else 1
    for d in range(dim):
        outer[0] *= x._shape[d]
    for d in range(dim + 1, x._ndim):
        inner[0] *= x._shape[d]


# ---------------------------------------------------------------------------
# softmax and log_softmax over one dim: max-subtracted, sums in double.
# The last-dim kernel walks contiguous rows; the other walks `inner`
# columns at a time (unit stride) with per-column max and sum buffers.
# Large work is split over threads by softmax_threads.pxi (softmax_threads).
#
# The float32 loops that call exp are C (below) so that the compiler
# vectorises them: a branch-free exp (Cephes' polynomial on a reduced
# argument, scaled by two exponent-built powers of 2 so that subnormal
# results come out right; < 1 ulp from the exact value, as PyTorch's SLEEF
# exp) over whole rows. GCC only if-converts its clamps when FP traps are
# assumed off for these functions, which changes no result.

cdef extern from *:
    """
    #include <string.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC push_options
    #pragma GCC optimize ("no-trapping-math")
    #endif
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    /* AVX-512 and AVX2 copies of each loop, picked at load time; no FMA
       (-ffp-contract=off), so every copy rounds identically */
    #define CGRAD_NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define CGRAD_NN_CLONES
    #endif

    static inline float cgrad_nn_expf(float x) {
        float xc = x > -104.0f ? x : -104.0f;
        xc = xc < 89.0f ? xc : 89.0f;
        float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
        float r = xc - n * 0.693359375f;
        r = r - n * -2.12194440e-4f;
        float z = r * r;
        float p = 1.9875691500E-4f;
        p = p * r + 1.3981999507E-3f;
        p = p * r + 8.3334519073E-3f;
        p = p * r + 4.1665795894E-2f;
        p = p * r + 1.6666665459E-1f;
        p = p * r + 5.0000001201E-1f;
        p = p * z + r + 1.0f;
        int ni = (int)n;
        int n1 = ni >> 1, n2 = ni - n1;
        int b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
        float s1, s2;
        memcpy(&s1, &b1, sizeof(float));
        memcpy(&s2, &b2, sizeof(float));
        float res = p * s1 * s2;
        return x == x ? res : x;
    }

    /* max of x[0:n], n >= 1. A NaN may be skipped here, but then it makes
       the row's sum of exponentials NaN, and with it every output. */
    static float cgrad_nn_max_f32(const float* x, Py_ssize_t n) {
        float m = x[0];
        Py_ssize_t i = 0;
    #if defined(__SSE2__)
        if (n >= 16) {
            __m128 a0 = _mm_set1_ps(m), a1 = a0, a2 = a0, a3 = a0;
            for (; i + 16 <= n; i += 16) {
                a0 = _mm_max_ps(_mm_loadu_ps(x + i), a0);
                a1 = _mm_max_ps(_mm_loadu_ps(x + i + 4), a1);
                a2 = _mm_max_ps(_mm_loadu_ps(x + i + 8), a2);
                a3 = _mm_max_ps(_mm_loadu_ps(x + i + 12), a3);
            }
            float lanes[4];
            _mm_storeu_ps(lanes, _mm_max_ps(_mm_max_ps(a0, a1), _mm_max_ps(a2, a3)));
            for (int j = 0; j < 4; j++) m = lanes[j] > m ? lanes[j] : m;
        }
    #endif
        for (; i < n; i++) m = x[i] > m ? x[i] : m;
        return m;
    }

    /* sum of x[0:n] in double, eight lanes */
    CGRAD_NN_CLONES static double cgrad_nn_sum_f32(const float* x, Py_ssize_t n) {
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        Py_ssize_t i = 0;
        int j;
        for (; i + 8 <= n; i += 8)
            for (j = 0; j < 8; j++) acc[j] += (double)x[i + j];
        double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n; i++) s += (double)x[i];
        return s;
    }

    /* one row of (log_)softmax: out = exp(x - max) / sum, or
       (x - max) - log(sum) */
    CGRAD_NN_CLONES static void cgrad_nn_softmax_row_f32(const float* restrict x, float* restrict out,
                                                         Py_ssize_t n, int log) {
        float m = cgrad_nn_max_f32(x, n);
        Py_ssize_t i;
        for (i = 0; i < n; i++) out[i] = cgrad_nn_expf(x[i] - m);
        double s = cgrad_nn_sum_f32(out, n);
        if (log) {
            float c = (float)__builtin_log(s);
            for (i = 0; i < n; i++) out[i] = (x[i] - m) - c;
        } else {
            float c = (float)(1.0 / s);
            for (i = 0; i < n; i++) out[i] = out[i] * c;
        }
    }

    /* mx[i] = max(mx[i], x[i]) (a skipped NaN makes its column NaN through sm) */
    CGRAD_NN_CLONES static void cgrad_nn_max_into_f32(const float* restrict x, float* restrict mx,
                                                      Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) {
            float v = x[i], m = mx[i];
            mx[i] = v > m ? v : m;
        }
    }

    /* e = exp(x[i] - mx[i]); out[i] = e unless log; sm[i] += e */
    CGRAD_NN_CLONES static void cgrad_nn_exp_cols_f32(const float* restrict x, const float* restrict mx,
                                                      float* restrict out, double* restrict sm,
                                                      Py_ssize_t n, int log) {
        Py_ssize_t i;
        if (log) {
            for (i = 0; i < n; i++) sm[i] += (double)cgrad_nn_expf(x[i] - mx[i]);
        } else {
            for (i = 0; i < n; i++) {
                float e = cgrad_nn_expf(x[i] - mx[i]);
                out[i] = e;
                sm[i] += (double)e;
            }
        }
    }

    /* one row of the backward: softmax gx = y * (g - sum(g * y)),
       log_softmax gx = g - exp(y) * sum(g); sums in double over eight lanes */
    CGRAD_NN_CLONES static void cgrad_nn_softmax_bwd_row_f32(const float* restrict g,
                                                             const float* restrict y,
                                                             float* restrict gx, Py_ssize_t n, int log) {
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        Py_ssize_t i = 0;
        int j;
        if (log) {
            for (; i + 8 <= n; i += 8)
                for (j = 0; j < 8; j++) acc[j] += (double)g[i + j];
        } else {
            for (; i + 8 <= n; i += 8)
                for (j = 0; j < 8; j++) acc[j] += (double)(g[i + j] * y[i + j]);
        }
        double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n; i++) s += log ? (double)g[i] : (double)(g[i] * y[i]);
        float c = (float)s;
        if (log) {
            for (i = 0; i < n; i++) gx[i] = g[i] - cgrad_nn_expf(y[i]) * c;
        } else {
            for (i = 0; i < n; i++) gx[i] = y[i] * (g[i] - c);
        }
    }

    /* gx[i] = g[i] - exp(y[i]) * c[i] (log_softmax's backward, columns) */
    CGRAD_NN_CLONES static void cgrad_nn_lsm_bwd_cols_f32(const float* restrict g, const float* restrict y,
                                                          float* restrict gx, const double* restrict c,
                                                          Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) gx[i] = g[i] - cgrad_nn_expf(y[i]) * (float)c[i];
    }
    /* sum of (x[i] - t[i])^2, each square in the input precision, summed in
       double over eight lanes */
    #define CGRAD_NN_SQDIFF(NAME, T)                                                       \
    CGRAD_NN_CLONES static double NAME(const T* x, const T* t, Py_ssize_t n) {             \
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                          \
        Py_ssize_t i = 0;                                                                  \
        int j;                                                                             \
        for (; i + 8 <= n; i += 8)                                                         \
            for (j = 0; j < 8; j++) { T d = x[i + j] - t[i + j]; acc[j] += (double)(d * d); } \
        double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])); \
        for (; i < n; i++) { T d = x[i] - t[i]; s += (double)(d * d); }                   \
        return s;                                                                          \
    }
    CGRAD_NN_SQDIFF(cgrad_nn_sqdiff_sum_f32, float)
    CGRAD_NN_SQDIFF(cgrad_nn_sqdiff_sum_f64, double)
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC pop_options
    #endif
    """
    double cgrad_nn_sqdiff_sum_f32(const float* x, const float* t, Py_ssize_t n) noexcept nogil
    double cgrad_nn_sqdiff_sum_f64(const double* x, const double* t, Py_ssize_t n) noexcept nogil
    float cgrad_nn_expf(float x) noexcept nogil
    float cgrad_nn_max_f32(const float* x, Py_ssize_t n) noexcept nogil
    double cgrad_nn_sum_f32(const float* x, Py_ssize_t n) noexcept nogil
    void cgrad_nn_softmax_row_f32(const float* x, float* out, Py_ssize_t n, int log) noexcept nogil
    void cgrad_nn_max_into_f32(const float* x, float* mx, Py_ssize_t n) noexcept nogil
    void cgrad_nn_exp_cols_f32(const float* x, const float* mx, float* out, double* sm, Py_ssize_t n,
                               int log) noexcept nogil
    void cgrad_nn_softmax_bwd_row_f32(const float* g, const float* y, float* gx, Py_ssize_t n,
                                      int log) noexcept nogil
    void cgrad_nn_lsm_bwd_cols_f32(const float* g, const float* y, float* gx, const double* c,
                                   Py_ssize_t n) noexcept nogil


cdef inline real_t nn_exp(real_t x) noexcept nogil:
    if real_t is float:
        return cgrad_nn_expf(x)
    else:
        return cmath.exp(x)


cdef inline double nn_row_sum(const real_t* v, Py_ssize_t n) noexcept nogil:
    """sum of v[0:n] in double, in partial sums."""
    cdef double d0 = 0, d1 = 0, d2 = 0, d3 = 0
    cdef Py_ssize_t i = 0
    if real_t is float:
        d0 = cgrad_nn_sum_f32(v, n)
    else:
        while i + 4 <= n:
            d0 += v[i]
            d1 += v[i + 1]
            d2 += v[i + 2]
            d3 += v[i + 3]
            i += 4
        while i < n:
            d0 += v[i]
            i += 1
    return (d0 + d1) + (d2 + d3)


cdef inline real_t nn_row_max(const real_t* x, Py_ssize_t n) noexcept nogil:
    """max of x[0:n] (n >= 1), NaN winning."""
    cdef real_t m = x[0], v
    cdef Py_ssize_t k
    if real_t is float:
        m = cgrad_nn_max_f32(x, n)
    else:
        for k in range(1, n):
            v = x[k]
            if v > m or v != v:
                m = v
                if v != v:
                    break
    return m


cdef void nn_softmax_lastdim(real_t* out, const real_t* x, Py_ssize_t rows, Py_ssize_t n,
                             bint log) noexcept nogil:
    cdef Py_ssize_t r, k
    cdef const real_t* xr
    cdef real_t* orow
    cdef real_t m, c
    cdef double s
    for r in range(rows):
        xr = x + r * n
        orow = out + r * n
        if real_t is float:
            cgrad_nn_softmax_row_f32(xr, orow, n, log)
        else:
            m = nn_row_max(xr, n)
            for k in range(n):
                orow[k] = cmath.exp(xr[k] - m)
            s = nn_row_sum(orow, n)
            if log:
                c = <real_t>cmath.log(s)
                for k in range(n):
                    orow[k] = (xr[k] - m) - c
            else:
                c = <real_t>(1.0 / s)
                for k in range(n):
                    orow[k] = orow[k] * c


cdef void nn_softmax_inner(real_t* out, const real_t* x, Py_ssize_t outer, Py_ssize_t n,
                           Py_ssize_t inner, bint log, real_t* mx, double* sm, Py_ssize_t ld) noexcept nogil:
    """ld: the stride from one of the n rows to the next (inner, or wider for
    a block of columns with outer 1)."""
    cdef Py_ssize_t o, k, i
    cdef const real_t* xo
    cdef const real_t* row
    cdef real_t* oo
    cdef real_t* orow
    cdef real_t v
    for o in range(outer):
        xo = x + o * n * ld
        oo = out + o * n * ld
        for i in range(inner):
            mx[i] = xo[i]
            sm[i] = 0
        for k in range(1, n):
            row = xo + k * ld
            if real_t is float:
                cgrad_nn_max_into_f32(row, mx, inner)
            else:
                for i in range(inner):
                    v = row[i]
                    if not (v <= mx[i] or mx[i] != mx[i]):
                        mx[i] = v
        for k in range(n):
            row = xo + k * ld
            orow = oo + k * ld
            if real_t is float:
                cgrad_nn_exp_cols_f32(row, mx, orow, sm, inner, log)
            else:
                for i in range(inner):
                    v = cmath.exp(row[i] - mx[i])
                    if not log:
                        orow[i] = v
                    sm[i] += v
        if log:
            for i in range(inner):
                sm[i] = cmath.log(sm[i])
            for k in range(n):
                row = xo + k * ld
                orow = oo + k * ld
                for i in range(inner):
                    orow[i] = (row[i] - mx[i]) - <real_t>sm[i]
        else:
            for i in range(inner):
                sm[i] = 1.0 / sm[i]
            for k in range(n):
                orow = oo + k * ld
                for i in range(inner):
                    orow[i] = orow[i] * <real_t>sm[i]


cdef void nn_softmax_bwd_impl(real_t* gx, const real_t* g, const real_t* y, Py_ssize_t outer,
                              Py_ssize_t n, Py_ssize_t inner, bint log, double* sm) noexcept nogil:
    """softmax:     gx = y * (g - sum(g * y))
       log_softmax: gx = g - exp(y) * sum(g)          (sums over the dim)"""
    cdef Py_ssize_t o, k, i, base, j
    cdef real_t c
    cdef double acc
    for o in range(outer):
        base = o * n * inner
        if inner == 1:
            if real_t is float:
                cgrad_nn_softmax_bwd_row_f32(g + base, y + base, gx + base, n, log)
            else:
                if log:
                    acc = nn_row_sum(g + base, n)
                else:
                    acc = 0
                    for k in range(n):
                        acc += g[base + k] * y[base + k]
                c = <real_t>acc
                if log:
                    for k in range(n):
                        gx[base + k] = g[base + k] - cmath.exp(y[base + k]) * c
                else:
                    for k in range(n):
                        gx[base + k] = y[base + k] * (g[base + k] - c)
            continue
        for i in range(inner):
            sm[i] = 0
        for k in range(n):
            j = base + k * inner
            for i in range(inner):
                if log:
                    sm[i] += g[j + i]
                else:
                    sm[i] += g[j + i] * y[j + i]
        for k in range(n):
            j = base + k * inner
            if real_t is float:
                if log:
                    cgrad_nn_lsm_bwd_cols_f32(g + j, y + j, gx + j, sm, inner)
                    continue
            for i in range(inner):
                c = <real_t>sm[i]
                if log:
                    gx[j + i] = g[j + i] - nn_exp(y[j + i]) * c
                else:
                    gx[j + i] = y[j + i] * (g[j + i] - c)


cdef void nn_softmax_run(int dt, char* out, const char* x, Py_ssize_t outer, Py_ssize_t n,
                        Py_ssize_t inner, bint log, void* mx, double* sm, Py_ssize_t ld) noexcept nogil:
    if dt == F32:
        if inner == 1:
            nn_softmax_lastdim(<float*>out, <const float*>x, outer, n, log)
        else:
            nn_softmax_inner(<float*>out, <const float*>x, outer, n, inner, log, <float*>mx, sm, ld)
    else:
        if inner == 1:
            nn_softmax_lastdim(<double*>out, <const double*>x, outer, n, log)
        else:
            nn_softmax_inner(<double*>out, <const double*>x, outer, n, inner, log, <double*>mx, sm, ld)


cdef void nn_log_softmax_lastdim_f16(const uint16_t* x, uint16_t* out, Py_ssize_t outer,
                                     Py_ssize_t n, int bf16) noexcept nogil:
    """float16 (bf16: bfloat16) log_softmax over the last dim as PyTorch's
    CPU kernel for reduced floats computes it: x - max - log(sum), in float,
    with the sum and its log each rounded to the 16-bit type (its buffers
    are)."""
    cdef Py_ssize_t o, i
    cdef const uint16_t* row
    cdef float m, v, c
    cdef double acc
    for o in range(outer):
        row = x + o * n
        m = cg_h16_to_f(row[0], bf16)
        for i in range(1, n):
            v = cg_h16_to_f(row[i], bf16)
            m = v if (v > m or v != v) else m
        acc = 0
        for i in range(n):
            acc += cgrad_nn_expf(cg_h16_to_f(row[i], bf16) - m)
        c = cg_round_h16(cmath.logf(cg_round_h16(<float>acc, bf16)), bf16)
        for i in range(n):
            out[o * n + i] = cg_f_to_h16((cg_h16_to_f(row[i], bf16) - m) - c, bf16)


cdef extern from *:
    """
    /* The number of halves in PyTorch's Vectorized<Half> on this CPU: its
       kernels dispatched for AVX-512 use 64-byte vectors, else 32 bytes. */
    static int cgrad_half_vector_width(void) {
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
            return 32;
    #endif
        return 16;
    }
    """
    int cgrad_half_vector_width() noexcept nogil


cdef int HALF_VECTOR_WIDTH = cgrad_half_vector_width()


cdef void nn_softmax_inner_f16(const uint16_t* x, uint16_t* out, Py_ssize_t outer, Py_ssize_t n,
                               Py_ssize_t inner, int nthreads, int bf16) noexcept nogil:
    """float16 (bf16: bfloat16) softmax over a dim that is not the last, as PyTorch's CPU
    kernel for reduced floats computes it: each thread's share of the
    (outer, inner) columns goes in vectors (of HALF_VECTOR_WIDTH) where a
    vector fits in the row (exp(x - max) * (1 / sum), in float) and one by
    one elsewhere (the exponentials rounded to half first). The shares are
    PyTorch's parallel_for split over `nthreads`."""
    cdef Py_ssize_t N = outer * inner, chunk, t, b, e, idx, col, o, j, k, base, width
    cdef Py_ssize_t VW = HALF_VECTOR_WIDTH
    cdef float m, v, acc, r, ek
    cdef bint vec
    if N == 0:
        return
    chunk = (N + nthreads - 1) // nthreads
    for t in range(nthreads):
        b = t * chunk
        e = b + chunk if b + chunk < N else N
        idx = b
        while idx < e:
            vec = (idx % inner) + VW <= inner and idx + VW <= e
            width = VW if vec else 1
            for col in range(idx, idx + width):
                o = col // inner
                j = col % inner
                base = o * n * inner + j
                m = cg_h16_to_f(x[base], bf16)
                for k in range(1, n):
                    v = cg_h16_to_f(x[base + k * inner], bf16)
                    m = v if (v > m or v != v) else m
                acc = 0
                for k in range(n):
                    acc = acc + cmath.expf(cg_h16_to_f(x[base + k * inner], bf16) - m)
                r = 1.0 / acc
                for k in range(n):
                    ek = cmath.expf(cg_h16_to_f(x[base + k * inner], bf16) - m)
                    if not vec:
                        ek = cg_round_h16(ek, bf16)
                    out[base + k * inner] = cg_f_to_h16(ek * r, bf16)
            idx += width


cdef int nn_softmax_kernel(Tensor out, Tensor x, int dim, bint log) except -1:
    """out = (log_)softmax(x) over dim; both contiguous, same float dtype.
    float16 runs the float32 kernel and rounds once, as PyTorch's CPU
    kernel computes Half in float."""
    cdef Py_ssize_t outer, n, inner
    cdef void* mx = NULL
    cdef double* sm = NULL
    cdef Tensor out32
    cdef int nthreads
    if x._numel == 0:
        return 0
    if is_half16(x._dtype):
        nn_split_dim(x, dim, &outer, &n, &inner)
        if log and inner == 1:
            if x._numel >= GIL_RELEASE_NUMEL:
                with nogil:
                    nn_log_softmax_lastdim_f16(<uint16_t*>x._data, <uint16_t*>out._data, outer, n, x._dtype == BF16)
            else:
                nn_log_softmax_lastdim_f16(<uint16_t*>x._data, <uint16_t*>out._data, outer, n, x._dtype == BF16)
            return 0
        if not log and inner > 1:
            nthreads = _num_threads
            if x._numel >= GIL_RELEASE_NUMEL:
                with nogil:
                    nn_softmax_inner_f16(<uint16_t*>x._data, <uint16_t*>out._data, outer, n, inner, nthreads,
                                         x._dtype == BF16)
            else:
                nn_softmax_inner_f16(<uint16_t*>x._data, <uint16_t*>out._data, outer, n, inner, nthreads,
                                         x._dtype == BF16)
            return 0
        out32 = new_tensor(out._ndim, out._shape, F32)
        nn_softmax_kernel(out32, cast_tensor(x, F32), dim, log)
        copy_into(out, out32)
        return 0
    nn_split_dim(x, dim, &outer, &n, &inner)
    if threads_for(x._numel) > 1:
        return softmax_threads(x._dtype, out._data, x._data, outer, n, inner, log)
    if inner > 1:
        mx = malloc(inner * sizeof(double))
        sm = <double*>malloc(inner * sizeof(double))
        if mx == NULL or sm == NULL:
            free(mx)
            free(sm)
            raise MemoryError()
    if x._numel >= GIL_RELEASE_NUMEL:
        with nogil:
            nn_softmax_run(x._dtype, out._data, x._data, outer, n, inner, log, mx, sm, inner)
    else:
        nn_softmax_run(x._dtype, out._data, x._data, outer, n, inner, log, mx, sm, inner)
    free(mx)
    free(sm)
    return 0


cdef void nn_softmax_bwd_run(int dt, char* gx, const char* g, const char* y, Py_ssize_t outer,
                            Py_ssize_t n, Py_ssize_t inner, bint log, double* sm) noexcept nogil:
    if dt == F32:
        nn_softmax_bwd_impl(<float*>gx, <const float*>g, <const float*>y, outer, n, inner, log, sm)
    else:
        nn_softmax_bwd_impl(<double*>gx, <const double*>g, <const double*>y, outer, n, inner, log, sm)


cdef Tensor nn_softmax_backward_kernel(Tensor g, Tensor y, int dim, bint log):
    """The fused backward: a new contiguous gradient of y's shape."""
    cdef Py_ssize_t outer, n, inner
    cdef double* sm
    cdef Tensor gx
    if is_half16(y._dtype):
        return cast_tensor(nn_softmax_backward_kernel(cast_tensor(g, F32), cast_tensor(y, F32), dim, log),
                           y._dtype)
    if g._dtype != y._dtype:
        g = cast_tensor(g, y._dtype)
    g = nn_contiguous(g)
    y = nn_contiguous(y)
    gx = new_tensor(y._ndim, y._shape, y._dtype)
    if y._numel == 0:
        return gx
    nn_split_dim(y, dim, &outer, &n, &inner)
    sm = <double*>malloc(inner * sizeof(double))
    if sm == NULL:
        raise MemoryError()
    if y._numel >= GIL_RELEASE_NUMEL:
        with nogil:
            nn_softmax_bwd_run(y._dtype, gx._data, g._data, y._data, outer, n, inner, log, sm)
    else:
        nn_softmax_bwd_run(y._dtype, gx._data, g._data, y._data, outer, n, inner, log, sm)
    free(sm)
    return gx


cdef class SoftmaxBackward0(Node):
    cdef Tensor result
    cdef long long result_version
    cdef int dim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor y = unpack_output(self, self.result, self.result_version)
        if cgrad_grad_enabled:
            # y * (g - sum(g * y, dim, keepdim=True))
            return (op_mul(y, op_sub(g, op_sum(op_mul(g, y), (self.dim,), True))),)
        return (nn_softmax_backward_kernel(g, y, self.dim, False),)

    cdef void release_saved(self) noexcept:
        self.result = None


cdef class LogSoftmaxBackward0(Node):
    cdef Tensor result
    cdef long long result_version
    cdef int dim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor y = unpack_output(self, self.result, self.result_version)
        if cgrad_grad_enabled:
            # g - exp(y) * sum(g, dim, keepdim=True)
            return (op_sub(g, op_mul(op_exp(y), op_sum(g, (self.dim,), True))),)
        return (nn_softmax_backward_kernel(g, y, self.dim, True),)

    cdef void release_saved(self) noexcept:
        self.result = None


cdef Tensor op_softmax(Tensor x, object dim_arg, int dt, bint log):
    """(log_)softmax of x over dim; dt >= 0 converts x to that dtype first
    (as the dtype= argument does, recording the conversion)."""
    cdef int dim = wrap_dim(dim_arg, x._ndim)
    cdef Tensor src, out
    cdef SoftmaxBackward0 snode
    cdef LogSoftmaxBackward0 lnode
    if dt >= 0 and dt != x._dtype:
        x = op_to_dtype(x, dt)
    if not is_float(x._dtype):
        raise NotImplementedError(
            f"\"{'log_' if log else ''}softmax_{'lastdim_' if x._ndim <= 1 or dim == x._ndim - 1 else ''}"
            f"kernel_impl\" not implemented for '{dtype_title(x._dtype)}'")
    src = nn_contiguous(x)
    out = new_tensor(x._ndim, x._shape, x._dtype)
    nn_softmax_kernel(out, src, dim, log)
    if needs_grad(x):
        if log:
            lnode = LogSoftmaxBackward0.__new__(LogSoftmaxBackward0)
            wire1(lnode, x)
            lnode.result = save_output(lnode, out)
            lnode.dim = dim
            set_history(out, lnode)
        else:
            snode = SoftmaxBackward0.__new__(SoftmaxBackward0)
            wire1(snode, x)
            snode.result = save_output(snode, out)
            snode.dim = dim
            set_history(out, snode)
    return out


cdef Tensor nn_softmax_call(str fname, object input, tuple args, dict kwargs, bint log, bint method):
    """cgrad.softmax(input, dim, dtype=None) and Tensor.softmax(dim, dtype=None)."""
    cdef tuple bound
    cdef Tensor x
    kwargs = dim_aliases(kwargs)
    if method:
        bound = nn_parse_args(fname, args, kwargs, ("dim", "dtype"), 1)
        x = <Tensor>input
        dim = nn_int_arg(bound[0][0], fname, "dim", bound[0][1])
        dt = bound[1][0]
    else:
        bound = nn_parse_args(fname, args, kwargs, ("input", "dim", "dtype"), 2)
        x = nn_tensor_arg(bound[0][0], fname, "input", bound[0][1])
        dim = nn_int_arg(bound[1][0], fname, "dim", bound[1][1])
        dt = bound[2][0]
    if dt is NO_ARG:
        dt = None
    return op_softmax(x, dim, nn_dtype_arg(dt, fname), log)


def softmax(*args, **kwargs):
    """softmax(input, dim, dtype=None): exp(x) / sum(exp(x)) over dim,
    computed max-subtracted; dtype converts the input first."""
    return nn_softmax_call("softmax", None, args, kwargs, False, False)


def log_softmax(*args, **kwargs):
    """log_softmax(input, dim, dtype=None): x - log(sum(exp(x))) over dim,
    computed max-subtracted; dtype converts the input first."""
    return nn_softmax_call("log_softmax", None, args, kwargs, True, False)
