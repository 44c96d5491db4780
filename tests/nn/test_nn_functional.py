"""cgrad.nn.functional and the softmax family against torch: values, dtypes,
shapes, grad_fn names and gradients over shapes, dims and options; float64
gradient checks (first and second order); extreme inputs; errors by type
and text."""
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cgrad
import cgrad.nn.functional as CF
from helpers import check_gradients, compare_with_torch, rand, requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF
else:  # pragma: no cover
    TF = None


def F(lib):
    return CF if lib is cgrad else TF


def outcome(lib, fn):
    """(exception type and text) or (dtype, shape, grad_fn name) of fn(lib),
    and the warnings it raised (texts with torch's names made cgrad's)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = fn(lib)
        except Exception as e:  # noqa: BLE001 - the exception is the result
            res = ("error", type(e).__name__, str(e).replace("torch.", "cgrad."))
        else:
            res = ("tensor", str(r.dtype).split(".")[-1], tuple(r.shape),
                   None if r.grad_fn is None else type(r.grad_fn).__name__)
    msgs = [re.sub(r" \(Triggered internally at .*\)$", "", str(w.message).replace("torch.", "cgrad."))
            for w in caught if issubclass(w.category, UserWarning)]
    return res, msgs


def same_as_torch(fn):
    assert outcome(cgrad, fn) == outcome(torch, fn)


def check_second_order(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3):
    """float64 check of the create_graph backward: the gradient of
    s = <grad of fn w.r.t. (inputs) given grad_output go, v> w.r.t. the
    inputs and go, against central differences of s."""
    rng = np.random.default_rng(0)
    xs = [cgrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*xs)
    go = cgrad.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
    vs = [cgrad.tensor(rng.standard_normal(tuple(x.shape))) for x in xs]

    def s_of(xs, go):
        grads = cgrad.autograd.grad(fn(*xs), xs, go, create_graph=True, allow_unused=True)
        total = None
        for g, v in zip(grads, vs):
            if g is not None:
                term = (g * v).sum()
                total = term if total is None else total + term
        return total

    s = s_of(xs, go)
    analytical = cgrad.autograd.grad(s, xs + [go], allow_unused=True)
    for t, a in zip(xs + [go], analytical):
        flat = t.detach().numpy().reshape(-1)
        num = np.zeros(flat.size)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = s_of(xs, go).item()
            flat[k] = orig - eps
            minus = s_of(xs, go).item()
            flat[k] = orig
            num[k] = (plus - minus) / (2 * eps)
        got = np.zeros(flat.size) if a is None else a.detach().numpy().reshape(-1)
        np.testing.assert_allclose(got, num, rtol=rtol, atol=atol)


# --- softmax and log_softmax ------------------------------------------------------

SOFTMAX_SHAPES = [((), 0), ((), -1), ((5,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), -2),
                  ((2, 3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), 2), ((2, 3, 4), -1), ((2, 1, 3, 2), 1),
                  ((2, 0, 3), 1), ((2, 0, 3), 2), ((1, 1), 1)]

SOFTMAX_FORMS = {
    "softmax": lambda lib, x, d: lib.softmax(x, d),
    "log_softmax": lambda lib, x, d: lib.log_softmax(x, d),
    "method": lambda lib, x, d: x.softmax(d),
    "log method": lambda lib, x, d: x.log_softmax(dim=d),
    "F": lambda lib, x, d: F(lib).softmax(x, d),
    "F log": lambda lib, x, d: F(lib).log_softmax(x, dim=d),
    "dtype": lambda lib, x, d: lib.softmax(x, d, dtype=lib.float64),
    "log dtype": lambda lib, x, d: x.log_softmax(d, lib.float64),
    "F dtype": lambda lib, x, d: F(lib).softmax(x, d, dtype=lib.float64),
}


@pytest.mark.parametrize("form", sorted(SOFTMAX_FORMS))
@pytest.mark.parametrize("shape,dim", SOFTMAX_SHAPES)
def test_softmax_like_torch(form, shape, dim):
    compare_with_torch(lambda lib, x: SOFTMAX_FORMS[form](lib, x, dim), rand(*shape, seed=3, low=-6, high=6))


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=4), data=st.data())
def test_softmax_random_shapes_and_dims(shape, data):
    n = max(len(shape), 1)
    dim = data.draw(st.integers(-n, n - 1))
    log = data.draw(st.booleans())
    compare_with_torch(lambda lib, x: lib.log_softmax(x, dim) if log else x.softmax(dim),
                       rand(*shape, seed=len(shape), low=-5, high=5))


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(st.integers(0, 3), max_size=3), classes=st.integers(1, 4), data=st.data())
def test_cross_entropy_random_shapes(batch, classes, data):
    unbatched = len(batch) == 0
    shape = (classes,) if unbatched else (batch[0], classes) + tuple(batch[1:])
    tshape = () if unbatched else (batch[0],) + tuple(batch[1:])
    rng = np.random.default_rng(classes)
    t = rng.integers(0, classes, tshape).astype(np.int64)
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    smoothing = data.draw(st.sampled_from([0.0, 0.2]))
    compare_with_torch(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction,
                                                               label_smoothing=smoothing),
                       rand(*shape, seed=2), t)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_noncontiguous_and_large(log, dtype):
    fn = (lambda lib, x: x.t().log_softmax(0)) if log else (lambda lib, x: lib.softmax(x.t(), 1))
    compare_with_torch(fn, rand(7, 5, seed=4, dtype=dtype))
    # big enough for the kernels to run without the GIL, both kernel layouts
    for d in (0, 1):
        compare_with_torch(lambda lib, x: lib.log_softmax(x, d) if log else lib.softmax(x, d),
                           rand(300, 200, seed=5, low=-20, high=20, dtype=dtype), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape,dim", [((4,), 0), ((3, 4), 0), ((3, 4), 1), ((2, 3, 2), 1), ((), 0)])
def test_softmax_gradcheck(log, shape, dim):
    fn = (lambda lib, x: lib.log_softmax(x, dim)) if log else (lambda lib, x: lib.softmax(x, dim))
    check_gradients(fn, rand(*shape, seed=6))
    check_second_order(lambda x: fn(cgrad, x), rand(*shape, seed=6))


EXTREME = {
    "large": [[1e30, -1e30, 1e30], [3e38, 3e38, -3e38]],
    "-inf entries": [[float("-inf"), 0.0, 1.0], [2.0, float("-inf"), float("-inf")]],
    "all -inf row": [[float("-inf"), float("-inf"), float("-inf")], [0.0, 1.0, 2.0]],
    "+inf": [[float("inf"), 1.0, 2.0], [0.0, 0.0, 0.0]],
    "nan": [[float("nan"), 1.0, 2.0], [0.0, 0.0, 0.0]],
    "tiny": [[1e-45, -1e-45, 0.0], [-80.0, 80.0, 0.0]],
}


@requires_torch
@pytest.mark.parametrize("name", sorted(EXTREME))
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_extreme_inputs(name, log, dim):
    data = np.array(EXTREME[name], dtype=np.float32)
    outs = []
    for lib in (cgrad, torch):
        x = lib.tensor(data, requires_grad=True)
        y = lib.log_softmax(x, dim) if log else lib.softmax(x, dim)
        y.backward(lib.ones(2, 3))
        outs.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-6, atol=1e-30, equal_nan=True)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5, atol=1e-6, equal_nan=True)


SOFTMAX_ERRORS = {
    "dim out of range": lambda L: L.softmax(L.ones(2, 3), 2),
    "dim out of range 0-d": lambda L: L.softmax(L.tensor(1.0), 1),
    "dim -2 on 0-d": lambda L: L.log_softmax(L.tensor(1.0), -2),
    "int input": lambda L: L.softmax(L.tensor([1, 2]), 0),
    "int input dim 0": lambda L: L.log_softmax(L.ones(2, 3, dtype=L.int64), 0),
    "int input last dim": lambda L: L.log_softmax(L.ones(2, 3, dtype=L.int64), -1),
    "int 0-d": lambda L: L.softmax(L.tensor(1), 0),
    "bool input": lambda L: L.softmax(L.tensor([True, False]), 0),
    "int dtype": lambda L: L.softmax(L.ones(2, 3), 0, dtype=L.int64),
    "int input float dtype": lambda L: L.log_softmax(L.ones(2, 3, dtype=L.int64), 0, dtype=L.float32),
    "no dim": lambda L: L.softmax(L.ones(2)),
    "no args": lambda L: L.softmax(),
    "method no dim": lambda L: L.ones(2).softmax(),
    "log no dim": lambda L: L.log_softmax(L.ones(2)),
    "str dim": lambda L: L.softmax(L.ones(2), "a"),
    "float dim": lambda L: L.softmax(L.ones(2), 1.0),
    "float dim kw": lambda L: L.softmax(L.ones(2), dim=1.0),
    "None dim": lambda L: L.softmax(L.ones(2), None),
    "None dim kw": lambda L: L.softmax(L.ones(2), dim=None),
    "bool dim": lambda L: L.softmax(L.ones(2), True),
    "method str dim": lambda L: L.ones(2).log_softmax("a"),
    "method float dim": lambda L: L.ones(2).softmax(0.0),
    "method None dim": lambda L: L.ones(2).softmax(None),
    "method kw float dim": lambda L: L.ones(2).softmax(dim=1.0),
    "numpy int dim": lambda L: L.softmax(L.ones(2, 3), np.int64(1)),
    "tensor dim": lambda L: L.softmax(L.ones(2, 3), L.tensor(1)),
    "too many args": lambda L: L.softmax(L.ones(2), 0, L.float64, 5),
    "method too many args": lambda L: L.ones(2).softmax(0, L.float64, 3),
    "bad kw": lambda L: L.softmax(L.ones(2), 0, foo=1),
    "bad dtype": lambda L: L.softmax(L.ones(2), 0, dtype="a"),
    "python dtype": lambda L: L.softmax(L.ones(2), 0, dtype=float),
    "input kw": lambda L: L.softmax(input=L.ones(2), dim=0),
    "not a tensor": lambda L: L.softmax([1.0], 0),
    "F implicit dim 1-D": lambda L: F(L).softmax(L.ones(3)),
    "F implicit dim 2-D": lambda L: F(L).log_softmax(L.ones(2, 3)),
    "F implicit dim 3-D": lambda L: F(L).softmax(L.ones(2, 3, 4)),
    "F str dim": lambda L: F(L).softmax(L.ones(2), "a"),
    "F not a tensor": lambda L: F(L).log_softmax([1.0], 0),
    "empty": lambda L: L.softmax(L.ones(0, 3), 0),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SOFTMAX_ERRORS))
def test_softmax_arguments_and_errors(name):
    same_as_torch(SOFTMAX_ERRORS[name])


def test_softmax_saved_output_version_check():
    x = cgrad.ones(3, requires_grad=True)
    y = cgrad.softmax(x * 1, 0)
    y.mul_(2) if hasattr(y, "mul_") else None
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# --- nll_loss and cross_entropy ---------------------------------------------------------

def class_case(shape, seed, classes=5, ignore=None):
    """(log-prob-ish input, int64 target of the batch shape, weight)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    tshape = () if len(shape) == 1 else (shape[0],) + tuple(shape[2:])
    t = rng.integers(0, classes, tshape).astype(np.int64)
    if ignore is not None and t.size:
        t.reshape(-1)[1::3] = ignore
    w = rng.uniform(0.2, 2.0, classes).astype(np.float32)
    return x, t, w


