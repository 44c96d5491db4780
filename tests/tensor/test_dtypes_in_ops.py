"""Each op family over every dtype and dtype pair PyTorch's from_numpy takes,
against torch: pointwise arithmetic and comparisons, reductions, the matmul
family and joins, indexing, nn functions, autograd and training in float16,
serialization, a property test over random dtypes and operand kinds, and
float16 results bit for bit (values, result dtypes, grad_fns, gradients and
errors, with torch's types and texts). The dtype objects, interop and
conversions are in test_dtypes.py."""
import itertools
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cgrad
from helpers import requires_torch, torch
from dtype_machinery import DTYPES, FLOATS, INTS, SETTINGS, Zero, check, name_of, sample, tol


# ---------------------------------------------------------------------------
# pointwise ops over every dtype pair


ARITH = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "pow": lambda lib, a, b: a ** b,
    "add_alpha": lambda lib, a, b: lib.add(a, b, alpha=3),
    "sub_alpha": lambda lib, a, b: lib.sub(a, b, alpha=2),
}
COMPARE = {
    "lt": lambda lib, a, b: a < b,
    "le": lambda lib, a, b: a <= b,
    "gt": lambda lib, a, b: a > b,
    "ge": lambda lib, a, b: a >= b,
    "eq": lambda lib, a, b: a == b,
    "ne": lambda lib, a, b: a != b,
}
TENSOR_PAIR = {
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b),
    "fmax": lambda lib, a, b: lib.fmax(a, b),
    "fmin": lambda lib, a, b: lib.fmin(a, b),
    "logical_and": lambda lib, a, b: lib.logical_and(a, b),
    "logical_or": lambda lib, a, b: lib.logical_or(a, b),
    "logical_xor": lambda lib, a, b: lib.logical_xor(a, b),
    "clamp_min": lambda lib, a, b: lib.clamp_min(a, b),
    "clamp_max": lambda lib, a, b: lib.clamp_max(a, b),
    "where": lambda lib, a, b: lib.where(a > 0 if a.dtype != lib.bool else a, a, b),
    "equal": lambda lib, a, b: lib.equal(a, b),
}
BITWISE = {
    "and": lambda lib, a, b: a & b,
    "or": lambda lib, a, b: a | b,
    "xor": lambda lib, a, b: a ^ b,
}
SCALARS = [3, -2, 1000, 2 ** 40, 2.5, -0.5, True, False]
PAIRS = list(itertools.product(DTYPES, DTYPES))


def pair_values(a_dt, b_dt, op, seed=0):
    rng = np.random.default_rng(seed)
    a = sample(rng, a_dt, (3, 4), small=op == "pow")
    b = sample(rng, b_dt, (4,), small=op in ("pow", "add_alpha", "sub_alpha"))
    if op == "pow" and b_dt in INTS and a_dt in INTS + ["bool"]:
        b = np.abs(b).astype(b_dt)
    return a, b


def tol_for(op, *dts):
    # pow and true division by float16 go through libm / PyTorch's own
    # vectorised code: float16 results may differ in their last bit there;
    # add/sub with alpha is one fused multiply-add in PyTorch's vectorised
    # loop (two roundings in its scalar tail and in cgrad)
    if op in ("add_alpha", "sub_alpha"):
        return tol(*[d for d in dts if d in FLOATS] or ["float64"])
    if op == "pow":      # PyTorch special-cases x ** 2, x ** 3, x ** -0.5, ... (float results only)
        return tol(*[d for d in dts if d == "float16"] or ["float32"])
    return tol("float16") if op == "div" and "float16" in dts else {}


@requires_torch
@pytest.mark.parametrize("a_dt,b_dt", PAIRS)
def test_arithmetic_pairs(a_dt, b_dt):
    for op, fn in ARITH.items():
        a, b = pair_values(a_dt, b_dt, op)
        t = tol_for(op, a_dt, b_dt)
        check(fn, a, b, what=f"{op} tensor/tensor", **t)
        check(fn, a, Zero(b[1]), what=f"{op} tensor/0-d", **t)
        check(fn, Zero(a[0, 1]), b, what=f"{op} 0-d/tensor", **t)
        check(fn, Zero(a[0, 2]), Zero(b[2]), what=f"{op} 0-d/0-d", **t)
    for op in ("add", "mul", "sub", "div"):
        a, b = pair_values(a_dt, b_dt, op)
        check(lambda lib, x, y: x[:, ::2] * 1 + y[::2] if op == "add" else ARITH[op](lib, x.t(), y[:3]),
              a, b, what=f"{op} strided", **tol_for(op, a_dt, b_dt))


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_arithmetic_with_numbers(dt):
    a = sample(np.random.default_rng(5), dt, (3, 4))
    for op, fn in ARITH.items():
        for s in SCALARS:
            if op == "pow" and dt in INTS and isinstance(s, int) and abs(s) > 3:
                continue
            t = tol_for(op, dt)
            check(fn, a, s, what=f"{op} tensor, {s!r}", **t)
            if "alpha" not in op:
                check(lambda lib, x, y: fn(lib, y, x), a, s, what=f"{op} {s!r}, tensor", **t)


