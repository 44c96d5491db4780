"""scatter_reduce(_) and index_reduce(_) against torch: every reduction with
and without include_self, values, gradients (PyTorch's formulas: ties of
amax/amin share the gradient, zeros in prod), grad_fn names, in-place
history, integer mean (floor division), error texts; float64 gradcheck and
gradgradcheck; known values without torch."""
import warnings

import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch

REDUCES = ["sum", "prod", "mean", "amax", "amin"]
SCATTER_INDEX = np.array([[0, 1, 0, 2], [1, 1, 2, 0], [3, 3, 3, 3]], np.int64)
VECTOR_INDEX = np.array([0, 2, 0, 3, 2], np.int64)


@pytest.fixture(autouse=True)
def _quiet_beta_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "index_reduce\\(\\) is in beta")
        yield


def both_raise(fn):
    found = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        found.append((type(info.value).__name__, str(info.value).split("\n")[0].replace("torch.", "cgrad.")))
    assert found[0] == found[1]


def with_ties(shape, seed):
    """Values from a small set, so amax/amin meet ties and prod meets zeros."""
    return np.random.default_rng(seed).integers(-2, 3, size=shape).astype(np.float32)


@requires_torch
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch(reduce, include_self):
    for dim, x, src in ((1, rand(3, 5), rand(3, 4, seed=1)), (0, rand(4, 4), rand(3, 4, seed=2))):
        compare_with_torch(lambda lib, x, i, s: x.scatter_reduce(dim, i, s, reduce, include_self=include_self),
                           x, SCATTER_INDEX, src, rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda lib, x, i, s: lib.scatter_reduce(x, 1, i, s, reduce, include_self=include_self),
                       with_ties((3, 5), 3), SCATTER_INDEX, with_ties((3, 4), 4), rtol=1e-4, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_matches_torch(reduce, include_self):
    compare_with_torch(lambda lib, x, i, s: x.index_reduce(1, i, s, reduce, include_self=include_self),
                       rand(3, 4), VECTOR_INDEX, rand(3, 5, seed=1), rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda lib, x, i, s: lib.index_reduce(x, 0, i, s, reduce, include_self=include_self),
                       with_ties((4, 3), 5), VECTOR_INDEX, with_ties((5, 3), 6), rtol=1e-4, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("reduce", REDUCES)
def test_integer_and_inplace_forms_match_torch(reduce):
    x = np.array([[-1, 2, 3, 7], [4, -5, 6, 0]], np.int64)
    i = np.array([[0, 0, 1, 1], [2, 2, 2, 0]], np.int64)
    s = np.array([[-4, 4, 5, 1], [3, 3, -8, 2]], np.int64)
    for include_self in (True, False):
        c = cgrad.tensor(x).scatter_reduce(1, cgrad.tensor(i), cgrad.tensor(s), reduce, include_self=include_self)
        t = torch.tensor(x).scatter_reduce(1, torch.tensor(i), torch.tensor(s), reduce, include_self=include_self)
        assert c.tolist() == t.tolist() and str(c.dtype) == str(t.dtype).replace("torch", "cgrad")
        c = cgrad.tensor(x)
        assert c.scatter_reduce_(1, cgrad.tensor(i).int(), cgrad.tensor(s), reduce, include_self=include_self) is c
        t = torch.tensor(x)
        t.scatter_reduce_(1, torch.tensor(i).int(), torch.tensor(s), reduce, include_self=include_self)
        assert c.tolist() == t.tolist()
        if reduce != "sum":
            c = cgrad.tensor(x).index_reduce_(0, cgrad.tensor([1, 1, 0]), cgrad.tensor(np.vstack([s, x])[:3]),
                                              reduce, include_self=include_self)
            t = torch.tensor(x).index_reduce_(0, torch.tensor([1, 1, 0]), torch.tensor(np.vstack([s, x])[:3]),
                                              reduce, include_self=include_self)
            assert c.tolist() == t.tolist()


@requires_torch
@pytest.mark.parametrize("reduce", REDUCES)
def test_inplace_history_matches_torch(reduce):
    def scatter_inplace(lib, x, i, s):
        y = x * 2
        y.scatter_reduce_(1, i, s, reduce, include_self=False)
        return y

    def index_inplace(lib, x, i, s):
        y = x + 1
        y.index_reduce_(1, i, s, reduce if reduce != "sum" else "mean")
        return y
    compare_with_torch(scatter_inplace, rand(3, 5), SCATTER_INDEX, rand(3, 4, seed=1), rtol=1e-4, atol=1e-5)
    compare_with_torch(index_inplace, rand(3, 4), VECTOR_INDEX, rand(3, 5, seed=1), rtol=1e-4, atol=1e-5)


@requires_torch
def test_nan_propagates_as_torch():
    x = np.array([1.0, np.nan, 3.0], np.float32)
    s = np.array([np.nan, 2.0, 5.0, 0.0], np.float32)
    i = np.array([0, 2, 2, 1], np.int64)
    for reduce in REDUCES:
        c = cgrad.tensor(x).scatter_reduce(0, cgrad.tensor(i), cgrad.tensor(s), reduce)
        t = torch.tensor(x).scatter_reduce(0, torch.tensor(i), torch.tensor(s), reduce)
        np.testing.assert_array_equal(c.numpy(), t.numpy())


@requires_torch
def test_errors_match_torch():
    x = lambda lib: lib.ones(3, 4)                       # noqa: E731
    s = lambda lib: lib.ones(3, 5)                       # noqa: E731
    i = lambda lib: lib.tensor([[0, 1, 0, 2], [1, 1, 2, 0]])   # noqa: E731
    both_raise(lambda lib: x(lib).scatter_reduce(1, i(lib), s(lib), "foo"))
    both_raise(lambda lib: x(lib).scatter_reduce(1, i(lib).float(), s(lib), "sum"))
    both_raise(lambda lib: x(lib).scatter_reduce(1, i(lib), s(lib).double(), "sum"))
    both_raise(lambda lib: x(lib).scatter_reduce(1, i(lib) + 5, s(lib), "sum"))
    both_raise(lambda lib: x(lib).scatter_reduce(0, i(lib) - 3, s(lib), "sum"))
    both_raise(lambda lib: x(lib).scatter_reduce(1, i(lib)[0], s(lib), "sum"))
    both_raise(lambda lib: x(lib).scatter_reduce(1, lib.zeros(4, 4, dtype=lib.long), s(lib), "sum"))
    both_raise(lambda lib: x(lib).scatter_reduce(3, i(lib), s(lib), "sum"))
    both_raise(lambda lib: x(lib).index_reduce(1, i(lib)[0], s(lib), "sum"))
    both_raise(lambda lib: x(lib).index_reduce(1, i(lib)[0], s(lib), "prod"))
    both_raise(lambda lib: x(lib).index_reduce(1, i(lib), s(lib), "prod"))
    both_raise(lambda lib: x(lib).index_reduce(1, i(lib)[0].float(), s(lib)[:, :4], "prod"))
    both_raise(lambda lib: x(lib).index_reduce(1, i(lib)[0] + 9, s(lib)[:, :4], "prod"))
    both_raise(lambda lib: x(lib).index_reduce(1, i(lib)[0] - 1, s(lib)[:, :4], "prod"))
    both_raise(lambda lib: x(lib).index_reduce(1, i(lib)[0], s(lib)[:, :4].double(), "prod"))
    both_raise(lambda lib: x(lib).index_reduce(1, i(lib)[0], s(lib)[:2, :4], "prod"))
    # a src larger than the index: the gradient cannot take src's shape (PyTorch's own refusal)
    for lib in (cgrad, torch):
        xx = lib.ones(3, 4, requires_grad=True)
        ss = lib.ones(3, 5, requires_grad=True)
        with pytest.raises(RuntimeError):
            xx.scatter_reduce(1, i(lib), ss, "sum").sum().backward()


@requires_torch
def test_index_reduce_warns_beta_once_as_torch():
    import cgrad._ops_scatter_reduce as module
    module._INDEX_REDUCE_BETA_WARNED[0] = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cgrad.ones(3).index_reduce(0, cgrad.tensor([0]), cgrad.ones(1), "prod")
        cgrad.ones(3).index_reduce(0, cgrad.tensor([0]), cgrad.ones(1), "prod")
    assert [str(w.message) for w in caught] == ["index_reduce() is in beta and the API may change at any time."]


def test_known_values_without_torch():
    x = cgrad.tensor([1.0, 2.0, 3.0, 4.0])
    i = cgrad.tensor([0, 1, 0, 1, 2, 2])
    s = cgrad.tensor([5.0, 6.0, 7.0, 8.0, -1.0, 9.0])
    assert x.scatter_reduce(0, i, s, "sum").tolist() == [13.0, 16.0, 11.0, 4.0]
    assert x.scatter_reduce(0, i, s, "sum", include_self=False).tolist() == [12.0, 14.0, 8.0, 4.0]
    assert x.scatter_reduce(0, i, s, "prod").tolist() == [35.0, 96.0, -27.0, 4.0]
    np.testing.assert_allclose(x.scatter_reduce(0, i, s, "mean").numpy(), [13 / 3, 16 / 3, 11 / 3, 4.0], rtol=1e-6)
    assert x.scatter_reduce(0, i, s, "mean", include_self=False).tolist() == [6.0, 7.0, 4.0, 4.0]
    assert x.scatter_reduce(0, i, s, "amax").tolist() == [7.0, 8.0, 9.0, 4.0]
    assert x.scatter_reduce(0, i, s, "amin", include_self=False).tolist() == [5.0, 6.0, -1.0, 4.0]
    assert cgrad.tensor([-1, 2, 3]).index_reduce(0, cgrad.tensor([0, 0, 1]), cgrad.tensor([-4, 4, 5]),
                                                 "mean").tolist() == [-1, 3, 3]
    y = cgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = y.scatter_reduce(0, cgrad.tensor([0, 0]), cgrad.tensor([1.0, 0.5]), "amax")
    assert type(out.grad_fn).__name__ == "ScatterReduceBackward0"
    out.sum().backward()
    assert y.grad.tolist() == [0.5, 1.0, 1.0]     # the tie with src shares the gradient


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_gradcheck_float64(reduce, include_self):
    x = cgrad.tensor(rand(3, 5).astype(np.float64), requires_grad=True)
    s = cgrad.tensor(rand(3, 4, seed=1).astype(np.float64), requires_grad=True)
    i = cgrad.tensor(SCATTER_INDEX[:, :4])
    fn = lambda x, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self)  # noqa: E731
    assert gradcheck(fn, (x, s))
    assert gradgradcheck(fn, (x, s))
    if reduce != "sum":
        xi = cgrad.tensor(rand(3, 4).astype(np.float64), requires_grad=True)
        si = cgrad.tensor(rand(3, 5, seed=1).astype(np.float64), requires_grad=True)
        vi = cgrad.tensor(VECTOR_INDEX)
        fn = lambda x, s: x.index_reduce(1, vi, s, reduce, include_self=include_self)  # noqa: E731
        assert gradcheck(fn, (xi, si))
        assert gradgradcheck(fn, (xi, si))


@requires_torch
def test_prod_with_two_zeros_refuses_double_backward_as_torch():
    for lib in (cgrad, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        s = lib.tensor([0.0, 0.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x.scatter_reduce(0, lib.tensor([0, 0, 1]), s, "prod")
        (gs,) = lib.autograd.grad(y.sum(), s, create_graph=True)
        assert gs.tolist() == [0.0, 0.0, 2.0]
        with pytest.raises(RuntimeError, match="Double backward is unsupported for src when >1 zeros"):
            gs.sum().backward()


@requires_torch
def test_forward_ad_matches_torch():
    """PyTorch's scatter_reduce_jvp (ties share the tangent; prod gives no
    tangent); index_reduce refuses forward AD with PyTorch's text."""
    rng = np.random.default_rng(0)
    arrays = [rng.integers(-2, 3, size=(3, 4)).astype(float), rng.standard_normal((3, 4)),
              rng.integers(-2, 3, size=(3, 4)).astype(float), rng.standard_normal((3, 4))]
    results = []
    for lib in (cgrad, torch):
        fw = lib.autograd.forward_ad
        tangents = []
        for reduce in REDUCES:
            for include_self in (True, False):
                with fw.dual_level():
                    x = fw.make_dual(lib.tensor(arrays[0]), lib.tensor(arrays[1]))
                    s = fw.make_dual(lib.tensor(arrays[2]), lib.tensor(arrays[3]))
                    y = x.scatter_reduce(1, lib.tensor(SCATTER_INDEX), s, reduce, include_self=include_self)
                    t = fw.unpack_dual(y).tangent
                    tangents.append(None if t is None else t.numpy().copy())
        with fw.dual_level(), pytest.raises(NotImplementedError) as info:
            one = lib.ones(1, dtype=lib.float64)
            lib.ones(3, dtype=lib.float64).index_reduce(0, lib.tensor([0]), fw.make_dual(one, one), "amax")
        results.append((tangents, str(info.value)))
    (mine, my_error), (theirs, their_error) = results
    assert my_error == their_error
    for a, b in zip(mine, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
