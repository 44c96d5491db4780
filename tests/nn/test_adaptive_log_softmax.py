"""nn.AdaptiveLogSoftmaxWithLoss: its output and loss, gradients, log_prob,
predict and errors, against torch; without torch, log_prob is a
distribution (rows sum to one) whose entries at the targets are forward's
output."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

TARGETS = np.array([0, 5, 12, 19, 3, 11])


def _x():
    return np.random.RandomState(0).randn(6, 32).astype(np.float32)


def test_log_prob_is_a_distribution_matching_forward():
    cgrad.manual_seed(0)
    m = cgrad.nn.AdaptiveLogSoftmaxWithLoss(32, 20, [4, 10, 15], head_bias=True)
    x = cgrad.tensor(_x())
    out, loss = m(x, cgrad.tensor(TARGETS))
    full = m.log_prob(x).detach().numpy()
    np.testing.assert_allclose(np.exp(full).sum(1), np.ones(6), rtol=1e-5)
    np.testing.assert_allclose(out.detach().numpy(), full[np.arange(6), TARGETS], rtol=1e-5, atol=1e-6)
    assert abs(loss.item() + full[np.arange(6), TARGETS].mean()) < 1e-5
    assert m.predict(x).tolist() == full.argmax(1).tolist()
    assert out.grad_fn.name() == "AddBackward0" and loss.grad_fn.name() == "MeanBackward0"
    assert [tuple(layer.weight.shape) for layer in m.tail[1]] == [(2, 32), (5, 2)]


def test_errors():
    m = cgrad.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10])
    x = cgrad.randn(3, 8)
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\], but values in range \[0, 25\] "
                                           r"were found. "):
        m(x, cgrad.tensor([0, 25, 1]))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"):
        m(x, cgrad.tensor([[1]]))
    with pytest.raises(RuntimeError, match="Input and target should have the same size in the batch dimension."):
        m(x, cgrad.tensor([1]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
        m(x, cgrad.tensor(1))
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique, positive integers"):
        cgrad.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 4])
    with pytest.raises(ValueError, match="cutoffs should be a sequence of length larger than 0"):
        cgrad.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [])


@requires_torch
@pytest.mark.parametrize("head_bias", [False, True])
def test_matches_torch(head_bias):
    torch.manual_seed(0)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(32, 20, [4, 10, 15], div_value=2.0, head_bias=head_bias)
    cm = cgrad.nn.AdaptiveLogSoftmaxWithLoss(32, 20, [4, 10, 15], div_value=2.0, head_bias=head_bias)
    assert repr(cm) == repr(tm)
    cm.load_state_dict({k: cgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tx, cx = torch.tensor(_x(), requires_grad=True), cgrad.tensor(_x(), requires_grad=True)
    t_out, c_out = tm(tx, torch.tensor(TARGETS)), cm(cx, cgrad.tensor(TARGETS))
    assert type(c_out).__name__ == "_ASMoutput" and c_out._fields == t_out._fields
    np.testing.assert_allclose(c_out.output.detach().numpy(), t_out.output.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert c_out.output.grad_fn.name() == t_out.output.grad_fn.name()
    t_out.loss.backward()
    c_out.loss.backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-7)
    for (name, tp), cp in zip(tm.named_parameters(), cm.parameters()):
        np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-7, err_msg=name)
    np.testing.assert_allclose(cm.log_prob(cx).detach().numpy(), tm.log_prob(tx).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert cm.predict(cx).tolist() == tm.predict(tx).tolist()
    t1, c1 = tm(tx[0], torch.tensor(5)), cm(cx[0], cgrad.tensor(5))
    assert tuple(c1.output.shape) == tuple(t1.output.shape) == ()
    assert abs(c1.loss.item() - t1.loss.item()) < 1e-5
