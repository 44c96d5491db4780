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
    (value, position) pairs: position 0 for keywords, the value _NN_MISSING
    when not given."""
    cdef int n = len(names)
    cdef list values = [_NN_MISSING] * n
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
    missing = [names[i] for i in range(required) if values[i] is _NN_MISSING]
    if missing:
        if len(missing) == 1:
            raise TypeError(f'{fname}() missing 1 required positional arguments: "{missing[0]}"')
        raise TypeError(f"{fname}() missing {len(missing)} required positional argument: "
                        + ", ".join([f'"{m}"' for m in missing]))
    return tuple([(values[i], positions[i]) for i in range(n)])


cdef object _NN_MISSING = object()


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
    /* an AVX2 copy of each loop, picked at load time; no FMA, so both copies
       round identically */
    #define CGRAD_NN_CLONES __attribute__((target_clones("avx2", "default")))
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
                           Py_ssize_t inner, bint log, real_t* mx, double* sm) noexcept nogil:
    cdef Py_ssize_t o, k, i
    cdef const real_t* xo
    cdef const real_t* row
    cdef real_t* oo
    cdef real_t* orow
    cdef real_t v
    for o in range(outer):
        xo = x + o * n * inner
        oo = out + o * n * inner
        for i in range(inner):
            mx[i] = xo[i]
            sm[i] = 0
        for k in range(1, n):
            row = xo + k * inner
            if real_t is float:
                cgrad_nn_max_into_f32(row, mx, inner)
            else:
                for i in range(inner):
                    v = row[i]
                    if not (v <= mx[i] or mx[i] != mx[i]):
                        mx[i] = v
        for k in range(n):
            row = xo + k * inner
            orow = oo + k * inner
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
                row = xo + k * inner
                orow = oo + k * inner
                for i in range(inner):
                    orow[i] = (row[i] - mx[i]) - <real_t>sm[i]
        else:
            for i in range(inner):
                sm[i] = 1.0 / sm[i]
            for k in range(n):
                orow = oo + k * inner
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
                        Py_ssize_t inner, bint log, void* mx, double* sm) noexcept nogil:
    if dt == F32:
        if inner == 1:
            nn_softmax_lastdim(<float*>out, <const float*>x, outer, n, log)
        else:
            nn_softmax_inner(<float*>out, <const float*>x, outer, n, inner, log, <float*>mx, sm)
    else:
        if inner == 1:
            nn_softmax_lastdim(<double*>out, <const double*>x, outer, n, log)
        else:
            nn_softmax_inner(<double*>out, <const double*>x, outer, n, inner, log, <double*>mx, sm)


cdef void nn_log_softmax_lastdim_f16(const uint16_t* x, uint16_t* out, Py_ssize_t outer,
                                     Py_ssize_t n) noexcept nogil:
    """float16 log_softmax over the last dim as PyTorch's CPU kernel for
    reduced floats computes it: x - max - log(sum), in float, with the sum
    and its log each rounded to half (its buffers are half)."""
    cdef Py_ssize_t o, i
    cdef const uint16_t* row
    cdef float m, v, c
    cdef double acc
    for o in range(outer):
        row = x + o * n
        m = cg_h2f(row[0])
        for i in range(1, n):
            v = cg_h2f(row[i])
            m = v if (v > m or v != v) else m
        acc = 0
        for i in range(n):
            acc += cgrad_nn_expf(cg_h2f(row[i]) - m)
        c = cg_h2f(cg_f2h(cmath.logf(cg_h2f(cg_d2h(acc)))))
        for i in range(n):
            out[o * n + i] = cg_f2h((cg_h2f(row[i]) - m) - c)


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
                               Py_ssize_t inner, int nthreads) noexcept nogil:
    """float16 softmax over a dim that is not the last, as PyTorch's CPU
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
                m = cg_h2f(x[base])
                for k in range(1, n):
                    v = cg_h2f(x[base + k * inner])
                    m = v if (v > m or v != v) else m
                acc = 0
                for k in range(n):
                    acc = acc + cmath.expf(cg_h2f(x[base + k * inner]) - m)
                r = 1.0 / acc
                for k in range(n):
                    ek = cmath.expf(cg_h2f(x[base + k * inner]) - m)
                    if not vec:
                        ek = cg_h2f(cg_f2h(ek))
                    out[base + k * inner] = cg_f2h(ek * r)
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
    if x._dtype == F16:
        nn_split_dim(x, dim, &outer, &n, &inner)
        if log and inner == 1:
            if x._numel >= GIL_RELEASE_NUMEL:
                with nogil:
                    nn_log_softmax_lastdim_f16(<uint16_t*>x._data, <uint16_t*>out._data, outer, n)
            else:
                nn_log_softmax_lastdim_f16(<uint16_t*>x._data, <uint16_t*>out._data, outer, n)
            return 0
        if not log and inner > 1:
            nthreads = _num_threads
            if x._numel >= GIL_RELEASE_NUMEL:
                with nogil:
                    nn_softmax_inner_f16(<uint16_t*>x._data, <uint16_t*>out._data, outer, n, inner, nthreads)
            else:
                nn_softmax_inner_f16(<uint16_t*>x._data, <uint16_t*>out._data, outer, n, inner, nthreads)
            return 0
        out32 = new_tensor(out._ndim, out._shape, F32)
        nn_softmax_kernel(out32, cast_tensor(x, F32), dim, log)
        copy_into(out, out32)
        return 0
    nn_split_dim(x, dim, &outer, &n, &inner)
    if inner > 1:
        mx = malloc(inner * sizeof(double))
        sm = <double*>malloc(inner * sizeof(double))
        if mx == NULL or sm == NULL:
            free(mx)
            free(sm)
            raise MemoryError()
    if x._numel >= GIL_RELEASE_NUMEL:
        with nogil:
            nn_softmax_run(x._dtype, out._data, x._data, outer, n, inner, log, mx, sm)
    else:
        nn_softmax_run(x._dtype, out._data, x._data, outer, n, inner, log, mx, sm)
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
    if y._dtype == F16:
        return cast_tensor(nn_softmax_backward_kernel(cast_tensor(g, F32), cast_tensor(y, F32), dim, log), F16)
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
            lnode.result = alias_detached(out)
            lnode.dim = dim
            set_history(out, lnode)
        else:
            snode = SoftmaxBackward0.__new__(SoftmaxBackward0)
            wire1(snode, x)
            snode.result = alias_detached(out)
            snode.dim = dim
            set_history(out, snode)
    return out


cdef Tensor nn_softmax_call(str fname, object input, tuple args, dict kwargs, bint log, bint method):
    """cgrad.softmax(input, dim, dtype=None) and Tensor.softmax(dim, dtype=None)."""
    cdef tuple bound
    cdef Tensor x
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
    if dt is _NN_MISSING:
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


# ---------------------------------------------------------------------------
# nll_loss: the input seen as (N, C, S) (S = 1 for 1-D/2-D inputs, the
# flattened spatial dims for nll_loss2d), the target as N*S class indices.
# One kernel gathers -w[t] * x[n, t, s] (per element, or summed in double
# with the total weight); the backward scatters -w[t] * g back into zeros.
# The gradient's own backward is the forward again (the op is linear), so
# NllLossBackwardBackward0 just runs the loss on the incoming gradient.


