"""Generic tests of every op in the op table (cgrad._C._OP_TABLE), in the
spirit of PyTorch's OpInfo: each row is run through every form its `api`
names (function, method, in place, out=, nn.functional), on sample inputs
drawn from the row's domain, and compared with torch: values, dtypes,
grad_fn names, gradients, in-place results and version counters, out=
results, and the errors for refused dtypes. Every such test also checks
the row against its reference column (op_references.py: numpy or math
values, torch's grad_fn names, dtypes and error texts as literals), with or
without torch. Without torch, float64 gradcheck and gradgradcheck still
check every row's backward against finite differences, and the fused
backward kernel is checked against the differentiable formula
(create_graph=True takes the formula path).
"""
import numpy as np
import pytest

import cgrad
from cgrad import _C
from cgrad.autograd import gradcheck, gradgradcheck
from op_references import (INTEGER_DTYPES, OUT_CAST_ERROR, UNARY_INTEGER_INPUTS, UNARY_INPLACE_NO_DERIVATIVE,
                           UNARY_MISSING_KERNELS,
                           UNARY_OUT_DTYPE_ERRORS, unary_grad_fn, unary_reference)

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

ROWS = _C._OP_TABLE
IDS = [row["name"] for row in ROWS]
# values of the parameterised rows' arguments used by the tests (defaults
# where the row has them)
ARGS = {"threshold": (0.25, -2.0), "hardtanh": (-0.7, 1.2), "softshrink": (0.4,), "hardshrink": (0.6,),
        "polygamma": (2,), "logit": (0.1,), "celu": (0.7,), "nan_to_num": (1.5, 2.0, -3.0)}


def sample(row, dtype=np.float64, shape=(3, 5), seed=0):
    lo, hi = row["domain"]
    x = np.random.default_rng(seed).uniform(lo, hi, size=shape)
    return x.astype(dtype)


def args_of(row):
    return ARGS.get(row["name"], ())


def library_call(lib, row, form, x, args, out=None):
    """Row `row` through one of its forms, in lib (cgrad or torch)."""
    name = row["name"]
    first = row["params_first"]
    if form == "fn":
        fn = getattr(lib, name)
        operands = (*args, x) if first else (x, *args)
        return fn(*operands) if out is None else fn(*operands, out=out)
    if form == "fn_":
        return getattr(lib, name + "_")(*((*args, x) if first else (x, *args)))
    if form == "meth":
        return getattr(x, name)(*args)
    if form == "meth_":
        return getattr(x, name + "_")(*args)
    if form == "F":
        return getattr(lib.nn.functional, name)(x, *args)
    if form == "op":  # rows used only inside other ops' formulas
        return getattr(lib.special, name)(x) if lib is torch else getattr(_C, "_op_" + name)(x)
    if form == "F_":
        return getattr(lib.nn.functional, name)(x, *args, inplace=True)
    raise AssertionError(form)


def out_of_place_forms(row):
    forms = [f for f in row["api"] if f in ("fn", "meth", "F")]
    return forms or ["op"]


def inplace_forms(row):
    return [f for f in row["api"] if f in ("fn_", "meth_", "F_")]


def test_table_is_not_empty():
    assert len(ROWS) >= 15
    for row in ROWS:
        assert row["node"].endswith(("Backward0", "Backward1")), row


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_gradcheck_float64(row):
    x = cgrad.tensor(sample(row, shape=(2, 3)), requires_grad=True)
    args = args_of(row)
    form = out_of_place_forms(row)[0]
    assert gradcheck(lambda t: library_call(cgrad, row, form, t, args), (x,), eps=1e-6, atol=1e-5)
    assert gradgradcheck(lambda t: library_call(cgrad, row, form, t, args), (x,), eps=1e-6, atol=1e-4)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_fused_backward_equals_formula(row):
    """The fused kernel (plain backward) and the formula ops (create_graph)
    are the same rule rendered twice: they agree to the last bits."""
    form = out_of_place_forms(row)[0]
    for dtype in (np.float32, np.float64):
        a = cgrad.tensor(sample(row, dtype), requires_grad=True)
        g = cgrad.tensor(sample(row, dtype, seed=1))
        y = library_call(cgrad, row, form, a, args_of(row))
        (fused,) = cgrad.autograd.grad(y, a, g)
        y = library_call(cgrad, row, form, a, args_of(row))
        (formula,) = cgrad.autograd.grad(y, a, g, create_graph=True)
        np.testing.assert_allclose(formula.detach().numpy(), fused.numpy(), rtol=4e-7 if dtype == np.float32 else 1e-15, atol=0)