CLASS_SHAPES = [(5,), (4, 5), (1, 5), (3, 5, 2), (2, 5, 3, 2), (2, 5, 2, 1, 3), (0, 5), (2, 5, 0)]
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "ignore", "weight+ignore", "float64"])
def test_class_losses_like_torch(loss, shape, reduction, options):
    ignore = 2 if "ignore" in options else -100
    x, t, w = class_case(shape, seed=len(shape) + 7, ignore=ignore if "ignore" in options else None)
    if options == "float64":
        x, w = x.astype(np.float64), w.astype(np.float64)

    def fn(lib, x, t):
        weight = lib.tensor(w) if "weight" in options else None
        return getattr(F(lib), loss)(x, t, weight=weight, ignore_index=ignore, reduction=reduction)

    compare_with_torch(fn, x, t)


@pytest.mark.parametrize("shape", [(5,), (4, 5), (3, 5, 2), (2, 5, 3, 2), (2, 5, 2, 1, 3), (0, 5)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight+ignore"])
def test_cross_entropy_label_smoothing(shape, reduction, options):
    ignore = 1 if options != "plain" else -100
    x, t, w = class_case(shape, seed=3, ignore=ignore if options != "plain" else None)

    def fn(lib, x, t):
        weight = lib.tensor(w) if options != "plain" else None
        return F(lib).cross_entropy(x, t, weight=weight, ignore_index=ignore, reduction=reduction,
                                    label_smoothing=0.25)

    compare_with_torch(fn, x, t)


@pytest.mark.parametrize("shape", [(5,), (4, 5), (3, 5, 2), (0, 5)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "smoothing", "float64 target"])
def test_cross_entropy_probability_targets(shape, reduction, options):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    p = rng.uniform(0, 1, shape).astype(np.float64 if "float64" in options else np.float32)
    w = rng.uniform(0.5, 2, 5).astype(np.float32)

    def fn(lib, x, p):
        weight = lib.tensor(w) if options == "weight" else None
        return F(lib).cross_entropy(x, p, weight=weight, reduction=reduction,
                                    label_smoothing=0.1 if options == "smoothing" else 0.0)

    compare_with_torch(fn, x, p)


def test_class_losses_noncontiguous_input():
    compare_with_torch(lambda lib, x, t: F(lib).cross_entropy(x.t(), t), rand(5, 4, seed=1), np.array([1, 0, 3, 2]))
    x3 = rand(2, 4, 5, seed=2)
    compare_with_torch(lambda lib, x, t: F(lib).nll_loss(x.transpose(1, 2), t, reduction="none"), x3,
                       np.array([[1, 0, 4, 2], [0, 0, 1, 3]]))


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 5, 3), (2, 5, 2, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_losses_gradcheck(loss, shape, reduction):
    x, t, w = class_case(shape, seed=4, ignore=3)
    weight = cgrad.tensor(w.astype(np.float64))
    fn = getattr(CF, loss)
    check_gradients(lambda lib, x: fn(x, cgrad.tensor(t), weight=weight, ignore_index=3, reduction=reduction), x)
    check_second_order(lambda x: fn(x * x, cgrad.tensor(t), weight=weight, ignore_index=3, reduction=reduction), x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_smoothing_and_probabilities_gradcheck(reduction):
    x, t, w = class_case((3, 4, 2), seed=8, classes=4, ignore=1)
    weight = cgrad.tensor(w[:4].astype(np.float64))
    check_gradients(lambda lib, x: CF.cross_entropy(x, cgrad.tensor(t), weight=weight, ignore_index=1,
                                                    label_smoothing=0.3, reduction=reduction), x)
    p = np.random.default_rng(1).uniform(0, 1, (3, 4, 2))
    check_gradients(lambda lib, x, p: CF.cross_entropy(x, p, weight=weight, label_smoothing=0.2,
                                                       reduction=reduction), x, p)


@requires_torch
def test_nll_loss_double_backward_like_torch():
    x, t, w = class_case((4, 5), seed=9)
    grads = []
    for lib in (cgrad, torch):
        xi = lib.tensor(x.astype(np.float64), requires_grad=True)
        loss = F(lib).nll_loss(xi * xi, lib.tensor(t), weight=lib.tensor(w.astype(np.float64)))
        (g,) = lib.autograd.grad(loss, xi, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), xi)
        grads.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)


def test_nll_loss_saved_weight_version_check():
    w = cgrad.ones(5)
    loss = CF.nll_loss(cgrad.ones(3, 5, requires_grad=True), cgrad.tensor([1, 0, 4]), weight=w)
    w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


CLASS_ERRORS = {
    "0-d input": lambda L: F(L).nll_loss(L.tensor(1.0), L.tensor(0)),
    "batch mismatch": lambda L: F(L).nll_loss(L.ones(3, 5), L.tensor([1, 0])),
    "0-d target": lambda L: F(L).nll_loss(L.ones(3, 5), L.tensor(1)),
    "2-d target": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, 1, dtype=L.int64)),
    "2-d float target": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, 1)),
    "float target": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3)),
    "bool target": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.bool)),
    "float target bad batch": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(2)),
    "target out of range": lambda L: F(L).nll_loss(L.ones(3, 5), L.tensor([1, 0, 5])),
    "target negative": lambda L: F(L).nll_loss(L.ones(3, 5), L.tensor([1, 0, -1])),
    "target out of range none": lambda L: F(L).nll_loss(L.ones(3, 5), L.tensor([1, 0, 5]), reduction="none"),
    "target out of range 1-d": lambda L: F(L).nll_loss(L.ones(5), L.tensor(7)),
    "target out of range 4-d": lambda L: F(L).nll_loss(L.ones(2, 5, 2, 2), L.full((2, 2, 2), 6)),
    "target out of range 3-d": lambda L: F(L).nll_loss(L.ones(2, 5, 2), L.tensor([[0, 9], [3, 1]])),
    "zero classes": lambda L: F(L).nll_loss(L.zeros(3, 0), L.zeros(3, dtype=L.int64)),
    "zero classes ignored": lambda L: F(L).nll_loss(L.zeros(3, 0), L.full((3,), -100)),
    "1-d input 1-element target": lambda L: F(L).nll_loss(L.ones(5), L.tensor([1]), reduction="none"),
    "1-d input long target": lambda L: F(L).nll_loss(L.ones(5), L.tensor([1, 2, 3])),
    "1-d input empty target": lambda L: F(L).nll_loss(L.ones(5), L.zeros(0, dtype=L.int64)),
    "1-d input 2-d target": lambda L: F(L).nll_loss(L.ones(5), L.zeros(1, 1, dtype=L.int64)),
    "1-d input float target": lambda L: F(L).nll_loss(L.ones(5), L.tensor(1.0)),
    "1-d input ignored": lambda L: F(L).nll_loss(L.ones(5), L.tensor(-100)),
    "1-d input ignored sum": lambda L: F(L).nll_loss(L.ones(5), L.tensor(-100), reduction="sum"),
    "3-d target size": lambda L: F(L).nll_loss(L.ones(3, 5, 4), L.zeros(3, 3, dtype=L.int64)),
    "3-d target rank": lambda L: F(L).nll_loss(L.ones(3, 5, 4), L.zeros(3, 4, 1, dtype=L.int64)),
    "3-d 1-d target": lambda L: F(L).nll_loss(L.ones(3, 5, 4), L.zeros(3, dtype=L.int64)),
    "3-d float target": lambda L: F(L).nll_loss(L.ones(3, 5, 4), L.zeros(3, 4)),
    "3-d float target size": lambda L: F(L).nll_loss(L.ones(3, 5, 4), L.zeros(3, 3)),
    "3-d batch": lambda L: F(L).nll_loss(L.ones(3, 5, 4), L.zeros(2, 4, dtype=L.int64)),
    "4-d target rank": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2), L.zeros(3, 4, dtype=L.int64)),
    "4-d float 2-d target": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2), L.zeros(3, 4)),
    "4-d target size": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2), L.zeros(3, 4, 3, dtype=L.int64)),
    "4-d float target size": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2), L.zeros(3, 4, 3)),
    "5-d target size": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2, 2), L.zeros(3, 4, 3, 2, dtype=L.int64)),
    "weight size": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), weight=L.ones(4)),
    "weight 2-d": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), weight=L.ones(5, 1)),
    "weight size 1-d": lambda L: F(L).nll_loss(L.ones(5), L.tensor(1), weight=L.ones(4)),
    "weight size 3-d": lambda L: F(L).nll_loss(L.ones(3, 5, 4), L.zeros(3, 4, dtype=L.int64), weight=L.ones(4)),
    "weight size 4-d": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2), L.zeros(3, 4, 2, dtype=L.int64),
                                               weight=L.ones(4)),
    "weight 2-d 4-d": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2), L.zeros(3, 4, 2, dtype=L.int64),
                                              weight=L.ones(5, 1)),
    "weight int": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), weight=L.ones(5, dtype=L.int64)),
    "weight float64": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64),
                                              weight=L.ones(5, dtype=L.float64)),
    "weight float64 4-d": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2), L.zeros(3, 4, 2, dtype=L.int64),
                                                  weight=L.ones(5, dtype=L.float64)),
    "weight requires grad": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64),
                                                    weight=L.ones(5, requires_grad=True)),
    "weight requires grad 4-d": lambda L: F(L).nll_loss(L.ones(3, 5, 2, 2), L.zeros(3, 2, 2, dtype=L.int64),
                                                        weight=L.ones(5, requires_grad=True)),
    "weight requires grad bad target": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3),
                                                               weight=L.ones(5, requires_grad=True)),
    "weight size and target dtype": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3), weight=L.ones(4)),
    "weight dtype and target dtype": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3),
                                                             weight=L.ones(5, dtype=L.int64)),
    "weight dtype and bad target": lambda L: F(L).nll_loss(L.ones(3, 5), L.full((3,), 9),
                                                           weight=L.ones(5, dtype=L.int64)),
    "weight size and dtype": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64),
                                                     weight=L.ones(4, dtype=L.int64)),
    "int input": lambda L: F(L).nll_loss(L.ones(3, 5, dtype=L.int64), L.zeros(3, dtype=L.int64)),
    "int input weight": lambda L: F(L).nll_loss(L.ones(3, 5, dtype=L.int64), L.zeros(3, dtype=L.int64),
                                                weight=L.ones(5)),
    "int input bad weight": lambda L: F(L).nll_loss(L.ones(3, 5, dtype=L.int64), L.zeros(3, dtype=L.int64),
                                                    weight=L.ones(4)),
    "int input float target": lambda L: F(L).nll_loss(L.ones(3, 5, dtype=L.int64), L.zeros(3)),
    "bool input": lambda L: F(L).nll_loss(L.ones(3, 5, dtype=L.bool), L.zeros(3, dtype=L.int64)),
    "int input 1-d": lambda L: F(L).nll_loss(L.ones(5, dtype=L.int64), L.tensor(1)),
    "int input 4-d": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2, dtype=L.int64), L.zeros(3, 4, 2, dtype=L.int64)),
    "int input 4-d weight size": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2, dtype=L.int64),
                                                         L.zeros(3, 4, 2, dtype=L.int64), weight=L.ones(4)),
    "int input 4-d target size": lambda L: F(L).nll_loss(L.ones(3, 5, 4, 2, dtype=L.int64),
                                                         L.zeros(3, 4, 3, dtype=L.int64)),
    "not a tensor": lambda L: F(L).nll_loss([1.0], L.zeros(3, dtype=L.int64)),
    "target not a tensor": lambda L: F(L).nll_loss(L.ones(3, 5), [1, 2, 3]),
    "weight not a tensor": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), weight=[1.0]),
    "float ignore_index": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), ignore_index=1.5),
    "bool ignore_index": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), ignore_index=True),
    "None ignore_index": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), ignore_index=None),
    "bad reduction": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), reduction="avg"),
    "None reduction": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), reduction=None),
    "elementwise_mean": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64),
                                                reduction="elementwise_mean"),
    "size_average": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), size_average=False),
    "reduce": lambda L: F(L).nll_loss(L.ones(3, 5), L.zeros(3, dtype=L.int64), reduce=False),
    "all ignored": lambda L: F(L).nll_loss(L.ones(3, 5, requires_grad=True), L.full((3,), -100)),
    "empty batch": lambda L: F(L).nll_loss(L.ones(0, 5, requires_grad=True), L.zeros(0, dtype=L.int64)),
    "empty 3-d none": lambda L: F(L).nll_loss(L.ones(0, 5, 2), L.zeros(0, 2, dtype=L.int64), reduction="none"),
    "empty spatial 4-d none": lambda L: F(L).nll_loss(L.ones(2, 5, 0, 3), L.zeros(2, 0, 3, dtype=L.int64),
                                                      reduction="none"),
    "ce 0-d input": lambda L: F(L).cross_entropy(L.tensor(1.0), L.tensor(0)),
    "ce 0-d float target": lambda L: F(L).cross_entropy(L.tensor(1.0), L.tensor(0.0)),
    "ce int input": lambda L: F(L).cross_entropy(L.ones(3, 5, dtype=L.int64), L.zeros(3, dtype=L.int64)),
    "ce batch mismatch": lambda L: F(L).cross_entropy(L.ones(3, 5), L.tensor([1, 0])),
    "ce float target": lambda L: F(L).cross_entropy(L.ones(3, 5), L.zeros(3)),
    "ce target out of range": lambda L: F(L).cross_entropy(L.ones(3, 5), L.tensor([1, 0, 5])),
    "ce smoothing > 1": lambda L: F(L).cross_entropy(L.ones(3, 5), L.zeros(3, dtype=L.int64), label_smoothing=1.5),
    "ce smoothing < 0": lambda L: F(L).cross_entropy(L.ones(3, 5), L.zeros(3, dtype=L.int64), label_smoothing=-0.5),
    "ce smoothing str": lambda L: F(L).cross_entropy(L.ones(3, 5), L.zeros(3, dtype=L.int64), label_smoothing="a"),
    "ce smoothing out of range target": lambda L: F(L).cross_entropy(L.ones(3, 5), L.full((3,), 7),
                                                                     label_smoothing=0.1),
    "ce smoothing weight size": lambda L: F(L).cross_entropy(L.ones(3, 5), L.zeros(3, dtype=L.int64),
                                                             weight=L.ones(4), label_smoothing=0.1),
    "ce smoothing batch": lambda L: F(L).cross_entropy(L.ones(3, 5), L.zeros(2, dtype=L.int64), label_smoothing=0.1),
    "ce smoothing 3-d size": lambda L: F(L).cross_entropy(L.ones(3, 5, 2), L.zeros(3, 3, dtype=L.int64),
                                                          label_smoothing=0.1),
    "ce smoothing all ignored": lambda L: F(L).cross_entropy(L.ones(3, 5), L.full((3,), -100), label_smoothing=0.1),
    "ce smoothing empty": lambda L: F(L).cross_entropy(L.ones(0, 5), L.zeros(0, dtype=L.int64), label_smoothing=0.1),
    "ce probs smoothing > 1": lambda L: F(L).cross_entropy(L.ones(3, 5), L.ones(3, 5), label_smoothing=1.5),
    "ce probs ignore_index": lambda L: F(L).cross_entropy(L.ones(3, 5), L.ones(3, 5), ignore_index=1),
    "ce probs int target": lambda L: F(L).cross_entropy(L.ones(3, 5), L.ones(3, 5, dtype=L.int64)),
    "ce probs weight size": lambda L: F(L).cross_entropy(L.ones(3, 5), L.ones(3, 5), weight=L.ones(4)),
    "ce probs empty": lambda L: F(L).cross_entropy(L.ones(0, 5, requires_grad=True), L.ones(0, 5)),
    "ce float64 input float32 weight": lambda L: F(L).cross_entropy(L.ones(3, 5, dtype=L.float64),
                                                                    L.zeros(3, dtype=L.int64), weight=L.ones(5)),
    "ce not a tensor": lambda L: F(L).cross_entropy([1.0], L.zeros(3, dtype=L.int64)),
    "ce target not a tensor": lambda L: F(L).cross_entropy(L.ones(3, 5), [1]),
    "ce bad reduction": lambda L: F(L).cross_entropy(L.ones(3, 5), L.zeros(3, dtype=L.int64), reduction="x"),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(CLASS_ERRORS))
