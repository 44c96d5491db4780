# Selecting reductions, layer 1: planning a reduction over a set of dims
# and the nogil kernels of max/min/argmax, prod, var, logsumexp and their
# fused backward passes (ops_select.pxi holds the nodes and ops,
# select_api.pxi the PyTorch-style argument handling).
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
    int8_t
    int16_t
    int32_t


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
                         Py_ssize_t inner, Py_ssize_t ld, bint is_max) noexcept nogil:
    """vals[o, i] = max (or min) over k of x[o, k, i], NaN winning; idx (when
    not NULL) the first k where it occurs. Requires n >= 1. ld: x's stride
    from one k to the next (inner, or wider for a block of columns of a
    one-outer call; vals and idx stay packed)."""
    cdef Py_ssize_t o, k, i
    cdef const sel_t* row
    cdef sel_t* ov
    cdef int64_t* oi = NULL
    cdef sel_t v, b
    cdef int64_t bi
    cdef bint c
    for o in range(outer):
        row = x + o * n * ld
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
                row = x + (o * n + k) * ld
                for i in range(inner):
                    ov[i] = pick(row[i], ov[i], is_max)
            continue
        oi = idx + o * inner
        for i in range(inner):
            oi[i] = 0
        for k in range(1, n):
            row = x + (o * n + k) * ld
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
    Py_ssize_t ld           # the x stride between reduced rows: inner, unless a column block
    double correction
    bint is_max


cdef void extreme_dispatch(KernelArgs* a) noexcept nogil:
    if a.dtype == F32:
        extreme_kernel(<const float*>a.x, <float*>a.out, a.idx, a.outer, a.n, a.inner, a.ld, a.is_max)
    elif a.dtype == F64:
        extreme_kernel(<const double*>a.x, <double*>a.out, a.idx, a.outer, a.n, a.inner, a.ld, a.is_max)
    elif a.dtype == I64:
        extreme_kernel(<const int64_t*>a.x, <int64_t*>a.out, a.idx, a.outer, a.n, a.inner, a.ld, a.is_max)
    elif a.dtype == I32:
        extreme_kernel(<const int32_t*>a.x, <int32_t*>a.out, a.idx, a.outer, a.n, a.inner, a.ld, a.is_max)
    elif a.dtype == I16:
        extreme_kernel(<const int16_t*>a.x, <int16_t*>a.out, a.idx, a.outer, a.n, a.inner, a.ld, a.is_max)
    elif a.dtype == I8:
        extreme_kernel(<const int8_t*>a.x, <int8_t*>a.out, a.idx, a.outer, a.n, a.inner, a.ld, a.is_max)
    else:   # bool and uint8 compare as unsigned bytes
        extreme_kernel(<const uint8_t*>a.x, <uint8_t*>a.out, a.idx, a.outer, a.n, a.inner, a.ld, a.is_max)


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
    a.ld = p.inner


cdef Tensor as_float32_block(Tensor src):
    """A float16 reduction block as float32 in the same memory layout (the
    plan's [outer, n, inner] reads it as it read src). float16 reductions
    run the float32 kernels: every half is exact in float, and PyTorch
    accumulates half in float."""
    cdef Tensor t = new_strided(src._ndim, src._shape, src._strides, F32)
    copy_into(t, src)
    return t


cdef int run_extreme(Tensor src, RedPlan* p, Tensor vals, Tensor idx, bint is_max) except -1:
    cdef KernelArgs a
    cdef Tensor v, ix = None, v32
    if p.outer * p.inner == 0:
        return 0
    if is_half16(src._dtype):
        v32 = new_tensor(vals._ndim, vals._shape, F32)
        run_extreme(as_float32_block(src), p, v32, idx, is_max)
        copy_into(vals, v32)
        return 0
    v = reorder_scratch(vals, p)
    if idx is not None:
        ix = reorder_scratch(idx, p)
    a.idx = NULL if ix is None else <int64_t*>ix._data
    a.kind = K_EXTREME
    a.dtype = src._dtype
    a.x = src._data
    a.out = v._data
    a.acc = NULL
    a.is_max = is_max
    plan_args(&a, p)
    if ix is None and vector_threads(&a):
        run_vector_threads(&a)
    else:
        run_block_threads(extreme_dispatch, &a, ITEMSIZE[src._dtype], ITEMSIZE[src._dtype], 0)
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


