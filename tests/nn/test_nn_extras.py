"""lp_pool, max_unpool, local_response_norm, pdist, the margin losses,
feature_alpha_dropout, dropout3d, their modules and nn.Buffer, against
torch: values, gradients, grad_fn names, error texts and module reprs;
float64 gradcheck without torch."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch
from nn_compare import error_of

RNG = np.random.default_rng(7)
X3 = RNG.standard_normal((2, 3, 6))
X4 = RNG.standard_normal((2, 2, 4, 4))
ROWS = RNG.standard_normal((5, 3))
SCORES = RNG.standard_normal((3, 4))

CASES = {
    "lp_pool1d": lambda F, L, x3, x4, r, s: F.lp_pool1d(x3.abs() + 0.1, 2, 2),
    "lp_pool1d stride": lambda F, L, x3, x4, r, s: F.lp_pool1d(x3.abs() + 0.1, 1.5, 3, 1),
    "lp_pool1d ceil": lambda F, L, x3, x4, r, s: F.lp_pool1d(x3.abs() + 0.1, 3, 4, 4, ceil_mode=True),
    "lp_pool2d": lambda F, L, x3, x4, r, s: F.lp_pool2d(x4.abs() + 0.1, 3, 2),
    "lp_pool2d rectangle": lambda F, L, x3, x4, r, s: F.lp_pool2d(x4.abs() + 0.1, 2, (2, 3), 1),
    "max_unpool1d": lambda F, L, x3, x4, r, s: F.max_unpool1d(*F.max_pool1d(x3, 2, return_indices=True), 2),
    "max_unpool1d stride": lambda F, L, x3, x4, r, s: F.max_unpool1d(*F.max_pool1d(x3, 3, 2, return_indices=True),
                                                                    3, 2),
    "max_unpool2d": lambda F, L, x3, x4, r, s: F.max_unpool2d(*F.max_pool2d(x4, 2, return_indices=True), 2),
    "max_unpool2d output_size": lambda F, L, x3, x4, r, s: F.max_unpool2d(
        *F.max_pool2d(x4, 2, return_indices=True), 2, output_size=(5, 5)),
    "max_unpool2d full output_size": lambda F, L, x3, x4, r, s: F.max_unpool2d(
        *F.max_pool2d(x4, 2, return_indices=True), 2, output_size=(2, 2, 5, 4)),
    "max_unpool2d 3-d": lambda F, L, x3, x4, r, s: F.max_unpool2d(*F.max_pool2d(x4[0], 2, return_indices=True), 2),
    "max_unpool2d bad output_size": lambda F, L, x3, x4, r, s: F.max_unpool2d(
        *F.max_pool2d(x4, 2, return_indices=True), 2, output_size=(9, 9)),
    "max_unpool2d output_size length": lambda F, L, x3, x4, r, s: F.max_unpool2d(
        *F.max_pool2d(x4, 2, return_indices=True), 2, output_size=(4,)),
    "lp_pool3d": lambda F, L, x3, x4, r, s: F.lp_pool3d(x4.reshape(1, 2, 2, 4, 4).abs() + 0.1, 2, 2),
    "lp_pool3d stride ceil": lambda F, L, x3, x4, r, s: F.lp_pool3d(
        x4.reshape(1, 2, 2, 4, 4).abs() + 0.1, 1.5, (1, 2, 3), 1, ceil_mode=True),
    "max_unpool3d": lambda F, L, x3, x4, r, s: F.max_unpool3d(
        *F.max_pool3d(x4.reshape(1, 2, 2, 4, 4), 2, return_indices=True), 2),
    "max_unpool3d unbatched": lambda F, L, x3, x4, r, s: F.max_unpool3d(
        *F.max_pool3d(x4.reshape(2, 2, 4, 4), 2, return_indices=True), 2),
    "max_unpool3d output_size": lambda F, L, x3, x4, r, s: F.max_unpool3d(
        *F.max_pool3d(x4.reshape(1, 2, 2, 4, 4), 2, return_indices=True), 2, output_size=(3, 5, 5)),
    "max_unpool3d stride padding": lambda F, L, x3, x4, r, s: F.max_unpool3d(
        *F.max_pool3d(x4.reshape(1, 1, 4, 4, 4), 3, 2, 1, return_indices=True), 3, 2, 1, output_size=(4, 4, 4)),
    "max_unpool3d index out of range": lambda F, L, x3, x4, r, s: F.max_unpool3d(
        x4.reshape(1, 2, 2, 4, 4)[:, :1, :1, :1, :1], L.tensor([[[[[8]]]]]), 2),
    "max_unpool3d bad dims": lambda F, L, x3, x4, r, s: F.max_unpool3d(x3, (x3 * 0).long(), 2),
    "max_unpool3d bad output_size": lambda F, L, x3, x4, r, s: F.max_unpool3d(
        *F.max_pool3d(x4.reshape(1, 2, 2, 4, 4), 2, return_indices=True), 2, output_size=(3, 5)),
    "local_response_norm": lambda F, L, x3, x4, r, s: F.local_response_norm(x3, 2),
    "local_response_norm 4-d": lambda F, L, x3, x4, r, s: F.local_response_norm(x4, 3, 0.1, 0.5, 2.0),
    "local_response_norm 2-d": lambda F, L, x3, x4, r, s: F.local_response_norm(r, 2),
    "pdist": lambda F, L, x3, x4, r, s: F.pdist(r),
    "pdist p=1": lambda F, L, x3, x4, r, s: F.pdist(r, 1),
    "pdist p=inf": lambda F, L, x3, x4, r, s: F.pdist(r, float("inf")),
    "pdist one row": lambda F, L, x3, x4, r, s: F.pdist(r[:1]),
    "pdist 3-d": lambda F, L, x3, x4, r, s: F.pdist(x3),
    "pdist negative p": lambda F, L, x3, x4, r, s: F.pdist(r, -1),
    "multi_margin_loss": lambda F, L, x3, x4, r, s: F.multi_margin_loss(s, L.tensor([0, 1, 3])),
    "multi_margin_loss p=2 weight": lambda F, L, x3, x4, r, s: F.multi_margin_loss(
        s, L.tensor([0, 1, 3]), p=2, margin=0.5, weight=L.tensor([1.0, 2.0, 3.0, 4.0], dtype=L.float64),
        reduction="none"),
    "multi_margin_loss sum": lambda F, L, x3, x4, r, s: F.multi_margin_loss(s, L.tensor([2, 2, 0]), reduction="sum"),
    "multi_margin_loss 1-d": lambda F, L, x3, x4, r, s: F.multi_margin_loss(s[0], L.tensor([1])),
    "multi_margin_loss p=3": lambda F, L, x3, x4, r, s: F.multi_margin_loss(s, L.tensor([0, 1, 3]), p=3),
    "multilabel_margin_loss": lambda F, L, x3, x4, r, s: F.multilabel_margin_loss(
        s, L.tensor([[0, 1, -1, 0], [3, -1, 0, 0], [1, 2, 3, 0]])),
    "multilabel_margin_loss none": lambda F, L, x3, x4, r, s: F.multilabel_margin_loss(
        s, L.tensor([[0, 0, -1, 0], [3, 2, 1, 0], [-1, 2, 3, 0]]), reduction="none"),
    "multilabel_margin_loss 1-d": lambda F, L, x3, x4, r, s: F.multilabel_margin_loss(
        s[0], L.tensor([2, 2, -1, 0]), reduction="sum"),
    "multilabel_margin_loss shapes": lambda F, L, x3, x4, r, s: F.multilabel_margin_loss(s, L.tensor([0, 1, 2])),
    "triplet_margin_with_distance_loss": lambda F, L, x3, x4, r, s: F.triplet_margin_with_distance_loss(
        s, s.flip(0), s * 2),
    "triplet_margin_with_distance_loss swap": lambda F, L, x3, x4, r, s: F.triplet_margin_with_distance_loss(
        s, s.flip(0), s * 2, swap=True, margin=2.0, reduction="none"),
    "triplet_margin_with_distance_loss function": lambda F, L, x3, x4, r, s: F.triplet_margin_with_distance_loss(
        s, s.flip(0), s * 2, distance_function=lambda a, b: (a - b).abs().sum(-1), reduction="sum"),
    "triplet_margin_with_distance_loss margin": lambda F, L, x3, x4, r, s: F.triplet_margin_with_distance_loss(
        s, s, s, margin=0),
    "triplet_margin_with_distance_loss dims": lambda F, L, x3, x4, r, s: F.triplet_margin_with_distance_loss(
        s, s, s[0]),
    "feature_alpha_dropout eval": lambda F, L, x3, x4, r, s: F.feature_alpha_dropout(x4, 0.5),
    "feature_alpha_dropout p=0": lambda F, L, x3, x4, r, s: F.feature_alpha_dropout(x4, 0.0, True),
    "feature_alpha_dropout p=1": lambda F, L, x3, x4, r, s: F.feature_alpha_dropout(x4, 1.0, True),
    "feature_alpha_dropout bad p": lambda F, L, x3, x4, r, s: F.feature_alpha_dropout(x4, 1.5, True),
    "dropout3d eval": lambda F, L, x3, x4, r, s: F.dropout3d(x4.unsqueeze(2), 0.5, False),
    "dropout3d p=1": lambda F, L, x3, x4, r, s: F.dropout3d(x4.unsqueeze(2), 1.0),
    "relu_": lambda F, L, x3, x4, r, s: F.relu_(x4.detach().clone()),
}


def run(lib, name):
    F = lib.nn.functional
    ins = [lib.tensor(a, requires_grad=True) for a in (X3, X4, ROWS, SCORES)]
    error = error_of(lib, lambda lib: CASES[name](F, lib, *ins))
    if error is not None:
        return error
    out = CASES[name](F, lib, *ins)
    result = [tuple(out.shape), str(out.dtype).split(".")[-1], out.requires_grad,
              None if out.grad_fn is None else type(out.grad_fn).__name__, out.detach().numpy()]
    if out.requires_grad:
        (out * (lib.arange(out.numel(), dtype=out.dtype).view(out.shape) + 1)).sum().backward()
        result.append([None if t.grad is None else t.grad.numpy() for t in ins])
    return result


def assert_same(a, b, path="result"):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9, err_msg=path)
    elif isinstance(a, (list, tuple)) and not isinstance(a, str):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{k}]")
    else:
        assert a == b, path


@requires_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    assert_same(run(cgrad, name), run(torch, name))


MODULES = {
    "LPPool1d": lambda nn: nn.LPPool1d(2, 3),
    "LPPool2d": lambda nn: nn.LPPool2d(1.5, (2, 2), 1, ceil_mode=True),
    "MaxUnpool1d": lambda nn: nn.MaxUnpool1d(2),
    "MaxUnpool2d": lambda nn: nn.MaxUnpool2d(3, 2, 1),
    "LPPool3d": lambda nn: nn.LPPool3d(2, (2, 1, 2), 1, ceil_mode=True),
    "MaxUnpool3d": lambda nn: nn.MaxUnpool3d(2),
    "LocalResponseNorm": lambda nn: nn.LocalResponseNorm(3, k=2.0),
    "Dropout3d": lambda nn: nn.Dropout3d(0.2),
    "FeatureAlphaDropout": lambda nn: nn.FeatureAlphaDropout(0.1, inplace=True),
    "MultiMarginLoss": lambda nn: nn.MultiMarginLoss(p=2, margin=0.5),
    "MultiLabelMarginLoss": lambda nn: nn.MultiLabelMarginLoss(reduction="sum"),
    "TripletMarginWithDistanceLoss": lambda nn: nn.TripletMarginWithDistanceLoss(swap=True),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_repr(name):
    assert repr(MODULES[name](cgrad.nn)) == repr(MODULES[name](torch.nn))


@requires_torch
def test_module_forward():
    x = RNG.standard_normal((2, 2, 4, 4))
    results = []
    for lib in (torch, cgrad):
        pool = lib.nn.MaxPool2d(2, return_indices=True)
        values, indices = pool(lib.tensor(x))
        unpooled = lib.nn.MaxUnpool2d(2)(values, indices)
        loss = lib.nn.MultiMarginLoss()(lib.tensor(SCORES), lib.tensor([0, 1, 3]))
        norm = lib.nn.LocalResponseNorm(2)(lib.tensor(x))
        results.append((unpooled.numpy(), loss.item(), norm.numpy()))
    assert_same(results[1], results[0])


@requires_torch
def test_buffer_registers_like_torch():
    results = []
    for lib in (torch, cgrad):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.kept = lib.nn.Buffer(lib.ones(2))
                self.dropped = lib.nn.Buffer(lib.zeros(1), persistent=False)
        m = M()
        marked = lib.nn.Buffer(lib.ones(1, requires_grad=True))
        results.append((list(m.state_dict()), [n for n, _ in m.named_buffers()], type(marked).__name__,
                        isinstance(marked, lib.nn.Buffer), isinstance(lib.ones(1), lib.nn.Buffer),
                        marked.requires_grad, marked.is_leaf))
    assert results[1] == results[0]


@pytest.mark.parametrize("fn", [
    lambda F, x, r, s: F.lp_pool1d(x.abs() + 0.5, 2, 2),
    lambda F, x, r, s: F.local_response_norm(x, 2),
    lambda F, x, r, s: F.pdist(r),
    lambda F, x, r, s: F.multi_margin_loss(s * 0.3, cgrad.tensor([0, 1, 3]), p=2),
    lambda F, x, r, s: F.multilabel_margin_loss(s * 0.3, cgrad.tensor([[0, 1, -1, 0], [3, -1, 0, 0], [1, 2, 3, 0]])),
    lambda F, x, r, s: F.max_unpool1d(*F.max_pool1d(x, 2, return_indices=True), 2),
    lambda F, x, r, s: F.lp_pool3d(x.reshape(1, 3, 2, 3, 2).abs() + 0.5, 2, 2),
    lambda F, x, r, s: F.max_unpool3d(*F.max_pool3d(x.reshape(1, 1, 3, 2, 6), 2, return_indices=True), 2),
])
def test_gradcheck(fn):
    """float64 finite differences (first and second order), without torch."""
    F = cgrad.nn.functional
    x, r, s = (cgrad.tensor(a, requires_grad=True) for a in (X3, ROWS, SCORES))
    assert cgrad.autograd.gradcheck(lambda x, r, s: fn(F, x, r, s), (x, r, s))
    assert cgrad.autograd.gradgradcheck(lambda x, r, s: fn(F, x, r, s), (x, r, s))


def test_hand_computed():
    F = cgrad.nn.functional
    rows = cgrad.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert F.pdist(rows).tolist() == [5.0, 10.0, 5.0]
    values = cgrad.tensor([[[5.0, 7.0]]])
    indices = cgrad.tensor([[[1, 2]]])
    assert F.max_unpool1d(values, indices, 2).tolist() == [[[0.0, 5.0, 7.0, 0.0]]]
    # margin 1: (1 - 2 + 0) -> 0, (1 - 2 + 1.5) -> 0.5, over 3 classes
    loss = F.multi_margin_loss(cgrad.tensor([[2.0, 0.0, 1.5]]), cgrad.tensor([0]))
    assert abs(loss.item() - 0.5 / 3) < 1e-7
