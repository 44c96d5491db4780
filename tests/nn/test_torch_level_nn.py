"""torch-level nn ops with ATen's signatures (cgrad/_torch_level_nn.py):
losses with an integer reduction, torch.embedding_bag's four outputs,
torch.convolution, torch.grid_sampler_2d/3d, against torch and float64
gradcheck."""
import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, rand, positive, requires_torch, check_gradients, torch
from nn_compare import assert_same_errors

SIGNS = np.array([1.0, -1.0, 1.0, -1.0], np.float32)


@pytest.mark.parametrize("reduction", [0, 1, 2, 5])
def test_losses_with_integer_reduction(reduction):
    a, b, c = rand(4, 3, seed=1), positive(4, 3, seed=2), rand(4, 3, seed=3)
    r = reduction
    compare_with_torch(lambda L, x, t: L.kl_div(x, t, r), a, b)
    compare_with_torch(lambda L, x, t: L.kl_div(x, t, r, log_target=True), a, c)
    compare_with_torch(lambda L, x, t: L.binary_cross_entropy_with_logits(x, t / 2, None, None, r), a, b)
    compare_with_torch(lambda L, x, t, w, pw: L.binary_cross_entropy_with_logits(x, t / 2, w.detach(), pw.detach(), r),
                       a, b, positive(3, seed=4), positive(3, seed=5))
    compare_with_torch(lambda L, x, y, t: L.cosine_embedding_loss(x, y, t, 0.1, r), a, c, SIGNS.copy(),
                       requires_grad=True)
    compare_with_torch(lambda L, x, t: L.hinge_embedding_loss(x, t.sign(), 1.0, r), a, c)
    compare_with_torch(lambda L, x, y, t: L.margin_ranking_loss(x, y, t.sign(), 0.2, r), a, c, rand(4, 3, seed=6))
    compare_with_torch(lambda L, x, t: L.poisson_nll_loss(x, t, True, False, 1e-8, r), a, b)
    compare_with_torch(lambda L, x, t: L.poisson_nll_loss(x.abs() + 0.1, t, False, True, 1e-8, r), a, b)
    compare_with_torch(lambda L, x, y, z: L.triplet_margin_loss(x, y, z, 1.0, 2.0, 1e-6, False, r), a, b, c)
    compare_with_torch(lambda L, x, y, z: L.triplet_margin_loss(x, y, z, 0.5, 1.0, 1e-6, True, r), a, b, c)


def test_losses_default_reduction_is_none_as_torch_binding():
    a, b = cgrad.tensor(rand(4, 3, seed=1)), cgrad.tensor(positive(4, 3, seed=2))
    assert cgrad.kl_div(a, b).shape == (4, 3)
    assert cgrad.margin_ranking_loss(a, b, b).shape == (4, 3)
    assert cgrad.triplet_margin_loss(a, b, b).shape == (4,)
    # ATen checks no margin sign (F.triplet_margin_loss does): a margin of 0 is a loss, not an error
    assert cgrad.triplet_margin_loss(a, b, a, 0.0, 2.0, 1e-6, False, 1).item() >= 0


@requires_torch
def test_loss_argument_errors_match_torch():
    a, b = rand(4, 3, seed=1), positive(4, 3, seed=2)
    assert_same_errors([
        lambda L: L.kl_div(L.tensor(a), L.tensor(b), "mean"),
        lambda L: L.kl_div(L.tensor(a), L.tensor(b), True),
        lambda L: L.kl_div(L.tensor(a), L.tensor(b), 1.0),
        lambda L: L.triplet_margin_loss(L.tensor(a), L.tensor(b), L.tensor(b[0]), 1.0, 2.0, 1e-6, False, 1),
        lambda L: L.cosine_embedding_loss(L.tensor(a), L.tensor(b), L.tensor(b), 0.0, 1),
    ], torch, cgrad)


