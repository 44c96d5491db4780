"""The KL pairs torch.distributions registers as infinite (p puts mass where
q has none: Exponential || Uniform, Gumbel || Beta, Poisson || Binomial, ...)
against torch.distributions.kl_divergence: each gives an infinite tensor of
p's batch shape and dtype."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

P = {
    "Beta": lambda d, L: d.Beta(L.tensor([0.5, 2.0, 5.0]), L.tensor([1.5, 2.0, 0.7])),
    "ContinuousBernoulli": lambda d, L: d.ContinuousBernoulli(probs=L.tensor([0.2, 0.5, 0.9])),
    "Exponential": lambda d, L: d.Exponential(L.tensor([0.5, 1.0, 3.0])),
    "Gamma": lambda d, L: d.Gamma(L.tensor([0.5, 2.0, 9.0]), L.tensor([1.0, 0.5, 3.0])),
    "Gumbel": lambda d, L: d.Gumbel(L.tensor([0.0, 1.5, -2.0]), L.tensor([1.0, 0.5, 2.5])),
    "Laplace": lambda d, L: d.Laplace(L.tensor([0.0, 1.5, -2.0]), L.tensor([1.0, 0.5, 2.5])),
    "Normal": lambda d, L: d.Normal(L.tensor([0.0, 1.5, -2.0]), L.tensor([1.0, 0.5, 2.5])),
    "Pareto": lambda d, L: d.Pareto(L.tensor([1.0, 0.5, 2.0]), L.tensor([3.0, 2.5, 4.0])),
    "Poisson": lambda d, L: d.Poisson(L.tensor([0.5, 2.0, 7.0])),
}
Q = {
    "Bernoulli": lambda d, L: d.Bernoulli(probs=L.tensor([0.3, 0.5, 0.8])),
    "Beta": P["Beta"],
    "Binomial": lambda d, L: d.Binomial(10, probs=L.tensor([0.3, 0.5, 0.8])),
    "ContinuousBernoulli": P["ContinuousBernoulli"],
    "Exponential": P["Exponential"],
    "Gamma": P["Gamma"],
    "Pareto": P["Pareto"],
    "Uniform": lambda d, L: d.Uniform(L.tensor([0.0, -1.0, 2.0]), L.tensor([1.0, 3.0, 2.5])),
}
INFINITE = [("Beta", "Pareto"), ("ContinuousBernoulli", "Pareto")] + \
    [("Exponential", q) for q in ("Beta", "ContinuousBernoulli", "Pareto", "Uniform")] + \
    [("Gamma", q) for q in ("ContinuousBernoulli", "Pareto")] + \
    [(p, q) for p in ("Gumbel", "Laplace") for q in ("Beta", "ContinuousBernoulli", "Exponential", "Gamma",
                                                    "Pareto", "Uniform")] + \
    [("Normal", q) for q in ("ContinuousBernoulli", "Exponential", "Pareto")] + \
    [("Pareto", q) for q in ("Beta", "ContinuousBernoulli", "Uniform")] + \
    [("Poisson", q) for q in ("Bernoulli", "Binomial")]


@requires_torch
@pytest.mark.parametrize("p_name,q_name", INFINITE)
def test_infinite_pairs_match_torch(p_name, q_name):
    results = []
    for lib in (cgrad, torch):
        d = lib.distributions
        kl = d.kl_divergence(P[p_name](d, lib), Q[q_name](d, lib))
        results.append((kl.numpy(), str(kl.dtype).split(".")[-1]))
    assert np.isinf(results[1][0]).all()
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]
