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


cdef int no_out(object out, str fname) except -1:
    if out is not None:
        raise NotImplementedError(f"{fname}(): the out= argument is not supported by cgrad")
    return 0


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

cdef enum:
    CMP_LT = 0
    CMP_LE = 1
    CMP_GT = 2
    CMP_GE = 3
    CMP_EQ = 4
    CMP_NE = 5

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
    no_out(out, fname)
    return op_compare(op, <Tensor>input, normalize_scalar(other))


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
        out = new_tensor(g._ndim, g._shape, dt)
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
        node.self_version = a._storage.version
        node.other = b
        node.other_version = b._storage.version
        set_history(out, node)
    return out


cdef Tensor maxmin_function(int kind, object input, object other):
    cdef str name = MM_NAMES[kind]
    cdef Tensor a = need_tensor(input, name, "input", 1)
    return op_maxmin(kind, a, need_tensor(other, name, "other", 2))


def maximum(input, other, *, out=None):
    """Elementwise maximum of two tensors (NaN if either is NaN)."""
    no_out(out, "maximum")
    return maxmin_function(MM_MAXIMUM, input, other)


def minimum(input, other, *, out=None):
    """Elementwise minimum of two tensors (NaN if either is NaN)."""
    no_out(out, "minimum")
    return maxmin_function(MM_MINIMUM, input, other)


def fmax(input, other, *, out=None):
    """Elementwise maximum ignoring NaN (NaN only where both are NaN)."""
    no_out(out, "fmax")
    return maxmin_function(MM_FMAX, input, other)


def fmin(input, other, *, out=None):
    """Elementwise minimum ignoring NaN (NaN only where both are NaN)."""
    no_out(out, "fmin")
    return maxmin_function(MM_FMIN, input, other)


# ---------------------------------------------------------------------------
# clamp / clip / clamp_min / clamp_max
#
# Number bounds (Python numbers, or zero-dim tensors that need no grad, as
# PyTorch's parser allows): ClampBackward1 / ClampMinBackward0 /
# ClampMaxBackward0. Tensor bounds (broadcast against the input, promoted
# with it): ClampBackward0 / ClampMinBackward1 / ClampMaxBackward1.

cdef enum:
    CL_CLAMP = 0
    CL_MIN = 1
    CL_MAX = 2


cdef class ClampBackward1(Node):
    cdef Tensor self_
    cdef long long self_version
    cdef object min_, max_           # Python numbers or None

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        return (clamp_scalar_grad(g, x, self.min_, self.max_),)

    cdef void release_saved(self) noexcept:
        self.self_ = None


cdef class ClampMinBackward0(ClampBackward1):
    pass


cdef class ClampMaxBackward0(ClampBackward1):
    pass


cdef Tensor clamp_scalar_grad(Tensor g, Tensor x, object lo, object hi):
    """g where lo <= x <= hi (x compared in its dtype), else 0."""
    cdef ClampBounds bounds
    cdef Tensor out, mask
    cdef Operand ops[3]
    if not cgrad_grad_enabled:
        x = as_dtype(x, g._dtype)
        bounds.flo = -cmath.INFINITY if lo is None else <double>lo
        bounds.fhi = cmath.INFINITY if hi is None else <double>hi
        out = new_tensor(g._ndim, g._shape, g._dtype)
        ops[0] = operand_of(out)
        ops[1] = operand_of(g)
        ops[2] = operand_of(x)
        run_elementwise(CLAMP_SCALAR_BWD_ROWS[g._dtype], 3, ops, out._ndim, out._shape, out._numel,
                        &bounds)
        return out
    if lo is not None and hi is not None:
        mask = op_bitwise(BW_AND, op_compare(CMP_GE, x, lo), op_compare(CMP_LE, x, hi))
    elif lo is not None:
        mask = op_compare(CMP_GE, x, lo)
    else:
        mask = op_compare(CMP_LE, x, hi)
    return op_where(mask, g, zero_of(g))


cdef str clamp_kernel_name(object lo, object hi):
    if lo is not None and hi is not None:
        return "clamp_scalar_cpu"
    return "clamp_min_scalar_cpu" if lo is not None else "clamp_max_scalar_cpu"


