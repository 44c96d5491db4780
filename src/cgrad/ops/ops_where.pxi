# where(condition, input, other): the one select-by-mask of cgrad, its node
# and its public function (the method is in tensor.pxi).


cdef class WhereBackward0(BinaryNode):
    cdef readonly Tensor condition

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor zeros = op_zeros_like(g)
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = self.grad_a(op_where(self.condition, g, zeros))
        if wants_grad(self, 1):
            gb = self.grad_b(op_where(self.condition, zeros, g))
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.condition = None


cdef Tensor op_where(Tensor cond, object a, object b):
    """Elements of a where cond, else of b; a and b tensors or numbers, all
    broadcast together (order: cond, a, b) in the promoted dtype. The node is
    WhereBackward0 (above) wired to the tensors as they came, a
    number getting no edge. The one where of cgrad: every op that selects
    goes through it."""
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
    out = new_result(nd, shape, dt, cond, at, bt)
    ac = as_dtype(at, dt)        # kept alive while the kernel reads them
    bc = as_dtype(bt, dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(cond)
    ops[2] = operand_of(ac)
    ops[3] = operand_of(bc)
    run_elementwise(WHERE2_ROWS[dt], 4, ops, nd, shape, out._numel, NULL)
    if (cgrad_grad_enabled and ((a_t and at._requires_grad) or (b_t and bt._requires_grad))
            or (a_t and has_tangent(at)) or (b_t and has_tangent(bt))):
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



cdef inline bint tensor_or_number(object v):
    return isinstance(v, Tensor) or is_scalar(v)


def where(condition, input=NO_ARG, other=NO_ARG, *, out=None):
    """Elements of input where condition is True, else of other (tensors or
    numbers, broadcast together)."""
    if input is NO_ARG and other is NO_ARG and isinstance(condition, Tensor) and out is None:
        return condition.nonzero(as_tuple=True)     # where(condition) alone is nonzero's tuple form
    if (input is NO_ARG or other is NO_ARG or not isinstance(condition, Tensor)
            or not tensor_or_number(input) or not tensor_or_number(other)):
        raise invalid_arguments("where", tuple([v for v in (condition, input, other)
                                                if v is not NO_ARG]), WHERE_OPTIONS)
    return with_out(op_where(<Tensor>condition, normalize_scalar(input), normalize_scalar(other)), out, "where")
