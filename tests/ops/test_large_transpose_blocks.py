"""Transposing copies of 4- and 8-byte items above the streaming threshold
(32 MiB), where kernels/copy_blocks.h transposes whole 16x16 (float32) or
8x8 (float64) blocks in AVX-512 registers on CPUs that have it and leaves
the last rows and the last partial strip of columns (a strip: 128 bytes of
destination row) to the scratch tiles. The shapes put the destination
rows at multiples of 16 (float32) or 8 (float64) items, so that the copy
streams, with the other side odd, a partial strip, a strided source, and
batched slabs. A copy moves bits: every result is compared exactly with
numpy's (NaN payloads and -0.0 included)."""
import numpy as np
import pytest

import cgrad

STREAM = 1 << 25            # storage.pxi STREAM_FILL_BYTES


def source(shape, dtype, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    flat[::97] = np.nan
    flat[1::101] = -0.0
    return a


def bits(a):
    a = np.ascontiguousarray(a)
    return a.view({4: np.uint32, 8: np.uint64}[a.itemsize])


def assert_same_bits(got, want):
    got = got.numpy()
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(bits(got), bits(want))


# (P, Q): a is P x Q, a.t() is Q x P; P (the destination row) a multiple of
# the block width, Q (the destination rows) odd or a multiple of it; the
# bytes just below, at and above the streaming threshold
F32_SHAPES = [(4096, 2047), (4096, 2048), (4096, 2049), (2064, 4097), (4096 + 48, 2055), (16, STREAM // 64 + 1)]
F64_SHAPES = [(2048, 2047), (2048, 2048), (2056, 2049), (2048 + 24, 2055), (8, STREAM // 64 + 3)]


@pytest.mark.parametrize("shape", F32_SHAPES)
def test_float32_transposes(shape):
    a = source(shape, np.float32)
    x = cgrad.from_numpy(a)
    for _ in range(2):          # a fresh output, then a reused one
        assert_same_bits(x.t().contiguous(), a.T.copy())


@pytest.mark.parametrize("shape", F64_SHAPES)
def test_float64_transposes(shape):
    a = source(shape, np.float64, 1)
    assert_same_bits(cgrad.from_numpy(a).t().contiguous(), a.T.copy())


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_items_move_by_the_same_blocks(dtype):
    a = np.random.default_rng(2).integers(-2**31, 2**31 - 1, (2048 + 32, 2049 + 2048 * (dtype == np.int32)))
    a = a.astype(dtype)
    assert_same_bits(cgrad.from_numpy(a).t().contiguous(), a.T.copy())


def test_strided_source_rows():
    # every other row of a larger matrix: the source row stride is twice its length
    big = source((2 * 4096, 2051), np.float32, 3)
    want = big[::2].T.copy()
    assert_same_bits(cgrad.from_numpy(big)[::2].t().contiguous(), want)
    # a narrower window of each row
    assert_same_bits(cgrad.from_numpy(big)[:4096, 3:2050].t().contiguous(), big[:4096, 3:2050].T.copy())


def test_batched_slabs_and_the_bench_permute():
    a = source((3, 2048, 1401), np.float32, 4)
    assert_same_bits(cgrad.from_numpy(a).transpose(1, 2).contiguous(), a.transpose(0, 2, 1).copy())
    m = 4096
    c = source((m, m), np.float32, 5)
    z = cgrad.from_numpy(c).view(64, m // 64, m).permute(2, 0, 1).contiguous()
    assert_same_bits(z, c.reshape(64, m // 64, m).transpose(2, 0, 1).copy())


def test_transposes_agree_with_torch():
    torch = pytest.importorskip("torch")
    a = source((4096 + 16, 2049), np.float32, 6)
    got = cgrad.from_numpy(a).t().contiguous()
    want = torch.from_numpy(a).t().contiguous()
    assert got.stride() == want.stride()
    np.testing.assert_array_equal(bits(got.numpy()), bits(want.numpy()))


def test_channels_last_above_the_threshold():
    # the destination walks the columns: the copy with rows and columns swapped
    a = source((2, 64, 256, 263), np.float32, 7)
    x = cgrad.from_numpy(a)
    y = x.contiguous(memory_format=cgrad.channels_last)
    assert y.stride() == (64 * 256 * 263, 1, 263 * 64, 64)
    np.testing.assert_array_equal(bits(y.numpy()), bits(a))
    assert_same_bits(y.contiguous(), a)
