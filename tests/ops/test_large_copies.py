"""Large same-dtype copies into fresh buffers (kernels/copy_blocks.h, driven
by kernel_drivers.pxi's copy_same_dtype): transposing copies through
scratch tiles, dense and row copies and expanded rows by streaming stores.
Sizes sit just below, at and above the block-copy threshold (1 MiB) and the
streaming threshold (32 MiB), with odd sides, every item size, batched and
swapped (channels-last) transposes, cat/stack of non-contiguous inputs and
fresh and reused output buffers. A copy moves bits: every result is
compared exactly, bit for bit, with numpy's (and torch's when installed)."""
import numpy as np
import pytest

import cgrad

BLOCK = 1 << 20             # kernel_drivers.pxi BLOCK_COPY_MIN_BYTES
STREAM = 1 << 25            # storage.pxi STREAM_FILL_BYTES

NP = {cgrad.float32: np.float32, cgrad.float64: np.float64, cgrad.float16: np.float16,
      cgrad.int8: np.int8, cgrad.int16: np.int16, cgrad.int64: np.int64, cgrad.uint8: np.uint8}


def bits(a):
    a = np.ascontiguousarray(a)
    return a.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize])


def assert_same_bits(got, want):
    got = got.numpy() if isinstance(got, cgrad.Tensor) else got
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(bits(got), bits(want))


def source(shape, dtype=cgrad.float32, seed=0):
    rng = np.random.default_rng(seed)
    npdt = NP[dtype]
    if np.issubdtype(npdt, np.floating):
        a = rng.standard_normal(shape).astype(npdt)
        a.reshape(-1)[::97] = np.nan          # NaNs are moved as bits too
        a.reshape(-1)[1::101] = -0.0
    else:
        a = rng.integers(-100 if np.issubdtype(npdt, np.signedinteger) else 0, 100, shape).astype(npdt)
    return a


