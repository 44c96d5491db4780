"""rrelu (cgrad.rrelu/rrelu_, F.rrelu/rrelu_, nn.RReLU) against torch:
evaluation is deterministic (slope (lower + upper) / 2) and must equal
torch's values and gradients; training draws slopes in [lower, upper] for
x <= 0 from cgrad's generator (its stream is cgrad's own, so the tests check
the range, the per-element gradient = slope, and reproducibility with a
seeded generator); grad_fn names, errors, and float64 gradcheck."""
import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as CF
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import requires_torch, torch

X = np.array([-1.0, 2.0, -3.0, 0.0, np.nan, 0.5, -0.25])


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("form", ["F", "F_inplace", "fn", "fn_", "F_"])
@pytest.mark.parametrize("bounds", [(), (0.1, 0.3), (0.2, 0.2)])
def test_evaluation_matches_torch(form, dtype, bounds):
    x = X.astype(dtype)
    res = []
    for lib in (cgrad, torch):
        leaf = lib.tensor(x, requires_grad=True)
        t = leaf * 1
        y = {"F": lambda: lib.nn.functional.rrelu(t, *bounds),
             "F_inplace": lambda: lib.nn.functional.rrelu(t, *bounds, inplace=True) if bounds else
             lib.nn.functional.rrelu(t, inplace=True),
             "fn": lambda: lib.rrelu(t, *bounds),
             "fn_": lambda: lib.rrelu_(t, *bounds),
             "F_": lambda: lib.nn.functional.rrelu_(t, *bounds)}[form]()
        assert (y is t) == (form in ("F_inplace", "fn_", "F_"))
        y.backward(lib.ones(len(x), dtype=y.dtype))
        res.append((y.grad_fn.name(), str(y.dtype).split(".")[-1], y.detach().numpy(), leaf.grad.numpy(),
                    t._version))
    assert res[0][0] == res[1][0] and res[0][1] == res[1][1] and res[0][4] == res[1][4]
    np.testing.assert_array_equal(res[0][2], res[1][2])
    np.testing.assert_array_equal(res[0][3], res[1][3])


@pytest.mark.parametrize("inplace", [False, True])
def test_training_draws_slopes_in_range(inplace):
    x_np = -np.linspace(0.5, 3, 400)
    leaf = cgrad.tensor(np.concatenate([x_np, [2.0, 0.0]]), requires_grad=True)
    t = leaf * 1
    y = CF.rrelu(t, 0.1, 0.3, training=True, inplace=inplace)
    assert y.grad_fn.name() == ("RreluWithNoiseBackward1" if inplace else "RreluWithNoiseBackward0")
    slopes = (y.detach().numpy()[:400] / x_np)
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    assert y[400].item() == 2.0 and y[401].item() == 0.0
    y.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy()[:400], slopes, rtol=1e-12)
    assert leaf.grad[400].item() == 1.0 and 0.1 <= leaf.grad[401].item() <= 0.3


def test_training_uses_the_generator():
    g = cgrad.Generator().manual_seed(3)
    a = cgrad.rrelu(-cgrad.ones(50), 0.1, 0.3, True, generator=g)
    g.manual_seed(3)
    b = cgrad.rrelu(-cgrad.ones(50), 0.1, 0.3, True, generator=g)
    assert cgrad.equal(a, b)
    cgrad.manual_seed(5)
    c = CF.rrelu(-cgrad.ones(50), training=True)
    cgrad.manual_seed(5)
    assert cgrad.equal(c, CF.rrelu(-cgrad.ones(50), training=True))


@requires_torch
def test_module_matches_torch():
    for args, kwargs in [((), {}), ((0.1, 0.3), {}), ((), {"inplace": True})]:
        mc, mt = cgrad.nn.RReLU(*args, **kwargs), torch.nn.RReLU(*args, **kwargs)
        assert repr(mc) == repr(mt)
        assert (mc.lower, mc.upper, mc.inplace, mc.training) == (mt.lower, mt.upper, mt.inplace, mt.training)
        mc.eval()
        mt.eval()
        yc, yt = mc(cgrad.tensor(X) * 1), mt(torch.tensor(X) * 1)
        np.testing.assert_array_equal(yc.numpy(), yt.numpy())
        mc.train()
        y = mc(cgrad.tensor(-np.ones(100)))
        assert 0.0 < (-y).min().item() and (-y).max().item() <= mc.upper


