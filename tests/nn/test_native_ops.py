"""ATen's native_* ops and the other torch-level functions of
cgrad/_native_ops.py against torch: tuple outputs and their shapes, dtypes
and grad_fn names, gradients (float64 gradcheck), masks from the same
seed, error texts."""
import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, rand, positive, requires_torch, check_gradients, torch
from nn_compare import assert_same_errors


def test_native_layer_norm():
    compare_with_torch(lambda L, x, w, b: L.native_layer_norm(x, [4], w, b, 1e-5),
                       rand(2, 3, 4, seed=1), rand(4, seed=2), rand(4, seed=3))
    compare_with_torch(lambda L, x: L.native_layer_norm(x, [3, 4], None, None, 1e-5), rand(2, 3, 4, seed=1))


def test_native_batch_norm_training_and_eval():
    x = rand(4, 3, 5, seed=4)
    compare_with_torch(lambda L, x, w, b: L.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5),
                       x, rand(3, seed=5), rand(3, seed=6))
    compare_with_torch(lambda L, x: L.native_batch_norm(x, None, None, L.zeros(3), L.ones(3), False, 0.1, 1e-5), x)
    mean, var = cgrad.zeros(3), cgrad.ones(3)
    cgrad.native_batch_norm(cgrad.tensor(x), None, None, mean, var, True, 0.1, 1e-5)
    np.testing.assert_allclose(mean.numpy(), 0.1 * x.mean((0, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var.numpy(), 0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-5, atol=1e-6)


def test_native_group_norm_statistics_are_differentiable():
    compare_with_torch(lambda L, x, w, b: L.native_group_norm(x, w, b, 2, 6, 5, 3, 1e-5),
                       rand(2, 6, 5, seed=7), rand(6, seed=8), rand(6, seed=9))
    check_gradients(lambda L, x: L.native_group_norm(x, None, None, 2, 4, 3, 2, 1e-5)[2], rand(2, 4, 3, seed=10))


@requires_torch
def test_native_group_norm_numel_error():
    msg = ("Expected X.numel() == N * C * HxW to be true, but got false.  (Could this error message be improved?  "
           "If so, please report an enhancement request to PyTorch.)")
    with pytest.raises(RuntimeError) as expected:
        torch.native_group_norm(torch.randn(2, 6, 5), None, None, 2, 6, 4, 3, 1e-5)
    assert str(expected.value) == msg
    with pytest.raises(RuntimeError) as got:
        cgrad.native_group_norm(cgrad.randn(2, 6, 5), None, None, 2, 6, 4, 3, 1e-5)
    assert str(got.value) == msg


@pytest.mark.parametrize("p, train", [(0.3, True), (0.5, None), (0.3, False), (1.0, True), (0.0, True)])
def test_native_dropout_same_mask_as_torch_from_same_seed(p, train):
    def run(L, x):
        L.manual_seed(3)
        return L.native_dropout(x, p, train)
    # train=None: PyTorch's forward scales the kept values by 1/(1-p) but its
    # backward by 1 (the mask alone), so finite differences disagree with
    # PyTorch's gradient by design; with torch, values and gradients are
    # compared with its own, and test_native_dropout_train_none_gradient
    # checks the gradient's values without it.
    compare_with_torch(run, rand(3, 4, seed=11), gradcheck=train is not None)


def test_native_dropout_train_none_gradient():
    x = cgrad.ones(40, 10, dtype=cgrad.float64, requires_grad=True)
    out, mask = cgrad.native_dropout(x, 0.5, None)
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), 2.0 * mask.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), mask.numpy().astype(np.float64))


def test_native_dropout_mask_and_scale_without_torch():
    x = cgrad.ones(200, 10)
    out, mask = cgrad.native_dropout(x, 0.25, True)
    assert mask.dtype == cgrad.bool and out.grad_fn is None
    np.testing.assert_allclose(out.numpy(), mask.numpy() / 0.75)
    assert 0.65 < mask.float().mean().item() < 0.85


@pytest.mark.parametrize("pow, dim", [(2, 0), (2, 1), (3, -1), (2, 2), (1, -2)])
def test_norm_except_dim(pow, dim):
    compare_with_torch(lambda L, v: L.norm_except_dim(v, pow, dim), rand(2, 3, 4, seed=12))


