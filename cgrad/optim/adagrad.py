"""Adagrad: PyTorch's update rule (torch.optim.Adagrad, single-tensor),
run by a C kernel per parameter; state is made up front, as PyTorch does."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, run_step, scalar, update_in_place, zeros_state
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable, "fused": fused})
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = zeros_state(p, self.defaults["initial_accumulator_value"])
        return state

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        lr = scalar(group["lr"])
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state = self._init_state(p)
            state["step"].add_(1)
            step = state["step"].item()
            clr = lr / (1 + (step - 1) * group["lr_decay"])
            update_in_place(_C._adagrad_update, p, p.grad, [state["sum"]], clr, group["eps"],
                            group["weight_decay"], group["maximize"])
