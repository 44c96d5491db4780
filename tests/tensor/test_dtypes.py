"""Every dtype PyTorch's from_numpy takes (float32, float64, float16, int64,
int32, int16, int8, uint8, bool) against torch: the dtype objects, the
promotion table, numpy interop, the float16 conversions bit for bit,
conversions between dtypes and creation with dtype=. The op families over
every dtype pair are in test_dtypes_in_ops.py."""
import itertools
import pickle
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch
from dtype_machinery import DTYPES, FLOATS, INTS, check, name_of, run, sample


# ---------------------------------------------------------------------------
# dtype objects


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_dtype_properties(dt):
    c, t = getattr(cgrad, dt), getattr(torch, dt)
    assert repr(c) == repr(t).replace("torch.", "cgrad.")
    assert c.itemsize == t.itemsize
    assert c.is_floating_point == t.is_floating_point
    assert c.is_signed == t.is_signed
    assert c.is_complex == t.is_complex
    assert pickle.loads(pickle.dumps(c)) is c
    x = cgrad.zeros(2, dtype=c)
    assert x.dtype is c
    assert x.type() == torch.zeros(2, dtype=t).type().replace("torch.", "cgrad.")
    assert x.element_size() == t.itemsize
    assert x.is_floating_point() == t.is_floating_point


@requires_torch
def test_dtype_aliases():
    for name in ["half", "float", "double", "long", "int", "short", "bool"]:
        assert repr(getattr(cgrad, name)) == repr(getattr(torch, name)).replace("torch.", "cgrad.")
    assert cgrad.half is cgrad.float16 and cgrad.int is cgrad.int32 and cgrad.short is cgrad.int16


@requires_torch
@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promotion_table(a, b):
    ca, cb, ta, tb = getattr(cgrad, a), getattr(cgrad, b), getattr(torch, a), getattr(torch, b)
    assert name_of(cgrad.promote_types(ca, cb)) == name_of(torch.promote_types(ta, tb))
    assert cgrad.can_cast(ca, cb) == torch.can_cast(ta, tb)
    x, y = cgrad.ones(2, dtype=ca), cgrad.ones(2, dtype=cb)
    tx, ty = torch.ones(2, dtype=ta), torch.ones(2, dtype=tb)
    assert name_of(cgrad.result_type(x, y)) == name_of(torch.result_type(tx, ty))
    # zero-dim operands and numbers count by category only
    assert name_of(cgrad.result_type(x, cgrad.ones((), dtype=cb))) == \
        name_of(torch.result_type(tx, torch.ones((), dtype=tb)))
    for s in (True, 2, 2.5):
        assert name_of(cgrad.result_type(x, s)) == name_of(torch.result_type(tx, s))


def test_promotion_examples():
    c = cgrad
    assert (c.ones(2, dtype=c.uint8) + c.ones(2, dtype=c.int8)).dtype is c.int16
    assert (c.ones(2, dtype=c.int32) + c.ones(2, dtype=c.float16)).dtype is c.float16
    assert (c.ones(2, dtype=c.uint8) + c.ones(2, dtype=c.bool)).dtype is c.uint8
    assert (c.ones(2, dtype=c.float16) + c.ones(2, dtype=c.float32)).dtype is c.float32
    assert (c.ones(2, dtype=c.float16) + c.ones((), dtype=c.float64)).dtype is c.float16
    assert (c.ones(2, dtype=c.int8) + 1.5).dtype is c.float32
    assert (c.ones(2, dtype=c.int8) / c.ones(2, dtype=c.int8)).dtype is c.float32


