"""diagonal, as_strided, Tensor.unfold, narrow_copy, rot90, diag_embed,
trace, block_diag, meshgrid, cartesian_prod, combinations, triu_indices,
tril_indices against torch, with float64 gradcheck and gradgradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch


def both_raise(fn):
    msgs = []
    types = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        msgs.append(str(info.value).split("\n")[0].replace("torch.", "cgrad."))
        types.append(type(info.value).__name__)
    assert types[0] == types[1] and msgs[0] == msgs[1]


def check_both(fn, *arrays):
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


@pytest.mark.parametrize("args", [(), (1,), (-1,), (0, 1, 2), (2, 2, 0), (-1, -1, 0), (5,)])
def test_diagonal(args):
    compare_with_torch(lambda lib, x: lib.diagonal(x, *args) * 1, rand(3, 4, 5))
    compare_with_torch(lambda lib, x: x.diagonal(*args) * 1, rand(3, 4, 5))
    check_both(lambda x: cgrad.diagonal(x, *args), rand(3, 4, 5))


@requires_torch
def test_diagonal_is_a_view():
    for lib in (cgrad, torch):
        x = lib.zeros(3, 3)
        d = x.diagonal()
        d.fill_(2.0)
        assert x.tolist() == [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
        assert d.grad_fn is None
    x = cgrad.zeros(3, 3, requires_grad=True)
    assert cgrad.diagonal(x).grad_fn.name() == "DiagonalBackward0"
    both_raise(lambda lib: lib.diagonal(lib.ones(3, 4), 0, 1, 1))


@pytest.mark.parametrize("size,stride,offset", [((2, 2), (1, 2), None), ((3, 3), (1, 1), 1), ((4,), (3,), 0),
                                                ((2, 3), (0, 1), 2)])
def test_as_strided(size, stride, offset):
    compare_with_torch(lambda lib, x: lib.as_strided(x, size, stride, offset) * 1, rand(3, 4))
    compare_with_torch(lambda lib, x: x.as_strided(size, stride, offset).sum(), rand(3, 4))
    check_both(lambda x: cgrad.as_strided(x, size, stride, offset), rand(3, 4))


@requires_torch
def test_as_strided_errors():
    both_raise(lambda lib: lib.ones(3, 4).as_strided((5, 5), (5, 1)))
    both_raise(lambda lib: lib.ones(3, 4).as_strided((2, 2), (1,)))
    # strides are checked before sizes; a negative size is the storage-size overflow
    both_raise(lambda lib: lib.as_strided(lib.arange(24.0), (2, -2), (1, 1)))
    both_raise(lambda lib: lib.as_strided(lib.arange(24.0), (-1,), (1,)))
    both_raise(lambda lib: lib.as_strided(lib.arange(24.0), (2, -2), (1, -1)))


@pytest.mark.parametrize("dim,size,step", [(1, 2, 1), (1, 2, 2), (0, 3, 1), (-1, 4, 3), (1, 1, 5)])
def test_unfold(dim, size, step):
    compare_with_torch(lambda lib, x: x.unfold(dim, size, step) * 1, rand(3, 4))
    check_both(lambda x: x.unfold(dim, size, step), rand(3, 4))


@requires_torch
def test_unfold_errors_and_scalar():
    compare_with_torch(lambda lib, x: x.unfold(0, 1, 1) * 1, np.array(2.0, np.float32))
    both_raise(lambda lib: lib.ones(3, 4).unfold(1, 5, 1))
    both_raise(lambda lib: lib.ones(3, 4).unfold(1, 2, 0))


@requires_torch
def test_narrow_copy():
    compare_with_torch(lambda lib, x: lib.narrow_copy(x, 1, 1, 2), rand(3, 4))
    compare_with_torch(lambda lib, x: x.narrow_copy(0, 1, 2), rand(3, 4))
    # (PyTorch's own backward fails for a negative start: values only)
    compare_with_torch(lambda lib, x: x.narrow_copy(0, -2, 2), rand(3, 4), requires_grad=False)
    check_both(lambda x: cgrad.narrow_copy(x, 1, 1, 2), rand(3, 4))
    both_raise(lambda lib: lib.narrow_copy(lib.ones(3, 4), 0, 2, 5))


@pytest.mark.parametrize("k,dims", [(1, (0, 1)), (2, (0, 1)), (3, (1, 0)), (-1, (0, 2)), (4, (0, 1)), (5, (-1, 0))])
def test_rot90(k, dims):
    compare_with_torch(lambda lib, x: lib.rot90(x, k, dims), rand(2, 3, 4))
    compare_with_torch(lambda lib, x: x.rot90(k, dims), rand(2, 3, 4))
    check_both(lambda x: cgrad.rot90(x, k, dims), rand(2, 3, 4))


@requires_torch
def test_rot90_errors():
    both_raise(lambda lib: lib.rot90(lib.ones(3, 4), 1, [0, 0]))
    both_raise(lambda lib: lib.rot90(lib.ones(3)))


@pytest.mark.parametrize("args", [(), (1,), (-2,), (0, 0, 2), (1, -1, 0)])
def test_diag_embed(args):
    compare_with_torch(lambda lib, x: lib.diag_embed(x, *args), rand(2, 3))
    check_both(lambda x: cgrad.diag_embed(x, *args), rand(2, 3))


@requires_torch
def test_trace():
    compare_with_torch(lambda lib, x: lib.trace(x), rand(3, 4))
    compare_with_torch(lambda lib, x: x.trace(), rand(4, 3))
    compare_with_torch(lambda lib, x: x.trace(), np.arange(9, dtype=np.int32).reshape(3, 3))
    check_both(lambda x: cgrad.trace(x), rand(3, 3))
    both_raise(lambda lib: lib.trace(lib.ones(3)))


@requires_torch
def test_block_diag():
    compare_with_torch(lambda lib, a, b, c: lib.block_diag(a, b, c), rand(2, 3), rand(3, seed=1),
                       np.array(2.0, np.float32))
    compare_with_torch(lambda lib, a, b: lib.block_diag(a, b), rand(2, 2), np.arange(3).reshape(1, 3))
    check_both(lambda a, b: cgrad.block_diag(a, b), rand(2, 3), rand(1, 2, seed=1))
    both_raise(lambda lib: lib.block_diag(lib.ones(2, 2, 2)))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    compare_with_torch(lambda lib, a, b, c: lib.meshgrid(a, b, c, indexing=indexing), rand(2), rand(3, seed=1),
                       rand(4, seed=2))
    compare_with_torch(lambda lib, a, b: lib.meshgrid([a, b], indexing=indexing), rand(2), rand(3, seed=1))
    compare_with_torch(lambda lib, a: lib.meshgrid(a, indexing=indexing), rand(3))


@requires_torch
def test_cartesian_prod_and_combinations():
    compare_with_torch(lambda lib, a, b: lib.cartesian_prod(a, b), rand(2), rand(3, seed=1))
    compare_with_torch(lambda lib, a: lib.cartesian_prod(a), rand(3))
    for r in (0, 1, 2, 3):
        for rep in (False, True):
            compare_with_torch(lambda lib, a: lib.combinations(a, r, rep), rand(4), check_grad_fn=r > 1)
    check_both(lambda a: cgrad.combinations(a, 2), rand(4))
    both_raise(lambda lib: lib.combinations(lib.ones(2, 2)))


@requires_torch
@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (4, 3, 1), (3, 5, -1), (0, 3, 0), (3, 4, 10)])
def test_tri_indices(row, col, offset):
    for name in ("triu_indices", "tril_indices"):
        c = getattr(cgrad, name)(row, col, offset)
        t = getattr(torch, name)(row, col, offset)
        assert c.dtype == cgrad.int64 and c.tolist() == t.tolist()
    both_raise(lambda lib: lib.triu_indices(-1, 3))


@pytest.mark.parametrize("make_view", [lambda y: y.diagonal(), lambda y: y.unfold(1, 2, 2),
                                       lambda y: y.as_strided((2, 2), (4, 1), 1)])
def test_inplace_on_view_updates_base_history(make_view):
    a = rand(4, 4)

    def run(lib, x):
        y = x * 1
        v = make_view(y)
        v.mul_(3)
        return y
    compare_with_torch(run, a, check_grad_fn=False)


def test_composites_gradcheck():
    check_both(lambda a, b: cgrad.meshgrid(a, b, indexing="xy"), rand(2), rand(3, seed=1))
    check_both(lambda a, b: cgrad.cartesian_prod(a, b), rand(2), rand(3, seed=1))
    check_both(lambda a, b: cgrad.tensordot(a, b, dims=([1, 0], [0, 1])), rand(3, 4, 2), rand(4, 3, 5, seed=1))
    order = cgrad.tensor(np.argsort(rand(3, 4), axis=1))
    check_both(lambda a: cgrad.take_along_dim(a, order, 1), rand(3, 4))
