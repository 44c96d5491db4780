"""F.ctc_loss / nn.CTCLoss / cgrad.ctc_loss: against a brute-force sum over
every alignment (no torch needed), float64 gradcheck through log_softmax
(PyTorch's gradient assumes log_probs come from one), and against torch:
values, gradients, grad_fn names and error texts."""
import itertools

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

F = cgrad.nn.functional


def _brute_force_nll(lp, target, blank=0):
    """-log of the summed probability of every path that collapses to target."""
    steps, classes = lp.shape
    total = -np.inf
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for k, c in enumerate(path) if c != blank and (k == 0 or c != path[k - 1])]
        if collapsed == list(target):
            total = np.logaddexp(total, sum(lp[t, c] for t, c in enumerate(path)))
    return -total


def _log_probs(steps, batch, classes, seed=0, dtype=np.float64):
    x = np.random.RandomState(seed).randn(steps, batch, classes)
    return (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)


@pytest.mark.parametrize("blank", [0, 2])
def test_against_every_alignment(blank):
    lp = _log_probs(5, 3, 3)
    targets = [[1, 1], [1, 0 if blank == 2 else 2, 1], []]
    padded = cgrad.tensor([t + [1] * (3 - len(t)) for t in targets])
    if blank == 2:
        padded = cgrad.tensor([[1, 1, 1], [1, 0, 1], [1, 1, 1]])
    losses = F.ctc_loss(cgrad.tensor(lp), padded, [5, 5, 4], [2, 3, 0], blank=blank, reduction="none")
    expected = [_brute_force_nll(lp[:n, b], targets[b], blank) for b, n in enumerate([5, 5, 4])]
    np.testing.assert_allclose(losses.numpy(), expected, rtol=1e-12)
    assert losses.grad_fn is None


def test_concatenated_targets_and_reductions():
    lp = cgrad.tensor(_log_probs(6, 2, 4), requires_grad=True)
    padded = cgrad.tensor([[1, 2, 2], [3, 1, 0]])
    flat = cgrad.tensor([1, 2, 2, 3, 1])
    none = F.ctc_loss(lp, padded, [6, 5], [3, 2], reduction="none")
    np.testing.assert_array_equal(F.ctc_loss(lp, flat, [6, 5], [3, 2], reduction="none").detach().numpy(),
                                  none.detach().numpy())
    assert none.grad_fn.name() == "CtcLossBackward0"
    mean = F.ctc_loss(lp, padded, cgrad.tensor([6, 5]), cgrad.tensor([3, 2]))
    assert mean.grad_fn.name() == "MeanBackward0"
    np.testing.assert_allclose(mean.item(), (none.detach().numpy() / [3, 2]).mean(), rtol=1e-12)
    total = cgrad.nn.CTCLoss(reduction="sum")(lp, padded, (6, 5), (3, 2))
    assert total.grad_fn.name() == "SumBackward0"
    single = F.ctc_loss(lp[:, 0], padded[0], cgrad.tensor(6), cgrad.tensor(3), reduction="none")
    assert single.shape == () and abs(single.item() - none[0].item()) < 1e-12


def test_impossible_alignment_and_zero_infinity():
    lp = cgrad.tensor(_log_probs(4, 2, 3), requires_grad=True)
    targets = cgrad.tensor([[1, 1, 1], [1, 2, 1]])
    losses = F.ctc_loss(lp, targets, [4, 4], [3, 3], reduction="none")
    assert losses[0].item() == float("inf") and np.isfinite(losses[1].item())
    zeroed = F.ctc_loss(lp, targets, [4, 4], [3, 3], reduction="none", zero_infinity=True)
    assert zeroed[0].item() == 0.0 and zeroed.grad_fn.name() == "WhereBackward0"
    zeroed.sum().backward()
    assert np.all(lp.grad[:, 0].numpy() == 0) and np.all(np.isfinite(lp.grad.numpy()))


