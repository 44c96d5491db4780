"""PyTorch's grad_fn names for nn.functional ops that cgrad computes as
composites of differentiable kernels.

PyTorch runs huber_loss, glu, pixel_shuffle, the upsample family, ... as
single ATen ops with their own nodes (HuberLossBackward0, GluBackward0,
UpsampleBilinear2DBackward0); cgrad computes them from existing kernels
(index_select, mul, add, where, ...), whose graph gives the right
gradients to any order. `named(result, name)` puts one node with
PyTorch's name on top of that graph: its backward passes the gradient
through unchanged, so the user sees PyTorch's grad_fn and the composite's
graph does the differentiating (create_graph=True included). The node is
a cgrad.autograd.Function whose forward marks the (fresh) result dirty:
the result object itself becomes the node's output, not a view of it.
"""
from cgrad import _C
from cgrad.autograd.function import Function

_CLASSES = {}
# nodes whose name() PyTorch gives as their C++ name (as cgrad's own CopySlices node does)
_CPP_NAMES = {"CopySlices": "torch::autograd::CopySlices"}


def _relabel_class(name):
    cls = _CLASSES.get(name)
    if cls is None:
        def forward(ctx, result):
            # result is fresh (only the composite's graph refers to it): it
            # becomes the node's output in place, not a view of itself
            ctx.mark_dirty(result)
            return result

        def backward(ctx, grad):
            return grad

        cls = type("_" + name, (Function,), {"forward": staticmethod(forward),
                                             "backward": staticmethod(backward)})
        node = cls._backward_cls
        node.__name__ = node.__qualname__ = name
        node.__module__ = "cgrad._C"
        node.__repr__ = lambda self: f"<{name} object at {id(self):#x}>"
        if name in _CPP_NAMES:
            node.name = lambda self: _CPP_NAMES[name]
        _CLASSES[name] = cls
    return cls


def named(result, name):
    """result, with grad_fn `name` when it is recorded. The node takes
    result over in place, so in-place ops on it later record as on any op's
    output (and, as in PyTorch, break the backward of a node that saved
    it: pairwise_distance's norm); a result that is a view is copied first,
    so that its base keeps its history and version."""
    if result.grad_fn is None or type(result) is not _C.Tensor:
        return result       # a vmap-batched result: its graph is the batched ops', left as it is
    if result._base is not None:
        result = result.clone()
    return _relabel_class(name).apply(result)
