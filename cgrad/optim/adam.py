"""Adam and AdamW: PyTorch's update rules (bias corrections computed in
Python floats as PyTorch does), run by a Cython kernel per parameter."""

from cgrad import _C
from cgrad.optim._kernel_step import check_capturable, complex_step_error
from cgrad.optim.optimizer import Optimizer
from cgrad.optim.sgd import _C_no_grad, _write_back

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, _C.Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (all(isinstance(b, float) for b in betas[:2]) or all(isinstance(b, _C.Tensor) for b in betas[:2])):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas[:2]):
            if isinstance(beta, _C.Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        # a 1-element tensor of any rank as PyTorch keeps it: 0-dim
        betas = tuple(b.squeeze() if isinstance(b, _C.Tensor) and b.dim() != 0 else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=bool(self._decoupled or decoupled_weight_decay))
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from cgrad.autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            decoupled = group.get("decoupled_weight_decay", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if p.grad.is_contiguous() else p.grad.contiguous()
                state = self._param_state(p)
                if not state:
                    state["step"] = _C.tensor(0.0)
                    state["exp_avg"] = _C.zeros_like(p)
                    state["exp_avg_sq"] = _C.zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = _C.zeros_like(p)
                check_capturable(self, group)
                # bfloat16 steps op by op, each op rounded as in PyTorch's single-tensor update; so do
                # state buffers that are not contiguous (made like a non-contiguous parameter)
                buffers = (state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"))
                if p.dtype == _C.bfloat16 or not _C._kernel_fits(p, grad, *buffers) \
                        or not all(b is None or b.is_contiguous() for b in buffers):
                    _adam_by_ops(p, grad, state, group, decoupled)
                    continue
                state["step"].add_(1)
                step = state["step"].item()
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                if bias_correction2 < 0:
                    # its square root is complex: PyTorch updates the moments, then fails
                    state["step"].sub_(1)
                    _adam_by_ops(p, grad, state, group, decoupled)
                step_size = group["lr"] / bias_correction1
                target = p if p.is_contiguous() else p.detach().contiguous()
                _C._adam_update(target, grad, state["exp_avg"],
                                state["exp_avg_sq"], state.get("max_exp_avg_sq"), group["lr"], beta1,
                                beta2, group["eps"], group["weight_decay"], decoupled,
                                group["maximize"], step_size, bias_correction2 ** 0.5)
                _write_back(p, target)
        return loss


def _adam_by_ops(p, grad, state, group, decoupled):
    """PyTorch's _single_tensor_adam for one parameter, op by op (used when
    p.data or p.grad changed dtype or shape under the optimizer)."""
    beta1, beta2 = group["betas"]
    lr, weight_decay = group["lr"], group["weight_decay"]
    with _C_no_grad():
        state["step"].add_(1)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            if decoupled:
                p.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(p, alpha=weight_decay)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        diff = -exp_avg
        diff.add_(grad)                       # lerp_'s shape check: exp_avg against grad
        exp_avg.add_(diff, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
        step = state["step"].item()
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if group["amsgrad"]:
            state["max_exp_avg_sq"].copy_(_C.maximum(state["max_exp_avg_sq"], exp_avg_sq))
        if isinstance(bias_correction2_sqrt, complex):
            raise complex_step_error(p, half_division=True)
            denom = (state["max_exp_avg_sq"].sqrt() / bias_correction2_sqrt).add_(group["eps"])
        else:
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(group["eps"])
        p.add_(exp_avg / denom, alpha=-(lr / bias_correction1))


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2)."""
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused)
