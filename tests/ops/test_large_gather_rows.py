"""gather() of two or more dims walked by rows of the index
(src/cgrad/gather_threads.pxi, gather_rows_threads): index sizes just below,
at and above the threaded path (2**16 positions) and the two-thread split
(2 * 2**18), odd sizes, fewer rows than threads (the position walk), each
gathered dim, index smaller than the input, non-contiguous inputs and
indices, every item size, and the first out-of-range index reported as the
serial walk reports it. Against numpy's take_along_axis (exact) and torch."""
import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, requires_torch, threads_fixture, torch

BLOCK = 1 << 16            # gather_threads.pxi GATHER_THREADS_NUMEL
TWO_THREADS = 2 << 18      # kernels_iter.pxi: threads_for gives 2 threads from here


threads = threads_fixture(None, 1, 3)


def take(a, dim, idx):
    """numpy's gather: idx may be smaller than a in the other dims."""
    sl = tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(idx.shape))
    return np.take_along_axis(a[sl], idx, dim)


# index shapes of BLOCK - 1, BLOCK, BLOCK + 1 positions, then around two threads
INDEX_SHAPES = [(3, 21845), (256, 256), (7, 9363), (65537, 1), (1, 65537), (1024, 1023), (1025, 1025), (2, 3, 174763)]


@pytest.mark.parametrize("shape", INDEX_SHAPES)
def test_gather_by_rows_against_numpy(shape, threads):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(tuple(s + 2 for s in shape)).astype(np.float32)
    for dim in range(len(shape)):
        idx = rng.integers(0, a.shape[dim], shape)
        got = cgrad.tensor(a).gather(dim, cgrad.tensor(idx))
        np.testing.assert_array_equal(got.numpy(), take(a, dim, idx))


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.int16, np.int8, np.bool_, np.uint8])
def test_gather_by_rows_of_each_item_size(dtype, threads):
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((1031, 517)) * 50).astype(dtype)
    for dim in (0, 1):
        idx = rng.integers(0, a.shape[dim], (1030, 515))
        got = cgrad.tensor(a).gather(dim, cgrad.tensor(idx))
        np.testing.assert_array_equal(got.numpy(), take(a, dim, idx))


def test_gather_by_rows_of_non_contiguous_inputs_and_indices(threads):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((1100, 1300)).astype(np.float32)
    x = cgrad.tensor(a)
    idx = rng.integers(0, 500, (1200, 1050))
    i = cgrad.tensor(idx)
    at = a.T                                   # (1300, 1100)
    for dim in (0, 1):
        # a transposed input, a transposed index, a strided index
        np.testing.assert_array_equal(x.t().gather(dim, i.t()[:1000, :900]).numpy(),
                                      take(at, dim, idx.T[:1000, :900]))
        np.testing.assert_array_equal(x[::2, 1:].gather(dim, i[:500, ::3]).numpy(),
                                      take(a[::2, 1:], dim, idx[:500, ::3]))
    i32 = cgrad.tensor(idx[:1000, :1000].astype(np.int32))
    np.testing.assert_array_equal(x.gather(1, i32).numpy(), take(a, 1, idx[:1000, :1000]))


@pytest.mark.parametrize("shape", [(256, 256), (1025, 1025), (3, 400, 701)])
def test_gather_by_rows_reports_the_first_index_out_of_range(shape, threads):
    rng = np.random.default_rng(4)
    a = cgrad.tensor(rng.standard_normal(shape).astype(np.float32))
    last = len(shape) - 1
    idx = rng.integers(0, shape[last], shape)
    flat = idx.reshape(-1)
    flat[-3] = shape[last] + 5                 # in the last thread's rows
    flat[flat.size // 2 + 7] = -2              # the first one met in order
    with pytest.raises(RuntimeError, match=f"index -2 is out of bounds for dimension {last} with size {shape[last]}"):
        a.gather(last, cgrad.tensor(idx))
    flat[flat.size // 2 + 7] = 0
    with pytest.raises(RuntimeError, match=f"index {shape[last] + 5} is out of bounds for dimension {last}"):
        a.gather(last, cgrad.tensor(idx))


def test_gather_with_empty_rows():
    idx = cgrad.zeros((70000, 0), dtype=cgrad.int64)
    assert tuple(cgrad.ones(70000, 2).gather(1, idx).shape) == (70000, 0)
    idx = cgrad.zeros((0, 70000), dtype=cgrad.int64)
    assert tuple(cgrad.ones(3, 70000).gather(0, idx).shape) == (0, 70000)


@requires_torch
@pytest.mark.parametrize("shape", [(255, 257), (1025, 1023)])
def test_gather_by_rows_values_and_grads_like_torch(shape):
    rng = np.random.default_rng(5)
    a = rng.standard_normal(shape).astype(np.float32)
    for dim in (0, 1):
        idx = rng.integers(0, min(shape), (shape[0] - 1, shape[1] - 2))
        compare_with_torch(lambda lib, x, i: x.gather(dim, i), a, idx)
        compare_with_torch(lambda lib, x, i: x.t().gather(dim, i.t()), a, idx[: shape[1] - 2, : shape[0] - 1])
