"""cgrad.autograd.functional's products (vjp, strict jvp, non-strict jvp,
vhp, hvp) under the caller's grad mode, with and without create_graph,
against torch.autograd.functional: the values, and whether results carry a
graph (they do only with create_graph; the last differentiation runs with
grad on for create_graph, else in the caller's mode)."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

X = np.array([0.5, -1.0, 2.0])
V = np.array([1.0, 0.25, -0.5])


def scalar(x):
    return (x.sin() * x).sum()


def vector(x):
    return x.exp() * x


PRODUCTS = {
    "vjp": lambda F, x, v, cg: F.vjp(vector, x, v, create_graph=cg),
    "jvp_strict": lambda F, x, v, cg: F.jvp(vector, x, v, create_graph=cg, strict=True),
    "jvp": lambda F, x, v, cg: F.jvp(vector, x, v, create_graph=cg),
    "vhp": lambda F, x, v, cg: F.vhp(scalar, x, v, create_graph=cg),
    "hvp": lambda F, x, v, cg: F.hvp(scalar, x, v, create_graph=cg),
}


@requires_torch
@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("grad_enabled", [False, True])
@pytest.mark.parametrize("x_requires_grad", [False, True])
def test_products_under_grad_modes_match_torch(product, create_graph, grad_enabled, x_requires_grad):
    results = []
    for lib in (cgrad, torch):
        x = lib.tensor(X, requires_grad=x_requires_grad)
        with lib.set_grad_enabled(grad_enabled):
            out, prod = PRODUCTS[product](lib.autograd.functional, x, lib.tensor(V), create_graph)
        results.append((out.detach().numpy(), prod.detach().numpy(), out.requires_grad, prod.requires_grad))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    assert results[0][2:] == results[1][2:]
