"""Everyday ops beyond the unary math: tril/triu, flip, cumsum, outer, atan2,
roll, repeat, gather, scatter_add and scatter, diag, addmm, the activations
(silu, leaky_relu, elu, gelu, softplus, as functions and modules), norm,
lerp, and the smooth-L1, L1 and binary cross-entropy losses: differential
tests against torch (values, dtypes, grad_fn names, gradients, error texts)
and float64 gradient checks. The unary math, predicates and creation
helpers are in test_everyday_ops.py."""
import numpy as np
import pytest

import cgrad
from helpers import check_gradients, compare_with_torch, rand, requires_torch
from everyday_machinery import SHAPES, _err, same, same_error

try:
    import torch
except ImportError:
    torch = None

# ---------------------------------------------------------------------------
# tril/triu, flip, cumsum, outer

STRUCT = {
    "tril": lambda lib, x: lib.tril(x), "triu": lambda lib, x: lib.triu(x),
    "tril1": lambda lib, x: x.tril(1), "triu-1": lambda lib, x: x.triu(-1),
    "tril-5": lambda lib, x: lib.tril(x, diagonal=-5), "triu9": lambda lib, x: x.triu(9),
    "tril_t": lambda lib, x: x.transpose(-1, -2).tril(),
    "flip0": lambda lib, x: lib.flip(x, (0,)), "flip_all": lambda lib, x: x.flip(0, -1),
    "flip_list": lambda lib, x: x.flip([-1]), "flip_none": lambda lib, x: lib.flip(x, []),
    "flip_t": lambda lib, x: x.transpose(0, -1).flip(0),
    "cumsum0": lambda lib, x: lib.cumsum(x, 0), "cumsum-1": lambda lib, x: x.cumsum(-1),
    "cumsum_t": lambda lib, x: x.transpose(0, -1).cumsum(dim=0),
    "cumsum_dt": lambda lib, x: lib.cumsum(x, 1, dtype=lib.float64),
}
STRUCT_SHAPES = [(3, 4), (2, 3, 3), (4, 1), (0, 3), (1, 5)]


@pytest.mark.parametrize("name", sorted(STRUCT))
@pytest.mark.parametrize("shape", STRUCT_SHAPES)
def test_structural_ops(name, shape):
    compare_with_torch(STRUCT[name], rand(*shape, seed=11))
    compare_with_torch(lambda lib, x: STRUCT[name](lib, x * 1) * 3, rand(*shape, seed=12, dtype=np.float64))


@pytest.mark.parametrize("name", sorted(STRUCT))
def test_structural_gradcheck(name):
    a = rand(3, 4, seed=13)
    check_gradients(STRUCT[name], a)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True)]
    assert cgrad.autograd.gradgradcheck(lambda x: STRUCT[name](cgrad, x) ** 2, ins)


@requires_torch
@pytest.mark.parametrize("name", sorted(STRUCT))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16"])
def test_structural_dtypes(name, dtype):
    a = np.arange(12).reshape(3, 4) % 5
    c = cgrad.tensor(a).to(getattr(cgrad, dtype))
    t = torch.tensor(a).to(getattr(torch, dtype))
    et = _err(lambda: STRUCT[name](torch, t))
    if et is not None:
        assert _err(lambda: STRUCT[name](cgrad, c)) == et
        return
    same(STRUCT[name](cgrad, c), STRUCT[name](torch, t))


@requires_torch
def test_structural_inplace_and_errors():
    compare_with_torch(lambda lib, x: (x * 1).tril_(1), rand(3, 3, seed=1))
    compare_with_torch(lambda lib, x: (x * 1).triu_(), rand(2, 3, 4, seed=1))
    compare_with_torch(lambda lib, x: (x * 1).cumsum_(1), rand(3, 3, seed=1))
    for f in [lambda lib: lib.tril(lib.ones(3)), lambda lib: lib.ones(3).triu(),
              lambda lib: lib.flip(lib.ones(2, 3), (0, 0)), lambda lib: lib.ones(2, 3).flip(2),
              lambda lib: lib.cumsum(lib.ones(2, 3), 2), lambda lib: lib.cumsum(lib.ones(2), dim=None),
              lambda lib: lib.ones(2, requires_grad=True).tril_(),
              lambda lib: lib.outer(lib.ones(2, 1), lib.ones(3)), lambda lib: lib.outer(lib.ones(2), lib.ones(3, 1)),
              lambda lib: lib.ones(2).outer(3)]:
        same_error(lambda: f(cgrad), lambda: f(torch))
    same(cgrad.flip(cgrad.tensor(3.0), (0,)), torch.flip(torch.tensor(3.0), (0,)))
    same(cgrad.cumsum(cgrad.tensor(2.0), 0), torch.cumsum(torch.tensor(2.0), 0))
    same(cgrad.tensor([[1, 2], [3, 4]]).cumsum(0, dtype=cgrad.int32),
         torch.tensor([[1, 2], [3, 4]]).cumsum(0, dtype=torch.int32))