def _bag_inputs():
    return (rand(6, 3, seed=7), np.array([0, 1, 2, 4, 5, 1]), np.array([0, 2, 2, 5]))


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("include_last_offset", [False, True])
@pytest.mark.parametrize("weight_dtype", [np.float32, np.float64])
def test_embedding_bag_outputs(mode, include_last_offset, weight_dtype):
    w, i, o = _bag_inputs()
    if include_last_offset:
        # the offsets' last entry closes the last bag (where it falls short of the end PyTorch's CPU kernel
        # still runs the last bag to the end of the indices; cgrad's F.embedding_bag stops at the offset)
        o = np.array([0, 2, 2, 6])
    compare_with_torch(lambda L, w, i, o: L.embedding_bag(w, i, o, False, mode, False, None, include_last_offset),
                       w.astype(weight_dtype), i, o, reference=None)


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_embedding_bag_padding_idx_and_ties(mode):
    # without torch: first-order gradcheck only (finite differences cannot
    # follow max's ties, and embedding_bag's backward is not differentiable in
    # PyTorch either: test_embedding_bag_gradient_graph)
    ties = np.array([[1.0, 5.0], [1.0, 5.0], [0.0, 9.0]], np.float32)
    compare_with_torch(lambda L, w, i, o: L.embedding_bag(w, i, o, False, mode, False, None, False, 1),
                       ties, np.array([1, 0, 2, 1]), np.array([0, 2, 3]), gradcheck=mode != 2, gradgradcheck=False)
    compare_with_torch(lambda L, w, i, o: L.embedding_bag(w, i, o, False, mode, False, None, False, None),
                       ties, np.array([1, 0, 2, 1]), np.array([0, 2, 3, 4]), gradcheck=mode != 2,
                       gradgradcheck=False)


def bag_gradient_graph(L, mode, grad_requires_grad, with_weights):
    """The graphs of embedding_bag's gradients made with create_graph: per
    gradient its grad_fn's type name and edges (the leaf each reaches), and
    the exception backward through it raises."""
    w = L.tensor([[1.0, 5.0], [2.0, 3.0], [0.0, 9.0]], dtype=L.float64, requires_grad=True)
    p = L.tensor([0.5, -1.0, 2.0, 1.5], dtype=L.float64, requires_grad=True) if with_weights else None
    out = L.embedding_bag(w, L.tensor([1, 0, 2, 1]), L.tensor([0, 2, 3]), False, mode, False, p)[0]
    go = L.ones_like(out, requires_grad=grad_requires_grad)
    names = {id(w): "weight", id(go): "grad", id(p): "per_sample_weights"}
    graphs = []
    for g in L.autograd.grad(out, [w] + ([p] if with_weights else []), go, create_graph=True):
        fn = g.grad_fn
        if fn is None:
            graphs.append((None, g.requires_grad))
            continue
        edges = [None if e is None else names[id(e.variable)] for e, _ in fn.next_functions]
        with pytest.raises(Exception) as err:
            g.sum().backward()
        graphs.append((type(fn).__name__, edges, type(err.value).__name__, str(err.value)))
    return graphs


BAG_WEIGHT_GRAPH = ("EmbeddingBagBackwardBackward0", ["grad", None], "NotImplementedError",
                    "the derivative for '_embedding_bag_backward' is not implemented.")
PSW_ERROR = ("RuntimeError", "derivative for aten::_embedding_bag_per_sample_weights_backward is not implemented")


@pytest.mark.parametrize("case,expected", [
    ((0, True, False), [BAG_WEIGHT_GRAPH]),
    ((1, True, False), [BAG_WEIGHT_GRAPH]),
    ((2, True, False), [BAG_WEIGHT_GRAPH]),
    ((0, False, False), [(None, False)]),
    ((2, False, False), [(None, False)]),
    ((0, True, True), [(BAG_WEIGHT_GRAPH[0], ["grad", "per_sample_weights"]) + BAG_WEIGHT_GRAPH[2:],
                       ("NotImplemented", ["grad", "weight"]) + PSW_ERROR]),
    ((0, False, True), [(BAG_WEIGHT_GRAPH[0], [None, "per_sample_weights"]) + BAG_WEIGHT_GRAPH[2:],
                        ("NotImplemented", ["weight"]) + PSW_ERROR]),
])
def test_embedding_bag_gradient_graph(case, expected):
    """embedding_bag's backward is not differentiable in PyTorch either: with
    create_graph its gradients get nodes that raise when reached."""
    assert bag_gradient_graph(cgrad, *case) == expected
    if torch is not None:
        assert bag_gradient_graph(torch, *case) == expected


