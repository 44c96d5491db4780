"""The everyday ops (rsqrt, log1p, ..., predicates, creation helpers such as
new_zeros and type_as): differential tests against torch (values, dtypes,
grad_fn names, gradients, error texts) and float64 gradient checks, first
and second order. Layout ops, activations, norms and losses are in
test_everyday_layout_and_nn.py."""
import math

import numpy as np
import pytest

import cgrad
from helpers import check_gradients, compare_with_torch, rand, requires_torch
from everyday_machinery import SHAPES, _err, same, same_error

try:
    import torch
except ImportError:
    torch = None

# name -> input range where the op is smooth (domain of asin/acos/logs)
UNARY_DOMAINS = {
    "rsqrt": (0.3, 2.0), "log1p": (-0.7, 2.0), "expm1": (-2.0, 2.0), "log2": (0.3, 2.0),
    "log10": (0.3, 2.0), "sinh": (-2.0, 2.0), "cosh": (-2.0, 2.0), "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9), "atan": (-2.0, 2.0), "erf": (-2.0, 2.0), "square": (-2.0, 2.0),
    "floor": (-2.0, 2.0), "ceil": (-2.0, 2.0), "round": (-2.0, 2.0), "trunc": (-2.0, 2.0),
    "frac": (-2.0, 2.0), "sgn": (-2.0, 2.0),
}
UNARY = sorted(UNARY_DOMAINS)
# the reference column: numpy's function of the same name (torch's round
# is numpy's, half to even; frac keeps the sign, x - trunc(x))
NUMPY_UNARY = {
    "rsqrt": lambda x: 1 / np.sqrt(x), "log1p": np.log1p, "expm1": np.expm1, "log2": np.log2, "log10": np.log10,
    "sinh": np.sinh, "cosh": np.cosh, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "erf": np.vectorize(math.erf, otypes=[np.float64]), "square": np.square, "floor": np.floor, "ceil": np.ceil,
    "round": np.round, "trunc": np.trunc, "frac": lambda x: x - np.trunc(x), "sgn": np.sign,
}


def numpy_reference(name):
    """The op's values by numpy in float64, returned in the input's dtype
    (a float op keeps its float dtype)."""
    return lambda x: NUMPY_UNARY[name](x.astype(np.float64)).astype(x.dtype)


# what integer and bool inputs give in torch 2.13 (recorded): float ops
# promote to the default float32; the rounding ops keep integers and refuse
# bool; frac refuses integers; square of bool is int64
SCALAR_TYPE = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def integer_outcome(name, dtype):
    if name in ("floor", "ceil", "round", "trunc"):
        if dtype == "bool":
            return "NotImplementedError", f'"{name}_vml_cpu" not implemented for \'Bool\''
        return dtype
    if name == "frac":
        return "NotImplementedError", f'"frac_cpu" not implemented for \'{SCALAR_TYPE[dtype]}\''
    if name == "square":
        return "int64" if dtype == "bool" else dtype
    if name == "sgn":
        return dtype
    return "float32"
# torch's gradient of sgn is a ZeroTensor, which compare_with_torch cannot
# read: sgn's differential tests are test_sgn's
UNARY_DIFF = [n for n in UNARY if n != "sgn"]
INT_DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool"]


def arr(name, shape, seed=0, dtype=np.float32):
    lo, hi = UNARY_DOMAINS[name]
    return rand(*shape, seed=seed, low=lo, high=hi, dtype=dtype)


@pytest.mark.parametrize("name", UNARY_DIFF)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_function_and_method(name, shape):
    a = arr(name, shape, seed=len(shape))
    ref = numpy_reference(name)
    compare_with_torch(lambda lib, x: getattr(lib, name)(x), a, reference=ref)
    compare_with_torch(lambda lib, x: getattr(x * 1, name)() * 2, a, reference=lambda x: ref(x) * 2)


