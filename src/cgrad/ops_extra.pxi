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
    """add_dt -1: o[pos] = x[..idx..] (gather); -2: x[..idx..] = o[pos]
    (scatter); else x[..idx..] += o[pos]
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
        if add_dt == -1:
            memcpy(o + ooff * itemsize, x + xoff * itemsize, itemsize)
        elif add_dt == -2:          # scatter: x[..idx..] = o[pos]
            memcpy(x + xoff * itemsize, o + ooff * itemsize, itemsize)
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
    cdef tuple src_sizes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object gs = None
        if wants_grad(self, 1):
            if shape_tuple(self.index) != self.src_sizes:
                # PyTorch's formula gives src a gradient of index's shape
                raise RuntimeError(
                    f"Function ScatterAddBackward0 returned an invalid gradient at index 1 - got "
                    f"{list(shape_tuple(self.index))} but expected shape compatible with {list(self.src_sizes)}")
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
        node.src_sizes = shape_tuple(src)
        set_history(out, node)
    return out


def scatter_add(input, dim, index, src):
    cdef Tensor x = input_arg(input, "scatter_add")
    return op_scatter_add(x, wrap_dim(as_index(dim, "dim"), x._ndim),
                          need_tensor(index, "scatter_add", "index", 3),
                          need_tensor(src, "scatter_add", "src", 4))
# ---------------------------------------------------------------------------
# Activations of nn.functional with parameters: silu, leaky_relu, elu, gelu
# (approximate 'none' / 'tanh'), softplus. One forward and one backward row
# kernel per float dtype, switching on the kind (ActParams in ctx); each node
# runs the fused backward, or its formula as differentiable ops under
# create_graph. PyTorch's CPU formulas, in its order of operations.

cdef enum:
    K_SILU = 0
    K_LEAKY = 1
    K_ELU = 2
    K_GELU = 3
    K_GELU_TANH = 4
    K_SOFTPLUS = 5
    K_LEAKY_R = 6       # backward from the result (leaky_relu_ / LeakyReluBackward1)
    K_ELU_R = 7         # backward from the result (elu_ / EluBackward1)

cdef tuple ACT_NAMES = ("silu", "leaky_relu", "elu", "GeluKernelImpl", "GeluKernelImpl", "softplus")

cdef struct ActParams:
    int kind
    double a
    double b

cdef double GELU_BETA = 0.7978845608028654      # M_SQRT2 * M_2_SQRTPI * 0.5
cdef double GELU_KAPPA = 0.044715


cdef inline real_t act_fwd(real_t x, const ActParams* p) noexcept nogil:
    cdef real_t a = <real_t>p.a
    cdef real_t t
    if p.kind == K_SILU:
        return x / (1 + c_exp(-x))
    if p.kind == K_LEAKY:
        return x if x > 0 else x * a
    if p.kind == K_ELU:
        return x if x > 0 else a * c_expm1(x)
    if p.kind == K_GELU:
        return x * <real_t>0.5 * (1 + c_erf(x * <real_t>0.7071067811865476))
    if p.kind == K_GELU_TANH:
        t = <real_t>GELU_BETA * (x + <real_t>GELU_KAPPA * (x * x * x))
        return <real_t>0.5 * x * (1 + c_tanh(t))
    # softplus
    t = x * a
    return x if t > <real_t>p.b else c_log1p(c_exp(t)) / a


cdef inline real_t act_bwd(real_t g, real_t x, const ActParams* p) noexcept nogil:
    # x: the input, or the result for the K_*_R kinds
    cdef real_t a = <real_t>p.a
    cdef real_t s, cdf, pdf, x2, inner, th, left, right
    if p.kind == K_SILU:
        s = 1 / (1 + c_exp(-x))
        return g * s * (1 + x * (1 - s))
    if p.kind == K_LEAKY or p.kind == K_LEAKY_R:
        return g if x > 0 else g * a
    if p.kind == K_ELU:
        return g if x > 0 else g * a * c_exp(x)
    if p.kind == K_ELU_R:
        return g if x > 0 else g * (x + a)
    if p.kind == K_GELU:
        cdf = <real_t>0.5 * (1 + c_erf(x * <real_t>0.7071067811865476))
        pdf = <real_t>0.3989422804014327 * c_exp(x * x * <real_t>-0.5)
        return g * (cdf + x * pdf)
    if p.kind == K_GELU_TANH:
        x2 = x * x
        inner = <real_t>GELU_BETA * (x + <real_t>GELU_KAPPA * (x2 * x))
        th = c_tanh(inner)
        left = <real_t>0.5 * x
        right = 1 + th
        return g * (<real_t>0.5 * right + left * (1 - th * th) * (<real_t>GELU_BETA * (1 + 3 * <real_t>GELU_KAPPA * x2)))
    # softplus
    s = c_exp(x * a)
    return g if x * a > <real_t>p.b else g * s / (s + 1)


cdef void act_fwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef float* o = <float*>p[0]
    cdef const float* x = <const float*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = act_fwd(x[i * s[1]], <const ActParams*>ctx)


cdef void act_fwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef double* o = <double*>p[0]
    cdef const double* x = <const double*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = act_fwd(x[i * s[1]], <const ActParams*>ctx)


cdef void act_fwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    half_blocks(act_fwd_F32, 2, p, s, n, ctx, 3, 1)


cdef void act_bwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef float* o = <float*>p[0]
    cdef const float* g = <const float*>p[1]
    cdef const float* x = <const float*>p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = act_bwd(g[i * s[1]], x[i * s[2]], <const ActParams*>ctx)


cdef void act_bwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef double* o = <double*>p[0]
    cdef const double* g = <const double*>p[1]
    cdef const double* x = <const double*>p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = act_bwd(g[i * s[1]], x[i * s[2]], <const ActParams*>ctx)


cdef void act_bwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    half_blocks(act_bwd_F32, 3, p, s, n, ctx, 7, 1)


cdef Tensor act_kernel(bint backward, Tensor a, Tensor b, ActParams* prm):
    """forward: act(a); backward: the fused gradient from g=a and x=b."""
    cdef Tensor out
    cdef Operand ops[3]
    cdef int dt = a._dtype
    if backward and b._dtype != dt:
        a = cast_tensor(a, b._dtype)
        dt = b._dtype
    out = new_tensor(a._ndim, a._shape, dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(a)
    if backward:
        ops[2] = operand_of(b)
        run_elementwise(act_bwd_F32 if dt == F32 else (act_bwd_F64 if dt == F64 else act_bwd_F16),
                        3, ops, out._ndim, out._shape, out._numel, prm)
    else:
        run_elementwise(act_fwd_F32 if dt == F32 else (act_fwd_F64 if dt == F64 else act_fwd_F16),
                        2, ops, out._ndim, out._shape, out._numel, prm)
    return out


cdef Tensor act_formula(int kind, double a, double b, Tensor g, Tensor x):
    """The backward as differentiable ops (create_graph)."""
    cdef Tensor s, cdf, pdf, x2, th, left, right, inner
    if kind == K_SILU:
        s = op_sigmoid(x)
        return op_mul(op_mul(g, s), op_add_scalar(op_mul(x, op_rsub_scalar(s, 1)), 1))
    if kind == K_LEAKY or kind == K_LEAKY_R:
        return op_where(op_compare(CMP_GT, x, 0), g, op_mul_scalar(g, a))
    if kind == K_ELU:
        return op_where(op_compare(CMP_GT, x, 0), g, op_mul(op_mul_scalar(g, a), op_exp(x)))
    if kind == K_ELU_R:
        return op_where(op_compare(CMP_GT, x, 0), g, op_mul(g, op_add_scalar(x, a)))
    if kind == K_GELU:
        cdf = op_mul_scalar(op_add_scalar(op_erf(op_mul_scalar(x, 0.7071067811865476)), 1), 0.5)
        pdf = op_mul_scalar(op_exp(op_mul_scalar(op_mul(x, x), -0.5)), 0.3989422804014327)
        return op_mul(g, op_add(cdf, op_mul(x, pdf)))
    if kind == K_GELU_TANH:
        x2 = op_mul(x, x)
        inner = op_mul_scalar(op_add(x, op_mul_scalar(op_mul(x2, x), GELU_KAPPA)), GELU_BETA)
        th = op_tanh(inner)
        left = op_mul_scalar(x, 0.5)
        right = op_add_scalar(th, 1)
        return op_mul(g, op_add(op_mul_scalar(right, 0.5),
                                op_mul(op_mul(left, op_rsub_scalar(op_mul(th, th), 1)),
                                       op_mul_scalar(op_add_scalar(op_mul_scalar(x2, 3 * GELU_KAPPA), 1),
                                                     GELU_BETA))))
    # softplus
    s = op_mul_scalar(x, a)
    return op_where(op_compare(CMP_GT, s, b), g, op_mul(g, op_sigmoid(s)))


cdef class ActNode(Node):
    cdef readonly Tensor saved
    cdef long long saved_version
    cdef ActParams prm
    cdef bint from_result

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x
        if self.from_result:
            if self.prm.a < 0:
                msg = ("In-place {} backward calculation is triggered with a negative slope which is not "
                       "supported. This is caused by calling in-place forward function with a negative slope, "
                       "please call out-of-place version instead.")
                if self.prm.kind == K_LEAKY_R:
                    raise RuntimeError(msg.format("leakyReLu") + " File an issue at https://github.com/pytorch/"
                                       "pytorch if you do require supporting in-place leakRelu backward "
                                       "calculation with negative slope")
                raise RuntimeError(msg.format("elu"))
            x = unpack_output(self, self.saved, self.saved_version)
        else:
            x = unpack_input(self, self.saved, self.saved_version)
        if cgrad_grad_enabled:
            return (act_formula(self.prm.kind, self.prm.a, self.prm.b, g, x),)
        return (act_kernel(True, g, x, &self.prm),)

    cdef void release_saved(self) noexcept:
        self.saved = None


cdef class SiluBackward0(ActNode):
    pass


cdef class LeakyReluBackward0(ActNode):
    pass


cdef class LeakyReluBackward1(ActNode):
    pass


cdef class EluBackward0(ActNode):
    pass


cdef class EluBackward1(ActNode):
    pass


cdef class GeluBackward0(ActNode):
    pass


cdef class SoftplusBackward0(ActNode):
    pass


cdef ActNode act_node(int kind, bint inplace):
    if kind == K_SILU:
        return SiluBackward0.__new__(SiluBackward0)
    if kind == K_LEAKY:
        return (LeakyReluBackward1.__new__(LeakyReluBackward1) if inplace
                else LeakyReluBackward0.__new__(LeakyReluBackward0))
    if kind == K_ELU:
        return EluBackward1.__new__(EluBackward1) if inplace else EluBackward0.__new__(EluBackward0)
    if kind == K_GELU or kind == K_GELU_TANH:
        return GeluBackward0.__new__(GeluBackward0)
    return SoftplusBackward0.__new__(SoftplusBackward0)


cdef Tensor op_activation(Tensor x, int kind, double a, double b):
    cdef ActParams prm
    cdef Tensor out
    cdef ActNode node
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"{ACT_NAMES[kind]}_cpu\" not implemented for '{dtype_title(x._dtype)}'"
                                  if kind != K_GELU and kind != K_GELU_TANH else
                                  f"\"GeluKernelImpl\" not implemented for '{dtype_title(x._dtype)}'")
    prm.kind = kind
    prm.a = a
    prm.b = b
    out = act_kernel(False, x, None, &prm)
    if needs_grad(x):
        node = act_node(kind, False)
        wire1(node, x)
        node.prm = prm
        node.saved = x
        node.saved_version = save_version(x)
        node.from_result = False
        set_history(out, node)
    return out


cdef Tensor op_activation_(Tensor x, int kind, double a, double b):
    """In place: silu_ keeps the old input; leaky_relu_ and elu_ differentiate
    from the result (LeakyReluBackward1, EluBackward1), as PyTorch."""
    cdef ActParams prm
    cdef Tensor r
    cdef ActNode node
    check_inplace(x)
    if not is_float(x._dtype):
        op_activation(x, kind, a, b)          # raises the dtype error
    if cgrad_grad_enabled and x._requires_grad:
        if kind == K_LEAKY or kind == K_ELU:
            r = op_activation(alias_detached(old_value(x, False)), kind, a, b)
            node = act_node(kind, True)
            wire1(node, old_value(x, False))
            node.prm.kind = K_LEAKY_R if kind == K_LEAKY else K_ELU_R
            node.prm.a = a
            node.prm.b = b
            node.from_result = True
            set_history(r, node)
            commit_inplace(x, r)
            node.saved = alias_detached(x)
            node.saved_version = x._storage.version
            return x
        return commit_inplace(x, op_activation(old_value(x, True), kind, a, b))
    prm.kind = kind
    prm.a = a
    prm.b = b
    r = act_kernel(False, alias_detached(x), None, &prm)
    copy_into(x, r)
    x._storage.version += 1
    return x


def _activation(input, int kind, double a=0, double b=0, bint inplace=False):
    """nn.functional's silu (0), leaky_relu (1), elu (2), gelu (3; 4: tanh
    approximation), softplus (5): a is the slope, alpha or beta, b softplus's
    threshold."""
    cdef Tensor x = input_arg(input, ("silu", "leaky_relu", "elu", "gelu", "gelu", "softplus")[kind])
    if inplace:
        return op_activation_(x, kind, a, b)
    return op_activation(x, kind, a, b)


# ---------------------------------------------------------------------------
# linalg.vector_norm / norm (LinalgVectorNormBackward0): the value from the
# reduction kernels on a detached input, PyTorch's norm_backward as
# differentiable ops.

cdef class LinalgVectorNormBackward0(Node):
    cdef readonly Tensor self_, result
    cdef long long self_version
    cdef double ord
    cdef tuple dims
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor r = unpack_output(self, self.result, 0)
        cdef Tensor mask, zeros, scaled
        cdef double p = self.ord
        if not self.keepdim:
            g = unsqueeze_dims(g, self.dims)
            r = unsqueeze_dims(r, self.dims)
        if p == 0:
            return (None,)          # PyTorch's undefined gradient
        if p == 1:
            return (op_mul(op_sign(x), g),)
        if p == cmath.INFINITY or p == -cmath.INFINITY:
            mask = cast_tensor(op_compare(CMP_EQ, op_abs(x), r), x._dtype)
            return (op_mul(op_sign(x), op_mul(op_div(g, op_sum(mask, self.dims, True)), mask)),)
        zeros = op_zeros_like(r)
        if p == 2:
            scaled = op_where(op_compare(CMP_EQ, r, 0), zeros, op_div(g, r))
            return (op_mul(x, scaled),)
        scaled = op_where(op_compare(CMP_EQ, r, 0), zeros, op_div(g, op_pow_scalar(r, p - 1)))
        return (op_mul(op_mul(x, op_pow_scalar(op_abs(x), p - 2)), scaled),)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef Tensor op_vector_norm(Tensor x, double p, object dim, bint keepdim, str fname):
    cdef bint mask[MAX_DIMS]
    cdef Tensor xd, a, out
    cdef LinalgVectorNormBackward0 node
    if not is_float(x._dtype):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {dtype_title(x._dtype)}")
    if (p == cmath.INFINITY or p == -cmath.INFINITY) and x._numel == 0:
        raise RuntimeError(f"{fname} cannot compute the {'-inf' if p < 0 else 'inf'} norm on an empty "
                           "tensor because the operation does not have an identity")
    parse_dims(dim, x._ndim, mask)
    xd = alias_detached(x)
    a = op_abs(xd)
    if p == 2:
        out = op_sqrt(op_sum(op_mul(xd, xd), dim, keepdim))
    elif p == 1:
        out = op_sum(a, dim, keepdim)
    elif p == cmath.INFINITY or p == -cmath.INFINITY:
        out = op_amax(a, masked_dims(mask, x._ndim) if dim is not None else None, keepdim, p > 0)
    elif p == 0:
        out = cast_tensor(op_sum(op_compare(CMP_NE, xd, 0), dim, keepdim), x._dtype)
    else:
        out = op_pow_scalar(op_sum(op_pow_scalar(a, p), dim, keepdim), 1.0 / p)
    if needs_grad(x):
        node = LinalgVectorNormBackward0.__new__(LinalgVectorNormBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = save_version(x)
        node.result = alias_detached(out)
        node.ord = p
        node.dims = masked_dims(mask, x._ndim)
        node.keepdim = keepdim
        set_history(out, node)
    return out


cdef double norm_ord(object p, str fname) except? -1:
    if p is None or p == "fro":
        return 2.0
    if isinstance(p, str):
        raise RuntimeError(f"{fname}: ord must be a number, not the string {p!r}")
    return float(p)


def _vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.vector_norm (exported to cgrad.linalg)."""
    cdef Tensor t = input_arg(x, "linalg_vector_norm")
    if dtype is not None:
        t = op_to_dtype(t, dtype_code(dtype))
    return op_vector_norm(t, norm_ord(ord, "linalg.vector_norm"), dim, keepdim, "linalg.vector_norm")


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm of vectors (p a number or 'fro'), over all or the given dims."""
    cdef Tensor t = input_arg(input, "norm")
    if dtype is not None:
        t = op_to_dtype(t, dtype_code(dtype))
    if isinstance(p, str) and p != "fro":
        raise NotImplementedError(f"norm(p={p!r}) (matrix norms) is not supported by cgrad")
    return op_vector_norm(t, norm_ord(p, "norm"), dim, keepdim, "linalg.vector_norm")


# ---------------------------------------------------------------------------
# lerp(start, end, weight) = start + weight * (end - start). LerpBackward0
# (a number weight): g * (1 - w), g * w; LerpBackward1 (a tensor weight)
# adds g * (end - start) for the weight. Composed of the pointwise ops for
# the value, PyTorch's nodes for the graph.

cdef class LerpBackward0(BinaryNode):
    cdef object weight

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = self.grad_a(op_mul_scalar(g, 1 - self.weight))
        if wants_grad(self, 1):
            gb = self.grad_b(op_mul_scalar(g, self.weight))
        return (ga, gb)


cdef class LerpBackward1(Node):
    cdef readonly Tensor self_, end, weight
    cdef long long v0, v1, v2
    cdef tuple s0, s1, s2

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor a = unpack_input(self, self.self_, self.v0)
        cdef Tensor b = unpack_input(self, self.end, self.v1)
        cdef Tensor w = unpack_input(self, self.weight, self.v2)
        cdef object ga = None, gb = None, gw = None
        if wants_grad(self, 0):
            ga = op_sum_to(op_mul(g, op_rsub_scalar(w, 1)), self.s0)
        if wants_grad(self, 1):
            gb = op_sum_to(op_mul(g, w), self.s1)
        if wants_grad(self, 2):
            gw = op_sum_to(op_mul(g, op_sub(b, a)), self.s2)
        return (ga, gb, gw)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.end = None
        self.weight = None


cdef Tensor op_lerp(Tensor a, Tensor b, object weight):
    cdef Tensor out, w = None
    cdef LerpBackward0 n0
    cdef LerpBackward1 n1
    if b._dtype != a._dtype:
        raise RuntimeError(f"expected dtype {dtype_name_short(a._dtype)} for `end` but got dtype "
                           f"{dtype_name_short(b._dtype)}")
    if isinstance(weight, Tensor):
        w = <Tensor>weight
        if w._dtype != a._dtype:
            raise RuntimeError(f"expected dtype {dtype_name_short(a._dtype)} for `weight` but got dtype "
                               f"{dtype_name_short(w._dtype)}")
    if not is_float(a._dtype):
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for '{dtype_title(a._dtype)}'"
                                  if w is None else
                                  f"\"lerp_kernel_tensor\" not implemented for '{dtype_title(a._dtype)}'")
    a_d = alias_detached(a)
    b_d = alias_detached(b)
    if w is None:
        out = op_add(a_d, op_mul_scalar(op_sub(b_d, a_d), weight))
        if needs_grad2(a, b):
            n0 = LerpBackward0.__new__(LerpBackward0)
            wire2(n0, a, b)
            n0.note_inputs(a, b, out)
            n0.weight = weight
            set_history(out, n0)
        return out
    out = op_add(a_d, op_mul(alias_detached(w), op_sub(b_d, a_d)))
    if cgrad_grad_enabled and (a._requires_grad or b._requires_grad or w._requires_grad):
        n1 = LerpBackward1.__new__(LerpBackward1)
        wire_many(n1, [a, b, w], 1)
        n1.self_ = a
        n1.v0 = save_version(a)
        n1.end = b
        n1.v1 = save_version(b)
        n1.weight = w
        n1.v2 = save_version(w)
        n1.s0 = shape_tuple(a)
        n1.s1 = shape_tuple(b)
        n1.s2 = shape_tuple(w)
        set_history(out, n1)
    return out


cdef str dtype_name_short(int dt):
    return ("float" if dt == F32 else "double" if dt == F64 else "c10::Half" if dt == F16
            else dtype_title(dt).lower())


def lerp(input, end, weight, *, out=None):
    cdef Tensor a = input_arg(input, "lerp")
    return op_lerp(a, need_tensor(end, "lerp", "end", 2),
                   weight if isinstance(weight, Tensor) else normalize_scalar(weight))


# ---------------------------------------------------------------------------
# diag: a 1-D input placed on the k-th diagonal of a square matrix
# (DiagEmbedBackward0), or the k-th diagonal of a matrix
# (DiagonalBackward0_copy); each one's gradient is the other op.

cdef Py_ssize_t diag_len(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k) noexcept:
    cdef Py_ssize_t r = (m if m < n - k else n - k) if k >= 0 else (m + k if m + k < n else n)
    return r if r > 0 else 0


cdef class DiagEmbedBackward0(Node):
    cdef Py_ssize_t offset

    cdef tuple apply(self, object grads):
        return (op_diag_extract(<Tensor>grads, self.offset),)


cdef class DiagonalBackward0_copy(Node):
    cdef Py_ssize_t offset, m, n

    cdef tuple apply(self, object grads):
        return (op_diag_place(<Tensor>grads, self.m, self.n, self.offset),)


cdef Tensor op_diag_extract(Tensor x, Py_ssize_t k):
    """The k-th diagonal of the matrix x, as a new 1-D tensor."""
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]
    cdef Py_ssize_t m = x._shape[0], n = x._shape[1]
    cdef Tensor out
    cdef DiagonalBackward0_copy node
    shape[0] = diag_len(m, n, k)
    strides[0] = x._strides[0] + x._strides[1]
    out = contiguous_copy(make_view(alias_detached(x), 1, shape, strides,
                                    x._offset + (k * x._strides[1] if k >= 0 else -k * x._strides[0])
                                    if shape[0] > 0 else x._offset))
    if needs_grad(x):
        node = DiagonalBackward0_copy.__new__(DiagonalBackward0_copy)
        wire1(node, x)
        node.offset = k
        node.m = m
        node.n = n
        set_history(out, node)
    return out


cdef Tensor op_diag_place(Tensor v, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k):
    """A zero m x n matrix with v on its k-th diagonal."""
    cdef Py_ssize_t shape[2]
    cdef Py_ssize_t dshape[1]
    cdef Py_ssize_t dstrides[1]
    cdef Tensor out
    cdef DiagEmbedBackward0 node
    shape[0] = m
    shape[1] = n
    out = new_tensor(2, shape, v._dtype, True)
    dshape[0] = v._shape[0]
    dstrides[0] = n + 1
    if v._shape[0] > 0:
        copy_into(make_view(out, 1, dshape, dstrides, k if k >= 0 else -k * n), alias_detached(v))
    if needs_grad(v):
        node = DiagEmbedBackward0.__new__(DiagEmbedBackward0)
        wire1(node, v)
        node.offset = k
        set_history(out, node)
    return out


cdef Tensor op_diag(Tensor x, Py_ssize_t k):
    cdef Py_ssize_t size
    if x._ndim == 1:
        size = x._shape[0] + (k if k >= 0 else -k)
        return op_diag_place(x, size, size, k)
    if x._ndim == 2:
        return op_diag_extract(x, k)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x._ndim}D")


def diag(input, diagonal=0, *, out=None):
    return op_diag(input_arg(input, "diag"), as_index(diagonal, "diagonal"))


# ---------------------------------------------------------------------------
# smooth_l1_loss (SmoothL1LossBackward0): 0.5 d^2 / beta where |d| < beta,
# else |d| - 0.5 beta (d = input - target), reduced; the gradient is
# norm * clamp(d / beta, -1, 1) * g. Same-shape inputs (F.smooth_l1_loss
# broadcasts first); beta > 0 (beta == 0 is l1_loss there).

cdef class SmoothL1LossBackward0(Node):
    cdef readonly Tensor self_, target
    cdef long long self_version, target_version
    cdef int reduction
    cdef double beta

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor t = unpack_input(self, self.target, self.target_version)
        cdef Tensor d = op_sub(x, t)
        cdef Tensor ones = new_tensor(d._ndim, d._shape, d._dtype)
        cdef Tensor c
        cdef double norm = 1.0 / x._numel if self.reduction == NN_RED_MEAN else 1.0
        cdef object gx = None, gt = None
        fill_scalar(ones, 1)
        c = op_where(op_compare(CMP_GT, d, self.beta), ones,
                     op_where(op_compare(CMP_LT, d, -self.beta), op_neg(ones), op_div_scalar(d, self.beta)))
        c = op_mul(op_mul_scalar(c, norm), g)
        if wants_grad(self, 0):
            gx = op_to_dtype(c, x._dtype) if c._dtype != x._dtype else c
        if wants_grad(self, 1):
            c = op_neg(c)
            gt = op_to_dtype(c, t._dtype) if c._dtype != t._dtype else c
        return (gx, gt)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.target = None


cdef Tensor op_smooth_l1_loss(Tensor x, Tensor t, int reduction, double beta):
    cdef int dt = tensor_result_type(x, t)
    cdef Tensor d, ad, out
    cdef SmoothL1LossBackward0 node
    if not is_float(dt):
        raise NotImplementedError(f"\"smooth_l1_cpu\" not implemented for '{dtype_title(dt)}'")
    d = op_sub(alias_detached(x), alias_detached(t))
    ad = op_abs(d)
    out = op_where(op_compare(CMP_LT, ad, beta), op_div_scalar(op_mul(op_mul_scalar(d, 0.5), d), beta),
                   op_sub_scalar(ad, 0.5 * beta))
    if reduction == NN_RED_MEAN:
        out = op_mean(out)
    elif reduction == NN_RED_SUM:
        out = op_sum(out)
    if needs_grad2(x, t):
        node = SmoothL1LossBackward0.__new__(SmoothL1LossBackward0)
        wire2(node, x, t)
        node.self_ = x
        node.self_version = save_version(x)
        node.target = t
        node.target_version = save_version(t)
        node.reduction = reduction
        node.beta = beta
        set_history(out, node)
    return out


def _smooth_l1_loss(input, target, reduction=1, double beta=1.0):
    """smooth_l1_loss of same-shape tensors, the reduction as PyTorch's enum."""
    cdef Tensor x = nn_tensor_arg(input, "smooth_l1_loss", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "smooth_l1_loss", "target", 2)
    return op_smooth_l1_loss(x, t, nn_reduction_arg(reduction), beta)


