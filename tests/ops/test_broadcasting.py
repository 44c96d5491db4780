"""Property tests (hypothesis) of the broadcasting and dtype-promotion rules
of the binary pointwise ops against torch: shapes that broadcast and shapes
that do not (the error text must be torch's), over float32/float64/int64/
bool tensors, zero-dim tensors and Python numbers on either side."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cgrad
from helpers import requires_torch, torch


DTYPES = ["float32", "float64", "int64", "bool"]

# op name -> fn(lib, a, b); a and b are tensors or Python numbers
BINARY = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "pow": lambda lib, a, b: a ** b,
    "lt": lambda lib, a, b: a < b,
    "le": lambda lib, a, b: a <= b,
    "gt": lambda lib, a, b: a > b,
    "ge": lambda lib, a, b: a >= b,
    "eq": lambda lib, a, b: a == b,
    "ne": lambda lib, a, b: a != b,
}
# ops that take two tensors only
TENSOR_BINARY = {
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b),
    "fmax": lambda lib, a, b: lib.fmax(a, b),
    "logical_xor": lambda lib, a, b: lib.logical_xor(a, b),
    "clamp_min": lambda lib, a, b: lib.clamp_min(a, b),
}
FOUNDATION_OPS = {"add", "sub", "mul", "div", "pow"}


def array_of(rng, dtype, shape):
    if dtype == "bool":
        return np.asarray(rng.integers(0, 2, size=shape).astype(bool))
    if dtype == "int64":
        return np.asarray(rng.integers(-3, 4, size=shape).astype(np.int64))
    # small integers and halves: ties for the comparisons, exact products
    return np.asarray((rng.integers(-6, 7, size=shape) / 2).astype(dtype))


def scalar_of(rng, kind):
    if kind == "bool":
        return bool(rng.integers(0, 2))
    if kind == "int":
        return int(rng.integers(-3, 4))
    return float(rng.integers(-6, 7) / 2)


@st.composite
def shape_pairs(draw, broadcastable):
    """Two shapes of rank 0..4 with dims 0..3: broadcastable ones derived
    from a common shape, others drawn freely (filtered to mismatch)."""
    dims = st.integers(0, 3)
    if broadcastable:
        out = draw(st.lists(dims, min_size=0, max_size=4))
        shapes = []
        for _ in range(2):
            lead = draw(st.integers(0, len(out)))
            shapes.append(tuple(1 if draw(st.booleans()) else d for d in out[lead:]))
        return tuple(shapes)
    a = draw(st.lists(dims, min_size=1, max_size=4))
    b = draw(st.lists(dims, min_size=1, max_size=4))
    try:
        np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        return tuple(a), tuple(b)
    # force a mismatch in the last dimension
    if a[-1] == 1:
        a[-1] = 2
    b[-1] = 3 if a[-1] == 2 else 2
    return tuple(a), tuple(b)


def is_bool(spec):
    kind, value = spec
    return isinstance(value, bool) if kind == "scalar" else value.dtype == bool


def mismatched_dims(sa, sb):
    n = max(len(sa), len(sb))
    sa = (1,) * (n - len(sa)) + tuple(sa)
    sb = (1,) * (n - len(sb)) + tuple(sb)
    return [i for i in range(n) if sa[i] != sb[i] and sa[i] != 1 and sb[i] != 1]


def make(lib, spec):
    kind, value = spec
    if kind == "tensor":
        return lib.tensor(value)
    return value


def run(fn, *specs):
    try:
        return fn(torch, *[make(torch, s) for s in specs]), None
    except Exception as e:  # noqa: BLE001 - the oracle's error is the expectation
        return None, e


def check_against_torch(fn, *specs):
    expected, error = run(fn, *specs)
    args = [make(cgrad, s) for s in specs]
    if error is not None:
        with pytest.raises(type(error)) as info:
            fn(cgrad, *args)
        assert str(info.value) == str(error).replace("torch.", "cgrad."), str(info.value)
        return
    got = fn(cgrad, *args)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(expected.shape)
    want = expected.numpy()
    have = got.numpy()
    if want.dtype.kind == "f":
        np.testing.assert_allclose(have, want, rtol=1e-6, atol=1e-6, equal_nan=True)
    else:
        np.testing.assert_array_equal(have, want)


operand_kinds = st.sampled_from(["tensor", "zerodim", "int", "float", "bool"])


def spec_of(rng, kind, dtype, shape):
    if kind == "tensor":
        return ("tensor", array_of(rng, dtype, shape))
    if kind == "zerodim":
        return ("tensor", np.asarray(array_of(rng, dtype, ())))
    return ("scalar", scalar_of(rng, kind))


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@requires_torch
@SETTINGS
@given(name=st.sampled_from(sorted(BINARY)), shapes=shape_pairs(True),
       da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES), kind=operand_kinds,
       scalar_first=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_binary_broadcast_and_promotion(name, shapes, da, db, kind, scalar_first, seed):
    rng = np.random.default_rng(seed)
    a = spec_of(rng, "tensor", da, shapes[0])
    b = spec_of(rng, kind, db, shapes[1])
    if scalar_first and kind not in ("tensor", "zerodim"):
        a, b = b, a
    check_against_torch(BINARY[name], a, b)


@requires_torch
@pytest.mark.parametrize("case", ["t-s", "s-t", "t**s", "s**t", "t**t"])
def test_foundation_bool_bool_cases(case):
    fn = {"t-s": lambda lib, a, b: a - b, "s-t": lambda lib, a, b: b - a, "t**s": lambda lib, a, b: a ** b,
          "s**t": lambda lib, a, b: b ** a, "t**t": lambda lib, a, b: a ** a}[case]
    check_against_torch(fn, ("tensor", np.array([True, False])), ("scalar", True))


@requires_torch
@SETTINGS
@given(name=st.sampled_from(sorted(TENSOR_BINARY)), shapes=shape_pairs(True),
       da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES), zerodim=st.sampled_from([None, 0, 1]),
       seed=st.integers(0, 2 ** 16))
def test_tensor_binary_broadcast_and_promotion(name, shapes, da, db, zerodim, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes
    if zerodim == 0:
        sa = ()
    elif zerodim == 1:
        sb = ()
    check_against_torch(TENSOR_BINARY[name], spec_of(rng, "tensor", da, sa), spec_of(rng, "tensor", db, sb))


@requires_torch
@SETTINGS
@given(name=st.sampled_from(sorted(BINARY) + sorted(TENSOR_BINARY)), shapes=shape_pairs(False),
       seed=st.integers(0, 2 ** 16))
def test_shapes_that_do_not_broadcast(name, shapes, seed):
    rng = np.random.default_rng(seed)
    fn = BINARY.get(name) or TENSOR_BINARY[name]
    check_against_torch(fn, spec_of(rng, "tensor", "float32", shapes[0]),
                        spec_of(rng, "tensor", "float32", shapes[1]))


@requires_torch
@pytest.mark.parametrize("name", sorted(FOUNDATION_OPS))
def test_foundation_ops_name_the_rightmost_mismatch(name):
    rng = np.random.default_rng(0)
    check_against_torch(BINARY[name], spec_of(rng, "tensor", "float32", (2, 3)),
                        spec_of(rng, "tensor", "float32", (3, 4)))


@requires_torch
@pytest.mark.parametrize("name", sorted(set(BINARY) - FOUNDATION_OPS) + sorted(TENSOR_BINARY))
def test_comparison_family_names_the_rightmost_mismatch(name):
    rng = np.random.default_rng(0)
    fn = BINARY.get(name) or TENSOR_BINARY[name]
    for sa, sb in [((2, 3), (3, 4)), ((2, 3, 5), (3, 4, 5)), ((4, 2, 1), (3, 1, 3))]:
        check_against_torch(fn, spec_of(rng, "tensor", "float64", sa), spec_of(rng, "tensor", "int64", sb))


@requires_torch
@SETTINGS
@given(shapes=st.tuples(st.lists(st.integers(0, 3), max_size=3), st.lists(st.integers(0, 3), max_size=3),
                        st.lists(st.integers(0, 3), max_size=3)),
       kinds=st.tuples(operand_kinds, operand_kinds), dts=st.tuples(*[st.sampled_from(DTYPES)] * 2),
       seed=st.integers(0, 2 ** 16))
def test_where_broadcast_and_promotion(shapes, kinds, dts, seed):
    """where(cond, input, other): any shapes (broadcastable or not: the
    error names torch's operand order cond, input, other)."""
    rng = np.random.default_rng(seed)
    cond = ("tensor", rng.integers(0, 2, size=tuple(shapes[0])).astype(bool))
    a = spec_of(rng, kinds[0], dts[0], tuple(shapes[1]))
    b = spec_of(rng, kinds[1], dts[1], tuple(shapes[2]))
    check_against_torch(lambda lib, c, x, y: lib.where(c, x, y), cond, a, b)


@requires_torch
@SETTINGS
@given(shapes=st.tuples(st.lists(st.integers(0, 3), max_size=3), st.lists(st.integers(0, 3), max_size=3),
                        st.lists(st.integers(0, 3), max_size=3)),
       dts=st.tuples(*[st.sampled_from(DTYPES)] * 3), zerodim=st.sampled_from([None, 0, 1, 2]),
       seed=st.integers(0, 2 ** 16))
def test_clamp_tensor_bounds_broadcast_and_promotion(shapes, dts, zerodim, seed):
    rng = np.random.default_rng(seed)
    shapes = [tuple(s) for s in shapes]
    if zerodim is not None:
        shapes[zerodim] = ()
    specs = [spec_of(rng, "tensor", dt, s) for dt, s in zip(dts, shapes)]
    check_against_torch(lambda lib, x, lo, hi: lib.clamp(x, lo, hi), *specs)


@requires_torch
@SETTINGS
@given(shape=st.lists(st.integers(0, 3), max_size=3), dt=st.sampled_from(DTYPES),
       lo=st.sampled_from([None, "int", "float", "bool"]), hi=st.sampled_from([None, "int", "float", "bool"]),
       seed=st.integers(0, 2 ** 16))
def test_clamp_number_bounds_promotion(shape, dt, lo, hi, seed):
    rng = np.random.default_rng(seed)
    x = spec_of(rng, "tensor", dt, tuple(shape))
    lo_v = None if lo is None else scalar_of(rng, lo)
    hi_v = None if hi is None else scalar_of(rng, hi)
    check_against_torch(lambda lib, t: lib.clamp(t, lo_v, hi_v), x)


@SETTINGS
@given(name=st.sampled_from(["add", "mul", "div", "sub", "maximum", "lt", "where"]),
       shapes=shape_pairs(True), da=st.sampled_from(["float32", "float64"]),
       db=st.sampled_from(DTYPES), zerodim=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_gradients_flow_back_through_promotion(name, shapes, da, db, zerodim, seed):
    """Float inputs that require grad: grad_fn names match and each input's
    gradient comes back in its own shape and dtype."""
    from helpers import compare_with_torch
    rng = np.random.default_rng(seed)
    a = array_of(rng, da, shapes[0])
    b = array_of(rng, db, () if zerodim else shapes[1])
    if name == "div" and db != "bool":
        b = np.where(b == 0, 1, b).astype(b.dtype)
    if name == "div" and db == "bool":
        b = np.ones_like(b)
    if name == "sub" and db == "bool":
        db = "float32"
        b = b.astype(np.float32)
    fns = {
        "add": lambda lib, x, y: x + y, "mul": lambda lib, x, y: x * y, "div": lambda lib, x, y: x / y,
        "sub": lambda lib, x, y: x - y, "maximum": lambda lib, x, y: lib.maximum(x, y),
        "lt": lambda lib, x, y: x < y,
        "where": lambda lib, x, y: lib.where(x > 0, x, y),
    }
    # ties (halves) sit on maximum's and where's kinks: no finite differences there
    compare_with_torch(fns[name], a, b, gradcheck=name not in ("maximum", "where"))


# broadcast_tensors checks pairwise, left to right, as ATen's infer_size: the error names the shape
# accumulated so far (a) and the next tensor's (b) at the rightmost mismatching output dim
BROADCAST_TENSORS_CASES = [
    [(2, 3, 4), (5,)], [(2, 3), (4, 3), (2, 1)], [(3,), (4,)], [(2, 1), (3, 4, 5)], [(2, 1), (3, 1, 5)],
    [(0, 1), (3,)], [(0, 1), (2, 3)], [(), (2, 2)], [(2,)], [],
]


@pytest.mark.parametrize("shapes", BROADCAST_TENSORS_CASES)
def test_broadcast_tensors_shapes_and_errors(shapes):
    def outcome(lib):
        try:
            results = lib.broadcast_tensors(*[lib.ones(s) for s in shapes])
            return [tuple(r.shape) for r in results]
        except RuntimeError as error:
            return str(error)
    got = outcome(cgrad)
    expected = {0: "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 2",
                1: "The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 0",
                4: [(3, 2, 5), (3, 2, 5)]}.get(BROADCAST_TENSORS_CASES.index(shapes))
    if expected is not None:
        assert got == expected
    if torch is not None:
        assert got == outcome(torch)


@requires_torch
def test_broadcast_tensors_takes_tensors_only():
    for args in ([cgrad.ones(2), cgrad.ones(3, 1)], (cgrad.ones(2), 3)):
        outcomes = []
        for lib, lib_args in ((cgrad, args), (torch, [torch.ones(2), torch.ones(3, 1)] if isinstance(args, list)
                                              else (torch.ones(2), 3))):
            with pytest.raises(TypeError) as info:
                lib.broadcast_tensors(*lib_args) if isinstance(args, tuple) else lib.broadcast_tensors(lib_args)
            outcomes.append(str(info.value))
        assert outcomes[0] == outcomes[1]


def test_broadcast_tensors_gradients():
    from cgrad.autograd import gradcheck
    a = cgrad.tensor(np.random.RandomState(0).normal(size=(2,)), requires_grad=True)
    b = cgrad.tensor(np.random.RandomState(1).normal(size=(3, 1)), requires_grad=True)
    assert gradcheck(lambda x, y: sum(t.sin().sum() for t in cgrad.broadcast_tensors(x, y)), (a, b))
