# Rounding divisions: floor_divide (//), remainder (%), fmod, and div with
# rounding_mode='floor' / 'trunc'. Their row kernels are rows of the binary
# table (pointwise_kernels.pxi.tp) over the formulas of kernels_math.pxi;
# here are the ops with their nodes, then the Python surface. Bool has no
# kernel (PyTorch: "..._cpu" not implemented for 'Bool'); an integer zero
# divisor raises ZeroDivisionError before any kernel runs.


# ---------------------------------------------------------------------------
# The ops. `kind` picks the kernel; floor and trunc are also div's
# rounding modes.

cdef enum:
    RD_FLOOR = 0
    RD_REMAINDER = 1
    RD_FMOD = 2
    RD_TRUNC = 3
    RD_DIV_MODE = 4     # in-place only: div_ with an explicit rounding_mode

cdef tuple RD_KERNEL_NAMES = ("div_floor_cpu", "remainder_cpu", "fmod_cpu", "div_trunc_cpu")
cdef tuple RD_ATEN_NAMES = ("floor_divide", "remainder", "fmod", "div")


cdef RowFn* rounding_rows(int kind) noexcept:
    if kind == RD_FLOOR:
        return FLOORDIV_ROWS
    if kind == RD_REMAINDER:
        return REMAINDER_ROWS
    if kind == RD_FMOD:
        return FMOD_ROWS
    return TRUNCDIV_ROWS


cdef int check_integer_divisor(Tensor b) except -1:
    """An integer division by zero traps in C: PyTorch's kernels refuse it
    with this text, and so do we, before computing. IN: b (any integer
    dtype, any layout)."""
    cdef Tensor c = b if b._dtype == I64 else cast_tensor(b, I64)
    cdef const int64_t* d
    cdef Py_ssize_t i
    cdef bint zero = False
    if not c._contiguous:
        c = contiguous_copy(c)
    d = <const int64_t*>c._data
    with nogil:
        for i in range(c._numel):
            if d[i] == 0:
                zero = True
                break
    if zero:
        raise RuntimeError("ZeroDivisionError")
    return 0


cdef Tensor rounding_kernel(int kind, Tensor a, Tensor b):
    """OUT kind(a, b), broadcast, in the promoted dtype (no history)."""
    cdef int dt = tensor_result_type(a, b)
    check_broadcast2(a, b)
    if dt == BOOL:
        raise NotImplementedError(f"\"{RD_KERNEL_NAMES[kind]}\" not implemented for 'Bool'")
    if not is_float(dt) and a._numel != 0:      # an empty result divides nothing: PyTorch checks no divisor
        check_integer_divisor(b)
    return binary_kernel(rounding_rows(kind), a, b, dt, dt, RD_KERNEL_NAMES[kind])


cdef Tensor number_operand(Tensor a, object s):
    """A Python number beside tensor a, as PyTorch wraps it: a zero-dim
    tensor of the dtype the pair promotes to (a number never widens a)."""
    return scalar_tensor(s, scalar_result_type(a._dtype, s))


cdef class NotImplementedBackward(Node):
    """The node PyTorch records for ops without a derivative (floor_divide,
    remainder with a number first): backward through it raises. Shown as
    NotImplemented, PyTorch's name (its type is renamed at import).
    Fields in _C.pxd."""

    def name(self):
        return "torch::autograd::NotImplemented"     # PyTorch's C++ name, as its name() shows it

    cdef tuple apply(self, object grads):
        if self.message is not None:
            raise NotImplementedError(self.message)
        raise RuntimeError(f"derivative for aten::{self.aten_name} is not implemented")


cg_rename_type(NotImplementedBackward, "NotImplemented", None, None)


cdef Tensor record_not_implemented(Tensor out, str aten_name, Tensor a, Tensor b):
    """History for an op without a derivative: one edge per tensor operand
    (b None for a number)."""
    cdef NotImplementedBackward node
    if not (needs_grad(a) or (b is not None and needs_grad(b))):
        return out
    node = NotImplementedBackward.__new__(NotImplementedBackward)
    if b is None:
        wire1(node, a)
    else:
        wire2(node, a, b)
    node.aten_name = aten_name
    set_history(out, node)
    return out


