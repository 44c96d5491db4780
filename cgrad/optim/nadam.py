"""NAdam: PyTorch's update rule (torch.optim.NAdam, single-tensor), run by
a C kernel per parameter. mu_product is a 0-dim tensor of the default
dtype, multiplied in place each step as PyTorch does, so its rounding (and
the addcdiv coefficients computed from it in Python floats) match."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, run_step, scalar, update_in_place, zeros_state
from cgrad.optim.adamax import check_betas_eps_wd
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["NAdam"]


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_betas_eps_wd(betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                                  "foreach": foreach, "capturable": capturable,
                                  "differentiable": differentiable})

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        beta1, beta2 = group["betas"]
        lr = scalar(group["lr"])
        momentum_decay = group["momentum_decay"]
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["mu_product"] = _C.tensor(1.0)
                state["exp_avg"] = zeros_state(p)
                state["exp_avg_sq"] = zeros_state(p)
            state["step"].add_(1)
            step = state["step"].item()
            bias_correction2 = 1 - beta2 ** step
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            mu_product = state["mu_product"]
            mu_product.mul_(mu)
            mu_product_value = mu_product.item()
            grad_coef = -lr * (1.0 - mu) / (1.0 - mu_product_value)
            exp_avg_coef = (-lr * mu_next) / (1.0 - mu_product_value * mu_next)
            update_in_place(_C._nadam_update, p, p.grad, [state["exp_avg"], state["exp_avg_sq"]], lr, beta1,
                            beta2, group["eps"], group["weight_decay"], group["decoupled_weight_decay"],
                            group["maximize"], bias_correction2, grad_coef, exp_avg_coef)