# ---------------------------------------------------------------------------
# binary_cross_entropy_with_logits (BinaryCrossEntropyWithLogitsBackward0):
# (1 - t) x + lw softplus(-x), lw = (pos_weight - 1) t + 1 (1 without
# pos_weight), times weight, reduced. Gradients (PyTorch's forms):
# input: ((pos_weight t + 1 - t) sigmoid(x) - pos_weight t) or sigmoid(x) - t;
# target: -x + (pos_weight - 1) softplus(-x) or -x; times weight, g, 1/n.

cdef Tensor softplus_neg(Tensor x):
    """log(1 + exp(-x)), stably: log1p(exp(-|x|)) + max(-x, 0)."""
    return op_add(op_log1p(op_exp(op_neg(op_abs(x)))), op_relu(op_neg(x)))


cdef class BinaryCrossEntropyWithLogitsBackward0(Node):
    cdef readonly Tensor self_, target, weight, pos_weight
    cdef long long self_version, target_version
    cdef int reduction

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor t = unpack_input(self, self.target, self.target_version)
        cdef Tensor scale = g, d, pt
        cdef object gx = None, gt = None
        if self.reduction == NN_RED_MEAN:
            scale = op_div_scalar(g, x._numel)
        if self.weight is not None:
            scale = op_mul(scale, self.weight)
        if wants_grad(self, 0):
            if self.pos_weight is None:
                d = op_sub(op_sigmoid(x), t)
            else:
                pt = op_mul(self.pos_weight, t)
                d = op_sub(op_mul(op_sub(op_add_scalar(pt, 1), t), op_sigmoid(x)), pt)
            d = op_mul(d, scale)
            gx = op_to_dtype(d, x._dtype) if d._dtype != x._dtype else d
        if wants_grad(self, 1):
            d = op_neg(x)
            if self.pos_weight is not None:
                d = op_add(d, op_mul(op_sub_scalar(self.pos_weight, 1), softplus_neg(x)))
            d = op_mul(d, scale)
            gt = op_to_dtype(d, t._dtype) if d._dtype != t._dtype else d
        return (gx, gt)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.target = None
        self.weight = None
        self.pos_weight = None


