"""RAdam: PyTorch's update rule (torch.optim.RAdam, single-tensor), run by
a C kernel per parameter; the rectification term is computed in Python
floats per step, as PyTorch does."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, run_step, scalar, update_in_place, zeros_state
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
            update_in_place(_C._radam_update, p, p.grad, [state["exp_avg"], state["exp_avg_sq"]], lr, beta1,
                            beta2, group["eps"], group["weight_decay"], group["decoupled_weight_decay"],
                            group["maximize"], bias_correction1, bias_correction2 ** 0.5, rectify, rect)
