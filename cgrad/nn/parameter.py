"""nn.Parameter: a leaf tensor that a Module registers as a parameter; and
nn.Buffer, the mark that assigns a tensor as a module's buffer."""
from cgrad._C import Tensor

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A Tensor that is a module parameter: requires_grad=True by default,
    shares memory with the data it is made from."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from cgrad import _C
            data = _C.empty(0)
        if not isinstance(data, Tensor):
            # as PyTorch, which treats other objects as tensor-likes: data.detach()
            # raises AttributeError for a list or a number
            data = data.detach()
            if not isinstance(data, Tensor):
                raise TypeError(f"Parameter data must be a Tensor, not {type(data).__name__}")
        return Tensor._make_subclass(cls, data.detach(), requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        # as PyTorch: a new Parameter over a copy of the data (its layout
        # kept), with the same requires_grad; neither .grad nor attributes set
        # on the Parameter are copied
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)     # clone keeps the strides
        memo[id(self)] = result
        return result


class _BufferMeta(type(Tensor)):
    """isinstance(t, Buffer) holds for the tensors Buffer() returned, which
    are plain Tensors (as in PyTorch) marked by `_is_buffer`."""

    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """`module.name = nn.Buffer(t, persistent=True)` registers t (detached,
    requires_grad kept) as a buffer, as register_buffer does."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from cgrad import _C
            data = _C.empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (a lazy module's, until its
    first forward): an empty placeholder that `materialize(shape)` turns,
    in place, into an ordinary Parameter of that shape."""
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from cgrad import _C
        return Tensor._make_subclass(cls, _C.empty(0, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __repr__(self):
        return "<UninitializedParameter>"

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def materialize(self, shape, device=None, dtype=None):
        from cgrad import _C
        self.data = _C.empty(tuple(shape) if not isinstance(shape, int) else (shape,),
                             dtype=self.dtype if dtype is None else dtype)
        self.__class__ = self.cls_to_become

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, None, self.dtype)
        memo[id(self)] = result
        return result


def is_lazy(param):
    """Whether param is an uninitialized (lazy) parameter."""
    return isinstance(param, UninitializedParameter)


__all__ += ["UninitializedParameter", "is_lazy"]
