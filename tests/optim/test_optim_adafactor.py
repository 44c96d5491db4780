"""optim.Adafactor against torch.optim.Adafactor (parameters, states and
errors after several steps, matrices, stacked matrices and vectors), and
a hand-computed first step without torch."""
import math

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

CONFIGS = [dict(), dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=2.0, weight_decay=0.1),
           dict(lr=0.01, maximize=True), dict(eps=(None, 0.5))]


def run(lib, kwargs, dtype, steps=6):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal(3).astype(dtype),
              rng.standard_normal((2, 3, 4)).astype(dtype)]
    x = lib.tensor(rng.standard_normal((4, 5)).astype(dtype))
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    opt = lib.optim.Adafactor(params, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        w, b, stack = params
        (((x @ w + b).tanh() ** 2).sum() + (stack ** 3).sum()).backward()
        opt.step()
    states = [{k: (v.numpy() if isinstance(v, lib.Tensor) else v) for k, v in opt.state[p].items()} for p in params]
    return [p.detach().numpy() for p in params], states, sorted(opt.param_groups[0])


@requires_torch
@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_torch(kwargs, dtype):
    got, want = run(cgrad, kwargs, dtype), run(torch, kwargs, dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=1e-6)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, **tol)
    for got_state, want_state in zip(got[1], want[1]):
        assert sorted(got_state) == sorted(want_state)
        for key in want_state:
            np.testing.assert_allclose(got_state[key], want_state[key], **tol, err_msg=key)
            assert np.asarray(got_state[key]).shape == np.asarray(want_state[key]).shape, key
    assert got[2] == want[2]


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(lr=-1), dict(beta2_decay=0.5), dict(eps=(-1, 1e-3)), dict(eps=(None, -1)),
                                    dict(d=0.5), dict(weight_decay=-1)])
def test_errors_match_torch(kwargs):
    errors = []
    for lib in (torch, cgrad):
        with pytest.raises(ValueError) as info:
            lib.optim.Adafactor([lib.zeros(2, requires_grad=True)], **kwargs)
        errors.append(str(info.value))
    assert errors[1] == errors[0]


def test_first_step_by_hand():
    # a vector: variance = g^2 (decay 1 at step 1), update = sign(g) (clipped to RMS 1),
    # alpha = max(eps2, RMS(p)) * min(lr, 1)
    p = cgrad.tensor([3.0, -4.0], dtype=cgrad.float64, requires_grad=True)
    opt = cgrad.optim.Adafactor([p], lr=0.1)
    (p * cgrad.tensor([2.0, 0.5], dtype=cgrad.float64)).sum().backward()
    opt.step()
    alpha = math.sqrt((9 + 16) / 2) * 0.1
    np.testing.assert_allclose(p.detach().numpy(), [3.0 - alpha, -4.0 - alpha], rtol=1e-12)
    assert opt.state[p]["variance"].tolist() == [4.0, 0.25]
    assert opt.state[p]["step"].item() == 1.0
