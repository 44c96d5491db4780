"""NaN, infinities, zeros and extremes through every op and its backward,
exactly as torch: the same NaN positions, the same infinities (with their
signs), finite values close; gradients likewise. Signed zeros are checked
separately (test_signed_zeros).

Covers log of 0 and negatives, sqrt of negatives, division by zero, exp
overflow, pow with negative bases, max/argmax with NaN, logsumexp of -inf,
prod with zeros, std of a constant, softmax with inf, and more.
"""
import warnings

import numpy as np
import pytest

import cgrad
from robust_helpers import requires_torch, torch, torch_text

pytestmark = requires_torch

inf, nan = float("inf"), float("nan")
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.5, inf, -inf, nan, 1e-45, 1e38, 0.5, -0.5, 89.0, 100.0, -100.0],
                   np.float32)
GRID = np.array([0.0, -0.0, 1.0, -1.0, inf, -inf, nan, 2.0, 1e-40], np.float32)
GX, GY = np.repeat(GRID, len(GRID)), np.tile(GRID, len(GRID))


def xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


def run(lib, fn, arrays):
    """Forward values of every output, then the gradient of every float input
    for a fixed upstream gradient (values 0.5..1.5)."""
    ins = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(lib, *ins)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    res = [("output %d" % k, o.detach().numpy().copy()) for k, o in enumerate(outs)]
    diff = [o for o in outs if o.requires_grad]
    if diff:
        gs = []
        for k, o in enumerate(diff):
            g = np.random.default_rng(k).uniform(0.5, 1.5, tuple(o.shape))
            gs.append(lib.tensor(g.astype(np.float64 if "64" in str(o.dtype) else np.float32)))
        lib.autograd.backward(diff, gs)
        res += [("grad of input %d" % k, None if i.grad is None else i.grad.numpy().copy())
                for k, i in enumerate(ins)]
    return res


def mismatch(x, y, zero_signs=False, rtol=1e-5, atol=1e-6):
    """Why x (cgrad) is not y (torch), or None."""
    if (x is None) != (y is None):
        return f"{x} vs {y}"
    if x is None:
        return None
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape:
        return f"shape {x.shape} vs {y.shape}"
    bad = np.isnan(x) != np.isnan(y)
    bad |= (np.isinf(x) | np.isinf(y)) & ~((x == y) | (np.isnan(x) & np.isnan(y)))
    fin = np.isfinite(x) & np.isfinite(y)
    bad |= fin & ~(np.abs(x - y) <= atol + rtol * np.abs(y))
    if zero_signs:
        bad |= (x == 0) & (y == 0) & (np.signbit(x) != np.signbit(y))
    if bad.any():
        idx = np.flatnonzero(bad.ravel())[:6]
        return f"at flat positions {idx.tolist()}: cgrad {x.ravel()[idx].tolist()} torch {y.ravel()[idx].tolist()}"
    return None


def compare(fn, *arrays, zero_signs=False):
    with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        expected = run(torch, fn, arrays)
    with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as wc:
        warnings.simplefilter("always")
        got = run(cgrad, fn, arrays)
    # the same warnings (torch's name their C++ source: compare the text before it)
    assert [torch_text(str(w.message)).split(" (Triggered internally")[0] for w in wc] == \
        [torch_text(str(w.message)).split(" (Triggered internally")[0] for w in wt]
    assert len(got) == len(expected)
    problems = []
    for (what, x), (_, y) in zip(got, expected):
        with np.errstate(all="ignore"):
            why = mismatch(x, y, zero_signs)
        if why:
            problems.append(f"{what}: {why}")
    assert not problems, "\n".join(problems)


ACCUMULATE = "float32 sum/mean/prod accumulate in double: an overflowing partial result stays finite ([3e38, 3e38, " \
             "-3e38].sum() is 3e38, [1e30, 1e30, 0].prod() is 0); torch accumulates in float32 and gives inf / nan"

UNARY = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "reciprocal", "abs", "neg", "sign"]
UNARY_XFAIL = {}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", [pytest.param(o, marks=xfail(UNARY_XFAIL[o])) if o in UNARY_XFAIL else o
                                for o in UNARY])
def test_unary(op, dtype):
    compare(lambda l, a: getattr(l, op)(a), SPECIAL.astype(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "fmax", "fmin", "rsub"])
def test_binary_grid(op, dtype):
    """Every pair of special values, values and both gradients."""
    compare(lambda l, a, b: getattr(l, op)(a, b), GX.astype(dtype), GY.astype(dtype))


@pytest.mark.parametrize("exponent", [0.5, -0.5, 1.5, 2, 3, -1, -2, 0, 1, -1.5, 0.25, 4, -3, 1 / 3, 10,
                                      inf, -inf, nan, 1e-30])
