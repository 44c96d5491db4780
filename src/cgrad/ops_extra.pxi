# The everyday ops added after the foundation (square, predicates, ...):
# module functions and their C-level ops. The unary-table ones (rsqrt, log1p,
# ..., frac) live in ops_unary.pxi.tp.


# ---------------------------------------------------------------------------
# square: PyTorch's is a composite, pow(x, 2) (PowBackward0)

cdef Tensor op_square(Tensor x):
    return op_pow_scalar(x, 2)


cdef Tensor op_square_(Tensor x):
    cdef Tensor r
    check_inplace(x)
    if x._dtype == BOOL:
        raise RuntimeError("result type Long can't be cast to the desired output type Bool")
    if cgrad_grad_enabled and x._requires_grad:
        return commit_inplace(x, op_pow_scalar(old_value(x, True), 2))
    r = op_pow_scalar(x, 2)
    copy_into(x, r)
    x._storage.version += 1
    return x


def square(input):
    return op_square(input_arg(input, "square"))


def square_(input):
    return op_square_(input_arg(input, "square_"))


# ---------------------------------------------------------------------------
# isnan, isinf, isfinite: bool results, no history. ctx points to the mode.

cdef enum:
    FP_ISNAN = 0
    FP_ISINF = 1
    FP_ISFINITE = 2


cdef void fpclass_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint32_t* x = <const uint32_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint32_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]] & 0x7fffffffu
        if mode == FP_ISNAN:
            o[i * s[0]] = b > 0x7f800000u
        elif mode == FP_ISINF:
            o[i * s[0]] = b == 0x7f800000u
        else:
            o[i * s[0]] = b < 0x7f800000u


cdef void fpclass_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint64_t* x = <const uint64_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint64_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]] & 0x7fffffffffffffffULL
        if mode == FP_ISNAN:
            o[i * s[0]] = b > 0x7ff0000000000000ULL
        elif mode == FP_ISINF:
            o[i * s[0]] = b == 0x7ff0000000000000ULL
        else:
            o[i * s[0]] = b < 0x7ff0000000000000ULL


cdef void fpclass_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint16_t* x = <const uint16_t*>p[1]
    cdef int mode = (<int*>ctx)[0]
    cdef uint16_t b
    cdef Py_ssize_t i
    for i in range(n):
        b = x[i * s[1]] & 0x7fff
        if mode == FP_ISNAN:
            o[i * s[0]] = b > 0x7c00
        elif mode == FP_ISINF:
            o[i * s[0]] = b == 0x7c00
        else:
            o[i * s[0]] = b < 0x7c00


cdef Tensor op_fpclass(Tensor x, int mode):
    cdef Tensor out
    cdef Operand ops[2]
    if not is_float(x._dtype):
        out = new_tensor(x._ndim, x._shape, BOOL, True)
        if mode == FP_ISFINITE:
            fill_scalar(out, True)
        return out
    out = new_tensor(x._ndim, x._shape, BOOL)
    ops[0] = operand_of(out)
    ops[1] = operand_of(x)
    run_elementwise(fpclass_F32 if x._dtype == F32 else (fpclass_F64 if x._dtype == F64 else fpclass_F16),
                    2, ops, out._ndim, out._shape, out._numel, &mode)
    return out


def isnan(input):
    return op_fpclass(input_arg(input, "isnan"), FP_ISNAN)


def isinf(input):
    return op_fpclass(input_arg(input, "isinf"), FP_ISINF)


def isfinite(input):
    return op_fpclass(input_arg(input, "isfinite"), FP_ISFINITE)


# ---------------------------------------------------------------------------
# any, all (bool results; uint8 for uint8 inputs, as PyTorch), count_nonzero:
# the nonzero mask summed by the int64 sum kernel over the reduced dims.

cdef Tensor op_any_all(Tensor x, object dim, bint keepdim, bint is_all):
    cdef Tensor mask, counts, out
    mask = op_compare(CMP_EQ if is_all else CMP_NE, alias_detached(x), 0)
    counts = op_sum(mask, dim, keepdim)
    out = op_compare(CMP_EQ if is_all else CMP_NE, counts, 0)
    if x._dtype == U8:
        out = cast_tensor(out, U8)
    return out


