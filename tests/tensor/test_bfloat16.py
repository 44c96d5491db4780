"""cgrad.bfloat16 against torch.bfloat16: the dtype object, its conversions
(round to nearest even on the bits, NaN stays NaN), promotion, printing,
factories, pointwise ops, reductions, matmul, softmax / norms / losses,
indexing and joins, autograd (gradients in bfloat16, PyTorch's grad_fn
names), optimizer steps, and interop (numpy refuses it as PyTorch does,
pickling, torch.save / load both ways).

numpy has no bfloat16: values are compared as float32 arrays (every
bfloat16 is a float32), bit for bit; NaN compares equal to NaN (PyTorch's
own NaN bits differ between its kernels). Without torch the hand-computed
roundings and the float32 relations (a bfloat16 op is the float32 op
rounded once) are checked."""
import io
import math
import pickle
import struct

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

BF = cgrad.bfloat16


def bits_of(value):
    """The bfloat16 bits of a float32 value (its top half)."""
    return struct.unpack("<I", struct.pack("<f", value))[0] >> 16


def values(t):
    """A tensor's values as a float32 (or its dtype's) numpy array."""
    t = t.detach()
    if str(t.dtype).endswith("bfloat16"):
        t = t.float()
    return t.numpy()


def assert_same(c, t, what=""):
    """cgrad result c equals torch result t: dtype, shape, values bit for bit."""
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], what
    assert tuple(c.shape) == tuple(t.shape), what
    np.testing.assert_array_equal(values(c), values(t), err_msg=what)


def both(array, dtype="bfloat16", requires_grad=False):
    """The same float32 array as a cgrad and a torch tensor of dtype."""
    array = np.asarray(array, dtype=np.float32)
    c = cgrad.tensor(array).to(getattr(cgrad, dtype)).requires_grad_(requires_grad)
    t = torch.tensor(array).to(getattr(torch, dtype)).requires_grad_(requires_grad)
    return c, t


