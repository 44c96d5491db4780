"""Selecting reductions and statistics (ops_select.pxi): prod, max, min,
amax, amin, argmax, argmin, var, std, logsumexp. Differential tests against
torch (values, dtypes, shapes, grad_fn names, gradients), float64 gradient
checks (first and second order), ties, zeros, NaN/inf, empty and 0-d
inputs, and the errors PyTorch raises."""
import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

import cgrad
from helpers import check_gradients, compare_with_torch, rand, requires_torch, torch, values

nan = float("nan")
inf = float("inf")


def distinct(*shape, seed=0, dtype=np.float32):
    """Values without ties (a shuffled grid plus jitter), for gradients."""
    n = int(np.prod(shape)) if shape else 1
    rng = np.random.default_rng(seed)
    v = (rng.permutation(n) - n / 2) * 0.37 + rng.uniform(-0.05, 0.05, size=n)
    return np.asarray(v.reshape(shape), dtype=dtype)


def nonzero(*shape, seed=0, dtype=np.float32):
    """Values of moderate size away from zero, for products."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return np.asarray(v, dtype=dtype)


def gradgrad(fn, *arrays):
    """Second-order check: gradcheck of (inputs, grad_output) -> the
    gradients built with create_graph=True, in float64."""
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    out = fn(cgrad, *ins)
    rng = np.random.default_rng(0)
    w = cgrad.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
    n = len(ins)

    def first_order(*args):
        with cgrad.enable_grad():   # gradcheck's numerical pass runs under no_grad
            y = fn(cgrad, *args[:n])
            return cgrad.autograd.grad(y, args[:n], args[n], create_graph=True)
    assert cgrad.autograd.gradcheck(first_order, ins + [w], atol=1e-5, rtol=1e-3)


SINGLE_DIM = [((), [0, -1]), ((5,), [0, -1]), ((3, 4), [0, 1, -1, -2]), ((2, 1, 4), [0, 1, 2, -1]),
              ((2, 3, 4), [0, 1, 2, -2])]
SINGLE_CASES = [(shape, d) for shape, dims in SINGLE_DIM for d in dims]
MULTI_DIM = [((), [0, (), (0,), (-1,)]), ((5,), [0, (), (0,), [-1]]),
             ((3, 4), [0, -1, (0, 1), (1, 0), (), [-2]]),
             ((2, 1, 4), [1, (0, 2), (1, 2), (0, 1, 2), (-1, -3)]),
             ((2, 3, 4), [(0, 2), (2, 0), (1,), (0, 1), (-2, -1), ()])]
MULTI_CASES = [(shape, d) for shape, dims in MULTI_DIM for d in dims]


# ---------------------------------------------------------------------------
# max / min

@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 3, 4), (2, 1, 1, 3)])
def test_max_min_full(name, shape):
    compare_with_torch(lambda lib, a: getattr(a, name)(), distinct(*shape, seed=1))
    compare_with_torch(lambda lib, a: getattr(lib, name)(a), distinct(*shape, seed=2))


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape,dim", SINGLE_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim(name, shape, dim, keepdim):
    out_c, out_t = compare_with_torch(lambda lib, a: getattr(a, name)(dim, keepdim=keepdim),
                                      distinct(*shape, seed=3))
    assert type(out_c).__name__ == name
    assert type(out_c).__module__ == "cgrad.return_types"
    assert isinstance(out_c, tuple) and len(out_c) == 2
    v, i = out_c
    assert v is out_c.values and i is out_c.indices
    assert i.dtype == cgrad.int64 and not i.requires_grad and i.grad_fn is None
    compare_with_torch(lambda lib, a: getattr(lib, name)(a, dim, keepdim), distinct(*shape, seed=4))
    compare_with_torch(lambda lib, a: getattr(lib, name)(a, dim=dim, keepdim=keepdim),
                       distinct(*shape, seed=4))


def test_return_type_repr():
    r = cgrad.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    assert repr(r) == ("cgrad.return_types.max(\nvalues=tensor([5., 7.]),\nindices=tensor([1, 0]))")
    r = cgrad.tensor([[1.0, 5.0], [7.0, 2.0]]).min(dim=0, keepdim=True)
    assert repr(r).startswith("cgrad.return_types.min(\nvalues=tensor([[1., 2.]]),")
    assert cgrad.return_types.max is type(cgrad.max(cgrad.ones(2, 2), 0))
    r2 = cgrad.return_types.max((1, 2))
    assert r2.values == 1 and r2.indices == 2 and r2 == (1, 2)
    assert r[0:1] == (r.values,)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_noncontiguous(name):
    a = distinct(3, 4, 5, seed=5)
    compare_with_torch(lambda lib, a: getattr(a.transpose(0, 2), name)(1), a)
    compare_with_torch(lambda lib, a: getattr(a.permute(1, 2, 0), name)(-1, True), a)
    compare_with_torch(lambda lib, a: getattr(a.permute(2, 0, 1), name)(), a)
    b = distinct(4, 1, seed=6)
    compare_with_torch(lambda lib, b: getattr(b.expand(4, 3), name)(0), b)


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_ties_full(name):
    # the full reduction shares the gradient evenly among tied extremes
    # (without torch: the values against numpy; ties have no finite differences)
    data = np.array([[1.0, 3.0, 3.0], [-2.0, 3.0, -2.0]], dtype=np.float32)
    extreme = np.max if name in ("max", "amax") else np.min
    compare_with_torch(lambda lib, a: getattr(a, name)(), data, reference=lambda a: extreme(a),
                       gradcheck=False)
    compare_with_torch(lambda lib, a: getattr(a, name)() * 3, data.astype(np.float64),
                       reference=lambda a: extreme(a) * 3, gradcheck=False)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ties_dim(name, dim):
    # with a dim, the gradient goes to the (first) index returned
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]], dtype=np.float32)
    extreme, arg = (np.max, np.argmax) if name == "max" else (np.min, np.argmin)

    def reference(keepdims):
        return lambda a: (extreme(a, axis=dim, keepdims=keepdims), arg(a, axis=dim, keepdims=keepdims))
    compare_with_torch(lambda lib, a: getattr(a, name)(dim), data, reference=reference(False), gradcheck=False)
    compare_with_torch(lambda lib, a: getattr(a, name)(dim, True), data, reference=reference(True),
                       gradcheck=False)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [0, 1, (0, 1), (), (-1, 0)])
def test_amax_ties(name, dim):
    # amax/amin split the gradient evenly among the equal elements
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [3.0, -1.0, 3.0]], dtype=np.float32)
    extreme = np.max if name == "amax" else np.min
    axis = None if dim == () else dim      # dim=() reduces every dim, as torch documents

    def reference(keepdims):
        return lambda a: extreme(a, axis=axis, keepdims=keepdims)
    compare_with_torch(lambda lib, a: getattr(a, name)(dim), data, reference=reference(False), gradcheck=False)
    compare_with_torch(lambda lib, a: getattr(a, name)(dim, keepdim=True), data, reference=reference(True),
                       gradcheck=False)


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "argmax", "argmin"])
def test_nan_propagation(name):
    data = np.array([[1.0, nan, 3.0, nan], [2.0, 5.0, -1.0, 0.0], [nan, 1.0, 1.0, 1.0]],
                    dtype=np.float32)
    for call in ([], [0], [1], [-1]):
        def fn(lib, a):
            return getattr(a, name)(*call)
        compare_with_torch(fn, data)


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "argmax", "argmin"])
def test_infinities(name):
    data = np.array([[1.0, inf, 3.0, inf], [-inf, -inf, -inf, -inf], [-inf, 1.0, inf, 1.0]],
                    dtype=np.float64)
    for call in ([], [0], [1]):
        compare_with_torch(lambda lib, a: getattr(a, name)(*call), data)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_integer_and_bool_inputs(dtype, name):
    data = np.array([[1, 5, 5, 0], [2, 0, -3, 7]]).astype(dtype)
    for call in ([], [0], [1], [-1, True]):
        compare_with_torch(lambda lib, a: getattr(a, name)(*call), data)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_gradcheck(name):
    check_gradients(lambda lib, a: getattr(a, name)(), distinct(3, 4, seed=7))
    check_gradients(lambda lib, a: getattr(a, name)(1)[0], distinct(3, 4, seed=8))
    check_gradients(lambda lib, a: getattr(a, name)(0, True).values, distinct(3, 4, seed=9))
    check_gradients(lambda lib, a: getattr(lib, name)(a, -1)[0], distinct(2, 3, 4, seed=10))
    check_gradients(lambda lib, a: getattr(a.transpose(0, 1), name)(1)[0], distinct(3, 4, seed=11))
    check_gradients(lambda lib, a: getattr(a, name)(0)[0], distinct(seed=12))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_gradgradcheck(name):
    gradgrad(lambda lib, a: getattr(a, name)() ** 2, distinct(3, 4, seed=13))
    gradgrad(lambda lib, a: getattr(a, name)(1)[0] ** 2, distinct(3, 4, seed=14))
    gradgrad(lambda lib, a: getattr(a, name)(0, True)[0] ** 2, distinct(3, 4, seed=15))


def test_max_with_tensor_other():
    a = cgrad.tensor([[1.0, 4.0], [3.0, 0.0]])
    b = cgrad.tensor([[2.0, 1.0], [0.0, 5.0]])
    if hasattr(cgrad, "maximum"):
        assert values(a.max(b)).tolist() == [[2.0, 4.0], [3.0, 5.0]]
        assert values(cgrad.max(a, b)).tolist() == [[2.0, 4.0], [3.0, 5.0]]
        assert values(cgrad.min(a, other=b)).tolist() == [[1.0, 1.0], [0.0, 0.0]]
    else:
        with pytest.raises(TypeError, match="cgrad.maximum"):
            a.max(b)
        with pytest.raises(TypeError, match="cgrad.minimum"):
            cgrad.min(a, b)


def test_dim_given_as_integer_tensor_or_numpy_int():
    a = distinct(3, 4, seed=16)
    compare_with_torch(lambda lib, a: a.max(dim=lib.tensor(1)), a)
    compare_with_torch(lambda lib, a: a.min(np.int64(-1), True), a)
    compare_with_torch(lambda lib, a: a.amax(np.int64(0)), a)
    compare_with_torch(lambda lib, a: a.argmax(lib.tensor(1)), a)
    compare_with_torch(lambda lib, a: a.prod(np.int64(1)), a)


def test_out_is_written():
    a = cgrad.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
    values_out, indices_out = cgrad.empty(0), cgrad.empty(0, dtype=cgrad.int64)
    result = cgrad.max(a, 1, out=(values_out, indices_out))
    assert result.values is values_out and values_out.tolist() == [5.0, 6.0] and indices_out.tolist() == [1, 2]
    for fn, expected in ((cgrad.amax, [5.0, 6.0]), (cgrad.prod, [10.0, 72.0]), (cgrad.var, [4.333333, 2.333333])):
        out = cgrad.empty(2)
        assert fn(a, 1, out=out) is out
        np.testing.assert_allclose(values(out), expected, rtol=1e-6)
    indices = cgrad.empty(2, dtype=cgrad.int64)
    assert cgrad.argmin(a, 1, out=indices) is indices and indices.tolist() == [0, 1]
    assert values(cgrad.amax(a, 1, out=None)).tolist() == [5.0, 6.0]


def test_builtin_max_not_shadowed():
    # cgrad.max exists, and the compiled module still uses Python's max
    assert cgrad.max.__name__ == "max" and cgrad.min.__name__ == "min"
    assert values(cgrad.arange(0, 7, 2)).tolist() == [0, 2, 4, 6]
    assert values(cgrad.arange(5, 0, -2)).tolist() == [5, 3, 1]


# ---------------------------------------------------------------------------
# amax / amin

@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("shape,dim", MULTI_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_amax_amin(name, shape, dim, keepdim):
    compare_with_torch(lambda lib, a: getattr(a, name)(dim, keepdim), distinct(*shape, seed=20))
    compare_with_torch(lambda lib, a: getattr(lib, name)(a, dim=dim, keepdim=keepdim),
                       distinct(*shape, seed=21))


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_defaults_and_noncontiguous(name):
    a = distinct(3, 4, 5, seed=22)
    compare_with_torch(lambda lib, a: getattr(a, name)(), a)
    compare_with_torch(lambda lib, a: getattr(lib, name)(a), a)
    compare_with_torch(lambda lib, a: getattr(lib, name)(a, None), a)
    compare_with_torch(lambda lib, a: getattr(a.permute(2, 0, 1), name)((0, 2)), a)
    compare_with_torch(lambda lib, a: getattr(a.transpose(0, 1), name)((1, 2), True), a)
    compare_with_torch(lambda lib, a: getattr(a.transpose(0, 2), name)(0), a)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_gradcheck(name):
    check_gradients(lambda lib, a: getattr(a, name)(), distinct(3, 4, seed=23))
    check_gradients(lambda lib, a: getattr(a, name)((0, 2)), distinct(2, 3, 4, seed=24))
    check_gradients(lambda lib, a: getattr(a, name)(1, True), distinct(2, 3, 4, seed=25))
    gradgrad(lambda lib, a: getattr(a, name)((0, 2)) ** 2, distinct(2, 3, 4, seed=26))


# ---------------------------------------------------------------------------
# argmax / argmin

@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("shape,dim", SINGLE_CASES + [((3, 4), None), ((), None), ((2, 3, 4), None)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(name, shape, dim, keepdim):
    compare_with_torch(lambda lib, a: getattr(a, name)(dim, keepdim), distinct(*shape, seed=30))
    compare_with_torch(lambda lib, a: getattr(lib, name)(a, dim=dim, keepdim=keepdim),
                       distinct(*shape, seed=31))
    compare_with_torch(lambda lib, a: getattr(a, name)(dim, keepdim),
                       np.asarray(np.arange(int(np.prod(shape))).reshape(shape) % 3))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_first_occurrence_and_views(name):
    data = np.array([[3.0, 1.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0], [0.0, 5.0, -5.0, 5.0]],
                    dtype=np.float32)
    for call in ([], [0], [1], [None, True]):
        compare_with_torch(lambda lib, a: getattr(a, name)(*call), data)
    compare_with_torch(lambda lib, a: getattr(a.t(), name)(), data)
    compare_with_torch(lambda lib, a: getattr(a.t(), name)(1), data)
    compare_with_torch(lambda lib, a: getattr(a.t(), name)(0), data)
    compare_with_torch(lambda lib, a: getattr(a, name)(), np.array([[1, 5], [5, 1]]))


# ---------------------------------------------------------------------------
# prod

@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 3, 4), (2, 1, 3)])
def test_prod_full(shape):
    compare_with_torch(lambda lib, a: a.prod(), nonzero(*shape, seed=40))
    compare_with_torch(lambda lib, a: lib.prod(a), nonzero(*shape, seed=41))
    compare_with_torch(lambda lib, a: a.prod(dtype=lib.float64), nonzero(*shape, seed=42))


@pytest.mark.parametrize("shape,dim", SINGLE_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_dim(shape, dim, keepdim):
    compare_with_torch(lambda lib, a: a.prod(dim, keepdim), nonzero(*shape, seed=43))
    compare_with_torch(lambda lib, a: lib.prod(a, dim, keepdim=keepdim, dtype=lib.float64),
                       nonzero(*shape, seed=44))


def test_prod_noncontiguous():
    a = nonzero(3, 4, 5, seed=45)
    compare_with_torch(lambda lib, a: a.transpose(0, 2).prod(1), a)
    compare_with_torch(lambda lib, a: a.permute(1, 2, 0).prod(), a)
    compare_with_torch(lambda lib, a: a.permute(1, 2, 0).prod(-1, True), a)


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("zeros", [[(0, 1)], [(0, 1), (2, 3)], [(0, 1), (0, 2)], [(1, 0), (1, 1), (2, 2)]])
def test_prod_with_zeros(dim, zeros):
    # one zero: the gradient there is the product of the others; several zeros
    # (in a slice or over the tensor): as torch computes it
    data = nonzero(3, 4, seed=46).astype(np.float64)
    for z in zeros:
        data[z] = 0.0
    call = [] if dim is None else [dim]
    compare_with_torch(lambda lib, a: a.prod(*call), data)
    compare_with_torch(lambda lib, a: a.prod(*call), data.astype(np.float32))
    compare_with_torch(lambda lib, a: a.t().prod(*call), data)


@pytest.mark.parametrize("data", [[[0.0, inf, 2.0], [3.0, 4.0, 5.0]], [[0.0, 0.0, inf]], [[1.0, inf, 2.0]],
                                  [[nan, 0.0, 1.0]], [[0.0, -0.0, 3.0]]])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_zeros_with_infinities(data, dim):
    call = [] if dim is None else [dim]
    compare_with_torch(lambda lib, a: a.prod(*call), np.array(data))


def test_prod_dtypes():
    compare_with_torch(lambda lib, a: a.prod(), np.array([[1, 2, 3], [4, -5, 6]]))
    compare_with_torch(lambda lib, a: a.prod(1), np.array([[1, 2, 3], [4, -5, 6]]))
    compare_with_torch(lambda lib, a: a.prod(0, True), np.array([[True, False], [True, True]]))
    compare_with_torch(lambda lib, a: a.prod(), np.array([[True, False], [True, True]]))
    compare_with_torch(lambda lib, a: a.prod(dtype=lib.float32), np.array([True, True]))
    compare_with_torch(lambda lib, a: a.prod(dtype=lib.bool), np.array([1, 2]))
    compare_with_torch(lambda lib, a: a.prod(1, True, dtype=float), np.array([[1.5, 2.0]]))
    compare_with_torch(lambda lib, a: a.prod(1, dtype=lib.int64), np.array([[1.5, 2.0]]),
                       requires_grad=False)
    # prod(dtype=...) records ProdBackward0 on the input itself; the input's grad keeps its dtype
    a = cgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = a.prod(dtype=cgrad.float64)
    assert out.dtype == cgrad.float64
    assert out.grad_fn.next_functions[0][0] is not None
    assert type(out.grad_fn.next_functions[0][0]).__name__ == "AccumulateGrad"
    out.backward()
    assert a.grad.dtype == cgrad.float32
    assert values(a.grad).tolist() == [6.0, 3.0, 2.0]


def test_prod_gradcheck():
    check_gradients(lambda lib, a: a.prod(), nonzero(3, 4, seed=47))
    check_gradients(lambda lib, a: a.prod(1), nonzero(3, 4, seed=48))
    check_gradients(lambda lib, a: a.prod(0, True), nonzero(2, 3, 4, seed=49))
    check_gradients(lambda lib, a: a.transpose(0, 2).prod(1), nonzero(2, 3, 4, seed=50))
    check_gradients(lambda lib, a: a.prod(0), nonzero(seed=51))
    for zeros in ([(0, 1)], [(0, 1), (1, 2)], [(0, 1), (0, 2)]):
        data = nonzero(3, 4, seed=52)
        for z in zeros:
            data[z] = 0.0
        check_gradients(lambda lib, a: a.prod(), data)
        check_gradients(lambda lib, a: a.prod(1), data)
        check_gradients(lambda lib, a: a.prod(0, True), data)


def test_prod_gradgradcheck():
    gradgrad(lambda lib, a: a.prod(), nonzero(2, 3, seed=53))
    gradgrad(lambda lib, a: a.prod(1), nonzero(2, 3, seed=54))
    for zeros in ([(0, 1)], [(0, 1), (1, 2)], [(0, 1), (0, 2)]):
        data = nonzero(3, 4, seed=55)
        for z in zeros:
            data[z] = 0.0
        gradgrad(lambda lib, a: a.prod(), data)
        gradgrad(lambda lib, a: a.prod(1), data)
        gradgrad(lambda lib, a: a.prod(0, True), data)


@requires_torch
@pytest.mark.parametrize("zeros", [[], [(0, 1)], [(0, 1), (1, 2)], [(0, 1), (0, 2)]])
@pytest.mark.parametrize("dim", [None, 1])
def test_prod_double_backward_vs_torch(zeros, dim):
    data = nonzero(3, 4, seed=56).astype(np.float64)
    for z in zeros:
        data[z] = 0.0
    call = [] if dim is None else [dim]
    results = []
    for lib in (cgrad, torch):
        a = lib.tensor(data, requires_grad=True)
        y = a.prod(*call)
        w = lib.tensor(np.linspace(0.5, 1.5, int(np.prod(tuple(y.shape)))).reshape(tuple(y.shape)))
        (g,) = lib.autograd.grad((y * w).sum(), a, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), a)
        results.append((values(g), values(gg)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# var / std

@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("shape,dim", [c for c in MULTI_CASES if c[1] != () or c[0] == ()]
                         + [((3, 4), None), ((2, 3, 4), None)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_std(name, shape, dim, keepdim):
    # (dim=() over several dims is in test_var_std_degenerate: PyTorch's
    # gradient there counts one element)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(lambda lib, a: getattr(a, name)(dim, keepdim=keepdim), rand(*shape, seed=60))
        compare_with_torch(lambda lib, a: getattr(lib, name)(a, dim, correction=0, keepdim=keepdim),
                           rand(*shape, seed=61))
        compare_with_torch(lambda lib, a: getattr(a, name)(dim, False, keepdim), rand(*shape, seed=62))
        compare_with_torch(lambda lib, a: getattr(a, name)(dim=dim, unbiased=True, keepdim=keepdim),
                           rand(*shape, seed=63, dtype=np.float64))


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_overloads(name):
    a = rand(3, 4, seed=64)
    for fn in [lambda lib, a: getattr(a, name)(), lambda lib, a: getattr(a, name)(False),
               lambda lib, a: getattr(a, name)(True), lambda lib, a: getattr(lib, name)(a, False),
               lambda lib, a: getattr(a, name)(unbiased=False), lambda lib, a: getattr(a, name)(correction=2),
               lambda lib, a: getattr(a, name)(correction=0.5), lambda lib, a: getattr(a, name)(1, correction=1.5),
               lambda lib, a: getattr(a, name)(1, correction=None), lambda lib, a: getattr(a, name)(None),
               lambda lib, a: getattr(lib, name)(a, None, True), lambda lib, a: getattr(lib, name)(a, None, False, True),
               lambda lib, a: getattr(lib, name)(input=a, dim=[0, 1], keepdim=True),
               lambda lib, a: getattr(a.t(), name)(0), lambda lib, a: getattr(a.t(), name)(1, keepdim=True)]:
        compare_with_torch(fn, a)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("data,call", [
    ([[1.0, 1.0], [1.0, 1.0]], {}),                  # constant: std 0, grads 0
    ([[1.0, 1.0], [1.0, 2.0]], {"dim": 1}),          # one constant row
    ([3.0], {}),                                     # one element: NaN
    ([3.0], {"dim": 0}),
    (3.0, {}),                                       # 0-d
    (3.0, {"dim": 0}),
    ([[1.0, 2.0], [3.0, 5.0]], {"dim": 0, "correction": 2}),   # dof 0: inf
    ([[1.0, 2.0], [3.0, 5.0]], {"dim": 0, "correction": 3}),   # dof < 0
    ([[1.0, 2.0], [3.0, 5.0]], {"correction": 4}),
    ([[1.0, 1.0], [1.0, 1.0]], {"correction": 4}),
    ([[1.0, 2.0], [3.0, 5.0]], {"correction": 5}),
    ([[1.0, 1.0], [1.0, 2.0]], {"dim": 1, "correction": 2}),
    ([[1.0, 2.0], [3.0, 5.0]], {"dim": []}),          # PyTorch's gradient uses 1 element here
    ([[1.0, 2.0], [3.0, 5.0]], {"dim": ()}),
])
def test_var_std_degenerate(name, data, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # degenerate on purpose (zero variance, one element): no finite differences
        compare_with_torch(lambda lib, a: getattr(a, name)(**call), np.array(data), gradcheck=False)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_empty(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shape, call in [((0,), {}), ((2, 0), {"dim": 1}), ((2, 0), {"dim": 0}), ((2, 0, 3), {"dim": (0, 1)}),
                            ((2, 0, 3), {"dim": 1, "keepdim": True})]:
            compare_with_torch(lambda lib, a: getattr(a, name)(**call), np.zeros(shape, np.float32))


@requires_torch
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_dof_warning(name):
    for lib in (cgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            getattr(lib.ones(1), name)()
            getattr(lib.ones(3, 2), name)(1, correction=2)
            getattr(lib.ones(3, 2), name)(1)
        assert len(w) == 2
        for item in w:
            assert item.category is UserWarning
            assert str(item.message).startswith(
                f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                "reduction factor (input numel divided by output numel).")


def test_var_std_gradcheck():
    for name in ("var", "std"):
        check_gradients(lambda lib, a: getattr(a, name)(), rand(3, 4, seed=65))
        check_gradients(lambda lib, a: getattr(a, name)(1), rand(3, 4, seed=66))
        check_gradients(lambda lib, a: getattr(a, name)((0, 2), keepdim=True), rand(2, 3, 4, seed=67))
        check_gradients(lambda lib, a: getattr(a, name)(0, correction=0), rand(2, 3, seed=68))
        check_gradients(lambda lib, a: getattr(a, name)(-1, correction=2.5), rand(2, 5, seed=69))
        check_gradients(lambda lib, a: getattr(a.t(), name)(1), rand(3, 4, seed=70))
        gradgrad(lambda lib, a: getattr(a, name)(), rand(3, 4, seed=71))
        gradgrad(lambda lib, a: getattr(a, name)((0, 2)), rand(2, 3, 4, seed=72))


# ---------------------------------------------------------------------------
# logsumexp

@pytest.mark.parametrize("shape,dim", [c for c in MULTI_CASES if c[1] != () or c[0] == ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp(shape, dim, keepdim):
    compare_with_torch(lambda lib, a: a.logsumexp(dim, keepdim), rand(*shape, seed=80))
    compare_with_torch(lambda lib, a: lib.logsumexp(a, dim=dim, keepdim=keepdim),
                       rand(*shape, seed=81, dtype=np.float64))


def test_logsumexp_special_values():
    compare_with_torch(lambda lib, a: a.logsumexp(1),
                       np.array([[-inf, -inf], [-inf, 1.0], [inf, 1.0], [inf, inf], [inf, -inf],
                                 [nan, 1.0], [1000.0, 1000.0], [-1000.0, -1000.5]]))
    compare_with_torch(lambda lib, a: a.logsumexp(0, True), np.array([[-inf, 2.0], [-inf, 3.0]]))
    compare_with_torch(lambda lib, a: a.logsumexp(()), np.array(2.0))
    compare_with_torch(lambda lib, a: a.logsumexp((), keepdim=True), np.array([[1.0, 2.0]]))
    compare_with_torch(lambda lib, a: a.logsumexp(1), np.zeros((2, 0), np.float32))
    compare_with_torch(lambda lib, a: a.logsumexp((0, 1)), np.zeros((2, 0), np.float32))
    compare_with_torch(lambda lib, a: a.logsumexp(0), np.zeros((0,), np.float32))
    compare_with_torch(lambda lib, a: a.logsumexp(()), np.zeros((2, 0), np.float32))
    compare_with_torch(lambda lib, a: a.logsumexp(1), np.array([[1, 2], [3, 4]]))
    compare_with_torch(lambda lib, a: a.logsumexp(1), np.array([[True, False]]))
    compare_with_torch(lambda lib, a: a.t().logsumexp(1), rand(3, 4, seed=82))


def test_logsumexp_gradcheck():
    check_gradients(lambda lib, a: a.logsumexp(1), rand(3, 4, seed=83))
    check_gradients(lambda lib, a: a.logsumexp((0, 2), True), rand(2, 3, 4, seed=84))
    check_gradients(lambda lib, a: a.logsumexp(0), rand(seed=85))
    gradgrad(lambda lib, a: a.logsumexp((0, 2)), rand(2, 3, 4, seed=86))


# ---------------------------------------------------------------------------
# 0-d and empty inputs

@pytest.mark.parametrize("expr", [
    lambda lib, a: a.max(), lambda lib, a: a.max(0), lambda lib, a: a.max(-1, True),
    lambda lib, a: a.min(0), lambda lib, a: a.amax(0), lambda lib, a: a.amax((0,), True),
    lambda lib, a: a.amin(), lambda lib, a: a.argmax(), lambda lib, a: a.argmax(0, True),
    lambda lib, a: a.argmin(-1), lambda lib, a: a.prod(), lambda lib, a: a.prod(0),
    lambda lib, a: a.prod(-1, True), lambda lib, a: a.logsumexp(0), lambda lib, a: a.logsumexp(()),
    lambda lib, a: a.logsumexp(-1, True),
])
def test_zero_dim(expr):
    compare_with_torch(expr, np.array(2.5, dtype=np.float32))


@pytest.mark.parametrize("expr", [
    lambda lib, a: a.max(2), lambda lib, a: a.min(0), lambda lib, a: a.max(-1, True),
    lambda lib, a: a.amax(2), lambda lib, a: a.amin((0, 2)), lambda lib, a: a.argmax(2),
    lambda lib, a: a.argmin(0, True), lambda lib, a: a.prod(), lambda lib, a: a.prod(1),
    lambda lib, a: a.prod(2), lambda lib, a: a.prod(1, True),
])
def test_empty(expr):
    compare_with_torch(expr, np.zeros((2, 0, 3), np.float32))


# ---------------------------------------------------------------------------
# Randomised shapes and dims

@st.composite
def shape_and_dims(draw, single=False):
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    if single:
        dim = draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))
        return shape, dim
    n = max(ndim, 1)
    dims = draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=n))
    dims = [d - n if draw(st.booleans()) else d for d in dims]
    return shape, tuple(dims) if ndim else dims[0]


HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPO
@given(sd=shape_and_dims(single=True), keepdim=st.booleans(), seed=st.integers(0, 1000),
       name=st.sampled_from(["max", "min", "argmax", "argmin", "prod"]))
def test_hypothesis_single_dim(sd, keepdim, seed, name):
    shape, dim = sd
    data = nonzero(*shape, seed=seed) if name == "prod" else distinct(*shape, seed=seed)
    compare_with_torch(lambda lib, a: getattr(a, name)(dim, keepdim), data)


@HYPO
@given(sd=shape_and_dims(), keepdim=st.booleans(), seed=st.integers(0, 1000),
       name=st.sampled_from(["amax", "amin", "var", "std", "logsumexp"]),
       transpose=st.booleans())
def test_hypothesis_multi_dim(sd, keepdim, seed, name, transpose):
    shape, dim = sd
    data = distinct(*shape, seed=seed)

    def fn(lib, a):
        if transpose and a.dim() >= 2:
            a = a.transpose(0, -1)
        return getattr(a, name)(dim, keepdim=keepdim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(fn, data, rtol=1e-4, atol=1e-5)


@HYPO
@given(sd=shape_and_dims(single=True), seed=st.integers(0, 1000), nzeros=st.integers(0, 3),
       full=st.booleans())
def test_hypothesis_prod_zeros(sd, seed, nzeros, full):
    shape, dim = sd
    data = nonzero(*shape, seed=seed).astype(np.float64)
    flat = data.reshape(-1)
    rng = np.random.default_rng(seed)
    flat[rng.choice(flat.size, size=min(nzeros, flat.size), replace=False)] = 0.0
    compare_with_torch(lambda lib, a: a.prod() if full else a.prod(dim), data)


# ---------------------------------------------------------------------------
# Large inputs: the kernels release the GIL

@pytest.mark.parametrize("expr", [
    lambda lib, a: a.max(), lambda lib, a: a.max(0), lambda lib, a: a.amin((0, 2)),
    lambda lib, a: a.argmax(1), lambda lib, a: a.var(1), lambda lib, a: a.std(),
    lambda lib, a: a.logsumexp(2), lambda lib, a: (a * 0.01 + 1).prod(0),
    lambda lib, a: a.transpose(0, 2).amax(1),
])
def test_large(expr):
    compare_with_torch(expr, distinct(40, 50, 30, seed=90), rtol=1e-4, atol=1e-5)


def test_kernels_run_in_threads():
    # big reductions in several threads at once give the same results as alone
    a = cgrad.tensor(distinct(64, 1024, seed=91))
    expected = [values(a.max(1).values), values(a.var(0)), values(a.logsumexp(1)), values(a.argmin(0))]
    results = [None] * 8

    def work(k):
        results[k] = [values(a.max(1).values), values(a.var(0)), values(a.logsumexp(1)),
                      values(a.argmin(0))]
    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        for x, y in zip(r, expected):
            np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------------------
# Inputs laid out in memory in another order than their dims (permuted
# views): read in place, outputs reordered

@pytest.mark.parametrize("perm", [(0, 2, 1), (1, 0, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
@pytest.mark.parametrize("dim", [0, 1, 2, (0, 1), (1, 2), (0, 2)])
@pytest.mark.parametrize("name", ["max", "argmin", "amax", "prod", "var", "logsumexp"])
def test_permuted_layouts(perm, dim, name):
    data = distinct(3, 4, 5, seed=95)
    if name == "prod":
        data = nonzero(3, 4, 5, seed=95)
    if name in ("max", "argmin", "prod") and isinstance(dim, tuple):
        dim = dim[0]

    def fn(lib, a):
        v = a.permute(*perm)
        outs = []
        for r in (getattr(v, name)(dim), getattr(v, name)(dim, True)):
            outs.extend(r if isinstance(r, tuple) else [r])
        return tuple(outs)
    compare_with_torch(fn, data)


@pytest.mark.parametrize("perm", [(1, 0, 2), (2, 1, 0), (1, 2, 0)])
def test_permuted_flat_argmax(perm):
    compare_with_torch(lambda lib, a: (a.permute(*perm).argmax(), a.permute(*perm).argmin(None, True)),
                       distinct(3, 4, 5, seed=96))