@requires_torch
def test_errors_match_torch():
    x = X.astype(np.float32)
    for call in (lambda L, T: L.nn.functional.rrelu(T.tensor([1, 2])),
                 lambda L, T: L.nn.functional.rrelu(T.tensor([1, 2]), training=True),
                 lambda L, T: L.nn.functional.rrelu(T.tensor(x), lower=0.5, upper=0.1, training=True),
                 lambda L, T: L.nn.functional.rrelu(T.tensor(x), lower=0.5, upper=0.1),
                 lambda L, T: L.rrelu(T.tensor(x).half(), training=True),
                 lambda L, T: L.nn.functional.rrelu(T.tensor([True])),
                 lambda L, T: L.rrelu(1),
                 lambda L, T: L.rrelu_(T.tensor(x, requires_grad=True)),
                 lambda L, T: L.func.vmap(L.nn.functional.rrelu)(T.tensor(x).reshape(7, 1)),
                 lambda L, T: L.func.vmap(lambda t: L.nn.functional.rrelu(t * 1, inplace=True))(
                     T.tensor(x).reshape(7, 1)),
                 lambda L, T: L.func.vmap(L.rrelu)(T.tensor(x).reshape(7, 1))):
        texts = []
        for lib in (cgrad, torch):
            with pytest.raises(Exception) as err:
                call(lib, lib)
            texts.append((type(err.value).__name__, str(err.value)))
        assert texts[0] == texts[1]


@pytest.mark.parametrize("training", [False, True])
def test_gradcheck(training):
    x = cgrad.tensor([-1.0, 2.0, -3.0, 0.5], dtype=cgrad.float64, requires_grad=True)
    g = cgrad.Generator()

    def f(t):
        g.manual_seed(0)        # the same slopes at every evaluation
        return cgrad.rrelu(t, 0.1, 0.3, training, generator=g)

    def f_inplace(t):
        g.manual_seed(0)
        return cgrad.rrelu_(t * 1, 0.1, 0.3, training, generator=g)

    for fn in (f, f_inplace):
        assert gradcheck(fn, (x,)) and gradgradcheck(fn, (x,))


@requires_torch
def test_forward_ad_matches_torch():
    x = np.array([0.3, -1.2, 2.7, -0.4])
    t = np.array([1.0, 2.0, -0.5, 3.0])
    tangents = []
    for lib in (cgrad, torch):
        with lib.autograd.forward_ad.dual_level():
            d = lib.autograd.forward_ad.make_dual(lib.tensor(x), lib.tensor(t))
            y = lib.nn.functional.rrelu(d, 0.1, 0.3)
            with pytest.raises(NotImplementedError) as err:      # torch has no in-place formula
                lib.nn.functional.rrelu(d * 1, 0.1, 0.3, inplace=True)
            tangents.append((lib.autograd.forward_ad.unpack_dual(y).tangent.numpy(), str(err.value)))
    np.testing.assert_allclose(tangents[0][0], tangents[1][0], rtol=1e-12)
    assert tangents[0][1] == tangents[1][1]


def test_rrelu_training_bfloat16_as_pytorchs_kernel():
    """bfloat16 in training (refused before): PyTorch multiplies by the
    float32 slope and rounds once, and saves the slope rounded to bfloat16
    for the backward."""
    data = np.random.default_rng(0).standard_normal(500).astype(np.float32)

    def run(lib):
        lib.manual_seed(3)
        x = lib.tensor(data).to(lib.bfloat16).requires_grad_()
        y = lib.nn.functional.rrelu(x, training=True)
        y.sum().backward()
        return y, x.grad
    y, grad = run(cgrad)
    assert y.dtype == cgrad.bfloat16 and y.grad_fn.name() == "RreluWithNoiseBackward0"
    negative = data < 0
    slopes = grad.float().numpy()
    assert np.all(slopes[~negative] == 1) and np.all((slopes[negative] >= 0.124) & (slopes[negative] <= 0.334))
    if torch is not None:
        theirs, their_grad = run(torch)
        np.testing.assert_array_equal(y.detach().float().numpy(), theirs.detach().float().numpy())
        np.testing.assert_array_equal(slopes, their_grad.float().numpy())
