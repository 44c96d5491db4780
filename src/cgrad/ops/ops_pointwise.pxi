# Pointwise op layer: the drivers that run row kernels over tensors, and
# the binary ops with their nodes (dtype promotion and scalar operands:
# promotion.pxi). Each binary op's backward is a formula over
# differentiable ops (as in PyTorch's derivatives.yaml), so the same code
# gives plain gradients (grad mode off during backward) and differentiable
# ones (grad mode on under create_graph); reduce_grad() undoes broadcasting
# and promotion in one place for every op.


# ---------------------------------------------------------------------------
# Drivers (no autograd here; run_unary, cast_tensor, contiguous_copy and
# copy_into: kernels/kernel_drivers.pxi)


cdef Tensor unary_backward(RowFn* rows, Tensor g, Tensor saved):
    """Fused backward of a unary op: OUT a new gradient of g's shape, IN g
    and (when the rule reads one) the saved input or output."""
    cdef Tensor out
    cdef Operand ops[3]
    if saved is not None and g._dtype != saved._dtype:
        g = cast_tensor(g, saved._dtype)
    out = new_result_same_shape(g._ndim, g._shape, g._dtype, g, saved)
    ops[0] = operand_of(out)
    ops[1] = operand_of(g)
    if saved is None:
        run_elementwise(rows[g._dtype], 2, ops, out._ndim, out._shape, out._numel, NULL)
    else:
        ops[2] = operand_of(saved)
        run_elementwise(rows[g._dtype], 3, ops, out._ndim, out._shape, out._numel, NULL)
    return out


cdef int fill_scalar(Tensor t, object value) except -1:
    cdef ScalarBuf buf
    cdef Operand ops[1]
    store_scalar(&buf, value, t._dtype)
    if t._contiguous and t._numel * ITEMSIZE[t._dtype] >= STREAM_FILL_BYTES:
        with nogil:
            if stream_fill(t._data, t._numel * ITEMSIZE[t._dtype], <const char*>&buf, ITEMSIZE[t._dtype]):
                return 0
    ops[0] = operand_of(t)
    return run_elementwise(FILL_ROWS[t._dtype], 1, ops, t._ndim, t._shape, t._numel, &buf)


cdef Tensor scalar_tensor(object s, int dt):
    """A zero-dim tensor holding number s as dtype dt."""
    cdef Tensor t = new_tensor(0, NULL, dt)
    fill_scalar(t, s)
    return t


cdef object saved_number_attr(Node n, object value):
    """A Python number an op saved: PyTorch shows it as the wrapped-number
    tensor it saved (int64 / float64 / bool)."""
    if n.saved_freed:
        raise RuntimeError(FREED_MSG)
    if isinstance(value, bool):
        return tensor(value)
    if isinstance(value, int):
        return tensor(value, dtype=DTYPES[I64])
    return tensor(value, dtype=DTYPES[F64])


cdef int add_into(Tensor acc, Tensor g, bint shared=False) except -1:
    """acc += g in place (same dtype; g broadcast to acc's shape). A
    `shared` buffer (a leaf's .grad, which backward passes in other threads
    may add into too) is written holding the GIL."""
    cdef Operand ops[3]
    ops[0] = operand_of(acc)
    ops[1] = operand_of(acc)
    ops[2] = operand_of(g)
    if shared:
        return run_elementwise_holding_gil(ADD_ROWS[acc._dtype], 3, ops, acc._ndim, acc._shape,
                                           acc._numel, NULL)
    return run_elementwise(ADD_ROWS[acc._dtype], 3, ops, acc._ndim, acc._shape, acc._numel, NULL)