def reference(row, x_np, args):
    return unary_reference(row["name"], x_np, args, row["params_first"])


# the reference is float64 math on the same (rounded) inputs: the result's
# own rounding (and float32 internal math for float16) is all that differs
REFERENCE_TOL = {"float32": (2e-6, 1e-6), "float64": (1e-12, 1e-12), "float16": (2e-3, 2e-3)}


def check_forms_against_reference(row, dtype):
    """Every out-of-place form: values against the reference column, the
    input's dtype, torch's grad_fn name; the gradient in the input's dtype
    and, below float64, equal to the float64 gradient (itself gradchecked)
    at the same points."""
    args = args_of(row)
    rtol, atol = REFERENCE_TOL[dtype]
    x_np = sample(row, getattr(np, dtype))
    g_np = sample(row, getattr(np, dtype), seed=1)
    expected = reference(row, x_np, args)
    x64 = cgrad.tensor(x_np.astype(np.float64), requires_grad=True)
    library_call(cgrad, row, out_of_place_forms(row)[0], x64, args).backward(cgrad.tensor(g_np.astype(np.float64)))
    for form in out_of_place_forms(row):
        x = cgrad.tensor(x_np, requires_grad=True)
        missing = UNARY_MISSING_KERNELS.get((row["name"], dtype, "forward"))
        if missing is not None:  # no kernel for this dtype in torch either
            with pytest.raises(NotImplementedError) as err:
                library_call(cgrad, row, form, x, args)
            assert str(err.value) == missing
            continue
        y = library_call(cgrad, row, form, x, args)
        assert str(y.dtype) == "cgrad." + dtype, form
        assert type(y.grad_fn).__name__ == unary_grad_fn(row["name"]), form
        np.testing.assert_allclose(y.detach().numpy().astype(np.float64), expected, rtol=rtol, atol=atol,
                                   err_msg=f"{row['name']} {form} against the reference")
        missing = UNARY_MISSING_KERNELS.get((row["name"], dtype, "backward"))
        if missing is not None:
            with pytest.raises(NotImplementedError) as err:
                y.backward(cgrad.tensor(g_np))
            assert str(err.value) == missing
            continue
        y.backward(cgrad.tensor(g_np))
        assert str(x.grad.dtype) == "cgrad." + dtype
        np.testing.assert_allclose(x.grad.numpy().astype(np.float64), x64.grad.numpy(), rtol=rtol * 4,
                                   atol=atol * 4, err_msg=f"{row['name']} {form} backward against float64")


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_matches_torch(row, dtype):
    check_forms_against_reference(row, dtype)
    if torch is None:
        return
    tol = {"float32": (2e-6, 1e-6), "float64": (1e-12, 1e-12), "float16": (2e-3, 2e-3)}[dtype]
    args = args_of(row)
    x_np = sample(row, getattr(np, dtype))
    g_np = sample(row, getattr(np, dtype), seed=1)
    for form in out_of_place_forms(row):
        xc = cgrad.tensor(x_np, requires_grad=True)
        xt = torch.tensor(x_np, requires_grad=True)
        try:
            yt = library_call(torch, row, form, xt, args)
        except NotImplementedError as e:  # no kernel for this dtype in torch (erfcx in float16)
            with pytest.raises(NotImplementedError) as err:
                library_call(cgrad, row, form, xc, args)
            assert str(err.value) == str(e)
            continue
        yc = library_call(cgrad, row, form, xc, args)
        assert str(yc.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
        assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__, form
        np.testing.assert_allclose(yc.detach().numpy().astype(np.float64),
                                   yt.detach().numpy().astype(np.float64), rtol=tol[0], atol=tol[1],
                                   err_msg=f"{row['name']} {form} forward")
        try:
            yt.backward(torch.tensor(g_np))
        except NotImplementedError as e:  # no backward kernel for this dtype in torch
            with pytest.raises(NotImplementedError) as err:
                yc.backward(cgrad.tensor(g_np))
            assert str(err.value) == str(e)
            continue
        yc.backward(cgrad.tensor(g_np))
        np.testing.assert_allclose(xc.grad.numpy().astype(np.float64), xt.grad.numpy().astype(np.float64),
                                   rtol=tol[0] * 4, atol=tol[1] * 4, err_msg=f"{row['name']} {form} backward")


def check_inplace_forms_against_reference(row):
    args = args_of(row)
    x_np = sample(row)
    expected = reference(row, x_np, args)
    for form in inplace_forms(row):
        lc = cgrad.tensor(x_np, requires_grad=True)
        xc = lc * 1
        assert library_call(cgrad, row, form, xc, args) is xc
        assert type(xc.grad_fn).__name__ == unary_grad_fn(row["name"], inplace=True), form
        np.testing.assert_allclose(xc.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
        if row["name"] in UNARY_INPLACE_NO_DERIVATIVE:
            with pytest.raises(NotImplementedError) as err:
                xc.sum().backward()
            assert str(err.value) == UNARY_INPLACE_NO_DERIVATIVE[row["name"]]
            continue
        xc.sum().backward()
        # d/dx of the in-place result is the out-of-place op's derivative
        # (some in-place formulas use the result, not the input: not to
        # the last bit)
        lo = cgrad.tensor(x_np, requires_grad=True)
        library_call(cgrad, row, out_of_place_forms(row)[0], lo, args).sum().backward()
        np.testing.assert_allclose(lc.grad.numpy(), lo.grad.numpy(), rtol=1e-6, atol=1e-12)
        xc = cgrad.tensor(x_np)
        v = xc._version
        library_call(cgrad, row, form, xc, args)
        assert xc._version == v + 1
        np.testing.assert_allclose(xc.numpy(), expected, rtol=1e-12, atol=1e-12)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            library_call(cgrad, row, form, cgrad.tensor(x_np, requires_grad=True), args)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_inplace_forms_match_torch(row):
    if not inplace_forms(row):
        pytest.skip(f"{row['name']} has no in-place form")
    check_inplace_forms_against_reference(row)
    if torch is None:
        return
    args = args_of(row)
    x_np = sample(row)
    for form in inplace_forms(row):
        # on a non-leaf that requires grad: recorded, gradient through it
        lc = cgrad.tensor(x_np, requires_grad=True)
        lt = torch.tensor(x_np, requires_grad=True)
        xc, xt = lc * 1, lt * 1
        rc, rt = library_call(cgrad, row, form, xc, args), library_call(torch, row, form, xt, args)
        assert rc is xc and rt is xt
        assert type(xc.grad_fn).__name__ == type(xt.grad_fn).__name__
        np.testing.assert_allclose(xc.detach().numpy(), xt.detach().numpy(), rtol=1e-12, atol=1e-12)
        try:
            xt.sum().backward()
        except NotImplementedError as e:  # torch has no derivative for some in-place forms
            with pytest.raises(NotImplementedError) as err:
                xc.sum().backward()
            assert str(err.value) == str(e)
        else:
            xc.sum().backward()
            np.testing.assert_allclose(lc.grad.numpy(), lt.grad.numpy(), rtol=1e-12, atol=1e-12)
        # without grad: the same values, one version bump
        xc = cgrad.tensor(x_np)
        v = xc._version
        library_call(cgrad, row, form, xc, args)
        assert xc._version == v + 1
        np.testing.assert_allclose(xc.numpy(), xt.detach().numpy(), rtol=1e-12, atol=1e-12)
        # a leaf that requires grad refuses, as in torch
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            library_call(cgrad, row, form, cgrad.tensor(x_np, requires_grad=True), args)


OUT_ROWS = [r for r in ROWS if "fn" in r["api"] and r["out"]]


def check_out_argument_against_reference(row):
    args = args_of(row)
    x_np = sample(row)
    expected = reference(row, x_np, args)
    oc = cgrad.zeros(3, 5, dtype=cgrad.float64)
    assert library_call(cgrad, row, "fn", cgrad.tensor(x_np), args, out=oc) is oc
    np.testing.assert_allclose(oc.numpy(), expected, rtol=1e-12, atol=1e-12)
    # a float32 input into a float64 out: the float32 result, cast (or
    # torch's error where the out must have the input's dtype)
    oc = cgrad.zeros(3, 5, dtype=cgrad.float64)
    wider_text, int_text = UNARY_OUT_DTYPE_ERRORS.get(row["name"], (None, OUT_CAST_ERROR))
    if wider_text is not None:
        with pytest.raises(RuntimeError) as err:
            library_call(cgrad, row, "fn", cgrad.tensor(x_np.astype(np.float32)), args, out=oc)
        assert str(err.value) == wider_text
    else:
        library_call(cgrad, row, "fn", cgrad.tensor(x_np.astype(np.float32)), args, out=oc)
        np.testing.assert_allclose(oc.numpy(), reference(row, x_np.astype(np.float32), args), rtol=2e-6,
                                   atol=1e-6)
    oc = cgrad.zeros(2, dtype=cgrad.float64)
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        library_call(cgrad, row, "fn", cgrad.tensor(x_np), args, out=oc)
    np.testing.assert_allclose(oc.numpy(), expected, rtol=1e-12, atol=1e-12)
    # torch's texts: no integer out for a float result, no autograd through out=
    with pytest.raises(RuntimeError) as err:
        library_call(cgrad, row, "fn", cgrad.tensor(x_np), args, out=cgrad.zeros(3, 5, dtype=cgrad.int64))
    assert str(err.value) == int_text
    with pytest.raises(RuntimeError) as err:
        library_call(cgrad, row, "fn", cgrad.tensor(x_np, requires_grad=True), args,
                     out=cgrad.zeros(3, 5, dtype=cgrad.float64))
    assert "functions with out=... arguments don't support automatic differentiation" in str(err.value)


@pytest.mark.parametrize("row", OUT_ROWS, ids=[r["name"] for r in OUT_ROWS])
def test_out_argument_matches_torch(row):
    check_out_argument_against_reference(row)
    if torch is None:
        return
    args = args_of(row)
    x_np = sample(row)
    # the right shape: written in place and returned
    oc, ot = cgrad.zeros(3, 5, dtype=cgrad.float64), torch.zeros(3, 5, dtype=torch.float64)
    rc = library_call(cgrad, row, "fn", cgrad.tensor(x_np), args, out=oc)
    library_call(torch, row, "fn", torch.tensor(x_np), args, out=ot)
    assert rc is oc
    np.testing.assert_allclose(oc.numpy(), ot.numpy(), rtol=1e-12, atol=1e-12)
    # a wider dtype takes the result cast
    oc, ot = cgrad.zeros(3, 5, dtype=cgrad.float64), torch.zeros(3, 5, dtype=torch.float64)
    try:
        library_call(torch, row, "fn", torch.tensor(x_np.astype(np.float32)), args, out=ot)
    except RuntimeError as e:  # ops whose out= must have the result's dtype
        with pytest.raises(RuntimeError) as err:
            library_call(cgrad, row, "fn", cgrad.tensor(x_np.astype(np.float32)), args, out=oc)
        assert str(err.value) == str(e)
    else:
        library_call(cgrad, row, "fn", cgrad.tensor(x_np.astype(np.float32)), args, out=oc)
        np.testing.assert_allclose(oc.numpy(), ot.numpy(), rtol=1e-6, atol=1e-7)
    # an empty out is resized silently; a wrong-sized one with torch's warning
    oc = cgrad.empty(0, dtype=cgrad.float64)
    library_call(cgrad, row, "fn", cgrad.tensor(x_np), args, out=oc)
    assert tuple(oc.shape) == (3, 5)
    oc = cgrad.zeros(2, dtype=cgrad.float64)
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        library_call(cgrad, row, "fn", cgrad.tensor(x_np), args, out=oc)
    assert tuple(oc.shape) == (3, 5)
    # refused: an integer out for a float result, and autograd through out=
    texts = []
    for lib in (cgrad, torch):
        with pytest.raises(RuntimeError) as err:
            library_call(lib, row, "fn", lib.tensor(x_np), args, out=lib.zeros(3, 5, dtype=lib.int64))
        texts.append(str(err.value))
        with pytest.raises(RuntimeError) as err:
            library_call(lib, row, "fn", lib.tensor(x_np, requires_grad=True), args, out=lib.zeros(3, 5, dtype=lib.float64))
        assert "functions with out=... arguments don't support automatic differentiation" in str(err.value)
    assert texts[0] == texts[1]


def check_integer_input_against_reference(row, dtype, x_np):
    args = args_of(row)
    form = out_of_place_forms(row)[0]
    outcome = UNARY_INTEGER_INPUTS[row["name"]][dtype]
    if isinstance(outcome, tuple):
        error_type, text = outcome
        with pytest.raises(Exception) as err:
            library_call(cgrad, row, form, cgrad.tensor(x_np), args)
        assert (type(err.value).__name__, str(err.value)) == (error_type, text)
        return
    got = library_call(cgrad, row, form, cgrad.tensor(x_np), args)
    assert str(got.dtype) == "cgrad." + outcome
    expected = reference(row, x_np, args)
    if outcome in INTEGER_DTYPES:  # computed natively: the exact values
        np.testing.assert_array_equal(got.numpy(), expected.astype(outcome))
    else:
        np.testing.assert_allclose(got.numpy().astype(np.float64), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_integer_and_bool_inputs_match_torch(row, dtype):
    """Promoted to float, computed natively, or refused with torch's text."""
    args = args_of(row)
    x_np = (np.arange(6).reshape(2, 3) % (2 if dtype == "bool" else 5)).astype(dtype)
    check_integer_input_against_reference(row, dtype, x_np)
    if torch is None:
        return
    form = out_of_place_forms(row)[0]
    try:
        expected = library_call(torch, row, form, torch.tensor(x_np), args)
    except (RuntimeError, NotImplementedError) as e:
        with pytest.raises(type(e)) as err:
            library_call(cgrad, row, form, cgrad.tensor(x_np), args)
        assert str(err.value) == str(e)
        return
    got = library_call(cgrad, row, form, cgrad.tensor(x_np), args)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy().astype(np.float64), expected.numpy().astype(np.float64),
                               rtol=1e-6, atol=1e-6)


def test_argument_errors_match_torch():
    x = np.array([1.0, -2.0])
    for lib in (cgrad,) if torch is None else (cgrad, torch):
        with pytest.raises(RuntimeError) as err:
            lib.nn.functional.softshrink(lib.tensor(x), -1.0)
        assert str(err.value) == ("lambda must be in range [0, 1.79769e+308] for input dtype Double, "
                                  "but found -1")


@requires_torch
@pytest.mark.parametrize("name,args", [("Hardtanh", ()), ("Hardtanh", (-2.0, 0.5, True)), ("ReLU6", ()),
                                       ("ReLU6", (True,)), ("Hardsigmoid", ()), ("Hardswish", (True,)),
                                       ("Mish", ()), ("Softshrink", ()), ("Softshrink", (0.3,)),
                                       ("Hardshrink", (0.2,)), ("Threshold", (0.1, 20.0)),
                                       ("Threshold", (0.1, 20.0, True)), ("LogSigmoid", ()),
                                       ("Softsign", ()), ("Tanhshrink", ())])
def test_activation_modules_match_torch(name, args):
    x_np = np.linspace(-4, 4, 17)
    mc, mt = getattr(cgrad.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(mc) == repr(mt)
    lc, lt = cgrad.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    yc, yt = mc(lc * 1), mt(lt * 1)
    assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    yc.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(lc.grad.numpy(), lt.grad.numpy(), rtol=1e-12, atol=1e-12)