@pytest.mark.parametrize("shapes", [((3,), (4,)), ((1,), (5,)), ((0,), (2,))])
def test_outer(shapes):
    compare_with_torch(lambda lib, a, b: lib.outer(a, b), rand(*shapes[0], seed=1), rand(*shapes[1], seed=2))
    compare_with_torch(lambda lib, a, b: a.outer(b), rand(*shapes[0], seed=1), rand(*shapes[1], seed=2))
    compare_with_torch(lambda lib, a, b: lib.ger(a, b), rand(*shapes[0], seed=1),
                       np.arange(shapes[1][0]))
    check_gradients(lambda lib, a, b: lib.outer(a, b), rand(*shapes[0], seed=1), rand(*shapes[1], seed=2))


# ---------------------------------------------------------------------------
# atan2, roll, repeat, gather, scatter_add

@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((), (2, 2)), ((0, 2), (2,))])
def test_atan2(shapes):
    a, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2)
    compare_with_torch(lambda lib, x, y: lib.atan2(x, y), a, b)
    compare_with_torch(lambda lib, x, y: x.atan2(y), a, b.astype(np.float64))
    compare_with_torch(lambda lib, x, y: lib.arctan2(x, y), a, np.arange(int(np.prod(shapes[1]))).reshape(shapes[1]))
    check_gradients(lambda lib, x, y: lib.atan2(x, y), a, b)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True), cgrad.tensor(b.astype(np.float64), requires_grad=True)]
    assert cgrad.autograd.gradgradcheck(lambda x, y: cgrad.atan2(x, y), ins)


@requires_torch
def test_atan2_dtypes_and_errors():
    same(cgrad.atan2(cgrad.tensor([1, 2]), cgrad.tensor([1, 0])), torch.atan2(torch.tensor([1, 2]), torch.tensor([1, 0])))
    c = cgrad.atan2(cgrad.tensor([1.0, -2.0]).half(), cgrad.tensor([0.5, 3.0]).half())
    t = torch.atan2(torch.tensor([1.0, -2.0]).half(), torch.tensor([0.5, 3.0]).half())
    same(c, t)
    for f in [lambda lib: lib.ones(2).atan2(2), lambda lib: lib.atan2(lib.ones(2), lib.ones(3))]:
        same_error(lambda: f(cgrad), lambda: f(torch))


MOVES = {
    "roll_flat": lambda lib, x: lib.roll(x, 1), "roll_dim": lambda lib, x: x.roll(2, 1),
    "roll_neg": lambda lib, x: x.roll(-5, -1), "roll_two": lambda lib, x: lib.roll(x, (1, -1), (0, 1)),
    "roll_list": lambda lib, x: x.roll(shifts=[3], dims=[0]), "roll_t": lambda lib, x: x.t().roll(1, 0),
    "repeat": lambda lib, x: x.repeat(2, 1), "repeat_lead": lambda lib, x: x.repeat((1, 2, 3)),
    "repeat_zero": lambda lib, x: x.repeat(0, 2), "repeat_t": lambda lib, x: x.t().repeat(2, 2),
    "repeat_list": lambda lib, x: x.repeat([2, 1, 1, 1]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(MOVES))
@pytest.mark.parametrize("shape", [(2, 3), (4, 1), (0, 3), (1, 1)])
def test_roll_repeat(name, shape):
    compare_with_torch(MOVES[name], rand(*shape, seed=3))
    same(MOVES[name](cgrad, cgrad.tensor(np.arange(np.prod(shape)).reshape(shape))),
         MOVES[name](torch, torch.tensor(np.arange(np.prod(shape)).reshape(shape))))


@pytest.mark.parametrize("name", sorted(MOVES))
def test_roll_repeat_gradcheck(name):
    a = rand(2, 3, seed=4)
    check_gradients(MOVES[name], a)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True)]
    assert cgrad.autograd.gradgradcheck(lambda x: MOVES[name](cgrad, x) ** 2, ins)


