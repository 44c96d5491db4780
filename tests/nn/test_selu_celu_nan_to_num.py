"""selu, celu and nan_to_num (op table rows) beyond the generic table tests
(tests/ops/test_op_table.py): PyTorch's grad_fn names in and out of place
(EluBackward0/1, CeluBackward0/1, NanToNumBackward0), saved values,
special values (nan, +-inf, posinf/neginf, float16 limits), integer and
bool inputs, out= rules, argument errors, and the SELU/CELU modules."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as CF
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import requires_torch, torch

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.5, 3.4e38, -3.4e38], np.float32)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("kwargs", [dict(), dict(nan=1.5), dict(nan=1.0, posinf=2.0, neginf=-3.0),
                                    dict(posinf=1e6), dict(neginf=-1e39), dict(nan=True)])
def test_nan_to_num_special_values_match_torch(dtype, kwargs):
    x = SPECIAL.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # float16 overflow in astype
        expected = torch.nan_to_num(torch.tensor(x), **kwargs)
    for got in (cgrad.nan_to_num(cgrad.tensor(x), **kwargs), cgrad.tensor(x).nan_to_num(**kwargs)):
        assert str(got.dtype) == str(expected.dtype).replace("torch", "cgrad")
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    inplace = cgrad.tensor(x)
    assert inplace.nan_to_num_(**kwargs) is inplace
    np.testing.assert_array_equal(inplace.numpy(), expected.numpy())
    inplace = cgrad.tensor(x)
    assert cgrad.nan_to_num_(inplace, **kwargs) is inplace
    np.testing.assert_array_equal(inplace.numpy(), expected.numpy())


@requires_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8", "bool"])
def test_nan_to_num_integer_and_bool_unchanged(dtype):
    x = (np.arange(-3, 3) % (2 if dtype == "bool" else 7)).astype(dtype)
    got, expected = cgrad.nan_to_num(cgrad.tensor(x), nan=2.5), torch.nan_to_num(torch.tensor(x), nan=2.5)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    t = cgrad.tensor(x)
    v = t._version
    assert t.nan_to_num_() is t and t._version == v + 1    # torch bumps the version too
    np.testing.assert_array_equal(t.numpy(), x)
    out = cgrad.empty(6, dtype=getattr(cgrad, dtype))
    assert cgrad.nan_to_num(cgrad.tensor(x), out=out) is out
    np.testing.assert_array_equal(out.numpy(), x)


@requires_torch
def test_nan_to_num_out_dtype_errors_match_torch():
    for src, dst in (("float32", "float64"), ("int64", "float32"), ("float64", "float16")):
        texts = []
        for lib in (torch, cgrad):
            with pytest.raises(RuntimeError) as err:
                lib.nan_to_num(lib.ones(3, dtype=getattr(lib, src)), out=lib.zeros(3, dtype=getattr(lib, dst)))
            texts.append(str(err.value))
        assert texts[0] == texts[1]


@requires_torch
def test_nan_to_num_gradient_and_node_match_torch():
    x = np.array([np.nan, -np.inf, np.inf, 2.0, -1.0], np.float64)
    results = []
    for lib in (torch, cgrad):
        leaf = lib.tensor(x, requires_grad=True)
        y = lib.nan_to_num(leaf, nan=1.0)
        results.append((type(y.grad_fn).__name__, y.detach().numpy(), y.grad_fn._saved_self.detach().numpy()))
        y.backward(lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=lib.float64))
        results[-1] += (leaf.grad.numpy(),)
    assert results[0][0] == results[1][0] == "NanToNumBackward0"
    for a, b in zip(results[0][1:], results[1][1:]):
        np.testing.assert_array_equal(a, b)


def test_nan_to_num_gradcheck():
    x = cgrad.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: cgrad.nan_to_num(t, 0.5, 3.0, -3.0), (x,))
    assert gradgradcheck(lambda t: t.nan_to_num(), (x,))


@requires_torch
@pytest.mark.parametrize("name,args", [("selu", ()), ("celu", ()), ("celu", (0.3,)), ("celu", (2.5,))])
def test_nodes_in_and_out_of_place_match_torch(name, args):
    x = np.linspace(-4, 3, 15)
    for inplace in (False, True):
        out = []
        for lib in (torch, cgrad):
            leaf = lib.tensor(x, requires_grad=True)
            y = getattr(lib.nn.functional, name)(leaf * 1, *args, inplace=inplace)
            node = y.grad_fn
            saved = sorted(a for a in ("_saved_self", "_saved_result", "_saved_alpha") if hasattr(node, a))
            y.backward(lib.tensor(np.cos(x)))
            out.append((type(node).__name__, saved, y.detach().numpy(), leaf.grad.numpy(),
                        getattr(node, "_saved_alpha", None)))
        assert out[0][0] == out[1][0]
        if name == "celu":   # selu's node also shows elu's constants in torch
            assert out[0][1] == out[1][1] and out[0][4] == out[1][4]
        np.testing.assert_allclose(out[1][2], out[0][2], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(out[1][3], out[0][3], rtol=1e-13, atol=1e-15)


@requires_torch
def test_argument_errors_match_torch():
    calls = [lambda lib: lib.celu(lib.ones(3), 0.0),
             lambda lib: lib.celu_(lib.ones(3), 0.0),
             lambda lib: lib.selu(lib.ones(3, dtype=lib.int64)),
             lambda lib: lib.celu(lib.ones(3, dtype=lib.bool)),
             lambda lib: lib.selu_(lib.ones(3, dtype=lib.int32)),
             lambda lib: lib.selu(lib.ones(3), out=lib.ones(3)),
             lambda lib: lib.selu(3)]
    for k, call in enumerate(calls):
        texts = []
        for lib in (torch, cgrad):
            with pytest.raises(Exception) as err:
                call(lib)
            texts.append((err.type.__name__, str(err.value)))
        assert texts[0] == texts[1], k


@requires_torch
def test_celu_inplace_negative_alpha_refuses_backward_as_torch():
    texts = []
    for lib in (torch, cgrad):
        leaf = lib.tensor([-1.0, 2.0], requires_grad=True)
        y = leaf * 1
        lib.celu_(y, -1.0)
        with pytest.raises(RuntimeError) as err:
            y.sum().backward()
        texts.append(str(err.value))
    assert texts[0] == texts[1]


def test_selu_hand_computed():
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    x = cgrad.tensor([-1.0, 0.0, 2.0], dtype=cgrad.float64)
    np.testing.assert_allclose(cgrad.selu(x).numpy(), [scale * alpha * (np.exp(-1) - 1), 0.0, 2 * scale],
                               rtol=1e-15)
    np.testing.assert_allclose(CF.celu(x, 2.0).numpy(), [2 * (np.exp(-0.5) - 1), 0.0, 2.0], rtol=1e-15)


@pytest.mark.parametrize("fn", [lambda t: CF.selu(t), lambda t: CF.celu(t, 0.7), lambda t: CF.celu(t * 1, 1.3, True)])
def test_gradcheck_and_gradgradcheck(fn):
    x = cgrad.tensor(np.random.default_rng(0).uniform(-3, 3, (3, 4)), requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))
