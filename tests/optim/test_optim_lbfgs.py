"""LBFGS against torch.optim.LBFGS: the same closure from the same start
gives the same iterates, with and without the strong-Wolfe line search,
and the state keeps torch's keys."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def rosenbrock_closure(lib, opt, x):
    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2 + ((x[2:] - 0.5) ** 2).sum()
        loss.backward()
        return loss
    return closure


def convex_closure(lib, opt, x):
    scale = lib.tensor(np.array([1.0, 3.0, 0.5, 2.0]))
    def closure():
        opt.zero_grad()
        loss = (scale * (x - 0.7) ** 2).sum() + 0.1 * (x ** 4).sum() + (x[0] * x[1]).exp()
        loss.backward()
        return loss
    return closure


def run(lib, kwargs, steps, make_closure=convex_closure):
    x = lib.tensor(np.array([-1.5, 2.0, 0.1, -0.3]), requires_grad=True)
    opt = lib.optim.LBFGS([x], **kwargs)
    closure = make_closure(lib, opt, x)
    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    return x, opt, losses


@requires_torch
@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(lr=0.5, history_size=3, max_iter=5),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=2, max_iter=7, tolerance_change=1e-12),
])
def test_iterates_match_torch(kwargs):
    xc, oc, lc = run(cgrad, kwargs, 6)
    xt, ot, lt = run(torch, kwargs, 6)
    np.testing.assert_allclose(lc, lt, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xc.detach().numpy(), xt.detach().numpy(), rtol=1e-8, atol=1e-10)
    sc, st = oc.state[xc], ot.state[xt]
    assert list(sc) == list(st)
    assert sc["func_evals"] == st["func_evals"] and sc["n_iter"] == st["n_iter"]
    assert len(sc["old_dirs"]) == len(st["old_dirs"])


@requires_torch
def test_strong_wolfe_converges_like_torch():
    xc, _, lc = run(cgrad, dict(line_search_fn="strong_wolfe", max_iter=50), 4, rosenbrock_closure)
    xt, _, lt = run(torch, dict(line_search_fn="strong_wolfe", max_iter=50), 4, rosenbrock_closure)
    np.testing.assert_allclose(xc.detach().numpy(), [1.0, 1.0, 0.5, 0.5], atol=1e-4)
    np.testing.assert_allclose(xc.detach().numpy(), xt.detach().numpy(), atol=1e-9)


def test_lbfgs_errors():
    a, b = cgrad.zeros(2, requires_grad=True), cgrad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options \(parameter groups\)$"):
        cgrad.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = cgrad.optim.LBFGS([a], line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
        opt.step(rosenbrock_closure(cgrad, opt, cgrad.cat([a, b]).detach().requires_grad_()) if False else
                 (lambda: ((a - 1) ** 2).sum().backward() or ((a - 1) ** 2).sum()))
    assert cgrad.optim.LBFGS([a]).defaults["max_eval"] == 25


def test_flat_gradient_is_a_view_as_pytorchs():
    """PyTorch's LBFGS flattens each gradient with view(-1): a gradient that
    cannot be viewed flat fails there (cgrad reshaped it)."""
    def run(lib):
        p = lib.nn.Parameter(lib.ones(2, 3))
        opt = lib.optim.LBFGS([p])

        def closure():
            p.grad = lib.ones(3, 2).t()
            return (p * 0).sum()
        with pytest.raises(RuntimeError) as caught:
            opt.step(closure)
        return str(caught.value)
    text = run(cgrad)
    assert text.startswith("view size is not compatible with input tensor's size and stride")
    if torch is not None:
        assert text == run(torch)