def rng_array(*shape, seed=0, low=-3.0, high=3.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


# ---------------------------------------------------------------------------
# the dtype, its conversions and promotion (no oracle needed)


def test_dtype_object():
    assert repr(BF) == "cgrad.bfloat16"
    assert BF.is_floating_point and not BF.is_complex and BF.is_signed
    assert BF.itemsize == 2
    assert cgrad.empty(3, dtype=BF).element_size() == 2
    assert pickle.loads(pickle.dumps(BF)) is BF
    assert BF != cgrad.float16


def test_finfo():
    fi = cgrad.finfo(BF)
    assert (fi.bits, fi.eps, fi.resolution) == (16, 0.0078125, 0.01)
    assert fi.max == 3.3895313892515355e38 and fi.min == -fi.max
    assert fi.tiny == fi.smallest_normal == 2.0 ** -126
    assert fi.dtype == "bfloat16"
    assert repr(fi) == ("finfo(resolution=0.01, min=-3.38953e+38, max=3.38953e+38, eps=0.0078125, "
                        "smallest_normal=1.17549e-38, tiny=1.17549e-38, dtype=bfloat16)")


@pytest.mark.parametrize("value, expected", [
    (1.00390625, 1.0),              # a tie: to the even mantissa
    (1.01171875, 1.015625),         # a tie: up to the even one
    (1.0039064, 1.0078125),         # just above the tie (in float32 too)
    (3.0e38, 3.00405527047391e38),
    (3.3895313892515355e38, 3.3895313892515355e38),
    (3.4e38, math.inf),             # rounds past the largest finite value
    (-0.0, -0.0),
    (1e-40, 9.183549615799121e-41),  # subnormals are kept
    (-2.5, -2.5),
])
def test_float32_rounding(value, expected):
    got = cgrad.tensor([value]).to(BF).float().item()
    assert got == expected and math.copysign(1, got) == math.copysign(1, expected)


def test_rounding_on_the_bits():
    # every bfloat16 converts to float32 exactly and back to itself
    all_bits = np.arange(0, 1 << 16, dtype=np.uint32)
    f = (all_bits << 16).view(np.float32)
    finite = np.isfinite(f)
    back = cgrad.tensor(f[finite]).to(BF).float().numpy()
    np.testing.assert_array_equal(back.view(np.uint32) >> 16, all_bits[finite])
    # round to nearest, ties to even, checked against the integer formula
    u = np.random.default_rng(0).integers(0, 0x7f7f0000, size=20000, dtype=np.uint32)
    u = np.concatenate([u, (u & 0xffff0000) | 0x8000])          # exact ties
    expected = (u + 0x7fff + ((u >> 16) & 1)) >> 16
    got = cgrad.tensor(u.view(np.float32)).to(BF).float().numpy().view(np.uint32) >> 16
    np.testing.assert_array_equal(got, expected)


def test_nan_stays_nan_and_infinities():
    x = cgrad.tensor([math.nan, -math.nan, math.inf, -math.inf]).to(BF)
    v = x.float().numpy()
    assert np.isnan(v[:2]).all() and v[2] == math.inf and v[3] == -math.inf
    assert x.isnan().tolist() == [True, True, False, False]
    assert x.isinf().tolist() == [False, False, True, True]
    assert cgrad.tensor([math.nan], dtype=cgrad.float64).to(BF).isnan().item()


def test_float64_converts_through_float32():
    # c10::BFloat16(double) rounds to float first: two roundings
    assert cgrad.tensor([1.00390625 + 1e-12], dtype=cgrad.float64).to(BF).item() == 1.0
    assert cgrad.tensor(1.00390625 + 1e-12, dtype=BF).item() == 1.0


def test_casts_to_other_dtypes():
    x = cgrad.tensor([-2.75, -0.5, 0.0, 1.5, 300.0]).to(BF)
    assert x.to(cgrad.int64).tolist() == [-2, 0, 0, 1, 300]
    assert x.to(cgrad.bool).tolist() == [True, True, False, True, True]
    assert x.to(cgrad.float16).tolist() == [-2.75, -0.5, 0.0, 1.5, 300.0]
    assert x.double().dtype == cgrad.float64 and x.half().dtype == cgrad.float16
    assert cgrad.tensor([7], dtype=cgrad.int8).bfloat16().tolist() == [7.0]
    assert cgrad.tensor([257]).to(BF).item() == 256.0        # 8 significant bits
    assert cgrad.tensor([-0.0]).to(BF).to(cgrad.bool).item() is False


def test_promotion():
    assert cgrad.promote_types(BF, cgrad.float16) == cgrad.float32
    assert cgrad.promote_types(cgrad.float16, BF) == cgrad.float32
    assert cgrad.promote_types(BF, cgrad.float32) == cgrad.float32
    assert cgrad.promote_types(BF, cgrad.float64) == cgrad.float64
    for dt in (cgrad.int64, cgrad.int32, cgrad.int8, cgrad.uint8, cgrad.bool):
        assert cgrad.promote_types(BF, dt) == BF
    x = cgrad.ones(2, dtype=BF)
    assert (x * 2.5).dtype == BF and (x + 1).dtype == BF
    assert cgrad.result_type(x, 1.5) == BF
    assert (x + cgrad.ones(2, dtype=cgrad.float16)).dtype == cgrad.float32
    assert (x * cgrad.ones(2, dtype=cgrad.int32)).dtype == BF
    assert (x + cgrad.tensor(1.5, dtype=cgrad.float64)).dtype == BF      # a 0-d tensor of the same kind


def test_legacy_type_names():
    x = cgrad.zeros(2, dtype=BF)
    assert x.type() == "cgrad.BFloat16Tensor"
    assert isinstance(x, cgrad.BFloat16Tensor)
    assert cgrad.zeros(2).type("torch.BFloat16Tensor").dtype == BF
    assert cgrad.BFloat16Tensor([1.5, 2]).dtype == BF


def test_numpy_refuses_bfloat16():
    with pytest.raises(TypeError) as err:
        cgrad.zeros(2, dtype=BF).numpy()
    assert str(err.value) == "Got unsupported ScalarType BFloat16"
    assert cgrad.tensor([1.5, 2.25], dtype=BF).tolist() == [1.5, 2.25]
    assert cgrad.tensor(1.1, dtype=BF).item() == 1.1015625


def test_printing():
    x = cgrad.tensor([[1.1, -2.2], [3.3, 4.4]], dtype=BF)
    assert repr(x) == ("tensor([[ 1.1016, -2.2031],\n        [ 3.2969,  4.4062]], dtype=cgrad.bfloat16)")
    assert repr(cgrad.tensor(2.5, dtype=BF)) == "tensor(2.5000, dtype=cgrad.bfloat16)"
    assert repr(cgrad.tensor([], dtype=BF)) == "tensor([], dtype=cgrad.bfloat16)"
    y = cgrad.tensor([1.0, 2.0], dtype=BF, requires_grad=True) * 2
    assert repr(y) == "tensor([2., 4.], dtype=cgrad.bfloat16, grad_fn=<MulBackward0>)"


def test_op_is_float32_op_rounded_once():
    """Without an oracle: the elementwise ops PyTorch computes in float32
    for bfloat16 give the float32 result rounded once."""
    a, b = rng_array(50), rng_array(50, seed=1)
    ca, cb = cgrad.tensor(a).to(BF), cgrad.tensor(b).to(BF)
    fa, fb = ca.float(), cb.float()
    for fn in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x / y, lambda x, y: x.exp(),
               lambda x, y: x.tanh(), lambda x, y: cgrad.maximum(x, y), lambda x, y: x.sigmoid()):
        np.testing.assert_array_equal(values(fn(ca, cb)), values(fn(fa, fb).to(BF)))
    assert ca.sum().item() == fa.double().sum().to(BF).item()