def test_class_losses_errors_and_edges(name):
    same_as_torch(CLASS_ERRORS[name])


# --- mse_loss, l1_loss, binary_cross_entropy ------------------------------------------------

POINT_SHAPES = [((4, 5), (4, 5)), ((3,), (3,)), ((), ()), ((2, 3), (3,)), ((2, 1), (1, 3)), ((0, 3), (0, 3))]


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("shapes", POINT_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_like_torch(loss, shapes, reduction):
    a, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(lambda lib, x, y: getattr(F(lib), loss)(x, y, reduction=reduction), a, b)
        compare_with_torch(lambda lib, x, y: getattr(F(lib), loss)(x, y.detach(), reduction=reduction),
                           a, b.astype(np.float64))


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_weighted(loss, reduction):
    w = np.random.default_rng(3).uniform(0, 2, (4, 5)).astype(np.float32)
    compare_with_torch(lambda lib, x, y: getattr(F(lib), loss)(x, y, reduction=reduction, weight=lib.tensor(w)),
                       rand(4, 5, seed=1), rand(4, 5, seed=2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_gradcheck(reduction):
    check_gradients(lambda lib, x, y: CF.mse_loss(x, y, reduction=reduction), rand(3, 4, seed=1), rand(3, 4, seed=2))
    check_second_order(lambda x, y: CF.mse_loss(x, y, reduction=reduction), rand(3, 4, seed=1), rand(3, 4, seed=2))


@pytest.mark.parametrize("shape", [(4, 5), (3,), (), (0, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "full", "broadcast", "float64"])
def test_binary_cross_entropy_like_torch(shape, reduction, weight):
    rng = np.random.default_rng(4)
    p = rng.uniform(0.02, 0.98, shape)
    t = rng.uniform(0, 1, shape)
    if p.size:
        p.reshape(-1)[0] = 0.0       # log clamped at -100
        t.reshape(-1)[0] = 1.0
    w = {None: None, "full": rng.uniform(0, 2, shape), "broadcast": rng.uniform(0, 2, shape[-1:]),
         "float64": rng.uniform(0, 2, shape)}[weight]

    def fn(lib, p, t):
        wt = None if w is None else lib.tensor(w.astype(np.float64 if weight == "float64" else np.float32))
        return F(lib).binary_cross_entropy(p, t, weight=wt, reduction=reduction)

    compare_with_torch(fn, p.astype(np.float32), t.astype(np.float32), rtol=2e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_gradcheck(reduction):
    rng = np.random.default_rng(5)
    p, t, w = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4)), rng.uniform(0.5, 2, (4,))
    weight = cgrad.tensor(w)
    check_gradients(lambda lib, p, t: CF.binary_cross_entropy(p, t, weight=weight, reduction=reduction), p, t)
    check_second_order(lambda p, t: CF.binary_cross_entropy(p, t, weight=weight, reduction=reduction), p, t)


POINT_ERRORS = {
    "mse broadcast warning": lambda L: F(L).mse_loss(L.ones(2, 3), L.ones(3)),
    "mse no broadcast": lambda L: F(L).mse_loss(L.ones(2, 3), L.ones(4)),
    "mse int": lambda L: F(L).mse_loss(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64)),
    "mse bool": lambda L: F(L).mse_loss(L.ones(2, dtype=L.bool), L.ones(2, dtype=L.bool)),
    "mse int target": lambda L: F(L).mse_loss(L.ones(2), L.ones(2, dtype=L.int64)),
    "mse int input": lambda L: F(L).mse_loss(L.ones(2, dtype=L.int64), L.ones(2)),
    "mse float64 target": lambda L: F(L).mse_loss(L.ones(2, requires_grad=True), L.ones(2, dtype=L.float64)),
    "mse bad reduction": lambda L: F(L).mse_loss(L.ones(2), L.ones(2), reduction="avg"),
    "mse weight size": lambda L: F(L).mse_loss(L.ones(2, 3), L.ones(2, 3), weight=L.ones(3)),
    "mse weight bad reduction": lambda L: F(L).mse_loss(L.ones(2), L.ones(2), weight=L.ones(2), reduction="x"),
    "mse target not a tensor": lambda L: F(L).mse_loss(L.ones(2), 1.0),
    "mse empty": lambda L: F(L).mse_loss(L.ones(0, requires_grad=True), L.ones(0)),
    "mse legacy": lambda L: F(L).mse_loss(L.ones(2), L.ones(2), size_average=False),
    "l1 int": lambda L: F(L).l1_loss(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64)),
    "l1 int none": lambda L: F(L).l1_loss(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64), reduction="none"),
    "l1 broadcast": lambda L: F(L).l1_loss(L.ones(2, 3, requires_grad=True), L.ones(3)),
    "bce input out of range": lambda L: F(L).binary_cross_entropy(L.full((2,), 1.5), L.ones(2)),
    "bce nan input": lambda L: F(L).binary_cross_entropy(L.full((2,), float("nan")), L.ones(2)),
    "bce target out of range": lambda L: F(L).binary_cross_entropy(L.full((2,), 0.5), L.full((2,), -0.5)),
    "bce shape": lambda L: F(L).binary_cross_entropy(L.full((2, 3), 0.5), L.full((3,), 0.5)),
    "bce target dtype": lambda L: F(L).binary_cross_entropy(L.full((2,), 0.5), L.ones(2, dtype=L.float64)),
    "bce int target": lambda L: F(L).binary_cross_entropy(L.full((2,), 0.5), L.ones(2, dtype=L.int64)),
    "bce int input": lambda L: F(L).binary_cross_entropy(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64)),
    "bce weight broadcast": lambda L: F(L).binary_cross_entropy(L.full((2, 3), 0.5), L.ones(2, 3),
                                                                weight=L.ones(2, 1)),
    "bce weight bad": lambda L: F(L).binary_cross_entropy(L.full((2, 3), 0.5), L.ones(2, 3), weight=L.ones(4)),
    "bce weight bigger": lambda L: F(L).binary_cross_entropy(L.full((2, 3), 0.5), L.ones(2, 3),
                                                             weight=L.ones(4, 2, 3)),
    "bce weight requires grad": lambda L: F(L).binary_cross_entropy(L.full((2,), 0.5), L.ones(2),
                                                                    weight=L.ones(2, requires_grad=True)),
    "bce weight int": lambda L: F(L).binary_cross_entropy(L.full((2,), 0.5), L.ones(2), weight=L.ones(2, dtype=L.int64)),
    "bce empty": lambda L: F(L).binary_cross_entropy(L.ones(0), L.ones(0)),
    "bce bad reduction": lambda L: F(L).binary_cross_entropy(L.ones(2), L.ones(2), reduction="bad"),
    "bce legacy": lambda L: F(L).binary_cross_entropy(L.ones(2), L.ones(2), reduce=False),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(POINT_ERRORS))