def test_norm_except_dim_pow_is_an_int():
    message = "norm_except_dim(): argument 'pow' (position 2) must be int, not float"
    if torch is not None:
        with pytest.raises(TypeError) as expected:
            torch.norm_except_dim(torch.ones(2, 3), 1.5, 0)
        assert str(expected.value) == message
    with pytest.raises(TypeError) as got:
        cgrad.norm_except_dim(cgrad.ones(2, 3), 1.5, 0)
    assert str(got.value) == message


def test_inplace_dropouts_from_same_seed():
    for name in ("feature_dropout_", "alpha_dropout_", "feature_alpha_dropout_"):
        def run(L, x):
            L.manual_seed(5)
            return getattr(L, name)(x * 1, 0.4, True)
        compare_with_torch(run, rand(3, 4, 2, seed=13))
        compare_with_torch(lambda L, x: getattr(L, name)(x * 1, 0.4, False), rand(3, 4, 2, seed=13))


@requires_torch
def test_inplace_dropout_errors_match_torch():
    assert_same_errors([lambda L: L.alpha_dropout_(L.ones(2, 3), 1.5, True),
                        lambda L: L.feature_dropout_(L.ones(3), 0.5, True),
                        lambda L: L.feature_alpha_dropout_(L.ones(3), 0.5, True)], torch, cgrad)


def test_embedding_renorm_():
    w = rand(5, 3, seed=14) * 3
    c = cgrad.tensor(w)
    assert cgrad.embedding_renorm_(c, cgrad.tensor([0, 2]), 1.0, 2.0) is c
    norms = np.linalg.norm(c.numpy(), axis=1)
    assert norms[0] <= 1.0 + 1e-6 and norms[2] <= 1.0 + 1e-6
    np.testing.assert_array_equal(c.numpy()[[1, 3, 4]], w[[1, 3, 4]])
    if torch is not None:
        t = torch.tensor(w)
        torch.embedding_renorm_(t, torch.tensor([0, 2]), 1.0, 2.0)
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6)


def test_binomial():
    cgrad.manual_seed(0)
    count, prob = cgrad.full((4000,), 10.0), cgrad.full((4000,), 0.3)
    draws = cgrad.binomial(count, prob)
    assert draws.dtype == cgrad.float32 and draws.shape == (4000,)
    values = draws.numpy()
    assert values.min() >= 0 and values.max() <= 10 and np.all(values == np.round(values))
    assert abs(values.mean() - 3.0) < 0.15
    g = cgrad.Generator().manual_seed(1)
    first = cgrad.binomial(count, prob, generator=g)
    g.manual_seed(1)
    assert cgrad.equal(first, cgrad.binomial(count, prob, generator=g))
    assert cgrad.binomial(count.requires_grad_(), prob).grad_fn.name() == "NotImplemented"


@requires_torch
def test_binomial_errors_match_torch():
    assert_same_errors([lambda L: L.binomial(L.tensor([5, 3]), L.tensor([0.5, 0.1])),
                        lambda L: L.binomial(L.tensor([5.0, 3.0]), L.tensor([0.5, 0.1], dtype=L.float64))],
                       torch, cgrad)


def test_put():
    compare_with_torch(lambda L, x, s: L.put(x, L.tensor([0, 5, 7]), s), rand(2, 4, seed=15), rand(3, seed=16))
    compare_with_torch(lambda L, x, s: L.put(x, L.tensor([0, 0, 7]), s, True), rand(2, 4, seed=15), rand(3, seed=16))


def test_resize_as_and_empty_permuted():
    c = cgrad.zeros(2, 3)
    assert cgrad.resize_as_(c, cgrad.ones(4, 5)) is c and c.shape == (4, 5)
    e = cgrad.empty_permuted((2, 3, 4), (0, 2, 1))
    assert e.shape == (2, 3, 4) and e.stride() == (12, 1, 3)
    e = cgrad.empty_permuted((2, 3, 4), (2, 0, 1), dtype=cgrad.float64, requires_grad=True)
    assert e.stride() == (3, 1, 6) and e.dtype == cgrad.float64 and e.requires_grad
    if torch is not None:
        for size, layout in [((2, 3, 4), (1, 2, 0)), ((5,), (0,)), ((2, 1, 3, 2), (3, 1, 0, 2))]:
            assert cgrad.empty_permuted(size, layout).stride() == torch.empty_permuted(size, layout).stride()
        with pytest.raises(RuntimeError, match="Duplicate dim not allowed"):
            torch.empty_permuted((2, 3), (0, 0))
    with pytest.raises(RuntimeError, match="Duplicate dim not allowed"):
        cgrad.empty_permuted((2, 3), (0, 0))


