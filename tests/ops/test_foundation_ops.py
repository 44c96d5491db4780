"""The ops of the foundation: differential tests against torch (values,
dtypes, shapes, grad_fn names, gradients) and float64 gradient checks."""
import numpy as np
import pytest

import cgrad
from helpers import check_gradients, compare_with_torch, positive, rand, requires_torch

BINARY = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "pow": lambda lib, a, b: a ** b,
}
SHAPE_PAIRS = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((4, 1, 3), (2, 3)), ((), (2, 2)),
               ((2, 3), ())]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
def test_binary_tensor_tensor(name, shapes):
    a = positive(*shapes[0], seed=1)
    b = positive(*shapes[1], seed=2)
    compare_with_torch(BINARY[name], a, b, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS[:4])
def test_binary_gradcheck(name, shapes):
    check_gradients(BINARY[name], positive(*shapes[0], seed=1), positive(*shapes[1], seed=2))


SCALAR_EXPRS = {
    "t+s": lambda lib, a: a + 0.5, "s+t": lambda lib, a: 0.5 + a,
    "t-s": lambda lib, a: a - 1.5, "s-t": lambda lib, a: 1.5 - a,
    "t*s": lambda lib, a: a * 1.01, "s*t": lambda lib, a: 3 * a,
    "t/s": lambda lib, a: a / 4, "s/t": lambda lib, a: 2 / a,
    "t**s": lambda lib, a: a ** 2, "t**0": lambda lib, a: a ** 0, "t**-1.5": lambda lib, a: a ** -1.5,
    "s**t": lambda lib, a: 2 ** a, "-t": lambda lib, a: -a,
    "chain": lambda lib, a: ((a * 1.01 + 0.5).tanh() * 2 - 1) / 3,
}


@pytest.mark.parametrize("name", sorted(SCALAR_EXPRS))
def test_scalar_operands(name):
    compare_with_torch(SCALAR_EXPRS[name], positive(2, 3, seed=3))


@pytest.mark.parametrize("name", sorted(SCALAR_EXPRS))
def test_scalar_operands_gradcheck(name):
    check_gradients(SCALAR_EXPRS[name], positive(2, 3, seed=3))


UNARY = {
    "neg": lambda lib, a: a.neg(), "exp": lambda lib, a: a.exp(), "log": lambda lib, a: a.log(),
    "tanh": lambda lib, a: a.tanh(), "relu": lambda lib, a: a.relu(),
    "exp_fn": lambda lib, a: lib.exp(a), "log_fn": lambda lib, a: lib.log(a),
    "tanh_fn": lambda lib, a: lib.tanh(a), "relu_fn": lambda lib, a: lib.relu(a),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 0)])
def test_unary(name, shape):
    data = positive(*shape, seed=4) if "log" in name else rand(*shape, seed=4)
    compare_with_torch(UNARY[name], data)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    data = positive(3, 2, seed=5) if "log" in name else rand(3, 2, seed=5) + 0.05
    check_gradients(UNARY[name], data)


REDUCTIONS = {
    "sum": lambda lib, a: a.sum(), "mean": lambda lib, a: a.mean(),
    "sum0": lambda lib, a: a.sum(0), "sum-1k": lambda lib, a: a.sum(-1, keepdim=True),
    "sum01": lambda lib, a: a.sum((0, 2)), "mean1": lambda lib, a: a.mean(1),
    "mean02k": lambda lib, a: a.mean(dim=(0, 2), keepdim=True), "sum_empty_dims": lambda lib, a: a.sum(()),
    "sum_fn": lambda lib, a: lib.sum(a, 1), "mean_fn": lambda lib, a: lib.mean(a),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name):
    compare_with_torch(REDUCTIONS[name], rand(2, 3, 4, seed=6))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_gradcheck(name):
    check_gradients(REDUCTIONS[name], rand(2, 3, 4, seed=6))


def test_reductions_of_ints_and_empty():
    compare_with_torch(lambda lib, a: a.sum(), np.arange(6).reshape(2, 3))
    compare_with_torch(lambda lib, a: a.sum(1), np.array([[True, False], [True, True]]))
    compare_with_torch(lambda lib, a: a.sum(), rand(0, 3))
    compare_with_torch(lambda lib, a: a.mean(0), rand(0, 3))


