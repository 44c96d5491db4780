"""The single-tensor optimizer updates bit for bit against torch over five
steps: every optimizer and option that changes which operations run, in
float32 and float64, with PyTorch's fused multiply-adds (add with alpha,
lerp, addcmul; src/cgrad/fma_rows.h says which of its kernels fuse).

torch.sqrt on the CPU is not the IEEE square root: PyTorch calls MKL's
vector sqrt, which is off by one in the last bit for about a fifth of
float32 inputs (and 1.4% of float64 ones), where cgrad's is correctly
rounded. The update rules are compared with torch's sqrt and sqrt_
replaced by the IEEE one (numpy's), so that what is compared is the
optimizers' own arithmetic; the unreplaced comparison is kept as a strict
xfail naming that open difference."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

STEPS, N = 5, 257

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),          # lerp's other side: 1 - beta1 >= 0.5
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, lr_decay=0.01)),
    ("Adadelta", dict()),
    ("Adadelta", dict(weight_decay=0.1, lr=0.5)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("ASGD", dict(lr=0.01)),
    ("ASGD", dict(lr=0.01, weight_decay=0.1)),
    ("Rprop", dict(lr=0.01)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CONFIGS]


def run(lib, name, kw, dtype, foreach=False):
    r = np.random.default_rng(0)
    p0 = r.standard_normal(N).astype(dtype)
    grads = [r.standard_normal(N).astype(dtype) for _ in range(STEPS)]
    p = lib.tensor(p0.copy(), requires_grad=True)
    opt = getattr(lib.optim, name)([p], foreach=foreach, **kw)
    for g in grads:
        p.grad = lib.tensor(g.copy())
        opt.step()
    return p.detach().numpy().copy()


@pytest.fixture
def ieee_sqrt(monkeypatch):
    """torch's Tensor.sqrt / sqrt_ as the IEEE square root (see the top)."""
    sqrt, sqrt_ = torch.Tensor.sqrt, torch.Tensor.sqrt_

    def exact(self):
        if self.dtype in (torch.float32, torch.float64):
            return torch.from_numpy(np.sqrt(self.detach().numpy()))
        return sqrt(self)

    def exact_(self):
        if self.dtype in (torch.float32, torch.float64):
            return self.copy_(exact(self))
        return sqrt_(self)

    monkeypatch.setattr(torch.Tensor, "sqrt", exact)
    monkeypatch.setattr(torch.Tensor, "sqrt_", exact_)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_single_tensor_update_bitwise(name, kw, dtype, ieee_sqrt):
    expected = run(torch, name, kw, dtype)
    got = run(cgrad, name, kw, dtype)
    differ = np.flatnonzero(got != expected)
    assert differ.size == 0, f"{differ.size} of {N} elements differ after {STEPS} steps, first {differ[:5]}"


@requires_torch
@pytest.mark.xfail(strict=True, reason="open: torch.sqrt is MKL's vector sqrt, not correctly rounded (about 20% "
                                       "of float32 inputs differ from IEEE sqrt by one ulp); cgrad's is IEEE")
def test_adam_float32_against_torch_sqrt():
    expected = run(torch, "Adam", dict(lr=0.01), np.float32)
    assert np.array_equal(run(cgrad, "Adam", dict(lr=0.01), np.float32), expected)


def test_sgd_update_exact_without_torch():
    # p - lr * g as one rounding (param.add_(grad, alpha=-lr)): on these
    # inputs one rounding and two differ, and Fraction gives the exact fma
    from fractions import Fraction
    r = np.random.default_rng(5)
    p0, g = r.standard_normal(64), r.standard_normal(64)
    p = cgrad.tensor(p0.copy(), requires_grad=True)
    p.grad = cgrad.tensor(g.copy())
    cgrad.optim.SGD([p], lr=0.1).step()
    fused = np.array([float(Fraction(a) - Fraction(0.1) * Fraction(b)) for a, b in zip(p0, g)])
    assert np.array_equal(p.detach().numpy(), fused)
    assert not np.array_equal(fused, p0 - 0.1 * g)
