"""expf_avx512.h: float32 exp over contiguous rows with AVX-512 and FMA, used
by the exp row (vec_rows.h) and by logsumexp's exponentials (reduce_rows.h)
where the CPU has them. It must give vecmath.h's vm_expf bits for every
input (bench/check_expf_bits.c checks all 2^32 in C): here the contiguous
path against the strided one (the op table's inline vm_expf loop) on a
dense sweep of float32 bit patterns, on 16-lane blocks that mix in-range
and out-of-range lanes (those blocks go to vm_expf), at sizes around the
16-lane block and the row-kernel threshold, in place; and logsumexp of rows
and of columns bit for bit against its summation order rebuilt in numpy
from the strided exponentials."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, threads_fixture, torch

VEC_ROWS_MIN = 256          # vec_rows.h CG_VEC_ROWS_MIN
LARGE_REDUCE_NUMEL = 1 << 16  # reduce_threads.pxi: logsumexp's row kernels from here
EXP_CHUNK = 256             # reduce_rows.h CG_EXP_CHUNK
RR_LANES = 32               # reduce_rows.h CG_RR_LANES
SUM_BLOCK = 4096            # reduce_rows.h CG_SUM_BLOCK: the vector's slices are multiples of it
MIN_NUMEL_PER_THREAD = 1 << 18   # kernels_iter.pxi threads_for
PIECES_PER_THREAD, MAX_PIECES = 8, 64  # reduce_threads.pxi

threads = threads_fixture(2, 3)


def strided(arr):
    """The same values as a non-contiguous view: the inline vm_expf loop."""
    wide = np.zeros(2 * arr.size, arr.dtype)
    wide[::2] = arr
    return cgrad.from_numpy(wide)[::2]


def vm_expf(arr):
    return cgrad.exp(strided(np.ascontiguousarray(arr, np.float32).ravel())).numpy().reshape(np.shape(arr))


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    bad = np.flatnonzero(a.view(np.uint32).ravel() != b.view(np.uint32).ravel())
    assert bad.size == 0, (bad[:10], a.ravel()[bad[:10]], b.ravel()[bad[:10]])


def test_dense_sweep_of_bit_patterns():
    # every 1021st float32 bit pattern: all exponents, both signs, NaNs,
    # infinities and denormals (4.2 million inputs)
    bits = np.arange(0, 1 << 32, 1021, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    same_bits(cgrad.exp(cgrad.from_numpy(x.copy())).numpy(), vm_expf(x))


def test_dense_sweep_of_the_fast_range():
    # [-87, 88], where blocks take the fused path: 8 million consecutive-ish patterns
    lo, hi = np.float32(-87.0).view(np.uint32), np.float32(88.0).view(np.uint32)
    neg = np.arange(np.uint32(0x80000000), lo, 517, dtype=np.uint64).astype(np.uint32)
    pos = np.arange(0, hi, 263, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([neg, pos]).view(np.float32)
    np.random.default_rng(0).shuffle(x)
    same_bits(cgrad.exp(cgrad.from_numpy(x.copy())).numpy(), vm_expf(x))


@pytest.mark.parametrize("lane", [0, 7, 8, 15])
@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf, 88.5, -87.5, 100.0, -104.0, 1e-45, -0.0])
def test_one_special_lane_in_a_block(lane, special):
    # one lane outside [-87, 88] (or NaN) sends its block of 16 to vm_expf:
    # the other 15 lanes must come out the same as on the fused path
    x = np.random.default_rng(lane).uniform(-80, 80, 4 * 16 + VEC_ROWS_MIN).astype(np.float32)
    x[16 + lane] = special
    same_bits(cgrad.exp(cgrad.from_numpy(x.copy())).numpy(), vm_expf(x))


# inputs whose fused double result lies within CG_EXPF_NEAR units of a float
# rounding midpoint (found by scanning consecutive bit patterns from 0.5 with
# cg_expf8_fma's near mask): their blocks go to vm_expf
NEAR_MIDPOINT = [0x3f084d9a, 0x3f158b8a, 0x3f1896cb, 0x3f344bd7, 0x3f555766, 0x3f824eaa, 0x3f9e7674,
                 0x3feaf889, 0x3fff8322, 0x4024a116, 0x403efdcf, 0x406993fc]


def test_near_midpoint_lanes_in_every_position():
    near = np.array(NEAR_MIDPOINT, np.uint32).view(np.float32)
    rng = np.random.default_rng(7)
    for lane in range(16):
        x = rng.uniform(-20, 20, VEC_ROWS_MIN + 16 * len(near)).astype(np.float32)
        x[16 * np.arange(len(near)) + lane] = near
        same_bits(cgrad.exp(cgrad.from_numpy(x.copy())).numpy(), vm_expf(x))


@pytest.mark.parametrize("n", [VEC_ROWS_MIN - 1, VEC_ROWS_MIN, VEC_ROWS_MIN + 1, VEC_ROWS_MIN + 15,
                               VEC_ROWS_MIN + 16, VEC_ROWS_MIN + 17, 4093, (1 << 19) + 7, (1 << 20) + 9])
def test_sizes_inplace_and_offset_views(n):
    x = np.random.default_rng(n).uniform(-90, 90, n + 3).astype(np.float32)
    want = vm_expf(x)
    same_bits(cgrad.exp(cgrad.from_numpy(x[:n].copy())).numpy(), want[:n])
    t = cgrad.from_numpy(x.copy())
    t.exp_()
    same_bits(t.numpy(), want)
    # a contiguous view that starts 3 elements in (unaligned for the vectors)
    same_bits(cgrad.exp(cgrad.from_numpy(x.copy())[3:]).numpy(), want[3:])


def lse_shift(m):
    return np.where(np.isinf(m), np.float32(0), m).astype(np.float32)


def exp_sum_reference(x, m):
    """reduce_rows.h's cg_exp_sum_f32, in numpy: exponentials of x - m in
    chunks of 256, full chunks summed in 32 float64 lanes, the last partial
    chunk one by one, the lanes added pairwise."""
    e = vm_expf(x - m).astype(np.float64)
    full = e.size // EXP_CHUNK * EXP_CHUNK
    lanes = np.zeros(RR_LANES)
    for g in e[:full].reshape(-1, RR_LANES):
        lanes += g
    tail = 0.0
    for v in e[full:]:
        tail += v
    h = RR_LANES // 2
    while h:
        lanes[:h] += lanes[h:2 * h]
        h //= 2
    return tail + lanes[0]


def lse_rows_reference(a):
    """cg_lse_row_f32: log of the row's sum plus the shift."""
    out = np.empty(a.shape[0], np.float32)
    for r, row in enumerate(a):
        m = lse_shift(row.max())
        with np.errstate(divide="ignore"):
            out[r] = np.float32(np.log(exp_sum_reference(row, m)) + np.float64(m))
    return out