cdef void prod_kernel_half(const uint16_t* x, uint16_t* out, Py_ssize_t outer, Py_ssize_t n,
                           Py_ssize_t inner, int bf16) noexcept nogil:
    """float16 (bf16: bfloat16) products as PyTorch's CPU reduction takes
    them: in the 16-bit type, every partial product rounded (its
    accumulator type is the element's)."""
    cdef Py_ssize_t o, k, i
    cdef const uint16_t* row
    cdef uint16_t* po
    cdef uint16_t a
    cdef uint16_t one = 0x3F80 if bf16 else 0x3C00
    for o in range(outer):
        if inner == 1:
            row = x + o * n
            a = one
            for k in range(n):
                a = cg_f_to_h16(cg_h16_to_f(a, bf16) * cg_h16_to_f(row[k], bf16), bf16)
            out[o] = a
            continue
        po = out + o * inner
        for i in range(inner):
            po[i] = one
        for k in range(n):
            row = x + (o * n + k) * inner
            for i in range(inner):
                po[i] = cg_f_to_h16(cg_h16_to_f(po[i], bf16) * cg_h16_to_f(row[i], bf16), bf16)


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
                     Py_ssize_t inner, Py_ssize_t ld, double correction, bint take_sqrt) noexcept nogil:
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
            row = x + (o * n + k) * ld
            for i in range(inner):
                sums[i] += row[i]
        for i in range(inner):
            sums[i] /= n
        for k in range(n):
            row = x + (o * n + k) * ld
            for i in range(inner):
                d = row[i] - sums[i]
                m2s[i] += d * d
        for i in range(inner):
            v = m2s[i] / divisor
            out[o * inner + i] = <real_t>(cmath.sqrt(v) if take_sqrt else v)


cdef void logsumexp_kernel(const real_t* x, real_t* out, double* acc, Py_ssize_t outer,
                           Py_ssize_t n, Py_ssize_t inner, Py_ssize_t ld) noexcept nogil:
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
        row = x + o * n * ld
        for i in range(inner):
            ms[i] = row[i]
            ss[i] = 0
        for k in range(1, n):
            row = x + (o * n + k) * ld
            for i in range(inner):
                v = row[i]
                if v > ms[i] or (v != v and ms[i] == ms[i]):
                    ms[i] = v
        for i in range(inner):
            if ms[i] == cmath.INFINITY or ms[i] == -cmath.INFINITY:
                ms[i] = 0
        for k in range(n):
            row = x + (o * n + k) * ld
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
    # moves values: float16 and bfloat16 as their bits
    if a.dtype == F32:
        scatter_kernel(<const float*>a.g, a.idx, <float*>a.out, a.outer, a.n, a.inner)
    elif is_half16(a.dtype):
        scatter_bits16(<const uint16_t*>a.g, a.idx, <uint16_t*>a.out, a.outer, a.n, a.inner)
    else:
        scatter_kernel(<const double*>a.g, a.idx, <double*>a.out, a.outer, a.n, a.inner)


cdef void scatter_bits16(const uint16_t* g, const int64_t* idx, uint16_t* out, Py_ssize_t outer,
                         Py_ssize_t n, Py_ssize_t inner) noexcept nogil:
    cdef Py_ssize_t o, i, j
    for o in range(outer):
        for i in range(inner):
            j = o * inner + i
            out[(o * n + idx[j]) * inner + i] = g[j]


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


