# Selecting reductions and statistics: prod, max, min, amax, amin, argmax,
# argmin, var, std, logsumexp.
#
# Layout. Every reduction here sees its input as a contiguous block
# [outer, n, inner]: `n` elements are reduced into each of the outer*inner
# outputs, which come out in the order of the kept dims. plan_reduction()
# finds that block without a copy when it can (the reduced dims are one run
# of a contiguous tensor, or the kept-then-reduced permutation of the input
# is contiguous), else makes one contiguous copy of that permutation.
# Kernels are nogil loops over raw pointers; the GIL is released when the
# work is large.
#
# Backward. Each node's formula is written with op_* functions (as in
# PyTorch's derivatives.yaml), so create_graph gets differentiable gradients
# for free; the value-selecting backward of max/min(dim) and the zero-safe
# backward of prod have fused kernels used when no graph is being built.


# ---------------------------------------------------------------------------
# Reduction layout

cdef struct RedPlan:
    Py_ssize_t outer
    Py_ssize_t n
    Py_ssize_t inner
    # reorder: the block's kept dims are not in the output's order; the
    # kernel then writes a scratch tensor of shape kshape (the kept dims in
    # memory order) that is copied into the output, whose strides for those
    # dims are kstride (see finish_reorder)
    bint reorder
    int nkept
    Py_ssize_t kshape[MAX_DIMS]
    Py_ssize_t kstride[MAX_DIMS]


cdef Tensor plan_reduction(Tensor x, const bint* mask, RedPlan* plan, bint logical=False):
    """x's elements as a contiguous [outer, n, inner] block with the masked
    dims in the middle: x's own memory when it can be read so (its dims in
    some order are contiguous and the reduced ones are adjacent), else a
    contiguous copy with the reduced dims last. `logical`: the n reduced
    elements must come in C order (argmax's flat index)."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int order[MAX_DIMS]
    cdef int d, e, j, t, k = 0, nd = 0, first_r = -1, last_r = -1
    cdef bint run = True, same_order = True
    cdef Py_ssize_t outer = 1, n = 1, inner = 1, expected
    plan.reorder = False
    # dims of size 1 change nothing in the layout: leave them out
    for d in range(x._ndim):
        if x._shape[d] != 1:
            order[nd] = d
            nd += 1
        if x._shape[d] != 1 and not mask[d]:
            shape[k] = x._shape[d]
            strides[k] = x._strides[d]
            k += 1
            outer *= x._shape[d]
    for d in range(x._ndim):
        if x._shape[d] != 1 and mask[d]:
            shape[k] = x._shape[d]
            strides[k] = x._strides[d]
            k += 1
            n *= x._shape[d]
    plan.n = n
    plan.outer = outer
    plan.inner = 1
    if strides_are_contiguous(k, shape, strides):
        return make_view(x, k, shape, strides, x._offset)
    if x._numel > 0 and not logical:
        # memory order: the dims by decreasing stride (insertion sort)
        for j in range(1, nd):
            t = order[j]
            e = j - 1
            while e >= 0 and x._strides[order[e]] < x._strides[t]:
                order[e + 1] = order[e]
                e -= 1
            order[e + 1] = t
        expected = 1
        for j in range(nd - 1, -1, -1):
            if x._strides[order[j]] != expected:
                run = False
            expected *= x._shape[order[j]]
            if mask[order[j]]:
                if last_r < 0:
                    last_r = j
                first_r = j
        if first_r < 0:
            run = False         # nothing reduced: the copy below is the layout
        else:
            for j in range(first_r, last_r + 1):
                if not mask[order[j]]:
                    run = False
        if run:
            outer = 1
            inner = 1
            for j in range(first_r):
                outer *= x._shape[order[j]]
            for j in range(last_r + 1, nd):
                inner *= x._shape[order[j]]
            plan.outer = outer
            plan.inner = inner
            # the kept dims in memory order, and whether that is their order
            t = 0
            e = -1
            for j in range(nd):
                if mask[order[j]]:
                    continue
                if order[j] < e:
                    same_order = False
                e = order[j]
                plan.kshape[t] = x._shape[order[j]]
                t += 1
            plan.nkept = t
            if not same_order:
                plan.reorder = True
                t = 0
                for j in range(nd):
                    if mask[order[j]]:
                        continue
                    expected = 1
                    for e in range(order[j] + 1, x._ndim):
                        if not mask[e]:
                            expected *= x._shape[e]
                    plan.kstride[t] = expected
                    t += 1
            return x
    return contiguous_copy(make_view(x, k, shape, strides, x._offset))


cdef Tensor reorder_scratch(Tensor out, RedPlan* p):
    return new_tensor(p.nkept, p.kshape, out._dtype) if p.reorder else out


cdef int finish_reorder(Tensor out, Tensor scratch, RedPlan* p) except -1:
    if p.reorder:
        copy_into(make_view(out, p.nkept, p.kshape, p.kstride, out._offset), scratch)
    return 0


cdef Tensor reduced_output(Tensor x, const bint* mask, bint keepdim, int dt):
    """A new tensor of the reduction's output shape."""
    cdef Py_ssize_t oshape[MAX_DIMS]
    cdef int d, ond = 0
    for d in range(x._ndim):
        if mask[d]:
            if keepdim:
                oshape[ond] = 1
                ond += 1
        else:
            oshape[ond] = x._shape[d]
            ond += 1
    return new_tensor(ond, oshape, dt)


cdef inline bint big_work(RedPlan* p) noexcept:
    return p.outer * p.n * p.inner >= GIL_RELEASE_NUMEL


cdef Tensor scalar_tensor(double value, int dt):
    cdef Tensor t = new_tensor(0, NULL, dt)
    fill_scalar(t, value)
    return t


cdef Tensor double_buffer(Py_ssize_t count):
    """Scratch space for the kernels' float64 accumulators."""
    cdef Py_ssize_t n = count if count > 0 else 1
    return new_tensor(1, &n, F64)


# ---------------------------------------------------------------------------
# Kernels (no history)

ctypedef fused sel_t:
    float
    double
    int64_t
    uint8_t


cdef inline sel_t pick(sel_t v, sel_t b, bint is_max) noexcept nogil:
    """The extreme of v and b, v when it is NaN (branch-free)."""
    if sel_t is float or sel_t is double:
        if is_max:
            return v if ((v > b) | (v != v)) else b
        return v if ((v < b) | (v != v)) else b
    else:
        if is_max:
            return v if v > b else b
        return v if v < b else b


cdef inline bint beats(sel_t v, sel_t b, bint is_max) noexcept nogil:
    """v replaces the running extreme b (strictly better, or the first NaN)."""
    if sel_t is float or sel_t is double:
        if is_max:
            return (v > b) | ((v != v) & (b == b))
        return (v < b) | ((v != v) & (b == b))
    else:
        if is_max:
            return v > b
        return v < b


cdef sel_t extreme_of_row(const sel_t* x, Py_ssize_t n, bint is_max) noexcept nogil:
    """The extreme of n >= 1 contiguous values, over 8 independent lanes."""
    cdef sel_t m[8]
    cdef sel_t r
    cdef Py_ssize_t i = 8, j
    if n < 16:
        r = x[0]
        for i in range(1, n):
            r = pick(x[i], r, is_max)
        return r
    for j in range(8):
        m[j] = x[j]
    while i + 8 <= n:
        for j in range(8):
            m[j] = pick(x[i + j], m[j], is_max)
        i += 8
    r = m[0]
    for j in range(1, 8):
        r = pick(m[j], r, is_max)
    while i < n:
        r = pick(x[i], r, is_max)
        i += 1
    return r


