"""optim.Muon against torch.optim.Muon (parameters and momentum buffers
after several steps, every option, tall, wide and square matrices, float32
and float64 parameters; its errors), and without torch the update's
defining properties: the orthogonalised step's singular values near one
and the shape rule of the learning rate."""
import math

import numpy as np
import pytest

import cgrad
from cgrad.optim.muon import orthogonalized, shape_scaled_lr
from helpers import requires_torch, torch

CONFIGS = [dict(), dict(lr=0.02, weight_decay=0.0, momentum=0.9, nesterov=False),
           dict(lr=0.01, adjust_lr_fn="match_rms_adamw", ns_steps=3),
           dict(lr=0.01, weight_decay=0.2, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3)]


GRAD_STEPS = range(4)


def run(lib, kwargs, dtype, steps=len(GRAD_STEPS)):
    """Muon's steps on a tall, a wide and a square parameter, with the same
    gradients given to both libraries (so only the optimizer is compared:
    a last-bit difference upstream can flip a bfloat16 rounding)."""
    rng = np.random.default_rng(0)
    shapes = ((6, 3), (3, 7), (4, 4))
    params = [lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True) for shape in shapes]
    grads = [[rng.standard_normal(shape).astype(dtype) for shape in shapes] for _ in range(steps)]
    opt = lib.optim.Muon(params, **kwargs)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = lib.tensor(g)
        opt.step()
    buffers = [opt.state[p]["momentum_buffer"].detach().numpy() for p in params]
    return [p.detach().numpy() for p in params], buffers, sorted(opt.param_groups[0])


@requires_torch
@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch(kwargs, dtype):
    got, want = run(cgrad, kwargs, dtype), run(torch, kwargs, dtype)
    # The orthogonalisation itself matches PyTorch's bit for bit
    # (test_orthogonalization_matches_torch). The momentum lerp and the
    # parameter's add with alpha do not: PyTorch fuses each into one rounding
    # (an fma) where cgrad rounds twice, and a last-bit difference in the
    # update can move its bfloat16 rounding by one bfloat16 step (2**-8
    # relative), which the step scales by the learning rate.
    lr = kwargs.get("lr", 1e-3)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=0, atol=len(GRAD_STEPS) * lr * 2.0 ** -6)
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g, w, rtol=4 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).eps)
    assert got[2] == want[2]


@requires_torch
@pytest.mark.parametrize("shape", [(6, 3), (3, 7), (5, 5), (1, 4)])
@pytest.mark.parametrize("steps,eps", [(5, 1e-7), (2, 1e-3), (0, 1e-7)])
def test_orthogonalization_matches_torch(shape, steps, eps):
    from torch.optim._muon import _zeropower_via_newtonschulz
    rng = np.random.default_rng(7)
    for _ in range(20):
        g = rng.standard_normal(shape).astype(np.float32)
        got = orthogonalized(cgrad.tensor(g), (3.4445, -4.7750, 2.0315), steps, eps)
        want = _zeropower_via_newtonschulz(torch.tensor(g), (3.4445, -4.7750, 2.0315), steps, eps)
        np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())


@pytest.mark.parametrize("shape", [(8, 3), (3, 8), (5, 5)])
def test_update_is_near_orthogonal(shape):
    rng = np.random.default_rng(1)
    g = cgrad.tensor(rng.standard_normal(shape).astype(np.float32))
    o = orthogonalized(g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    assert o.dtype == cgrad.bfloat16 and tuple(o.shape) == shape
    singular = np.linalg.svd(o.float().numpy(), compute_uv=False)
    # the quintic trades exact convergence for speed: values land in about
    # (0.5, 1.5), PyTorch's and Keller Jordan's description
    assert singular.min() > 0.4 and singular.max() < 1.6, singular
    # the directions are the gradient's: O is close to U V^T of its SVD
    u, _, vt = np.linalg.svd(g.numpy(), full_matrices=False)
    assert np.abs(o.float().numpy() - u @ vt).max() < 0.6


def test_learning_rate_rules():
    assert shape_scaled_lr(0.1, None, (8, 2)) == pytest.approx(0.1 * 2.0)
    assert shape_scaled_lr(0.1, "original", (2, 8)) == pytest.approx(0.1)
    assert shape_scaled_lr(0.1, "match_rms_adamw", (4, 9)) == pytest.approx(0.1 * 0.2 * 3.0)


def test_one_step_by_hand():
    w = cgrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    w.grad = cgrad.tensor([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])
    opt = cgrad.optim.Muon([w], lr=0.1, weight_decay=0.1, momentum=0.9)
    before, grad = w.detach().clone(), w.grad.clone()
    opt.step()
    buf = cgrad.zeros_like(grad).lerp(grad, 1 - 0.9)
    update = grad.lerp(buf, 0.9)               # nesterov
    step = orthogonalized(update, (3.4445, -4.7750, 2.0315), 5, 1e-7).float()
    want = before * (1 - 0.1 * 0.1) - 0.1 * math.sqrt(3 / 2) * step
    np.testing.assert_allclose(w.detach().numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"].numpy(), buf.numpy(), rtol=1e-7)


ERRORS = [
    (dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (dict(momentum=-0.5), "momentum should be >= 0 but is: -0.5"),
    (dict(weight_decay=-0.1), "weight decay should be >= 0 but is: -0.1"),
    (dict(adjust_lr_fn="nope"), "Adjust learning rate function nope is not supported"),
]


@pytest.mark.parametrize("kwargs,message", ERRORS)
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as err:
        cgrad.optim.Muon([cgrad.ones(2, 2, requires_grad=True)], **kwargs)
    assert str(err.value) == message
    if torch is not None:
        with pytest.raises(ValueError) as terr:
            torch.optim.Muon([torch.ones(2, 2, requires_grad=True)], **kwargs)
        assert str(terr.value) == message


def test_only_matrices():
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters whereas we found a parameter with "
                                         r"size: cgrad.Size\(\[3\]\)"):
        cgrad.optim.Muon([cgrad.ones(3, requires_grad=True)])
    opt = cgrad.optim.Muon([cgrad.ones(2, 2, requires_grad=True)], ns_steps=100)
    opt.param_groups[0]["params"][0].grad = cgrad.ones(2, 2)
    with pytest.raises(ValueError, match="Number of steps must be less than 100 for computational efficiency"):
        opt.step()


def test_state_dict_round_trip():
    params = [cgrad.ones(3, 2, requires_grad=True)]
    opt = cgrad.optim.Muon(params, lr=0.05)
    params[0].grad = cgrad.full((3, 2), 0.25)
    opt.step()
    fresh = cgrad.optim.Muon([params[0]], lr=0.05)
    fresh.load_state_dict(opt.state_dict())
    assert cgrad.equal(fresh.state[params[0]]["momentum_buffer"], opt.state[params[0]]["momentum_buffer"])
    assert fresh.param_groups[0]["ns_coefficients"] == (3.4445, -4.7750, 2.0315)