def test_scalar_overflow_errors():
    with pytest.raises(RuntimeError) as err:
        cgrad.full((3,), 1e39, dtype=BF)
    assert str(err.value) == "value cannot be converted to type c10::BFloat16 without overflow"
    assert math.isinf(cgrad.full((1,), 1e39, dtype=BF).item())     # the one-element fill is unchecked
    with pytest.raises(RuntimeError) as err:
        cgrad.ones(2, dtype=BF).fill_(1e39)
    assert str(err.value) == "value cannot be converted to type c10::BFloat16 without overflow"


# ---------------------------------------------------------------------------
# against torch

UNARY = ["exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "rsqrt", "abs", "neg", "relu", "exp2", "expm1",
         "log1p", "erf", "erfinv", "floor", "ceil", "round", "trunc", "reciprocal", "atan", "asinh", "lgamma",
         "digamma", "sign", "frac", "log2", "log10", "sinh", "cosh", "tan"]
POSITIVE = {"log", "sqrt", "rsqrt", "log1p", "erfinv", "lgamma", "digamma", "log2", "log10"}


# PyTorch's bfloat16 rsqrt rounds sqrt(x) before dividing in its scalar loop
# (the elements after the last full vector of a row) and not in its vector
# body; cgrad rounds once everywhere.
TAIL_LOOP_ROUNDING = {"rsqrt"}


@requires_torch
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(
    strict=True, reason="PyTorch's scalar tail loop rounds an extra step")) if n in TAIL_LOOP_ROUNDING else n
    for n in UNARY])
def test_unary(name):
    low, high = (0.01, 0.99) if name in POSITIVE else (-3.0, 3.0)
    c, t = both(rng_array(8, 9, low=low, high=high), requires_grad=True)
    yc, yt = getattr(cgrad, name)(c), getattr(torch, name)(t)
    assert_same(yc, yt, name)
    assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__
    gc, gt = both(rng_array(8, 9, seed=5))
    yc.backward(gc)
    yt.backward(gt)
    assert_same(c.grad, t.grad, name + " backward")


BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "atan2", "fmod", "remainder", "hypot",
          "copysign", "logaddexp", "xlogy", "lt", "eq", "ge", "ne"]


@requires_torch
@pytest.mark.parametrize("name", BINARY)
def test_binary(name):
    a, b = rng_array(6, 7), rng_array(7, seed=1)
    a[0, :3] = b[:3]            # ties for the comparisons and maximum's gradient
    a[1, 0] = 0.0               # xlogy's zero
    (ca, ta), (cb, tb) = both(a), both(b)
    assert_same(getattr(cgrad, name)(ca, cb), getattr(torch, name)(ta, tb), name)


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L, x, y: x * 1.01, lambda L, x, y: x / 3.3, lambda L, x, y: x + 1.01, lambda L, x, y: 2.5 - x,
    lambda L, x, y: x.abs() ** 2.5, lambda L, x, y: x ** 2, lambda L, x, y: x.clamp(-0.5, 0.7),
    lambda L, x, y: L.where(x > 0, x, y), lambda L, x, y: x * L.arange(7, dtype=L.int32),
    lambda L, x, y: x + y.half(), lambda L, x, y: x + y.float(),
    lambda L, x, y: x.lerp(y, 0.25), lambda L, x, y: x.lerp(y, 0.75), lambda L, x, y: x.lerp(y, y.sigmoid()),
    lambda L, x, y: L.nan_to_num(x / 0), lambda L, x, y: L.round(x, decimals=2),
    lambda L, x, y: (x / 0 * 0).isnan(), lambda L, x, y: x.masked_fill(x > 0, 1.5),
], ids=["mul_number", "div_number", "add_number", "rsub_number", "pow_number", "square", "clamp", "where",
        "times_int", "with_half", "with_float", "lerp", "lerp_large_weight", "lerp_tensor_weight", "nan_to_num",
        "round_decimals", "isnan", "masked_fill"])
