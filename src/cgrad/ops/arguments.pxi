# The Python arguments of the ops, checked as PyTorch's argument parser
# checks them: a Tensor where one is required and a Tensor or a number for
# `other`, with PyTorch's TypeError texts; and a one-element tensor's value
# as a Python number. The ops, the cgrad.* functions (tensor/functions.pxi)
# and Tensor's methods all call them, so they sit in the ops layer.


cdef inline int check_alpha(int dt, object alpha) except -1:
    """PyTorch's checks of add's and sub's alpha against the result dtype.
    Inline: the operators pass no alpha (None) and a Python int always
    passes, so a call costs one or two pointer tests."""
    if alpha is None or type(alpha) is int:
        return 0
    return check_alpha_value(dt, alpha)


cdef int check_alpha_value(int dt, object alpha) except -1:
    if isinstance(alpha, bool) and dt != BOOL:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if not is_float(dt) and not isinstance(alpha, (bool, int)) and not (
            isinstance(alpha, np.integer) or isinstance(alpha, np.bool_)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return 0


cdef Tensor wrapped_number(object x):
    """A Python number given for a tensor, as PyTorch's argument parser wraps
    it where it allows one: a 0-dim tensor (int64, the default float dtype,
    bool)."""
    return tensor(normalize_scalar(x))


cdef Tensor input_arg(object x, str fname):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {py_typename(x)}")


cdef object check_other(object other, str fname, int position=2):
    """`position`: 2 in the function (after input), 1 in the method."""
    if isinstance(other, Tensor) or is_scalar(other):
        return normalize_scalar(other)
    raise TypeError(f"{fname}(): argument 'other' (position {position}) must be Tensor, not {py_typename(other)}")


cdef Tensor tensor_arg(object x, str fname, str argname="other"):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument '{argname}' (position 1) must be Tensor, not {py_typename(x)}")


cdef object scalar_value(Tensor t):
    """The single element of t as a Python number."""
    if t._dtype == F32:
        return <double>(<float*>t._data)[0]
    if t._dtype == F64:
        return (<double*>t._data)[0]
    if t._dtype == I64:
        return (<int64_t*>t._data)[0]
    if t._dtype == BOOL:
        return (<uint8_t*>t._data)[0] != 0
    if t._dtype == F16:
        return <double>cg_h2f((<uint16_t*>t._data)[0])
    if t._dtype == BF16:
        return <double>cg_bf2f((<uint16_t*>t._data)[0])
    if t._dtype == I32:
        return (<int32_t*>t._data)[0]
    if t._dtype == I16:
        return (<int16_t*>t._data)[0]
    if t._dtype == I8:
        return (<int8_t*>t._data)[0]
    return (<uint8_t*>t._data)[0]
