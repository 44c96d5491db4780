"""The vectorised exp/log/tanh/sigmoid kernels (src/cgrad/vecmath.h; float64
exp and log are glibc's): a fast subset of bench/check_vecmath.py (which
sweeps all 2^32 float32 inputs and tens of millions of float64 ones), run
through cgrad's ops.

float32 results must be within 0.51 ulp of the exact value (computed in
double, rounded once), float64 results within 1.5 ulp (measured maxima are
0.8-1.1), and every special value (NaN, +-inf, signed zeros, overflow,
underflow, denormals) must be what glibc and PyTorch give.
"""
import math

import numpy as np
import pytest

import cgrad
from helpers import check_gradients, compare_with_torch, requires_torch, torch

FUNCS = ["exp", "log", "tanh", "sigmoid"]
LD_PRECISE = np.finfo(np.longdouble).nmant >= 63   # x87 80-bit or quad


def run(fn, arr):
    out = getattr(cgrad, fn)(cgrad.tensor(arr))
    assert str(out.dtype) == f"cgrad.{arr.dtype}"
    return out.numpy()


def ref_f64(fn, x):
    """float64 reference for float32 inputs (error < 2^-29 float32 ulp)."""
    with np.errstate(all="ignore"):
        x = x.astype(np.float64)
        if fn == "sigmoid":
            return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
        return getattr(np, fn)(x)


def ref_ld(fn, x):
    """long double reference for float64 inputs."""
    one = np.longdouble(1)
    with np.errstate(all="ignore"):
        x = x.astype(np.longdouble)
        if fn == "sigmoid":
            return np.where(x >= 0, one / (one + np.exp(-x)), np.exp(x) / (one + np.exp(x)))
        return getattr(np, fn)(x)


def ulp_errors(y, ref, dtype):
    """Error of y in ulps of the exact ref (a wider float); inf where a NaN,
    an inf or the sign of a zero is wrong."""
    fi = np.finfo(dtype)
    ref = np.asarray(ref)
    err = np.zeros(y.shape, np.float64)
    with np.errstate(all="ignore"):
        rounded = ref.astype(dtype)
        nan_ref = np.isnan(ref)
        special = nan_ref | np.isnan(y) | np.isinf(y) | np.isinf(rounded)
        err[special] = np.where(
            nan_ref[special], np.where(np.isnan(y[special]), 0, np.inf),
            np.where(y[special] == rounded[special], 0, np.inf))
        zeros = ~special & (y == 0) & (ref == 0)
        err[zeros] = np.where(np.signbit(y[zeros]) == np.signbit(ref[zeros]), 0, np.inf)
        rest = ~special & ~zeros
        a = np.abs(ref[rest])
        e = np.frexp(a)[1]
        ulp = np.where(a < fi.tiny, np.ldexp(a.dtype.type(1), fi.minexp - fi.nmant),
                       np.ldexp(a.dtype.type(1), e - fi.nmant - 1))
        err[rest] = (np.abs(y[rest].astype(ref.dtype) - ref[rest]) / ulp).astype(np.float64)
    return err


def float32_sweep(step=4099):
    """Every step-th of all 2^32 float32 bit patterns (NaNs, infs, denormals
    included) plus the edge values."""
    bits = np.arange(0, 2 ** 32, step, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 88.72283, 88.72284, 88.7229,
                      -87.33655, -103.27893, -103.97208, -103.972084, -104.0, 9.0, 10.0, 1e-30,
                      -1e-30, 1e-45, -1e-45, 1.1754944e-38, 3.4028235e38, -3.4028235e38],
                     np.float32)
    return np.concatenate([edges, x])


@pytest.mark.parametrize("fn", FUNCS)
def test_float32_within_half_ulp(fn):
    x = float32_sweep()
    err = ulp_errors(run(fn, x), ref_f64(fn, x), np.float32)
    worst = int(np.argmax(err))
    assert err.max() <= 0.51, f"{fn}({x[worst]!r}) off by {err.max()} ulp"


def float64_inputs(fn, n=40_000, seed=0):
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 2 ** 64, n, dtype=np.uint64, endpoint=False).view(np.float64)
    mags = np.ldexp(1 + rng.random(n), rng.integers(-1074, 11, n)) * rng.choice([-1.0, 1.0], n)
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308,
                      1.7976931348623157e308, -1.7976931348623157e308, 1.0, -1.0, 0.625,
                      np.nextafter(0.625, 0), 22.0, 709.782712893384, 709.7827128933841, 710.0,
                      -745.1332191019411, -745.1332191019412, -746.0, -708.4, 1e-300, -1e-300])
    ranges = {"exp": [(-746, 710), (-1, 1), (700, 710), (-746, -700)],
              "log": [(0, 2), (0.5, 2), (1 - 1e-3, 1 + 1e-3), (0, 1e6)],
              "tanh": [(-1, 1), (0.55, 0.7), (-25, 25), (-3, 3)],
              "sigmoid": [(-2, 2), (-50, 50), (-800, 800), (-746, -700)]}[fn]
    parts = [edges, raw, mags] + [rng.uniform(lo, hi, n) for lo, hi in ranges]
    if fn == "log":
        tiny = rng.integers(0, 2 ** 53, n, dtype=np.uint64).view(np.float64)  # denormals
        parts += [np.abs(raw), tiny]
    return np.concatenate(parts)


@pytest.mark.skipif(not LD_PRECISE, reason="needs an extended-precision long double reference")
@pytest.mark.parametrize("fn", FUNCS)
def test_float64_within_1_5_ulp(fn):
    x = float64_inputs(fn)
    err = ulp_errors(run(fn, x), ref_ld(fn, x), np.float64)
    worst = int(np.argmax(err))
    assert err.max() <= 1.5, f"{fn}({x[worst]!r}) off by {err.max()} ulp"


