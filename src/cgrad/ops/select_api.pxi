# Selecting reductions, layer 3: PyTorch's overloaded Python signatures
# (max(input), max(input, dim, keepdim), max(input, other), ...), their
# argument errors, return types, and the cgrad.* functions.

# ---------------------------------------------------------------------------
# Argument checks shared by the family (PyTorch's argument parser's texts)

cdef object dtype_cls = dtype


cdef str arg_error(str fname, str argname, int position, str expected, object value):
    if position > 0:
        return (f"{fname}(): argument '{argname}' (position {position}) must be {expected}, "
                f"not {type(value).__name__}")
    return f"{fname}(): argument '{argname}' must be {expected}, not {type(value).__name__}"


cdef bint bool_arg(object v, str fname, str argname, int position) except -1:
    if v is True or v is False:
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(arg_error(fname, argname, position, "bool", v))


cdef bint is_int_arg(object v):
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    if isinstance(v, Tensor):
        return (<Tensor>v)._ndim == 0 and (<Tensor>v)._dtype == I64
    return False


cdef object int_dim_arg(object v, str fname, int position):
    """An `int dim` argument."""
    if not is_int_arg(v):
        raise TypeError(arg_error(fname, "dim", position, "int", v))
    return _operator.index(v)


cdef object dims_list_arg(object v, str fname, int position):
    """A `tuple of ints dim` argument: an int or a sequence of ints."""
    cdef list out
    if is_int_arg(v):
        return _operator.index(v)
    if isinstance(v, (tuple, list)):
        out = []
        for k, item in enumerate(v):
            if not is_int_arg(item):
                where = f" (position {position})" if position > 0 else ""
                raise TypeError(f"{fname}(): argument 'dim'{where} must be tuple of ints, but found "
                                f"element of type {type(item).__name__} at pos {k}")
            out.append(_operator.index(item))
        return tuple(out)
    raise TypeError(arg_error(fname, "dim", position, "tuple of ints", v))


cdef str got_types(tuple args, dict kwargs):
    cdef list parts = [type(a).__name__ for a in args]
    cdef list kws = [f"{k}={type(v).__name__}" for k, v in reversed(list(kwargs.items()))]
    if parts:
        return ", ".join(parts + kws)
    return "".join([k + ", " for k in kws])


cdef object invalid_combination(str fname, tuple args, dict kwargs, list signatures):
    return TypeError(
        f"{fname}() received an invalid combination of arguments - got ({got_types(args, kwargs)}), "
        "but expected one of:\n" + "".join([f" * {s}\n" for s in signatures]))


cdef Tensor input_of(tuple args, dict kwargs, str fname):
    """The `input` of a cgrad.* function: args[0] or input=..."""
    if args:
        x = args[0]
    elif "input" in kwargs:
        x = kwargs["input"]
    else:
        return None
    if not isinstance(x, Tensor):
        raise TypeError(arg_error(fname, "input", 1, "Tensor", x))
    return <Tensor>x


cdef object take_kw(dict kwargs, str name):
    return kwargs.pop(name, NO_ARG)


cdef int pop_out_kwarg(dict kwargs, str fname) except -1:
    """The methods take no out= (the functions take it off first and write
    the result into it); out=None is accepted."""
    out = kwargs.pop("out", None)
    if out is not None:
        raise TypeError(f"{fname}() received an invalid combination of arguments - got (out={py_typename(out)}, ), "
                        "but the method takes no out= (the function cgrad.{fname} does)")
    return 0


cdef int no_extra_kwargs(dict kwargs, str fname) except -1:
    for k in kwargs:
        raise TypeError(f"{fname}() got an unexpected keyword argument '{k}'")
    return 0


# ---------------------------------------------------------------------------
# The named tuple of (values, indices), as torch.return_types.max/min.

def _return_type_new(cls, sequence):
    sequence = tuple(sequence)
    if len(sequence) != 2:
        raise TypeError(f"cgrad.return_types.{cls.__name__} takes a 2-sequence "
                        f"({len(sequence)}-sequence given)")
    return tuple.__new__(cls, sequence)


