"""The cloned contiguous kernels of exp, log, tanh and sigmoid
(src/cgrad/vec_rows.h, picked by the op table's `vec_rows` field): taken for
contiguous operands of CG_VEC_ROWS_MIN (256) elements and more, they must
give bit for bit what the inline loop gives (the strided path, and
contiguous operands below the threshold) on every CPU, in the out-of-place,
in-place and out= forms, float16 through its float32 blocks, at sizes just
below, at and above the threshold and the two-thread one; and agree with
torch."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

VEC_ROWS_MIN = 256          # vec_rows.h CG_VEC_ROWS_MIN
TWO_THREADS = 2 << 18       # kernels_iter.pxi: threads_for gives 2 threads from here
SIZES = [1, 7, VEC_ROWS_MIN - 1, VEC_ROWS_MIN, VEC_ROWS_MIN + 1, 4099, (1 << 16) + 3,
         TWO_THREADS - 1, TWO_THREADS + 5]
CASES = [("exp", np.float32), ("log", np.float32), ("tanh", np.float32), ("sigmoid", np.float32),
         ("tanh", np.float64), ("sigmoid", np.float64)]
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1e-39, 88.7, 88.8, 100.5, -103.9,
           -104.0, -150.0, 710.0, -746.0, 1e30, -1e30, 3.4e38, 0.5, -0.5, 20.0, -20.0]


def inputs(n, dtype, fn, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * (30 if fn != "log" else 1)
    if fn == "log":
        x = np.abs(x) * np.exp(rng.uniform(-80, 80, n))
    k = min(n, len(SPECIAL))
    x[rng.choice(n, k, replace=False)] = SPECIAL[:k]
    return x.astype(dtype)


def strided(arr):
    """The same values as a non-contiguous cgrad view (every other element of
    a buffer twice the size): the op table's inline strided loop."""
    wide = np.zeros(2 * arr.size, arr.dtype)
    wide[::2] = arr
    return cgrad.from_numpy(wide)[::2]


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), np.flatnonzero(
        a.view(f"u{a.itemsize}") != b.view(f"u{b.itemsize}"))[:10]


@pytest.mark.parametrize("fn,dtype", CASES, ids=[f"{f}-{np.dtype(d).name}" for f, d in CASES])
@pytest.mark.parametrize("n", SIZES)
def test_contiguous_equals_strided(fn, dtype, n):
    arr = inputs(n, dtype, fn)
    contiguous = getattr(cgrad, fn)(cgrad.from_numpy(arr.copy()))
    reference = getattr(cgrad, fn)(strided(arr))
    same_bits(contiguous.numpy(), reference.numpy())


@pytest.mark.parametrize("fn,dtype", CASES, ids=[f"{f}-{np.dtype(d).name}" for f, d in CASES])
@pytest.mark.parametrize("n", [VEC_ROWS_MIN - 1, VEC_ROWS_MIN + 1, TWO_THREADS + 5])
def test_inplace_and_out_forms(fn, dtype, n):
    arr = inputs(n, dtype, fn, seed=1)
    reference = getattr(cgrad, fn)(strided(arr)).numpy()
    x = cgrad.from_numpy(arr.copy())
    getattr(x, fn + "_")()
    same_bits(x.numpy(), reference)
    out = cgrad.empty(n, dtype=x.dtype)
    getattr(cgrad, fn)(cgrad.from_numpy(arr.copy()), out=out)
    same_bits(out.numpy(), reference)


@pytest.mark.parametrize("fn", ["exp", "log", "tanh", "sigmoid"])
@pytest.mark.parametrize("n", [VEC_ROWS_MIN - 1, 4099])
def test_float16_blocks(fn, n):
    arr = inputs(n, np.float32, fn, seed=2)
    with np.errstate(over="ignore"):
        half = arr.astype(np.float16)
    contiguous = getattr(cgrad, fn)(cgrad.from_numpy(half.copy()))
    reference = getattr(cgrad, fn)(strided(half))
    same_bits(contiguous.numpy(), reference.numpy())


@pytest.mark.parametrize("fn", ["exp", "log", "tanh", "sigmoid"])
def test_values_against_float64(fn):
    """Large contiguous float32 results within 0.51 ulp of the float64
    result rounded (vecmath.h's bound), specials exactly as numpy's."""
    arr = inputs(TWO_THREADS + 5, np.float32, fn, seed=3)
    y = getattr(cgrad, fn)(cgrad.from_numpy(arr)).numpy()
    x = arr.astype(np.float64)
    with np.errstate(all="ignore"):
        ref = {"exp": np.exp, "log": np.log, "tanh": np.tanh,
               "sigmoid": lambda v: np.where(v >= 0, 1 / (1 + np.exp(-v)), np.exp(v) / (1 + np.exp(v)))}[fn](x)
    finite = np.isfinite(ref) & (np.abs(ref) < np.finfo(np.float32).max) & (np.abs(ref) > np.finfo(np.float32).tiny)
    ulp = np.spacing(np.abs(ref[finite]).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(y[finite] - ref[finite]) / ulp) <= 0.51
    with np.errstate(all="ignore"):
        expected = ref[~finite].astype(np.float32)
    special = y[~finite]
    assert np.array_equal(np.isnan(special), np.isnan(expected))
    keep = ~np.isnan(expected)
    assert np.array_equal(np.isinf(special[keep]), np.isinf(expected[keep]))
    assert np.array_equal(np.signbit(special[keep]), np.signbit(expected[keep]))
    # zero and denormal results: within one float32 denormal step of the exact value
    small = keep & ~np.isinf(expected)
    assert np.all(np.abs(special[small].astype(np.float64) - ref[~finite][small]) <= 1.5e-45)


@requires_torch
@pytest.mark.parametrize("fn,dtype", CASES, ids=[f"{f}-{np.dtype(d).name}" for f, d in CASES])
@pytest.mark.parametrize("n", [VEC_ROWS_MIN, TWO_THREADS + 5])
def test_against_torch(fn, dtype, n):
    arr = inputs(n, dtype, fn, seed=4)
    y = getattr(cgrad, fn)(cgrad.from_numpy(arr.copy())).numpy()
    t = getattr(torch, fn)(torch.from_numpy(arr.copy())).numpy()
    assert y.dtype == t.dtype
    # torch's sigmoid loses the last bits of denormal results (cgrad's are
    # glibc's, see test_vecmath.py): absolute tolerance below the normal range
    np.testing.assert_allclose(y, t, rtol=2e-7 if dtype == np.float32 else 1e-15,
                               atol=np.finfo(dtype).tiny)
