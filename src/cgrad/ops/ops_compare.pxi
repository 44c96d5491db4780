# Comparisons (lt, le, gt, ge, eq, ne), clamp, maximum, minimum, where.
#
# Also equal, fmax/fmin, the logical ops (bool results of any dtype) and the
# bitwise ops (integer types and bool). Comparisons and logical/bitwise ops make no
# history; clamp, maximum/minimum, fmax/fmin and where have nodes named as
# PyTorch's, whose backward is a fused masked-gradient kernel normally and a
# formula over differentiable ops under create_graph.
#
# Shapes broadcast in PyTorch's operand order (self, other[, third]) and a
# mismatch is reported as PyTorch's TensorIterator reports it: "tensor a" is
# the shape of the operands so far, "tensor b" the next one, and the
# rightmost mismatching dimension is named.

from libc.string cimport memchr


# ---------------------------------------------------------------------------
# PyTorch's argument-parser errors


cdef str py_typename(object o):
    """The type name PyTorch's argument parser prints (tp_name: a Python
    class's bare name, a C type's module-qualified one)."""
    if isinstance(o, Tensor):
        return "Tensor"
    return cre_tp_name(o)


cdef bint type_matches(str kind, object o):
    # As PyTorch prints it, only a tensor given for a Tensor parameter (one
    # without a default) is unmarked: numbers are marked even where a Number
    # is expected.
    return kind == "Tensor" and isinstance(o, Tensor)


cdef object invalid_arguments(str fname, tuple args, list options):
    """PyTorch's TypeError when no overload takes the (positional) arguments.
    options: (signature text, parameter kinds or None) pairs; an overload
    with as many parameters as arguments gets the "didn't match" line, each
    argument marked !type! when its parameter does not take it."""
    cdef list lines = []
    got = "(" + ", ".join([py_typename(a) for a in args]) + ")"
    for text, kinds in options:
        lines.append(f" * {text}\n")
        if kinds is not None and len(kinds) == len(args):
            marked = [py_typename(a) if type_matches(k, a) else f"!{py_typename(a)}!"
                      for k, a in zip(kinds, args)]
            lines.append("      didn't match because some of the arguments have invalid types: "
                         f"({', '.join(marked)})\n")
    return TypeError(f"{fname}() received an invalid combination of arguments - got {got}, "
                     "but expected one of:\n" + "".join(lines))


cdef Tensor need_tensor(object x, str fname, str argname, int position):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument '{argname}' (position {position}) must be Tensor, "
                    f"not {py_typename(x)}")


# ---------------------------------------------------------------------------
# Promotion and broadcasting in PyTorch's operand order


cdef inline int combine_categories(int higher, int lower) noexcept:
    # at::native::result_type's combine_categories; -1 is "undefined"
    if higher < 0:
        return lower
    if lower < 0:
        return higher
    if is_float(higher):
        return higher
    if higher == BOOL or is_float(lower):
        return promote_types(higher, lower)
    return higher


cdef inline int promote_defined(int a, int b) noexcept:
    return b if a < 0 else promote_types(a, b)


cdef int result_type3(object x, object y, object z) except -1:
    """PyTorch's result type of up to three operands (None = absent): each a
    Tensor (dimensioned or zero-dim) or a Python number (a wrapped number:
    float counts as the default dtype, int as int64)."""
    cdef int dim = -1, zero = -1, wrapped = -1
    cdef Tensor t
    for o in (x, y, z):
        if o is None:
            continue
        if isinstance(o, Tensor):
            t = <Tensor>o
            if t._ndim > 0:
                dim = promote_defined(dim, t._dtype)
            else:
                zero = promote_defined(zero, t._dtype)
        elif isinstance(o, bool):
            wrapped = promote_defined(wrapped, BOOL)
        elif isinstance(o, int):
            wrapped = promote_defined(wrapped, I64)
        else:
            wrapped = promote_defined(wrapped, DEFAULT_FLOAT)
    return combine_categories(dim, combine_categories(zero, wrapped))