NAN = float("nan")
INF = float("inf")
# (function, input, exact expected result): glibc's (and PyTorch's) answers
EDGES = [
    ("exp", 0.0, 1.0), ("exp", -0.0, 1.0), ("exp", INF, INF), ("exp", -INF, 0.0), ("exp", NAN, NAN),
    ("exp", 1000.0, INF), ("exp", -1000.0, 0.0),
    ("log", 0.0, -INF), ("log", -0.0, -INF), ("log", -1.0, NAN), ("log", -INF, NAN), ("log", INF, INF),
    ("log", NAN, NAN), ("log", 1.0, 0.0),
    ("tanh", 0.0, 0.0), ("tanh", -0.0, -0.0), ("tanh", INF, 1.0), ("tanh", -INF, -1.0),
    ("tanh", NAN, NAN), ("tanh", 30.0, 1.0), ("tanh", -30.0, -1.0), ("tanh", 1e300, 1.0),
    ("sigmoid", 0.0, 0.5), ("sigmoid", -0.0, 0.5), ("sigmoid", INF, 1.0), ("sigmoid", -INF, 0.0),
    ("sigmoid", NAN, NAN), ("sigmoid", 1e300, 1.0), ("sigmoid", -1e300, 0.0), ("sigmoid", 800.0, 1.0),
    ("sigmoid", -800.0, 0.0),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn,x,expected", EDGES)
def test_special_values(fn, x, expected, dtype):
    with np.errstate(over="ignore"):
        arr = np.array([x] * 9, dtype)         # several lanes: the vector loop and its tail
    y = run(fn, arr)
    exp = np.array([expected] * 9, dtype)
    assert np.array_equal(y, exp, equal_nan=True), (fn, x, y[0], expected)
    assert np.array_equal(np.signbit(y), np.signbit(exp)) or math.isnan(expected)


def test_edges_of_the_ranges():
    # overflow thresholds, denormal results and denormal inputs, float32
    x = np.array([88.72283, 88.72284, -87.33655, -100.0, -103.97208, -104.0], np.float32)
    y = run("exp", x)
    assert np.isfinite(y[0]) and y[1] == np.inf
    assert 0 < y[3] < np.finfo(np.float32).tiny and y[4] == 1e-45 and y[5] == 0
    # float64
    x = np.array([709.782712893384, 709.7827128933841, -745.1332191019411, -745.1332191019412, -740.0])
    y = run("exp", x)
    assert np.isfinite(y[0]) and y[1] == np.inf and y[2] == 5e-324 and y[3] == 0
    assert y[4] == math.exp(-740.0)
    # log of denormals
    for dt in (np.float32, np.float64):
        tiny = np.array([np.finfo(dt).smallest_subnormal, np.finfo(dt).tiny / 3], dt)
        assert np.array_equal(run("log", tiny), np.log(tiny.astype(np.float64)).astype(dt))
    # tiny results of sigmoid stay denormal, tanh of denormals is exact
    assert run("sigmoid", np.array([-740.0]))[0] == math.exp(-740.0)
    assert run("sigmoid", np.array([-100.0], np.float32))[0] == np.float32(math.exp(-100.0))
    d = np.array([5e-324, -5e-324, 1e-310], np.float64)
    assert np.array_equal(run("tanh", d), d)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", FUNCS)
def test_agrees_with_torch(fn, dtype):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(5000) * 4, rng.uniform(-90, 90, 5000)]).astype(dtype)
    if fn == "log":
        x = np.abs(x)
    y = run(fn, x)
    with torch.no_grad():
        yt = getattr(torch, fn)(torch.tensor(x)).numpy()
    # both within ~1 ulp of the exact value
    with np.errstate(invalid="ignore"):
        ulps = np.abs(y.astype(np.float64) - yt) / np.spacing(np.abs(yt).astype(dtype)).astype(np.float64)
    ok = (y == yt) | (ulps <= 2) | (np.abs(yt) < np.finfo(dtype).tiny)
    assert ok.all(), (x[~ok][:5], y[~ok][:5], yt[~ok][:5])


@pytest.mark.parametrize("fn", FUNCS)
def test_forward_backward_vs_torch(fn):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((37, 29)).astype(np.float32)
    if fn == "log":
        a = np.abs(a) + 0.1
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x * 1.5), a)
    compare_with_torch(lambda lib, x: getattr(lib, fn)(x.t()), a.astype(np.float64))


@pytest.mark.parametrize("fn", FUNCS)
def test_gradcheck(fn):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 5))
    if fn == "log":
        a = np.abs(a) + 0.5
    check_gradients(lambda lib, x: getattr(lib, fn)(x), a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", FUNCS)
def test_strided_and_large_inputs_match_contiguous(fn, dtype):
    rng = np.random.default_rng(6)
    a = (rng.standard_normal((600, 700)) * 5).astype(dtype)   # large: the GIL-free path
    if fn == "log":
        a = np.abs(a)
    x = cgrad.tensor(a)
    whole = getattr(cgrad, fn)(x).numpy()
    strided = getattr(cgrad, fn)(x.t()).numpy()                # non-contiguous input
    assert np.array_equal(strided, whole.T, equal_nan=True)
    for n in (1, 2, 3, 5, 7, 17):                              # vector loop tails
        assert np.array_equal(run(fn, a.ravel()[:n]), whole.ravel()[:n], equal_nan=True)