def _return_type_repr(self):
    return (f"cgrad.return_types.{type(self).__name__}(\nvalues={tuple.__getitem__(self, 0)!r},\n"
            f"indices={tuple.__getitem__(self, 1)!r})")


def _return_type_values(self):
    return tuple.__getitem__(self, 0)


def _return_type_indices(self):
    return tuple.__getitem__(self, 1)


cdef object make_return_type(str name):
    return type(name, (tuple,), {
        "__slots__": (),
        "__module__": "cgrad.return_types",
        "__qualname__": name,
        "__doc__": f"The (values, indices) that {name}(dim) returns.",
        "__new__": staticmethod(_return_type_new),
        "__repr__": _return_type_repr,
        "values": property(_return_type_values),
        "indices": property(_return_type_indices),
        "n_fields": 2,
        "n_sequence_fields": 2,
        "n_unnamed_fields": 0,
    })


class return_types:
    """The named tuples of values and indices that reductions return, as
    torch.return_types."""


return_types.max = make_return_type("max")
return_types.min = make_return_type("min")


cdef object values_indices(bint is_max, tuple vi):
    return tuple.__new__(return_types.max if is_max else return_types.min, vi)


# ---------------------------------------------------------------------------
# Argument handling of the family, shared by the Tensor methods (method=True)
# and the cgrad.* functions (arguments after `input`).

cdef list MAX_SIGS_METHOD = ["()", "(Tensor other)", "(int dim, bool keepdim = False)"]
cdef list MAX_SIGS_FUNC = ["(Tensor input, *, Tensor out = None)",
                           "(Tensor input, Tensor other, *, Tensor out = None)",
                           "(Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)"]


cdef object call_maximum(bint is_max, Tensor x, Tensor other):
    """max(a, b) is maximum(a, b): the elementwise op of ops_compare.pxi,
    reached through the module's `maximum` function when it exists."""
    cdef str name = "maximum" if is_max else "minimum"
    fn = _MODULE_NAMESPACE.get(name)
    if fn is None:
        raise TypeError(f"{'max' if is_max else 'min'}(input, other): the elementwise form needs "
                        f"cgrad.{name}, which this build of cgrad does not have")
    return fn(x, other)


cdef object max_min_impl(bint is_max, Tensor x, tuple args, dict kwargs, bint method):
    cdef str fname = "max" if is_max else "min"
    cdef int base = 0 if method else 1     # positions of the arguments after input
    cdef list sigs = MAX_SIGS_METHOD if method else MAX_SIGS_FUNC
    cdef dict kw = dict(kwargs)
    cdef tuple shown = args if method else (x,) + args
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    other = take_kw(kw, "other")
    pop_out_kwarg(kw, fname)
    if kw:
        raise invalid_combination(fname, shown, kwargs, sigs)
    if len(args) > 2:
        raise invalid_combination(fname, shown, kwargs, sigs)
    if len(args) >= 1:
        if dim is not NO_ARG or other is not NO_ARG:
            if dim is not NO_ARG and is_int_arg(args[0]) and not isinstance(args[0], Tensor):
                raise TypeError(f"{fname}() got multiple values for argument 'dim'")
            raise invalid_combination(fname, shown, kwargs, sigs)
        if isinstance(args[0], Tensor):
            other = args[0]      # even a 0-d integer tensor, as in PyTorch (dim=t is a dim)
        else:
            dim = args[0]
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'keepdim'")
        if other is not NO_ARG:
            raise TypeError(arg_error(fname, "dim", base + 1, "int", other))
        keepdim = args[1]
    if other is not NO_ARG:
        if not isinstance(other, Tensor) or keepdim is not NO_ARG or dim is not NO_ARG:
            raise invalid_combination(fname, shown, kwargs, sigs)
        return call_maximum(is_max, x, <Tensor>other)
    if dim is NO_ARG:
        if keepdim is not NO_ARG:
            raise invalid_combination(fname, shown, kwargs, sigs)
        return op_max_all(x, is_max)
    if not is_int_arg(dim):
        raise invalid_combination(fname, shown, kwargs, sigs)
    kd = False
    if keepdim is not NO_ARG:
        kd = bool_arg(keepdim, fname, "keepdim", base + 2 if len(args) == 2 else 0)
    return values_indices(is_max, op_max_dim(x, _operator.index(dim), kd, is_max))


