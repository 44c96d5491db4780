"""relu's backward is recorded as PyTorch records it under create_graph:
ThresholdBackwardBackward0 over (grad, relu's result), so a second backward
reaches the input through the result with zeros (relu's second derivative)
instead of finding no path; its own backward and forward formulas are
threshold_backward again."""
import numpy as np
import pytest

import cgrad
from fwd_helpers import torch

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

X = np.array([[-1.5, 0.3, 2.0, -0.2], [0.7, -0.9, 1.1, 0.05]])
G = np.array([[0.5, -1.0, 2.0, 1.5], [-0.3, 0.8, -1.2, 0.4]])


def _run(lib, inplace=False):
    x = lib.tensor(X, requires_grad=True)
    g = lib.tensor(G, requires_grad=True)
    y = lib.relu_(x.clone()) if inplace else x.relu()
    (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
    second = lib.autograd.grad((gx * gx).sum(), (x, g), allow_unused=True)
    return gx, second


@requires_torch
@pytest.mark.parametrize("inplace", [False, True])
def test_double_backward_matches_torch(inplace):
    (gx, second), (gx_t, second_t) = _run(cgrad, inplace), _run(torch, inplace)
    assert type(gx.grad_fn).__name__ == type(gx_t.grad_fn).__name__ == "ThresholdBackwardBackward0"
    assert [type(n).__name__ if n is not None else None for n, _ in gx.grad_fn.next_functions] == \
        [type(n).__name__ if n is not None else None for n, _ in gx_t.grad_fn.next_functions]
    np.testing.assert_array_equal(gx.detach().numpy(), gx_t.detach().numpy())
    for a, b in zip(second, second_t):
        assert (a is None) == (b is None)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_second_derivative_through_result_is_zero():
    gx, (dx, dg) = _run(cgrad)
    np.testing.assert_array_equal(dx.numpy(), np.zeros_like(X))
    np.testing.assert_array_equal(dg.numpy(), 2 * G * (X > 0))


def test_hessian_of_relu_network_is_defined():
    x = cgrad.tensor(X[0], requires_grad=True)
    w = cgrad.tensor(G[:, :4].T @ G[:, :4])
    h = cgrad.autograd.functional.hessian(lambda v: (w @ v).relu().pow(2).sum(), x)
    expected = 2 * (w.numpy().T * ((w.numpy() @ X[0]) > 0)) @ w.numpy()
    np.testing.assert_allclose(h.numpy(), expected, rtol=1e-12)


@requires_torch
def test_forward_over_reverse_matches_torch():
    results = []
    for lib in (cgrad, torch):
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            x = fwAD.make_dual(lib.tensor(X, requires_grad=True), lib.tensor(G))
            (gx,) = lib.autograd.grad(x.relu() * x, x, lib.tensor(G), create_graph=True)
            results.append(fwAD.unpack_dual(gx).tangent.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
