"""Lazy batch and instance norm layers: their shape comes from the first
input, after which they are the eager layer (class, repr, state_dict,
results); against torch where installed."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

CASES = [("LazyBatchNorm1d", (4, 3)), ("LazyBatchNorm1d", (4, 3, 5)), ("LazyBatchNorm2d", (2, 3, 4, 4)),
         ("LazyBatchNorm3d", (2, 3, 2, 2, 2)), ("LazyInstanceNorm1d", (2, 3, 5)), ("LazyInstanceNorm2d", (2, 3, 4, 4)),
         ("LazyInstanceNorm3d", (2, 3, 2, 2, 2))]


@pytest.mark.parametrize("name, shape", CASES)
def test_lazy_norm_becomes_the_eager_layer(name, shape):
    lazy = getattr(cgrad.nn, name)()
    assert repr(lazy).startswith(name + "(0, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                                        "track_running_stats=True)")
    assert repr(lazy.running_mean) == "<UninitializedBuffer>" and lazy.has_uninitialized_params()
    eager_name = name[len("Lazy"):]
    eager = getattr(cgrad.nn, eager_name)(3, affine=True, track_running_stats=True)
    x = cgrad.randn(*shape)
    y = lazy(x)
    assert type(lazy) is getattr(cgrad.nn, eager_name) and type(lazy.running_mean) is cgrad.Tensor
    assert repr(lazy) == repr(eager)
    np.testing.assert_allclose(y.detach().numpy(), eager(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(lazy.running_var.numpy(), eager.running_var.numpy(), rtol=1e-6)
    assert list(lazy.state_dict()) == list(eager.state_dict())


def test_lazy_norm_without_affine_or_stats_and_loading_a_state_dict():
    m = cgrad.nn.LazyBatchNorm1d(affine=False, track_running_stats=False)
    assert m.weight is None and m.running_mean is None
    m(cgrad.randn(3, 2))
    assert type(m) is cgrad.nn.BatchNorm1d and m.num_features == 0     # nothing read the input's size, as PyTorch
    src = cgrad.nn.BatchNorm1d(4)
    src.running_mean.fill_(2.0)
    m = cgrad.nn.LazyBatchNorm1d()
    m.load_state_dict(src.state_dict())
    assert not m.has_uninitialized_params() and m.running_mean.tolist() == [2.0] * 4


@requires_torch
@pytest.mark.parametrize("name, shape", CASES)
def test_lazy_norm_matches_torch(name, shape):
    tm, cm = getattr(torch.nn, name)(), getattr(cgrad.nn, name)()
    assert repr(tm) == repr(cm) and list(tm.state_dict()) == list(cm.state_dict())
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    ty, cy = tm(torch.tensor(x)), cm(cgrad.tensor(x))
    assert type(tm).__name__ == type(cm).__name__ and repr(tm) == repr(cm)
    np.testing.assert_allclose(cy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cm.running_mean.numpy(), tm.running_mean.numpy(), rtol=1e-5, atol=1e-7)
