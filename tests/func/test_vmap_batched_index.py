"""vmap with the INDEX tensors batched (each sample its own positions), not
only the indexed tensor: index_select, index_add/index_copy/index_fill,
index_put, gather, scatter/scatter_add/scatter_reduce, take,
take_along_dim, x[index] and x[index] = value, each batched self/source
shared or per sample; and the convolutions with a weight (or bias) per
sample, transposed ones included, groups > 1. Every case runs its batching
rule (no fallback warning) and is checked against a loop over the samples
(values and vmap(grad)), and against torch.func.vmap where installed; the
in-place forms on an unbatched self raise PyTorch's errors."""
import re

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch
from vmap_check import check_vmap, run_quiet

B = 3
rng = np.random.default_rng(5)
X = rng.standard_normal((B, 4, 5))
X1 = X[0]
ROWS = np.stack([[3, 0], [1, 1], [2, 0]])              # (B, 2): rows of a 4-row sample, duplicates included
COLS = rng.integers(0, 5, (B, 4, 3))                      # per-sample gather/scatter positions along dim 1
SRC = rng.standard_normal((B, 2, 5))
VALUE = rng.standard_normal(B)
FLAT = rng.integers(-20, 20, (B, 2, 3))                   # take: flat positions, negative ones too
PAIRS = (rng.integers(-4, 4, (B, 3)), rng.integers(0, 5, (B, 3)))

