"""cumprod (and cumprod_), cummax, cummin, logcumsumexp against torch, with
zeros, ties and NaN; float64 gradcheck and gradgradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch

NAN = float("nan")


def both_raise(fn, exc=RuntimeError):
    msgs = []
    for lib in (cgrad, torch):
        with pytest.raises(exc) as info:
            fn(lib)
        msgs.append(str(info.value).replace("torch.", "cgrad."))
    assert msgs[0] == msgs[1]


WITH_ZEROS = np.array([[1.5, 0.0, 2.0, -1.0, 0.0, 3.0], [2.0, -0.5, 1.5, 0.0, 1.0, 2.0],
                       [0.0, 2.0, 0.0, 1.0, 2.0, 1.0]], np.float32)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod(dim):
    compare_with_torch(lambda lib, x: lib.cumprod(x, dim), rand(3, 5), rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda lib, x: x.cumprod(dim), WITH_ZEROS, rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda lib, x: lib.cumprod(x, dim, dtype=lib.float64), rand(3, 5), rtol=1e-4)
    compare_with_torch(lambda lib, x: lib.cumprod(x, dim), np.arange(1, 13, dtype=np.int32).reshape(3, 4))


@requires_torch
def test_cumprod_inplace_and_out():
    def run(lib, x):
        y = x * 1
        y.cumprod_(1)
        return y
    compare_with_torch(run, WITH_ZEROS, rtol=1e-4, atol=1e-5)
    for lib in (cgrad, torch):
        out = lib.empty(3)
        r = lib.cumprod(lib.tensor([1.0, 2.0, 3.0]), 0, out=out)
        assert r is out and out.tolist() == [1.0, 2.0, 6.0]
    both_raise(lambda lib: lib.cumprod(lib.ones(3, 4), 2), IndexError)


@pytest.mark.parametrize("a", [rand(3, 4, dtype=np.float64), WITH_ZEROS.astype(np.float64)])
def test_cumprod_gradcheck(a):
    x = cgrad.tensor(a, requires_grad=True)
    assert gradcheck(lambda t: cgrad.cumprod(t, 1), [x])
    assert gradgradcheck(lambda t: cgrad.cumprod(t, 1), [x])
    assert gradcheck(lambda t: cgrad.cumprod(t, 0), [x])


@pytest.mark.parametrize("fn", ["cummax", "cummin"])
def test_cummax_cummin(fn):
    a = np.array([[1, 3, 3, 2, 5, 5, 0], [4, 2, 2, 6, 1, 1, 7]], np.float32)
    for dim in (0, 1):   # ties: no finite differences there
        out = compare_with_torch(lambda lib, x: getattr(lib, fn)(x, dim), a, gradcheck=False)
        assert type(out[0]).__name__ == fn
    compare_with_torch(lambda lib, x: getattr(x, fn)(0), rand(4, 3))
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x, 0), np.array([1, NAN, 2, NAN, 0], np.float32))
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x, 0), np.array([3, 1, 4, 1, 5], np.int64))
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x, 0), np.array([False, True, False]))
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x, 0), np.array(2.0, np.float32))
    x = cgrad.tensor(rand(3, 4, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda t: getattr(cgrad, fn)(t, 1)[0], [x])
    assert gradgradcheck(lambda t: getattr(cgrad, fn)(t, 1)[0], [x])


@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp(dim):
    compare_with_torch(lambda lib, x: lib.logcumsumexp(x, dim), rand(3, 5), rtol=1e-4, atol=1e-5)
    big = np.array([[1000.0, 1001.0, -1000.0], [-np.inf, 0.0, 1.0]], np.float32)
    compare_with_torch(lambda lib, x: x.logcumsumexp(dim), big, rtol=1e-4, atol=1e-5)
    x = cgrad.tensor(rand(3, 4, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda t: cgrad.logcumsumexp(t, dim), [x])
    assert gradgradcheck(lambda t: cgrad.logcumsumexp(t, dim), [x])
