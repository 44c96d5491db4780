"""topk, kthvalue, median(dim), nanmedian(dim) through the C selection of
kernels/select_rows.pxi: the same values and indices as a stable sort of
each row (NaN above every number, the lower index first among equal values,
largest-first for topk(largest=True)), on rows with many ties, NaN, inf and
-0.0, odd sizes, non-contiguous inputs and every dim; against torch where
the values are distinct (PyTorch leaves the order of ties to its kernel);
float64 gradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck
from helpers import compare_with_torch, requires_torch, torch

SIZES = [1, 2, 7, 23, 24, 25, 64, 333, 1000]


def stable_order(a, dim, largest):
    """The stable sort order along dim (descending: the reversed row's stable order, flipped)."""
    if largest:
        n = a.shape[dim]
        return (n - 1) - np.flip(np.argsort(np.flip(a, dim), axis=dim, kind="stable"), dim)
    return np.argsort(a, axis=dim, kind="stable")


def tied_rows(shape, dtype, seed):
    """Values from a small set, so rows hold many ties; floats also NaN, +-inf, -0.0."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        pool = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, 1.5, -2.0, 3.25], dtype)
    else:
        pool = np.array([-5, 0, 1, 2, 2, 7, np.iinfo(dtype).max, np.iinfo(dtype).min], dtype)
    return pool[rng.integers(0, len(pool), shape)]


def same_array(actual, expected):
    np.testing.assert_array_equal(actual, expected)
    assert actual.dtype == expected.dtype
    if actual.dtype.kind == "f":       # -0.0 against 0.0 too
        np.testing.assert_array_equal(np.signbit(actual), np.signbit(expected))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("largest", [True, False])
def test_topk_is_the_stable_order(dtype, n, largest):
    a = tied_rows((5, n), dtype, n)
    for dim in (1, 0):
        size = a.shape[dim]
        # k <= 16: the one-pass topk (cg_topk_small); 17: the selection
        for k in sorted({0, 1, min(3, size), min(5, size), min(16, size), min(17, size), size // 2, size}):
            v, i = cgrad.topk(cgrad.tensor(a), k, dim=dim, largest=largest)
            order = np.take(stable_order(a, dim, largest), np.arange(k), axis=dim)
            same_array(i.numpy(), order)
            same_array(v.numpy(), np.take_along_axis(a, order, dim))


@pytest.mark.parametrize("largest", [True, False])
def test_small_topk_on_sorted_rows(largest):
    """Rows in ascending and descending order: every element enters the
    one-pass topk's buffer (largest on ascending rows), or none after the
    first k."""
    a = np.stack([np.arange(300.0), -np.arange(300.0), np.repeat(np.arange(30.0), 10)]).astype(np.float32)
    for k in (1, 5, 16):
        v, i = cgrad.topk(cgrad.tensor(a), k, dim=1, largest=largest)
        order = stable_order(a, 1, largest)[:, :k]
        same_array(i.numpy(), order)
        same_array(v.numpy(), np.take_along_axis(a, order, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("n", SIZES)
def test_kthvalue_and_medians_are_the_stable_order(dtype, n):
    a = tied_rows((4, n), dtype, 100 + n)
    order = stable_order(a, 1, False)
    for k in sorted({1, (n + 1) // 2, n}):
        v, i = cgrad.kthvalue(cgrad.tensor(a), k, dim=1)
        same_array(i.numpy(), order[:, k - 1])
        same_array(v.numpy(), a[np.arange(4), order[:, k - 1]])
    nans = np.isnan(a).sum(1) if a.dtype.kind == "f" else np.zeros(4, np.int64)
    median_pos = np.where(nans > 0, n - nans, (n - 1) // 2)
    count = n - nans
    nanmedian_pos = np.where(count > 0, (count - 1) // 2, 0)
    for fn, pos in ((cgrad.median, median_pos), (cgrad.nanmedian, nanmedian_pos)):
        v, i = fn(cgrad.tensor(a), 1, keepdim=True)
        same_array(i.numpy()[:, 0], order[np.arange(4), pos])
        same_array(v.numpy()[:, 0], a[np.arange(4), order[np.arange(4), pos]])


def test_non_contiguous_and_middle_dim():
    a = tied_rows((6, 9, 11), np.float32, 7)
    base = cgrad.tensor(a).permute(2, 0, 1)           # (11, 6, 9), no unit stride on dim 1
    ref = np.transpose(a, (2, 0, 1))
    v, i = base.topk(4, dim=1)
    order = np.take(stable_order(ref, 1, True), np.arange(4), axis=1)
    same_array(i.numpy(), order)
    same_array(v.numpy(), np.take_along_axis(ref, order, 1))
    v, i = base[:, ::2].kthvalue(2, dim=1, keepdim=True)
    order = stable_order(ref[:, ::2], 1, False)[:, 1:2]
    same_array(i.numpy(), order)
    same_array(v.numpy(), np.take_along_axis(ref[:, ::2], order, 1))


@requires_torch
@pytest.mark.parametrize("n", [7, 25, 784])
def test_against_torch_distinct_values(n):
    a = np.random.default_rng(n).permutation(8 * n).astype(np.float32).reshape(8, n) / 8 - 5
    a[1, 3 % n] = np.nan
    for dim in (0, 1):
        compare_with_torch(lambda lib, x: x.topk(min(5, x.shape[dim]), dim=dim), a)
        compare_with_torch(lambda lib, x: x.topk(min(3, x.shape[dim]), dim=dim, largest=False), a)
        compare_with_torch(lambda lib, x: x.kthvalue(min(2, x.shape[dim]), dim=dim), a)
        compare_with_torch(lambda lib, x: x.median(dim=dim), a)
        compare_with_torch(lambda lib, x: x.nanmedian(dim=dim, keepdim=True), a)
    ints = np.random.default_rng(1).permutation(5 * n).astype(np.int64).reshape(5, n)
    compare_with_torch(lambda lib, x: x.topk(min(4, n), dim=1), ints, requires_grad=False)
    compare_with_torch(lambda lib, x: x.median(dim=1), ints, requires_grad=False)


def test_gradcheck_float64():
    a = np.random.default_rng(3).permutation(45).astype(np.float64).reshape(5, 9) / 7
    for fn in (lambda x: x.topk(3, dim=1)[0], lambda x: x.topk(2, dim=0, largest=False)[0],
               lambda x: x.kthvalue(4, dim=1)[0], lambda x: x.median(dim=0)[0],
               lambda x: x.nanmedian(dim=1)[0]):
        assert gradcheck(fn, (cgrad.tensor(a, requires_grad=True),))


def test_private_entry_refuses_bad_buffers():
    src = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError):
        cgrad._C._select_rows(src, 2, 3, 4, None, True, 0, np.empty((2, 4), np.float32),
                              np.empty((2, 4), np.int64))
    with pytest.raises(ValueError):
        cgrad._C._select_rows(src, 2, 3, 2, None, True, 0, np.empty((2, 1), np.float32),
                              np.empty((2, 2), np.int64))
    with pytest.raises(ValueError):
        cgrad._C._select_rows(src, 2, 3, 0, np.array([0, 3], np.int64), False, 0,
                              np.empty(2, np.float32), np.empty(2, np.int64))
