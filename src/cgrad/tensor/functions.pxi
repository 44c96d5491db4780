# The cgrad.* functions of PyTorch's torch.* namespace that mirror Tensor
# methods: argument checks, then the same op_* calls.


cdef object number_first(int which, object number, Tensor t, object alpha):
    """add/sub/mul/div(number, t): PyTorch's argument parser lets these (and
    their aliases and true_divide) take a Python number for `input`. Against
    a tensor the number is the scalar of the reflected op, as in `2 - t` (it
    keeps its lower rank in type promotion); against a number the callers
    wrap it (wrapped_number) and go on as for a tensor."""
    if which == 0:      # number + alpha * t, one rounding as add's: rsub's number - (-alpha) * t
        if type(alpha) is int and alpha == 1:
            return binary_dispatch(0, t, number, True)
        return op_rsub_scalar(t, normalize_scalar(number), -alpha)
    if which == 1 or which == 3:
        # PyTorch's parser wraps the number into a tensor of the ordinary op (SubBackward0,
        # DivBackward0), its dtype the one the number gives beside t (a wrapped number)
        number = normalize_scalar(number)
        if which == 1 and isinstance(number, bool):
            check_bool_sub(t, number)
        # div computes integers in float: there the number keeps its own value (-3 beside uint8)
        wrapped = scalar_tensor(number, number_dtype(t._dtype, number, which == 3))
        return op_sub(wrapped, t, alpha) if which == 1 else op_div(wrapped, t)
    return binary_dispatch(which, t, number, True)


def add(input, other, *deprecated, alpha=1, out=None):
    if deprecated:
        other, alpha = alpha_first_args("add", False, other, deprecated, alpha)
    if not isinstance(input, Tensor) and is_scalar(input):
        if isinstance(other, Tensor):
            return with_out(number_first(0, input, <Tensor>other, alpha), out, "add")
        input = wrapped_number(input)
    cdef Tensor a = input_arg(input, "add")
    other = check_other(other, "add")
    if isinstance(other, Tensor):
        return with_out(op_add(a, <Tensor>other, alpha), out, "add")
    return with_out(op_add_scalar(a, other, alpha), out, "add")


def addmm(input, mat1, mat2, *deprecated, beta=1, alpha=1, out=None):
    if deprecated:
        input, mat1, mat2, beta, alpha = beta_first_args("addmm", False, (input, mat1, mat2) + deprecated,
                                                         beta, alpha)
    return with_out(op_addmm_ab(autocast_lower(input_arg(input, "addmm")),
                                autocast_lower(need_tensor(mat1, "addmm", "mat1", 2)),
                                autocast_lower(need_tensor(mat2, "addmm", "mat2", 3)), normalize_scalar(beta),
                                normalize_scalar(alpha)), out, "addmm")


def sub(input, other, *deprecated, alpha=1, out=None):
    if deprecated:
        other, alpha = alpha_first_args("sub", False, other, deprecated, alpha)
    if not isinstance(input, Tensor) and is_scalar(input):
        if isinstance(other, Tensor):
            return with_out(number_first(1, input, <Tensor>other, alpha), out, "sub")
        input = wrapped_number(input)
    cdef Tensor a = input_arg(input, "sub")
    other = check_other(other, "sub")
    if isinstance(other, Tensor):
        return with_out(op_sub(a, <Tensor>other, alpha), out, "sub")
    return with_out(op_sub_scalar(a, other, alpha), out, "sub")


subtract = sub


def rsub(input, other, *, alpha=1):
    """other - alpha * input"""
    cdef Tensor a = input_arg(input, "rsub")
    other = check_other(other, "rsub")
    if isinstance(other, Tensor):
        return op_sub(<Tensor>other, a, alpha)
    return op_rsub_scalar(a, other, alpha)