@requires_torch
@pytest.mark.parametrize("a_dt,b_dt", PAIRS)
def test_comparison_pairs(a_dt, b_dt):
    a, b = pair_values(a_dt, b_dt, "lt")
    for op, fn in COMPARE.items():
        check(fn, a, b, what=op)
        check(fn, a, Zero(b[0]), what=op + " 0-d")
    for op, fn in TENSOR_PAIR.items():
        check(fn, a, b, what=op)
        check(fn, a, Zero(b[3]), what=op + " 0-d")
    for op, fn in BITWISE.items():
        check(fn, a, b, what=op)
        check(fn, a, Zero(b[2]), what=op + " 0-d")


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_comparisons_with_numbers(dt):
    a = sample(np.random.default_rng(6), dt, (3, 4))
    for s in SCALARS + [-1, 255, 127, -128, 256, 65504.0, 70000.0, float("nan")]:
        for op, fn in list(COMPARE.items()) + list(BITWISE.items()):
            check(fn, a, s, what=f"{op} {s!r}")
            check(lambda lib, x, y: fn(lib, y, x), a, s, what=f"{op} {s!r} reflected")
        check(lambda lib, x, y: lib.where(x > 0 if x.dtype != lib.bool else x, x, y), a, s, what=f"where {s!r}")
        check(lambda lib, x, y: lib.where(x > 0 if x.dtype != lib.bool else x, y, x), a, s)
        check(lambda lib, x, y: lib.clamp(x, min=y), a, s, what=f"clamp min {s!r}")
        check(lambda lib, x, y: lib.clamp(x, max=y), a, s, what=f"clamp max {s!r}")
        check(lambda lib, x, y: lib.clamp(x, -y, y) if not isinstance(y, bool) else None, a, s)
    check(lambda lib, x: lib.where(x > 0 if x.dtype != lib.bool else x, 1.5, 2), a)
    check(lambda lib, x: lib.clamp(x, lib.zeros(4, dtype=lib.int8), lib.ones((), dtype=lib.float16)), a)


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_unary_ops(dt):
    a = sample(np.random.default_rng(7), dt, (3, 4), small=True)
    for name in ["neg", "abs", "sign", "relu", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid",
                 "reciprocal", "logical_not", "bitwise_not"]:
        t = tol("float16" if dt == "float16" else ("float64" if dt == "float64" else "float32"))
        check(lambda lib, x: getattr(lib, name)(x), a, what=name, **t)
        check(lambda lib, x: getattr(x, name)(), a, what=name + " method", **t)
    check(lambda lib, x: -x, a)
    check(lambda lib, x: ~x, a)
    check(lambda lib, x: abs(x), a)
    wide = sample(np.random.default_rng(8), dt, (20,))
    check(lambda lib, x: -x, wide)       # int8 -(-128), uint8 wrap-around
    check(lambda lib, x: x.abs(), wide)
    check(lambda lib, x: x.sign(), wide)


@requires_torch
@pytest.mark.parametrize("a_dt,b_dt", PAIRS)
def test_inplace_pairs(a_dt, b_dt):
    a, b = pair_values(a_dt, b_dt, "add")
    for op in ["add_", "sub_", "mul_", "div_"]:
        check(lambda lib, x, y: getattr(x, op)(y), a, b, what=op, **tol_for("div", a_dt, b_dt))
        check(lambda lib, x, y: getattr(x, op)(y), a, Zero(b[0]), what=op + " 0-d", **tol_for("div", a_dt))
    for op in ["__iand__", "__ior__", "__ixor__"]:
        check(lambda lib, x, y: getattr(x, op)(y), a, b, what=op)
    check(lambda lib, x, y: x.clamp_(y, y), a, b, what="clamp_")


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_inplace_with_numbers(dt):
    a = sample(np.random.default_rng(9), dt, (3, 4))
    for s in SCALARS:
        for op in ["add_", "sub_", "mul_", "div_"]:
            check(lambda lib, x: getattr(x, op)(s), a, what=f"{op}({s!r})", **tol_for("div", dt))
        check(lambda lib, x: x.clamp_(min=s), a, what=f"clamp_({s!r})")


