"""F.one_hot against torch: shapes, values, dtype, inferred class count,
empty inputs, errors by type and text."""
import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as CF
from helpers import requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF


@requires_torch
@pytest.mark.parametrize("values,num_classes", [([0, 2, 1], -1), ([[0, 2], [1, 0]], 5), (2, 4), ([3], -1)])
def test_one_hot_matches_torch(values, num_classes):
    c = CF.one_hot(cgrad.tensor(values), num_classes)
    t = TF.one_hot(torch.tensor(values), num_classes)
    assert tuple(c.shape) == tuple(t.shape) and c.dtype == cgrad.int64
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@requires_torch
def test_one_hot_empty_input():
    c = CF.one_hot(cgrad.tensor(np.zeros((0, 2), dtype=np.int64)), 3)
    t = TF.one_hot(torch.zeros((0, 2), dtype=torch.long), 3)
    assert tuple(c.shape) == tuple(t.shape) == (0, 2, 3)


@requires_torch
@pytest.mark.parametrize("make", [
    lambda lib: (lib.tensor([0, -1]), -1), lambda lib: (lib.tensor([0, 3]), 3),
    lambda lib: (lib.tensor([0.0, 1.0]), -1), lambda lib: (lib.tensor([0, 1], dtype=lib.int32), -1),
    lambda lib: (lib.tensor(np.zeros(0, dtype=np.int64)), -1),
])
def test_one_hot_errors_like_torch(make):
    def error(lib, fn):
        try:
            fn(*make(lib))
        except Exception as e:  # noqa: BLE001 - the exception is the result
            return type(e).__name__, str(e)
        return None
    expected = error(torch, TF.one_hot)
    assert expected is not None and error(cgrad, CF.one_hot) == expected