cdef Tensor op_bce_with_logits(Tensor x, Tensor t, Tensor weight, Tensor pos_weight, int reduction):
    cdef int dt = tensor_result_type(x, t)
    cdef Tensor xd, td, loss
    cdef BinaryCrossEntropyWithLogitsBackward0 node
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None and (<Tensor>w)._requires_grad and cgrad_grad_enabled:
            raise RuntimeError(f"The function 'binary_cross_entropy_with_logits' is not differentiable with "
                               f"respect to argument '{name}'. This input cannot have requires_grad True.")
    if not is_float(t._dtype) and is_float(dt):
        raise RuntimeError(f"result type {dtype_title(dt)} can't be cast to the desired output type "
                           f"{dtype_title(t._dtype)}")
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{dtype_title(x._dtype)}'")
    xd = alias_detached(x)
    td = alias_detached(t)
    if pos_weight is None:
        loss = op_add(op_mul(op_rsub_scalar(td, 1), xd), softplus_neg(xd))
    else:
        loss = op_add(op_mul(op_rsub_scalar(td, 1), xd),
                      op_mul(op_add_scalar(op_mul(op_sub_scalar(pos_weight, 1), td), 1), softplus_neg(xd)))
    if weight is not None:
        loss = op_mul(loss, weight)
    if reduction == NN_RED_MEAN:
        loss = op_mean(loss)
    elif reduction == NN_RED_SUM:
        loss = op_sum(loss)
    if needs_grad2(x, t):
        node = BinaryCrossEntropyWithLogitsBackward0.__new__(BinaryCrossEntropyWithLogitsBackward0)
        wire2(node, x, t)
        node.self_ = x
        node.self_version = save_version(x)
        node.target = t
        node.target_version = save_version(t)
        node.weight = None if weight is None else alias_detached(weight)
        node.pos_weight = None if pos_weight is None else alias_detached(pos_weight)
        node.reduction = reduction
        set_history(loss, node)
    return loss