# ---------------------------------------------------------------------------
# numpy interop


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_numpy_roundtrip_shares_memory(dt):
    a = sample(np.random.default_rng(0), dt, (3, 4))
    t = cgrad.from_numpy(a)
    assert name_of(t.dtype) == dt and t.numpy().dtype == a.dtype
    assert np.shares_memory(t.numpy(), a)
    a[0, 0] = a[1, 1]
    assert t[0, 0].item() == a[1, 1].item()
    c = cgrad.tensor(a)
    assert name_of(c.dtype) == dt and not np.shares_memory(c.numpy(), a)
    np.testing.assert_array_equal(c.numpy(), a)
    assert np.shares_memory(cgrad.as_tensor(a).numpy(), a)
    assert name_of(cgrad.as_tensor(a, dtype=cgrad.float64).dtype) == "float64"
    # numpy scalars keep their dtype too
    assert name_of(cgrad.tensor(a[0, 0]).dtype) == dt
    assert np.asarray(t).dtype == a.dtype
    assert t.tolist() == torch.from_numpy(a).tolist()


def numpy_cases(dt):
    base = np.arange(12).astype(dt).reshape(3, 4)
    readonly = base.copy()
    readonly.flags.writeable = False
    structured = np.zeros(4, dtype=[("a", "i1"), ("b", dt)])["b"]
    return {
        "noncontiguous": base[:, ::2],
        "transposed": base.T,
        "negative strides": base[::-1],
        "readonly": readonly,
        "big-endian": base.astype(np.dtype(dt).newbyteorder(">")),
        "zero-size": np.zeros((0, 3), dt),
        "0-d": np.array(5, dtype=dt),
        "odd strides": structured,
        "broadcast": np.broadcast_to(base[:1], (3, 4)),
    }


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("fn", ["from_numpy", "tensor", "as_tensor"])
def test_numpy_layouts(dt, fn):
    """Non-contiguous, negatively strided, read-only, big-endian, empty and
    0-d arrays: shared or copied (same strides), or the same error."""
    for case, arr in numpy_cases(dt).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exp, err = run(torch, lambda lib, a: getattr(lib, fn)(a), [arr])
            got, gerr = run(cgrad, lambda lib, a: getattr(lib, fn)(a), [arr])
        what = f"{fn}({case})"
        if err is not None:
            assert type(gerr) is type(err) and str(gerr) == str(err), f"{what}: {gerr!r} vs {err!r}"
            continue
        assert gerr is None, f"{what}: {gerr!r}"
        assert name_of(got.dtype) == name_of(exp.dtype), what
        assert tuple(got.shape) == tuple(exp.shape), what
        assert got.stride() == exp.stride(), f"{what}: strides {got.stride()} vs {exp.stride()}"
        assert got.is_contiguous() == exp.is_contiguous(), what
        if arr.size:
            shares_t = np.shares_memory(exp.numpy(), arr)
            assert np.shares_memory(got.numpy(), arr) == shares_t, what
        np.testing.assert_array_equal(got.numpy(), exp.numpy(), err_msg=what)


@requires_torch
def test_readonly_array_warns_once_like_torch():
    """PyTorch warns once per process on sharing a read-only array
    (from_numpy, as_tensor), never on copying it (tensor)."""
    import subprocess
    import sys
    code = (
        "import warnings, numpy as np, {lib}\n"
        "warnings.simplefilter('always')\n"
        "a = np.ones(3, 'f2'); a.flags.writeable = False\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    {lib}.tensor(a); n0 = len(w); {lib}.from_numpy(a); n1 = len(w); {lib}.as_tensor(a)\n"
        "print(n0, n1, len(w), str(w[0].message).split(' (Triggered')[0] if w else '')\n")
    outs = []
    for lib in ("torch", "cgrad"):
        outs.append(subprocess.run([sys.executable, "-c", code.format(lib=lib)], capture_output=True,
                                   text=True, check=True).stdout)
    assert outs[0] == outs[1]


@pytest.mark.parametrize("dt", DTYPES)
def test_unsupported_numpy_dtype_error(dt):
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.uint16"):
        cgrad.from_numpy(np.ones(2, np.uint16))
    with pytest.raises(TypeError):
        cgrad.tensor(np.ones(2, np.complex64))


