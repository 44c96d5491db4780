"""Tensor methods written outside tensor.pxi's class body (tensor_methods_*.pxi,
installed into the type at import) look to users as class-body methods do:
their __name__, __qualname__ and signature are PyTorch's, and a wrong `self`
is a TypeError, never a read of the wrong object. Also the lazily loaded
methods: the names cgrad/_tensor_ops.py installs are the compiled core's one
list of them."""
import inspect

import pytest

import cgrad
from cgrad import _C
from helpers import requires_torch, torch

# one method of each tensor_methods_*.pxi file and section, and class-body ones
METHODS = ["add", "div_", "uniform_", "lt", "clamp", "logical_and", "sum", "max", "mm", "softmax",
           "any", "cumsum", "norm", "inverse", "rsqrt", "exp_", "isnan", "isclose", "atan2", "lerp_",
           "view", "reshape", "permute", "split", "narrow", "index_select", "masked_fill_", "tril",
           "gather", "scatter_", "diag", "to", "float", "type", "cpu", "clone", "contiguous", "item",
           "numpy", "new_zeros", "type_as", "exp", "tanh", "copy_", "size", "backward"]


@pytest.mark.parametrize("name", METHODS)
def test_method_names_and_self_check(name):
    fn = vars(cgrad.Tensor)[name]
    assert fn.__name__ == name
    assert fn.__qualname__ == f"Tensor.{name}"
    assert fn.__doc__.startswith(f"Tensor.{name}(self")
    assert next(iter(inspect.signature(fn).parameters)) == "self"


CALLS = {"add": (1,), "view": (2,), "to": (cgrad.float64,), "new_zeros": (2,), "sum": (), "isnan": (),
         "scatter_": (0, cgrad.tensor([0]), 1.0)}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("bad_self", [None, 3, "x", [1.0, 2.0]])
def test_installed_method_refuses_a_non_tensor_self(name, bad_self):
    with pytest.raises(TypeError, match="Argument 'self' has incorrect type"):
        vars(cgrad.Tensor)[name](bad_self, *CALLS[name])


@requires_torch
@pytest.mark.parametrize("name", METHODS)
def test_method_names_as_torch(name):
    assert getattr(cgrad.Tensor, name).__name__ == getattr(torch.Tensor, name).__name__


def test_installed_methods_compute():
    x = cgrad.tensor([[1.0, -3.0], [3.0, 4.0]], requires_grad=True)
    y = x.add(1, alpha=2).view(4).clamp(min=0).sum()
    y.backward()
    assert y.item() == 14.0
    assert x.grad.tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert x.new_zeros(2).dtype == cgrad.float32 and x.double().dtype == cgrad.float64


def test_lazy_tensor_ops_names_are_the_core_list():
    import cgrad._tensor_ops as tensor_ops
    assert sorted(tensor_ops._METHODS) == sorted(_C._LAZY_TENSOR_OPS_METHODS)
    for name in _C._LAZY_TENSOR_OPS_METHODS:
        assert getattr(cgrad.Tensor, name) is tensor_ops._METHODS[name]
