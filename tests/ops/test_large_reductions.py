"""The large-tensor paths of reductions, softmax, cumsum and gathers
(src/cgrad/reduce_threads.pxi and the files it names, gather_threads.pxi):
sizes just below, at and above each threshold (the blocked path at 2**16
elements, two threads at 2 * 2**18), odd sizes and thread counts, keepdim
and non-contiguous inputs, against torch and, without it, against numpy in
float64 / math.fsum."""
import math

import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, requires_torch, threads_fixture, torch

BLOCK = 1 << 16            # reduce_threads.pxi LARGE_REDUCE_NUMEL, gather_threads.pxi GATHER_THREADS_NUMEL
TWO_THREADS = 2 << 18      # kernels_iter.pxi: threads_for gives 2 threads from here

# 2-d shapes around each threshold, odd ones among them
SHAPES = [(256, 255), (256, 256), (257, 256), (1024, 511), (1024, 512), (1025, 513), (3, 174763)]


threads = threads_fixture(None, 3)


def rand(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------
# sum and mean

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dim", [0, 1, None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_mean_against_float64(shape, dim, dtype, threads):
    a = rand(shape, dtype)
    x = cgrad.tensor(a)
    ref = a.astype(np.float64).sum(axis=dim)
    got = x.sum() if dim is None else x.sum(dim)
    assert got.dtype == x.dtype and tuple(got.shape) == ref.shape
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got.numpy(), ref, rtol=tol, atol=tol * math.sqrt(a.size))
    got = x.mean() if dim is None else x.mean(dim, keepdim=True)
    np.testing.assert_allclose(got.numpy().reshape(np.shape(ref)), ref / (a.size // max(np.size(ref), 1)),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("n", [BLOCK - 1, BLOCK, BLOCK + 1, TWO_THREADS - 1, TWO_THREADS, TWO_THREADS + 4097])
def test_full_sum_of_a_vector_is_float64_accurate(n, threads):
    a = (rand(n) + 3).astype(np.float32)         # all positive: errors would accumulate
    exact = math.fsum(a.astype(np.float64))
    got = float(cgrad.tensor(a).sum())
    assert got == np.float32(exact)               # the exact sum, rounded once


@pytest.mark.parametrize("shape,dims", [((3, 700, 257), 1), ((5, 40000, 3), 1), ((20, 30000, 2), 1),
                                        ((2, 3, 100000), (1, 2)), ((100000, 7), 0), ((7, 100001), 1)])
def test_sum_3d_split_modes(shape, dims, threads):
    a = rand(shape)
    got = cgrad.tensor(a).sum(dims)
    np.testing.assert_allclose(got.numpy(), a.astype(np.float64).sum(axis=dims), rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("shape", [(256, 256), (1025, 513)])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), ((0, 1), False), (-1, False)])
def test_sum_mean_values_and_grads_like_torch(shape, dim, keepdim):
    a = rand(shape)
    # torch sums float32 in float32 (cascade): its own rounding is ~1e-7 of sqrt(n) terms
    compare_with_torch(lambda lib, x: x.sum(dim, keepdim=keepdim), a, rtol=1e-6, atol=2e-5)
    compare_with_torch(lambda lib, x: x.mean(dim, keepdim=keepdim), a, rtol=1e-6, atol=1e-7)


def test_sum_non_contiguous_half_int_and_dtype_arg():
    a = rand((600, 300))
    compare_with_torch(lambda lib, x: x.t().sum(0), a, rtol=1e-6, atol=2e-5)
    compare_with_torch(lambda lib, x: x[:, ::2].sum(1), a, rtol=1e-6, atol=2e-5)
    compare_with_torch(lambda lib, x: x.sum(0, dtype=lib.float64), a, rtol=1e-12)
    h = rand((600, 300), np.float16)
    compare_with_torch(lambda lib, x: x.sum(1), h, requires_grad=False, rtol=2e-3, atol=1e-2)
    for dt in (np.int32, np.int64, np.uint8, np.bool_):
        i = (rand((600, 300)) * 50).astype(dt)
        compare_with_torch(lambda lib, x: (x.sum(0), x.sum(1), x.sum()), i, requires_grad=False)


