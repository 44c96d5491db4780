"""hardtanh's bounds as PyTorch has them: F.hardtanh (and relu6,
nn.Hardtanh) refuse min_val > max_val in Python, with PyTorch's texts;
F.hardtanh_ has no check and its kernel clamps in clamp's order (min,
then max), so every element becomes max_val there."""
import pytest

import cgrad
import cgrad.nn.functional as F
from tests.helpers import torch

X = [-3.0, 0.5, 1.5, 3.0, float("nan")]


@pytest.mark.parametrize("call", [
    lambda F, x: F.hardtanh(x, 2, 1.0),
    lambda F, x: F.hardtanh(x, 2, True),
    lambda F, x: F.hardtanh(x, 2.0, 1.0, True),
])
def test_functional_refuses_min_above_max(call):
    with pytest.raises(ValueError, match=r"^min_val cannot be greater than max_val$"):
        call(F, cgrad.tensor(X))


def test_module_refuses_min_above_max():
    with pytest.raises(AssertionError, match=r"^max_val \(1\) must be greater than min_val \(2\)$"):
        cgrad.nn.Hardtanh(2, 1)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_inplace_kernel_clamps_min_then_max(dtype):
    values = [-3, 0, 1, 3] if dtype == "int64" else X
    x = cgrad.tensor(values, dtype=getattr(cgrad, dtype))
    out = F.hardtanh_(x, 2, 1)
    assert out is x
    expected = [v if v != v else 1 for v in values]
    assert [v if v == v else "nan" for v in out.tolist()] == [v if v == v else "nan" for v in expected]
    if torch is not None:
        theirs = torch.nn.functional.hardtanh_(torch.tensor(values, dtype=getattr(torch, dtype)), 2, 1)
        assert [v if v == v else "nan" for v in theirs.tolist()] == [v if v == v else "nan" for v in out.tolist()]


def test_ordinary_bounds_unchanged():
    x = cgrad.tensor([-3.0, -0.25, 0.5, 3.0], requires_grad=True)
    y = F.hardtanh(x, -0.5, 0.5)
    assert y.tolist() == [-0.5, -0.25, 0.5, 0.5]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 0.0]
    assert F.relu6(cgrad.tensor([-1.0, 7.0, 3.0])).tolist() == [0.0, 6.0, 3.0]
