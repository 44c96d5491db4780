# What the rendered op table (src/_generated/ops_*_table.pxi, from
# src/codegen/) calls besides the core: the kernel drivers that pass an op's
# scalar parameters to its row kernels, the fused backward driver, and the
# installation of generated Tensor methods and nn.functional entries.

cdef inline int run_unary_ctx(RowFn fn, Tensor out, Tensor x, void* ctx) except -1:
    cdef Operand ops[2]
    ops[0] = operand_of(out)
    ops[1] = operand_of(x)
    return run_elementwise(fn, 2, ops, out._ndim, out._shape, out._numel, ctx)


cdef Tensor table_backward(RowFn* rows, Tensor g, Tensor a, Tensor b, void* ctx):
    """A fused backward: OUT a new gradient of g's shape; IN g and the saved
    values the rule reads (a: the input, b: the result; None when unread)."""
    cdef Tensor like = a if a is not None else b
    cdef Tensor out
    cdef Operand ops[4]
    cdef int nops = 2
    if like is not None and g._dtype != like._dtype:
        g = cast_tensor(g, like._dtype)
    out = new_result_same_shape(g._ndim, g._shape, g._dtype, g, like)
    ops[0] = operand_of(out)
    ops[1] = operand_of(g)
    if a is not None:
        ops[nops] = operand_of(a)
        nops += 1
    if b is not None:
        ops[nops] = operand_of(b)
        nops += 1
    run_elementwise(rows[g._dtype], nops, ops, out._ndim, out._shape, out._numel, ctx)
    return out


cdef Tensor binary_table_backward(RowFn* rows, Tensor g, Tensor y, Tensor t1, Tensor t2, Tensor t3):
    """A fused backward of a binary op: OUT a gradient of the result's shape
    and dtype; IN g and the saved values the rule reads (t1..t3, None when
    unread), each broadcast to the result and taken in its dtype."""
    cdef int dt = y._dtype
    cdef Tensor out
    cdef Operand ops[MAX_OPERANDS]
    cdef int nops = 2
    cdef list inputs = []     # keeps the cast copies alive while the kernel runs
    cdef Tensor t
    if g._dtype != dt:
        g = cast_tensor(g, dt)
    out = new_result_same_shape(y._ndim, y._shape, dt, g, y)
    ops[0] = operand_of(out)
    ops[1] = operand_of(g)
    for t in (t1, t2, t3):
        if t is not None:
            if t._dtype != dt:
                t = cast_tensor(t, dt)
            inputs.append(t)
            ops[nops] = operand_of(t)
            nops += 1
    run_elementwise(rows[dt], nops, ops, out._ndim, out._shape, out._numel, NULL)
    return out


cdef inline Tensor scalar_like(object s, Tensor like):
    """A number in a formula's conditional, as a 0-d tensor of like's dtype."""
    return scalar_tensor(s, like._dtype)


cdef Tensor op_logical_or(Tensor a, Tensor b):
    return op_logical(LG_OR, a, b)


cdef tuple FLOAT_MAX_TEXT = ("3.40282e+38", "1.79769e+308", "", "", "65504")


cdef int check_shrink_lambda(Tensor x, double lambd) except -1:
    """softshrink's lambd: from 0 to the input dtype's largest value."""
    if lambd < 0 and is_float(x._dtype):
        raise RuntimeError(f"lambda must be in range [0, {FLOAT_MAX_TEXT[x._dtype]}] for input dtype "
                           f"{dtype_title(x._dtype)}, but found {lambd:g}")
    return 0


cdef int check_params_fit(Tensor x, double a, double b) except -1:
    """Scalar arguments converted to an integer input's type, checked as
    PyTorch's Scalar.to<T>()."""
    if not is_float(x._dtype):
        check_scalar_convert(a, x._dtype)
        check_scalar_convert(b, x._dtype)
    return 0


