"""sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile,
nanquantile against torch (values, indices, dtypes, grad_fn names,
gradients, named results, errors) and float64 gradcheck/gradgradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch

NAN = float("nan")


def distinct(*shape, seed=0):
    """Values without ties (tie order is an implementation detail of PyTorch's selection kernels)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n).astype(np.float32) / 4 - 3).reshape(shape)


def both_raise(fn, exc=RuntimeError):
    msgs = []
    for lib in (cgrad, torch):
        with pytest.raises(exc) as info:
            fn(lib)
        msgs.append(str(info.value).replace("torch.", "cgrad."))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(dim, descending):
    out = compare_with_torch(lambda lib, x: lib.sort(x, dim, descending), distinct(3, 4))
    assert type(out[0]).__name__ == "sort" and out[0].indices.dtype == cgrad.int64
    compare_with_torch(lambda lib, x: x.sort(dim=dim, descending=descending, stable=True), distinct(3, 4))
    compare_with_torch(lambda lib, x: lib.argsort(x, dim, descending), distinct(3, 4))


@pytest.mark.parametrize("descending", [False, True])
def test_sort_stable_ties_and_nan(descending):
    a = np.array([[2, 1, NAN, 2, 1, NAN, 0], [1, 1, 1, 0, 0, 3, 3]], np.float32)
    compare_with_torch(lambda lib, x: lib.sort(x, dim=1, descending=descending, stable=True), a)
    ints = np.array([3, 1, 2, 1, 3, 0], np.int64)
    compare_with_torch(lambda lib, x: lib.sort(x, descending=descending, stable=True), ints)
    compare_with_torch(lambda lib, x: lib.sort(x, descending=descending, stable=True),
                       np.array([True, False, True]))
    compare_with_torch(lambda lib, x: lib.argsort(x, descending=descending, stable=True), a)


def test_sort_scalar_and_empty_and_msort():
    compare_with_torch(lambda lib, x: lib.sort(x), np.array(2.5, np.float32))
    compare_with_torch(lambda lib, x: lib.sort(x, 0), np.zeros((0, 3), np.float32))
    compare_with_torch(lambda lib, x: lib.msort(x), distinct(4, 3))
    compare_with_torch(lambda lib, x: x.msort(), distinct(4, 3))


@requires_torch
def test_sort_out_and_errors():
    for lib in (cgrad, torch):
        v, i = lib.empty(0), lib.empty(0, dtype=lib.int64)
        r = lib.sort(lib.tensor([3.0, 1.0, 2.0]), out=(v, i))
        assert r[0] is v and v.tolist() == [1.0, 2.0, 3.0] and i.tolist() == [1, 2, 0]
    both_raise(lambda lib: lib.sort(lib.ones(3), 1), IndexError)
    both_raise(lambda lib: lib.argsort(lib.ones(3), 2), IndexError)


def test_sort_gradcheck():
    x = cgrad.tensor(distinct(3, 4).astype(np.float64), requires_grad=True)
    for fn in (lambda t: cgrad.sort(t, 1)[0], lambda t: cgrad.sort(t, 0, True)[0], lambda t: cgrad.msort(t),
               lambda t: cgrad.topk(t, 2)[0], lambda t: cgrad.kthvalue(t, 2, 0)[0],
               lambda t: cgrad.median(t, 1)[0], lambda t: cgrad.median(t), lambda t: cgrad.nanmedian(t, 0)[0],
               lambda t: cgrad.mode(t, 1)[0], lambda t: cgrad.quantile(t, 0.3, 1),
               lambda t: cgrad.nanquantile(t, cgrad.tensor([0.2, 0.9], dtype=cgrad.float64), 0)):
        assert gradcheck(fn, [x])
        assert gradgradcheck(fn, [x])


@pytest.mark.parametrize("k,dim,largest", [(2, 1, True), (1, 0, False), (4, -1, True), (0, 1, True)])
def test_topk(k, dim, largest):
    out = compare_with_torch(lambda lib, x: lib.topk(x, k, dim, largest), distinct(3, 4))
    assert type(out[0]).__name__ == "topk"
    compare_with_torch(lambda lib, x: x.topk(k, dim=dim, largest=largest, sorted=True), distinct(3, 4))


@requires_torch
def test_topk_nan_and_errors():
    compare_with_torch(lambda lib, x: lib.topk(x, 3), np.array([1, 5, NAN, 2], np.float32))
    both_raise(lambda lib: lib.topk(lib.ones(3), 4))
    both_raise(lambda lib: lib.topk(lib.ones(3), -1))


@requires_torch
@pytest.mark.parametrize("k,dim,keepdim", [(1, 1, False), (3, 0, True), (4, -1, False)])
def test_kthvalue(k, dim, keepdim):
    out = compare_with_torch(lambda lib, x: lib.kthvalue(x, k, dim, keepdim), distinct(4, 4))
    assert type(out[0]).__name__ == "kthvalue"
    both_raise(lambda lib: lib.kthvalue(lib.ones(3), 4))
    both_raise(lambda lib: lib.kthvalue(lib.ones(3), 0))
    # an empty reduction dim is refused first, as IndexError
    both_raise(lambda lib: lib.kthvalue(lib.ones(0), 1), IndexError)
    both_raise(lambda lib: lib.kthvalue(lib.ones(3, 0), 5, 1), IndexError)


@requires_torch
@pytest.mark.parametrize("fn", ["median", "nanmedian"])
def test_median(fn):
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x), distinct(3, 5))
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x), distinct(4, 2))
    compare_with_torch(lambda lib, x: getattr(x, fn)(), distinct(4, 2))
    for dim in (0, 1):
        for keepdim in (False, True):
            out = compare_with_torch(lambda lib, x: getattr(lib, fn)(x, dim, keepdim), distinct(3, 5))
            assert type(out[0]).__name__ == fn
    with_nan = np.array([[1, NAN, 3, NAN], [1, 2, 3, 4], [NAN, 0, NAN, 2]], np.float32)
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x, 1), with_nan)
    # a row of NaN only: NaN (its index is whichever NaN PyTorch's selection lands on)
    all_nan = np.full((2, 4), NAN, np.float32)
    assert np.isnan(getattr(cgrad, fn)(cgrad.tensor(all_nan), 1).values.numpy()).all()
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x), with_nan)
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x), np.array([3, 1, 3, 2], np.float32))
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x), np.array([3, 1, 2, 5], np.int64))
    both_raise(lambda lib: getattr(lib, fn)(lib.ones(2, 0), 1), IndexError)


