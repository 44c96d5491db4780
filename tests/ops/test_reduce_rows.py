"""The vectorised row and column kernels of src/cgrad/reduce_rows.h (float32
row sums, amax/amin and logsumexp over the last or a leading dim, and the
slices of a long vector's full reduction): sizes just below, at and above
the blocked-path threshold (2**16 elements) and the two-thread one (2 *
2**18), rows shorter and longer than the kernels' lanes, ragged tails, NaN
and infinities at every lane position, float32/float64/float16, and
non-contiguous inputs, against numpy in float64 and against torch (values
and gradients)."""
import math

import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, requires_torch, threads_fixture

BLOCK = 1 << 16            # reduce_threads.pxi LARGE_REDUCE_NUMEL
TWO_THREADS = 2 << 18      # kernels_iter.pxi: threads_for gives 2 threads from here
LANES = 32                 # reduce_rows.h CG_RR_LANES: rows below 2 * LANES take the serial loop

# (rows, cols) around each threshold: below / at / above the blocked path,
# rows shorter than the lanes, ragged tails, and a few long rows (one thread
# per row block, or the rows split over threads)
SHAPES = [(256, 255), (256, 256), (257, 256), (4099, 17), (1040, 63), (1024, 64), (1023, 129),
          (1025, 1023), (3, 174763), (2, 300001)]


threads = threads_fixture(None, 1, 3)


def rand(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def lse_ref(a, axis):
    a = a.astype(np.float64)
    m = a.max(axis=axis, keepdims=True)
    m = np.where(np.isinf(m), 0.0, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m).squeeze(axis)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_amax_amin_logsumexp_against_numpy(shape, dim, dtype, threads):
    a = rand(shape, dtype, seed=4)
    x = cgrad.tensor(a)
    np.testing.assert_array_equal(x.amax(dim).numpy(), a.max(axis=dim))
    np.testing.assert_array_equal(x.amin(dim).numpy(), a.min(axis=dim))
    got = x.logsumexp(dim)
    assert got.dtype == x.dtype
    tol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got.numpy(), lse_ref(a, dim), rtol=tol, atol=tol / 10)


