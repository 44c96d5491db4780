"""Tensor.as_subclass against torch's: the result is an instance of the
subclass over the same memory, a view on the source's autograd graph
(AliasBackward0 where the source requires grad), and gradients flow back;
a class that is not a Tensor subclass is refused with PyTorch's TypeError."""
import pytest

import cgrad
from tests.helpers import requires_torch, torch


def subclass_of(lib):
    return type("Marked", (lib.Tensor,), {})


def behaviour(lib):
    cls = subclass_of(lib)
    leaf = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    out = []
    for src in (leaf, leaf * 2, lib.tensor([4.0, 5.0]), leaf.detach()):
        s = src.as_subclass(cls)
        out.append((type(s) is cls, s.tolist(), s.requires_grad, None if s.grad_fn is None else
                    type(s.grad_fn).__name__, s._base is not None, s.data_ptr() == src.data_ptr(), s.is_leaf))
    (leaf * 2).as_subclass(cls).pow(2).sum().backward()
    out.append(leaf.grad.tolist())
    plain = lib.tensor([1.0, 2.0])
    marked = plain.as_subclass(cls)
    marked.add_(1)                  # one memory: the source sees the write
    out.append((plain.tolist(), plain._version == marked._version))
    return out


@requires_torch
def test_as_subclass_matches_torch():
    assert behaviour(cgrad) == behaviour(torch)


@pytest.mark.parametrize("cls", [int, object, "Tensor"])
def test_refuses_non_tensor_classes(cls):
    with pytest.raises(TypeError, match="^Creating a Tensor subclass from a class that does not inherit from "
                                        "Tensor is not possible. Make sure your class inherits from Tensor.$"):
        cgrad.ones(2).as_subclass(cls)


def test_as_subclass_without_torch():
    cls = subclass_of(cgrad)
    x = cgrad.tensor([3.0, 4.0], requires_grad=True)
    y = x.as_subclass(cls)
    assert type(y) is cls and type(y.grad_fn).__name__ == "AliasBackward0"
    (y * y).sum().backward()
    assert x.grad.tolist() == [6.0, 8.0]