@requires_torch
def test_roll_repeat_errors():
    for f in [lambda lib: lib.roll(lib.ones(2, 3), 1, (0, 1)), lambda lib: lib.ones(2, 3).roll((1, 2), 0),
              lambda lib: lib.ones(2, 3).roll(1, 2), lambda lib: lib.roll(lib.ones(2), shifts=()),
              lambda lib: lib.ones(2, 3).repeat(2), lambda lib: lib.ones(2, 3).repeat(),
              lambda lib: lib.ones(2, 3).repeat(-1, 1)]:
        same_error(lambda: f(cgrad), lambda: f(torch))
    same(cgrad.tensor(3.0).repeat(2), torch.tensor(3.0).repeat(2))
    same(cgrad.roll(cgrad.ones(0, 2), 1, 0), torch.roll(torch.ones(0, 2), 1, 0))


GATHERS = {
    "g1": (lambda lib, x, i: lib.gather(x, 1, i), [[0, 0], [1, 2]]),
    "g0": (lambda lib, x, i: x.gather(0, i), [[1, 0, 1]]),
    "g-1": (lambda lib, x, i: x.gather(-1, i), [[2, 2, 2, 0], [0, 1, 1, 1]]),
    "g_t": (lambda lib, x, i: x.t().gather(0, i), [[1, 0], [1, 1]]),
    "sa0": (lambda lib, x, i: lib.scatter_add(x, 0, i, x[:1] * 2), [[1, 0, 1]]),
    "sa1": (lambda lib, x, i: x.scatter_add(1, i, x.flip(0)[:, :2]), [[0, 0], [2, 0]]),
    "sa_": (lambda lib, x, i: (x * 1).scatter_add_(1, i, x * 3), [[0, 0, 0], [2, 1, 2]]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(GATHERS))
def test_gather_scatter_add(name):
    check_index_op(*GATHERS[name], seed=6)


def check_index_op(fn, idx, seed):
    """fn(lib, x, index) against torch: int64 and int32 indices, an integer
    input, gradients and second derivatives."""
    a = rand(2, 3, seed=seed)
    compare_with_torch(lambda lib, x: fn(lib, x, lib.tensor(idx)), a)
    compare_with_torch(lambda lib, x: fn(lib, x, lib.tensor(idx, dtype=lib.int32)), a.astype(np.float64))
    ai = np.arange(6).reshape(2, 3)
    same(fn(cgrad, cgrad.tensor(ai), cgrad.tensor(idx)), fn(torch, torch.tensor(ai), torch.tensor(idx)))
    check_gradients(lambda lib, x: fn(lib, x, lib.tensor(idx)), a)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True)]
    assert cgrad.autograd.gradgradcheck(lambda x: fn(cgrad, x, cgrad.tensor(idx)) ** 2, ins)


@requires_torch
def test_gather_scatter_errors():
    for f in [lambda lib: lib.gather(lib.ones(2, 3), 1, lib.tensor([[3]])),
              lambda lib: lib.gather(lib.ones(2, 3), 1, lib.tensor([[-1]])),
              lambda lib: lib.ones(2, 3).gather(2, lib.tensor([[0]])),
              lambda lib: lib.ones(2, 3).gather(1, lib.tensor([0])),
              lambda lib: lib.ones(2, 3).gather(1, lib.tensor([[0], [0], [0]])),
              lambda lib: lib.ones(2, 3).gather(1, lib.tensor([[0.0]])),
              lambda lib: lib.zeros(2, 3).scatter_add(0, lib.tensor([[0]]), lib.ones(1, 3, dtype=lib.float64)),
              lambda lib: lib.zeros(2, 3).scatter_add(0, lib.tensor([[5]]), lib.ones(1, 3)),
              lambda lib: lib.zeros(2, 3).scatter_add(0, lib.tensor([[0, 1, 1, 1]]), lib.ones(1, 3)),
              lambda lib: lib.zeros(2, 3).scatter_add(0, lib.tensor([0]), lib.ones(1, 3)),
              lambda lib: lib.zeros(2, 3).scatter_add(0, lib.tensor([[0.0]]), lib.ones(1, 3)),
              lambda lib: lib.zeros(2, 3).scatter_add(0, lib.tensor([[0]]), lib.ones(1, 3, 1))]:
        same_error(lambda: f(cgrad), lambda: f(torch))


# ---------------------------------------------------------------------------
# activations: silu, leaky_relu, elu, gelu, softplus (functional and modules)

ACTS = {
    "silu": lambda F, x: F.silu(x), "leaky": lambda F, x: F.leaky_relu(x),
    "leaky_neg": lambda F, x: F.leaky_relu(x, -0.2), "leaky_big": lambda F, x: F.leaky_relu(x, negative_slope=1.5),
    "elu": lambda F, x: F.elu(x), "elu_a": lambda F, x: F.elu(x, alpha=0.5), "elu_neg": lambda F, x: F.elu(x, -1.0),
    "gelu": lambda F, x: F.gelu(x), "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "softplus": lambda F, x: F.softplus(x), "softplus_b": lambda F, x: F.softplus(x, beta=2, threshold=1),
    "softplus_t": lambda F, x: F.softplus(x, 0.5, 0.7),
}


