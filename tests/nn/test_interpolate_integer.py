"""F.interpolate on integer input, against torch: uint8 nearest and
nearest-exact (1-D, 2-D, 3-D; sizes and scale factors, up and down) give
torch's values and dtype exactly; uint8 bilinear, bicubic and lanczos
(4-D) give torch's values (their fixed-point arithmetic is tested in
test_interpolate_uint8_resample.py); every mode torch refuses for an
integer dtype is refused with its error (type and text, which names the
kernel that checks the dtype first)."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64", "bool"]
MODES = [("nearest", 3, {}), ("nearest", 4, {}), ("nearest", 5, {}), ("nearest-exact", 3, {}),
         ("nearest-exact", 4, {}), ("nearest-exact", 5, {}), ("linear", 3, {}), ("bilinear", 4, {}),
         ("trilinear", 5, {}), ("bicubic", 4, {}), ("area", 3, {}), ("area", 4, {}), ("area", 5, {}),
         ("bilinear", 4, {"antialias": True}), ("bicubic", 4, {"antialias": True}),
         ("lanczos", 4, {"antialias": True})]


def outcome(lib, arr, **kwargs):
    x = lib.tensor(arr)
    try:
        y = lib.nn.functional.interpolate(x, **kwargs)
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e).replace("torch.", "cgrad.")
    return str(y.dtype).split(".")[-1], y.numpy()


@requires_torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("spatial,size,scale", [
    ((7,), (11,), None), ((7,), (3,), None), ((9,), None, 1.7), ((9,), None, 0.45),
    ((5, 7), (8, 11), None), ((6, 9), (4, 3), None), ((5, 7), None, (2.0, 2.0)), ((5, 7), None, (1.3, 0.6)),
    ((3, 4, 5), (5, 7, 2), None), ((4, 3, 6), None, (1.5, 2.0, 0.75))])
def test_uint8_nearest_matches_torch(mode, spatial, size, scale):
    rng = np.random.default_rng(len(spatial))
    arr = rng.integers(0, 256, (2, 3) + spatial).astype(np.uint8)
    kwargs = {"size": size, "scale_factor": scale, "mode": mode}
    got, want = outcome(cgrad, arr, **kwargs), outcome(torch, arr, **kwargs)
    assert got[0] == want[0] == "uint8"
    np.testing.assert_array_equal(got[1], want[1])


def assert_same_outcome(got, want):
    assert got[0] == want[0]
    if isinstance(want[1], str):
        assert got[1] == want[1]
    else:
        np.testing.assert_array_equal(got[1], want[1])


@requires_torch
@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("mode,ndim,extra", MODES, ids=lambda m: str(m))
@pytest.mark.parametrize("out", [6, 1])     # 1: area's mean shortcut (its error text)
def test_integer_modes_accept_or_refuse_as_torch(dtype, mode, ndim, extra, out):
    arr = (np.arange(2 * 3 * 4 ** (ndim - 2)) % 7).reshape((2, 3) + (4,) * (ndim - 2)).astype(dtype)
    kwargs = dict(size=[out] * (ndim - 2), mode=mode, **extra)
    assert_same_outcome(outcome(cgrad, arr, **kwargs), outcome(torch, arr, **kwargs))