@requires_torch
@pytest.mark.parametrize("fn", ["median", "nanmedian"])
@pytest.mark.parametrize("shape", [(0,), (0, 3)])
def test_median_of_an_empty_tensor_stays_in_the_graph(fn, shape):
    results = []
    for lib in (cgrad, torch):
        x = lib.zeros(*shape, requires_grad=True)
        value = getattr(lib, fn)(x)
        value.backward()
        results.append((np.isnan(value.item()), value.grad_fn.name(), tuple(x.grad.shape), x.grad.sum().item()))
    assert results[0] == results[1]


@requires_torch
def test_mode():
    a = np.array([[3, 1, 3, 1, 2], [5, 5, 4, 4, 9], [7, 7, 7, 0, 0]], np.float32)
    for dim in (1, -1):
        out = compare_with_torch(lambda lib, x: lib.mode(x, dim), a)
        assert type(out[0]).__name__ == "mode"
    compare_with_torch(lambda lib, x: lib.mode(x, 0, True), a)
    compare_with_torch(lambda lib, x: x.mode(), np.array([2, 1, 2, 1], np.int64))
    both_raise(lambda lib: lib.mode(lib.ones(2, 0), 1), IndexError)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
def test_quantile(fn, interpolation):
    a = rand(4, 5)
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0], np.float32)
    for dim, keepdim in ((None, False), (None, True), (0, False), (1, True), (-1, False)):
        compare_with_torch(lambda lib, x: getattr(lib, fn)(x, 0.3, dim, keepdim, interpolation=interpolation), a)
        compare_with_torch(lambda lib, x, qq: getattr(x, fn)(qq, dim=dim, keepdim=keepdim,
                                                            interpolation=interpolation), a, q,
                           requires_grad=True, gradcheck=False)   # q sits on its domain's ends, 0 and 1
    with_nan = np.array([[1, NAN, 3, 4], [1, 2, 3, 4]], np.float32)
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x, 0.4, 1, interpolation=interpolation), with_nan)


