# Ops that rearrange or accumulate elements along dims, each beside its node:
# tril/triu, flip, cumsum, outer, atan2, roll, repeat.


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
    if (cgrad_grad_enabled and x._requires_grad) or has_tangent(x):
        return commit_inplace(x, op_tri(old_value(x, False), k, lower))
    r = op_tri(alias_detached(x), k, lower)
    copy_into(x, r)
    x._storage.version += 1
    return x


def tril(input, diagonal=0, *, out=None):
    return with_out(op_tri(input_arg(input, "tril"), as_index(diagonal, "diagonal"), True), out, "tril")


def triu(input, diagonal=0, *, out=None):
    return with_out(op_tri(input_arg(input, "triu"), as_index(diagonal, "diagonal"), False), out, "triu")


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
# input first); float32 accumulates in float64 and float16 in float32, as
# PyTorch's CPU kernel (kernels: kernels/cumsum_threads.pxi). The gradient is the reversed
# cumulative sum, flip(cumsum(flip(g))). (cum_t: kernels/kernel_types.pxi)


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
    cdef int d
    cdef CumsumBackward0 node
    if not is_float(x._dtype):
        src = cast_tensor(x, I64)
    elif is_half16(x._dtype):
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
    # float32 sums in float64 (PyTorch's acc_type); float16's float32 copy in float32
    cumsum_run(src._dtype, x._dtype == F32, out._data, src._data, outer, n, inner)
    if is_half16(x._dtype):
        out = cast_tensor(out, x._dtype)
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
        if needs_grad(x) and not is_float(dt):
            raise RuntimeError(f"Autograd not support dtype: {dtype_title(dt)}")
        if dt != x._dtype:
            x = op_to_dtype(x, dt)
        if not is_float(dt):
            return cast_tensor(op_cumsum(x, d), dt)     # dtype= is the result's dtype
    return op_cumsum(x, d)


def cumsum(input, dim=NO_ARG, *, dtype=None, out=None, **kwargs):
    dim = required_dim_arg(dim, kwargs, "cumsum")
    if isinstance(out, Tensor) and dtype is None and (<Tensor>out)._dtype != BOOL:
        dtype = out.dtype       # PyTorch's cumsum_out sums in out's dtype (each element converted first)
    return with_out(cumsum_call(input_arg(input, "cumsum"), dim, dtype, "cumsum"), out, "cumsum")


# ---------------------------------------------------------------------------
# outer: PyTorch's composite, self.reshape(n, 1) * vec2 (MulBackward0)

cdef Tensor op_outer(Tensor a, Tensor b):
    if a._ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {a._ndim}-D")
    if b._ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {b._ndim}-D")
    return op_mul(op_reshape(a, (a._shape[0], 1)), b)


def outer(input, vec2, *, out=None):
    return with_out(op_outer(input_arg(input, "outer"), need_tensor(vec2, "outer", "vec2", 2)), out, "outer")


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


cdef void atan2_BF16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    bf16_blocks(atan2_F32, 3, p, s, n, ctx, 7, 1)


cdef RowFn ATAN2_ROWS[NUM_DTYPES]
ATAN2_ROWS[F32] = atan2_F32
ATAN2_ROWS[F64] = atan2_F64
ATAN2_ROWS[F16] = atan2_F16
ATAN2_ROWS[BF16] = atan2_BF16


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
        node.self_version = save_version(node, a)
        node.other = b
        node.other_version = save_version(node, b)
        set_history(out, node)
    return out


def atan2(input, other, *, out=None):
    return with_out(op_atan2(input_arg(input, "atan2"), need_tensor(other, "atan2", "other", 2)), out, "atan2")




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