# ---------------------------------------------------------------------------
# amax/amin, max(dim), var/std, logsumexp

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dim", [0, 1, None])
def test_select_reductions_against_numpy(shape, dim, threads):
    a = rand(shape, seed=1)
    x = cgrad.tensor(a)
    a64 = a.astype(np.float64)
    axis = dim
    np.testing.assert_array_equal(x.amax(dim if dim is not None else ()).numpy(), a.max(axis=axis))
    np.testing.assert_array_equal(x.amin(dim if dim is not None else ()).numpy(), a.min(axis=axis))
    kw = {} if dim is None else {"dim": dim}
    np.testing.assert_allclose(x.var(**kw).numpy(), a64.var(axis=axis, ddof=1), rtol=2e-6)
    np.testing.assert_allclose(x.std(**kw).numpy(), a64.std(axis=axis, ddof=1), rtol=2e-6)
    lse_dim = dim if dim is not None else (0, 1)
    m = a64.max(axis=axis, keepdims=True)
    ref = np.log(np.exp(a64 - m).sum(axis=axis)) + m.squeeze() if dim is not None else \
        np.log(np.exp(a64 - m).sum()) + m.item()
    # float32 exponentials: an absolute error where the result is near 0
    np.testing.assert_allclose(x.logsumexp(lse_dim).numpy(), ref, rtol=2e-6, atol=2e-7)
    if dim is not None:
        v, i = x.max(dim)
        np.testing.assert_array_equal(v.numpy(), a.max(axis=dim))
        np.testing.assert_array_equal(i.numpy(), a.argmax(axis=dim))


@pytest.mark.parametrize("n", [TWO_THREADS - 1, TWO_THREADS, TWO_THREADS + 12345])
def test_vector_reductions_nan_inf_and_ints(n, threads):
    a = rand(n, np.float64, seed=2)
    x = cgrad.tensor(a)
    assert float(x.amax()) == a.max() and float(x.amin()) == a.min()
    np.testing.assert_allclose(float(x.var()), a.var(ddof=1), rtol=1e-12)
    np.testing.assert_allclose(float(x.var(correction=0)), a.var(), rtol=1e-12)
    np.testing.assert_allclose(float(x.logsumexp(0)), np.logaddexp.reduce(a), rtol=1e-12)
    b = a.copy()
    b[n - 3] = np.nan                              # in the last thread's slice
    assert math.isnan(float(cgrad.tensor(b).amax())) and math.isnan(float(cgrad.tensor(b).amin()))
    assert math.isnan(float(cgrad.tensor(b).logsumexp(0)))
    b = a.copy()
    b[7] = np.inf
    assert float(cgrad.tensor(b).amax()) == np.inf and float(cgrad.tensor(b).logsumexp(0)) == np.inf
    for dt in (np.int8, np.int16, np.int32, np.int64, np.uint8):
        i = (a * 40).astype(dt)
        assert int(cgrad.tensor(i).amax()) == i.max() and int(cgrad.tensor(i).amin()) == i.min()


@pytest.mark.parametrize("shape", [(256, 256), (1025, 513)])
@pytest.mark.parametrize("dim", [0, 1])
def test_select_reductions_values_and_grads_like_torch(shape, dim):
    a = rand(shape, seed=3)
    compare_with_torch(lambda lib, x: x.amax(dim, keepdim=True), a)
    compare_with_torch(lambda lib, x: x.var(dim), a, rtol=1e-5)
    compare_with_torch(lambda lib, x: x.std(dim, keepdim=True), a, rtol=1e-5)
    compare_with_torch(lambda lib, x: x.logsumexp(dim), a, rtol=1e-5)
    compare_with_torch(lambda lib, x: x.max(dim), a)
    compare_with_torch(lambda lib, x: x.t().amin(dim), a)
    compare_with_torch(lambda lib, x: x.to(lib.float16).amax(dim), a, requires_grad=False)


# ---------------------------------------------------------------------------
# softmax and log_softmax

