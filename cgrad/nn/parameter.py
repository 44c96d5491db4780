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


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (a lazy norm layer's running
    statistics). `materialize(shape)` gives it data in place; a plain Tensor
    cannot take a subclass's place in memory, so the object keeps this type
    afterwards and behaves as an ordinary tensor (lazy modules put plain
    tensors in their buffers when they materialise)."""

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        from cgrad import _C
        buffer = Tensor._make_subclass(cls, _C.empty(0, dtype=dtype), requires_grad)
        buffer._uninitialized = True
        return buffer

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass

    def __repr__(self):
        return "<UninitializedBuffer>" if self._uninitialized else super().__repr__()

    @property
    def shape(self):
        if self._uninitialized:
            raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                               "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                               "initialized one. Call `forward` to initialize the parameters before accessing their "
                               "attributes.")
        return Tensor.shape.__get__(self)

    def materialize(self, shape, device=None, dtype=None):
        from cgrad import _C
        self.data = _C.empty(tuple(shape) if not isinstance(shape, int) else (shape,),
                             dtype=self.dtype if dtype is None else dtype)
        self._uninitialized = False

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, None, self.dtype) if self._uninitialized else self.detach().clone()
        memo[id(self)] = result
        return result


def is_lazy(param):
    """Whether param is an uninitialized (lazy) parameter or buffer."""
    return isinstance(param, UninitializedParameter) or getattr(param, "_uninitialized", False)


__all__ += ["UninitializedParameter", "UninitializedBuffer", "is_lazy"]