cdef int broadcast_into(int nd, Py_ssize_t* shape, Tensor t) except -1:
    """shape[:nd] := broadcast(shape[:nd], t.shape), with PyTorch's error
    (infer_size: tensor a is the shape so far, b is t; rightmost mismatch)."""
    cdef Py_ssize_t tmp[MAX_DIMS]
    cdef int tnd = t._ndim
    cdef int out_nd = nd if nd > tnd else tnd
    cdef int i, ia, ib
    cdef Py_ssize_t sa, sb
    for i in range(out_nd - 1, -1, -1):
        ia = nd - out_nd + i
        ib = tnd - out_nd + i
        sa = shape[ia] if ia >= 0 else 1
        sb = t._shape[ib] if ib >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                               f"at non-singleton dimension {i}")
        tmp[i] = sb if sa == 1 else sa
    for i in range(out_nd):
        shape[i] = tmp[i]
    return out_nd


cdef inline int check_broadcast2(Tensor a, Tensor b) except -1:
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    if same_shape(a, b):
        return 0
    nd = broadcast_into(0, shape, a)
    broadcast_into(nd, shape, b)
    return 0


cdef object INT64_MIN_PY = -(1 << 63)
cdef object UINT64_END_PY = 1 << 64
cdef object INT64_END_PY = 1 << 63


cdef int check_py_int(object s) except -1:
    """A Python int becomes a PyTorch Scalar only within int64/uint64."""
    if isinstance(s, int) and not isinstance(s, bool):
        if s >= UINT64_END_PY:
            raise OverflowError("int too big to convert")
        if s < INT64_MIN_PY:
            raise OverflowError("can't convert negative int to unsigned")
    return 0


cdef inline bint is_uint64_int(object s):
    """An int PyTorch takes as a uint64 Scalar (beyond int64)."""
    return isinstance(s, int) and s >= INT64_END_PY


cdef object uint64_promotion_error(str first, str second):
    return RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, attempted to "
                        f"promote {first} and {second}")


cdef object wrapped_int(object s, int tensor_dt, int dt):
    """A number against a tensor of dtype tensor_dt, computed in dt, as
    PyTorch's wrapped-number tensor: a uint64 value does not promote with
    bool, and wraps around when cast to int64."""
    check_py_int(s)
    if is_uint64_int(s):
        if tensor_dt == BOOL:
            raise uint64_promotion_error("Bool", "UInt64")
        if is_int(dt):
            return s - UINT64_END_PY
    return s


cdef object checked_int64(object s, int dt):
    """A number as where() converts it to dtype dt: Scalar.to<dtype>()'s
    check for integer and float32 results (PyTorch does not check float16
    ones there)."""
    check_py_int(s)
    if is_int(dt) or dt == F32:
        check_scalar_convert(s, dt)
    return s


cdef inline Tensor as_dtype(Tensor t, int dt):
    return t if t._dtype == dt else cast_tensor(t, dt)


# ---------------------------------------------------------------------------
# Comparisons: lt, le, gt, ge, eq, ne (bool results, no history)

# (CMP_LT ... CMP_NE are declared in _C.pxd)
cdef tuple CMP_NAMES = ("lt", "le", "gt", "ge", "eq", "ne")


cdef inline RowFn* cmp_rows(int op) noexcept:
    if op == CMP_LT:
        return LT2_ROWS
    if op == CMP_LE:
        return LE2_ROWS
    if op == CMP_GT:
        return GT2_ROWS
    if op == CMP_GE:
        return GE2_ROWS
    if op == CMP_EQ:
        return EQ2_ROWS
    return NE2_ROWS


cdef Tensor op_compare(int op, Tensor a, object b):
    """a <op> b for a tensor or a (normalized) Python number b, computed in
    the promoted dtype, as a bool tensor."""
    cdef Tensor bt
    cdef int dt
    if isinstance(b, Tensor):
        bt = <Tensor>b
        check_broadcast2(a, bt)
        dt = tensor_result_type(a, bt)
        return binary_kernel(cmp_rows(op), a, bt, dt, BOOL, CMP_NAMES[op])
    dt = scalar_result_type(a._dtype, b)
    return scalar_kernel(cmp_rows(op), a, wrapped_int(b, a._dtype, dt), False, dt, BOOL, CMP_NAMES[op])


