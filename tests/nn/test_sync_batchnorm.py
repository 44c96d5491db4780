"""nn.SyncBatchNorm on the CPU, as PyTorch's: BatchNorm over any input of
2+ dims outside a process group (values, running statistics, gradients and
grad_fn against torch), PyTorch's errors, its refusal in training inside an
initialised process group, and convert_sync_batchnorm sharing parameters
and buffers."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch


def _model(lib):
    return lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.BatchNorm1d(6),
                             lib.nn.Sequential(lib.nn.BatchNorm1d(6, affine=False)), lib.nn.ReLU())


def test_convert_shares_parameters_and_buffers():
    net = _model(cgrad)
    converted = cgrad.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert converted is net
    assert type(net[1]).__name__ == "SyncBatchNorm" and type(net[2][0]).__name__ == "SyncBatchNorm"
    bn = cgrad.nn.BatchNorm2d(3, momentum=None).eval()
    sync = cgrad.nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert isinstance(sync, cgrad.nn.SyncBatchNorm) and sync is not bn
    assert sync.weight is bn.weight and sync.running_var is bn.running_var and not sync.training
    assert sync.momentum is None and sync.num_batches_tracked is bn.num_batches_tracked


def test_hand_computed_training_step():
    m = cgrad.nn.SyncBatchNorm(2, momentum=0.5)
    x = cgrad.tensor([[1.0, 10.0], [3.0, 30.0]])
    y = m(x)
    np.testing.assert_allclose(y.detach().numpy(), [[-1.0, -1.0], [1.0, 1.0]], atol=1e-4)
    assert m.running_mean.tolist() == pytest.approx([1.0, 10.0])
    assert m.running_var.tolist() == pytest.approx([0.5 + 0.5 * 2.0, 0.5 + 0.5 * 200.0])
    assert int(m.num_batches_tracked) == 1


@requires_torch
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 4), (2, 3, 2, 2, 2)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_matches_torch(shape, momentum):
    data = np.random.default_rng(0).standard_normal(shape)
    outs = {}
    for lib in (torch, cgrad):
        m = lib.nn.SyncBatchNorm(3, momentum=momentum).double()
        x = lib.tensor(data, requires_grad=True)
        y = m(x)
        (y * y).sum().backward()
        m.eval()
        z = m(lib.tensor(data))
        outs[lib.__name__] = (y.detach().numpy(), x.grad.numpy(), m.running_mean.numpy(), m.running_var.numpy(),
                              z.detach().numpy(), y.grad_fn.name(), int(m.num_batches_tracked))
    for got, expected in zip(outs["cgrad"], outs["torch"]):
        if isinstance(expected, np.ndarray):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
        else:
            assert got == expected


@requires_torch
@pytest.mark.parametrize("shape", [(3,), (2, 0, 3)])
def test_errors_match_torch(shape):
    with pytest.raises(ValueError) as expected:
        torch.nn.SyncBatchNorm(3)(torch.zeros(shape))
    with pytest.raises(ValueError) as got:
        cgrad.nn.SyncBatchNorm(3)(cgrad.zeros(shape))
    assert str(got.value) == str(expected.value)


def test_refused_in_training_inside_a_process_group(monkeypatch):
    from cgrad import distributed
    monkeypatch.setattr(distributed, "is_available", lambda: True)     # without mpi4py too
    monkeypatch.setattr(distributed, "is_initialized", lambda: True)
    m = cgrad.nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match="SyncBatchNorm expected input tensor to be on GPU or XPU or privateuseone"):
        m(cgrad.randn(4, 3))
    m.eval()
    assert m(cgrad.randn(4, 3)).shape == (4, 3)