@requires_torch
def test_float16_scalar_semantics():
    """PyTorch rounds a number to half for add/sub/pow/compare, but
    multiplies and divides a float16 tensor by the number's own value."""
    rng = np.random.default_rng(10)
    x = (rng.uniform(-4, 4, 4000)).astype(np.float16)
    for s in rng.uniform(0.1, 3, 20).tolist() + [2 ** -11 + 2 ** -22, 1 + 2 ** -11 - 2 ** -22]:
        for fn in [lambda lib, t: t + s, lambda lib, t: s - t, lambda lib, t: t * s, lambda lib, t: t / s,
                   lambda lib, t: s / t, lambda lib, t: t < s, lambda lib, t: t.abs() ** s,
                   lambda lib, t: s ** t, lambda lib, t: t * lib.tensor(s),
                   lambda lib, t: t / lib.tensor(s, dtype=lib.float64), lambda lib, t: t.clone().mul_(s),
                   lambda lib, t: t.clone().div_(s), lambda lib, t: lib.clamp(t, min=s)]:
            check(fn, x, **(tol("float16") if fn.__code__.co_code.count(b"**") else {}))


# ---------------------------------------------------------------------------
# reductions


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_reductions(dt):
    rng = np.random.default_rng(11)
    a = sample(rng, dt, (3, 4, 5), small=dt in FLOATS)
    t = tol(dt) if dt in FLOATS else tol("float32")     # (for the float results of integer inputs)
    for name, fn in {
        "sum": lambda lib, x: x.sum(),
        "sum dim": lambda lib, x: x.sum(1),
        "sum dims keepdim": lambda lib, x: x.sum((0, 2), keepdim=True),
        "sum dtype": lambda lib, x: x.sum(dtype=lib.float64),
        "sum dtype half": lambda lib, x: x.sum(0, dtype=lib.float16),
        "mean": lambda lib, x: x.mean(),
        "mean dim": lambda lib, x: x.mean(2),
        "mean dtype": lambda lib, x: x.mean(dtype=lib.float32),
        "prod": lambda lib, x: x[0, :2].prod(),
        "prod dim": lambda lib, x: x[:, :2, :3].prod(1),
        "prod dtype": lambda lib, x: x[0, :2].prod(dtype=lib.int32) if dt != "bool" else x.prod(dtype=lib.int8),
        "max": lambda lib, x: x.max(),
        "max dim": lambda lib, x: x.max(1),
        "min dim": lambda lib, x: x.min(-1, keepdim=True),
        "amax": lambda lib, x: x.amax((0, 1)),
        "amin": lambda lib, x: x.amin(2),
        "argmax": lambda lib, x: x.argmax(),
        "argmin dim": lambda lib, x: x.argmin(1),
        "var": lambda lib, x: x.var(),
        "std dim": lambda lib, x: x.std(1),
        "logsumexp": lambda lib, x: x.logsumexp(1),
        "permuted max": lambda lib, x: x.permute(2, 0, 1).max(0),
        "permuted sum": lambda lib, x: x.permute(2, 0, 1).sum(1),
    }.items():
        check(fn, a, what=name, **t)
    # the reductions of a 0-d and of an empty tensor
    check(lambda lib, x: (x.sum(), x.max(), x.prod()), sample(rng, dt, ()))
    check(lambda lib, x: (x.sum(0), x.amax(1)), np.zeros((0, 3), dt))


@requires_torch
def test_small_integer_sums_do_not_wrap():
    a = np.full((1000,), 127, np.int8)
    check(lambda lib, x: x.sum(), a)
    check(lambda lib, x: (x + x).sum(), a)             # the int8 sum wraps, its reduction does not
    check(lambda lib, x: x.byte().sum(0), np.full((3, 300), -1, np.int8))
    check(lambda lib, x: x.half().sum(), np.full((5000,), 30000, np.int16), **tol("float16"))