def softmax_ref(a, axis):
    a = a.astype(np.float64)
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape", SHAPES + [(3, 401, 700)])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_against_float64(shape, dim, threads):
    a = rand(shape, seed=4)
    x = cgrad.tensor(a)
    ref = softmax_ref(a, dim)
    np.testing.assert_allclose(x.softmax(dim).numpy(), ref, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(x.log_softmax(dim).numpy(), np.log(ref), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(cgrad.tensor(a.astype(np.float64)).softmax(dim).numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize("shape", [(256, 256), (1025, 513), (3, 401, 700)])
@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_values_and_grads_like_torch(shape, dim):
    a = rand(shape, seed=5)
    # the gradients cancel (g - sum(g * y)): float32 roundings of ~1e-7 remain
    compare_with_torch(lambda lib, x: lib.softmax(x, dim), a, atol=1e-6)
    compare_with_torch(lambda lib, x: lib.log_softmax(x, dim), a, atol=1e-5)
    compare_with_torch(lambda lib, x: x.transpose(-1, -2).softmax(dim), a, atol=1e-6)
    compare_with_torch(lambda lib, x: x.softmax(dim), a.astype(np.float64), rtol=1e-12, atol=1e-14)
    compare_with_torch(lambda lib, x: x.to(lib.float16).softmax(dim), a, requires_grad=False, atol=1e-3)


# ---------------------------------------------------------------------------
# cumsum

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_cumsum_float32_is_the_float64_running_sum_rounded(shape, dim, threads):
    a = (rand(shape, seed=6) + 2).astype(np.float32)
    got = cgrad.tensor(a).cumsum(dim).numpy()
    # a running sum in float64 then rounded once: what PyTorch's CPU kernel does
    np.testing.assert_array_equal(got, np.cumsum(a.astype(np.float64), axis=dim).astype(np.float32))
    got = cgrad.tensor(a.astype(np.float64)).cumsum(dim).numpy()
    np.testing.assert_array_equal(got, np.cumsum(a.astype(np.float64), axis=dim))
    i = (a * 10).astype(np.int32)
    got = cgrad.tensor(i).cumsum(dim)
    assert got.dtype == cgrad.int64
    np.testing.assert_array_equal(got.numpy(), np.cumsum(i.astype(np.int64), axis=dim))


CUMSUM_BLOCK = 64          # cumsum_threads.pxi CG_CUMSUM_BLOCK: rows go this many elements at a time


@pytest.mark.parametrize("n", [1, CUMSUM_BLOCK - 1, CUMSUM_BLOCK, CUMSUM_BLOCK + 1, 2 * CUMSUM_BLOCK + 3,
                               1024, 4099])
@pytest.mark.parametrize("rows", [1, 3, 4, 5, 7, 9])
def test_cumsum_rows_by_blocks_same_bits(n, rows, threads):
    # blocks of CG_CUMSUM_BLOCK, four rows side by side, then the rows left
    # over: each row's running sum is the one-element-at-a-time float64 sum,
    # rounded once (1024 float32: a row stride of 4 KiB); also in place and
    # from a transposed (copied) input
    a = (rand((rows, n), seed=14) * 100 + 3).astype(np.float32)
    want = np.cumsum(a.astype(np.float64), axis=1)
    np.testing.assert_array_equal(cgrad.tensor(a).cumsum(1).numpy(), want.astype(np.float32))
    np.testing.assert_array_equal(cgrad.tensor(a.astype(np.float64)).cumsum(1).numpy(), want)
    x = cgrad.tensor(a)
    x.cumsum_(1)
    np.testing.assert_array_equal(x.numpy(), want.astype(np.float32))
    np.testing.assert_array_equal(cgrad.tensor(np.ascontiguousarray(a.T)).t().cumsum(1).numpy(),
                                  want.astype(np.float32))
    if torch is not None:
        np.testing.assert_array_equal(cgrad.tensor(a).cumsum(1).numpy(), torch.tensor(a).cumsum(1).numpy())


def test_cumsum_float32_accuracy_of_a_long_vector():
    a = np.random.default_rng(7).random(1 << 20).astype(np.float32)
    got = cgrad.tensor(a).cumsum(0).numpy().astype(np.float64)
    exact = np.cumsum(a.astype(np.float64))
    assert abs(got[-1] - exact[-1]) / exact[-1] < 1e-7       # float accumulation: ~1e-5


@pytest.mark.parametrize("n", [4_000_000, 4_000_001])
def test_cumsum_float32_of_4m_elements_accumulates_in_float64(n):
    # PyTorch's CPU cumsum runs a float64 sum for float32 (acc_type); a float32
    # running sum ends ~1.6e-5 off here
    a = np.random.default_rng(13).random(n).astype(np.float32)
    exact = np.cumsum(a.astype(np.float64))
    got = cgrad.tensor(a).cumsum(0).numpy()
    np.testing.assert_array_equal(got, exact.astype(np.float32))      # the float64 running sum, rounded
    rel = np.abs(got.astype(np.float64) - exact) / exact
    assert rel[-1] < 1e-7 and rel.max() < 1e-7
    strided = cgrad.tensor(np.repeat(a, 2))[::2]                        # non-contiguous: copied first
    np.testing.assert_array_equal(strided.cumsum(0).numpy(), got)
    if torch is not None:
        np.testing.assert_array_equal(got, torch.tensor(a).cumsum(0).numpy())


@pytest.mark.parametrize("shape", [(256, 256), (1025, 513), (3, 401, 700)])
@pytest.mark.parametrize("dim", [0, 1])
def test_cumsum_values_and_grads_like_torch(shape, dim):
    a = rand(shape, seed=8)
    compare_with_torch(lambda lib, x: x.cumsum(dim), a, rtol=0, atol=0)
    compare_with_torch(lambda lib, x: x.transpose(-1, -2).cumsum(dim), a, rtol=0, atol=0)
    compare_with_torch(lambda lib, x: x.cumsum(dim), a.astype(np.float64), rtol=0, atol=0)
    compare_with_torch(lambda lib, x: x.to(lib.float16).cumsum(dim), a, requires_grad=False, rtol=0, atol=0)


# ---------------------------------------------------------------------------
# gathers

@pytest.mark.parametrize("n", [BLOCK - 1, BLOCK, BLOCK + 1, TWO_THREADS + 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.bool_,
                                   np.uint8])
def test_flat_gathers_against_numpy(n, dtype, threads):
    rng = np.random.default_rng(9)
    a = (rng.standard_normal(50_001) * 100).astype(dtype)
    idx = rng.integers(-50_001, 50_001, n)
    x = cgrad.tensor(a)
    i = cgrad.tensor(idx)
    np.testing.assert_array_equal(x[i].numpy(), a[idx])
    pos = idx % 50_001
    np.testing.assert_array_equal(x.index_select(0, cgrad.tensor(pos)).numpy(), a[pos])
    np.testing.assert_array_equal(x.gather(0, cgrad.tensor(pos)).numpy(), a[pos])
    np.testing.assert_array_equal(x[::2][cgrad.tensor(pos // 2)].numpy(), a[::2][pos // 2])
    np.testing.assert_array_equal(x[cgrad.tensor(idx)[::2]].numpy(), a[idx[::2]])


@pytest.mark.parametrize("n", [BLOCK - 1, BLOCK + 1, TWO_THREADS + 3])
def test_flat_gather_out_of_range_reports_the_first(n, threads):
    a = cgrad.arange(1000.0)
    idx = np.random.default_rng(10).integers(0, 1000, n)
    idx[n - 2] = 5000                               # in the last thread's slice
    idx[n // 2 + 1] = -1001
    with pytest.raises(IndexError, match="index -1001 is out of bounds for dimension 0 with size 1000"):
        a[cgrad.tensor(idx)]
    idx[n // 2 + 1] = -1
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 1000"):
        a.gather(0, cgrad.tensor(idx))


@pytest.mark.parametrize("shape", [(300, 218), (300, 219), (1025, 513)])
def test_gather_2d_against_numpy(shape, threads):
    rng = np.random.default_rng(11)
    a = rng.standard_normal(shape).astype(np.float32)
    for dim in (0, 1):
        idx = rng.integers(0, shape[dim], shape)
        np.testing.assert_array_equal(cgrad.tensor(a).gather(dim, cgrad.tensor(idx)).numpy(),
                                      np.take_along_axis(a, idx, dim))


@requires_torch
@pytest.mark.parametrize("n", [BLOCK - 1, BLOCK + 1, TWO_THREADS + 3])
def test_gathers_values_and_grads_like_torch(n):
    rng = np.random.default_rng(12)
    a = rng.standard_normal((300, 401)).astype(np.float32)
    idx = rng.integers(-300 * 401, 300 * 401, n)
    pos = idx % (300 * 401)
    compare_with_torch(lambda lib, x, i: x.flatten()[i], a, idx)
    compare_with_torch(lambda lib, x, i: x.flatten().index_select(0, i), a, pos)
    compare_with_torch(lambda lib, x, i: x.flatten().gather(0, i), a, pos)
    bad = idx.copy()
    bad[-5] = 300 * 401
    for lib in (cgrad, torch):
        with pytest.raises(IndexError) as err:
            lib.tensor(a).flatten()[lib.tensor(bad)]
        assert "out of bounds for dimension 0 with size 120300" in str(err.value)
