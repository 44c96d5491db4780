"""numpy's argument spellings that PyTorch's argument parser accepts on
reductions: axis for dim, keepdims for keepdim (functions and methods)."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch

try:
    import torch
except ImportError:
    torch = None

CASES = [
    ("sum", {"axis": 0}), ("sum", {"axis": 1, "keepdims": True}), ("mean", {"axis": 0, "keepdims": True}),
    ("amax", {"axis": 0}), ("amin", {"axis": 1, "keepdims": True}), ("argmax", {"axis": 1}),
    ("argmin", {"axis": 0, "keepdims": True}), ("prod", {"axis": 0}), ("var", {"axis": 0, "keepdims": True}),
    ("std", {"axis": 1}), ("logsumexp", {"axis": 0, "keepdims": True}),
]
X = np.arange(12.0).reshape(3, 4) / 7


@pytest.mark.parametrize("name,kwargs", CASES)
def test_hand_computed(name, kwargs):
    """Without the oracle: the same result as the dim/keepdim spelling."""
    t = cgrad.tensor(X)
    plain = {"dim" if k == "axis" else "keepdim": v for k, v in kwargs.items()}
    np.testing.assert_array_equal(getattr(t, name)(**kwargs).numpy(), getattr(t, name)(**plain).numpy())
    np.testing.assert_array_equal(getattr(cgrad, name)(t, **kwargs).numpy(), getattr(t, name)(**plain).numpy())


@requires_torch
@pytest.mark.parametrize("name,kwargs", CASES + [("max", {"axis": 0}), ("min", {"axis": 1, "keepdims": True})])
def test_matches_torch(name, kwargs):
    for form in ("method", "function"):
        got = getattr(cgrad.tensor(X), name)(**kwargs) if form == "method" else getattr(cgrad, name)(cgrad.tensor(X), **kwargs)
        exp = getattr(torch.tensor(X), name)(**kwargs) if form == "method" else getattr(torch, name)(torch.tensor(X), **kwargs)
        got, exp = (got[0], exp[0]) if isinstance(exp, tuple) else (got, exp)
        assert tuple(got.shape) == tuple(exp.shape)
        np.testing.assert_allclose(got.numpy(), exp.numpy(), rtol=1e-12)
