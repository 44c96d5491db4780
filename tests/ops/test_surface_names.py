"""Names PyTorch has that cgrad lacked, each against torch: signbit,
isposinf, isneginf, positive; the alias names (arccos ... arctan2, fix)
with their in-place and method forms; round's decimals and out=;
cgrad.special (erfcx); the C++ node names of AccumulateGrad and CopySlices;
deepcopy of a Parameter; 0-d factory sizes; Tensor.view's fast path."""
import copy

import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from tests.helpers import requires_torch, torch

SPECIAL = np.array([-1.5, -0.0, 0.0, 2.0, np.inf, -np.inf, np.nan, -np.nan])


def errors_of(fn):
    texts = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as err:
            fn(lib)
        texts.append((type(err.value).__name__, str(err.value).replace("torch.", "cgrad.")))
    return texts


@requires_torch
@pytest.mark.parametrize("name", ["signbit", "isposinf", "isneginf"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "uint8", "bool"])
def test_sign_and_infinity_predicates_match_torch(name, dtype):
    x = SPECIAL if dtype.startswith("float") else np.array([3, -2, 0, 1])
    x = x.astype(dtype) if dtype != "uint8" else np.array([3, 0, 255], np.uint8)
    for form in ("fn", "meth"):
        got = getattr(cgrad, name)(cgrad.tensor(x)) if form == "fn" else getattr(cgrad.tensor(x), name)()
        want = getattr(torch, name)(torch.tensor(x)) if form == "fn" else getattr(torch.tensor(x), name)()
        assert str(got.dtype) == "cgrad.bool"
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    # non-contiguous input, out= (bool only; resized with torch's warning)
    xs = np.stack([x, x], 1)
    np.testing.assert_array_equal(getattr(cgrad, name)(cgrad.tensor(xs).t()).numpy(),
                                  getattr(torch, name)(torch.tensor(xs).t()).numpy())
    out = cgrad.empty(len(x), dtype=cgrad.bool)
    assert getattr(cgrad, name)(cgrad.tensor(x), out=out) is out
    np.testing.assert_array_equal(out.numpy(), getattr(torch, name)(torch.tensor(x)).numpy())


@requires_torch
@pytest.mark.parametrize("name", ["signbit", "isposinf", "isneginf"])
def test_predicate_errors_match_torch(name):
    assert len(set(errors_of(lambda lib: getattr(lib, name)(lib.tensor([1.0]), out=lib.empty(1))))) == 1
    assert len(set(errors_of(lambda lib: getattr(lib, name)(1)))) == 1
    assert len(set(errors_of(lambda lib: getattr(lib, name)(lib.tensor([1.0]), out=1)))) == 1
    x = cgrad.tensor([1.0, -1.0], requires_grad=True)        # no history: out= allowed with grad
    assert getattr(cgrad, name)(x).grad_fn is None
    getattr(cgrad, name)(x, out=cgrad.empty(2, dtype=cgrad.bool))


@requires_torch
def test_positive_matches_torch():
    x = cgrad.tensor([1.0, -2.0], requires_grad=True)
    assert cgrad.positive(x) is x and x.positive() is x
    i = cgrad.tensor([1, -2])
    assert cgrad.positive(i) is i
    assert len(set(errors_of(lambda lib: lib.positive(lib.tensor([True]))))) == 1
    assert len(set(errors_of(lambda lib: lib.tensor([True]).positive()))) == 1
    assert len(set(errors_of(lambda lib: lib.positive(1)))) == 1


ALIASES = [("arccos", "acos", (-0.9, 0.9)), ("arcsin", "asin", (-0.9, 0.9)), ("arctan", "atan", (-3, 3)),
           ("arccosh", "acosh", (1.1, 4)), ("arcsinh", "asinh", (-3, 3)), ("arctanh", "atanh", (-0.9, 0.9)),
           ("fix", "trunc", (-3, 3))]


