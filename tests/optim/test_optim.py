"""cgrad.optim against torch.optim: the same parameters and gradients give
the same updates, step after step (float64 to the last few bits, float32 to
float rounding)."""
import copy

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True, maximize=True)),
]


def losses(lib, params, x):
    w, b = params
    return ((x @ w + b).tanh() ** 2).sum()


@requires_torch
@pytest.mark.parametrize("name,kwargs", CONFIGS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_optimizer_matches_torch(name, kwargs, dtype):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal(3).astype(dtype)]
    x_np = rng.standard_normal((4, 5)).astype(dtype)
    results = {}
    for lib in (cgrad, torch):
        params = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        x = lib.tensor(x_np)
        opt = getattr(lib.optim, name)(params, **kwargs)
        for _ in range(6):
            opt.zero_grad()
            losses(lib, params, x).backward()
            opt.step()
        results[lib.__name__] = [p.detach().numpy().copy() for p in params]
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=2e-5, atol=1e-6)
    for got, want in zip(results["cgrad"], results["torch"]):
        np.testing.assert_allclose(got, want, **tol)


@requires_torch
@pytest.mark.parametrize("name,kwargs", CONFIGS)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_state_dict_keys_match_torch(name, kwargs, dtype):
    """The saved state per parameter, key by key (SGD without momentum keeps
    none: an empty state)."""
    structures = []
    for lib in (cgrad, torch):
        params = [lib.tensor([1.0, -2.0, 3.0], dtype=getattr(lib, dtype), requires_grad=True)]
        opt = getattr(lib.optim, name)(params, **kwargs)
        for _ in range(2):
            opt.zero_grad()
            (params[0] * params[0]).sum().backward()
            opt.step()
        structures.append((len(opt.state), {k: sorted(v) for k, v in opt.state_dict()["state"].items()}))
    assert structures[0] == structures[1]


def test_sgd_by_hand_and_state_dict_round_trip():
    p = cgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = cgrad.optim.SGD([p], lr=0.1, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    # step 1: buf = 2p0 = [2, 4]; p1 = p0 - 0.1 buf = [0.8, 1.6]
    # step 2: buf = 0.5 [2, 4] + 2 p1 = [2.6, 5.2]; p2 = p1 - 0.1 buf = [0.54, 1.08]
    np.testing.assert_allclose(p.detach().numpy(), [0.54, 1.08], rtol=1e-6)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][0]["momentum"] == 0.5
    np.testing.assert_allclose(sd["state"][0]["momentum_buffer"].numpy(), [2.6, 5.2], rtol=1e-6)
    q = cgrad.tensor([0.54, 1.08], requires_grad=True)
    opt2 = cgrad.optim.SGD([q], lr=0.1, momentum=0.5)
    # torch's load_state_dict shares the loaded tensors (no copy when the
    # dtype already fits), so continue from a deep copy, as a checkpoint is
    opt2.load_state_dict(copy.deepcopy(sd))
    for o, t in ((opt, p), (opt2, q)):
        o.zero_grad()
        (t * t).sum().backward()
        o.step()
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-7)


def test_optimizer_errors():
    p = cgrad.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        cgrad.optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="^Nesterov momentum requires a momentum and zero dampening$"):
        cgrad.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        cgrad.optim.Adam([])
    with pytest.raises(ValueError, match=r"^Invalid beta parameter at index 0: 1.0$"):
        cgrad.optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="^can't optimize a non-leaf Tensor$"):
        cgrad.optim.SGD([p * 2], lr=0.1)


def test_zero_grad_modes():
    p = cgrad.ones(2, requires_grad=True)
    opt = cgrad.optim.SGD([p], lr=0.1)
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


@requires_torch
@pytest.mark.parametrize("name,kwargs", CONFIGS)
def test_updates_bit_for_bit_in_float64(name, kwargs):
    """With the same gradients, the float64 updates are identical to torch's
    (PyTorch's CPU kernels fuse multiply-adds; ours fuse the same ones).
    One exception: torch takes Adam's sqrt from MKL's vector math, which is
    off by one ulp for about 1% of inputs, so Adam/AdamW may differ in the
    last bit of a few elements."""
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(37)
    grads = [rng.standard_normal(37) for _ in range(6)]
    out = []
    for lib in (cgrad, torch):
        p = lib.tensor(p0.copy(), requires_grad=True)
        opt = getattr(lib.optim, name)([p], **kwargs)
        for g in grads:
            opt.zero_grad()
            (p * lib.tensor(g)).sum().backward()
            opt.step()
        out.append(p.detach().numpy().copy())
    if name == "SGD":
        assert np.array_equal(out[0], out[1])
    else:
        assert np.mean(out[0] == out[1]) >= 0.9
        np.testing.assert_array_max_ulp(out[0], out[1], maxulp=4)