# ---------------------------------------------------------------------------
# linear algebra, joins


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_matmul_family(dt):
    rng = np.random.default_rng(12)
    t = tol(dt) if dt in FLOATS else {}
    small = dt in FLOATS
    a, b = sample(rng, dt, (3, 4), small), sample(rng, dt, (4, 5), small)
    v, w = sample(rng, dt, (4,), small), sample(rng, dt, (4,), small)
    A, B = sample(rng, dt, (2, 3, 4), small), sample(rng, dt, (2, 4, 5), small)
    check(lambda lib, x, y: lib.mm(x, y), a, b, what="mm", **t)
    check(lambda lib, x, y: x @ y, a, b, what="@", **t)
    check(lambda lib, x, y: lib.mv(x, y), a, v, what="mv", **t)
    check(lambda lib, x, y: lib.dot(x, y), v, w, what="dot", **t)
    check(lambda lib, x, y: lib.bmm(x, y), A, B, what="bmm", **t)
    check(lambda lib, x, y: lib.matmul(x, y), A, b, what="matmul 3d@2d", **t)
    check(lambda lib, x, y: lib.matmul(x, y), v, A.transpose(0, 2, 1) if False else B, what="matmul 1d@3d", **t)
    big_a, big_b = sample(rng, dt, (40, 50), small), sample(rng, dt, (50, 30), small)
    check(lambda lib, x, y: x @ y, big_a, big_b, what="large mm",
          **(dict(rtol=1e-5, atol=1e-4) if dt == "float32" else t))     # BLAS's summation order
    check(lambda lib, x, y: x.t() @ y, big_a[:, :40].T.copy(), big_b[:40], what="transposed mm", **t)
    for other in DTYPES:
        if other != dt:
            o = sample(rng, other, (4, 5))
            check(lambda lib, x, y: lib.mm(x, y), a, o, what=f"mm {dt} {other}")
            check(lambda lib, x, y: lib.dot(x[0], y[:, 0]), a, o, what=f"dot {dt} {other}")
            check(lambda lib, x, y: lib.mv(x, y[:, 0]), a, o, what=f"mv {dt} {other}")
            check(lambda lib, x, y: lib.bmm(x[None], y[None]), a, o, what=f"bmm {dt} {other}")


@requires_torch
def test_half_matmul_accumulates_in_float():
    rng = np.random.default_rng(13)
    a = rng.standard_normal((64, 256)).astype(np.float16)
    b = rng.standard_normal((256, 32)).astype(np.float16)
    check(lambda lib, x, y: x @ y, a, b, **tol("float16"))
    got = (cgrad.tensor(a) @ cgrad.tensor(b)).float().numpy()
    exact = (a.astype(np.float64) @ b.astype(np.float64))
    assert np.max(np.abs(got - exact) / (np.abs(exact) + 1)) < 2e-3


@requires_torch
@pytest.mark.parametrize("a_dt,b_dt", PAIRS)
def test_cat_stack_promote(a_dt, b_dt):
    a, b = pair_values(a_dt, b_dt, "add")
    check(lambda lib, x, y: lib.cat([x, y[None].expand(2, 4)]), a, b)
    check(lambda lib, x, y: lib.stack([x[0], y], 1), a, b)
    check(lambda lib, x, y: lib.cat([x.t(), y[:, None]], 1), a, b)
    check(lambda lib, x, y: lib.cat([x, lib.zeros(0, dtype=y.dtype)]), a, b)


# ---------------------------------------------------------------------------
# indexing


@requires_torch
@pytest.mark.parametrize("idx_dt", DTYPES)
def test_index_tensor_dtypes(idx_dt):
    """int64 and int32 index tensors index; uint8 and bool ones are masks
    (uint8 with a deprecation warning); the others are refused."""
    x = np.arange(24.0).reshape(4, 6).astype(np.float32)
    vals = {"bool": [True, False, True, False]}.get(idx_dt, [0, 2, 1, 3])
    idx = np.array(vals, dtype=idx_dt)
    check(lambda lib, t, i: t[i], x, idx, what="getitem")
    check(lambda lib, t, i: t[:, i], x, idx[:3] if idx_dt not in ("bool", "uint8") else np.array([1, 0, 1, 1, 0, 0], idx_dt),
          what="getitem dim 1")
    check(lambda lib, t, i: t[i, i], x, idx, what="two indices")
    check(lambda lib, t, i: t[Zero(np.array(1, idx_dt)).value.item() if False else lib.tensor(1, dtype=i.dtype)],
          x, idx, what="0-d")
    check(lambda lib, t, i: t[lib.tensor(0, dtype=i.dtype)], x, idx, what="0-d zero")
    check(lambda lib, t, i: lib.index_select(t, 1, i[:2]), x, idx, what="index_select")

    def put(lib, t, i):
        t[i] = 5
        return t

    def put_values(lib, t, i):
        t[i] = lib.ones(6) * 2
        return t

    check(put, x, idx, what="setitem number")
    check(put_values, x, idx, what="setitem tensor")


