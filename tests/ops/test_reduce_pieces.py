"""Large sum/mean and full vector reductions cut into pieces that threads
take as they come free (reduce_threads.pxi run_pieces): the result must not
depend on which thread ran which piece (repeated calls give the same bits),
rows reduced whole give the same bits for any number of threads, and values
stay float64-accurate for sizes around the thresholds (one piece, a few,
more pieces than rows), odd sizes, narrow trailing dims and non-contiguous
inputs."""
import math

import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, requires_torch

BLOCK = 1 << 16            # reduce_threads.pxi LARGE_REDUCE_NUMEL
TWO_THREADS = 2 << 18      # kernels_iter.pxi: threads_for gives 2 threads from here
PIECES_PER_THREAD = 8      # reduce_threads.pxi


@pytest.fixture
def restore_threads():
    old = cgrad.get_num_threads()
    yield
    cgrad.set_num_threads(old)


def rand(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("shape,dim", [((TWO_THREADS + 4099,), None), ((5, TWO_THREADS // 5 + 3), 1),
                                       ((TWO_THREADS // 3 + 1, 3), 0), ((7, 31, 4099), (0, 1)),
                                       ((2 * PIECES_PER_THREAD - 1, 65537), 1)])
@pytest.mark.parametrize("op", ["sum", "mean", "var", "amax", "logsumexp"])
def test_repeated_calls_give_the_same_bits(shape, dim, op, restore_threads):
    if op in ("amax", "logsumexp") and dim is None:
        dim = 0
    a = rand(shape)
    x = cgrad.from_numpy(a)
    for nthreads in (2, 3):
        cgrad.set_num_threads(nthreads)
        kw = {} if dim is None else {"dim": dim}
        first = getattr(x, op)(**kw).numpy()
        for _ in range(4):
            again = getattr(x, op)(**kw).numpy()
            assert np.array_equal(first.view(np.uint32), again.view(np.uint32))


@pytest.mark.parametrize("shape", [(8192, 129), (17, 65537), (TWO_THREADS // 64, 64)])
def test_row_sums_do_not_depend_on_the_thread_count(shape, restore_threads):
    a = rand(shape, seed=1)
    x = cgrad.from_numpy(a)
    results = []
    for nthreads in (1, 2, 3, 8):
        cgrad.set_num_threads(nthreads)
        results.append(x.sum(1).numpy())
        results.append(x.mean(1).numpy())
    for k in range(0, len(results), 2):
        assert np.array_equal(results[k].view(np.uint32), results[0].view(np.uint32))
        assert np.array_equal(results[k + 1].view(np.uint32), results[1].view(np.uint32))


@pytest.mark.parametrize("n", [BLOCK - 1, BLOCK, TWO_THREADS - 1, TWO_THREADS, TWO_THREADS + 1,
                               PIECES_PER_THREAD * TWO_THREADS + 12345])
@pytest.mark.parametrize("nthreads", [2, 3, 8])
def test_vector_sum_mean_var_are_float64_accurate(n, nthreads, restore_threads):
    cgrad.set_num_threads(nthreads)
    a = rand(n, seed=2) + 1
    x = cgrad.from_numpy(a)
    exact = math.fsum(a.astype(np.float64))
    assert abs(float(x.sum()) - exact) <= 1e-7 * abs(exact) + 1e-6
    assert abs(float(x.mean()) - exact / n) <= 1e-7 * abs(exact / n)
    np.testing.assert_allclose(float(x.var()), a.astype(np.float64).var(ddof=1), rtol=1e-6)
    x64 = cgrad.from_numpy(a.astype(np.float64))
    np.testing.assert_allclose(float(x64.sum()), exact, rtol=1e-14)


@pytest.mark.parametrize("shape,dim", [((TWO_THREADS // 5 + 1, 5), 0), ((3, TWO_THREADS // 3 + 7), 1),
                                       ((9, 4097, 33), 1), ((2049, 1023), 1)])
def test_split_sums_against_float64(shape, dim, restore_threads):
    a = rand(shape, seed=3)
    for nthreads in (2, 3):
        cgrad.set_num_threads(nthreads)
        got = cgrad.from_numpy(a).sum(dim).numpy()
        ref = a.astype(np.float64).sum(axis=dim)
        np.testing.assert_allclose(got, ref, rtol=2e-6, atol=2e-5)


def test_non_contiguous_input(restore_threads):
    a = rand((1024, 2050), seed=4)
    x = cgrad.from_numpy(a)[:, 1:2049:2]
    cgrad.set_num_threads(3)
    np.testing.assert_allclose(x.sum(1).numpy(), a[:, 1:2049:2].astype(np.float64).sum(1), rtol=2e-6, atol=2e-5)
    np.testing.assert_allclose(x.t().mean(0).numpy(), a[:, 1:2049:2].astype(np.float64).mean(1), rtol=2e-6,
                               atol=2e-6)


@requires_torch
@pytest.mark.parametrize("shape,dim", [((TWO_THREADS + 3,), None), ((1025, 1024), 1), ((1024, 1025), 0)])
def test_values_and_grads_like_torch(shape, dim):
    a = rand(shape, seed=5)
    kw = {} if dim is None else {"dim": dim}
    # torch sums float32 in float32 (cascade): a few float32 ulps of the
    # sum's magnitude from cgrad's float64 sums rounded once
    compare_with_torch(lambda lib, x: x.sum(**kw), a, rtol=2e-6, atol=1e-4 if dim is not None else 2e-3)
    compare_with_torch(lambda lib, x: x.mean(**kw), a, rtol=2e-6)