def test_pointwise_losses_errors_and_edges(name):
    same_as_torch(POINT_ERRORS[name])


# --- linear ------------------------------------------------------------------------------------------

LINEAR_INPUTS = [(3,), (2, 3), (5, 2, 3), (2, 5, 2, 3), (0, 3), (2, 0, 3)]
BIAS_SHAPES = [None, (), (1,), (4,), (1, 4)]


@pytest.mark.parametrize("shape", LINEAR_INPUTS)
@pytest.mark.parametrize("bias", BIAS_SHAPES)
@pytest.mark.parametrize("contiguous", [True, False])
def test_linear_like_torch(shape, bias, contiguous):
    if not contiguous and len(shape) < 2:
        pytest.skip("1-D inputs are contiguous")
    x = rand(*shape, seed=1) if contiguous else rand(*reversed(shape), seed=1)
    args = [x, rand(4, 3, seed=2)] + ([] if bias is None else [rand(*bias, seed=3)])

    def fn(lib, x, w, *b):
        if not contiguous:
            x = x.permute(*range(x.dim() - 1, -1, -1))
        return F(lib).linear(x, w, *b)

    compare_with_torch(fn, *args)


def test_linear_int64_and_partial_grads():
    compare_with_torch(lambda lib, x, w, b: F(lib).linear(x, w, b),
                       np.arange(6).reshape(2, 3), np.arange(12).reshape(4, 3), np.arange(4))
    compare_with_torch(lambda lib, x, w, b: F(lib).linear(x.detach(), w, b.detach()),
                       rand(2, 3, seed=1), rand(4, 3, seed=2), rand(4, seed=3))


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 2, 3)])
@pytest.mark.parametrize("bias", [None, (4,), ()])
def test_linear_gradcheck(shape, bias):
    arrays = [rand(*shape, seed=1), rand(4, 3, seed=2)] + ([] if bias is None else [rand(*bias, seed=3)])
    check_gradients(lambda lib, *a: CF.linear(*a), *arrays)
    check_second_order(lambda *a: CF.linear(*a), *arrays)