cdef int clamp_scalar_dtype(Tensor x, object lo, object hi) except -1:
    """PyTorch's clamp(Scalar) promotion: floating inputs keep their dtype,
    others promote with the bounds as wrapped numbers."""
    cdef int dt = x._dtype
    if is_float(dt):
        return dt
    if lo is not None:
        dt = scalar_result_type(dt, lo)
    if hi is not None:
        dt = scalar_result_type(dt, hi)
    return dt


cdef Tensor op_clamp_scalar(Tensor x, object lo, object hi, int which):
    """clamp with Python-number bounds (None = absent; not both)."""
    cdef ClampBounds bounds
    cdef int dt
    cdef Tensor src, out
    cdef Operand ops[2]
    cdef ClampBackward1 node
    if lo is not None:
        check_py_int(lo)
    if hi is not None:
        check_py_int(hi)
    if x._dtype == BOOL and (is_uint64_int(lo) or is_uint64_int(hi)):
        raise uint64_promotion_error("Bool", "UInt64")
    dt = clamp_scalar_dtype(x, lo, hi)
    if dt == BOOL:
        raise NotImplementedError(f"\"{clamp_kernel_name(lo, hi)}\" not implemented for 'Bool'")
    if lo is not None:
        check_scalar_convert(lo, dt)
    if hi is not None:
        check_scalar_convert(hi, dt)
    if is_int(dt):
        bounds.ilo = INT64_MIN_PY if lo is None else wrap_int(lo, dt)
        bounds.ihi = (INT64_END_PY - 1) if hi is None else wrap_int(hi, dt)
    else:
        bounds.flo = -cmath.INFINITY if lo is None else <double>lo
        bounds.fhi = cmath.INFINITY if hi is None else <double>hi
    src = as_dtype(x, dt)
    out = new_tensor(src._ndim, src._shape, dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(src)
    run_elementwise(CLAMP_SCALAR_ROWS[dt], 2, ops, out._ndim, out._shape, out._numel, &bounds)
    if needs_grad(x):
        if which == CL_CLAMP:
            node = ClampBackward1.__new__(ClampBackward1)
        elif which == CL_MIN:
            node = ClampMinBackward0.__new__(ClampMinBackward0)
        else:
            node = ClampMaxBackward0.__new__(ClampMaxBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = x._storage.version
        node.min_ = lo
        node.max_ = hi
        set_history(out, node)
    return out


cdef class ClampTensorNode(Node):
    """Base of ClampBackward0 (edges: self, min, max; an absent bound has
    none) and ClampMinBackward1 / ClampMaxBackward1 (edges: self, bound)."""
    cdef Tensor self_, min_, max_
    cdef long long self_version, min_version, max_version
    cdef InputMeta meta[3]
    cdef tuple shapes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor lo = None, hi = None, zero
        cdef object gx = None, gmin = None, gmax = None
        cdef int nin = len(self.next_edges)
        cdef int imin, imax
        if self.min_ is not None:
            lo = unpack_input(self, self.min_, self.min_version)
        if self.max_ is not None:
            hi = unpack_input(self, self.max_, self.max_version)
        imin = 1
        imax = 2 if nin == 3 else 1
        if lo is not None and hi is not None:
            # both bounds: PyTorch's clamp_backward / clamp_backward_min_max
            zero = zero_of(g)
            if wants_grad(self, 0):
                gx = op_where(op_bitwise(BW_AND, op_compare(CMP_GE, x, lo), op_compare(CMP_LE, x, hi)),
                              g, zero)
            if wants_grad(self, imin):
                gmin = op_where(op_bitwise(BW_AND, op_compare(CMP_LT, x, lo), op_compare(CMP_LT, lo, hi)),
                                g, zero)
            if wants_grad(self, imax):
                gmax = op_where(op_bitwise(BW_OR, op_compare(CMP_GT, x, hi), op_compare(CMP_LT, hi, lo)),
                                g, zero)
        elif lo is not None:
            if wants_grad(self, 0):
                gx = masked_grad(G_KEEP_GE, g, x, lo)
            if wants_grad(self, imin):
                gmin = masked_grad(G_KEEP_LT, g, x, lo)
        else:
            if wants_grad(self, 0):
                gx = masked_grad(G_KEEP_LE, g, x, hi)
            if wants_grad(self, imax):
                gmax = masked_grad(G_KEEP_GT, g, x, hi)
        if gx is not None:
            gx = reduce_grad(<Tensor>gx, &self.meta[0], self.shapes[0])
        if gmin is not None:
            gmin = reduce_grad(<Tensor>gmin, &self.meta[1], self.shapes[1])
        if gmax is not None:
            gmax = reduce_grad(<Tensor>gmax, &self.meta[2], self.shapes[2])
        if nin == 3:
            return (gx, gmin, gmax)
        return (gx, gmin if lo is not None else gmax)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.min_ = None
        self.max_ = None


cdef class ClampBackward0(ClampTensorNode):
    pass


cdef class ClampMinBackward1(ClampTensorNode):
    pass


cdef class ClampMaxBackward1(ClampTensorNode):
    pass


cdef Tensor op_clamp_tensor(Tensor x, Tensor lo, Tensor hi, int which):
    """clamp with tensor bounds (None = absent; not both), all broadcast
    together in the promoted dtype. One bound: maximum/minimum (a NaN bound
    gives NaN), as PyTorch computes it."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd, dt, i
    cdef Tensor out, xs, ls, hs
    cdef Operand ops[4]
    cdef ClampTensorNode node
    cdef list saved
    nd = broadcast_into(0, shape, x)
    if lo is not None:
        nd = broadcast_into(nd, shape, lo)
    if hi is not None:
        nd = broadcast_into(nd, shape, hi)
    dt = result_type3(x, lo, hi)
    if lo is not None and hi is not None:
        if dt == BOOL:
            raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
        xs = as_dtype(x, dt)
        ls = as_dtype(lo, dt)
        hs = as_dtype(hi, dt)
        out = new_tensor(nd, shape, dt)
        ops[0] = operand_of(out)
        ops[1] = operand_of(xs)
        ops[2] = operand_of(ls)
        ops[3] = operand_of(hs)
        run_elementwise(CLAMP_TENSOR_ROWS[dt], 4, ops, nd, shape, out._numel, NULL)
    elif lo is not None:
        out = binary_kernel(MAX2_ROWS, x, lo, dt, dt, "clamp")
    else:
        out = binary_kernel(MIN2_ROWS, x, hi, dt, dt, "clamp")
    if cgrad_grad_enabled and (x._requires_grad or (lo is not None and lo._requires_grad)
                               or (hi is not None and hi._requires_grad)):
        if which == CL_CLAMP:
            node = ClampBackward0.__new__(ClampBackward0)
            wire_many(node, [x, lo, hi], 1)
        elif which == CL_MIN:
            node = ClampMinBackward1.__new__(ClampMinBackward1)
            wire2(node, x, lo)
        else:
            node = ClampMaxBackward1.__new__(ClampMaxBackward1)
            wire2(node, x, hi)
        saved = [None, None, None]
        for i, t in enumerate((x, lo, hi)):
            if t is not None:
                note_input(&node.meta[i], <Tensor>t, out)
                if node.meta[i].broadcast:
                    saved[i] = shape_tuple(<Tensor>t)
        node.shapes = tuple(saved)
        node.self_ = x
        node.self_version = x._storage.version
        if lo is not None:
            node.min_ = lo
            node.min_version = lo._storage.version
        if hi is not None:
            node.max_ = hi
            node.max_version = hi._storage.version
        set_history(out, node)
    return out


cdef bint number_like(object v):
    """A bound PyTorch's Number overload takes: a Python number, or a
    zero-dim tensor that needs no grad."""
    if v is None or is_scalar(v):
        return True
    return isinstance(v, Tensor) and (<Tensor>v)._ndim == 0 and not (<Tensor>v)._requires_grad


cdef object as_number(object v):
    if isinstance(v, Tensor):
        return (<Tensor>v).item()
    return normalize_scalar(v)


cdef list clamp_options(int which, bint method):
    cdef str p
    if which == CL_CLAMP:
        if method:
            return [("(Tensor min = None, Tensor max = None)", ["Tensor?", "Tensor?"]),
                    ("(Number min = None, Number max = None)", ["Number?", "Number?"])]
        return [("(Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)", None),
                ("(Tensor input, Number min = None, Number max = None, *, Tensor out = None)", None)]
    p = "min" if which == CL_MIN else "max"
    if method:
        return [(f"(Tensor {p})", ["Tensor"]), (f"(Number {p})", ["Number"])]
    return [(f"(Tensor input, Tensor {p}, *, Tensor out = None)", None),
            (f"(Tensor input, Number {p}, *, Tensor out = None)", None)]


cdef Tensor clamp_dispatch(Tensor x, object lo, object hi, int which, str fname, bint method):
    """Pick PyTorch's overload: (Tensor? min, Tensor? max) first, then
    (Number? min, Number? max); clamp_min/clamp_max take one bound."""
    cdef tuple given
    if which == CL_CLAMP:
        if (lo is None or isinstance(lo, Tensor)) and (hi is None or isinstance(hi, Tensor)):
            if lo is None and hi is None:
                raise RuntimeError("cgrad.clamp: At least one of 'min' or 'max' must not be None")
            return op_clamp_tensor(x, lo, hi, CL_CLAMP)
        if number_like(lo) and number_like(hi):
            return op_clamp_scalar(x, None if lo is None else as_number(lo),
                                   None if hi is None else as_number(hi), CL_CLAMP)
        given = tuple([v for v in (lo, hi) if v is not None])
    else:
        bound = lo if which == CL_MIN else hi
        if isinstance(bound, Tensor):
            return op_clamp_tensor(x, lo, hi, which)
        if bound is not None and is_scalar(bound):
            bound = normalize_scalar(bound)
            return op_clamp_scalar(x, bound if which == CL_MIN else None,
                                   bound if which == CL_MAX else None, which)
        given = (bound,)
    if not method:
        given = (x,) + given
    raise invalid_arguments(fname, given, clamp_options(which, method))


cdef Tensor clamp_input(object input, str fname, object lo, object hi, int which):
    if not isinstance(input, Tensor):
        raise invalid_arguments(fname, tuple([v for v in (input, lo, hi) if v is not None]),
                                clamp_options(which, False))
    return <Tensor>input


def clamp(input, min=None, max=None, *, out=None):
    """input limited to [min, max] (numbers or tensors; either may be None)."""
    cdef Tensor x = clamp_input(input, "clamp", min, max, CL_CLAMP)
    no_out(out, "clamp")
    return clamp_dispatch(x, min, max, CL_CLAMP, "clamp", False)


def clip(input, min=None, max=None, *, out=None):
    """Alias of clamp."""
    cdef Tensor x = clamp_input(input, "clip", min, max, CL_CLAMP)
    no_out(out, "clip")
    return clamp_dispatch(x, min, max, CL_CLAMP, "clip", False)


def clamp_min(input, min, *, out=None):
    cdef Tensor x = clamp_input(input, "clamp_min", min, None, CL_MIN)
    no_out(out, "clamp_min")
    return clamp_dispatch(x, min, None, CL_MIN, "clamp_min", False)


def clamp_max(input, max, *, out=None):
    cdef Tensor x = clamp_input(input, "clamp_max", None, max, CL_MAX)
    no_out(out, "clamp_max")
    return clamp_dispatch(x, None, max, CL_MAX, "clamp_max", False)


def clamp_(input, min=None, max=None):
    cdef Tensor x = clamp_input(input, "clamp_", min, max, CL_CLAMP)
    return clamp_inplace(x, min, max, CL_CLAMP, "clamp_")


def clip_(input, min=None, max=None):
    cdef Tensor x = clamp_input(input, "clip_", min, max, CL_CLAMP)
    return clamp_inplace(x, min, max, CL_CLAMP, "clip_")


# ---------------------------------------------------------------------------
# In place: the op runs out of place (on old_value(self), a private copy
# carrying self's history, when the result gets history) and its result is
# written back into self by commit_inplace (inplace.pxi), which rebases the
# history, views included.


cdef int check_inplace_result(Tensor self, Tensor result, bint scalar_clamp) except -1:
    if CATEGORY[result._dtype] > CATEGORY[self._dtype]:      # can_cast(result, self)
        raise RuntimeError(
            f"result type {dtype_title(result._dtype)} can't be cast to the desired output type "
            f"{C_TYPE_NAME[self._dtype] if scalar_clamp else dtype_title(self._dtype)}")
    if not same_shape(result, self):
        raise RuntimeError(
            f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the broadcast "
            f"shape {shape_str(result._shape, result._ndim)}")
    return 0


cdef Tensor clamp_inplace(Tensor self, object lo, object hi, int which, str fname):
    cdef Tensor src = self, result
    cdef bint history
    check_inplace(self)
    check_written_overlap(self)
    check_input_overlap(self, lo)
    check_input_overlap(self, hi)
    history = cgrad_grad_enabled and (
        self._requires_grad or (isinstance(lo, Tensor) and (<Tensor>lo)._requires_grad)
        or (isinstance(hi, Tensor) and (<Tensor>hi)._requires_grad))
    if history:
        src = old_value(self, True)     # clamp's node saves its input: a private copy
    result = clamp_dispatch(src, lo, hi, which, fname, True)
    check_inplace_result(self, result, not isinstance(lo, Tensor) and not isinstance(hi, Tensor))
    if history:
        return commit_inplace(self, result)
    copy_into(self, result)
    self._storage.version += 1
    return self


# ---------------------------------------------------------------------------
# where(condition, input, other)


cdef Tensor op_where_full(Tensor cond, object a, object b):
    """Elements of a where cond, else of b; a and b tensors or numbers, all
    broadcast together (order: cond, a, b) in the promoted dtype. The node is
    WhereBackward0 (ops_pointwise.pxi) wired to the tensors as they came, a
    number getting no edge."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd, dt
    cdef Tensor at, bt, ac, bc, out
    cdef Operand ops[4]
    cdef WhereBackward0 node
    cdef bint a_t = isinstance(a, Tensor), b_t = isinstance(b, Tensor)
    if cond._dtype != BOOL:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with "
                           f"dtype {dtype_title(cond._dtype)}")
    if not a_t:
        check_py_int(a)
    if not b_t:
        check_py_int(b)
    if is_uint64_int(a) or is_uint64_int(b):
        check_where_uint64(a, b)
    dt = result_type3(a, b, None)
    at = <Tensor>a if a_t else scalar_tensor(checked_int64(a, dt), dt)
    bt = <Tensor>b if b_t else scalar_tensor(checked_int64(b, dt), dt)
    nd = broadcast_into(0, shape, cond)
    nd = broadcast_into(nd, shape, at)
    nd = broadcast_into(nd, shape, bt)
    out = new_tensor(nd, shape, dt)
    ac = as_dtype(at, dt)        # kept alive while the kernel reads them
    bc = as_dtype(bt, dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(cond)
    ops[2] = operand_of(ac)
    ops[3] = operand_of(bc)
    run_elementwise(WHERE2_ROWS[dt], 4, ops, nd, shape, out._numel, NULL)
    if cgrad_grad_enabled and ((a_t and at._requires_grad) or (b_t and bt._requires_grad)):
        node = WhereBackward0.__new__(WhereBackward0)
        wire_many(node, [a if a_t else None, b if b_t else None], 1)
        node.condition = cond
        node.note_inputs(at, bt, out)
        set_history(out, node)
    return out


cdef str uint64_partner(object o):
    """The dtype name a uint64 number is promoted with in where(), or None
    when the promotion is fine (floats; int64 tensors, which check the
    value instead)."""
    if isinstance(o, Tensor):
        return "Bool" if (<Tensor>o)._dtype == BOOL else None
    if isinstance(o, bool):
        return "Bool"
    if isinstance(o, int):
        return "UInt64" if is_uint64_int(o) else "Long"
    return None


cdef int check_where_uint64(object a, object b) except -1:
    if is_uint64_int(a) and is_uint64_int(b):
        raise RuntimeError("where(): cgrad has no uint64 dtype for two numbers beyond int64")
    if is_uint64_int(a):
        p = uint64_partner(b)
        if p is not None:
            raise uint64_promotion_error("UInt64", p)
    else:
        p = uint64_partner(a)
        if p is not None:
            raise uint64_promotion_error(p, "UInt64")
    return 0


cdef list WHERE_OPTIONS = [
    ("(Tensor condition)", ["Tensor"]),
    ("(Tensor condition, Tensor input, Tensor other, *, Tensor out = None)", None),
    ("(Tensor condition, Number self, Tensor other)", ["Tensor", "Number", "Tensor"]),
    ("(Tensor condition, Tensor input, Number other)", ["Tensor", "Tensor", "Number"]),
    ("(Tensor condition, Number self, Number other)", ["Tensor", "Number", "Number"]),
]
cdef list WHERE_METHOD_OPTIONS = [("(Tensor condition, Tensor other)", ["Tensor", "Tensor"]),
                                  ("(Tensor condition, Number other)", ["Tensor", "Number"])]

cdef object _NOARG = object()


cdef inline bint tensor_or_number(object v):
    return isinstance(v, Tensor) or is_scalar(v)


def where(condition, input=_NOARG, other=_NOARG, *, out=None):
    """Elements of input where condition is True, else of other (tensors or
    numbers, broadcast together)."""
    if input is _NOARG and other is _NOARG and isinstance(condition, Tensor):
        raise NotImplementedError(
            "where(condition) with one argument (nonzero(condition, as_tuple=True)) is not "
            "supported by cgrad yet")
    if (input is _NOARG or other is _NOARG or not isinstance(condition, Tensor)
            or not tensor_or_number(input) or not tensor_or_number(other)):
        raise invalid_arguments("where", tuple([v for v in (condition, input, other)
                                                if v is not _NOARG]), WHERE_OPTIONS)
    no_out(out, "where")
    return op_where_full(<Tensor>condition, normalize_scalar(input), normalize_scalar(other))


# ---------------------------------------------------------------------------
# Logical ops (bool results, any dtype; computed in the promoted dtype) and
# bitwise ops (integer types and bool; & | ^ ~).

cdef enum:
    LG_AND = 0
    LG_OR = 1
    LG_XOR = 2
    BW_AND = 0
    BW_OR = 1
    BW_XOR = 2

cdef tuple LOGICAL_NAMES = ("logical_and", "logical_or", "logical_xor")
cdef tuple BITWISE_NAMES = ("bitwise_and", "bitwise_or", "bitwise_xor")


cdef RowFn* logical_rows(int op) noexcept:
    if op == LG_AND:
        return LOGICAL_AND_ROWS
    if op == LG_OR:
        return LOGICAL_OR_ROWS
    return LOGICAL_XOR_ROWS


cdef RowFn* bitwise_rows(int op) noexcept:
    if op == BW_AND:
        return BITWISE_AND_ROWS
    if op == BW_OR:
        return BITWISE_OR_ROWS
    return BITWISE_XOR_ROWS


cdef Tensor op_logical(int op, Tensor a, Tensor b):
    cdef int dt
    cdef RowFn* rows = logical_rows(op)
    check_broadcast2(a, b)
    dt = tensor_result_type(a, b)
    return binary_kernel(rows, a, b, dt, BOOL, LOGICAL_NAMES[op])


cdef Tensor op_logical_not(Tensor a):
    cdef Tensor out = new_tensor(a._ndim, a._shape, BOOL)
    run_unary(LOGICAL_NOT_ROWS[a._dtype], out, a)
    return out


cdef Tensor op_bitwise(int op, Tensor a, object b):
    """a & b, a | b or a ^ b: b a tensor or a number; integer types and bool only."""
    cdef int dt
    cdef Tensor bt
    cdef RowFn* rows = bitwise_rows(op)
    if isinstance(b, Tensor):
        bt = <Tensor>b
        check_broadcast2(a, bt)
        dt = tensor_result_type(a, bt)
    else:
        dt = scalar_result_type(a._dtype, b)
        b = wrapped_int(b, a._dtype, dt)
    if rows[dt] == NULL:
        raise NotImplementedError(f"\"{BITWISE_NAMES[op]}_cpu\" not implemented for '{dtype_title(dt)}'")
    if isinstance(b, Tensor):
        return binary_kernel(rows, a, <Tensor>b, dt, dt, BITWISE_NAMES[op])
    return scalar_kernel(rows, a, b, False, dt, dt, BITWISE_NAMES[op])


cdef Tensor op_bitwise_not(Tensor a):
    cdef Tensor out
    if BITWISE_NOT_ROWS[a._dtype] == NULL:
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for '{dtype_title(a._dtype)}'")
    out = new_tensor(a._ndim, a._shape, a._dtype)
    run_unary(BITWISE_NOT_ROWS[a._dtype], out, a)
    return out


cdef Tensor op_invert(Tensor a):
    if is_float(a._dtype):
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return op_bitwise_not(a)


cdef inline object bitwise_operator(int op, Tensor a, object other):
    if isinstance(other, Tensor):
        return op_bitwise(op, a, other)
    if is_scalar(other):
        return op_bitwise(op, a, normalize_scalar(other))
    return NotImplemented


cdef object bitwise_inplace(int op, Tensor self, object other):
    """self &= other (|=, ^=): no history (integer types and bool never need grad)."""
    cdef Tensor result
    cdef int dt
    if not (isinstance(other, Tensor) or is_scalar(other)):
        return NotImplemented
    check_inplace(self)
    check_written_overlap(self)
    check_input_overlap(self, other)
    other = normalize_scalar(other)
    dt = tensor_result_type(self, <Tensor>other) if isinstance(other, Tensor) else \
        scalar_result_type(self._dtype, other)
    if CATEGORY[dt] > CATEGORY[self._dtype]:
        raise RuntimeError(f"result type {dtype_title(dt)} can't be cast to the desired "
                           f"output type {dtype_title(self._dtype)}")
    result = op_bitwise(op, self, other)
    if not same_shape(result, self):
        raise RuntimeError(
            f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the broadcast "
            f"shape {shape_str(result._shape, result._ndim)}")
    copy_into(self, result)
    self._storage.version += 1
    return self


cdef list BITWISE_METHOD_OPTIONS = [("(Tensor other)", ["Tensor"]), ("(Number other)", ["Number"])]


cdef list bitwise_function_options():
    return [("(Tensor input, Tensor other, *, Tensor out = None)", None),
            ("(Number self, Tensor other)", ["Number", "Tensor"]),
            ("(Tensor input, Number other, *, Tensor out = None)", None)]


cdef Tensor bitwise_method(int op, Tensor a, object other):
    if isinstance(other, Tensor) or is_scalar(other):
        return op_bitwise(op, a, normalize_scalar(other))
    raise invalid_arguments(BITWISE_NAMES[op], (other,), BITWISE_METHOD_OPTIONS)


cdef Tensor bitwise_function(int op, object input, object other, object out):
    no_out(out, BITWISE_NAMES[op])
    if isinstance(input, Tensor) and (isinstance(other, Tensor) or is_scalar(other)):
        return op_bitwise(op, <Tensor>input, normalize_scalar(other))
    if is_scalar(input) and isinstance(other, Tensor):
        # (Number self, Tensor other): the ops commute
        return op_bitwise(op, <Tensor>other, normalize_scalar(input))
    raise invalid_arguments(BITWISE_NAMES[op], (input, other), bitwise_function_options())


def logical_not(input, *, out=None):
    """True where input is zero (any dtype), as bool."""
    no_out(out, "logical_not")
    return op_logical_not(need_tensor(input, "logical_not", "input", 1))


def logical_and(input, other, *, out=None):
    cdef Tensor a = need_tensor(input, "logical_and", "input", 1)
    no_out(out, "logical_and")
    return op_logical(LG_AND, a, need_tensor(other, "logical_and", "other", 2))


def logical_or(input, other, *, out=None):
    cdef Tensor a = need_tensor(input, "logical_or", "input", 1)
    no_out(out, "logical_or")
    return op_logical(LG_OR, a, need_tensor(other, "logical_or", "other", 2))


def logical_xor(input, other, *, out=None):
    cdef Tensor a = need_tensor(input, "logical_xor", "input", 1)
    no_out(out, "logical_xor")
    return op_logical(LG_XOR, a, need_tensor(other, "logical_xor", "other", 2))


def bitwise_not(input, *, out=None):
    no_out(out, "bitwise_not")
    return op_bitwise_not(need_tensor(input, "bitwise_not", "input", 1))


def bitwise_and(input, other, *, out=None):
    return bitwise_function(BW_AND, input, other, out)


def bitwise_or(input, other, *, out=None):
    return bitwise_function(BW_OR, input, other, out)


def bitwise_xor(input, other, *, out=None):
    return bitwise_function(BW_XOR, input, other, out)
