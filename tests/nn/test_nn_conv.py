"""conv1d/conv2d, nn.Conv1d/Conv2d and unfold/fold against torch: values,
gradients of input, weight and bias, grad_fn names, dtypes, 'same'/'valid'
padding, groups, dilation, padding modes, unbatched inputs, error types and
texts; float64 gradient checks of first and second order."""
import math
import re
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
import cgrad.nn.functional as CF
from helpers import check_gradients, compare_with_torch, rand, requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF
else:  # pragma: no cover
    TF = None


def F(lib):
    return CF if lib is cgrad else TF


def error_of(lib, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(lib)
        except Exception as e:  # noqa: BLE001 - the exception is the result
            text = re.sub(r"\btorch\.", "cgrad.", str(e))
            # a Python set in a text prints in hash order, which differs between processes
            text = re.sub(r"\{('[^{}]*')\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}",
                          text)
            return type(e).__name__, text
    return None


CONV2D_CASES = [
    # input shape, weight shape, kwargs
    ((2, 3, 8, 7), (4, 3, 3, 3), {}),
    ((2, 3, 8, 7), (4, 3, 3, 2), dict(stride=2, padding=1)),
    ((2, 4, 9, 8), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)),
    ((1, 6, 5, 5), (6, 1, 3, 3), dict(padding=1, groups=6)),          # depthwise
    ((2, 3, 7, 7), (5, 3, 1, 1), {}),                                  # 1x1 direct
    ((2, 3, 7, 6), (5, 3, 1, 1), dict(stride=2)),
    ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding="same")),
    ((2, 3, 8, 8), (4, 3, 2, 4), dict(padding="same", dilation=(1, 2))),  # asymmetric: padded copy
    ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding="valid", dilation=2)),
    ((3, 8, 7), (4, 3, 3, 3), dict(padding=1)),                        # unbatched
    ((0, 3, 8, 7), (4, 3, 3, 3), {}),                                  # empty batch
    ((2, 3, 5, 5), (4, 3, 5, 5), {}),                                  # kernel = input
]


@pytest.mark.parametrize("xs,ws,kw", CONV2D_CASES)
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv2d_matches_torch(xs, ws, kw, with_bias):
    args = [rand(*xs, seed=1), rand(*ws, seed=2)] + ([rand(ws[0], seed=3)] if with_bias else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(lambda lib, x, w, *b: F(lib).conv2d(x, w, *b, **kw), *args, rtol=1e-4, atol=1e-5)


CONV1D_CASES = [
    ((2, 3, 11), (4, 3, 3), {}),
    ((2, 4, 12), (6, 2, 4), dict(stride=3, padding=2, dilation=2, groups=2)),
    ((2, 3, 10), (4, 3, 4), dict(padding="same")),
    ((3, 10), (4, 3, 3), dict(padding="valid")),
    ((2, 3, 10), (4, 3, 1), {}),
]


@pytest.mark.parametrize("xs,ws,kw", CONV1D_CASES)
def test_conv1d_matches_torch(xs, ws, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(lambda lib, x, w, b: F(lib).conv1d(x, w, b, **kw),
                           rand(*xs, seed=4), rand(*ws, seed=5), rand(ws[0], seed=6), rtol=1e-4, atol=1e-5)


def test_conv2d_float64_and_grad_fn_edges():
    x, w = rand(2, 3, 6, 6, seed=1, dtype=np.float64), rand(4, 3, 3, 3, seed=2, dtype=np.float64)
    out_c, out_t = compare_with_torch(lambda lib, x, w: F(lib).conv2d(x, w, stride=2), x, w,
                                      rtol=1e-10, atol=1e-12)
    assert str(out_c.dtype) == "cgrad.float64"
    # no bias: the node still has three edges, the last empty
    assert len(out_c.grad_fn.next_functions) == 3
    assert out_t is None or len(out_t.grad_fn.next_functions) == 3
    assert out_c.grad_fn.next_functions[2] == (None, 0)


@requires_torch
def test_conv2d_integer_and_half_dtypes():
    xi = np.random.default_rng(0).integers(-3, 4, (2, 3, 6, 6))
    wi = np.random.default_rng(1).integers(-3, 4, (4, 3, 3, 3))
    for dt in ("int64", "int32"):
        c = CF.conv2d(cgrad.tensor(xi.astype(dt)), cgrad.tensor(wi.astype(dt)), padding=1)
        t = TF.conv2d(torch.tensor(xi.astype(dt)), torch.tensor(wi.astype(dt)), padding=1)
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(c.numpy(), t.numpy())
    x, w = rand(2, 3, 6, 6, seed=3), rand(4, 3, 3, 3, seed=4)
    c = CF.conv2d(cgrad.tensor(x).half(), cgrad.tensor(w).half())
    t = TF.conv2d(torch.tensor(x).half(), torch.tensor(w).half())
    assert c.dtype == cgrad.float16
    np.testing.assert_allclose(c.float().numpy(), t.float().numpy(), rtol=1e-2, atol=2e-2)


CONV_ERRORS = [
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 2, 3, 3)),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 2, 2), lib.ones(4, 3, 3, 3)),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), stride=2, padding="same"),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), padding="foo"),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), groups=2),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), lib.ones(3)),
    lambda lib: F(lib).conv2d(lib.ones(8, 8), lib.ones(4, 3, 3, 3)),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), stride=0),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), padding=-1),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), dilation=0),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), groups=0),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8, dtype=lib.float64), lib.ones(4, 3, 3, 3)),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), lib.ones(4, dtype=lib.float64)),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3)),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(0, 3, 3, 3)),
    lambda lib: F(lib).conv2d(lib.ones(2, 4, 8, 8), lib.ones(3, 2, 3, 3), groups=2),
    lambda lib: F(lib).conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), stride=(1, 1, 1)),
    lambda lib: F(lib).conv1d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3)),
    lambda lib: F(lib).conv1d(lib.ones(2, 3, 8), lib.ones(4, 3, 3), padding=(1, 1)),
    lambda lib: F(lib).conv1d(lib.ones(2, 3, 2), lib.ones(4, 3, 3)),
    lambda lib: lib.nn.Conv2d(3, 4, 3, groups=2),
    lambda lib: lib.nn.Conv2d(4, 3, 3, groups=2),
    lambda lib: lib.nn.Conv2d(4, 4, 3, groups=0),
    lambda lib: lib.nn.Conv2d(4, 4, 3, padding_mode="x"),
    lambda lib: lib.nn.Conv2d(4, 4, 3, stride=2, padding="same"),
    lambda lib: lib.nn.Conv2d(4, 4, 3, padding="bad"),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(CONV_ERRORS)))