LINALG = {
    "mm": (lambda lib, a, b: lib.mm(a, b), (2, 3), (3, 4)),
    "mm_method": (lambda lib, a, b: a.mm(b), (5, 1), (1, 5)),
    "matmul_2d": (lambda lib, a, b: a @ b, (3, 3), (3, 2)),
    "matmul_mv": (lambda lib, a, b: lib.matmul(a, b), (3, 4), (4,)),
    "matmul_vm": (lambda lib, a, b: a @ b, (4,), (4, 2)),
    "matmul_dot": (lambda lib, a, b: a @ b, (4,), (4,)),
    "matmul_fold": (lambda lib, a, b: a @ b, (2, 3, 4), (4, 5)),
    "mm_transposed": (lambda lib, a, b: a.t() @ b.t(), (4, 3), (2, 4)),
    "mm_large": (lambda lib, a, b: a @ b, (40, 50), (50, 30)),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg(name):
    fn, sa, sb = LINALG[name]
    compare_with_torch(fn, rand(*sa, seed=7), rand(*sb, seed=8), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_gradcheck(name):
    fn, sa, sb = LINALG[name]
    if name == "mm_large":
        sa, sb = (6, 5), (5, 7)
    check_gradients(fn, rand(*sa, seed=7), rand(*sb, seed=8))


SHAPES = {
    "view": lambda lib, a: a.view(6, 4), "view_infer": lambda lib, a: a.view(-1, 2),
    "view_tuple": lambda lib, a: a.view((4, 6)), "reshape": lambda lib, a: a.reshape(3, 8),
    "t": lambda lib, a: a.view(6, 4).t(), "T": lambda lib, a: a.view(6, 4).T,
    "reshape_copy": lambda lib, a: a.view(6, 4).t().reshape(-1),
    "t_then_mul": lambda lib, a: a.view(6, 4).t() * 2,
    "reshape_fn": lambda lib, a: lib.reshape(a, (24,)),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shapes(name):
    compare_with_torch(SHAPES[name], rand(2, 3, 4, seed=9))


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shapes_gradcheck(name):
    check_gradients(SHAPES[name], rand(2, 3, 4, seed=9))


def test_views_share_memory():
    a = cgrad.zeros(2, 3)
    v = a.view(6)
    with cgrad.no_grad():
        v += 1
    assert a.tolist() == [[1.0] * 3] * 2
    assert a.t()._base is a and v._base is a
    assert a.t().stride() == (1, 3) and not a.t().is_contiguous()


@requires_torch
def test_promotion_rules():
    import torch
    cases = [
        (np.ones(2, np.float32), np.ones(2, np.float64)),
        (np.ones(2, np.int64), np.ones(2, np.float32)),
        (np.ones(2, np.float32), np.array(2.5)),
        (np.ones(2, np.int64), np.array(2.5)),
        (np.ones(2, bool), np.array(2)),
    ]
    for a, b in cases:
        got = (cgrad.tensor(a) * cgrad.tensor(b)).dtype
        want = (torch.tensor(a) * torch.tensor(b)).dtype
        assert str(got).split(".")[-1] == str(want).split(".")[-1], (a.dtype, b.dtype)
    for a, s in [(np.ones(2, np.int64), 2.5), (np.ones(2, np.int64), 2), (np.ones(2, bool), 2),
                 (np.ones(2, np.float64), 2.5), (np.ones(2, bool), True)]:
        got = (cgrad.tensor(a) + s).dtype
        want = (torch.tensor(a) + s).dtype
        assert str(got).split(".")[-1] == str(want).split(".")[-1], (a.dtype, s)


def test_sgd_update_under_no_grad():
    w = cgrad.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with cgrad.no_grad():
        w -= 0.1 * w.grad
    assert np.allclose(w.detach().numpy(), [0.8, 1.6])
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    assert w._version == 1
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in an "
                                           "in-place operation.$"):
        w += 1
    assert w.tolist() == pytest.approx([0.8, 1.6])


def test_inplace_on_non_leaf_is_recorded():
    def fn(lib, a, b):
        y = a * 2
        y += b
        y *= b
        y -= 1
        y /= 2
        return y
    compare_with_torch(fn, rand(2, 3, seed=1), positive(2, 3, seed=2))


def test_errors():
    a = cgrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(2\) must match the size of tensor "
                                           r"b \(3\) at non-singleton dimension 0$"):
        a + cgrad.ones(3)
    with pytest.raises(RuntimeError, match=r"^shape '\[3\]' is invalid for input of size 2$"):
        a.view(3)
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)$"):
        cgrad.mm(cgrad.ones(2, 3), cgrad.ones(2, 3))
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range of "
                                         r"\[-1, 0\], but got 1\)$"):
        a.sum(1)
    with pytest.raises(RuntimeError, match="^view size is not compatible with input tensor's size"):
        cgrad.ones(2, 3).t().view(6)
    with pytest.raises(TypeError):
        a + "x"
    with pytest.raises(RuntimeError, match="^a Tensor with 2 elements cannot be converted to Scalar$"):
        a.item()
    assert a.grad is None and a._version == 0