@requires_torch
@pytest.mark.parametrize("name", UNARY_DIFF)
def test_unary_float64_and_float16(name):
    compare_with_torch(lambda lib, x: getattr(lib, name)(x), arr(name, (3, 4), dtype=np.float64))
    a = arr(name, (4, 5), seed=3)
    c = getattr(cgrad, name)(cgrad.tensor(a).half())
    t = getattr(torch, name)(torch.tensor(a).half())
    assert str(c.dtype) == "cgrad.float16"
    # within one float16 ulp: PyTorch's vectorised Half kernels (rsqrt, ...)
    # do not always round as float32-then-half does
    np.testing.assert_array_max_ulp(c.float().numpy().astype(np.float16), t.numpy(), maxulp=1)


@requires_torch
@pytest.mark.parametrize("name", UNARY)
def test_unary_special_values(name):
    a = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 0.5, 1.5, 2.5, -2.5, 1e30], np.float32)
    with np.errstate(all="ignore"):
        c = getattr(cgrad, name)(cgrad.tensor(a)).numpy()
    t = getattr(torch, name)(torch.tensor(a)).numpy()
    np.testing.assert_allclose(c, t, rtol=1e-6, equal_nan=True)
    keep = ~np.isnan(t)             # the sign of a NaN carries no meaning
    np.testing.assert_array_equal(np.signbit(c[keep]), np.signbit(t[keep]))


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_unary_integer_inputs(name, dtype):
    a = np.array([0, 1, 3, 7], dtype=np.int64)
    c_in = cgrad.tensor(a).to(getattr(cgrad, dtype if dtype != "bool" else "bool"))
    # torch's outcome as recorded: the dtype, values by numpy; or the error
    outcome = integer_outcome(name, dtype)
    if isinstance(outcome, tuple):
        assert _err(lambda: getattr(cgrad, name)(c_in)) == outcome
    else:
        got = getattr(cgrad, name)(c_in)
        assert str(got.dtype) == "cgrad." + outcome
        with np.errstate(all="ignore"):
            expected = NUMPY_UNARY[name](a.astype(dtype).astype(np.float64))
        if outcome != "float32":
            expected = expected.astype(outcome)
        np.testing.assert_allclose(got.numpy().astype(np.float64), expected.astype(np.float64), rtol=1e-6)
    if torch is None:
        return
    t_in = torch.tensor(a).to(getattr(torch, dtype))
    et = _err(lambda: getattr(torch, name)(t_in))
    if et is not None:
        assert _err(lambda: getattr(cgrad, name)(c_in)) == et
        return
    c = getattr(cgrad, name)(c_in)
    t = getattr(torch, name)(t_in)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(c.numpy().astype(np.float64), t.numpy().astype(np.float64), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("name", UNARY_DIFF)
def test_unary_inplace(name):
    a = arr(name, (2, 3), seed=5)
    # in place on a non-leaf, and on a view of it
    compare_with_torch(lambda lib, x: getattr(x * 1, name + "_")(), a)

    def on_view(lib, x):
        y = x * 1
        getattr(y[1], name + "_")()
        return y
    compare_with_torch(on_view, a)
    # without grad, on every dtype torch accepts
    for dt in ["float32", "float64", "int64", "int32", "uint8", "bool"]:
        src = np.array([0, 1, 2, 1], np.float32) if dt != "float32" else a[0]
        c_in = cgrad.tensor(src).to(getattr(cgrad, dt if dt != "bool" else "bool"))
        t_in = torch.tensor(src).to(getattr(torch, dt))
        et = _err(lambda: getattr(t_in, name + "_")())
        ec = _err(lambda: getattr(c_in, name + "_")())
        assert ec == et, dt
        if et is None:
            np.testing.assert_allclose(c_in.numpy().astype(np.float64), t_in.numpy().astype(np.float64),
                                       rtol=1e-6)
    # a leaf that requires grad
    same_error(lambda: getattr(cgrad.ones(2, requires_grad=True), name + "_")(),
               lambda: getattr(torch.ones(2, requires_grad=True), name + "_")())


def test_unary_inplace_bumps_version_and_checks_saved():
    x = cgrad.tensor([0.5, 1.0], requires_grad=True)
    y = x * 1
    z = y.log1p()
    y.expm1_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name):
    a = arr(name, (2, 3), seed=7)
    if name in ("floor", "ceil", "round", "trunc", "frac", "sgn"):
        a = np.floor(a) + 0.3       # away from the jumps
    check_gradients(lambda lib, x: getattr(lib, name)(x), a)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True)]
    assert cgrad.autograd.gradgradcheck(lambda x: getattr(cgrad, name)(x), ins)