# (name, f(L, *tensors), arrays, in_dims)
CASES = [
    ("index_select_rows", lambda L, x, i: L.index_select(x, 0, i), [X, ROWS], (0, 0)),
    ("index_select_shared_x", lambda L, x, i: x.index_select(1, i), [X1, COLS[:, 0]], (None, 0)),
    ("index_select_scalar", lambda L, x, i: x.index_select(-1, i), [X, np.array([4, 0, 2])], (0, 0)),
    ("index_add", lambda L, x, i, s: L.index_add(x, 0, i, s), [X, ROWS, SRC], (0, 0, 0)),
    ("index_add_alpha_shared_src", lambda L, x, i, s: x.index_add(0, i, s, alpha=-2.0), [X, ROWS, SRC[0]],
     (0, 0, None)),
    ("index_add_dim1", lambda L, x, i, s: x.index_add(1, i, s), [X, COLS[:, 0, :2], X[:, :, :2]], (0, 0, 0)),
    ("index_add_shared_x", lambda L, x, i, s: x.index_add(0, i, s), [X1, ROWS, SRC], (None, 0, 0)),
    ("index_add_inplace", lambda L, x, i, s: (x * 1).index_add_(0, i, s), [X, ROWS, SRC], (0, 0, 0)),
    ("index_copy", lambda L, x, i, s: x.index_copy(0, i, s), [X, np.array([[3, 0], [1, 2], [2, 0]]), SRC],
     (0, 0, 0)),
    ("index_copy_inplace", lambda L, x, i, s: (x * 1).index_copy_(1, i, s),
     [X, np.array([[4, 0], [1, 2], [2, 3]]), X[:, :, :2]], (0, 0, 0)),
    ("index_fill", lambda L, x, i: x.index_fill(0, i, -1.5), [X, ROWS], (0, 0)),
    ("index_fill_dim1_inplace", lambda L, x, i: (x * 1).index_fill_(1, i, 2.0), [X, COLS[:, 0, :2]], (0, 0)),
    ("index_fill_value_per_sample", lambda L, x, i, v: x.index_fill(1, i, v), [X, COLS[:, 0, :2], VALUE],
     (0, 0, 0)),
    ("index_put", lambda L, x, i, v: L.index_put(x, (i,), v), [X, ROWS, SRC], (0, 0, 0)),
    ("index_put_pair_accumulate", lambda L, x, i, j, v: x.index_put((i, j), v, accumulate=True),
     [X, PAIRS[0], PAIRS[1], rng.standard_normal((B, 3))], (0, 0, 0, 0)),
    ("index_put_shared_and_batched", lambda L, x, i, j, v: x.index_put((i, j), v),
     [X, PAIRS[0][0], PAIRS[1], rng.standard_normal(3)], (0, None, 0, None)),
    ("index_put_inplace", lambda L, x, i, v: (x * 1).index_put_((i,), v, accumulate=True), [X, ROWS, SRC],
     (0, 0, 0)),
    ("gather", lambda L, x, i: L.gather(x, 1, i), [X, COLS], (0, 0)),
    ("gather_shared_x", lambda L, x, i: x.gather(1, i), [X1, COLS], (None, 0)),
    ("gather_0d", lambda L, x, i: L.gather(x, 0, i), [VALUE, np.zeros(B, dtype=np.int64)], (0, 0)),
    ("scatter_src", lambda L, x, i, s: L.scatter(x, 1, i, s), [X, COLS[:, :, :1], X[:, :, 1:]], (0, 0, 0)),
    ("scatter_value", lambda L, x, i: x.scatter(1, i[:, :1], 1.5), [X, COLS], (0, 0)),
    ("scatter_shared_x", lambda L, x, i, s: x.scatter(1, i[:, :1], s), [X1, COLS, X[:, :, :1]], (None, 0, 0)),
    ("scatter_add", lambda L, x, i, s: L.scatter_add(x, 1, i, s), [X, COLS, X[:, :, :3]], (0, 0, 0)),
    ("scatter_add_shared_src", lambda L, x, i, s: x.scatter_add(1, i, s), [X, COLS, X1[:, :3]], (0, 0, None)),
    ("scatter_add_inplace", lambda L, x, i, s: (x * 1).scatter_add_(1, i, s), [X, COLS, X[:, :, :3]],
     (0, 0, 0)),
    ("scatter_reduce_amax", lambda L, x, i, s: L.scatter_reduce(x, 1, i, s, "amax"), [X, COLS, X[:, :, :3]],
     (0, 0, 0)),
    ("scatter_reduce_mean_no_self", lambda L, x, i, s: x.scatter_reduce(1, i, s, "mean", include_self=False),
     [X, COLS, X[:, :, :3] * 2], (0, 0, 0)),
    ("scatter_reduce_inplace", lambda L, x, i, s: (x * 1).scatter_reduce_(1, i, s, "sum"),
     [X, COLS, X[:, :, :3]], (0, 0, 0)),
    ("take", lambda L, x, i: L.take(x, i), [X, FLAT], (0, 0)),
    ("take_shared_x", lambda L, x, i: x.take(i), [X1, FLAT], (None, 0)),
    ("take_along_dim", lambda L, x, i: L.take_along_dim(x, i, 1), [X, COLS], (0, 0)),
    ("take_along_dim_broadcast", lambda L, x, i: L.take_along_dim(x, i, dim=1), [X, COLS[:, :1]], (0, 0)),
    ("take_along_dim_flat", lambda L, x, i: x.take_along_dim(i), [X, np.abs(FLAT) % 20], (0, 0)),
    ("take_along_dim_shared_x", lambda L, x, i: L.take_along_dim(x, i, -1), [X1, COLS], (None, 0)),
    ("getitem", lambda L, x, i: x[i], [X, ROWS], (0, 0)),
    ("getitem_shared_x", lambda L, x, i: x[i], [X1, ROWS], (None, 0)),
    ("getitem_second_dim", lambda L, x, i: x[:, i], [X, COLS[:, 0]], (0, 0)),
    ("getitem_pair", lambda L, x, i, j: x[i, j], [X, PAIRS[0], PAIRS[1]], (0, 0, 0)),
    ("getitem_pair_shared_one", lambda L, x, i, j: x[i, j], [X, PAIRS[0][0], PAIRS[1]], (0, None, 0)),
    ("getitem_int_then_tensor", lambda L, x, i: x[1, i], [X, COLS[:, 0]], (0, 0)),
    ("getitem_separated", lambda L, x, i, j: x[i, :, j][..., None],
     [rng.standard_normal((B, 4, 2, 5)), ROWS, PAIRS[1][:, :2]], (0, 0, 0)),
    ("getitem_none_ellipsis", lambda L, x, i: x[None, ..., i], [X, COLS[:, :2, :2]], (0, 0)),
    ("getitem_shared_separated", lambda L, x, i, j: x[i, :, j], [rng.standard_normal((B, 4, 2, 5)),
                                                                 ROWS[0], PAIRS[1][0, :2]], (0, None, None)),
    ("setitem", lambda L, x, i, v: _set(x * 1, (i,), v), [X, np.array([[3, 0], [1, 2], [2, 0]]), SRC],
     (0, 0, 0)),
    ("setitem_scalar", lambda L, x, i: _set(x * 1, (i,), 0.5), [X, ROWS], (0, 0)),
    ("setitem_pair_shared_value", lambda L, x, i, j, v: _set(x * 1, (i, j), v),
     [X, np.array([[0, 1, 2], [3, 2, 1], [0, 0, 1]]), PAIRS[1], rng.standard_normal(3)], (0, 0, 0, None)),
]