def nnf(lib):
    return lib.nn.functional


@pytest.mark.parametrize("name", sorted(ACTS))
@pytest.mark.parametrize("shape", [(7,), (2, 3), (), (0, 2)])
def test_activations(name, shape):
    a = rand(*shape, seed=21, low=-3, high=3)
    compare_with_torch(lambda lib, x: ACTS[name](nnf(lib), x), a)
    compare_with_torch(lambda lib, x: ACTS[name](nnf(lib), x.t() if x.ndim == 2 else x) * 2,
                       a.astype(np.float64), rtol=1e-12)


@requires_torch
@pytest.mark.parametrize("name", sorted(ACTS))
def test_activations_float16_and_ints(name):
    a = rand(4, 5, seed=22, low=-3, high=3)
    c = ACTS[name](cgrad.nn.functional, cgrad.tensor(a).half())
    t = ACTS[name](torch.nn.functional, torch.tensor(a).half())
    assert str(c.dtype) == "cgrad.float16"
    np.testing.assert_array_max_ulp(c.float().numpy().astype(np.float16), t.numpy(), maxulp=1)
    for dt in ["int64", "int32", "bool"]:
        same_error(lambda: ACTS[name](cgrad.nn.functional, cgrad.ones(2).to(getattr(cgrad, dt))),
                   lambda: ACTS[name](torch.nn.functional, torch.ones(2).to(getattr(torch, dt))))


@pytest.mark.parametrize("name", sorted(ACTS))
def test_activations_gradcheck(name):
    a = rand(2, 3, seed=23, low=-3, high=3)
    a[np.abs(a) < 0.1] = 0.5        # away from the kinks
    check_gradients(lambda lib, x: ACTS[name](nnf(lib), x), a)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True)]
    assert cgrad.autograd.gradgradcheck(lambda x: ACTS[name](cgrad.nn.functional, x), ins)


@requires_torch
@pytest.mark.parametrize("name", ["silu", "leaky", "elu"])
def test_activations_inplace(name):
    kw = {"silu": ("silu", {}), "leaky": ("leaky_relu", {"negative_slope": 0.1}), "elu": ("elu", {"alpha": 0.7})}
    fname, extra = kw[name]
    a = rand(2, 3, seed=24, low=-3, high=3)
    compare_with_torch(lambda lib, x: getattr(nnf(lib), fname)(x * 1, inplace=True, **extra), a)

    def on_view(lib, x):
        y = x * 1
        getattr(nnf(lib), fname)(y[0], inplace=True, **extra)
        return y
    compare_with_torch(on_view, a)
    c, t = cgrad.tensor(a), torch.tensor(a)
    assert getattr(cgrad.nn.functional, fname)(c, inplace=True, **extra) is c
    getattr(torch.nn.functional, fname)(t, inplace=True, **extra)
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6)
    same_error(lambda: getattr(cgrad.nn.functional, fname)(cgrad.ones(2, requires_grad=True), inplace=True),
               lambda: getattr(torch.nn.functional, fname)(torch.ones(2, requires_grad=True), inplace=True))


@requires_torch
def test_activation_inplace_negative_slope_backward_error():
    for fname in ["leaky_relu", "elu"]:
        def run(lib):
            x = lib.ones(2, requires_grad=True) * 1
            y = getattr(lib.nn.functional, fname)(x, -0.5, inplace=True)
            y.sum().backward()
        same_error(lambda: run(cgrad), lambda: run(torch))


@requires_torch
def test_activation_modules_and_errors():
    mods = [lambda nn: nn.LeakyReLU(), lambda nn: nn.LeakyReLU(0.2, True), lambda nn: nn.ELU(),
            lambda nn: nn.ELU(0.5, inplace=True), lambda nn: nn.GELU(), lambda nn: nn.GELU("tanh"),
            lambda nn: nn.SiLU(), lambda nn: nn.SiLU(True), lambda nn: nn.Softplus(),
            lambda nn: nn.Softplus(2, 10)]
    a = rand(3, 4, seed=25, low=-3, high=3)
    for m in mods:
        assert repr(m(cgrad.nn)) == repr(m(torch.nn))
        compare_with_torch(lambda lib, x: m(lib.nn)(x * 1), a)
    same_error(lambda: cgrad.nn.functional.gelu(cgrad.ones(2), approximate="foo"),
               lambda: torch.nn.functional.gelu(torch.ones(2), approximate="foo"))


# ---------------------------------------------------------------------------
# norm / linalg.vector_norm, lerp