def _binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    """binary_cross_entropy_with_logits, the reduction as PyTorch's enum."""
    cdef Tensor x = nn_tensor_arg(input, "binary_cross_entropy_with_logits", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "binary_cross_entropy_with_logits", "target", 2)
    return op_bce_with_logits(x, t, weight, pos_weight, nn_reduction_arg(reduction))


# ---------------------------------------------------------------------------
# addmm(input, mat1, mat2, *, beta=1, alpha=1) = beta input + alpha mat1 @ mat2
# (AddmmBackward0; beta == 0 ignores input, as PyTorch).

cdef Tensor op_addmm_ab(Tensor bias, Tensor m1, Tensor m2, object beta, object alpha):
    cdef Tensor out, prod
    cdef AddmmBackward0 node
    if beta == 1 and alpha == 1:
        return op_addmm(bias, m1, m2)
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
    prod = op_mm(alias_detached(m1), alias_detached(m2))
    b = op_expand(alias_detached(bias), (prod._shape[0], prod._shape[1]))
    out = op_mul_scalar(prod, alpha)
    if beta != 0:
        out = op_add(op_mul_scalar(b, beta), out)
    if cgrad_grad_enabled and (bias._requires_grad or m1._requires_grad or m2._requires_grad):
        node = AddmmBackward0.__new__(AddmmBackward0)
        wire_many(node, [bias, m1, m2], 1)
        if m2._requires_grad:
            node.mat1 = m1
            node.mat1_version = save_version(m1)
        if m1._requires_grad:
            node.mat2 = m2
            node.mat2_version = save_version(m2)
        node.self_sizes = shape_tuple(bias)
        node.alpha = alpha
        node.beta = beta
        set_history(out, node)
    return out


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    return op_addmm_ab(input_arg(input, "addmm"), need_tensor(mat1, "addmm", "mat1", 2),
                       need_tensor(mat2, "addmm", "mat2", 3), normalize_scalar(beta), normalize_scalar(alpha))