cdef object amax_impl(bint is_max, Tensor x, tuple args, dict kwargs, bint method):
    cdef str fname = "amax" if is_max else "amin"
    cdef int base = 0 if method else 1
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    pop_out_kwarg(kw, fname)
    no_extra_kwargs(kw, fname)
    if len(args) > 2:
        raise TypeError(f"{fname}() takes from {base} to {base + 2} positional arguments but "
                        f"{len(args) + base} were given")
    dpos = 0
    kpos = 0
    if len(args) >= 1:
        if dim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'dim'")
        dim = args[0]
        dpos = base + 1
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'keepdim'")
        keepdim = args[1]
        kpos = base + 2
    if dim is NO_ARG or dim is None:
        dim = ()
    else:
        dim = dims_list_arg(dim, fname, dpos)
    kd = False if keepdim is NO_ARG else bool_arg(keepdim, fname, "keepdim", kpos)
    return op_amax(x, dim, kd, is_max)


cdef object argmax_impl(bint is_max, Tensor x, tuple args, dict kwargs, bint method):
    cdef str fname = "argmax" if is_max else "argmin"
    cdef int base = 0 if method else 1
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    pop_out_kwarg(kw, fname)
    no_extra_kwargs(kw, fname)
    if len(args) > 2:
        raise TypeError(f"{fname}() takes from {base} to {base + 2} positional arguments but "
                        f"{len(args) + base} were given")
    dpos = 0
    kpos = 0
    if len(args) >= 1:
        if dim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'dim'")
        dim = args[0]
        dpos = base + 1
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError(f"{fname}() got multiple values for argument 'keepdim'")
        keepdim = args[1]
        kpos = base + 2
    if dim is NO_ARG:
        dim = None
    elif dim is not None:
        dim = int_dim_arg(dim, fname, dpos)
    kd = False if keepdim is NO_ARG else bool_arg(keepdim, fname, "keepdim", kpos)
    return op_argmax(x, dim, kd, is_max)


cdef list PROD_SIGS_METHOD = ["(*, cgrad.dtype dtype = None)",
                              "(int dim, bool keepdim = False, *, cgrad.dtype dtype = None)"]
cdef list PROD_SIGS_FUNC = ["(Tensor input, *, cgrad.dtype dtype = None)",
                            "(Tensor input, int dim, bool keepdim = False, *, cgrad.dtype dtype = None, "
                            "Tensor out = None)"]


cdef object prod_impl(Tensor x, tuple args, dict kwargs, bint method):
    cdef int base = 0 if method else 1
    cdef list sigs = PROD_SIGS_METHOD if method else PROD_SIGS_FUNC
    cdef tuple shown = args if method else (x,) + args
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    dtype = take_kw(kw, "dtype")
    pop_out_kwarg(kw, "prod")
    if kw:
        raise invalid_combination("prod", shown, kwargs, sigs)
    if len(args) > 2:
        raise TypeError(f"prod() takes from {base + 1} to {base + 2} positional arguments but "
                        f"{len(args) + base} were given")
    kpos = 0
    if len(args) >= 1:
        if dim is not NO_ARG:
            raise TypeError("prod() got multiple values for argument 'dim'")
        dim = args[0]
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError("prod() got multiple values for argument 'keepdim'")
        keepdim = args[1]
        kpos = base + 2
    if dtype is NO_ARG:
        dtype = None
    elif dtype is not None and not isinstance(dtype, dtype_cls) and dtype not in (float, int, bool):
        raise invalid_combination("prod", shown, kwargs, sigs)
    if dim is NO_ARG:
        if keepdim is not NO_ARG:
            if not method:
                raise invalid_combination("prod", shown, kwargs, sigs)
            raise TypeError('prod() missing 1 required positional arguments: "dim"')
        return op_prod(x, None, False, dtype)
    if not is_int_arg(dim):
        raise invalid_combination("prod", shown, kwargs, sigs)
    kd = False if keepdim is NO_ARG else bool_arg(keepdim, "prod", "keepdim", kpos)
    return op_prod(x, _operator.index(dim), kd, dtype)


