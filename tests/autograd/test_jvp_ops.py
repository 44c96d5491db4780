"""Forward-mode AD of every op: each op table row (cgrad._C._OP_TABLE,
_OP_TABLE_BINARY and the legacy unary rows) and each hand-written op of
jvp_samples.SAMPLES is run on dual float64 inputs, and its tangent is
checked three ways: against central finite differences, against the VJP
through the transpose (<J t, u> == <t, J^T u>), and against
torch.autograd.forward_ad (values and tangents) when torch is installed."""
import numpy as np
import pytest

import cgrad
from cgrad import _C

from fwd_helpers import dual_positions, finite_difference, run_dual, torch, vjp_dot
from jvp_samples import SAMPLES

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

# The legacy unary rows (bindings written by hand, kernels from the table)
LEGACY = ["neg", "abs", "sign", "relu", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "reciprocal",
          "rsqrt", "log1p", "expm1", "log2", "log10", "sinh", "cosh", "asin", "acos", "atan", "erf", "floor",
          "ceil", "round", "trunc", "frac", "sgn"]
LEGACY_DOMAIN = {"log": (0.2, 3.0), "sqrt": (0.2, 3.0), "rsqrt": (0.2, 3.0), "log1p": (0.2, 3.0),
                 "log2": (0.2, 3.0), "log10": (0.2, 3.0), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
                 "reciprocal": (0.5, 3.0)}
ARGS = {"threshold": (0.25, -2.0), "hardtanh": (-0.7, 1.2), "softshrink": (0.4,), "hardshrink": (0.6,),
        "polygamma": (2,), "logit": (0.1,)}


def unary_call(row):
    name, args = row["name"], ARGS.get(row["name"], ())

    def call(L, x):
        if "fn" in row["api"]:
            fn = getattr(L, name)
            return fn(*args, x) if row["params_first"] else fn(x, *args)
        if "meth" in row["api"]:
            return getattr(x, name)(*args)
        if "F" in row["api"]:
            return getattr(L.nn.functional, name)(x, *args)
        return getattr(L.special, name)(x) if L is torch else getattr(_C, "_op_" + name)(x)
    return call


def away_from_kinks(x, row_name):
    """Sample points a finite difference can see: no input within 1e-3 of a
    kink of the piecewise ops (their derivative jumps there)."""
    kinks = {"hardtanh": (-0.7, 1.2), "threshold": (0.25,), "softshrink": (-0.4, 0.4),
             "hardshrink": (-0.6, 0.6), "hardsigmoid": (-3.0, 3.0), "hardswish": (-3.0, 3.0),
             "relu": (0.0,), "abs": (0.0,)}.get(row_name, ())
    for k in kinks:
        x = np.where(np.abs(x - k) < 1e-3, x + 5e-3, x)
    return x


TABLE_CASES = [(row["name"], unary_call(row), row["domain"]) for row in _C._OP_TABLE]
TABLE_CASES += [(name, (lambda name: lambda L, x: getattr(L, name)(x))(name), LEGACY_DOMAIN.get(name, (-2.0, 2.0)))
                for name in LEGACY]
BINARY_CASES = [(row["name"], row) for row in _C._OP_TABLE_BINARY if not row["no_grad"]]


def check_tangent(fn, inputs, positions, seed=0, rtol=1e-5, atol=1e-7, oracle=True):
    rng = np.random.default_rng(seed)
    tangents = {i: rng.standard_normal(inputs[i].shape) for i in positions}
    result = run_dual(cgrad, fn, inputs, tangents, positions)
    fd = finite_difference(fn, inputs, tangents, positions)
    cotangents = [rng.standard_normal(p.shape) for p, _ in result]
    dot_fwd = 0.0
    for (primal, tangent), numeric, u in zip(result, fd, cotangents):
        if tangent is None:     # an output without a tangent (indices): constant under the inputs
            np.testing.assert_allclose(numeric, 0, atol=atol)
            continue
        assert tangent.shape == primal.shape
        np.testing.assert_allclose(tangent, numeric, rtol=1e-4, atol=1e-5, err_msg="jvp vs finite differences")
        dot_fwd += float((tangent * u).sum())
    dot_bwd = vjp_dot(fn, inputs, tangents, positions, cotangents)
    np.testing.assert_allclose(dot_fwd, dot_bwd, rtol=rtol, atol=atol, err_msg="<J t, u> vs <t, J^T u>")
    if oracle and torch is not None:
        expected = run_dual(torch, fn, inputs, tangents, positions)
        for (p, t), (pe, te) in zip(result, expected):
            np.testing.assert_allclose(p, pe, rtol=1e-7, atol=1e-12, err_msg="primal vs torch")
            assert (t is None) == (te is None), "tangent presence vs torch"
            if t is not None:
                np.testing.assert_allclose(t, te, rtol=1e-6, atol=1e-10, err_msg="tangent vs torch")


@pytest.mark.parametrize("name,call,domain", TABLE_CASES, ids=[c[0] for c in TABLE_CASES])
def test_unary_table_jvp(name, call, domain):
    x = away_from_kinks(np.random.default_rng(3).uniform(domain[0], domain[1], size=(3, 5)), name)
    check_tangent(call, [x], [0])


@pytest.mark.parametrize("name,row", BINARY_CASES, ids=[c[0] for c in BINARY_CASES])
@pytest.mark.parametrize("which", ["both", "self", "other"])
def test_binary_table_jvp(name, row, which):
    rng = np.random.default_rng(4)
    x = rng.uniform(*row["domain"], size=(3, 4))
    y = rng.uniform(*row["domain_other"], size=(4,))      # broadcast: other's tangent is expanded
    positions = {"both": [0, 1], "self": [0], "other": [1]}[which]
    # xlog1py is in torch.special only
    check_tangent(lambda L, a, b: getattr(L.special if name == "xlog1py" else L, name)(a, b), [x, y], positions)


@pytest.mark.parametrize("name,fn,inputs,n_dual", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_handwritten_jvp(name, fn, inputs, n_dual):
    check_tangent(fn, inputs, dual_positions(inputs, n_dual))


def test_no_grad_row_raises_pytorch_error():
    fwAD = cgrad.autograd.forward_ad
    with fwAD.dual_level():
        d = fwAD.make_dual(cgrad.randn(3, dtype=cgrad.float64), cgrad.ones(3, dtype=cgrad.float64))
        with pytest.raises(NotImplementedError) as info:
            cgrad.heaviside(d, cgrad.zeros(3, dtype=cgrad.float64))
    assert str(info.value) == "Trying to use forward AD with aten::heaviside that does not support it."


@requires_torch
@pytest.mark.parametrize("name", ["asinh_", "acosh_", "atanh_"])
def test_inplace_without_derivative_raises_like_torch(name):
    msgs = []
    for lib in (cgrad, torch):
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            d = fwAD.make_dual(lib.rand(3, dtype=lib.float64) + 1.2, lib.ones(3, dtype=lib.float64)).clone()
            with pytest.raises(NotImplementedError) as info:
                getattr(d, name)()
            msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_every_table_row_has_a_jvp():
    """A row without a JVP would raise under forward AD; the renderer lists
    such rows (src/codegen/render.py rows_without_jvp)."""
    import os
    import sys
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    if not os.path.isdir(os.path.join(src, "codegen")):
        pytest.skip("the op table's generator is not in this checkout")
    sys.path.insert(0, src)
    try:
        from codegen.render import rows_without_jvp
    finally:
        sys.path.pop(0)
    assert rows_without_jvp() == []