def lse_vector_reference(x):
    """reduce_vector_threads.pxi: the max, then the vector cut into
    pieces_for(threads) slices (multiples of 4096), each slice's
    cg_exp_sum_f32, the parts added in slice order."""
    nthreads = min(x.size // MIN_NUMEL_PER_THREAD, cgrad.get_num_threads())
    npieces = min(nthreads * PIECES_PER_THREAD, MAX_PIECES)
    per = -(-x.size // npieces)
    per = -(-per // SUM_BLOCK) * SUM_BLOCK
    m = lse_shift(x.max())
    s = 0.0
    for t in range(npieces):
        lo, hi = min(t * per, x.size), min(t * per + per, x.size)
        if hi > lo:
            s += exp_sum_reference(x[lo:hi], m)
    return np.float32(np.log(s) + np.float64(m))


def lse_cols_reference(a):
    """cg_lse_cols_f32: each column's exponentials summed in row order."""
    m = lse_shift(a.max(0))
    e = vm_expf(a - m).astype(np.float64)
    s = np.zeros(a.shape[1])
    for k in range(a.shape[0]):
        s += e[k]
    with np.errstate(divide="ignore"):
        return (np.log(s) + m.astype(np.float64)).astype(np.float32)


@pytest.mark.parametrize("cols", [1037, 4096 + 17])
def test_logsumexp_rows_bit_for_bit(cols):
    rows = LARGE_REDUCE_NUMEL // cols + 2
    a = np.random.default_rng(cols).standard_normal((rows, cols)).astype(np.float32) * 20
    a[1, 5] = np.inf
    a[2, :] = -np.inf
    same_bits(cgrad.from_numpy(a.copy()).logsumexp(1).numpy(), lse_rows_reference(a))


@pytest.mark.parametrize("cols", [64, 16 * 8 + 7, 1025])
def test_logsumexp_columns_bit_for_bit(cols):
    rows = LARGE_REDUCE_NUMEL // cols + 5
    a = np.random.default_rng(cols).standard_normal((rows, cols)).astype(np.float32) * 20
    a[:, 3] = -np.inf
    a[7, 4] = np.inf
    same_bits(cgrad.from_numpy(a.copy()).logsumexp(0).numpy(), lse_cols_reference(a))


@pytest.mark.parametrize("n", [2 * MIN_NUMEL_PER_THREAD + 4099, 3 * MIN_NUMEL_PER_THREAD + 255])
def test_logsumexp_vector_bit_for_bit(n, threads):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32) * 30
    x[n // 3] = -200.0
    same_bits(np.float32(cgrad.from_numpy(x.copy()).logsumexp(0).item()), lse_vector_reference(x))


@requires_torch
def test_exp_and_logsumexp_like_torch():
    a = np.random.default_rng(5).uniform(-80, 80, (300, 700)).astype(np.float32)
    x, t = cgrad.from_numpy(a.copy()), torch.from_numpy(a.copy())
    np.testing.assert_allclose(x.exp().numpy(), t.exp().numpy(), rtol=3e-7, atol=0)
    for dim in (0, 1):
        np.testing.assert_allclose(x.logsumexp(dim).numpy(), t.logsumexp(dim).numpy(), rtol=1e-6)
