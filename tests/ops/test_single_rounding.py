"""PyTorch's single-rounding pointwise ops, bit for bit: add/sub with alpha,
rsub, lerp, addcmul, addcdiv (fused multiply-adds in PyTorch's CPU kernels;
src/cgrad/fma_rows.h records what each computes), in every float dtype,
contiguous, strided, transposed, broadcast, with number and tensor
operands, in place and with out=, at sizes around PyTorch's vector widths.

Compared bitwise (not allclose) with torch; without torch, exact rational
arithmetic (fractions.Fraction) gives the correctly rounded fma on inputs
where one rounding and two differ."""
from fractions import Fraction

import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

DTYPES = ["float32", "float64", "float16", "bfloat16"]
SIZES = [1, 7, 16, 17, 31, 33, 64, 65, 1001]


def to_torch(c):
    if str(c.dtype) == "cgrad.bfloat16":
        return torch.from_numpy(c.float().numpy().copy()).to(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(c.numpy()).copy())


def to_cgrad(t):
    if t.dtype == torch.bfloat16:
        return cgrad.tensor(t.float().numpy()).to(cgrad.bfloat16)
    return cgrad.tensor(t.numpy())


def assert_bits(c, t, what):
    got = to_torch(c.detach())
    assert got.dtype == t.dtype, what
    assert got.shape == t.shape, what
    if t.dtype in (torch.float16, torch.bfloat16):
        same = got.view(torch.int16) == t.view(torch.int16)
    else:
        same = (got == t) | (got.isnan() & t.isnan())
    bad = (~same).nonzero().flatten().tolist()[:8]
    assert not bad, f"{what}: {int((~same).sum())} elements differ, first at {bad}"


def randn(shape, dtype, seed, positive=False):
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(shape, generator=g, dtype=torch.float64)
    if positive:
        t = t.abs() + 0.5
    return t.to(getattr(torch, dtype))


def layouts(n, dtype, count, positive_last=False):
    """(name, torch inputs, the same in cgrad, same layout) over one
    n-element layout each: contiguous, every other element, a transposed
    matrix, broadcast rows and columns, contiguous beside strided."""
    def make(shape, seed, i, view=lambda x: x):
        base = randn(shape, dtype, seed * 10 + i, positive_last and i == count - 1)
        return view(base), view(to_cgrad(base))

    every_other = lambda x: x[::2]
    transpose = lambda x: x.t()
    specs = {
        "contiguous": [((n,), 1, i, None) for i in range(count)],
        "strided": [((2 * n,), 2, i, every_other) for i in range(count)],
        "transposed": [((n, 3), 3, i, transpose) for i in range(count)],
        "broadcast-row": [((3, n), 4, 0, None)] + [((n,), 4, i, None) for i in range(1, count)],
        "broadcast-col": [((n, 5), 5, 0, None)] + [((n, 1), 5, i, None) for i in range(1, count)],
        "mixed": [((n,), 6, 0, None)] + [((2 * n,), 6, i, every_other) for i in range(1, count)],
    }
    for name, spec in specs.items():
        pairs = [make(shape, seed, i, view or (lambda x: x)) for shape, seed, i, view in spec]
        yield name, [p[0] for p in pairs], [p[1] for p in pairs]


# ---------------------------------------------------------------------------
# With torch: the functions, methods, in-place and out= forms

