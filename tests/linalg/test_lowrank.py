"""svd_lowrank and pca_lowrank: on exactly low-rank matrices the randomized
SVD is exact, so its singular values and reconstruction are compared with
torch's (the random test matrices differ: cgrad's generator is not
torch's); shapes, errors and gradients flow."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def low_rank(*batch, m=12, n=8, rank=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(batch + (m, rank)) @ rng.standard_normal(batch + (rank, n))


@pytest.mark.parametrize("shape", [(12, 8), (8, 12)])
def test_svd_lowrank_reconstructs_a_low_rank_matrix(shape):
    a = low_rank(m=shape[0], n=shape[1])
    cgrad.manual_seed(0)
    U, S, V = cgrad.svd_lowrank(cgrad.tensor(a), q=5)
    assert tuple(U.shape) == (shape[0], 5) and tuple(S.shape) == (5,) and tuple(V.shape) == (shape[1], 5)
    np.testing.assert_allclose((U @ cgrad.diag(S) @ V.mT).numpy(), a, atol=1e-9)
    np.testing.assert_allclose(S.numpy()[:3], np.linalg.svd(a, compute_uv=False)[:3], rtol=1e-9)


@requires_torch
def test_singular_values_and_pca_match_torch():
    a = low_rank(2, m=10, n=7)
    S_c = cgrad.svd_lowrank(cgrad.tensor(a), q=4)[1]
    S_t = torch.svd_lowrank(torch.tensor(a), q=4)[1]
    np.testing.assert_allclose(S_c.numpy()[..., :3], S_t.numpy()[..., :3], rtol=1e-9)
    P_c = cgrad.pca_lowrank(cgrad.tensor(a[0]), q=3)
    P_t = torch.pca_lowrank(torch.tensor(a[0]), q=3)
    np.testing.assert_allclose(P_c[1].numpy(), P_t[1].numpy(), rtol=1e-8)
    np.testing.assert_allclose(np.abs(P_c[2].numpy()), np.abs(P_t[2].numpy()), atol=1e-6)
    for lib in (cgrad, torch):
        with pytest.raises(ValueError, match=r"q\(=9\) must be non-negative integer and not greater than min\(m, n\)=7"):
            lib.pca_lowrank(lib.tensor(a[0]), q=9)
        with pytest.raises(ValueError, match=r"niter\(=-1\) must be non-negative integer"):
            lib.pca_lowrank(lib.tensor(a[0]), niter=-1)


def test_gradients_flow():
    x = cgrad.tensor(low_rank(), requires_grad=True)
    U, S, V = cgrad.svd_lowrank(x, q=3)
    S.sum().backward()
    assert x.grad is not None and tuple(x.grad.shape) == (12, 8)


def spd(n=20, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    return a @ a.T + np.eye(n)


@pytest.mark.parametrize("method", ["ortho", "basic"])
@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg_finds_the_extreme_eigenpairs(method, largest):
    a = spd()
    E, V = cgrad.lobpcg(cgrad.tensor(a), k=3, largest=largest, method=method, niter=200)
    w = np.sort(np.linalg.eigvalsh(a))
    np.testing.assert_allclose(E.numpy(), w[::-1][:3] if largest else w[:3], rtol=1e-9)
    np.testing.assert_allclose(a @ V.numpy(), V.numpy() * E.numpy(), atol=1e-6)


@requires_torch
def test_lobpcg_values_and_gradient_match_torch():
    a = spd(seed=1)
    for method in ("ortho", "basic"):
        Ec, _ = cgrad.lobpcg(cgrad.tensor(a), k=2, method=method, niter=200)
        Et, _ = torch.lobpcg(torch.tensor(a), k=2, method=method, niter=200)
        np.testing.assert_allclose(Ec.numpy(), Et.numpy(), rtol=1e-10)
    Ac, At = cgrad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    Ec, Vc = cgrad.lobpcg(Ac, k=2)
    Et, Vt = torch.lobpcg(At, k=2)
    assert type(Ec.grad_fn).__name__ == type(Et.grad_fn).__name__ == "LOBPCGAutogradFunctionBackward"
    (Ec.sum() + Vc.abs().sum()).backward()
    (Et.sum() + Vt.abs().sum()).backward()
    np.testing.assert_allclose(Ac.grad.numpy(), At.grad.numpy(), atol=1e-6)


@requires_torch
def test_lobpcg_errors_match_torch():
    msgs = []
    for lib in (cgrad, torch):
        with pytest.raises(ValueError) as info:
            lib.lobpcg(lib.tensor(spd(n=6)), k=3)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]