def test_pow_scalar_exponent(exponent):
    compare(lambda l, a: a ** exponent, SPECIAL)
    compare(lambda l, a: a ** exponent, SPECIAL.astype(np.float64))


@pytest.mark.parametrize("base", [0.0, -0.0, 2.0, -2.0, 1.0, -1.0, inf, -inf, nan, 0.5])
def test_pow_scalar_base(base):
    compare(lambda l, a: base ** a, SPECIAL)


@pytest.mark.parametrize("scalar", [0.0, -0.0, inf, -inf, nan, 2.0])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "rsub", "rdiv", "clamp_min", "clamp_max"])
def test_scalar_ops(op, scalar):
    fn = {"add": lambda l, a: a + scalar, "sub": lambda l, a: a - scalar, "mul": lambda l, a: a * scalar,
          "div": lambda l, a: a / scalar, "pow": lambda l, a: l.pow(a, scalar), "rsub": lambda l, a: scalar - a,
          "rdiv": lambda l, a: scalar / a, "clamp_min": lambda l, a: a.clamp(min=scalar),
          "clamp_max": lambda l, a: a.clamp(max=scalar)}[op]
    compare(fn, GRID)


def f32(*v):
    return np.array(v, np.float32)


ROWS = np.array([[-inf, 0.0, 1.0], [inf, 0, 0], [nan, 0, 1], [1e38, -1e38, 0], [-inf, -inf, -inf], [inf, inf, 1],
                 [inf, -inf, 0], [0, 0, 0]], np.float32)