@requires_torch
def test_uint8_mask_warns():
    x = np.arange(6.0).reshape(2, 3)
    m = np.array([[1, 0, 1], [0, 1, 1]], np.uint8)
    for fn in [lambda lib, t, k: t[k], lambda lib, t, k: t.__setitem__(k, lib.tensor([1.0, 2, 3, 4], dtype=t.dtype))]:
        got = []
        for lib in (torch, cgrad):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                fn(lib, lib.tensor(x), lib.tensor(m))
            got.append([str(v.message).split(" (Triggered")[0].replace("torch.", "cgrad.") for v in w])
        assert got[0] == got[1]


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_indexing_tensors_of_every_dtype(dt):
    rng = np.random.default_rng(14)
    a = sample(rng, dt, (4, 5))
    i = np.array([3, 0, 3, 1])
    check(lambda lib, x: x[1:, ::2], a)
    check(lambda lib, x, k: x[k], a, i)
    check(lambda lib, x, k: x[k, 1:], a, i)
    check(lambda lib, x: x[x > 0] if dt != "bool" else x[x], a)
    check(lambda lib, x, k: lib.index_select(x, 1, k), a, i)
    check(lambda lib, x: x.masked_fill(x > 1 if dt != "bool" else x, 0), a)

    def put(lib, x, k):
        x[k] = x[0]
        x[0, 0] = 1
        x[x == x[1, 1]] = 0 if dt != "bool" else False
        return x

    check(put, a, i)
    for v in [300, -1, 2 ** 40, 1.5, 1e10, float("nan"), True, 70000.0]:
        def put_number(lib, x):
            x[1] = v
            return x
        check(put_number, a, what=f"setitem {v!r}")


# ---------------------------------------------------------------------------
# nn functions


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_nn_functions(dt):
    import cgrad.nn.functional as CF
    import torch.nn.functional as TF
    F = {cgrad: CF, torch: TF}
    rng = np.random.default_rng(15)
    x = sample(rng, dt, (4, 5), small=True)
    p = np.clip(np.abs(sample(rng, "float32", (4, 5), small=True)) / 4, 0.05, 0.95).astype(dt) \
        if dt in FLOATS else sample(rng, dt, (4, 5), small=True)
    lab = np.array([0, 2, 4, 1])
    t = tol(dt) if dt in FLOATS else {}
    check(lambda lib, a: F[lib].softmax(a, 1), x, what="softmax", **t)
    check(lambda lib, a: F[lib].log_softmax(a, 0), x, what="log_softmax", **t)
    check(lambda lib, a: lib.softmax(a, -1, dtype=lib.float32), x, what="softmax dtype", **tol("float32"))
    check(lambda lib, a: F[lib].relu(a), x, what="relu")
    check(lambda lib, a, b: F[lib].mse_loss(a, b), x, p, what="mse", **t)
    check(lambda lib, a, b: F[lib].mse_loss(a, b, reduction="none"), x, p, what="mse none", **t)
    check(lambda lib, a, b: F[lib].l1_loss(a, b), x, p, what="l1", **t)
    check(lambda lib, a, b: F[lib].binary_cross_entropy(a, b), p, p, what="bce", **t)
    check(lambda lib, a, y: F[lib].cross_entropy(a, y), x, lab, what="cross_entropy", **t)
    check(lambda lib, a, y: F[lib].nll_loss(a, y), x, lab, what="nll", **t)
    check(lambda lib, a, y: F[lib].nll_loss(a, y.byte()), x, lab, what="nll byte target", **t)
    check(lambda lib, a, y: F[lib].cross_entropy(a, y.to(a.dtype)), x, lab, what="ce target dtype")
    check(lambda lib, a: F[lib].linear(a, a), x, what="linear", **t)
    check(lambda lib, a: F[lib].linear(a, a, a[0, :4]), x, what="linear bias", **t)
    check(lambda lib, a: F[lib].dropout(a, 0.0), x, what="dropout 0")
    check(lambda lib, a: F[lib].dropout(a, 1.0), x, what="dropout 1")
    check(lambda lib, a: F[lib].dropout(a, 0.5).dtype, x, what="dropout")
    check(lambda lib, a: F[lib].cross_entropy(a.float(), lib.tensor([0, 2, 4, 1], dtype=a.dtype))
          if a.dtype != lib.bool else None, x, what="ce int targets", **tol("float32"))


# ---------------------------------------------------------------------------
# autograd through float16