cdef class RemainderBackward0(Node):
    """x % number and fmod(x, number): the gradient passes through."""
    cdef tuple apply(self, object grads):
        return (grads,)


cdef class FmodBackward0(RemainderBackward0):
    pass


cdef class RemainderBackward1(BinaryNode):
    """remainder(a, b) = a - floor(a / b) * b: d/da = 1, d/db = -floor(a / b).
    Subclassed by fmod, whose quotient is truncated."""
    cdef readonly Tensor self_, other
    cdef long long self_version, other_version

    cdef str rounding(self):
        return "floor"

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = self.grad_a(g)
        if wants_grad(self, 1):
            gb = self.grad_b(op_mul(op_neg(g), op_div_rounding(
                unpack_input(self, self.self_, self.self_version),
                unpack_input(self, self.other, self.other_version), self.rounding())))
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.other = None


cdef class FmodBackward1(RemainderBackward1):
    cdef str rounding(self):
        return "trunc"


cdef Tensor op_remainder_like(int kind, Tensor a, object b):
    """remainder (kind RD_REMAINDER) or fmod (RD_FMOD) of tensor a by a
    tensor or a number b."""
    cdef Tensor bt, out
    cdef Node node0
    cdef RemainderBackward1 node
    if not isinstance(b, Tensor):
        out = rounding_kernel(kind, a, number_operand(a, b))
        if needs_grad(a):
            node0 = (RemainderBackward0.__new__(RemainderBackward0) if kind == RD_REMAINDER
                     else FmodBackward0.__new__(FmodBackward0))
            wire1(node0, a)
            set_history(out, node0)
        return out
    bt = <Tensor>b
    out = rounding_kernel(kind, a, bt)
    if needs_grad2(a, bt):
        node = (RemainderBackward1.__new__(RemainderBackward1) if kind == RD_REMAINDER
                else FmodBackward1.__new__(FmodBackward1))
        wire2(node, a, bt)
        node.note_inputs(a, bt, out)
        if wants_grad(node, 1):
            node.self_ = a
            node.self_version = save_version(node, a)
            node.other = bt
            node.other_version = save_version(node, bt)
        set_history(out, node)
    return out


cdef Tensor op_floor_divide(Tensor a, object b, bint reflected):
    """a // b (b // a when reflected), b a tensor or a number; no derivative."""
    cdef Tensor bt = <Tensor>b if isinstance(b, Tensor) else number_operand(a, b)
    cdef Tensor out = rounding_kernel(RD_FLOOR, bt, a) if reflected else rounding_kernel(RD_FLOOR, a, bt)
    return record_not_implemented(out, "floor_divide", a, <Tensor>b if isinstance(b, Tensor) else None)


cdef Tensor op_rremainder(Tensor a, object s):
    """number % a: PyTorch has no derivative for it."""
    return record_not_implemented(rounding_kernel(RD_REMAINDER, number_operand(a, s), a), "remainder",
                                  a, None)


cdef class DivBackward2(DivBackward0):
    """div with an explicit rounding_mode: floor and trunc have zero
    gradients; None divides as DivBackward0 does."""
    cdef object rounding_mode
    cdef tuple self_sizes, other_sizes
    cdef int self_dtype, other_dtype

    cdef tuple apply(self, object grads):
        cdef object ga = None, gb = None
        if self.rounding_mode is None:
            return DivBackward0.apply(self, grads)
        if wants_grad(self, 0):
            ga = zeros_like_shape(self.self_sizes, self.self_dtype)
        if wants_grad(self, 1):
            gb = zeros_like_shape(self.other_sizes, self.other_dtype)
        return (ga, gb)