NORMS = {
    "fro": lambda lib, x: x.norm(), "p1": lambda lib, x: lib.norm(x, p=1), "inf": lambda lib, x: x.norm(float("inf")),
    "-inf": lambda lib, x: lib.linalg.vector_norm(x, ord=float("-inf")), "p3": lambda lib, x: x.norm(p=3),
    "p0": lambda lib, x: lib.linalg.vector_norm(x, 0), "dim1": lambda lib, x: lib.norm(x, dim=1),
    "dim_k": lambda lib, x: lib.linalg.vector_norm(x, dim=(0, 1), keepdim=True),
    "inf_dim": lambda lib, x: lib.linalg.vector_norm(x, float("inf"), dim=-1),
    "p1_dim": lambda lib, x: x.norm(1, 0, True), "half": lambda lib, x: x.norm(p=0.5, dim=0),
    "fro_str": lambda lib, x: lib.norm(x, p="fro", dim=(1,)),
}


@pytest.mark.parametrize("name", sorted(NORMS))
@pytest.mark.parametrize("shape", [(3, 4), (2, 1), (1, 3)])
def test_norms(name, shape):
    a = rand(*shape, seed=31)
    compare_with_torch(lambda lib, x: NORMS[name](lib, x), a, rtol=1e-5)
    compare_with_torch(lambda lib, x: NORMS[name](lib, x * 1) * 2, a.astype(np.float64), rtol=1e-10)


@pytest.mark.parametrize("name", sorted(NORMS))
def test_norms_gradcheck(name):
    a = rand(3, 4, seed=32)
    if name == "p0":
        check_gradients(NORMS[name], a)
        return
    check_gradients(NORMS[name], a)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True)]
    assert cgrad.autograd.gradgradcheck(lambda x: NORMS[name](cgrad, x), ins)


@requires_torch
def test_norm_zero_and_errors():
    compare_with_torch(lambda lib, x: (x * 0).norm(), rand(3, seed=1))
    compare_with_torch(lambda lib, x: lib.linalg.vector_norm(x * 0, dim=0), rand(2, 2, seed=1))
    compare_with_torch(lambda lib, x: x.norm(float("inf")), np.array([1.0, -3.0, 3.0], np.float32))
    for f in [lambda lib: lib.norm(lib.tensor([1, 2])), lambda lib: lib.linalg.vector_norm(lib.tensor([1, 2])),
              lambda lib: lib.linalg.vector_norm(lib.ones(0), float("inf")),
              lambda lib: lib.ones(2, 3).norm(dim=2)]:
        same_error(lambda: f(cgrad), lambda: f(torch))


LERPS = {
    "scalar": lambda lib, a, b, w: lib.lerp(a, b, 0.3), "method": lambda lib, a, b, w: a.lerp(b, 1.5),
    "tensor_w": lambda lib, a, b, w: lib.lerp(a, b, w), "method_w": lambda lib, a, b, w: a.lerp(b, w),
    "inplace": lambda lib, a, b, w: (a * 1).lerp_(b, 0.25), "inplace_w": lambda lib, a, b, w: (a * 1).lerp_(b, w),
}


@pytest.mark.parametrize("name", sorted(LERPS))
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((4,), (4,), ())])
def test_lerp(name, shapes):
    arrs = [rand(*s, seed=k) for k, s in enumerate(shapes)]
    compare_with_torch(LERPS[name], *arrs)
    check_gradients(LERPS[name], *arrs)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in arrs]
    assert cgrad.autograd.gradgradcheck(lambda a, b, w: LERPS[name](cgrad, a, b, w) ** 2, ins)


@requires_torch
def test_lerp_errors():
    for f in [lambda lib: lib.lerp(lib.ones(2), lib.ones(2, dtype=lib.float64), 0.5),
              lambda lib: lib.lerp(lib.ones(2), lib.ones(2), lib.ones(2, dtype=lib.float64)),
              lambda lib: lib.lerp(lib.ones(2, dtype=lib.int64), lib.ones(2, dtype=lib.int64), 1)]:
        same_error(lambda: f(cgrad), lambda: f(torch))


# ---------------------------------------------------------------------------
# diag

DIAGS = {"d0": lambda lib, x: lib.diag(x), "d1": lambda lib, x: x.diag(1), "d-2": lambda lib, x: lib.diag(x, -2),
         "d9": lambda lib, x: x.diag(9), "dt": lambda lib, x: (x.t() if x.ndim == 2 else x).diag(-1)}