HALF_GRAD_OPS = {
    "add": lambda lib, a, b: a + b,
    "sub alpha": lambda lib, a, b: lib.sub(a, b, alpha=2),
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / (b.abs() + 1),
    "pow": lambda lib, a, b: a.abs() ** b,
    "pow scalar": lambda lib, a, b: a ** 2,
    "rpow": lambda lib, a, b: 2 ** a,
    "exp": lambda lib, a, b: (a / 4).exp(),
    "log": lambda lib, a, b: (a.abs() + 0.5).log(),
    "sqrt": lambda lib, a, b: (a.abs() + 0.5).sqrt(),
    "tanh sigmoid": lambda lib, a, b: a.tanh() + b.sigmoid(),
    "sin cos": lambda lib, a, b: a.sin() * b.cos(),
    "relu abs neg": lambda lib, a, b: a.relu() + b.abs() - (-a),
    "reciprocal": lambda lib, a, b: (a.abs() + 1).reciprocal(),
    "sum mean": lambda lib, a, b: a.sum(1) + b.mean(1),
    "sum dtype": lambda lib, a, b: a.sum(0, dtype=lib.float32),
    "prod": lambda lib, a, b: a.prod(1),
    "max": lambda lib, a, b: a.max(1)[0] + b.amax(1) + a.max(),
    "var std": lambda lib, a, b: a.var(1) + b.std(1),
    "logsumexp": lambda lib, a, b: a.logsumexp(1),
    "matmul": lambda lib, a, b: a @ b.t(),
    "mv dot": lambda lib, a, b: lib.mv(a, b[0]) + lib.dot(a[0], b[1]),
    "softmax": lambda lib, a, b: lib.softmax(a, 1) * b,
    "log_softmax": lambda lib, a, b: lib.log_softmax(a, 0),
    "where clamp": lambda lib, a, b: lib.where(a > 0, a, b).clamp(-1, 1),
    "maximum": lambda lib, a, b: lib.maximum(a, b) + lib.minimum(a, b),
    "index": lambda lib, a, b: a[[0, 2, 2]] + b[1:4, None, 0],
    "cat stack": lambda lib, a, b: lib.cat([a, b]) * 2 + lib.stack([a, b]).sum(0).sum(),
    "view permute": lambda lib, a, b: a.view(-1)[2:] + b.t().reshape(-1)[2:],
    "to float": lambda lib, a, b: a.float() * b.double(),
    "mixed promotion": lambda lib, a, b: a * lib.tensor(1.5) + b * lib.ones(5, dtype=lib.float32),
    "int operand": lambda lib, a, b: a * lib.arange(5, dtype=lib.int8) + b / lib.ones(5, dtype=lib.int32),
}


@pytest.mark.parametrize("name", list(HALF_GRAD_OPS))
def test_float16_autograd(name):
    from helpers import compare_with_torch
    rng = np.random.default_rng(16)
    a = rng.uniform(-2, 2, (4, 5)).astype(np.float16)
    b = rng.uniform(-2, 2, (4, 5)).astype(np.float16)
    # ("to float" rounds to float32 inside: too coarse for finite differences)
    compare_with_torch(HALF_GRAD_OPS[name], a, b, rtol=5e-3, atol=5e-3, gradcheck=name != "to float")


@requires_torch
def test_float16_requires_grad_and_losses():
    import cgrad.nn.functional as CF
    import torch.nn.functional as TF
    from helpers import compare_with_torch
    rng = np.random.default_rng(17)
    x = rng.standard_normal((4, 5)).astype(np.float16)
    p = rng.uniform(0.1, 0.9, (4, 5)).astype(np.float16)
    lab = np.array([0, 2, 4, 1])
    F = {cgrad: CF, torch: TF}
    kw = dict(rtol=5e-3, atol=5e-3)
    compare_with_torch(lambda lib, a, t: F[lib].cross_entropy(a, t), x, lab, **kw)
    compare_with_torch(lambda lib, a, t: F[lib].nll_loss(F[lib].log_softmax(a, 1), t), x, lab, **kw)
    compare_with_torch(lambda lib, a, b: F[lib].mse_loss(a, b), x, p, **kw)
    compare_with_torch(lambda lib, a, b: F[lib].binary_cross_entropy(b, b.detach()), x, p, **kw)
    compare_with_torch(lambda lib, a, b: F[lib].linear(a, b, b[0, :4]), x, p, **kw)
    assert cgrad.ones(2, dtype=cgrad.float16, requires_grad=True).requires_grad
    for dt in INTS + ["bool"]:
        for fn in [lambda lib: lib.ones(2, dtype=getattr(lib, dt), requires_grad=True),
                   lambda lib: lib.ones(2, dtype=getattr(lib, dt)).requires_grad_()]:
            check(fn)