cdef class _NllSpec:
    """The fixed part of one nll_loss call, shared by its nodes."""
    cdef Py_ssize_t N, C, S
    cdef int64_t ignore_index
    cdef int reduction
    cdef bint per_element     # one loss per (n, s): reduction 'none' with a batch
    cdef bint spatial         # nll_loss2d (its nodes are named NllLoss2D...)
    cdef tuple in_shape       # shape of the input the node differentiates
    cdef tuple out_shape      # shape of the loss the kernel makes


cdef int nn_nll_fwd_impl(real_t* out, real_t* total, const real_t* x, const int64_t* t,
                         const real_t* w, Py_ssize_t N, Py_ssize_t C,
                         Py_ssize_t S, int64_t ignore, int reduction, bint per_element,
                         int64_t* bad) noexcept nogil:
    """Returns -1 (bad[0] = the target) when a target is out of range."""
    cdef Py_ssize_t n, s, i
    cdef int64_t tt
    cdef real_t wv
    cdef double acc = 0, tw = 0
    for n in range(N):
        for s in range(S):
            i = n * S + s
            tt = t[i]
            if tt == ignore:
                if per_element:
                    out[i] = 0
                continue
            if tt < 0 or tt >= C:
                bad[0] = tt
                return -1
            wv = w[tt] if w != NULL else 1
            if per_element:
                out[i] = -x[(n * C + tt) * S + s] * wv
            else:
                acc -= x[(n * C + tt) * S + s] * wv
                tw += wv
    if not per_element:
        total[0] = <real_t>tw
        if reduction == NN_RED_MEAN:
            out[0] = <real_t>acc / <real_t>tw
        else:
            out[0] = <real_t>acc
    return 0


cdef void nn_nll_bwd_impl(real_t* gx, const real_t* g, const int64_t* t, const real_t* w,
                          real_t total, Py_ssize_t N, Py_ssize_t C, Py_ssize_t S, int64_t ignore,
                          int reduction, bint per_element) noexcept nogil:
    """gx (zeroed) [n, t, s] = -w[t] * g (g per element, or g / total for mean)."""
    cdef Py_ssize_t n, s, i
    cdef int64_t tt
    cdef real_t gv = 0
    if not per_element:
        gv = -(g[0] / total) if reduction == NN_RED_MEAN else -g[0]
    for n in range(N):
        for s in range(S):
            i = n * S + s
            tt = t[i]
            if tt == ignore or tt < 0 or tt >= C:
                continue
            if per_element:
                gx[(n * C + tt) * S + s] = -(w[tt] if w != NULL else <real_t>1) * g[i]
            else:
                gx[(n * C + tt) * S + s] = w[tt] * gv if w != NULL else gv


cdef int nn_nll_fwd_run(int dt, char* out, char* total, const char* x, const int64_t* t,
                        const char* w, _NllSpec spec, int64_t* bad) noexcept nogil:
    if dt == F32:
        return nn_nll_fwd_impl(<float*>out, <float*>total, <const float*>x, t, <const float*>w,
                               spec.N, spec.C, spec.S, spec.ignore_index, spec.reduction,
                               spec.per_element, bad)
    return nn_nll_fwd_impl(<double*>out, <double*>total, <const double*>x, t, <const double*>w,
                           spec.N, spec.C, spec.S, spec.ignore_index, spec.reduction,
                           spec.per_element, bad)


cdef tuple nn_nll_forward_kernel(Tensor x, Tensor target, Tensor weight, _NllSpec spec):
    """(loss, total_weight) of x (the spec's layout) and target (int64); no
    history. Raises PyTorch's IndexError for an out-of-range target.
    float16 is computed in float32 and rounded."""
    cdef Tensor out, total
    cdef char* wp = NULL
    cdef int64_t bad = 0
    cdef int rc
    if x._dtype == F16:
        out, total = nn_nll_forward_kernel(cast_tensor(x, F32), target,
                                           None if weight is None else cast_tensor(weight, F32), spec)
        return cast_tensor(out, F16), cast_tensor(total, F16)
    if target._dtype != I64:
        target = cast_tensor(target, I64)
    out = new_tensor_from_tuple(spec.out_shape, x._dtype)
    total = new_tensor(0, NULL, x._dtype, True)
    x = nn_contiguous(x)
    target = nn_contiguous(target)
    if weight is not None:
        weight = nn_contiguous(weight)
        wp = weight._data
    if spec.N * spec.S >= GIL_RELEASE_NUMEL:
        with nogil:
            rc = nn_nll_fwd_run(x._dtype, out._data, total._data, x._data, <int64_t*>target._data,
                                wp, spec, &bad)
    else:
        rc = nn_nll_fwd_run(x._dtype, out._data, total._data, x._data, <int64_t*>target._data,
                            wp, spec, &bad)
    if rc < 0:
        raise IndexError(f"Target {bad} is out of bounds.")
    return out, total


cdef void nn_nll_bwd_run(int dt, char* gx, const char* g, const int64_t* t, const char* w,
                         const char* total, _NllSpec spec) noexcept nogil:
    if dt == F32:
        nn_nll_bwd_impl(<float*>gx, <const float*>g, t, <const float*>w, (<const float*>total)[0],
                        spec.N, spec.C, spec.S, spec.ignore_index, spec.reduction, spec.per_element)
    else:
        nn_nll_bwd_impl(<double*>gx, <const double*>g, t, <const double*>w,
                        (<const double*>total)[0], spec.N, spec.C, spec.S, spec.ignore_index,
                        spec.reduction, spec.per_element)


cdef Tensor nn_nll_backward_kernel(Tensor g, Tensor target, Tensor weight, Tensor total, int dt,
                                   _NllSpec spec):
    """The gradient of the loss's input (the spec's in_shape, dtype dt)."""
    cdef Tensor gx
    cdef char* wp = NULL
    if dt == F16:
        return cast_tensor(nn_nll_backward_kernel(
            g, target, None if weight is None else cast_tensor(weight, F32),
            cast_tensor(total, F32), F32, spec), F16)
    if target._dtype != I64:
        target = cast_tensor(target, I64)
    gx = new_tensor_from_tuple(spec.in_shape, dt, True)
    if g._dtype != dt:
        g = cast_tensor(g, dt)
    g = nn_contiguous(g)
    target = nn_contiguous(target)
    if weight is not None:
        weight = nn_contiguous(weight)
        wp = weight._data
    if gx._numel == 0:
        return gx
    if spec.N * spec.S >= GIL_RELEASE_NUMEL:
        with nogil:
            nn_nll_bwd_run(dt, gx._data, g._data, <int64_t*>target._data, wp, total._data, spec)
    else:
        nn_nll_bwd_run(dt, gx._data, g._data, <int64_t*>target._data, wp, total._data, spec)
    return gx


cdef class NllLossBackward0(Node):
    cdef Tensor target, weight, total_weight
    cdef long long target_version, weight_version
    cdef _NllSpec spec
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor target = unpack_input(self, self.target, self.target_version)
        cdef Tensor weight = self.weight
        if weight is not None:
            weight = unpack_input(self, weight, self.weight_version)
        if cgrad_grad_enabled:
            return (op_nll_backward(g, target, weight, self.total_weight, self.self_dtype, self.spec),)
        return (nn_nll_backward_kernel(g, target, weight, self.total_weight, self.self_dtype, self.spec),)

    cdef void release_saved(self) noexcept:
        self.target = None
        self.weight = None
        self.total_weight = None


cdef class NllLoss2DBackward0(NllLossBackward0):
    pass