cdef list VAR_SIGS_METHOD = ["(tuple of ints dim, bool unbiased = True, bool keepdim = False)",
                             "(tuple of ints dim = None, *, Number correction = None, bool keepdim = False)",
                             "(bool unbiased = True)"]
cdef list VAR_SIGS_FUNC = [
    "(Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False, *, Tensor out = None)",
    "(Tensor input, tuple of ints dim = None, *, Number correction = None, bool keepdim = False, "
    "Tensor out = None)",
    "(Tensor input, bool unbiased = True)"]


cdef bint is_dims_arg(object v):
    if v is None or is_int_arg(v):
        return True
    if isinstance(v, (tuple, list)):
        for item in v:
            if not is_int_arg(item):
                return False
        return True
    return False


cdef object var_impl(bint take_sqrt, Tensor x, tuple args, dict kwargs, bint method):
    """The three overloads: (dim, unbiased=True, keepdim=False),
    (dim=None, *, correction=None, keepdim=False) and (unbiased=True)."""
    cdef str fname = "std" if take_sqrt else "var"
    cdef list sigs = VAR_SIGS_METHOD if method else VAR_SIGS_FUNC
    cdef tuple shown = args if method else (x,) + args
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    unbiased = take_kw(kw, "unbiased")
    keepdim = take_kw(kw, "keepdim")
    correction = take_kw(kw, "correction")
    pop_out_kwarg(kw, fname)
    bad = invalid_combination(fname, shown, kwargs, sigs)
    if kw or len(args) > 3:
        raise bad
    if (len(args) == 1 and (args[0] is True or args[0] is False) and dim is NO_ARG
            and keepdim is NO_ARG and correction is NO_ARG and unbiased is NO_ARG):
        unbiased = args[0]           # var(unbiased)
        dim = None
    else:
        if len(args) >= 1:
            if dim is not NO_ARG:
                raise TypeError(f"{fname}() got multiple values for argument 'dim'")
            dim = args[0]
        if len(args) >= 2:
            if unbiased is not NO_ARG or correction is not NO_ARG:
                raise bad
            unbiased = args[1]
        if len(args) == 3:
            if keepdim is not NO_ARG:
                raise TypeError(f"{fname}() got multiple values for argument 'keepdim'")
            keepdim = args[2]
    if unbiased is not NO_ARG and correction is not NO_ARG:
        raise bad
    if dim is NO_ARG:
        dim = None
    if not is_dims_arg(dim):
        raise bad
    if dim is not None:
        dim = dims_list_arg(dim, fname, 0)
    if unbiased is not NO_ARG:
        if not (unbiased is True or unbiased is False or isinstance(unbiased, np.bool_)):
            raise bad
        corr = 1.0 if unbiased else 0.0
    elif correction is NO_ARG or correction is None:
        corr = 1.0
    elif isinstance(correction, (int, float, np.integer, np.floating)):
        corr = float(correction)
    else:
        raise bad
    if keepdim is NO_ARG:
        kd = False
    elif keepdim is True or keepdim is False or isinstance(keepdim, np.bool_):
        kd = bool(keepdim)
    else:
        raise bad
    return op_var(x, dim, corr, kd, take_sqrt)


cdef object logsumexp_impl(Tensor x, tuple args, dict kwargs, bint method):
    cdef int base = 0 if method else 1
    cdef dict kw = dict(kwargs)
    dim = take_kw(kw, "dim")
    keepdim = take_kw(kw, "keepdim")
    pop_out_kwarg(kw, "logsumexp")
    no_extra_kwargs(kw, "logsumexp")
    if len(args) > 2:
        raise TypeError(f"logsumexp() takes from {base + 1} to {base + 2} positional arguments but "
                        f"{len(args) + base} were given")
    dpos = 0
    kpos = 0
    if len(args) >= 1:
        if dim is not NO_ARG:
            raise TypeError("logsumexp() got multiple values for argument 'dim'")
        dim = args[0]
        dpos = base + 1
    if len(args) == 2:
        if keepdim is not NO_ARG:
            raise TypeError("logsumexp() got multiple values for argument 'keepdim'")
        keepdim = args[1]
        kpos = base + 2
    if dim is NO_ARG:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    dim = dims_list_arg(dim, "logsumexp", dpos)
    kd = False if keepdim is NO_ARG else bool_arg(keepdim, "logsumexp", "keepdim", kpos)
    return op_logsumexp(x, dim, kd)