@requires_torch
def test_float16_training_step():
    """An nn.Linear model converted to float16 trains with SGD and Adam."""
    for opt in ("SGD", "Adam"):
        rng = np.random.default_rng(18)
        w0 = rng.standard_normal((3, 5)).astype(np.float16)
        xs = rng.standard_normal((8, 5)).astype(np.float16)
        ys = rng.standard_normal((8, 3)).astype(np.float16)
        results = []
        for lib in (torch, cgrad):
            w = lib.tensor(w0, requires_grad=True)
            o = getattr(lib.optim, opt)([w], lr=0.05)
            for _ in range(3):
                o.zero_grad()
                loss = ((lib.tensor(xs) @ w.t() - lib.tensor(ys)) ** 2).mean()
                loss.backward()
                o.step()
            results.append(w.detach().float().numpy())
            assert name_of(w.dtype) == "float16"
        np.testing.assert_allclose(results[1], results[0], rtol=1e-2, atol=1e-2)


# ---------------------------------------------------------------------------
# serialization and pickling keep every dtype


@pytest.mark.parametrize("dt", DTYPES)
def test_save_load_pickle(dt, tmp_path):
    a = sample(np.random.default_rng(20), dt, (3, 2))
    t = cgrad.tensor(a)
    cgrad.save({"t": t, "v": [t[0]]}, tmp_path / "x.cg")
    back = cgrad.load(tmp_path / "x.cg")
    assert back["t"].dtype is t.dtype and back["v"][0].dtype is t.dtype
    np.testing.assert_array_equal(back["t"].numpy(), a)
    p = pickle.loads(pickle.dumps(t))
    assert p.dtype is t.dtype
    np.testing.assert_array_equal(p.numpy(), a)
    import copy
    assert copy.deepcopy(t).dtype is t.dtype


# ---------------------------------------------------------------------------
# property test: every op family, random dtypes, operand kinds and shapes


@st.composite
def broadcast_pair(draw):
    out = draw(st.lists(st.integers(0, 3), min_size=0, max_size=3))
    shapes = []
    for _ in range(2):
        lead = draw(st.integers(0, len(out)))
        shapes.append(tuple(1 if draw(st.booleans()) else d for d in out[lead:]))
    return shapes


ALL_BINARY = dict(ARITH, **COMPARE, **BITWISE)


def operand(rng, kind, dt, shape, op):
    small = op in ("pow", "add_alpha", "sub_alpha")
    if kind == "tensor":
        return sample(rng, dt, shape, small)
    if kind == "zerodim":
        return Zero(sample(rng, dt, (), small))
    if dt in FLOATS:
        return float(sample(rng, "float64", (), True))
    if dt == "bool":
        return bool(rng.integers(0, 2))
    return int(rng.integers(-4, 5) if small else rng.integers(-300, 300))


@requires_torch
@SETTINGS
@given(op=st.sampled_from(sorted(ALL_BINARY)), da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES),
       kinds=st.sampled_from([("tensor", "tensor"), ("tensor", "zerodim"), ("zerodim", "tensor"),
                              ("tensor", "number"), ("number", "tensor"), ("zerodim", "number")]),
       shapes=broadcast_pair(), seed=st.integers(0, 2 ** 16))
def test_binary_ops_property(op, da, db, kinds, shapes, seed):
    rng = np.random.default_rng(seed)
    a = operand(rng, kinds[0], da, shapes[0], op)
    b = operand(rng, kinds[1], db, shapes[1], op)
    if op == "pow" and not isinstance(b, float):
        # integer powers: non-negative exponents of integer bases
        b = np.abs(b) if isinstance(b, np.ndarray) and db != "bool" else (abs(b) if isinstance(b, int) else b)
    if kinds[0] == "number" and op in ("add_alpha", "sub_alpha"):
        return
    check(ALL_BINARY[op], a, b, what=f"{op} {da} {db} {kinds}", **tol_for(op, da, db))


@requires_torch
@SETTINGS
@given(da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES), dc=st.sampled_from(DTYPES),
       shapes=broadcast_pair(), seed=st.integers(0, 2 ** 16), fn=st.sampled_from(["where", "clamp", "cat"]))
def test_three_operand_promotion_property(da, db, dc, shapes, seed, fn):
    rng = np.random.default_rng(seed)
    a, b = sample(rng, da, shapes[0]), sample(rng, db, shapes[1])
    c = Zero(sample(rng, dc, ()))
    if fn == "where":
        check(lambda lib, x, y, z: lib.where(x > 0 if x.dtype != lib.bool else x, y, z), a, b, c)
    elif fn == "clamp":
        check(lambda lib, x, y, z: lib.clamp(x, y, z), a, b, c)
    else:
        check(lambda lib, x, y, z: lib.cat([x.reshape(-1), y.reshape(-1), z.reshape(1)]), a, b, c)


