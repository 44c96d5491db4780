"""vmap of linalg.lstsq, every driver and every result (solution,
residuals, rank, singular values), with matrix and VECTOR right-hand sides:
one batched call, against a loop over the samples (torch.func.vmap reads a
batched vector right-hand side as a matrix and refuses it, so the loop is
the reference there; matrix right-hand sides are compared with torch too).
The results a driver leaves empty are empty per sample; gelsd/gelss
residuals that exist for some samples (full rank) and not for others have
no batched shape: the per-sample run raises what the loop's stack raises.
And lstsq itself, unbatched: a vector right-hand side's residuals have
shape (1,) as PyTorch's, with their gradient and tangent."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch
from vmap_check import FALLBACK, assert_same, loop, run_quiet

rng = np.random.default_rng(17)
B = 3
A = rng.standard_normal((B, 5, 3))
A_WIDE = rng.standard_normal((B, 3, 5))
VEC = rng.standard_normal((B, 5))
MAT = rng.standard_normal((B, 5, 2))
DRIVERS = ["gelsy", "gels", "gelsd", "gelss"]


def _lstsq(driver):
    return lambda a, b: tuple(cgrad.linalg.lstsq(a, b, driver=driver))


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("rhs", ["vector", "matrix"])
@pytest.mark.parametrize("in_dims", [(0, 0), (None, 0), (0, None)])
def test_lstsq_results_against_loop(driver, rhs, in_dims):
    a = A if in_dims[0] == 0 else A[0]
    b = (VEC if rhs == "vector" else MAT) if in_dims[1] == 0 else (VEC if rhs == "vector" else MAT)[0]
    args = [cgrad.tensor(a), cgrad.tensor(b)]
    out = run_quiet(cgrad.func.vmap(_lstsq(driver), in_dims=in_dims), *args)
    assert_same(out, loop(_lstsq(driver), args, in_dims), f"{driver} {rhs}: vmap vs loop", atol=1e-9)
    if torch is not None and rhs == "matrix":
        expected = torch.func.vmap(lambda x, y: tuple(torch.linalg.lstsq(x, y, driver=driver)), in_dims=in_dims)(
            torch.tensor(a), torch.tensor(b))
        assert_same(out, expected, f"{driver}: vmap vs torch.func.vmap", atol=1e-9)


@pytest.mark.parametrize("driver", DRIVERS)
def test_lstsq_wide_and_all_rank_deficient(driver):
    """m <= n (no residuals), and every sample rank-deficient (none)."""
    deficient = A.copy()
    deficient[:, :, 2] = deficient[:, :, 1]
    for a, b in ((A_WIDE, VEC[:, :3]), (deficient, VEC)):
        args = [cgrad.tensor(a), cgrad.tensor(b)]
        out = run_quiet(cgrad.func.vmap(_lstsq(driver)), *args)
        assert_same(out, loop(_lstsq(driver), args, (0, 0)), f"{driver}: vmap vs loop", atol=1e-9)


@pytest.mark.parametrize("driver", ["gelsd", "gelss"])
def test_lstsq_mixed_rank_residuals_run_per_sample(driver):
    mixed = A.copy()
    mixed[1, :, 2] = mixed[1, :, 1]
    args = [cgrad.tensor(mixed), cgrad.tensor(VEC)]
    with pytest.raises(RuntimeError) as expected:
        loop(_lstsq(driver), args, (0, 0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError) as error:
            cgrad.func.vmap(_lstsq(driver))(*args)
    assert str(error.value) == str(expected.value)
    assert any(FALLBACK in str(w.message) and "aten::lstsq" in str(w.message) for w in caught)


def test_vmap_grad_of_vector_residuals():
    def f(a, b):
        return cgrad.linalg.lstsq(a, b, driver="gelsd").residuals.sum()
    args = [cgrad.tensor(A), cgrad.tensor(VEC)]
    for argnums in (0, 1):
        got = run_quiet(cgrad.func.vmap(cgrad.func.grad(f, argnums=argnums)), *args)
        assert_same(got, loop(cgrad.func.grad(f, argnums=argnums), args, (0, 0)), "vmap(grad) vs loop", atol=1e-9)


@requires_torch
@pytest.mark.parametrize("driver", DRIVERS)
def test_unbatched_vector_rhs_matches_torch(driver):
    a, b = A[0], VEC[0]
    ours = cgrad.linalg.lstsq(cgrad.tensor(a, requires_grad=True), cgrad.tensor(b, requires_grad=True),
                              driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True),
                                driver=driver)
    for x, y in zip(ours, theirs):
        assert tuple(x.shape) == tuple(y.shape)
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=1e-10, atol=1e-12)
    if driver != "gelsy":
        def residual_sum(lib):
            return lambda x, y: lib.linalg.lstsq(x, y, driver=driver).residuals.sum()
        grads = cgrad.func.grad(residual_sum(cgrad), argnums=(0, 1))(cgrad.tensor(a), cgrad.tensor(b))
        expected = torch.func.grad(residual_sum(torch), argnums=(0, 1))(torch.tensor(a), torch.tensor(b))
        assert_same(grads, expected, "residual gradients", atol=1e-9)
        tangent = cgrad.func.jvp(residual_sum(cgrad), (cgrad.tensor(a), cgrad.tensor(b)),
                                 (cgrad.ones(5, 3, dtype=cgrad.float64), cgrad.ones(5, dtype=cgrad.float64)))
        expected = torch.func.jvp(residual_sum(torch), (torch.tensor(a), torch.tensor(b)),
                                  (torch.ones(5, 3, dtype=torch.float64), torch.ones(5, dtype=torch.float64)))
        assert_same(tangent, expected, "residual tangents", atol=1e-9)
