"""RAdam: PyTorch's update rule (torch.optim.RAdam, single-tensor), run by
a C kernel per parameter; the rectification term is computed in Python
floats per step, as PyTorch does."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, complex_step_error, run_step, scalar, update_in_place, zeros_state
from cgrad.optim.adamax import check_betas_eps_wd
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["RAdam"]


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_betas_eps_wd(betas, eps, weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "foreach": foreach, "capturable": capturable,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "differentiable": differentiable})

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        beta1, beta2 = group["betas"]
        lr = scalar(group["lr"])
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["exp_avg"] = zeros_state(p)
                state["exp_avg_sq"] = zeros_state(p)
            state["step"].add_(1)
            step = state["step"].item()
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            rectify = rho_t > 5.0
            rect = (((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    if rectify else 1.0)
            if rectify and (bias_correction2 < 0 or isinstance(rect, complex)):
                _moments_then_fail(p, state, group, lr, beta1, beta2)
            update_in_place(_C._radam_update, p, p.grad, [state["exp_avg"], state["exp_avg_sq"]], lr, beta1,
                            beta2, group["eps"], group["weight_decay"], group["decoupled_weight_decay"],
                            group["maximize"], bias_correction1,
                            bias_correction2 ** 0.5 if rectify else 1.0, rectify, rect)


def _moments_then_fail(p, state, group, lr, beta1, beta2):
    """PyTorch's single-tensor RAdam up to the rectified step whose scalars
    are complex: weight decay and both moments updated, then its error."""
    grad = -p.grad if group["maximize"] else p.grad
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if group["decoupled_weight_decay"]:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    state["exp_avg"].lerp_(grad, 1 - beta1)
    state["exp_avg_sq"].mul_(beta2).add_(grad * grad, alpha=1 - beta2)
    raise complex_step_error(p)
