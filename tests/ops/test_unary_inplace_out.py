"""In-place (Tensor.exp_, cgrad.exp_, ...) and out= forms of the first
unary ops (neg, abs, sign, exp, log, sqrt, sin, cos, tanh, sigmoid,
reciprocal and the negative/absolute aliases), against torch: values,
dtypes, grad_fn names, gradients through the in-place result, version
counters and errors; without torch, hand-computed values and gradcheck."""
import math

import numpy as np
import pytest

import cgrad
from helpers import torch, requires_torch

OPS = ["neg", "negative", "abs", "absolute", "sign", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid",
       "reciprocal"]
NO_FUNCTION_INPLACE = {"sign", "absolute"}   # Tensor methods only, as in torch
POSITIVE = {"log", "sqrt", "reciprocal"}

REFERENCE = {"neg": lambda v: -v, "negative": lambda v: -v, "abs": abs, "absolute": abs,
             "sign": lambda v: float(np.sign(v)), "exp": math.exp, "log": math.log, "sqrt": math.sqrt,
             "sin": math.sin, "cos": math.cos, "tanh": math.tanh, "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
             "reciprocal": lambda v: 1 / v}


def values(op):
    a = np.array([[0.3, -1.7, 2.2], [1.1, -0.4, 0.9]])
    return np.abs(a) + 0.1 if op in POSITIVE else a


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:     # the error is the result compared
        return (type(e).__name__, str(e).replace("torch.", "cgrad."))


def summary(t):
    return (str(t.dtype).split(".")[-1], tuple(t.shape), np.round(t.detach().numpy().astype(np.float64), 6).tolist(),
            type(t.grad_fn).__name__ if t.grad_fn is not None else None)


@pytest.mark.parametrize("op", OPS)
def test_inplace_by_hand(op):
    a = values(op)
    x = cgrad.tensor(a)
    version = x._version
    assert getattr(x, op + "_")() is x
    assert x._version == version + 1
    np.testing.assert_allclose(x.numpy(), np.vectorize(REFERENCE[op])(a), rtol=1e-12)
    if op not in NO_FUNCTION_INPLACE:
        y = cgrad.tensor(a)
        assert getattr(cgrad, op + "_")(y) is y
        np.testing.assert_array_equal(y.numpy(), x.numpy())


@pytest.mark.parametrize("op", OPS)
def test_out_by_hand(op):
    a = values(op)
    out = cgrad.empty(2, 3, dtype=cgrad.float64)
    r = getattr(cgrad, op)(cgrad.tensor(a), out=out)
    assert r is out
    np.testing.assert_allclose(out.numpy(), np.vectorize(REFERENCE[op])(a), rtol=1e-12)


@pytest.mark.parametrize("op", [o for o in OPS if o != "sign"])
def test_gradcheck_through_inplace(op):
    x = cgrad.tensor(values(op), requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda t: getattr(t * 1.0, op + "_")(), (x,))
    assert cgrad.autograd.gradgradcheck(lambda t: getattr(t * 1.0, op + "_")(), (x,))


@requires_torch
@pytest.mark.parametrize("op", OPS)
def test_inplace_against_torch(op):
    a = values(op)
    g = np.random.default_rng(0).standard_normal(a.shape)

    def run(lib):
        results = []
        leaf = lib.tensor(a, requires_grad=True)
        y = leaf * 2.0
        r = getattr(y, op + "_")()
        results.append((r is y, summary(y)))
        (y * lib.tensor(g)).sum().backward()
        results.append(np.round(leaf.grad.numpy(), 6).tolist())
        results.append(outcome(lambda: getattr(lib.tensor(a, requires_grad=True), op + "_")()))
        for dt in ("int64", "int32", "uint8", "bool", "float16", "float32"):
            t = lib.tensor(np.abs(a) * 3 if dt in ("uint8", "bool") else a * 3).to(getattr(lib, dt))
            results.append((dt, outcome(lambda: summary(getattr(t.clone(), op + "_")()))))
        if op not in NO_FUNCTION_INPLACE:
            t = lib.tensor(a)
            results.append(outcome(lambda: (getattr(lib, op + "_")(t) is t, summary(t))))
        return results
    assert run(cgrad) == run(torch)


@requires_torch
@pytest.mark.parametrize("op", OPS)
def test_out_against_torch(op):
    a = values(op)

    def run(lib):
        results = []
        x = lib.tensor(a, dtype=lib.float32)
        for out_dtype in ("float32", "float64", "float16", "int64", "bool"):
            out = lib.empty(2, 3, dtype=getattr(lib, out_dtype))
            results.append((out_dtype, outcome(lambda: (getattr(lib, op)(x, out=out) is out, summary(out)))))
        xi = lib.tensor((a * 3).astype(np.int64))
        for out_dtype in ("int64", "float32"):
            out = lib.empty(2, 3, dtype=getattr(lib, out_dtype))
            results.append(("int", out_dtype, outcome(lambda: summary(getattr(lib, op)(xi, out=out)))))
        out = lib.empty(5, dtype=lib.float32)       # resized, with PyTorch's warning
        results.append(outcome(lambda: summary(getattr(lib, op)(x, out=out))))
        out = lib.empty(2, 3, requires_grad=True)
        results.append(outcome(lambda: getattr(lib, op)(lib.tensor(a, requires_grad=True), out=out)))
        return results
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run(cgrad) == run(torch)