cdef class NllLossBackwardBackward0(Node):
    """The gradient of nll_loss's gradient with respect to grad_output: the
    loss itself, applied to the incoming gradient."""
    cdef Tensor target, weight
    cdef _NllSpec spec

    cdef tuple apply(self, object grads):
        if self.target is None:
            raise RuntimeError(FREED_MSG)
        return (op_nll(<Tensor>grads, self.target, self.weight, self.spec)[0],)

    cdef void release_saved(self) noexcept:
        self.target = None
        self.weight = None


cdef class NllLoss2DBackwardBackward0(NllLossBackwardBackward0):
    pass


cdef tuple op_nll(Tensor x, Tensor target, Tensor weight, _NllSpec spec):
    """(loss, total_weight): the checked core of nll_loss / nll_loss2d."""
    cdef tuple res = nn_nll_forward_kernel(x, target, weight, spec)
    cdef Tensor out = <Tensor>res[0]
    cdef NllLossBackward0 node
    if needs_grad(x):
        node = (NllLoss2DBackward0.__new__(NllLoss2DBackward0) if spec.spatial
                else NllLossBackward0.__new__(NllLossBackward0))
        wire1(node, x)
        node.target = target
        node.target_version = target._storage.version
        node.weight = weight
        if weight is not None:
            node.weight_version = weight._storage.version
        node.total_weight = <Tensor>res[1]
        node.spec = spec
        node.self_dtype = x._dtype
        set_history(out, node)
    return res


cdef Tensor op_nll_backward(Tensor g, Tensor target, Tensor weight, Tensor total, int dt,
                            _NllSpec spec):
    cdef Tensor gx = nn_nll_backward_kernel(g, target, weight, total, dt, spec)
    cdef NllLossBackwardBackward0 node
    if needs_grad(g):
        node = (NllLoss2DBackwardBackward0.__new__(NllLoss2DBackwardBackward0) if spec.spatial
                else NllLossBackwardBackward0.__new__(NllLossBackwardBackward0))
        wire1(node, g)
        node.target = target
        node.weight = weight
        node.spec = spec
        set_history(gx, node)
    return gx


cdef int nn_check_weight_no_grad(Tensor w, str fname) except -1:
    if w is not None and w._requires_grad and cgrad_grad_enabled:
        raise RuntimeError(
            f"The function '{fname}' is not differentiable with respect to argument 'weight'. "
            "This input cannot have requires_grad True.")
    return 0


cdef str nn_target_dtype_msg(Tensor t):
    return f"expected target dtype to be Long or Byte, but got {dtype_title(t._dtype)}"


cdef int nn_check_weight_dtype(Tensor x, Tensor w) except -1:
    if w is not None and w._dtype != x._dtype:
        raise RuntimeError(
            f"expected scalar type {dtype_title(x._dtype)} but found {dtype_title(w._dtype)}")
    return 0


cdef tuple nn_nll_loss(Tensor x, Tensor t, Tensor w, int reduction, int64_t ignore):
    """nll_loss on a 1-D (C) or 2-D (N, C) input."""
    cdef _NllSpec spec = _NllSpec.__new__(_NllSpec)
    cdef Py_ssize_t C = x._shape[x._ndim - 1]
    nn_check_weight_no_grad(w, "nll_loss_forward")
    if t._ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if t._dtype != I64 and t._dtype != U8:
        raise RuntimeError(nn_target_dtype_msg(t))
    if x._ndim == 1 and t._ndim == 1 and t._shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {t._shape[0]}")
    if w is not None and not (w._ndim == 1 and w._numel == C):
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but got "
            f"weight tensor of shape: {shape_str(w._shape, w._ndim)}")
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"nll_loss_out_frame\" not implemented for '{dtype_title(x._dtype)}'")
    nn_check_weight_dtype(x, w)
    spec.N = x._shape[0] if x._ndim == 2 else 1
    spec.C = C
    spec.S = 1
    spec.ignore_index = ignore
    spec.reduction = reduction
    spec.per_element = reduction == NN_RED_NONE and x._ndim == 2
    spec.spatial = False
    spec.in_shape = shape_tuple(x)
    spec.out_shape = (spec.N,) if spec.per_element else ()
    return op_nll(x, t, w, spec)


cdef tuple nn_nll_loss2d(Tensor x, Tensor t, Tensor w, int reduction, int64_t ignore,
                         Py_ssize_t S, bint viewed):
    """nll_loss2d on a 4-D input (viewed=False), or on a 3-D / >4-D input
    PyTorch views as (N, C, 1, S) with its target as (N, 1, S)."""
    cdef _NllSpec spec = _NllSpec.__new__(_NllSpec)
    cdef Py_ssize_t C = x._shape[1]
    nn_check_weight_no_grad(w, "nll_loss2d_forward")
    if not viewed:
        if t._ndim != 3:
            raise RuntimeError(
                "only batches of spatial targets supported (3D tensors) but got targets of "
                f"dimension: {t._ndim}")
    if t._dtype != I64 and t._dtype != U8:
        raise RuntimeError(nn_target_dtype_msg(t))
    if w is not None and w._numel != C:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if not viewed:
        if not (x._shape[0] == t._shape[0] and x._shape[2] == t._shape[1] and x._shape[3] == t._shape[2]):
            raise RuntimeError(
                f"size mismatch (got input: {shape_str(x._shape, x._ndim)} , target: "
                f"{shape_str(t._shape, t._ndim)}")
    if not is_float(x._dtype):
        raise NotImplementedError(
            f"\"nll_loss2d_forward_out_frame\" not implemented for '{dtype_title(x._dtype)}'")
    nn_check_weight_dtype(x, w)
    spec.N = x._shape[0]
    spec.C = C
    spec.S = S
    spec.ignore_index = ignore
    spec.reduction = reduction
    spec.per_element = reduction == NN_RED_NONE
    spec.spatial = True
    spec.in_shape = shape_tuple(x)
    if not spec.per_element:
        spec.out_shape = ()
    elif viewed:
        spec.out_shape = (spec.N, 1, S)
    else:
        spec.out_shape = shape_tuple(t)
    return op_nll(x, t, w, spec)


cdef tuple nn_nll_loss_nd(Tensor x, Tensor t, Tensor w, int reduction, int64_t ignore):
    """PyTorch's nll_loss_nd: (loss, total_weight) for any input of rank >= 1,
    classes in dim 1 (dim 0 for an unbatched 1-D input)."""
    cdef Py_ssize_t S = 1
    cdef int d
    cdef tuple res, out_size
    if x._ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x._ndim})")
    if x._ndim != 1 and x._shape[0] != (t._shape[0] if t._ndim else 0):
        raise ValueError(
            f"Expected input batch_size ({x._shape[0]}) to match target batch_size "
            f"({t._shape[0] if t._ndim else 0}).")
    if x._ndim <= 2:
        return nn_nll_loss(x, t, w, reduction, ignore)
    if x._ndim == 4:
        return nn_nll_loss2d(x, t, w, reduction, ignore, x._shape[2] * x._shape[3], False)
    out_size = (x._shape[0],) + shape_tuple(x)[2:]
    if shape_tuple(t)[1:] != shape_tuple(x)[2:]:
        raise RuntimeError(f"Expected target size {list_str(list(out_size))}, got "
                           f"{shape_str(t._shape, t._ndim)}")
    for d in range(2, x._ndim):
        S *= x._shape[d]
    res = nn_nll_loss2d(x, t, w, reduction, ignore, S, True)
    if reduction == NN_RED_NONE:
        return op_view(<Tensor>res[0], out_size), res[1]
    return res


