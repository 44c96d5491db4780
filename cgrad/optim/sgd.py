"""SGD with momentum, dampening, Nesterov and weight decay: PyTorch's
update rule, run by a Cython kernel over each parameter's buffers."""
from cgrad import _C
from cgrad.optim.optimizer import Optimizer, required

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, _C.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      foreach=foreach, differentiable=differentiable, fused=fused))
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with _C_enable_grad():
                loss = closure()
        for group in self.param_groups:
            momentum = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _contiguous(p.grad)
                # without momentum PyTorch keeps no state for the parameter (an empty state_dict)
                state = self._param_state(p) if momentum != 0 else None
                buf = state.get("momentum_buffer") if momentum != 0 else None
                # bfloat16 steps op by op, each op rounded as in PyTorch's single-tensor update; so does
                # a non-contiguous parameter (its buffer is made like it, and the kernel takes dense rows)
                if p.dtype == _C.bfloat16 or not p.is_contiguous() or not _C._kernel_fits(p, grad, buf) \
                        or (buf is not None and not buf.is_contiguous()):
                    _sgd_by_ops(p, grad, state, group)
                    continue
                first = momentum != 0 and buf is None
                if first:
                    buf = _C.empty_like(p)
                    state["momentum_buffer"] = buf
                target = p if p.is_contiguous() else p.detach().contiguous()
                _C._sgd_update(target, grad,
                               buf if momentum != 0 else None, group["lr"], momentum,
                               group["dampening"], group["weight_decay"], group["nesterov"],
                               group["maximize"], first)
                _write_back(p, target)
        return loss


def _sgd_by_ops(p, grad, state, group):
    """PyTorch's _single_tensor_sgd for one parameter, op by op."""
    with _C_no_grad():
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = grad.detach().clone()
                state["momentum_buffer"] = buf
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            if group["nesterov"]:
                grad = grad.add(buf, alpha=momentum)
            else:
                grad = buf
        p.add_(grad, alpha=-group["lr"])


def _write_back(p, target):
    """Parameters that are not contiguous were updated in a contiguous copy."""
    if target is not p:
        with _C_no_grad():
            p.copy_(target)


def _C_no_grad():
    from cgrad.autograd.grad_mode import no_grad
    return no_grad()


def _contiguous(t):
    return t if t.is_contiguous() else t.contiguous()


def _C_enable_grad():
    from cgrad.autograd.grad_mode import enable_grad
    return enable_grad()
