"""cummax / cummin through kernels/cum_extreme_rows.pxi (float32, float64,
int64) and numpy (other dtypes): values and indices as PyTorch's update
rule (move on NaN, or on >= / <= while the running value is not NaN) on
rows with ties, NaN, +-inf and -0.0, every dim, non-contiguous inputs; against
torch; float64 gradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck
from helpers import compare_with_torch, requires_torch, torch


def reference(a, dim, is_max):
    """PyTorch's cummax_cummin_helper, a row at a time."""
    rows = np.moveaxis(a, dim, -1)
    vals = np.empty_like(rows)
    idx = np.empty(rows.shape, np.int64)
    for r in np.ndindex(rows.shape[:-1]):
        out, at = rows[r][0], 0
        for j, x in enumerate(rows[r]):
            x_nan = a.dtype.kind == "f" and np.isnan(x)
            out_nan = a.dtype.kind == "f" and np.isnan(out)
            if x_nan or (not out_nan and (x >= out if is_max else x <= out)):
                out, at = x, j
            vals[r][j], idx[r][j] = out, at
    return np.moveaxis(vals, -1, dim), np.moveaxis(idx, -1, dim)


def tied(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        pool = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, 1.5, -2.0], dtype)
    else:
        pool = np.array([-3, 0, 2, 2, 9, np.iinfo(dtype).min], dtype)
    return pool[rng.integers(0, len(pool), shape)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
@pytest.mark.parametrize("is_max", [True, False])
def test_matches_pytorch_update_rule(dtype, is_max):
    a = tied((3, 4, 17), dtype, 1)
    for dim in (0, 1, 2, -1):
        v, i = (cgrad.cummax if is_max else cgrad.cummin)(cgrad.tensor(a), dim)
        rv, ri = reference(a, dim, is_max)
        np.testing.assert_array_equal(i.numpy(), ri)
        np.testing.assert_array_equal(v.numpy(), rv)
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(v.numpy()), np.signbit(rv))
    t = cgrad.tensor(a).permute(2, 0, 1)[:, :, ::2]
    v, i = (cgrad.cummax if is_max else cgrad.cummin)(t, 1)
    rv, ri = reference(np.transpose(a, (2, 0, 1))[:, :, ::2], 1, is_max)
    np.testing.assert_array_equal(i.numpy(), ri)
    np.testing.assert_array_equal(v.numpy(), rv)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_against_torch(dtype):
    a = tied((5, 31), dtype, 2)
    for dim in (0, 1):
        compare_with_torch(lambda lib, x: lib.cummax(x, dim), a, requires_grad=False)
        compare_with_torch(lambda lib, x: lib.cummin(x, dim), a, requires_grad=False)
    compare_with_torch(lambda lib, x: lib.cummax(x, 0), np.zeros((0, 3), dtype), requires_grad=False)


def test_gradcheck_float64():
    a = np.random.default_rng(4).permutation(28).astype(np.float64).reshape(4, 7) / 3
    x = cgrad.tensor(a, requires_grad=True)
    assert gradcheck(lambda t: t.cummax(1)[0], (x,))
    assert gradcheck(lambda t: t.cummin(0)[0], (x,))


def test_private_entry_refuses_bad_buffers():
    with pytest.raises(ValueError):
        cgrad._C._cum_extreme_rows(np.zeros((2, 3), np.float32), 2, 3, True, 0,
                                   np.empty((2, 2), np.float32), np.empty((2, 3), np.int64))
