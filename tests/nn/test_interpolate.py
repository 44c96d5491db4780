"""F.interpolate / upsample* and the Upsample modules against torch: every
mode (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area)
over sizes and scale factors (with and without recompute_scale_factor and
align_corners), values, gradients, dtypes and grad_fn names, PyTorch's
errors and warnings; float64 gradcheck and gradgradcheck per mode."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as CF
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF

TOL = {np.float32: 2e-6, np.float64: 1e-12, np.float16: 2e-3}


def run(lib, F, x, kw, g=None):
    t = lib.tensor(x, requires_grad=True)
    out = F.interpolate(t, **kw)
    if g is None:
        g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(x.dtype)
    out.backward(lib.tensor(g))
    return out, t.grad


def compare(shape, kw, dtype=np.float32, tol=None):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    try:
        ot, gt = run(torch, TF, x, kw)
    except RuntimeError as e:  # e.g. a scale giving an empty output: the same error
        with pytest.raises(RuntimeError) as err:
            run(cgrad, CF, x, kw)
        assert str(err.value) == str(e)
        return
    oc, gc = run(cgrad, CF, x, kw)
    assert type(oc.grad_fn).__name__ == type(ot.grad_fn).__name__
    assert str(oc.dtype).split(".")[-1] == str(ot.dtype).split(".")[-1]
    tol = tol or TOL[dtype]
    np.testing.assert_allclose(oc.detach().numpy().astype(np.float64), ot.detach().numpy().astype(np.float64),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(gc.numpy().astype(np.float64), gt.numpy().astype(np.float64),
                               rtol=tol * 10, atol=tol * 10)


SIZES_2D = [(6, 8), (5, 7), (2, 3), (3, 4), (1, 1), (7, 2), (13, 9)]
SCALES_2D = [2, 3, 0.5, 1.7, (2.5, 0.8), 1.0, 0.3333]


@requires_torch
@pytest.mark.parametrize("hw", [(3, 4), (5, 5), (1, 7)])
@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("nearest-exact", None), ("bilinear", False),
                                                ("bilinear", True), ("bicubic", False), ("bicubic", True)])
def test_2d_modes_match_torch(mode, align_corners, hw):
    # bicubic: PyTorch's kernel evaluates its cubic polynomials with fused
    # multiply-adds, so float32 results differ in the last bits
    tol = 5e-6 if mode == "bicubic" else None
    for size in SIZES_2D:
        compare((2, 3) + hw, dict(size=size, mode=mode, align_corners=align_corners), tol=tol)
    for sf in SCALES_2D:
        for recompute in (None, True):
            compare((2, 3) + hw, dict(scale_factor=sf, mode=mode, align_corners=align_corners,
                                      recompute_scale_factor=recompute), tol=tol)


@requires_torch
@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("nearest-exact", None), ("linear", False),
                                                ("linear", True)])
def test_1d_modes_match_torch(mode, align_corners):
    for length in (1, 4, 7):
        for size in (1, 3, 8, 11, 4):
            compare((2, 3, length), dict(size=size, mode=mode, align_corners=align_corners))
        for sf in (2, 0.5, 1.3, 2.7):
            compare((2, 3, length), dict(scale_factor=sf, mode=mode, align_corners=align_corners))


@requires_torch
@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("nearest-exact", None), ("trilinear", False),
                                                ("trilinear", True)])
def test_3d_modes_match_torch(mode, align_corners):
    compare((1, 2, 3, 4, 2), dict(size=(4, 3, 5), mode=mode, align_corners=align_corners))
    compare((1, 2, 3, 4, 2), dict(scale_factor=1.5, mode=mode, align_corners=align_corners))


@requires_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float16])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
def test_other_float_dtypes_match_torch(mode, dtype):
    compare((2, 3, 4, 5), dict(size=(7, 3), mode=mode), dtype)
    compare((2, 3, 4, 5), dict(scale_factor=1.5, mode=mode), dtype)


@requires_torch
def test_area_mode_is_adaptive_average_pooling():
    compare((2, 3, 4, 5), dict(size=3, mode="area"))
    compare((2, 3, 7), dict(size=3, mode="area"))
    compare((2, 3, 6, 6), dict(scale_factor=0.5, mode="area"))


@requires_torch
def test_empty_batch_and_errors_match_torch():
    cases = [((0, 3, 4, 5), dict(size=3)),
             ((1, 0, 4, 5), dict(size=3)),
             ((2, 3, 4, 5), dict(size=(0, 3))),
             ((2, 3, 4), dict(size=0)),
             ((1, 1, 2, 2, 2), dict(size=0)),
             ((2, 3, 4, 5), dict(scale_factor=-1.0)),
             ((2, 3, 4, 5), dict(scale_factor=0.1, mode="bilinear")),
             ((2, 3), dict(size=3)),
             ((2, 3, 4, 5), dict(size=3, mode="foo")),
             ((2, 3, 4, 5), dict(size=3, mode="linear")),
             ((2, 3, 4), dict(size=3, mode="bilinear")),
             ((2, 3, 4), dict(size=3, mode="trilinear")),
             ((2, 3, 4, 5), dict(size=3, mode="nearest", align_corners=True)),
             ((2, 3, 4, 5), dict(size=3, scale_factor=2)),
             ((2, 3, 4, 5), dict()),
             ((2, 3, 4, 5), dict(size=(2,))),
             ((2, 3, 4, 5), dict(scale_factor=(2,))),
             ((2, 3, 4, 5), dict(size=(2.5, 3))),
             ((2, 3, 4, 5), dict(size=3, recompute_scale_factor=True)),
             ((2, 3, 4, 5), dict(size=3, mode="nearest", antialias=True)),
             ((2, 3, 4), dict(size=3, mode="linear", antialias=True))]
    for shape, kw in cases:
        x = np.ones(shape, np.float32)
        results = []
        for lib, F in ((torch, TF), (cgrad, CF)):
            try:
                out = F.interpolate(lib.tensor(x), **kw)
                results.append(("ok", tuple(out.shape)))
            except Exception as e:  # noqa: BLE001 (the exception itself is compared)
                results.append((type(e).__name__, str(e).replace("torch.", "cgrad.")))
        assert results[0] == results[1], (shape, kw)


@requires_torch
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_integer_input_refused_as_torch(mode):
    texts = []
    for lib, F in ((torch, TF), (cgrad, CF)):
        with pytest.raises(NotImplementedError) as err:
            F.interpolate(lib.ones(1, 2, 3, 4, dtype=lib.int64), size=3, mode=mode)
        texts.append(str(err.value))
    assert texts[0] == texts[1]


@pytest.mark.parametrize("mode,shape", [("nearest", (1, 2, 3, 4)), ("nearest-exact", (1, 2, 3, 4)),
                                        ("bilinear", (1, 2, 3, 4)), ("bicubic", (1, 2, 3, 4)),
                                        ("linear", (2, 1, 5)), ("trilinear", (1, 1, 2, 3, 2))])
def test_gradcheck_and_gradgradcheck(mode, shape):
    x = cgrad.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    kw = dict(scale_factor=1.7, mode=mode)
    if mode not in ("nearest", "nearest-exact"):
        kw["align_corners"] = False
    assert gradcheck(lambda t: CF.interpolate(t, **kw), (x,))
    assert gradgradcheck(lambda t: CF.interpolate(t, **kw), (x,))


def test_values_without_oracle():
    """Hand-computed: nearest doubles each pixel; bilinear with
    align_corners=True puts the mean of neighbours between them."""
    x = cgrad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    near = CF.interpolate(x, scale_factor=2)
    assert near.tolist() == [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0],
                               [3.0, 3.0, 4.0, 4.0]]]]
    lin = CF.interpolate(x, size=3, mode="bilinear", align_corners=True)
    assert lin.tolist() == [[[[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]]]]
    assert lin.grad_fn is None and near.grad_fn is None


@requires_torch
@pytest.mark.parametrize("fname,kw", [("upsample", dict(scale_factor=2)), ("upsample_nearest", dict(scale_factor=2)),
                                      ("upsample_bilinear", dict(size=(3, 5)))])
def test_deprecated_spellings_warn_as_torch(fname, kw):
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 4)).astype(np.float32)
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        ot = getattr(TF, fname)(torch.tensor(x), **kw)
    with warnings.catch_warnings(record=True) as wc:
        warnings.simplefilter("always")
        oc = getattr(CF, fname)(cgrad.tensor(x), **kw)
    assert [str(w.message) for w in wc] == [str(w.message) for w in wt]
    np.testing.assert_allclose(oc.numpy(), ot.numpy(), rtol=1e-6, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("name,args,kwargs", [
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(size=(3, 4), mode="bilinear", align_corners=True)),
    ("Upsample", (), dict(scale_factor=(2, 3))),
    ("Upsample", (), dict(size=5, mode="bicubic")),
    ("UpsamplingNearest2d", (), dict(scale_factor=2)),
    ("UpsamplingBilinear2d", (), dict(size=3)),
    ("UpsamplingBilinear2d", (), dict(scale_factor=1.5))])
def test_modules_match_torch(name, args, kwargs):
    mc, mt = getattr(cgrad.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(mc) == repr(mt)
    assert mc.state_dict() == {} and dict(mt.state_dict()) == {}
    for attr in ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "name"):
        assert getattr(mc, attr) == getattr(mt, attr), attr
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    lc, lt = cgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = mc(lc), mt(lt)
    assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__
    tol = 5e-6 if mc.mode == "bicubic" else 2e-6
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    yc.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(lc.grad.numpy(), lt.grad.numpy(), rtol=1e-5, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hw", [(8, 9), (5, 5), (16, 6)])
@pytest.mark.parametrize("mode,align_corners", [("bilinear", False), ("bilinear", True), ("bicubic", False),
                                                ("bicubic", True)])
def test_antialias_matches_torch(mode, align_corners, hw, dtype):
    for kw in (dict(size=(3, 4)), dict(size=(11, 7)), dict(scale_factor=0.37), dict(scale_factor=2.0),
               dict(size=(1, 1)), dict(size=hw)):
        compare((2, 3) + hw, dict(mode=mode, align_corners=align_corners, antialias=True, **kw), dtype,
                tol=1e-5 if dtype == np.float32 else 1e-12)


@requires_torch
def test_antialias_to_width_one_is_separable():
    """PyTorch 2.13 gives every row the first row's value when the width
    shrinks to 1 while the height changes (a bug of its vertical pass);
    cgrad's result is the separable one: the same as resampling the
    transposed image, which PyTorch computes correctly."""
    x = np.random.default_rng(0).standard_normal((1, 1, 16, 3)).astype(np.float32)
    got = CF.interpolate(cgrad.tensor(x), scale_factor=0.37, mode="bilinear", antialias=True)
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2))
    expected = TF.interpolate(torch.tensor(xt), scale_factor=0.37, mode="bilinear", antialias=True)
    np.testing.assert_allclose(got.numpy().reshape(-1), expected.numpy().reshape(-1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_gradcheck(mode):
    x = cgrad.tensor(np.random.default_rng(0).standard_normal((1, 2, 7, 6)), requires_grad=True)
    assert gradcheck(lambda t: CF.interpolate(t, size=(3, 4), mode=mode, antialias=True), (x,))
    assert gradgradcheck(lambda t: CF.interpolate(t, size=(3, 4), mode=mode, antialias=True), (x,))
