"""Large buffers and the kernels that walk them: storage allocation (64-byte
alignment, buffers mapped from the kernel from 4 MiB on, zero fills skipped
only for fresh pages, the cache of freed buffers and its huge tier), fills
and pointwise work split over threads, casts, tiled transposing copies,
materialised expands, cat and stack. Each path is checked at sizes just
below, at and above its threshold, with odd sizes and non-contiguous
inputs, against numpy (and torch where it is installed). Sizes stay small
(a few MB): no timing is asserted."""
import numpy as np
import pytest

import cgrad
from cgrad import _C
from tests.helpers import requires_torch, torch

MIB = 1 << 20
LARGE = 1 << 17         # storage.pxi LARGE_BYTES: cached when freed
MAPPED = 4 * MIB        # alloc.h CGRAD_MAP_BYTES: mapped (2 MiB-aligned with THP_MEM_ALLOC_ENABLE=1), fresh pages known zero
SPLIT = 1 << 19         # kernels_iter.pxi: 2 x MIN_NUMEL_PER_THREAD elements go to two threads
TILE = 64               # kernels_iter.pxi TILE
TILED_MIN = 1 << 16     # kernels_iter.pxi TILED_MIN_NUMEL


def around(n):
    return [n - 1, n, n + 1]


@pytest.fixture
def small_cache():
    """A 2 MiB budget, so that the huge tier takes buffers of a few MB."""
    old = _C._cache_stats()["limit"]
    _C._empty_cache()
    _C._set_cache_limit(2 * MIB)
    yield
    _C._empty_cache()
    _C._set_cache_limit(old)


# --- allocation -----------------------------------------------------------------