cdef Tensor op_div_rounding(Tensor a, object b, object rounding_mode):
    """div(a, b, rounding_mode=...) with rounding_mode None, 'floor' or
    'trunc' given explicitly (PyTorch records DivBackward2 for all three);
    b a tensor or a number (wrapped: a None edge)."""
    cdef bint number = not isinstance(b, Tensor)
    cdef Tensor bt = number_operand(a, b) if number else <Tensor>b
    cdef Tensor out
    cdef DivBackward2 node
    cdef int prev
    global cgrad_grad_enabled
    if rounding_mode is None:
        prev = cgrad_grad_enabled
        cgrad_grad_enabled = 0
        try:
            out = op_div(a, bt)
        finally:
            cgrad_grad_enabled = prev
    else:
        out = rounding_kernel(RD_FLOOR if rounding_mode == "floor" else RD_TRUNC, a, bt)
    if needs_grad(a) or (not number and needs_grad(bt)):
        node = DivBackward2.__new__(DivBackward2)
        if number:
            wire_scalar(node, a)
        else:
            wire2(node, a, bt)
        node.note_inputs(a, bt, out)
        node.rounding_mode = rounding_mode
        if rounding_mode is None:
            node.other = bt
            node.other_version = save_version(node, bt)
            if wants_grad(node, 1):
                node.self_ = a
                node.self_version = save_version(node, a)
        else:
            node.self_sizes = shape_tuple(a)
            node.self_dtype = a._dtype
            node.other_sizes = shape_tuple(bt)
            node.other_dtype = bt._dtype
        set_history(out, node)
    return out


cdef Tensor rounding_inplace(Tensor self, object other, int kind, object rounding_mode):
    """self.floor_divide_ / remainder_ / fmod_ / div_(rounding_mode=...)
    (kind RD_DIV_MODE): computed out of place on self's old
    value, then written back, so a failure changes nothing."""
    cdef Tensor src = self, result
    cdef bint history
    check_inplace(self)
    history = records(self, other)
    if history:
        src = old_value(self, True)
    if kind == RD_FLOOR:
        result = op_floor_divide(src, other, False)
    elif kind == RD_DIV_MODE:
        result = op_div_rounding(src, other, rounding_mode)
    else:
        result = op_remainder_like(kind, src, other)
    check_inplace_result(self, result, False)
    if history:
        return commit_inplace(self, result)
    copy_into(self, result)
    self._storage.version += 1
    return self


# ---------------------------------------------------------------------------
# The Python surface: functions here, methods and operators in tensor.pxi.

cdef list REMAINDER_OPTIONS = [("(Tensor input, Tensor other, *, Tensor out = None)", None),
                               ("(Number self, Tensor other)", ["Number", "Tensor"]),
                               ("(Tensor input, Number other, *, Tensor out = None)", None)]
cdef list FMOD_OPTIONS = [("(Tensor input, Tensor other, *, Tensor out = None)", None),
                          ("(Tensor input, Number other, *, Tensor out = None)", None)]
cdef list FLOOR_DIVIDE_OPTIONS = [("(Tensor input, Tensor other, *, Tensor out = None)", None),
                                  ("(Tensor input, Number other)", ["Tensor", "Number"])]
cdef list ROUNDING_METHOD_OPTIONS = [("(Tensor other)", ["Tensor"]), ("(Number other)", ["Number"])]




cdef dict ROUNDING_MODE_OPTIONS = {
    # (name, method?) -> the overloads PyTorch lists when rounding_mode is not a str
    ("div", True): ["(Tensor other)", "(Tensor other, *, str rounding_mode)",
                    "(Number other, *, str rounding_mode)"],
    ("div_", True): ["(Tensor other)", "(Tensor other, *, str rounding_mode)",
                     "(Number other, *, str rounding_mode)"],
    ("divide", True): ["(Tensor other)", "(Tensor other, *, str rounding_mode)", "(Number other)",
                       "(Number other, *, str rounding_mode)"],
    ("divide_", True): ["(Tensor other)", "(Tensor other, *, str rounding_mode)", "(Number other)",
                        "(Number other, *, str rounding_mode)"],
    ("div", False): ["(Tensor input, Tensor other, *, Tensor out = None)",
                     "(Tensor input, Tensor other, *, str rounding_mode, Tensor out = None)",
                     "(Tensor input, Number other, *, str rounding_mode)"],
    ("divide", False): ["(Tensor input, Tensor other, *, Tensor out = None)",
                        "(Tensor input, Tensor other, *, str rounding_mode, Tensor out = None)",
                        "(Tensor input, Number other)", "(Tensor input, Number other, *, str rounding_mode)"],
}


