"""layer_norm's row kernels (layer_norm_rows.h): 8 partial sums per row and
a tail, so row lengths around multiples of 8; every affine combination
(weight and bias, either, none); float32 and float64; non-contiguous input;
and rows split over two threads (from 65,536 elements) giving the same bits
as one thread. Values and the input, weight and bias gradients against
torch."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


@pytest.fixture
def restore_threads():
    before = cgrad.get_num_threads()
    yield
    cgrad.set_num_threads(before)


def layer_norm_run(lib, x_np, g_np, w_np, b_np, transpose=False):
    x = lib.tensor(x_np, requires_grad=True)
    w = None if w_np is None else lib.tensor(w_np, requires_grad=True)
    b = None if b_np is None else lib.tensor(b_np, requires_grad=True)
    xin = x.transpose(0, 1) if transpose else x
    y = lib.nn.functional.layer_norm(xin, (x_np.shape[-1],), w, b, eps=1e-5)
    y.backward(lib.tensor(g_np if not transpose else np.ascontiguousarray(g_np.swapaxes(0, 1))))
    return [t.detach().numpy().copy() for t in (y, x.grad, *(p.grad for p in (w, b) if p is not None))]


@requires_torch
@pytest.mark.parametrize("n", [1, 7, 8, 9, 17, 128, 257])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rows_match_torch(n, affine, dtype):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((3, 5, n)) * 3 + 1).astype(dtype)
    g = rng.standard_normal((3, 5, n)).astype(dtype)
    w = rng.standard_normal(n).astype(dtype) if affine in ("both", "weight") else None
    b = rng.standard_normal(n).astype(dtype) if affine in ("both", "bias") else None
    got = layer_norm_run(cgrad, x, g, w, b)
    want = layer_norm_run(torch, x, g, w, b)
    tol = dict(rtol=1e-10, atol=1e-11) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    if n == 1 and dtype == "float32":
        # x - mean is exactly 0 (the mean is taken in double); torch's float32
        # mean leaves a rounding error there that rstd = 1/sqrt(eps) scales
        # up, so its weight gradient (summed over 15 rows) is noise of about
        # 1.4e-4, not 0
        tol["atol"] = 5e-4
    assert len(got) == len(want)
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, **tol)


@requires_torch
def test_non_contiguous_input_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4, 33)).astype(np.float32)
    g = rng.standard_normal((6, 4, 33)).astype(np.float32)
    w, b = rng.standard_normal(33).astype(np.float32), rng.standard_normal(33).astype(np.float32)
    for a, e in zip(layer_norm_run(cgrad, x, g, w, b, True), layer_norm_run(torch, x, g, w, b, True)):
        np.testing.assert_allclose(a, e, rtol=2e-4, atol=2e-5)


@requires_torch
@pytest.mark.parametrize("rows", [511, 512, 513, 1001])
def test_threaded_rows_equal_one_thread_and_torch(rows, restore_threads):
    rng = np.random.default_rng(rows)
    n = 128                                   # rows * n spans the 65,536-element threshold
    x = rng.standard_normal((rows, n)).astype(np.float32)
    g = rng.standard_normal((rows, n)).astype(np.float32)
    w, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    cgrad.set_num_threads(1)
    one = layer_norm_run(cgrad, x, g, w, b)
    cgrad.set_num_threads(2)
    two = layer_norm_run(cgrad, x, g, w, b)
    want = layer_norm_run(torch, x, g, w, b)
    for a, c, e in zip(one, two, want):
        assert np.array_equal(a, c)
        np.testing.assert_allclose(a, e, rtol=2e-4, atol=5e-5)


def test_constant_rows_give_the_bias():
    """A constant row has zero variance: (x - mean) is 0, so y is the bias."""
    x = cgrad.full((4, 19), 2.5)
    b = cgrad.arange(19, dtype=cgrad.float32)
    y = cgrad.nn.functional.layer_norm(x, (19,), cgrad.ones(19), b)
    assert np.array_equal(y.numpy(), np.tile(np.arange(19, dtype=np.float32), (4, 1)))
