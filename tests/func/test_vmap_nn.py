"""vmap of cgrad.nn.functional against a loop and torch.func.vmap:
activations, softmax, linear, layer_norm, the losses (every reduction,
weights, ignore_index, class-probability targets) and nn modules through
functional_call."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch
from vmap_check import assert_same, check_vmap

rng = np.random.default_rng(2)
A = rng.standard_normal((3, 4, 5))
LOGITS = rng.standard_normal((3, 6, 5))          # batch 3 of (N=6, C=5)
TARGET = rng.integers(0, 5, (3, 6))
TARGET[1, 2] = 1
ONE_LOGITS = rng.standard_normal((3, 5))         # batch 3 of (C,)
ONE_TARGET = rng.integers(0, 5, 3)

ACTIVATIONS = {
    "relu": lambda F, x: F.relu(x), "gelu": lambda F, x: F.gelu(x), "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, x: F.silu(x), "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2), "elu": lambda F, x: F.elu(x),
    "softplus": lambda F, x: F.softplus(x, beta=2.0), "sigmoid": lambda F, x: F.sigmoid(x), "tanh": lambda F, x: F.tanh(x),
    "hardtanh": lambda F, x: F.hardtanh(x), "relu6": lambda F, x: F.relu6(x * 4), "softsign": lambda F, x: F.softsign(x),
    "softmax": lambda F, x: F.softmax(x, dim=-1), "log_softmax": lambda F, x: F.log_softmax(x, 0),
    "softmin": lambda F, x: F.softmax(-x, 1), "threshold": lambda F, x: F.threshold(x, 0.1, -1.0),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations(name):
    check_vmap(lambda L, x: ACTIVATIONS[name](L.nn.functional, x), [A])


def test_layer_norm():
    w, b = rng.standard_normal(5), rng.standard_normal(5)
    check_vmap(lambda L, x, w, b: L.nn.functional.layer_norm(x, (5,), w, b), [A, w, b], (0, None, None))
    check_vmap(lambda L, x: L.nn.functional.layer_norm(x, (4, 5)), [A])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("in_dims", [(0, 0), (0, None), (None, 0)])
def test_cross_entropy_and_nll(reduction, in_dims):
    x = LOGITS if in_dims[0] == 0 else LOGITS[0]
    t = TARGET if in_dims[1] == 0 else TARGET[0]
    check_vmap(lambda L, a, b: L.nn.functional.cross_entropy(a, b, reduction=reduction), [x, t], in_dims)
    check_vmap(lambda L, a, b: L.nn.functional.nll_loss(a.log_softmax(-1), b, reduction=reduction), [x, t], in_dims)


def test_cross_entropy_options():
    w = np.abs(rng.standard_normal(5)) + 0.1
    check_vmap(lambda L, a, b, w: L.nn.functional.cross_entropy(a, b, weight=w), [LOGITS, TARGET, w], (0, 0, None))
    check_vmap(lambda L, a, b: L.nn.functional.cross_entropy(a, b, ignore_index=1), [LOGITS, TARGET])
    check_vmap(lambda L, a, b, w: L.nn.functional.nll_loss(a, b, weight=w, ignore_index=1),
               [LOGITS, TARGET, w], (0, 0, None))
    # a single sample's (C,) logits with a 0-d target
    check_vmap(lambda L, a, b: L.nn.functional.cross_entropy(a, b), [ONE_LOGITS, ONE_TARGET])
    # class probabilities
    probs = np.abs(rng.standard_normal((3, 6, 5)))
    probs /= probs.sum(-1, keepdims=True)
    check_vmap(lambda L, a, p: L.nn.functional.cross_entropy(a, p), [LOGITS, probs])


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pointwise_losses(loss, reduction):
    target = rng.random((3, 4, 5))
    check_vmap(lambda L, a, t: getattr(L.nn.functional, loss)(a, t, reduction=reduction), [A, target])
    check_vmap(lambda L, a, t: getattr(L.nn.functional, loss)(a, t, reduction=reduction), [A, target[0]],
               (0, None))


def test_binary_cross_entropy():
    p = 1 / (1 + np.exp(-A))
    check_vmap(lambda L, a, t: L.nn.functional.binary_cross_entropy(a, t), [p, rng.random((3, 4, 5))])


@requires_torch
def test_modules_through_functional_call_per_sample_grads():
    def build(L):
        L.manual_seed(0)
        model = L.nn.Sequential(L.nn.Linear(5, 7), L.nn.ReLU(), L.nn.Linear(7, 3))
        return model

    model_c, model_t = build(cgrad), build(torch)
    with torch.no_grad():
        for pc, pt in zip(model_c.parameters(), model_t.parameters()):
            pt.copy_(torch.tensor(pc.detach().numpy()))
    x = rng.standard_normal((4, 5)).astype(np.float32)
    y = rng.integers(0, 3, 4)

    def per_sample(L, model, x, y):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, xi, yi):
            out = L.func.functional_call(model, p, (xi.unsqueeze(0),))
            return L.nn.functional.cross_entropy(out, yi.unsqueeze(0))
        return L.func.vmap(L.func.grad(loss), in_dims=(None, 0, 0))(params, L.tensor(x), L.tensor(y))

    got = per_sample(cgrad, model_c, x, y)
    want = per_sample(torch, model_t, x, y)
    for k in want:
        assert_same(got[k], want[k], k, atol=1e-5)
    # and a loop of grad over the samples
    for i in range(4):
        params = {k: v.detach() for k, v in model_c.named_parameters()}

        def loss(p):
            out = cgrad.func.functional_call(model_c, p, (cgrad.tensor(x[i:i + 1]),))
            return cgrad.nn.functional.cross_entropy(out, cgrad.tensor(y[i:i + 1]))
        g = cgrad.func.grad(loss)(params)
        for k in g:
            assert_same(got[k][i], g[k], k, atol=1e-5)