cdef void prod_safe_kernel_half(const uint16_t* x, const uint16_t* g, uint16_t* out, float* acc,
                                Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, int bf16) noexcept nogil:
    """prod_safe_zeros_backward for float16 (bf16: bfloat16) as PyTorch
    computes it: the exclusive cumulative products accumulated in float and
    each stored in the 16-bit type, their product rounded, times g rounded."""
    cdef Py_ssize_t o, k, i, p
    for o in range(outer):
        for i in range(inner):
            acc[i] = 1.0
        for k in range(n):
            for i in range(inner):
                p = (o * n + k) * inner + i
                out[p] = cg_f_to_h16(acc[i], bf16)
                acc[i] *= cg_h16_to_f(x[p], bf16)
        for i in range(inner):
            acc[i] = 1.0
        for k in range(n - 1, -1, -1):
            for i in range(inner):
                p = (o * n + k) * inner + i
                out[p] = cg_f_to_h16(cg_h16_to_f(g[o * inner + i], bf16) *
                                     cg_round_h16(cg_h16_to_f(out[p], bf16) * cg_round_h16(acc[i], bf16), bf16), bf16)
                acc[i] *= cg_h16_to_f(x[p], bf16)


cdef enum:
    K_PROD = 0
    K_VAR = 1
    K_STD = 2
    K_LSE = 3
    K_EXTREME = 4       # max/min: run_extreme's kind, for reduce_block_threads.pxi


cdef void reduce_dispatch(KernelArgs* a) noexcept nogil:
    if a.dtype == I64:
        prod_kernel_int(<const int64_t*>a.x, <int64_t*>a.out, a.outer, a.n, a.inner)
    elif is_half16(a.dtype):
        prod_kernel_half(<const uint16_t*>a.x, <uint16_t*>a.out, a.outer, a.n, a.inner, a.dtype == BF16)
    elif a.dtype == F32:
        if a.kind == K_PROD:
            prod_kernel_float(<const float*>a.x, <float*>a.out, a.acc, a.outer, a.n, a.inner)
        elif a.kind == K_LSE:
            logsumexp_kernel(<const float*>a.x, <float*>a.out, a.acc, a.outer, a.n, a.inner, a.ld)
        else:
            var_kernel(<const float*>a.x, <float*>a.out, a.acc, a.outer, a.n, a.inner,
                       a.ld, a.correction, a.kind == K_STD)
    else:
        if a.kind == K_PROD:
            prod_kernel_float(<const double*>a.x, <double*>a.out, a.acc, a.outer, a.n, a.inner)
        elif a.kind == K_LSE:
            logsumexp_kernel(<const double*>a.x, <double*>a.out, a.acc, a.outer, a.n, a.inner, a.ld)
        else:
            var_kernel(<const double*>a.x, <double*>a.out, a.acc, a.outer, a.n, a.inner,
                       a.ld, a.correction, a.kind == K_STD)


cdef int run_reduce_kernel(int kind, Tensor src, Tensor out, RedPlan* p, double corr) except -1:
    """out = prod/var/std/logsumexp of src seen as [outer, n, inner]."""
    cdef KernelArgs a
    cdef Tensor acc, o, o32
    if p.outer * p.inner == 0:
        return 0
    if is_half16(src._dtype) and kind != K_PROD:
        o32 = new_tensor(out._ndim, out._shape, F32)
        run_reduce_kernel(kind, as_float32_block(src), o32, p, corr)
        copy_into(out, o32)
        return 0
    o = reorder_scratch(out, p)
    a.kind = kind
    a.dtype = src._dtype
    a.x = src._data
    a.out = o._data
    a.correction = corr
    plan_args(&a, p)
    if kind == K_PROD or (src._dtype != F32 and src._dtype != F64):
        acc = double_buffer(8 * p.inner)
        a.acc = <double*>acc._data
        run_dispatch(reduce_dispatch, &a)
    elif vector_threads(&a):
        run_vector_threads(&a)
    else:
        # var/std/logsumexp use 2 float64 per column; 8 as the serial kernels have
        acc = double_buffer(max(8 * p.inner, block_scratch(&a, 8)))
        a.acc = <double*>acc._data
        run_block_threads(reduce_dispatch, &a, ITEMSIZE[src._dtype], ITEMSIZE[src._dtype], 8)
    finish_reorder(out, o, p)
    return 0


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