@requires_torch
@pytest.mark.parametrize("name", UNARY_DIFF)
def test_unary_double_backward_values(name):
    a = arr(name, (4,), seed=9, dtype=np.float64)

    def second(lib):
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(getattr(lib, name)(x).sum(), x, create_graph=True)
        if not g.requires_grad:
            return g.detach().numpy(), None
        (gg,) = lib.autograd.grad((g * g).sum(), x, allow_unused=True)
        return g.detach().numpy(), None if gg is None else gg.numpy()
    gc, ggc = second(cgrad)
    gt, ggt = second(torch)
    np.testing.assert_allclose(gc, gt, rtol=1e-12)
    assert (ggc is None) == (ggt is None)
    if ggt is not None:
        np.testing.assert_allclose(ggc, ggt, rtol=1e-12)


@requires_torch
def test_unary_bad_argument():
    same_error(lambda: cgrad.log1p([1.0]), lambda: torch.log1p([1.0]))


# ---------------------------------------------------------------------------
# predicates and comparisons (no grad)

PRED_DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"]
SPECIAL = np.array([[0.0, -0.0, 1.5, np.nan], [np.inf, -np.inf, -2.0, 0.0], [3.0, 0.0, 0.0, 0.0]], np.float32)


def both(dtype, arr=SPECIAL):
    if dtype.startswith("float"):
        src = arr
    else:
        src = np.nan_to_num(arr, nan=1, posinf=2, neginf=3).astype(np.int64)
        if dtype == "uint8":
            src = np.abs(src)
    c = cgrad.tensor(src).to(getattr(cgrad, dtype))
    t = None if torch is None else torch.tensor(src).to(getattr(torch, dtype))
    return c, t


PREDICATES = {
    "isnan": lambda lib, x: lib.isnan(x), "isinf": lambda lib, x: lib.isinf(x),
    "isfinite": lambda lib, x: x.isfinite(), "isnan_m": lambda lib, x: x.isnan(),
    "any": lambda lib, x: lib.any(x), "all": lambda lib, x: x.all(),
    "any0": lambda lib, x: lib.any(x, dim=0), "all1k": lambda lib, x: lib.all(x, 1, keepdim=True),
    "any-1": lambda lib, x: x.any(-1), "all_t": lambda lib, x: lib.all(x, dim=(0, 1)),
    "anyk": lambda lib, x: x.any(dim=0, keepdim=True),
    "count": lambda lib, x: lib.count_nonzero(x), "count0": lambda lib, x: x.count_nonzero(0),
    "count_t": lambda lib, x: lib.count_nonzero(x, dim=(0, 1)), "count_m1": lambda lib, x: x.count_nonzero(dim=-1),
    "nonzero": lambda lib, x: lib.nonzero(x), "nonzero_m": lambda lib, x: x.nonzero(),
    "nonzero_t": lambda lib, x: lib.nonzero(x, as_tuple=True), "nonzero_tm": lambda lib, x: x.nonzero(as_tuple=True),
}


def _any_all(reduce, **kw):
    """torch's any/all keep uint8 inputs' dtype (a legacy rule); bool else."""
    return lambda x: np.asarray(reduce(x, **kw)).astype(np.uint8 if x.dtype == np.uint8 else bool)


def _count(**kw):
    return lambda x: np.asarray(np.count_nonzero(x, **kw), dtype=np.int64)


# the reference column: numpy's predicate of each
NUMPY_PREDICATES = {
    "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite, "isnan_m": np.isnan,
    "any": _any_all(np.any), "all": _any_all(np.all), "any0": _any_all(np.any, axis=0),
    "all1k": _any_all(np.all, axis=1, keepdims=True), "any-1": _any_all(np.any, axis=-1),
    "all_t": _any_all(np.all, axis=(0, 1)), "anyk": _any_all(np.any, axis=0, keepdims=True),
    "count": _count(), "count0": _count(axis=0), "count_t": _count(axis=(0, 1)), "count_m1": _count(axis=-1),
    "nonzero": lambda x: np.argwhere(x).astype(np.int64), "nonzero_m": lambda x: np.argwhere(x).astype(np.int64),
    # a 0-d input counts as 1-d, as in torch
    "nonzero_t": lambda x: tuple(i.astype(np.int64) for i in np.nonzero(np.atleast_1d(x))),
    "nonzero_tm": lambda x: tuple(i.astype(np.int64) for i in np.nonzero(np.atleast_1d(x))),
}


