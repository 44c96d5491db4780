"""Matrix products on cgrad's own threads (src/cgrad/blas_pool.pxi): every
operand layout that reaches BLAS (transposed views, row vectors, batches
with broadcast and stride-0 batch dimensions, products split by rows or by
columns over the threads) gives numpy's float64 result, with the pool on
and off, on one thread and on several; convolutions too."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


@pytest.fixture(params=[True, False], ids=["pool", "openblas"])
def pool(request):
    cgrad._C._set_blas_on_cgrad_threads(request.param)
    threads = cgrad.get_num_threads()
    yield request.param
    cgrad._C._set_blas_on_cgrad_threads(True)
    cgrad.set_num_threads(threads)


LAYOUTS = [
    ((256, 300), (300, 200), False, False),   # split by rows
    ((16, 300), (300, 900), False, False),    # split by columns
    ((300, 256), (200, 300), True, True),     # both transposed views
    ((1, 700), (700, 800), False, False),     # a row vector
    ((700, 1), (1, 800), False, False),       # an outer product
    ((600, 700), (700, 1), False, False),     # a matrix-vector product
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape_a,shape_b,ta,tb", LAYOUTS)
def test_products_equal_numpy(pool, threads, dtype, shape_a, shape_b, ta, tb):
    cgrad.set_num_threads(threads)
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal(shape_a).astype(dtype)
    b_np = rng.standard_normal(shape_b).astype(dtype)
    a, b = cgrad.tensor(a_np), cgrad.tensor(b_np)
    if ta:
        a, a_np = a.t(), a_np.T
    if tb:
        b, b_np = b.t(), b_np.T
    out = (a @ b).numpy()
    expected = a_np.astype(np.float64) @ b_np.astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol * np.abs(expected).max())
    assert out.dtype == dtype


@pytest.mark.parametrize("threads", [1, 2])
def test_batched_and_broadcast_products_equal_numpy(pool, threads):
    cgrad.set_num_threads(threads)
    rng = np.random.default_rng(1)
    a_np = rng.standard_normal((3, 1, 64, 80)).astype(np.float32)
    b_np = rng.standard_normal((5, 80, 96)).astype(np.float32)
    out = cgrad.matmul(cgrad.tensor(a_np), cgrad.tensor(b_np)).numpy()
    np.testing.assert_allclose(out, np.matmul(a_np.astype(np.float64), b_np), rtol=1e-4, atol=1e-4)
    # a batch dimension of stride 0 (expand) and a transposed batch
    w = cgrad.tensor(rng.standard_normal((80, 64)).astype(np.float32))
    x = cgrad.tensor(rng.standard_normal((4, 96, 80)).astype(np.float32))
    got = cgrad.bmm(w.t().expand(4, 64, 80), x.transpose(1, 2)).numpy()
    ref = np.matmul(w.numpy().T.astype(np.float64), x.numpy().transpose(0, 2, 1))
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_products_keep_their_gradients(pool):
    rng = np.random.default_rng(2)
    a = cgrad.tensor(rng.standard_normal((128, 96)), requires_grad=True)
    b = cgrad.tensor(rng.standard_normal((96, 160)), requires_grad=True)
    g = rng.standard_normal((128, 160))
    (a @ b).backward(cgrad.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), g @ b.detach().numpy().T, rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), a.detach().numpy().T @ g, rtol=1e-10)


@requires_torch
@pytest.mark.parametrize("threads", [1, 2])
def test_convolution_forward_and_backward_match_torch(pool, threads):
    cgrad.set_num_threads(threads)
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((16, 3, 20, 20)).astype(np.float32)
    w_np = rng.standard_normal((8, 3, 5, 5)).astype(np.float32) * 0.2
    g_np = rng.standard_normal((16, 8, 16, 16)).astype(np.float32)
    outs = []
    for lib in (cgrad, torch):
        x = lib.tensor(x_np, requires_grad=True)
        w = lib.tensor(w_np, requires_grad=True)
        y = lib.nn.functional.conv2d(x, w)
        y.backward(lib.tensor(g_np))
        outs.append([t.detach().numpy() for t in (y, x.grad, w.grad)])
    for c, t in zip(*outs):
        np.testing.assert_allclose(c, t, rtol=1e-4, atol=1e-4)
