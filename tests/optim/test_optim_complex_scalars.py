"""The adaptive optimizers' scalar square roots (Adam/AdamW's and RAdam's
sqrt(1 - beta2 ** step), RAdam's rectification) when betas were edited in
param_groups past the constructor's checks: PyTorch computes them with
Python's ** 0.5, so a negative radicand gives a complex scalar and the step
fails with PyTorch's error after the moments (and decoupled weight decay)
were updated; NaN radicands and the kernels' own square roots of negative
or NaN values give NaN parameters, as in PyTorch. Each case runs through
both libraries from the same start and compares the error (type and text),
the parameter and every state buffer."""

import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

CASES = [
    ("Adam", {"betas": (0.9, 1.5)}, {}),
    ("Adam", {"betas": (0.9, 1.5), "amsgrad": True}, {}),
    ("Adam", {"betas": (0.9, 1.5)}, {"weight_decay": 0.1}),
    ("AdamW", {"betas": (0.9, 1.5)}, {}),
    ("Adam", {"betas": (0.9, float("nan"))}, {}),
    ("Adam", {"betas": (0.9, -0.5)}, {}),
    ("Adam", {"eps": -1.0}, {}),
    ("RAdam", {"betas": (0.9, 1.5)}, {}),
    ("RAdam", {"betas": (0.9, 1.5)}, {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", {"betas": (0.9, 1.5)}, {"weight_decay": 0.1, "maximize": True}),
    ("RAdam", {"betas": (0.9, 0.5)}, {}),
    ("RAdam", {"betas": (0.9, float("nan"))}, {}),
    ("NAdam", {"betas": (0.9, 1.5)}, {}),
    ("NAdam", {"betas": (0.9, float("nan"))}, {}),
    ("Adamax", {"betas": (0.9, 1.5)}, {}),
    ("RMSprop", {"alpha": 2.0}, {}),
    ("RMSprop", {"alpha": 2.0}, {"centered": True}),
    ("Adadelta", {"rho": 2.0}, {}),
    ("Adadelta", {"rho": float("nan")}, {}),
    ("Adagrad", {"eps": -10.0}, {}),
]


def run(lib, name, edits, kwargs, dtype):
    p = lib.nn.Parameter(lib.tensor(np.array([1.0, -2.0, 3.0, 0.25]), dtype=getattr(lib, dtype)))
    opt = getattr(lib.optim, name)([p], lr=0.1, **kwargs)
    opt.param_groups[0].update(edits)
    error = None
    for _ in range(8):
        opt.zero_grad()
        (p * p).sum().backward()
        try:
            opt.step()
        except Exception as e:  # noqa: BLE001 - the error itself is compared
            error = (type(e).__name__, str(e).replace("torch.", "cgrad."))
            break
    state = {k: np.asarray(v.detach().numpy(), dtype=np.float64) for k, v in opt.state[p].items()}
    return error, np.asarray(p.detach().numpy(), dtype=np.float64), state


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,edits,kwargs", CASES, ids=lambda c: str(c))
def test_edited_betas_match_torch(name, edits, kwargs, dtype):
    got = run(cgrad, name, edits, kwargs, dtype)
    want = run(torch, name, edits, kwargs, dtype)
    assert got[0] == want[0]
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got[1], want[1], rtol=tol, atol=tol, equal_nan=True)
    assert sorted(got[2]) == sorted(want[2])
    for key in want[2]:
        np.testing.assert_allclose(got[2][key], want[2][key], rtol=tol, atol=tol, equal_nan=True, err_msg=key)


def test_negative_bias_correction_fails_after_the_moments():
    # no oracle needed: PyTorch's order is moments first, then the error
    p = cgrad.nn.Parameter(cgrad.tensor([1.0, -2.0]))
    opt = cgrad.optim.Adam([p], lr=0.1)
    opt.param_groups[0]["betas"] = (0.9, 1.5)
    (p * p).sum().backward()
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the desired output type Float"):
        opt.step()
    state = opt.state[p]
    assert state["step"].item() == 1.0
    assert np.allclose(state["exp_avg"].numpy(), [0.2, -0.4])
    assert np.allclose(state["exp_avg_sq"].numpy(), [-0.5 * 4, -0.5 * 16])
    assert p.tolist() == [1.0, -2.0]