cdef int nn_reduction_arg(object reduction) except -1:
    if isinstance(reduction, bool) or not isinstance(reduction, (int, np.integer)) \
            or not 0 <= reduction <= 2:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return <int>reduction


def _nll_loss_nd(input, target, weight=None, reduction=1, ignore_index=-100):
    """nll_loss with the reduction as PyTorch's enum (0 none, 1 mean, 2 sum)."""
    cdef Tensor x = nn_tensor_arg(input, "nll_loss_nd", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "nll_loss_nd", "target", 2)
    cdef Tensor w = nn_optional_tensor_arg(weight, "nll_loss_nd", "weight", 3)
    cdef int red = nn_reduction_arg(reduction)
    cdef int64_t ign = nn_int_arg(ignore_index, "nll_loss_nd", "ignore_index", 5)
    return nn_nll_loss_nd(x, t, w, red, ign)[0]


# ---------------------------------------------------------------------------
# cross_entropy: log_softmax over the class dim, then nll_loss_nd; with
# label smoothing or class-probability targets, PyTorch's composite formulas
# (whose results carry AddBackward0 / DivBackward1 / NegBackward0).


cdef class DivBackward1(Node):
    """tensor / number as PyTorch's C++ code divides (div.Scalar)."""
    cdef object other
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = op_div_scalar(<Tensor>grads, self.other)
        if g._dtype != self.self_dtype:
            g = op_to_dtype(g, self.self_dtype)
        return (g,)


cdef Tensor nn_div_number(Tensor a, object s):
    cdef int dt = scalar_result_type(a._dtype, s)
    cdef Tensor out
    cdef DivBackward1 node
    if not is_float(dt):
        dt = DEFAULT_FLOAT
    out = scalar_kernel(DIV_ROWS, a, s, False, dt, dt, "div")
    if needs_grad(a):
        node = DivBackward1.__new__(DivBackward1)
        wire1(node, a)
        node.other = s
        node.self_dtype = a._dtype
        set_history(out, node)
    return out


cdef Tensor nn_class_weight_view(Tensor w, int ndim, int class_dim):
    """weight (C,) viewed to broadcast against an ndim input along class_dim."""
    cdef list shape = [1] * ndim
    if ndim <= 1:
        return w
    shape[class_dim] = w._numel
    return op_view(w, tuple(shape))


cdef Tensor nn_ce_prob_target(Tensor x, Tensor t, Tensor w, int reduction, double ls):
    cdef int class_dim = 0 if x._ndim == 1 else 1
    cdef Py_ssize_t C
    cdef Tensor inp, target, prod, total
    if x._ndim == 0:
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    C = x._shape[class_dim]
    if w is not None and not (w._ndim == 1 and w._numel == C):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all {C} classes or no "
            f"classes but got weight tensor of shape: {shape_str(w._shape, w._ndim)}")
    inp = op_softmax(x, class_dim, x._dtype, True)
    target = t
    if ls > 0.0:
        if ls > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {ls:g}")
        target = op_add_scalar(op_mul_scalar(t, 1 - ls), ls / C)
    prod = op_mul(inp, target)
    if w is not None:
        prod = op_mul(prod, nn_class_weight_view(w, inp._ndim, class_dim))
    if reduction == NN_RED_NONE:
        return op_neg(op_sum(prod, class_dim))
    total = op_sum(prod)
    if reduction == NN_RED_SUM:
        return op_neg(total)
    if inp._numel == 0:
        return op_neg(op_mul_scalar(total, float("nan")))
    return nn_div_number(op_neg(total), inp._numel // C)


cdef Tensor nn_ce_label_smoothing(Tensor x, Tensor t, Tensor w, int reduction, int64_t ignore,
                                  double ls):
    cdef int class_dim = 0 if x._ndim == 1 else 1
    cdef Tensor inp = op_softmax(x, class_dim, x._dtype, True)
    cdef tuple res = nn_nll_loss_nd(inp, t, w, reduction, ignore)
    cdef Tensor nll = <Tensor>res[0]
    cdef Tensor smooth, ret
    cdef Py_ssize_t C = inp._shape[class_dim]
    if w is not None:
        smooth = op_neg(op_sum(op_mul(inp, nn_class_weight_view(w, inp._ndim, class_dim)), class_dim))
    else:
        smooth = op_neg(op_sum(inp, class_dim))
    smooth = op_where(op_eq_scalar(t, ignore), new_tensor(0, NULL, smooth._dtype, True), smooth)
    if reduction == NN_RED_MEAN:
        ret = op_div(op_sum(smooth), <Tensor>res[1])
    elif reduction == NN_RED_SUM:
        ret = op_sum(smooth)
    else:
        ret = smooth
    return op_add(op_mul_scalar(nll, 1 - ls), op_mul_scalar(ret, ls / C))


def _cross_entropy(input, target, weight=None, reduction=1, ignore_index=-100,
                   label_smoothing=0.0):
    """cross_entropy with the reduction as PyTorch's enum."""
    cdef Tensor x = nn_tensor_arg(input, "cross_entropy_loss", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "cross_entropy_loss", "target", 2)
    cdef Tensor w = nn_optional_tensor_arg(weight, "cross_entropy_loss", "weight", 3)
    cdef int red = nn_reduction_arg(reduction)
    cdef int64_t ign = nn_int_arg(ignore_index, "cross_entropy_loss", "ignore_index", 5)
    cdef double ls
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float, np.integer, np.floating)):
        raise TypeError("cross_entropy_loss(): argument 'label_smoothing' (position 6) must be "
                        f"float, not {type(label_smoothing).__name__}")
    ls = label_smoothing
    if same_shape(x, t):
        if not is_float(t._dtype):
            raise RuntimeError("Expected floating point type for target with class probabilities, "
                               f"got {dtype_title(t._dtype)}")
        if ign >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return nn_ce_prob_target(x, t, w, red, ls)
    if ls > 0.0:
        if ls > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {ls:g}")
        return nn_ce_label_smoothing(x, t, w, red, ign, ls)
    return nn_nll_loss_nd(op_softmax(x, 0 if x._ndim == 1 else 1, x._dtype, True), t, w, red,
                          ign)[0]


# ---------------------------------------------------------------------------
# Pointwise losses: mse_loss and binary_cross_entropy. Their row kernels run
# under run_elementwise (broadcasting, strides, GIL release); a reduced loss
# accumulates in a double through a 0-d operand of stride 0.


cdef struct NnLossCtx:
    double norm          # backward scale (2 or 2/numel for mse; 1/numel for bce mean)
    int has_weight
    int mean
    int bad              # bce: 1 input out of [0, 1], 2 target out of [0, 1]


cdef inline void nn_mse_fwd_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                 bint acc) noexcept nogil:
    cdef const real_t* x = <const real_t*>p[1]
    cdef const real_t* t = <const real_t*>p[2]
    cdef Py_ssize_t i
    cdef real_t d
    cdef double a = 0
    if acc and s[1] == 1 and s[2] == 1:
        if real_t is float:
            (<double*>p[0])[0] += cgrad_nn_sqdiff_sum_f32(x, t, n)
        else:
            (<double*>p[0])[0] += cgrad_nn_sqdiff_sum_f64(x, t, n)
        return
    for i in range(n):
        d = x[i * s[1]] - t[i * s[2]]
        if acc:
            a += d * d
        else:
            o[i * s[0]] = d * d
    if acc:
        (<double*>p[0])[0] += a


cdef void nn_mse_fwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_fwd_impl(<float*>p[0], p, s, n, False)