def test_gradcheck_through_log_softmax():
    x = cgrad.tensor(np.random.RandomState(1).randn(5, 2, 4), requires_grad=True)
    targets = cgrad.tensor([[1, 3], [2, 2]])
    assert cgrad.autograd.gradcheck(lambda x: F.ctc_loss(x.log_softmax(2), targets, [5, 4], [2, 2]), (x,))
    # PyTorch's formula: with respect to log_probs themselves each frame's gradient sums to zero
    lp = x.detach().log_softmax(2).requires_grad_()
    F.ctc_loss(lp, targets, [5, 4], [2, 2], reduction="sum").backward()
    np.testing.assert_allclose(lp.grad.numpy()[:4].sum(-1), 0, atol=1e-12)
    assert np.all(lp.grad.numpy()[4, 1] == 0)       # past the second sequence's input length


def test_double_backward_raises_as_torch():
    lp = cgrad.tensor(_log_probs(4, 1, 3), requires_grad=True)
    loss = F.ctc_loss(lp, cgrad.tensor([[1]]), [4], [1], reduction="sum")
    (grad,) = cgrad.autograd.grad(loss, lp, create_graph=True)
    with pytest.raises(RuntimeError, match="derivative for aten::_ctc_loss_backward is not implemented"):
        grad.sum().backward()


ERROR_CASES = {
    "blank": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [6, 5], [3, 2], blank=4),
    "blank negative": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [6, 5], [3, 2], blank=-1),
    "input_lengths size": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [6], [3, 2]),
    "target_lengths size": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [6, 5], [3]),
    "input length too big": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [7, 5], [3, 2]),
    "input length negative": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [-1, 5], [3, 2]),
    "target length too big": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [6, 5], [4, 2]),
    "target length negative": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [6, 5], [-1, 2]),
    "targets rows": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg[:1], [6, 5], [3, 2]),
    "concatenated too short": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, L.tensor([1, 2, 3]), [6, 5], [3, 2]),
    "unbatched 2-d targets": lambda L, lp, tg: L.nn.functional.ctc_loss(lp[:, 0], tg, [6], [3]),
    "4-d log_probs": lambda L, lp, tg: L.nn.functional.ctc_loss(lp[None], tg, [6, 5], [3, 2]),
    "integer log_probs": lambda L, lp, tg: L.nn.functional.ctc_loss(lp.long(), tg, [6, 5], [3, 2]),
    "reduction": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [6, 5], [3, 2], reduction="bad"),
    "float length tensors": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, L.tensor([6.0, 5.0]), L.tensor([3, 2])),
    "float target length tensors": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, L.tensor([6, 5]),
                                                                               L.tensor([3.0, 2.0])),
    "mixed lengths": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, L.tensor([6, 5]), [3, 2]),
    "float in a list": lambda L, lp, tg: L.nn.functional.ctc_loss(lp, tg, [6.0, 5], [3, 2]),
    "int lengths": lambda L, lp, tg: L.nn.functional.ctc_loss(lp[:, 0], tg[0], 6, 3),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_errors_match_torch(name):
    lp = _log_probs(6, 2, 4, dtype=np.float32)
    tg = np.array([[1, 2, 2], [3, 1, 0]])
    errors = []
    for lib in (torch, cgrad):
        with pytest.raises(Exception) as info:
            ERROR_CASES[name](lib, lib.tensor(lp), lib.tensor(tg))
        errors.append((type(info.value).__name__, str(info.value).split("\n")[0]))
    assert errors[1] == errors[0]


def test_out_of_range_labels_raise_instead_of_reading_past_the_classes():
    with pytest.raises(RuntimeError, match=r"targets must be class indices in \[0, 4\), got 9"):
        F.ctc_loss(cgrad.tensor(_log_probs(6, 2, 4)), cgrad.tensor([[9, 1, 1], [1, 1, 1]]), [6, 5], [3, 2])


