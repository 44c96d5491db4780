"""cgrad.autograd: PyTorch's torch.autograd surface over cgrad's C engine."""
from cgrad import _C
from cgrad._C import Tensor
from cgrad.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                      is_inference_mode_enabled, no_grad, set_grad_enabled)

from cgrad.autograd.variable import Variable

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "Variable"]


def _tensor_or_tensors(x, what):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    try:
        return tuple(x)
    except TypeError:
        raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, not {type(x).__name__}") from None


def _grads_for(outputs, grads, what):
    """PyTorch's _tensor_or_tensors_to_tuple: extra gradients are ignored
    (its _make_grads zips), missing ones are refused by the engine."""
    if grads is None:
        return (None,) * len(outputs)
    return (grads,) if isinstance(grads, Tensor) else tuple(grads)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate the gradients of `tensors` into the .grad of the leaves
    (or of `inputs` only, when given)."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    tensors = _tensor_or_tensors(tensors, "tensors")
    if inputs is not None:
        inputs = _tensor_or_tensors(inputs, "inputs")
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    grads = _grads_for(tensors, grad_tensors, "grad_tensors")
    _C._run_backward(tensors, grads, retain_graph, create_graph, inputs, False, True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned rather
    than accumulated into .grad."""
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    outputs = _tensor_or_tensors(outputs, "outputs")
    inputs = _tensor_or_tensors(inputs, "inputs")
    if len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grads = _grads_for(outputs, grad_outputs, "grad_outputs")
    if is_grads_batched:
        from cgrad.autograd._batched_grad import batched_grad
        result = batched_grad(outputs, inputs, grads, retain_graph, create_graph, allow_unused)
    else:
        result = _C._run_backward(outputs, grads, retain_graph, create_graph, inputs, allow_unused, False)
    if materialize_grads:
        result = [_C.zeros_like(i, requires_grad=create_graph) if g is None else g
                  for g, i in zip(result, inputs)]
    return tuple(result)


from cgrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402
from cgrad.autograd.function import Function, FunctionCtx, once_differentiable  # noqa: E402
from cgrad.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: E402
from cgrad.autograd import anomaly_mode, function, functional, graph  # noqa: E402,F401
from cgrad.autograd import forward_ad, _jvp_rules, _jvp_rules_extra, _jvp_rules_linalg  # noqa: E402,F401


def __getattr__(name):
    # the profiler loads on first use (it is not needed to train)
    if name in ("profiler", "profiler_util"):
        import importlib
        return importlib.import_module("cgrad.autograd." + name)
    raise AttributeError(f"module 'cgrad.autograd' has no attribute '{name}'")