def sides_around(nbytes, itemsize):
    """(rows, cols) whose products are just below, at and above nbytes."""
    n = nbytes // itemsize
    rows = 1 << (int(np.log2(n)) // 2)
    cols = n // rows
    return [(rows, cols - 1), (rows, cols), (rows, cols + 1), (rows + 3, cols + 5)]


@pytest.mark.parametrize("threshold", [BLOCK, STREAM])
def test_transpose_copy_around_the_thresholds(threshold):
    for rows, cols in sides_around(threshold, 4):
        a = source((rows, cols))
        x = cgrad.from_numpy(a)
        for _ in range(2):          # a fresh output, then a reused (resident) one
            assert_same_bits(x.t().contiguous(), a.T.copy())


@pytest.mark.parametrize("dtype", list(NP))
def test_transpose_copy_of_each_item_size(dtype):
    a = source((777, 1031), dtype)
    x = cgrad.from_numpy(a)
    assert_same_bits(x.t().contiguous(), a.T.copy())
    assert_same_bits(x.t().clone(memory_format=cgrad.contiguous_format), a.T.copy())


@pytest.mark.parametrize("shape", [(65, 64 * 300), (1000, 333), (333, 1000), (4099, 67), (67, 4099)])
def test_transpose_copy_odd_shapes(shape):
    a = source(shape, cgrad.float64)
    assert_same_bits(cgrad.from_numpy(a).t().contiguous(), a.T.copy())


def test_batched_and_permuted_copies():
    a = source((3, 700, 501))
    x = cgrad.from_numpy(a)
    assert_same_bits(x.transpose(1, 2).contiguous(), a.transpose(0, 2, 1).copy())
    assert_same_bits(x.permute(2, 0, 1).contiguous(), a.transpose(2, 0, 1).copy())
    assert_same_bits(x.permute(1, 2, 0).contiguous(), a.transpose(1, 2, 0).copy())
    # a strided (sliced) source: rows and columns both with gaps
    b = source((1500, 1300))
    y = cgrad.from_numpy(b)[::2, 1::3]
    assert_same_bits(y.t().contiguous(), b[::2, 1::3].T.copy())
    assert_same_bits(y.contiguous(), b[::2, 1::3].copy())
    # the bench's view(64, M/64, M).permute(2, 0, 1) at a smaller M
    m = 1024
    c = source((m, m))
    z = cgrad.from_numpy(c).view(64, m // 64, m)
    assert_same_bits(z.permute(2, 0, 1).contiguous(), c.reshape(64, m // 64, m).transpose(2, 0, 1).copy())


def test_channels_last_clone_walks_the_destination_columns():
    a = source((2, 64, 90, 70))
    x = cgrad.from_numpy(a)
    y = x.contiguous(memory_format=cgrad.channels_last)
    assert y.stride() == (64 * 90 * 70, 1, 70 * 64, 64)
    np.testing.assert_array_equal(bits(y.numpy()), bits(a))
    back = y.contiguous()
    assert_same_bits(back, a)


@pytest.mark.parametrize("threshold", [BLOCK, STREAM])
def test_expanded_rows_and_columns(threshold):
    for rows, cols in sides_around(threshold, 4):
        a = source((rows, cols))
        x = cgrad.from_numpy(a)
        for _ in range(2):
            assert_same_bits(x[:1].expand(rows, cols).contiguous(), np.broadcast_to(a[:1], (rows, cols)).copy())
            assert_same_bits(x[:, 1:2].expand(rows, cols).contiguous(),
                             np.broadcast_to(a[:, 1:2], (rows, cols)).copy())


def test_expanded_short_rows_keep_the_row_kernels():
    # rows of 2 items (below BLOCK_COPY_MIN_ROW_BYTES) in a copy above the threshold
    a = source((300000, 1), cgrad.float64)
    got = cgrad.from_numpy(a).expand(300000, 2).contiguous()
    assert_same_bits(got, np.broadcast_to(a, (300000, 2)).copy())


@pytest.mark.parametrize("dtype", [cgrad.float32, cgrad.float16, cgrad.int8, cgrad.int64])
@pytest.mark.parametrize("dim", [0, 1])
def test_cat_and_stack_large(dtype, dim):
    isz = np.dtype(NP[dtype]).itemsize
    rows = 1024
    cols = STREAM // isz // rows // 2 + 3           # the output above the streaming threshold
    a, b = source((rows, cols), dtype, 1), source((rows, cols + (dim == 1)), dtype, 2)
    if dim == 0:
        b = b[:, :cols]
    x, y = cgrad.from_numpy(a), cgrad.from_numpy(np.ascontiguousarray(b))
    for _ in range(2):
        assert_same_bits(cgrad.cat([x, y], dim), np.concatenate([a, b], dim))
    if dim == 0:
        assert_same_bits(cgrad.stack([x, y], 1), np.stack([a, b], 1))
        assert_same_bits(cgrad.stack([x, y], 0), np.stack([a, b], 0))


@pytest.mark.parametrize("rows", [255, 256, 257, 3001])
def test_cat_around_the_block_threshold_with_non_contiguous_inputs(rows):
    cols = BLOCK // 4 // 256
    a = source((cols, rows))
    b = source((rows, cols), seed=3)
    x = cgrad.from_numpy(a).t()                       # transposed: the tiled path into a segment
    y = cgrad.from_numpy(b)
    z = cgrad.from_numpy(source((rows, 2 * cols), seed=4))[:, ::2]   # strided rows
    want = np.concatenate([a.T, b, source((rows, 2 * cols), seed=4)[:, ::2]], 1)
    assert_same_bits(cgrad.cat([x, y, z], 1), want)
    want0 = np.concatenate([a.T, b, source((rows, 2 * cols), seed=4)[:, ::2]], 0)
    assert_same_bits(cgrad.cat([x, y, z], 0), want0)


def test_cat_keeps_dtype_promotion_and_history():
    a = source((700, 800))
    b = source((700, 800), cgrad.float64)
    x = cgrad.from_numpy(a).requires_grad_()
    y = cgrad.from_numpy(b)
    out = cgrad.cat([x, y], 1)
    assert out.dtype == cgrad.float64
    np.testing.assert_array_equal(out.detach().numpy(), np.concatenate([a.astype(np.float64), b], 1))
    assert type(out.grad_fn).__name__ == "CatBackward0"
    out.sum().backward()
    assert (x.grad.numpy() == 1).all()


def test_copies_agree_with_torch():
    torch = pytest.importorskip("torch")
    a = source((1100, 1300))
    for f in (lambda m, t: t.t().contiguous(),
              lambda m, t: t[:1].expand(1100, 1300).contiguous(),
              lambda m, t: m.cat([t, t.flip(0)], 1),
              lambda m, t: m.stack([t.t(), t.t()], 1),
              lambda m, t: t.view(11, 100, 1300).permute(2, 0, 1).contiguous()):
        got = f(cgrad, cgrad.from_numpy(a))
        want = f(torch, torch.from_numpy(a))
        assert tuple(got.shape) == tuple(want.shape) and got.stride() == want.stride()
        np.testing.assert_array_equal(bits(got.numpy()), bits(want.numpy()))


# ---------------------------------------------------------------------------
# whole-row gathers (index_select(0, ...), a[idx] of a matrix): kernel_drivers.pxi
# gather_rows_fresh, over threads and by streaming stores when large

@pytest.mark.parametrize("threshold", [BLOCK, STREAM])
def test_index_select_rows_around_the_thresholds(threshold):
    for rows, cols in sides_around(threshold, 4):
        a = source((rows + 5, cols))
        x = cgrad.from_numpy(a)
        idx = np.random.default_rng(rows).permutation(rows + 5)[:rows]
        i = cgrad.from_numpy(idx.astype(np.int64))
        for _ in range(2):
            assert_same_bits(x.index_select(0, i), a[idx])
            assert_same_bits(x[i], a[idx])


@pytest.mark.parametrize("dtype", list(NP))
def test_index_select_rows_of_each_item_size_with_repeats_and_negatives(dtype):
    a = source((300, 5003), dtype)
    idx = np.random.default_rng(5).integers(-300, 300, 400)
    x = cgrad.from_numpy(a)
    assert_same_bits(x[cgrad.from_numpy(idx)], a[idx])
    pos = np.where(idx < 0, idx + 300, idx)
    assert_same_bits(x.index_select(0, cgrad.from_numpy(pos)), a[pos])


def test_index_select_rows_short_or_strided_keep_the_loop():
    a = source((600000, 3))
    idx = np.random.default_rng(6).integers(0, 600000, 500000)
    assert_same_bits(cgrad.from_numpy(a)[cgrad.from_numpy(idx)], a[idx])
    b = source((700, 3000))
    x = cgrad.from_numpy(b)[:, ::2]
    i = np.random.default_rng(7).integers(0, 700, 900)
    assert_same_bits(x.index_select(0, cgrad.from_numpy(i)), b[:, ::2][i])


def test_index_select_rows_bounds_and_history():
    a = source((600, 1000))
    x = cgrad.from_numpy(a).requires_grad_()
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, cgrad.tensor([0, 600]))
    out = x.index_select(0, cgrad.tensor(list(range(599, -1, -1)) * 2))
    assert type(out.grad_fn).__name__ == "IndexSelectBackward0"
    out.sum().backward()
    assert (x.grad.numpy() == 2).all()


def test_index_select_rows_agree_with_torch():
    torch = pytest.importorskip("torch")
    a = source((1200, 1100))
    idx = np.random.default_rng(8).integers(0, 1200, 1500)
    got = cgrad.from_numpy(a).index_select(0, cgrad.from_numpy(idx))
    want = torch.from_numpy(a).index_select(0, torch.from_numpy(idx))
    np.testing.assert_array_equal(bits(got.numpy()), bits(want.numpy()))
