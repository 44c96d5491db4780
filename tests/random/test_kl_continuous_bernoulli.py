"""KL divergences with a ContinuousBernoulli on either side (Beta || CB,
Uniform || CB, CB || Uniform, CB || Exponential, CB || Normal) against
torch.distributions.kl_divergence: values (infinite where p puts mass
outside q's support) and gradients."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

CB_PROBS = np.array([0.2, 0.5, 0.7, 0.9])
PAIRS = {
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
@pytest.mark.parametrize("pair", PAIRS)
def test_kl_and_gradients_match_torch(pair):
    make, arrays = PAIRS[pair]
    results = []
    for lib in (cgrad, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
        p, q = make(lib.distributions, tensors)
        kl = lib.distributions.kl_divergence(p, q)
        finite = lib.isfinite(kl)
        kl[finite].sum().backward()
        results.append([kl.detach().numpy()] + [t.grad.numpy() if t.grad is not None else None for t in tensors])
    assert np.isfinite(results[1][0]).any()
    for k, (c, t) in enumerate(zip(*results)):
        assert (c is None) == (t is None), f"{pair} output {k}"
        if t is not None:
            np.testing.assert_allclose(c, t, rtol=1e-7, atol=1e-9, err_msg=f"{pair} output {k}")
