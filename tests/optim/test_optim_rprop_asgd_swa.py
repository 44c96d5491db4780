"""Rprop, ASGD and swa_utils (AveragedModel, SWALR, update_bn, the averaging
rules) against torch.optim: same parameters and gradients, same updates,
states, learning rates and errors; and hand-computed checks without torch."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

CONFIGS = [
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.01, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=2, weight_decay=0.1)),
    ("ASGD", dict(lr=0.02, t0=0, maximize=True)),
]


def loss_of(params, x):
    w, b = params
    return ((x @ w + b).tanh() ** 2).sum()


def run(lib, name, kwargs, dtype, steps=7):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal(3).astype(dtype)]
    x = lib.tensor(rng.standard_normal((4, 5)).astype(dtype))
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    opt = getattr(lib.optim, name)(params, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss_of(params, x).backward()
        opt.step()
    state = {k: (v.numpy() if isinstance(v, lib.Tensor) else v) for k, v in opt.state[params[0]].items()}
    return [p.detach().numpy() for p in params], state, sorted(opt.param_groups[0])


@requires_torch
@pytest.mark.parametrize("name,kwargs", CONFIGS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_torch(name, kwargs, dtype):
    got, want = run(cgrad, name, kwargs, dtype), run(torch, name, kwargs, dtype)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=2e-5, atol=1e-6)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, **tol)
    assert sorted(got[1]) == sorted(want[1])
    for key in want[1]:
        np.testing.assert_allclose(got[1][key], want[1][key], **tol, err_msg=key)
        assert np.asarray(got[1][key]).dtype == np.asarray(want[1][key]).dtype, key
    assert got[2] == want[2]


@requires_torch
@pytest.mark.parametrize("call", [
    lambda lib, p: lib.optim.Rprop(p, lr=-1),
    lambda lib, p: lib.optim.Rprop(p, etas=(1.2, 0.5)),
    lambda lib, p: lib.optim.ASGD(p, lr=-0.1),
    lambda lib, p: lib.optim.ASGD(p, weight_decay=-1),
    lambda lib, p: lib.optim.swa_utils.SWALR(lib.optim.SGD(p, lr=0.1), 0.05, anneal_strategy="exp"),
    lambda lib, p: lib.optim.swa_utils.SWALR(lib.optim.SGD(p, lr=0.1), 0.05, anneal_epochs=-1),
    lambda lib, p: lib.optim.swa_utils.SWALR(lib.optim.SGD(p, lr=0.1), [0.05, 0.01]),
])
def test_errors_match_torch(call):
    errors = []
    for lib in (torch, cgrad):
        with pytest.raises(Exception) as info:
            call(lib, [lib.zeros(2, requires_grad=True)])
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[1] == errors[0]


def make_model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


@requires_torch
@pytest.mark.parametrize("averaging", ["swa", "ema", "ema multi", "use_buffers"])
def test_averaged_model_matches_torch(averaging):
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((8, 3)).astype(np.float32) for _ in range(4)]
    results = []
    for lib in (torch, cgrad):
        model = make_model(lib)
        for (name, value), array in zip(model.state_dict().items(), make_arrays(rng_seed=2, model=model)):
            value.copy_(lib.tensor(array))
        swa_utils = lib.optim.swa_utils
        kwargs = {"swa": {}, "ema": {"avg_fn": swa_utils.get_ema_avg_fn(0.9)},
                  "ema multi": {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)},
                  "use_buffers": {"use_buffers": True}}[averaging]
        averaged = swa_utils.AveragedModel(model, **kwargs)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        scheduler = swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=2, anneal_strategy="linear")
        lrs = []
        for batch in batches:
            opt.zero_grad()
            model(lib.tensor(batch)).pow(2).mean().backward()
            opt.step()
            averaged.update_parameters(model)
            scheduler.step()
            lrs.append(opt.param_groups[0]["lr"])
        swa_utils.update_bn([lib.tensor(b) for b in batches], averaged)
        out = averaged(lib.tensor(batches[0])).detach().numpy()
        results.append((lrs, int(averaged.n_averaged), [v.numpy() for v in averaged.state_dict().values()], out,
                        list(averaged.state_dict())))
    (lr_t, n_t, state_t, out_t, keys_t), (lr_c, n_c, state_c, out_c, keys_c) = results
    np.testing.assert_allclose(lr_c, lr_t, rtol=1e-12)
    assert n_c == n_t and keys_c == keys_t
    for a, b in zip(state_c, state_t):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_c, out_t, rtol=1e-5, atol=1e-6)


def make_arrays(rng_seed, model):
    rng = np.random.default_rng(rng_seed)
    return [rng.standard_normal(tuple(v.shape)).astype(np.float32) if v.is_floating_point()
            else np.zeros(tuple(v.shape), dtype=np.int64) for v in model.state_dict().values()]


def test_swa_average_hand_computed():
    """Equal averaging of the weights seen, and the linear SWALR ramp."""
    model = cgrad.nn.Linear(1, 1, bias=False)
    averaged = cgrad.optim.swa_utils.AveragedModel(model)
    for value in (1.0, 2.0, 6.0):
        with cgrad.no_grad():
            model.weight.fill_(value)
        averaged.update_parameters(model)
    assert averaged.module.weight.item() == 3.0
    opt = cgrad.optim.SGD(model.parameters(), lr=1.0)
    scheduler = cgrad.optim.swa_utils.SWALR(opt, swa_lr=0.0, anneal_epochs=4, anneal_strategy="linear")
    lrs = []
    for _ in range(5):
        opt.step()
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [0.75, 0.5, 0.25, 0.0, 0.0], atol=1e-12)


def test_rprop_hand_computed():
    """Same-sign gradients grow the step by etaplus; the first step is lr."""
    p = cgrad.tensor([1.0], dtype=cgrad.float64, requires_grad=True)
    opt = cgrad.optim.Rprop([p], lr=0.1)
    values = []
    for _ in range(3):
        opt.zero_grad()
        (p * 2).sum().backward()
        opt.step()
        values.append(p.item())
    np.testing.assert_allclose(values, [0.9, 0.9 - 0.12, 0.9 - 0.12 - 0.144], rtol=1e-12)