cdef Tensor binary_kernel(RowFn* rows, Tensor a, Tensor b, int compute_dt, int out_dt, str opname):
    """OUT a new tensor of the broadcast shape: rows[compute_dt](a, b), with
    a and b converted to compute_dt first when needed (no history)."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd = broadcast_shapes(a._ndim, a._shape, b._ndim, b._shape, shape)
    cdef Tensor out
    cdef Operand ops[3]
    cdef RowFn fn = rows[compute_dt]
    if fn == NULL:
        raise NotImplementedError(f"\"{opname}\" not implemented for '{dtype_title(compute_dt)}'")
    # laid out from the inputs before any cast copy replaces them
    out = new_result(nd, shape, out_dt, a, b, None)
    if a._dtype != compute_dt:
        a = cast_tensor(a, compute_dt)
    if b._dtype != compute_dt:
        b = cast_tensor(b, compute_dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(a)
    ops[2] = operand_of(b)
    run_elementwise(fn, 3, ops, nd, shape, out._numel, NULL)
    return out


cdef Tensor scalar_kernel_general(RowFn fn, Tensor a, object s, bint scalar_first, int compute_dt,
                                  int out_dt):
    """scalar_kernel's path for an input it converts or whose layout the
    result takes: the result is laid out from a before a cast copy replaces
    it (PyTorch's wrapped number never shares the result's shape). Kept
    apart so the path of a contiguous input of the computing dtype, every
    tensor-number op's in a float model, stays short."""
    cdef ScalarBuf buf
    cdef Operand ops[3]
    cdef Tensor out = new_scalar_result(a._ndim, a._shape, out_dt, a)
    if a._dtype != compute_dt:
        a = cast_tensor(a, compute_dt)
    store_scalar(&buf, s, compute_dt)
    ops[0] = operand_of(out)
    ops[1 + scalar_first] = operand_of(a)
    ops[2 - scalar_first] = operand_of_scalar(&buf, ITEMSIZE[compute_dt])
    run_elementwise(fn, 3, ops, out._ndim, out._shape, out._numel, NULL)
    return out


cdef Tensor scalar_kernel(RowFn* rows, Tensor a, object s, bint scalar_first, int compute_dt,
                          int out_dt, str opname):
    """OUT a new tensor of a's shape: rows[compute_dt](a, s) or (s, a)."""
    cdef ScalarBuf buf
    cdef Tensor out
    cdef Operand ops[3]
    cdef RowFn fn = rows[compute_dt]
    if fn == NULL:
        raise NotImplementedError(f"\"{opname}\" not implemented for '{dtype_title(compute_dt)}'")
    if a._dtype != compute_dt or not c_order_input(a):
        return scalar_kernel_general(fn, a, s, scalar_first, compute_dt, out_dt)
    store_scalar(&buf, s, compute_dt)
    out = new_tensor(a._ndim, a._shape, out_dt)
    ops[0] = operand_of(out)
    # (written out per side: as measured, gcc lays this path out shorter than with indexed stores)
    ops[1] = operand_of(a) if not scalar_first else operand_of_scalar(&buf, ITEMSIZE[compute_dt])
    ops[2] = operand_of_scalar(&buf, ITEMSIZE[compute_dt]) if not scalar_first else operand_of(a)
    run_elementwise(fn, 3, ops, out._ndim, out._shape, out._numel, NULL)
    return out


# ---------------------------------------------------------------------------
# Undoing broadcasting and promotion in gradients


# (InputMeta and BinaryNode's fields are declared in _C.pxd)
cdef inline void note_input(InputMeta* m, Tensor t, Tensor out) noexcept:
    m.dtype = t._dtype
    m.broadcast = not same_shape(t, out)


cdef class BinaryNode(Node):
    """Base of the nodes of broadcasting binary ops: what each input looked
    like, so its gradient can be summed and cast back to it."""

    cdef void note_inputs(self, Tensor a, Tensor b, Tensor out) except *:
        note_input(&self.ma, a, out)
        note_input(&self.mb, b, out)
        if self.ma.broadcast:
            self.shape_a = shape_tuple(a)
        if self.mb.broadcast:
            self.shape_b = shape_tuple(b)

    cdef Tensor grad_a(self, Tensor g):
        return reduce_grad(g, &self.ma, self.shape_a)

    cdef Tensor grad_b(self, Tensor g):
        return reduce_grad(g, &self.mb, self.shape_b)


cdef Tensor reduce_grad(Tensor g, InputMeta* m, tuple shape):
    """The gradient of an input from the gradient of a broadcast, promoted
    output: summed over the broadcast dims, cast back to the input's dtype."""
    if m.broadcast:
        g = op_sum_to(g, shape)
    if g._dtype != m.dtype:
        g = op_to_dtype(g, m.dtype)
    return g