cdef object reduce_dim_arg(object dim):
    if dim is None or isinstance(dim, (list, tuple)):
        return dim
    return as_index(dim, "dim")


def _any(input, dim=None, keepdim=False, *, out=None):
    return op_any_all(input_arg(input, "any"), reduce_dim_arg(dim), keepdim, False)


def _all(input, dim=None, keepdim=False, *, out=None):
    return op_any_all(input_arg(input, "all"), reduce_dim_arg(dim), keepdim, True)


export_as("any", _any)
export_as("all", _all)


cdef Tensor op_count_nonzero(Tensor x, object dim):
    return op_sum(op_compare(CMP_NE, alias_detached(x), 0), reduce_dim_arg(dim), False)


def count_nonzero(input, dim=None):
    return op_count_nonzero(input_arg(input, "count_nonzero"), dim)


# ---------------------------------------------------------------------------
# isclose / allclose: PyTorch's formula, |a - b| <= atol + |rtol * b| where
# finite, or a == b (NaN == NaN with equal_nan), on detached inputs.

cdef Tensor op_isclose(Tensor a, Tensor b, double rtol, double atol, bint equal_nan):
    cdef Tensor close, ca, cb, allowed, actual
    if a._dtype != b._dtype:
        raise RuntimeError(f"{dtype_title(a._dtype)} did not match {dtype_title(b._dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {format_double(rtol)}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {format_double(atol)}")
    a = alias_detached(a)
    b = alias_detached(b)
    close = op_compare(CMP_EQ, a, b)
    if equal_nan and is_float(a._dtype):
        close = op_logical(LG_OR, close, op_logical(LG_AND, op_fpclass(a, FP_ISNAN),
                                                              op_fpclass(b, FP_ISNAN)))
    if rtol == 0 and atol == 0:
        return close
    ca = a if is_float(a._dtype) else cast_tensor(a, DEFAULT_FLOAT)
    cb = b if is_float(b._dtype) else cast_tensor(b, DEFAULT_FLOAT)
    allowed = op_add_scalar(op_abs(op_mul_scalar(cb, rtol)), atol)
    actual = op_abs(op_sub(ca, cb))
    return op_logical(LG_OR, close, op_logical(LG_AND, op_fpclass(actual, FP_ISFINITE),
                                                    op_compare(CMP_LE, actual, allowed)))


