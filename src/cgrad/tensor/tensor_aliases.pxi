# Tensor methods under PyTorch's alias names (arccos for acos, ..., fix for
# trunc, with their in-place forms): the op's own method objects, installed
# when the module loads, like every compiled method (the functions
# cgrad.arccos, ... are in cgrad/_aliases.py). Also atan2_ and its alias
# arctan2_, PyTorch's in-place atan2 (Atan2Backward0 on the old value), and
# the function arctan2, whose argument errors name the alias while errors
# from inside the op name atan2, as PyTorch's.


def arctan2(input, other, *, out=None):
    return with_out(op_atan2(input_arg(input, "arctan2"), need_tensor(other, "arctan2", "other", 2)), out, "atan2")


cdef Tensor atan2_table_op(Tensor a, Tensor b, int which):
    return op_atan2(a, b)


def _tensor_atan2_(Tensor self, other):
    return binary_inplace(atan2_table_op, self, need_tensor(other, "atan2_", "other", 1), 0)


def _tensor_arctan2_(Tensor self, other):
    return binary_inplace(atan2_table_op, self, need_tensor(other, "arctan2_", "other", 1), 0)


cdef void install_alias_methods() except *:
    cdef dict d = <dict>(<PyTypeObject*>Tensor).tp_dict
    cdef dict methods = {"atan2_": _tensor_atan2_, "arctan2_": _tensor_arctan2_}
    for alias, op in (("arccos", "acos"), ("arcsin", "asin"), ("arctan", "atan"), ("arccosh", "acosh"),
                      ("arcsinh", "asinh"), ("arctanh", "atanh"), ("fix", "trunc")):
        methods[alias] = d[op]
        methods[alias + "_"] = d[op + "_"]
    install_tensor_methods(methods)
# (called at the end of _C.pyx, once the op table's module has installed
# the methods of acosh, asinh and atanh)
