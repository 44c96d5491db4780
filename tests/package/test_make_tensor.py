"""cgrad.testing.make_tensor as torch.testing.make_tensor: shapes, dtypes,
value ranges, non-contiguous and memory-format results, exclude_zero,
requires_grad, and PyTorch's errors (texts with cgrad's dtype names)."""
import warnings

import numpy as np
import pytest

import cgrad
from cgrad.testing import make_tensor
from tests.helpers import requires_torch, torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
DEFAULT_RANGE = {"bool": (0, 2), "uint8": (0, 10)}


@pytest.mark.parametrize("dtype", DTYPES)
def test_default_ranges_and_shapes(dtype):
    cgrad.manual_seed(0)
    x = make_tensor(40, 50, dtype=getattr(cgrad, dtype), device="cpu")
    assert x.shape == (40, 50) and x.dtype == getattr(cgrad, dtype)
    low, high = DEFAULT_RANGE.get(dtype, (-9, 10) if "int" in dtype else (-9, 9))
    values = x.numpy().astype(np.float64)
    assert values.min() >= low and values.max() < high
    if dtype != "bool":
        assert len(np.unique(values)) > 5


def test_options():
    x = make_tensor((4, 5), dtype=cgrad.float32, device="cpu", noncontiguous=True, requires_grad=True,
                    exclude_zero=True, low=-1, high=1)
    assert x.shape == (4, 5) and not x.is_contiguous() and x.requires_grad and x.is_leaf
    assert float(x.detach().abs().min()) > 0 and float(x.detach().max()) < 1
    y = make_tensor(2, 3, 4, 5, dtype=cgrad.float64, device="cpu", memory_format=cgrad.channels_last)
    assert y.stride() == (60, 1, 15, 3)
    z = make_tensor(3, dtype=cgrad.int64, device="cpu", low=0, high=1, exclude_zero=True)
    assert z.tolist() == [1, 1, 1]
    big = make_tensor(100, dtype=cgrad.float64, device="cpu", low=-1.7e308, high=1.7e308)
    assert bool(cgrad.isfinite(big).all())
    assert make_tensor((), dtype=cgrad.float32, device="cpu").shape == ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = make_tensor(3, dtype=cgrad.float32, device="cpu", low=2.0, high=2.0)
    assert w.tolist() == [2.0, 2.0, 2.0] and any(c.category is FutureWarning for c in caught)


@requires_torch
@pytest.mark.parametrize("kwargs", [
    dict(dtype="int64", requires_grad=True), dict(dtype="bool", requires_grad=True),
    dict(dtype="float32", low=3, high=1), dict(dtype="uint8", low=-5, high=-1),
    dict(dtype="int8", low=200, high=300), dict(dtype="float32", low=float("nan")),
    dict(dtype="float64", noncontiguous=True, memory_format="channels_last"),
], ids=str)
def test_errors_match_torch(kwargs):
    def call(lib):
        k = dict(kwargs)
        k["dtype"] = getattr(lib, k["dtype"])
        if "memory_format" in k:
            k["memory_format"] = getattr(lib, k["memory_format"])
        return lib.testing.make_tensor(2, 3, device="cpu", **k)
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(cgrad)
    assert str(got.value) == str(expected.value).replace("torch.", "cgrad.")
