"""The in-place logical ops and autograd, as PyTorch has them: no derivative
and no autograd at all (no in-place check, so a leaf that requires grad is
written; the history unchanged; the version bumped)."""
import pytest

import cgrad
from tests.helpers import torch

OPS = [("logical_or_", True), ("logical_and_", True), ("logical_xor_", True), ("logical_not_", False)]


@pytest.mark.parametrize("name, binary", OPS)
def test_leaf_that_requires_grad_is_written(name, binary):
    def run(lib):
        x = lib.tensor([0.5, -1.0, 0.0], requires_grad=True)
        before = x._version
        args = (lib.tensor([1.0, 0.0, 2.0]),) if binary else ()
        result = getattr(x, name)(*args)
        return result is x, x.detach().tolist(), x._version - before, x.grad_fn, x.requires_grad
    ours = run(cgrad)
    expected = {"logical_or_": [1.0, 1.0, 1.0], "logical_and_": [1.0, 0.0, 0.0],
                "logical_xor_": [0.0, 1.0, 1.0], "logical_not_": [0.0, 0.0, 1.0]}[name]
    assert ours == (True, expected, 1, None, True)
    if torch is not None:
        assert run(torch) == ours


def test_history_unchanged_and_gradient_as_before():
    x = cgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    z = x * 2
    z.logical_and_(cgrad.tensor([1.0, 0.0, 2.0]))
    assert z.grad_fn.name() == "MulBackward0"
    assert z.tolist() == [1.0, 0.0, 1.0]
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_shape_error():
    with pytest.raises(RuntimeError, match=r"^output with shape \[3\] doesn't match the broadcast shape \[2, 3\]$"):
        cgrad.ones(3).logical_and_(cgrad.ones(2, 3))
