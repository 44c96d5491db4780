"""PyTorch's alias names of existing ops: the numpy-style arc functions
(arccos, arcsin, arctan, arccosh, arcsinh, arctanh, arctan2), fix (trunc),
with their in-place and method forms, and Tensor.atan2_ / arctan2_.

An alias is its op: same results, grad_fn (AcosBackward0 for arccos,
TruncBackward0 for fix) and errors from inside the op, which PyTorch too
reports under the op's own name ("acos(): functions with out=..."); only the
argument-type errors name the alias, as PyTorch's parser does. The Tensor
methods are the op's own method objects. Loaded on first use (cgrad's lazy
attributes; Tensor's lazy methods through cgrad._tensor_ops)."""
from cgrad import _C
from cgrad._op_support import _TYPE_NAMES, typename

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


_UNARY = {"arccos": "acos", "arcsin": "asin", "arctan": "atan", "arccosh": "acosh", "arcsinh": "asinh",
          "arctanh": "atanh", "fix": "trunc"}

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


def arctan2(input, other, *, out=None):
    """Alias for cgrad.atan2."""
    if not isinstance(input, _Tensor):
        raise _input_error("arctan2", input)
    if not isinstance(other, _Tensor):
        raise _input_error("arctan2", other, "other", 2)
    return _C.atan2(input, other) if out is None else _C.atan2(input, other, out=out)


def _atan2_inplace(name):
    def method(self, other):
        if not isinstance(other, _Tensor):
            raise _input_error(name, other, "other", 1)
        _C._check_inplace(self)
        recorded = _C.is_grad_enabled() and (self.requires_grad or other.requires_grad)
        result = _C.atan2(_C._old_value(self) if recorded else self, other)
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(result.shape)}")
        if not self.is_floating_point():
            title = _TYPE_NAMES.get
            raise RuntimeError(f"result type {title(str(result.dtype).split('.')[-1])} can't be cast to the "
                               f"desired output type {title(str(self.dtype).split('.')[-1])}")
        return _C._commit_inplace(self, result)
    method.__name__ = method.__qualname__ = name
    return method


def _install_methods():
    vars_of = vars(_Tensor)
    methods = {alias: vars_of[op] for alias, op in _UNARY.items()}
    methods.update({alias + "_": vars_of[op + "_"] for alias, op in _UNARY.items()})
    methods.update({"atan2_": _atan2_inplace("atan2_"), "arctan2_": _atan2_inplace("arctan2_")})
    _C._install_tensor_methods({name: fn for name, fn in methods.items() if name not in vars_of})


_install_methods()

__all__ = ["arccos", "arcsin", "arctan", "arccosh", "arcsinh", "arctanh", "fix", "arccos_", "arcsin_", "arctan_",
           "arccosh_", "arcsinh_", "arctanh_", "fix_", "arctan2"]
