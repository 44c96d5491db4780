# PyTorch's deprecated overloads that put a number before the tensors it
# scales (tools/autograd/deprecated.yaml): add(Number alpha, Tensor other),
# sub, addcmul(Number value, Tensor tensor1, Tensor tensor2) and addcdiv.
# Old optimizer code writes them (`p.data.add_(-lr, d_p)`,
# `exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)`), and PyTorch
# still runs them after one UserWarning per process: its argument parser
# warns once for all of them together, so one flag serves every overload.
# addmm, addmv, addr, addbmm and baddbmm have two more each (beta first, then
# optionally alpha, before the tensors they scale: `addmm(beta, M, alpha, m1,
# m2)`, `M.addmm_(beta, m1, m2)`), parsed by beta_first_args for the compiled
# addmm and by _beta_first_args for the Python ones (cgrad/_ops_einsum.py).

cdef bint deprecated_overload_warned = False


def _warn_deprecated_overload(str name, str old, str new):
    """PyTorch's text, the first time any deprecated overload is used."""
    global deprecated_overload_warned
    if deprecated_overload_warned:
        return
    deprecated_overload_warned = True
    import warnings
    warnings.warn(f"This overload of {name} is deprecated:\n\t{name}({old})\n"
                  f"Consider using one of the following signatures instead:\n\t{name}({new})",
                  UserWarning, stacklevel=3)


cdef tuple alpha_first_args(str name, bint method, object alpha, tuple rest, object alpha_kw):
    """(other, alpha) of a call add(input, alpha, other) / input.add(alpha,
    other) (and sub's; `rest` holds what came after alpha), after PyTorch's
    checks and its warning; `method` picks the signature texts."""
    cdef int usual = 1 if method else 2          # the positional arguments of the current signature
    if len(rest) != 1 or not is_scalar(alpha) or isinstance(alpha, Tensor):
        raise TypeError(f"{name}() takes {usual} positional argument{'s' if usual > 1 else ''} "
                        f"but {usual + len(rest)} were given")
    if not (type(alpha_kw) is int and alpha_kw == 1):
        raise TypeError(f"{name}() received an invalid combination of arguments - got unrecognized "
                        f"keyword arguments: alpha")
    if method:
        _warn_deprecated_overload(name, "Number alpha, Tensor other", "Tensor other, *, Number alpha = 1")
    else:
        _warn_deprecated_overload(name, "Tensor input, Number alpha, Tensor other, *, Tensor out = None",
                                  "Tensor input, Tensor other, *, Number alpha = 1, Tensor out = None")
    return rest[0], alpha


# the names PyTorch's signatures give the two tensors of each op
BETA_FIRST_OPERANDS = {"addmm": ("mat1", "mat2"), "addmv": ("mat", "vec"), "addr": ("vec1", "vec2"),
                       "addbmm": ("batch1", "batch2"), "baddbmm": ("batch1", "batch2")}


cdef tuple beta_first_args(str name, bint method, tuple args, object beta_kw, object alpha_kw):
    """(input, first, second, beta, alpha) of a deprecated beta-first call
    (`input` None for a method; `args` are all the positional arguments,
    after self for a method), after PyTorch's checks and its warning."""
    cdef str base = name.rstrip("_")
    cdef str first, second
    first, second = BETA_FIRST_OPERANDS[base]
    cdef int n = len(args)
    cdef int usual = 2 if method else 3          # the positional arguments of the current signature
    cdef bint with_alpha = n == usual + 2
    cdef tuple numbers = (args[0], args[1]) if method and with_alpha else (args[0],)
    cdef tuple tensors = args[len(numbers):] if method else args[1:2] + args[3 if with_alpha else 2:]
    cdef bint keywords_default = (type(beta_kw) is int and beta_kw == 1 and type(alpha_kw) is int
                                  and alpha_kw == 1)
    cdef bint matches = (n in (usual + 1, usual + 2) and keywords_default
                         and all([is_scalar(x) and not isinstance(x, Tensor) for x in numbers])
                         and (method or not with_alpha or (is_scalar(args[2]) and not isinstance(args[2], Tensor)))
                         and all([isinstance(t, Tensor) for t in tensors]))
    cdef dict given
    cdef str tail = f"Tensor {first}, Tensor {second}, *, Number beta = 1, Number alpha = 1"
    if not matches:
        if method or base not in ("addmm", "baddbmm"):
            raise TypeError(f"{name}() takes {usual} positional arguments but {n} were given")
        given = {}
        if not (type(alpha_kw) is int and alpha_kw == 1):
            given["alpha"] = alpha_kw
        if not (type(beta_kw) is int and beta_kw == 1):
            given["beta"] = beta_kw
        raise invalid_combination(name, args, given, [
            f"(Tensor input, {tail}, Tensor out = None)",
            f"(Tensor input, Tensor {first}, Tensor {second}, torch.dtype out_dtype, *, Number beta = 1, "
            f"Number alpha = 1, Tensor out = None)"])
    cdef str numbers_sig = "Number beta, Number alpha, " if with_alpha else "Number beta, "
    if method:
        _warn_deprecated_overload(name, f"{numbers_sig}Tensor {first}, Tensor {second}", tail)
        return (None, tensors[0], tensors[1], args[0], args[1] if with_alpha else 1)
    cdef str old = (f"Number beta, Tensor input, {'Number alpha, ' if with_alpha else ''}Tensor {first}, "
                    f"Tensor {second}, *, Tensor out = None")
    cdef str new = f"Tensor input, {tail}, Tensor out = None"
    if base in ("addmm", "baddbmm"):     # their out_dtype overload, listed as a second signature
        new += (f")\n\t{name}(Tensor input, Tensor {first}, Tensor {second}, torch.dtype out_dtype, *, "
                f"Number beta = 1, Number alpha = 1, Tensor out = None")
    _warn_deprecated_overload(name, old, new)
    return (args[1], tensors[1], tensors[2], args[0], args[2] if with_alpha else 1)


def _beta_first_args(str name, bint method, tuple args, beta_kw, alpha_kw):
    """beta_first_args for the Python-level ops (addmv, addr, addbmm,
    baddbmm and their methods)."""
    return beta_first_args(name, method, args, beta_kw, alpha_kw)