def test_expressions(expr):
    (cx, tx), (cy, ty) = both(rng_array(6, 7)), both(rng_array(6, 7, seed=1))
    assert_same(expr(cgrad, cx, cy), expr(torch, tx, ty))


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L, x: x.sum(), lambda L, x: x.sum(0), lambda L, x: x.sum(1, keepdim=True), lambda L, x: x.mean(),
    lambda L, x: x.mean(0), lambda L, x: x.prod(1), lambda L, x: x.amax(0), lambda L, x: x.amin(),
    lambda L, x: x.std(1), lambda L, x: x.var(), lambda L, x: x.logsumexp(1), lambda L, x: x.norm(),
    lambda L, x: x.cumsum(1), lambda L, x: x.max(1).values, lambda L, x: x.min(0).values, lambda L, x: x.argmax(1),
    lambda L, x: x.sort(1).values, lambda L, x: x.topk(3).values, lambda L, x: x.median(), lambda L, x: x.unique(),
    lambda L, x: x.sum(dtype=L.float32), lambda L, x: x.cummax(0).values,
], ids=["sum", "sum0", "sum1_keepdim", "mean", "mean0", "prod1", "amax0", "amin", "std1", "var", "logsumexp1",
        "norm", "cumsum1", "max1", "min0", "argmax1", "sort", "topk", "median", "unique", "sum_float32", "cummax"])
def test_reductions(expr):
    c, t = both(rng_array(64, 33))
    assert_same(expr(cgrad, c), expr(torch, t))


@requires_torch
def test_large_sums():
    c, t = both(rng_array(1000, 300, seed=2))
    assert_same(c.sum(1), t.sum(1))
    assert_same(c.mean(0), t.mean(0))
    # the whole 300,000: PyTorch's float32 cascade and cgrad's float64 sum
    # may round to neighbouring bfloat16 values when the exact sum is close
    # to a rounding boundary (here it is): one bfloat16 step apart at most
    got, want = c.sum().float().item(), t.sum().float().item()
    assert c.sum().dtype == BF and abs(got - want) <= 2.0 ** (math.floor(math.log2(abs(want))) - 7)


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L, x, w, b: x @ w.T, lambda L, x, w, b: L.nn.functional.linear(x, w, b),
    lambda L, x, w, b: L.mm(x, w.T), lambda L, x, w, b: L.bmm(x[None], w.T[None]),
    lambda L, x, w, b: L.addmm(b, x, w.T), lambda L, x, w, b: L.mv(w, x[0]),
    lambda L, x, w, b: L.einsum("ij,kj->ik", x, w),
], ids=["matmul", "linear", "mm", "bmm", "addmm", "mv", "einsum"])
def test_matmul(expr):
    (cx, tx), (cw, tw), (cb, tb) = both(rng_array(16, 33)), both(rng_array(20, 33, seed=1)), both(rng_array(20, seed=2))
    assert_same(expr(cgrad, cx, cw, cb), expr(torch, tx, tw, tb))


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda F, x, y, t: F.softmax(x, 1), lambda F, x, y, t: F.softmax(x, 0), lambda F, x, y, t: F.log_softmax(x, 1),
    lambda F, x, y, t: F.layer_norm(x, (33,)), lambda F, x, y, t: F.layer_norm(x, (33,), y[0], y[1]),
    lambda F, x, y, t: F.cross_entropy(x, t), lambda F, x, y, t: F.nll_loss(x.log_softmax(1), t),
    lambda F, x, y, t: F.mse_loss(x, y), lambda F, x, y, t: F.l1_loss(x, y), lambda F, x, y, t: F.gelu(x),
    lambda F, x, y, t: F.silu(x), lambda F, x, y, t: F.leaky_relu(x), lambda F, x, y, t: F.elu(x),
    lambda F, x, y, t: F.softplus(x), lambda F, x, y, t: F.hardswish(x), lambda F, x, y, t: F.group_norm(x, 1),
    lambda F, x, y, t: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    lambda F, x, y, t: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
    lambda F, x, y, t: F.embedding(t, y), lambda F, x, y, t: F.dropout(x, training=False),
    lambda F, x, y, t: F.max_pool2d(x[None, None], 2), lambda F, x, y, t: F.avg_pool2d(x[None, None], 2),
    lambda F, x, y, t: F.pad(x, (1, 2)), lambda F, x, y, t: F.interpolate(x[None, None], scale_factor=2),
    lambda F, x, y, t: F.conv2d(x[None, None], y[:1, :9].reshape(1, 1, 3, 3)),
], ids=["softmax1", "softmax0", "log_softmax", "layer_norm", "layer_norm_affine", "cross_entropy", "nll_loss",
        "mse_loss", "l1_loss", "gelu", "silu", "leaky_relu", "elu", "softplus", "hardswish", "group_norm", "bce",
        "bce_with_logits", "embedding", "dropout_eval", "max_pool2d", "avg_pool2d", "pad", "interpolate",
        "conv2d"])
