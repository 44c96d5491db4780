"""Fills of large buffers by streaming stores (src/cgrad/stream_fill.h,
storage.pxi's stream_fill): fill_, zero_, ones, full, zeros and the zero
fill of a reused buffer, at sizes just below, at and above the streaming
threshold (32 MiB), odd sizes, every item size, views that start off a
16-byte boundary or off an item boundary of 16 bytes, and non-contiguous
views (the ordinary loop). Each fill is checked element by element, and
the bytes around a filled view are checked untouched."""
import numpy as np
import pytest

import cgrad

STREAM = 1 << 25            # storage.pxi STREAM_FILL_BYTES

DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
          "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_}


def around(nbytes, itemsize):
    n = nbytes // itemsize
    return [n - 1, n, n + 1, n + 4099]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8"])
def test_fills_around_the_streaming_threshold(dtype):
    dt = getattr(cgrad, dtype)
    size = np.dtype(DTYPES[dtype]).itemsize
    for n in around(STREAM, size):
        x = cgrad.empty(n, dtype=dt).fill_(3)
        assert (x.numpy() == 3).all()
        assert (cgrad.full((n,), -2, dtype=dt).numpy() == -2).all()
        assert (cgrad.ones(n, dtype=dt).numpy() == 1).all()
        assert not x.zero_().numpy().any()


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_streamed_fill_of_each_dtype(dtype):
    dt = getattr(cgrad, dtype)
    size = np.dtype(DTYPES[dtype]).itemsize
    n = STREAM // size + 7
    value = True if dtype == "bool" else (-7 if dtype != "uint8" else 200)
    x = cgrad.full((n,), value, dtype=dt)
    assert x.dtype == dt
    np.testing.assert_array_equal(x.numpy(), np.full(n, value, DTYPES[dtype]))


@pytest.mark.parametrize("value", [1.5, float("nan"), float("-inf"), -0.0])
def test_streamed_float_fills_keep_the_exact_bits(value):
    n = STREAM // 4 + 5
    got = cgrad.empty(n).fill_(value).numpy()
    want = np.full(n, value, np.float32)
    assert (got.view(np.uint32) == want.view(np.uint32)).all()
    got = cgrad.empty(n, dtype=cgrad.float16).fill_(value).numpy()
    want = np.full(n, value, np.float16)
    assert (got.view(np.uint16) == want.view(np.uint16)).all()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "int8"])
@pytest.mark.parametrize("start", [1, 2, 3, 5])
def test_streamed_fill_of_views_off_alignment(dtype, start):
    # the view begins 1-5 items into the buffer; the items before and after it keep their values
    dt = getattr(cgrad, dtype)
    size = np.dtype(DTYPES[dtype]).itemsize
    n = STREAM // size + 40
    base = cgrad.full((n,), 9, dtype=dt)
    base[start:n - 3].fill_(4)
    got = base.numpy()
    assert (got[:start] == 9).all() and (got[n - 3:] == 9).all()
    assert (got[start:n - 3] == 4).all()
    base[start + 1:n - 3].zero_()
    got = base.numpy()
    assert (got[:start] == 9).all() and got[start] == 4 and (got[n - 3:] == 9).all()
    assert not got[start + 1:n - 3].any()


def test_fill_of_non_contiguous_large_views():
    n = STREAM // 4 * 2 + 10
    base = cgrad.full((n,), 1.0)
    base[::2].fill_(5)
    got = base.numpy()
    assert (got[::2] == 5).all() and (got[1::2] == 1).all()
    m = cgrad.full((4100, 4100), 2.0)
    m.t()[:, 1:].fill_(-1)
    got = m.numpy()
    assert (got[0] == 2).all() and (got[1:] == -1).all()


@pytest.mark.parametrize("extra", [-4, 0, 4, 4 * 4099])
def test_zero_fill_of_a_reused_buffer_past_the_threshold(extra):
    n = (STREAM + extra) // 4
    for _ in range(2):
        junk = cgrad.full((n,), 7.5)
        del junk
        z = cgrad.zeros(n)                  # the cached buffer, zero-filled by streaming stores
        assert not z.numpy().any()
        del z
