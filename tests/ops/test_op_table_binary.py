"""Generic tests of the op table's binary rows (cgrad._C._OP_TABLE_BINARY),
as test_op_table.py does for unary rows: every form the row's `api` names,
on broadcasting sample inputs from the row's domains, against torch
(values, dtypes, grad_fn names, gradients of both inputs, Python numbers
where the op takes them, integer inputs, in-place forms, out=), and float64
gradcheck/gradgradcheck, which need no oracle.
"""
import numpy as np
import pytest

import cgrad
from cgrad import _C
from cgrad.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

ROWS = _C._OP_TABLE_BINARY
IDS = [row["name"] for row in ROWS]
DIFFERENTIABLE = [row for row in ROWS if not row["no_grad"]]


def samples(row, dtype=np.float64, seed=0):
    """input of shape (3, 4), other of shape (4,): the gradient of other is
    summed over the broadcast dim."""
    rng = np.random.default_rng(seed)
    lo, hi = row["domain"]
    a = rng.uniform(lo, hi, size=(3, 4))
    lo, hi = row["domain_other"]
    b = rng.uniform(lo, hi, size=(4,))
    a[0, 0] = 0.0          # where several formulas have their edge cases
    return a.astype(dtype), b.astype(dtype)


# rows PyTorch has in torch.special only (no torch.<name>)
SPECIAL_ONLY = {"xlog1py"}


def function(lib, name):
    return getattr(lib.special, name) if name in SPECIAL_ONLY else getattr(lib, name)


def call(lib, row, form, a, b, out=None):
    name = row["name"]
    if form == "fn":
        return function(lib, name)(a, b) if out is None else function(lib, name)(a, b, out=out)
    if form == "meth":
        return getattr(a, name)(b)
    raise AssertionError(form)


def test_table_is_not_empty():
    assert {"hypot", "copysign", "logaddexp", "logaddexp2", "xlogy", "heaviside"} <= set(IDS)


@pytest.mark.parametrize("row", DIFFERENTIABLE, ids=[r["name"] for r in DIFFERENTIABLE])
def test_gradcheck_float64(row):
    a_np, b_np = samples(row)
    a_np[0, 0] = 0.5       # finite differences need a smooth point
    a = cgrad.tensor(a_np, requires_grad=True)
    b = cgrad.tensor(b_np, requires_grad=True)
    assert gradcheck(lambda s, o: call(cgrad, row, "fn", s, o), (a, b), eps=1e-6, atol=1e-5)
    assert gradgradcheck(lambda s, o: call(cgrad, row, "fn", s, o), (a, b), eps=1e-6, atol=1e-4)


