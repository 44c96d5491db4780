"""smooth_l1_loss and huber_loss with a bool target (or input): PyTorch's
kernels subtract in the common dtype, where a bool is 0 or 1; cgrad's
subtraction refuses bool tensors, so these losses cast that side first.
(PyTorch's backward then refuses the bool target: "Found dtype Bool but
expected Float"; only the forward is compared here.)"""
import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as F
from tests.helpers import torch

X = [[0.2, -1.5, 3.0], [0.9, 1.1, -0.4]]
B = [[True, False, True], [False, True, True]]


def by_hand(beta_or_delta, huber):
    d = np.abs(np.array(X, dtype=np.float64) - np.array(B, dtype=np.float64))
    if huber:
        loss = np.where(d < beta_or_delta, 0.5 * d * d, beta_or_delta * (d - 0.5 * beta_or_delta))
    else:
        loss = np.where(d < beta_or_delta, 0.5 * d * d / beta_or_delta, d - 0.5 * beta_or_delta)
    return loss


@pytest.mark.parametrize("name, param, huber", [("smooth_l1_loss", "beta", False), ("huber_loss", "delta", True)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_bool_target(name, param, huber, reduction, scale):
    x = cgrad.tensor(X)
    out = getattr(F, name)(x, cgrad.tensor(B), reduction=reduction, **{param: scale})
    expected = by_hand(scale, huber)
    expected = {"none": expected, "mean": expected.mean(), "sum": expected.sum()}[reduction]
    assert out.dtype == cgrad.float32
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
    if torch is not None:
        theirs = getattr(torch.nn.functional, name)(torch.tensor(X), torch.tensor(B), reduction=reduction,
                                                    **{param: scale})
        np.testing.assert_allclose(out.numpy(), theirs.numpy(), rtol=1e-6)
