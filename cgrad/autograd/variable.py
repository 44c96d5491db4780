"""autograd.Variable, as PyTorch keeps it for old code: Variable(t) is a
detached alias of t with requires_grad as asked (there is no separate
Variable type: isinstance(x, Variable) holds for every tensor), and
volatile=True only warns."""
import warnings

from cgrad import _C

__all__ = ["Variable"]


class VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, _C.Tensor)


class Variable(metaclass=VariableMeta):
    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            variable = _C.empty(0)
        elif isinstance(data, _C.Tensor):
            variable = data.detach()
        else:
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad:
            variable.requires_grad_()
        return variable
