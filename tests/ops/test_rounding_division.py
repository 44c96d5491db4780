"""floor_divide (//), remainder (%), fmod and div(rounding_mode=...) against
torch: values (special values and signs included), dtypes, grad_fn names,
gradients, in-place forms and errors."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

FLOATS = [-7.5, -5.0, -3.0, -0.5, -0.0, 0.0, 0.5, 3.0, 5.0, 7.25, float("inf"), float("-inf"), float("nan")]
DIVISORS = [-2.0, -1.5, -0.0, 0.0, 0.75, 2.0, 3.0, float("inf"), float("-inf"), float("nan")]
INTS = [-7, -5, -3, -1, 0, 1, 3, 5, 7, 2 ** 62, -(2 ** 63) + 1]   # torch traps on INT64_MIN / -1
INT_DIVISORS = [-3, -2, -1, 1, 2, 5]

OPS = {
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
    "//": lambda lib, a, b: a // b,
    "remainder": lambda lib, a, b: lib.remainder(a, b),
    "%": lambda lib, a, b: a % b,
    "fmod": lambda lib, a, b: lib.fmod(a, b),
    "div floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    "div trunc": lambda lib, a, b: a.div(b, rounding_mode="trunc"),
    "div None": lambda lib, a, b: a.divide(b, rounding_mode=None),
}


def outcome(lib, fn):
    try:
        r = fn(lib)
    except Exception as e:    # noqa: BLE001 - the type and text are compared
        return ("error", type(e).__name__, str(e).replace("torch.", "cgrad."))
    if isinstance(r, (lib.Tensor,)):
        fn_name = type(r.grad_fn).__name__ if r.grad_fn is not None else None
        values = r.detach().numpy().copy()
        if values.dtype.kind == "f":
            values[np.isnan(values)] = np.nan   # bit for bit, but any NaN is the NaN
        return ("tensor", str(r.dtype).split(".")[-1], tuple(r.shape), fn_name, values.tobytes())
    return ("value", r)


def same(fn):
    assert outcome(cgrad, fn) == outcome(torch, fn)


@requires_torch
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_float_values_bit_for_bit(op, dtype):
    a = np.array([x for x in FLOATS for _ in DIVISORS], dtype=dtype)
    b = np.array([y for _ in FLOATS for y in DIVISORS], dtype=dtype)
    same(lambda lib: OPS[op](lib, lib.from_numpy(a.copy()), lib.from_numpy(b.copy())))


@requires_torch
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_integer_values(op, dtype):
    info = np.iinfo(dtype)
    a = np.array([x for x in INTS for _ in INT_DIVISORS], dtype=np.int64).clip(info.min + 1, info.max).astype(dtype)
    b = np.array([y for _ in INTS for y in INT_DIVISORS], dtype=np.int64).clip(max(info.min, -3),
                                                                               info.max).astype(dtype)
    b[b == 0] = 1
    same(lambda lib: OPS[op](lib, lib.from_numpy(a.copy()), lib.from_numpy(b.copy())))


@pytest.mark.parametrize("op", sorted(OPS))
def test_int64_min_by_minus_one_wraps_without_trapping(op):
    # the hardware traps on this one quotient (torch's div trunc dies of SIGFPE); it wraps as C++ would
    expected = {"floor_divide": -(2 ** 63), "//": -(2 ** 63), "div floor": -(2 ** 63), "div trunc": -(2 ** 63),
                "remainder": 0, "%": 0, "fmod": 0}
    r = OPS[op](cgrad, cgrad.tensor([-(2 ** 63)]), cgrad.tensor([-1]))
    if op == "div None":   # true division: a float32 quotient, nothing wraps
        assert r.dtype == cgrad.float32 and r.tolist() == [float(np.float32(2.0 ** 63))]
        return
    assert r.tolist() == [expected[op]]


# the reference column: numpy's function of each (Python's rounding and
# sign rules, as torch's)
NUMPY_OPS = {"floor_divide": np.floor_divide, "//": np.floor_divide, "remainder": np.mod, "%": np.mod,
             "fmod": np.fmod, "div floor": np.floor_divide, "div trunc": lambda a, b: np.trunc(a / b),
             "div None": np.true_divide}


def number_result_dtype(op, dtype, number):
    """PyTorch's promotion with a Python number: a number of the tensor's
    category (or lower) keeps its dtype; a float number, or true division,
    takes an integer tensor to the default float32."""
    if dtype.startswith("float"):
        return dtype
    return "float32" if op == "div None" or isinstance(number, float) else dtype


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("number", [2, -3, 2.5, -0.75, True])
@pytest.mark.parametrize("dtype", ["float32", "int64", "int16", "float16"])
def test_number_operands_and_promotion(op, number, dtype):
    a = np.array([-7, -2, 0, 3, 9], dtype=dtype)
    got = OPS[op](cgrad, cgrad.from_numpy(a.copy()), number)
    want_dtype = number_result_dtype(op, dtype, number)
    assert str(got.dtype) == "cgrad." + want_dtype
    expected = NUMPY_OPS[op](a.astype(np.float64), float(number)).astype(want_dtype)
    rtol = {"float16": 1e-3, "float32": 1e-6}.get(want_dtype, 0)
    np.testing.assert_allclose(got.numpy().astype(np.float64), expected.astype(np.float64), rtol=rtol)
    if torch is None:
        return
    same(lambda lib: OPS[op](lib, lib.from_numpy(a.copy()), number))


@requires_torch
@pytest.mark.parametrize("expr", ["5 // x", "-2.5 // x", "5 % x", "-3 % x", "7.5 % x",
                                  "remainder(4, x)", "x // y", "y % x", "x % y", "fmod(x, y)",
                                  "x0 % 2", "x0 // y"])
def test_reflected_broadcast_and_zero_dim(expr):
    def run(lib):
        x = lib.tensor([[1.5, -2.0, 3.0]], requires_grad=True)
        y = lib.tensor([[2.0], [-0.5]], requires_grad=True)
        x0 = lib.tensor(7.0, dtype=lib.float64)
        return eval(expr, {"x": x, "y": y, "x0": x0, "remainder": lib.remainder, "fmod": lib.fmod})
    same(run)


@requires_torch
@pytest.mark.parametrize("op", ["remainder", "%", "fmod", "div floor", "div trunc", "div None"])
@pytest.mark.parametrize("other_kind", ["tensor", "number", "broadcast"])
def test_gradients_and_names(op, other_kind):
    def run(lib):
        a = lib.tensor([[5.0, -5.0, 3.5], [1.25, -0.5, 8.0]], dtype=lib.float64, requires_grad=True)
        b = {"tensor": lib.tensor([[2.0, 3.0, -1.5], [0.5, 0.75, -3.0]], dtype=lib.float64,
                                  requires_grad=True),
             "number": 1.75,
             "broadcast": lib.tensor([2.0, -3.0, 0.5], dtype=lib.float64, requires_grad=True)}[other_kind]
        r = OPS[op](lib, a, b)
        edges = [None if f is None else type(f).__name__ for f, _ in r.grad_fn.next_functions]
        (r * lib.arange(6.0, dtype=lib.float64).view(2, 3)).sum().backward()
        return (type(r.grad_fn).__name__, edges, r.tolist(), a.grad.tolist(),
                b.grad.tolist() if isinstance(b, lib.Tensor) else None)
    assert run(cgrad) == run(torch)


@pytest.mark.parametrize("op", ["remainder", "fmod", "div None"])
def test_gradcheck(op):
    a = cgrad.tensor([[5.3, -5.1, 3.6], [1.2, -0.4, 8.1]], dtype=cgrad.float64, requires_grad=True)
    b = cgrad.tensor([2.1, -3.3, 0.7], dtype=cgrad.float64, requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda x, y: OPS[op](cgrad, x, y), (a, b))
    assert cgrad.autograd.gradgradcheck(lambda x, y: OPS[op](cgrad, x, y), (a, b))


@requires_torch
@pytest.mark.parametrize("expr", ["x // y", "x // 2", "5 // x", "5 % x", "floor_divide(x, y)"])
def test_no_derivative_raises_at_backward(expr):
    def run(lib):
        x = lib.tensor([5.0, -5.0], requires_grad=True)
        y = lib.tensor([2.0, 3.0], requires_grad=True)
        r = eval(expr, {"x": x, "y": y, "floor_divide": lib.floor_divide})
        names = (type(r.grad_fn).__name__, len(r.grad_fn.next_functions), repr(r).replace("torch.", "cgrad."))
        try:
            r.sum().backward()
        except RuntimeError as e:
            return names, str(e)
        return names, None
    assert run(cgrad) == run(torch)


@requires_torch
@pytest.mark.parametrize("expr", [
    "t.floor_divide_(2)", "t.remainder_(u)", "t.fmod_(-2)", "t.div_(u, rounding_mode='floor')",
    "t.div_(2, rounding_mode='trunc')", "i.floor_divide_(2)", "i.remainder_(-3)", "i.div_(2, rounding_mode='floor')",
    "i.fmod_(2.5)", "i.remainder_(u)", "t.floor_divide_(w)",
])
def test_inplace(expr):
    def run(lib):
        t = lib.tensor([5.0, -5.0, 7.5])
        u = lib.tensor([2.0, -3.0, 0.5])
        w = lib.ones(2, 3)
        i = lib.tensor([5, -5, 7])
        before = (t.tolist(), i.tolist(), t._version, i._version)
        try:
            r = eval(expr, {"t": t, "u": u, "w": w, "i": i})
        except RuntimeError as e:
            return before, (t.tolist(), i.tolist(), t._version, i._version), str(e)
        return r.tolist(), r.dtype == t.dtype or r.dtype == i.dtype, t._version + i._version
    assert run(cgrad) == run(torch)


@requires_torch
def test_inplace_operators_and_history():
    def run(lib):
        x = lib.tensor([5.0, -5.0, 7.5], requires_grad=True)
        y = x * 1
        y %= 2
        z = x * 1
        z //= 2
        k = lib.tensor([7, -7])
        k //= 2
        k %= 3
        y.sum().backward()
        return (type(y.grad_fn).__name__, type(z.grad_fn).__name__, y.tolist(), z.tolist(), k.tolist(),
                x.grad.tolist())
    assert run(cgrad) == run(torch)


@requires_torch
@pytest.mark.parametrize("expr", [
    "a // z", "a % z", "fmod(a, z)", "a.div(z, rounding_mode='trunc')", "a // 0", "5 % z", "a.remainder_(0)",
    "b // b", "b % b", "fmod(b, b)", "b.div(b, rounding_mode='floor')", "b.div(b, rounding_mode='trunc')",
    "f.div(2, rounding_mode='round')", "f.div(2, rounding_mode=3)", "f // 'a'", "f % None",
    "remainder(f, 'a')", "remainder('a', f)", "fmod(2, f)", "floor_divide(f, 'a')", "f.fmod(None)",
    "f.remainder({})", "f.div_(2, rounding_mode=3)", "f.divide(f, rounding_mode=int)",
    "lib.divide(f, 2, rounding_mode=3)", "lib.div(f, 2, rounding_mode='x')", "f.div_(2, rounding_mode='x')", "f.floor_divide('a')", "f // lib.ones(3)", "f.fmod(lib.ones(3))", "a // 2.5",
])
def test_errors(expr):
    def run(lib):
        return eval(expr, {"a": lib.tensor([5, 6]), "z": lib.tensor([1, 0]), "b": lib.tensor([True, False]),
                           "f": lib.tensor([1.0, 2.0]), "lib": lib, "fmod": lib.fmod,
                           "remainder": lib.remainder, "floor_divide": lib.floor_divide})
    same(run)


@pytest.mark.parametrize("expression", [
    "e // 0", "e.clone().floor_divide_(0)", "e % 0", "lib.remainder(e, 0)", "lib.fmod(e, 0)",
    "lib.div(e, 0, rounding_mode='floor')", "lib.div(e, 0, rounding_mode='trunc')",
    "e.view(0, 1) // lib.zeros(3, dtype=lib.int64)",
])
def test_integer_division_of_nothing_checks_no_divisor(expression):
    """PyTorch's kernels refuse an integer zero divisor only for elements
    they compute: an empty result is returned (ZeroDivisionError otherwise)."""
    def value(lib):
        return eval(expression, {"lib": lib, "e": lib.tensor([], dtype=lib.int64)})
    ours = value(cgrad)
    assert ours.numel() == 0 and ours.dtype == cgrad.int64
    if torch is not None:
        theirs = value(torch)
        assert tuple(theirs.shape) == tuple(ours.shape)
    with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):
        cgrad.tensor([1]) // 0