TORCH_CASES = [
    dict(shape=(12, 3, 5), targets="padded", lengths=([12, 10, 7], [4, 3, 0]), blank=0, reduction="mean"),
    dict(shape=(12, 3, 5), targets="flat", lengths=([12, 12, 12], [5, 1, 2]), blank=2, reduction="sum"),
    dict(shape=(8, 2, 4), targets="padded", lengths=([8, 3], [3, 3]), blank=0, reduction="none", zero_infinity=True),
    dict(shape=(8, 2, 4), targets="padded", lengths=([8, 3], [3, 3]), blank=0, reduction="mean", zero_infinity=True),
    dict(shape=(9, 1, 3), targets="unbatched", lengths=("tensor", 9, 3), blank=1, reduction="none"),
    dict(shape=(40, 16, 20), targets="padded", lengths=(list(range(25, 41)), list(range(3, 19))), blank=0,
         reduction="mean"),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(TORCH_CASES)))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("through_log_softmax", [False, True])
def test_matches_torch(case, dtype, through_log_softmax):
    spec = TORCH_CASES[case]
    steps, batch, classes = spec["shape"]
    rng = np.random.RandomState(case)
    x = rng.randn(steps, batch, classes).astype(dtype)
    if not through_log_softmax:
        x = (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)
    lengths = spec["lengths"]
    as_tensors = lengths[0] == "tensor"
    input_lengths, target_lengths = lengths[1:] if as_tensors else lengths
    labels = [c for c in range(classes) if c != spec["blank"]]
    longest = max(np.atleast_1d(target_lengths)) if np.size(target_lengths) else 0
    padded = rng.choice(labels, size=(batch, max(longest, 1)))
    results = []
    for lib in (torch, cgrad):
        leaf = lib.tensor(x, requires_grad=True)
        lp = leaf.log_softmax(2) if through_log_softmax else leaf
        if spec["targets"] == "flat":
            tg = lib.tensor(np.concatenate([padded[n, :target_lengths[n]] for n in range(batch)]))
        elif spec["targets"] == "unbatched":
            lp, tg = lp[:, 0], lib.tensor(padded[0])
        else:
            tg = lib.tensor(padded)
        lengths = (lib.tensor(input_lengths), lib.tensor(target_lengths)) if as_tensors else (input_lengths,
                                                                                                target_lengths)
        out = lib.nn.functional.ctc_loss(lp, tg, *lengths, blank=spec["blank"],
                                         reduction=spec["reduction"], zero_infinity=spec.get("zero_infinity", False))
        weights = lib.arange(1, out.numel() + 1, dtype=out.dtype).reshape(out.shape)
        (out * weights).sum().backward()
        results.append((out.detach().numpy(), leaf.grad.numpy(), out.grad_fn.name(), str(out.dtype)[-7:]))
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(results[1][0], results[0][0], **tol)
    np.testing.assert_allclose(results[1][1], results[0][1], **tol)
    assert results[1][2:] == results[0][2:]


@requires_torch
def test_top_level_function_matches_torch():
    lp = _log_probs(6, 2, 4, dtype=np.float32)
    tg = np.array([[1, 2, 2], [3, 1, 0]])
    for args in [(), (0, 1), (0, 2)]:
        got = cgrad.ctc_loss(cgrad.tensor(lp), cgrad.tensor(tg), [6, 5], [3, 2], *args)
        want = torch.ctc_loss(torch.tensor(lp), torch.tensor(tg), [6, 5], [3, 2], *args)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_top_level_function_takes_the_reduction_enum():
    lp = cgrad.tensor(_log_probs(6, 2, 4))
    tg = cgrad.tensor([[1, 2, 2], [3, 1, 0]])
    assert cgrad.ctc_loss(lp, tg, [6, 5], [3, 2], 0, 2).item() == F.ctc_loss(lp, tg, [6, 5], [3, 2],
                                                                             reduction="sum").item()
    # left out, torch.ctc_loss's reduction is none (F.ctc_loss's is mean)
    assert cgrad.ctc_loss(lp, tg, [6, 5], [3, 2]).tolist() == F.ctc_loss(lp, tg, [6, 5], [3, 2],
                                                                         reduction="none").tolist()
    assert repr(cgrad.nn.CTCLoss(blank=1)) == "CTCLoss()"
