"""RMSprop: PyTorch's update rule (torch.optim.RMSprop, single-tensor),
run by a C kernel per parameter (optim_kernels_adaptive.h)."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, run_step, scalar, update_in_place, zeros_state
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                                  "centered": centered, "weight_decay": weight_decay,
                                  "capturable": capturable, "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable})

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        momentum = group["momentum"]
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["square_avg"] = zeros_state(p)
                if momentum > 0:
                    state["momentum_buffer"] = zeros_state(p)
                if group["centered"]:
                    state["grad_avg"] = zeros_state(p)
            state["step"].add_(1)
            update_in_place(_C._rmsprop_update, p, p.grad,
                            [state["square_avg"], state.get("grad_avg") if group["centered"] else None,
                             state.get("momentum_buffer") if momentum > 0 else None],
                            scalar(group["lr"]), group["alpha"], group["eps"], group["weight_decay"],
                            momentum, group["maximize"])