@requires_torch
@pytest.mark.parametrize("alias,op,domain", ALIASES)
def test_unary_aliases_match_torch(alias, op, domain):
    x_np = np.random.default_rng(0).uniform(*domain, size=(3, 4))
    for form in ("fn", "meth"):
        xc = cgrad.tensor(x_np, requires_grad=True)
        xt = torch.tensor(x_np, requires_grad=True)
        yc = getattr(cgrad, alias)(xc) if form == "fn" else getattr(xc, alias)()
        yt = getattr(torch, alias)(xt) if form == "fn" else getattr(xt, alias)()
        assert yc.grad_fn.name() == yt.grad_fn.name()
        np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        yc.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    for form in ("fn_", "meth_"):
        res = []
        for lib in (cgrad, torch):
            leaf = lib.tensor(x_np, requires_grad=True)
            x = leaf * 1
            r = getattr(lib, alias + "_")(x) if form == "fn_" else getattr(x, alias + "_")()
            assert r is x
            try:
                x.sum().backward()
                grad = leaf.grad.numpy()
            except NotImplementedError as e:    # torch has no derivative for some in-place forms
                grad = str(e)
            res.append((x.grad_fn.name(), x._version, x.detach().numpy(), grad))
        assert res[0][:2] == res[1][:2]
        if isinstance(res[1][3], str):
            assert res[0][3] == res[1][3]
            continue
        np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-12)
        np.testing.assert_allclose(res[0][3], res[1][3], rtol=1e-12)
    # out=, and the errors: the alias's name for argument types, the op's inside
    oc, ot = cgrad.empty(3, 4, dtype=cgrad.float64), torch.empty(3, 4, dtype=torch.float64)
    assert getattr(cgrad, alias)(cgrad.tensor(x_np), out=oc) is oc
    getattr(torch, alias)(torch.tensor(x_np), out=ot)
    np.testing.assert_allclose(oc.numpy(), ot.numpy(), rtol=1e-12)
    for bad in (lambda lib: getattr(lib, alias)(1), lambda lib: getattr(lib, alias + "_")(1),
                lambda lib: getattr(lib, alias)(lib.tensor(x_np, requires_grad=True), out=lib.empty(3, 4)),
                lambda lib: getattr(lib, alias)(lib.tensor(x_np), out=lib.empty(3, 4, dtype=lib.int64)),
                lambda lib: getattr(lib, alias + "_")(lib.tensor(x_np, requires_grad=True))):
        assert len(set(errors_of(bad))) == 1


@requires_torch
def test_arctan2_and_atan2_inplace_match_torch():
    a_np = np.random.default_rng(1).standard_normal((3, 4))
    b_np = np.random.default_rng(2).standard_normal((4,))
    for name in ("atan2_", "arctan2_"):
        res = []
        for lib in (cgrad, torch):
            la, lb = lib.tensor(a_np, requires_grad=True), lib.tensor(b_np, requires_grad=True)
            x = la * 1
            assert getattr(x, name)(lb) is x
            x.sum().backward()
            res.append((x.grad_fn.name(), x._version, x.detach().numpy(), la.grad.numpy(), lb.grad.numpy()))
        assert res[0][:2] == res[1][:2]
        for k in (2, 3, 4):
            np.testing.assert_allclose(res[0][k], res[1][k], rtol=1e-12)
        for bad in (lambda lib: getattr(lib.tensor(a_np), name)(1),
                    lambda lib: getattr(lib.tensor(b_np), name)(lib.tensor(a_np)),
                    lambda lib: getattr(lib.tensor([1, 2]), name)(lib.tensor([1.0, 2.0])),
                    lambda lib: getattr(lib.tensor(a_np, requires_grad=True), name)(lib.tensor(b_np))):
            assert len(set(errors_of(bad))) == 1
    yc = cgrad.arctan2(cgrad.tensor(a_np, requires_grad=True), cgrad.tensor(b_np))
    yt = torch.arctan2(torch.tensor(a_np, requires_grad=True), torch.tensor(b_np))
    assert yc.grad_fn.name() == yt.grad_fn.name()
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    for bad in (lambda lib: lib.arctan2(1, lib.tensor(b_np)), lambda lib: lib.arctan2(lib.tensor(b_np), 1)):
        assert len(set(errors_of(bad))) == 1


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("decimals", [None, 0, 1, 2, -1, -2])
def test_round_decimals_matches_torch(dtype, decimals):
    x_np = np.array([1.2345678, 123456.7, -0.05, 2.675, 1.5, -2.5, 1e30, 0.125]).astype(dtype)
    kw = {} if decimals is None else {"decimals": decimals}
    for form in ("fn", "meth", "meth_", "fn_"):
        res = []
        for lib in (cgrad, torch):
            leaf = lib.tensor(x_np, requires_grad=True)
            x = leaf * 1
            y = {"fn": lambda: lib.round(x, **kw), "meth": lambda: x.round(**kw),
                 "meth_": lambda: x.round_(**kw), "fn_": lambda: lib.round_(x, **kw)}[form]()
            y.sum().backward()
            res.append((y.grad_fn.name(), str(y.dtype).split(".")[-1], y.detach().numpy(), leaf.grad.numpy()))
        assert res[0][:2] == res[1][:2]
        np.testing.assert_array_equal(res[0][2], res[1][2])
        np.testing.assert_array_equal(res[0][3], res[1][3])


