"""cumsum along contiguous rows, four rows walked side by side
(kernels/cumsum_threads.pxi, CG_CUMSUM_ROWS): row counts below, at and
above multiples of four, odd row lengths, the threaded sizes (pieces of
rows), float32 (a float64 running sum rounded once, as PyTorch's CPU
kernel) and float64, non-contiguous inputs. Each row's additions are the
one-row loop's in its order, so results equal numpy's running sum in
float64 exactly."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, threads_fixture, torch


threads = threads_fixture(None, 1, 3)


def running_sum(a, axis):
    return np.cumsum(a.astype(np.float64), axis=axis)


@pytest.mark.parametrize("rows", [1, 3, 4, 5, 7, 8, 9, 13])
@pytest.mark.parametrize("n", [1, 2, 17, 1000])
def test_rows_small(rows, n):
    a = np.random.default_rng(rows * 31 + n).standard_normal((rows, n)).astype(np.float32)
    np.testing.assert_array_equal(cgrad.from_numpy(a).cumsum(1).numpy(), running_sum(a, 1).astype(np.float32))
    b = a.astype(np.float64)
    np.testing.assert_array_equal(cgrad.from_numpy(b).cumsum(1).numpy(), running_sum(b, 1))
    np.testing.assert_array_equal(cgrad.from_numpy(b).cumsum(-1).numpy(), running_sum(b, 1))


@pytest.mark.parametrize("shape", [(1023, 1025), (1026, 1023), (4099, 257), (2, 3, 70001), (5, 1 << 17)])
def test_rows_threaded(shape, threads):
    a = (np.random.default_rng(7).random(shape) + 1).astype(np.float32)
    x = cgrad.from_numpy(a)
    np.testing.assert_array_equal(x.cumsum(-1).numpy(), running_sum(a, -1).astype(np.float32))
    b = a.astype(np.float64) * 3
    np.testing.assert_array_equal(cgrad.from_numpy(b).cumsum(-1).numpy(), running_sum(b, -1))


def test_rows_of_non_contiguous_inputs():
    a = (np.random.default_rng(8).random((1500, 1202)) - 0.5).astype(np.float32)
    x = cgrad.from_numpy(a)
    np.testing.assert_array_equal(x[:, ::2].cumsum(1).numpy(), running_sum(a[:, ::2], 1).astype(np.float32))
    np.testing.assert_array_equal(x.t().cumsum(1).numpy(), running_sum(a.T, 1).astype(np.float32))
    np.testing.assert_array_equal(x[1::3].cumsum(1).numpy(), running_sum(a[1::3], 1).astype(np.float32))


def test_special_values_stay_in_their_rows():
    a = np.ones((9, 300), np.float32)
    a[2, 10] = np.nan
    a[5, 0] = np.inf
    a[6, 7] = -np.inf
    got = cgrad.from_numpy(a).cumsum(1).numpy()
    want = running_sum(a, 1).astype(np.float32)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[2, 10:]).all() and not np.isnan(got[[0, 1, 3, 4, 7, 8]]).any()


@requires_torch
def test_rows_against_torch():
    a = np.random.default_rng(9).standard_normal((1031, 2053)).astype(np.float32)
    got = cgrad.from_numpy(a).cumsum(1).numpy()
    want = torch.from_numpy(a).cumsum(1).numpy()
    np.testing.assert_array_equal(got, want)
    x = cgrad.from_numpy(a[:64, :64].astype(np.float64)).requires_grad_()
    y = torch.from_numpy(a[:64, :64].astype(np.float64)).requires_grad_()
    x.cumsum(1).pow(2).sum().backward()
    y.cumsum(1).pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12)