def same_as_reference(c, expected):
    if isinstance(expected, tuple):
        assert isinstance(c, tuple) and len(c) == len(expected)
        for a, b in zip(c, expected):
            same_as_reference(a, b)
        return
    expected = np.asarray(expected)
    assert tuple(c.shape) == expected.shape
    assert str(c.dtype).split(".")[-1] == expected.dtype.name
    assert c.grad_fn is None and not c.requires_grad
    np.testing.assert_array_equal(c.numpy(), expected)


@pytest.mark.parametrize("name", sorted(PREDICATES))
@pytest.mark.parametrize("dtype", PRED_DTYPES)
def test_predicates(name, dtype):
    c, t = both(dtype)
    fn, ref = PREDICATES[name], NUMPY_PREDICATES[name]
    # against numpy (with or without torch): a strided view, a 0-d tensor, an empty tensor
    inputs = [c, c.t(), c[:0]]
    if "0" not in name and "1" not in name and "_t" not in name or name.startswith("nonzero"):
        inputs += [c[1, 2], c[0, 0]]
    for x in inputs:
        same_as_reference(fn(cgrad, x), ref(x.numpy()))
    if torch is None:
        return
    same(PREDICATES[name](cgrad, c), PREDICATES[name](torch, t))
    # a strided view, a 0-d tensor, an empty tensor
    same(PREDICATES[name](cgrad, c.t()), PREDICATES[name](torch, t.t()))
    if "0" not in name and "1" not in name and "_t" not in name or name.startswith("nonzero"):
        same(PREDICATES[name](cgrad, c[1, 2]), PREDICATES[name](torch, t[1, 2]))
        same(PREDICATES[name](cgrad, c[0, 0]), PREDICATES[name](torch, t[0, 0]))
    same(PREDICATES[name](cgrad, c[:0]), PREDICATES[name](torch, t[:0]))


@requires_torch
def test_predicates_on_requires_grad_input():
    a = SPECIAL[:, 2:]
    x = cgrad.tensor(a, requires_grad=True) * 2
    y = torch.tensor(a, requires_grad=True) * 2
    for name in sorted(PREDICATES):
        same(PREDICATES[name](cgrad, x), PREDICATES[name](torch, y))


@requires_torch
def test_reduction_predicate_errors():
    c, t = both("float32")
    for f in [lambda lib, x: lib.any(x, dim=2), lambda lib, x: x.all(-3), lambda lib, x: x.count_nonzero(5),
              lambda lib, x: lib.all(x, dim=(0, 0))]:
        same_error(lambda: f(cgrad, c), lambda: f(torch, t))


CLOSE_CASES = [
    (np.array([1.0, 1.00001, np.nan, np.inf, -np.inf, 0.0], np.float32),
     np.array([1.0, 1.0, np.nan, np.inf, np.inf, 1e-9], np.float32)),
    (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 2.0001])),
    (np.array([1, 2, 3]), np.array([1, 2, 4])),
    (np.array([True, False]), np.array([True, True])),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(CLOSE_CASES)))
@pytest.mark.parametrize("kw", [{}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 1e-3, "rtol": 0},
                                {"rtol": 0, "atol": 0}])
def test_isclose_allclose(case, kw):
    a, b = CLOSE_CASES[case]
    ca, cb, ta, tb = cgrad.tensor(a), cgrad.tensor(b), torch.tensor(a), torch.tensor(b)
    for fn in [lambda lib, x, y: lib.isclose(x, y, **kw), lambda lib, x, y: x.isclose(y, **kw),
               lambda lib, x, y: lib.allclose(x, y, **kw), lambda lib, x, y: x.allclose(y, **kw)]:
        et = _err(lambda: fn(torch, ta, tb))
        if et is not None:
            assert _err(lambda: fn(cgrad, ca, cb)) == et
        else:
            same(fn(cgrad, ca, cb), fn(torch, ta, tb))