# ---------------------------------------------------------------------------
# cgrad.* functions

cdef Tensor required_input(tuple args, dict kwargs, str fname, list sigs, bint combo=False):
    """The input tensor. A non-tensor input is PyTorch's "must be Tensor"
    error, or its "invalid combination" one (combo) when several overloads
    take that many arguments."""
    cdef Tensor x
    if combo and ((args and not isinstance(args[0], Tensor)) or
                  (not args and "input" in kwargs and not isinstance(kwargs["input"], Tensor))):
        raise invalid_combination(fname, args, kwargs, sigs)
    x = input_of(args, kwargs, fname)
    if x is None:
        if sigs is not None:
            raise invalid_combination(fname, args, kwargs, sigs)
        raise TypeError(f"{fname}() missing 1 required positional arguments: \"input\"")
    return x


cdef dict dim_aliases(dict kwargs):
    """numpy's spellings PyTorch's argument parser accepts: axis for dim,
    keepdims for keepdim."""
    if not kwargs or ("axis" not in kwargs and "keepdims" not in kwargs):
        return kwargs
    kw = dict(kwargs)
    if "axis" in kw:
        kw["dim"] = kw.pop("axis")
    if "keepdims" in kw:
        kw["keepdim"] = kw.pop("keepdims")
    return kw


