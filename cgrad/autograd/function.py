"""cgrad.autograd.Function: user-defined ops with a custom backward, with
PyTorch's API (torch/autograd/function.py).

    class Exp(cgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)          # y.grad_fn is an ExpBackward node, and the ctx

The ctx is the graph node (a subclass of the compiled FunctionNode, one per
Function, named <Name>Backward); its C-level apply calls backward.
"""
import functools
import sys

from cgrad import _C

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]


class FunctionCtx:
    """The ctx methods (save_for_backward, mark_dirty,
    mark_non_differentiable, set_materialize_grads, saved_tensors,
    needs_input_grad) are those of the node class ctx belongs to."""


class BackwardCFunction(_C.FunctionNode, FunctionCtx):
    """Base of the per-Function node classes."""
    _forward_cls = None

    def apply(self, *grads):
        return self._forward_cls.backward(self, *grads)


class FunctionMeta(type):
    """Gives each Function subclass its node class, <Name>Backward."""

    def __init__(cls, name, bases, attrs):
        backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        backward_cls.__module__ = __name__   # repr as PyTorch: <...function.ExpBackward object>
        cls._backward_cls = backward_cls
        # PyTorch 2's style: forward(*args) without ctx, plus setup_context
        # (defined by the class or a user base class: PyTorch compares with the default)
        cls._uses_setup_context = any("setup_context" in vars(k) for k in cls.__mro__
                                      if k.__module__ != __name__)
        super().__init__(name, bases, attrs)


class _SingleLevelFunction(metaclass=FunctionMeta):
    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use "
                                  "it with forward mode AD.")

    # vmap support (cgrad/autograd/_function_vmap.py): a vmap staticmethod,
    # or generate_vmap_rule = True
    generate_vmap_rule = False

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError("To use autograd.Function with vmap, you must either override the vmap "
                                  "staticmethod or set generate_vmap_rule=True.")


class Function(_SingleLevelFunction):
    """Base class of user-defined differentiable ops: define static forward
    (ctx, *args) and backward(ctx, *grad_outputs), then call Fn.apply."""

    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd functions are "
                      "all static, so you should invoke them on the class itself. Instantiating an "
                      "autograd function will raise an error in a future version of PyTorch.",
                      DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. "
                           "Please use new-style autograd function with static forward method. "
                           "(Example: https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @classmethod
    def apply(cls, *args, **kwargs):
        if cls._backward_cls.__dict__.get("_forward_cls") is not cls:   # subclass of a subclass
            cls._backward_cls = type(cls.__name__ + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        levels = sys.modules.get("cgrad.func._levels")      # not loaded: no vmap is running
        # (cgrad's own Functions keep running on BatchedTensors directly)
        if levels is not None and levels.active_levels() and not cls.__module__.startswith("cgrad."):
            from cgrad.autograd._function_vmap import batched_arguments, vmap_apply
            if batched_arguments(args, kwargs):
                return vmap_apply(cls, args, kwargs)
        return _C._function_apply(cls, args, kwargs)


def once_differentiable(fn):
    """Mark a backward as not itself differentiable: it runs without
    recording, and differentiating its result raises."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with _C_no_grad():
            outputs = fn(ctx, *args)
        if not _C.is_grad_enabled():
            return outputs
        requires_grad = any(isinstance(a, _C.Tensor) and a.requires_grad for a in args)
        if not requires_grad:
            return outputs
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        err = _DelayedError.apply(*outs)
        return err if isinstance(outputs, tuple) else err[0] if isinstance(err, tuple) else err
    return wrapper


def _C_no_grad():
    from cgrad.autograd.grad_mode import no_grad
    return no_grad()


class _DelayedError(Function):
    @staticmethod
    def forward(ctx, *inputs):
        outs = tuple(i.clone() if isinstance(i, _C.Tensor) else i for i in inputs)
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")
