# The default floating-point dtype (cgrad.set_default_dtype /
# get_default_dtype, cgrad/__init__.py): DEFAULT_FLOAT (common.pxi), which
# the factories, Python-float literals in torch.tensor and the promotion of
# Python floats with integer tensors already read. Only floating-point
# dtypes are accepted, as in PyTorch.


def _set_default_float_dtype(dtype d):
    global DEFAULT_FLOAT
    if not is_float(d._code):
        raise TypeError("only floating-point types are supported as the default type")
    DEFAULT_FLOAT = d._code


def _default_float_dtype():
    return DTYPES[DEFAULT_FLOAT]
