# What the rendered op table (src/_generated/ops_*_table.pxi, from
# src/codegen/) calls besides the core: the kernel drivers that pass an op's
# scalar parameters to its row kernels, the fused backward driver, and the
# installation of generated Tensor methods and nn.functional entries.

from cpython.object cimport PyTypeObject

cdef extern from "Python.h":
    void PyType_Modified(PyTypeObject*)


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
    out = new_tensor(g._ndim, g._shape, g._dtype)
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


cdef inline int op_result_dtype(Tensor x) noexcept:
    return x._dtype if is_float(x._dtype) else DEFAULT_FLOAT


cdef int check_out_dtype(object out, int dt) except -1:
    """out= of ops whose kernels PyTorch runs on out itself: same dtype."""
    if (<Tensor>out)._dtype != dt:
        raise RuntimeError(f"Found dtype {dtype_title((<Tensor>out)._dtype)} but expected {dtype_title(dt)}")
    return 0


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