cdef void nn_mse_fwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_fwd_impl(<double*>p[0], p, s, n, False)

cdef void nn_mse_acc_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_fwd_impl(<float*>NULL, p, s, n, True)

cdef void nn_mse_acc_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_fwd_impl(<double*>NULL, p, s, n, True)


cdef inline void nn_mse_bwd_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                 NnLossCtx* c) noexcept nogil:
    # OUT norm * (a - b) * g;  IN a, b, g
    cdef const real_t* a = <const real_t*>p[1]
    cdef const real_t* b = <const real_t*>p[2]
    cdef const real_t* g = <const real_t*>p[3]
    cdef real_t norm = <real_t>c.norm
    cdef real_t gv
    cdef Py_ssize_t i
    if s[0] == 1 and s[1] == 1 and s[2] == 1:
        if s[3] == 0:
            gv = g[0]
            for i in range(n):
                o[i] = norm * (a[i] - b[i]) * gv
        else:
            for i in range(n):
                o[i] = norm * (a[i] - b[i]) * g[i * s[3]]
        return
    for i in range(n):
        o[i * s[0]] = norm * (a[i * s[1]] - b[i * s[2]]) * g[i * s[3]]


cdef void nn_mse_bwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_bwd_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx)

cdef void nn_mse_bwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_bwd_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx)


cdef Tensor nn_loss_result(int dt, double value, bint mean, Py_ssize_t numel):
    """A 0-d tensor of dtype dt holding a sum (or mean) accumulated in double."""
    cdef Tensor out = new_tensor(0, NULL, dt)
    if mean:
        value = value / <double>numel
    if dt == F32:
        (<float*>out._data)[0] = <float>value
    elif dt == F16:
        (<uint16_t*>out._data)[0] = cg_d2h(value)
    else:
        (<double*>out._data)[0] = value
    return out


cdef Tensor nn_run_loss(RowFn elementwise, RowFn accumulate, int nops, Operand* ops, Tensor like,
                        int dt, int reduction, void* ctx):
    """Run a loss row kernel: elementwise into a new tensor of like's shape
    (reduction 'none'), or summed into a 0-d result."""
    cdef Tensor out
    cdef double acc = 0
    if reduction == NN_RED_NONE:
        out = new_tensor(like._ndim, like._shape, dt)
        ops[0] = operand_of(out)
        run_elementwise(elementwise, nops, ops, like._ndim, like._shape, like._numel, ctx)
        return out
    ops[0] = operand_of_scalar(&acc, sizeof(double))
    run_elementwise(accumulate, nops, ops, like._ndim, like._shape, like._numel, ctx)
    return nn_loss_result(dt, acc, reduction == NN_RED_MEAN, like._numel)


cdef Tensor nn_mse_grad(Tensor a, Tensor b, Tensor g, int dt, double norm, int out_dt):
    """norm * (a - b) * g computed in dt, returned as out_dt (a, b same shape)."""
    cdef Tensor out
    cdef Operand ops[4]
    cdef NnLossCtx c
    if dt == F16:
        # PyTorch's mse_loss_backward for half is three half ops, each
        # rounded: (a - b) * norm (a half), then * g
        out = binary_kernel(SUB_ROWS, a, b, F16, F16, "sub")
        out = scalar_kernel(MUL_ROWS, out, norm, False, F16, F16, "mul")
        out = op_mul(out, g if g._dtype == F16 else cast_tensor(g, F16))
        return out if out_dt == F16 else cast_tensor(out, out_dt)
    if a._dtype != dt:
        a = cast_tensor(a, dt)
    if b._dtype != dt:
        b = cast_tensor(b, dt)
    if g._dtype != dt:
        g = cast_tensor(g, dt)
    c.norm = norm
    out = new_tensor(a._ndim, a._shape, dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(a)
    ops[2] = operand_of(b)
    ops[3] = operand_of(g)
    run_elementwise(nn_mse_bwd_F32 if dt == F32 else nn_mse_bwd_F64, 4, ops, a._ndim, a._shape,
                    a._numel, &c)
    if out_dt != dt:
        out = cast_tensor(out, out_dt)
    return out


cdef class MseLossBackward0(Node):
    cdef Tensor self_, target
    cdef long long self_version, target_version
    cdef int reduction, dt

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor t = unpack_input(self, self.target, self.target_version)
        cdef double norm = 2.0 / x._numel if self.reduction == NN_RED_MEAN else 2.0
        cdef object gx = None, gt = None
        if cgrad_grad_enabled:
            # norm * (self - target) * grad, and the same with the roles swapped
            if wants_grad(self, 0):
                gx = op_to_dtype(op_mul(op_mul_scalar(op_sub(x, t), norm), g), x._dtype)
            if wants_grad(self, 1):
                gt = op_to_dtype(op_mul(op_mul_scalar(op_sub(t, x), norm), g), t._dtype)
            return (gx, gt)
        if wants_grad(self, 0):
            gx = nn_mse_grad(x, t, g, self.dt, norm, x._dtype)
        if wants_grad(self, 1):
            gt = nn_mse_grad(t, x, g, self.dt, norm, t._dtype)
        return (gx, gt)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.target = None


cdef Tensor op_mse_loss(Tensor x, Tensor t, int reduction):
    """mean/sum/none of (x - t)^2; x and t of one shape (F.mse_loss
    broadcasts them first), computed in their promoted dtype."""
    cdef int dt = tensor_result_type(x, t)
    cdef int cdt
    cdef Tensor xc = x, tc = t, out
    cdef Operand ops[3]
    cdef MseLossBackward0 node
    if not same_shape(x, t):
        raise RuntimeError(f"mse_loss: input {shape_str(x._shape, x._ndim)} and target "
                           f"{shape_str(t._shape, t._ndim)} must have the same shape")
    if not is_float(dt):
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{dtype_title(dt)}'")
    cdt = F32 if dt == F16 else dt      # float16: computed in float32, rounded at the end
    if xc._dtype != cdt:
        xc = cast_tensor(xc, cdt)
    if tc._dtype != cdt:
        tc = cast_tensor(tc, cdt)
    ops[1] = operand_of(xc)
    ops[2] = operand_of(tc)
    if cdt == F32:
        out = nn_run_loss(nn_mse_fwd_F32, nn_mse_acc_F32, 3, ops, xc, cdt, reduction, NULL)
    else:
        out = nn_run_loss(nn_mse_fwd_F64, nn_mse_acc_F64, 3, ops, xc, cdt, reduction, NULL)
    if out._dtype != dt:
        out = cast_tensor(out, dt)
    if needs_grad2(x, t):
        node = MseLossBackward0.__new__(MseLossBackward0)
        wire2(node, x, t)
        node.self_ = x
        node.self_version = x._storage.version
        node.target = t
        node.target_version = t._storage.version
        node.reduction = reduction
        node.dt = dt
        set_history(out, node)
    return out


def _mse_loss(input, target, reduction=1):
    """mse_loss of same-shape tensors, the reduction as PyTorch's enum."""
    cdef Tensor x = nn_tensor_arg(input, "mse_loss", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "mse_loss", "target", 2)
    return op_mse_loss(x, t, nn_reduction_arg(reduction))


# binary_cross_entropy: PyTorch's clamped logs (>= -100), its input and
# target range checks, and its backward's EPSILON = 1e-12 on x * (1 - x).

cdef inline void nn_bce_fwd_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                 NnLossCtx* c, bint acc) noexcept nogil:
    cdef const real_t* x = <const real_t*>p[1]
    cdef const real_t* t = <const real_t*>p[2]
    cdef const real_t* w = <const real_t*>p[3]
    cdef Py_ssize_t i
    cdef real_t xv, tv, l, lx, l1x
    cdef double a = 0
    if c.bad:
        return
    for i in range(n):
        xv = x[i * s[1]]
        tv = t[i * s[2]]
        if not (xv >= 0 and xv <= 1):
            c.bad = 1
            return
        if not (tv >= 0 and tv <= 1):
            c.bad = 2
            return
        if real_t is float:
            l1x = cmath.log1pf(-xv)
            lx = cmath.logf(xv)
        else:
            l1x = cmath.log1p(-xv)
            lx = cmath.log(xv)
        if l1x < -100:
            l1x = -100
        if lx < -100:
            lx = -100
        l = (tv - 1) * l1x - tv * lx
        if c.has_weight:
            l = l * w[i * s[3]]
        if acc:
            a += l
        else:
            o[i * s[0]] = l
    if acc:
        (<double*>p[0])[0] += a


