"""cgrad.utils.checkpoint against torch.utils.checkpoint: gradients equal to
the plain run for both variants, the recomputation actually happening,
RNG state preserved, kwargs, checkpoint_sequential, and PyTorch's warnings
and errors."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.utils.checkpoint
from tests.helpers import requires_torch, torch

if torch is not None:
    import torch.utils.checkpoint

X = np.linspace(-1.0, 1.5, 6)


def cp(lib):
    return lib.utils.checkpoint


def block(x, scale=1.0):
    return ((x * 1.5).tanh() * x).exp() * scale


def run_variant(lib, use_reentrant, **kw):
    x = lib.tensor(X, requires_grad=True)
    h = x * 2
    y = cp(lib).checkpoint(block, h, use_reentrant=use_reentrant, **kw)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy(), y.grad_fn


def plain(lib):
    x = lib.tensor(X, requires_grad=True)
    y = block(x * 2)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


@requires_torch
@pytest.mark.parametrize("use_reentrant", [True, False])
def test_gradients_match_plain_run_and_torch(use_reentrant):
    y_c, g_c, fn_c = run_variant(cgrad, use_reentrant)
    y_t, g_t, fn_t = run_variant(torch, use_reentrant)
    y_p, g_p = plain(cgrad)
    np.testing.assert_allclose(y_c, y_p, rtol=1e-12)
    np.testing.assert_allclose(g_c, g_p, rtol=1e-12)
    np.testing.assert_allclose(g_c, g_t, rtol=1e-12)
    assert type(fn_c).__name__ == type(fn_t).__name__


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_function_is_rerun_in_backward(use_reentrant):
    calls = []

    def fn(x):
        calls.append(cgrad.is_grad_enabled())
        return x.sin() * x

    x = cgrad.tensor(X, requires_grad=True)
    y = cgrad.utils.checkpoint.checkpoint(fn, x, use_reentrant=use_reentrant)
    assert len(calls) == 1
    y.sum().backward()
    assert len(calls) == 2 and calls[1] is True
    np.testing.assert_allclose(x.grad.numpy(), np.cos(X) * X + np.sin(X), rtol=1e-12)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_rng_state_preserved_for_dropout(use_reentrant):
    def fn(x):
        return cgrad.nn.functional.dropout(x, 0.5, training=True) * x

    cgrad.manual_seed(5)
    x = cgrad.tensor(np.ones(200), requires_grad=True)
    y = cgrad.utils.checkpoint.checkpoint(fn, x, use_reentrant=use_reentrant)
    after_forward = cgrad.rand(3).numpy()
    y.sum().backward()
    mask = y.detach().numpy() != 0
    # d/dx (dropout(x) * x) = 2 * x * mask / (1 - p): the same mask as the forward
    np.testing.assert_allclose(x.grad.numpy(), np.where(mask, 4.0, 0.0))
    cgrad.manual_seed(5)
    cgrad.nn.functional.dropout(cgrad.ones(200), 0.5, training=True)
    np.testing.assert_allclose(cgrad.rand(3).numpy(), after_forward)


@requires_torch
def test_kwargs_only_without_reentrant():
    res = []
    for lib in (cgrad, torch):
        x = lib.tensor(X, requires_grad=True)
        y = cp(lib).checkpoint(block, x, use_reentrant=False, scale=3.0)
        y.sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)
    errors_alike(lambda lib: cp(lib).checkpoint(block, lib.tensor(X, requires_grad=True), use_reentrant=True,
                                                scale=3.0))


@requires_torch
def test_autograd_grad_works_only_without_reentrant():
    res = []
    for lib in (cgrad, torch):
        x = lib.tensor(X, requires_grad=True)
        y = cp(lib).checkpoint(block, x, use_reentrant=False)
        res.append(lib.autograd.grad(y.sum(), x)[0].numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)

    def reentrant_grad(lib):
        x = lib.tensor(X, requires_grad=True)
        y = cp(lib).checkpoint(block, x * 1, use_reentrant=True)
        lib.autograd.grad(y.sum(), x)
    errors_alike(reentrant_grad)


def errors_alike(fn):
    out = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        out.append(info.value)
    assert type(out[0]) is type(out[1]), f"{out[0]!r} / {out[1]!r}"
    assert str(out[0]) == str(out[1])


@requires_torch
def test_missing_use_reentrant_warns_like_torch():
    msgs = []
    for lib in (cgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            x = lib.tensor(X, requires_grad=True)
            y = cp(lib).checkpoint(block, x)
            y.sum().backward()
            cp(lib).checkpoint_sequential([lib.nn.Tanh(), lib.nn.Tanh()], 2, x)
        msgs.append([(type(m.message), str(m.message)) for m in w])
    assert msgs[0] == msgs[1]


@requires_torch
def test_no_input_requires_grad_warning():
    msgs = []
    for lib in (cgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            y = cp(lib).checkpoint(block, lib.tensor(X), use_reentrant=True)
        msgs.append(([str(m.message) for m in w], y.requires_grad))
    assert msgs[0] == msgs[1]


@requires_torch
def test_argument_errors():
    errors_alike(lambda lib: cp(lib).checkpoint(block, lib.tensor(X), use_reentrant=True, debug=True))
    errors_alike(lambda lib: cp(lib).checkpoint(block, lib.tensor(X), use_reentrant=True,
                                                context_fn=lambda: (None, None)))
    errors_alike(lambda lib: cp(lib).checkpoint(block, lib.tensor(X, requires_grad=True), use_reentrant=False,
                                                determinism_check="strict"))
    errors_alike(lambda lib: cp(lib).checkpoint_sequential([block], 1, lib.tensor(X), use_reentrant=True,
                                                           bad=1))


@requires_torch
@pytest.mark.parametrize("second", ["shape", "count"])
def test_non_deterministic_recompute_is_detected(second):
    def run(lib):
        state = {"n": 0}
        other = (lambda x: x.repeat(2).exp()[:2]) if second == "shape" else (lambda x: x * 2)

        def fn(x):
            state["n"] += 1
            return x.exp() if state["n"] == 1 else other(x)

        x = lib.tensor(X, requires_grad=True)
        y = cp(lib).checkpoint(fn, x, use_reentrant=False)
        y.sum().backward()

    out = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            run(lib)
        out.append(info.value)
    assert type(out[0]).__name__ == type(out[1]).__name__ == "CheckpointError"
    assert isinstance(out[0], RuntimeError)
    assert str(out[0]) == str(out[1]).replace("torch.Size", "cgrad.Size").replace("torch.float", "cgrad.float")


@requires_torch
@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential(use_reentrant, segments):
    res = []
    for lib in (cgrad, torch):
        lib.manual_seed(0)
        layers = [lib.nn.Linear(6, 6, dtype=lib.float64), lib.nn.Tanh(), lib.nn.Linear(6, 6, dtype=lib.float64),
                  lib.nn.Sigmoid(), lib.nn.Linear(6, 2, dtype=lib.float64)]
        with lib.no_grad():
            for k, p in enumerate(p for m in layers for p in m.parameters()):
                p.copy_(lib.tensor(np.random.default_rng(k).standard_normal(tuple(p.shape))))
        model = lib.nn.Sequential(*layers)
        x = lib.tensor(np.stack([X, X[::-1]]), requires_grad=True)
        y = cp(lib).checkpoint_sequential(model, segments, x, use_reentrant=use_reentrant)
        y.sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy(), layers[0].weight.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_no_grad_mode_runs_plainly():
    x = cgrad.tensor(X, requires_grad=True)
    with cgrad.no_grad():
        y = cgrad.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
    assert not y.requires_grad
