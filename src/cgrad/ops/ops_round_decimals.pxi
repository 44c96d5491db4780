# round(input, decimals=d): PyTorch's second overload, nearbyint(x * 10^d) /
# 10^d (or nearbyint(x / 10^-d) * 10^-d for d < 0) in the dtype's opmath
# type (float for float16 and float32, so float16 rounds once at the end),
# recorded as RoundBackward1 (a zero gradient). Integer and bool inputs are
# refused once decimals is given, with PyTorch's kernel names.


cdef class RoundBackward1(Node):
    cdef tuple apply(self, object grads):
        return (op_zeros_like(<Tensor>grads),)

    cdef object fw_jvp(self, tuple inputs, tuple tangents, Tensor out, int nr):
        return op_zeros_like(out)       # PyTorch's round JVP: zeros


cdef Py_ssize_t decimals_arg(object decimals, str fname, bint method) except? -1:
    if not is_int_like(decimals, True):
        t = type(decimals).__name__
        if method:
            raise TypeError(
                f"{fname}() received an invalid combination of arguments - got (decimals={t}, ), but expected one of:\n"
                " * ()\n * (*, int decimals)\n")
        raise TypeError(
            f"{fname}() received an invalid combination of arguments - got (Tensor, decimals={t}), but expected one of:\n"
            f" * (Tensor input, *, Tensor out = None)\n * (Tensor input, *, int decimals, Tensor out = None)\n")
    return _operator.index(decimals)


cdef Tensor round_decimals_values(Tensor x, Py_ssize_t decimals):
    """The rounded values of x, without history."""
    cdef Tensor a = alias_detached(x)
    cdef double p
    a._requires_grad = False
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"{'round_vml_cpu' if decimals == 0 else 'round_cpu'}\" not implemented for "
                                  f"'{dtype_title(x._dtype)}'")
    p = 10.0 ** (-decimals if decimals < 0 else decimals)
    if is_half16(x._dtype):
        a = cast_tensor(a, F32)
    if decimals < 0:
        a = op_mul_scalar(op_round(op_div_scalar(a, p)), p)
    else:
        a = op_div_scalar(op_round(op_mul_scalar(a, p)), p)
    if is_half16(x._dtype):
        a = cast_tensor(a, x._dtype)
    return a


cdef Tensor op_round_decimals(Tensor x, object decimals, bint method):
    cdef Tensor out = round_decimals_values(x, decimals_arg(decimals, "round", method))
    cdef RoundBackward1 node
    if needs_grad(x):
        node = RoundBackward1.__new__(RoundBackward1)
        wire1(node, x)
        set_history(out, node)
    return out


cdef Tensor op_round_decimals_(Tensor x, object decimals):
    cdef Py_ssize_t d = decimals_arg(decimals, "round_", True)
    check_inplace(x)
    if (cgrad_grad_enabled and x._requires_grad) or (cgrad_fwd_active and x._fw_grad is not None):
        return commit_inplace(x, op_round_decimals(old_value(x, False), d, True))
    copy_into(x, round_decimals_values(x, d))
    x._storage.version += 1
    return x