# ---------------------------------------------------------------------------
# float16 bit for bit: cgrad rounds where PyTorch's CPU kernels round


BITWISE_HALF = {
    "add mul div": lambda lib, F, x, z: (x + z) * z / (x.abs() + 0.5),
    "scalar ops": lambda lib, F, x, z: x * 0.3 + z / 3.7 - 1.1,
    "sin cos": lambda lib, F, x, z: x.sin() + z.cos(),
    "recip sqrt": lambda lib, F, x, z: (x.abs() + 0.5).reciprocal() + (z.abs() + 0.1).sqrt(),
    "exp log": lambda lib, F, x, z: (x / 4).exp() + (z.abs() + 0.5).log(),
    "tanh sigmoid": lambda lib, F, x, z: x.tanh() * z.sigmoid(),
    "pow": lambda lib, F, x, z: (x.abs() + 0.5) ** z + x ** 2 + 2.5 ** z,
    "maxmin where clamp": lambda lib, F, x, z: lib.where(x > 0, lib.maximum(x, z), z).clamp(-0.5, 0.5),
    "sum mean": lambda lib, F, x, z: x.sum(1) + z.mean(0),
    "amax var std": lambda lib, F, x, z: x.amax(1) + z.var(1) + x.std(0),
    "prod": lambda lib, F, x, z: (x / 4 + 1).prod(1),
    "logsumexp": lambda lib, F, x, z: x.logsumexp(1) + z.logsumexp(0),
    "softmax": lambda lib, F, x, z: F.softmax(x, 1) + F.softmax(z, 0),
    "log_softmax": lambda lib, F, x, z: F.log_softmax(x, 1) + F.log_softmax(z, 0),
    "cross_entropy": lambda lib, F, x, z: F.cross_entropy(x, lib.tensor(list(range(7)) * 4 + [0] * 5)),
    "nll": lambda lib, F, x, z: F.nll_loss(F.log_softmax(z, 1), lib.arange(33), reduction="none"),
    "mse bce": lambda lib, F, x, z: F.mse_loss(x, z) + F.binary_cross_entropy(x.sigmoid(), z.sigmoid().detach()),
    "linear": lambda lib, F, x, z: F.linear(x, z, z[0].detach()),
    "matmul": lambda lib, F, x, z: x @ z,
}


@requires_torch
@pytest.mark.parametrize("name", list(BITWISE_HALF))
def test_float16_bit_for_bit(name):
    """Values and gradients of float16 ops against torch's, bit for bit
    (a few last-bit differences allowed where the two libms differ)."""
    import cgrad.nn.functional as CF
    import torch.nn.functional as TF
    rng = np.random.default_rng(21)
    a = (rng.standard_normal((33, 33)) * 2).astype(np.float16)
    b = (rng.standard_normal((33, 33)) * 2).astype(np.float16)
    res = []
    for lib, F in ((torch, TF), (cgrad, CF)):
        x, z = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        y = BITWISE_HALF[name](lib, F, x, z)
        g = np.random.default_rng(22).standard_normal(tuple(y.shape)).astype(np.float16)
        y.backward(lib.tensor(g))
        res.append([y.detach().numpy()] + [np.zeros(1, np.float16) if v.grad is None else v.grad.numpy()
                                           for v in (x, z)])
    for what, t, c in zip(("value", "grad x", "grad z"), *res):
        assert t.dtype == c.dtype == np.float16
        differ = np.count_nonzero(t.view(np.uint16) != c.view(np.uint16))
        assert differ <= max(1, t.size // 200), f"{name} {what}: {differ} of {t.size} differ"
        np.testing.assert_allclose(c.astype(np.float64), t.astype(np.float64), rtol=2e-3, atol=2e-3)


@requires_torch
def test_module_half():
    lin = cgrad.nn.Linear(4, 3)
    tlin = torch.nn.Linear(4, 3)
    with torch.no_grad():
        tlin.weight.copy_(torch.tensor(lin.weight.detach().numpy()))
        tlin.bias.copy_(torch.tensor(lin.bias.detach().numpy()))
    lin.half()
    tlin.half()
    assert lin.weight.dtype is cgrad.float16 and lin.weight.requires_grad
    x = np.random.default_rng(23).standard_normal((5, 4)).astype(np.float16)
    y, ty = lin(cgrad.tensor(x)), tlin(torch.tensor(x))
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(lin.weight.grad.numpy(), tlin.weight.grad.numpy())
    assert lin.double().weight.dtype is cgrad.float64
