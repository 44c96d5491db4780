"""float32 erf, erfc, expm1 and log1p (vecmath.h's branch-free versions,
computed in double and rounded once) and the activations over them
(act_rows.h's contiguous float32 loops): accuracy against the double
functions of Python's math module (glibc), special values (NaN, +-inf, -0,
denormals, huge and tiny arguments, the thresholds where results round to
+-1, 0 or inf) against torch, and the contiguous loops bit for bit against
the strided ones. bench/check_vecmath.py checks all 2^32 inputs."""
import math

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

F32 = np.finfo(np.float32)

SPECIALS = np.array([
    np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, F32.tiny, -F32.tiny, F32.smallest_subnormal,
    -F32.smallest_subnormal, 3e-39, -3e-39, F32.max, -F32.max, 1e-30, -1e-30, 1.5e-8, -1.5e-8, 1.0, -1.0,
    0.5, -0.5, 0.75, -0.75, 0.74999994, 2.0, 3.9192059, -3.9192059, 4.0, -4.0, 10.0, 10.05, 10.0546, 10.1,
    -10.1, 11.5, 27.0, -27.0, 88.7228317, 88.72284, 89.0, -87.3, -103.9, 100.0, -100.0, 130.0, -130.0,
    -130.1, 1000.0, -1000.0, -0.99999994, -1.0000001, -2.0, 536870912.0, 536870976.0, 1e20, -1e20,
    0.34657359, -0.34657359, -17.0, 17.0,
], dtype=np.float32)

FUNCS = {"erf": math.erf, "erfc": math.erfc, "expm1": math.expm1, "log1p": math.log1p}


def reference(name, a):
    """The double function at each float32, NaN where it has no value."""
    f = FUNCS[name]
    out = np.empty(a.shape, np.float64)
    with np.errstate(invalid="ignore"):
        wide = a.astype(np.float64)
    for i, v in enumerate(wide):
        try:
            out[i] = f(v)
        except (ValueError, OverflowError):
            out[i] = np.nan if math.isnan(v) or (name == "log1p" and v < -1) else (
                -np.inf if name == "log1p" else np.inf)
    return out


def ulp_error(y, ref):
    """|y - ref| in float32 ulps of ref (denormal ulp below FLT_MIN)."""
    ref = np.asarray(ref, np.float64)
    mag = np.maximum(np.abs(ref), F32.tiny)
    ulp = np.exp2(np.floor(np.log2(mag)) - 23)
    return np.abs(y.astype(np.float64) - ref) / ulp