@requires_torch
@pytest.mark.parametrize("name", sorted(DIAGS))
@pytest.mark.parametrize("shape", [(3,), (0,), (3, 4), (4, 2), (1, 1), (0, 3)])
def test_diag(name, shape):
    a = rand(*shape, seed=41)
    compare_with_torch(DIAGS[name], a)
    same(DIAGS[name](cgrad, cgrad.tensor(np.arange(int(np.prod(shape))).reshape(shape))),
         DIAGS[name](torch, torch.tensor(np.arange(int(np.prod(shape))).reshape(shape))))
    if 0 not in shape:
        check_gradients(DIAGS[name], a)
        ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True)]
        assert cgrad.autograd.gradgradcheck(lambda x: DIAGS[name](cgrad, x) ** 2, ins)


@requires_torch
def test_diag_errors():
    for f in [lambda lib: lib.diag(lib.ones(2, 2, 2)), lambda lib: lib.diag(lib.tensor(1.0))]:
        same_error(lambda: f(cgrad), lambda: f(torch))


@requires_torch
def test_scatter_add_src_larger_than_index_backward_error():
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        y = x.scatter_add(1, lib.tensor([[0, 0], [2, 0]]), x.flip(0) * 2)
        y.sum().backward()
    same_error(lambda: run(cgrad), lambda: run(torch))


# ---------------------------------------------------------------------------
# smooth_l1_loss, SmoothL1Loss, L1Loss

SMOOTH = {
    "mean": lambda F, x, t: F.smooth_l1_loss(x, t), "sum": lambda F, x, t: F.smooth_l1_loss(x, t, reduction="sum"),
    "none": lambda F, x, t: F.smooth_l1_loss(x, t, reduction="none"),
    "beta": lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.3), "beta0": lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.0),
    "big_beta": lambda F, x, t: F.smooth_l1_loss(x, t, reduction="none", beta=5.0),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((5,), (5,)), ((), ())])
def test_smooth_l1_loss(name, shapes):
    a, b = rand(*shapes[0], seed=51), rand(*shapes[1], seed=52)
    compare_with_torch(lambda lib, x, t: SMOOTH[name](nnf(lib), x, t), a, b)
    compare_with_torch(lambda lib, x, t: SMOOTH[name](nnf(lib), x, t), a.astype(np.float64), b, rtol=1e-10)
    a[np.abs(a - b) < 0.05] += 0.3      # away from the kinks
    check_gradients(lambda lib, x, t: SMOOTH[name](nnf(lib), x, t), a, b)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True), cgrad.tensor(b.astype(np.float64), requires_grad=True)]
    if name != "beta0":
        assert cgrad.autograd.gradgradcheck(lambda x, t: SMOOTH[name](cgrad.nn.functional, x, t) ** 2, ins)


@requires_torch
def test_smooth_l1_modules_and_errors():
    a, b = rand(3, 4, seed=53), rand(3, 4, seed=54)
    for m in [lambda nn: nn.SmoothL1Loss(), lambda nn: nn.SmoothL1Loss(beta=0.5, reduction="sum"),
              lambda nn: nn.L1Loss(), lambda nn: nn.L1Loss(reduction="none")]:
        assert repr(m(cgrad.nn)) == repr(m(torch.nn))
        compare_with_torch(lambda lib, x, t: m(lib.nn)(x, t), a, b)
    for f in [lambda F, lib: F.smooth_l1_loss(lib.ones(2), lib.ones(2), beta=-1),
              lambda F, lib: F.smooth_l1_loss(lib.tensor([1, 2]), lib.tensor([1, 3]))]:
        same_error(lambda: f(cgrad.nn.functional, cgrad), lambda: f(torch.nn.functional, torch))


@requires_torch
@pytest.mark.parametrize("shape", SHAPES)
def test_sgn(shape):
    a = rand(*shape, seed=61)
    if a.size:
        a.flat[0] = 0.0
    for fn in [lambda lib, x: lib.sgn(x), lambda lib, x: (x * 1).sgn(), lambda lib, x: (x * 1).sgn_()]:
        xc = cgrad.tensor(a, requires_grad=True)
        xt = torch.tensor(a, requires_grad=True)
        c, t = fn(cgrad, xc), fn(torch, xt)
        assert type(c.grad_fn).__name__ == type(t.grad_fn).__name__
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(c.detach().numpy(), t.detach().numpy())
        c.sum().backward()
        np.testing.assert_array_equal(xc.grad.numpy(), np.zeros_like(a))
    same(cgrad.sgn(cgrad.tensor([np.nan, -0.0, np.inf, -np.inf])), torch.sgn(torch.tensor([np.nan, -0.0, np.inf, -np.inf])))
    x = cgrad.tensor([1.0, -2.0], requires_grad=True)
    (g,) = cgrad.autograd.grad(cgrad.sgn(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 0.0])


