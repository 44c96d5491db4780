"""Joining and splitting ops against torch (cat / concat / concatenate /
stack, split / split_with_sizes / chunk / unbind): values, dtypes, grad_fn
names, gradients, result layouts and errors; second-order gradients of the
shape and join ops (their backward formulas are differentiable); large
copies between layouts (the tiled transpose copy)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cgrad
from helpers import check_gradients, compare_with_torch, rand, requires_torch, torch
from shape_machinery import HYPO, bools, compare_all, compare_error, compare_layout, empty, ints, r


# ---------------------------------------------------------------------------
# cat / concat / concatenate / stack


CAT_CASES = {
    "dim1": (lambda l, a, b: l.cat([a, b], 1), [r(2, 3), r(2, 4, seed=1)]),
    "dim_neg": (lambda l, a, b: l.cat((a, b), -1), [r(2, 3), r(2, 4, seed=1)]),
    "dim0_default": (lambda l, a, b: l.cat([a, b]), [r(2, 3), r(1, 3, seed=1)]),
    "single": (lambda l, a: l.cat([a]), [r(2, 3)]),
    "three": (lambda l, a, b, c: l.cat([a, b, c], 1), [r(2, 1, 2), r(2, 3, 2, seed=1), r(2, 2, 2, seed=2)]),
    "same_twice": (lambda l, a: l.cat([a, a * 2], 0), [r(2, 3)]),
    "1d": (lambda l, a, b: l.cat([a, b]), [r(3), r(2, seed=1)]),
    "promote_f64": (lambda l, a, b: l.cat([a, b]), [r(2, 3), r(2, 3, seed=1).astype(np.float64)]),
    "promote_int": (lambda l, a, b: l.cat([a, b]), [r(2, 3), ints(2, 3)]),
    "promote_int_first": (lambda l, a, b: l.cat([b, a], 1), [r(2, 3), ints(2, 3)]),
    "int_bool": (lambda l, a, b: l.cat([a, b]), [ints(2, 3), bools(1, 3)]),
    "bool": (lambda l, a, b: l.cat([a, b], 1), [bools(2, 3), bools(2, 1)]),
    "legacy_empty": (lambda l, a, b: l.cat([a, b]), [r(2, 3), empty(0)]),
    "legacy_empty_first": (lambda l, a, b: l.cat([b, a], 1), [r(2, 3), empty(0)]),
    "legacy_empty_promotes": (lambda l, a, b: l.cat([a, b]), [r(2, 3), np.zeros(0, np.float64)]),
    "legacy_empty_float_int": (lambda l, a, b: l.cat([a, b]), [ints(2, 3), empty(0)]),
    "all_legacy_empty": (lambda l, a, b: l.cat([a, b], 3), [empty(0), empty(0)]),
    "empty_dim": (lambda l, a, b: l.cat([a, b], 1), [r(2, 3), empty(2, 0)]),
    "empty_rows": (lambda l, a, b: l.cat([a, b]), [r(2, 3), empty(0, 3)]),
    "all_empty": (lambda l, a, b: l.cat([a, b], 1), [empty(0, 2), empty(0, 3)]),
    "transposed": (lambda l, a, b: l.cat([a.t(), b.t()], 1), [r(2, 3), r(2, 3, seed=1)]),
    "expanded": (lambda l, a, b: l.cat([a.expand(3, 2), b], 0), [r(1, 2), r(2, 2, seed=1)]),
    "channels_last": (lambda l, a, b: l.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], 1),
                      [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
    "channels_last_dim0": (lambda l, a, b: l.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)]),
                           [r(2, 4, 5, 3), r(1, 4, 5, 3, seed=1)]),
    "channels_last_c1": (lambda l, a, b: l.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], 1),
                         [r(2, 4, 5, 1), r(2, 4, 5, 1, seed=1)]),
    "channels_last_mixed": (lambda l, a, b: l.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2).contiguous()], 1),
                            [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
    "channels_last_legacy_empty": (lambda l, a, b: l.cat([b, a.permute(0, 3, 1, 2)], 1),
                                   [r(2, 4, 5, 3), empty(0)]),
    "channels_last_3d": (lambda l, a, b: l.cat([a.permute(0, 4, 1, 2, 3), b.permute(0, 4, 1, 2, 3)], 1),
                         [r(2, 3, 2, 2, 3), r(2, 3, 2, 2, 3, seed=1)]),
    "concat": (lambda l, a, b: l.concat([a, b], 1), [r(2, 3), r(2, 4, seed=1)]),
    "concatenate_axis": (lambda l, a, b: l.concatenate([a, b], axis=1), [r(2, 3), r(2, 4, seed=1)]),
    "cat_axis": (lambda l, a, b: l.cat([a, b], axis=1), [r(2, 3), r(2, 4, seed=1)]),
    "cat_kw_tensors": (lambda l, a, b: l.cat(tensors=[a, b], dim=-2), [r(2, 3), r(2, 3, seed=1)]),
    "stack": (lambda l, a, b: l.stack([a, b]), [r(2, 3), r(2, 3, seed=1)]),
    "stack_mid": (lambda l, a, b: l.stack([a, b], 1), [r(2, 3), r(2, 3, seed=1)]),
    "stack_end": (lambda l, a, b: l.stack((a, b), 2), [r(2, 3), r(2, 3, seed=1)]),
    "stack_neg": (lambda l, a, b: l.stack([a, b], -1), [r(2, 3), r(2, 3, seed=1)]),
    "stack_single": (lambda l, a: l.stack([a], 0), [r(2, 3)]),
    "stack_0d": (lambda l, a, b: l.stack([a, b]), [r(), r(seed=1)]),
    "stack_1d": (lambda l, a, b, c: l.stack([a, b, c], 1), [r(3), r(3, seed=1), r(3, seed=2)]),
    "stack_promote": (lambda l, a, b: l.stack([a, b], 1), [r(2, 3), r(2, 3, seed=1).astype(np.float64)]),
    "stack_int": (lambda l, a, b: l.stack([b, a]), [r(2, 3), ints(2, 3)]),
    "stack_empty": (lambda l, a, b: l.stack([a, b]), [empty(2, 0), empty(2, 0)]),
    "stack_empty_mid": (lambda l, a, b: l.stack([a, b], 1), [empty(0, 2), empty(0, 2)]),
    "stack_transposed": (lambda l, a, b: l.stack([a.t(), b.t()]), [r(2, 3), r(2, 3, seed=1)]),
    "stack_channels_last_0": (lambda l, a, b: l.stack([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)]),
                              [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
    "stack_channels_last_1": (lambda l, a, b: l.stack([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], 1),
                              [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
    "stack_channels_last_end": (lambda l, a, b: l.stack([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], 4),
                                [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(CAT_CASES))
def test_cat_stack_match_torch(name):
    fn, arrays = CAT_CASES[name]
    compare_all(fn, *arrays)


@requires_torch
@pytest.mark.parametrize("name", ["dim1", "promote_int", "stack_mid", "legacy_empty"])
def test_cat_stack_partial_requires_grad(name):
    fn, arrays = CAT_CASES[name]
    compare_all(fn, *arrays, requires_grad=False)

    def only_first(lib, *xs):
        xs[0].requires_grad_(xs[0].dtype.is_floating_point)
        return fn(lib, *xs)
    compare_layout(only_first, *arrays, requires_grad=False)


@pytest.mark.parametrize("name", sorted(n for n, (f, arrays) in CAT_CASES.items()
                                        if all(a.dtype.kind == "f" and a.size > 0 for a in arrays)))
def test_cat_stack_gradcheck(name):
    fn, arrays = CAT_CASES[name]
    check_gradients(fn, *arrays)


CAT_ERRORS = {
    "sizes": (lambda l, a, b: l.cat([a, b]), [r(2, 3), r(2, 4)]),
    "sizes_dim1": (lambda l, a, b: l.cat([a, b], 1), [r(2, 3), r(3, 0)]),
    "sizes_empty_2d": (lambda l, a, b: l.cat([a, b]), [r(2, 3), empty(2, 0)]),
    "ndim": (lambda l, a, b: l.cat([a, b]), [r(2, 3), r(3)]),
    "ndim_empty": (lambda l, a, b: l.cat([a, b]), [r(2, 3), empty(2, 1, 0)]),
    "zero_dim": (lambda l, a, b: l.cat([a, b]), [r(2), r()]),
    "zero_dim_first": (lambda l, a, b: l.cat([b, a]), [r(2), r()]),
    "dim_range": (lambda l, a, b: l.cat([a, b], 2), [r(2, 3), r(2, 3)]),
    "dim_range_neg": (lambda l, a, b: l.cat([a, b], -3), [r(2, 3), r(2, 3)]),
    "dim_range_after_legacy": (lambda l, a, b: l.cat([b, a], 5), [r(2, 3), empty(0)]),
    "empty_list": (lambda l, a: l.cat([]), [r(2)]),
    "not_a_list": (lambda l, a: l.cat(a), [r(2)]),
    "generator": (lambda l, a: l.cat(x for x in [a]), [r(2)]),
    "element": (lambda l, a: l.cat([a, 1]), [r(2)]),
    "element_none": (lambda l, a: l.cat([a, None]), [r(2)]),
    "dim_float": (lambda l, a: l.cat([a, a], 1.0), [r(2)]),
    "dim_bool": (lambda l, a: l.cat([a, a], True), [r(2)]),
    "dim_and_axis": (lambda l, a: l.cat([a], 0, axis=0), [r(2)]),
    "stack_empty": (lambda l, a: l.stack([]), [r(2)]),
    "stack_shapes": (lambda l, a, b: l.stack([a, b]), [r(2, 3), r(3, 2)]),
    "stack_ndim": (lambda l, a, b: l.stack([a, b], 1), [r(2, 3), r(3)]),
    "stack_dim": (lambda l, a, b: l.stack([a, b], 3), [r(2, 3), r(2, 3)]),
    "stack_dim_neg": (lambda l, a, b: l.stack([a, b], -4), [r(2, 3), r(2, 3)]),
    "stack_not_a_list": (lambda l, a: l.stack(a), [r(2)]),
    "stack_element": (lambda l, a: l.stack([a, 1]), [r(2)]),
    "stack_dim_float": (lambda l, a: l.stack([a, a], 1.0), [r(2)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(CAT_ERRORS))
def test_cat_stack_errors(name):
    fn, arrays = CAT_ERRORS[name]
    compare_error(fn, *arrays)


@st.composite
def cat_inputs(draw):
    ndim = draw(st.integers(1, 3))
    base = draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim))
    dim = draw(st.integers(-ndim, ndim - 1))
    n = draw(st.integers(1, 4))
    shapes = []
    for _ in range(n):
        s = list(base)
        s[dim] = draw(st.integers(0, 3))
        shapes.append(tuple(s))
    transpose = draw(st.booleans()) and ndim >= 2
    return shapes, dim, transpose


@requires_torch
@HYPO
@given(cat_inputs())
def test_cat_hypothesis(inp):
    shapes, dim, transpose = inp
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]

    def fn(lib, *xs):
        if transpose:   # non-contiguous inputs of the same logical shapes
            xs = [x.mT.contiguous().mT for x in xs]
        return lib.cat(list(xs), dim)
    compare_all(fn, *arrays)


@requires_torch
@HYPO
@given(st.lists(st.integers(0, 3), min_size=0, max_size=3), st.integers(1, 3), st.data())
def test_stack_hypothesis(shape, n, data):
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [rand(*shape, seed=i) for i in range(n)]
    compare_all(lambda lib, *xs: lib.stack(list(xs), dim), *arrays)


# ---------------------------------------------------------------------------
# split / split_with_sizes / chunk / unbind


SPLIT_CASES = {
    "split": (lambda l, x: x.split(2), [r(5, 4)]),
    "split_dim": (lambda l, x: x.split(3, 1), [r(5, 4)]),
    "split_neg_dim": (lambda l, x: x.split(1, -1), [r(5, 4)]),
    "split_exact": (lambda l, x: x.split(5), [r(5, 4)]),
    "split_bigger": (lambda l, x: x.split(7), [r(5, 4)]),
    "split_tensor_size": (lambda l, x: x.split(l.tensor(2)), [r(5, 4)]),
    "split_zero_on_empty": (lambda l, x: x.split(0), [empty(0, 3)]),
    "split_on_empty": (lambda l, x: x.split(2), [empty(0, 3)]),
    "split_noncontig": (lambda l, x: x.t().split(2), [r(5, 4)]),
    "split_sizes": (lambda l, x: x.split([1, 4]), [r(5, 4)]),
    "split_sizes_tuple_dim": (lambda l, x: x.split((2, 2), 1), [r(5, 4)]),
    "split_sizes_zeros": (lambda l, x: x.split([0, 5, 0]), [r(5, 4)]),
    "split_sizes_single": (lambda l, x: x.split([5]), [r(5, 4)]),
    "split_fn": (lambda l, x: l.split(x, 2, dim=1), [r(5, 4)]),
    "split_fn_sizes": (lambda l, x: l.split(x, [2, 3]), [r(5, 4)]),
    "split_with_sizes": (lambda l, x: x.split_with_sizes([3, 1], 1), [r(5, 4)]),
    "split_with_sizes_fn": (lambda l, x: l.split_with_sizes(x, [3, 2]), [r(5, 4)]),
    "split_int": (lambda l, x: x.split(2), [ints(5, 2)]),
    "chunk": (lambda l, x: x.chunk(2), [r(5, 4)]),
    "chunk_3": (lambda l, x: x.chunk(3), [r(5, 4)]),
    "chunk_more_than_size": (lambda l, x: x.chunk(6), [r(5, 4)]),
    "chunk_dim": (lambda l, x: x.chunk(3, 1), [r(5, 4)]),
    "chunk_uneven": (lambda l, x: x.chunk(4), [r(10)]),
    "chunk_uneven_13_6": (lambda l, x: x.chunk(6), [r(13)]),
    "chunk_empty_dim": (lambda l, x: x.chunk(3), [empty(0, 3)]),
    "chunk_empty_other_dim": (lambda l, x: x.chunk(2, 1), [empty(0, 3)]),
    "chunk_fn": (lambda l, x: l.chunk(x, 4, 1), [r(5, 4)]),
    "unbind": (lambda l, x: x.unbind(), [r(3, 4)]),
    "unbind_neg": (lambda l, x: x.unbind(-1), [r(3, 4)]),
    "unbind_3d": (lambda l, x: x.unbind(1), [r(2, 3, 4)]),
    "unbind_empty_dim": (lambda l, x: x.unbind(), [empty(0, 3)]),
    "unbind_empty_other": (lambda l, x: x.unbind(), [empty(3, 0)]),
    "unbind_fn": (lambda l, x: l.unbind(x, 1), [r(5, 4)]),
    "unbind_1d": (lambda l, x: x.unbind(), [r(3)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SPLIT_CASES))
def test_split_family_matches_torch(name):
    fn, arrays = SPLIT_CASES[name]
    compare_all(fn, *arrays)


@pytest.mark.parametrize("name", sorted(n for n, (f, arrays) in SPLIT_CASES.items()
                                        if all(a.dtype.kind == "f" and a.size > 0 for a in arrays)))
def test_split_family_gradcheck(name):
    fn, arrays = SPLIT_CASES[name]
    check_gradients(fn, *arrays)


@pytest.mark.parametrize("name, use", [("split", [1]), ("split", [0, 2]), ("split_sizes", [1]),
                                       ("chunk_3", [2]), ("unbind_3d", [0, 2]), ("split_exact", [0])])
def test_split_family_unused_outputs(name, use):
    """Outputs that get no gradient count as zeros in the joined gradient."""
    fn, arrays = SPLIT_CASES[name]

    def partial(lib, x):
        outs = fn(lib, x)
        return tuple(outs[i] * (i + 1) for i in use)
    compare_with_torch(partial, *arrays)


@requires_torch
def test_split_outputs_are_views_of_one_node():
    x = cgrad.tensor(r(5, 4), requires_grad=True)
    parts = x.split(2)
    assert len({id(p.grad_fn) for p in parts}) == 1
    assert [p.output_nr for p in parts] == [0, 1, 2]
    assert all(p._base is x for p in parts)
    assert parts[0].grad_fn.next_functions[0][0].variable is x
    with cgrad.no_grad():
        parts[1].fill_(3.0)
    assert (x.detach().numpy()[2:4] == 3).all()


SPLIT_ERRORS = {
    "split_negative": (lambda l, x: x.split(-1), [r(5, 4)]),
    "split_negative_before_dim": (lambda l, x: x.split(-1, 5), [r(5, 4)]),
    "split_zero": (lambda l, x: x.split(0), [r(5, 4)]),
    "split_dim": (lambda l, x: x.split(2, 2), [r(5, 4)]),
    "split_0d": (lambda l, x: x.split(1), [r()]),
    "split_0d_sizes": (lambda l, x: x.split([1]), [r()]),
    "split_sizes_sum": (lambda l, x: x.split([1, 3]), [r(5, 4)]),
    "split_sizes_sum_neg_dim": (lambda l, x: x.split([1, 3], -2), [r(5, 4)]),
    "split_sizes_empty": (lambda l, x: x.split([]), [r(5, 4)]),
    "split_sizes_negative": (lambda l, x: x.split([6, -1]), [r(5, 4)]),
    "split_sizes_dim": (lambda l, x: x.split([1, -1], 5), [r(5, 4)]),
    "split_float": (lambda l, x: x.split(2.0), [r(5, 4)]),
    "split_float_size": (lambda l, x: x.split([2.0, 3]), [r(5, 4)]),
    "split_float_later": (lambda l, x: l.split(x, (1, 1.0)), [r(5, 4)]),
    "split_float_dim": (lambda l, x: x.split(2, 1.0), [r(5, 4)]),
    "split_sizes_float_dim": (lambda l, x: x.split([1, 1], 1.0), [r(5, 4)]),
    "split_none": (lambda l, x: x.split(None), [r(5, 4)]),
    "chunk_zero": (lambda l, x: x.chunk(0), [r(5, 4)]),
    "chunk_negative": (lambda l, x: x.chunk(-1), [r(5, 4)]),
    "chunk_before_dim": (lambda l, x: x.chunk(0, 5), [r(5, 4)]),
    "chunk_dim": (lambda l, x: x.chunk(2, 3), [r(5, 4)]),
    "chunk_0d": (lambda l, x: x.chunk(1), [r()]),
    "chunk_float": (lambda l, x: x.chunk(2.0), [r(5, 4)]),
    "chunk_bool": (lambda l, x: x.chunk(True), [r(5, 4)]),
    "chunk_fn_float": (lambda l, x: l.chunk(x, 2.0), [r(5, 4)]),
    "unbind_dim": (lambda l, x: x.unbind(2), [r(5, 4)]),
    "unbind_0d": (lambda l, x: x.unbind(), [r()]),
    "unbind_0d_neg": (lambda l, x: x.unbind(-1), [r()]),
    "unbind_0d_range": (lambda l, x: x.unbind(1), [r()]),
    "unbind_float": (lambda l, x: x.unbind(1.0), [r(5, 4)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SPLIT_ERRORS))
def test_split_family_errors(name):
    fn, arrays = SPLIT_ERRORS[name]
    compare_error(fn, *arrays)


@st.composite
def split_inputs(draw):
    shape = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    kind = draw(st.sampled_from(["split", "sizes", "chunk", "unbind"]))
    if kind == "split":
        arg = draw(st.integers(1 if size else 0, 6))
    elif kind == "chunk":
        arg = draw(st.integers(1, 6))
    elif kind == "sizes":
        arg = []
        left = size
        while left > 0:
            k = draw(st.integers(0, left))
            arg.append(k)
            left -= k
        arg.append(0) if draw(st.booleans()) else None
        if sum(arg) != size:
            arg.append(size - sum(arg))
    else:
        arg = None
    return shape, dim, kind, arg


@requires_torch
@HYPO
@given(split_inputs())
def test_split_family_hypothesis(inp):
    shape, dim, kind, arg = inp

    def fn(lib, x):
        if kind == "split":
            return x.split(arg, dim)
        if kind == "sizes":
            return x.split(list(arg), dim)
        if kind == "chunk":
            return x.chunk(arg, dim)
        return x.unbind(dim)
    compare_all(fn, rand(*shape, seed=3))


# ---------------------------------------------------------------------------
# Second order: the backward formulas are differentiable (create_graph)


SECOND_ORDER = {
    "cat": (lambda l, a, b: (l.cat([a, b], 1) ** 2).sum(), [r(2, 3), r(2, 2, seed=1)]),
    "stack": (lambda l, a, b: (l.stack([a, b], 1) ** 2).sum(), [r(2, 3), r(2, 3, seed=1)]),
    "split": (lambda l, a: sum((p ** 2).sum() * (i + 1) for i, p in enumerate(a.split(2))), [r(5, 2)]),
    "split_partial": (lambda l, a: (a.split([1, 4])[1] ** 2).sum(), [r(5, 2)]),
    "chunk": (lambda l, a: (a.chunk(2, 1)[0] ** 3).sum(), [r(2, 5)]),
    "unbind": (lambda l, a: (a.unbind(1)[1] ** 2).sum(), [r(2, 3)]),
    "narrow": (lambda l, a: (a.narrow(1, 1, 2) ** 2).sum(), [r(2, 4)]),
    "expand": (lambda l, a: (a.expand(3, 2, 2) ** 2).sum(), [r(2, 1)]),
    "view_chain": (lambda l, a: (a.t().reshape(-1).unsqueeze(0).squeeze() ** 2).sum(), [r(2, 3)]),
    "squeeze_dims": (lambda l, a: (a.squeeze((0, 2)) ** 2).sum(), [r(1, 3, 1)]),
    "permute": (lambda l, a: (a.permute(1, 0) ** 3).sum(), [r(2, 3)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_matches_torch(name):
    fn, arrays = SECOND_ORDER[name]
    results = []
    for lib in (torch, cgrad):
        xs = [lib.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
        grads = lib.autograd.grad(fn(lib, *xs), xs, create_graph=True)
        total = sum((g * (i + 2)).sum() for i, g in enumerate(grads))
        second = lib.autograd.grad(total, xs, allow_unused=True)
        results.append([np.asarray(g.detach().numpy()) if g is not None else None for g in list(grads) + list(second)])
    for t, c in zip(*results):
        if t is None:
            assert c is None or np.allclose(c, 0)
        else:
            np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12)


def second_order_gradcheck(fn, arrays, eps=1e-6):
    """Finite differences of the first-order gradients (weighted by fixed
    random weights) against their gradient through create_graph."""
    weights = [np.random.default_rng(7 + i).standard_normal(a.shape) for i, a in enumerate(arrays)]

    def weighted_first(values, create_graph):
        xs = [cgrad.tensor(v, requires_grad=True) for v in values]
        grads = cgrad.autograd.grad(fn(cgrad, *xs), xs, create_graph=create_graph, allow_unused=True)
        total = sum((g * cgrad.tensor(w)).sum() for g, w in zip(grads, weights) if g is not None)
        return xs, total

    values = [a.astype(np.float64) for a in arrays]
    xs, total = weighted_first(values, True)
    analytical = cgrad.autograd.grad(total, xs, allow_unused=True)
    for i, v in enumerate(values):
        numerical = np.zeros(v.shape)
        for k in range(v.size):
            plus = [x.copy() for x in values]
            minus = [x.copy() for x in values]
            plus[i].reshape(-1)[k] += eps
            minus[i].reshape(-1)[k] -= eps
            numerical.reshape(-1)[k] = (weighted_first(plus, False)[1].item()
                                        - weighted_first(minus, False)[1].item()) / (2 * eps)
        got = np.zeros(v.shape) if analytical[i] is None else analytical[i].detach().numpy()
        np.testing.assert_allclose(got, numerical, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_gradcheck(name):
    fn, arrays = SECOND_ORDER[name]
    second_order_gradcheck(fn, arrays)


# ---------------------------------------------------------------------------
# Large copies between layouts (the tiled transpose copy)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_large_layout_copies(dtype):
    a = (np.random.default_rng(0).standard_normal((33, 70, 45)) * 10).astype(dtype)
    x = cgrad.tensor(a)
    for perm in [(1, 0, 2), (2, 1, 0), (0, 2, 1), (2, 0, 1), (1, 2, 0)]:
        v = x.permute(*perm)
        ref = np.transpose(a, perm)
        c = v.contiguous()
        assert c.is_contiguous() and c._base is None
        np.testing.assert_array_equal(c.numpy(), ref)
        k = v.clone()
        assert k.stride() == v.stride()
        np.testing.assert_array_equal(k.numpy(), ref)
        np.testing.assert_array_equal(v.reshape(-1).numpy(), ref.reshape(-1))
    e = x.narrow(1, 3, 1).expand(33, 70, 45).transpose(0, 2)
    np.testing.assert_array_equal(e.contiguous().numpy(), np.broadcast_to(a[:, 3:4], a.shape).transpose(2, 1, 0))
    s = x.narrow(2, 1, 40).transpose(1, 2)
    np.testing.assert_array_equal(s.contiguous().numpy(), a[:, :, 1:41].transpose(0, 2, 1))
    np.testing.assert_array_equal(s.clone().numpy(), a[:, :, 1:41].transpose(0, 2, 1))


@requires_torch
@pytest.mark.parametrize("expr", ["x.narrow(2, 1, 40).transpose(1, 2).clone()",
                                  "x.permute(2, 0, 1).narrow(0, 0, 30).clone()",
                                  "x.transpose(0, 2).unsqueeze(1).expand(45, 2, 70, 33).clone()",
                                  "x.permute(1, 2, 0).contiguous()", "x.transpose(0, 1).reshape(70, -1)"])
def test_large_layout_copies_match_torch(expr):
    compare_all(lambda lib, x: eval(expr), rand(33, 70, 45))


@requires_torch
@pytest.mark.parametrize("expr", ["lib.cat([x.transpose(0, 1), y.transpose(0, 1)], 1)",
                                  "lib.cat([x.permute(2, 0, 1), y.permute(2, 0, 1)], 0)",
                                  "lib.stack([x.transpose(1, 2), y.transpose(1, 2)], 1)",
                                  "lib.cat([x.transpose(0, 2), y.transpose(0, 2).double()], 2)"])
def test_large_cat_of_transposed(expr):
    compare_all(lambda lib, x, y: eval(expr), rand(33, 70, 45), rand(33, 70, 45, seed=1))


@pytest.mark.parametrize("call", [
    lambda t: t.broadcast_to(2, 3), lambda t: t.broadcast_to((2, 3)), lambda t: t.broadcast_to([2, 3]),
    lambda t: t.broadcast_to(size=(2, 3)), lambda t: t.broadcast_to(1, -1),
])
def test_broadcast_to_method_sizes(call):
    """Tensor.broadcast_to takes its sizes spread out too, as Tensor.expand
    (torch.broadcast_to takes one sequence)."""
    ours = call(cgrad.tensor([1.0, 2.0, 3.0]))
    assert ours.tolist() == [[1.0, 2.0, 3.0]] * ours.shape[0]
    if torch is not None:
        assert call(torch.tensor([1.0, 2.0, 3.0])).shape == ours.shape
    with pytest.raises(TypeError):
        cgrad.broadcast_to(cgrad.ones(3), 2, 3)