def sample(n=40000, seed=0):
    """Random bit patterns (every exponent), plus dense ranges where the
    algorithms switch branch or lose bits to cancellation."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2 ** 32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    dense = np.concatenate([rng.uniform(-5, 5, n), rng.uniform(-1, 1, n), rng.uniform(-0.8, 0.8, n // 4),
                            rng.uniform(9.5, 10.2, n // 4), rng.uniform(-1, -0.9, n // 4),
                            rng.uniform(85, 90, n // 4)]).astype(np.float32)
    a = np.concatenate([bits, dense, SPECIALS])
    return a[np.isfinite(a) | np.isnan(a) | np.isinf(a)]


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float32_within_half_ulp(name):
    a = sample()
    y = getattr(cgrad, name)(cgrad.tensor(a)).numpy()
    ref = reference(name, a)
    nan = np.isnan(ref)
    assert np.array_equal(np.isnan(y), nan), a[np.isnan(y) != nan][:5]
    with np.errstate(over="ignore"):
        rounded = ref.astype(np.float32)
    inf = np.isinf(rounded)
    np.testing.assert_array_equal(y[inf], rounded[inf])
    zero = ~nan & (ref == 0)
    np.testing.assert_array_equal(np.signbit(y[zero]), np.signbit(ref[zero]))
    finite = ~nan & ~inf
    err = ulp_error(y[finite], ref[finite])
    assert err.max() <= 0.51, (name, a[finite][err.argmax()], err.max())


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float32_special_values_as_torch(name):
    y = getattr(cgrad, name)(cgrad.tensor(SPECIALS)).numpy()
    if torch is None:
        pytest.skip("torch (the comparison oracle) is not installed; accuracy is checked above")
    t = getattr(torch, name)(torch.tensor(SPECIALS)).numpy()
    assert np.array_equal(np.isnan(y), np.isnan(t))
    ok = ~np.isnan(t)
    np.testing.assert_array_equal(y[np.isinf(t)], t[np.isinf(t)])
    np.testing.assert_array_equal(np.isinf(y), np.isinf(t))
    signed = ok & (SPECIALS == 0)
    np.testing.assert_array_equal(y[signed].view(np.uint32), t[signed].view(np.uint32))
    # torch's own float32 vector math is within ~1 ulp (erfc(-0.5), expm1(-17)
    # round the other way) and flushes log1p of a denormal to 0, where
    # glibc (and cgrad) give x; cgrad's are within 0.51 ulp (test above)
    fin = ok & ~np.isinf(t)
    np.testing.assert_allclose(y[fin], t[fin], rtol=3e-7, atol=F32.smallest_subnormal)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float32_strided_and_float16(name):
    a = sample(3000, seed=1)
    n = len(a) // 6 * 6
    full = getattr(cgrad, name)(cgrad.tensor(a[:n])).numpy()
    strided = getattr(cgrad, name)(cgrad.tensor(a[:n].reshape(6, -1)).t()).numpy().T.reshape(-1)
    np.testing.assert_array_equal(full.view(np.uint32), strided.view(np.uint32))
    h = a[np.abs(a) < 60000].astype(np.float16)
    yh = getattr(cgrad, name)(cgrad.tensor(h)).numpy()
    with np.errstate(over="ignore"):
        y32 = getattr(cgrad, name)(cgrad.tensor(h.astype(np.float32))).numpy().astype(np.float16)
    np.testing.assert_array_equal(np.isnan(yh), np.isnan(y32))
    np.testing.assert_array_equal(yh[~np.isnan(yh)], y32[~np.isnan(y32)])


ACTIVATIONS = {
    "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "elu": lambda F, x: F.elu(x),
    "elu_alpha": lambda F, x: F.elu(x, alpha=0.7),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, alpha=1.3),
    "softplus": lambda F, x: F.softplus(x),
    "softplus_beta": lambda F, x: F.softplus(x, beta=2.0, threshold=5.0),
    "silu": lambda F, x: F.silu(x),
    "mish": lambda F, x: F.mish(x),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.1),
}


def act_inputs():
    rng = np.random.default_rng(2)
    body = np.concatenate([rng.standard_normal(3000) * 3, rng.uniform(-12, 12, 2000)]).astype(np.float32)
    return np.concatenate([body, SPECIALS[np.abs(np.nan_to_num(SPECIALS)) < 1e19]])


def run_act(lib, name, a, strided):
    x = lib.tensor(a, requires_grad=True)
    xin = x.reshape(4, -1).t() if strided else x
    y = ACTIVATIONS[name](lib.nn.functional, xin)
    g = lib.tensor(np.linspace(-2, 2, len(a)).astype(np.float32))
    y.backward(g.reshape(4, -1).t() if strided else g)
    yv = y.detach().t().reshape(-1) if strided else y.detach()
    return yv.numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_contiguous_rows_match_strided(name):
    a = act_inputs()
    a = a[: len(a) // 4 * 4]
    y, gx = run_act(cgrad, name, a, False)
    ys, gxs = run_act(cgrad, name, a, True)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ys))
    np.testing.assert_array_equal(y[~np.isnan(y)].view(np.uint32), ys[~np.isnan(ys)].view(np.uint32))
    np.testing.assert_array_equal(np.isnan(gx), np.isnan(gxs))
    np.testing.assert_array_equal(gx[~np.isnan(gx)].view(np.uint32), gxs[~np.isnan(gxs)].view(np.uint32))


@requires_torch
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_special_values_as_torch(name):
    a = act_inputs()
    a = a[: len(a) // 4 * 4]
    y, gx = run_act(cgrad, name, a, False)
    yt, gxt = run_act(torch, name, a, False)
    # torch's vector loops give a NaN gradient at a NaN input for selu and
    # celu where its scalar loop (and cgrad) give g * scale: not compared
    nan_in = np.isnan(a)
    for mine, theirs, skip in ((y, yt, False), (gx, gxt, name in ("selu", "celu"))):
        if skip:
            mine, theirs = mine[~nan_in], theirs[~nan_in]
        np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs))
        ok = ~np.isnan(theirs)
        np.testing.assert_array_equal(np.isinf(mine[ok]), np.isinf(theirs[ok]))
        # atol: gelu's 1 + erf and gelu_tanh's 1 + tanh cancel for x near
        # -4 and -5, where the two libraries' erf and tanh (cgrad's within
        # 0.51 ulp, torch's within ~1) differ by an ulp of 1 (gradients: times
        # |g| <= 2); elsewhere they agree to rtol 1e-5
        np.testing.assert_allclose(mine[ok], theirs[ok], rtol=1e-5, atol=3e-6)
        zero = ok & (theirs == 0) & (mine == 0)
        np.testing.assert_array_equal(np.signbit(mine[zero]), np.signbit(theirs[zero]))