cdef list CMP_METHOD_OPTIONS = [("(Tensor other)", ["Tensor"]), ("(Number other)", ["Number"])]
cdef list CMP_FUNCTION_OPTIONS = [("(Tensor input, Tensor other, *, Tensor out = None)", None),
                                  ("(Tensor input, Number other, *, Tensor out = None)", None)]


cdef inline object compare_operator(int op, Tensor a, object other):
    """The operators <, <=, >, >=, ==, !=: NotImplemented for other types
    (so == and != fall back to identity, as with PyTorch)."""
    if isinstance(other, Tensor):
        return op_compare(op, a, other)
    if is_scalar(other):
        return op_compare(op, a, normalize_scalar(other))
    if op == CMP_EQ and isinstance(other, np.ndarray):
        return op_compare(op, a, as_tensor(other))   # PyTorch's == takes an array (its != does not)
    return NotImplemented


cdef Tensor compare_method(int op, Tensor a, object other, str fname):
    if isinstance(other, Tensor):
        return op_compare(op, a, other)
    if is_scalar(other):
        return op_compare(op, a, normalize_scalar(other))
    raise invalid_arguments(fname, (other,), CMP_METHOD_OPTIONS)


cdef Tensor compare_function(int op, object input, object other, object out, str fname):
    if not isinstance(input, Tensor) or not (isinstance(other, Tensor) or is_scalar(other)):
        raise invalid_arguments(fname, (input, other), CMP_FUNCTION_OPTIONS)
    return with_out(op_compare(op, <Tensor>input, normalize_scalar(other)), out, fname)


def lt(input, other, *, out=None):
    """input < other elementwise (other: a tensor or a number), as bool."""
    return compare_function(CMP_LT, input, other, out, "lt")


def le(input, other, *, out=None):
    """input <= other elementwise, as bool."""
    return compare_function(CMP_LE, input, other, out, "le")


def gt(input, other, *, out=None):
    """input > other elementwise, as bool."""
    return compare_function(CMP_GT, input, other, out, "gt")


def ge(input, other, *, out=None):
    """input >= other elementwise, as bool."""
    return compare_function(CMP_GE, input, other, out, "ge")


def eq(input, other, *, out=None):
    """input == other elementwise, as bool."""
    return compare_function(CMP_EQ, input, other, out, "eq")


def ne(input, other, *, out=None):
    """input != other elementwise, as bool."""
    return compare_function(CMP_NE, input, other, out, "ne")


def less(input, other, *, out=None):
    return compare_function(CMP_LT, input, other, out, "less")


def less_equal(input, other, *, out=None):
    return compare_function(CMP_LE, input, other, out, "less_equal")


def greater(input, other, *, out=None):
    return compare_function(CMP_GT, input, other, out, "greater")


def greater_equal(input, other, *, out=None):
    return compare_function(CMP_GE, input, other, out, "greater_equal")


def not_equal(input, other, *, out=None):
    return compare_function(CMP_NE, input, other, out, "not_equal")


cdef bint op_equal(Tensor a, Tensor b) except -1:
    """Same shape and the same values (after promotion; NaN != NaN)."""
    cdef Tensor m
    if not same_shape(a, b):
        return False
    m = op_compare(CMP_EQ, a, b)
    return memchr(m._data, 0, m._numel) == NULL


def equal(input, other):
    """True if input and other have the same shape and elements."""
    cdef Tensor a = need_tensor(input, "equal", "input", 1)
    return op_equal(a, need_tensor(other, "equal", "other", 2))


# ---------------------------------------------------------------------------
# Masked gradients: the backward of clamp, maximum/minimum and fmax/fmin.
# Each passes g (or g / 2, or 0) according to how a compares with b.