def test_conv_errors_like_torch(case):
    fn = CONV_ERRORS[case]
    expected = error_of(torch, fn)
    assert expected is not None
    assert error_of(cgrad, fn) == expected


def module_pair(cls_name, *args, **kwargs):
    """The same module in cgrad and torch, torch's weights copied from cgrad's."""
    mc = getattr(cnn, cls_name)(*args, **kwargs)
    mt = getattr(torch.nn, cls_name)(*args, **kwargs).double() if kwargs.get("dtype") == cgrad.float64 \
        else getattr(torch.nn, cls_name)(*args, **{k: v for k, v in kwargs.items() if k != "dtype"})
    with torch.no_grad():
        for name, p in mc.named_parameters():
            getattr(mt, name).copy_(torch.tensor(p.detach().numpy()))
    return mc, mt


@requires_torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dim", [1, 2])
def test_conv_modules_padding_modes_match_torch(mode, dim):
    cls = f"Conv{dim}d"
    mc, mt = module_pair(cls, 4, 6, 3, stride=1, padding=2, dilation=1, groups=2, padding_mode=mode)
    shape = (2, 4, 9) if dim == 1 else (2, 4, 7, 6)
    x = rand(*shape, seed=7)
    xc, xt = cgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = mc(xc), mt(xt)
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__ == "ConvolutionBackward0"
    # the padding's own node sits under the convolution's
    pc = yc.grad_fn.next_functions[0][0]
    pt = yt.grad_fn.next_functions[0][0]
    assert (pc is None) == (pt is None)
    if pt is not None:
        assert pc.name().split("::")[-1] == pt.name().split("::")[-1]
    g = np.random.default_rng(0).standard_normal(tuple(yt.shape)).astype(np.float32)
    yc.backward(cgrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mc.weight.grad.numpy(), mt.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mc.bias.grad.numpy(), mt.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert repr(mc) == repr(mt)


@requires_torch
def test_conv_module_same_padding_and_repr():
    for args, kwargs in [((3, 4, (2, 3)), dict(padding="same", bias=False)),
                         ((3, 4, 3), dict(padding="valid", stride=2)),
                         ((3, 6, 2), dict(padding="same", dilation=2, groups=3, padding_mode="reflect"))]:
        mc, mt = module_pair("Conv2d", *args, **kwargs)
        assert repr(mc) == repr(mt)
        assert mc._reversed_padding_repeated_twice == mt._reversed_padding_repeated_twice
        x = rand(2, 3, 8, 8, seed=8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yc, yt = mc(cgrad.tensor(x)), mt(torch.tensor(x))
        np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_conv_module_initialisation_bounds():
    cgrad.manual_seed(0)
    m = cnn.Conv2d(6, 16, 5)
    fan_in = 6 * 5 * 5
    bound = 1 / math.sqrt(fan_in)   # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    assert tuple(m.weight.shape) == (16, 6, 5, 5) and tuple(m.bias.shape) == (16,)
    assert w.min() >= -bound and w.max() <= bound and b.min() >= -bound and b.max() <= bound
    assert w.std() > bound / 2.5        # uniform over the whole range, not a constant
    assert m.weight.requires_grad and m.bias.requires_grad
    names = [n for n, _ in m.named_parameters()]
    assert names == ["weight", "bias"]
    m1 = cnn.Conv1d(4, 2, 3, bias=False, dtype=cgrad.float64)
    assert m1.bias is None and m1.weight.dtype == cgrad.float64 and tuple(m1.weight.shape) == (2, 4, 3)


@pytest.mark.parametrize("xs,ws,kw", [
    ((2, 4, 6, 5), (4, 2, 3, 2), dict(stride=(2, 1), padding=(1, 1), dilation=(1, 2), groups=2)),
    ((2, 3, 5, 5), (2, 3, 1, 1), {}),
    ((3, 5, 5), (2, 3, 3, 3), dict(padding="same")),
])
def test_conv2d_gradcheck(xs, ws, kw):
    check_gradients(lambda lib, x, w, b: CF.conv2d(x, w, b, **kw),
                    rand(*xs, seed=1), rand(*ws, seed=2), rand(ws[0], seed=3))


def test_conv1d_gradcheck():
    check_gradients(lambda lib, x, w, b: CF.conv1d(x, w, b, stride=2, padding=1, dilation=2),
                    rand(2, 3, 9, seed=1), rand(4, 3, 3, seed=2), rand(4, seed=3))


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(groups=2, dilation=(2, 1)), {}])
def test_conv2d_double_backward_gradgradcheck(kw):
    x = cgrad.tensor(rand(2, 4, 5, 6, seed=1, dtype=np.float64), requires_grad=True)
    w = cgrad.tensor(rand(4, 4 // kw.get("groups", 1), 3, 2, seed=2, dtype=np.float64), requires_grad=True)
    b = cgrad.tensor(rand(4, seed=3, dtype=np.float64), requires_grad=True)
    assert cgrad.autograd.gradgradcheck(lambda x, w, b: CF.conv2d(x, w, b, **kw), (x, w, b))


@requires_torch
def test_conv2d_double_backward_matches_torch():
    x, w = rand(2, 3, 6, 6, seed=1, dtype=np.float64), rand(4, 3, 3, 3, seed=2, dtype=np.float64)
    res = []
    for lib in (cgrad, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = F(lib).conv2d(xt, wt, padding=1)
        gx, gw = lib.autograd.grad((y * y).sum(), (xt, wt), create_graph=True)
        (gx.pow(2).sum() + gw.pow(2).sum()).backward()
        res.append((gx.detach().numpy(), gw.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=2)])
def test_unfold_fold_match_torch(kw):
    out_c, _ = compare_with_torch(lambda lib, x: F(lib).unfold(x, **kw), rand(2, 3, 7, 6, seed=1))
    cols = rand(*out_c.shape, seed=2)
    compare_with_torch(lambda lib, c: F(lib).fold(c, (7, 6), **kw), cols)
    compare_with_torch(lambda lib, x: F(lib).unfold(x, **kw), rand(3, 7, 6, seed=3))


def test_unfold_fold_gradcheck():
    check_gradients(lambda lib, x: CF.unfold(x, (2, 2), padding=1, stride=(1, 2)), rand(1, 2, 4, 5, seed=1))
    check_gradients(lambda lib, c: CF.fold(c, (4, 5), (2, 2), padding=1, stride=(1, 2)),
                    rand(1, 8, 15, seed=2))


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda lib: F(lib).unfold(lib.ones(2, 3), 2),
    lambda lib: F(lib).unfold(lib.ones(1, 2, 3, 3), 4),
    lambda lib: F(lib).unfold(lib.ones(1, 2, 3, 3), 0),
    lambda lib: F(lib).fold(lib.ones(1, 7, 4), (3, 3), 2),
    lambda lib: F(lib).fold(lib.ones(1, 8, 5), (3, 3), 2),
])
def test_unfold_fold_errors_like_torch(fn):
    expected = error_of(torch, fn)
    assert expected is not None
    assert error_of(cgrad, fn) == expected