@requires_torch
@pytest.mark.parametrize("dtype", ["float16", "float64", "int64", "int8", "uint8", "bool"])
def test_sgn_dtypes_inplace(dtype):
    src = np.array([0, 1, 3, 0], np.float32) if dtype in ("uint8", "bool") else np.array([0, -1, 3, -0.5])
    c = cgrad.tensor(src).to(getattr(cgrad, dtype))
    t = torch.tensor(src).to(getattr(torch, dtype))
    same(cgrad.sgn(c), torch.sgn(t))
    vc, vt = c._version, t._version
    assert c.sgn_() is c
    t.sgn_()
    same(c, t)
    assert c._version - vc == t._version - vt


# ---------------------------------------------------------------------------
# binary_cross_entropy_with_logits, BCEWithLogitsLoss, BCELoss

BCEL = {
    "mean": lambda F, x, t, w, pw: F.binary_cross_entropy_with_logits(x, t),
    "sum": lambda F, x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, reduction="sum"),
    "none": lambda F, x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
    "weight": lambda F, x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, weight=w),
    "pos_weight": lambda F, x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="sum"),
    "both": lambda F, x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, reduction="none", pos_weight=pw),
}


def bce_inputs(lib, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.uniform(-30, 30, (3, 4)).astype(dtype), requires_grad=True)
    t = lib.tensor(rng.uniform(0, 1, (3, 4)).astype(dtype), requires_grad=True)
    w = lib.tensor(rng.uniform(0.5, 2, (4,)).astype(dtype))
    pw = lib.tensor(rng.uniform(0.5, 2, (3, 1)).astype(dtype))
    return x, t, w, pw


@requires_torch
@pytest.mark.parametrize("name", sorted(BCEL))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits(name, dtype):
    ic, it = bce_inputs(cgrad, 71, dtype), bce_inputs(torch, 71, dtype)
    c = BCEL[name](cgrad.nn.functional, *ic)
    t = BCEL[name](torch.nn.functional, *it)
    assert type(c.grad_fn).__name__ == type(t.grad_fn).__name__
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    tol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=tol, atol=1e-6)
    go = np.random.default_rng(0).standard_normal(tuple(t.shape)).astype(dtype)
    c.backward(cgrad.tensor(go))
    t.backward(torch.tensor(go))
    for a, b in zip(ic[:2], it[:2]):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=1e-6)


@pytest.mark.parametrize("name", sorted(BCEL))
def test_bce_with_logits_gradcheck(name):
    x, t, w, pw = bce_inputs(cgrad, 72, np.float64)
    x = (x.detach() / 10).requires_grad_()
    fn = lambda a, b: BCEL[name](cgrad.nn.functional, a, b, w, pw)  # noqa: E731
    assert cgrad.autograd.gradcheck(fn, [x, t])
    assert cgrad.autograd.gradgradcheck(fn, [x, t])


@requires_torch
def test_bce_with_logits_modules_and_errors():
    ic, it = bce_inputs(cgrad, 73), bce_inputs(torch, 73)
    for m in [lambda nn, w, pw: nn.BCEWithLogitsLoss(), lambda nn, w, pw: nn.BCEWithLogitsLoss(w, pos_weight=pw),
              lambda nn, w, pw: nn.BCEWithLogitsLoss(reduction="sum")]:
        assert repr(m(cgrad.nn, ic[2], ic[3])) == repr(m(torch.nn, it[2], it[3]))
        np.testing.assert_allclose(m(cgrad.nn, ic[2], ic[3])(ic[0], ic[1]).detach().numpy(),
                                   m(torch.nn, it[2], it[3])(it[0], it[1]).detach().numpy(), rtol=1e-5)
    p = np.random.default_rng(1).uniform(0.1, 0.9, (3, 4)).astype(np.float32)
    for m in [lambda nn: nn.BCELoss(), lambda nn: nn.BCELoss(reduction="none")]:
        assert repr(m(cgrad.nn)) == repr(m(torch.nn))
        compare_with_torch(lambda lib, x, t: m(lib.nn)(x, t), p, p[::-1].copy())
    for f in [lambda F, lib: F.binary_cross_entropy_with_logits(lib.ones(3), lib.ones(2)),
              lambda F, lib: F.binary_cross_entropy_with_logits(lib.ones(2), lib.ones(2), reduction="foo"),
              lambda F, lib: F.binary_cross_entropy_with_logits(lib.ones(2), lib.ones(2, dtype=lib.int64)),
              lambda F, lib: F.binary_cross_entropy_with_logits(lib.ones(2, dtype=lib.int64), lib.ones(2)),
              lambda F, lib: F.binary_cross_entropy_with_logits(lib.ones(2), lib.ones(2),
                                                                weight=lib.ones(2, requires_grad=True)),
              lambda F, lib: F.binary_cross_entropy_with_logits(lib.ones(2), lib.ones(2),
                                                                pos_weight=lib.ones(2, requires_grad=True))]:
        same_error(lambda: f(cgrad.nn.functional, cgrad), lambda: f(torch.nn.functional, torch))