cdef inline float hround(float v) noexcept nogil:
    """v rounded to float16 (and back): one c10::Half operation's result."""
    return cg_h2f(cg_f2h(v))


cdef void nn_bce_fwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    """OUT the elementwise loss (float16), IN x, t (float16): PyTorch's
    kernel in c10::Half arithmetic, every operation rounded to half."""
    cdef uint16_t* o = <uint16_t*>p[0]
    cdef const uint16_t* x = <const uint16_t*>p[1]
    cdef const uint16_t* t = <const uint16_t*>p[2]
    cdef NnLossCtx* c = <NnLossCtx*>ctx
    cdef float xv, tv, lx, l1x
    cdef Py_ssize_t i
    if c.bad:
        return
    for i in range(n):
        xv = cg_h2f(x[i * s[1]])
        tv = cg_h2f(t[i * s[2]])
        if not (xv >= 0 and xv <= 1):
            c.bad = 1
            return
        if not (tv >= 0 and tv <= 1):
            c.bad = 2
            return
        l1x = hround(cmath.log1pf(-xv))
        lx = hround(cmath.logf(xv))
        l1x = l1x if l1x > -100 else -100
        lx = lx if lx > -100 else -100
        o[i * s[0]] = cg_f2h(hround(hround(tv - 1) * l1x) - hround(tv * lx))


cdef void nn_bce_bwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    """OUT grad of x, IN g, x, t (float16): g * (x - t) / max((1 - x) * x,
    EPSILON) in half arithmetic (EPSILON = 1e-12 is 0 as a half)."""
    cdef uint16_t* o = <uint16_t*>p[0]
    cdef const uint16_t* g = <const uint16_t*>p[1]
    cdef const uint16_t* x = <const uint16_t*>p[2]
    cdef const uint16_t* t = <const uint16_t*>p[3]
    cdef float xv, d
    cdef Py_ssize_t i
    for i in range(n):
        xv = cg_h2f(x[i * s[2]])
        d = hround(hround(1 - xv) * xv)
        d = d if d > 0 else 0
        o[i * s[0]] = cg_f2h(hround(cg_h2f(g[i * s[1]]) * hround(xv - cg_h2f(t[i * s[3]]))) / d)


cdef void nn_bce_tbwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    """OUT grad of t, IN g, x, t (float16): -logit(x) * g (logit in float,
    rounded; the product rounded)."""
    cdef uint16_t* o = <uint16_t*>p[0]
    cdef const uint16_t* g = <const uint16_t*>p[1]
    cdef const uint16_t* x = <const uint16_t*>p[2]
    cdef float xv
    cdef Py_ssize_t i
    for i in range(n):
        xv = cg_h2f(x[i * s[2]])
        o[i * s[0]] = cg_f2h(-hround(cmath.logf(xv / (1 - xv))) * cg_h2f(g[i * s[1]]))


cdef void nn_bce_fwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_fwd_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx, False)

cdef void nn_bce_fwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_fwd_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx, False)

cdef void nn_bce_acc_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_fwd_impl(<float*>NULL, p, s, n, <NnLossCtx*>ctx, True)

cdef void nn_bce_acc_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_fwd_impl(<double*>NULL, p, s, n, <NnLossCtx*>ctx, True)


cdef inline void nn_bce_bwd_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                 NnLossCtx* c, bint wrt_target) noexcept nogil:
    # input:  g * (x - t) / max((1 - x) * x, 1e-12)  [/ numel]
    # target: -log(x / (1 - x)) * g                 [/ numel]
    # (with a weight the mean's division waits for nn_bce_weight_row, as
    # PyTorch multiplies by the weight first)
    cdef const real_t* g = <const real_t*>p[1]
    cdef const real_t* x = <const real_t*>p[2]
    cdef const real_t* t = <const real_t*>p[3]
    cdef Py_ssize_t i
    cdef real_t xv, d, v
    cdef real_t eps = <real_t>1e-12
    cdef real_t count = <real_t>c.norm
    cdef bint div = c.mean and not c.has_weight
    for i in range(n):
        xv = x[i * s[2]]
        if wrt_target:
            v = -c_log(xv / (1 - xv)) * g[i * s[1]]
        else:
            d = (1 - xv) * xv
            if not (d >= eps):
                d = eps
            v = g[i * s[1]] * (xv - t[i * s[3]]) / d
        if div:
            v = v / count
        o[i * s[0]] = v


cdef inline void nn_bce_weight_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                    NnLossCtx* c) noexcept nogil:
    # OUT o = o * w [/ numel]; IN o, w
    cdef const real_t* w = <const real_t*>p[2]
    cdef real_t count = <real_t>c.norm
    cdef Py_ssize_t i
    cdef real_t v
    for i in range(n):
        v = o[i * s[0]] * w[i * s[2]]
        if c.mean:
            v = v / count
        o[i * s[0]] = v


cdef void nn_bce_bwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_bwd_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx, False)

cdef void nn_bce_bwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_bwd_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx, False)

cdef void nn_bce_tbwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_bwd_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx, True)

cdef void nn_bce_tbwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_bwd_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx, True)

cdef void nn_bce_weight_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_weight_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx)

cdef void nn_bce_weight_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_weight_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx)


cdef Tensor nn_bce_grad(Tensor g, Tensor x, Tensor t, Tensor w, int reduction, bint wrt_target):
    cdef Tensor out
    cdef Operand ops[4]
    cdef NnLossCtx c
    if x._dtype == F16:
        # PyTorch's half kernels, then the weight and the mean as half ops
        if g._dtype != F16:
            g = cast_tensor(g, F16)
        out = new_tensor(x._ndim, x._shape, F16)
        ops[0] = operand_of(out)
        ops[1] = operand_of(g)
        ops[2] = operand_of(x)
        ops[3] = operand_of(t)
        run_elementwise(nn_bce_tbwd_F16 if wrt_target else nn_bce_bwd_F16, 4, ops, x._ndim, x._shape,
                        x._numel, NULL)
        if w is not None:
            out = binary_kernel(MUL_ROWS, out, w, F16, F16, "mul")
        if reduction == NN_RED_MEAN:
            out = f16_scalar_kernel(div_scalar_row_F16, out, out._ndim, out._shape, <float>x._numel)
        return out
    out = new_tensor(x._ndim, x._shape, x._dtype)
    if g._dtype != x._dtype:
        g = cast_tensor(g, x._dtype)
    c.has_weight = w is not None
    c.mean = reduction == NN_RED_MEAN
    c.norm = <double>x._numel
    ops[0] = operand_of(out)
    ops[1] = operand_of(g)
    ops[2] = operand_of(x)
    ops[3] = operand_of(t)
    if wrt_target:
        run_elementwise(nn_bce_tbwd_F32 if x._dtype == F32 else nn_bce_tbwd_F64, 4, ops,
                        x._ndim, x._shape, x._numel, &c)
    else:
        run_elementwise(nn_bce_bwd_F32 if x._dtype == F32 else nn_bce_bwd_F64, 4, ops,
                        x._ndim, x._shape, x._numel, &c)
    if w is not None:
        ops[1] = operand_of(out)
        ops[2] = operand_of(w)
        run_elementwise(nn_bce_weight_F32 if x._dtype == F32 else nn_bce_weight_F64, 3, ops,
                        x._ndim, x._shape, x._numel, &c)
    return out


