# PyTorch's deprecated overloads that put a number before the tensors it
# scales (tools/autograd/deprecated.yaml): add(Number alpha, Tensor other),
# sub, addcmul(Number value, Tensor tensor1, Tensor tensor2) and addcdiv.
# Old optimizer code writes them (`p.data.add_(-lr, d_p)`,
# `exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)`), and PyTorch
# still runs them after one UserWarning per process: its argument parser
# warns once for all of them together, so one flag serves every overload.
# (addmm's, addmv's, addr's, addbmm's and baddbmm's beta-first forms are
# not here.)

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
