"""Reductions over the last dim of a large matrix and cumsum of rows
handed to the threads in pieces (reduce_block_threads.pxi,
cumsum_threads.pxi: run_pieces for rows), softmax of rows (static shares),
and the row kernels' software prefetch (reduce_rows.h): each output is
still computed by one thread in one order, so the results are the same
bits whatever the thread count, and they match torch / float64. Sizes just below, at and above
the blocked path (2**16 elements) and the two-thread threshold (2 * 2**18),
odd sizes, rows shorter and longer than the prefetch distance, fewer rows
than pieces, non-contiguous inputs."""
import math

import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, requires_torch, torch

BLOCK = 1 << 16            # reduce_threads.pxi LARGE_REDUCE_NUMEL
TWO_THREADS = 2 << 18      # kernels_iter.pxi: threads_for gives 2 threads from here

# (rows, cols): around each threshold, odd sizes, rows of 1 to a few
# thousand elements (the prefetch reads 4 KiB ahead), fewer rows than the
# 16 pieces of two threads, and many rows
SHAPES = [(256, 255), (256, 256), (257, 256), (512, 1023), (512, 1024), (513, 1025),
          (7, 150001), (33, 31777), (4099, 257), (3, 174763)]


def rand(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.fixture
def restore_threads():
    old = cgrad.get_num_threads()
    yield
    cgrad.set_num_threads(old)


def bits(t):
    return t.numpy().tobytes()


ROW_OPS = {
    "amax": lambda x: x.amax(1),
    "amin": lambda x: x.amin(1),
    "logsumexp": lambda x: x.logsumexp(1),
    "var": lambda x: x.var(1),
    "std": lambda x: x.std(1, correction=0),
    "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(1),
    "cumsum": lambda x: x.cumsum(1),
    "sum": lambda x: x.sum(1),
    "mean": lambda x: x.mean(1),
}


# With fewer than 4 rows per thread a sum splits each row's elements
# (SPLIT_N) and groups its partial sums by the thread count: those are
# tests/ops/test_reduce_pieces.py's (float64 accuracy), not bitwise here.
SAME_BITS = [(shape, op) for shape in SHAPES for op in sorted(ROW_OPS)
             if not (op in ("sum", "mean") and shape[0] < 4 * 5)]


@pytest.mark.parametrize("shape,op", SAME_BITS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_are_the_same_bits_on_any_thread_count(shape, op, dtype, restore_threads):
    x = cgrad.tensor(rand(shape, dtype))
    fn = ROW_OPS[op]
    cgrad.set_num_threads(1)
    one = bits(fn(x))
    for n in (2, 3, 5):
        cgrad.set_num_threads(n)
        assert bits(fn(x)) == one, f"{op} differs on {n} threads"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_extremes_and_logsumexp_against_numpy(shape, dtype):
    a = rand(shape, dtype, seed=1)
    x = cgrad.tensor(a)
    np.testing.assert_array_equal(x.amax(1).numpy(), a.max(1))
    np.testing.assert_array_equal(x.amin(1).numpy(), a.min(1))
    d = a.astype(np.float64)
    m = d.max(1, keepdims=True)
    ref = (np.log(np.exp(d - m).sum(1)) + m[:, 0])
    tol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(x.logsumexp(1).numpy(), ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(x.var(1).numpy(), d.var(1, ddof=1), rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("shape", [(256, 256), (513, 1025), (7, 150001)])
def test_row_sums_are_the_exact_sum_rounded(shape):
    a = (rand(shape) + 3).astype(np.float32)
    got = cgrad.tensor(a).sum(1).numpy()
    exact = np.array([math.fsum(r) for r in a.astype(np.float64)], dtype=np.float32)
    np.testing.assert_array_equal(got, exact)


@pytest.mark.parametrize("shape", [(512, 1024), (7, 150001)])
def test_softmax_and_cumsum_rows_against_float64(shape):
    a = rand(shape, seed=2)
    x = cgrad.tensor(a)
    d = a.astype(np.float64)
    e = np.exp(d - d.max(1, keepdims=True))
    np.testing.assert_allclose(x.softmax(1).numpy(), e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(x.log_softmax(1).numpy(), np.log(e / e.sum(1, keepdims=True)),
                               rtol=1e-5, atol=1e-5)
    # float32 cumsum accumulates in float64: the float64 running sum, rounded once
    np.testing.assert_array_equal(x.cumsum(1).numpy(), np.cumsum(d, axis=1).astype(np.float32))


VIEWS = {
    "column-slice": (lambda a: a[:, 5:1200], lambda t: t[:, 5:1200]),
    "every-other-row": (lambda a: a[::2], lambda t: t[::2]),
    "transposed": (lambda a: a.T, lambda t: t.t()),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("op", ["amax", "logsumexp", "softmax", "cumsum", "var", "sum"])
def test_non_contiguous_rows(op, view, restore_threads):
    base = rand((1100, 1300), seed=3)
    np_view, cg_view = VIEWS[view]
    fn = ROW_OPS[op]
    xv = cg_view(cgrad.tensor(base))
    assert not xv.is_contiguous()
    x = cgrad.tensor(np.ascontiguousarray(np_view(base)))
    cgrad.set_num_threads(1)
    one = fn(xv)
    cgrad.set_num_threads(2)
    assert bits(fn(xv)) == bits(one)
    # a non-contiguous input may take another kernel (another summation
    # order) than its contiguous copy: the same values to float32 rounding
    np.testing.assert_allclose(one.numpy(), fn(x).numpy(), rtol=2e-6, atol=2e-6)


@requires_torch
@pytest.mark.parametrize("shape", [(257, 256), (7, 150001)])
@pytest.mark.parametrize("op", ["amax", "logsumexp", "softmax", "log_softmax", "cumsum", "var"])
def test_row_values_and_grads_like_torch(shape, op):
    a = rand(shape, seed=4)
    fn = ROW_OPS[op]
    compare_with_torch(lambda lib, x: fn(x), a, rtol=2e-5, atol=2e-5)