CASES = {
    "max with nan": (lambda l, a: a.max(), SPECIAL),
    "min with nan": (lambda l, a: a.min(), SPECIAL),
    "amax with nan": (lambda l, a: a.amax(), SPECIAL),
    "amin dim with nan": (lambda l, a: a.amin(0), SPECIAL),
    "argmax with nan": (lambda l, a: a.argmax(), SPECIAL),
    "argmin with nan": (lambda l, a: a.argmin(), SPECIAL),
    "max dim with nan": (lambda l, a: a.max(0), SPECIAL),
    "max rows": (lambda l, a: a.max(1), ROWS),
    "min rows": (lambda l, a: a.min(1), ROWS),
    "amax rows": (lambda l, a: a.amax(1), ROWS),
    "argmax rows": (lambda l, a: a.argmax(1), ROWS),
    "argmin columns": (lambda l, a: a.argmin(0), ROWS),
    "max ties with -inf": (lambda l, a: a.max(), f32(1, 3, 3, -inf)),
    "amax ties with -inf": (lambda l, a: a.amax(), f32(1, 3, 3, -inf)),
    "max all nan": (lambda l, a: a.max(), f32(nan, nan)),
    "max dim nan first": (lambda l, a: a.max(0), f32(nan, 1, nan)),
    "maximum with itself": (lambda l, a: l.maximum(a, a * 1), SPECIAL),
    "logsumexp": (lambda l, a: a.logsumexp(0), SPECIAL),
    "logsumexp of -inf": (lambda l, a: a.logsumexp(0), f32(-inf, -inf)),
    "logsumexp of inf": (lambda l, a: a.logsumexp(0), f32(inf, inf)),
    "logsumexp of inf and -inf": (lambda l, a: a.logsumexp(0), f32(inf, -inf)),
    "logsumexp rows": (lambda l, a: a.logsumexp(1), ROWS),
    "logsumexp big": (lambda l, a: a.logsumexp(0), f32(1e38, 1e38)),
    "prod with a zero": (lambda l, a: a.prod(), f32(0, 2, 3)),
    "prod with two zeros": (lambda l, a: a.prod(), f32(0, 2, 0)),
    "prod rows with zeros": (lambda l, a: a.prod(1), np.array([[0, 2, 3], [0, 0, 1], [1, 2, 3], [nan, 0, 1],
                                                               [inf, 0, 1], [-0.0, 2, 2]], np.float32)),
    "prod with inf": (lambda l, a: a.prod(), f32(inf, 2, 3)),
    "prod with nan and zero": (lambda l, a: a.prod(), f32(nan, 0, 3)),
    "prod overflow": (lambda l, a: a.prod(), f32(1e30, 1e30, 0), xfail(ACCUMULATE)),
    "prod overflow, rows": (lambda l, a: a.prod(1), np.array([[1e30, 1e30, 1e-30]], np.float32), xfail(ACCUMULATE)),
    "sum with an overflowing partial sum": (lambda l, a: a.sum(), f32(3e38, 3e38, -3e38), xfail(ACCUMULATE)),
    "mean with an overflowing partial sum": (lambda l, a: a.mean(), f32(*[3e38] * 4, *[-3e38] * 4),
                                             xfail(ACCUMULATE)),
    "std of a constant": (lambda l, a: a.std(), np.ones(5, np.float32)),
    "var of constant columns": (lambda l, a: a.var(0), np.ones((5, 2), np.float32)),
    "std of one element": (lambda l, a: a.std(), np.ones(1, np.float32)),
    "var of one element": (lambda l, a: a.var(), np.ones(1, np.float32)),
    "std with inf": (lambda l, a: a.std(), f32(inf, 1)),
    "std with nan": (lambda l, a: a.std(), f32(nan, 1)),
    "var of nothing": (lambda l, a: a.var(), np.ones(0, np.float32)),
    "std over a size-1 dim": (lambda l, a: a.std(0), np.ones((1, 3), np.float32)),
    "std correction > n": (lambda l, a: a.std(correction=5), f32(0, 1, 2)),
    "var rows": (lambda l, a: a.var(1), ROWS),
    "mean of nothing": (lambda l, a: a.mean(), np.ones(0, np.float32)),
    "mean of inf and -inf": (lambda l, a: a.mean(), f32(inf, -inf)),
    "mean rows": (lambda l, a: a.mean(1), ROWS),
    "sum": (lambda l, a: a.sum(), SPECIAL),
    "sum overflow": (lambda l, a: a.sum(), f32(3e38, 3e38)),
    "softmax with inf": (lambda l, a: a.softmax(0), f32(inf, 1, 2)),
    "softmax with two inf": (lambda l, a: a.softmax(0), f32(inf, inf, 2)),
    "softmax of -inf": (lambda l, a: a.softmax(0), f32(-inf, -inf)),
    "softmax with some -inf": (lambda l, a: a.softmax(0), f32(-inf, 0, 1)),
    "softmax with nan": (lambda l, a: a.softmax(0), f32(nan, 0, 1)),
    "softmax extremes": (lambda l, a: a.softmax(0), f32(1e38, -1e38, 0)),
    "softmax rows": (lambda l, a: a.softmax(1), ROWS),
    "softmax columns": (lambda l, a: a.softmax(0), ROWS),
    "softmax rows float64": (lambda l, a: a.softmax(1), ROWS.astype(np.float64)),
    "log_softmax rows": (lambda l, a: a.log_softmax(1), ROWS),
    "log_softmax columns": (lambda l, a: a.log_softmax(0), ROWS),
    "log_softmax wide rows of -inf": (lambda l, a: a.log_softmax(1), np.concatenate(
        [np.full((2, 40), -inf, np.float32), np.zeros((2, 1), np.float32)], 1)),
    "softmax wide rows with inf": (lambda l, a: a.softmax(1), np.concatenate(
        [np.ones((2, 40), np.float32), np.full((2, 1), inf, np.float32)], 1)),
    "cross_entropy with inf": (lambda l, a: l.nn.functional.cross_entropy(a, l.tensor([0, 1])),
                               np.array([[inf, 0, 1], [-inf, 0, 0]], np.float32)),
    "cross_entropy with -inf target logit": (lambda l, a: l.nn.functional.cross_entropy(a, l.tensor([0, 1])),
                                             np.array([[-inf, 0, 1], [0, -inf, 0]], np.float32)),
    "nll_loss with inf": (lambda l, a: l.nn.functional.nll_loss(a, l.tensor([0, 2])),
                          np.array([[inf, 0, 1], [0, 0, -inf]], np.float32)),
    "binary_cross_entropy at 0 and 1": (lambda l, a, b: l.nn.functional.binary_cross_entropy(a, b),
                                        f32(0, 1, 0.5, 0, 1), f32(0, 1, 1, 1, 0)),
    "mse_loss with inf": (lambda l, a, b: l.nn.functional.mse_loss(a, b), SPECIAL, SPECIAL[::-1].copy()),
    "l1_loss with inf": (lambda l, a, b: l.nn.functional.l1_loss(a, b), SPECIAL, SPECIAL[::-1].copy()),
    "mm with inf and nan": (lambda l, a, b: a @ b, np.array([[inf, 0], [nan, 1]], np.float32),
                            np.array([[0, 1], [1, 0]], np.float32)),
    "mv with inf": (lambda l, a, b: l.mv(a, b), np.array([[inf, 0], [1, -inf]], np.float32), f32(0, 1)),
    "dot inf * 0": (lambda l, a, b: l.dot(a, b), f32(inf, 0), f32(0, 1)),
    "linear with inf": (lambda l, a, w: l.nn.functional.linear(a, w), np.array([[inf, 1]], np.float32),
                        np.array([[0, 1]], np.float32)),
    "where with nan": (lambda l, a, b: l.where(a > 0, a, b), SPECIAL, SPECIAL[::-1].copy()),
    "masked_fill nan": (lambda l, a: a.masked_fill(a != a, 0.0), SPECIAL),
    "masked_fill with nan": (lambda l, a: a.masked_fill(a > 1, nan), SPECIAL),
    "clamp": (lambda l, a: a.clamp(-1, 1), SPECIAL),
    "clamp nan bound": (lambda l, a: a.clamp(nan, 1), SPECIAL),
    "clamp min > max": (lambda l, a: a.clamp(2, 1), SPECIAL),
    "clamp infinite bounds": (lambda l, a: a.clamp(-inf, inf), SPECIAL),
    "clamp tensor bounds with nan": (lambda l, a, b: l.clamp(a, min=b), GX, GY),
    "sqrt at 0 and below": (lambda l, a: a.sqrt(), f32(0, -0.0, -1)),
    "log at 0 and below": (lambda l, a: a.log(), f32(0, -0.0, -1)),
    "sigmoid extremes": (lambda l, a: a.sigmoid(), f32(-100, 100, -1e38, 1e38, -89, 89)),
    "tanh extremes": (lambda l, a: a.tanh(), f32(-100, 100, -1e38, 1e38, -9, 9, 20)),
    "exp overflow": (lambda l, a: a.exp(), f32(88, 89, 100, 710, -104, -200)),
    "exp overflow float64": (lambda l, a: a.exp(), np.array([709, 710, -745, -746], np.float64)),
    "0 / 0": (lambda l, a, b: a / b, f32(0, 1, -1, 0), f32(0, 0, 0, -0.0)),
    "int / 0": (lambda l, a, b: a / b, np.array([0, 1, -1]), np.array([0, 0, 0])),
    "int ** negative": (lambda l, a, b: a ** b, np.array([1, 2, -2]), np.array([-1, -1, -1])),
    "int 0 ** 0": (lambda l, a, b: a ** b, np.array([0]), np.array([0])),
    "comparisons with nan": (lambda l, a: (a == a, a != a, a < a, a >= a, a > 0), SPECIAL),
    "float to int64": (lambda l, a: a.long(), f32(1.5, -1.5, 2.5, -0.0)),
    "nan to bool": (lambda l, a: a.bool(), f32(nan, 0, -0.0, inf)),
    "norm via sqrt of a zero sum": (lambda l, a: (a * a).sum().sqrt(), np.zeros(3, np.float32)),
    "chain through nan": (lambda l, a: ((a * 0).exp() * a).sum(), SPECIAL),
    "cat with specials": (lambda l, a, b: l.cat([a, b]).exp(), SPECIAL, GRID),
    "index_select of specials": (lambda l, a: a.index_select(0, l.tensor([8, 6, 7, 8])).log(), SPECIAL),
    "getitem mask of specials": (lambda l, a: a[a != 1].sqrt(), SPECIAL),
}