# ---------------------------------------------------------------------------
# Binary ops. Each has its node (a grad_fn named as in PyTorch) beside its
# forward. Scalar operands are Python numbers kept as objects.


cdef int check_bool_sub(Tensor a, object b) except -1:
    """PyTorch refuses subtraction involving bool: two bools (tensors or
    Python bools) get one message, a bool with anything else another."""
    cdef bint b_bool = isinstance(b, bool) or (isinstance(b, Tensor) and (<Tensor>b)._dtype == BOOL)
    if a._dtype == BOOL and b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead.")
    if a._dtype == BOOL or b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead.")
    return 0


cdef class AddBackward0(BinaryNode):
    cdef object alpha

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = self.grad_a(g)
        if wants_grad(self, 1):
            gb = g if self.alpha is None else op_mul_scalar(g, self.alpha)
            gb = self.grad_b(<Tensor>gb)
        return small_tuple2(ga, gb)


cdef class SubBackward0(BinaryNode):
    cdef object alpha

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = self.grad_a(g)
        if wants_grad(self, 1):
            gb = op_neg(g) if self.alpha is None else op_mul_scalar(g, -self.alpha)
            gb = self.grad_b(<Tensor>gb)
        return (ga, gb)


cdef class RsubBackward1(Node):
    """scalar - tensor."""
    cdef InputMeta ma
    cdef object alpha

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        g = op_neg(g) if self.alpha is None else op_mul_scalar(g, -self.alpha)
        return (reduce_grad(g, &self.ma, None),)


cdef class MulBackward0(BinaryNode):
    cdef readonly Tensor self_, other
    cdef long long self_version, other_version
    cdef object other_scalar     # set when `other` was a Python number

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if self.other is None and self.other_scalar is not None:
            if self.saved_freed:     # PyTorch saves the number as a tensor, freed too
                raise RuntimeError(FREED_MSG)
            return small_tuple1(reduce_grad(op_mul_scalar(g, self.other_scalar), &self.ma, None))
        if wants_grad(self, 0):
            ga = self.grad_a(op_mul(g, unpack_input(self, self.other, self.other_version)))
        if wants_grad(self, 1):
            gb = self.grad_b(op_mul(g, unpack_input(self, self.self_, self.self_version)))
        return small_tuple2(ga, gb)

    @property
    def _saved_self(self):
        return saved_attr(self, self.self_, self.other_scalar is not None)

    @property
    def _saved_other(self):
        if self.other_scalar is not None:
            return saved_number_attr(self, self.other_scalar)
        return saved_attr(self, self.other, False)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.other = None


cdef class DivBackward0(BinaryNode):
    cdef readonly Tensor self_, other
    cdef long long self_version, other_version
    cdef object other_scalar

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor a, b
        cdef object ga = None, gb = None
        if self.other is None and self.other_scalar is not None:
            if self.saved_freed:
                raise RuntimeError(FREED_MSG)
            return (reduce_grad(op_div_scalar(g, self.other_scalar), &self.ma, None),)
        b = unpack_input(self, self.other, self.other_version)
        if wants_grad(self, 0):
            ga = self.grad_a(op_div(g, b))
        if wants_grad(self, 1):
            a = unpack_input(self, self.self_, self.self_version)
            # -g * a / b**2, in PyTorch's order of operations
            gb = self.grad_b(op_mul(op_neg(g), op_div(op_div(a, b), b)))
        return (ga, gb)

    @property
    def _saved_self(self):
        return saved_attr(self, self.self_, self.other_scalar is not None)

    @property
    def _saved_other(self):
        if self.other_scalar is not None:
            return saved_number_attr(self, self.other_scalar)
        return saved_attr(self, self.other, False)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.other = None


cdef Tensor op_add(Tensor a, Tensor b, object alpha=None):
    cdef int dt = tensor_result_type(a, b)
    cdef Tensor out
    cdef AddBackward0 node
    check_alpha(dt, alpha)
    if alpha is None or alpha == 1:
        alpha = None
        out = binary_kernel(ADD_ROWS, a, b, dt, dt, "add")
    elif has_fused_rows(dt):
        out = fused_values(FUSED_AXPY, dt, a, b, None, alpha, None)
    else:
        out = binary_kernel(ADD_ROWS, a, scalar_kernel(MUL_ROWS, b, alpha, False, dt, dt, "mul"),
                            dt, dt, "add")
    if needs_grad2(a, b):
        node = AddBackward0.__new__(AddBackward0)
        wire2(node, a, b)
        node.note_inputs(a, b, out)
        node.alpha = alpha
        set_history(out, node)
    return out


