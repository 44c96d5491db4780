"""Forward-mode AD through in-place ops on views (PyTorch's CopySlices): the
base's tangent is updated in place on the view's region with the op's own
JVP (no transpose of a VJP), checked against torch.autograd.forward_ad on
slices, select, diagonal, transposed and chained views, with add_, mul_,
div_, copy_, clamp_, pow_ and indexed writes; with and without reverse-mode
history, and with only the written value carrying a tangent.

Forward-over-reverse too (jvp of grad, hessian-vector products): an in-place
op whose backward reads the overwritten value (mul_, div_, pow_) saves a
copy of it, and that copy keeps the tangent the value had before the write
(it used to alias the tensor's tangent, which the write then overwrote),
and the gather of the written region's gradient has its own forward rule."""
import numpy as np
import pytest

import cgrad
from cgrad import _C
from cgrad.autograd import _jvp_rules
from helpers import requires_torch, torch

rng = np.random.default_rng(21)
X, TX = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
V, TV = rng.standard_normal(5), rng.standard_normal(5)

WRITES = {
    "slice_add_": lambda L, y, v: y[1:3].add_(v),
    "select_mul_": lambda L, y, v: y[2].mul_(v),
    "select_copy_": lambda L, y, v: y[2].copy_(v),
    "diagonal_clamp_": lambda L, y, v: y.diagonal().clamp_(-0.3, 0.3),
    "diagonal_mul_": lambda L, y, v: y.diagonal().mul_(v[:4]),
    "transpose_add_": lambda L, y, v: y.t()[1].add_(v[:4], alpha=2.0),
    "chained_mul_": lambda L, y, v: y[1:].t()[2].mul_(v[:3]),
    "chained_div_": lambda L, y, v: y[:, 1:4][::2].div_(v[1:4].exp()),
    "slice_pow_": lambda L, y, v: y[:, 1:3].pow_(2),
    "clamp_tensor_": lambda L, y, v: y[0].clamp_(min=v),
    "setitem": lambda L, y, v: y.__setitem__((slice(None), 1), v[:4]),
    "index_put_": lambda L, y, v: y[1].index_put_((L.tensor([0, 2]),), v[:2]),
}


@pytest.fixture
def transpose_calls():
    calls = []

    def counting(node, *args):
        calls.append(type(node).__name__)
        return _jvp_rules.transposed_jvp(node, *args)
    _C._fw_set_rules(_jvp_rules.RULES, counting)
    try:
        yield calls
    finally:
        _C._fw_set_rules(_jvp_rules.RULES, _jvp_rules.transposed_jvp)


def _dual_write(L, write, requires_grad, base_dual):
    fad = L.autograd.forward_ad
    with fad.dual_level():
        x = fad.make_dual(L.tensor(X).requires_grad_(requires_grad), L.tensor(TX))
        y = x * 1.0 if base_dual else L.tensor(X)
        v = fad.make_dual(L.tensor(V).requires_grad_(requires_grad), L.tensor(TV))
        write(L, y, v)
        primal, tangent = fad.unpack_dual(y)
        return primal.detach().numpy().copy(), None if tangent is None else tangent.detach().numpy().copy()


@requires_torch
@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("base_dual", [True, False])
@pytest.mark.parametrize("name", sorted(WRITES))
def test_write_into_view_matches_torch(name, base_dual, requires_grad, transpose_calls):
    primal, tangent = _dual_write(cgrad, WRITES[name], requires_grad, base_dual)
    assert transpose_calls == []
    t_primal, t_tangent = _dual_write(torch, WRITES[name], requires_grad, base_dual)
    np.testing.assert_allclose(primal, t_primal, rtol=1e-12)
    assert (tangent is None) == (t_tangent is None)
    if tangent is not None:
        np.testing.assert_allclose(tangent, t_tangent, rtol=1e-10, atol=1e-12)


def _loss_with_write(write):
    def loss(L):
        def f(x):
            y = x * 1.0
            write(L, y, x[0].sin())
            return (y ** 3).sum()
        return f
    return loss


FORWARD_OVER_REVERSE = dict(WRITES, whole_mul_=lambda L, y, v: y.mul_(v), whole_div_then_add_=lambda L, y, v: (
    y.div_(v.exp()), y.add_(1.0)))


@requires_torch
@pytest.mark.parametrize("name", sorted(FORWARD_OVER_REVERSE))
def test_jvp_of_grad_through_inplace_writes_matches_torch(name, transpose_calls):
    loss = _loss_with_write(FORWARD_OVER_REVERSE[name])
    ours = cgrad.func.jvp(cgrad.func.grad(loss(cgrad)), (cgrad.tensor(X),), (cgrad.tensor(TX),))
    # the backward's gather of the written region (AsStridedBackward0) has its own rule
    assert transpose_calls == []
    theirs = torch.func.jvp(torch.func.grad(loss(torch)), (torch.tensor(X),), (torch.tensor(TX),))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["whole_mul_", "chained_div_", "slice_pow_"])
def test_jvp_of_grad_through_inplace_writes_matches_finite_differences(name):
    """Without the oracle: the tangent of the gradient is the Hessian-vector
    product, checked by central differences of the gradient."""
    loss = _loss_with_write(FORWARD_OVER_REVERSE[name])(cgrad)
    grad = cgrad.func.grad(loss)
    _, hvp = cgrad.func.jvp(grad, (cgrad.tensor(X),), (cgrad.tensor(TX),))
    eps = 1e-6
    numeric = (grad(cgrad.tensor(X + eps * TX)) - grad(cgrad.tensor(X - eps * TX))) / (2 * eps)
    np.testing.assert_allclose(hvp.numpy(), numeric.numpy(), rtol=1e-5, atol=1e-6)
