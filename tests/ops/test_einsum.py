"""einsum, tensordot, kron and the add-product ops against torch: values,
gradients, grad_fn names, error texts; float64 gradcheck and gradgradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch

EQUATIONS = [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iji->j", [(3, 2, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(5,), (5,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("i...->...", [(3, 2, 4)]),
    ("ij->i...", [(3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 2)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("Ab,bC->AC", [(3, 4), (4, 2)]),
    ("ij,ij,ij->", [(2, 3), (2, 3), (2, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij,jj->i", [(3, 4), (4, 4)]),
    ("ikj,j->i", [(3, 1, 4), (4,)]),
    ("ij,ik->jk", [(3, 1), (3, 4)]),
]


def _arrays(shapes, seed=0):
    return [rand(*s, seed=seed + k) for k, s in enumerate(shapes)]


@pytest.mark.parametrize("eq,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_matches_torch(eq, shapes):
    compare_with_torch(lambda lib, *xs: lib.einsum(eq, *xs), *_arrays(shapes), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("eq,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_gradcheck(eq, shapes):
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in _arrays(shapes)]
    assert gradcheck(lambda *xs: cgrad.einsum(eq, *xs), ins)
    assert gradgradcheck(lambda *xs: cgrad.einsum(eq, *xs), ins)


def test_einsum_forms():
    a, b = rand(3, 4), rand(4, 5, seed=1)
    compare_with_torch(lambda lib, x, y: lib.einsum("ij,jk->ik", [x, y]), a, b)
    compare_with_torch(lambda lib, x, y: lib.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b)
    compare_with_torch(lambda lib, x, y: lib.einsum(x, [0, 1], y, [1, 2]), a, b)
    compare_with_torch(lambda lib, x: lib.einsum(x, [Ellipsis, 1], [1, Ellipsis]), rand(2, 3, 4))
    compare_with_torch(lambda lib, x: lib.einsum(" i j -> j i ", x), a)
    ints = np.arange(12, dtype=np.int64).reshape(3, 4)
    compare_with_torch(lambda lib, x, y: lib.einsum("ij,jk->ik", x, y), ints, ints.T.copy())


@requires_torch
@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk", [(3, 4)]),
    ("ij", [(3, 4), (4, 5)]),
    ("ij->ik", [(3, 4)]),
    ("i1->i", [(3, 4)]),
    ("ijk->", [(3, 4)]),
    ("ij,jk->ik", [(3, 4), (3, 4)]),
    ("ii->i", [(3, 4)]),
    ("i->ii", [(3,)]),
    ("i.j", [(3, 4)]),
    ("i...j...", [(3, 4)]),
])
def test_einsum_errors(eq, shapes):
    errs = []
    for lib in (cgrad, torch):
        ops = [lib.ones(*s) for s in shapes]
        with pytest.raises(RuntimeError) as info:
            lib.einsum(eq, *ops)
        errs.append(str(info.value))
    assert errs[0] == errs[1]


def test_einsum_bmm_equation_uses_one_bmm_and_views():
    a = cgrad.randn(2, 3, 4, requires_grad=True)
    b = cgrad.randn(2, 4, 5, requires_grad=True)
    out = cgrad.einsum("bij,bjk->bik", a, b)
    assert out.grad_fn.name() == "ViewBackward0"
    np.testing.assert_allclose(out.detach().numpy(), cgrad.bmm(a, b).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dims", [2, 1, 0, ([1, 0], [0, 1]), ([2], [1])])
def test_tensordot(dims):
    a, b = rand(3, 4, 5), rand(4, 5, 2, seed=1)
    if dims == ([1, 0], [0, 1]):
        a, b = rand(3, 4, 2), rand(4, 3, 5, seed=1)
    if dims == 1:
        a, b = rand(3, 4, 5), rand(5, 2, seed=1)
    if dims == ([2], [1]):
        a, b = rand(3, 4, 5), rand(2, 5, 3, seed=1)
    compare_with_torch(lambda lib, x, y: lib.tensordot(x, y, dims=dims), a, b, rtol=1e-4, atol=1e-5,
                       check_grad_fn=False)


@requires_torch
def test_tensordot_error():
    errs = []
    for lib in (cgrad, torch):
        with pytest.raises(RuntimeError) as info:
            lib.tensordot(lib.ones(3, 4), lib.ones(3, 4), ([0], [1]))
        errs.append(str(info.value))
    assert errs[0] == errs[1]


# ATen's tensordot sums a contracted dim of size 1 on one side away (broadcast) before the mm
@pytest.mark.parametrize("sa,sb,dims", [((3, 4), (1, 5), ([0], [0])), ((1, 4), (3, 5), ([0], [0])),
                                        ((2, 1, 4), (3, 4, 5), ([1, 2], [0, 1])), ((2, 3, 4), (4, 5), True),
                                        ((2, 3, 4), (4, 3, 5), ([-1, -2], [0, 1]))])
def test_tensordot_broadcast_and_dims_spellings(sa, sb, dims):
    compare_with_torch(lambda lib, x, y: lib.tensordot(x, y, dims=dims), rand(*sa), rand(*sb, seed=1),
                       rtol=1e-5, atol=1e-6, check_grad_fn=False)
    ins = [cgrad.tensor(rand(*s, dtype=np.float64), requires_grad=True) for s in (sa, sb)]
    assert gradcheck(lambda x, y: cgrad.tensordot(x, y, dims=dims), ins)
    assert gradgradcheck(lambda x, y: cgrad.tensordot(x, y, dims=dims), ins)


def test_tensordot_refuses_repeated_and_out_of_range_dims():
    """These ran before and returned a wrong result (dims wrapped modulo ndim, a repeated dim permuted twice)."""
    with pytest.raises(RuntimeError, match="^dim 1 appears multiple times in the list of dims$"):
        cgrad.tensordot(cgrad.ones(3, 4, 5), cgrad.ones(4, 4, 2), dims=([1, 1], [0, 1]))
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range of \[-3, 2\], but got 7\)$"):
        cgrad.tensordot(cgrad.ones(3, 4, 5), cgrad.ones(4, 5, 2), dims=([1, 2], [0, 7]))
    with pytest.raises(RuntimeError, match="first has size 4 in dim -2 and second has size 3 in dim 0$"):
        cgrad.tensordot(cgrad.ones(3, 4, 5), cgrad.ones(3, 4), dims=2)     # an int counts a's dims from the end
    assert cgrad.tensordot(cgrad.ones(3, 4), cgrad.ones(1, 5), dims=([0], [0])).tolist() == [[3.0] * 5] * 4


TENSORDOT_MISUSE = [
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=2),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=1),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=([-2, -1], [0, 1])),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=lib.tensor(2)),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=lib.tensor([[1, 2, 0], [0, 1, 0], [1, 1, 1]])),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=(1, 0)),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=([1.0], [0])),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=([True], [0])),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=(lib.tensor([1]), lib.tensor([0]))),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=1.5),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=([1], [0, 1])),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(3, 4), dims=([1, 2, 0],)),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(4, 4, 2), dims=([1, 1], [0, 1])),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(4, 5, 2), dims=([7], [0])),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(4, 5, 2), dims=-1),
    lambda lib: lib.tensordot(lib.ones(3, 4, 5), lib.ones(4, 5, 2), dims=4),
    lambda lib: lib.tensordot(lib.ones(3, 4), lib.ones(3, 5, dtype=lib.float64), dims=([0], [0])),
    lambda lib: lib.tensordot(lib.ones(3, 4), lib.ones(3, 5), dims=([0], [0]), out=lib.empty(4, 5, dtype=lib.float64)),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(TENSORDOT_MISUSE)))
def test_tensordot_misuse_errors_match_torch(case):
    outcomes = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            TENSORDOT_MISUSE[case](lib)
        outcomes.append((type(info.value), str(info.value)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 5)), ((3,), (2,)), ((2, 3), (4,)), ((2, 1, 3), (3, 2))])
def test_kron(sa, sb):
    compare_with_torch(lambda lib, x, y: lib.kron(x, y), rand(*sa), rand(*sb, seed=1))
    ins = [cgrad.tensor(rand(*s, dtype=np.float64), requires_grad=True) for s in (sa, sb)]
    assert gradcheck(cgrad.kron, ins)
    assert gradgradcheck(cgrad.kron, ins)


ADDOPS = [
    ("baddbmm", [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    ("baddbmm", [(3, 1), (2, 3, 4), (2, 4, 5)]),
    ("addbmm", [(3, 5), (2, 3, 4), (2, 4, 5)]),
    ("addmv", [(3,), (3, 4), (4,)]),
    ("addr", [(3, 4), (3,), (4,)]),
]


@pytest.mark.parametrize("name,shapes", ADDOPS)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1)])
def test_add_products(name, shapes, beta, alpha):
    arrays = [rand(*s, seed=k) for k, s in enumerate(shapes)]
    compare_with_torch(lambda lib, *xs: getattr(lib, name)(*xs, beta=beta, alpha=alpha), *arrays,
                       rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda lib, x, *xs: getattr(x, name)(*xs, beta=beta, alpha=alpha), *arrays,
                       rtol=1e-4, atol=1e-5)
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    assert gradcheck(lambda *xs: getattr(cgrad, name)(*xs, beta=beta, alpha=alpha), ins)
    assert gradgradcheck(lambda *xs: getattr(cgrad, name)(*xs, beta=beta, alpha=alpha), ins)


@pytest.mark.parametrize("name,shapes", [s for s in ADDOPS if s[1][0] != (3, 1)])
def test_add_products_inplace(name, shapes):
    arrays = [rand(*s, seed=k) for k, s in enumerate(shapes)]

    def run(lib, x, *xs):
        y = x * 1
        getattr(y, name + "_")(*xs, beta=0.5, alpha=2)
        return y
    compare_with_torch(run, *arrays, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), 0.0])
def test_cdist(p):
    compare_with_torch(lambda lib, x, y: lib.cdist(x, y, p=p), rand(4, 3), rand(5, 3, seed=1), rtol=1e-4,
                       atol=1e-5)
    compare_with_torch(lambda lib, x, y: lib.cdist(x, y, p=p), rand(2, 4, 3), rand(2, 5, 3, seed=1),
                       rtol=1e-4, atol=1e-5)
    if p in (2.0, 1.0, 3.0):
        ins = [cgrad.tensor(rand(3, 2, dtype=np.float64), requires_grad=True),
               cgrad.tensor(rand(4, 2, seed=1, dtype=np.float64), requires_grad=True)]
        assert gradcheck(lambda a, b: cgrad.cdist(a, b, p=p), ins)
        assert gradgradcheck(lambda a, b: cgrad.cdist(a, b, p=p), ins)


@requires_torch
def test_cdist_errors():
    for bad in [((3, 4), (3, 5)), ((4,), (3, 4))]:
        errs = []
        for lib in (cgrad, torch):
            with pytest.raises(RuntimeError) as info:
                lib.cdist(lib.ones(*bad[0]), lib.ones(*bad[1]))
            errs.append(str(info.value))
        assert errs[0] == errs[1]


@requires_torch
@pytest.mark.parametrize("call", [
    lambda lib, r: lib.baddbmm(r(2, 3, 5), r(2, 3, 4), r(2, 5, 5)),
    lambda lib, r: lib.baddbmm(r(2, 3, 5), r(2, 3, 4), r(3, 4, 5)),
    lambda lib, r: lib.baddbmm(r(2, 2, 5), r(2, 3, 4), r(2, 4, 5)),
    lambda lib, r: lib.baddbmm(r(2, 3, 5), r(2, 3, 4), r(2, 4, 5).double()),
    lambda lib, r: lib.addbmm(r(3, 5), r(2, 3, 4), r(2, 5, 5)),
    lambda lib, r: lib.addbmm(r(2, 5), r(2, 3, 4), r(2, 4, 5)),
    lambda lib, r: lib.addmv(r(3), r(3, 4), r(5)),
    lambda lib, r: lib.addmv(r(3), r(3), r(3)),
    lambda lib, r: lib.addmv(r(2), r(3, 4), r(4)),
    lambda lib, r: lib.addmv(r(3), r(3, 4), r(4).double()),
    lambda lib, r: lib.addr(r(3, 4), r(3), r(4, 1)),
    lambda lib, r: lib.addr(r(2, 4), r(3), r(4)),
])
def test_add_product_errors(call):
    errs = []
    for lib in (cgrad, torch):
        with pytest.raises(RuntimeError) as info:
            call(lib, lib.randn)
        errs.append(str(info.value))
    assert errs[0] == errs[1]


@pytest.mark.parametrize("eq,shapes", [("kji,kil->kjl", [(2, 3, 2), (2, 2, 4)]), ("jbi,bik->bjk", [(3, 2, 2), (2, 2, 4)]),
                                       ("bij,bkj->bki", [(2, 3, 4), (2, 5, 4)]), ("ij,kj->ki", [(3, 4), (5, 4)])])
def test_einsum_bmm_plans_with_permutes(eq, shapes):
    for _ in range(2):      # the second call runs the cached plan
        compare_with_torch(lambda lib, *xs: lib.einsum(eq, *xs), *_arrays(shapes), rtol=1e-4, atol=1e-5)