def test_embedding_bag_per_sample_weights():
    w, i, o = _bag_inputs()
    compare_with_torch(lambda L, w, i, o, p: L.embedding_bag(w, i, o, False, 0, False, p, False), w, i, o,
                       positive(6, seed=8))


@requires_torch
def test_embedding_bag_mode_error_matches_torch():
    assert_same_errors([lambda L: L.embedding_bag(L.ones(5, 3), L.tensor([0, 1]), L.tensor([0]), False, 3)],
                       torch, cgrad)


def test_embedding_bag_hand_computed():
    w = cgrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]])
    out, offset2bag, bag_size, max_indices = cgrad.embedding_bag(w, cgrad.tensor([0, 1, 2]), cgrad.tensor([0, 2]),
                                                                False, 2)
    assert out.tolist() == [[3.0, 4.0], [5.0, 0.0]]
    assert offset2bag.tolist() == [0, 0, 1]
    assert bag_size.tolist() == [2, 1]
    assert max_indices.tolist() == [[1, 1], [2, 2]]


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_convolution(transposed, spatial):
    x = rand(2, 4, *([5] * spatial), seed=9)
    w = rand(4, 2, *([3] * spatial), seed=10)
    bias = rand(4 if not transposed else 4, seed=11)
    ones = [1] * spatial
    compare_with_torch(lambda L, x, w, b: L.convolution(x, w, b, [2] * spatial, ones, ones, transposed,
                                                        ones if transposed else [0] * spatial, 2),
                       x, w, bias, rtol=1e-4, atol=1e-5)
    # a one-element list stands for every spatial dim, as in PyTorch
    compare_with_torch(lambda L, x, w: L.convolution(x, w, None, [1], [0], [1], transposed, [0], 2), x, w,
                       rtol=1e-4, atol=1e-5)


@requires_torch
def test_convolution_errors_match_torch():
    x, w = rand(3, 5, 5, seed=1), rand(4, 3, 3, 3, seed=2)
    assert_same_errors([
        lambda L: L.convolution(L.tensor(x), L.tensor(w), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
        lambda L: L.convolution(L.tensor(x[None]), L.tensor(w), None, 2, [0, 0], [1, 1], False, [0, 0], 1),
    ], torch, cgrad)


@pytest.mark.parametrize("interpolation", [0, 1, 2])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_grid_sampler_2d(interpolation, padding):
    compare_with_torch(lambda L, x, g: L.grid_sampler_2d(x, g, interpolation, padding, False),
                       rand(2, 3, 5, 4, seed=12), rand(2, 3, 3, 2, seed=13, low=-1.2, high=1.2),
                       rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("interpolation", [0, 1])
def test_grid_sampler_3d(interpolation):
    compare_with_torch(lambda L, x, g: L.grid_sampler_3d(x, g, interpolation, 0, True),
                       rand(1, 2, 3, 4, 3, seed=14), rand(1, 2, 2, 3, 3, seed=15, low=-1.1, high=1.1),
                       rtol=1e-4, atol=1e-5)


@requires_torch
def test_grid_sampler_dims_errors_match_torch():
    x, g = rand(1, 3, 5, 5, seed=1), rand(1, 2, 2, 2, seed=2)
    assert_same_errors([lambda L: L.grid_sampler_3d(L.tensor(x), L.tensor(g), 0, 0, False),
                        lambda L: L.grid_sampler_2d(L.tensor(x[0]), L.tensor(g), 0, 0, False)], torch, cgrad)


def test_gradcheck_float64():
    check_gradients(lambda L, x, t: L.kl_div(x, t, 1), rand(3, 2, seed=1), positive(3, 2, seed=2))
    check_gradients(lambda L, x, y, z: L.triplet_margin_loss(x, y, z, 1.0, 2.0, 1e-6, True, 2),
                    rand(3, 2, seed=3), rand(3, 2, seed=4), rand(3, 2, seed=5))
    check_gradients(lambda L, x, w: L.convolution(x, w, None, [1], [1], [1], True, [0], 1),
                    rand(1, 2, 4, seed=6), rand(2, 2, 3, seed=7))
