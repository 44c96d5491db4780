"""CPU autocast (cgrad.autocast('cpu'), cgrad.amp.autocast(device_type='cpu'))
against torch's: the lower-precision list (matmul family, linear, the
convolutions, scaled_dot_product_attention) computes in the autocast dtype
(bfloat16 by default, float16 when given), with the casts recorded as
ToCopyBackward0; the fp32 list (the losses) computes in float32; other ops
keep their inputs' dtypes; float64 is never cast; the state functions
(get/set_autocast_dtype, is_autocast_enabled, nesting) and the warning for
an unsupported dtype. Values are compared bit for bit."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def arr(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(np.float32)


def tensors(lib, *arrays, requires_grad=False):
    return [lib.tensor(a, requires_grad=requires_grad) for a in arrays]


def values(t):
    t = t.detach()
    return (t.float() if str(t.dtype).endswith("bfloat16") else t).numpy()


def test_state_and_defaults():
    assert cgrad.get_autocast_dtype("cpu") == cgrad.bfloat16
    assert cgrad.get_autocast_dtype("cuda") == cgrad.float16
    assert not cgrad.is_autocast_enabled("cpu")
    assert cgrad.amp.is_autocast_available("cpu")
    with cgrad.autocast("cpu"):
        assert cgrad.is_autocast_enabled("cpu") and not cgrad.is_autocast_enabled()
        assert (cgrad.ones(2, 3) @ cgrad.ones(3, 2)).dtype == cgrad.bfloat16
        with cgrad.autocast("cpu", enabled=False):
            assert (cgrad.ones(2, 3) @ cgrad.ones(3, 2)).dtype == cgrad.float32
        assert (cgrad.ones(2, 3) @ cgrad.ones(3, 2)).dtype == cgrad.bfloat16
    assert not cgrad.is_autocast_enabled("cpu")
    assert (cgrad.ones(2, 3) @ cgrad.ones(3, 2)).dtype == cgrad.float32


def test_float16_and_set_autocast_dtype():
    with cgrad.amp.autocast(device_type="cpu", dtype=cgrad.float16):
        assert (cgrad.ones(2, 3) @ cgrad.ones(3, 2)).dtype == cgrad.float16
        assert cgrad.get_autocast_dtype("cpu") == cgrad.float16
    assert cgrad.get_autocast_dtype("cpu") == cgrad.bfloat16
    try:
        cgrad.set_autocast_dtype("cpu", cgrad.float16)
        with cgrad.autocast("cpu"):
            assert (cgrad.ones(2, 3) @ cgrad.ones(3, 2)).dtype == cgrad.float16
    finally:
        cgrad.set_autocast_dtype("cpu", cgrad.bfloat16)


def test_unsupported_dtype_disables_autocast():
    with pytest.warns(UserWarning, match="CPU Autocast only supports dtypes of torch.bfloat16, torch.float16"):
        with cgrad.autocast("cpu", dtype=cgrad.float64):
            assert not cgrad.is_autocast_enabled("cpu")
            assert (cgrad.ones(2, 3) @ cgrad.ones(3, 2)).dtype == cgrad.float32


def test_decorator_form():
    @cgrad.autocast("cpu")
    def product(a, b):
        return a @ b
    assert product(cgrad.ones(2, 3), cgrad.ones(3, 2)).dtype == cgrad.bfloat16
    assert not cgrad.is_autocast_enabled("cpu")


def test_float64_and_integers_are_not_cast():
    with cgrad.autocast("cpu"):
        assert (cgrad.ones(2, 3, dtype=cgrad.float64) @ cgrad.ones(3, 2, dtype=cgrad.float64)).dtype == cgrad.float64
        assert (cgrad.ones(2, 3, dtype=cgrad.int64) @ cgrad.ones(3, 2, dtype=cgrad.int64)).dtype == cgrad.int64
        assert (cgrad.ones(3) + 1).dtype == cgrad.float32


def test_the_cast_is_recorded():
    lin = cgrad.nn.Linear(4, 3)
    with cgrad.autocast("cpu"):
        y = lin(cgrad.ones(2, 4))
    assert y.dtype == cgrad.bfloat16 and type(y.grad_fn).__name__ == "AddmmBackward0"
    names = [type(f).__name__ for f, _ in y.grad_fn.next_functions if f is not None]
    assert names == ["ToCopyBackward0", "TBackward0"]
    y.float().sum().backward()
    assert lin.weight.grad.dtype == cgrad.float32 and lin.bias.grad.dtype == cgrad.float32


# (name, op, whether its values are compared bit for bit): baddbmm,
# scaled_dot_product_attention and layer_norm's backward round at other
# steps than PyTorch's in bfloat16 with or without autocast (as in float16),
# so there the dtypes, the casts and the values within bfloat16's precision
# at the result's scale are what is checked;
# float32 results (the fp32 list, float32 ops on the products) within
# float32's last bits (PyTorch's reductions sum in another order)
OPS = [
    ("matmul", lambda L, a, b: a @ b.T, True), ("mm", lambda L, a, b: L.mm(a, b.T), True),
    ("bmm", lambda L, a, b: L.bmm(a[None], b.T[None]), True),
    ("linear", lambda L, a, b: L.nn.functional.linear(a, b, b[0, :4]), True),
    ("addmm", lambda L, a, b: L.addmm(b[:4, :4], a, b.T), True),
    ("baddbmm", lambda L, a, b: L.baddbmm(b[None, :4, :4], a[None], b.T[None]), False),
    ("conv2d", lambda L, a, b: L.nn.functional.conv2d(a[None, None], b[None, None, :2, :2]), True),
    ("conv1d", lambda L, a, b: L.nn.functional.conv1d(a[None], b[:2, :3].reshape(2, 1, 3).expand(2, 4, 3)), True),
    ("sdpa", lambda L, a, b: L.nn.functional.scaled_dot_product_attention(a[None], b[None], b[None]), False),
    ("cross_entropy", lambda L, a, b: L.nn.functional.cross_entropy(a @ b.T, L.tensor([0, 1, 2, 3])), True),
    ("mse_loss", lambda L, a, b: L.nn.functional.mse_loss(a @ b.T, b[:, :4]), True),
    ("l1_loss", lambda L, a, b: L.nn.functional.l1_loss(a @ b.T, b[:, :4]), True),
    ("bce_with_logits", lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(a @ b.T, b[:, :4].sigmoid()),
     True),
    ("softmax_of_product", lambda L, a, b: (a @ b.T).softmax(-1), True),
    ("sum_and_float32", lambda L, a, b: (a @ b.T) + a[:, :4], True),
    ("mv_stays_float32", lambda L, a, b: L.mv(a, b[0]), True),
    ("layer_norm_of_product", lambda L, a, b: L.nn.functional.layer_norm(a @ b.T, (4,)), False),
]


def assert_values(c, t, exact, what):
    want = values(t)
    if not exact:
        scale = float(np.abs(want).max()) if want.size else 0.0
        np.testing.assert_allclose(values(c), want, rtol=2 ** -7, atol=scale * 2 ** -7, err_msg=what)
    elif str(t.dtype).endswith("bfloat16"):
        np.testing.assert_array_equal(values(c), want, err_msg=what)
    else:
        np.testing.assert_allclose(values(c), want, rtol=1e-6, atol=1e-7, err_msg=what)


@requires_torch
@pytest.mark.parametrize("name, fn, exact", OPS, ids=[n for n, _, _ in OPS])
def test_ops_against_torch(name, fn, exact):
    a, b = arr(4, 6), arr(4, 6, seed=1)
    ca, cb = tensors(cgrad, a, b, requires_grad=True)
    ta, tb = tensors(torch, a, b, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cgrad.autocast("cpu"):
            yc = fn(cgrad, ca, cb)
        with torch.autocast("cpu"):
            yt = fn(torch, ta, tb)
    assert str(yc.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1], name
    if exact:
        assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__, name
    assert_values(yc, yt, exact, name)
    cot = arr(*tuple(yt.shape), seed=7)
    (yc.float() * cgrad.tensor(cot)).sum().backward()
    (yt.float() * torch.tensor(cot)).sum().backward()
    for gc, gt in ((ca.grad, ta.grad), (cb.grad, tb.grad)):
        assert gc.dtype == cgrad.float32
        assert_values(gc, gt, exact, name + " gradient")


@requires_torch
def test_training_step_against_torch():
    """A small model's forward, loss and backward under autocast, then an
    SGD step outside it: losses and float32 parameters as torch's."""
    x, target = arr(8, 5), np.random.default_rng(2).integers(0, 3, size=8)
    results = []
    for lib in (cgrad, torch):
        model = lib.nn.Sequential(lib.nn.Linear(5, 7), lib.nn.ReLU(), lib.nn.Linear(7, 3))
        with lib.no_grad():
            for k, p in enumerate(model.parameters()):
                p.copy_(lib.tensor(arr(*tuple(p.shape), seed=10 + k)))
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            with lib.autocast("cpu"):
                out = model(lib.tensor(x))
                loss = lib.nn.functional.cross_entropy(out, lib.tensor(target))
            assert str(out.dtype).endswith("bfloat16") and str(loss.dtype).endswith("float32")
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append((losses, [values(p) for p in model.parameters()]))
    (lc, pc), (lt, pt) = results
    np.testing.assert_allclose(lc, lt, rtol=1e-6)
    for a, b in zip(pc, pt):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