@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("alpha", [0.3, -1.7, 3])
def test_add_sub_alpha(op, dtype, n, alpha):
    for name, (a, b), (ca, cb) in layouts(n, dtype, 2):
        expected = getattr(torch, op)(a, b, alpha=alpha)
        assert_bits(getattr(cgrad, op)(ca, cb, alpha=alpha), expected, f"{op} {name}")
        assert_bits(getattr(ca, op)(cb, alpha=alpha), expected, f"Tensor.{op} {name}")
        if expected.shape == a.shape:
            target = ca.clone()
            getattr(target, op + "_")(cb, alpha=alpha)
            assert_bits(target, getattr(a.clone(), op + "_")(b, alpha=alpha), f"{op}_ {name}")
        out = cgrad.empty(tuple(expected.shape), dtype=getattr(cgrad, dtype))
        getattr(cgrad, op)(ca, cb, alpha=alpha, out=out)
        assert_bits(out, expected, f"{op} out= {name}")


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_add_sub_number_alpha(dtype, n):
    a = randn((n,), dtype, 7)
    ca = to_cgrad(a)
    for number, alpha in [(0.1, 0.3), (2.5, -1.3), (-3, 0.7)]:
        assert_bits(cgrad.add(ca, number, alpha=alpha), torch.add(a, number, alpha=alpha), "add number")
        assert_bits(cgrad.sub(ca, number, alpha=alpha), torch.sub(a, number, alpha=alpha), "sub number")
        assert_bits(cgrad.rsub(ca, number, alpha=alpha), torch.rsub(a, number, alpha=alpha), "rsub number")
        target = ca.clone()
        target.add_(number, alpha=alpha)
        assert_bits(target, a.clone().add_(number, alpha=alpha), "add_ number")
        b = randn((n,), dtype, 8)
        assert_bits(cgrad.rsub(ca, to_cgrad(b), alpha=alpha), torch.rsub(a, b, alpha=alpha), "rsub")


@requires_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_add_sub_alpha_integers(dtype):
    a = torch.randint(-100, 100, (1001,)).to(getattr(torch, dtype))
    b = torch.randint(-100, 100, (1001,)).to(getattr(torch, dtype))
    ca, cb = cgrad.tensor(a.numpy()), cgrad.tensor(b.numpy())
    for alpha in (3, -7):
        assert_bits(cgrad.add(ca, cb, alpha=alpha), torch.add(a, b, alpha=alpha), "add int")
        assert_bits(cgrad.sub(ca, cb, alpha=alpha), torch.sub(a, b, alpha=alpha), "sub int")


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_lerp(dtype, n):
    for name, (a, b, w), (ca, cb, cw) in layouts(n, dtype, 3):
        for weight in (0.3, 0.7, -0.4, 0.5, 1.6):
            expected = torch.lerp(a, b, weight)
            assert_bits(cgrad.lerp(ca, cb, weight), expected, f"lerp {name} {weight}")
            assert_bits(ca.lerp(cb, weight), expected, f"Tensor.lerp {name}")
            if expected.shape == a.shape:
                target = ca.clone()
                target.lerp_(cb, weight)
                assert_bits(target, a.clone().lerp_(b, weight), f"lerp_ {name}")
            out = cgrad.empty(tuple(expected.shape), dtype=getattr(cgrad, dtype))
            cgrad.lerp(ca, cb, weight, out=out)
            assert_bits(out, expected, f"lerp out= {name}")
        expected = torch.lerp(a, b, w)
        assert_bits(cgrad.lerp(ca, cb, cw), expected, f"lerp tensor weight {name}")
        if expected.shape == a.shape:
            target = ca.clone()
            target.lerp_(cb, cw)
            assert_bits(target, a.clone().lerp_(b, w), f"lerp_ tensor weight {name}")


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv(op, dtype, n):
    for name, (a, b, c), (ca, cb, cc) in layouts(n, dtype, 3, positive_last=True):
        for value in (0.3, -1.25, 1, 2):
            expected = getattr(torch, op)(a, b, c, value=value)
            assert_bits(getattr(cgrad, op)(ca, cb, cc, value=value), expected, f"{op} {name} {value}")
            assert_bits(getattr(ca, op)(cb, cc, value=value), expected, f"Tensor.{op} {name}")
            if expected.shape == a.shape:
                target = ca.clone()
                getattr(target, op + "_")(cb, cc, value=value)
                assert_bits(target, getattr(a.clone(), op + "_")(b, c, value=value), f"{op}_ {name}")
            out = cgrad.empty(tuple(expected.shape), dtype=getattr(cgrad, dtype))
            getattr(cgrad, op)(ca, cb, cc, value=value, out=out)
            assert_bits(out, expected, f"{op} out= {name}")


