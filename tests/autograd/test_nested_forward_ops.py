"""Second order through forward mode, op by op: jvp of jvp (the outer
level sees the inner jvp, which cgrad computes from reverse mode under the
outer tangents, so the ops' backward formulas run under forward AD),
jacfwd(jacfwd(f)), jacfwd(jacrev(f)) and jacrev(jacfwd(f)) against
torch.func and against finite differences of the first-order jvp in
float64; and torch's refusal to nest forward_ad.dual_level, word for word."""
import numpy as np
import pytest

import cgrad
from fwd_helpers import torch

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

rng = np.random.default_rng(3)
W = rng.standard_normal((4, 3))
X = rng.standard_normal(3)
V = rng.standard_normal(3)
U = rng.standard_normal(3)

FUNCTIONS = {
    "relu": lambda L, w, x: (w @ x).relu() * x.sum() + (x * x - 0.3).relu().sum(),
    "softmax": lambda L, w, x: (w @ x).softmax(0) * x.sum(),
    "logsumexp": lambda L, w, x: (w @ (x * x)).logsumexp(0) * x,
    "prod": lambda L, w, x: x.prod() * x,
    "where": lambda L, w, x: L.where(x > 0, x ** 3, x.sin()),
    "matmul": lambda L, w, x: (w.T @ w @ L.outer(x, x)).sum(0),
    "gelu": lambda L, w, x: L.nn.functional.gelu(w @ x) * x.sum(),
    "max": lambda L, w, x: (w @ x).max() * x,
    "index": lambda L, w, x: (w @ x)[L.tensor([0, 2])].sum() * x,
    "atan2": lambda L, w, x: L.atan2(x, x.cos() + 2),
    "tanh_mlp": lambda L, w, x: (w.T @ (w @ x).tanh()).tanh(),
    "layer_norm": lambda L, w, x: L.nn.functional.layer_norm(w @ x, (4,)) * x.sum(),
    "vector_norm": lambda L, w, x: L.linalg.vector_norm(w @ x, 3) * x,
    "eigvalsh": lambda L, w, x: L.linalg.eigvalsh(L.outer(x, x) + L.diag(x) + 3 * L.eye(3, dtype=x.dtype)),
    "sort": lambda L, w, x: (w @ x).sort()[0] * x.sum(),
    "cumprod": lambda L, w, x: (x * x + 1).cumprod(0) * x.sum(),
}
# ops vmap has no batching rule or fallback for yet (jacfwd batches its tangents with vmap)
NO_VMAP = {"vector_norm", "eigvalsh", "sort", "cumprod"}
# PyTorch 2.13's second order through layer_norm's forward formula (jvp of jvp, jacfwd(jacfwd),
# jacrev(jacfwd)) disagrees with finite differences of its own first-order jvp and with its
# jacrev(jacrev) (its jacrev(jacfwd) is not even symmetric); cgrad's agrees with both, so those
# compositions are checked against torch's jacrev(jacrev)
TORCH_WRONG_FORWARD_OVER_FORWARD = {"layer_norm"}


def nested_jvp(L, f):
    w, x, v, u = L.tensor(W), L.tensor(X), L.tensor(V), L.tensor(U)
    return L.func.jvp(lambda x: L.func.jvp(lambda y: f(L, w, y), (x,), (v,))[1], (x,), (u,))[1]


def first_order_fd(f, eps=1e-6):
    w, v = cgrad.tensor(W), cgrad.tensor(V)

    def jv(x):
        return cgrad.func.jvp(lambda y: f(cgrad, w, y), (cgrad.tensor(x),), (v,))[1].numpy()
    return (jv(X + eps * U) - jv(X - eps * U)) / (2 * eps)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_jvp_of_jvp_matches_finite_differences(name):
    got = nested_jvp(cgrad, FUNCTIONS[name]).numpy()
    np.testing.assert_allclose(got, first_order_fd(FUNCTIONS[name]), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - TORCH_WRONG_FORWARD_OVER_FORWARD))
def test_jvp_of_jvp_matches_torch(name):
    np.testing.assert_allclose(nested_jvp(cgrad, FUNCTIONS[name]).numpy(),
                               nested_jvp(torch, FUNCTIONS[name]).numpy(), rtol=1e-9, atol=1e-11)


COMPOSITIONS = {
    "jacfwd_jacfwd": lambda L, g: L.func.jacfwd(L.func.jacfwd(g)),
    "jacfwd_jacrev": lambda L, g: L.func.jacfwd(L.func.jacrev(g)),
    "jacrev_jacfwd": lambda L, g: L.func.jacrev(L.func.jacfwd(g)),
}


@requires_torch
@pytest.mark.parametrize("composition", sorted(COMPOSITIONS))
@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - NO_VMAP))
def test_second_order_jacobians_match_torch(name, composition):
    results = []
    for L in (cgrad, torch):
        w = L.tensor(W)
        hessian = COMPOSITIONS[composition](L, lambda x: FUNCTIONS[name](L, w, x))(L.tensor(X))
        results.append(hessian.detach().numpy())
    if name in TORCH_WRONG_FORWARD_OVER_FORWARD and composition != "jacfwd_jacrev":
        reverse = torch.func.jacrev(torch.func.jacrev(lambda x: FUNCTIONS[name](torch, torch.tensor(W), x)))
        results[1] = reverse(torch.tensor(X)).numpy()
    assert results[0].shape == results[1].shape
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-11)


def test_hessian_is_symmetric_through_forward_over_reverse():
    f = FUNCTIONS["tanh_mlp"]
    w = cgrad.tensor(W)
    h = cgrad.func.jacfwd(cgrad.func.jacrev(lambda x: f(cgrad, w, x).sum()))(cgrad.tensor(X)).numpy()
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-12)


def test_dual_level_refuses_nesting_with_torch_text():
    fwAD = cgrad.autograd.forward_ad
    with fwAD.dual_level():
        with pytest.raises(RuntimeError) as info:
            with fwAD.dual_level():
                pass
    assert str(info.value) == "Nested forward mode AD is not supported at the moment"
    if torch is not None:
        with torch.autograd.forward_ad.dual_level():
            with pytest.raises(RuntimeError) as expected:
                with torch.autograd.forward_ad.dual_level():
                    pass
        assert str(info.value) == str(expected.value)
    with fwAD.dual_level():      # the refused level left the outer one usable
        d = fwAD.make_dual(cgrad.tensor(2.0), cgrad.tensor(1.0))
        assert float(fwAD.unpack_dual(d * d).tangent) == 4.0
