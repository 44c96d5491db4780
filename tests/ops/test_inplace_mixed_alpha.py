"""add_/sub_ with alpha and an `other` of a lower dtype than self: alpha *
other is computed in self's dtype (the op's common dtype), as the
out-of-place add does and as PyTorch does, not in other's dtype (where
float32 += alpha * bfloat16 lost all but 8 bits of the scaled term)."""
import numpy as np
import pytest

import cgrad
from helpers import torch

CASES = [("float32", "bfloat16"), ("float32", "float16"), ("float64", "float32"), ("float64", "bfloat16")]


def operands(lib, self_dtype, other_dtype):
    rng = np.random.default_rng(3)
    s = rng.standard_normal(4000).astype(np.float32)
    o = rng.standard_normal(4000).astype(np.float32)
    return lib.tensor(s).to(getattr(lib, self_dtype)), lib.tensor(o).to(getattr(lib, other_dtype))


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("self_dtype,other_dtype", CASES)
def test_in_place_matches_out_of_place(name, self_dtype, other_dtype):
    p, u = operands(cgrad, self_dtype, other_dtype)
    want = getattr(cgrad, name)(p, u, alpha=-0.0012)
    got = getattr(p.clone(), name + "_")(u, alpha=-0.0012)
    assert got.dtype == want.dtype == p.dtype
    assert cgrad.equal(got, want)
    # and by hand: the scaled term keeps self's precision
    term = (1 if name == "add" else -1) * -0.0012 * u.double().numpy()
    by_hand = p.double().numpy() + term
    eps = np.finfo(np.float32 if self_dtype == "float32" else np.float64).eps
    bound = eps * (np.abs(p.double().numpy()) + np.abs(term))      # two roundings in self's dtype
    assert (np.abs(got.double().numpy() - by_hand) <= bound).all()


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("self_dtype,other_dtype", CASES)
def test_in_place_against_torch(self_dtype, other_dtype):
    got = operands(cgrad, self_dtype, other_dtype)[0].add_(operands(cgrad, self_dtype, other_dtype)[1],
                                                            alpha=-0.0012).numpy()
    p, u = operands(torch, self_dtype, other_dtype)
    want = p.add_(u, alpha=-0.0012).numpy()
    # PyTorch fuses alpha * other + self into one rounding (an fma); cgrad
    # rounds the product first: apart by one rounding of self's dtype at most
    eps = np.finfo(np.float32 if self_dtype == "float32" else np.float64).eps
    bound = eps * (np.abs(p.double().numpy()) + 0.0012 * np.abs(u.double().numpy()))
    assert (np.abs(got.astype(np.float64) - want) <= bound).all()
