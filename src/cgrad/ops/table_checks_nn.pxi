# Argument checks and defaults of the op table's nn rows (selu, celu,
# nan_to_num), with PyTorch's error texts, and the renaming of a table node
# class whose PyTorch name a hand-written node already holds.

from libc.float cimport DBL_MAX


cdef int check_celu_alpha(double alpha) except -1:
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return 0


cdef int check_inplace_elu_alpha(double alpha) except -1:
    """elu's in-place forms differentiate from the result, which a negative
    alpha makes ambiguous: PyTorch refuses at backward time."""
    if alpha < 0:
        raise RuntimeError("In-place elu backward calculation is triggered with a negative slope which is not "
                           "supported. This is caused by calling in-place forward function with a negative slope, "
                           "please call out-of-place version instead.")
    return 0


cdef double float_max_of(object x):
    """The largest finite value of x's float dtype (nan_to_num's default
    posinf); 0 for other inputs, whose kernels never read it."""
    if isinstance(x, Tensor):
        if (<Tensor>x)._dtype == F64:
            return DBL_MAX
        if (<Tensor>x)._dtype == F32:
            return FLT_MAX
        if (<Tensor>x)._dtype == F16:
            return 65504.0
        if (<Tensor>x)._dtype == BF16:
            return BFLOAT16_MAX
    return 0.0


cdef int check_out_same_dtype(object out, Tensor a, str fname) except -1:
    if (<Tensor>out)._dtype != a._dtype:
        raise RuntimeError(f"{fname}: dtype of out: {dtype_title((<Tensor>out)._dtype)} should be same as input: "
                           f"{dtype_title(a._dtype)}")
    return 0


cdef void name_node_type(type cls, str name) except *:
    """Give a node class PyTorch's name (its __name__, qualname and repr):
    the new tp_name's bytes are kept alive for as long as the type."""
    cdef PyTypeObject* tp = <PyTypeObject*>cls
    cdef bytes old = tp.tp_name
    cdef bytes full = old.rsplit(b".", 1)[0] + b"." + name.encode()
    Py_INCREF(full)
    tp.tp_name = <const char*>full
    PyType_Modified(tp)


cdef inline double float32_round(double v):
    """A Python number rounded to float32 (Scalar.toFloat() in formulas)."""
    return <float>v