def test_nn_functional(expr):
    (cx, tx), (cy, ty) = both(rng_array(64, 33)), both(rng_array(64, 33, seed=1))
    target = np.random.default_rng(3).integers(0, 33, size=64)
    assert_same(expr(cgrad.nn.functional, cx, cy, cgrad.tensor(target)),
                expr(torch.nn.functional, tx, ty, torch.tensor(target)))


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L, x, y: L.cat([x, y]), lambda L, x, y: L.stack([x, y], 1), lambda L, x, y: x[[1, 5, 3]],
    lambda L, x, y: x[::2].T.contiguous(), lambda L, x, y: x.index_select(1, L.tensor([0, 4])),
    lambda L, x, y: x[x > 0], lambda L, x, y: x.gather(1, L.tensor([[0, 1]] * 6)),
    lambda L, x, y: x.scatter_add(1, L.tensor([[0, 1]] * 6), y[:, :2]), lambda L, x, y: x.flip(0),
    lambda L, x, y: x.roll(1, 0), lambda L, x, y: x.tril(), lambda L, x, y: x.repeat(2, 1),
    lambda L, x, y: x.view(L.int16), lambda L, x, y: x.clone(), lambda L, x, y: x.narrow(1, 1, 3),
    lambda L, x, y: x.chunk(2)[1], lambda L, x, y: x.unfold(1, 2, 1), lambda L, x, y: x[0].expand(3, 7).contiguous(),
    lambda L, x, y: L.zeros_like(x), lambda L, x, y: x.new_ones(3), lambda L, x, y: x.nonzero(),
], ids=["cat", "stack", "index", "strided_copy", "index_select", "mask", "gather", "scatter_add", "flip", "roll",
        "tril", "repeat", "view_int16", "clone", "narrow", "chunk", "unfold", "expand", "zeros_like", "new_ones",
        "nonzero"])
def test_indexing_and_joins(expr):
    (cx, tx), (cy, ty) = both(rng_array(6, 7)), both(rng_array(6, 7, seed=1))
    assert_same(expr(cgrad, cx, cy), expr(torch, tx, ty))


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L: L.arange(0, 3.3, 0.1, dtype=L.bfloat16), lambda L: L.arange(300, dtype=L.bfloat16),
    lambda L: L.linspace(0, 3.3, 37, dtype=L.bfloat16), lambda L: L.full((3,), 1.01, dtype=L.bfloat16),
    lambda L: L.zeros(2, 3, dtype=L.bfloat16), lambda L: L.ones(3, dtype=L.bfloat16),
    lambda L: L.eye(3, dtype=L.bfloat16), lambda L: L.tensor([1.1, 2.7, 1e-3], dtype=L.bfloat16),
    lambda L: L.tensor([[1, 2], [3, 4]], dtype=L.bfloat16), lambda L: L.as_tensor([1.1], dtype=L.bfloat16),
    lambda L: L.empty(4, dtype=L.bfloat16).fill_(2.2),
], ids=["arange_step", "arange", "linspace", "full", "zeros", "ones", "eye", "tensor", "tensor_ints", "as_tensor",
        "fill_"])
def test_factories(expr):
    assert_same(expr(cgrad), expr(torch))


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L: L.randn(100, dtype=L.bfloat16), lambda L: L.rand(100, dtype=L.bfloat16),
    lambda L: L.randint(0, 10, (100,), dtype=L.bfloat16), lambda L: L.empty(50, dtype=L.bfloat16).uniform_(-2, 3),
    lambda L: L.empty(50, dtype=L.bfloat16).normal_(1, 2),
], ids=["randn", "rand", "randint", "uniform_", "normal_"])
def test_random_factories(expr):
    torch.manual_seed(3)
    cgrad.manual_seed(3)
    assert_same(expr(cgrad), expr(torch))