cdef void extreme_kernel(const sel_t* x, sel_t* vals, int64_t* idx, Py_ssize_t outer, Py_ssize_t n,
                         Py_ssize_t inner, bint is_max) noexcept nogil:
    """vals[o, i] = max (or min) over k of x[o, k, i], NaN winning; idx (when
    not NULL) the first k where it occurs. Requires n >= 1."""
    cdef Py_ssize_t o, k, i
    cdef const sel_t* row
    cdef sel_t* ov
    cdef int64_t* oi = NULL
    cdef sel_t v, b
    cdef int64_t bi
    cdef bint c
    for o in range(outer):
        row = x + o * n * inner
        ov = vals + o * inner
        if inner == 1:
            if idx == NULL:
                ov[0] = extreme_of_row(row, n, is_max)
                continue
            b = row[0]
            bi = 0
            for k in range(1, n):
                if beats(row[k], b, is_max):
                    b = row[k]
                    bi = k
            ov[0] = b
            idx[o] = bi
            continue
        for i in range(inner):
            ov[i] = row[i]
        if idx == NULL:
            for k in range(1, n):
                row = x + (o * n + k) * inner
                for i in range(inner):
                    ov[i] = pick(row[i], ov[i], is_max)
            continue
        oi = idx + o * inner
        for i in range(inner):
            oi[i] = 0
        for k in range(1, n):
            row = x + (o * n + k) * inner
            for i in range(inner):
                v = row[i]
                b = ov[i]
                c = beats(v, b, is_max)
                ov[i] = v if c else b
                oi[i] = k if c else oi[i]


cdef struct KernelArgs:
    # what a dispatcher below hands to a kernel: buffers as raw pointers
    int kind
    int dtype
    char* x
    char* out
    char* g
    int64_t* idx
    double* acc
    Py_ssize_t outer
    Py_ssize_t n
    Py_ssize_t inner
    double correction
    bint is_max


cdef void extreme_dispatch(KernelArgs* a) noexcept nogil:
    if a.dtype == F32:
        extreme_kernel(<const float*>a.x, <float*>a.out, a.idx, a.outer, a.n, a.inner, a.is_max)
    elif a.dtype == F64:
        extreme_kernel(<const double*>a.x, <double*>a.out, a.idx, a.outer, a.n, a.inner, a.is_max)
    elif a.dtype == I64:
        extreme_kernel(<const int64_t*>a.x, <int64_t*>a.out, a.idx, a.outer, a.n, a.inner, a.is_max)
    else:
        extreme_kernel(<const uint8_t*>a.x, <uint8_t*>a.out, a.idx, a.outer, a.n, a.inner, a.is_max)


ctypedef void (*DispatchFn)(KernelArgs* a) noexcept nogil


cdef void run_dispatch(DispatchFn fn, KernelArgs* a) noexcept:
    """Run a kernel, without the GIL when the work is large."""
    if a.outer * a.n * a.inner >= GIL_RELEASE_NUMEL:
        with nogil:
            fn(a)
    else:
        fn(a)


cdef inline void plan_args(KernelArgs* a, RedPlan* p) noexcept:
    a.outer = p.outer
    a.n = p.n
    a.inner = p.inner


cdef int run_extreme(Tensor src, RedPlan* p, Tensor vals, Tensor idx, bint is_max) except -1:
    cdef KernelArgs a
    cdef Tensor v, ix = None
    if p.outer * p.inner == 0:
        return 0
    v = reorder_scratch(vals, p)
    if idx is not None:
        ix = reorder_scratch(idx, p)
    a.idx = NULL if ix is None else <int64_t*>ix._data
    a.dtype = src._dtype
    a.x = src._data
    a.out = v._data
    a.is_max = is_max
    plan_args(&a, p)
    run_dispatch(extreme_dispatch, &a)
    finish_reorder(vals, v, p)
    if idx is not None:
        finish_reorder(idx, ix, p)
    return 0


cdef void prod_kernel_float(const real_t* x, real_t* out, double* acc, Py_ssize_t outer,
                            Py_ssize_t n, Py_ssize_t inner) noexcept nogil:
    """out[o, i] = product over k of x[o, k, i], accumulated in float64."""
    cdef Py_ssize_t o, k, i
    cdef const real_t* row
    cdef double a, a0, a1, a2, a3
    for o in range(outer):
        if inner == 1:
            row = x + o * n
            a0 = a1 = a2 = a3 = 1.0
            k = 0
            while k + 4 <= n:
                a0 *= row[k]
                a1 *= row[k + 1]
                a2 *= row[k + 2]
                a3 *= row[k + 3]
                k += 4
            a = (a0 * a1) * (a2 * a3)
            while k < n:
                a *= row[k]
                k += 1
            out[o] = <real_t>a
            continue
        for i in range(inner):
            acc[i] = 1.0
        for k in range(n):
            row = x + (o * n + k) * inner
            for i in range(inner):
                acc[i] *= row[i]
        for i in range(inner):
            out[o * inner + i] = <real_t>acc[i]


cdef void prod_kernel_int(const int64_t* x, int64_t* out, Py_ssize_t outer, Py_ssize_t n,
                          Py_ssize_t inner) noexcept nogil:
    cdef Py_ssize_t o, k, i
    cdef const int64_t* row
    cdef int64_t* po
    cdef int64_t a
    for o in range(outer):
        if inner == 1:
            row = x + o * n
            a = 1
            for k in range(n):
                a *= row[k]
            out[o] = a
            continue
        po = out + o * inner
        for i in range(inner):
            po[i] = 1
        for k in range(n):
            row = x + (o * n + k) * inner
            for i in range(inner):
                po[i] *= row[i]


cdef void var_kernel(const real_t* x, real_t* out, double* acc, Py_ssize_t outer, Py_ssize_t n,
                     Py_ssize_t inner, double correction, bint take_sqrt) noexcept nogil:
    """Two-pass variance in float64: sum((x - mean)^2) / max(0, n - correction)."""
    cdef Py_ssize_t o, k, i
    cdef const real_t* row
    cdef double s, m, d, m2, v, a0, a1, a2, a3
    cdef double divisor = n - correction if n - correction > 0 else 0.0
    cdef double* sums = acc
    cdef double* m2s = acc + inner
    for o in range(outer):
        if inner == 1:
            row = x + o * n
            a0 = a1 = a2 = a3 = 0
            k = 0
            while k + 4 <= n:
                a0 += row[k]
                a1 += row[k + 1]
                a2 += row[k + 2]
                a3 += row[k + 3]
                k += 4
            s = (a0 + a1) + (a2 + a3)
            while k < n:
                s += row[k]
                k += 1
            m = s / n
            a0 = a1 = a2 = a3 = 0
            k = 0
            while k + 4 <= n:
                d = row[k] - m
                a0 += d * d
                d = row[k + 1] - m
                a1 += d * d
                d = row[k + 2] - m
                a2 += d * d
                d = row[k + 3] - m
                a3 += d * d
                k += 4
            m2 = (a0 + a1) + (a2 + a3)
            while k < n:
                d = row[k] - m
                m2 += d * d
                k += 1
            v = m2 / divisor
            out[o] = <real_t>(cmath.sqrt(v) if take_sqrt else v)
            continue
        for i in range(inner):
            sums[i] = 0
            m2s[i] = 0
        for k in range(n):
            row = x + (o * n + k) * inner
            for i in range(inner):
                sums[i] += row[i]
        for i in range(inner):
            sums[i] /= n
        for k in range(n):
            row = x + (o * n + k) * inner
            for i in range(inner):
                d = row[i] - sums[i]
                m2s[i] += d * d
        for i in range(inner):
            v = m2s[i] / divisor
            out[o * inner + i] = <real_t>(cmath.sqrt(v) if take_sqrt else v)


