"""gammainc / gammaincc at their boundary values (negative, zero, infinite
and NaN a or x, in every combination, with ordinary values beside them)
against torch.special: P and Q share these branches in
cgrad/_special_igamma.py, with P = 1 - Q."""
import itertools

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

EDGES = [-1.0, 0.0, 0.5, 3.0, 30.0, float("inf"), float("nan")]


@requires_torch
@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_boundary_grid_matches_torch(name):
    a, x = (np.array(v) for v in zip(*itertools.product(EDGES, EDGES)))
    c = getattr(cgrad.special, name)(cgrad.tensor(a), cgrad.tensor(x)).numpy()
    t = getattr(torch.special, name)(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(c, t, rtol=1e-13, atol=0, equal_nan=True)