def test_nonzero_static():
    x = np.array([[1, 0], [0, 3]])
    for size, fill in [(3, -1), (1, 7), (2, -1), (0, -1)]:
        got = cgrad.nonzero_static(cgrad.tensor(x), size=size, fill_value=fill)
        expected = np.concatenate([np.argwhere(x), np.full((4, 2), fill)])[:size]
        np.testing.assert_array_equal(got.numpy(), expected)
        assert got.dtype == cgrad.int64 and got.shape == (size, 2)
    with pytest.raises(RuntimeError, match="'size' must be an non-negative integer"):
        cgrad.nonzero_static(cgrad.tensor(x), size=-1)


@pytest.mark.parametrize("case", range(5))
def test_histogramdd(case):
    points = rand(20, 2, seed=17)
    calls = [lambda L, x: L.histogramdd(x, bins=[3, 4]),
             lambda L, x: L.histogramdd(x, 3, range=[0.0, 1.0, 0.0, 2.0]),
             lambda L, x: L.histogramdd(x, bins=[2, 2], weight=L.arange(20.0), density=True),
             lambda L, x: L.histogramdd(x, bins=[L.tensor([-2.0, 0.0, 3.0]), L.tensor([-1.0, 0.0, 1.0, 2.0])]),
             lambda L, x: L.histogramdd(L.ones(4, 2), bins=2)]
    c = calls[case](cgrad, cgrad.tensor(points))
    assert type(c).__name__ == "histogramdd" and isinstance(c.bin_edges, tuple)
    assert c.hist.shape == tuple(len(e) - 1 for e in c.bin_edges)
    if torch is not None:
        t = calls[case](torch, torch.tensor(points))
        np.testing.assert_allclose(c.hist.numpy(), t.hist.numpy(), rtol=1e-6)
        for ce, te in zip(c.bin_edges, t.bin_edges):
            np.testing.assert_allclose(ce.numpy(), te.numpy(), rtol=1e-6)
        assert c.hist.dtype == cgrad.float32


@requires_torch
def test_histogramdd_bins_error_matches_torch():
    assert_same_errors([lambda L: L.histogramdd(L.rand(10, 2), bins=[3])], torch, cgrad)


def test_gradcheck_float64():
    check_gradients(lambda L, x, w: L.native_layer_norm(x, [3], w, None, 1e-5)[0], rand(2, 3, seed=18),
                    positive(3, seed=19))
    check_gradients(lambda L, v: L.norm_except_dim(v, 2, 1), rand(2, 3, 2, seed=20))


def test_batch_norm_update_stats():
    x = rand(4, 3, 5, seed=21)
    outs = {}
    for L in ([cgrad, torch] if torch is not None else [cgrad]):
        mean, var = L.zeros(3), L.ones(3)
        t = L.tensor(x, requires_grad=True)
        outs[L.__name__] = L.batch_norm_update_stats(t, mean, var, 0.1) + (mean, var)
        assert type(outs[L.__name__][0].grad_fn).__name__ == "NotImplemented"
    np.testing.assert_allclose(outs["cgrad"][0].detach().numpy(), x.mean((0, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs["cgrad"][1].detach().numpy(), x.var((0, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs["cgrad"][3].numpy(), 0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-5)
    if torch is not None:
        for c, t in zip(outs["cgrad"], outs["torch"]):
            np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert cgrad.batch_norm_update_stats(cgrad.tensor(x), None, None, 0.1)[0].shape == (3,)


def test_native_channel_shuffle():
    compare_with_torch(lambda L, x: L.native_channel_shuffle(x, 2), rand(2, 6, 3, seed=22), requires_grad=False)
    out = cgrad.native_channel_shuffle(cgrad.arange(6.0).reshape(1, 6, 1).requires_grad_(), 3)
    assert out.flatten().tolist() == [0.0, 2.0, 4.0, 1.0, 3.0, 5.0] and out.grad_fn.name() == "NotImplemented"