cdef void logsumexp_kernel(const real_t* x, real_t* out, double* acc, Py_ssize_t outer,
                           Py_ssize_t n, Py_ssize_t inner) noexcept nogil:
    """log(sum(exp(x - m))) + m with m the slice's max (NaN winning), taken
    as 0 when infinite, as PyTorch does; float64 accumulation."""
    cdef Py_ssize_t o, k, i
    cdef const real_t* row
    cdef double m, s, v
    cdef double* ms = acc
    cdef double* ss = acc + inner
    for o in range(outer):
        if n == 0:
            for i in range(inner):
                out[o * inner + i] = <real_t>(-cmath.INFINITY)
            continue
        if inner == 1:
            row = x + o * n
            m = row[0]
            for k in range(1, n):
                v = row[k]
                if v > m or (v != v and m == m):
                    m = v
            if m == cmath.INFINITY or m == -cmath.INFINITY:
                m = 0
            s = 0
            for k in range(n):
                s += c_exp(row[k] - <real_t>m)
            out[o] = <real_t>(cmath.log(s) + m)
            continue
        row = x + o * n * inner
        for i in range(inner):
            ms[i] = row[i]
            ss[i] = 0
        for k in range(1, n):
            row = x + (o * n + k) * inner
            for i in range(inner):
                v = row[i]
                if v > ms[i] or (v != v and ms[i] == ms[i]):
                    ms[i] = v
        for i in range(inner):
            if ms[i] == cmath.INFINITY or ms[i] == -cmath.INFINITY:
                ms[i] = 0
        for k in range(n):
            row = x + (o * n + k) * inner
            for i in range(inner):
                ss[i] += c_exp(row[i] - <real_t>ms[i])
        for i in range(inner):
            out[o * inner + i] = <real_t>(cmath.log(ss[i]) + ms[i])


cdef void scatter_kernel(const real_t* g, const int64_t* idx, real_t* out, Py_ssize_t outer,
                         Py_ssize_t n, Py_ssize_t inner) noexcept nogil:
    """out (zeroed, [outer, n, inner]) [o, idx[o, i], i] = g[o, i]."""
    cdef Py_ssize_t o, i, j
    for o in range(outer):
        for i in range(inner):
            j = o * inner + i
            out[(o * n + idx[j]) * inner + i] = g[j]


cdef void onehot_kernel(const int64_t* idx, uint8_t* out, Py_ssize_t outer, Py_ssize_t n,
                        Py_ssize_t inner) noexcept nogil:
    cdef Py_ssize_t o, i, j
    for o in range(outer):
        for i in range(inner):
            j = o * inner + i
            out[(o * n + idx[j]) * inner + i] = 1


cdef void scatter_dispatch(KernelArgs* a) noexcept nogil:
    if a.dtype == F32:
        scatter_kernel(<const float*>a.g, a.idx, <float*>a.out, a.outer, a.n, a.inner)
    else:
        scatter_kernel(<const double*>a.g, a.idx, <double*>a.out, a.outer, a.n, a.inner)


cdef void prod_safe_kernel(const real_t* x, const real_t* g, real_t* out, double* acc,
                           Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner) noexcept nogil:
    """out[o, k, i] = g[o, i] * (prod_{j<k} x * prod_{j>k} x): PyTorch's
    prod_safe_zeros_backward (exclusive cumulative products accumulated in
    float64, rounded to the dtype, then multiplied in it)."""
    cdef Py_ssize_t o, k, i, p
    for o in range(outer):
        for i in range(inner):
            acc[i] = 1.0
        for k in range(n):
            for i in range(inner):
                p = (o * n + k) * inner + i
                out[p] = <real_t>acc[i]
                acc[i] *= x[p]
        for i in range(inner):
            acc[i] = 1.0
        for k in range(n - 1, -1, -1):
            for i in range(inner):
                p = (o * n + k) * inner + i
                out[p] = g[o * inner + i] * (out[p] * <real_t>acc[i])
                acc[i] *= x[p]


cdef enum:
    K_PROD = 0
    K_VAR = 1
    K_STD = 2
    K_LSE = 3


cdef void reduce_dispatch(KernelArgs* a) noexcept nogil:
    if a.dtype == I64:
        prod_kernel_int(<const int64_t*>a.x, <int64_t*>a.out, a.outer, a.n, a.inner)
    elif a.dtype == F32:
        if a.kind == K_PROD:
            prod_kernel_float(<const float*>a.x, <float*>a.out, a.acc, a.outer, a.n, a.inner)
        elif a.kind == K_LSE:
            logsumexp_kernel(<const float*>a.x, <float*>a.out, a.acc, a.outer, a.n, a.inner)
        else:
            var_kernel(<const float*>a.x, <float*>a.out, a.acc, a.outer, a.n, a.inner,
                       a.correction, a.kind == K_STD)
    else:
        if a.kind == K_PROD:
            prod_kernel_float(<const double*>a.x, <double*>a.out, a.acc, a.outer, a.n, a.inner)
        elif a.kind == K_LSE:
            logsumexp_kernel(<const double*>a.x, <double*>a.out, a.acc, a.outer, a.n, a.inner)
        else:
            var_kernel(<const double*>a.x, <double*>a.out, a.acc, a.outer, a.n, a.inner,
                       a.correction, a.kind == K_STD)


cdef int run_reduce_kernel(int kind, Tensor src, Tensor out, RedPlan* p, double corr) except -1:
    """out = prod/var/std/logsumexp of src seen as [outer, n, inner]."""
    cdef KernelArgs a
    cdef Tensor acc, o
    if p.outer * p.inner == 0:
        return 0
    acc = double_buffer(8 * p.inner)
    o = reorder_scratch(out, p)
    a.kind = kind
    a.dtype = src._dtype
    a.x = src._data
    a.out = o._data
    a.acc = <double*>acc._data
    a.correction = corr
    plan_args(&a, p)
    run_dispatch(reduce_dispatch, &a)
    finish_reorder(out, o, p)
    return 0


# elementwise helpers run through run_elementwise over x alone or (out, x)

cdef void count_zeros_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef const float* x = <const float*>p[0]
    cdef Py_ssize_t i, c = 0
    for i in range(n):
        if x[i * s[0]] == 0:
            c += 1
    (<Py_ssize_t*>ctx)[0] += c

cdef void count_zeros_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef const double* x = <const double*>p[0]
    cdef Py_ssize_t i, c = 0
    for i in range(n):
        if x[i * s[0]] == 0:
            c += 1
    (<Py_ssize_t*>ctx)[0] += c


cdef Py_ssize_t count_zeros(Tensor x) except -1:
    cdef Py_ssize_t c = 0
    cdef Operand ops[1]
    ops[0] = operand_of(x)
    run_elementwise(count_zeros_F32 if x._dtype == F32 else count_zeros_F64, 1, ops, x._ndim,
                    x._shape, x._numel, &c)
    return c


cdef void isnan_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const float* x = <const float*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = x[i * s[1]] != x[i * s[1]]

cdef void isnan_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const double* x = <const double*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = x[i * s[1]] != x[i * s[1]]


cdef Tensor isnan_mask(Tensor x):
    cdef Tensor out = new_tensor(x._ndim, x._shape, BOOL)
    run_unary(isnan_F32 if x._dtype == F32 else isnan_F64, out, x)
    return out


cdef Tensor contiguous_of(Tensor t):
    return t if t._contiguous else contiguous_copy(t)


cdef int block_of_dim(tuple sizes, int dim, RedPlan* p) except -1:
    """[outer, n, inner] of a contiguous tensor of `sizes` around `dim`."""
    cdef int d
    cdef int nd = len(sizes)
    p.outer = 1
    p.inner = 1
    p.n = sizes[dim] if nd > 0 else 1
    for d in range(dim):
        p.outer *= <Py_ssize_t>sizes[d]
    for d in range(dim + 1, nd):
        p.inner *= <Py_ssize_t>sizes[d]
    return 0


# ---------------------------------------------------------------------------
# Argument checks shared by the family (PyTorch's argument parser's texts)

cdef object NO_ARG = object()     # an argument that was not given
cdef object dtype_cls = dtype


cdef str arg_error(str fname, str argname, int position, str expected, object value):
    if position > 0:
        return (f"{fname}(): argument '{argname}' (position {position}) must be {expected}, "
                f"not {type(value).__name__}")
    return f"{fname}(): argument '{argname}' must be {expected}, not {type(value).__name__}"


cdef bint bool_arg(object v, str fname, str argname, int position) except -1:
    if v is True or v is False:
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(arg_error(fname, argname, position, "bool", v))


