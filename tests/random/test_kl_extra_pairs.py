"""KL pairs of cgrad/distributions/kl_extra.py against
torch.distributions.kl_divergence: the low-rank normal pairs (values and
gradients with broadcast batch shapes, the event-shape error), the pairs
with a ContinuousBernoulli on either side (values, infinite where p puts
mass outside q's support, and the gradients of the finite entries), and
the pairs registered as infinite (p's batch shape and dtype)."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

RNG = np.random.default_rng(3)
LOC_P, LOC_Q = RNG.normal(size=(2, 3)), RNG.normal(size=(3,))
FACTOR_P, FACTOR_Q = RNG.normal(size=(2, 3, 2)) * 0.5, RNG.normal(size=(3, 1)) * 0.5
DIAG_P, DIAG_Q = RNG.uniform(0.5, 1.5, size=(3,)), RNG.uniform(0.5, 1.5, size=(2, 3))
_A = RNG.normal(size=(3, 3))
COV = _A @ _A.T + np.eye(3)


def lowrank(d, loc, factor, diag):
    return d.LowRankMultivariateNormal(loc, factor, diag)


def full(d, loc, cov):
    return d.MultivariateNormal(loc, covariance_matrix=cov)


LOWRANK_PAIRS = {
    "lowrank_lowrank": (lambda d, t: (lowrank(d, t[0], t[1], t[2]), lowrank(d, t[3], t[4], t[5])),
                        [LOC_P, FACTOR_P, DIAG_P, LOC_Q, FACTOR_Q, DIAG_Q]),
    "full_lowrank": (lambda d, t: (full(d, t[0], t[1]), lowrank(d, t[2], t[3], t[4])),
                     [LOC_P, COV, LOC_Q, FACTOR_Q, DIAG_Q]),
    "lowrank_full": (lambda d, t: (lowrank(d, t[0], t[1], t[2]), full(d, t[3], t[4])),
                     [LOC_P, FACTOR_P, DIAG_P, LOC_Q, COV]),
}


CB_PROBS = np.array([0.2, 0.5, 0.7, 0.9])
CB_PAIRS = {
    "beta_cb": (lambda d, t: (d.Beta(t[0], t[1]), d.ContinuousBernoulli(probs=t[2])),
                [np.array([0.5, 2.0, 5.0, 1.5]), np.array([1.5, 2.0, 0.7, 3.0]), CB_PROBS]),
    # the first two uniforms lie inside [0, 1], the last two reach outside it
    "uniform_cb": (lambda d, t: (d.Uniform(t[0], t[1]), d.ContinuousBernoulli(logits=t[2])),
                   [np.array([0.1, 0.0, -0.5, 0.2]), np.array([0.6, 0.3, 0.5, 1.5]), np.array([-1.0, 0.3, 2.0, 0.0])]),
    # finite only where the uniform covers more than [0, 1]
    "cb_uniform": (lambda d, t: (d.ContinuousBernoulli(probs=t[0]), d.Uniform(t[1], t[2])),
                   [CB_PROBS, np.array([-0.5, 0.0, 0.2, -1.0]), np.array([1.5, 1.0, 2.0, 0.9])]),
    "cb_exponential": (lambda d, t: (d.ContinuousBernoulli(probs=t[0]), d.Exponential(t[1])),
                       [CB_PROBS, np.array([0.5, 1.0, 2.0, 4.0])]),
    "cb_normal": (lambda d, t: (d.ContinuousBernoulli(probs=t[0]), d.Normal(t[1], t[2])),
                  [CB_PROBS, np.array([0.0, 0.5, -1.0, 2.0]), np.array([1.0, 0.5, 2.0, 0.3])]),
}


@requires_torch
@pytest.mark.parametrize("pair", [*LOWRANK_PAIRS, *CB_PAIRS])
def test_kl_and_gradients_match_torch(pair):
    make, arrays = LOWRANK_PAIRS[pair] if pair in LOWRANK_PAIRS else CB_PAIRS[pair]
    rtol, atol = (1e-8, 1e-10) if pair in LOWRANK_PAIRS else (1e-7, 1e-9)
    results = []
    for lib in (cgrad, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
        kl = lib.distributions.kl_divergence(*make(lib.distributions, tensors))
        kl[lib.isfinite(kl)].sum().backward()
        results.append([kl.detach().numpy()] + [t.grad.numpy() if t.grad is not None else None for t in tensors])
    assert np.isfinite(results[1][0]).any()
    for k, (c, t) in enumerate(zip(*results)):
        assert (c is None) == (t is None), f"{pair} output {k}"
        if t is not None:
            assert c.shape == t.shape, f"{pair} output {k}"
            np.testing.assert_allclose(c, t, rtol=rtol, atol=atol, err_msg=f"{pair} output {k}")


@requires_torch
@pytest.mark.parametrize("pair", LOWRANK_PAIRS)
def test_lowrank_event_shape_mismatch_raises_as_torch(pair):
    errors = []
    for lib in (cgrad, torch):
        d, t = lib.distributions, lib.tensor
        small_lowrank = lowrank(d, t(np.zeros(2)), t(np.ones((2, 1))), t(np.ones(2)))
        small_full = full(d, t(np.zeros(2)), t(np.eye(2)))
        big_lowrank = lowrank(d, t(LOC_Q), t(FACTOR_Q), t(DIAG_P))
        big_full = full(d, t(LOC_Q), t(COV))
        p, q = {"lowrank_lowrank": (small_lowrank, big_lowrank), "full_lowrank": (small_full, big_lowrank),
                "lowrank_full": (small_lowrank, big_full)}[pair]
        with pytest.raises(Exception) as info:
            d.kl_divergence(p, q)
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[0] == errors[1] and errors[0][0] == "ValueError"


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
