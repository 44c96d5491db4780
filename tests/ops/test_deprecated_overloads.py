"""PyTorch's deprecated number-first overloads (add(Number alpha, Tensor
other), sub, addcmul(Number value, Tensor tensor1, Tensor tensor2), addcdiv;
src/cgrad/tensor/deprecated_overloads.pxi) and the Python numbers its
arithmetic functions take for `input` (torch.mul(2, t), torch.add(2, 3)).
Old optimizer code writes the first (`p.data.add_(-lr, d_p)`); values,
dtypes, gradients, the one warning per process and the errors are
PyTorch's. Without torch the values are checked against hand-computed ones."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

P = np.array([1.0, -2.0, 3.5], dtype=np.float32)
G = np.array([0.5, 4.0, -1.0], dtype=np.float32)
H = np.array([2.0, 0.25, -3.0], dtype=np.float32)

# (expression over lib, t = P, g = G, h = H; the expected values by hand)
DEPRECATED = [
    ("t.add(-0.1, g)", P + np.float32(-0.1) * G),
    ("t.sub(2, g)", P - 2 * G),
    ("lib.add(t, 3, g)", P + 3 * G),
    ("lib.sub(t, 0.5, g)", P - np.float32(0.5) * G),
    ("t.clone().add_(-0.1, g)", P + np.float32(-0.1) * G),
    ("t.clone().sub_(2, g)", P - 2 * G),
    ("t.clone().add_(1.0, 2.0)", P + 2),
    ("t.addcmul(0.5, g, h)", P + np.float32(0.5) * (G * H)),
    ("t.addcdiv(-2, g, h)", P + np.float32(-2) * (G / H)),
    ("lib.addcmul(t, 0.5, g, h)", P + np.float32(0.5) * (G * H)),
    ("lib.addcdiv(t, 0.25, g, h)", P + np.float32(0.25) * (G / H)),
    ("t.clone().addcmul_(0.5, g, h)", P + np.float32(0.5) * (G * H)),
    ("t.clone().addcdiv_(-2, g, h)", P + np.float32(-2) * (G / H)),
]


def run(lib, expression):
    t, g, h = (lib.tensor(a) for a in (P, G, H))
    return eval(expression, {"lib": lib, "t": t, "g": g, "h": h})


@pytest.mark.filterwarnings("ignore:This overload of")
@pytest.mark.parametrize("expression, expected", DEPRECATED, ids=[e for e, _ in DEPRECATED])
def test_deprecated_overload_values(expression, expected):
    result = run(cgrad, expression)
    assert result.dtype == cgrad.float32
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
    if torch is not None:
        theirs = run(torch, expression)
        assert np.array_equal(result.numpy(), theirs.numpy())


@pytest.mark.filterwarnings("ignore:This overload of")
def test_old_optimizer_step_gradients():
    """The idiom the overloads exist for, inside autograd: the gradients are
    the keyword forms' (PyTorch's nodes: AddBackward0, AddcmulBackward0)."""
    w = cgrad.tensor(P.astype(np.float64), requires_grad=True)
    g = cgrad.tensor(G.astype(np.float64), requires_grad=True)
    out = w.add(-0.1, g).addcmul(0.5, g, g).sum()
    assert out.grad_fn.next_functions[0][0].name() == "AddcmulBackward0"
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones(3))
    np.testing.assert_allclose(g.grad.numpy(), -0.1 + G.astype(np.float64))
    assert cgrad.autograd.gradcheck(lambda a, b: a.sub(0.3, b).addcdiv(2.0, a, b + 5), (w, g))


def test_one_warning_per_process_with_pytorchs_text():
    """PyTorch's argument parser warns once for all deprecated overloads
    together; the text names the overload used first."""
    code = textwrap.dedent("""
        import warnings, sys
        lib = __import__(sys.argv[1])
        t = lib.ones(2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t.clone().add_(-0.5, t)
            t.add(2, t); lib.sub(t, 1, t); t.addcmul(0.5, t, t)
        for w in caught:
            print(w.category.__name__, repr(str(w.message).split(" (Triggered internally")[0]))
    """)
    ours = subprocess.run([sys.executable, "-c", code, "cgrad"], capture_output=True, text=True, check=True).stdout
    assert ours == ("UserWarning 'This overload of add_ is deprecated:\\n\\tadd_(Number alpha, Tensor other)\\n"
                    "Consider using one of the following signatures instead:\\n"
                    "\\tadd_(Tensor other, *, Number alpha = 1)'\n")
    if torch is not None:
        theirs = subprocess.run([sys.executable, "-c", code, "torch"], capture_output=True, text=True,
                                check=True).stdout
        assert ours == theirs


@pytest.mark.parametrize("name, expression", [
    ("function add", "lib.addcmul(t, 0.5, t, t)"),
    ("function sub", "lib.sub(t, 2, t)"),
])
def test_function_warning_text(name, expression):
    code = textwrap.dedent(f"""
        import warnings, sys
        lib = __import__(sys.argv[1])
        t = lib.ones(2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            {expression}
        print(repr(str(caught[0].message).split(" (Triggered internally")[0]))
    """)
    ours = subprocess.run([sys.executable, "-c", code, "cgrad"], capture_output=True, text=True, check=True).stdout
    assert "Tensor input" in ours and "Tensor out = None" in ours
    if torch is not None:
        assert ours == subprocess.run([sys.executable, "-c", code, "torch"], capture_output=True, text=True,
                                      check=True).stdout


ERRORS = [
    ("t.add(t, t)", TypeError, "add() takes 1 positional argument but 2 were given"),
    ("lib.add(t, t, t)", TypeError, "add() takes 2 positional arguments but 3 were given"),
    ("lib.sub(t, 1, t, t)", TypeError, "sub() takes 2 positional arguments but 4 were given"),
    ("t.add(t, 1)", TypeError, "add() takes 1 positional argument but 2 were given"),
    ("t.add(1.0, t, alpha=2)", TypeError,
     "add() received an invalid combination of arguments - got unrecognized keyword arguments: alpha"),
    ("t.addcmul(t, t, t)", TypeError, "addcmul() takes 2 positional arguments but 3 were given"),
    ("lib.addcmul(t, t, t, t)", TypeError, "addcmul() takes 3 positional arguments but 4 were given"),
    ("lib.addcmul(t, t, t, t, t)", TypeError, "addcmul() takes 3 positional arguments but 5 were given"),
    ("lib.add(t, 1, 2)", None, [3.0, 0.0, 5.5]),
    ("t.addcmul(1.0, t, t, value=2)", TypeError,
     "addcmul() received an invalid combination of arguments - got unrecognized keyword arguments: value"),
]


@pytest.mark.filterwarnings("ignore:This overload of")
@pytest.mark.parametrize("expression, kind, text", ERRORS, ids=[e for e, _, _ in ERRORS])
def test_deprecated_overload_errors(expression, kind, text):
    if kind is None:        # not an error: the number after alpha is a tensor to these functions
        assert run(cgrad, expression).tolist() == text
        return
    with pytest.raises(kind) as ours:
        run(cgrad, expression)
    assert str(ours.value) == text
    if torch is not None:
        with pytest.raises(kind) as theirs:
            run(torch, expression)
        assert str(theirs.value) == str(ours.value)


# numbers for `input`: (expression, expected values, expected dtype name)
NUMBER_INPUT = [
    ("lib.mul(2, g)", 2 * G, "float32"),
    ("lib.multiply(-0.5, g)", np.float32(-0.5) * G, "float32"),
    ("lib.add(2, g)", 2 + G, "float32"),
    ("lib.add(2.5, g, alpha=3)", np.float32(2.5) + 3 * G, "float32"),
    ("lib.sub(2, g)", 2 - G, "float32"),
    ("lib.subtract(1, g, alpha=2)", 1 - 2 * G, "float32"),
    ("lib.div(1, h)", np.float32(1) / H, "float32"),
    ("lib.true_divide(2, h)", np.float32(2) / H, "float32"),
    ("lib.divide(7, h, rounding_mode='floor')", np.floor(7 / H), "float32"),
    ("lib.div(7, i, rounding_mode='trunc')", np.array([3, -2, 1]), "int64"),
    ("lib.floor_divide(7, i)", np.array([3, -3, 1]), "int64"),
    ("lib.sub(300, u)", np.array([300 - 2, 300 - 3, 300 - 7], dtype=np.int64).astype(np.uint8), "uint8"),
    ("lib.mul(2.0, i)", np.array([4.0, -6.0, 10.0]), "float32"),
    ("lib.mul(2, 3)", np.array(6), "int64"),
    ("lib.mul(2.5, 3)", np.array(7.5), "float32"),
    ("lib.add(True, True)", np.array(True), "bool"),
    ("lib.div(1, 2)", np.array(0.5), "float32"),
    ("lib.floor_divide(7, 2)", np.array(3), "int64"),
    ("lib.floor_divide(True, -1)", np.array(-1), "int64"),
    ("lib.mul(2, g, out=lib.empty(3))", 2 * G, "float32"),
]


@pytest.mark.parametrize("expression, expected, dtype", NUMBER_INPUT, ids=[e for e, _, _ in NUMBER_INPUT])
def test_number_for_input(expression, expected, dtype):
    def values(lib):
        scope = {"lib": lib, "g": lib.tensor(G), "h": lib.tensor(H),
                 "i": lib.tensor([2, -3, 5]), "u": lib.tensor([2, 3, 7], dtype=lib.uint8)}
        return eval(expression, scope)
    result = values(cgrad)
    assert str(result.dtype) == "cgrad." + dtype
    np.testing.assert_allclose(result.numpy().astype(np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=1e-6)
    if torch is not None:
        theirs = values(torch)
        assert str(theirs.dtype) == "torch." + dtype
        assert np.array_equal(result.numpy(), theirs.numpy())


def test_number_for_input_gradient():
    x = cgrad.tensor([0.5, 2.0, -1.5], dtype=cgrad.float64, requires_grad=True)
    assert cgrad.autograd.gradcheck(
        lambda a: cgrad.add(1.5, a, alpha=-2) * cgrad.sub(3, a) + cgrad.div(2, a) + cgrad.mul(4, a), (x,))


@requires_torch
def test_number_for_input_bool_subtraction_error():
    with pytest.raises(RuntimeError) as theirs:
        torch.sub(True, True)
    with pytest.raises(RuntimeError) as ours:
        cgrad.sub(True, True)
    assert str(ours.value) == str(theirs.value)


def test_non_numbers_for_input_still_refused():
    with pytest.raises(TypeError, match=r"mul\(\): argument 'input' \(position 1\) must be Tensor, not str"):
        cgrad.mul("a", cgrad.ones(2))


# found beside the overloads: defaults and dtypes PyTorch's functions have
@pytest.mark.parametrize("expression, expected, dtype", [
    ("lib.cov(lib.tensor([1, 2, 4]))", np.array(7 / 3), "float32"),
    ("lib.cov(lib.tensor([[1, 2, 4], [3, 1, 0]], dtype=lib.uint8))",
     np.array([[7 / 3, -13 / 6], [-13 / 6, 7 / 3]]), "float32"),
    ("lib.corrcoef(lib.tensor([[1, 2, 4], [1, 0, 3]]))", np.array([[1.0, 11 / 14], [11 / 14, 1.0]]), "float32"),
    ("lib.histogram(lib.tensor([1., 2., 1.])).hist.sum()", np.array(3.0), "float32"),
    ("lib.histogram(lib.tensor([1., 2., 1.])).bin_edges.numel()", np.array(101), None),
])
def test_integer_cov_and_default_histogram_bins(expression, expected, dtype):
    def value(lib):
        return eval(expression, {"lib": lib})
    ours = value(cgrad)
    if dtype is None:
        assert ours == int(expected)
    else:
        assert str(ours.dtype) == "cgrad." + dtype
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6)
    if torch is not None:
        theirs = value(torch)
        if dtype is None:
            assert ours == theirs
        else:
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_bool_cov_error():
    with pytest.raises(RuntimeError, match=r"^cov\(\): bool dtype is not supported for input$"):
        cgrad.cov(cgrad.tensor([True, False, True]))
