"""interpolate's PyTorch 2.13 modes added after the first round, against
torch: lanczos (Lanczos-3, antialias=True only, 4-D), mode='area' on 5-D
input (adaptive_avg_pool3d), and antialias's dtype refusals."""
import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as CF
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF


def compare(shape, kw, dtype=np.float64, tol=1e-12):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    outs = []
    for lib, F in ((torch, TF), (cgrad, CF)):
        t = lib.tensor(x, requires_grad=True)
        out = F.interpolate(t, **kw)
        g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype)
        out.backward(lib.tensor(g))
        outs.append((out, t.grad))
    (ot, gt), (oc, gc) = outs
    assert oc.grad_fn.name() == ot.grad_fn.name()
    assert str(oc.dtype).split(".")[-1] == str(ot.dtype).split(".")[-1]
    np.testing.assert_allclose(oc.detach().numpy().astype(np.float64), ot.detach().numpy().astype(np.float64),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(gc.numpy().astype(np.float64), gt.numpy().astype(np.float64), rtol=tol * 10,
                               atol=tol * 10)


@requires_torch
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("kw", [dict(size=(3, 3)), dict(size=(9, 12)), dict(size=(2, 5)), dict(size=(1, 1)),
                                dict(size=(4, 20)), dict(scale_factor=(0.45, 1.6)), dict(scale_factor=0.3),
                                dict(scale_factor=0.5, recompute_scale_factor=True)])
def test_lanczos_matches_torch(kw, dtype, tol):
    compare((2, 3, 5, 7), dict(mode="lanczos", antialias=True, **kw), dtype, tol)


@requires_torch
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-6), (np.float16, 2e-3)])
@pytest.mark.parametrize("kw", [dict(size=(2, 3, 4)), dict(size=(1, 1, 1)), dict(size=(3, 5, 7)),
                                dict(size=(6, 8, 10)), dict(size=(1, 2, 1)), dict(scale_factor=0.5),
                                dict(scale_factor=(0.5, 1.5, 0.7))])
def test_area_on_5d_input_matches_torch(kw, dtype, tol):
    compare((2, 3, 4, 5, 7), dict(mode="area", **kw), dtype, tol)


@requires_torch
def test_errors_match_torch():
    cases = [((1, 2, 5, 7), dict(size=(3, 3), mode="lanczos")),
             ((1, 2, 5, 7), dict(size=(3, 3), mode="lanczos", antialias=True, align_corners=True)),
             ((1, 2, 5), dict(size=(3,), mode="lanczos", antialias=True)),
             ((1, 2, 5), dict(size=(3,), mode="lanczos")),
             ((1, 2, 3, 5, 7), dict(size=(2, 3, 3), mode="lanczos", antialias=True))]
    dtyped = [(np.float16, "lanczos"), (np.float16, "bilinear"), (np.int64, "bicubic"), (np.int32, "lanczos"),
              (np.bool_, "bilinear")]
    for shape, kw in cases + [((1, 2, 5, 7), dict(size=(3, 3), mode=m, antialias=True, _dtype=d))
                              for d, m in dtyped] + [((1, 2, 3, 4, 5), dict(size=(2, 2, 2), mode="area",
                                                                             _dtype=np.int64))]:
        kw = dict(kw)
        x = np.ones(shape, kw.pop("_dtype", np.float32))
        results = []
        for lib, F in ((torch, TF), (cgrad, CF)):
            with pytest.raises(Exception) as err:
                F.interpolate(lib.tensor(x), **kw)
            results.append((type(err.value).__name__, str(err.value)))
        assert results[0] == results[1], (shape, kw)


def test_lanczos_and_area_gradcheck():
    x = cgrad.tensor(np.random.default_rng(0).standard_normal((1, 2, 7, 6)), requires_grad=True)
    f = lambda t: CF.interpolate(t, size=(3, 4), mode="lanczos", antialias=True)  # noqa: E731
    assert gradcheck(f, (x,)) and gradgradcheck(f, (x,))
    y = cgrad.tensor(np.random.default_rng(1).standard_normal((1, 2, 3, 4, 5)), requires_grad=True)
    g = lambda t: CF.interpolate(t, size=(2, 3, 2), mode="area")  # noqa: E731
    assert gradcheck(g, (y,)) and gradgradcheck(g, (y,))


def test_area_5d_values_without_oracle():
    x = cgrad.arange(2 * 4 * 4 * 4, dtype=cgrad.float64).reshape(1, 2, 4, 4, 4)
    out = CF.interpolate(x, size=(2, 2, 2), mode="area")
    expected = x.numpy().reshape(1, 2, 2, 2, 2, 2, 2, 2).mean(axis=(3, 5, 7))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-15)