@requires_torch
@pytest.mark.parametrize("src", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                                 "bool"])
def test_casts_against_torch(src):
    a = np.random.default_rng(0).normal(size=300) * 1e3
    a[:4] = [0.5, -0.5, 70000.0, 1e-40]
    with np.errstate(over="ignore", invalid="ignore"):       # 70000 is inf as float16, as intended
        a = a.astype(src)
    c, t = cgrad.tensor(a), torch.tensor(a)
    assert_same(c.to(BF), t.to(torch.bfloat16), "to bfloat16")
    assert_same(c.to(BF).to(getattr(cgrad, src)), t.to(torch.bfloat16).to(getattr(torch, src)), "and back")


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L, x, y: (x * y).sum(), lambda L, x, y: (x @ y.T).tanh().mean(),
    lambda L, x, y: L.nn.functional.cross_entropy(x, L.tensor([0, 1, 2, 3, 4, 5])),
    pytest.param(lambda L, x, y: L.nn.functional.layer_norm(x, (7,), y[0], y[1]).pow(2).sum(),
                 marks=pytest.mark.xfail(strict=True, reason="layer_norm's bfloat16 gradients differ in "
                                                             "last bits (the weight's sums rows in another "
                                                             "order than PyTorch's)")),
    lambda L, x, y: x.softmax(1).log().sum(), lambda L, x, y: (x / y.abs().add(1)).exp().sum(),
    lambda L, x, y: L.cat([x, y])[::3].relu().sum(), lambda L, x, y: x.max(1).values.sum() + x.prod(),
    lambda L, x, y: L.nn.functional.gelu(x).sum() + L.nn.functional.mse_loss(x, y),
    lambda L, x, y: L.where(x > y, x, y * 2).sum(), lambda L, x, y: x.logsumexp(1).sum(),
    lambda L, x, y: L.nn.functional.linear(x, y, y[0, :6]).sum(),
], ids=["mul_sum", "matmul_tanh", "cross_entropy", "layer_norm", "softmax_log", "div_exp", "cat_relu",
        "max_prod", "gelu_mse", "where", "logsumexp", "linear"])
def test_autograd(expr):
    (cx, tx), (cy, ty) = both(rng_array(6, 7), requires_grad=True), both(rng_array(6, 7, seed=1), requires_grad=True)
    lc, lt = expr(cgrad, cx, cy), expr(torch, tx, ty)
    assert_same(lc, lt, "loss")
    assert type(lc.grad_fn).__name__ == type(lt.grad_fn).__name__
    lc.backward()
    lt.backward()
    for gc, gt, what in ((cx.grad, tx.grad, "x"), (cy.grad, ty.grad, "y")):
        assert (gc is None) == (gt is None)
        if gt is not None:
            assert gc.dtype == BF
            assert_same(gc, gt, "grad of " + what)


@requires_torch
def test_grad_fn_names_of_casts():
    c, t = both(rng_array(3), dtype="float32", requires_grad=True)
    yc, yt = c.to(BF), t.to(torch.bfloat16)
    assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__ == "ToCopyBackward0"
    (yc * 3).sum().backward()
    (yt * 3).sum().backward()
    assert_same(c.grad, t.grad)


@requires_torch
@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_optimizer_steps(opt):
    kwargs = dict(lr=0.1, momentum=0.9) if opt == "SGD" else dict(lr=0.01)
    (cw, tw), (cx, tx) = both(rng_array(4, 5), requires_grad=True), both(rng_array(3, 5, seed=1))
    oc = getattr(cgrad.optim, opt)([cw], **kwargs)
    ot = getattr(torch.optim, opt)([tw], foreach=False, **kwargs)
    for _ in range(3):
        oc.zero_grad()
        ot.zero_grad()
        (cx @ cw.T).square().mean().backward()
        (tx @ tw.T).square().mean().backward()
        oc.step()
        ot.step()
    assert cw.dtype == BF
    np.testing.assert_allclose(values(cw), values(tw), rtol=2 ** -7, atol=1e-6)


@requires_torch
def test_printing_against_torch():
    for arr in (rng_array(3, 4) * 10, np.array([1e-5, 1e5, 3.0], np.float32), np.array([1e-5, 12345678.0, 3.0], np.float32),
                rng_array(200, 100)):
        c, t = both(arr)
        assert repr(c) == repr(t).replace("torch.", "cgrad.")


@requires_torch
def test_numpy_error_matches_torch():
    with pytest.raises(TypeError) as want:
        torch.zeros(2, dtype=torch.bfloat16).numpy()
    with pytest.raises(TypeError) as got:
        cgrad.zeros(2, dtype=BF).numpy()
    assert str(got.value) == str(want.value)


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L, x: L.linalg.inv(x), lambda L, x: L.special.erfcx(x), lambda L, x: L.special.ndtri(x),
    lambda L, x: L.linalg.slogdet(x),
], ids=["inv", "erfcx", "ndtri", "slogdet"])
def test_refused_as_torch(expr):
    c, t = both(rng_array(3, 3))
    with pytest.raises(Exception) as want:
        expr(torch, t)
    with pytest.raises(Exception) as got:
        expr(cgrad, c)
    assert type(got.value) is type(want.value) and str(got.value) == str(want.value)


