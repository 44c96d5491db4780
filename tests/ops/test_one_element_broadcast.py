"""Inputs that are one element expanded (kernels_iter.pxi
one_element_broadcast: every dim of size 1 or stride 0, as sum()'s gradient
hands back) are read as scalars on the flat path: values, dtypes and
gradients as torch's, at sizes just below, at and above the GIL release
(2**15 elements) and the two-thread threshold (2 * 2**18), odd sizes, with a
non-contiguous other operand or output, and inputs that are broadcast along
some dims only (not one element: they keep the strided walk)."""
import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, requires_torch, torch

GIL = 1 << 15              # kernels_iter.pxi GIL_RELEASE_NUMEL
TWO_THREADS = 2 << 18      # threads_for gives 2 threads from here
SIZES = [GIL - 1, GIL, GIL + 1, TWO_THREADS - 1, TWO_THREADS, TWO_THREADS + 4097]


def rand(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.fixture
def restore_threads():
    old = cgrad.get_num_threads()
    yield
    cgrad.set_num_threads(old)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_expanded_plus_expanded_and_tensor(n, threads, restore_threads):
    cgrad.set_num_threads(threads)
    one = cgrad.tensor(2.5).expand(n)
    other = cgrad.tensor([-1.25]).expand(n)
    x = cgrad.tensor(rand(n))
    np.testing.assert_array_equal((one + other).numpy(), np.full(n, 1.25, np.float32))
    np.testing.assert_array_equal((x * one).numpy(), rand(n) * np.float32(2.5))
    np.testing.assert_array_equal((one - x).numpy(), np.float32(2.5) - rand(n))
    assert (one + other).is_contiguous() and (one + other).dtype == cgrad.float32


@pytest.mark.parametrize("shape", [(181, 181), (182, 181), (1025, 1023), (3, 349525)])
def test_expanded_of_several_dims_and_mixed_dtypes(shape):
    a = rand(shape)
    x = cgrad.tensor(a)
    s = cgrad.tensor([[3]], dtype=cgrad.int64).expand(*shape)      # one int64 element, 2 dims
    got = x + s
    assert got.dtype == cgrad.float32
    np.testing.assert_array_equal(got.numpy(), a + np.float32(3))
    d = cgrad.tensor(0.5, dtype=cgrad.float64).expand(shape[1])    # right-aligned, 1 dim
    got = x * d
    assert got.dtype == cgrad.float64      # both have dims: float64 wins
    np.testing.assert_array_equal(got.numpy(), a.astype(np.float64) * 0.5)


@pytest.mark.parametrize("shape", [(181, 181), (1025, 1023)])
def test_non_contiguous_other_operand_and_output(shape):
    a = rand(shape, seed=1)
    x = cgrad.tensor(a).t()                # transposed: the strided walk for it
    one = cgrad.tensor(1.5).expand(shape[1], shape[0])
    np.testing.assert_array_equal((x + one).numpy(), a.T + np.float32(1.5))
    out = cgrad.zeros(shape[1], shape[0] * 2)[:, ::2]      # a strided output
    cgrad.add(cgrad.tensor(np.ascontiguousarray(a.T)), one, out=out)
    np.testing.assert_array_equal(out.numpy(), a.T + np.float32(1.5))


@pytest.mark.parametrize("shape", [(181, 181), (1025, 1023)])
def test_broadcast_along_some_dims_only_is_not_a_scalar(shape):
    a = rand(shape, seed=2)
    row = rand((1, shape[1]), seed=3)
    col = rand((shape[0], 1), seed=4)
    x = cgrad.tensor(a)
    np.testing.assert_array_equal((x + cgrad.tensor(row).expand(*shape)).numpy(), a + row)
    np.testing.assert_array_equal((x * cgrad.tensor(col).expand(*shape)).numpy(), a * col)
    # a size-1 dim that is not expanded, beside an expanded one
    e = cgrad.tensor(rand((1, 1, 1), seed=5)).expand(1, shape[0], 1)
    np.testing.assert_array_equal((x.unsqueeze(0) - e).numpy(), a[None] - rand((1, 1, 1), seed=5))


def test_where_and_clamp_with_expanded_operands():
    n = TWO_THREADS + 3
    a = rand(n, seed=6)
    x = cgrad.tensor(a)
    lo = cgrad.tensor(-0.5).expand(n)
    hi = cgrad.tensor(0.5).expand(n)
    np.testing.assert_array_equal(cgrad.clamp(x, lo, hi).numpy(), np.clip(a, -0.5, 0.5))
    np.testing.assert_array_equal(cgrad.where(x > 0, lo, hi).numpy(), np.where(a > 0, -0.5, 0.5).astype(np.float32))
    np.testing.assert_array_equal(cgrad.maximum(x, hi).numpy(), np.maximum(a, np.float32(0.5)))


@pytest.mark.parametrize("n", [GIL + 1, TWO_THREADS + 4097])
def test_sum_backward_accumulates_expanded_gradients(n):
    x = cgrad.ones(n, requires_grad=True)
    (x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(n, 2, np.float32))
    y = cgrad.tensor(rand(n, seed=7), requires_grad=True)
    (x * y).exp().sum().backward()
    a, b = np.ones(n, np.float32), rand(n, seed=7)
    np.testing.assert_allclose(y.grad.numpy(), a * np.exp(a * b), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("n", [GIL - 1, GIL + 1, TWO_THREADS + 5])
def test_values_and_grads_like_torch(n):
    a, b = rand(n, seed=8), rand(n, seed=9)
    compare_with_torch(lambda lib, x, y: (x * y + x).exp().sum() + (x - y).mean(), a, b, rtol=1e-5, atol=1e-5)
    compare_with_torch(lambda lib, x: x + lib.tensor(2.0).expand(n), a)
    compare_with_torch(lambda lib, x: lib.tensor(3.0, dtype=lib.float64).expand(n) / (x.abs() + 1), a)