cdef Tensor op_sub(Tensor a, Tensor b, object alpha=None):
    cdef int dt = tensor_result_type(a, b)
    cdef Tensor out
    cdef SubBackward0 node
    if a._dtype == BOOL or b._dtype == BOOL:
        check_bool_sub(a, b)
    check_alpha(dt, alpha)
    if alpha is None or alpha == 1:
        alpha = None
        out = binary_kernel(SUB_ROWS, a, b, dt, dt, "sub")
    elif has_fused_rows(dt):     # PyTorch's sub is add with -alpha
        out = fused_values(FUSED_AXPY, dt, a, b, None, -alpha, None)
    else:
        out = binary_kernel(SUB_ROWS, a, scalar_kernel(MUL_ROWS, b, alpha, False, dt, dt, "mul"),
                            dt, dt, "sub")
    if needs_grad2(a, b):
        node = SubBackward0.__new__(SubBackward0)
        wire2(node, a, b)
        node.note_inputs(a, b, out)
        node.alpha = alpha
        set_history(out, node)
    return out


cdef Tensor op_mul(Tensor a, Tensor b):
    cdef int dt = tensor_result_type(a, b)
    cdef Tensor out
    cdef MulBackward0 node
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    if is_half16(dt) and b._numel == 1:
        nd = broadcast_shapes(a._ndim, a._shape, b._ndim, b._shape, shape)
        out = f16_scalar_kernel(mul_scalar_row_F16 if dt == F16 else mul_scalar_row_BF16, a, nd, shape,
                                scalar_operand_as_float(b), dt)
    else:
        out = binary_kernel(MUL_ROWS, a, b, dt, dt, "mul")
    if needs_grad2(a, b):
        node = MulBackward0.__new__(MulBackward0)
        wire2(node, a, b)
        node.note_inputs(a, b, out)
        if b._requires_grad or has_tangent(b):
            node.self_ = a
            node.self_version = save_version(node, a)
        if a._requires_grad or has_tangent(a):
            node.other = b
            node.other_version = save_version(node, b)
        set_history(out, node)
    return out


cdef Tensor op_div(Tensor a, Tensor b):
    cdef int dt = tensor_result_type(a, b)
    cdef Tensor out
    cdef DivBackward0 node
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    if not is_float(dt):
        dt = DEFAULT_FLOAT
    if is_half16(dt) and b._numel == 1:
        nd = broadcast_shapes(a._ndim, a._shape, b._ndim, b._shape, shape)
        out = f16_scalar_kernel(div_scalar_row_F16 if dt == F16 else div_scalar_row_BF16, a, nd, shape,
                                scalar_operand_as_float(b), dt)
    else:
        out = binary_kernel(DIV_ROWS, a, b, dt, dt, "div")
    if needs_grad2(a, b):
        node = DivBackward0.__new__(DivBackward0)
        wire2(node, a, b)
        node.note_inputs(a, b, out)
        if b._requires_grad or has_tangent(b):
            node.self_ = a
            node.self_version = save_version(node, a)
        node.other = b
        node.other_version = save_version(node, b)
        set_history(out, node)
    return out


# Tensor-and-scalar forms. The scalar never promotes the width, only the
# category (see scalar_result_type); the node is the same as the tensor
# form's, as in PyTorch.

cdef Tensor op_add_scalar(Tensor a, object s, object alpha=None):
    cdef int dt = scalar_result_type(a._dtype, s)
    cdef Tensor out
    cdef AddBackward0 node
    check_alpha(dt, alpha)
    if alpha is not None and alpha != 1 and has_fused_rows(dt):
        out = fused_number_values(dt, a, s, alpha, None)
    else:
        if alpha is not None and alpha != 1:
            s = s * alpha
        out = scalar_kernel(ADD_ROWS, a, s, False, dt, dt, "add")
    if needs_grad(a):
        node = AddBackward0.__new__(AddBackward0)
        wire_scalar(node, a)
        node.ma.dtype = a._dtype
        set_history(out, node)
    return out