def mul(input, other, *, out=None):
    if not isinstance(input, Tensor) and is_scalar(input):
        if isinstance(other, Tensor):
            return with_out(number_first(2, input, <Tensor>other, 1), out, "mul")
        input = wrapped_number(input)
    cdef Tensor a = input_arg(input, "mul")
    other = check_other(other, "mul")
    if isinstance(other, Tensor):
        return with_out(op_mul(a, <Tensor>other), out, "mul")
    return with_out(op_mul_scalar(a, other), out, "mul")


multiply = mul


cdef object divide_function(str fname, object input, object other, object rounding_mode):
    if not isinstance(input, Tensor) and is_scalar(input):
        if rounding_mode is NO_ARG and isinstance(other, Tensor):
            return number_first(3, input, <Tensor>other, 1)
        input = wrapped_number(input)
    cdef Tensor a = input_arg(input, fname)
    if rounding_mode is not NO_ARG:
        rounding_mode = check_rounding_mode(rounding_mode, fname, (input, other), False)
        return op_div_rounding(a, check_other(other, fname), rounding_mode)
    other = check_other(other, fname)
    if isinstance(other, Tensor):
        return op_div(a, <Tensor>other)
    return op_div_scalar(a, other)


def div(input, other, *, rounding_mode=NO_ARG, out=None):
    return with_out(divide_function("div", input, other, rounding_mode), out, "div")


def divide(input, other, *, rounding_mode=NO_ARG, out=None):
    return with_out(divide_function("divide", input, other, rounding_mode), out, "divide")


def true_divide(input, other, *, out=None):
    return with_out(divide_function("true_divide", input, other, NO_ARG), out, "true_divide")


def _pow(input, exponent, *, out=None):
    """input ** exponent; either (not both) may be a Python number."""
    if isinstance(input, Tensor):
        exponent = check_other(exponent, "pow")
        if isinstance(exponent, Tensor):
            return with_out(op_pow(<Tensor>input, <Tensor>exponent), out, "pow")
        return with_out(op_pow_scalar(<Tensor>input, exponent), out, "pow")
    if is_scalar(input) and isinstance(exponent, Tensor):
        return with_out(op_rpow_scalar(<Tensor>exponent, normalize_scalar(input)), out, "pow")
    raise TypeError(f"pow(): argument 'input' (position 1) must be Tensor, not {py_typename(input)}")


negative = neg
negative_ = neg_
absolute = _abs


def relu(input):
    return op_relu(input_arg(input, "relu"))


def _sum(input, dim=NO_ARG, keepdim=False, *, dtype=None, out=None, **kwargs):
    if kwargs:
        dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "sum")
    # dim=None given is the dim overload (SumBackward1 / MeanBackward1), over every dim as ()
    dim = None if dim is NO_ARG else (() if dim is None else dim)
    if out is not None and dtype is None and isinstance(out, Tensor):
        dtype = out.dtype       # PyTorch's sum_out sums in out's dtype (each element converted first)
    return with_out(op_sum(input_arg(input, "sum"), dim, keepdim, dtype), out, "sum")


cdef object mean_out_dtype(Tensor x, object dtype, Tensor out):
    """The dtype PyTorch's mean_out computes in: a given dtype, which must be
    out's; else out's, which must be floating when the input is (an integer
    input keeps mean's could-not-infer error)."""
    if dtype is not None:
        if dtype_code(dtype) != out._dtype:
            raise RuntimeError(f"Expected out tensor to have dtype {dtype_name_short(dtype_code(dtype))}, "
                               f"but got {dtype_name_short(out._dtype)} instead")
        return dtype
    if not is_float(x._dtype):
        return None
    if not is_float(out._dtype):
        raise RuntimeError(f"result type Float can't be cast to the desired output type {dtype_title(out._dtype)}")
    return out.dtype


def mean(input, dim=NO_ARG, keepdim=False, *, dtype=None, out=None, **kwargs):
    cdef Tensor x
    if kwargs:
        dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "mean")
    # dim=None given is the dim overload (SumBackward1 / MeanBackward1), over every dim as ()
    dim = None if dim is NO_ARG else (() if dim is None else dim)
    x = input_arg(input, "mean")
    if out is not None and isinstance(out, Tensor):
        dtype = mean_out_dtype(x, dtype, <Tensor>out)
    return with_out(op_mean(x, dim, keepdim, dtype), out, "mean")