cdef tuple numpy_dim_kwargs(dict kwargs, object dim, object keepdim, str fname):
    """sum/mean's axis= and keepdims= (numpy's spellings, as PyTorch's
    parser takes them); any other keyword is PyTorch's error, which names
    the first keyword given."""
    for k in kwargs:
        if k != "axis" and k != "keepdims":
            raise TypeError(f"{fname}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return kwargs.get("axis", dim), kwargs.get("keepdims", keepdim)


cdef object axis_kwarg(object dim, dict kwargs, str fname):
    """dim given as numpy's axis= to a function without keepdim (PyTorch's
    parser takes axis for any dim; given beside dim, or any other keyword,
    it is the unexpected-keyword error). dim is NO_ARG when not given."""
    for k in kwargs:
        if k != "axis" or dim is not NO_ARG:
            # PyTorch's error names the first keyword given
            raise TypeError(f"{fname}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return kwargs["axis"]


cdef object dim_or_axis(object dim, object axis, object default, str fname):
    """dim given as dim or as numpy's axis= (PyTorch's parser takes either,
    not both), for the hot functions taking axis as a keyword of their own
    (no **kwargs dict per call); NO_ARG: not given, default NO_ARG:
    required."""
    if axis is not NO_ARG:
        if dim is not NO_ARG:
            raise TypeError(f"{fname}() got an unexpected keyword argument 'axis'")
        return axis
    if dim is NO_ARG:
        if default is NO_ARG:
            raise TypeError(f"{fname}() missing 1 required positional arguments: \"dim\"")
        return default
    return dim


cdef object required_dim_arg(object dim, dict kwargs, str fname):
    """A required dim (NO_ARG: not given positionally) given as dim or as
    numpy's axis=."""
    if kwargs:
        dim = axis_kwarg(dim, kwargs, fname)
    if dim is NO_ARG:
        raise TypeError(f"{fname}() missing 1 required positional arguments: \"dim\"")
    return dim


cdef tuple rest_args(tuple args, dict kwargs):
    """The arguments after input, and the keywords without input."""
    if args:
        return args[1:], dim_aliases(kwargs)
    kw = dim_aliases(kwargs)
    kw = dict(kw)
    kw.pop("input", None)
    return (), kw


def _max(*args, **kwargs):
    """max(input) -> Tensor; max(input, dim, keepdim=False) -> (values,
    indices); max(input, other) -> maximum(input, other)."""
    cdef Tensor x = required_input(args, kwargs, "max", MAX_SIGS_FUNC)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    res = max_min_impl(True, x, a, kw, False)
    check_strict_out(res, out, "resize")
    return with_out(res, out, "max")


def _min(*args, **kwargs):
    """min(input) -> Tensor; min(input, dim, keepdim=False) -> (values,
    indices); min(input, other) -> minimum(input, other)."""
    cdef Tensor x = required_input(args, kwargs, "min", MAX_SIGS_FUNC)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    res = max_min_impl(False, x, a, kw, False)
    check_strict_out(res, out, "resize")
    return with_out(res, out, "min")


def amax(*args, **kwargs):
    """amax(input, dim=(), keepdim=False): the max over dims (all for ())."""
    cdef Tensor x = required_input(args, kwargs, "amax", None)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    res = amax_impl(True, x, a, kw, False)
    check_strict_out(res, out, "same_as_input")
    return with_out(res, out, "amax")


def amin(*args, **kwargs):
    """amin(input, dim=(), keepdim=False): the min over dims (all for ())."""
    cdef Tensor x = required_input(args, kwargs, "amin", None)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    res = amax_impl(False, x, a, kw, False)
    check_strict_out(res, out, "same_as_input")
    return with_out(res, out, "amin")


def argmax(*args, **kwargs):
    """argmax(input, dim=None, keepdim=False): int64 indices of the max."""
    cdef Tensor x = required_input(args, kwargs, "argmax", None)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    res = argmax_impl(True, x, a, kw, False)
    check_strict_out(res, out, "resize")
    return with_out(res, out, "argmax")


def argmin(*args, **kwargs):
    """argmin(input, dim=None, keepdim=False): int64 indices of the min."""
    cdef Tensor x = required_input(args, kwargs, "argmin", None)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    res = argmax_impl(False, x, a, kw, False)
    check_strict_out(res, out, "resize")
    return with_out(res, out, "argmin")


def prod(*args, **kwargs):
    """prod(input, *, dtype=None); prod(input, dim, keepdim=False, *, dtype=None)."""
    cdef Tensor x = required_input(args, kwargs, "prod", PROD_SIGS_FUNC)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    if isinstance(out, Tensor) and "dtype" not in kw:
        kw["dtype"] = out.dtype     # PyTorch's prod_out multiplies in out's dtype (each element converted first)
    return with_out(prod_impl(x, a, kw, False), out, "prod")


def var(*args, **kwargs):
    """var(input, dim=None, *, correction=1, keepdim=False); also
    var(input, dim, unbiased, keepdim) and var(input, unbiased)."""
    cdef Tensor x = required_input(args, kwargs, "var", VAR_SIGS_FUNC, True)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    return with_out(var_impl(False, x, a, kw, False), out, "var")


def std(*args, **kwargs):
    """std(input, dim=None, *, correction=1, keepdim=False); also
    std(input, dim, unbiased, keepdim) and std(input, unbiased)."""
    cdef Tensor x = required_input(args, kwargs, "std", VAR_SIGS_FUNC, True)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    return with_out(var_impl(True, x, a, kw, False), out, "std")


def logsumexp(*args, **kwargs):
    """logsumexp(input, dim, keepdim=False): log(sum(exp(input))) over dim,
    computed stably."""
    cdef Tensor x = required_input(args, kwargs, "logsumexp", None)
    a, kw = rest_args(args, kwargs)
    out = kw.pop("out", None)
    return with_out(logsumexp_impl(x, a, kw, False), out, "logsumexp")


# `max` and `min` are cgrad.max/cgrad.min, but a module-level `def max`
# would also shadow Python's builtins for every other .pxi file of _C (which
# may call max(a, b) on ints): they are put in the module's namespace under
# those names at import time instead, where compiled code never looks.
export_as("max", _max)
export_as("min", _min)
