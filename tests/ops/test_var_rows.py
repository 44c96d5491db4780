"""var and std on the vectorised row and column kernels of reduce_rows.h
(cg_sqdev_row_*, cg_var_cols_*, taken by reduce_block_threads.pxi's rows_dispatch
from 2**16 elements on, and by full reductions of a vector): sizes just
below, at and above the threshold and the two-thread one, odd sizes, every
correction (also one that leaves no degrees of freedom), NaN and infinities,
float32 and float64, against numpy in float64 / long double and against torch.
A column's variance adds in the same order as the serial kernel's, so below
and above the threshold it is the same bits."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, threads_fixture, torch

BLOCK = 1 << 16            # reduce_threads.pxi LARGE_REDUCE_NUMEL
TWO_THREADS = 2 << 18      # kernels_iter.pxi: threads_for gives 2 threads from here
SHAPES = [(255, 256), (256, 256), (257, 255), (3, 21847), (21847, 3), (1024, 513), (1025, 1024)]


threads = threads_fixture(None, 3)


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 3 + 5).astype(dtype)


def reference(a, axis, correction):
    """var in long double (numpy), as the exact value rounded."""
    x = a.astype(np.longdouble)
    n = x.shape[axis] if axis is not None else x.size
    m = x.mean(axis=axis, keepdims=True)
    with np.errstate(all="ignore"):
        return ((x - m) ** 2).sum(axis=axis) / max(n - correction, 0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_var_std_against_long_double(shape, dim, dtype, threads):
    a = rand(shape, dtype)
    x = cgrad.from_numpy(a)
    ref = reference(a, dim, 1)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    v = x.var(dim).numpy()
    assert v.dtype == dtype
    np.testing.assert_allclose(v.astype(np.float64), ref.astype(np.float64), rtol=rtol)
    np.testing.assert_allclose(x.std(dim, keepdim=True).numpy().astype(np.float64),
                               np.sqrt(ref).astype(np.float64)[(slice(None),) * dim + (None,)], rtol=rtol)


@pytest.mark.parametrize("shape", [(256, 257), (1024, 1025)])
@pytest.mark.parametrize("correction", [0, 2, 256, 1024, 5000])
def test_corrections_and_no_degrees_of_freedom(shape, correction, threads):
    a = rand(shape, np.float64, seed=1)
    x = cgrad.from_numpy(a)
    for dim in (0, 1):
        ref = reference(a, dim, correction).astype(np.float64)
        got = x.var(dim, correction=correction).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-13)   # inf where n - correction <= 0


@pytest.mark.parametrize("shape", [(256, 256), (1024, 1025)])
def test_column_variance_is_the_serial_kernels_bits(shape, threads):
    """A block of columns below the threshold (the serial kernel) gives the
    bits the large matrix gives for the same columns."""
    a = rand(shape, np.float32, seed=2)
    full = cgrad.from_numpy(a).var(0).numpy()
    cols = max(1, (BLOCK - 1) // shape[0])
    for start in range(0, shape[1], max(cols, shape[1] // 5)):
        part = np.ascontiguousarray(a[:, start:start + cols])
        assert part.size < BLOCK
        small = cgrad.from_numpy(part).var(0).numpy()
        assert np.array_equal(small.view(np.uint32), full[start:start + cols].view(np.uint32))


@pytest.mark.parametrize("dim", [0, 1])
def test_nan_and_infinities(dim, threads):
    a = rand((512, 513), np.float32, seed=3)
    a[7, 11] = np.nan
    a[100, 200] = np.inf
    a[300, :] = -np.inf if dim == 1 else a[300, :]
    got = cgrad.from_numpy(a).var(dim).numpy()
    with np.errstate(all="ignore"):
        ref = a.astype(np.float64).var(axis=dim, ddof=1).astype(np.float32)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    finite = ~np.isnan(ref)
    np.testing.assert_allclose(got[finite], ref[finite], rtol=1e-6)


@pytest.mark.parametrize("n", [TWO_THREADS - 1, TWO_THREADS + 4099, 3 * TWO_THREADS + 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_var_std(n, dtype, threads):
    a = rand(n, dtype, seed=4)
    x = cgrad.from_numpy(a)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    for corr in (0, 1):
        ref = float(reference(a, None, corr))
        np.testing.assert_allclose(float(x.var(correction=corr)), ref, rtol=rtol)
        np.testing.assert_allclose(float(x.std(correction=corr)), np.sqrt(ref), rtol=rtol)


@requires_torch
@pytest.mark.parametrize("shape", [(256, 256), (1025, 1024)])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_values_and_grads_like_torch(shape, dim):
    a = rand(shape, np.float32, seed=5)
    for fn in ("var", "std"):
        xc = cgrad.from_numpy(a.copy()).requires_grad_()
        xt = torch.from_numpy(a.copy()).requires_grad_()
        kw = {} if dim is None else {"dim": dim}
        yc, yt = getattr(xc, fn)(**kw), getattr(xt, fn)(**kw)
        assert str(yc.dtype) == str(yt.dtype).replace("torch", "cgrad")
        assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__
        np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=2e-6)
        yc.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-7)
