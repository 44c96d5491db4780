"""linalg.ldl_factor, ldl_factor_ex and ldl_solve against torch: the same
Bunch-Kaufman pivots and packed LD (1x1 and 2x2 pivots, batches, sizes
past LAPACK's block size), the same solutions, the named results, the
errors and the refusal to differentiate."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def symmetric_cases():
    for seed in range(60):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 9))
        a = rng.standard_normal((n, n))
        a = a + a.T
        if seed % 3 == 0:
            a[np.diag_indices(n)] *= 0.01          # small diagonals: 2x2 pivots
        yield a


def test_ldl_solves_without_torch():
    for a in symmetric_cases():
        b = np.random.default_rng(a.shape[0]).standard_normal((a.shape[0], 2))
        LD, piv = cgrad.linalg.ldl_factor(cgrad.tensor(a))
        x = cgrad.linalg.ldl_solve(LD, piv, cgrad.tensor(b))
        np.testing.assert_allclose(a @ x.numpy(), b, atol=1e-8)
        assert np.all(np.triu(LD.numpy(), 1) == 0)


@requires_torch
def test_factor_and_solve_match_torch():
    for a in symmetric_cases():
        t = torch.linalg.ldl_factor_ex(torch.tensor(a))
        c = cgrad.linalg.ldl_factor_ex(cgrad.tensor(a))
        np.testing.assert_array_equal(c.pivots.numpy(), t.pivots.numpy())
        np.testing.assert_allclose(c.LD.numpy(), t.LD.numpy(), rtol=1e-8, atol=1e-10)
        assert int(c.info) == int(t.info) and str(c.pivots.dtype) == "cgrad.int32"
        b = np.random.default_rng(1).standard_normal((a.shape[0], 3))
        np.testing.assert_allclose(cgrad.linalg.ldl_solve(c.LD, c.pivots, cgrad.tensor(b)).numpy(),
                                   torch.linalg.ldl_solve(t.LD, t.pivots, torch.tensor(b)).numpy(),
                                   rtol=1e-6, atol=1e-8)


@requires_torch
@pytest.mark.parametrize("n", [40, 70])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batched_and_large_match_torch(n, dtype):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((2, n, n))
    a = (a + np.swapaxes(a, -1, -2)).astype(dtype)
    a[..., np.arange(n), np.arange(n)] *= 0.05
    t = torch.linalg.ldl_factor(torch.tensor(a), hermitian=True)
    c = cgrad.linalg.ldl_factor(cgrad.tensor(a), hermitian=True)
    assert type(c).__name__ == "linalg_ldl_factor"
    np.testing.assert_array_equal(c.pivots.numpy(), t.pivots.numpy())
    tol = dict(rtol=1e-3, atol=1e-3) if dtype == "float32" else dict(rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(c.LD.numpy(), t.LD.numpy(), **tol)
    b = rng.standard_normal((n, 2)).astype(dtype)            # broadcast over the batch
    np.testing.assert_allclose(cgrad.linalg.ldl_solve(c.LD, c.pivots, cgrad.tensor(b)).numpy(),
                               torch.linalg.ldl_solve(t.LD, t.pivots, torch.tensor(b)).numpy(), **tol)


@requires_torch
def test_singular_info_and_not_differentiable():
    t = torch.linalg.ldl_factor_ex(torch.zeros(2, 3, 3))
    c = cgrad.linalg.ldl_factor_ex(cgrad.zeros(2, 3, 3))
    assert c.info.tolist() == t.info.tolist() and c.pivots.tolist() == t.pivots.tolist()
    A = cgrad.tensor(np.eye(3) * 2, requires_grad=True)
    LD, piv = cgrad.linalg.ldl_factor(A)
    assert LD.requires_grad and type(LD.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
        LD.sum().backward()
    B = cgrad.ones(3, 1, dtype=cgrad.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not implemented"):
        cgrad.linalg.ldl_solve(LD.detach(), piv, B).sum().backward()


def _error(lib, expr):
    try:
        eval(expr, {"L": lib})
    except Exception as e:     # noqa: BLE001 - the error itself is compared
        return type(e).__name__, str(e).replace("cgrad.", "torch.")
    return None


ERRORS = [
    "L.linalg.ldl_factor(L.zeros(3, 3))",
    "L.linalg.ldl_factor_ex(L.zeros(2, 3, 3), check_errors=True)",
    "L.linalg.ldl_factor(L.zeros(3, 4))",
    "L.linalg.ldl_factor(L.zeros(3))",
    "L.linalg.ldl_factor(L.zeros(3, 3, dtype=L.int32))",
    "L.linalg.ldl_factor(L.zeros(3, 3, dtype=L.float16))",
    "L.linalg.ldl_solve(L.eye(3), L.ones(3, dtype=L.int32), L.ones(3))",
    "L.linalg.ldl_solve(L.eye(3), L.ones(3, dtype=L.int32), L.ones(4, 2))",
    "L.linalg.ldl_solve(L.eye(3), L.ones(3, dtype=L.int32), L.ones(3, 2, dtype=L.float64))",
    "L.linalg.ldl_solve(L.eye(3), L.ones(2, dtype=L.int32), L.ones(3, 2))",
]


@requires_torch
@pytest.mark.parametrize("expr", ERRORS)
def test_errors_as_torch(expr):
    expected = _error(torch, expr)
    assert expected is not None
    assert _error(cgrad, expr) == expected