cdef bint is_int_arg(object v):
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    if isinstance(v, Tensor):
        return (<Tensor>v)._ndim == 0 and (<Tensor>v)._dtype == I64
    return False


cdef object int_dim_arg(object v, str fname, int position):
    """An `int dim` argument."""
    if not is_int_arg(v):
        raise TypeError(arg_error(fname, "dim", position, "int", v))
    return _operator.index(v)


cdef object dims_list_arg(object v, str fname, int position):
    """A `tuple of ints dim` argument: an int or a sequence of ints."""
    cdef list out
    if is_int_arg(v):
        return _operator.index(v)
    if isinstance(v, (tuple, list)):
        out = []
        for k, item in enumerate(v):
            if not is_int_arg(item):
                where = f" (position {position})" if position > 0 else ""
                raise TypeError(f"{fname}(): argument 'dim'{where} must be tuple of ints, but found "
                                f"element of type {type(item).__name__} at pos {k}")
            out.append(_operator.index(item))
        return tuple(out)
    raise TypeError(arg_error(fname, "dim", position, "tuple of ints", v))


cdef str got_types(tuple args, dict kwargs):
    cdef list parts = [type(a).__name__ for a in args]
    cdef list kws = [f"{k}={type(v).__name__}" for k, v in reversed(list(kwargs.items()))]
    if parts:
        return ", ".join(parts + kws)
    return "".join([k + ", " for k in kws])


cdef object invalid_combination(str fname, tuple args, dict kwargs, list signatures):
    return TypeError(
        f"{fname}() received an invalid combination of arguments - got ({got_types(args, kwargs)}), "
        "but expected one of:\n" + "".join([f" * {s}\n" for s in signatures]))


cdef Tensor input_of(tuple args, dict kwargs, str fname):
    """The `input` of a cgrad.* function: args[0] or input=..."""
    if args:
        x = args[0]
    elif "input" in kwargs:
        x = kwargs["input"]
    else:
        return None
    if not isinstance(x, Tensor):
        raise TypeError(arg_error(fname, "input", 1, "Tensor", x))
    return <Tensor>x


cdef object take_kw(dict kwargs, str name):
    return kwargs.pop(name, NO_ARG)


cdef int no_out(dict kwargs, str fname) except -1:
    """out= is accepted as None only: cgrad's ops return new tensors."""
    out = kwargs.pop("out", None)
    if out is not None:
        raise NotImplementedError(f"{fname}(out=...) is not supported by cgrad")
    return 0


cdef int no_extra_kwargs(dict kwargs, str fname) except -1:
    for k in kwargs:
        raise TypeError(f"{fname}() got an unexpected keyword argument '{k}'")
    return 0


# ---------------------------------------------------------------------------
# max / min over all elements (MaxBackward1 / MinBackward1): the gradient is
# shared evenly by the elements equal to the result (by the NaNs when it is
# NaN), PyTorch's evenly_distribute_backward.

cdef class _ExtremeAllNode(Node):
    cdef Tensor self_, result
    cdef long long self_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor mask, count
        cdef double v = scalar_value(y)
        if v != v:
            mask = isnan_mask(x)
        else:
            mask = compare(EQ_ROWS, x, y, "eq")
        count = op_sum(mask, None, False, None)
        return (op_where(mask, op_div(g, count), op_zeros_like(x)),)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef class MaxBackward1(_ExtremeAllNode):
    pass


cdef class MinBackward1(_ExtremeAllNode):
    pass


cdef str empty_reduce_msg(str fname):
    return (f"{fname}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument.")


