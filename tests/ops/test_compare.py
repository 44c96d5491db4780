"""The comparison and selection family against torch: comparisons (and
equal), clamp/clip/clamp_min/clamp_max, maximum/minimum/fmax/fmin, where,
logical and bitwise ops. Values, dtypes, shapes, grad_fn names and
gradients (ties, boundaries and NaN included), float64 gradient checks,
and errors with torch's types and texts."""
import numpy as np
import pytest

import cgrad
from helpers import check_gradients, compare_with_torch, make_inputs, rand, requires_torch, torch

NAN = float("nan")


def ties(*shape, seed=0, dtype=np.float32):
    """Small integers and halves: many exact ties between two arrays."""
    return np.asarray(np.asarray(np.random.default_rng(seed).integers(-3, 4, size=shape) / 2, dtype=dtype))


def same_error(fn, *arrays, requires_grad=True):
    """fn raises in cgrad the exception torch raises, with torch's text."""
    if torch is None:
        pytest.skip("torch not installed")
    with pytest.raises(Exception) as expected:
        fn(torch, *make_inputs(torch, arrays, requires_grad))
    with pytest.raises(type(expected.value)) as got:
        fn(cgrad, *make_inputs(cgrad, arrays, requires_grad))
    assert str(got.value) == str(expected.value).replace("torch.", "cgrad.")
    return got.value


def check(fn, *arrays, **kw):
    """compare_with_torch, or the same error when torch raises."""
    if torch is None:
        pytest.skip("torch not installed")
    try:
        fn(torch, *make_inputs(torch, arrays, kw.get("requires_grad", True)))
    except Exception:  # noqa: BLE001 - then cgrad must raise the same
        same_error(fn, *arrays, requires_grad=kw.get("requires_grad", True))
        return None
    return compare_with_torch(fn, *arrays, **kw)