@pytest.mark.parametrize("shape", [(300, 257), (1024, 96)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_infinities_at_every_lane(shape, dtype, threads):
    a = rand(shape, dtype, seed=5)
    rows, cols = shape
    # row r gets a NaN at column r % cols: first lanes, later lanes and the ragged tail
    nan_rows = np.arange(0, rows, 3)
    a[nan_rows, nan_rows % cols] = np.nan
    inf_rows = np.arange(1, rows, 3)
    a[inf_rows, (inf_rows * 7) % cols] = np.inf
    a[2, :] = -np.inf                                # a row of -inf: logsumexp -inf
    x = cgrad.tensor(a)
    for dim in (0, 1):
        np.testing.assert_array_equal(x.amax(dim).numpy(), a.max(axis=dim))
        np.testing.assert_array_equal(x.amin(dim).numpy(), a.min(axis=dim))
        got = x.logsumexp(dim).numpy()
        ref = lse_ref(a, dim)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_array_equal(np.isinf(got) & (got > 0), np.isinf(ref) & (ref > 0))
        np.testing.assert_array_equal(np.isinf(got) & (got < 0), np.isinf(ref) & (ref < 0))
        ok = np.isfinite(ref)
        np.testing.assert_allclose(got[ok], ref[ok], rtol=2e-6)


@pytest.mark.parametrize("n", [BLOCK - 1, BLOCK, BLOCK + 1, TWO_THREADS - 1, TWO_THREADS, TWO_THREADS + 4099])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_reductions(n, dtype, threads):
    a = rand(n, dtype, seed=6)
    x = cgrad.tensor(a)
    assert float(x.amax()) == a.max() and float(x.amin()) == a.min()
    tol = 2e-7 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(float(x.logsumexp(0)), lse_ref(a, 0), rtol=tol)
    for pos in (0, 5, n // 2 + 3, n - 1):           # a first lane, a later one, another slice, the tail
        b = a.copy()
        b[pos] = np.nan
        y = cgrad.tensor(b)
        assert math.isnan(float(y.amax())) and math.isnan(float(y.amin()))
        assert math.isnan(float(y.logsumexp(0)))
    b = np.full(n, -np.inf, dtype)
    assert float(cgrad.tensor(b).logsumexp(0)) == -np.inf
    b[n - 2] = np.inf
    assert float(cgrad.tensor(b).logsumexp(0)) == np.inf and float(cgrad.tensor(b).amax()) == np.inf


@pytest.mark.parametrize("shape", [(256, 255), (256, 256), (1023, 4097), (64, 70001)])
def test_float32_row_sums_are_the_exact_sum_rounded(shape, threads):
    a = (rand(shape, seed=7) + 3).astype(np.float32)     # all positive: errors would accumulate
    got = cgrad.tensor(a).sum(1).numpy()
    exact = np.array([math.fsum(r) for r in a.astype(np.float64)], dtype=np.float32)
    np.testing.assert_array_equal(got, exact)
    got = cgrad.tensor(a).mean(1).numpy()
    exact = np.array([math.fsum(r) / shape[1] for r in a.astype(np.float64)], dtype=np.float32)
    np.testing.assert_array_equal(got, exact)


def test_non_contiguous_and_3d_inputs(threads):
    a = rand((520, 390), seed=8)
    x = cgrad.tensor(a)
    np.testing.assert_array_equal(x.t().amax(1).numpy(), a.T.max(axis=1))
    np.testing.assert_array_equal(x[:, ::3].amin(1).numpy(), a[:, ::3].min(axis=1))
    np.testing.assert_allclose(x.t().logsumexp(1).numpy(), lse_ref(a.T, 1), rtol=2e-6)
    np.testing.assert_allclose(x[::2].logsumexp(0).numpy(), lse_ref(a[::2], 0), rtol=2e-6)
    b = rand((5, 301, 77), seed=9)
    y = cgrad.tensor(b)
    for dim in (0, 1, 2):
        np.testing.assert_array_equal(y.amax(dim).numpy(), b.max(axis=dim))
        np.testing.assert_allclose(y.logsumexp(dim).numpy(), lse_ref(b, dim), rtol=2e-6, atol=1e-7)
    np.testing.assert_array_equal(y.amax((1, 2)).numpy(), b.max(axis=(1, 2)))


def test_float16_goes_through_float32():
    a = rand((300, 257), np.float16, seed=10)
    x = cgrad.tensor(a)
    for dim in (0, 1):
        got = x.amax(dim)
        assert got.dtype == cgrad.float16
        np.testing.assert_array_equal(got.numpy(), a.max(axis=dim))
        np.testing.assert_allclose(x.logsumexp(dim).numpy().astype(np.float64), lse_ref(a, dim),
                                   rtol=2e-3)


@requires_torch
@pytest.mark.parametrize("shape", [(256, 255), (257, 256), (1025, 513), (3, 174763)])
@pytest.mark.parametrize("dim", [0, 1])
def test_values_and_grads_like_torch(shape, dim):
    a = rand(shape, seed=11)
    compare_with_torch(lambda lib, x: x.amax(dim), a)
    compare_with_torch(lambda lib, x: x.amin(dim, keepdim=True), a)
    compare_with_torch(lambda lib, x: x.logsumexp(dim), a, rtol=1e-5)
    compare_with_torch(lambda lib, x: x.sum(dim), a, rtol=1e-6, atol=2e-5)
    compare_with_torch(lambda lib, x: x.t().logsumexp(dim), a, rtol=1e-5)
    compare_with_torch(lambda lib, x: x.logsumexp(dim), a.astype(np.float64), rtol=1e-12)
    compare_with_torch(lambda lib, x: x.to(lib.float16).amax(dim), a, requires_grad=False)


@requires_torch
def test_vector_values_and_grads_like_torch():
    a = rand(TWO_THREADS + 77, seed=12)
    compare_with_torch(lambda lib, x: (x.amax(), x.amin(), x.logsumexp(0)), a, rtol=1e-6)
    compare_with_torch(lambda lib, x: x.logsumexp(0), a.astype(np.float64), rtol=1e-12)


@pytest.mark.parametrize("shape", [(256, 255), (256, 256), (257, 256), (1023, 129), (9, 8000), (17, 65537)])
def test_cumsum_rows_are_each_rows_running_sum(shape, threads):
    a = rand(shape, seed=13)
    got = cgrad.tensor(a).cumsum(1).numpy()
    # float32: the float64 running sum of each row, rounded once per element
    np.testing.assert_array_equal(got, np.cumsum(a.astype(np.float64), axis=1).astype(np.float32))
    a64 = a.astype(np.float64) * 3
    np.testing.assert_array_equal(cgrad.tensor(a64).cumsum(1).numpy(), np.cumsum(a64, axis=1))
    np.testing.assert_array_equal(cgrad.tensor(a64).t().cumsum(0).numpy(), np.cumsum(a64.T, axis=0))
    x = cgrad.tensor(a.copy())
    x.cumsum_(1)                                         # out is x
    np.testing.assert_array_equal(x.numpy(), got)


@requires_torch
def test_cumsum_rows_values_and_grads_like_torch():
    a = rand((1023, 129), seed=14)
    compare_with_torch(lambda lib, x: x.cumsum(1), a, rtol=0, atol=0)
    compare_with_torch(lambda lib, x: x.cumsum(-1), a.astype(np.float64), rtol=0, atol=0)
