"""ASGD: PyTorch's averaged stochastic gradient descent (torch.optim.ASGD,
single-tensor): SGD with a decaying step size eta and a running average
`ax` of the iterates that starts after t0 steps. Whole-tensor ops per
parameter; eta and mu are 0-dim state tensors as in PyTorch."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, run_step, scalar
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["ASGD"]


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                                  "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable, "capturable": capturable})

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        lr, lambd, alpha, t0 = scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        for p in params:
            grad = -p.grad if group["maximize"] else p.grad
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["eta"] = _C.tensor(lr, dtype=state["step"].dtype)
                state["mu"] = _C.ones((), dtype=state["step"].dtype)
                state["ax"] = _C.zeros_like(p)
            state["step"].add_(1)
            step = state["step"].item()
            if group["weight_decay"] != 0:
                grad = grad.add(p, alpha=group["weight_decay"])
            eta = state["eta"].item()
            p.mul_(1 - lambd * eta)
            p.add_(grad, alpha=-eta)
            if state["mu"].item() != 1:
                state["ax"].add_(p.sub(state["ax"]).mul_(state["mu"]))
            else:
                state["ax"].copy_(p)
            state["eta"].copy_(_C.tensor(lr / ((1 + lambd * lr * step) ** alpha)))
            state["mu"].copy_(_C.tensor(1 / max(1, step - t0)))