@pytest.mark.parametrize("name", [pytest.param(k, marks=v[-1]) if isinstance(v[-1], pytest.MarkDecorator) else k
                                  for k, v in CASES.items()])
def test_special_values(name):
    fn, *arrays = [v for v in CASES[name] if not isinstance(v, pytest.MarkDecorator)]
    compare(fn, *arrays)


SIGNED_ZERO_CASES = {
    "relu(-0.)": (lambda l, a: a.relu(), None),
    "(-0.) ** 0.5": (lambda l, a: a ** 0.5, None),
    "(-0.) ** -0.5": (lambda l, a: a ** -0.5, None),
    "neg": (lambda l, a: -a, None),
    "mul by -1": (lambda l, a: a * -1, None),
    "add 0": (lambda l, a: a + 0.0, None),
    "sub 0": (lambda l, a: a - 0.0, None),
    "sqrt": (lambda l, a: a.sqrt(), None),
    "sin": (lambda l, a: a.sin(), None),
    "tanh": (lambda l, a: a.tanh(), None),
    "abs": (lambda l, a: a.abs(), None),
    "clamp(min=0)": (lambda l, a: a.clamp(min=0), None),
    "maximum with 0": (lambda l, a: l.maximum(a, l.zeros_like(a)),
                       xfail("maximum(-0., 0.) is +0.; torch gives -0. (and maximum(0., -0.) the other way round) "
                             "in its scalar loop, but the second operand in its vectorised one (whole blocks of 16 "
                             "float32 on an AVX512 machine): the sign depends on the size and the CPU")),
    "sum": (lambda l, a: a.sum(), None),
    "mean": (lambda l, a: a.mean(), None),
    "mm": (lambda l, a: a.view(1, -1) @ a.view(-1, 1), None),
    "where": (lambda l, a: l.where(a == 0, a, 1.0), None),
}


@pytest.mark.parametrize("name", [pytest.param(k, marks=v[1]) if v[1] is not None else k
                                  for k, v in SIGNED_ZERO_CASES.items()])
def test_signed_zeros(name):
    compare(SIGNED_ZERO_CASES[name][0], np.array([-0.0, 0.0, -0.0, 1.0, -1.0], np.float32), zero_signs=True)