cdef class BinaryCrossEntropyBackward0(Node):
    cdef Tensor self_, target, weight
    cdef long long self_version, target_version
    cdef int reduction

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor t = unpack_input(self, self.target, self.target_version)
        cdef Tensor w = self.weight
        cdef Tensor d, v
        cdef object gx = None, gt = None
        if cgrad_grad_enabled:
            if wants_grad(self, 0):
                d = op_mul(op_rsub_scalar(x, 1), x)
                d = op_where(op_ge_scalar(d, 1e-12), d, nn_scalar_like(1e-12, d._dtype))
                v = op_div(op_mul(g, op_sub(x, t)), d)
                gx = nn_bce_scale(v, w, self.reduction, x._numel)
            if wants_grad(self, 1):
                v = op_mul(op_neg(op_log(op_div(x, op_rsub_scalar(x, 1)))), g)
                gt = nn_bce_scale(v, w, self.reduction, x._numel)
            return (gx, gt)
        if wants_grad(self, 0):
            gx = nn_bce_grad(g, x, t, w, self.reduction, False)
        if wants_grad(self, 1):
            gt = nn_bce_grad(g, x, t, w, self.reduction, True)
        return (gx, gt)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.target = None
        self.weight = None


cdef Tensor nn_scalar_like(double v, int dt):
    cdef Tensor t = new_tensor(0, NULL, dt)
    fill_scalar(t, v)
    return t


cdef Tensor nn_bce_scale(Tensor v, Tensor w, int reduction, Py_ssize_t numel):
    if w is not None:
        v = op_mul(v, w)
    if reduction == NN_RED_MEAN:
        v = op_div_scalar(v, numel)
    return v


cdef Tensor op_binary_cross_entropy(Tensor x, Tensor t, Tensor w, int reduction):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    cdef Tensor out, wc = None
    cdef Operand ops[4]
    cdef NnLossCtx c
    cdef BinaryCrossEntropyBackward0 node
    if w is not None and w._requires_grad and cgrad_grad_enabled:
        raise RuntimeError(
            "The function 'binary_cross_entropy' is not differentiable with respect to argument "
            "'weight'. This input cannot have requires_grad True.")
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for '{dtype_title(x._dtype)}'")
    if t._dtype != x._dtype:
        raise RuntimeError(f"Found dtype {dtype_title(t._dtype)} but expected {dtype_title(x._dtype)}")
    if not same_shape(x, t):
        raise RuntimeError(f"binary_cross_entropy: input {shape_str(x._shape, x._ndim)} and target "
                           f"{shape_str(t._shape, t._ndim)} must have the same shape")
    if w is not None:
        nd = broadcast_shapes(x._ndim, x._shape, w._ndim, w._shape, shape)
        if not shape_equals(x, nd, shape):
            raise RuntimeError(f"output with shape {shape_str(x._shape, x._ndim)} doesn't match the "
                               f"broadcast shape {shape_str(shape, nd)}")
        wc = w if w._dtype == x._dtype else cast_tensor(w, x._dtype)
    c.bad = 0
    c.has_weight = wc is not None
    ops[1] = operand_of(x)
    ops[2] = operand_of(t)
    ops[3] = operand_of(wc) if wc is not None else operand_of_scalar(&c.norm, sizeof(double))
    if x._dtype == F16:
        # the elementwise loss in half arithmetic, then the weight and the
        # reduction as half ops (PyTorch's order)
        out = new_tensor(x._ndim, x._shape, F16)
        ops[0] = operand_of(out)
        run_elementwise(nn_bce_fwd_F16, 3, ops, x._ndim, x._shape, x._numel, &c)
        if not c.bad:
            if wc is not None:
                out = binary_kernel(MUL_ROWS, out, wc, F16, F16, "mul")
            if reduction == NN_RED_MEAN:
                out = op_mean(out, None, False, None)
            elif reduction == NN_RED_SUM:
                out = op_sum(out, None, False, None)
    elif x._dtype == F32:
        out = nn_run_loss(nn_bce_fwd_F32, nn_bce_acc_F32, 4, ops, x, F32, reduction, &c)
    else:
        out = nn_run_loss(nn_bce_fwd_F64, nn_bce_acc_F64, 4, ops, x, F64, reduction, &c)
    if c.bad:
        raise RuntimeError(f"all elements of {'input' if c.bad == 1 else 'target'} should be between 0 and 1")
    if needs_grad2(x, t):
        node = BinaryCrossEntropyBackward0.__new__(BinaryCrossEntropyBackward0)
        wire2(node, x, t)
        node.self_ = x
        node.self_version = x._storage.version
        node.target = t
        node.target_version = t._storage.version
        node.weight = wc
        node.reduction = reduction
        set_history(out, node)
    return out


def _binary_cross_entropy(input, target, weight=None, reduction=1):
    cdef Tensor x = nn_tensor_arg(input, "binary_cross_entropy", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "binary_cross_entropy", "target", 2)
    cdef Tensor w = nn_optional_tensor_arg(weight, "binary_cross_entropy", "weight", 3)
    return op_binary_cross_entropy(x, t, w, nn_reduction_arg(reduction))


# ---------------------------------------------------------------------------
# linear: composed exactly as PyTorch's at::linear composes it, so results
# carry the same grad_fn: addmm for 2-D input with bias, addmm between a
# flattening reshape and a view for contiguous inputs whose bias broadcasts
# along the last dim, else matmul followed by the bias add.


cdef class AddmmBackward0(Node):
    cdef Tensor mat1, mat2
    cdef long long mat1_version, mat2_version
    cdef tuple self_sizes
    cdef object alpha, beta         # None: 1 (F.linear; cgrad.addmm sets them)

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor ga = g
        cdef object gs = None, g1 = None, g2 = None
        if self.alpha is not None and self.alpha != 1:
            ga = op_mul_scalar(g, self.alpha)
        if wants_grad(self, 0):
            gs = op_sum_to(g if self.beta is None or self.beta == 1 else op_mul_scalar(g, self.beta),
                           self.self_sizes)
        if wants_grad(self, 1):
            g1 = op_mm(ga, op_t(unpack_input(self, self.mat2, self.mat2_version)))
        if wants_grad(self, 2):
            g2 = op_mm(op_t(unpack_input(self, self.mat1, self.mat1_version)), ga)
        return (gs, g1, g2)

    cdef void release_saved(self) noexcept:
        self.mat1 = None
        self.mat2 = None