# ---------------------------------------------------------------------------
# float16 <-> float32 conversions, bit for bit


def test_half_to_float_all_patterns():
    bits = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    h = bits.view(np.float16)
    got = cgrad.from_numpy(h).float().numpy()
    np.testing.assert_array_equal(got.view(np.uint32), h.astype(np.float32).view(np.uint32))
    # and back: every half survives the round trip, NaN payloads included
    back = cgrad.from_numpy(got).half().numpy()
    np.testing.assert_array_equal(back.view(np.uint16), bits)
    np.testing.assert_array_equal(back.view(np.uint16), got.astype(np.float16).view(np.uint16))
    np.testing.assert_array_equal(cgrad.from_numpy(h).double().numpy(), h.astype(np.float64))


@requires_torch
def test_float_to_half_rounding():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 1 << 32, size=1 << 20, dtype=np.uint64).astype(np.uint32)
    # the rounding boundaries: every half, the midpoints between neighbours,
    # and the floats next to them (ties to even, the subnormal range, overflow)
    h = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    h = np.unique(h[np.isfinite(h)].astype(np.float64))
    mids = ((h[:-1] + h[1:]) / 2).astype(np.float32)      # exact in float32
    edges = np.concatenate([h.astype(np.float32), mids]).view(np.uint32).astype(np.int64)
    near = (np.concatenate([edges + d for d in (-1, 0, 1)]) & 0xFFFFFFFF).astype(np.uint32)
    special = np.array([65504, 65519, 65520, 65536, 1e30, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0000001,
                        3 * 2 ** -26, 2 ** -14, 2 ** -14 - 2 ** -25], np.float32)
    f = np.concatenate([bits.view(np.float32), near.view(np.float32), special, -special])
    with np.errstate(over="ignore", invalid="ignore"):
        want = f.astype(np.float16).view(np.uint16)
    got = cgrad.from_numpy(f).half().numpy().view(np.uint16)
    np.testing.assert_array_equal(got, want)
    # torch agrees except on signalling NaNs, which it quiets (numpy keeps them)
    t = torch.from_numpy(f).half().numpy().view(np.uint16)
    differ = got != t
    assert np.all(np.isnan(f[differ]))


@requires_torch
def test_double_to_half_goes_through_float():
    """PyTorch converts double to half through float (two roundings), as
    c10::Half(double) does; numpy rounds once."""
    d = np.array([1 + 2 ** -11 + 2 ** -40, -(1 + 2 ** -11 + 2 ** -40), 65519.999, 1e300, 2 ** -25 + 2 ** -60])
    check(lambda lib, x: x.half(), d)
    check(lambda lib, x: x.to(lib.float16), d)
    check(lambda lib: lib.tensor(list(d), dtype=lib.float16))
    check(lambda lib: lib.full((3,), float(d[0]), dtype=lib.float16))


# ---------------------------------------------------------------------------
# conversions between dtypes


EDGE_FLOATS = [0.0, -0.0, 1.5, -1.5, 0.7, -0.7, 127.9, -128.9, 255.5, 256.0, 300.7, -300.7, 32768.0,
               70000.5, -70000.5, 2147483648.0, 3e9, -3e9, 5e9, 1e19, -1e19, 65504.0, 65520.0,
               float("nan"), float("inf"), float("-inf")]


