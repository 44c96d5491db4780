"""conv1d/conv2d with an input whose dtype differs from the weight's or the
bias's (the common float64-numpy-data-into-a-float32-model mistake),
against torch: the bias check comes before any other, half input meets
torch's mkldnn wording, other mismatches its kernel's "expected scalar
type"."""
import pytest

import cgrad
from tests.helpers import requires_torch, torch

DTYPES = ["float64", "float16", "int64", "int32", "uint8", "bool", "float32"]


def outcome(lib, x_dtype, w_dtype, b_dtype, one_d=False, channels=3, stride=1):
    shape = (1, channels, 5) if one_d else (1, channels, 5, 5)
    wshape = (2, 3, 3) if one_d else (2, 3, 3, 3)
    x = lib.ones(shape, dtype=getattr(lib, x_dtype))
    w = lib.ones(wshape, dtype=getattr(lib, w_dtype))
    b = None if b_dtype is None else lib.ones(2, dtype=getattr(lib, b_dtype))
    conv = lib.nn.functional.conv1d if one_d else lib.nn.functional.conv2d
    try:
        y = conv(x, w, b, stride=stride)
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e).replace("torch.", "cgrad.")
    return "ok", str(y.dtype).split(".")[-1], tuple(y.shape)


@requires_torch
@pytest.mark.parametrize("x_dtype", DTYPES)
@pytest.mark.parametrize("w_dtype,b_dtype", [("float32", "float32"), ("float32", None), ("float64", None),
                                             ("float16", "float16"), ("float32", "float64")])
@pytest.mark.parametrize("one_d", [False, True])
def test_dtype_mismatch_errors(x_dtype, w_dtype, b_dtype, one_d):
    assert outcome(cgrad, x_dtype, w_dtype, b_dtype, one_d) == outcome(torch, x_dtype, w_dtype, b_dtype, one_d)


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(channels=4), dict(stride=0)])
@pytest.mark.parametrize("x_dtype,b_dtype", [("float64", "float32"), ("float16", None), ("float64", None)])
def test_dtype_check_order(kwargs, x_dtype, b_dtype):
    assert outcome(cgrad, x_dtype, "float32", b_dtype, **kwargs) == outcome(torch, x_dtype, "float32", b_dtype,
                                                                             **kwargs)


def test_messages_without_torch():
    assert outcome(cgrad, "float64", "float32", "float32") == (
        "RuntimeError", "Input type (double) and bias type (float) should be the same")
    assert outcome(cgrad, "float16", "float32", None) == (
        "RuntimeError", "Input type (cgrad.HalfTensor) and weight type (cgrad.FloatTensor) should be the same or "
        "input should be a MKLDNN tensor and weight is a dense tensor")