cdef Tensor op_sub_scalar(Tensor a, object s, object alpha=None):
    cdef int dt = scalar_result_type(a._dtype, s)
    cdef Tensor out
    cdef SubBackward0 node
    if a._dtype == BOOL or isinstance(s, bool):
        check_bool_sub(a, s)
    check_alpha(dt, alpha)
    if alpha is not None and alpha != 1 and has_fused_rows(dt):
        out = fused_number_values(dt, a, s, -alpha, None)
    else:
        if alpha is not None and alpha != 1:
            s = s * alpha
        out = scalar_kernel(SUB_ROWS, a, s, False, dt, dt, "sub")
    if needs_grad(a):
        node = SubBackward0.__new__(SubBackward0)
        wire_scalar(node, a)
        node.ma.dtype = a._dtype
        set_history(out, node)
    return out


cdef Tensor op_rsub_scalar(Tensor a, object s, object alpha=None):
    """s - alpha * a"""
    cdef int dt = scalar_result_type(a._dtype, s)
    cdef Tensor out
    cdef RsubBackward1 node
    if a._dtype == BOOL or isinstance(s, bool):
        check_bool_sub(a, s)
    check_alpha(dt, alpha)
    if alpha is not None and alpha != 1 and has_fused_rows(dt):
        out = fused_values(FUSED_AXPY, dt, scalar_tensor(s, dt), a, None, -alpha, None)
    elif alpha is not None and alpha != 1:
        out = scalar_kernel(SUB_ROWS, scalar_kernel(MUL_ROWS, a, alpha, False, dt, dt, "mul"), s,
                            True, dt, dt, "sub")
    else:
        alpha = None
        out = scalar_kernel(SUB_ROWS, a, s, True, dt, dt, "sub")
    if needs_grad(a):
        node = RsubBackward1.__new__(RsubBackward1)
        wire1(node, a)
        node.ma.dtype = a._dtype
        node.alpha = alpha
        set_history(out, node)
    return out


cdef Tensor op_mul_scalar(Tensor a, object s):
    cdef int dt = scalar_result_type(a._dtype, s)
    cdef Tensor out
    cdef MulBackward0 node
    if is_half16(dt):
        out = f16_scalar_kernel(mul_scalar_row_F16 if dt == F16 else mul_scalar_row_BF16, a, a._ndim,
                                a._shape, <float>(<double>s), dt)
    else:
        out = scalar_kernel(MUL_ROWS, a, s, False, dt, dt, "mul")
    if needs_grad(a):
        node = MulBackward0.__new__(MulBackward0)
        wire_scalar(node, a)
        node.ma.dtype = a._dtype
        node.other_scalar = s
        set_history(out, node)
    return out


cdef Tensor op_div_scalar(Tensor a, object s):
    cdef int dt = scalar_result_type(a._dtype, s)
    cdef Tensor out
    cdef DivBackward0 node
    if not is_float(dt):
        dt = DEFAULT_FLOAT
    if is_half16(dt):
        out = f16_scalar_kernel(div_scalar_row_F16 if dt == F16 else div_scalar_row_BF16, a, a._ndim,
                                a._shape, <float>(<double>s), dt)
    else:
        out = scalar_kernel(DIV_ROWS, a, s, False, dt, dt, "div")
    if needs_grad(a):
        node = DivBackward0.__new__(DivBackward0)
        wire_scalar(node, a)
        node.ma.dtype = a._dtype
        node.other_scalar = s
        set_history(out, node)
    return out


cdef Tensor op_rdiv_scalar(Tensor a, object s):
    """s / a, which PyTorch computes as reciprocal(a) * s."""
    return op_mul_scalar(op_reciprocal(a), s)


# ---------------------------------------------------------------------------
# pow: tensor ** scalar (PowBackward0), tensor ** tensor (PowBackward1),
# scalar ** tensor (PowBackward2).