LINEAR_ERRORS = {
    "bias size": lambda L: F(L).linear(L.ones(2, 3), L.ones(4, 3), L.ones(3)),
    "bias size 3-d": lambda L: F(L).linear(L.ones(5, 2, 3), L.ones(4, 3), L.ones(3)),
    "bias size 1-d": lambda L: F(L).linear(L.ones(3), L.ones(4, 3), L.ones(3)),
    "bias size 3-d permuted": lambda L: F(L).linear(L.ones(3, 2, 5).permute(2, 1, 0), L.ones(4, 3), L.ones(3)),
    "bias 2-d size": lambda L: F(L).linear(L.ones(2, 3), L.ones(4, 3), L.ones(3, 4)),
    "bias 2-d size 3-d": lambda L: F(L).linear(L.ones(5, 2, 3), L.ones(4, 3), L.ones(3, 4)),
    "bias grows 1-d output": lambda L: F(L).linear(L.ones(3), L.ones(4, 3), L.ones(2, 4)),
    "bias 3-d": lambda L: F(L).linear(L.ones(2, 3), L.ones(4, 3), L.ones(1, 1, 4)),
    "bias 3-d 3-d": lambda L: F(L).linear(L.ones(5, 2, 3), L.ones(4, 3), L.ones(1, 1, 4)),
    "bias 2-d on 3-d": lambda L: F(L).linear(L.ones(5, 2, 3), L.ones(4, 3), L.ones(2, 4)),
    "weight size": lambda L: F(L).linear(L.ones(2, 3), L.ones(4, 2)),
    "weight size bias": lambda L: F(L).linear(L.ones(2, 3), L.ones(4, 2), L.ones(4)),
    "weight size 3-d": lambda L: F(L).linear(L.ones(5, 2, 3), L.ones(4, 2), L.ones(4)),
    "weight size 3-d no bias": lambda L: F(L).linear(L.ones(5, 2, 3), L.ones(4, 2)),
    "weight size 1-d": lambda L: F(L).linear(L.ones(3), L.ones(4, 2), L.ones(4)),
    "weight size 1-d no bias": lambda L: F(L).linear(L.ones(3), L.ones(4, 2)),
    "1-d weight": lambda L: F(L).linear(L.ones(2, 3), L.ones(3)),
    "1-d weight 0-d bias": lambda L: F(L).linear(L.ones(2, 3), L.ones(3), L.ones(())),
    "1-d weight 1-d input": lambda L: F(L).linear(L.ones(3), L.ones(3)),
    "3-d weight": lambda L: F(L).linear(L.ones(2, 3), L.ones(1, 4, 3)),
    "0-d input": lambda L: F(L).linear(L.tensor(1.0), L.ones(4, 3)),
    "0-d weight": lambda L: F(L).linear(L.ones(3), L.tensor(1.0)),
    "dtype": lambda L: F(L).linear(L.ones(2, 3, dtype=L.float64), L.ones(4, 3)),
    "dtype bias": lambda L: F(L).linear(L.ones(2, 3, dtype=L.float64), L.ones(4, 3), L.ones(4)),
    "dtype bias only": lambda L: F(L).linear(L.ones(2, 3), L.ones(4, 3), L.ones(4, dtype=L.float64)),
    "dtype 3-d bias": lambda L: F(L).linear(L.ones(5, 2, 3, dtype=L.float64), L.ones(4, 3), L.ones(4)),
    "dtype 1-d": lambda L: F(L).linear(L.ones(3, dtype=L.float64), L.ones(4, 3)),
    "dtype bias only 3-d": lambda L: F(L).linear(L.ones(5, 2, 3), L.ones(4, 3), L.ones(4, dtype=L.float64)),
    "dtype bias only 1-d": lambda L: F(L).linear(L.ones(3), L.ones(4, 3), L.ones(4, dtype=L.float64)),
    "dtype bias only permuted": lambda L: F(L).linear(L.ones(3, 2, 5).permute(2, 1, 0), L.ones(4, 3),
                                                      L.ones(4, dtype=L.float64, requires_grad=True)),
    "dtype and size": lambda L: F(L).linear(L.ones(2, 3), L.ones(4, 2), L.ones(4, dtype=L.float64)),
    "int": lambda L: F(L).linear(L.ones(2, 3, dtype=L.int64), L.ones(4, 3, dtype=L.int64)),
    "int bias": lambda L: F(L).linear(L.ones(2, 3, dtype=L.int64), L.ones(4, 3, dtype=L.int64),
                                      L.ones(4, dtype=L.int64)),
    "int float bias 0-d 3-d": lambda L: F(L).linear(L.ones(5, 2, 3, dtype=L.int64), L.ones(4, 3, dtype=L.int64),
                                                    L.tensor(1.5)),
    "not a tensor": lambda L: F(L).linear([1.0], L.ones(4, 3)),
    "weight not a tensor": lambda L: F(L).linear(L.ones(2, 3), [1.0]),
    "bias not a tensor": lambda L: F(L).linear(L.ones(2, 3), L.ones(4, 3), 1.0),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(LINEAR_ERRORS))