# ---------------------------------------------------------------------------
# saving and loading


def test_pickle_round_trip():
    x = cgrad.tensor(rng_array(3, 4)).to(BF).requires_grad_()
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype == BF and y.requires_grad and cgrad.equal(y.detach(), x.detach())


def test_save_load_round_trip():
    x = cgrad.tensor(rng_array(4, 5)).to(BF)
    buf = io.BytesIO()
    cgrad.save({"x": x, "view": x[:, 1:], "param": cgrad.nn.Parameter(x.clone())}, buf)
    for weights_only in (True, False):
        buf.seek(0)
        d = cgrad.load(buf, weights_only=weights_only)
        assert d["x"].dtype == BF and cgrad.equal(d["x"], x)
        assert cgrad.equal(d["view"], x[:, 1:]) and d["view"].storage_offset() == 1
        assert type(d["param"]).__name__ == "Parameter" and d["param"].dtype == BF


@requires_torch
def test_checkpoints_with_torch():
    c, t = both(rng_array(4, 5))
    buf = io.BytesIO()
    torch.save({"w": t, "p": torch.nn.Parameter(t[1:])}, buf)
    buf.seek(0)
    d = cgrad.load(buf, weights_only=True)
    assert_same(d["w"], t)
    assert_same(d["p"], t[1:])
    buf = io.BytesIO()
    cgrad.save({"w": c[:, 2:]}, buf)
    buf.seek(0)
    d = torch.load(buf, weights_only=True)
    assert d["w"].dtype == torch.bfloat16 and torch.equal(d["w"], t[:, 2:])


# ---------------------------------------------------------------------------
# DLPack (kDLBfloat, code 4) and tensors of other libraries


def test_dlpack_round_trip_shares_memory():
    x = cgrad.tensor(rng_array(3, 4)).to(BF)
    y = cgrad.from_dlpack(x)
    assert y.dtype == BF and cgrad.equal(y, x)
    y[0, 0] = 5.0
    assert x[0, 0].item() == 5.0
    z = cgrad.utils.dlpack.from_dlpack(cgrad.utils.dlpack.to_dlpack(x[:, 1:]))
    assert z.dtype == BF and cgrad.equal(z, x[:, 1:])


@requires_torch
def test_dlpack_with_torch():
    c, t = both(rng_array(3, 4))
    from_torch = cgrad.from_dlpack(t)
    assert_same(from_torch, t)
    from_torch[1, 1] = 7.0                       # shared, not copied
    assert t[1, 1].item() == 7.0
    assert_same(cgrad.tensor(t), t)              # torch tensors are taken through DLPack
    assert_same(cgrad.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(t)), t)
    to_torch = torch.from_dlpack(c)
    assert to_torch.dtype == torch.bfloat16 and torch.equal(to_torch, t.new_tensor(values(c)).bfloat16())
    assert torch.utils.dlpack.from_dlpack(cgrad.utils.dlpack.to_dlpack(c)).dtype == torch.bfloat16


# ---------------------------------------------------------------------------
# modules


def test_module_bfloat16():
    m = cgrad.nn.Sequential(cgrad.nn.Linear(3, 4), cgrad.nn.BatchNorm1d(4)).bfloat16()
    assert {p.dtype for p in m.parameters()} == {BF}
    assert m[1].num_batches_tracked.dtype == cgrad.int64          # integer buffers stay
    y = m(cgrad.ones(2, 3, dtype=BF))
    y.float().sum().backward()
    assert y.dtype == BF and {p.grad.dtype for p in m.parameters()} == {BF}


