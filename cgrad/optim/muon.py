"""Muon (torch.optim.Muon): momentum SGD for 2-D parameters whose update is
orthogonalised before it is applied. The momentum-blended gradient goes
through a few steps of a quintic Newton-Schulz iteration in bfloat16 (Keller
Jordan's scheme), which drives its singular values towards one; weight
decay is decoupled, and the learning rate is scaled by the matrix's shape.
Whole-tensor ops per parameter, in PyTorch's order and dtypes, so the
results round as PyTorch's single-tensor step does."""
import math

from cgrad import _C
from cgrad.optim._kernel_step import run_step, scalar
from cgrad.optim.optimizer import Optimizer

__all__ = ["Muon"]

# PyTorch's defaults: the quintic's coefficients (chosen for a steep slope at
# zero rather than convergence to exactly one), the norm's floor, the steps
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_EPS = 1e-7
NS_STEPS = 5
LR_RULES = (None, "original", "match_rms_adamw")


def orthogonalized(update, coefficients, steps, eps):
    """update with its singular values pushed towards one: X <- aX + (bA +
    cA^2)X with A = XX^T, on the wide orientation of the matrix (the Gram
    matrix is the smaller one), after scaling X to at most unit norm."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if update.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    tall = update.size(0) > update.size(1)
    x = update.bfloat16()
    if tall:
        x = x.T
    x.div_(x.norm().clamp(min=eps))
    for _ in range(steps):
        gram = x @ x.T
        polynomial = _C.addmm(gram, gram, gram, beta=b, alpha=c)
        x = _C.addmm(x, polynomial, x, beta=a)
    return x.T if tall else x


def shape_scaled_lr(lr, rule, shape):
    """The learning rate for a rows x cols parameter: "original" (the
    default) keeps the update's RMS across aspect ratios, "match_rms_adamw"
    matches AdamW's update RMS (Moonshot's rule)."""
    rows, cols = shape[0], shape[1]
    if rule is None or rule == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if rule == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=NS_COEFFICIENTS, eps=NS_EPS, ns_steps=NS_STEPS, adjust_lr_fn=None):
        if isinstance(lr, _C.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn not in LR_RULES:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                                  "nesterov": nesterov, "ns_coefficients": ns_coefficients, "eps": eps,
                                  "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn})
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def step(self, closure=None):
        return run_step(self, closure, self._update_group)

    def _update_group(self, group, params):
        lr = scalar(group["lr"])
        momentum = group["momentum"]
        for p in params:        # every buffer exists before the first update, as in PyTorch
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = _C.zeros_like(p.grad, memory_format=_C.preserve_format)
        for p in params:
            grad = p.grad
            if grad.ndim != 2:
                raise ValueError("Param gradient must be a 2D matrix")
            buf = self.state[p]["momentum_buffer"]
            buf.lerp_(grad, 1 - momentum)
            update = grad.lerp(buf, momentum) if group["nesterov"] else buf
            update = orthogonalized(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
            p.mul_(1 - lr * group["weight_decay"])
            p.add_(update, alpha=-shape_scaled_lr(lr, group["adjust_lr_fn"], p.shape))
