"""Pooling (max/avg/adaptive, 1-D and 2-D, functional and modules) against
torch: values, indices, gradients, grad_fn names, ceil_mode and padding
rules, NaN propagation, error types and texts; float64 gradient checks of
first and second order."""

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
import cgrad.nn.functional as CF
from helpers import check_gradients, compare_with_torch, rand, requires_torch, torch
from nn_compare import error_of

if torch is not None:
    import torch.nn.functional as TF
else:  # pragma: no cover
    TF = None


def F(lib):
    return CF if lib is cgrad else TF


MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=[], padding=(1, 0), dilation=2, ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAX2D)
@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (3, 7, 10)])
def test_max_pool2d_matches_torch(kw, shape):
    compare_with_torch(lambda lib, x: F(lib).max_pool2d(x, **kw), rand(*shape, seed=1))
    out_c, out_t = compare_with_torch(lambda lib, x: F(lib).max_pool2d(x, return_indices=True, **kw),
                                      rand(*shape, seed=2))
    if out_t is not None:
        np.testing.assert_array_equal(out_c[1].numpy(), out_t[1].numpy())
    assert out_c[1].dtype == cgrad.int64


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=2, stride=1, padding=1, dilation=2),
                                dict(kernel_size=3, stride=2, ceil_mode=True)])
@pytest.mark.parametrize("shape", [(2, 3, 11), (3, 10)])
def test_max_pool1d_matches_torch(kw, shape):
    compare_with_torch(lambda lib, x: F(lib).max_pool1d(x, **kw), rand(*shape, seed=3))
    out_c, out_t = compare_with_torch(lambda lib, x: F(lib).max_pool1d(x, return_indices=True, **kw),
                                      rand(*shape, seed=4))
    if out_t is not None:
        np.testing.assert_array_equal(out_c[1].numpy(), out_t[1].numpy())


def test_max_pool_nan_and_ties_like_torch():
    x = np.array([[[[1.0, np.nan, 3.0, 3.0], [2.0, 0.5, 3.0, -np.inf], [-np.inf, -np.inf, 1.0, 1.0],
                    [-np.inf, -np.inf, 1.0, 1.0]]]], dtype=np.float32)
    out_c, out_t = compare_with_torch(lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True), x)
    if out_t is not None:
        np.testing.assert_array_equal(out_c[1].numpy(), out_t[1].numpy())
    out_c, out_t = compare_with_torch(lambda lib, x: F(lib).adaptive_max_pool2d(x, 3, return_indices=True),
                                      x)
    if out_t is not None:
        np.testing.assert_array_equal(out_c[1].numpy(), out_t[1].numpy())


AVG2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), divisor_override=5),
]


@pytest.mark.parametrize("kw", AVG2D)
@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (3, 7, 10)])
def test_avg_pool2d_matches_torch(kw, shape):
    compare_with_torch(lambda lib, x: F(lib).avg_pool2d(x, **kw), rand(*shape, seed=5))


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1,
                                                          count_include_pad=False, ceil_mode=True)])
@pytest.mark.parametrize("shape", [(2, 3, 11), (3, 10)])
def test_avg_pool1d_matches_torch(kw, shape):
    compare_with_torch(lambda lib, x: F(lib).avg_pool1d(x, **kw), rand(*shape, seed=6))


@pytest.mark.parametrize("size", [3, (4, 3), (None, 2), (5, None), (9, 8), (1, 1), 1, (2, 1)])
@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (3, 7, 10)])
def test_adaptive_pools_2d_match_torch(size, shape):
    compare_with_torch(lambda lib, x: F(lib).adaptive_avg_pool2d(x, size), rand(*shape, seed=7))
    out_c, out_t = compare_with_torch(lambda lib, x: F(lib).adaptive_max_pool2d(x, size, return_indices=True),
                                      rand(*shape, seed=8))
    if out_t is not None:
        np.testing.assert_array_equal(out_c[1].numpy(), out_t[1].numpy())


@pytest.mark.parametrize("size", [1, 3, 4, 7])
@pytest.mark.parametrize("shape", [(2, 3, 10), (3, 7)])
def test_adaptive_pools_1d_match_torch(size, shape):
    compare_with_torch(lambda lib, x: F(lib).adaptive_avg_pool1d(x, size), rand(*shape, seed=9))
    compare_with_torch(lambda lib, x: F(lib).adaptive_max_pool1d(x, size), rand(*shape, seed=10))