@pytest.mark.parametrize("nbytes", around(LARGE) + around(MAPPED) + [MAPPED + 4 * 4099, 3 * MAPPED + 4])
def test_large_buffers_are_aligned(nbytes):
    t = cgrad.empty(nbytes // 4)
    assert t.data_ptr() % 64 == 0
    if nbytes // 4 * 4 >= MAPPED:
        assert t.data_ptr() % 4096 == 0


HUGE_PAGES_CHILD = """
import cgrad
n = (4 << 20) // 4 + 1027                       # mapped: past alloc.h's CGRAD_MAP_BYTES, odd
z = cgrad.zeros(n)                              # fresh pages: no zero fill
x = cgrad.arange(n, dtype=cgrad.float32)
y = (x * 2 + z)[1::3]
aligned = all(t.data_ptr() % (2 << 20) == 0 for t in (z, x))
print(int(aligned), repr(float(z.abs().sum())), repr(float(y[-1])), repr(float(y.sum())))
"""


@pytest.mark.parametrize("setting", [None, "0", "1", "true"])
def test_huge_pages_only_with_thp_mem_alloc_enable(setting):
    # PyTorch's CPU allocator advises huge pages (2 MiB-aligned buffers) only
    # when THP_MEM_ALLOC_ENABLE is "1"; the values never depend on it
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    if setting is not None:
        env["THP_MEM_ALLOC_ENABLE"] = setting
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", HUGE_PAGES_CHILD], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    n = (4 << 20) // 4 + 1027
    y = (cgrad.arange(n, dtype=cgrad.float32) * 2)[1::3]
    assert out[1:] == ["0.0", repr(float(y[-1])), repr(float(y.sum()))]
    if setting == "1":
        assert out[0] == "1"


@pytest.mark.parametrize("nbytes", around(LARGE) + around(MAPPED) + [2 * MAPPED + 12])
@pytest.mark.parametrize("factory", ["zeros", "zeros_like", "new_zeros", "zero_"])
def test_zero_fill_of_reused_buffers(nbytes, factory):
    # a buffer coming back from the cache holds the old values: only fresh
    # pages may skip the zero fill
    n = nbytes // 4
    for _ in range(3):
        junk = cgrad.full((n,), 7.5)
        del junk
        if factory == "zeros":
            z = cgrad.zeros(n)
        elif factory == "zeros_like":
            z = cgrad.zeros_like(cgrad.empty(n))
        elif factory == "new_zeros":
            z = cgrad.empty(1).new_zeros(n)
        else:
            z = cgrad.full((n,), 3.0).zero_()
        a = z.numpy()
        assert a.shape == (n,) and not a.any()


@pytest.mark.parametrize("dtype", ["float64", "int64", "bool", "float16", "int8"])
def test_zeros_of_each_dtype_after_reuse(dtype):
    dt = getattr(cgrad, dtype)
    n = (MAPPED + 3 * MIB) // cgrad.empty(0, dtype=dt).element_size()
    junk = cgrad.ones(n, dtype=dt)
    del junk
    z = cgrad.zeros(n, dtype=dt)
    assert z.dtype == dt and not z.numpy().any()
    o = cgrad.ones(n, dtype=dt)
    assert o.numpy().all()


def test_huge_tier_reuses_exact_sizes_and_empties_on_a_miss(small_cache):
    n = (MAPPED + 8 * 4096) // 4
    a = cgrad.full((n,), 1.0)
    ptr = a.data_ptr()
    del a
    stats = _C._cache_stats()
    assert stats["huge_buffers"] == 1 and stats["buffers"] == 0
    b = cgrad.zeros(n)                       # same size: the same buffer, zero-filled again
    assert b.data_ptr() == ptr and not b.numpy().any()
    assert _C._cache_stats()["huge_buffers"] == 0
    del b
    assert _C._cache_stats()["huge_buffers"] == 1
    _C._reset_peak()                         # the live peak is what is live now
    c = cgrad.ones(n + 4 * 65536)            # another size misses: holding both would pass the peak
    assert _C._cache_stats()["huge_buffers"] == 0
    assert c.numpy().all()
    del c
    _C._empty_cache()
    assert _C._cache_stats()["huge_buffers"] == 0


def held_and_bound(stats):
    """Memory held (live plus cached large buffers) and the most storage.pxi
    lets it be after a miss: twice the live peak, and at most the live peak
    plus the cache budget."""
    held = stats["live_bytes"] + stats["bytes"] + stats["huge_bytes"]
    return held, stats["live_peak"] + min(stats["live_peak"], stats["limit"])


def test_a_miss_frees_the_oldest_cached_buffers_down_to_the_bound():
    _C._empty_cache()
    try:
        step = 3 * MIB // 2
        bufs = [cgrad.empty(step // 4) for _ in range(8)]
        first = bufs[0].data_ptr()
        del bufs                                 # a list frees its items last to first: bufs[0]'s is the newest
        assert _C._cache_stats()["buffers"] == 8
        _C._reset_peak()
        live = _C._cache_stats()["live_bytes"]
        small = cgrad.empty(5 * MIB // 16)       # 1.25 MB misses with 12 MB cached
        stats = _C._cache_stats()
        held, bound = held_and_bound(stats)
        assert stats["live_peak"] == live + 5 * MIB // 4
        # as many of the oldest as it takes, and no more
        assert held <= bound < held + step or stats["buffers"] == 0
        kept = stats["buffers"]
        assert kept == max(0, min(8, (bound - live - 5 * MIB // 4) // step))
        if kept:
            again = cgrad.empty(step // 4)       # the newest cached buffer is still there
            assert again.data_ptr() == first
            del again
        del small
    finally:
        _C._empty_cache()


def test_memory_held_stays_within_the_bound():
    _C._empty_cache()
    _C._reset_peak()
    try:
        rng = np.random.default_rng(0)
        live = []
        for _ in range(200):
            if live and rng.random() < 0.45:
                live.pop(int(rng.integers(len(live))))
            else:
                live.append(cgrad.empty(int(rng.integers(LARGE // 4, 3 * LARGE))))
                stats = _C._cache_stats()
                held, bound = held_and_bound(stats)
                assert held <= bound or stats["buffers"] + stats["huge_buffers"] == 0
    finally:
        del live
        _C._empty_cache()


def test_a_loop_of_varying_sizes_stops_asking_the_system():
    # a training step's pattern: an activation, a large gradient that lives
    # until the next step's zero_grad, then a temporary of another size;
    # never all live at once, so freeing down to the live peak itself would
    # return a buffer to the kernel (and fault it in again) every iteration
    _C._empty_cache()
    _C._reset_peak()

    def step():
        act = cgrad.empty(LARGE // 4)
        grad = cgrad.empty(5 * MIB // 4)
        del act
        temp = cgrad.empty(2 * MIB // 4)
        del temp
        return grad
    try:
        grad = step()
        for _ in range(3):
            del grad
            grad = step()
        before = _C._cache_stats()["system_allocs"]
        for _ in range(5):
            del grad
            grad = step()
        assert _C._cache_stats()["system_allocs"] == before
        del grad
    finally:
        _C._empty_cache()


def test_huge_tier_holds_at_most_four(small_cache):
    n = MAPPED // 4
    ts = [cgrad.full((n,), float(i)) for i in range(6)]
    del ts
    assert _C._cache_stats()["huge_buffers"] == 4
    ts = [cgrad.zeros(n) for _ in range(4)]
    assert _C._cache_stats()["huge_buffers"] == 0
    assert all(not t.numpy().any() for t in ts)


def test_cache_off_frees_mapped_buffers():
    old = _C._cache_stats()["limit"]
    try:
        _C._set_cache_limit(0)
        for n in (MAPPED // 4, (MAPPED + MIB) // 4, LARGE // 4 + 1):
            t = cgrad.full((n,), 2.0)
            assert t.numpy().min() == 2.0
            del t
            assert not cgrad.zeros(n).numpy().any()
        assert _C._cache_stats()["buffers"] == 0 and _C._cache_stats()["huge_buffers"] == 0
    finally:
        _C._set_cache_limit(old)


# --- fills, pointwise forward and backward, casts: the thread split ---------------

@pytest.mark.parametrize("n", around(SPLIT) + [3 * SPLIT + 7])
def test_fills_across_the_thread_split(n):
    assert (cgrad.ones(n).numpy() == 1).all()
    assert (cgrad.full((n,), -2.5, dtype=cgrad.float64).numpy() == -2.5).all()
    assert (cgrad.empty(n).fill_(3).numpy() == 3).all()
    assert (cgrad.ones(n, dtype=cgrad.int64).numpy() == 1).all()


@pytest.mark.parametrize("n", around(SPLIT) + [2 * SPLIT + 13])
def test_pointwise_forward_backward_across_the_thread_split(n):
    rng = np.random.default_rng(n)
    xa = rng.standard_normal(n).astype(np.float32)
    ya = rng.standard_normal(n).astype(np.float32)
    x = cgrad.tensor(xa, requires_grad=True)
    y = cgrad.tensor(ya, requires_grad=True)
    out = (x * y).exp()
    e = out.detach().numpy()
    np.testing.assert_allclose(e, np.exp(xa * ya), rtol=1e-6)      # cgrad's exp, not numpy's
    np.testing.assert_array_equal(e[1::2], cgrad.tensor((xa * ya)[1::2]).exp().numpy())
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), e * ya)
    np.testing.assert_array_equal(y.grad.numpy(), e * xa)
    z = cgrad.tensor(xa, requires_grad=True)
    (z + z).sum().backward()
    assert (z.grad.numpy() == 2).all()


@pytest.mark.parametrize("n", around(SPLIT) + [SPLIT * 2 + 5])
def test_casts_across_the_thread_split(n):
    a = np.random.default_rng(1).standard_normal(n).astype(np.float32) * 1e3
    t = cgrad.tensor(a)
    np.testing.assert_array_equal(t.double().numpy(), a.astype(np.float64))
    np.testing.assert_array_equal(t.double().float().numpy(), a)
    np.testing.assert_array_equal(t.to(cgrad.int32).numpy(), a.astype(np.int32))
    np.testing.assert_array_equal(t.half().numpy(), a.astype(np.float16))


@pytest.mark.parametrize("nbytes", around(4 * MIB) + [8 * MIB + 12])
def test_clone_of_large_buffers(nbytes):
    a = np.arange(nbytes // 4, dtype=np.float32)
    t = cgrad.tensor(a)
    np.testing.assert_array_equal(t.clone().numpy(), a)
    # a permuted dense tensor keeps its layout under clone (one block copy)
    m = cgrad.tensor(a[: (nbytes // 4) // 4 * 4].reshape(-1, 4)).t()
    c = m.clone()
    assert c.stride() == m.stride()
    np.testing.assert_array_equal(c.numpy(), m.numpy())


# --- tiled transposing copies ----------------------------------------------------

SHAPES = [(TILE - 1, 1031), (TILE, 1024), (TILE + 1, 1025), (255, 257), (256, 256), (257, 255),
          (1000, 67), (67, 1000), (3, 5000), (5000, 3), (1, 70000)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int16, np.bool_])
def test_transpose_contiguous(shape, dtype):
    a = (np.arange(shape[0] * shape[1]) % 251).astype(dtype).reshape(shape)
    t = cgrad.tensor(a)
    tt = t.t().contiguous()
    assert tt.is_contiguous()
    np.testing.assert_array_equal(tt.numpy(), a.T)
    np.testing.assert_array_equal(t.t().reshape(-1).numpy(), a.T.reshape(-1))


@pytest.mark.parametrize("shape", [(TILE, TILE, 17), (5, 130, 131), (130, 3, 131), (129, 129, 5)])
@pytest.mark.parametrize("perm", [(1, 0, 2), (2, 0, 1), (0, 2, 1), (2, 1, 0), (1, 2, 0)])
def test_permute_contiguous(shape, perm):
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    t = cgrad.tensor(a).permute(*perm)
    np.testing.assert_array_equal(t.contiguous().numpy(), a.transpose(perm))


@pytest.mark.parametrize("shape", [(255, 257), (256, 256), (300, 1000)])
def test_transposed_operands_of_pointwise_ops(shape):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape[::-1]).astype(np.float32)
    ta, tb = cgrad.tensor(a), cgrad.tensor(b)
    np.testing.assert_array_equal((ta + tb.t()).numpy(), a + b.T)
    # the tiled walk gives exactly what the flat one gives on a contiguous copy
    np.testing.assert_array_equal(tb.t().exp().numpy(), cgrad.tensor(np.ascontiguousarray(b.T)).exp().numpy())
    np.testing.assert_array_equal(tb.t().double().numpy(), b.T.astype(np.float64))
    # a transposed destination
    dst = cgrad.zeros(shape[::-1])
    dst.t().copy_(ta)
    np.testing.assert_array_equal(dst.numpy(), a.T)


def test_transposed_gradient_flows():
    a = np.random.default_rng(3).standard_normal((300, 257))
    x = cgrad.tensor(a, requires_grad=True)
    w = cgrad.tensor(np.arange(300 * 257, dtype=np.float64).reshape(257, 300))
    (x.t().contiguous() * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy().T)


@requires_torch
@pytest.mark.parametrize("shape", [(255, 257), (512, 384)])
def test_reductions_of_transposed_input_match_torch(shape):
    a = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    for dim in (0, 1):
        c = cgrad.tensor(a).t().sum(dim).numpy()
        t = torch.tensor(a).t().sum(dim).numpy()
        np.testing.assert_allclose(c, t, rtol=1e-5, atol=1e-5)


# --- materialised expands, cat, stack -------------------------------------------

@pytest.mark.parametrize("rows,cols", [(1000, 517), (TILE, TILE), (3, 70001)])
def test_expand_contiguous(rows, cols):
    a = np.random.default_rng(5).standard_normal((rows, cols)).astype(np.float32)
    t = cgrad.tensor(a)
    np.testing.assert_array_equal(t[:, :1].expand(rows, cols).contiguous().numpy(),
                                  np.broadcast_to(a[:, :1], (rows, cols)))
    np.testing.assert_array_equal(t[:1].expand(rows, cols).contiguous().numpy(),
                                  np.broadcast_to(a[:1], (rows, cols)))
    np.testing.assert_array_equal(t[:, :1].expand(rows, cols).double().numpy(),
                                  np.broadcast_to(a[:, :1], (rows, cols)).astype(np.float64))


@pytest.mark.parametrize("rows,cols", [(511, 1025), (512, 1024), (700, 3)])
def test_cat_and_stack(rows, cols):
    rng = np.random.default_rng(6)
    a = rng.standard_normal((rows, cols)).astype(np.float32)
    b = rng.standard_normal((cols, rows)).astype(np.float32).T      # non-contiguous
    ta, tb = cgrad.tensor(a), cgrad.tensor(np.ascontiguousarray(b.T)).t()
    for dim in (0, 1):
        np.testing.assert_array_equal(cgrad.cat([ta, tb], dim).numpy(), np.concatenate([a, b], dim))
    for dim in (0, 1, 2):
        np.testing.assert_array_equal(cgrad.stack([ta, tb], dim).numpy(), np.stack([a, b], dim))
    np.testing.assert_array_equal(cgrad.cat([ta, tb.double()], 1).numpy(),
                                  np.concatenate([a.astype(np.float64), b.astype(np.float64)], 1))


@requires_torch
def test_large_ops_match_torch():
    a = np.random.default_rng(7).standard_normal((333, 1031)).astype(np.float32)
    for fn in (lambda L, x: x.t().contiguous(), lambda L, x: L.cat([x, x.t().t()], 1),
               lambda L, x: L.stack([x, x], 1), lambda L, x: x[:, :1].expand(333, 1031).contiguous(),
               lambda L, x: x.view(333, 1031, 1).permute(2, 1, 0).contiguous(),
               lambda L, x: (x * 2).double().float()):
        np.testing.assert_array_equal(fn(cgrad, cgrad.tensor(a)).numpy(), fn(torch, torch.tensor(a)).numpy())


def test_a_miss_bigger_than_the_budget_keeps_no_cached_buffer_beside_it(small_cache):
    # a budget of 2 MiB, 3 MiB live: a 1.5 MiB buffer is cached in the ordinary tier
    live = cgrad.empty(3 * MIB // 4)
    cached = cgrad.empty(3 * MIB // 8)
    del cached
    assert _C._cache_stats()["buffers"] == 1
    _C._reset_peak()
    small = cgrad.empty(5 * MIB // 16)        # 1.25 MiB (within the budget) misses: the slack keeps it
    assert _C._cache_stats()["buffers"] == 1
    del small
    _C._empty_cache()
    cached = cgrad.empty(3 * MIB // 8)
    del cached
    _C._reset_peak()
    big = cgrad.full((3 * MIB // 4 + 16384,), 2.0)   # bigger than the budget: down to the live peak
    stats = _C._cache_stats()
    assert stats["buffers"] == 0 and stats["huge_buffers"] == 0
    assert stats["live_bytes"] + stats["bytes"] + stats["huge_bytes"] <= stats["live_peak"]
    assert (big.numpy() == 2).all() and tuple(live.shape) == (3 * MIB // 4,)


@pytest.mark.parametrize("n", [(1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 5])
def test_large_randint_draws_the_same_values_chunked(n):
    # int64 results past 2**20 elements are drawn a chunk at a time straight
    # into the tensor; other dtypes are drawn in one call and cast: the same draws
    for low, high in ((0, 10), (-5, 1 << 40), (0, 8192 * 8192)):
        a = cgrad.randint(low, high, (n,), generator=cgrad.Generator().manual_seed(3))
        b = cgrad.randint(low, high, (n,), generator=cgrad.Generator().manual_seed(3), dtype=cgrad.float64)
        assert a.dtype == cgrad.int64
        np.testing.assert_array_equal(a.numpy().astype(np.float64), b.numpy())
        assert a.numpy().min() >= low and a.numpy().max() < high
    m = cgrad.randint(0, 7, (3, n // 3 + 1), generator=cgrad.Generator().manual_seed(4))
    v = cgrad.randint(0, 7, (3 * (n // 3 + 1),), generator=cgrad.Generator().manual_seed(4))
    np.testing.assert_array_equal(m.numpy().reshape(-1), v.numpy())
    # random_ of a strided view: the same draws, written through the view
    strided = cgrad.zeros(2 * n, dtype=cgrad.int64)[::2].random_(0, 7, generator=cgrad.Generator().manual_seed(4))
    want = cgrad.randint(0, 7, (n,), generator=cgrad.Generator().manual_seed(4))
    np.testing.assert_array_equal(strided.numpy(), want.numpy())
