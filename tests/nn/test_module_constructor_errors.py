"""Module constructor behaviour found by the round-15 constructor fuzzing:
Hardtanh's deprecated min_value/max_value keywords (FutureWarning),
HuberLoss's delta type check, FractionalMaxPool3d's kernel check, and the
class named in a missing-argument TypeError (each class with its own
__init__ as in PyTorch). Texts as PyTorch 2.13 words them, and compared
with torch when it is installed."""
import warnings

import pytest

import cgrad
from tests.helpers import torch

CASES = [
    ("BatchNorm1d", (), {}, TypeError, "_BatchNorm.__init__() missing 1 required positional argument: 'num_features'"),
    ("FractionalMaxPool2d", (), {}, TypeError,
     "FractionalMaxPool2d.__init__() missing 1 required positional argument: 'kernel_size'"),
    ("LazyConv2d", (3,), {}, TypeError, "LazyConv2d.__init__() missing 1 required positional argument: 'kernel_size'"),
    ("FractionalMaxPool3d", (0,), {}, ValueError, "kernel_size must be greater than 0, but got 0"),
    ("FractionalMaxPool3d", ((2, 0, 2),), dict(output_size=2), ValueError,
     "kernel_size must be greater than 0, but got (2, 0, 2)"),
    ("HuberLoss", ("mean", "sum"), {}, TypeError, "delta must be a float or int, got: <class 'str'>"),
    ("Hardtanh", (None, "sum", "a", 2.0, 2.0), {}, AssertionError, "max_val (2.0) must be greater than min_val (2.0)"),
]


@pytest.mark.parametrize("name, args, kwargs, kind, text", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_constructor_errors(name, args, kwargs, kind, text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(kind) as ours:
            getattr(cgrad.nn, name)(*args, **kwargs)
        assert str(ours.value) == text
        if torch is not None:
            with pytest.raises(kind) as theirs:
                getattr(torch.nn, name)(*args, **kwargs)
            assert str(theirs.value) == text


def test_hardtanh_deprecated_keywords():
    with pytest.warns(FutureWarning, match="^keyword argument `min_value` is deprecated and renamed to `min_val`$"):
        module = cgrad.nn.Hardtanh(min_value=-2.0)
    assert repr(module) == "Hardtanh(min_val=-2.0, max_val=1.0)"
    with pytest.warns(FutureWarning, match="`max_value` is deprecated and renamed to `max_val`"):
        module = cgrad.nn.Hardtanh(0.0, 6.0, False, None, 3.0)
    assert module(cgrad.tensor([-1.0, 2.0, 5.0])).tolist() == [0.0, 2.0, 3.0]
    assert cgrad.nn.ReLU6()(cgrad.tensor([7.0])).tolist() == [6.0]