@requires_torch
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_recurrent_layers(kind):
    """RNN and GRU run cell by cell in bfloat16 as PyTorch's (the same
    values); PyTorch's bfloat16 LSTM is oneDNN's layer, whose dtype and
    values within bfloat16's precision cgrad's cell-by-cell LSTM gives."""
    mc, mt = getattr(cgrad.nn, kind)(8, 4).bfloat16(), getattr(torch.nn, kind)(8, 4).bfloat16()
    with torch.no_grad(), cgrad.no_grad():
        for pc, pt in zip(mc.parameters(), mt.parameters()):
            pc.copy_(cgrad.tensor(values(pt)))
    (xc, xt) = both(rng_array(3, 2, 8), requires_grad=True)
    yc, yt = mc(xc)[0], mt(xt)[0]
    if kind == "LSTM":
        assert yc.dtype == BF
        np.testing.assert_allclose(values(yc), values(yt), rtol=2 ** -6, atol=2 ** -8)
    else:
        assert_same(yc, yt, kind)
        assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__
    yc.float().sum().backward()
    yt.float().sum().backward()
    assert xc.grad.dtype == BF and {p.grad.dtype for p in mc.parameters()} == {BF}
    # gradients: sums of rounded terms, in another order than PyTorch's
    np.testing.assert_allclose(values(xc.grad), values(xt.grad), rtol=2 ** -5, atol=2 ** -7)


# ---------------------------------------------------------------------------
# promotion against torch, every dtype paired with bfloat16

ALL_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def dtype_pair(lib, a, b):
    return getattr(lib, a), getattr(lib, b)


@requires_torch
@pytest.mark.parametrize("other", ALL_DTYPES)
def test_promotion_against_torch(other):
    name = lambda d: str(d).split(".")[-1]     # noqa: E731
    for a, b in (("bfloat16", other), (other, "bfloat16")):
        (ca, cb), (ta, tb) = dtype_pair(cgrad, a, b), dtype_pair(torch, a, b)
        assert name(cgrad.promote_types(ca, cb)) == name(torch.promote_types(ta, tb))
        assert cgrad.can_cast(ca, cb) == torch.can_cast(ta, tb)
        for shape_a, shape_b in (((2,), (2,)), ((2,), ()), ((), (2,))):
            xc, yc = cgrad.ones(shape_a, dtype=ca), cgrad.ones(shape_b, dtype=cb)
            xt, yt = torch.ones(shape_a, dtype=ta), torch.ones(shape_b, dtype=tb)
            assert name((xc * yc).dtype) == name((xt * yt).dtype), (a, b, shape_a, shape_b)
            assert name(cgrad.result_type(xc, yc)) == name(torch.result_type(xt, yt))
            assert name(cgrad.where(xc > 0, xc, yc).dtype) == name(torch.where(xt > 0, xt, yt).dtype)
    x_c, x_t = cgrad.ones(2, dtype=BF), torch.ones(2, dtype=torch.bfloat16)
    for number in (1, 1.5, True):
        assert name((x_c + number).dtype) == name((x_t + number).dtype)
        assert name(cgrad.result_type(x_c, number)) == name(torch.result_type(x_t, number))


# ---------------------------------------------------------------------------
# ops composed in Python over numpy (bfloat16 through float32)


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L, x, y: L.nextafter(x, y), lambda L, x, y: L.frexp(x).mantissa, lambda L, x, y: L.frexp(x).exponent,
    lambda L, x, y: L.isin(x, y), lambda L, x, y: L.special.gammainc(x.abs() + 0.5, y.abs()),
    lambda L, x, y: x.kthvalue(2, 1).values, lambda L, x, y: x.mode(1).values, lambda L, x, y: x.nanmedian(),
    lambda L, x, y: x.argsort(1), lambda L, x, y: x.msort(), lambda L, x, y: x.cummin(1).values,
], ids=["nextafter", "frexp_mantissa", "frexp_exponent", "isin", "gammainc", "kthvalue", "mode", "nanmedian",
        "argsort", "msort", "cummin"])
def test_numpy_composites(expr):
    a, b = rng_array(6, 7), rng_array(6, 7, seed=1)
    a[0, :3] = 0.0
    b[0, :2] = a[1, :2]          # shared values for isin, equal ones for nextafter
    a[1, 2] = b[1, 2]
    (cx, tx), (cy, ty) = both(a), both(b)
    assert_same(expr(cgrad, cx, cy), expr(torch, tx, ty))


@requires_torch
@pytest.mark.parametrize("expr", [
    lambda L, m, s: L.normal(m, s), lambda L, m, s: L.normal(m, 2.0), lambda L, m, s: L.normal(0.5, s),
    lambda L, m, s: L.poisson(s.abs() * 3), lambda L, m, s: L.multinomial(s.abs() + 0.1, 3),
], ids=["normal_tensors", "normal_mean", "normal_std", "poisson", "multinomial"])
def test_random_with_bfloat16_parameters(expr):
    (cm, tm), (cs, ts) = both(rng_array(50)), both(rng_array(50, seed=1, low=0.1, high=2.0))
    torch.manual_seed(5)
    cgrad.manual_seed(5)
    assert_same(expr(cgrad, cm, cs), expr(torch, tm, ts))
