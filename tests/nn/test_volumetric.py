"""conv3d, conv_transpose3d, the 3-D pools and the volumetric modules
(Conv3d, ConvTranspose3d, MaxPool3d, AvgPool3d, AdaptiveAvgPool3d,
AdaptiveMaxPool3d, BatchNorm3d, InstanceNorm3d) against torch: values,
gradients, indices, grad_fn names, reprs, error texts; float64 gradcheck
and gradgradcheck; known values without torch."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn as nn
import cgrad.nn.functional as F
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch
from nn_compare import assert_same_errors

CONV_CASES = [
    ((2, 4, 5, 6, 7), (6, 2, 3, 3, 3), True, dict(groups=2)),
    ((2, 4, 7, 6, 7), (6, 4, 3, 2, 3), True, dict(stride=(2, 1, 2), padding=(1, 2, 0), dilation=(2, 1, 1))),
    ((4, 5, 6, 7), (6, 4, 2, 2, 2), False, dict(padding="same")),
    ((1, 4, 5, 6, 7), (4, 1, 3, 3, 3), True, dict(groups=4, padding="valid", dilation=2)),
    ((2, 3, 4, 4, 4), (5, 3, 1, 1, 1), True, dict()),
]
CONV_T_CASES = [
    ((2, 4, 3, 4, 5), (4, 3, 3, 3, 3), 6, dict(groups=2)),
    ((2, 4, 3, 4, 5), (4, 3, 3, 2, 3), 3, dict(stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2),
                                               dilation=(1, 2, 1))),
    ((4, 3, 4, 5), (4, 3, 2, 2, 2), None, dict(stride=2, dilation=3, output_padding=2)),
]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using padding='same'")
        yield


@requires_torch
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv3d_matches_torch(case):
    xs, ws, with_bias, kw = CONV_CASES[case]
    arrays = [rand(*xs), rand(*ws, seed=1)] + ([rand(ws[0], seed=2)] if with_bias else [])
    compare_with_torch(lambda lib, x, w, *b: lib.nn.functional.conv3d(x, w, *b, **kw), *arrays,
                       rtol=1e-4, atol=1e-4)
    compare_with_torch(lambda lib, x, w, *b: lib.conv3d(x, w, *b, **kw), *arrays, rtol=1e-4, atol=1e-4)


@requires_torch
@pytest.mark.parametrize("case", range(len(CONV_T_CASES)))
def test_conv_transpose3d_matches_torch(case):
    xs, ws, bias_size, kw = CONV_T_CASES[case]
    arrays = [rand(*xs), rand(*ws, seed=1)] + ([rand(bias_size, seed=2)] if bias_size else [])
    compare_with_torch(lambda lib, x, w, *b: lib.nn.functional.conv_transpose3d(x, w, *b, **kw), *arrays,
                       rtol=1e-4, atol=1e-4)


POOL_ARGS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
             dict(kernel_size=(2, 3, 2), stride=(1, 2, 3), padding=(1, 1, 0), dilation=(2, 1, 2), ceil_mode=True),
             dict(kernel_size=3, stride=2, ceil_mode=True)]


def ties(*shape, seed=0):
    return np.random.default_rng(seed).integers(-2, 3, size=shape).astype(np.float32)


@requires_torch
@pytest.mark.parametrize("args", POOL_ARGS)
def test_max_pool3d_matches_torch(args):
    compare_with_torch(lambda lib, x: lib.nn.functional.max_pool3d(x, return_indices=True, **args),
                       ties(2, 3, 6, 7, 8))
    compare_with_torch(lambda lib, x: lib.nn.functional.max_pool3d(x, **args), rand(3, 6, 7, 8))
    compare_with_torch(lambda lib, x: lib.nn.MaxPool3d(**args, return_indices=True)(x), rand(1, 2, 6, 7, 8))
    lowest = np.full((1, 1, 4, 4, 4), -np.inf, np.float32)
    compare_with_torch(lambda lib, x: lib.nn.functional.max_pool3d(x, 3, 2, 1, return_indices=True), lowest,
                       requires_grad=False)
    integers = np.random.default_rng(3).integers(-9, 9, size=(2, 2, 5, 6, 7))
    compare_with_torch(lambda lib, x: lib.nn.functional.max_pool3d(x, return_indices=True, **args), integers)
    compare_with_torch(lambda lib, x: lib.nn.functional.max_pool3d(x, return_indices=True, **args),
                       rand(0, 2, 6, 7, 8))
    compare_with_torch(lambda lib, x: lib.nn.functional.adaptive_max_pool3d(x, 3, return_indices=True),
                       rand(0, 2, 6, 7, 8))


@requires_torch
@pytest.mark.parametrize("args", POOL_ARGS)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool3d_matches_torch(args, count_include_pad):
    args = {k: v for k, v in args.items() if k != "dilation"}
    compare_with_torch(lambda lib, x: lib.nn.functional.avg_pool3d(x, count_include_pad=count_include_pad, **args),
                       rand(2, 3, 6, 7, 8))
    compare_with_torch(lambda lib, x: lib.nn.AvgPool3d(**args, divisor_override=5)(x), rand(3, 6, 7, 8))
    integers = np.random.default_rng(3).integers(-9, 9, size=(2, 2, 5, 6, 7))
    compare_with_torch(lambda lib, x: lib.nn.functional.avg_pool3d(x, count_include_pad=count_include_pad,
                                                                   **args), integers)


@requires_torch
@pytest.mark.parametrize("size", [(2, 3, 4), 3, (None, 5, 2), 1, (6, 7, 8), (4, 5, 6)])
def test_adaptive_pools_match_torch(size):
    compare_with_torch(lambda lib, x: lib.nn.functional.adaptive_avg_pool3d(x, size), rand(2, 3, 6, 7, 8))
    compare_with_torch(lambda lib, x: lib.nn.AdaptiveAvgPool3d(size)(x), rand(3, 6, 7, 8))
    compare_with_torch(lambda lib, x: lib.nn.functional.adaptive_max_pool3d(x, size, return_indices=True),
                       ties(2, 3, 6, 7, 8))
    compare_with_torch(lambda lib, x: lib.nn.AdaptiveMaxPool3d(size, return_indices=True)(x), rand(3, 6, 7, 8))


def copy_params(module_c, module_t):
    for (name, pc), (_, pt) in zip(module_c.named_parameters(), module_t.named_parameters()):
        with cgrad.no_grad():
            pc.copy_(cgrad.tensor(pt.detach().numpy()))


@requires_torch
@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Conv3d(4, 6, 3, stride=(1, 2, 1), padding=1, groups=2),
    lambda lib: lib.nn.Conv3d(4, 6, (3, 2, 3), padding="same", padding_mode="reflect", bias=False),
    lambda lib: lib.nn.Conv3d(4, 2, 3, padding=(2, 1, 1), padding_mode="circular"),
    lambda lib: lib.nn.Conv3d(4, 2, 3, padding=1, padding_mode="replicate", dilation=(1, 2, 1)),
    lambda lib: lib.nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
])
def test_conv_modules_match_torch(make):
    torch.manual_seed(0)
    module_t = make(torch).double()
    module_c = make(cgrad).double()
    assert repr(module_c) == repr(module_t)
    assert [tuple(p.shape) for p in module_c.parameters()] == [tuple(p.shape) for p in module_t.parameters()]
    copy_params(module_c, module_t)
    x = rand(2, 4, 5, 6, 7).astype(np.float64)
    xc, xt = cgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = module_c(xc), module_t(xt)
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yc.backward(cgrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    for pc, pt in zip(module_c.parameters(), module_t.parameters()):
        np.testing.assert_allclose(pc.grad.numpy(), pt.grad.numpy(), rtol=1e-10, atol=1e-10)


@requires_torch
def test_conv_transpose3d_output_size_matches_torch():
    mc = cgrad.nn.ConvTranspose3d(2, 3, 3, stride=2)
    mt = torch.nn.ConvTranspose3d(2, 3, 3, stride=2)
    copy_params(mc, mt)
    x = rand(1, 2, 3, 4, 5)
    yc = mc(cgrad.tensor(x), output_size=(8, 10, 12))
    yt = mt(torch.tensor(x), output_size=(8, 10, 12))
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("training", [True, False])
def test_norm3d_modules_match_torch(training):
    x = rand(3, 4, 3, 4, 5)
    for make in (lambda lib: lib.nn.BatchNorm3d(4, momentum=0.2),
                 lambda lib: lib.nn.InstanceNorm3d(4, affine=True, track_running_stats=True)):
        mc, mt = make(cgrad), make(torch)
        assert repr(mc) == repr(mt)
        mc.train(training)
        mt.train(training)
        for _ in range(2):
            compare_with_torch(lambda lib, x: (mc if lib is cgrad else mt)(x), x, rtol=1e-4, atol=1e-5)
        for (name, bc), (_, bt) in zip(mc.named_buffers(), mt.named_buffers()):
            np.testing.assert_allclose(bc.numpy(), bt.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    compare_with_torch(lambda lib, x: lib.nn.InstanceNorm3d(4)(x), rand(4, 3, 4, 5))
    assert_same_errors([lambda lib: lib.nn.BatchNorm3d(4)(lib.ones(2, 4, 3, 3)),
                        lambda lib: lib.nn.InstanceNorm3d(4)(lib.ones(2, 4, 3)),
                        lambda lib: lib.nn.InstanceNorm3d(4, affine=True)(lib.ones(2, 3, 3, 3, 3))], torch, cgrad)


@requires_torch
def test_errors_match_torch():
    x = lambda lib: lib.ones(2, 4, 5, 6, 7)      # noqa: E731
    w = lambda lib: lib.ones(6, 2, 3, 3, 3)      # noqa: E731
    conv = lambda lib, **kw: lib.nn.functional.conv3d(kw.pop("x", x(lib)), kw.pop("w", w(lib)), **kw)  # noqa: E731
    assert_same_errors([
        lambda lib: conv(lib, x=lib.ones(5, 6, 7)),
        lambda lib: conv(lib),
        lambda lib: conv(lib, w=lib.ones(5, 2, 3, 3, 3), groups=2),
        lambda lib: conv(lib, groups=2, stride=(1, 2)),
        lambda lib: conv(lib, groups=2, stride=0),
        lambda lib: conv(lib, groups=2, padding=-1),
        lambda lib: conv(lib, groups=2, dilation=0),
        lambda lib: conv(lib, groups=2, padding="same", stride=2),
        lambda lib: conv(lib, groups=2, padding="foo"),
        lambda lib: conv(lib, x=lib.ones(2, 4, 2, 6, 7), groups=2),
        lambda lib: conv(lib, w=lib.ones(6, 2, 3, 3, 3, dtype=lib.float64), groups=2),
        lambda lib: conv(lib, bias=lib.ones(5), groups=2),
        lambda lib: conv(lib, groups=2, w=lib.ones(8, 2, 3, 3, 3), bias=lib.ones(8, dtype=lib.float64)),
        lambda lib: conv(lib, w=lib.ones(6, 2, 3, 3), groups=2),
        lambda lib: lib.nn.functional.conv_transpose3d(x(lib), lib.ones(2, 6, 3, 3, 3), groups=2),
        lambda lib: lib.nn.functional.conv_transpose3d(x(lib), lib.ones(4, 6, 3, 3, 3), output_padding=1),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), (2, 2)),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), 2, stride=(1, 2)),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), 2, padding=(1, 2)),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), 2, dilation=(1, 2)),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), 2, padding=2),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), 2, padding=-1),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), 0),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), 2, dilation=0),
        lambda lib: lib.nn.functional.max_pool3d(x(lib)[0, 0], 2),
        lambda lib: lib.nn.functional.max_pool3d(x(lib)[:, :, :0], 2),
        lambda lib: lib.nn.functional.max_pool3d(x(lib), 9),
        lambda lib: lib.nn.functional.max_pool3d(x(lib).bool(), 2),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib), 9),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib), (2, 2)),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib), 2, stride=(1, 2)),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib), 2, padding=(1, 2)),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib), 2, padding=2),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib), 2, divisor_override=0),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib)[0, 0], 2),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib)[:, :, :0], 2),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib).bool(), 2),
        lambda lib: lib.nn.functional.avg_pool3d(x(lib).half(), 2),
        lambda lib: lib.nn.functional.adaptive_avg_pool3d(x(lib), (2, 3)),
        lambda lib: lib.nn.functional.adaptive_max_pool3d(x(lib), (2, 3)),
        lambda lib: lib.nn.functional.adaptive_avg_pool3d(x(lib)[0, 0], (2, 3, 3)),
        lambda lib: lib.nn.functional.adaptive_max_pool3d(x(lib)[0, 0], (2, 3, 3)),
        lambda lib: lib.nn.functional.adaptive_avg_pool3d(x(lib).long(), (2, 3, 3)),
        lambda lib: lib.nn.functional.adaptive_max_pool3d(x(lib).long(), (2, 3, 3)),
        lambda lib: lib.nn.functional.adaptive_max_pool3d(x(lib)[:, :0], 2),
        lambda lib: lib.nn.functional.adaptive_avg_pool3d(x(lib)[:, :0], 2),
    ], torch, cgrad)


def f64(*shape, seed=0):
    return cgrad.tensor(rand(*shape, seed=seed).astype(np.float64), requires_grad=True)


def test_gradcheck_float64():
    x, w, b = f64(1, 2, 4, 4, 5), f64(4, 1, 2, 2, 3, seed=1), f64(4, seed=2)
    fn = lambda x, w, b: F.conv3d(x, w, b, stride=(2, 1, 1), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2)  # noqa
    assert gradcheck(fn, (x, w, b)) and gradgradcheck(fn, (x, w, b))
    xt, wt = f64(1, 2, 2, 3, 2), f64(2, 2, 2, 2, 2, seed=1)
    fn = lambda x, w: F.conv_transpose3d(x, w, stride=2, padding=(1, 0, 0), output_padding=1, groups=2)  # noqa
    assert gradcheck(fn, (xt, wt)) and gradgradcheck(fn, (xt, wt))
    p = f64(1, 2, 4, 5, 4)
    for fn in (lambda p: F.max_pool3d(p, 2, stride=(1, 2, 1), padding=1, ceil_mode=True),
               lambda p: F.avg_pool3d(p, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
               lambda p: F.adaptive_avg_pool3d(p, (3, 2, 3)),
               lambda p: F.adaptive_max_pool3d(p, (3, 2, 3))):
        assert gradcheck(fn, (p,)) and gradgradcheck(fn, (p,))


def test_known_values_without_torch():
    x = cgrad.arange(64.0).reshape(1, 1, 4, 4, 4)
    assert F.max_pool3d(x, 2).flatten().tolist() == [21.0, 23.0, 29.0, 31.0, 53.0, 55.0, 61.0, 63.0]
    _, indices = F.max_pool3d(x, 2, return_indices=True)
    assert indices.flatten().tolist() == [21, 23, 29, 31, 53, 55, 61, 63]
    assert F.avg_pool3d(x, 4).item() == 31.5
    assert F.adaptive_avg_pool3d(x, 1).item() == 31.5
    assert F.adaptive_max_pool3d(x, (1, 1, 2)).flatten().tolist() == [61.0, 63.0]
    ones = cgrad.ones(1, 1, 3, 3, 3)
    assert F.conv3d(ones, cgrad.ones(1, 1, 3, 3, 3), padding=1)[0, 0, 1, 1, 1].item() == 27.0
    assert F.conv3d(ones, cgrad.ones(1, 1, 3, 3, 3), padding=1)[0, 0, 0, 0, 0].item() == 8.0
    # the transposed convolution is the convolution's adjoint: <conv(x), y> == <x, conv_t(y)>
    xr, w, y = f64(1, 2, 4, 5, 3), f64(3, 2, 2, 3, 2, seed=1), f64(1, 3, 2, 3, 1, seed=2)
    lhs = (F.conv3d(xr, w, stride=(2, 2, 2), padding=(0, 1, 0)) * y).sum().item()
    rhs = (xr * F.conv_transpose3d(y, w, stride=(2, 2, 2), padding=(0, 1, 0), output_padding=(0, 0, 1))).sum().item()
    assert abs(lhs - rhs) < 1e-9
    out = F.conv3d(f64(1, 1, 3, 3, 3), f64(1, 1, 2, 2, 2))
    assert type(out.grad_fn).__name__ == "ConvolutionBackward0"
    assert type(F.max_pool3d(f64(1, 1, 2, 2, 2), 2).grad_fn).__name__ == "MaxPool3DWithIndicesBackward0"
    m = nn.BatchNorm3d(2)
    m(cgrad.tensor(rand(2, 2, 2, 2, 2)))
    assert m.num_batches_tracked.item() == 1


@requires_torch
def test_forward_ad_matches_torch():
    """Tangents through the volumetric ops (and conv_transpose1d/2d, whose
    dual inputs without requires_grad used to get no tangent, then zeros)."""
    rng = np.random.default_rng(0)
    x5, t5 = rng.standard_normal((1, 2, 4, 4, 4)), rng.standard_normal((1, 2, 4, 4, 4))
    w5, tw5 = rng.standard_normal((2, 1, 2, 2, 2)), rng.standard_normal((2, 1, 2, 2, 2))
    b, tb = rng.standard_normal(2), rng.standard_normal(2)
    calls = [lambda F, x, w, b: F.conv3d(x, w, b, groups=2, padding=1),
             lambda F, x, w, b: F.conv_transpose3d(x, w, b, stride=2, groups=2),
             lambda F, x, w, b: F.conv_transpose2d(x[:, :, 0], w[:, :, 0], b, stride=2, groups=2),
             lambda F, x, w, b: F.conv_transpose1d(x[0, :, 0, 0], w[:, :, 0, 0], b, groups=2),
             lambda F, x, w, b: F.max_pool3d(x, 2, stride=1),
             lambda F, x, w, b: F.avg_pool3d(x, 3, stride=2, padding=1),
             lambda F, x, w, b: F.adaptive_avg_pool3d(x, (3, 2, 3)),
             lambda F, x, w, b: F.adaptive_max_pool3d(x, (3, 2, 3))]
    for call in calls:
        tangents = []
        for lib in (cgrad, torch):
            fw = lib.autograd.forward_ad
            with fw.dual_level():
                duals = [fw.make_dual(lib.tensor(p), lib.tensor(t)) for p, t in ((x5, t5), (w5, tw5), (b, tb))]
                tangents.append(fw.unpack_dual(call(lib.nn.functional, *duals)).tangent.numpy().copy())
        np.testing.assert_allclose(tangents[0], tangents[1], rtol=1e-10, atol=1e-12)
