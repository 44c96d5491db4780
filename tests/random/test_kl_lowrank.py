"""KL divergences between LowRankMultivariateNormal and MultivariateNormal
(all three registered pairs) against torch.distributions.kl_divergence:
values and gradients with broadcast batch shapes, and the ValueError (torch's
text) when the event shapes differ."""
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


def lowrank(lib, loc, factor, diag):
    return lib.distributions.LowRankMultivariateNormal(loc, factor, diag)


def full(lib, loc, cov):
    return lib.distributions.MultivariateNormal(loc, covariance_matrix=cov)


PAIRS = {
    "lowrank_lowrank": (lambda lib, t: (lowrank(lib, t[0], t[1], t[2]), lowrank(lib, t[3], t[4], t[5])),
                        [LOC_P, FACTOR_P, DIAG_P, LOC_Q, FACTOR_Q, DIAG_Q]),
    "full_lowrank": (lambda lib, t: (full(lib, t[0], t[1]), lowrank(lib, t[2], t[3], t[4])),
                     [LOC_P, COV, LOC_Q, FACTOR_Q, DIAG_Q]),
    "lowrank_full": (lambda lib, t: (lowrank(lib, t[0], t[1], t[2]), full(lib, t[3], t[4])),
                     [LOC_P, FACTOR_P, DIAG_P, LOC_Q, COV]),
}


@requires_torch
@pytest.mark.parametrize("pair", PAIRS)
def test_kl_and_gradients_match_torch(pair):
    make, arrays = PAIRS[pair]
    results = []
    for lib in (cgrad, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
        p, q = make(lib, tensors)
        kl = lib.distributions.kl_divergence(p, q)
        kl.sum().backward()
        results.append([kl.detach().numpy()] + [t.grad.numpy() for t in tensors])
    for k, (c, t) in enumerate(zip(*results)):
        assert c.shape == t.shape, f"{pair} output {k}"
        np.testing.assert_allclose(c, t, rtol=1e-8, atol=1e-10, err_msg=f"{pair} output {k}")


@requires_torch
@pytest.mark.parametrize("pair", PAIRS)
def test_event_shape_mismatch_raises_as_torch(pair):
    errors = []
    for lib in (cgrad, torch):
        t = lib.tensor
        small_lowrank = lowrank(lib, t(np.zeros(2)), t(np.ones((2, 1))), t(np.ones(2)))
        small_full = full(lib, t(np.zeros(2)), t(np.eye(2)))
        big_lowrank = lowrank(lib, t(LOC_Q), t(FACTOR_Q), t(DIAG_P))
        big_full = full(lib, t(LOC_Q), t(COV))
        p, q = {"lowrank_lowrank": (small_lowrank, big_lowrank), "full_lowrank": (small_full, big_lowrank),
                "lowrank_full": (small_lowrank, big_full)}[pair]
        with pytest.raises(Exception) as info:
            lib.distributions.kl_divergence(p, q)
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[0] == errors[1] and errors[0][0] == "ValueError"
