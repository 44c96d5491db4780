"""A view whose elements share memory (expand, unfold, as_strided with
overlapping windows) read after its base was written in place: its history
is re-read out of the base (AsStridedBackward0), whose backward must sum the
gradient of the elements that share memory, as PyTorch's
as_strided_backward does (it used to keep only one of them)."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

VIEWS = {
    "expand": lambda b: b[:1].expand(3, 4),
    "unfold": lambda b: b.unfold(1, 2, 1),
    "as_strided": lambda b: b.as_strided((3, 3), (1, 1)),
    "slice": lambda b: b[1:, ::2],
}


def _grads(lib, name):
    a = lib.tensor(np.arange(12, dtype=np.float64).reshape(3, 4) / 7, requires_grad=True)
    b = a * 1
    v = VIEWS[name](b)
    b.mul_(2)
    w = lib.tensor(np.arange(v.numel(), dtype=np.float64).reshape(tuple(v.shape)) + 1)
    (g,) = lib.autograd.grad((v * w).sum(), a)
    return type(v.grad_fn).__name__, g.numpy()


@requires_torch
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_overlapping_view_after_inplace_sums_its_gradient(name):
    (node, got), (node_t, want) = _grads(cgrad, name), _grads(torch, name)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_expand_gradient_counts_every_row():
    a = cgrad.ones(3, 4, dtype=cgrad.float64, requires_grad=True)
    b = a * 1
    v = b[:1].expand(3, 4)
    b.mul_(2)
    (g,) = cgrad.autograd.grad(v.sum(), a)
    np.testing.assert_array_equal(g.numpy(), np.array([[6.0] * 4, [0.0] * 4, [0.0] * 4]))