@requires_torch
@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv_mixed_dtypes(op):
    a, b, c = randn((65,), "float32", 1), randn((65,), "float64", 2), randn((65,), "float32", 3, True)
    expected = getattr(torch, op)(a, b, c, value=0.3)
    assert_bits(getattr(cgrad, op)(to_cgrad(a), to_cgrad(b), to_cgrad(c), value=0.3), expected, op)


# ---------------------------------------------------------------------------
# Gradients: PyTorch's formulas in its order, bit for bit; gradcheck

@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["add", "sub", "lerp", "lerp_tensor", "addcmul", "addcdiv"])
def test_gradients_bitwise(op, dtype):
    # one shape: a broadcast input's gradient is a sum, whose order is the
    # reduction's business, not these formulas' (gradcheck covers broadcasting)
    ts = [randn((4, 33), dtype, 20 + i, positive=(i == 2)).requires_grad_() for i in range(3)]
    cs = [to_cgrad(t.detach()).requires_grad_() for t in ts]
    g = randn((4, 33), dtype, 30)

    def run(lib, xs):
        if op in ("add", "sub"):
            return getattr(lib, op)(xs[0], xs[1], alpha=0.3), xs[:2]
        if op == "lerp":
            return lib.lerp(xs[0], xs[1], 0.7), xs[:2]
        if op == "lerp_tensor":
            return lib.lerp(xs[0], xs[1], xs[2]), xs
        return getattr(lib, op)(xs[0], xs[1], xs[2], value=0.3), xs

    t_out, t_in = run(torch, ts)
    c_out, c_in = run(cgrad, cs)
    assert_bits(c_out, t_out.detach(), op)
    assert type(c_out.grad_fn).__name__ == type(t_out.grad_fn).__name__
    t_grads = torch.autograd.grad(t_out, t_in, g)
    c_grads = cgrad.autograd.grad(c_out, c_in, to_cgrad(g))
    for k, (cg, tg) in enumerate(zip(c_grads, t_grads)):
        assert_bits(cg, tg, f"{op} grad {k}")


@pytest.mark.parametrize("op", ["addcmul", "addcdiv", "lerp", "add"])
def test_gradcheck(op):
    r = np.random.default_rng(0)
    a = cgrad.tensor(r.standard_normal((3, 4)), dtype=cgrad.float64, requires_grad=True)
    b = cgrad.tensor(r.standard_normal(4), dtype=cgrad.float64, requires_grad=True)
    c = cgrad.tensor(r.random((3, 1)) + 0.5, dtype=cgrad.float64, requires_grad=True)
    fn = {"addcmul": lambda a, b, c: cgrad.addcmul(a, b, c, value=0.7),
          "addcdiv": lambda a, b, c: cgrad.addcdiv(a, b, c, value=-0.7),
          "lerp": lambda a, b, c: cgrad.lerp(a, b.expand(3, 4), c.expand(3, 4)),
          "add": lambda a, b, c: cgrad.add(a, b, alpha=0.3) * c}[op]
    assert cgrad.autograd.gradcheck(fn, (a, b, c))
    assert cgrad.autograd.gradgradcheck(fn, (a, b, c))


# ---------------------------------------------------------------------------
# Without torch: exact arithmetic on inputs where one rounding and two differ