cdef str format_double(double v):
    return str(int(v)) if v == <long long>v else repr(v)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return op_isclose(input_arg(input, "isclose"), need_tensor(other, "isclose", "other", 2),
                      rtol, atol, equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    cdef Tensor c = op_isclose(input_arg(input, "allclose"), need_tensor(other, "allclose", "other", 2),
                               rtol, atol, equal_nan)
    return memchr(c._data, 0, c._numel) == NULL


# ---------------------------------------------------------------------------
# nonzero: the int64 (count, ndim) indices of the nonzero elements in
# row-major order; as_tuple gives one index tensor per dim.

cdef void nonzero_fill(const uint8_t* m, Py_ssize_t numel, int nd, const Py_ssize_t* shape,
                       int64_t* out) noexcept nogil:
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, k = 0
    cdef int d
    for d in range(nd):
        idx[d] = 0
    for i in range(numel):
        if m[i]:
            for d in range(nd):
                out[k * nd + d] = idx[d]
            k += 1
        d = nd - 1
        while d >= 0:
            idx[d] += 1
            if idx[d] < shape[d]:
                break
            idx[d] = 0
            d -= 1


cdef Tensor op_nonzero(Tensor x):
    cdef Tensor m = op_compare(CMP_NE, alias_detached(x), 0)
    cdef Py_ssize_t count
    cdef Py_ssize_t shape[2]
    cdef Tensor out
    if not m._contiguous:
        m = contiguous_copy(m)
    with nogil:
        count = count_true(<const uint8_t*>m._data, m._numel)
    shape[0] = count
    shape[1] = x._ndim
    out = new_tensor(2, shape, I64)
    if count > 0 and x._ndim > 0:
        with nogil:
            nonzero_fill(<const uint8_t*>m._data, m._numel, x._ndim, m._shape, <int64_t*>out._data)
    return out


cdef Py_ssize_t count_true(const uint8_t* m, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, c = 0
    for i in range(n):
        c += m[i] != 0
    return c


cdef object nonzero_call(Tensor x, bint as_tuple):
    cdef Tensor idx = op_nonzero(x)
    cdef Py_ssize_t shape[1]
    if not as_tuple:
        return idx
    if x._ndim == 0:
        # a 0-d input counts as 1-d, as in PyTorch
        shape[0] = idx._shape[0]
        return (new_tensor(1, shape, I64, True),)
    return tuple([contiguous_copy(op_select(idx, 1, d)) for d in range(x._ndim)])


def nonzero(input, *, out=None, as_tuple=False):
    return nonzero_call(input_arg(input, "nonzero"), as_tuple)


# ---------------------------------------------------------------------------
# tril / triu: a copy with the elements above (below) the k-th diagonal of
# the last two dims zeroed; the gradient is tril(g, k) (triu(g, k)).

cdef void tri_zero(char* data, Py_ssize_t batches, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t k,
                   bint lower, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t b, i, j0, j1
    cdef char* m
    for b in range(batches):
        m = data + b * rows * cols * itemsize
        for i in range(rows):
            if lower:                       # keep j <= i + k
                j0 = i + k + 1
                j1 = cols
            else:                           # keep j >= i + k
                j0 = 0
                j1 = i + k
            if j0 < 0:
                j0 = 0
            if j1 > cols:
                j1 = cols
            if j1 > j0:
                memset(m + (i * cols + j0) * itemsize, 0, (j1 - j0) * itemsize)


cdef class TrilBackward0(Node):
    cdef Py_ssize_t diagonal

    cdef tuple apply(self, object grads):
        return (op_tri(<Tensor>grads, self.diagonal, True),)


cdef class TriuBackward0(Node):
    cdef Py_ssize_t diagonal

    cdef tuple apply(self, object grads):
        return (op_tri(<Tensor>grads, self.diagonal, False),)


cdef Tensor op_tri(Tensor x, Py_ssize_t k, bint lower):
    cdef Tensor out
    cdef Py_ssize_t rows, cols, batches
    cdef TrilBackward0 nl
    cdef TriuBackward0 nu
    if x._ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 dimensions")
    out = contiguous_copy(x)
    rows = x._shape[x._ndim - 2]
    cols = x._shape[x._ndim - 1]
    batches = x._numel // (rows * cols) if rows * cols > 0 else 0
    with nogil:
        tri_zero(out._data, batches, rows, cols, k, lower, ITEMSIZE[x._dtype])
    if needs_grad(x):
        if lower:
            nl = TrilBackward0.__new__(TrilBackward0)
            wire1(nl, x)
            nl.diagonal = k
            set_history(out, nl)
        else:
            nu = TriuBackward0.__new__(TriuBackward0)
            wire1(nu, x)
            nu.diagonal = k
            set_history(out, nu)
    return out


cdef Tensor op_tri_(Tensor x, Py_ssize_t k, bint lower):
    cdef Tensor r
    check_inplace(x)
    if cgrad_grad_enabled and x._requires_grad:
        return commit_inplace(x, op_tri(old_value(x, False), k, lower))
    r = op_tri(alias_detached(x), k, lower)
    copy_into(x, r)
    x._storage.version += 1
    return x


def tril(input, diagonal=0, *, out=None):
    return op_tri(input_arg(input, "tril"), as_index(diagonal, "diagonal"), True)


def triu(input, diagonal=0, *, out=None):
    return op_tri(input_arg(input, "triu"), as_index(diagonal, "diagonal"), False)


# ---------------------------------------------------------------------------
# flip: a copy read through a negative-stride view; the gradient is flip(g).

cdef class FlipBackward0(Node):
    cdef tuple dims

    cdef tuple apply(self, object grads):
        return (op_flip(<Tensor>grads, self.dims),)


cdef tuple flip_dims(object dims, int ndim):
    cdef bint mask[MAX_DIMS]
    if isinstance(dims, (list, tuple)):
        if len(dims) == 0:
            return ()
        parse_dims(dims, ndim, mask)
    else:
        parse_dims(dims, ndim, mask)
    return masked_dims(mask, ndim)


cdef Tensor op_flip(Tensor x, tuple dims):
    """dims: wrapped, distinct dim numbers (flip_dims)."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef Py_ssize_t offset = x._offset
    cdef int d
    cdef Tensor src, out
    cdef FlipBackward0 node
    for d in range(x._ndim):
        shape[d] = x._shape[d]
        strides[d] = x._strides[d]
    if x._numel > 0:
        for d in dims:
            offset += (x._shape[d] - 1) * x._strides[d]
            strides[d] = -x._strides[d]
    src = make_view(alias_detached(x), x._ndim, shape, strides, offset)
    out = contiguous_copy(src)
    if needs_grad(x):
        node = FlipBackward0.__new__(FlipBackward0)
        wire1(node, x)
        node.dims = dims
        set_history(out, node)
    return out


def flip(input, dims):
    cdef Tensor x = input_arg(input, "flip")
    return op_flip(x, flip_dims(dims, x._ndim))


# ---------------------------------------------------------------------------
# cumsum along one dim: int and bool inputs give int64 (dtype= converts the
# input first); float16 accumulates in float32. The gradient is the reversed
# cumulative sum, flip(cumsum(flip(g))).

ctypedef fused cum_t:
    float
    double
    int64_t


cdef void cumsum_block(cum_t* out, const cum_t* x, Py_ssize_t outer, Py_ssize_t n,
                       Py_ssize_t inner) noexcept nogil:
    cdef Py_ssize_t o, i, j, base
    for o in range(outer):
        base = o * n * inner
        for j in range(inner):
            out[base + j] = x[base + j]
        for i in range(1, n):
            for j in range(inner):
                out[base + i * inner + j] = out[base + (i - 1) * inner + j] + x[base + i * inner + j]


cdef class CumsumBackward0(Node):
    cdef int dim

    cdef tuple apply(self, object grads):
        cdef tuple d = (self.dim,)
        return (op_flip(op_cumsum(op_flip(<Tensor>grads, d), self.dim), d),)


cdef Tensor op_cumsum(Tensor x, int dim):
    """dim: wrapped."""
    cdef Tensor src = x
    cdef Tensor out
    cdef Py_ssize_t outer = 1, n = 1, inner = 1
    cdef int d, work
    cdef CumsumBackward0 node
    if not is_float(x._dtype):
        src = cast_tensor(x, I64)
    elif x._dtype == F16:
        src = cast_tensor(x, F32)
    elif not x._contiguous:
        src = contiguous_copy(x)
    if x._ndim > 0:
        n = x._shape[dim]
        for d in range(dim):
            outer *= x._shape[d]
        for d in range(dim + 1, x._ndim):
            inner *= x._shape[d]
    out = new_tensor(x._ndim, x._shape, src._dtype)
    work = src._dtype
    with nogil:
        if work == F32:
            cumsum_block(<float*>out._data, <const float*>src._data, outer, n, inner)
        elif work == F64:
            cumsum_block(<double*>out._data, <const double*>src._data, outer, n, inner)
        else:
            cumsum_block(<int64_t*>out._data, <const int64_t*>src._data, outer, n, inner)
    if x._dtype == F16:
        out = cast_tensor(out, F16)
    if needs_grad(x):
        node = CumsumBackward0.__new__(CumsumBackward0)
        wire1(node, x)
        node.dim = dim
        set_history(out, node)
    return out


cdef Tensor cumsum_call(Tensor x, object dim, object dtype, str fname):
    cdef int dt
    if dim is None or isinstance(dim, (float, bool)) or not hasattr(dim, "__index__"):
        raise TypeError(f"{fname}(): argument 'dim' must be int, not {type(dim).__name__}")
    d = wrap_dim(dim, x._ndim)
    if dtype is not None:
        dt = dtype_code(dtype)
        if dt != x._dtype:
            x = op_to_dtype(x, dt)
        if not is_float(dt):
            return cast_tensor(op_cumsum(x, d), dt)     # dtype= is the result's dtype
    return op_cumsum(x, d)


def cumsum(input, dim, *, dtype=None, out=None):
    return cumsum_call(input_arg(input, "cumsum"), dim, dtype, "cumsum")


# ---------------------------------------------------------------------------
# outer: PyTorch's composite, self.reshape(n, 1) * vec2 (MulBackward0)

cdef Tensor op_outer(Tensor a, Tensor b):
    if a._ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {a._ndim}-D")
    if b._ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {b._ndim}-D")
    return op_mul(op_reshape(a, (a._shape[0], 1)), b)


def outer(input, vec2, *, out=None):
    return op_outer(input_arg(input, "outer"), need_tensor(vec2, "outer", "vec2", 2))


ger = outer


# ---------------------------------------------------------------------------
# atan2(self, other): broadcasting, integer inputs promoted to float32.
# Atan2Backward0: g * other / (self^2 + other^2), g * -self / (self^2 + other^2).

cdef extern from "<math.h>" nogil:
    float m_atan2f "atan2f"(float, float)
    double m_atan2 "atan2"(double, double)


cdef void atan2_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef float* o = <float*>p[0]
    cdef const float* a = <const float*>p[1]
    cdef const float* b = <const float*>p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = m_atan2f(a[i * s[1]], b[i * s[2]])


cdef void atan2_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef double* o = <double*>p[0]
    cdef const double* a = <const double*>p[1]
    cdef const double* b = <const double*>p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = m_atan2(a[i * s[1]], b[i * s[2]])


cdef void atan2_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    half_blocks(atan2_F32, 3, p, s, n, ctx, 7, 1)


cdef RowFn ATAN2_ROWS[NUM_DTYPES]
ATAN2_ROWS[F32] = atan2_F32
ATAN2_ROWS[F64] = atan2_F64
ATAN2_ROWS[F16] = atan2_F16


cdef class Atan2Backward0(BinaryNode):
    cdef readonly Tensor self_, other
    cdef long long self_version, other_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor a = unpack_input(self, self.self_, self.self_version)
        cdef Tensor b = unpack_input(self, self.other, self.other_version)
        cdef Tensor recip = op_div(g, op_add(op_mul(a, a), op_mul(b, b)))
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = self.grad_a(op_mul(b, recip))
        if wants_grad(self, 1):
            gb = self.grad_b(op_mul(op_neg(a), recip))
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.other = None


cdef Tensor op_atan2(Tensor a, Tensor b):
    cdef int dt = tensor_result_type(a, b)
    cdef Tensor out
    cdef Atan2Backward0 node
    if not is_float(dt):
        dt = DEFAULT_FLOAT
    out = binary_kernel(ATAN2_ROWS, a, b, dt, dt, "atan2")
    if needs_grad2(a, b):
        node = Atan2Backward0.__new__(Atan2Backward0)
        wire2(node, a, b)
        node.note_inputs(a, b, out)
        node.self_ = a
        node.self_version = save_version(a)
        node.other = b
        node.other_version = save_version(b)
        set_history(out, node)
    return out


def atan2(input, other, *, out=None):
    return op_atan2(input_arg(input, "atan2"), need_tensor(other, "atan2", "other", 2))


arctan2 = atan2


# ---------------------------------------------------------------------------
# roll: each (shift, dim) pair moves the elements along dim cyclically (no
# dims: over the flattened tensor). RollBackward0 rolls g back.

cdef void roll_block(char* out, const char* x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner,
                     Py_ssize_t shift, Py_ssize_t itemsize) noexcept nogil:
    # out[o, (i + shift) % n, :] = x[o, i, :], as two memcpy per outer block
    cdef Py_ssize_t o, row = inner * itemsize
    cdef Py_ssize_t head = (n - shift) * row, tail = shift * row
    for o in range(outer):
        memcpy(out + o * n * row + tail, x + o * n * row, head)
        memcpy(out + o * n * row, x + o * n * row + head, tail)


cdef Tensor roll_once(Tensor src, Py_ssize_t shift, int dim):
    """src contiguous; dim -1: the flattened tensor."""
    cdef Py_ssize_t outer = 1, n, inner = 1
    cdef int d
    cdef Tensor out = new_tensor(src._ndim, src._shape, src._dtype)
    if dim < 0:
        n = src._numel
    else:
        n = src._shape[dim]
        for d in range(dim):
            outer *= src._shape[d]
        for d in range(dim + 1, src._ndim):
            inner *= src._shape[d]
    if n == 0 or src._numel == 0:
        return out
    shift = shift % n
    if shift < 0:
        shift += n
    with nogil:
        roll_block(out._data, src._data, outer, n, inner, shift, ITEMSIZE[src._dtype])
    return out


cdef class RollBackward0(Node):
    cdef tuple shifts, dims

    cdef tuple apply(self, object grads):
        return (op_roll(<Tensor>grads, tuple([-s for s in self.shifts]), self.dims),)


cdef Tensor op_roll(Tensor x, tuple shifts, tuple dims):
    """dims: wrapped dims, or () to roll the flattened tensor (one shift)."""
    cdef Tensor out = alias_detached(x)
    cdef RollBackward0 node
    cdef int k
    if not out._contiguous:
        out = contiguous_copy(out)
    if len(dims) == 0:
        out = roll_once(out, shifts[0], -1)
    else:
        for k in range(len(dims)):
            out = roll_once(out, shifts[k], dims[k])
    if out is x or out._storage is x._storage:
        out = contiguous_copy(out)
    if needs_grad(x):
        node = RollBackward0.__new__(RollBackward0)
        wire1(node, x)
        node.shifts = shifts
        node.dims = dims
        set_history(out, node)
    return out


cdef tuple int_tuple(object v, str what):
    if isinstance(v, (list, tuple)):
        return tuple([as_index(i, what) for i in v])
    return (as_index(v, what),)


cdef Tensor roll_call(Tensor x, object shifts, object dims):
    cdef tuple s = int_tuple(shifts, "shifts")
    cdef tuple d = () if dims is None else int_tuple(dims, "dims")
    if len(s) == 0:
        raise RuntimeError("`shifts` required")
    if len(d) == 0 and len(s) != 1:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(s)}, dims:{len(d)}")
    if len(d) != 0 and len(s) != len(d):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(s)}, dims:{len(d)}")
    d = tuple([wrap_dim(i, x._ndim) for i in d])
    return op_roll(x, s, d)


def roll(input, shifts, dims=None):
    return roll_call(input_arg(input, "roll"), shifts, dims)


# ---------------------------------------------------------------------------
# repeat: tiles of x read through a stride-0 view [r0, s0, r1, s1, ...] and
# copied; RepeatBackward0 sums g over the tile dims.

cdef class RepeatBackward0(Node):
    cdef tuple repeats, self_sizes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef int lead = len(self.repeats) - len(self.self_sizes)
        cdef list inter = []
        cdef list sum_dims = []
        cdef int i
        cdef object s
        for i in range(len(self.repeats)):
            s = 1 if i < lead else self.self_sizes[i - lead]
            sum_dims.append(2 * i)
            inter.append(self.repeats[i])
            inter.append(s)
        g = op_sum(op_reshape(g, tuple(inter)), tuple(sum_dims), False)
        return (op_reshape(g, self.self_sizes),)


cdef Tensor op_repeat(Tensor x, tuple repeats):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef Py_ssize_t out_shape[MAX_DIMS]
    cdef int nr = len(repeats)
    cdef int lead = nr - x._ndim
    cdef int i
    cdef Py_ssize_t r, s, st
    cdef Tensor src, tiles, out
    cdef RepeatBackward0 node
    if nr < x._ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    if 2 * nr > MAX_DIMS:
        raise RuntimeError(f"repeat: too many dimensions ({nr})")
    for i in range(nr):
        r = repeats[i]
        s = 1 if i < lead else x._shape[i - lead]
        out_shape[i] = r * s
        if r < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {r * s}: "
                               f"[{', '.join([str(repeats[j] * (1 if j < lead else x._shape[j - lead])) for j in range(nr)])}]")
    src = alias_detached(x)
    for i in range(nr):
        shape[2 * i] = repeats[i]
        strides[2 * i] = 0
        shape[2 * i + 1] = 1 if i < lead else x._shape[i - lead]
        strides[2 * i + 1] = 0 if i < lead else x._strides[i - lead]
    tiles = contiguous_copy(make_view(src, 2 * nr, shape, strides, x._offset))
    out = new_tensor(nr, out_shape, x._dtype)
    if out._numel > 0:
        memcpy(out._data, tiles._data, out._numel * ITEMSIZE[x._dtype])
    if needs_grad(x):
        node = RepeatBackward0.__new__(RepeatBackward0)
        wire1(node, x)
        node.repeats = repeats
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


cdef Tensor repeat_call(Tensor x, tuple args):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    if len(args) == 0:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    return op_repeat(x, tuple([as_index(r, "repeats") for r in args]))


# ---------------------------------------------------------------------------
# gather(input, dim, index) and scatter_add(self, dim, index, src).
# GatherBackward0: zeros(input).scatter_add(dim, index, g);
# ScatterAddBackward0: g for self, g.gather(dim, index) for src.

cdef struct GatherGeo:
    int nd
    int dim
    Py_ssize_t shape[MAX_DIMS]        # the index's shape (the walk)
    Py_ssize_t istride[MAX_DIMS]      # index strides
    Py_ssize_t xstride[MAX_DIMS]      # strides of the gathered-from / scattered-into tensor
    Py_ssize_t ostride[MAX_DIMS]      # strides of the dense side (out of gather, src of scatter)
    Py_ssize_t limit                  # size of the indexed dim


cdef Py_ssize_t gather_walk(GatherGeo* g, const int64_t* idx, char* x, char* o, Py_ssize_t numel,
                            int itemsize, int add_dt, int64_t* bad) noexcept nogil:
    """add_dt < 0: o[pos] = x[..idx..] (gather); else x[..idx..] += o[pos]
    (scatter_add in dtype add_dt). Returns -1, or the position of an index out
    of range (its value in bad[0]); a gather is checked before any write."""
    cdef Py_ssize_t pos[MAX_DIMS]
    cdef Py_ssize_t k, ioff, xoff, ooff
    cdef int d
    cdef int64_t v
    for d in range(g.nd):
        pos[d] = 0
    for k in range(numel):
        ioff = 0
        xoff = 0
        ooff = 0
        for d in range(g.nd):
            ioff += pos[d] * g.istride[d]
            ooff += pos[d] * g.ostride[d]
            if d != g.dim:
                xoff += pos[d] * g.xstride[d]
        v = idx[ioff]
        if v < 0 or v >= g.limit:
            bad[0] = v
            return k
        if g.nd > 0:
            xoff += v * g.xstride[g.dim]
        if add_dt < 0:
            memcpy(o + ooff * itemsize, x + xoff * itemsize, itemsize)
        elif add_dt == F32:
            (<float*>x)[xoff] += (<float*>o)[ooff]
        elif add_dt == F64:
            (<double*>x)[xoff] += (<double*>o)[ooff]
        elif add_dt == I64:
            (<int64_t*>x)[xoff] += (<int64_t*>o)[ooff]
        elif add_dt == I32:
            (<int32_t*>x)[xoff] += (<int32_t*>o)[ooff]
        elif add_dt == I16:
            (<int16_t*>x)[xoff] += (<int16_t*>o)[ooff]
        elif add_dt == I8:
            (<int8_t*>x)[xoff] += (<int8_t*>o)[ooff]
        elif add_dt == U8:
            (<uint8_t*>x)[xoff] += (<uint8_t*>o)[ooff]
        elif add_dt == BOOL:
            (<uint8_t*>x)[xoff] = (<uint8_t*>x)[xoff] | (<uint8_t*>o)[ooff]
        d = g.nd - 1
        while d >= 0:
            pos[d] += 1
            if pos[d] < g.shape[d]:
                break
            pos[d] = 0
            d -= 1
    return -1


cdef int check_gather_args(Tensor x, int dim, Tensor index, Tensor other, str name) except -1:
    """PyTorch's shape checks; `other` is src of scatter_add (or None)."""
    cdef int d
    if index._dtype != I64 and index._dtype != I32:
        raise RuntimeError(f"{'gather' if name == 'gather' else 'scatter'}(): Expected dtype "
                           "int32/int64 for index")
    if max(index._ndim, 1) != max(x._ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    if other is not None and max(other._ndim, 1) != max(x._ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for d in range(index._ndim):
        if other is not None:
            if (d != dim and index._shape[d] > x._shape[d]) or index._shape[d] > other._shape[d]:
                raise RuntimeError(
                    f"Expected index {shape_str(index._shape, index._ndim)} to be no larger than self "
                    f"{shape_str(x._shape, x._ndim)} apart from dimension {dim} and to be no larger size "
                    f"than src {shape_str(other._shape, other._ndim)}")
        elif d != dim and x._ndim > 0 and index._shape[d] > x._shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {shape_str(index._shape, index._ndim)} "
                f"to be no larger than self {shape_str(x._shape, x._ndim)} apart from dimension {dim}")
    return 0


cdef int fill_geo(GatherGeo* g, Tensor x, int dim, Tensor index, Tensor dense) except -1:
    cdef int d
    g.nd = index._ndim
    g.dim = dim
    g.limit = x._shape[dim] if x._ndim > 0 else 1
    for d in range(index._ndim):
        g.shape[d] = index._shape[d]
        g.istride[d] = index._strides[d]
        g.xstride[d] = x._strides[d] if x._ndim > 0 else 0
        g.ostride[d] = dense._strides[d] if dense._ndim > 0 else 0
    return 0


cdef class GatherBackward0(Node):
    cdef readonly Tensor index
    cdef int dim
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor z = new_tensor_from_tuple(self.self_sizes, g._dtype, True)
        return (op_scatter_add(z, self.dim, self.index, g),)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef Tensor op_gather(Tensor x, int dim, Tensor index):
    """dim: wrapped."""
    cdef GatherGeo geo
    cdef Tensor out, idx = index
    cdef Py_ssize_t at
    cdef int64_t bad = 0
    cdef GatherBackward0 node
    check_gather_args(x, dim, index, None, "gather")
    if idx._dtype != I64:
        idx = cast_tensor(idx, I64)
    out = new_tensor(index._ndim, index._shape, x._dtype)
    fill_geo(&geo, x, dim, idx, out)
    with nogil:
        at = gather_walk(&geo, <const int64_t*>idx._data, x._data, out._data, out._numel,
                         ITEMSIZE[x._dtype], -1, &bad)
    if at >= 0:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {geo.limit}")
    if needs_grad(x):
        node = GatherBackward0.__new__(GatherBackward0)
        wire1(node, x)
        node.index = idx
        node.dim = dim
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


def gather(input, dim, index, *, sparse_grad=False, out=None):
    cdef Tensor x = input_arg(input, "gather")
    return op_gather(x, wrap_dim(as_index(dim, "dim"), x._ndim),
                     need_tensor(index, "gather", "index", 3))


cdef class ScatterAddBackward0(Node):
    cdef readonly Tensor index
    cdef int dim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object gs = None
        if wants_grad(self, 1):
            gs = op_gather(g, self.dim, self.index)
        return (g if wants_grad(self, 0) else None, gs)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef Tensor op_scatter_add(Tensor x, int dim, Tensor index, Tensor src):
    """A copy of x with src's elements added at index along dim (dim wrapped)."""
    cdef GatherGeo geo
    cdef Tensor out, s = src
    cdef Py_ssize_t at
    cdef int64_t bad = 0
    cdef int dt = x._dtype
    cdef ScatterAddBackward0 node
    if src._dtype != x._dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
    check_gather_args(x, dim, index, src, "scatter_add")
    if index._dtype != I64:
        index = cast_tensor(index, I64)
    out = contiguous_copy(alias_detached(x))
    if dt == F16:
        out = cast_tensor(out, F32)
        s = cast_tensor(src, F32)
    fill_geo(&geo, out, dim, index, s)
    dt = out._dtype
    with nogil:
        at = gather_walk(&geo, <const int64_t*>index._data, out._data, s._data, index._numel,
                         ITEMSIZE[dt], dt, &bad)
    if at >= 0:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {geo.limit}")
    if x._dtype == F16:
        out = cast_tensor(out, F16)
    if needs_grad2(x, src):
        node = ScatterAddBackward0.__new__(ScatterAddBackward0)
        wire2(node, x, src)
        node.index = index
        node.dim = dim
        set_history(out, node)
    return out


def scatter_add(input, dim, index, src):
    cdef Tensor x = input_arg(input, "scatter_add")
    return op_scatter_add(x, wrap_dim(as_index(dim, "dim"), x._ndim),
                          need_tensor(index, "scatter_add", "index", 3),
                          need_tensor(src, "scatter_add", "src", 4))