cdef enum:
    G_KEEP_GE = 0      # g where a >= b
    G_KEEP_LE = 1      # g where a <= b
    G_KEEP_LT = 2      # g where a < b
    G_KEEP_GT = 3      # g where a > b
    G_MAX_A = 4        # maximum's self (minimum's other): 0 where a < b, g / 2 at ties
    G_MAX_B = 5        # maximum's other (minimum's self): 0 where a > b, g / 2 at ties
    G_FMAX_A = 6       # g where a >= b or b is NaN
    G_FMAX_B = 7       # g where not (a >= b or b is NaN)
    G_FMIN_A = 8       # g where a <= b or b is NaN
    G_FMIN_B = 9       # g where not (a <= b or b is NaN)


cdef RowFn* grad_mask_rows(int kind) noexcept:
    if kind == G_KEEP_GE:
        return KEEP_GE_GRAD_ROWS
    if kind == G_KEEP_LE:
        return KEEP_LE_GRAD_ROWS
    if kind == G_KEEP_LT:
        return KEEP_LT_GRAD_ROWS
    if kind == G_KEEP_GT:
        return KEEP_GT_GRAD_ROWS
    if kind == G_MAX_A:
        return MAX_A_GRAD_ROWS
    if kind == G_MAX_B:
        return MAX_B_GRAD_ROWS
    if kind == G_FMAX_A:
        return FMAX_A_GRAD_ROWS
    if kind == G_FMAX_B:
        return FMAX_B_GRAD_ROWS
    if kind == G_FMIN_A:
        return FMIN_A_GRAD_ROWS
    return FMIN_B_GRAD_ROWS


cdef inline Tensor zero_of(Tensor g):
    return new_tensor(0, NULL, g._dtype, True)


cdef Tensor masked_grad(int kind, Tensor g, Tensor a, Tensor b):
    """The gradient `kind` of g's shape (the broadcast output's), from the
    saved operands a and b (compared in g's dtype, the promoted one)."""
    cdef Tensor out, mask, zero
    cdef Operand ops[4]
    cdef int dt = g._dtype
    if not cgrad_grad_enabled:
        a = as_dtype(a, dt)
        b = as_dtype(b, dt)
        out = new_result(g._ndim, g._shape, dt, g, a, b)
        ops[0] = operand_of(out)
        ops[1] = operand_of(g)
        ops[2] = operand_of(a)
        ops[3] = operand_of(b)
        run_elementwise(grad_mask_rows(kind)[dt], 4, ops, out._ndim, out._shape, out._numel, NULL)
        return out
    # create_graph: the same rule as differentiable ops (derivatives.yaml)
    zero = zero_of(g)
    if kind == G_KEEP_GE:
        return op_where(op_compare(CMP_GE, a, b), g, zero)
    if kind == G_KEEP_LE:
        return op_where(op_compare(CMP_LE, a, b), g, zero)
    if kind == G_KEEP_LT:
        return op_where(op_compare(CMP_LT, a, b), g, zero)
    if kind == G_KEEP_GT:
        return op_where(op_compare(CMP_GT, a, b), g, zero)
    if kind == G_MAX_A or kind == G_MAX_B:
        out = op_where(op_compare(CMP_EQ, a, b), op_div_scalar(g, 2), g)
        return op_where(op_compare(CMP_LT if kind == G_MAX_A else CMP_GT, a, b), zero, out)
    mask = op_bitwise(BW_OR, op_compare(CMP_GE if kind <= G_FMAX_B else CMP_LE, a, b),
                      op_compare(CMP_NE, b, b))
    if kind == G_FMAX_A or kind == G_FMIN_A:
        return op_where(mask, g, zero)
    return op_where(mask, zero, g)


# ---------------------------------------------------------------------------
# maximum, minimum, fmax, fmin

cdef enum:
    MM_MAXIMUM = 0
    MM_MINIMUM = 1
    MM_FMAX = 2
    MM_FMIN = 3