@requires_torch
def test_quantile_errors():
    both_raise(lambda lib: lib.quantile(lib.ones(3), 1.5))
    both_raise(lambda lib: lib.quantile(lib.arange(3), 0.5))
    both_raise(lambda lib: lib.quantile(lib.ones(3), lib.tensor([0.5], dtype=lib.float64)))
    both_raise(lambda lib: lib.quantile(lib.ones(0), 0.5))
    both_raise(lambda lib: lib.quantile(lib.ones(3), 0.5, interpolation="foo"))
    both_raise(lambda lib: lib.quantile(lib.ones(3), lib.ones(2, 2) / 2))


@requires_torch
@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("call", [
    # ATen's order: a number q's range, the interpolation, then non-empty input, q's rank,
    # float input, q's dtype, out's dtype, dim, q tensor's values; nanquantile's texts say quantile()
    lambda f, lib: f(lib.ones(0, dtype=lib.int64), 0.5),
    lambda f, lib: f(lib.ones(0), lib.ones(2, 2) / 2),
    lambda f, lib: f(lib.ones(0), 0.5, interpolation="foo"),
    lambda f, lib: f(lib.ones(0), 1.5),
    lambda f, lib: f(lib.ones(0), lib.tensor([1.5])),
    lambda f, lib: f(lib.ones(3, dtype=lib.int64), lib.ones(2, 2)),
    lambda f, lib: f(lib.ones(3, dtype=lib.int64), 0.5, interpolation="foo"),
    lambda f, lib: f(lib.ones(3), lib.ones(2, 2, dtype=lib.float64)),
    lambda f, lib: f(lib.ones(3), lib.tensor([1.5], dtype=lib.float64)),
    lambda f, lib: f(lib.ones(3), 1.5, out=lib.zeros(1, dtype=lib.float64)),
    lambda f, lib: f(lib.ones(3), lib.tensor([1.5]), out=lib.zeros(1, dtype=lib.float64)),
    lambda f, lib: f(lib.ones(3), 0.5, out=lib.zeros(1, dtype=lib.float64)),
    lambda f, lib: f(lib.ones(3), 1.5, interpolation="foo"),
    lambda f, lib: f(lib.ones(3), lib.tensor([1.5]), interpolation="foo"),
    lambda f, lib: f(lib.ones(0), 0.5, dim=2),
    lambda f, lib: f(lib.ones(3), lib.tensor([1.5]), dim=2),
])
def test_quantile_check_order_like_torch(fn, call):
    raised = []
    for lib in (cgrad, torch):
        with pytest.raises((RuntimeError, IndexError)) as info:
            call(getattr(lib, fn), lib)
        raised.append((info.type.__name__, str(info.value)))
    assert raised[0] == raised[1]


@requires_torch
def test_modified_saved_tensor_is_refused():
    msgs = []
    for lib in (cgrad, torch):
        x = lib.tensor([3.0, 1.0, 2.0], requires_grad=True)
        v, i = lib.sort(x * 1)
        i.add_(1)
        with pytest.raises(RuntimeError) as info:
            v.sum().backward()
        msgs.append(str(info.value).replace("torch.", "cgrad."))
        y = x * 1
        c = lib.cumprod(y, 0)
        y.mul_(2)
        with pytest.raises(RuntimeError) as info:
            c.sum().backward()
        msgs.append(str(info.value).replace("torch.", "cgrad."))
    assert msgs[0].split("Hint")[0] == msgs[2].split("Hint")[0]
    assert msgs[1].split("Hint")[0] == msgs[3].split("Hint")[0]