@requires_torch
def test_pool_float64_and_float16():
    x = rand(2, 3, 6, 6, seed=1, dtype=np.float64)
    out_c, _ = compare_with_torch(lambda lib, x: F(lib).max_pool2d(x, 2), x, rtol=1e-12, atol=1e-12)
    assert out_c.dtype == cgrad.float64
    compare_with_torch(lambda lib, x: F(lib).avg_pool2d(x, 3, 1, 1), x, rtol=1e-12, atol=1e-12)
    h = rand(2, 3, 6, 6, seed=2)
    for name, args in [("max_pool2d", (2,)), ("avg_pool2d", (2,)), ("adaptive_avg_pool2d", (4,))]:
        c = getattr(CF, name)(cgrad.tensor(h).half(), *args)
        t = getattr(TF, name)(torch.tensor(h).half(), *args)
        assert c.dtype == cgrad.float16
        np.testing.assert_allclose(c.float().numpy(), t.float().numpy(), rtol=1e-3, atol=1e-3)


@requires_torch
@pytest.mark.parametrize("cls,args,kwargs,shape", [
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 9, 9)),
    ("MaxPool2d", (2,), dict(return_indices=True), (2, 3, 8, 8)),
    ("MaxPool1d", (3,), dict(stride=1, dilation=2), (2, 3, 9)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False, divisor_override=None), (2, 3, 9, 9)),
    ("AvgPool2d", ((2, 3),), dict(divisor_override=2), (2, 3, 8, 8)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((None, 3),), {}, (2, 3, 9, 8)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", (3,), dict(return_indices=True), (2, 3, 9, 8)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
])
def test_pool_modules_match_torch(cls, args, kwargs, shape):
    mc, mt = getattr(cnn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
    assert repr(mc) == repr(mt)
    compare_with_torch(lambda lib, x: (mc if lib is cgrad else mt)(x), rand(*shape, seed=11))


POOL_ERRORS = [
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 0, 1),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 0),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 2, padding=-1),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 3, padding=(1, 2)),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 2, padding=2),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 10),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 2, stride=0),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 2, dilation=0),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), (2, 2, 2)),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 8, 8), 2, stride=(1, 1, 1)),
    lambda lib: F(lib).max_pool2d(lib.ones(8), 2),
    lambda lib: F(lib).max_pool2d(lib.ones(2, 3, 0, 8), 2),
    lambda lib: F(lib).avg_pool2d(lib.ones(2, 3, 8, 8), 0, 1),
    lambda lib: F(lib).avg_pool2d(lib.ones(2, 3, 8, 8), 2, divisor_override=0),
    lambda lib: F(lib).avg_pool2d(lib.ones(2, 3, 8, 8), 2, padding=2),
    lambda lib: F(lib).avg_pool2d(lib.ones(2, 3, 8, 8), 2, stride=0),
    lambda lib: F(lib).avg_pool2d(lib.ones(2, 3, 2, 2), 3),
    lambda lib: F(lib).adaptive_avg_pool2d(lib.ones(2, 3, 8, 8), (2, 3, 4)),
    lambda lib: F(lib).adaptive_avg_pool2d(lib.ones(2, 3, 0, 8), 2),
    lambda lib: F(lib).adaptive_avg_pool2d(lib.ones(2, 8), (2, 2)),
    lambda lib: F(lib).adaptive_max_pool2d(lib.ones(2, 3, 0, 8), 2),
    lambda lib: F(lib).max_pool1d(lib.ones(2, 3, 8, 8), 2),
    lambda lib: F(lib).avg_pool1d(lib.ones(2, 3, 8, 8), 2),
    lambda lib: F(lib).avg_pool1d(lib.ones(3, 8), 2, stride=0),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(POOL_ERRORS)))
def test_pool_errors_like_torch(case):
    fn = POOL_ERRORS[case]
    expected = error_of(torch, fn)
    assert expected is not None
    assert error_of(cgrad, fn) == expected


@pytest.mark.parametrize("fn", [
    lambda x: CF.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: CF.max_pool2d(x, 2, 1, dilation=2),
    lambda x: CF.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: CF.avg_pool2d(x, 3, 2, 1, divisor_override=4),
    lambda x: CF.adaptive_avg_pool2d(x, (3, 4)),
    lambda x: CF.adaptive_max_pool2d(x, (3, 4)),
    lambda x: CF.max_pool1d(x.flatten(-2), 3, 2),
    lambda x: CF.avg_pool1d(x.flatten(-2), 3, 2, 1),
    lambda x: CF.adaptive_avg_pool1d(x.flatten(-2), 5),
])
def test_pool_gradcheck_first_and_second_order(fn):
    # distinct values keep max windows away from ties (finite differences)
    x = np.random.default_rng(0).permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) / 10.0
    check_gradients(lambda lib, x: fn(x), x)
    xt = cgrad.tensor(x, requires_grad=True)
    assert cgrad.autograd.gradgradcheck(fn, (xt,))


@requires_torch
def test_max_pool_double_backward_matches_torch():
    x = np.random.default_rng(1).permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6).astype(np.float64)
    res = []
    for lib in (cgrad, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = F(lib).max_pool2d(xt, 2)
        (g,) = lib.autograd.grad((y * y).sum(), xt, create_graph=True)
        assert g.grad_fn is not None
        (g * g).sum().backward()
        res.append((g.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12)