cdef Tensor op_max_all(Tensor x, bint is_max):
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out
    cdef _ExtremeAllNode node
    if x._numel == 0:
        raise RuntimeError(empty_reduce_msg("max" if is_max else "min"))
    parse_dims(None, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    out = new_tensor(0, NULL, x._dtype)
    run_extreme(src, &plan, out, None, is_max)
    if needs_grad(x):
        node = MaxBackward1.__new__(MaxBackward1) if is_max else MinBackward1.__new__(MinBackward1)
        wire1(node, x)
        node.self_ = x
        node.self_version = x._storage.version
        node.result = alias_detached(out)
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# max / min along a dim (MaxBackward0 / MinBackward0): values and indices;
# the gradient goes to the index returned.

cdef class _ExtremeDimNode(Node):
    cdef Tensor indices
    cdef tuple self_sizes
    cdef int dim
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor idx = self.indices
        cdef Tensor out, onehot
        cdef RedPlan p
        cdef KernelArgs a
        if idx is None:
            raise RuntimeError(FREED_MSG)
        block_of_dim(self.self_sizes, self.dim, &p)
        if not cgrad_grad_enabled:
            out = new_tensor_from_tuple(self.self_sizes, g._dtype, True)
            g = contiguous_of(g)
            idx = contiguous_of(idx)
            a.dtype = g._dtype
            a.g = g._data
            a.idx = <int64_t*>idx._data
            a.out = out._data
            plan_args(&a, &p)
            run_dispatch(scatter_dispatch, &a)
            return (out,)
        # under create_graph: where(one_hot(indices), g, 0), differentiable in g
        onehot = new_tensor_from_tuple(self.self_sizes, BOOL, True)
        idx = contiguous_of(idx)
        onehot_kernel(<const int64_t*>idx._data, <uint8_t*>onehot._data, p.outer, p.n, p.inner)
        if not self.keepdim and len(self.self_sizes) > 0:
            g = op_unsqueeze(g, self.dim)
        return (op_where(onehot, g, scalar_tensor(0, g._dtype)),)

    cdef void release_saved(self) noexcept:
        self.indices = None


cdef class MaxBackward0(_ExtremeDimNode):
    pass


cdef class MinBackward0(_ExtremeDimNode):
    pass


cdef tuple op_max_dim(Tensor x, object dim, bint keepdim, bint is_max):
    """(values, indices) of the max (min) along dim."""
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, vals, idx
    cdef _ExtremeDimNode node
    cdef str fname = "max" if is_max else "min"
    cdef int d = wrap_dim(as_index(dim, "dim"), x._ndim)
    if x._numel == 0 and x._shape[d] == 0:
        raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    parse_dims(d, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    vals = reduced_output(x, mask, keepdim, x._dtype)
    idx = reduced_output(x, mask, keepdim, I64)
    run_extreme(src, &plan, vals, idx, is_max)
    if needs_grad(x):
        node = MaxBackward0.__new__(MaxBackward0) if is_max else MinBackward0.__new__(MinBackward0)
        wire1(node, x)
        node.indices = alias_detached(idx)
        node.self_sizes = shape_tuple(x)
        node.dim = d
        node.keepdim = keepdim
        set_history(vals, node)
    return (vals, idx)


# ---------------------------------------------------------------------------
# amax / amin (AmaxBackward0 / AminBackward0): the gradient is split evenly
# among the elements equal to the result, PyTorch's scale_grad_by_count.

cdef class _AmaxNode(Node):
    cdef Tensor self_, result
    cdef long long self_version
    cdef tuple dims
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor mask, count
        if not self.keepdim:
            g = unsqueeze_dims(g, self.dims)
            y = unsqueeze_dims(y, self.dims)
        mask = compare(EQ_ROWS, y, x, "eq")
        count = op_sum(mask, self.dims, True, None)
        return (op_mul(op_div(g, count), mask),)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef class AmaxBackward0(_AmaxNode):
    pass


cdef class AminBackward0(_AmaxNode):
    pass


cdef int check_nonempty_dims(Tensor x, object dim, str fname) except -1:
    """PyTorch's zero_numel_check_dims for a reduction of an empty tensor."""
    cdef tuple dims
    cdef int d
    if x._numel != 0:
        return 0
    if dim is None:
        dims = ()
    elif isinstance(dim, tuple):
        dims = dim
    else:
        dims = (dim,)
    if len(dims) == 0:
        raise RuntimeError(empty_reduce_msg(fname))
    for item in dims:
        d = wrap_dim(item, x._ndim)
        if x._ndim > 0 and x._shape[d] == 0:
            raise IndexError(f"{fname}(): Expected reduction dim {item} to have non-zero size.")
    return 0


cdef Tensor op_amax(Tensor x, object dim, bint keepdim, bint is_max):
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out
    cdef _AmaxNode node
    cdef str fname = "amax" if is_max else "amin"
    check_nonempty_dims(x, dim, fname)
    parse_dims(dim, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    out = reduced_output(x, mask, keepdim, x._dtype)
    run_extreme(src, &plan, out, None, is_max)
    if needs_grad(x):
        node = AmaxBackward0.__new__(AmaxBackward0) if is_max else AminBackward0.__new__(AminBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = x._storage.version
        node.result = alias_detached(out)
        node.dims = masked_dims(mask, x._ndim)
        node.keepdim = keepdim
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# argmax / argmin: int64, first occurrence on ties, the first NaN wins.

cdef Tensor op_argmax(Tensor x, object dim, bint keepdim, bint is_max):
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, vals, idx
    cdef str fname = "argmax" if is_max else "argmin"
    cdef int d = 0
    if dim is not None:
        d = wrap_dim(dim, x._ndim)
    if x._numel == 0:
        if dim is None:
            raise IndexError(f"{fname}(): Expected reduction dim to be specified for input.numel() == 0.")
        if x._shape[d] == 0:
            raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    if x._dtype == BOOL:
        raise RuntimeError(f"{fname}(): does not support bool input")
    parse_dims(None if dim is None else d, x._ndim, mask)
    src = plan_reduction(x, mask, &plan, dim is None)   # a flat index counts in C order
    vals = reduced_output(x, mask, keepdim, x._dtype)
    idx = reduced_output(x, mask, keepdim, I64)
    run_extreme(src, &plan, vals, idx, is_max)
    return idx


# ---------------------------------------------------------------------------
# prod (ProdBackward0 over all elements, ProdBackward1 along a dim). The
# gradient is grad * result / input without zeros in the input, else the
# product of the other elements (PyTorch's prod_safe_zeros_backward); over
# all elements with several zeros and no graph being built, zeros.

cdef Tensor prod_safe_formula(Tensor g, Tensor x, object dim):
    """g times the product of the other elements of each slice, as
    differentiable ops (used under create_graph when x has zeros). With
    p = the product of the slice's nonzero elements and z = that of its
    zeros (0 when there are any, but with the right derivatives):
      at a nonzero x_k:  p / x_k * z                 (the exact product)
      at a zero x_k:     p * (the product of the other zeros), which is
                         1 for one zero, the other zero for two, and 0 for
                         more (exact up to second derivatives)."""
    cdef Tensor zero = scalar_tensor(0, x._dtype)
    cdef Tensor one = scalar_tensor(1, x._dtype)
    cdef Tensor nz = compare(EQ_ROWS, x, 0, "eq")
    cdef bint keep = dim is not None
    cdef Tensor cnt = op_sum(nz, dim, True, None)
    cdef Tensor x_safe = op_where(nz, one, x)
    cdef Tensor p = op_prod(x_safe, dim, keep, None)
    cdef Tensor z = op_prod(op_where(nz, x, one), dim, keep, None)
    cdef Tensor zsum = op_sum(op_where(nz, x, zero), dim, True, None)
    cdef Tensor other_zeros = op_where(compare(EQ_ROWS, cnt, 1, "eq"), one,
                                       op_where(compare(EQ_ROWS, cnt, 2, "eq"), op_sub(zsum, x), zero))
    return op_mul(g, op_where(nz, op_mul(p, other_zeros), op_mul(op_div(p, x_safe), z)))


cdef void prod_safe_dispatch(KernelArgs* a) noexcept nogil:
    if a.dtype == F32:
        prod_safe_kernel(<const float*>a.x, <const float*>a.g, <float*>a.out, a.acc, a.outer, a.n,
                         a.inner)
    else:
        prod_safe_kernel(<const double*>a.x, <const double*>a.g, <double*>a.out, a.acc, a.outer,
                         a.n, a.inner)


cdef Tensor prod_safe_kernel_grad(Tensor g, Tensor x, RedPlan* p):
    """The fused prod_safe_zeros_backward over x seen as [outer, n, inner]
    (x contiguous, g contiguous of outer*inner elements)."""
    cdef Tensor out = new_tensor(x._ndim, x._shape, x._dtype)
    cdef Tensor acc = double_buffer(p.inner)
    cdef KernelArgs a
    a.dtype = x._dtype
    a.x = x._data
    a.g = g._data
    a.out = out._data
    a.acc = <double*>acc._data
    plan_args(&a, p)
    run_dispatch(prod_safe_dispatch, &a)
    return out


cdef class ProdBackward0(Node):
    cdef Tensor self_, result
    cdef long long self_version
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor gx
        cdef Py_ssize_t zeros
        cdef RedPlan p
        if x._dtype != g._dtype:
            x = op_to_dtype(x, g._dtype)
        if x._ndim == 0:
            gx = g
        else:
            zeros = count_zeros(x)
            if zeros == 0:
                gx = op_mul(g, op_div(y, x))
            elif not cgrad_grad_enabled and zeros > 1:
                gx = op_zeros_like(x)
            elif not cgrad_grad_enabled:
                p.outer = 1
                p.n = x._numel
                p.inner = 1
                gx = prod_safe_kernel_grad(contiguous_of(g), contiguous_of(x), &p)
            else:
                gx = prod_safe_formula(g, x, None)
        if gx._dtype != self.self_dtype:
            gx = op_to_dtype(gx, self.self_dtype)
        return (gx,)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef class ProdBackward1(Node):
    cdef Tensor self_, result
    cdef long long self_version
    cdef int self_dtype
    cdef int dim
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor gx
        cdef RedPlan p
        if x._dtype != g._dtype:
            x = op_to_dtype(x, g._dtype)
        if x._ndim == 0:
            gx = g
        else:
            if not self.keepdim:
                g = op_unsqueeze(g, self.dim)
                y = op_unsqueeze(y, self.dim)
            if count_zeros(x) == 0:
                gx = op_mul(g, op_div(y, x))
            elif not cgrad_grad_enabled:
                block_of_dim(shape_tuple(x), self.dim, &p)
                gx = prod_safe_kernel_grad(contiguous_of(g), contiguous_of(x), &p)
            else:
                gx = prod_safe_formula(g, x, self.dim)
        if gx._dtype != self.self_dtype:
            gx = op_to_dtype(gx, self.self_dtype)
        return (gx,)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef Tensor op_prod(Tensor x, object dim, bint keepdim, object dtype):
    """prod over all elements (dim None) or along one dim; integer and bool
    inputs give int64; `dtype` converts the input first."""
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out, acc, orig = x
    cdef int dt
    cdef ProdBackward0 n0
    cdef ProdBackward1 n1
    cdef int d = 0
    if dim is not None:
        d = wrap_dim(dim, x._ndim)
    if dtype is not None:
        dt = dtype_code(dtype)
    elif is_float(x._dtype):
        dt = x._dtype
    else:
        dt = I64
    if needs_grad(x) and not is_float(dt):
        raise RuntimeError(f"Autograd not support dtype: {dtype_title(dt)}")
    if x._dtype != dt:
        x = cast_tensor(x, dt if dt != BOOL else I64)
    parse_dims(None if dim is None else d, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    out = reduced_output(x, mask, keepdim and dim is not None, x._dtype)
    run_reduce_kernel(K_PROD, src, out, &plan, 0)
    if dt == BOOL:
        out = cast_tensor(out, BOOL)
    if needs_grad(orig):
        if dim is None:
            n0 = ProdBackward0.__new__(ProdBackward0)
            wire1(n0, orig)
            n0.self_ = orig
            n0.self_version = orig._storage.version
            n0.self_dtype = orig._dtype
            n0.result = alias_detached(out)
            set_history(out, n0)
        else:
            n1 = ProdBackward1.__new__(ProdBackward1)
            wire1(n1, orig)
            n1.self_ = orig
            n1.self_version = orig._storage.version
            n1.self_dtype = orig._dtype
            n1.result = alias_detached(out)
            n1.dim = d
            n1.keepdim = keepdim
            set_history(out, n1)
    return out


# ---------------------------------------------------------------------------
# var / std (VarBackward0 / StdBackward0), PyTorch's var_backward and
# std_backward.

cdef Tensor var_backward(Tensor g, Tensor x, tuple dims, Py_ssize_t rnumel, double correction,
                         bint keepdim):
    """dims None: over all elements. rnumel: the number of elements PyTorch
    counts in the reduced dims (1 for an empty dim list)."""
    cdef double dof
    cdef Tensor mean, cond
    if x._ndim == 0 or dims is None:
        dof = x._numel - correction
        if dof <= 0:
            mean = op_mean(x, None, False, None)
            cond = compare(EQ_ROWS, x, mean, "eq")
            return op_mul(g, op_where(cond, scalar_tensor(cmath.NAN, g._dtype),
                                      scalar_tensor(cmath.INFINITY, g._dtype)))
        return op_mul(op_mul_scalar(g, 2.0 / dof), op_sub(x, op_mean(x, None, False, None)))
    if not keepdim and x._ndim > 1:
        g = unsqueeze_dims(g, dims)
    dof = rnumel - correction
    # 2 / dof is C's division (cdivision): inf for dof == 0, as in PyTorch
    return op_mul(op_mul_scalar(g, 2.0 / dof), op_sub(x, op_mean(x, dims, True, None)))


cdef class VarBackward0(Node):
    cdef Tensor self_
    cdef long long self_version
    cdef tuple dims
    cdef Py_ssize_t rnumel
    cdef double correction
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        return (var_backward(<Tensor>grads, x, self.dims, self.rnumel, self.correction,
                             self.keepdim),)

    cdef void release_saved(self) noexcept:
        self.self_ = None


cdef class StdBackward0(VarBackward0):
    cdef Tensor result

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        # grad / (2 * std), 0 where std == 0
        g = op_where(compare(EQ_ROWS, y, 0, "eq"), scalar_tensor(0, g._dtype),
                     op_div(g, op_mul_scalar(y, 2)))
        return (var_backward(g, x, self.dims, self.rnumel, self.correction, self.keepdim),)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef Tensor op_var(Tensor x, object dim, object correction, bint keepdim, bint take_sqrt):
    """var (std) over `dim` (None: all; an int or a sequence of ints)."""
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out, acc
    cdef double corr = 1.0 if correction is None else <double>correction
    cdef VarBackward0 node
    cdef Py_ssize_t rnumel = 1
    cdef Py_ssize_t n_out
    cdef str fname = "std" if take_sqrt else "var"
    if not is_float(x._dtype):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    parse_dims(dim, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    out = reduced_output(x, mask, keepdim, x._dtype)
    n_out = plan.outer * plan.inner
    if (0 if n_out == 0 else x._numel // n_out) - corr <= 0:
        import warnings
        warnings.warn(
            f"{fname}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).", UserWarning, stacklevel=1)
    run_reduce_kernel(K_STD if take_sqrt else K_VAR, src, out, &plan, corr)
    if needs_grad(x):
        node = StdBackward0.__new__(StdBackward0) if take_sqrt else VarBackward0.__new__(VarBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = x._storage.version
        node.correction = corr
        node.keepdim = keepdim
        if dim is None:
            node.dims = None
        else:
            node.dims = masked_dims(mask, x._ndim)
            # PyTorch's _safe_size: the sizes of the dims as listed (none: 1)
            if x._ndim > 0:
                for item in (dim if isinstance(dim, tuple) else (dim,)):
                    rnumel *= x._shape[wrap_dim(item, x._ndim)]
            node.rnumel = rnumel
        if take_sqrt:
            (<StdBackward0>node).result = alias_detached(out)
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# logsumexp (LogsumexpBackward0): grad * exp(x - result).

cdef void lse_bwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    # OUT grad of x; IN g, x, result: g * exp(x - result)
    cdef float* o = <float*>p[0]
    cdef const float* g = <const float*>p[1]
    cdef const float* x = <const float*>p[2]
    cdef const float* y = <const float*>p[3]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = g[i * s[1]] * c_exp(x[i * s[2]] - y[i * s[3]])


cdef void lse_bwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef double* o = <double*>p[0]
    cdef const double* g = <const double*>p[1]
    cdef const double* x = <const double*>p[2]
    cdef const double* y = <const double*>p[3]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = g[i * s[1]] * c_exp(x[i * s[2]] - y[i * s[3]])


cdef class LogsumexpBackward0(Node):
    cdef Tensor self_, result
    cdef long long self_version
    cdef tuple dims
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor out
        cdef Operand ops[4]
        if not self.keepdim and x._ndim != 0:
            g = unsqueeze_dims(g, self.dims)
            y = unsqueeze_dims(y, self.dims)
        if cgrad_grad_enabled or g._dtype != x._dtype:
            return (op_mul(g, op_exp(op_sub(x, y))),)
        # fused: one pass, g and y broadcast over the reduced dims
        out = new_tensor(x._ndim, x._shape, x._dtype)
        ops[0] = operand_of(out)
        ops[1] = operand_of(g)
        ops[2] = operand_of(x)
        ops[3] = operand_of(y)
        run_elementwise(lse_bwd_F32 if x._dtype == F32 else lse_bwd_F64, 4, ops, x._ndim, x._shape,
                        x._numel, NULL)
        return (out,)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef Tensor op_logsumexp(Tensor x, object dim, bint keepdim):
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out, acc
    cdef LogsumexpBackward0 node
    if not is_float(x._dtype):
        x = cast_tensor(x, DEFAULT_FLOAT)
    parse_dims(dim, x._ndim, mask)
    if isinstance(dim, tuple) and len(dim) == 0 and not keepdim and x._ndim > 0 and x._numel > 0:
        # PyTorch adds amax(x, (), keepdim=True) to a 0-d sum here and fails
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape "
                           f"[{', '.join(['1'] * x._ndim)}]")
    src = plan_reduction(x, mask, &plan)
    out = reduced_output(x, mask, keepdim, x._dtype)
    run_reduce_kernel(K_LSE, src, out, &plan, 0)
    if needs_grad(x):
        node = LogsumexpBackward0.__new__(LogsumexpBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = x._storage.version
        node.result = alias_detached(out)
        node.dims = masked_dims(mask, x._ndim)
        node.keepdim = keepdim
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# The named tuple of (values, indices), as torch.return_types.max/min.

def _return_type_new(cls, sequence):
    sequence = tuple(sequence)
    if len(sequence) != 2:
        raise TypeError(f"cgrad.return_types.{cls.__name__} takes a 2-sequence "
                        f"({len(sequence)}-sequence given)")
    return tuple.__new__(cls, sequence)


def _return_type_repr(self):
    return (f"cgrad.return_types.{type(self).__name__}(\nvalues={tuple.__getitem__(self, 0)!r},\n"
            f"indices={tuple.__getitem__(self, 1)!r})")


def _return_type_values(self):
    return tuple.__getitem__(self, 0)


def _return_type_indices(self):
    return tuple.__getitem__(self, 1)


cdef object make_return_type(str name):
    return type(name, (tuple,), {
        "__slots__": (),
        "__module__": "cgrad.return_types",
        "__qualname__": name,
        "__doc__": f"The (values, indices) that {name}(dim) returns.",
        "__new__": staticmethod(_return_type_new),
        "__repr__": _return_type_repr,
        "values": property(_return_type_values),
        "indices": property(_return_type_indices),
        "n_fields": 2,
        "n_sequence_fields": 2,
        "n_unnamed_fields": 0,
    })


class return_types:
    """The named tuples of values and indices that reductions return, as
    torch.return_types."""


return_types.max = make_return_type("max")
return_types.min = make_return_type("min")


cdef object values_indices(bint is_max, tuple vi):
    return tuple.__new__(return_types.max if is_max else return_types.min, vi)


# ---------------------------------------------------------------------------
# Argument handling of the family, shared by the Tensor methods (method=True)
# and the cgrad.* functions (arguments after `input`).

cdef list MAX_SIGS_METHOD = ["()", "(Tensor other)", "(int dim, bool keepdim = False)"]
cdef list MAX_SIGS_FUNC = ["(Tensor input, *, Tensor out = None)",
                           "(Tensor input, Tensor other, *, Tensor out = None)",
                           "(Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)"]


cdef object call_maximum(bint is_max, Tensor x, Tensor other):
    """max(a, b) is maximum(a, b): the elementwise op of ops_compare.pxi,
    reached through the module's `maximum` function when it exists."""
    cdef str name = "maximum" if is_max else "minimum"
    fn = _MODULE_NAMESPACE.get(name)
    if fn is None:
        raise TypeError(f"{'max' if is_max else 'min'}(input, other): the elementwise form needs "
                        f"cgrad.{name}, which this build of cgrad does not have")
    return fn(x, other)


cdef object max_min_impl(bint is_max, Tensor x, tuple args, dict kwargs, bint method):
    cdef str fname = "max" if is_max else "min"
    cdef int base = 0 if method else 1     # positions of the arguments after input
    cdef list sigs = MAX_SIGS_METHOD if method else MAX_SIGS_FUNC
    cdef dict kw = dict(kwargs)
    cdef tuple shown = args if method else (x,) + args
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    other = take_kw(kw, "other")
    no_out(kw, fname)
    if kw:
        raise invalid_combination(fname, shown, kwargs, sigs)
    if len(args) > 2:
        raise invalid_combination(fname, shown, kwargs, sigs)
    if len(args) >= 1:
        if dim is not NO_ARG or other is not NO_ARG:
            if dim is not NO_ARG and is_int_arg(args[0]) and not isinstance(args[0], Tensor):
                raise TypeError(f"{fname}() got multiple values for argument 'dim'")
            raise invalid_combination(fname, shown, kwargs, sigs)
        if isinstance(args[0], Tensor):
            other = args[0]      # even a 0-d integer tensor, as in PyTorch (dim=t is a dim)
        else:
            dim = args[0]
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'keepdim'")
        if other is not NO_ARG:
            raise TypeError(arg_error(fname, "dim", base + 1, "int", other))
        keepdim = args[1]
    if other is not NO_ARG:
        if not isinstance(other, Tensor) or keepdim is not NO_ARG or dim is not NO_ARG:
            raise invalid_combination(fname, shown, kwargs, sigs)
        return call_maximum(is_max, x, <Tensor>other)
    if dim is NO_ARG:
        if keepdim is not NO_ARG:
            raise invalid_combination(fname, shown, kwargs, sigs)
        return op_max_all(x, is_max)
    if not is_int_arg(dim):
        raise invalid_combination(fname, shown, kwargs, sigs)
    kd = False
    if keepdim is not NO_ARG:
        kd = bool_arg(keepdim, fname, "keepdim", base + 2 if len(args) == 2 else 0)
    return values_indices(is_max, op_max_dim(x, _operator.index(dim), kd, is_max))


cdef object amax_impl(bint is_max, Tensor x, tuple args, dict kwargs, bint method):
    cdef str fname = "amax" if is_max else "amin"
    cdef int base = 0 if method else 1
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    no_out(kw, fname)
    no_extra_kwargs(kw, fname)
    if len(args) > 2:
        raise TypeError(f"{fname}() takes from {base} to {base + 2} positional arguments but "
                        f"{len(args) + base} were given")
    dpos = 0
    kpos = 0
    if len(args) >= 1:
        if dim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'dim'")
        dim = args[0]
        dpos = base + 1
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'keepdim'")
        keepdim = args[1]
        kpos = base + 2
    if dim is NO_ARG or dim is None:
        dim = ()
    else:
        dim = dims_list_arg(dim, fname, dpos)
    kd = False if keepdim is NO_ARG else bool_arg(keepdim, fname, "keepdim", kpos)
    return op_amax(x, dim, kd, is_max)


cdef object argmax_impl(bint is_max, Tensor x, tuple args, dict kwargs, bint method):
    cdef str fname = "argmax" if is_max else "argmin"
    cdef int base = 0 if method else 1
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    no_out(kw, fname)
    no_extra_kwargs(kw, fname)
    if len(args) > 2:
        raise TypeError(f"{fname}() takes from {base} to {base + 2} positional arguments but "
                        f"{len(args) + base} were given")
    dpos = 0
    kpos = 0
    if len(args) >= 1:
        if dim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'dim'")
        dim = args[0]
        dpos = base + 1
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'keepdim'")
        keepdim = args[1]
        kpos = base + 2
    if dim is NO_ARG:
        dim = None
    elif dim is not None:
        dim = int_dim_arg(dim, fname, dpos)
    kd = False if keepdim is NO_ARG else bool_arg(keepdim, fname, "keepdim", kpos)
    return op_argmax(x, dim, kd, is_max)


cdef list PROD_SIGS_METHOD = ["(*, cgrad.dtype dtype = None)",
                              "(int dim, bool keepdim = False, *, cgrad.dtype dtype = None)"]
cdef list PROD_SIGS_FUNC = ["(Tensor input, *, cgrad.dtype dtype = None)",
                            "(Tensor input, int dim, bool keepdim = False, *, cgrad.dtype dtype = None, "
                            "Tensor out = None)"]


cdef object prod_impl(Tensor x, tuple args, dict kwargs, bint method):
    cdef int base = 0 if method else 1
    cdef list sigs = PROD_SIGS_METHOD if method else PROD_SIGS_FUNC
    cdef tuple shown = args if method else (x,) + args
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    dtype = take_kw(kw, "dtype")
    no_out(kw, "prod")
    if kw:
        raise invalid_combination("prod", shown, kwargs, sigs)
    if len(args) > 2:
        raise TypeError(f"prod() takes from {base + 1} to {base + 2} positional arguments but "
                        f"{len(args) + base} were given")
    kpos = 0
    if len(args) >= 1:
        if dim is not NO_ARG:
            raise TypeError("prod() got multiple values for argument 'dim'")
        dim = args[0]
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError("prod() got multiple values for argument 'keepdim'")
        keepdim = args[1]
        kpos = base + 2
    if dtype is NO_ARG:
        dtype = None
    elif dtype is not None and not isinstance(dtype, dtype_cls) and dtype not in (float, int, bool):
        raise invalid_combination("prod", shown, kwargs, sigs)
    if dim is NO_ARG:
        if keepdim is not NO_ARG:
            if not method:
                raise invalid_combination("prod", shown, kwargs, sigs)
            raise TypeError('prod() missing 1 required positional arguments: "dim"')
        return op_prod(x, None, False, dtype)
    if not is_int_arg(dim):
        raise invalid_combination("prod", shown, kwargs, sigs)
    kd = False if keepdim is NO_ARG else bool_arg(keepdim, "prod", "keepdim", kpos)
    return op_prod(x, _operator.index(dim), kd, dtype)


cdef list VAR_SIGS_METHOD = ["(tuple of ints dim, bool unbiased = True, bool keepdim = False)",
                             "(tuple of ints dim = None, *, Number correction = None, bool keepdim = False)",
                             "(bool unbiased = True)"]
cdef list VAR_SIGS_FUNC = [
    "(Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False, *, Tensor out = None)",
    "(Tensor input, tuple of ints dim = None, *, Number correction = None, bool keepdim = False, "
    "Tensor out = None)",
    "(Tensor input, bool unbiased = True)"]


cdef bint is_dims_arg(object v):
    if v is None or is_int_arg(v):
        return True
    if isinstance(v, (tuple, list)):
        for item in v:
            if not is_int_arg(item):
                return False
        return True
    return False


cdef object var_impl(bint take_sqrt, Tensor x, tuple args, dict kwargs, bint method):
    """The three overloads: (dim, unbiased=True, keepdim=False),
    (dim=None, *, correction=None, keepdim=False) and (unbiased=True)."""
    cdef str fname = "std" if take_sqrt else "var"
    cdef list sigs = VAR_SIGS_METHOD if method else VAR_SIGS_FUNC
    cdef tuple shown = args if method else (x,) + args
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    unbiased = take_kw(kw, "unbiased")
    keepdim = take_kw(kw, "keepdim")
    correction = take_kw(kw, "correction")
    no_out(kw, fname)
    bad = invalid_combination(fname, shown, kwargs, sigs)
    if kw or len(args) > 3:
        raise bad
    if (len(args) == 1 and (args[0] is True or args[0] is False) and dim is NO_ARG
            and keepdim is NO_ARG and correction is NO_ARG and unbiased is NO_ARG):
        unbiased = args[0]           # var(unbiased)
        dim = None
    else:
        if len(args) >= 1:
            if dim is not NO_ARG:
                raise TypeError(f"{fname}() got multiple values for argument 'dim'")
            dim = args[0]
        if len(args) >= 2:
            if unbiased is not NO_ARG or correction is not NO_ARG:
                raise bad
            unbiased = args[1]
        if len(args) == 3:
            if keepdim is not NO_ARG:
                raise TypeError(f"{fname}() got multiple values for argument 'keepdim'")
            keepdim = args[2]
    if unbiased is not NO_ARG and correction is not NO_ARG:
        raise bad
    if dim is NO_ARG:
        dim = None
    if not is_dims_arg(dim):
        raise bad
    if dim is not None:
        dim = dims_list_arg(dim, fname, 0)
    if unbiased is not NO_ARG:
        if not (unbiased is True or unbiased is False or isinstance(unbiased, np.bool_)):
            raise bad
        corr = 1.0 if unbiased else 0.0
    elif correction is NO_ARG or correction is None:
        corr = 1.0
    elif isinstance(correction, (int, float, np.integer, np.floating)):
        corr = float(correction)
    else:
        raise bad
    if keepdim is NO_ARG:
        kd = False
    elif keepdim is True or keepdim is False or isinstance(keepdim, np.bool_):
        kd = bool(keepdim)
    else:
        raise bad
    return op_var(x, dim, corr, kd, take_sqrt)


cdef object logsumexp_impl(Tensor x, tuple args, dict kwargs, bint method):
    cdef int base = 0 if method else 1
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    no_out(kw, "logsumexp")
    no_extra_kwargs(kw, "logsumexp")
    if len(args) > 2:
        raise TypeError(f"logsumexp() takes from {base + 1} to {base + 2} positional arguments but "
                        f"{len(args) + base} were given")
    dpos = 0
    kpos = 0
    if len(args) >= 1:
        if dim is not NO_ARG:
            raise TypeError("logsumexp() got multiple values for argument 'dim'")
        dim = args[0]
        dpos = base + 1
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError("logsumexp() got multiple values for argument 'keepdim'")
        keepdim = args[1]
        kpos = base + 2
    if dim is NO_ARG:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    dim = dims_list_arg(dim, "logsumexp", dpos)
    kd = False if keepdim is NO_ARG else bool_arg(keepdim, "logsumexp", "keepdim", kpos)
    return op_logsumexp(x, dim, kd)


# ---------------------------------------------------------------------------
# cgrad.* functions

cdef Tensor required_input(tuple args, dict kwargs, str fname, list sigs, bint combo=False):
    """The input tensor. A non-tensor input is PyTorch's "must be Tensor"
    error, or its "invalid combination" one (combo) when several overloads
    take that many arguments."""
    cdef Tensor x
    if combo and ((args and not isinstance(args[0], Tensor)) or
                  (not args and "input" in kwargs and not isinstance(kwargs["input"], Tensor))):
        raise invalid_combination(fname, args, kwargs, sigs)
    x = input_of(args, kwargs, fname)
    if x is None:
        if sigs is not None:
            raise invalid_combination(fname, args, kwargs, sigs)
        raise TypeError(f"{fname}() missing 1 required positional arguments: \"input\"")
    return x


cdef tuple rest_args(tuple args, dict kwargs):
    """The arguments after input, and the keywords without input."""
    if args:
        return args[1:], kwargs
    kw = dict(kwargs)
    kw.pop("input", None)
    return (), kw


def _max(*args, **kwargs):
    """max(input) -> Tensor; max(input, dim, keepdim=False) -> (values,
    indices); max(input, other) -> maximum(input, other)."""
    cdef Tensor x = required_input(args, kwargs, "max", MAX_SIGS_FUNC)
    a, kw = rest_args(args, kwargs)
    return max_min_impl(True, x, a, kw, False)


def _min(*args, **kwargs):
    """min(input) -> Tensor; min(input, dim, keepdim=False) -> (values,
    indices); min(input, other) -> minimum(input, other)."""
    cdef Tensor x = required_input(args, kwargs, "min", MAX_SIGS_FUNC)
    a, kw = rest_args(args, kwargs)
    return max_min_impl(False, x, a, kw, False)


def amax(*args, **kwargs):
    """amax(input, dim=(), keepdim=False): the max over dims (all for ())."""
    cdef Tensor x = required_input(args, kwargs, "amax", None)
    a, kw = rest_args(args, kwargs)
    return amax_impl(True, x, a, kw, False)


def amin(*args, **kwargs):
    """amin(input, dim=(), keepdim=False): the min over dims (all for ())."""
    cdef Tensor x = required_input(args, kwargs, "amin", None)
    a, kw = rest_args(args, kwargs)
    return amax_impl(False, x, a, kw, False)


def argmax(*args, **kwargs):
    """argmax(input, dim=None, keepdim=False): int64 indices of the max."""
    cdef Tensor x = required_input(args, kwargs, "argmax", None)
    a, kw = rest_args(args, kwargs)
    return argmax_impl(True, x, a, kw, False)


def argmin(*args, **kwargs):
    """argmin(input, dim=None, keepdim=False): int64 indices of the min."""
    cdef Tensor x = required_input(args, kwargs, "argmin", None)
    a, kw = rest_args(args, kwargs)
    return argmax_impl(False, x, a, kw, False)


def prod(*args, **kwargs):
    """prod(input, *, dtype=None); prod(input, dim, keepdim=False, *, dtype=None)."""
    cdef Tensor x = required_input(args, kwargs, "prod", PROD_SIGS_FUNC)
    a, kw = rest_args(args, kwargs)
    return prod_impl(x, a, kw, False)


def var(*args, **kwargs):
    """var(input, dim=None, *, correction=1, keepdim=False); also
    var(input, dim, unbiased, keepdim) and var(input, unbiased)."""
    cdef Tensor x = required_input(args, kwargs, "var", VAR_SIGS_FUNC, True)
    a, kw = rest_args(args, kwargs)
    return var_impl(False, x, a, kw, False)


def std(*args, **kwargs):
    """std(input, dim=None, *, correction=1, keepdim=False); also
    std(input, dim, unbiased, keepdim) and std(input, unbiased)."""
    cdef Tensor x = required_input(args, kwargs, "std", VAR_SIGS_FUNC, True)
    a, kw = rest_args(args, kwargs)
    return var_impl(True, x, a, kw, False)


def logsumexp(*args, **kwargs):
    """logsumexp(input, dim, keepdim=False): log(sum(exp(input))) over dim,
    computed stably."""
    cdef Tensor x = required_input(args, kwargs, "logsumexp", None)
    a, kw = rest_args(args, kwargs)
    return logsumexp_impl(x, a, kw, False)


# `max` and `min` are cgrad.max/cgrad.min, but a module-level `def max`
# would also shadow Python's builtins for every other .pxi file of _C (which
# may call max(a, b) on ints): they are put in the module's namespace under
# those names at import time instead, where compiled code never looks.
export_as("max", _max)
export_as("min", _min)