@pytest.mark.parametrize("row", DIFFERENTIABLE, ids=[r["name"] for r in DIFFERENTIABLE])
def test_fused_backward_equals_formula(row):
    for dtype in (np.float32, np.float64):
        a_np, b_np = samples(row, dtype)
        a = cgrad.tensor(a_np, requires_grad=True)
        b = cgrad.tensor(b_np, requires_grad=True)
        g = cgrad.tensor(np.random.default_rng(3).normal(size=(3, 4)).astype(dtype))
        fused = cgrad.autograd.grad(call(cgrad, row, "fn", a, b), (a, b), g, allow_unused=True)
        formula = cgrad.autograd.grad(call(cgrad, row, "fn", a, b), (a, b), g, create_graph=True,
                                      allow_unused=True)
        for f, h in zip(fused, formula):
            assert (f is None) == (h is None)
            if f is not None:
                np.testing.assert_allclose(h.detach().numpy(), f.numpy(), rtol=1e-6 if dtype == np.float32 else 1e-14)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_matches_torch(row, dtype):
    tol = {"float32": (2e-6, 1e-6), "float64": (1e-12, 1e-12), "float16": (2e-3, 2e-3)}[dtype]
    a_np, b_np = samples(row, getattr(np, dtype))
    g_np = np.random.default_rng(3).normal(size=(3, 4)).astype(dtype)
    for form in [f for f in row["api"] if f in ("fn", "meth")]:
        ac, bc = cgrad.tensor(a_np, requires_grad=True), cgrad.tensor(b_np, requires_grad=True)
        at, bt = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
        yc, yt = call(cgrad, row, form, ac, bc), call(torch, row, form, at, bt)
        assert str(yc.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
        assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__.split("::")[-1]
        np.testing.assert_allclose(yc.detach().numpy().astype(np.float64), yt.detach().numpy().astype(np.float64),
                                   rtol=tol[0], atol=tol[1], err_msg=f"{row['name']} {form}")
        if row["no_grad"]:
            with pytest.raises(RuntimeError) as err:
                yc.backward(cgrad.tensor(g_np))
            with pytest.raises(RuntimeError) as expected:
                yt.backward(torch.tensor(g_np))
            assert str(err.value) == str(expected.value)
            continue
        yc.backward(cgrad.tensor(g_np))
        yt.backward(torch.tensor(g_np))
        for gc, gt, what in ((ac.grad, at.grad, "input"), (bc.grad, bt.grad, "other")):
            assert (gc is None) == (gt is None), what
            if gt is not None:
                np.testing.assert_allclose(gc.numpy().astype(np.float64), gt.numpy().astype(np.float64),
                                           rtol=tol[0] * 8, atol=tol[1] * 8, err_msg=f"{row['name']} {what}")


@requires_torch
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_python_numbers_match_torch(row):
    a_np, _ = samples(row)
    for args_of in (lambda lib, t: (t, 2.5), lambda lib, t: (2.5, t), lambda lib, t: (lib.tensor([1, 2]), 2)):
        results = []
        for lib in (cgrad, torch):
            t = lib.tensor(a_np, requires_grad=not row["no_grad"])
            try:
                results.append(function(lib, row["name"])(*args_of(lib, t)))
            except TypeError as e:
                results.append(type(e))
        rc, rt = results
        if isinstance(rt, type):
            assert rc is rt
            continue
        assert str(rc.dtype).split(".")[-1] == str(rt.dtype).split(".")[-1]
        assert type(rc.grad_fn).__name__ == type(rt.grad_fn).__name__.split("::")[-1]
        np.testing.assert_allclose(rc.detach().numpy().astype(np.float64), rt.detach().numpy().astype(np.float64),
                                   rtol=1e-12, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_integer_and_bool_inputs_match_torch(row, dtype):
    a_np = (np.arange(6).reshape(2, 3) % (2 if dtype == "bool" else 5)).astype(dtype)
    b_np = (np.arange(3) % 2).astype(dtype)
    try:
        expected = function(torch, row["name"])(torch.tensor(a_np), torch.tensor(b_np))
    except (RuntimeError, NotImplementedError) as e:
        with pytest.raises(type(e)) as err:
            function(cgrad, row["name"])(cgrad.tensor(a_np), cgrad.tensor(b_np))
        assert str(err.value) == str(e)
        return
    got = function(cgrad, row["name"])(cgrad.tensor(a_np), cgrad.tensor(b_np))
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy().astype(np.float64), expected.numpy().astype(np.float64), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("row", [r for r in ROWS if "meth_" in r["api"]],
                         ids=[r["name"] for r in ROWS if "meth_" in r["api"]])
def test_inplace_matches_torch(row):
    a_np, b_np = samples(row)
    lc, lt = cgrad.tensor(a_np, requires_grad=True), torch.tensor(a_np, requires_grad=True)
    bc, bt = cgrad.tensor(b_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    xc, xt = lc * 1, lt * 1
    assert getattr(xc, row["name"] + "_")(bc) is xc
    getattr(xt, row["name"] + "_")(bt)
    np.testing.assert_allclose(xc.detach().numpy(), xt.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert type(xc.grad_fn).__name__ == type(xt.grad_fn).__name__.split("::")[-1]
    if not row["no_grad"]:
        xc.sum().backward()
        xt.sum().backward()
        np.testing.assert_allclose(lc.grad.numpy(), lt.grad.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(bc.grad.numpy(), bt.grad.numpy(), rtol=1e-12, atol=1e-12)
    # the broadcast result must fit self
    for lib in (cgrad, torch):
        with pytest.raises(RuntimeError) as err:
            getattr(lib.tensor(b_np), row["name"] + "_")(lib.tensor(a_np))
        assert "doesn't match the broadcast shape" in str(err.value)


@requires_torch
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_out_argument_matches_torch(row):
    a_np, b_np = samples(row)
    oc, ot = cgrad.empty(0, dtype=cgrad.float64), torch.empty(0, dtype=torch.float64)
    assert call(cgrad, row, "fn", cgrad.tensor(a_np), cgrad.tensor(b_np), out=oc) is oc
    call(torch, row, "fn", torch.tensor(a_np), torch.tensor(b_np), out=ot)
    np.testing.assert_allclose(oc.numpy(), ot.numpy(), rtol=1e-12, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("operands", ["tt", "ts", "st", "int"])
def test_float_power_matches_torch(operands):
    """float_power: PyTorch's composite in float64 (not a table row)."""
    a_np = np.array([[0.5, 1.5, 2.0], [3.0, 0.25, 1.0]], dtype=np.float32)
    b_np = np.array([1.5, -0.5, 2.0], dtype=np.float32)
    results = []
    for lib in (cgrad, torch):
        a = lib.tensor(a_np, requires_grad=True) if operands != "int" else lib.tensor([[1, 2, 3]])
        b = lib.tensor(b_np, requires_grad=True)
        args = {"tt": (a, b), "ts": (a, 2.5), "st": (2.5, b), "int": (a, 2)}[operands]
        y = lib.float_power(*args)
        if y.requires_grad:
            y.sum().backward()
        results.append((y, a.grad if operands != "int" else None, b.grad))
    (yc, gac, gbc), (yt, gat, gbt) = results
    assert str(yc.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1] == "float64"
    assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    for gc, gt in ((gac, gat), (gbc, gbt)):
        assert (gc is None) == (gt is None)
        if gt is not None:
            np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-6)
