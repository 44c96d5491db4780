"""Adafactor (Shazeer & Stern 2018, as torch.optim.Adafactor): Adam-like
steps whose second-moment estimate of a matrix (or a stack of matrices) is
factored into a row and a column running mean, so its state costs
O(rows + cols) instead of O(rows * cols); vectors keep a full estimate.
The step size is relative: lr is capped by 1/sqrt(step) and scaled by the
parameter's RMS (at least eps2); the update is clipped to RMS d. The
second-moment decay is 1 - step**beta2_decay. Whole-tensor ops per
parameter."""
import math

from cgrad import _C
from cgrad.optim._kernel_step import run_step, scalar
from cgrad.optim.optimizer import Optimizer, _step_tensor

__all__ = ["Adafactor"]

_DTYPE_EPS = {"float16": 0.0009765625, "bfloat16": 0.0078125, "float32": 1.1920928955078125e-07, "float64": 2.220446049250313e-16}


class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, _C.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                                  "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize})

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        lr = scalar(group["lr"])
        eps1, eps2 = group["eps"]
        for p in params:
            if p.grad.is_sparse:
                raise RuntimeError("Adafactor does not support sparse gradients")
            state = self.state[p]
            if len(state) == 0:
                self._init_state(state, p.grad)
        for p in params:
            grad = -p.grad if group["maximize"] else p.grad
            state = self.state[p]
            if eps1 is None:
                # as PyTorch: the first parameter's dtype fixes it for the whole group
                eps1 = _DTYPE_EPS[str(p.dtype).rsplit(".", 1)[-1]]
            state["step"].add_(1)
            step = state["step"].item()
            decay = step ** group["beta2_decay"]            # 1 - beta2 at this step
            relative_lr = min(lr, 1 / math.sqrt(step))
            alpha = max(eps2, p.norm(2).item() / math.sqrt(p.numel())) * relative_lr
            if group["weight_decay"] != 0:
                p.mul_(1 - lr * group["weight_decay"])
            if grad.dim() > 1:
                row_var, col_var = state["row_var"], state["col_var"]
                row_var.lerp_(_C.norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1)), decay)
                col_var.lerp_(_C.norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2)), decay)
                # the rank-1 estimate: row means times column means over the mean of the rows
                variance = row_var @ col_var
                variance.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
            else:
                state["variance"].lerp_(grad * grad, decay)
                variance = state["variance"].clone()
            update = variance.clamp_(min=eps1 * eps1).rsqrt_().mul_(grad)
            clip = max(1.0, update.norm(2).item() / (math.sqrt(update.numel()) * group["d"]))
            p.add_(update, alpha=-alpha / clip)

    @staticmethod
    def _init_state(state, grad):
        state["step"] = _step_tensor()
        if grad.dim() > 1:
            row_shape = list(grad.shape)
            row_shape[-1] = 1
            col_shape = list(grad.shape)
            col_shape[-2] = 1
            state["row_var"] = grad.new_zeros(row_shape)
            state["col_var"] = grad.new_zeros(col_shape)
        else:
            state["variance"] = _C.zeros_like(grad)
