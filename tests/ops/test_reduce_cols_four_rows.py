"""amax/amin, var/std and float32 cumsum over a leading dim on the column
kernels (reduce_rows.h's cg_max_cols_*, cg_min_cols_*, cg_var_cols_*,
cumsum_threads.pxi's cg_cumsum_cols_f32), which take four rows a pass and
the last n % 4 rows one at a time: every row count modulo
4, from 1 row up, at sizes below, at and above the blocked-path threshold
(2**16 elements) and the two-thread one, NaN (with distinct payloads) in
rows of every residue, infinities, float32 and float64, non-contiguous
inputs. A column's picks and additions are the serial kernel's, in its
order, so the large path gives the bits that small column slices (below
the threshold: the serial kernels) give."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, threads_fixture, torch

BLOCK = 1 << 16            # reduce_threads.pxi LARGE_REDUCE_NUMEL
TWO_THREADS = 2 << 18      # kernels_iter.pxi: threads_for gives 2 threads from here
ROWS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 256, 257, 258]

threads = threads_fixture(None, 1, 3)


def rand(shape, dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 3 + 5).astype(dtype)


def uint(a):
    return a.view({4: np.uint32, 8: np.uint64}[a.itemsize])


def with_nans(a):
    """NaNs of distinct payloads in rows of every residue mod 4 (several in
    some columns, so that which one wins shows), and infinities."""
    a = a.copy()
    rows, cols = a.shape
    bits = uint(a)
    for k, r in enumerate(range(rows)):
        c = (7 * r) % cols
        if r % 3 == 0:
            bits[r, c] = uint(np.array([np.nan], a.dtype))[0] | (k + 1)
        elif r % 3 == 1:
            a[r, (c + 1) % cols] = np.inf if r % 2 else -np.inf
    return a


def serial_bits(a, f):
    """f of column slices small enough for the serial kernels."""
    rows, cols = a.shape
    width = max(1, (BLOCK - 1) // rows)
    parts = [f(cgrad.from_numpy(np.ascontiguousarray(a[:, s:s + width]))).numpy()
             for s in range(0, cols, width)]
    assert all(np.ascontiguousarray(a[:, s:s + width]).size < BLOCK for s in range(0, cols, width))
    return uint(np.concatenate(parts))


def cols_for(rows, numel):
    return max(16, -(-numel // rows) + 5)


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_row_count_is_the_serial_kernels_bits(rows, dtype, threads):
    for numel in (BLOCK, TWO_THREADS):
        a = with_nans(rand((rows, cols_for(rows, numel)), dtype, rows))
        x = cgrad.from_numpy(a)
        for f in (lambda t: t.amax(0), lambda t: t.amin(0), lambda t: t.var(0), lambda t: t.std(0),
                  lambda t: t.var(0, correction=0)):
            got = f(x).numpy()
            assert got.dtype == dtype
            np.testing.assert_array_equal(uint(got), serial_bits(a, f))


@pytest.mark.parametrize("rows", [3, 4, 5, 257])
def test_against_numpy(rows, threads):
    a = rand((rows, cols_for(rows, TWO_THREADS)), np.float64, 1)
    x = cgrad.from_numpy(a)
    np.testing.assert_array_equal(x.amax(0).numpy(), a.max(0))
    np.testing.assert_array_equal(x.amin(0).numpy(), a.min(0))
    ref = a.astype(np.longdouble).var(0, ddof=1).astype(np.float64)
    np.testing.assert_allclose(x.var(0).numpy(), ref, rtol=1e-13)
    # NaN wins a column, at any row
    b = a.copy()
    b[rows - 1, 3] = np.nan
    b[0, 5] = np.nan
    y = cgrad.from_numpy(b)
    for got in (y.amax(0).numpy(), y.amin(0).numpy(), y.var(0).numpy()):
        assert np.isnan(got[3]) and np.isnan(got[5]) and not np.isnan(np.delete(got, [3, 5])).any()


def test_leading_dim_of_3d_and_non_contiguous_inputs(threads):
    a = rand((6, 11, 4099), np.float32, 2)
    x = cgrad.from_numpy(a)
    np.testing.assert_array_equal(x.amax(1).numpy(), a.max(1))
    np.testing.assert_array_equal(x.amin((0, 1)).numpy(), a.min((0, 1)))
    b = rand((257, 2 * 4099), np.float32, 3)
    y = cgrad.from_numpy(b)[:, ::2]
    np.testing.assert_array_equal(y.amax(0).numpy(), b[:, ::2].max(0))
    ref = b[:, ::2].astype(np.longdouble).var(0, ddof=1).astype(np.float64)
    np.testing.assert_allclose(y.var(0).numpy().astype(np.float64), ref, rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("rows", [5, 258])
def test_values_and_grads_like_torch(rows):
    a = rand((rows, cols_for(rows, TWO_THREADS)), np.float32, 4)
    for name in ("amax", "amin", "var", "std"):
        x = cgrad.from_numpy(a).requires_grad_()
        t = torch.from_numpy(a).requires_grad_()
        got, want = getattr(x, name)(0), getattr(t, name)(0)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=2e-6)
        assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
        got.sum().backward()
        want.sum().backward()
        # var's gradient 2 (x - mean) / (n - 1) takes the float32 mean, which
        # PyTorch's float32 sum and cgrad's float64 one may round a few ulp
        # apart: that many ulp of the mean, scaled as the gradient scales it
        atol = 8 * float(np.spacing(np.float32(np.abs(a.mean(0)).max()))) * 2 / (rows - 1)
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=atol)


@pytest.mark.parametrize("rows", ROWS)
def test_float32_cumsum_down_the_columns_every_row_count(rows, threads):
    # cumsum_threads.pxi's cg_cumsum_cols_f32 (four rows a pass, then the
    # rest): each column the float64 running sum, rounded once; in place too
    for numel in (BLOCK, TWO_THREADS):
        a = (rand((rows, cols_for(rows, numel)), np.float32, rows) * 100).astype(np.float32)
        want = np.cumsum(a.astype(np.float64), axis=0).astype(np.float32)
        np.testing.assert_array_equal(cgrad.from_numpy(a).cumsum(0).numpy(), want)
        x = cgrad.from_numpy(a.copy())
        x.cumsum_(0)
        np.testing.assert_array_equal(x.numpy(), want)
        if torch is not None:
            np.testing.assert_array_equal(want, torch.from_numpy(a).cumsum(0).numpy())