# torch.func.vmap's own rule gets these wrong (the loop is the reference):
# index_select with a 0-d index per sample returns the whole dim
TORCH_WRONG = {"index_select_scalar"}


def _set(x, index, value):
    x[index] = value
    return x


@pytest.mark.parametrize("name,f,arrays,in_dims", CASES, ids=[c[0] for c in CASES])
def test_batched_index(name, f, arrays, in_dims):
    check_vmap(f, arrays, in_dims, against_torch=name not in TORCH_WRONG)


@pytest.mark.parametrize("name,f,arrays,in_dims", [c for c in CASES if not c[0].startswith("setitem")],
                         ids=[c[0] for c in CASES if not c[0].startswith("setitem")])
def test_batched_index_in_dim_1(name, f, arrays, in_dims):
    """The same calls with the batch on dim 1 of every mapped input (a
    strided physical layout)."""
    moved = [np.moveaxis(a, 0, 1) if d == 0 and a.ndim > 1 else a for a, d in zip(arrays, in_dims)]
    dims = tuple(1 if d == 0 and a.ndim > 1 else d for a, d in zip(arrays, in_dims))
    check_vmap(f, moved, dims, against_torch=name not in TORCH_WRONG)


def test_nested_vmap_of_batched_index():
    """The inner vmap maps the index, the outer one the tensor."""
    x = rng.standard_normal((2, 4, 5))
    index = rng.integers(0, 4, (3, 2))

    def inner(lib):
        return lambda x, i: lib.func.vmap(lambda i: x.index_select(0, i).sum(0) + x[i].mean())(i)
    out = run_quiet(cgrad.func.vmap(inner(cgrad), in_dims=(0, None)), cgrad.tensor(x), cgrad.tensor(index))
    expected = np.stack([[x[a][index[b]].sum(0) + x[a][index[b]].mean() for b in range(3)] for a in range(2)])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_out_of_range_index_raises_the_ops_error():
    x, index = cgrad.tensor(X), cgrad.tensor(np.array([[0, 1], [4, 0], [1, 1]]))
    for f in (lambda x, i: x.index_select(0, i), lambda x, i: x.index_add(0, i, x[:2]),
              lambda x, i: x.index_fill(0, i, 1.0), lambda x, i: x[i]):
        with pytest.raises((IndexError, RuntimeError)) as caught:
            cgrad.func.vmap(f)(x, index)
        with pytest.raises((IndexError, RuntimeError)) as expected:
            f(x[1], index[1])
        assert type(caught.value) is type(expected.value) and str(caught.value) == str(expected.value)


INPLACE_REFUSED = [
    ("index_add_", lambda L, x, i: x.index_add_(0, i, L.ones(2, 5, dtype=L.float64))),
    ("index_copy_", lambda L, x, i: x.index_copy_(0, i, L.ones(2, 5, dtype=L.float64))),
    ("index_fill_", lambda L, x, i: x.index_fill_(0, i, 1.0)),
    ("index_put_", lambda L, x, i: x.index_put_((i,), L.tensor(1.0, dtype=L.float64))),
    ("scatter_", lambda L, x, i: x.scatter_(0, i.unsqueeze(0), L.ones(1, 2, dtype=L.float64))),
    ("scatter_add_", lambda L, x, i: x.scatter_add_(0, i.unsqueeze(0), L.ones(1, 2, dtype=L.float64))),
    ("scatter_reduce_", lambda L, x, i: x.scatter_reduce_(0, i.unsqueeze(0), L.ones(1, 2, dtype=L.float64),
                                                          "sum")),
    ("setitem_index", lambda L, x, i: x.__setitem__(i, 1.0)),
    ("setitem_value", lambda L, x, i: x.__setitem__(0, i.double().sum() * L.ones(5, dtype=L.float64))),
]