cdef object check_rounding_mode(object rounding_mode, str fname, tuple args, bint method):
    """rounding_mode as div takes it: None, 'floor' or 'trunc'; args are the
    positional arguments, for PyTorch's text when it is not a str."""
    if rounding_mode is None or rounding_mode == "floor" or rounding_mode == "trunc":
        return rounding_mode
    if isinstance(rounding_mode, str):
        # divide is div's alias in PyTorch's kernel, whose text names div
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                           f"'floor' but found '{rounding_mode}'")
    got = ", ".join([py_typename(a) for a in args] + [f"rounding_mode={py_typename(rounding_mode)}"])
    raise TypeError(f"{fname}() received an invalid combination of arguments - got ({got}), but expected one "
                    "of:\n" + "".join([f" * {o}\n" for o in ROUNDING_MODE_OPTIONS[(fname, method)]]))


cdef object rounding_method(Tensor self, object other, int kind, str fname):
    if not tensor_or_number(other):
        raise invalid_arguments(fname, (other,), ROUNDING_METHOD_OPTIONS)
    other = normalize_scalar(other)
    if kind == RD_FLOOR:
        return op_floor_divide(self, other, False)
    return op_remainder_like(kind, self, other)


cdef object rounding_method_(Tensor self, object other, int kind, str fname):
    if not tensor_or_number(other):
        raise invalid_arguments(fname, (other,), ROUNDING_METHOD_OPTIONS)
    return rounding_inplace(self, normalize_scalar(other), kind, None)


cdef object divide_method(Tensor self, object other, object rounding_mode, str fname):
    if rounding_mode is NO_ARG:
        other = check_other(other, fname, 1)
        if isinstance(other, Tensor):
            return op_div(self, <Tensor>other)
        return op_div_scalar(self, other)
    rounding_mode = check_rounding_mode(rounding_mode, fname, (other,), True)
    return op_div_rounding(self, check_other(other, fname, 1), rounding_mode)


cdef object divide_method_(Tensor self, object other, object rounding_mode, str fname):
    if rounding_mode is NO_ARG:
        return inplace_arith_method(IP_DIV, self, other, None, fname)
    rounding_mode = check_rounding_mode(rounding_mode, fname, (other,), True)
    return rounding_inplace(self, check_other(other, fname), RD_DIV_MODE, rounding_mode)


def floor_divide(input, other, *, out=None):
    """input // other, rounded toward minus infinity (no derivative)."""
    if not isinstance(input, Tensor) and is_scalar(input) and tensor_or_number(other):
        # a number for `input`, which PyTorch's argument parser allows here
        if isinstance(other, Tensor):
            return with_out(op_floor_divide(<Tensor>other, normalize_scalar(input), True), out, "floor_divide")
        input = wrapped_number(input)
    if not isinstance(input, Tensor) or not tensor_or_number(other):
        raise invalid_arguments("floor_divide", (input, other), FLOOR_DIVIDE_OPTIONS)
    return with_out(op_floor_divide(<Tensor>input, normalize_scalar(other), False), out, "floor_divide")


def remainder(input, other, *, out=None):
    """Python's modulus: the result takes the divisor's sign."""
    if isinstance(input, Tensor) and tensor_or_number(other):
        return with_out(op_remainder_like(RD_REMAINDER, <Tensor>input, normalize_scalar(other)), out, "remainder")
    if is_scalar(input) and isinstance(other, Tensor) and out is None:    # (Number self, Tensor other): no out=
        return op_rremainder(<Tensor>other, normalize_scalar(input))
    raise invalid_arguments("remainder", (input, other), REMAINDER_OPTIONS)


def fmod(input, other, *, out=None):
    """C's fmod: the result takes the dividend's sign."""
    if not isinstance(input, Tensor) or not tensor_or_number(other):
        raise invalid_arguments("fmod", (input, other), FMOD_OPTIONS)
    return with_out(op_remainder_like(RD_FMOD, <Tensor>input, normalize_scalar(other)), out, "fmod")
