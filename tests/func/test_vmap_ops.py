"""vmap against a loop for every op family with a batching rule: values,
gradients through grad (vmap(grad)), no fallback warning, and torch.func.vmap
of the same function (tests/func/vmap_check.py)."""
import numpy as np
import pytest

import cgrad
from vmap_check import check_vmap

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4, 5))       # batch 3 of (4, 5)
B = rng.standard_normal((3, 4, 5))
V = rng.standard_normal((3, 5))          # batch 3 of (5,)
M = rng.standard_normal((5, 6))          # unbatched
S = rng.standard_normal(3)               # batch 3 of scalars
POS = np.abs(A) + 0.5

UNARY = {
    "sin": lambda L, x: x.sin(), "cos": lambda L, x: L.cos(x), "exp": lambda L, x: x.exp(),
    "tanh": lambda L, x: L.tanh(x), "sigmoid": lambda L, x: x.sigmoid(), "relu": lambda L, x: L.relu(x),
    "abs": lambda L, x: x.abs(), "neg": lambda L, x: -x, "square": lambda L, x: x.square(),
    "clamp": lambda L, x: x.clamp(-0.5, 0.7), "pow_scalar": lambda L, x: x ** 2,
    "rpow": lambda L, x: 2.0 ** x, "radd": lambda L, x: 1.5 + x, "rsub": lambda L, x: 1.5 - x,
    "rdiv": lambda L, x: 1.0 / (x.abs() + 1), "erf": lambda L, x: L.erf(x), "atan": lambda L, x: x.atan(),
    "sinh": lambda L, x: x.sinh(), "expm1": lambda L, x: x.expm1(), "double": lambda L, x: x.float().double(),
    "clone": lambda L, x: x.clone(), "contiguous": lambda L, x: x.transpose(0, 1).contiguous(),
}
POSITIVE = {
    "log": lambda L, x: x.log(), "sqrt": lambda L, x: L.sqrt(x), "rsqrt": lambda L, x: x.rsqrt(),
    "log1p": lambda L, x: x.log1p(), "reciprocal": lambda L, x: x.reciprocal(),
    "log2": lambda L, x: L.log2(x),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    check_vmap(UNARY[name], [A])


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_unary_positive_domain(name):
    check_vmap(POSITIVE[name], [POS])


@pytest.mark.parametrize("name", ["tan", "asinh", "hardtanh", "hardswish", "mish", "logsigmoid", "softshrink"])
def test_op_table_rows(name):
    check_vmap(lambda L, x: getattr(L, name)(x) if hasattr(L, name) else getattr(L.nn.functional, name)(x),
               [A * 0.5])


BINARY = {
    "add": lambda L, x, y: x + y, "sub": lambda L, x, y: L.sub(x, y, alpha=2), "mul": lambda L, x, y: x * y,
    "div": lambda L, x, y: x / (y.abs() + 1), "pow": lambda L, x, y: x.abs().pow(y),
    "maximum": lambda L, x, y: L.maximum(x, y), "atan2": lambda L, x, y: L.atan2(x, y),
    "where": lambda L, x, y: L.where(x > y, x, y), "lerp": lambda L, x, y: x.lerp(y, 0.3),
    "hypot": lambda L, x, y: L.hypot(x, y), "masked_fill": lambda L, x, y: x.masked_fill(y > 0, 0.5),
    "max_binary": lambda L, x, y: L.max(x, y),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("in_dims", [(0, 0), (0, None), (None, 0), (1, 0)])
def test_binary(name, in_dims):
    x = A if in_dims[0] != 1 else np.moveaxis(A, 0, 1).copy()
    y = B if in_dims[1] is not None else B[0]
    if in_dims[0] is None:
        x = A[0]
    check_vmap(BINARY[name], [x, y], in_dims)


@pytest.mark.parametrize("in_dims", [(0, 0), (0, None), (None, 0)])
def test_broadcasting_across_logical_ranks(in_dims):
    # (4, 5) against (5,) and against a 0-d sample: PyTorch's right alignment per sample
    x = A if in_dims[0] == 0 else A[0]
    y = V if in_dims[1] == 0 else V[0]
    check_vmap(lambda L, a, b: a * b + b, [x, y], in_dims)
    s = S if in_dims[1] == 0 else np.array(S[0])
    check_vmap(lambda L, a, b: a - b, [x, s], in_dims)


def test_comparisons_and_logical():
    check_vmap(lambda L, x, y: ((x > y) & (x > 0)) | ~(y < 0.5), [A, B], grad=False)
    check_vmap(lambda L, x, y: L.eq(x.round(), y.round()).logical_xor(x.ne(0)), [A, B], grad=False)


def test_inplace_on_batched():
    check_vmap(lambda L, x, y: x.clone().add_(y).mul_(2), [A, B])
    check_vmap(lambda L, x, y: x.clone().add_(y), [A, M[:4, :5]], (0, None))


def test_inplace_on_unbatched_refused():
    with pytest.raises(RuntimeError, match="vmap: add_"):
        cgrad.func.vmap(lambda x, y: y.clone().add_(x), in_dims=(0, None))(cgrad.tensor(A), cgrad.tensor(A[0]))


REDUCTIONS = {
    "sum": lambda L, x: x.sum(), "sum_dim": lambda L, x: x.sum(0), "sum_neg": lambda L, x: L.sum(x, -1),
    "sum_tuple_keep": lambda L, x: x.sum((0, 1), keepdim=True), "sum_keep_all": lambda L, x: x.sum(dim=None),
    "mean": lambda L, x: x.mean(), "mean_dim": lambda L, x: x.mean(1, keepdim=True),
    "prod": lambda L, x: x.prod(1), "amax": lambda L, x: x.amax(-1), "amin": lambda L, x: L.amin(x, (0, 1)),
    "max_all": lambda L, x: x.max(), "max_dim": lambda L, x: x.max(1), "min_dim": lambda L, x: L.min(x, 0, True),
    "std": lambda L, x: x.std(), "std_dim": lambda L, x: x.std(1), "var": lambda L, x: x.var(0, correction=0),
    "norm": lambda L, x: x.norm(), "norm_dim": lambda L, x: x.norm(dim=1), "norm_p1": lambda L, x: x.norm(1, 0),
    "logsumexp": lambda L, x: x.logsumexp(1), "logsumexp_keep": lambda L, x: L.logsumexp(x, 0, True),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name):
    check_vmap(REDUCTIONS[name], [A])


def test_index_reductions():
    check_vmap(lambda L, x: x.argmax(), [A], grad=False)
    check_vmap(lambda L, x: x.argmax(1, keepdim=True), [A], grad=False)
    check_vmap(lambda L, x: L.argmin(x, 0), [A], grad=False)
    check_vmap(lambda L, x: (x > 0).all(1), [A], grad=False)
    check_vmap(lambda L, x: (x > 0).any(), [A], grad=False)
    check_vmap(lambda L, x: x.sum(), [V[:, 0]])      # reduction of a 0-d sample


DIM_OPS = {
    "softmax": lambda L, x: x.softmax(-1), "log_softmax": lambda L, x: L.log_softmax(x, 0),
    "cumsum": lambda L, x: x.cumsum(1), "select": lambda L, x: x.select(1, 2),
    "narrow": lambda L, x: x.narrow(0, 1, 2), "unbind": lambda L, x: x.unbind(1),
    "index_select": lambda L, x: x.index_select(1, L.tensor([4, 0, 0])),
    "split": lambda L, x: x.split(2, 1), "chunk": lambda L, x: L.chunk(x, 2, 0),
    "transpose": lambda L, x: x.transpose(0, 1), "movedim": lambda L, x: x.movedim(0, -1),
    "unsqueeze": lambda L, x: x.unsqueeze(-1), "unsqueeze0": lambda L, x: L.unsqueeze(x, 0),
    "flip": lambda L, x: x.flip(1), "roll": lambda L, x: x.roll(1, 1),
    "tril": lambda L, x: x.tril(), "swapaxes": lambda L, x: x.swapaxes(0, 1),
}


@pytest.mark.parametrize("name", sorted(DIM_OPS))
def test_dim_ops(name):
    check_vmap(DIM_OPS[name], [A])


SHAPE_OPS = {
    "view": lambda L, x: x.view(20), "view_neg": lambda L, x: x.view(2, -1), "reshape": lambda L, x: L.reshape(x, (5, 4)),
    "view_as": lambda L, x: x.view_as(L.ones(20)), "permute": lambda L, x: x.permute(1, 0),
    "expand": lambda L, x: x[:1].expand(3, 4, 5), "expand_neg": lambda L, x: x.unsqueeze(0).expand(2, -1, -1),
    "repeat": lambda L, x: x.repeat(2, 1, 1), "flatten": lambda L, x: x.flatten(), "flatten0": lambda L, x: L.flatten(x, 0, 0),
    "squeeze": lambda L, x: x[:1].squeeze(), "squeeze_dim": lambda L, x: x[:, :1].squeeze(1),
    "t": lambda L, x: x.t(), "T": lambda L, x: x.T, "mT": lambda L, x: x.mT, "ravel": lambda L, x: x.ravel(),
    "unflatten": lambda L, x: x.unflatten(1, (5, 1)), "tile": lambda L, x: x.tile(2),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops(name):
    check_vmap(SHAPE_OPS[name], [A])


def test_expand_as_with_unbatched_self():
    check_vmap(lambda L, x, y: y.expand_as(x) * x, [A, V[0]], (0, None))


@pytest.mark.parametrize("in_dims", [(0, 0), (0, None), (None, 0)])
def test_cat_stack(in_dims):
    x = A if in_dims[0] == 0 else A[0]
    y = B if in_dims[1] == 0 else B[0]
    check_vmap(lambda L, a, b: L.cat([a, b], 0), [x, y], in_dims)
    check_vmap(lambda L, a, b: L.cat((a, b), dim=-1), [x, y], in_dims)
    check_vmap(lambda L, a, b: L.stack([a, b]), [x, y], in_dims)
    check_vmap(lambda L, a, b: L.stack([a, b], -1), [x, y], in_dims)


INDEXING = {
    "int": lambda L, x: x[1], "slice": lambda L, x: x[1:, ::2], "none": lambda L, x: x[None, :, 0],
    "ellipsis": lambda L, x: x[..., 1], "tensor": lambda L, x: x[L.tensor([0, 2, 2])],
    "tensor_dim1": lambda L, x: x[:, L.tensor([4, 1])], "mask": lambda L, x: x[L.tensor([True, False, True, True])],
    "negative": lambda L, x: x[-1, -2],
}


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing(name):
    check_vmap(INDEXING[name], [A])


def test_setitem():
    def put(L, x, y):
        z = x.clone()
        z[1] = y[0]
        z[:, 0] = 2.0
        return z
    check_vmap(put, [A, B])
    check_vmap(put, [A, B[0]], (0, None))


def test_gather():
    index = rng.integers(0, 5, (3, 4, 2))
    check_vmap(lambda L, x, i: x.gather(1, i), [A, index])
    check_vmap(lambda L, x, i: L.gather(x, 1, i), [A, index[0]], (0, None))


# matmul: every rank combination, each operand batched or not
MATMUL_SHAPES = [((5,), (5,)), ((5,), (5, 3)), ((4, 5), (5,)), ((4, 5), (5, 3)), ((2, 4, 5), (5, 3)),
                 ((4, 5), (2, 5, 3)), ((2, 4, 5), (2, 5, 3)), ((5,), (2, 5, 3)), ((2, 4, 5), (5,))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("in_dims", [(0, 0), (0, None), (None, 0)])
def test_matmul(shapes, in_dims):
    arrays = [rng.standard_normal(((3,) if d is not None else ()) + s) for s, d in zip(shapes, in_dims)]
    check_vmap(lambda L, a, b: a @ b, arrays, in_dims)
    check_vmap(lambda L, a, b: L.matmul(a, b), arrays, in_dims)


@pytest.mark.parametrize("in_dims", [(0, 0), (0, None), (None, 0)])
def test_matrix_products(in_dims):
    def arrays(*shapes):
        return [rng.standard_normal(((3,) if d is not None else ()) + s) for s, d in zip(shapes, in_dims)]
    check_vmap(lambda L, a, b: a.mm(b), arrays((4, 5), (5, 2)), in_dims)
    check_vmap(lambda L, a, b: L.bmm(a, b), arrays((2, 4, 5), (2, 5, 3)), in_dims)
    check_vmap(lambda L, a, b: L.mv(a, b), arrays((4, 5), (5,)), in_dims)
    check_vmap(lambda L, a, b: a.dot(b), arrays((5,), (5,)), in_dims)
    check_vmap(lambda L, a, b: L.outer(a, b), arrays((4,), (5,)), in_dims)


def test_mm_rank_error_is_the_ops_own():
    with pytest.raises(RuntimeError) as got:
        cgrad.func.vmap(lambda a: a.mm(a))(cgrad.tensor(V))
    with pytest.raises(RuntimeError) as want:
        cgrad.tensor(V[0]).mm(cgrad.tensor(V[0]))
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("in_dims", [(0, None, None), (0, 0, 0), (None, 0, None), (0, None, 0)])
def test_linear(in_dims):
    shapes = [(4, 5), (6, 5), (6,)]
    arrays = [rng.standard_normal(((3,) if d is not None else ()) + s) for s, d in zip(shapes, in_dims)]
    check_vmap(lambda L, x, w, b: L.nn.functional.linear(x, w, b), arrays, in_dims)
    check_vmap(lambda L, x, w, b: L.nn.functional.linear(x[0], w), arrays, in_dims)


def test_addmm():
    check_vmap(lambda L, c, a, b: L.addmm(c, a, b), [rng.standard_normal((3, 4, 2)), A, M[:, :2]], (0, 0, None))
