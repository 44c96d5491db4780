"""grad_fn._saved_self / _saved_result of the unary math ops rendered from
src/codegen/unary.pxi.tp and of pow(tensor, number) (PowBackward0's
_saved_self and _saved_exponent), as the autograd-mechanics notes read
them: the attribute names PyTorch's node has, the saved values, `is` for a
saved input, and PyTorch's error once backward freed them."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

X = np.array([0.3, 0.6, 0.45])
UNARY = ["neg", "abs", "sign", "relu", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "reciprocal",
         "rsqrt", "log1p", "expm1", "log2", "log10", "sinh", "cosh", "asin", "acos", "atan", "erf", "floor",
         "ceil", "round", "trunc", "frac"]


def saved(lib, op):
    x = lib.tensor(X, requires_grad=True)
    y = getattr(lib, op)(x)
    names = sorted(a for a in dir(y.grad_fn) if a.startswith("_saved_"))
    values = {}
    for name in names:
        value = getattr(y.grad_fn, name)
        values[name] = (value is x, value.detach().numpy().tolist())
    return names, values


@requires_torch
@pytest.mark.parametrize("op", UNARY)
def test_unary_saved_attributes_match_torch(op):
    assert saved(cgrad, op) == saved(torch, op)


def test_saved_input_is_the_input_and_result_equals_output():
    x = cgrad.tensor(X, requires_grad=True)
    assert x.sin().grad_fn._saved_self is x
    y = x.exp()
    assert y.grad_fn._saved_result is not y
    assert y.grad_fn._saved_result.equal(y)


def run_after_backward(lib, make, attr):
    x = lib.tensor(X, requires_grad=True)
    y = make(x)
    y.sum().backward()
    try:
        return repr(getattr(y.grad_fn, attr))
    except RuntimeError as e:
        return "RuntimeError: " + str(e)


@requires_torch
@pytest.mark.parametrize("make,attr", [
    (lambda x: x.exp(), "_saved_result"),
    (lambda x: x.sin(), "_saved_self"),
    (lambda x: x.pow(2), "_saved_self"),
    (lambda x: x.pow(2), "_saved_exponent"),
    (lambda x: x.pow(2.5), "_saved_exponent"),
])
def test_saved_attribute_after_backward_matches_torch(make, attr):
    assert run_after_backward(cgrad, make, attr) == run_after_backward(torch, make, attr)


@requires_torch
@pytest.mark.parametrize("exponent", [2, 0.5, -1, 3.0])
def test_pow_saved_self_and_exponent_match_torch(exponent):
    got, expected = [], []
    for lib, out in ((cgrad, got), (torch, expected)):
        x = lib.tensor(X, requires_grad=True)
        node = x.pow(exponent).grad_fn
        out.append((node._saved_self is x, repr(node._saved_exponent), type(node._saved_exponent).__name__,
                    sorted(a for a in dir(node) if a.startswith("_saved_"))))
    assert got == expected


def test_pow_saved_without_torch():
    x = cgrad.tensor(X, requires_grad=True)
    node = x.pow(3).grad_fn
    assert node._saved_self is x and node._saved_exponent == 3