def mm(input, mat2, *, out=None):
    return with_out(op_mm(input_arg(input, "mm"), tensor_param(mat2, "mm", "mat2", 2)), out, "mm")


def mv(input, vec, *, out=None):
    return with_out(op_mv(input_arg(input, "mv"), tensor_param(vec, "mv", "vec", 2)), out, "mv")


def dot(input, tensor, *, out=None):
    return with_out(op_dot(input_arg(input, "dot"), tensor_param(tensor, "dot", "tensor", 2)), out, "dot")


def matmul(input, other, *, out=None):
    return with_out(op_matmul(input_arg(input, "matmul"), tensor_param(other, "matmul", "other", 2)), out, "matmul")


def t(input):
    return op_t(input_arg(input, "t"))


def reshape(input, shape):
    cdef Tensor x = input_arg(input, "reshape")
    return op_reshape(x, int_list_value(shape, "reshape", "shape", 2))


def permute(input, dims):
    cdef Tensor x = input_arg(input, "permute")
    return op_permute(x, int_list_value(dims, "permute", "dims", 2))


def transpose(input, dim0, dim1):
    cdef Tensor x = input_arg(input, "transpose")
    return op_transpose(x, int_arg(dim0, "transpose", "dim0", 2), int_arg(dim1, "transpose", "dim1", 3))


def unsqueeze(input, dim=NO_ARG, *, axis=NO_ARG):
    cdef Tensor x = input_arg(input, "unsqueeze")
    return op_unsqueeze(x, int_arg(dim_or_axis(dim, axis, NO_ARG, "unsqueeze"), "unsqueeze", "dim", 2))


def squeeze(input, *args, **kwargs):
    cdef Tensor x = input_arg(input, "squeeze")
    return op_squeeze_any(x, squeeze_dim_args(args, kwargs, True))


def clone(input, *, memory_format=None):
    if memory_format is None:
        return op_clone(input_arg(input, "clone"))
    return op_clone_as(input_arg(input, "clone"), format_code(memory_format, "clone", FMT_PRESERVE))


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input_arg(input, "numel")._numel


export_as("pow", _pow)
export_as("sum", _sum)


cdef Tensor as_float64(Tensor t):
    return t if t._dtype == F64 else op_to_dtype(t, F64)


cdef Tensor float_power_of(object input, object exponent, str fname):
    """PyTorch's composite: both operands taken in float64, then pow (so the
    nodes are ToCopyBackward0 and PowBackward0/1/2)."""
    if isinstance(input, Tensor):
        if isinstance(exponent, Tensor):
            return op_pow(as_float64(<Tensor>input), as_float64(<Tensor>exponent))
        if is_scalar(exponent):
            return op_pow_scalar(as_float64(<Tensor>input), float(exponent))
        raise TypeError(f"{fname}(): argument 'exponent' must be Tensor or Number, not {py_typename(exponent)}")
    if is_scalar(input) and isinstance(exponent, Tensor):
        return op_rpow_scalar(as_float64(<Tensor>exponent), float(input))
    raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {py_typename(input)}")


def float_power(input, exponent, *, out=None):
    return with_out(float_power_of(input, exponent, "float_power"), out, "float_power")


def _tensor_float_power(self, exponent):
    return float_power_of(self, exponent, "float_power")


def _tensor_float_power_(self, exponent):
    cdef Tensor x = input_arg(self, "float_power_")
    if x._dtype != F64:
        raise RuntimeError(f"the base given to float_power_ has dtype {dtype_title(x._dtype)} but the "
                           "operation's result requires dtype Double")
    return x.copy_(float_power_of(x, exponent, "float_power_")) if not (cgrad_grad_enabled and x._requires_grad) \
        else x.copy_(float_power_of(x.clone(), exponent, "float_power_"))


install_tensor_methods({"float_power": _tensor_float_power, "float_power_": _tensor_float_power_})