cdef class PowBackward0(Node):
    cdef readonly Tensor self_
    cdef long long self_version
    cdef object exponent

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef object e = self.exponent
        if e == 0:
            return (op_zeros_like(x),)
        # grad * e * x ** (e - 1), in PyTorch's order
        return (op_mul(g, op_mul_scalar(op_pow_scalar(x, e - 1), e)),)

    cdef void release_saved(self) noexcept:
        self.self_ = None

    @property
    def _saved_self(self):
        return saved_attr(self, self.self_, False)

    @property
    def _saved_exponent(self):     # a Scalar argument: PyTorch keeps it after backward
        return self.exponent


cdef class PowBackward1(BinaryNode):
    cdef readonly Tensor self_, exponent, result
    cdef long long self_version, exponent_version, result_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor a = unpack_input(self, self.self_, self.self_version)
        cdef Tensor b = unpack_input(self, self.exponent, self.exponent_version)
        cdef Tensor y, ga_t, gb_t
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            # grad * (b * a ** (b - 1)), zero where b == 0 (PyTorch's
            # pow_backward_self, in its order of operations)
            ga_t = op_mul(g, op_mul(b, op_pow(a, op_sub_scalar(b, 1))))
            ga_t = op_where(op_compare(CMP_EQ, b, 0), op_zeros_like(ga_t), ga_t)
            ga = self.grad_a(ga_t)
        if wants_grad(self, 1):
            y = unpack_output(self, self.result, self.result_version)
            # grad * (y * log(a)), zero where a == 0 and b >= 0 (pow_backward_exponent)
            gb_t = op_mul(g, op_mul(y, op_log(a)))
            gb_t = op_where(op_logical_and(op_compare(CMP_EQ, a, 0), op_compare(CMP_GE, b, 0)),
                            op_zeros_like(gb_t), gb_t)
            gb = self.grad_b(gb_t)
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.exponent = None
        self.result = None


cdef class PowBackward2(Node):
    cdef readonly Tensor result
    cdef long long result_version
    cdef object base
    cdef int dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor y = unpack_output(self, self.result, self.result_version)
        cdef Tensor gb
        if self.base == 0:
            # PyTorch's pow_backward_exponent: grad * where(x >= 0, 0, y * log(0.)),
            # log(0.) = -inf; x >= 0 exactly where 0 ** x is finite (0 or 1)
            gb = op_mul(g, op_where(op_compare(CMP_EQ, op_mul_scalar(alias_detached(y), 0.0), 0),
                                    op_zeros_like(y), op_mul_scalar(y, -np.inf)))
        else:
            # grad * (y * log(base)), log(base) a double (PyTorch's
            # pow_backward_exponent takes Scalar.log())
            gb = op_mul(g, op_mul_scalar(y, float(np.log(self.base))))
        if gb._dtype != self.dtype:
            gb = op_to_dtype(gb, self.dtype)
        return (gb,)

    cdef void release_saved(self) noexcept:
        self.result = None


cdef Tensor pow_sqrt_kernel(Tensor a, int dt, bint positive):
    """a ** 0.5 / a ** -0.5 as PyTorch's pow kernel computes them: sqrt and
    rsqrt (1 / sqrt; float16 through float32), not C pow (which differs at
    -inf and -0.)."""
    cdef int wt = F32 if is_half16(dt) else dt
    cdef Tensor src = a if a._dtype == wt else cast_tensor(a, wt)
    cdef Tensor out = new_unary_result(a._ndim, a._shape, wt, a)
    run_unary(SQRT_FWD[wt], out, src)
    if not positive:
        run_unary(RECIPROCAL_FWD[wt], out, out)
    return cast_tensor(out, dt) if wt != dt else out