# ---------------------------------------------------------------------------
# addmm

ADDMM = {
    "plain": lambda lib, b, m1, m2: lib.addmm(b, m1, m2),
    "ab": lambda lib, b, m1, m2: lib.addmm(b, m1, m2, beta=0.5, alpha=2),
    "beta0": lambda lib, b, m1, m2: lib.addmm(b, m1, m2, beta=0),
    "method": lambda lib, b, m1, m2: b.addmm(m1, m2, alpha=-1.5),
}


@pytest.mark.parametrize("name", sorted(ADDMM))
@pytest.mark.parametrize("bshape", [(2, 3), (3,), (1, 3), ()])
def test_addmm(name, bshape):
    arrs = [rand(*bshape, seed=81), rand(2, 4, seed=82), rand(4, 3, seed=83)]
    compare_with_torch(ADDMM[name], *arrs, rtol=1e-5)
    check_gradients(ADDMM[name], *arrs)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in arrs]
    assert cgrad.autograd.gradgradcheck(lambda *xs: ADDMM[name](cgrad, *xs) ** 2, ins)


@requires_torch
def test_addmm_errors():
    b, m1, m2 = np.ones(3, np.float32), np.ones((2, 4), np.float32), np.ones((4, 3), np.float32)
    for f in [lambda lib: lib.addmm(lib.tensor(b), lib.tensor(m1), lib.tensor(m1), beta=2),
              lambda lib: lib.addmm(lib.tensor(b), lib.tensor(np.ones(4, np.float32)), lib.tensor(m2), alpha=3),
              lambda lib: lib.addmm(lib.tensor(b), lib.tensor(m1), lib.tensor(m2).double(), beta=2)]:
        same_error(lambda: f(cgrad), lambda: f(torch))
    same(cgrad.addmm(cgrad.full((2, 3), float("nan")), cgrad.tensor(m1), cgrad.tensor(m2), beta=0),
         torch.addmm(torch.full((2, 3), float("nan")), torch.tensor(m1), torch.tensor(m2), beta=0))


# ---------------------------------------------------------------------------
# scatter (src tensor: ScatterBackward0; value: ScatterBackward1), scatter_

SCATTERS = {
    "src0": (lambda lib, x, i: lib.scatter(x, 0, i, x[:1] * 2), [[1, 0, 1]]),
    "src1": (lambda lib, x, i: x.scatter(1, i, x.flip(0)[:, :2]), [[0, 2], [2, 1]]),
    "value": (lambda lib, x, i: x.scatter(1, i, 2.5), [[0, 2], [1, 1]]),
    "value_kw": (lambda lib, x, i: lib.scatter(x, -1, i, value=-1), [[2], [0]]),
    "inplace": (lambda lib, x, i: (x * 1).scatter_(0, i, x[1:] * 3), [[1, 1, 0]]),
    "inplace_v": (lambda lib, x, i: (x * 1).scatter_(1, i, 0.5), [[1], [0]]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SCATTERS))
def test_scatter(name):
    check_index_op(*SCATTERS[name], seed=91)


@requires_torch
def test_scatter_errors():
    for f in [lambda lib: lib.zeros(2, 3).scatter(0, lib.tensor([[0]]), lib.ones(1, 3, dtype=lib.float64)),
              lambda lib: lib.zeros(2, 3).scatter(0, lib.tensor([[5]]), lib.ones(1, 3)),
              lambda lib: lib.zeros(2, 3).scatter(0, lib.tensor([[2]]), 1.0),
              lambda lib: lib.zeros(2, 3).scatter(0, lib.tensor([[0, 1, 1, 1]]), lib.ones(1, 3)),
              lambda lib: lib.zeros(2, 3).scatter(0, lib.tensor([0]), lib.ones(1, 3)),
              lambda lib: lib.zeros(2, 3).scatter(0, lib.tensor([[0.0]]), 1.0),
              lambda lib: lib.ones(2, requires_grad=True).scatter_(0, lib.tensor([0]), 1.0)]:
        same_error(lambda: f(cgrad), lambda: f(torch))

    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        x.scatter(0, lib.tensor([[0, 1, 1]]), x * 2).sum().backward()
    same_error(lambda: run(cgrad), lambda: run(torch))