@requires_torch
@pytest.mark.parametrize("name,f", INPLACE_REFUSED, ids=[c[0] for c in INPLACE_REFUSED])
def test_inplace_on_unbatched_self_refused_like_torch(name, f):
    index = np.array([[0, 1], [1, 2], [3, 3]])
    with pytest.raises(RuntimeError) as expected:
        with pytest.warns(UserWarning) if name == "scatter_" else _nothing():
            torch.func.vmap(lambda i: f(torch, torch.zeros(4, 5, dtype=torch.float64), i))(torch.tensor(index))
    with pytest.raises(RuntimeError) as caught:
        cgrad.func.vmap(lambda i: f(cgrad, cgrad.zeros(4, 5, dtype=cgrad.float64), i))(cgrad.tensor(index))
    assert str(caught.value) == str(expected.value)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# --- convolutions with a weight or a bias per sample ------------------------------------------

def _conv_case(kind, dims, groups, batched_input, with_batch_n):
    spatial = {1: (7,), 2: (5, 6), 3: (4, 3, 5)}[dims]
    cin, cout = 4, 6
    x_shape = ((2,) if with_batch_n else ()) + (cin,) + spatial
    x = rng.standard_normal(((B,) if batched_input else ()) + x_shape)
    if kind == "conv":
        w = rng.standard_normal((B, cout, cin // groups) + (2,) * dims)
    else:
        w = rng.standard_normal((B, cin, cout // groups) + (2,) * dims)
    b = rng.standard_normal((B, cout))
    name = ("conv" if kind == "conv" else "conv_transpose") + f"{dims}d"
    extra = {"groups": groups, "stride": 2 if kind == "transpose" else 1, "padding": 1}
    if kind == "transpose" and dims == 2:
        extra["output_padding"] = 1
    return name, x, w, b, extra


CONVS = [(kind, dims, groups, batched_input, with_n)
         for kind in ("conv", "transpose") for dims in (1, 2, 3) for groups in (1, 2)
         for batched_input, with_n in ((True, False), (False, True), (True, True))
         if not (dims == 3 and groups == 2 and with_n and not batched_input)]


@pytest.mark.parametrize("kind,dims,groups,batched_input,with_n", CONVS)
def test_conv_weight_per_sample(kind, dims, groups, batched_input, with_n):
    name, x, w, b, extra = _conv_case(kind, dims, groups, batched_input, with_n)

    def f(L, x, w, b):
        return getattr(L.nn.functional, name)(x, w, b, **extra)
    check_vmap(f, [x, w, b], (0 if batched_input else None, 0, 0), atol=1e-9)
    check_vmap(lambda L, x, w: getattr(L.nn.functional, name)(x, w, **extra), [x, w],
               (0 if batched_input else None, 0), atol=1e-9)


@pytest.mark.parametrize("name,dims", [("conv2d", 2), ("conv_transpose1d", 1), ("conv3d", 3)])
def test_conv_bias_per_sample_shared_weight(name, dims):
    x = rng.standard_normal((B, 2, 4) + (5,) * dims)
    w = rng.standard_normal((4, 6) + (2,) * dims) if "transpose" in name else rng.standard_normal(
        (6, 4) + (2,) * dims)
    b = rng.standard_normal((B, 6))
    f = lambda L, x, w, b: getattr(L.nn.functional, name)(x, w, b)  # noqa: E731
    check_vmap(f, [x, w, b], (0, None, 0), atol=1e-9)
    check_vmap(f, [x[0], w, b], (None, None, 0), atol=1e-9)


def test_conv_weight_per_sample_bad_shape_raises_the_ops_error():
    x, w = cgrad.randn(B, 3, 8, dtype=cgrad.float64), cgrad.randn(B, 6, 2, 3, dtype=cgrad.float64)
    with pytest.raises(RuntimeError) as caught:
        cgrad.func.vmap(cgrad.nn.functional.conv1d)(x, w)
    with pytest.raises(RuntimeError) as expected:
        cgrad.nn.functional.conv1d(x[0], w[0])
    assert re.sub(r"\d+", "N", str(caught.value)) == re.sub(r"\d+", "N", str(expected.value))


MASK_REFUSED = [
    ("getitem", lambda L, x, m: x[m]),
    ("setitem", lambda L, x, m: _set(x * 1, (m,), 0.0)),
    ("index_put", lambda L, x, m: x.index_put((m,), L.tensor(0.0, dtype=L.float64))),
    ("getitem_shared_x", lambda L, x, m: x[m]),
]


@pytest.mark.parametrize("name,f", MASK_REFUSED, ids=[c[0] for c in MASK_REFUSED])
def test_batched_bool_mask_refused_like_torch(name, f):
    mask = X > 0
    x, in_dims = (X1, (None, 0)) if name.endswith("shared_x") else (X, (0, 0))
    with pytest.raises(RuntimeError) as caught:
        cgrad.func.vmap(lambda x, m: f(cgrad, x, m), in_dims=in_dims)(cgrad.tensor(x), cgrad.tensor(mask))
    assert "Attempting to batch over indexing with a boolean mask." in str(caught.value)
    if torch is not None:
        with pytest.raises(RuntimeError) as expected:
            torch.func.vmap(lambda x, m: f(torch, x, m), in_dims=in_dims)(torch.tensor(x), torch.tensor(mask))
        assert str(caught.value) == str(expected.value)


CLASS_CASES = [
    ("one_hot", lambda L, x, i: L.nn.functional.one_hot(i, 5).double() * x[:1, :1], [X, COLS[:, :, 0]], (0, 0)),
    ("bucketize", lambda L, x, b: L.bucketize(x, b) * x, [X, np.array([-1.0, 0.0, 0.5, 2.0])], (0, None)),
    ("bucketize_right", lambda L, x, b: L.bucketize(x, b, right=True).double() + x,
     [X, np.array([-1.0, 0.0, 0.5, 2.0])], (0, None)),
]


@pytest.mark.parametrize("name,f,arrays,in_dims", CLASS_CASES, ids=[c[0] for c in CLASS_CASES])
def test_class_and_bucket_ops(name, f, arrays, in_dims):
    check_vmap(f, arrays, in_dims, grad=False)
    # (torch.func's vmap(grad) of one_hot reads a value: the loop is the reference)
    check_vmap(f, arrays, in_dims, against_torch=name != "one_hot")


def test_one_hot_without_num_classes_refused_like_torch():
    with pytest.raises(RuntimeError) as caught:
        cgrad.func.vmap(lambda i: cgrad.nn.functional.one_hot(i))(cgrad.tensor(COLS[:, :, 0]))
    assert str(caught.value) == ("When vmap-ing torch.nn.functional.one_hot, please provide an explicit positive "
                                 "num_classes argument.")


@pytest.mark.parametrize("name", ["multi_margin_loss", "multilabel_margin_loss"])
def test_margin_losses_run_per_sample_as_torch(name):
    """PyTorch has no batching rule for these either: both warn and loop."""
    target = COLS[:, :, 0] if name == "multi_margin_loss" else np.where(
        rng.random((B, 4, 5)) > 0.5, rng.integers(0, 5, (B, 4, 5)), -1)

    def f(lib):
        return lambda x, t: getattr(lib.nn.functional, name)(x, t)
    with pytest.warns(UserWarning, match=f"aten::{name}"):
        out = cgrad.func.vmap(f(cgrad))(cgrad.tensor(X), cgrad.tensor(target))
    expected = np.stack([f(cgrad)(cgrad.tensor(X[k]), cgrad.tensor(target[k])).numpy() for k in range(B)])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    if torch is not None:
        with pytest.warns(UserWarning, match=f"aten::{name}"):
            theirs = torch.func.vmap(f(torch))(torch.tensor(X), torch.tensor(target))
        np.testing.assert_allclose(out.numpy(), theirs.numpy(), rtol=1e-10)