cdef Tensor op_pow_scalar(Tensor a, object e):
    cdef int dt = scalar_result_type(a._dtype, e)
    cdef Tensor out, src
    cdef PowBackward0 node
    cdef RowFn fast = NULL
    if CATEGORY[dt] != CAT_FLOAT and not isinstance(e, bool) and e < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if isinstance(e, int) and not isinstance(e, bool) and (e >= (1 << 64) or e < -(1 << 63)):
        raise OverflowError("int too big to convert")
    if is_half16(dt) or is_int(dt):
        # PyTorch's kernel takes the exponent as Scalar.to<T>() (float and
        # double ones as a double)
        check_scalar_convert(e, dt)
    if dt == BOOL:
        # bool ** bool: PyTorch's special cases x ** 1 (a copy) and x ** 0 (ones)
        if e:
            return contiguous_copy(a)
        out = new_tensor(a._ndim, a._shape, BOOL)
        fill_scalar(out, True)
        return out
    if isinstance(e, (int, float)) and not isinstance(e, bool) and (e == 0 or e == 1):
        # PyTorch's pow_Tensor_Scalar_out: x ** 0 fills ones (NaN ** 0 is 1
        # as in C pow), x ** 1 copies
        out = new_unary_result(a._ndim, a._shape, dt, a)
        if e == 0:
            fill_scalar(out, 1)
        else:
            copy_into(out, a)
    elif is_float(dt) and not isinstance(e, bool) and (e == 0.5 or e == -0.5):
        out = pow_sqrt_kernel(a, dt, e == 0.5)
    elif dt == BF16 and isinstance(e, (int, float)) and (e == 3 or e == -2):
        # PyTorch's bfloat16 pow kernel: x * x * x and 1 / (x * x) in
        # c10::BFloat16 arithmetic (each step rounded)
        src = a if a._dtype == dt else cast_tensor(a, dt)
        out = binary_kernel(MUL_ROWS, src, src, dt, dt, "mul")
        if e == 3:
            out = binary_kernel(MUL_ROWS, out, src, dt, dt, "mul")
        else:
            run_unary(RECIPROCAL_FWD[dt], out, out)
    elif (dt == F32 or dt == F64) and isinstance(e, (int, float)) and e == -1:
        # PyTorch's reciprocal_kernel
        out = new_unary_result(a._ndim, a._shape, dt, a)
        run_unary(RECIPROCAL_FWD[dt], out, a if a._dtype == dt else cast_tensor(a, dt))
    else:
        if (dt == F32 or dt == F64) and isinstance(e, (int, float)):
            fast = pow_fast_row(dt, float(e))
        if fast != NULL:
            out = new_unary_result(a._ndim, a._shape, dt, a)
            run_unary(fast, out, a if a._dtype == dt else cast_tensor(a, dt))
        else:
            out = scalar_kernel(POW_ROWS, a, e, False, dt, dt, "pow")
    if needs_grad(a):
        node = PowBackward0.__new__(PowBackward0)
        wire1(node, a)
        node.self_ = a
        node.self_version = save_version(node, a)
        node.exponent = e
        set_history(out, node)
    return out


cdef Tensor op_pow(Tensor a, Tensor b):
    cdef int dt = tensor_result_type(a, b)
    cdef Tensor out
    cdef PowBackward1 node
    out = binary_kernel(POW_ROWS, a, b, dt, dt, "pow")
    if needs_grad2(a, b):
        node = PowBackward1.__new__(PowBackward1)
        wire2(node, a, b)
        node.note_inputs(a, b, out)
        node.self_ = a
        node.self_version = save_version(node, a)
        node.exponent = b
        node.exponent_version = save_version(node, b)
        if b._requires_grad or has_tangent(b):
            node.result = save_output(node, out)
        set_history(out, node)
    return out


cdef Tensor op_rpow_scalar(Tensor b, object base):
    """base ** b for a Python number base."""
    cdef int dt = scalar_result_type(b._dtype, base)
    cdef Tensor out
    cdef PowBackward2 node
    out = scalar_kernel(POW_ROWS, b, base, True, dt, dt, "pow")
    if needs_grad(b):
        node = PowBackward2.__new__(PowBackward2)
        wire1(node, b)
        node.result = save_output(node, out)
        node.base = base
        node.dtype = b._dtype
        set_history(out, node)
    return out


cdef Tensor op_logical_and(Tensor a, Tensor b):
    return binary_kernel(MUL_ROWS, cast_tensor(a, BOOL) if a._dtype != BOOL else a,
                         cast_tensor(b, BOOL) if b._dtype != BOOL else b, BOOL, BOOL, "logical_and")


cdef str bool_unary_message(str name):
    if name == "neg":
        return ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                "to invert a mask, use the `~` or `logical_not()` operator instead.")
    if name == "relu":
        return "Boolean inputs not supported for relu"
    return f"\"{name}_cpu\" not implemented for 'Bool'"
