"""nn.utils.prune against torch.nn.utils.prune for the deterministic
methods (masks, pruned weights, state_dict layout, gradients, repeated
pruning through a PruningContainer, global pruning, remove), and the
random methods' counts and invariants without torch."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

if torch is not None:
    import torch.nn.utils.prune  # noqa: F401  (not imported by torch.nn.utils itself)

prune = cgrad.nn.utils.prune


def _linear(lib, seed=0):
    w = np.random.RandomState(seed).randn(6, 5).astype(np.float32)
    m = lib.nn.Linear(5, 6)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(w))
        m.bias.copy_(lib.tensor(np.arange(6, dtype=np.float32) - 2.5))
    return m


def test_l1_unstructured_prunes_the_smallest_entries():
    m = _linear(cgrad)
    w = m.weight.detach().numpy().copy()
    prune.l1_unstructured(m, "weight", amount=0.3)
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in m.named_buffers()] == ["weight_mask"]
    assert prune.is_pruned(m)
    kept = m.weight_mask.numpy().astype(bool)
    assert (~kept).sum() == round(0.3 * 30)
    assert np.abs(w[~kept]).max() <= np.abs(w[kept]).min()
    np.testing.assert_array_equal(m.weight.detach().numpy(), w * kept)
    m(cgrad.randn(3, 5)).sum().backward()
    assert np.all(m.weight_orig.grad.numpy()[~kept] == 0)
    prune.remove(m, "weight")
    assert not prune.is_pruned(m) and isinstance(m.weight, cgrad.nn.Parameter)
    np.testing.assert_array_equal(m.weight.detach().numpy(), w * kept)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")


def test_random_methods_prune_the_requested_counts():
    m = cgrad.nn.Conv2d(4, 8, 3)
    prune.random_unstructured(m, "weight", amount=10)
    assert int((m.weight_mask == 0).sum()) == 10
    prune.random_structured(m, "weight", amount=0.25, dim=0)
    channels_pruned = (m.weight_mask.sum(dim=(1, 2, 3)) == 0).sum().item()
    assert channels_pruned >= 2
    assert isinstance(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))], prune.PruningContainer)


def test_amount_checks():
    with pytest.raises(ValueError, match="amount=1.5 should either be a float in the range"):
        prune.l1_unstructured(cgrad.nn.Linear(2, 2), "weight", amount=1.5)
    with pytest.raises(ValueError, match="amount=9 should be smaller than the number of parameters to prune=4"):
        prune.l1_unstructured(cgrad.nn.Linear(2, 2), "weight", amount=9)
    m = cgrad.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="Structured pruning can only be applied to multidimensional tensors"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    assert "bias" in dict(m.named_parameters())      # a failed pruning leaves the module as it was


@requires_torch
@pytest.mark.parametrize("steps", [
    [("l1_unstructured", dict(amount=0.3))],
    [("l1_unstructured", dict(amount=7)), ("l1_unstructured", dict(amount=0.5))],
    [("ln_structured", dict(amount=2, n=2, dim=0))],
    [("ln_structured", dict(amount=0.4, n=1, dim=1)), ("l1_unstructured", dict(amount=5))],
    [("l1_unstructured", dict(amount=5)), ("ln_structured", dict(amount=1, n=float("inf"), dim=0))],
    [("identity", dict())],
])
def test_matches_torch(steps):
    results = []
    for lib in (torch, cgrad):
        m = _linear(lib)
        for name, kwargs in steps:
            getattr(lib.nn.utils.prune, name)(m, "weight", **kwargs)
        x = lib.tensor(np.random.RandomState(1).randn(3, 5).astype(np.float32))
        m(x).square().sum().backward()
        results.append((m.weight_mask.numpy(), m.weight.detach().numpy(), m.weight_orig.grad.numpy(),
                        list(m.state_dict()), type(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))]).__name__))
        lib.nn.utils.prune.remove(m, "weight")
        results[-1] += (m.weight.detach().numpy(), list(m.state_dict()))
    np.testing.assert_array_equal(results[1][0], results[0][0])      # the masks: exactly torch's
    for got, want in zip(results[1][1:], results[0][1:]):
        if isinstance(want, np.ndarray):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)     # float32 products and sums
        else:
            assert got == want


@requires_torch
def test_global_unstructured_and_custom_mask_match_torch():
    results = []
    for lib in (torch, cgrad):
        a, b = _linear(lib, 0), _linear(lib, 1)
        lib.nn.utils.prune.global_unstructured([(a, "weight"), (b, "weight"), (b, "bias")],
                                               pruning_method=lib.nn.utils.prune.L1Unstructured, amount=0.4)
        lib.nn.utils.prune.custom_from_mask(a, "bias", mask=lib.tensor([1, 0, 1, 0, 1, 1]))
        results.append([a.weight_mask.numpy(), b.weight_mask.numpy(), b.bias_mask.numpy(), a.bias.detach().numpy()])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, want)