cdef Tensor op_addmm(Tensor bias, Tensor m1, Tensor m2):
    """bias + m1 @ m2 (bias broadcast to the product's shape)."""
    cdef Py_ssize_t shape[2]
    cdef Tensor out, b, acc
    cdef AddmmBackward0 node
    if bias._dtype != m2._dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {dtype_title(bias._dtype)} "
                           f"and {dtype_title(m2._dtype)}")
    if m1._dtype != m2._dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {dtype_title(m1._dtype)} "
                           f"and {dtype_title(m2._dtype)}")
    if m1._ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {m1._ndim}-D tensor")
    if m2._ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {m2._ndim}-D tensor")
    if m1._shape[1] != m2._shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({m1._shape[0]}x{m1._shape[1]} and "
            f"{m2._shape[0]}x{m2._shape[1]})")
    shape[0] = m1._shape[0]
    shape[1] = m2._shape[1]
    if bias._ndim > 2:
        raise RuntimeError(
            f"expand(cgrad.{legacy_type_name(bias._dtype)}{{{shape_str(bias._shape, bias._ndim)}}}, "
            f"size=[{shape[0]}, {shape[1]}]): the number of sizes provided (2) must be greater or equal "
            f"to the number of dimensions in the tensor ({bias._ndim})")
    b = op_expand(alias_detached(bias), (shape[0], shape[1]))
    check_not_bool(m1, "addmm_impl_cpu_")
    out = new_tensor(2, shape, m1._dtype)
    if m1._dtype == F16:
        # PyTorch's gemm for half adds the bias in float and rounds once
        acc = new_tensor(2, shape, F32)
        mm_into(acc, cast_tensor(m1, F32), cast_tensor(m2, F32))
        add_into(acc, cast_tensor(b, F32))
        copy_into(out, acc)
    else:
        mm_into(out, m1, m2)
        add_into(out, b)
    if cgrad_grad_enabled and (bias._requires_grad or m1._requires_grad or m2._requires_grad):
        node = AddmmBackward0.__new__(AddmmBackward0)
        wire_many(node, [bias, m1, m2], 1)
        if m2._requires_grad:
            node.mat1 = m1
            node.mat1_version = m1._storage.version
        if m1._requires_grad:
            node.mat2 = m2
            node.mat2_version = m2._storage.version
        node.self_sizes = shape_tuple(bias)
        set_history(out, node)
    return out


cdef Tensor nn_add_bias_(Tensor out, Tensor b):
    """out.add_(b) on a fresh matmul result, as a differentiable add: the
    broadcast may not grow out, and out keeps its dtype."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd = broadcast_shapes(out._ndim, out._shape, b._ndim, b._shape, shape)
    cdef int dt
    if not shape_equals(out, nd, shape):
        raise RuntimeError(f"output with shape {shape_str(out._shape, out._ndim)} doesn't match the "
                           f"broadcast shape {shape_str(shape, nd)}")
    dt = tensor_result_type(out, b)
    if CATEGORY[dt] > CATEGORY[out._dtype]:
        raise RuntimeError(f"result type {dtype_title(dt)} can't be cast to the desired output type "
                           f"{dtype_title(out._dtype)}")
    if b._dtype != out._dtype:
        b = op_to_dtype(b, out._dtype)
    return op_add(out, b)


cdef Tensor nn_linear(Tensor x, Tensor w, Tensor b):
    cdef Py_ssize_t flat = 1
    cdef int d
    cdef Tensor r
    if x._ndim == 0 or w._ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{x._ndim}D and {w._ndim}D")
    if b is not None and x._ndim == 2:
        return op_addmm(b, x, op_t(w))
    if b is not None and (x._contiguous or x._numel == 0) and b._ndim >= 1 and \
            b._numel == b._shape[b._ndim - 1]:
        for d in range(x._ndim - 1):
            flat *= x._shape[d]
        r = op_addmm(b, op_reshape(x, (flat, x._shape[x._ndim - 1])), op_t(w))
        return op_view(r, shape_tuple(x)[:-1] + (r._shape[1],))
    r = op_matmul(x, op_t(w))
    if b is None:
        return r
    return nn_add_bias_(r, b)


def _linear(input, weight, bias=None):
    """input @ weight.T + bias, composed as PyTorch composes it."""
    cdef Tensor x = nn_tensor_arg(input, "linear", "input", 1)
    cdef Tensor w = nn_tensor_arg(weight, "linear", "weight", 2)
    cdef Tensor b = nn_optional_tensor_arg(bias, "linear", "bias", 3)
    return nn_linear(x, w, b)


# ---------------------------------------------------------------------------
# dropout: x * noise, noise = bernoulli(1 - p) / (1 - p) drawn from the
# seeded generator (cgrad.manual_seed); MulBackward0 as in PyTorch.


cdef void nn_dropout_noise_impl(real_t* out, const double* u, Py_ssize_t n, double keep) noexcept nogil:
    cdef real_t scale = (<real_t>1) / <real_t>keep
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = scale if u[i] < keep else 0


cdef Tensor nn_dropout(Tensor x, double p, bint train, bint inplace):
    cdef Tensor noise
    cdef object u
    cdef double keep = 1.0 - p
    cdef const double* up
    cdef Py_ssize_t n = x._numel
    if p == 0 or not train or x._numel == 0:
        return x
    if p == 1:
        noise = new_tensor(0, NULL, x._dtype, True)
    else:
        if not is_float(x._dtype):
            raise RuntimeError(f"result type Float can't be cast to the desired output type "
                               f"{dtype_title(x._dtype)}")
        noise = new_tensor(x._ndim, x._shape, F32 if x._dtype == F16 else x._dtype)
        u = np.ascontiguousarray(_generator().random(n))
        up = <const double*>cnp.PyArray_DATA(<cnp.ndarray>u)
        with nogil:
            if noise._dtype == F32:
                nn_dropout_noise_impl(<float*>noise._data, up, n, keep)
            else:
                nn_dropout_noise_impl(<double*>noise._data, up, n, keep)
        if x._dtype == F16:
            noise = cast_tensor(noise, F16)
    if inplace:
        return inplace_arith(IP_MUL, x, noise, None)
    return op_mul(x, noise)


def _dropout(input, p=0.5, training=True, inplace=False):
    """F.dropout after its argument check."""
    cdef Tensor x = nn_tensor_arg(input, "dropout", "input", 1)
    return nn_dropout(x, p, training, inplace)


def dropout(input, p, train):
    """cgrad.dropout(input, p, train), as torch.dropout."""
    cdef Tensor x = nn_tensor_arg(input, "dropout", "input", 1)
    if p < 0 or p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    return nn_dropout(x, p, train, False)


# ---------------------------------------------------------------------------
# relu_ (F.relu(inplace=True)): recorded out of place and written into x
# (commit_inplace, views included); the node saves x itself at its new
# version.


cdef Tensor nn_relu_(Tensor x):
    cdef Tensor old, r
    check_inplace(x)
    if x._dtype == BOOL:
        raise RuntimeError(bool_unary_message("relu"))
    check_written_overlap(x)
    if cgrad_grad_enabled and x._requires_grad:
        r = op_relu(old_value(x, False))
        commit_inplace(x, r)
        # PyTorch's relu_ saves x itself, at its new version
        (<ReluBackward0>r._grad_fn).result = alias_detached(x)
        (<ReluBackward0>r._grad_fn).saved_version = x._storage.version
        return x
    run_unary(RELU_FWD[x._dtype], x, x)
    x._storage.version += 1
    return x


def relu_(input):
    """relu in place (torch.relu_)."""
    return nn_relu_(nn_tensor_arg(input, "relu_", "input", 1))