cdef int check_polygamma_n(double n) except -1:
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return 0


cdef inline int op_result_dtype(Tensor x) noexcept:
    return x._dtype if is_float(x._dtype) else DEFAULT_FLOAT


cdef int check_out_dtype(object out, int dt) except -1:
    """out= of ops whose kernels PyTorch runs on out itself: same dtype."""
    if (<Tensor>out)._dtype != dt:
        raise RuntimeError(f"Found dtype {dtype_title((<Tensor>out)._dtype)} but expected {dtype_title(dt)}")
    return 0


# (TableBinaryOp is declared in _C.pxd)


cdef int number_dtype(int tensor_dtype, object number, bint float_math):
    cdef int dt = scalar_result_type(tensor_dtype, number)
    return DEFAULT_FLOAT if float_math and not is_float(dt) else dt


cdef tuple binary_operands(object input, object other, str fname, bint scalar_self, bint scalar_other,
                           bint float_math=False):
    """(a, b, which) for a binary table op: a Python number where the op
    takes one becomes PyTorch's wrapped number (a 0-d tensor of the dtype
    the number gives with the other operand, so promotion is PyTorch's);
    which is 1 or 2 when input or other was such a number, else 0.
    float_math: the op computes integer operands in float32, where PyTorch
    converts the number itself (copysign(uint8, -3) takes -3.0, not the
    uint8 253)."""
    if isinstance(input, Tensor):
        if isinstance(other, Tensor):
            return input, other, 0
        if scalar_other and is_scalar(other):
            other = normalize_scalar(other)
            return input, scalar_tensor(other, number_dtype((<Tensor>input)._dtype, other, float_math)), 2
        raise TypeError(f"{fname}(): argument 'other' (position 2) must be Tensor, not {py_typename(other)}")
    if scalar_self and is_scalar(input) and isinstance(other, Tensor):
        input = normalize_scalar(input)
        return scalar_tensor(input, number_dtype((<Tensor>other)._dtype, input, float_math)), other, 1
    raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {py_typename(input)}")


cdef Tensor binary_inplace(TableBinaryOp op, Tensor x, Tensor b, int which):
    """x.<op>_(b): computed as the out-of-place op (on x's old value when
    recorded), then written into x, as PyTorch's in-place binary ops."""
    cdef Tensor r
    check_inplace(x)
    if cgrad_grad_enabled and (x._requires_grad or b._requires_grad):
        r = op(old_value(x, True), b, which)
    else:
        r = op(x, b, which)
    if not same_shape(r, x):
        raise RuntimeError(f"output with shape {list(shape_tuple(x))} doesn't match the broadcast shape "
                           f"{list(shape_tuple(r))}")
    if not can_cast_code(r._dtype, x._dtype):
        raise RuntimeError(f"result type {dtype_title(r._dtype)} can't be cast to the desired output type "
                           f"{dtype_title(x._dtype)}")
    if r._grad_fn is not None:
        return commit_inplace(x, r)
    check_written_overlap(x)
    copy_into(x, r if r._dtype == x._dtype else cast_tensor(r, x._dtype))
    x._storage.version += 1
    if cgrad_fwd_active and r._fw_grad is not None:
        fw_write_inplace(x, <Tensor>r._fw_grad)
    return x


# nn.functional entries the table renders (cgrad.nn.functional takes them)
_FUNCTIONAL = {}


cdef void install_tensor_methods(dict methods) except *:
    """Put generated methods into Tensor's type dict: a cdef class body
    cannot include generated code, and a module-level function there binds
    as a method like one defined in the class."""
    cdef PyTypeObject* tp = <PyTypeObject*>Tensor
    cdef dict d = <dict>tp.tp_dict
    for name, fn in methods.items():
        if name in d:
            raise RuntimeError(f"Tensor.{name} is defined twice (op table and tensor.pxi)")
        d[name] = fn
    PyType_Modified(tp)
