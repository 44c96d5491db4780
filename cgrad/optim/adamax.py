"""Adamax: PyTorch's update rule (torch.optim.Adamax, single-tensor), run
by a C kernel per parameter; the bias correction is a Python float, as in
PyTorch."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, run_step, scalar, update_in_place, zeros_state
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["Adamax"]


def check_betas_eps_wd(betas, eps, weight_decay):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_betas_eps_wd(betas, eps, weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

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
                state["exp_inf"] = zeros_state(p)
            state["step"].add_(1)
            clr = lr / (1 - beta1 ** state["step"].item())
            update_in_place(_C._adamax_update, p, p.grad, [state["exp_avg"], state["exp_inf"]], beta1, beta2,
                            group["eps"], group["weight_decay"], group["maximize"], clr)
