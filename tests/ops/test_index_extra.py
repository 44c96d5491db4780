"""masked_select, masked_scatter(_), index_add(_), index_copy(_),
index_fill(_), index_put(_), take, take_along_dim, put(_) against torch:
values, gradients, grad_fn names, in-place history, error texts; float64
gradcheck and gradgradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch

IDX = np.array([0, 2], np.int64)
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])


def both_raise(fn, exc=RuntimeError):
    msgs = []
    types = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        msgs.append(str(info.value).split("\n")[0].replace("torch.", "cgrad."))
        types.append(type(info.value).__name__)
    assert types[0] == types[1] and msgs[0] == msgs[1]


def f64(a):
    return cgrad.tensor(a.astype(np.float64), requires_grad=True)


def check_both(fn, *arrays):
    ins = [f64(a) if a.dtype.kind == "f" else cgrad.tensor(a) for a in arrays]
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


@requires_torch
def test_masked_select():
    compare_with_torch(lambda lib, x, m: lib.masked_select(x, m), rand(3, 4), MASK)
    compare_with_torch(lambda lib, x, m: x.masked_select(m), rand(3, 1), MASK)
    compare_with_torch(lambda lib, x, m: x.masked_select(m), rand(3, 4), MASK[0])
    check_both(lambda x, m: cgrad.masked_select(x, m), rand(3, 4), MASK)
    both_raise(lambda lib: lib.masked_select(lib.ones(3), lib.ones(3)))
    both_raise(lambda lib: lib.masked_select(lib.ones(3, 4), lib.ones(5, dtype=lib.bool)))


@requires_torch
def test_masked_scatter():
    compare_with_torch(lambda lib, x, m, s: lib.masked_scatter(x, m, s), rand(3, 4), MASK, rand(12, seed=1))
    compare_with_torch(lambda lib, x, m, s: x.masked_scatter(m, s), rand(3, 4), MASK, rand(2, 4, seed=1))

    def inplace(lib, x, m, s):
        y = x * 1
        y.masked_scatter_(m, s)
        return y
    compare_with_torch(inplace, rand(3, 4), MASK, rand(3, 4, seed=1))
    check_both(lambda x, m, s: cgrad.masked_scatter(x, m, s), rand(3, 4), MASK, rand(12, seed=1))
    both_raise(lambda lib: lib.masked_scatter(lib.ones(3, 4), lib.ones(3, 4, dtype=lib.bool), lib.ones(3)))
    both_raise(lambda lib: lib.masked_scatter(lib.ones(3), lib.ones(3, dtype=lib.bool),
                                              lib.ones(3, dtype=lib.float64)))
    both_raise(lambda lib: lib.masked_scatter(lib.ones(3), lib.ones(3, dtype=lib.int32), lib.ones(3)))


@pytest.mark.parametrize("dim", [0, 1])
def test_index_add_copy_fill(dim):
    src_shape = (2, 4) if dim == 0 else (3, 2)
    compare_with_torch(lambda lib, x, i, s: lib.index_add(x, dim, i, s), rand(3, 4), IDX, rand(*src_shape, seed=1))
    compare_with_torch(lambda lib, x, i, s: x.index_add(dim, i, s, alpha=2.5), rand(3, 4), IDX,
                       rand(*src_shape, seed=1))
    compare_with_torch(lambda lib, x, i, s: lib.index_add(x, dim, i, s), rand(3, 4),
                       np.array([1, 1, 0], np.int64), rand(*((3, 4) if dim == 0 else (3, 3)), seed=1))
    compare_with_torch(lambda lib, x, i, s: lib.index_copy(x, dim, i, s), rand(3, 4), IDX,
                       rand(*src_shape, seed=1))
    compare_with_torch(lambda lib, x, i: lib.index_fill(x, dim, i, -1.5), rand(3, 4), IDX)
    compare_with_torch(lambda lib, x, i, v: x.index_fill(dim, i, v), rand(3, 4), IDX, np.array(2.0, np.float32))
    compare_with_torch(lambda lib, x, i: x.index_fill(dim, i, 7), np.arange(12).reshape(3, 4), IDX)
    for name, extra in (("index_add_", (rand(*src_shape, seed=1),)), ("index_copy_", (rand(*src_shape, seed=1),)),
                        ("index_fill_", ())):
        def inplace(lib, x, i, *rest):
            y = x * 1
            out = getattr(y, name)(dim, i, *(rest or (3.0,)))
            assert out is y
            return y
        compare_with_torch(inplace, rand(3, 4), IDX, *extra)
    check_both(lambda x, i, s: cgrad.index_add(x, dim, i, s, alpha=2), rand(3, 4), IDX, rand(*src_shape, seed=1))
    check_both(lambda x, i, s: cgrad.index_copy(x, dim, i, s), rand(3, 4), IDX, rand(*src_shape, seed=1))
    check_both(lambda x, i, v: cgrad.index_fill(x, dim, i, v), rand(3, 4), IDX, np.array(2.0))


@requires_torch
def test_index_errors():
    both_raise(lambda lib: lib.index_add(lib.ones(3, 4), 0, lib.tensor([0.0, 2.0]), lib.ones(2, 4)))
    both_raise(lambda lib: lib.index_add(lib.ones(3, 4), 0, lib.tensor([0, 5]), lib.ones(2, 4)))
    both_raise(lambda lib: lib.index_add(lib.ones(3, 4), 0, lib.tensor([0, 2]), lib.ones(1, 4)))
    both_raise(lambda lib: lib.index_add(lib.ones(3, 4), 0, lib.tensor([[0], [2]]), lib.ones(2, 4)))
    both_raise(lambda lib: lib.index_add(lib.ones(3, 4), 0, lib.tensor([0, 2]), lib.ones(2, 4, dtype=lib.float64)))
    both_raise(lambda lib: lib.index_copy(lib.ones(3, 4), 0, lib.tensor([0, 5]), lib.ones(2, 4)))
    both_raise(lambda lib: lib.index_copy(lib.ones(3, 4), 0, lib.tensor([0, 2]), lib.ones(1, 4)))
    both_raise(lambda lib: lib.index_copy(lib.ones(3, 4), 0, lib.tensor([0, 2], dtype=lib.int32), lib.ones(2, 4)))
    both_raise(lambda lib: lib.index_fill(lib.ones(3, 4), 0, lib.tensor([0, 5]), 1.0))
    both_raise(lambda lib: lib.index_fill(lib.ones(3, 4), 0, lib.tensor([0.0]), 1.0))
    both_raise(lambda lib: lib.index_fill(lib.ones(3, 4), 0, lib.tensor([0]), lib.ones(2)))


@requires_torch
def test_index_put():
    rows = np.array([0, 2, 0], np.int64)
    cols = np.array([1, 3, 1], np.int64)
    compare_with_torch(lambda lib, x, i, v: lib.index_put(x, (i,), v), rand(3, 4), IDX, rand(2, 4, seed=1))
    compare_with_torch(lambda lib, x, i, j, v: lib.index_put(x, (i, j), v, accumulate=True), rand(3, 4), rows, cols,
                       rand(3, seed=1))
    compare_with_torch(lambda lib, x, m, v: x.index_put((m,), v), rand(3, 4), MASK, np.array(5.0, np.float32))

    def inplace(lib, x, i, j, v):
        y = x * 1
        assert y.index_put_((i, j), v, accumulate=True) is y
        return y
    compare_with_torch(inplace, rand(3, 4), rows, cols, rand(3, seed=1))
    check_both(lambda x, i, j, v: cgrad.index_put(x, (i, j), v, accumulate=True), rand(3, 4), rows, cols,
               rand(3, seed=1))
    check_both(lambda x, i, v: cgrad.index_put(x, (i,), v), rand(3, 4), IDX, rand(4, seed=1))
    both_raise(lambda lib: lib.index_put(lib.ones(3, 4), (lib.tensor([5]),), lib.tensor(1.0)))
    both_raise(lambda lib: lib.index_put(lib.ones(3, 4), (lib.tensor([0]),), lib.tensor(1.0, dtype=lib.float64)))
    both_raise(lambda lib: lib.index_put(lib.ones(3, 4), (lib.tensor([0, 2]),) * 3, lib.tensor(1.0)))
    both_raise(lambda lib: lib.index_put(lib.ones(3, 4), (lib.tensor([0, 2]),), lib.ones(3)))


@requires_torch
def test_take_and_put():
    idx = np.array([[0, 11], [5, -1]], np.int64)
    compare_with_torch(lambda lib, x, i: lib.take(x, i), rand(3, 4), idx)
    compare_with_torch(lambda lib, x, i: x.t().take(i), rand(3, 4), idx)
    compare_with_torch(lambda lib, x, i, s: x.put(i, s), rand(3, 4), idx, rand(2, 2, seed=1))
    compare_with_torch(lambda lib, x, i, s: x.put(i, s, accumulate=True), rand(3, 4),
                       np.array([1, 1, 2], np.int64), rand(3, seed=1))

    def inplace(lib, x, i, s):
        y = x * 1
        assert y.put_(i, s) is y
        return y
    compare_with_torch(inplace, rand(3, 4), idx, rand(4, seed=1))
    check_both(lambda x, i: cgrad.take(x, i), rand(3, 4), idx)
    check_both(lambda x, i, s: x.put(i, s, accumulate=True), rand(3, 4), np.array([1, 1, 2], np.int64),
               rand(3, seed=1))
    both_raise(lambda lib: lib.take(lib.ones(3, 4), lib.tensor([12])))
    both_raise(lambda lib: lib.take(lib.ones(3, 4), lib.tensor([1.0])))
    both_raise(lambda lib: lib.ones(3, 4).put_(lib.tensor([12]), lib.tensor([1.0])))
    both_raise(lambda lib: lib.ones(3, 4).put_(lib.tensor([1, 2]), lib.tensor([1.0])))
    both_raise(lambda lib: lib.ones(3, 4).put_(lib.tensor([1]), lib.tensor([1.0], dtype=lib.float64)))


@requires_torch
def test_take_along_dim():
    a = rand(3, 4)
    order = np.argsort(a, axis=1)
    compare_with_torch(lambda lib, x, i: lib.take_along_dim(x, i, 1), a, order)
    compare_with_torch(lambda lib, x, i: x.take_along_dim(i, dim=0), a, np.array([[0, 2, 1, 0]], np.int64))
    compare_with_torch(lambda lib, x, i: lib.take_along_dim(x, i), a, np.array([0, 5, 11], np.int64))
    compare_with_torch(lambda lib, x, i: lib.take_along_dim(x, i, 1), rand(3, 1), np.array([[0, 0]], np.int64))
    both_raise(lambda lib: lib.take_along_dim(lib.ones(3, 4), lib.tensor([[0.0]]), 1))
    both_raise(lambda lib: lib.take_along_dim(lib.ones(3, 4), lib.tensor([0]), 1))


@requires_torch
def test_out_forms():
    for lib in (cgrad, torch):
        x = lib.zeros(3, 2)
        idx = lib.tensor([0, 2])
        src = lib.ones(2, 2)
        out = lib.empty(3, 2)
        assert lib.index_add(x, 0, idx, src, alpha=2, out=out) is out
        assert out.tolist() == [[2.0, 2.0], [0.0, 0.0], [2.0, 2.0]]
        out = lib.empty(0)
        assert lib.index_copy(x, 0, idx, src, out=out) is out and out.tolist() == [[1, 1], [0, 0], [1, 1]]
        out = lib.empty(2)
        assert lib.take(x, lib.tensor([0, 5]), out=out) is out
        out = lib.empty(0)
        assert lib.masked_select(src, src > 0, out=out) is out and out.shape == (4,)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        cgrad.index_add(cgrad.zeros(2, requires_grad=True), 0, cgrad.tensor([0]), cgrad.ones(1), out=cgrad.empty(2))


@requires_torch
def test_index_add_bounds_texts():
    both_raise(lambda lib: lib.index_add(lib.zeros(3), 0, lib.tensor([5]), lib.ones(1)))
    both_raise(lambda lib: lib.index_add(lib.zeros(3, 2), 0, lib.tensor([-1]), lib.ones(1, 2)))
    both_raise(lambda lib: lib.index_add(lib.zeros(3, 2), 1, lib.tensor([7]), lib.ones(3, 1)))
    both_raise(lambda lib: lib.index_copy(lib.zeros(3), 0, lib.tensor([-1]), lib.ones(1)))
    compare_with_torch(lambda lib, x: lib.index_fill(x, 0, lib.tensor([-1]), 1.0), rand(3))


@requires_torch
def test_next_functions_match_torch():
    counts = []
    for lib in (cgrad, torch):
        x = lib.randn(3, 4, requires_grad=True)
        s = lib.randn(2, 4, requires_grad=True)
        i = lib.tensor([0, 2])
        m = x.detach() > 0
        v = lib.tensor(1.0, requires_grad=True)
        outs = [lib.index_add(x, 0, i, s), lib.index_copy(x, 0, i, s), lib.index_fill(x, 0, i, 1.0),
                lib.index_fill(x, 0, i, v), lib.index_put(x, (i,), s), lib.masked_select(x, m),
                lib.masked_scatter(x, m, lib.randn(12, requires_grad=True)), lib.take(x, i),
                x.put(i, lib.randn(2, requires_grad=True))]
        counts.append([len(t.grad_fn.next_functions) for t in outs])
    assert counts[0] == counts[1]
