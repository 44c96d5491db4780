"""What the kernel-driven optimizers share: the step() frame (closure
under enable_grad, then one update per parameter with a gradient), and
the contiguous working copy a non-contiguous parameter is updated in."""
from cgrad import _C
from cgrad._C import Tensor

__all__ = ["run_step", "update_in_place", "zeros_state", "check_lr", "scalar", "complex_step_error",
           "check_capturable"]


def run_step(optimizer, closure, update_group):
    """Evaluate the closure (with grad enabled), then let update_group(group,
    params_with_grad) update each group; returns the closure's loss."""
    from cgrad.autograd.grad_mode import enable_grad, no_grad
    loss = None
    if closure is not None:
        with enable_grad():
            loss = closure()
    with no_grad():
        for group in optimizer.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                check_capturable(optimizer, group)
                update_group(group, params)
    return loss


def update_in_place(kernel, p, grad, buffers, *scalars):
    """Run kernel(param, grad, *buffers, *scalars) on p; a non-contiguous
    p (or grad) is updated through a contiguous copy written back after."""
    if not p.is_contiguous() and grad.shape != p.shape:
        raise RuntimeError(f"The size of tensor a ({p.shape}) must match the size of tensor b ({grad.shape})")
    grad = grad if grad.is_contiguous() else grad.contiguous()
    if not _C._kernel_fits(p, grad, *[b for b in buffers if b is not None]):
        raise RuntimeError(f"{kernel.__name__.strip('_').split('_')[0]}: the parameter, its gradient and "
                           f"its state must have one dtype and shape, got {p.dtype}{tuple(p.shape)} and "
                           f"gradient {grad.dtype}{tuple(grad.shape)}")
    target = p if p.is_contiguous() else p.detach().contiguous()
    kernel(target, grad, *buffers, *scalars)
    if target is not p:
        p.copy_(target)


def zeros_state(p, value=0.0):
    """A state buffer shaped as p, contiguous (the kernels' layout)."""
    return _C.full(tuple(p.shape), value, dtype=p.dtype)


def check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def scalar(value):
    """A group option that may be a 1-element tensor (lr), as a float."""
    return value.item() if isinstance(value, Tensor) else value


_COMPLEX_NAMES = {"float32": ("ComplexFloat", "Float"), "float64": ("ComplexDouble", "Double"),
                  "float16": ("ComplexHalf", "Half"), "bfloat16": ("ComplexBFloat16", "BFloat16")}


def complex_step_error(p, half_division=False):
    """The error PyTorch's single-tensor update raises when a bias correction
    under a square root is negative (betas edited past their checks in
    param_groups): Python's ** 0.5 gives a complex number, the step tensor
    becomes complex, and writing it into the real parameter fails. In float16
    Adam's division by that complex scalar fails first (no ComplexHalf div)."""
    complex_name, real_name = _COMPLEX_NAMES[str(p.dtype).rsplit(".", 1)[-1]]
    if half_division and real_name == "Half":
        import warnings
        warnings.warn("ComplexHalf support is experimental and many operators don't support it yet.")
        return NotImplementedError('"div_cpu" not implemented for \'ComplexHalf\'')
    return RuntimeError(f"result type {complex_name} can't be cast to the desired output type {real_name}")


# capturable=True: PyTorch's update keeps its step counts on the device for
# CUDA graphs and asserts, on the CPU, that the tensors are on an
# accelerator; its text names each optimizer's device-side state, and its
# single-tensor and foreach updates list the devices differently
_CAPTURABLE_STATE = {"NAdam": ("params, mu_products and state_steps", "params, mu_products, and state_steps"),
                     "ASGD": ("params, mus, etas, and state_steps", "params, mus, etas, and state_steps")}
_CAPTURABLE_OPTIMIZERS = {"Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adadelta", "RMSprop", "Rprop", "ASGD"}
_XLA_IN_SINGLE = _CAPTURABLE_OPTIMIZERS - {"Adadelta"}
_XLA_IN_FOREACH = {"RMSprop", "Rprop"}


def check_capturable(optimizer, group):
    """PyTorch's AssertionError for capturable=True on CPU parameters."""
    if not group.get("capturable"):
        return
    name = next((c.__name__ for c in type(optimizer).__mro__ if c.__name__ in _CAPTURABLE_OPTIMIZERS), None)
    if name is None:
        return
    foreach = bool(group.get("foreach"))
    state = _CAPTURABLE_STATE.get(name, ("params and state_steps",) * 2)[foreach]
    devices = ["cuda", "xpu", "hpu", "privateuseone"]
    if name in (_XLA_IN_FOREACH if foreach else _XLA_IN_SINGLE):
        devices.append("xla")
    raise AssertionError(f"If capturable=True, {state} must be on supported devices: {devices}.")
