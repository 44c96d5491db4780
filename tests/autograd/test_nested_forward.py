"""Nested forward-mode transforms against torch.func: jacfwd of jacfwd with
argnums tuples and has_aux (inside a running jvp cgrad takes the inner
Jacobian from reverse mode under the outer tangents), jacfwd inside jvp,
and hessian through both compositions."""
import numpy as np
import pytest

import cgrad
from fwd_helpers import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

rng = np.random.default_rng(5)
W = rng.standard_normal((4, 3)) / 2
X = rng.standard_normal(3)
Y = rng.standard_normal(4)


def flat(out):
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in flat(x)]
    return [out]


def check(make):
    got, want = make(cgrad), make(torch)
    a, b = flat(got), flat(want)
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert tuple(p.shape) == tuple(q.shape)
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)


def f(L, x, y):
    w = L.tensor(W)
    return ((w @ x).tanh() * y).sum() + (x ** 3).sum() * y.sum()


def test_jacfwd_of_jacfwd_argnums_tuple():
    check(lambda L: L.func.jacfwd(L.func.jacfwd(lambda x, y: f(L, x, y), argnums=(0, 1)), argnums=(0, 1))(
        L.tensor(X), L.tensor(Y)))


def test_jacfwd_of_jacfwd_has_aux():
    def make(L):
        def inner(x):
            return (L.tensor(W) @ x).sin(), x.sum()
        outer = L.func.jacfwd(L.func.jacfwd(inner, has_aux=True), has_aux=True)
        return outer(L.tensor(X))
    check(make)


def test_jacfwd_inside_jvp_and_hessians():
    def make(L):
        x, t = L.tensor(X), L.tensor(Y[:3])
        inner = L.func.jacfwd(lambda v: (L.tensor(W) @ v).tanh())
        _, tangent = L.func.jvp(inner, (x,), (t,))
        h1 = L.func.hessian(lambda v: f(L, v, L.tensor(Y)))(x)
        h2 = L.func.jacfwd(L.func.jacfwd(lambda v: f(L, v, L.tensor(Y))))(x)
        return tangent, h1, h2
    check(make)
