"""nansum, nanmean, std_mean, var_mean, aminmax, where(condition), clamp with
tensor bounds, logdet, unique, unique_consecutive, bincount, histc,
searchsorted and bucketize against torch; float64 gradcheck and
gradgradcheck for the differentiable ones."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch

NAN = float("nan")
WITH_NAN = np.array([[1.0, NAN, 2.0], [NAN, NAN, 3.0]], np.float32)


def both_raise(fn):
    msgs = []
    types = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        msgs.append(str(info.value).split("\n")[0].replace("torch.", "cgrad."))
        types.append(type(info.value).__name__)
    assert types[0] == types[1] and msgs[0] == msgs[1]


def check_both(fn, *arrays):
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


@pytest.mark.parametrize("fn", ["nansum", "nanmean"])
def test_nan_reductions(fn):
    for args in [(), (0,), (1, True), ((0, 1),)]:
        compare_with_torch(lambda lib, x: getattr(lib, fn)(x, *args), WITH_NAN)
        compare_with_torch(lambda lib, x: getattr(x, fn)(*args), rand(3, 4))
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x, dtype=lib.float64), WITH_NAN)
    check_both(lambda x: getattr(cgrad, fn)(x, 1), rand(3, 4))


@requires_torch
def test_nansum_integers_and_nanmean_error():
    compare_with_torch(lambda lib, x: lib.nansum(x), np.array([1, 2, 3], np.int32))
    compare_with_torch(lambda lib, x: lib.nansum(x), np.array([True, True]))
    both_raise(lambda lib: lib.nanmean(lib.tensor([1, 2])))


@requires_torch
@pytest.mark.parametrize("fn", ["std_mean", "var_mean"])
def test_moments(fn):
    for args, kwargs in [((), {}), ((1,), {}), ((0,), {"keepdim": True}), ((1,), {"correction": 0}),
                         ((0, False), {}), (((0, 1),), {"correction": 2})]:
        compare_with_torch(lambda lib, x: getattr(lib, fn)(x, *args, **kwargs), rand(3, 4), rtol=1e-4, atol=1e-5)
    check_both(lambda x: getattr(cgrad, fn)(x, 1), rand(3, 4))
    both_raise(lambda lib: getattr(lib, fn)(lib.tensor([1, 2])))


@requires_torch
def test_aminmax():
    a = np.array([[1.0, 5.0, 5.0], [3.0, 2.0, 1.0]], np.float32)
    out = compare_with_torch(lambda lib, x: lib.aminmax(x), a)
    assert type(out[0]).__name__ == "aminmax" and out[0].min.item() == 1.0
    compare_with_torch(lambda lib, x: x.aminmax(dim=1), a)
    compare_with_torch(lambda lib, x: lib.aminmax(x, dim=0, keepdim=True), a)
    compare_with_torch(lambda lib, x: lib.aminmax(x, keepdim=True), a)
    compare_with_torch(lambda lib, x: lib.aminmax(x, dim=0), np.array([3, 1, 2], np.int64))
    check_both(lambda x: cgrad.aminmax(x, dim=1), rand(3, 4))
    both_raise(lambda lib: lib.aminmax(lib.ones(0)))


@requires_torch
def test_where_condition_only_clamp_tensor_logdet():
    for a in (rand(3, 4), np.array([0, 1, 0, 2], np.int64), np.array(1.0, np.float32)):
        c = cgrad.where(cgrad.tensor(a) > 0)
        t = torch.where(torch.tensor(a) > 0)
        assert len(c) == len(t) and all(x.tolist() == y.tolist() for x, y in zip(c, t))
    compare_with_torch(lambda lib, x, lo, hi: lib.clamp(x, lo, hi), rand(3, 4), rand(4, seed=1) - 1,
                       rand(3, 1, seed=2) + 1)
    compare_with_torch(lambda lib, x, lo: x.clamp(min=lo), rand(3, 4), rand(4, seed=1))
    compare_with_torch(lambda lib, x, hi: lib.clamp(x, max=hi), rand(3, 4), rand(3, 4, seed=1))
    spd = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)
    compare_with_torch(lambda lib, x: lib.logdet(x), spd)
    both_raise(lambda lib: lib.clamp(lib.ones(3)))


@requires_torch
def test_unique():
    a = np.array([3.0, 1.0, 2.0, 3.0, 1.0, NAN, NAN], np.float32)
    for kw in [{}, {"return_inverse": True}, {"return_counts": True},
               {"return_inverse": True, "return_counts": True}, {"sorted": False}]:
        out = compare_with_torch(lambda lib, x: lib.unique(x, **kw), a, requires_grad=False)
        compare_with_torch(lambda lib, x: x.unique(**kw), np.array([[2, 1], [1, 5]], np.int64))
    for fn, kw in ((cgrad.unique, {}), (cgrad.unique, {"dim": 0}), (cgrad.unique_consecutive, {})):
        t_fn = getattr(torch, fn.__name__)
        c = fn(cgrad.tensor(a, requires_grad=True), **kw)
        t = t_fn(torch.tensor(a, requires_grad=True), **kw)
        assert type(c.grad_fn).__name__ == type(t.grad_fn).__name__
    m = np.array([[1, 2], [1, 2], [0, 5]], np.int64)
    for dim in (0, 1):
        compare_with_torch(lambda lib, x: lib.unique(x, dim=dim, return_inverse=True, return_counts=True), m,
                           requires_grad=False)
    compare_with_torch(lambda lib, x: lib.unique(x), np.array(5.0, np.float32), requires_grad=False)
    compare_with_torch(lambda lib, x: lib.unique(x, return_inverse=True), np.zeros(0, np.float32),
                       requires_grad=False)
    x = cgrad.tensor([1.0, 2.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="the derivative for '_unique2' is not implemented."):
        cgrad.unique(x).sum().backward()
    both_raise(lambda lib: lib.unique(lib.ones(2, 2), dim=3))


def test_unique_consecutive():
    a = np.array([1, 1, 2, 2, 3, 1, 1], np.int64)
    for kw in [{}, {"return_inverse": True}, {"return_counts": True},
               {"return_inverse": True, "return_counts": True}]:
        compare_with_torch(lambda lib, x: lib.unique_consecutive(x, **kw), a)
    m = np.array([[1, 2], [1, 2], [0, 5], [1, 2]], np.int64)
    compare_with_torch(lambda lib, x: x.unique_consecutive(dim=0, return_counts=True), m)
    compare_with_torch(lambda lib, x: lib.unique_consecutive(x), np.array([1.0, 1.0, 2.0], np.float32),
                       requires_grad=False)


@requires_torch
def test_bincount_histc():
    compare_with_torch(lambda lib, x: lib.bincount(x), np.array([1, 2, 2, 5], np.int64))
    compare_with_torch(lambda lib, x: x.bincount(minlength=8), np.array([1, 2, 2, 5], np.int32))
    for w in (np.array([0.5, 1.0, 1.0], np.float32), np.array([0.5, 1.0, 1.0]), np.array([1, 2, 3])):
        compare_with_torch(lambda lib, x, ww: lib.bincount(x, ww), np.array([1, 2, 2], np.int64), w,
                           requires_grad=False)
    compare_with_torch(lambda lib, x: lib.bincount(x), np.zeros(0, np.int64))
    for w in (np.zeros(0, np.float32), np.zeros(0)):      # an empty input counts in int64, weights or not
        compare_with_torch(lambda lib, x, ww: lib.bincount(x, ww, minlength=3), np.zeros(0, np.int64), w,
                           requires_grad=False)
    empty = cgrad.bincount(cgrad.zeros(0, dtype=cgrad.int64), cgrad.zeros(0), minlength=2)
    assert empty.dtype == cgrad.int64 and empty.tolist() == [0, 0]
    both_raise(lambda lib: lib.bincount(lib.tensor([-1, 2])))
    both_raise(lambda lib: lib.bincount(lib.tensor([[1, 2]])))
    both_raise(lambda lib: lib.bincount(lib.tensor([1.0, 2.0])))
    both_raise(lambda lib: lib.bincount(lib.tensor([1, 2]), lib.ones(3)))
    a = np.array([1.0, 2.0, 1.0, 0.0, 3.0, 2.5, -1.0, 7.0], np.float32)
    for kw in [{}, {"bins": 4}, {"bins": 4, "min": 0, "max": 3}, {"bins": 3, "min": 1, "max": 1}, {"bins": 5}]:
        compare_with_torch(lambda lib, x: lib.histc(x, **kw), a, requires_grad=False)
        compare_with_torch(lambda lib, x: x.histc(**kw), a.astype(np.float64), requires_grad=False)
    compare_with_torch(lambda lib, x: lib.histc(x, bins=3), np.full(4, 2.0, np.float32), requires_grad=False)
    both_raise(lambda lib: lib.histc(lib.tensor([1, 2])))
    both_raise(lambda lib: lib.histc(lib.ones(3), bins=0))
    both_raise(lambda lib: lib.histc(lib.ones(3), min=2, max=1))


@requires_torch
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_bucketize(right):
    b = np.array([1.0, 2.0, 2.0, 3.0], np.float32)
    v = np.array([[2.0, 0.5], [3.0, 4.0], [2.0, 1.0]], np.float32)
    compare_with_torch(lambda lib, s, x: lib.searchsorted(s, x, right=right), b, v, requires_grad=False)
    compare_with_torch(lambda lib, s, x: lib.searchsorted(s, x, side="right" if right else "left"), b, v,
                       requires_grad=False)
    compare_with_torch(lambda lib, s, x: lib.searchsorted(s, x, right=right, out_int32=True), b, v,
                       requires_grad=False)
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 5.0]], np.float32)
    compare_with_torch(lambda lib, s, x: lib.searchsorted(s, x, right=right), rows,
                       np.array([[2.0, 3.5], [5.0, -1.0]], np.float32), requires_grad=False)
    compare_with_torch(lambda lib, s, x, srt: lib.searchsorted(s, x, right=right, sorter=srt),
                       np.array([3.0, 1.0, 2.0], np.float32), np.array([2.0, 2.5], np.float32),
                       np.array([1, 2, 0], np.int64), requires_grad=False)
    compare_with_torch(lambda lib, x, s: lib.bucketize(x, s, right=right), v, b, requires_grad=False)
    assert cgrad.bucketize(2, cgrad.tensor(b), right=right).item() == torch.bucketize(2, torch.tensor(b),
                                                                                     right=right).item()
    assert cgrad.searchsorted(cgrad.tensor(b), 2).item() == torch.searchsorted(torch.tensor(b), 2).item()


@requires_torch
def test_searchsorted_errors():
    both_raise(lambda lib: lib.searchsorted(lib.ones(2, 3), lib.ones(3, 3)))
    both_raise(lambda lib: lib.searchsorted(lib.ones(2), lib.ones(1), side="x"))
    both_raise(lambda lib: lib.searchsorted(lib.ones(2), lib.ones(1), side="left", right=True))
    both_raise(lambda lib: lib.bucketize(lib.ones(1), lib.ones(2, 2)))


@requires_torch
def test_histc_range_and_logcumsumexp_dtype_errors():
    both_raise(lambda lib: lib.histc(lib.tensor([float("nan"), 1.0, 2.0]), bins=2))
    both_raise(lambda lib: lib.histc(lib.tensor([float("inf"), 1.0]), bins=2))
    both_raise(lambda lib: lib.logcumsumexp(lib.tensor([1, 2]), 0))
