"""Gamma.cdf (and Chi2's and InverseGamma's, which come from it) is the
regularised lower incomplete gamma function, as torch.distributions.Gamma's
is; Binomial draws of 0-dim parameters are 0-dim (cgrad.binomial returned a
1-element vector, and Binomial.sample failed on them)."""
import math

import numpy as np
import pytest

import cgrad
import cgrad.distributions as D
from helpers import assert_close_to_torch, requires_torch, torch


def test_gamma_cdf_hand_values():
    # Gamma(1, rate) is Exponential(rate): cdf 1 - exp(-rate x); Chi2(2) is Gamma(1, 1/2)
    x = np.array([0.0, 0.3, 1.0, 4.0])
    got = D.Gamma(cgrad.tensor(1.0, dtype=cgrad.float64), cgrad.tensor(2.5, dtype=cgrad.float64)).cdf(
        cgrad.tensor(x)).numpy()
    np.testing.assert_allclose(got, 1 - np.exp(-2.5 * x), rtol=1e-12, atol=1e-15)
    got = D.Chi2(cgrad.tensor(2.0, dtype=cgrad.float64)).cdf(cgrad.tensor(x)).numpy()
    np.testing.assert_allclose(got, 1 - np.exp(-x / 2), rtol=1e-12, atol=1e-15)
    # Gamma(2, 1): 1 - exp(-x) (1 + x); InverseGamma(2, 1).cdf(y) = 1 - Gamma(2, 1).cdf(1 / y)
    y = cgrad.tensor([0.5, 2.0], dtype=cgrad.float64)
    got = D.InverseGamma(cgrad.tensor(2.0, dtype=cgrad.float64), cgrad.tensor(1.0, dtype=cgrad.float64)).cdf(y)
    expected = [math.exp(-1 / v) * (1 + 1 / v) for v in (0.5, 2.0)]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_gamma_cdf_gradients_in_value_and_rate():
    conc = cgrad.tensor([2.0, 0.7], dtype=cgrad.float64)
    rate = cgrad.tensor([1.5, 3.0], dtype=cgrad.float64, requires_grad=True)
    x = cgrad.tensor([0.8, 0.25], dtype=cgrad.float64, requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda r, v: D.Gamma(conc, r).cdf(v), (rate, x))


def test_gamma_cdf_validates_its_value():
    g = D.Gamma(cgrad.tensor([2.0, 0.5]), cgrad.tensor([1.5, 2.0]))
    with pytest.raises(ValueError, match="to be within the support"):
        g.cdf(cgrad.tensor([-1.0, 1.0]))


@requires_torch
@pytest.mark.parametrize("family", ["Gamma", "Chi2", "InverseGamma"])
def test_gamma_family_cdf_matches_torch(family):
    conc, rate = np.array([[2.0, 0.5, 7.0], [1.2, 3.0, 0.9]]), np.array([1.5, 2.0, 0.4])
    x = np.array([[0.8, 0.1, 12.0], [2.0, 0.5, 1.0]])

    def run(lib):
        c = lib.tensor(conc)
        r = lib.tensor(rate, requires_grad=True)
        v = lib.tensor(x, requires_grad=True)
        dist = {"Gamma": lambda: lib.distributions.Gamma(c, r), "Chi2": lambda: lib.distributions.Chi2(c),
                "InverseGamma": lambda: lib.distributions.InverseGamma(c, r)}[family]()
        out = dist.cdf(v)
        out.sum().backward()
        return out, v.grad, r.grad

    for got, expected in zip(run(cgrad), run(torch)):
        if expected is None:
            assert got is None
        else:
            assert_close_to_torch(got, expected, "cdf", rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binomial_of_scalars_is_a_scalar(dtype):
    dt = getattr(cgrad, dtype)
    count, prob = cgrad.tensor(5.0, dtype=dt), cgrad.tensor(0.3, dtype=dt)
    draw = cgrad.binomial(count, prob)
    assert draw.shape == () and draw.dtype == dt and 0 <= draw.item() <= 5
    dist = D.Binomial(count, probs=prob)
    assert dist.sample().shape == () and dist.sample((4,)).shape == (4,)
    assert dist.sample((4,)).dtype == dt
    assert cgrad.binomial(cgrad.tensor([5.0], dtype=dt), prob).shape == (1,)
    # all or nothing: probabilities 0 and 1 draw 0 and the count
    assert cgrad.binomial(count, cgrad.tensor(1.0, dtype=dt)).item() == 5.0
    assert cgrad.binomial(count, cgrad.tensor(0.0, dtype=dt)).item() == 0.0
