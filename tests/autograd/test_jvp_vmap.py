"""jvp inside vmap and jacfwd built on it (vmap over jvp of the standard
basis, one batched forward pass), and jvp nested in jvp: values against
torch.func, and the pass count (f runs once for the whole Jacobian, not once
per column)."""
import numpy as np
import pytest

import cgrad

from fwd_helpers import torch
from test_jvp_transforms import both

rng = np.random.default_rng(23)
XV, WV, BV = rng.standard_normal((2, 5)), rng.standard_normal((3, 5)), rng.standard_normal(3)


def mlp(L, x, w, b):
    return L.nn.functional.log_softmax(L.tanh(L.nn.functional.linear(x, w, b)), -1)


def test_jacfwd_runs_f_once():
    calls = []

    def f(x):
        calls.append(1)
        return mlp(cgrad, x, cgrad.tensor(WV), cgrad.tensor(BV))
    jac = cgrad.func.jacfwd(f)(cgrad.tensor(XV))
    assert len(calls) == 1
    assert tuple(jac.shape) == (2, 3, 2, 5)
    rows = cgrad.func.jacrev(f)(cgrad.tensor(XV))
    np.testing.assert_allclose(jac.numpy(), rows.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("argnums", [0, 1, (1, 2), (0, 1, 2)])
def test_jacfwd_of_mlp_matches_torch(argnums):
    both(lambda L: L.func.jacfwd(lambda x, w, b: mlp(L, x, w, b), argnums=argnums)(
        L.tensor(XV), L.tensor(WV), L.tensor(BV)))


@pytest.mark.parametrize("op", ["softmax", "sum_mean", "cat_stack", "index", "where_clamp", "pow", "mse",
                                "cross_entropy", "matmul", "amax_logsumexp", "views"])
def test_jacfwd_through_batching_rules_matches_torch(op):
    def f(L, x):
        if op == "softmax":
            return L.softmax(x, 1) * x
        if op == "sum_mean":
            return x.sum(0) + x.mean(1, keepdim=True)
        if op == "cat_stack":
            return L.stack([L.cat([x, x * 2], 1), L.cat([x.exp(), x], 1)])
        if op == "index":
            return x[L.tensor([1, 0, 1])] * x[:, 1:3].sum()
        if op == "where_clamp":
            return L.where(x > 0, x.clamp(-0.5, 0.5), x ** 2)
        if op == "pow":
            return (x.abs() + 0.5) ** x
        if op == "mse":
            return L.nn.functional.mse_loss(x, x.flip(0) * 2)
        if op == "cross_entropy":
            return L.nn.functional.cross_entropy(x, L.tensor([4, 1]))
        if op == "matmul":
            return x @ L.tensor(WV).t() + L.addmm(L.tensor(BV), x, L.tensor(WV).t(), beta=0.5)
        if op == "amax_logsumexp":
            return x.amax(1) + x.logsumexp(0).sum()
        return x.t().reshape(5, 2).unsqueeze(0).expand(2, 5, 2).permute(2, 0, 1).squeeze()
    both(lambda L: L.func.jacfwd(lambda x: f(L, x))(L.tensor(XV)))


def test_jvp_inside_vmap_with_batched_primals_matches_torch():
    xs, ts = rng.standard_normal((4, 2, 5)), rng.standard_normal((4, 2, 5))
    both(lambda L: L.func.vmap(lambda x, t: L.func.jvp(lambda x: mlp(L, x, L.tensor(WV), L.tensor(BV)),
                                                       (x,), (t,)))(L.tensor(xs), L.tensor(ts)))


def test_jvp_inside_vmap_with_shared_primal_matches_torch():
    ts = rng.standard_normal((4, 2, 5))
    both(lambda L: L.func.vmap(lambda t: L.func.jvp(lambda x: (x.sin() * x).sum(1), (L.tensor(XV),), (t,)))(
        L.tensor(ts)))


def test_vmap_of_jacfwd_matches_torch():
    xs = rng.standard_normal((3, 4))
    both(lambda L: L.func.vmap(L.func.jacfwd(lambda x: x.tanh() * x.sum()))(L.tensor(xs)))


def test_hessian_and_jacfwd_of_jacfwd_match_torch():
    f = lambda L, x: (L.tanh(x @ L.tensor(WV).t()) ** 2).sum() + (x ** 3).sum()  # noqa: E731
    x = XV[0]
    both(lambda L: L.func.hessian(lambda x: f(L, x))(L.tensor(x)))
    both(lambda L: L.func.jacfwd(L.func.jacfwd(lambda x: f(L, x)))(L.tensor(x)))
    both(lambda L: L.func.jacrev(L.func.jacfwd(lambda x: f(L, x)))(L.tensor(x)))


def test_jacfwd_dtype_and_empty_input():
    both(lambda L: L.func.jacfwd(lambda x: x * 2)(L.ones(2, 3, dtype=L.float32)))
    both(lambda L: L.func.jacfwd(lambda x: x * 2)(L.ones(0, 2, dtype=L.float64)))


def test_jvp_of_jvp_matches_torch():
    """Nested jvp: the inner Jacobian-vector product under the outer level
    (second directional derivative in directions t and s)."""
    x, t, s = XV[0], rng.standard_normal(5), rng.standard_normal(5)

    def run(L):
        f = lambda x: (x.sin() * x.exp()).cumsum(0) + L.softmax(x, 0)  # noqa: E731
        inner = lambda x: L.func.jvp(f, (x,), (L.tensor(t),))[1]  # noqa: E731
        return L.func.jvp(inner, (L.tensor(x),), (L.tensor(s),))
    both(run)


def test_nested_jvp_argnums_and_has_aux_match_torch():
    def run(L):
        def f(x, w):
            y = L.tanh(x @ w.t())
            return y.sum(0), {"y": y}

        def inner(x, w):
            out, tan, aux = L.func.jvp(lambda w: f(x, w), (w,), (L.ones_like(w),), has_aux=True)
            return tan, aux["y"].sum()
        return L.func.jvp(inner, (L.tensor(XV), L.tensor(WV)), (L.tensor(XV) * 0.5, L.tensor(WV) * 2))
    both(run)


def test_forward_ad_dual_levels_still_do_not_nest():
    fwAD = cgrad.autograd.forward_ad
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported at the moment"):
            with fwAD.dual_level():
                pass