@requires_torch
def test_isclose_errors():
    for f in [lambda lib: lib.isclose(lib.ones(2), lib.ones(2, dtype=lib.int64)),
              lambda lib: lib.allclose(lib.ones(2), lib.ones(2, dtype=lib.float64)),
              lambda lib: lib.isclose(lib.ones(2), lib.ones(3)),
              lambda lib: lib.isclose(lib.ones(2), lib.ones(2), rtol=-1),
              lambda lib: lib.isclose(lib.ones(2), lib.ones(2), atol=-0.5),
              lambda lib: lib.isclose(lib.ones(2), 1.0)]:
        same_error(lambda: f(cgrad), lambda: f(torch))


@requires_torch
def test_equal_still_works():
    assert cgrad.equal(cgrad.ones(2), cgrad.ones(2)) is True
    assert cgrad.ones(2).equal(cgrad.zeros(2)) is False


# ---------------------------------------------------------------------------
# creation helpers: new_zeros/new_ones/new_full/new_empty/new_tensor, type_as

NEW_CALLS = {
    "zeros_args": lambda x: x.new_zeros(2, 3), "zeros_tuple": lambda x: x.new_zeros((2, 3)),
    "zeros_size": lambda x: x.new_zeros(size=(2,)), "zeros_0d": lambda x: x.new_zeros(()),
    "ones_dtype": lambda x: x.new_ones([2], dtype=x.new_zeros(1).double().dtype),
    "ones_rg": lambda x: x.new_ones(3, dtype=x.new_zeros(1).float().dtype, requires_grad=True),
    "full": lambda x: x.new_full((2,), 3.7), "full_int": lambda x: x.new_full([1, 2], 3),
    "full_bool": lambda x: x.new_full((2,), True),
    "empty_shape": lambda x: x.new_empty(0, 4), "tensor_list": lambda x: x.new_tensor([1.5, 2]),
    "tensor_scalar": lambda x: x.new_tensor(3), "tensor_nested": lambda x: x.new_tensor([[1, 0], [2, 3]]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(NEW_CALLS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool", "float16"])
def test_new_factories(name, dtype):
    c = cgrad.ones(2).to(getattr(cgrad, dtype))
    t = torch.ones(2).to(getattr(torch, dtype))
    et = _err(lambda: NEW_CALLS[name](t))
    if et is not None:
        assert _err(lambda: NEW_CALLS[name](c)) == et
        return
    rc, rt = NEW_CALLS[name](c), NEW_CALLS[name](t)
    assert tuple(rc.shape) == tuple(rt.shape)
    assert str(rc.dtype).split(".")[-1] == str(rt.dtype).split(".")[-1]
    assert rc.requires_grad == rt.requires_grad and rc.grad_fn is None
    if not name.startswith("empty"):
        np.testing.assert_array_equal(rc.detach().numpy(), rt.detach().numpy())


@requires_torch
def test_new_factory_errors_and_warning():
    for f in [lambda lib: lib.ones(2).new_zeros("a"), lambda lib: lib.ones(2).new_ones(2.0),
              lambda lib: lib.ones(2).new_zeros(-1), lambda lib: lib.ones(2).new_full(2, 3),
              lambda lib: lib.ones(2, dtype=lib.int64).new_ones(2, requires_grad=True),
              lambda lib: lib.ones(2).new_empty((2, -3))]:
        same_error(lambda: f(cgrad), lambda: f(torch))
    with pytest.warns(UserWarning, match=r"rather than tensor.new_tensor\(sourceTensor\)"):
        cgrad.ones(2).new_tensor(cgrad.ones(3))


@requires_torch
def test_type_as():
    compare_with_torch(lambda lib, x, y: x.type_as(y), rand(3), rand(2, dtype=np.float64))
    compare_with_torch(lambda lib, x, y: (x * 2).type_as(y), rand(3), rand(2))
    compare_with_torch(lambda lib, x, y: x.type_as(y), rand(3), np.array([1, 2]))
    x = cgrad.ones(2, requires_grad=True)
    assert x.type_as(cgrad.zeros(1)) is x
    same_error(lambda: cgrad.ones(2).type_as(3), lambda: torch.ones(2).type_as(3))
