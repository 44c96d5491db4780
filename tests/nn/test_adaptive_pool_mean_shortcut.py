"""adaptive_avg_pool2d to (1, 1), and adaptive_avg_pool1d to 1, against
torch: torch takes a mean over the last two dims before checking the input
(any rank, empty dims give nan, integer input fails with mean's error, a
channels-last input gives channels-last strides through as_strided_), which
is also what interpolate(mode='area') to size 1 does; the 1-d adaptive
pools check their rank and output_size with torch's texts."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch


def outcome(lib, make):
    try:
        y = make(lib)
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return ("error", type(e).__name__, str(e).replace("torch.", "cgrad."))
    grad_fn = type(y.grad_fn).__name__ if y.grad_fn is not None else None
    return ("ok", tuple(y.shape), tuple(y.stride()), str(y.dtype).split(".")[-1], grad_fn,
            y.detach().numpy().copy())


def assert_same(make):
    want, got = outcome(torch, make), outcome(cgrad, make)
    assert got[:5] == want[:5]
    if want[0] == "ok":
        np.testing.assert_allclose(got[5], want[5], rtol=1e-6, atol=1e-6, equal_nan=True)


def _input(lib, shape, dtype="float32", channels_last=False, grad=False):
    arr = np.arange(int(np.prod(shape))).reshape(shape) % 7
    x = lib.tensor(arr.astype(dtype))
    if channels_last:
        x = x.contiguous(memory_format=lib.channels_last)
    return x.requires_grad_() if grad else x


CASES = [((3, 4), "float32", False), ((2, 3, 4, 5, 6), "float32", False), ((0, 3, 4, 4), "float32", False),
         ((2, 0, 4, 4), "float32", False), ((2, 3, 0, 4), "float32", False), ((2, 3, 4, 4), "int32", False),
         ((3, 4, 4), "uint8", False), ((2, 3, 4, 4), "bool", False), ((2, 3, 4, 4), "float64", True),
         ((2, 3, 1, 1), "float32", True), ((4,), "float32", False)]


@requires_torch
@pytest.mark.parametrize("shape,dtype,channels_last", CASES)
@pytest.mark.parametrize("output_size", [1, (1, 1), (1, None), (None, 1)])
def test_adaptive_avg_pool2d_to_one(shape, dtype, channels_last, output_size):
    if channels_last and output_size in ((1, None), (None, 1)):
        pytest.skip("cgrad's pooling kernels give contiguous results (memory formats are not propagated)")
    grad = dtype.startswith("float") and 0 not in shape
    assert_same(lambda lib: lib.nn.functional.adaptive_avg_pool2d(
        _input(lib, shape, dtype, channels_last, grad), output_size))


@requires_torch
def test_channels_last_gradient_through_as_strided():
    arr = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    grads = []
    for lib in (torch, cgrad):
        x = lib.tensor(arr).contiguous(memory_format=lib.channels_last).requires_grad_()
        y = lib.nn.functional.adaptive_avg_pool2d(x, 1)
        (y * lib.arange(6, dtype=lib.float64).view(2, 3, 1, 1)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)


@requires_torch
@pytest.mark.parametrize("fname", ["adaptive_avg_pool1d", "adaptive_max_pool1d"])
@pytest.mark.parametrize("shape,dtype,output_size", [
    ((2, 3, 4, 5, 6), "float32", 1), ((4,), "float32", 1), ((2, 3, 4), "float32", (1, 2)),
    ((2, 3, 4), "float32", ()), ((2, 3, 4), "float32", (1,)), ((2, 3, 4), "float32", 3),
    ((3, 4), "float32", 1), ((2, 3, 4), "uint8", 1), ((2, 3, 4), "int64", 2), ((2, 0, 4), "float32", 1),
    ((2, 3, 0), "float32", 2), ((0, 3, 4), "float32", 2)])
def test_adaptive_pool1d_checks_and_values(fname, shape, dtype, output_size):
    def make(lib):
        out = getattr(lib.nn.functional, fname)(_input(lib, shape, dtype), output_size)
        return out[0] if isinstance(out, tuple) else out
    assert_same(make)


@requires_torch
@pytest.mark.parametrize("ndim", [3, 4, 5])
@pytest.mark.parametrize("dtype", ["uint8", "int64", "float32"])
def test_area_to_size_one(ndim, dtype):
    shape = (2, 3) + (4,) * (ndim - 2)
    assert_same(lambda lib: lib.nn.functional.interpolate(_input(lib, shape, dtype), size=[1] * (ndim - 2),
                                                          mode="area"))


def test_mean_shortcut_without_torch():
    x = cgrad.arange(24, dtype=cgrad.float32).view(2, 3, 4)
    y = cgrad.nn.functional.adaptive_avg_pool2d(x, 1)
    assert y.shape == (2, 1, 1) and y.flatten().tolist() == [5.5, 17.5]
    cl = cgrad.ones(2, 3, 4, 4).contiguous(memory_format=cgrad.channels_last)
    assert cgrad.nn.functional.adaptive_avg_pool2d(cl, 1).stride() == (3, 1, 3, 3)
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        cgrad.nn.functional.adaptive_avg_pool2d(cgrad.ones(1, 2, 3, 3, dtype=cgrad.uint8), 1)