def round_to(x, dtype):
    """The exact rational x rounded to nearest (ties to even) in dtype."""
    if dtype == np.float64:
        return float(x)          # Fraction -> float is correctly rounded
    guess = np.float32(float(x))
    best = None
    for cand in (np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))):
        err = abs(Fraction(float(cand)) - x)
        key = (err, int(np.array(cand).view(np.uint32)) & 1)
        if best is None or key < best[0]:
            best = (key, cand)
    return best[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fma_exact_without_torch(dtype):
    r = np.random.default_rng(3)
    a, b, c = (r.standard_normal(257).astype(dtype) for _ in range(3))
    alpha = 0.3
    k = Fraction(float(dtype(alpha)))
    F = [list(map(Fraction, map(float, x))) for x in (a, b, c)]
    ca, cb, cc = cgrad.tensor(a), cgrad.tensor(b), cgrad.tensor(c)
    cases = {
        "add": (cgrad.add(ca, cb, alpha=alpha),
                [round_to(x + k * y, dtype) for x, y in zip(F[0], F[1])],
                [round_to(x + Fraction(float(round_to(k * y, dtype))), dtype) for x, y in zip(F[0], F[1])]),
        "addcmul": (cgrad.addcmul(ca, cb, cc, value=alpha),
                    [round_to(x + Fraction(float(round_to(k * y, dtype))) * z, dtype)
                     for x, y, z in zip(*F)],
                    None),
        "lerp": (cgrad.lerp(ca, cb, alpha),
                 [round_to(x + k * Fraction(float(round_to(y - x, dtype))), dtype) for x, y in zip(F[0], F[1])],
                 None),
    }
    for name, (got, fused, twice) in cases.items():
        got = got.numpy()
        assert got.dtype == dtype
        assert np.array_equal(got, np.array(fused, dtype=dtype)), name
        if twice is not None:     # the inputs do tell one rounding from two
            assert not np.array_equal(got, np.array(twice, dtype=dtype)), name


def test_addcdiv_order_without_torch():
    # addcdiv is s + (value * t1) / t2, two roundings in that order
    r = np.random.default_rng(4)
    a, b, c = r.standard_normal(257), r.standard_normal(257), r.random(257) + 0.5
    got = cgrad.addcdiv(cgrad.tensor(a), cgrad.tensor(b), cgrad.tensor(c), value=0.3).numpy()
    assert np.array_equal(got, a + (0.3 * b) / c)
    assert not np.array_equal(got, a + 0.3 * (b / c))


@requires_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("n", [32768, 65537, 100000, 200001])
def test_add_alpha_16_bit_thread_parts(dtype, n):
    # PyTorch splits a large tensor over its threads, and each part's tail
    # rounds in the 16-bit type: the parts follow the thread count
    if cgrad.get_num_threads() != torch.get_num_threads():
        pytest.skip("cgrad and torch run different thread counts")
    a, b = randn((n,), dtype, 40), randn((n,), dtype, 41)
    ca, cb = to_cgrad(a), to_cgrad(b)
    assert_bits(cgrad.add(ca, cb, alpha=0.3), torch.add(a, b, alpha=0.3), "add")
    assert_bits(cgrad.sub(ca, 0.7, alpha=1.3), torch.sub(a, 0.7, alpha=1.3), "sub number")
    target = ca.clone()
    target.add_(cb, alpha=-2.5)
    assert_bits(target, a.clone().add_(b, alpha=-2.5), "add_")


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["addcmul", "addcdiv", "lerp", "lerp_tensor"])
@pytest.mark.parametrize("value", [0.3, 1, 0.7])
def test_forward_ad_bitwise(op, dtype, value):
    import cgrad.autograd.forward_ad as cfw
    import torch.autograd.forward_ad as tfw
    primals = [randn((4, 33), dtype, 50 + i, positive=(i == 2)) for i in range(3)]
    tangents = [randn((4, 33), dtype, 60 + i) for i in range(3)]
    results = []
    for lib, fw, convert in ((torch, tfw, lambda t: t), (cgrad, cfw, to_cgrad)):
        with fw.dual_level():
            x = [fw.make_dual(convert(p), convert(t)) for p, t in zip(primals, tangents)]
            if op == "lerp":
                out = lib.lerp(x[0], x[1], value)
            elif op == "lerp_tensor":
                out = lib.lerp(x[0], x[1], x[2] * value)
            else:
                out = getattr(lib, op)(*x, value=value)
            results.append(fw.unpack_dual(out))
    (t_primal, t_tangent), (c_primal, c_tangent) = results
    assert_bits(c_primal, t_primal, f"{op} primal")
    assert_bits(c_tangent, t_tangent, f"{op} tangent")