# ---------------------------------------------------------------------------
# scatter(self, dim, index, src) (ScatterBackward0) and scatter(self, dim,
# index, value) (ScatterBackward1): a copy of self with src's elements (or
# value) written at index along dim. Gradients: g.scatter(dim, index, 0) for
# self, g.gather(dim, index) for src.

cdef class ScatterBackward0(Node):
    cdef readonly Tensor index
    cdef int dim
    cdef tuple src_sizes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object gx = None, gs = None
        if wants_grad(self, 1):
            if shape_tuple(self.index) != self.src_sizes:
                raise RuntimeError(
                    f"Function ScatterBackward0 returned an invalid gradient at index 1 - got "
                    f"{list(shape_tuple(self.index))} but expected shape compatible with {list(self.src_sizes)}")
            gs = op_gather(g, self.dim, self.index)
        if wants_grad(self, 0):
            gx = op_scatter(g, self.dim, self.index, None, 0)
        return (gx, gs)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef class ScatterBackward1(Node):
    cdef readonly Tensor index
    cdef int dim

    cdef tuple apply(self, object grads):
        return (op_scatter(<Tensor>grads, self.dim, self.index, None, 0),)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef Tensor op_scatter(Tensor x, int dim, Tensor index, Tensor src, object value):
    """src None: value (a number) is written."""
    cdef GatherGeo geo
    cdef Tensor out, s = src
    cdef Py_ssize_t at
    cdef int64_t bad = 0
    cdef ScatterBackward0 n0
    cdef ScatterBackward1 n1
    if src is not None and src._dtype != x._dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    check_gather_args(x, dim, index, src, "scatter")
    if index._dtype != I64:
        index = cast_tensor(index, I64)
    if src is None:
        s = new_tensor(index._ndim, index._shape, x._dtype)
        fill_scalar(s, value)
    out = contiguous_copy(alias_detached(x))
    fill_geo(&geo, out, dim, index, s)
    with nogil:
        at = gather_walk(&geo, <const int64_t*>index._data, out._data, s._data, index._numel,
                         ITEMSIZE[out._dtype], -2, &bad)
    if at >= 0:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {geo.limit}")
    if src is not None and needs_grad2(x, src):
        n0 = ScatterBackward0.__new__(ScatterBackward0)
        wire2(n0, x, src)
        n0.index = index
        n0.dim = dim
        n0.src_sizes = shape_tuple(src)
        set_history(out, n0)
    elif src is None and needs_grad(x):
        n1 = ScatterBackward1.__new__(ScatterBackward1)
        wire1(n1, x)
        n1.index = index
        n1.dim = dim
        set_history(out, n1)
    return out


cdef Tensor scatter_call(Tensor x, object dim, object index, object src, object value, str fname):
    cdef int d = wrap_dim(as_index(dim, "dim"), x._ndim)
    cdef Tensor idx = need_tensor(index, fname, "index", 2)
    if value is not None:
        return op_scatter(x, d, idx, None, normalize_scalar(value))
    if isinstance(src, Tensor):
        return op_scatter(x, d, idx, <Tensor>src, None)
    return op_scatter(x, d, idx, None, normalize_scalar(src))


def scatter(input, dim, index, src=None, *, value=None):
    return scatter_call(input_arg(input, "scatter"), dim, index, src, value, "scatter")