def test_linear_errors_and_edges(name):
    same_as_torch(LINEAR_ERRORS[name])


# --- dropout, activations ----------------------------------------------------------------------------

def test_dropout_reproducible_and_scaled():
    x = cgrad.ones(200, 50, requires_grad=True)
    cgrad.manual_seed(5)
    a = CF.dropout(x, 0.3)
    cgrad.manual_seed(5)
    b = CF.dropout(x, 0.3)
    assert type(a.grad_fn).__name__ == "MulBackward0"
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    vals = np.unique(a.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, np.float32(1) / np.float32(0.7)])
    kept = (a.detach().numpy() != 0).mean()
    assert abs(kept - 0.7) < 0.02
    a.backward(cgrad.ones(200, 50))
    np.testing.assert_array_equal(x.grad.numpy(), a.detach().numpy())
    assert not np.array_equal(CF.dropout(x, 0.3).detach().numpy(), a.detach().numpy())
    d = CF.dropout(cgrad.ones(1000, dtype=cgrad.float64), 0.5).numpy()
    assert d.dtype == np.float64 and set(np.unique(d)) == {0.0, 2.0}


@requires_torch
def test_dropout_edge_cases_like_torch():
    for lib in (cgrad, torch):
        x = lib.ones(3, 4, requires_grad=True)
        assert F(lib).dropout(x, 0.0) is x
        assert F(lib).dropout(x, 0.5, training=False) is x
        assert lib.dropout(x, 0.5, False) is x
        e = lib.ones(0, 3)
        assert F(lib).dropout(e, 0.5) is e
    cases = {
        "p=1": lambda L: F(L).dropout(L.ones(3, 4, requires_grad=True), 1.0),
        "p=1 int": lambda L: F(L).dropout(L.ones(3, dtype=L.int64), 1.0),
        "p > 1": lambda L: F(L).dropout(L.ones(3), 1.5),
        "p < 0": lambda L: F(L).dropout(L.ones(3), -0.5),
        "int": lambda L: F(L).dropout(L.ones(3, dtype=L.int64), 0.5),
        "0-d": lambda L: F(L).dropout(L.tensor(1.0, requires_grad=True), 0.5),
        "inplace": lambda L: F(L).dropout(L.ones(3, requires_grad=True).clone(), 0.5, inplace=True),
        "inplace leaf": lambda L: F(L).dropout(L.ones(3, requires_grad=True), 0.5, inplace=True),
        "torch.dropout": lambda L: L.dropout(L.ones(3, requires_grad=True), 0.5, True),
    }
    for name, fn in cases.items():
        assert outcome(cgrad, fn) == outcome(torch, fn), name
    z = CF.dropout(cgrad.ones(5, requires_grad=True), 1.0)
    assert z.detach().tolist() == [0.0] * 5