@requires_torch
@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_casts(src, dst):
    """Every src -> dst conversion, out-of-range values included (integer
    wrap-around, float -> int as PyTorch's CPU kernels give it)."""
    rng = np.random.default_rng(1)
    if src in FLOATS:
        with np.errstate(over="ignore"):
            a = np.array(EDGE_FLOATS, dtype=src)
    else:
        a = sample(rng, src, (40,))
    check(lambda lib, x: x.to(getattr(lib, dst)), a, what=f"{src}->{dst}")
    # the strided path of the cast kernels, and the same through copy_
    check(lambda lib, x: x[::2].to(getattr(lib, dst)), a, what=f"{src}->{dst} strided")
    check(lambda lib, x: lib.zeros(x.shape, dtype=getattr(lib, dst)).copy_(x), a, what="copy_")


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_conversion_methods(dt):
    a = sample(np.random.default_rng(2), dt, (5,))
    for m in ["half", "int", "short", "char", "byte", "float", "double", "long", "bool"]:
        check(lambda lib, x: getattr(x, m)(), a, what=m)
    for target in DTYPES:
        check(lambda lib, x: x.type(getattr(lib, target)), a)
        legacy = torch.zeros(1, dtype=getattr(torch, target)).type().split(".")[-1]
        check(lambda lib, x: x.type(f"{lib.__name__}.{legacy}"), a)
        check(lambda lib, x: x.to(getattr(lib, target), copy=True), a)
    check(lambda lib, x: x.type(f"{lib.__name__}.FooTensor"), a)


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_python_scalars_of_every_dtype(dt):
    a = sample(np.random.default_rng(3), dt, (4,))
    check(lambda lib, x: x[1].item(), a)
    check(lambda lib, x: x.tolist(), a)
    check(lambda lib, x: float(x[2]), a)
    check(lambda lib, x: int(x[2]) if dt not in FLOATS or np.isfinite(float(x[2])) else 0, a)
    check(lambda lib, x: bool(x[0]), a)
    check(lambda lib, x: [1, 2, 3, 4, 5][x[0]] if dt in INTS and 0 <= x[0] < 5 else None, a)
    check(lambda lib, x: list(range(3))[x[0]], np.array([1], dt))


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_repr_of_every_dtype(dt):
    rng = np.random.default_rng(4)
    for a in [sample(rng, dt, (2,), small=True), sample(rng, dt, (3, 4)), sample(rng, dt, ()),
              np.zeros((0,), dt), np.zeros((2, 0), dt), sample(rng, dt, (1200,))]:
        with np.errstate(all="ignore"):
            assert repr(cgrad.tensor(a)) == repr(torch.tensor(a)).replace("torch.", "cgrad.")
    if dt in FLOATS:
        a = np.array([1.0, float("nan"), float("inf"), -2.5e-5], dt)
        assert repr(cgrad.tensor(a)) == repr(torch.tensor(a)).replace("torch.", "cgrad.")
        x = cgrad.tensor(a, requires_grad=True)
        assert repr(x * 2) == repr(torch.tensor(a, requires_grad=True) * 2).replace("torch.", "cgrad.")
    assert repr(cgrad.tensor([1, 2], dtype=getattr(cgrad, dt))) == \
        repr(torch.tensor([1, 2], dtype=getattr(torch, dt))).replace("torch.", "cgrad.")