@requires_torch
def test_round_out_and_errors_match_torch():
    x = np.array([1.25, -2.5])
    for kw in ({}, {"decimals": 1}):
        oc, ot = cgrad.empty(2, dtype=cgrad.float64), torch.empty(2, dtype=torch.float64)
        assert cgrad.round(cgrad.tensor(x), out=oc, **kw) is oc
        torch.round(torch.tensor(x), out=ot, **kw)
        np.testing.assert_array_equal(oc.numpy(), ot.numpy())
        for bad in (lambda lib: lib.round(lib.tensor(x), out=lib.empty(2, dtype=lib.int64), **kw),
                    lambda lib: lib.round(lib.tensor(x), out=lib.empty(2, dtype=lib.float32), **kw),
                    lambda lib: lib.round(lib.tensor(x, requires_grad=True), out=lib.empty(2, dtype=lib.float64),
                                          **kw)):
            t = errors_of(bad)
            assert t[0] == t[1] and "_round" not in t[0][1]
    for bad in (lambda lib: lib.round(lib.tensor([3]), decimals=0), lambda lib: lib.round(lib.tensor([3]), decimals=1),
                lambda lib: lib.round(lib.tensor([True]), decimals=1),
                lambda lib: lib.round(lib.tensor([3]), out=lib.empty(1))):
        t = errors_of(bad)
        assert t[0] == t[1]
    np.testing.assert_array_equal(cgrad.round(cgrad.tensor([15, 25])).numpy(), [15, 25])


@pytest.mark.parametrize("decimals", [0, 2, -1])
def test_round_decimals_gradcheck(decimals):
    x = cgrad.tensor([0.123, 4.567, -8.9], dtype=cgrad.float64, requires_grad=True)
    assert gradcheck(lambda t: cgrad.round(t, decimals=decimals), (x,))
    assert gradgradcheck(lambda t: cgrad.round(t, decimals=decimals), (x,))


@requires_torch
def test_legacy_unary_functions_take_out_as_torch():
    x = np.array([0.25, -0.5, 0.75])
    for name in ("asin", "acos", "atan", "erf", "floor", "ceil", "trunc", "frac", "sgn", "rsqrt", "log1p",
                 "expm1", "log2", "log10", "sinh", "cosh"):
        oc, ot = cgrad.empty(3, dtype=cgrad.float64), torch.empty(3, dtype=torch.float64)
        assert getattr(cgrad, name)(cgrad.tensor(x), out=oc) is oc
        getattr(torch, name)(torch.tensor(x), out=ot)
        np.testing.assert_allclose(oc.numpy(), ot.numpy(), rtol=1e-12, equal_nan=True)
        for dt in ("int64", "float32"):
            t = errors_of(lambda lib: getattr(lib, name)(lib.tensor(x), out=lib.empty(3, dtype=getattr(lib, dt)))) \
                if dt == "int64" or name in ("floor", "ceil", "trunc", "frac", "sgn") else None
            if t is not None:
                assert t[0] == t[1], name


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_erfcx_matches_torch(dtype):
    x_np = np.array([-30.0, -26.0, -5.0, -1e-3, 0.0, 1e-3, 0.5, 2.0, 2.4999, 2.5, 5.0, 30.0, 1e10, np.inf, -np.inf,
                     np.nan]).astype(dtype)
    yc = cgrad.special.erfcx(cgrad.tensor(x_np))
    yt = torch.special.erfcx(torch.tensor(x_np))
    tol = 2e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(yc.numpy(), yt.numpy(), rtol=tol, atol=0, equal_nan=True)
    g = np.random.default_rng(0).uniform(-3, 3, (4, 5)).astype(dtype)
    xc, xt = cgrad.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
    yc, yt = cgrad.special.erfcx(xc), torch.special.erfcx(xt)
    assert yc.grad_fn.name() == yt.grad_fn.name() == "SpecialErfcxBackward0"
    yc.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=tol * 10, atol=tol)