def test_dropout_inplace_writes_input():
    cgrad.manual_seed(3)
    x = cgrad.ones(100)
    y = CF.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activations_like_torch(name):
    compare_with_torch(lambda lib, x: getattr(F(lib), name)(x), rand(3, 4, seed=1))
    check_gradients(lambda lib, x: getattr(CF, name)(x), rand(3, 4, seed=1))


@requires_torch
def test_relu_inplace_like_torch():
    compare_with_torch(lambda lib, x: F(lib).relu(x * 1, inplace=True), rand(3, 4, seed=1))
    check_gradients(lambda lib, x: CF.relu(x * 1, inplace=True), rand(3, 4, seed=1))
    cases = {
        "leaf": lambda L: F(L).relu(L.ones(3, requires_grad=True), inplace=True),
        "int": lambda L: F(L).relu(L.tensor([-1, 2]), inplace=True),
        "bool": lambda L: F(L).relu(L.tensor([True]), inplace=True),
        "not a tensor": lambda L: F(L).relu(1.0),
        "int out of place": lambda L: F(L).relu(L.tensor([-1, 2])),
    }
    for name, fn in cases.items():
        assert outcome(cgrad, fn) == outcome(torch, fn), name
    x = cgrad.tensor([-1.0, 2.0])
    assert CF.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    y = cgrad.tensor([[-3, 1]])
    assert y.relu_() is y and y.tolist() == [[0, 1]]
    compare_with_torch(lambda lib, x: (x * 1).relu_(), rand(2, 3, seed=4))
    # the saved result is the input itself: changing it afterwards is caught
    a = cgrad.tensor([-1.0, 2.0], requires_grad=True)
    b = a * 1
    CF.relu(b, inplace=True)
    b.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_functional_namespace():
    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "dropout", "nll_loss",
                 "cross_entropy", "mse_loss", "l1_loss", "binary_cross_entropy"):
        assert callable(getattr(CF, name))
    import cgrad.nn
    assert cgrad.nn.functional is CF
    for name in ("softmax", "log_softmax", "dropout", "relu_"):
        assert callable(getattr(cgrad, name))
