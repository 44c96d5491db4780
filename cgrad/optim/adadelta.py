"""Adadelta: PyTorch's update rule (torch.optim.Adadelta, single-tensor),
run by a C kernel per parameter."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, run_step, scalar, update_in_place, zeros_state
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "capturable": capturable, "foreach": foreach,
                                  "differentiable": differentiable})

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["square_avg"] = zeros_state(p)
                state["acc_delta"] = zeros_state(p)
            state["step"].add_(1)
            update_in_place(_C._adadelta_update, p, p.grad, [state["square_avg"], state["acc_delta"]],
                            scalar(group["lr"]), group["rho"], group["eps"], group["weight_decay"],
                            group["maximize"])
