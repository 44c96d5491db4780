"""Indexing semantics against torch: views share memory and version
counters, in-place writes through indices, gradients (repeated indices
accumulate, float64 gradchecks, double backward), iteration, and
index_select and masked_fill (values, dtypes, grad_fn names, gradients,
errors). __getitem__ / __setitem__ themselves are in test_indexing.py."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgrad
from helpers import compare_with_torch, requires_torch, torch
from indexing_machinery import A, A2, SCALE, _err, _name, assert_same, compare_setitem, getitem_outcome


# ---------------------------------------------------------------------------
# Memory sharing, versions, in-place semantics


def test_views_share_memory_and_version():
    x = cgrad.tensor(A.copy())
    v = x[1:3, ::2, 1]
    assert v._base is x and v.storage_offset() == 20 + 1 and v.stride() == (20, 10)
    v[...] = 7.0
    assert x._version == v._version == 1
    assert np.all(x.numpy()[1:3, ::2, 1] == 7.0)
    x[0] = -1.0
    assert v._version == 2 and np.all(x.numpy()[0] == -1.0)
    w = x[None][0][..., 2]          # a view of a view keeps the first base
    assert w._base is x
    w[0, 0] = 42.0
    assert x.numpy()[0, 0, 2] == 42.0


def test_advanced_getitem_copies():
    x = cgrad.tensor(A.copy())
    r = x[[0, 1]]
    r[...] = 0.0
    assert np.array_equal(x.numpy(), A) and x._version == 0


def test_setitem_through_view_writes_base_without_grad():
    x = cgrad.tensor(A.copy(), requires_grad=True)
    with cgrad.no_grad():
        v = x[1]
        v[[0, 0, 2], 1:3] = 5.0
    expected = A.copy()
    expected[1, [0, 2], 1:3] = 5.0
    assert np.array_equal(x.detach().numpy(), expected) and x._version == 1 and x.grad_fn is None


SETITEM_ON_VIEWS = {
    "number into a view": lambda lib, x, w: _set(lambda y: y[0], (1,), 5.0, x),
    "tensor into a view": lambda lib, x, w: _set(lambda y: y[1], (slice(0, 2),), w[0, 0] * 3, x),
    "advanced into a view": lambda lib, x, w: _set(lambda y: y[2], ([0, 2],), w[1, 1] * 2, x),
    "view of a view": lambda lib, x, w: _set(lambda y: y[:, 1][0], (slice(None),), w[0, 1] + 1, x),
}


def _set(take_view, index, value, x):
    y = x * 1
    v = take_view(y)
    v[index] = value
    return y * (v.sum() + 1)


@pytest.mark.parametrize("name", sorted(SETITEM_ON_VIEWS))
def test_setitem_through_views_with_history(name):
    """Writes through views of tensors with history: the base gets
    CopySlices, as in PyTorch (values, gradients and grad_fn names)."""
    compare_with_torch(SETITEM_ON_VIEWS[name], A, A + 1)


def test_setitem_through_view_of_leaf_raises():
    x = cgrad.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0][1] = 5.0


def test_setitem_value_gets_history_on_plain_tensor():
    z = cgrad.zeros(3, 4)
    v = cgrad.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    z[1] = v
    z[[0, 2], 1:3] = v[:2] * 2
    assert type(z.grad_fn).__name__ == "CopySlices" and not z.is_leaf and z.requires_grad
    (z * cgrad.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
    # z[1] = v sends row 1 of the weights; the value v[:2] * 2, broadcast over
    # rows 0 and 2, gets the column sums (1 + 9, 2 + 10) times 2
    assert np.allclose(v.grad.numpy(), [4.0 + 2 * (1 + 9), 5.0 + 2 * (2 + 10), 6.0, 7.0])


def test_partial_overlap_errors_and_full_overlap_ok():
    for lib in (cgrad,) + ((torch,) if torch is not None else ()):
        x = lib.arange(6.0)
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            x[1:] = x[:-1]
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            x[[1, 2, 3, 4, 5]] = x[:-1]
        assert x._version == 0 and np.array_equal(x.numpy(), np.arange(6.0))
        x[1:4] = x[1:4]
        x[...] = x
        x[[0, 1]] = x[[1]]
        assert np.array_equal(x.numpy(), [1, 1, 2, 3, 4, 5]) and x._version == 3
        e = lib.zeros(3).expand(2, 3)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            e[:] = 1
        e[0] = 1
        assert np.array_equal(e.numpy(), np.ones((2, 3)))


@requires_torch
def test_index_put_on_expanded_warns_like_torch():
    compare_setitem(A[0, 0], lambda lib: (slice(None), [0]), lambda lib: 1.0, "plain")
    for idx in [lambda lib: [0], lambda lib: lib.ones(2, 5, dtype=lib.bool)]:
        outs = []
        for lib in (cgrad, torch):
            e = lib.zeros(5).expand(2, 5)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                e[idx(lib)] = 1.0
            outs.append([str(m.message).split(" (Triggered")[0] for m in w])
        assert outs[0] == outs[1] and outs[0]


@requires_torch
def test_sequence_as_tuple_warning_matches_torch():
    c = getitem_outcome(cgrad, A, lambda lib: [0, None])
    t = getitem_outcome(torch, A, lambda lib: [0, None])
    assert c["warnings"] == tuple(w.replace("x[torch.tensor(seq)]", "x[cgrad.tensor(seq)]") for w in t["warnings"])
    assert len(c["warnings"]) == 1


def test_repeated_writes_follow_c_order():
    """Repeated indices in a (non-accumulating) write: the last one in C
    order of the broadcast index wins (torch agrees for C-ordered index
    tensors; it calls the result undefined)."""
    x = cgrad.zeros(3)
    x[cgrad.tensor([[0, 1], [1, 0]]).t()] = cgrad.tensor([1.0, 2.0])
    assert np.array_equal(x.numpy(), [2.0, 1.0, 0.0])


def test_bad_index_input_leaves_tensor_unchanged():
    x = cgrad.tensor(A.copy())
    bad = [([0, 5], 1.0), (([0, 1], [9, 0]), 1.0), (cgrad.ones(3, 3, dtype=cgrad.bool), 1.0), ([0, 1], cgrad.ones(3)),
           ([0, 1], cgrad.ones(5, dtype=cgrad.float32)), (0, cgrad.ones(3)), ((Ellipsis, 7), 1.0), ([0, 1], "x")]
    for index, value in bad:
        with pytest.raises((IndexError, RuntimeError, TypeError)):
            x[index] = value
    assert np.array_equal(x.numpy(), A) and x._version == 0


# ---------------------------------------------------------------------------
# Gradients: repeated indices accumulate, gradchecks, double backward


def test_repeated_indices_accumulate_in_backward():
    x = cgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert np.array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])
    x = cgrad.tensor(A2, requires_grad=True)
    y = x[[1, 1], :][:, [0, 0, 0]]
    y.backward(cgrad.ones(2, 3))
    expected = np.zeros((3, 4))
    expected[1, 0] = 6
    assert np.array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_gather_and_scatter_add_match_numpy(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 7, 20)).astype(dtype)
    idx = rng.integers(-300, 300, size=20000)
    x = cgrad.tensor(a, requires_grad=True)
    y = x[cgrad.tensor(idx), 3]
    assert np.array_equal(y.detach().numpy(), a[idx, 3])
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(cgrad.tensor(g))
    expected = np.zeros_like(a)
    np.add.at(expected[:, 3], idx, g)
    assert np.allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-5)
    m = a > 0.5
    assert np.array_equal(x[cgrad.tensor(m)].detach().numpy(), a[m])
    z = cgrad.zeros(300, 7, 20, dtype=x.dtype)
    z[cgrad.tensor(m)] = cgrad.tensor(a[m] * 2)
    assert np.array_equal(z.numpy(), np.where(m, a * 2, 0))


GRADCHECK = {
    "select": lambda lib, x: x[1, -1],
    "slice": lambda lib, x: x[1:, ::2],
    "none_ellipsis": lambda lib, x: x[None, ..., 1],
    "repeated_list": lambda lib, x: x[[0, 2, 0]],
    "two_lists": lambda lib, x: x[[0, 2, 0], [1, 1, 3]],
    "separated": lambda lib, x: x[[0, 1], 1:3, [4, 4]],
    "mask": lambda lib, x: x[lib.tensor(A > 0.3)],
    "mixed_chain": lambda lib, x: x[1:, [2, 2]][:, :, ::2],
    "index_select": lambda lib, x: x.index_select(2, lib.tensor([4, 0, 4])),
    "masked_fill": lambda lib, x: x.masked_fill(lib.tensor(A > 0), 0.5),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    x = cgrad.tensor(A, requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda t: GRADCHECK[name](cgrad, t), (x,))


def _set_basic(lib, x, v):
    y = x * 1.5
    y[1, 1:3] = v
    return y


def _set_advanced(lib, x, v):
    y = x * 1.5
    y[[0, 2], 3] = v[0]
    return y


def _set_advanced_view(lib, x, v):
    y = x * 1.5
    y[1:, [0, 3]] = v[:2, None]
    return y


def _set_2d_view(lib, x, v):
    y = x * 1.5
    y[1:, [0, 2]] = v
    return y


def _set_mask(lib, x, v):
    y = x * 1.5
    y[lib.tensor(A > 0)] = v[0, 0]
    return y


def _set_fill(lib, x, v):
    y = x * v.sum()
    y[..., 2] = 0.25
    return y


SET_GRADCHECK = {"basic": _set_basic, "advanced": _set_advanced, "advanced_view": _set_advanced_view,
                 "mask": _set_mask, "fill": _set_fill}


@pytest.mark.parametrize("name", sorted(SET_GRADCHECK))
def test_setitem_gradcheck(name):
    x = cgrad.tensor(A, requires_grad=True)
    v = cgrad.tensor(np.random.default_rng(2).standard_normal((2, 5)), requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda a, b: SET_GRADCHECK[name](cgrad, a, b), (x, v))


def test_masked_fill_value_tensor_gradcheck():
    x = cgrad.tensor(A2, requires_grad=True)
    v = cgrad.tensor(0.7, dtype=cgrad.float64, requires_grad=True)
    m = cgrad.tensor(A2[0] > 0)
    assert cgrad.autograd.gradcheck(lambda a, b: a.masked_fill(m, b), (x, v))


GRADGRAD = {
    "select": lambda t: t[1, -1], "repeated_list": lambda t: t[[0, 1, 0]], "separated": lambda t: t[[0, 1], 1:3, [3, 3]],
    "mixed_chain": lambda t: t[1:, [2, 2]][:, :, ::2], "index_select": lambda t: t.index_select(2, cgrad.tensor([3, 0, 3])),
    "masked_fill": lambda t: t.masked_fill(cgrad.tensor(A[:2, :3, :4] > 0), 0.5),
    "setitem": lambda t: _set_2d_view(cgrad, t, t[0, 0, :4] * 2),
}


@pytest.mark.parametrize("name", sorted(GRADGRAD))
def test_gradgradcheck(name):
    """Second derivatives against finite differences of the first (written
    out here: cgrad.autograd.gradgradcheck evaluates its first-order function
    under no_grad, so it cannot be used yet)."""
    x = cgrad.tensor(A[:2, :3, :4].copy(), requires_grad=True)
    out_shape = tuple((GRADGRAD[name](x) ** 2).shape)
    go = cgrad.tensor(np.random.default_rng(3).standard_normal(out_shape), requires_grad=True)

    def first_order(t, g_out):
        with cgrad.enable_grad():
            g, = cgrad.autograd.grad(GRADGRAD[name](t) ** 2, t, g_out, create_graph=True)
        return g

    assert cgrad.autograd.gradcheck(first_order, (x, go))


DOUBLE_BACKWARD = {
    "adv": lambda lib, x: x[[0, 0, 2]] ** 2,
    "select": lambda lib, x: x[1] ** 2,
    "slice": lambda lib, x: x[0:2, 1::2] ** 2,
    "none": lambda lib, x: x[None, :, None] ** 2,
    "mixed": lambda lib, x: x[1:, [0, 0, 3]] ** 2,
    "index_select": lambda lib, x: x.index_select(1, lib.tensor([0, 0, 3])) ** 2,
    "masked_fill": lambda lib, x: x.masked_fill(lib.tensor(A2 > 0), 1.0) ** 2,
    "set_basic": lambda lib, x: _set_basic(lib, x, x[0, :2] ** 2) ** 2,
    "set_advanced": lambda lib, x: _set_advanced(lib, x, x[:1, :2] ** 3) ** 2,
    "set_advanced_view": lambda lib, x: _set_2d_view(lib, x, x[0, :2] ** 2) ** 2,
    "set_fill": lambda lib, x: _set_fill(lib, x, x[0] ** 2) ** 2,
}


@requires_torch
@pytest.mark.parametrize("name", sorted(DOUBLE_BACKWARD))
def test_double_backward_matches_torch(name):
    res = []
    for lib in (cgrad, torch):
        x = lib.tensor(A2, requires_grad=True)
        y = DOUBLE_BACKWARD[name](lib, x)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), x)
        res.append((_name(y.grad_fn), _name(g.grad_fn), g.detach().numpy(), gg.numpy()))
    assert_same(res[0], res[1])


def test_saved_indices_are_version_checked_and_freed():
    x = cgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = cgrad.tensor([0, 0, 2])
    y = x[i]
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    y = x[i]
    i += 0
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: \[cgrad.LongTensor \[3\]\]"):
        y.sum().backward()
    m = cgrad.tensor([True, False, True])
    y = x.masked_fill(m, 0.0)
    m[0] = False
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---------------------------------------------------------------------------
# Iteration


def test_iteration():
    x = cgrad.tensor(A2, requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and all(r._base is x for r in rows)
    assert np.array_equal(np.stack([r.detach().numpy() for r in rows]), A2)
    sum(rows).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.ones((3, 4)))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(cgrad.tensor(1.0))
    with pytest.raises(TypeError, match="Tensor does not support deleting items"):
        del x[0]


# ---------------------------------------------------------------------------
# index_select and masked_fill


def misc_outcome(lib, code):
    env = {"lib": lib, "np": np, "A2": A2, "x": lib.tensor(A2, requires_grad=True)}
    try:
        r = eval(code, env)
    except Exception as e:  # noqa: BLE001
        return _err(e)
    out = {"shape": tuple(r.shape), "grad_fn": _name(r.grad_fn), "dtype": str(r.dtype).split(".")[-1],
           "values": r.detach().numpy().copy(), "contiguous": r.is_contiguous(), "view": r._is_view()}
    if r.requires_grad:
        ins = [t for t in env.values() if isinstance(t, lib.Tensor) and t.requires_grad]
        r.backward(lib.tensor(np.random.default_rng(1).standard_normal(tuple(r.shape))))
        out["grads"] = [None if t.grad is None else t.grad.numpy().copy() for t in ins]
    return out


MISC = [
    "x.index_select(0, lib.tensor([0, 0, 2]))", "x.index_select(1, lib.tensor([[0]]))", "x.index_select(1, lib.tensor(1))",
    "x.index_select(1, lib.tensor([5]))", "x.index_select(1, lib.tensor([-1]))", "x.index_select(1, lib.tensor([1.0]))",
    "x.index_select(1, [1])", "x.index_select(2, lib.tensor([1]))", "x.index_select(1, lib.tensor([True]))",
    "lib.tensor(3.0, requires_grad=True).index_select(0, lib.tensor([0, 0]))",
    "lib.tensor(3.0, requires_grad=True).index_select(0, lib.tensor(0))",
    "lib.tensor(3.0, requires_grad=True).index_select(-1, lib.tensor([0]))",
    "lib.tensor(3.0, requires_grad=True).index_select(0, lib.tensor([1]))",
    "lib.index_select(x, 1, lib.tensor([3, 0]))", "lib.index_select(x, dim=1, index=lib.tensor([3, 0]))",
    "x.index_select(0, lib.tensor([], dtype=lib.int64))", "x.index_select(-1, lib.tensor([2, 2]))",
    "x.t().index_select(1, lib.tensor([2, 2]))", "x.t().index_select(0, lib.tensor([2, 2, 0]))",
    "lib.zeros(0, 4).index_select(0, lib.tensor([0]))", "lib.zeros(3, 0).index_select(1, lib.tensor([0]))",
    "lib.zeros(3, 0).index_select(0, lib.tensor([5]))", "lib.zeros(3, 0).index_select(0, lib.tensor([1]))",
    "x.index_select(1.0, lib.tensor([0]))", "x.index_select('a', lib.tensor([0]))", "x.index_select(0, lib.tensor(5))",
    "x.index_select(0, lib.tensor(-1))", "x.index_select(0, lib.tensor([0, -4]))", "x.index_select(0, lib.tensor([1, 3, 7]))",
    "lib.tensor([1, 2, 3]).index_select(0, lib.tensor([2, 0]))", "lib.tensor([True, False]).index_select(0, lib.tensor([1, 0]))",
    "lib.tensor([1., 2., 3.], requires_grad=True).index_select(0, lib.tensor([9]))",
    "lib.zeros(2, 3, 4).index_select(1, lib.tensor([1, 3]))", "lib.zeros(2, 3, 4).index_select(2, lib.tensor([1, 9]))",
    "x.index_select(0, lib.tensor([0, 1, 2, 0])[::2])",
    "x.masked_fill(lib.tensor(A2 > 0), 2.0)", "x.masked_fill(lib.tensor(A2 > 0), lib.tensor(2.0))",
    "x.masked_fill(lib.tensor(A2 > 0), lib.tensor([2.0]))", "x.masked_fill(lib.ones(4, dtype=lib.bool), 1)",
    "x.masked_fill(lib.ones(2, 3, 4, dtype=lib.bool), 1)", "x.masked_fill(lib.ones(3, dtype=lib.bool), 1)",
    "x.masked_fill(lib.ones(4), 1)", "x.masked_fill(lib.ones(4, dtype=lib.int64), 1)", "x.masked_fill(lib.tensor(A2 > 0), 'a')",
    "x.masked_fill(lib.tensor(A2 > 0), None)", "lib.zeros(3, 4, dtype=lib.int64).masked_fill(lib.tensor(A2 > 0), 2.5)",
    "lib.zeros(3, 4, dtype=lib.int64).masked_fill(lib.tensor(A2 > 0), lib.tensor(2.5))",
    "lib.zeros(3, 4).masked_fill(lib.tensor(A2 > 0), lib.tensor(2.5, dtype=lib.float64))",
    "lib.zeros(3, 4, dtype=lib.bool).masked_fill(lib.tensor(A2 > 0), 2.5)", "lib.masked_fill(x, lib.tensor(A2 > 0), 1.5)",
    "x.masked_fill(mask=lib.tensor(A2 > 0), value=1.0)", "lib.zeros(3, 4).masked_fill_(lib.ones(2, 3, 4, dtype=lib.bool), 1)",
    "lib.zeros(3, 4).masked_fill_(lib.ones(4, dtype=lib.bool), 1)", "lib.zeros(3, 4).masked_fill_(lib.ones(3, dtype=lib.bool), 1)",
    "(x * 1).masked_fill_(lib.tensor(A2 > 0), 1.5)", "x.masked_fill_(lib.tensor(A2 > 0), 1.5)",
    "(x * 1).masked_fill_(lib.tensor(A2 > 0), lib.tensor(2., requires_grad=True))",
    "x.masked_fill(lib.tensor(A2[0] > 0), lib.tensor(2., dtype=lib.float64, requires_grad=True))",
    "x.masked_fill(lib.tensor(True), 2.)", "lib.tensor(2., requires_grad=True).masked_fill(lib.tensor(A2 > 0), 1.)",
    "x.t().masked_fill(lib.tensor(A2.T > 0), 1.)", "x.masked_fill(lib.tensor(A2 > 0), float('inf'))",
]


@requires_torch
@pytest.mark.parametrize("code", MISC)
def test_index_select_and_masked_fill_match_torch(code):
    assert_same(misc_outcome(cgrad, code), misc_outcome(torch, code))


@requires_torch
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple), data=st.data())
@settings(max_examples=60 * SCALE, deadline=None)
def test_index_select_random_matches_torch(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    idx = data.draw(st.lists(st.integers(-1, size), max_size=5))
    arr = np.random.default_rng(2).standard_normal(shape)

    def code(lib):
        x = lib.tensor(arr, requires_grad=True)
        try:
            r = x.index_select(dim, lib.tensor(idx, dtype=lib.int64))
        except Exception as e:  # noqa: BLE001
            return _err(e)
        r.backward(lib.tensor(np.ones(tuple(r.shape))))
        return tuple(r.shape), r.detach().numpy(), x.grad.numpy()

    assert_same(code(cgrad), code(torch))


SETITEM_CODE = [
    "y = lib.zeros(3, dtype=lib.int64); v = lib.tensor(2.5, requires_grad=True); y[0] = v",
    "y = lib.zeros(3, dtype=lib.int64); v = lib.tensor([2.5, 1.], requires_grad=True); y[[0, 1]] = v",
    "x = lib.tensor(2., requires_grad=True); y = x * 2; v = lib.tensor(5., requires_grad=True); y[...] = v",
    "x = lib.tensor(2., requires_grad=True); y = x * 2; v = lib.tensor(5., requires_grad=True); y[None] = v",
    "x = lib.tensor(2., requires_grad=True); y = x * 2; v = lib.tensor(5., requires_grad=True); y[True] = v",
    "x = lib.tensor(2., requires_grad=True); y = x * 2; v = lib.tensor([5.], requires_grad=True); y[[True]] = v",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; v = lib.tensor(5., dtype=lib.float64, requires_grad=True); y[0] = v",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; v = lib.tensor(5., dtype=lib.float64, requires_grad=True); "
    "y[lib.tensor([True, False])] = v",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; v = lib.tensor([5.], dtype=lib.float64, requires_grad=True); y[[0]] = v",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; y[0] = y[1]",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; y[[0]] = y[1]",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; y[:] = y.detach()",
    "y = lib.zeros(3); v = lib.tensor(2.5, requires_grad=True)\nwith lib.no_grad(): y[0] = v",
    "y = lib.zeros(3); v = lib.tensor(2., requires_grad=True); y.masked_fill_(lib.tensor([True, False, True]), v)",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x[0:1]; y.masked_fill_(lib.tensor([True]), 1.)",
    "x = lib.tensor([[2., 3.]], requires_grad=True); y = x * 1; v = lib.ones(2, requires_grad=True); y[0, [1, 0]] = v * 3",
    "y = lib.zeros(2, 3); v = lib.ones(3, requires_grad=True); y[lib.tensor([True, False])] = v",
]


@requires_torch
@pytest.mark.parametrize("code", SETITEM_CODE)
def test_setitem_code_matches_torch(code):
    def outcome(lib):
        env = {"lib": lib, "np": np}
        try:
            exec(code, env)
        except Exception as e:  # noqa: BLE001
            return _err(e)
        y = env["y"]
        out = [str(y.dtype).split(".")[-1], y.requires_grad, _name(y.grad_fn), y._version, y.detach().numpy()]
        if y.requires_grad:
            y.sum().backward()
            for k in ("x", "v"):
                if k in env:
                    out.append(None if env[k].grad is None else env[k].grad.numpy())
        return out

    assert_same(outcome(cgrad), outcome(torch))