def second_order_check(f, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Float64 check of the second derivatives of the scalar f(*tensors): the
    gradient of h = sum_i <df/dx_i, w_i> built with create_graph=True
    against central differences of h. (cgrad.autograd.gradgradcheck runs
    its finite differences under no_grad, where first-order gradients cannot
    be taken, so it is not used here.)"""
    xs = [cgrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    rng = np.random.default_rng(0)
    ws = [cgrad.tensor(rng.standard_normal(np.shape(a))) for a in arrays]

    def h(create_graph):
        gs = cgrad.autograd.grad(f(*xs), xs, create_graph=create_graph, allow_unused=True)
        terms = [(g * w).sum() for g, w in zip(gs, ws) if g is not None]
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return out

    analytical = cgrad.autograd.grad(h(True), xs, allow_unused=True)
    for x, an in zip(xs, analytical):
        flat = x.detach().numpy().reshape(-1)          # a view: perturbs x in place
        num = np.zeros(flat.size)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = h(False).item()
            flat[k] = orig - eps
            minus = h(False).item()
            flat[k] = orig
            num[k] = (plus - minus) / (2 * eps)
        got = np.zeros(flat.size) if an is None else an.detach().numpy().reshape(-1)
        np.testing.assert_allclose(got, num, atol=atol, rtol=rtol)


def edge_names(t):
    return [None if n is None else type(n).__name__ for n, _ in t.grad_fn.next_functions]


SHAPE_PAIRS = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((4, 1, 3), (2, 3)), ((), (2, 2)),
               ((2, 3), ()), ((0, 3), (1, 3)), ((2, 0), (2, 1)), ((1,), (0,)), ((1, 1), (1,))]

# ---------------------------------------------------------------------------
# Comparisons

CMP = ["lt", "le", "gt", "ge", "eq", "ne"]
OPERATOR = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
            "ge": lambda a, b: a >= b, "eq": lambda a, b: a == b, "ne": lambda a, b: a != b}
ALIASES = {"less": "lt", "less_equal": "le", "greater": "gt", "greater_equal": "ge", "not_equal": "ne"}


@pytest.mark.parametrize("op", CMP)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
def test_compare_operators_broadcast(op, shapes):
    a, b = ties(*shapes[0], seed=1), ties(*shapes[1], seed=2)
    # numpy's comparisons are the reference (the halves of ties() are exact)
    out, _ = compare_with_torch(lambda lib, x, y: OPERATOR[op](x, y), a, b, reference=OPERATOR[op])
    assert out.dtype == cgrad.bool and out.grad_fn is None and not out.requires_grad


@pytest.mark.parametrize("name", CMP + sorted(ALIASES))
@pytest.mark.parametrize("form", ["method", "function"])
def test_compare_methods_functions_and_aliases(name, form):
    a, b = ties(2, 3, seed=3), ties(3, seed=4)
    if form == "method":
        fn = lambda lib, x, y: getattr(x, name)(y)  # noqa: E731
    else:
        fn = lambda lib, x, y: getattr(lib, name)(x, y)  # noqa: E731
    ref = OPERATOR[ALIASES.get(name, name)]
    compare_with_torch(fn, a, b, reference=ref)
    compare_with_torch(lambda lib, x: getattr(x, name)(0.5) if form == "method"
                       else getattr(lib, name)(x, 0.5), a, reference=lambda x: ref(x, 0.5))


@pytest.mark.parametrize("op", CMP)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, bool])
@pytest.mark.parametrize("scalar", [1, 0, 0.5, -1.5, True, False, np.float64(0.5), np.int64(1)])
def test_compare_with_numbers_on_either_side(op, dtype, scalar):
    a = ties(2, 3, seed=5).astype(dtype)
    compare_with_torch(lambda lib, x: OPERATOR[op](x, scalar), a, reference=lambda x: OPERATOR[op](x, scalar))
    if not isinstance(scalar, np.generic):  # numpy scalars on the left are numpy's business
        compare_with_torch(lambda lib, x: OPERATOR[op](scalar, x), a, reference=lambda x: OPERATOR[op](scalar, x))


@pytest.mark.parametrize("op", CMP)
def test_compare_promotion_of_tensors(op):
    dts = [np.float32, np.float64, np.int64, bool]
    for da in dts:
        for db in dts:
            for sb in [(3,), ()]:
                a = ties(2, 3, seed=6).astype(da)
                b = ties(*sb, seed=7).astype(db)
                compare_with_torch(lambda lib, x, y: OPERATOR[op](x, y), a, np.asarray(b), reference=OPERATOR[op])


def test_compare_in_the_promoted_dtype():
    # float32 rounding decides these: the comparison happens after promotion
    big = np.array([16777217], dtype=np.int64)
    compare_with_torch(lambda lib, x: x == 16777216.0, big)
    compare_with_torch(lambda lib, x, y: x == y, big, np.array(16777216.0))             # 0-d float64
    compare_with_torch(lambda lib, x, y: x == y, big, np.array(16777216.0, np.float32))
    compare_with_torch(lambda lib, x: x == 0.1, np.array([0.1], np.float32))
    compare_with_torch(lambda lib, x, y: x == y, np.array([0.1], np.float32), np.array([0.1]))


@pytest.mark.parametrize("op", CMP)
def test_compare_nan_and_inf(op):
    a = np.array([NAN, 1.0, np.inf, -np.inf, NAN, 0.0], np.float32)
    b = np.array([NAN, NAN, np.inf, 1.0, 0.0, -0.0], np.float32)
    compare_with_torch(lambda lib, x, y: OPERATOR[op](x, y), a, b)
    compare_with_torch(lambda lib, x: OPERATOR[op](x, NAN), a)
    compare_with_torch(lambda lib, x: OPERATOR[op](x, float("inf")), a)


@requires_torch
@pytest.mark.parametrize("value", [2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -2 ** 63, -2 ** 63 - 1])
def test_compare_with_huge_ints(value):
    ints = np.array([1, -3, 2 ** 62], np.int64)
    for op in ("lt", "eq", "ge"):
        check(lambda lib, x: OPERATOR[op](x, value), ints)
        check(lambda lib, x: OPERATOR[op](x, value), np.array([1.0, -2.0]))


def test_compare_operators_with_other_types():
    a = cgrad.tensor([1.0, 2.0])
    assert (a == None) is False and (a != None) is True  # noqa: E711
    assert (a == "x") is False and (a != [1.0, 2.0]) is True
    for bad in ("x", None, [1, 2], np.array(1.0)):
        with pytest.raises(TypeError, match="not supported between instances of"):
            a < bad
    # tensors stay hashable (identity), usable as dict keys and in sets
    b = cgrad.tensor([1.0, 2.0])
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2 and len({a, b, a}) == 2 and hash(a) == id(a)


@requires_torch
def test_compare_argument_errors():
    a = rand(3)
    same_error(lambda lib, x: x.lt("a"), a)
    same_error(lambda lib, x: x.greater(None), a)
    same_error(lambda lib, x: lib.lt(x, "a"), a)
    same_error(lambda lib, x: lib.ne(1, x), a)
    same_error(lambda lib, x: lib.less_equal("a", x), a)
    same_error(lambda lib, x, y: x < y, rand(2, 3), rand(3, 4))          # rightmost mismatch named
    same_error(lambda lib, x, y: x.eq(y), rand(4, 2, 1), rand(3, 1, 3))
    same_error(lambda lib, x, y: lib.ge(x, y), rand(2), rand(3))
    out = cgrad.zeros(2, dtype=cgrad.bool)      # out= is written into and returned, as in PyTorch
    assert cgrad.lt(cgrad.tensor([0.0, 2.0]), 1, out=out) is out
    assert out.tolist() == [True, False]


@requires_torch
def test_equal():
    cases = [(np.array([1.0, 2.0]), np.array([1.0, 2.0])), (np.array([1, 2]), np.array([1.0, 2.0])),
             (np.array([1.5]), np.array([1])), (np.array([NAN]), np.array([NAN])),
             (np.array([1.0]), np.array([1.0, 1.0])), (np.array(1.0), np.array([1.0])),
             (np.zeros((2, 0)), np.zeros((2, 0))), (np.zeros((2, 0)), np.zeros((0, 2))),
             (np.array([True]), np.array([1.0])), (np.array([0.1], np.float32), np.array([0.1])),
             (np.ones((3, 2)), np.ones((3, 2)).T.copy().T)]
    for a, b in cases:
        want = torch.equal(torch.tensor(a), torch.tensor(b))
        got = cgrad.equal(cgrad.tensor(a), cgrad.tensor(b))
        assert type(got) is bool and got == want, (a, b)
        assert cgrad.tensor(a).equal(cgrad.tensor(b)) == want
    t = cgrad.ones(2, 3)
    assert cgrad.equal(t.t(), cgrad.ones(3, 2))     # strided input
    same_error(lambda lib, x: lib.equal(x, 1), rand(2))
    same_error(lambda lib, x: x.equal(1), rand(2))
    same_error(lambda lib, x: lib.equal(1, x), rand(2))


# ---------------------------------------------------------------------------
# clamp / clip / clamp_min / clamp_max

X_EDGES = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, NAN, np.inf, -np.inf], np.float32)

CLAMP_NUMBERS = {
    "both": lambda lib, x: x.clamp(-0.5, 1.0),
    "min_only": lambda lib, x: x.clamp(0.0),
    "max_kw": lambda lib, x: x.clamp(max=0.5),
    "int_bounds": lambda lib, x: x.clamp(-1, 1),
    "bool_bound": lambda lib, x: x.clamp(True),
    "min_gt_max": lambda lib, x: x.clamp(1.0, -1.0),
    "nan_min": lambda lib, x: x.clamp(min=NAN),
    "nan_max": lambda lib, x: x.clamp(0.0, NAN),
    "inf_bounds": lambda lib, x: x.clamp(-float("inf"), float("inf")),
    "clamp_min": lambda lib, x: x.clamp_min(0.5),
    "clamp_max": lambda lib, x: x.clamp_max(-0.5),
    "clip": lambda lib, x: x.clip(-1.0, 0.0),
    "clip_max": lambda lib, x: x.clip(max=1.0),
    "fn_clamp": lambda lib, x: lib.clamp(x, -1.0, 0.5),
    "fn_clamp_kw": lambda lib, x: lib.clamp(x, max=0.5),
    "fn_clip": lambda lib, x: lib.clip(x, min=0.0),
    "fn_clamp_min": lambda lib, x: lib.clamp_min(x, 0.0),
    "fn_clamp_max": lambda lib, x: lib.clamp_max(x, 1),
    "numpy_bounds": lambda lib, x: x.clamp(np.float64(-0.5), np.int64(1)),
    "zerodim_bound": lambda lib, x: x.clamp(lib.tensor(0.0), 1.0),        # taken as a Number
    "zerodim_both": lambda lib, x: lib.clamp(x, -1.0, lib.tensor(0.5, dtype=lib.float64)),
}


@pytest.mark.parametrize("name", sorted(CLAMP_NUMBERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clamp_number_bounds(name, dtype):
    # the values hit the bounds exactly: torch passes the gradient there
    compare_with_torch(CLAMP_NUMBERS[name], X_EDGES.astype(dtype))


@pytest.mark.parametrize("name", sorted(CLAMP_NUMBERS))
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (3, 1)])
def test_clamp_number_bounds_shapes(name, shape):
    # values on the bounds: no finite differences there
    compare_with_torch(CLAMP_NUMBERS[name], ties(*shape, seed=8), gradcheck=False)


def test_clamp_noncontiguous_and_large():
    big = rand(300, 200, seed=9)              # GIL-released path
    compare_with_torch(lambda lib, x: x.t().clamp(-0.5, 0.5) * 2, big)
    compare_with_torch(lambda lib, x: x.t().clamp_min(NAN), rand(3, 4, seed=9))


@requires_torch
@pytest.mark.parametrize("dtype", [np.int64, bool])
@pytest.mark.parametrize("bounds", [(0, 1), (0.5, None), (None, 2.5), (True, None), (False, True),
                                    (None, True), (-1, 2 ** 40), (2, 1)])
def test_clamp_number_bounds_dtypes(dtype, bounds):
    x = np.array([-2, -1, 0, 1, 3]).astype(dtype)
    check(lambda lib, t: t.clamp(*bounds), x)
    if bounds[0] is not None:
        check(lambda lib, t: t.clamp_min(bounds[0]), x)
    if bounds[1] is not None:
        check(lambda lib, t: t.clamp_max(bounds[1]), x)


CLAMP_TENSORS = {
    "both": lambda lib, x, lo, hi: x.clamp(lo, hi),
    "min_only": lambda lib, x, lo, hi: x.clamp(lo),
    "max_only": lambda lib, x, lo, hi: x.clamp(max=hi),
    "clamp_min": lambda lib, x, lo, hi: x.clamp_min(lo),
    "clamp_max": lambda lib, x, lo, hi: lib.clamp_max(x, hi),
    "swapped": lambda lib, x, lo, hi: lib.clamp(x, hi, lo),          # min > max in places
    "clip": lambda lib, x, lo, hi: lib.clip(x, lo, hi),
}
CLAMP_SHAPES = [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((3,), (2, 3), ()),
                ((), (4,), (2, 1)), ((2, 0), (1,), (2, 1)), ((1, 3), (2, 1), (3,))]


@requires_torch
@pytest.mark.parametrize("name", sorted(CLAMP_TENSORS))
@pytest.mark.parametrize("shapes", CLAMP_SHAPES)
def test_clamp_tensor_bounds(name, shapes):
    x = ties(*shapes[0], seed=10)
    lo = np.asarray(ties(*shapes[1], seed=11) - 0.5)
    hi = np.asarray(ties(*shapes[2], seed=12) + 0.5)
    try:
        ins = make_inputs(torch, (x, lo, hi), True)
        CLAMP_TENSORS[name](torch, *ins).sum().backward()
    except RuntimeError as e:
        # torch's clamp backward combines its masks in place and fails when
        # the output is larger than x's and one bound's mask: cgrad gives
        # the gradient (checked by gradcheck below); compare the forward only
        assert "doesn't match the broadcast shape" in str(e)
        compare_with_torch(CLAMP_TENSORS[name], x, lo, hi, requires_grad=False)
        check_gradients(CLAMP_TENSORS[name], *_apart_like(x, lo, hi))
        return
    compare_with_torch(CLAMP_TENSORS[name], x, lo, hi)


def _apart_like(*arrays):
    """Arrays of the given shapes whose values are all at least 0.3 apart."""
    sizes = [a.size for a in arrays]
    vals = np.random.default_rng(0).permutation(sum(sizes)) * 0.3
    out, k = [], 0
    for a, n in zip(arrays, sizes):
        out.append(vals[k:k + n].reshape(a.shape))
        k += n
    return out


def test_clamp_tensor_bounds_nan_and_edges():
    x = np.array([0.0, 0.5, 0.5, 1.0, NAN, -1.0, 2.0], np.float32)
    lo = np.array([0.0, NAN, 0.0, 1.0, 0.0, 0.0, 1.0], np.float32)
    hi = np.array([1.0, 1.0, NAN, 1.0, 1.0, 0.5, 0.0], np.float32)
    for name in sorted(CLAMP_TENSORS):
        compare_with_torch(CLAMP_TENSORS[name], x, lo, hi)


def test_clamp_tensor_bounds_dtypes_and_edges():
    f32 = np.array([0.1, 0.2, 0.3], np.float32)
    compare_with_torch(lambda lib, x, lo: x.clamp(lo), f32, np.array(0.15))            # 0-d f64
    compare_with_torch(lambda lib, x, lo: x.clamp(lo), f32, np.array([0.15]))          # f64: promotes
    compare_with_torch(lambda lib, x, lo, hi: x.clamp(lo, hi), f32, np.array([0.15]), np.array([1], np.int64))
    compare_with_torch(lambda lib, x, lo: lib.clamp(x, min=lo), np.array([-1, 0, 5]), np.array(0.5, np.float32))
    compare_with_torch(lambda lib, x, lo: lib.clamp(x, min=lo), np.zeros(3, bool), np.array([2]))
    compare_with_torch(lambda lib, x, lo: x.clamp(lo), np.array([True, False]), np.array(False))
    compare_with_torch(lambda lib, x, hi: x.clamp_max(hi), np.array([True, False]), np.array([False, True]))
    # which inputs get edges: torch keeps a None edge for an absent bound
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    m = cgrad.tensor([0.5], requires_grad=True)
    assert edge_names(x.clamp(m)) == ["AccumulateGrad", "AccumulateGrad", None]
    assert edge_names(x.clamp(max=m)) == ["AccumulateGrad", None, "AccumulateGrad"]
    assert edge_names(x.clamp_min(m)) == ["AccumulateGrad", "AccumulateGrad"]
    assert edge_names(cgrad.clamp(x, cgrad.tensor(0.0), cgrad.tensor(1.0))) == ["AccumulateGrad", None, None]


@pytest.mark.parametrize("name", sorted(n for n in CLAMP_NUMBERS if "nan" not in n))
def test_clamp_number_bounds_gradcheck(name):
    x = np.array([-1.7, -1.2, -0.8, -0.3, 0.2, 0.7, 1.2, 1.7])   # 0.2 away from every bound
    check_gradients(CLAMP_NUMBERS[name], x)


def _apart(*shape, seed):
    """x, lo, hi at least 0.3 apart everywhere (no ties for gradcheck)."""
    n = int(np.prod(shape))
    x, lo, hi = (np.random.default_rng(seed).permutation(3 * n) * 0.3 - 0.45 * n).reshape((3,) + shape)
    return x, lo, hi


@pytest.mark.parametrize("name", sorted(CLAMP_TENSORS))
def test_clamp_tensor_bounds_gradcheck(name):
    x, lo, hi = _apart(2, 3, seed=13)
    check_gradients(CLAMP_TENSORS[name], x, lo, hi)
    # broadcast bounds
    check_gradients(CLAMP_TENSORS[name], x, lo[0], hi[:, :1])


def test_clamp_second_order():
    x = np.array([-1.7, -0.3, 0.4, 1.3])
    lo = np.array([-1.0, 0.1, -0.2, 0.2])
    hi = np.array([1.0])
    second_order_check(lambda t: (t.clamp(-1.0, 1.0) * t * t).sum(), x)
    second_order_check(lambda t, a, b: (t.clamp(a, b) * t * a * b).sum(), x, lo, hi)
    second_order_check(lambda t, a: (t.clamp_min(a) ** 2 * a).sum(), x, lo)
    second_order_check(lambda t, b: (t.clamp_max(b) ** 2 * b).sum(), x, hi)


def test_clamp_double_backward_matches_torch():
    def fn(lib, x, lo):
        y = (x.clamp(-0.5, 1.0) * x).sum() + (x.clamp_min(lo) * lo * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        return (g * g).sum()
    compare_with_torch(fn, ties(2, 3, seed=14), ties(3, seed=15), gradcheck=False)   # ties on the bounds


@requires_torch
def test_clamp_errors():
    x = rand(3)
    same_error(lambda lib, t: t.clamp(), x)
    same_error(lambda lib, t: lib.clamp(t), x)
    same_error(lambda lib, t: t.clip(None, None), x)
    same_error(lambda lib, t: t.clamp(0.0, "a"), x)
    same_error(lambda lib, t: t.clamp("a"), x)
    same_error(lambda lib, t: t.clamp(lib.tensor([0.0]), 1.0), x)      # tensor and number bounds
    same_error(lambda lib, t: t.clip("a", 1.0), x)
    same_error(lambda lib, t: lib.clamp(t, 0.0, lib.tensor([1.0])), x)
    same_error(lambda lib, t: lib.clamp(t, "a"), x)
    same_error(lambda lib, t: lib.clamp("a", 0.0), x)
    same_error(lambda lib, t: lib.clip(t, "a"), x)
    same_error(lambda lib, t: t.clamp_min(None), x)
    same_error(lambda lib, t: t.clamp_max("a"), x)
    same_error(lambda lib, t: lib.clamp_min(t, None), x)
    same_error(lambda lib, t: lib.clamp_max(t, "a"), x)
    same_error(lambda lib, t: t.clamp(lib.tensor(0.0, requires_grad=True), 1.0), x)   # not a Number
    same_error(lambda lib, t, lo: t.clamp(lo), x, rand(2))
    same_error(lambda lib, t, lo, hi: t.clamp(lo, hi), x, rand(3), rand(2))
    same_error(lambda lib, t, lo, hi: t.clamp(lo, hi), rand(2, 3), rand(3, 4), rand(3))
    same_error(lambda lib, t: t.clamp(2 ** 64), x)
    same_error(lambda lib, t: t.clamp(-2 ** 63 - 1), x)
    same_error(lambda lib, t: t.clamp(2 ** 63), np.array([1, 2]))
    same_error(lambda lib, t: t.clamp(False, True), np.array([True]))
    same_error(lambda lib, t: t.clamp(True), np.array([True]))
    same_error(lambda lib, t: t.clamp_max(True), np.array([True]))
    same_error(lambda lib, t, lo, hi: t.clamp(lo, hi), np.array([True]), np.array([True]), np.array(False))
    out = cgrad.ones(2)                          # out= is written into and returned, as in PyTorch
    assert cgrad.clamp(cgrad.tensor([-1.0, 3.0]), 0, 2, out=out) is out
    assert out.tolist() == [0.0, 2.0]


def test_clamp_large_bounds_on_floats():
    # (without torch: the values against numpy, which clips in float64 too)
    compare_with_torch(lambda lib, x: x.clamp(2 ** 63), np.array([1.0, 1e19]),
                       reference=lambda x: np.maximum(x, 2.0 ** 63), gradcheck=False)
    compare_with_torch(lambda lib, x: x.clamp(max=2 ** 64 - 1), np.array([1.0, 1e20]),
                       reference=lambda x: np.minimum(x, 2.0 ** 64), gradcheck=False)
    compare_with_torch(lambda lib, x: x.clamp(1.5, 2 ** 63), np.array([1, 2]))


@pytest.mark.parametrize("name", ["clamp_", "clip_", "clamp_min_", "clamp_max_", "fn_clamp_", "tensor"])
def test_clamp_inplace(name):
    def fn(lib, x, lo):
        y = x * 2
        if name == "clamp_":
            r = y.clamp_(-0.5, 1.0)
        elif name == "clip_":
            r = y.clip_(max=0.5)
        elif name == "clamp_min_":
            r = y.clamp_min_(0.0)
        elif name == "clamp_max_":
            r = y.clamp_max_(0.5)
        elif name == "fn_clamp_":
            r = lib.clamp_(y, min=-1.0)
        else:
            r = y.clamp_(lo)
        assert r is y and y._version == 1
        return y * x
    compare_with_torch(fn, ties(2, 3, seed=16), ties(3, seed=17), gradcheck=False)   # ties on the bounds


@requires_torch
def test_clamp_inplace_without_history_and_errors():
    for lib in (cgrad, torch):
        w = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        with lib.no_grad():
            r = w.clamp_(0.0, 1.0)
        assert r is w and w.tolist() == [0.0, 0.5, 1.0] and w.grad_fn is None and w._version == 1
        t = lib.tensor([-1.0, 0.5, 2.0])
        m = lib.tensor([0.0], requires_grad=True)
        t.clamp_(m)
        assert type(t.grad_fn).__name__ == "ClampBackward0" and t.requires_grad
    same_error(lambda lib, t: t.clamp_(0.0), rand(3))                            # leaf requires grad
    same_error(lambda lib, t: t.clamp_(0.5), np.array([1, 2]))
    same_error(lambda lib, t, lo: t.clamp_(lo), np.array([1, 2]), np.array([0.5]))
    same_error(lambda lib, t, lo: t.clamp_(lo), rand(3), rand(2, 3), requires_grad=False)
    i = cgrad.tensor([1, 2])
    with pytest.raises(RuntimeError):
        i.clamp_(0.5)
    assert i.tolist() == [1, 2] and i._version == 0


# ---------------------------------------------------------------------------
# maximum, minimum, fmax, fmin

MAXMIN = ["maximum", "minimum", "fmax", "fmin"]


@pytest.mark.parametrize("name", MAXMIN)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
def test_maxmin_broadcast_with_ties(name, shapes):
    a, b = ties(*shapes[0], seed=18), ties(*shapes[1], seed=19)   # ties: gradient split as torch does
    # without torch: the values against numpy's (no finite differences at ties)
    reference = {"maximum": np.maximum, "minimum": np.minimum, "fmax": np.fmax, "fmin": np.fmin}[name]
    compare_with_torch(lambda lib, x, y: getattr(lib, name)(x, y), a, b, reference=reference, gradcheck=False)
    compare_with_torch(lambda lib, x, y: getattr(x, name)(y), a, b, reference=reference, gradcheck=False)


@pytest.mark.parametrize("name", MAXMIN)
def test_maxmin_nan_and_ties(name):
    a = np.array([1.0, 2.0, 3.0, NAN, 1.0, NAN, -np.inf], np.float32)
    b = np.array([1.0, 1.0, 4.0, 1.0, NAN, NAN, -np.inf], np.float32)
    compare_with_torch(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    compare_with_torch(lambda lib, x, y: getattr(lib, name)(x, y) * x, a, b)


@pytest.mark.parametrize("name", MAXMIN)
def test_maxmin_dtypes(name):
    cases = [(np.array([1, 5, -2]), np.array([3, 0, -2])), (np.array([True, False]), np.array([False, False])),
             (np.array([1, 2]), np.array([1.5], np.float32)), (np.array([1, 2]), np.array(1.5)),
             (ties(3, seed=20), ties(3, seed=21, dtype=np.float64)), (ties(3, seed=20), np.array(0.5)),
             (np.array([True, False]), np.array(3)), (ties(2, seed=22), np.array([True, False]))]
    for a, b in cases:   # ties among them
        compare_with_torch(lambda lib, x, y: getattr(lib, name)(x, y), a, b, gradcheck=False)


@pytest.mark.parametrize("name", MAXMIN)
def test_maxmin_gradcheck(name):
    a = np.array([[0.1, -1.3, 2.2], [0.5, 0.9, -0.4]])
    b = np.array([0.4, -1.0, 1.9])
    check_gradients(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    check_gradients(lambda lib, x, y: getattr(lib, name)(x, y) * y, a, b)
    second_order_check(lambda x, y: (getattr(cgrad, name)(x, y) * x * y).sum(), a, b)


@pytest.mark.parametrize("name", MAXMIN)
def test_maxmin_double_backward_matches_torch(name):
    def fn(lib, x, y):
        z = (getattr(lib, name)(x, y) * x * y).sum()
        gx, gy = lib.autograd.grad(z, (x, y), create_graph=True)
        return (gx * gy).sum()
    compare_with_torch(fn, ties(2, 3, seed=23), ties(3, seed=24))


@requires_torch
@pytest.mark.parametrize("name", MAXMIN)
def test_maxmin_errors(name):
    same_error(lambda lib, x: getattr(lib, name)(x, 1.0), rand(2))
    same_error(lambda lib, x: getattr(x, name)(1.0), rand(2))
    same_error(lambda lib, x: getattr(lib, name)(1.0, x), rand(2))
    same_error(lambda lib, x, y: getattr(lib, name)(x, y), rand(2, 3), rand(3, 4))


# ---------------------------------------------------------------------------
# where

WHERE = {
    "tt": lambda lib, c, x, y: lib.where(c, x, y),
    "ts": lambda lib, c, x, y: lib.where(c, x, 2.5),
    "st": lambda lib, c, x, y: lib.where(c, -1, y),
    "ss_float": lambda lib, c, x, y: lib.where(c, 1.0, 2),
    "ss_int": lambda lib, c, x, y: lib.where(c, 1, 2),
    "ss_bool": lambda lib, c, x, y: lib.where(c, True, False),
    "method": lambda lib, c, x, y: x.where(c, y),
    "method_number": lambda lib, c, x, y: x.where(c, 0),
    "self_cond": lambda lib, c, x, y: lib.where(x > 0, x, y),
}
WHERE_SHAPES = [((2, 3), (2, 3), (2, 3)), ((3,), (2, 3), (2, 1)), ((2, 1), (3,), ()),
                ((), (2,), (2,)), ((1, 0), (2, 1), (1,)), ((2, 3), (), ())]


@pytest.mark.parametrize("name", sorted(WHERE))
@pytest.mark.parametrize("shapes", WHERE_SHAPES)
def test_where(name, shapes):
    c = np.random.default_rng(25).integers(0, 2, size=shapes[0]).astype(bool)
    compare_with_torch(WHERE[name], c, ties(*shapes[1], seed=26), ties(*shapes[2], seed=27),
                       gradcheck=name != "self_cond")   # x > 0 at x == 0: a kink


def test_where_promotion_and_edges():
    c = np.array([True, False])
    f, i, b = np.array([1.0, 2.0], np.float32), np.array([1, 2]), np.array([True, True])
    pairs = [(f, np.array([3.0, 4.0])), (f, i), (i, b), (f, np.array(3.0)), (i, np.array(3.0)),
             (b, np.array(3)), (np.array(3.0), np.array(3)), (f, np.array([True, False]))]
    for x, y in pairs:
        compare_with_torch(lambda lib, cc, xx, yy: lib.where(cc, xx, yy), c, x, y)
        compare_with_torch(lambda lib, cc, xx, yy: lib.where(cc, yy, xx), c, x, y)
    for s1, s2 in [(1, 2.5), (True, 2), (1.5, np.float64(2)), (np.int64(3), False)]:
        for x in (f, i, b, np.array(3), np.array(3.0)):
            compare_with_torch(lambda lib, cc, xx: lib.where(cc, xx, s1), c, x)
            compare_with_torch(lambda lib, cc, xx: lib.where(cc, s2, xx), c, x)
        compare_with_torch(lambda lib, cc: lib.where(cc, s1, s2), c)
    compare_with_torch(lambda lib, cc: lib.where(cc, 1.0, 2.0), np.array(True))
    # the node's edges: a number gets none; a promoted tensor its own leaf
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    cc = cgrad.tensor([True, False])
    assert edge_names(cgrad.where(cc, x, 1.5)) == ["AccumulateGrad", None]
    assert edge_names(cgrad.where(cc, 1.5, x)) == [None, "AccumulateGrad"]
    assert edge_names(cgrad.where(cc, x, cgrad.tensor([1.0, 2.0], dtype=cgrad.float64))) == ["AccumulateGrad", None]


def test_where_gradcheck():
    c = np.array([[True, False, True], [False, False, True]])
    check_gradients(lambda lib, cc, x, y: lib.where(cc, x, y), c, rand(2, 3, seed=28), rand(3, seed=29))
    check_gradients(lambda lib, cc, x: lib.where(cc, x, 0.5) * x, c, rand(1, 3, seed=30))
    check_gradients(lambda lib, cc, y: y.where(cc, -2), c, rand(2, 1, seed=31))


@requires_torch
def test_where_errors():
    c = np.array([True, False, True])
    same_error(lambda lib, x: lib.where(x, x, x), rand(3))
    same_error(lambda lib, x: lib.where(x.long(), x, x), rand(3))
    same_error(lambda lib, cc, x: lib.where(cc, x, "a"), c, rand(3))
    same_error(lambda lib, cc, x: lib.where(cc, x), c, rand(3))
    same_error(lambda lib, cc, x: lib.where(1, x, x), c, rand(3))
    same_error(lambda lib, cc, x: x.where(cc, "a"), c, rand(3))
    same_error(lambda lib, cc, x: x.where(1, 2.0), c, rand(3))
    same_error(lambda lib, cc, x, y: lib.where(cc, x, y), c, rand(2), rand(3))    # order: cond, input, other
    same_error(lambda lib, cc, x, y: lib.where(cc, x, y), c, rand(3), rand(2))
    same_error(lambda lib, cc, x, y: lib.where(cc, x, y), np.ones(2, bool), rand(3), rand(3))
    same_error(lambda lib, cc, x, y: lib.where(cc, x, y), np.ones((2, 3), bool), rand(3, 4), rand(3))
    same_error(lambda lib, cc, x: lib.where(cc, x, 2 ** 63), c, np.array([1, 2, 3]))
    same_error(lambda lib, cc, x: lib.where(cc, x, 2 ** 64), c, np.array([1, 2, 3]))
    # where(condition) alone is nonzero(condition, as_tuple=True)
    assert [t.tolist() for t in cgrad.where(cgrad.tensor(c))] == [[0, 2]]


# ---------------------------------------------------------------------------
# logical and bitwise ops

DT_ARRAYS = {
    "f32": np.array([0.0, 1.5, -2.0, NAN], np.float32), "f64": np.array([0.0, 0.0, 1e-300, 3.0]),
    "i64": np.array([0, 3, -5, 6]), "bool": np.array([False, True, True, False]),
}


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@pytest.mark.parametrize("da", sorted(DT_ARRAYS))
@pytest.mark.parametrize("db", sorted(DT_ARRAYS))
def test_logical_binary(name, da, db):
    a, b = DT_ARRAYS[da], DT_ARRAYS[db]
    compare_with_torch(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    compare_with_torch(lambda lib, x, y: getattr(x, name)(y), a.reshape(4, 1), b)
    compare_with_torch(lambda lib, x, y: getattr(lib, name)(x, y), a, np.asarray(b[1]))


@requires_torch
@pytest.mark.parametrize("da", sorted(DT_ARRAYS))
def test_logical_not_and_invert(da):
    a = DT_ARRAYS[da]
    compare_with_torch(lambda lib, x: lib.logical_not(x), a)
    compare_with_torch(lambda lib, x: x.logical_not(), a.reshape(2, 2).T)
    check(lambda lib, x: ~x, a)
    check(lambda lib, x: x.bitwise_not(), a)
    check(lambda lib, x: lib.bitwise_not(x), a)


BITWISE_OPS = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b}


@requires_torch
@pytest.mark.parametrize("op", sorted(BITWISE_OPS))
@pytest.mark.parametrize("da", sorted(DT_ARRAYS))
@pytest.mark.parametrize("db", sorted(DT_ARRAYS))
def test_bitwise_tensors(op, da, db):
    a, b = DT_ARRAYS[da], DT_ARRAYS[db]
    check(lambda lib, x, y: BITWISE_OPS[op](x, y), a, b, requires_grad=False)
    check(lambda lib, x, y: BITWISE_OPS[op](x, y), a.reshape(4, 1), np.asarray(b[2]), requires_grad=False)
    check(lambda lib, x, y: getattr(lib, "bitwise_" + op)(x, y), a, b, requires_grad=False)
    check(lambda lib, x, y: getattr(x, "bitwise_" + op)(y), a, b, requires_grad=False)


@requires_torch
@pytest.mark.parametrize("op", sorted(BITWISE_OPS))
@pytest.mark.parametrize("da", ["i64", "bool"])
@pytest.mark.parametrize("s", [True, False, 3, -1, 0, 2 ** 63, 1.5])
def test_bitwise_numbers(op, da, s):
    a = DT_ARRAYS[da]
    check(lambda lib, x: BITWISE_OPS[op](x, s), a)
    check(lambda lib, x: BITWISE_OPS[op](s, x), a)
    check(lambda lib, x: getattr(lib, "bitwise_" + op)(s, x), a)
    check(lambda lib, x: getattr(x, "bitwise_" + op)(s), a)


@requires_torch
def test_logical_bitwise_errors():
    same_error(lambda lib, x: lib.logical_and(x, 1), rand(2))
    same_error(lambda lib, x: x.logical_or(1), rand(2))
    same_error(lambda lib, x: lib.logical_not(1), rand(2))
    same_error(lambda lib, x: lib.bitwise_not("a"), rand(2))
    same_error(lambda lib, x: lib.bitwise_and(x, "a"), np.array([1, 2]))
    same_error(lambda lib, x: lib.bitwise_or("a", x), np.array([1, 2]))
    same_error(lambda lib, x: x.bitwise_xor("a"), np.array([1, 2]))
    same_error(lambda lib, x, y: x & y, np.array([1, 2]), np.array([1, 2, 3]))
    same_error(lambda lib, x, y: lib.logical_xor(x, y), rand(2, 3), rand(3, 4))
    for bad in ("a", None):
        with pytest.raises(TypeError, match="unsupported operand type"):
            cgrad.tensor([True]) & bad


@requires_torch
@pytest.mark.parametrize("op", ["__iand__", "__ior__", "__ixor__"])
def test_bitwise_inplace(op):
    for a, b in [(np.array([True, False]), np.array([True, True])), (np.array([1, 6]), np.array([3, 3])),
                 (np.array([1, 6]), True), (np.array([True, False]), np.array(True)),
                 (np.array([[1, 6]]), np.array([[2], [3]])), (np.array([True, False]), np.array([1, 1])),
                 (np.array([True, False]), 2)]:
        def fn(lib, x, y=None):
            y = b if y is None else y
            v = x._version
            r = getattr(x, op)(y)
            assert r is x and x._version == v + 1
            return x
        if isinstance(b, np.ndarray):
            check(fn, a, b, requires_grad=False)
        else:
            check(fn, a, requires_grad=False)
    x = cgrad.tensor([True, False])
    x &= cgrad.tensor([False, True])
    assert x.tolist() == [False, False]


# ---------------------------------------------------------------------------
# Large (GIL-released, vectorised) and strided inputs

def _big(seed, nan=True):
    a = ties(200, 170, seed=seed)
    if nan:
        a[::7, ::5] = NAN
    return a


LARGE = {
    "lt_scalar": lambda lib, x, y, c: x.t() < 0.5,
    "ge_tensor": lambda lib, x, y, c: x >= y,
    "eq_strided": lambda lib, x, y, c: x.t() == y.t(),
    "ne_bcast": lambda lib, x, y, c: x != y.sum(0, keepdim=True),
    "maximum": lambda lib, x, y, c: lib.maximum(x, y) * x,
    "minimum_strided": lambda lib, x, y, c: lib.minimum(x.t(), y.t()) * y.t(),
    "fmax_bcast": lambda lib, x, y, c: lib.fmax(x, y.sum(0)),
    "fmin": lambda lib, x, y, c: lib.fmin(x, y) * x,
    "clamp_tensor": lambda lib, x, y, c: x.clamp(y, y + 1),
    "clamp_min_tensor": lambda lib, x, y, c: x.clamp_min(y.t().t()),
    "where": lambda lib, x, y, c: lib.where(c, x, y),
    "where_scalar": lambda lib, x, y, c: lib.where(c, x, 0.25),
    "where_scalar_first": lambda lib, x, y, c: lib.where(c.t(), -1.0, y.t()),
    "where_strided": lambda lib, x, y, c: lib.where(c.t(), x.t(), y.t()),
    "logical_and": lambda lib, x, y, c: lib.logical_and(x, y),
    "logical_not": lambda lib, x, y, c: lib.logical_not(x.t()),
    "bitwise": lambda lib, x, y, c: (c & (x > 0)) | (~c ^ (y < 0)).t().t(),
}


@pytest.mark.parametrize("name", sorted(LARGE))
def test_large_and_strided_inputs(name):
    c = np.random.default_rng(40).integers(0, 2, size=(200, 170)).astype(bool)
    compare_with_torch(LARGE[name], _big(41), _big(42), c)
    # ties everywhere: no finite differences without torch
    compare_with_torch(LARGE[name], _big(41, nan=False).astype(np.float64), _big(42, nan=False), c,
                       gradcheck=False)


@requires_torch
def test_inplace_on_strided_views_without_history():
    for lib in (cgrad, torch):
        base = lib.tensor(ties(3, 4, seed=43))
        with lib.no_grad():
            base.t().clamp_(-0.5, 0.5)
        m = lib.tensor(ties(4, 3, seed=44) > 0)
        v = m.t()
        v &= lib.tensor(ties(3, 4, seed=45) > 0)
        if lib is cgrad:
            got = (base.numpy().copy(), m.numpy().copy())
        else:
            want = (base.numpy().copy(), m.numpy().copy())
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