# ---------------------------------------------------------------------------
# creation with dtype=


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_factories_take_every_dtype(dt):
    D = lambda lib: getattr(lib, dt)  # noqa: E731
    check(lambda lib: lib.zeros(2, 3, dtype=D(lib)))
    check(lambda lib: lib.ones((2,), dtype=D(lib)))
    check(lambda lib: lib.empty(2, dtype=D(lib)).dtype)
    check(lambda lib: lib.eye(3, 2, dtype=D(lib)))
    check(lambda lib: lib.zeros_like(lib.ones(2), dtype=D(lib)))
    check(lambda lib: lib.ones_like(lib.ones(2, 3).t(), dtype=D(lib)).stride())
    check(lambda lib: lib.empty_like(lib.ones(2), dtype=D(lib)).dtype)
    for v in [0, 1, -1, 7, 300, -256, 1.5, -0.5, True, 65519.0, 1e10, float("nan"), float("inf"), 2 ** 40]:
        for n in [1, 3]:
            check(lambda lib: lib.full((n,), v, dtype=D(lib)), what=f"full {v} {n}")
            check(lambda lib: lib.full_like(lib.ones(n), v, dtype=D(lib)), what=f"full_like {v}")
            check(lambda lib: lib.zeros(n, dtype=D(lib)).fill_(v), what=f"fill_ {v} {n}")
    for data in [[1, -1, 300], [1.7, -1.7, 300.5], [True, False], [2 ** 40], [float("nan")], [-1],
                 [-255, 255], [-0.9], [127.9], [65519.0, 1e10]]:
        check(lambda lib: lib.tensor(data, dtype=D(lib)), what=str(data))
    check(lambda lib: lib.tensor([lib.tensor(3), lib.tensor(4)], dtype=D(lib)))
    check(lambda lib: lib.tensor([lib.tensor(3.5)], dtype=D(lib)))
    check(lambda lib: lib.tensor([np.float32(1.5)], dtype=D(lib)))
    check(lambda lib: lib.tensor(np.array([1.5, -1.5, 300.7]), dtype=D(lib)))
    check(lambda lib: lib.as_tensor([1, 2], dtype=D(lib)))


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_ranges_take_every_dtype(dt):
    D = lambda lib: getattr(lib, dt)  # noqa: E731
    for args in [(5,), (0, 300, 50), (250, 260, 3), (-3, 3), (0, 1, 0.1), (0.5, 3000, 7.3), (0, 3, 0.7),
                 (0.5, 3.5, 1), (-1.5, 3.5, 1.5), (-10, 10, 0.013), (3, 1000, 1.1), (0, 3, 0)]:
        check(lambda lib: lib.arange(*args, dtype=D(lib)), what=f"arange{args}")
    for args in [(0, 1, 7), (-3.3, 1000, 9), (0.1, 0.2, 100), (-1000, 7, 1001), (0, 300, 5), (0, 100, 1),
                 (-5, 5, 3), (0.5, 100.7, 6), (0, 255, 18), (0, 1e5, 3)]:
        check(lambda lib: lib.linspace(*args, dtype=D(lib)), what=f"linspace{args}")


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_random_factories_take_every_dtype(dt):
    D = lambda lib: getattr(lib, dt)  # noqa: E731
    for fn in [lambda lib: lib.rand(3, dtype=D(lib)), lambda lib: lib.randn(3, dtype=D(lib)),
               lambda lib: lib.rand_like(lib.ones(3), dtype=D(lib))]:
        check(lambda lib: fn(lib).dtype)
    for lo, hi in [(0, 3), (0, 300), (-5, 3), (0, 100000), (-129, 0), (0, 256), (0, 2), (0, 3000)]:
        check(lambda lib: lib.randint(lo, hi, (4,), dtype=D(lib)).dtype, what=f"randint {lo} {hi}")
        got = []
        for lib in (torch, cgrad):      # float16 warns beyond 2^11, as float32 beyond 2^24
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                run(lib, lambda lib: lib.randint(lo, hi, (4,), dtype=D(lib)), [])
            got.append([str(v.message).split(" (Triggered")[0] for v in w])
        assert got[0] == got[1]
        check(lambda lib: lib.randint_like(lib.ones(2, dtype=D(lib)), lo, hi).dtype)
        if dt != "bool":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x = cgrad.randint(lo, hi, (200,), dtype=getattr(cgrad, dt)) if run(
                    torch, lambda lib: lib.randint(lo, hi, (1,), dtype=D(lib)), [])[1] is None else None
            if x is not None and not (dt == "float16" and max(abs(lo), abs(hi)) > 2048):
                v = x.double().numpy()      # (float16 rounds integers beyond 2048)
                assert v.min() >= lo and v.max() < hi
    if dt == "float16":
        # PyTorch draws a float32 uniform (24 bits) and rounds it to half
        cgrad.manual_seed(3)
        torch.manual_seed(3)
        u = cgrad.rand(10000, dtype=cgrad.float16).float().numpy()
        assert u.min() >= 0 and u.max() < 1
        np.testing.assert_array_equal(u, torch.rand(10000, dtype=torch.float16).float().numpy())