@requires_torch
def test_special_namespace_matches_torch():
    x_np = np.array([-1.5, 0.5, 2.0])
    for name, args in (("erf", ()), ("erfc", ()), ("erfinv", ()), ("expit", ()), ("exp2", ()), ("expm1", ()),
                       ("log1p", ()), ("gammaln", ()), ("digamma", ()), ("psi", ()), ("i0", ()), ("i1", ()),
                       ("sinc", ()), ("erfcx", ()), ("softmax", (0,)), ("log_softmax", (0,)),
                       ("logsumexp", (0,))):
        xc, xt = cgrad.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        yc, yt = getattr(cgrad.special, name)(xc, *args), getattr(torch.special, name)(xt, *args)
        assert yc.grad_fn.name() == yt.grad_fn.name(), name
        np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-12, equal_nan=True)
        t = errors_of(lambda lib: getattr(lib.special, name)(1, *args))
        assert t[0] == t[1], name
    for bad in (lambda lib: lib.special.erfcx(lib.tensor([1.0], dtype=lib.float16)),
                lambda lib: lib.special.erfcx(lib.tensor([1.0], requires_grad=True), out=lib.empty(1)),
                lambda lib: lib.special.round(lib.tensor([3])),
                lambda lib: lib.special.polygamma(1, 1)):
        t = errors_of(bad)
        assert t[0] == t[1]
    assert not hasattr(torch.special, "erfcinv") and not hasattr(cgrad.special, "erfcinv")


def test_special_erfcx_gradcheck():
    x = cgrad.tensor([-2.0, -0.3, 0.7, 3.1, 6.0], dtype=cgrad.float64, requires_grad=True)
    assert gradcheck(cgrad.special.erfcx, (x,))
    assert gradgradcheck(cgrad.special.erfcx, (x,))


@requires_torch
def test_cpp_node_names_match_torch():
    names = []
    for lib in (cgrad, torch):
        leaf = lib.ones(3, requires_grad=True)
        acc = (leaf * 2).grad_fn.next_functions[0][0]
        base = leaf * 1
        base[:2].mul_(2)
        names.append((acc.name(), type(acc).__name__, base.grad_fn.name()))
    assert names[0] == names[1] == ("torch::autograd::AccumulateGrad", "AccumulateGrad",
                                    "torch::autograd::CopySlices")


@requires_torch
def test_parameter_deepcopy_matches_torch():
    res = []
    for lib in (cgrad, torch):
        p = lib.nn.Parameter(lib.arange(12.0).reshape(3, 4).t())
        p.sum().backward()
        p.note = 5
        q = copy.deepcopy(p)
        r = copy.deepcopy(lib.nn.Parameter(lib.ones(2), requires_grad=False))
        memo = copy.deepcopy({"a": p, "b": p})
        res.append((type(q).__name__, q.grad is None, q.requires_grad, tuple(q.stride()), hasattr(q, "note"),
                    q.is_leaf, q.data_ptr() != p.data_ptr(), r.requires_grad, memo["a"] is memo["b"],
                    q.detach().numpy().tolist()))
        t = lib.ones(2, requires_grad=True)
        t.sum().backward()
        assert copy.deepcopy(t).grad is not None      # a plain tensor keeps its .grad, in both
    assert res[0] == res[1]


