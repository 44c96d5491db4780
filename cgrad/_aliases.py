"""PyTorch's alias names of existing ops as cgrad.* functions: the
numpy-style arc functions (arccos, arcsin, arctan, arccosh, arcsinh,
arctanh) and fix (trunc), with their in-place forms. Their Tensor methods
and arctan2 are compiled (src/cgrad/tensor_aliases.pxi).

An alias is its op: same results, grad_fn (AcosBackward0 for arccos,
TruncBackward0 for fix) and errors from inside the op, which PyTorch too
reports under the op's own name ("acos(): functions with out=..."); only the
argument-type errors name the alias, as PyTorch's parser does. Loaded on
first use (cgrad's lazy attributes)."""
from cgrad import _C
from cgrad._op_support import typename

_Tensor = _C.Tensor


def _input_error(name, value, argname="input", position=1):
    return TypeError(f"{name}(): argument '{argname}' (position {position}) must be Tensor, not {typename(value)}")


def _unary(name, target):
    def alias(input, *, out=None):
        if not isinstance(input, _Tensor):
            raise _input_error(name, input)
        return target(input) if out is None else target(input, out=out)
    alias.__name__ = alias.__qualname__ = name
    alias.__doc__ = f"Alias for cgrad.{target.__name__}."
    return alias


def _unary_inplace(name, target):
    def alias(input):
        if not isinstance(input, _Tensor):
            raise _input_error(name, input)
        return target(input)
    alias.__name__ = alias.__qualname__ = name
    alias.__doc__ = f"Alias for cgrad.{target.__name__}."
    return alias


arccos = _unary("arccos", _C.acos)
arcsin = _unary("arcsin", _C.asin)
arctan = _unary("arctan", _C.atan)
arccosh = _unary("arccosh", _C.acosh)
arcsinh = _unary("arcsinh", _C.asinh)
arctanh = _unary("arctanh", _C.atanh)
fix = _unary("fix", _C.trunc)
arccos_ = _unary_inplace("arccos_", _C.acos_)
arcsin_ = _unary_inplace("arcsin_", _C.asin_)
arctan_ = _unary_inplace("arctan_", _C.atan_)
arccosh_ = _unary_inplace("arccosh_", _C.acosh_)
arcsinh_ = _unary_inplace("arcsinh_", _C.asinh_)
arctanh_ = _unary_inplace("arctanh_", _C.atanh_)
fix_ = _unary_inplace("fix_", _C.trunc_)


__all__ = ["arccos", "arcsin", "arctan", "arccosh", "arcsinh", "arctanh", "fix", "arccos_", "arcsin_", "arctan_",
           "arccosh_", "arcsinh_", "arctanh_", "fix_"]
