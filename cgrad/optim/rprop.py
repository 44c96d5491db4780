"""Rprop: PyTorch's resilient backpropagation (torch.optim.Rprop,
single-tensor): each weight's step size grows by etaplus while its
gradient keeps its sign and shrinks by etaminus when the sign flips (that
step then skips the update). Written with whole-tensor ops per parameter."""
from cgrad import _C
from cgrad.optim._kernel_step import check_lr, run_step, scalar
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["Rprop"]


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        for p in params:
            grad = -p.grad if group["maximize"] else p.grad
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["prev"] = _C.zeros_like(p)
                state["step_size"] = _C.full_like(grad, scalar(group["lr"]))
            state["step"].add_(1)
            prev, step_size = state["prev"], state["step_size"]
            agreement = grad.mul(prev)
            flipped = agreement < 0
            factor = _C.ones_like(p).masked_fill_(agreement > 0, etaplus).masked_fill_(flipped, etaminus)
            step_size.mul_(factor).clamp_(step_size_min, step_size_max)
            grad = grad.masked_fill(flipped, 0)
            p.addcmul_(grad.sign(), step_size, value=-1)
            prev.copy_(grad)