@requires_torch
def test_zero_dim_factory_sizes_match_torch():
    for expr in ("lib.rand(())", "lib.randn([])", "lib.zeros(())", "lib.ones([])", "lib.empty(())",
                 "lib.full((), 2)", "lib.full([], 2.5)", "lib.rand(size=())", "lib.zeros(lib.Size([]))",
                 "lib.randint(3, ())", "lib.ones((), requires_grad=True)", "lib.zeros((), dtype=lib.int32)"):
        got, want = eval(expr, {"lib": cgrad}), eval(expr, {"lib": torch})
        assert tuple(got.shape) == tuple(want.shape) == ()
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], expr
        assert got.requires_grad == want.requires_grad


@requires_torch
def test_view_fast_path_matches_general_path():
    x_np = np.arange(24.0).reshape(4, 6)
    for args in [(6, 4), ((6, 4),), ([6, -1],), (-1,), (2, 3, 4), ((),)[:0] or (24,), (1, 24, 1)]:
        for lib in (cgrad, torch):
            x = lib.tensor(x_np, requires_grad=True)
            v = x.view(*args)
            assert v.grad_fn.name() == "ViewBackward0"
            assert v._base is x
        vc = cgrad.tensor(x_np).view(*args)
        vt = torch.tensor(x_np).view(*args)
        assert tuple(vc.shape) == tuple(vt.shape) and tuple(vc.stride()) == tuple(vt.stride())
    vc = cgrad.tensor(x_np).t()
    vt = torch.tensor(x_np).t()
    for args in [(), (5, 5), (-1, -1), (True, 24), (24.0,), (2 ** 40,), (0, -1), (24,), (2, 12)]:
        for x in ((cgrad.tensor(x_np), torch.tensor(x_np)), (vc, vt)):
            t = errors_of(lambda lib: (x[0] if lib is cgrad else x[1]).view(*args)) \
                if not (args in [(24,), (2, 12)] and x[0] is not vc) else None
            if t is not None:
                assert t[0] == t[1], args
    one = cgrad.ones(1)
    assert tuple(one.view(()).shape) == ()


@requires_torch
def test_forward_ad_of_new_ops_matches_torch():
    x = np.array([0.3, -1.2, 2.7])
    t = np.array([1.0, 2.0, -0.5])
    calls = [lambda L, d: L.special.erfcx(d), lambda L, d: L.round(d, decimals=1), lambda L, d: L.arctan(d),
             lambda L, d: L.fix(d), lambda L, d: (d * 1).t_(), lambda L, d: (d * 1).unsqueeze_(0)]
    for call in calls:
        tangents = []
        for lib in (cgrad, torch):
            with lib.autograd.forward_ad.dual_level():
                d = lib.autograd.forward_ad.make_dual(lib.tensor(x), lib.tensor(t))
                tangents.append(lib.autograd.forward_ad.unpack_dual(call(lib, d)).tangent.numpy())
        np.testing.assert_allclose(tangents[0], tangents[1], rtol=1e-12)


def test_types_module_gives_pytorchs_annotation_aliases():
    """`from torch.types import Number` in scripts: the aliases resolve to the same kinds of things."""
    import typing
    from cgrad.types import Device, FileLike, Number, _Number, _int, _size, _TensorOrTensors  # noqa: F401
    assert typing.get_args(Number) == (int, float, bool) and _Number == (int, float, bool) and _int is int
    assert typing.get_args(Device) == (cgrad.device, str, int, type(None))
    assert cgrad.Size in typing.get_args(_size) and cgrad.Tensor in typing.get_args(_TensorOrTensors)
    assert cgrad.types.Storage is cgrad.UntypedStorage and cgrad.types._layout is cgrad.layout
    if torch is not None:
        assert sorted(cgrad.types.__all__) == sorted(torch.types.__all__)
        assert typing.get_args(torch.types.Number) == typing.get_args(Number)