cdef tuple MM_NAMES = ("maximum", "minimum", "fmax", "fmin")


cdef class MaxMinNode(BinaryNode):
    """Base of MaximumBackward0, MinimumBackward0, FmaxBackward0,
    FminBackward0: saves both inputs; `kind` selects the masks."""
    cdef Tensor self_, other
    cdef long long self_version, other_version
    cdef int kind

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor a = unpack_input(self, self.self_, self.self_version)
        cdef Tensor b = unpack_input(self, self.other, self.other_version)
        cdef object ga = None, gb = None
        cdef int ka, kb
        if self.kind == MM_MAXIMUM:
            ka, kb = G_MAX_A, G_MAX_B
        elif self.kind == MM_MINIMUM:
            ka, kb = G_MAX_B, G_MAX_A
        elif self.kind == MM_FMAX:
            ka, kb = G_FMAX_A, G_FMAX_B
        else:
            ka, kb = G_FMIN_A, G_FMIN_B
        if wants_grad(self, 0):
            ga = self.grad_a(masked_grad(ka, g, a, b))
        if wants_grad(self, 1):
            gb = self.grad_b(masked_grad(kb, g, a, b))
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.other = None


cdef class MaximumBackward0(MaxMinNode):
    pass


cdef class MinimumBackward0(MaxMinNode):
    pass


cdef class FmaxBackward0(MaxMinNode):
    pass


cdef class FminBackward0(MaxMinNode):
    pass


cdef Tensor op_maxmin(int kind, Tensor a, Tensor b):
    """maximum/minimum (NaN wins) or fmax/fmin (a number beats NaN) of two
    broadcast tensors in their promoted dtype."""
    cdef RowFn* rows
    cdef Tensor out
    cdef MaxMinNode node
    cdef int dt
    check_broadcast2(a, b)
    dt = tensor_result_type(a, b)
    if kind == MM_MAXIMUM:
        rows = MAX2_ROWS
    elif kind == MM_MINIMUM:
        rows = MIN2_ROWS
    elif kind == MM_FMAX:
        rows = FMAX_ROWS
    else:
        rows = FMIN_ROWS
    out = binary_kernel(rows, a, b, dt, dt, MM_NAMES[kind])
    if needs_grad2(a, b):
        if kind == MM_MAXIMUM:
            node = MaximumBackward0.__new__(MaximumBackward0)
        elif kind == MM_MINIMUM:
            node = MinimumBackward0.__new__(MinimumBackward0)
        elif kind == MM_FMAX:
            node = FmaxBackward0.__new__(FmaxBackward0)
        else:
            node = FminBackward0.__new__(FminBackward0)
        wire2(node, a, b)
        node.note_inputs(a, b, out)
        node.kind = kind
        node.self_ = a
        node.self_version = save_version(node, a)
        node.other = b
        node.other_version = save_version(node, b)
        set_history(out, node)
    return out


cdef Tensor maxmin_function(int kind, object input, object other):
    cdef str name = MM_NAMES[kind]
    cdef Tensor a = need_tensor(input, name, "input", 1)
    return op_maxmin(kind, a, need_tensor(other, name, "other", 2))


def maximum(input, other, *, out=None):
    """Elementwise maximum of two tensors (NaN if either is NaN)."""
    return with_out(maxmin_function(MM_MAXIMUM, input, other), out, "maximum")


def minimum(input, other, *, out=None):
    """Elementwise minimum of two tensors (NaN if either is NaN)."""
    return with_out(maxmin_function(MM_MINIMUM, input, other), out, "minimum")


def fmax(input, other, *, out=None):
    """Elementwise maximum ignoring NaN (NaN only where both are NaN)."""
    return with_out(maxmin_function(MM_FMAX, input, other), out, "fmax")


def fmin(input, other, *, out=None):
    """Elementwise minimum ignoring NaN (NaN only where both are NaN)."""
    return with_out(maxmin_function(MM_FMIN, input, other), out, "fmin")
