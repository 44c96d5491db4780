"""cgrad.linalg's LAPACK-backed ops against torch: values, gradients,
grad_fn names, dtypes, named results and error texts; float64 gradcheck and
gradgradcheck of every differentiable op. Decompositions with a sign
ambiguity (qr, svd, eigh) are compared through sign-invariant quantities
(|Q|, |U|, the values, reconstructions), as PyTorch's own tests do."""
import math

import numpy as np
import pytest

import cgrad
from tests.helpers import check_gradients, compare_with_torch, rand, requires_torch, torch


def well_conditioned(*shape, seed=0, dtype=np.float64):
    """Random square matrices with a dominant diagonal (far from singular)."""
    a = rand(*shape, seed=seed, low=-1.0, high=1.0, dtype=np.float64)
    n = shape[-1]
    return (a + 3 * np.eye(n)).astype(dtype)


def spd(*shape, seed=0, dtype=np.float64):
    a = rand(*shape, seed=seed, low=-1.0, high=1.0, dtype=np.float64)
    n = shape[-1]
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def symmetric(*shape, seed=0, dtype=np.float64):
    a = rand(*shape, seed=seed, dtype=np.float64)
    return ((a + np.swapaxes(a, -1, -2)) / 2).astype(dtype)


def gradchecks(fn, *arrays, atol=1e-5, rtol=1e-3):
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    f = lambda *xs: fn(cgrad, *xs)
    assert cgrad.autograd.gradcheck(f, ins, atol=atol, rtol=rtol)
    assert cgrad.autograd.gradgradcheck(f, ins, atol=atol, rtol=rtol)


TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-7, atol=1e-9)}


# --- differential runs against torch -------------------------------------

DTYPES = [np.float32, np.float64]

CASES = {
    "inv": (lambda L, A: L.linalg.inv(A), lambda dt: [well_conditioned(2, 4, 4, dtype=dt)]),
    "inv_ex": (lambda L, A: L.linalg.inv_ex(A).inverse, lambda dt: [well_conditioned(3, 3, dtype=dt)]),
    "inverse": (lambda L, A: L.inverse(A), lambda dt: [well_conditioned(3, 3, dtype=dt)]),
    "det": (lambda L, A: L.linalg.det(A), lambda dt: [well_conditioned(2, 3, 3, dtype=dt)]),
    "det_1x1": (lambda L, A: L.det(A), lambda dt: [well_conditioned(2, 1, 1, dtype=dt)]),
    "slogdet": (lambda L, A: L.linalg.slogdet(A), lambda dt: [rand(2, 3, 3, dtype=dt)]),
    "logdet": (lambda L, A: L.logdet(A), lambda dt: [spd(2, 3, 3, dtype=dt)]),
    "solve": (lambda L, A, B: L.linalg.solve(A, B),
              lambda dt: [well_conditioned(2, 3, 3, dtype=dt), rand(2, 3, 2, seed=1, dtype=dt)]),
    "solve_vector": (lambda L, A, B: L.linalg.solve(A, B),
                     lambda dt: [well_conditioned(2, 3, 3, dtype=dt), rand(2, 3, seed=1, dtype=dt)]),
    "solve_broadcast": (lambda L, A, B: L.linalg.solve(A, B),
                        lambda dt: [well_conditioned(3, 3, dtype=dt), rand(4, 3, 2, seed=1, dtype=dt)]),
    "solve_right": (lambda L, A, B: L.linalg.solve(A, B, left=False),
                    lambda dt: [well_conditioned(3, 3, dtype=dt), rand(2, 3, seed=1, dtype=dt)]),
    "solve_ex": (lambda L, A, B: L.linalg.solve_ex(A, B).result,
                 lambda dt: [well_conditioned(3, 3, dtype=dt), rand(3, 1, seed=1, dtype=dt)]),
    "solve_triangular_upper": (lambda L, A, B: L.linalg.solve_triangular(A.triu(), B, upper=True),
                               lambda dt: [well_conditioned(2, 3, 3, dtype=dt), rand(2, 3, 2, seed=1, dtype=dt)]),
    "solve_triangular_lower_right_unit": (
        lambda L, A, B: L.linalg.solve_triangular(A, B, upper=False, left=False, unitriangular=True),
        lambda dt: [rand(3, 3, dtype=dt), rand(2, 3, seed=1, dtype=dt)]),
    "cholesky": (lambda L, A: L.linalg.cholesky(A), lambda dt: [spd(2, 3, 3, dtype=dt)]),
    "cholesky_upper": (lambda L, A: L.linalg.cholesky(A, upper=True), lambda dt: [spd(3, 3, dtype=dt)]),
    "cholesky_ex": (lambda L, A: L.linalg.cholesky_ex(A).L, lambda dt: [spd(3, 3, dtype=dt)]),
    "cholesky_legacy": (lambda L, A: L.cholesky(A), lambda dt: [spd(3, 3, dtype=dt)]),
    "cholesky_solve": (lambda L, B, A: L.cholesky_solve(B, L.linalg.cholesky(A)),
                       lambda dt: [rand(3, 2, dtype=dt), spd(3, 3, seed=1, dtype=dt)]),
    "cholesky_inverse": (lambda L, A: L.cholesky_inverse(L.linalg.cholesky(A)), lambda dt: [spd(3, 3, dtype=dt)]),
    "qr_reduced": (lambda L, A: tuple(t.abs() for t in L.linalg.qr(A)), lambda dt: [rand(2, 4, 3, dtype=dt)]),
    "qr_complete_wide": (lambda L, A: tuple(t.abs() for t in L.linalg.qr(A, mode="complete")),
                         lambda dt: [rand(3, 5, dtype=dt)]),
    "qr_r": (lambda L, A: L.linalg.qr(A.detach(), mode="r").R.abs(), lambda dt: [rand(4, 3, dtype=dt)]),
    "svd": (lambda L, A: (lambda r: (r.U.abs(), r.S, r.Vh.abs()))(L.linalg.svd(A, full_matrices=False)),
            lambda dt: [rand(2, 4, 3, dtype=dt)]),
    "svd_wide": (lambda L, A: (lambda r: (r.U.abs(), r.S, r.Vh.abs()))(L.linalg.svd(A, full_matrices=False)),
                 lambda dt: [rand(3, 5, dtype=dt)]),
    "svdvals": (lambda L, A: L.linalg.svdvals(A), lambda dt: [rand(2, 3, 4, dtype=dt)]),
    "svd_legacy": (lambda L, A: (lambda r: (r[0].abs(), r[1], r[2].abs()))(L.svd(A)),
                   lambda dt: [rand(4, 3, dtype=dt)]),
    "eigh": (lambda L, A: (lambda r: (r.eigenvalues, r.eigenvectors.abs()))(L.linalg.eigh(A)),
             lambda dt: [symmetric(2, 3, 3, dtype=dt)]),
    "eigh_upper": (lambda L, A: L.linalg.eigh(A, UPLO="U").eigenvalues, lambda dt: [symmetric(3, 3, dtype=dt)]),
    "eigvalsh": (lambda L, A: L.linalg.eigvalsh(A), lambda dt: [symmetric(3, 3, dtype=dt)]),
    "pinv": (lambda L, A: L.linalg.pinv(A), lambda dt: [rand(2, 4, 3, dtype=dt)]),
    "pinv_wide": (lambda L, A: L.linalg.pinv(A), lambda dt: [rand(3, 5, dtype=dt)]),
    "pinv_hermitian": (lambda L, A: L.linalg.pinv(A, hermitian=True), lambda dt: [spd(3, 3, dtype=dt)]),
    "pinverse": (lambda L, A: L.pinverse(A), lambda dt: [rand(3, 4, dtype=dt)]),
    "lstsq": (lambda L, A, B: L.linalg.lstsq(A, B).solution,
              lambda dt: [rand(5, 3, dtype=dt), rand(5, 2, seed=1, dtype=dt)]),
    "lstsq_vector": (lambda L, A, B: L.linalg.lstsq(A, B).solution,
                     lambda dt: [rand(2, 5, 3, dtype=dt), rand(2, 5, seed=1, dtype=dt)]),
    "matrix_exp": (lambda L, A: L.linalg.matrix_exp(A), lambda dt: [rand(2, 3, 3, dtype=dt)]),
    "matrix_exp_large": (lambda L, A: L.matrix_exp(A * 4), lambda dt: [rand(4, 4, dtype=dt)]),
    "matrix_power_5": (lambda L, A: L.linalg.matrix_power(A, 5), lambda dt: [rand(3, 3, dtype=dt) / 2]),
    "matrix_power_neg": (lambda L, A: L.linalg.matrix_power(A, -2), lambda dt: [well_conditioned(3, 3, dtype=dt)]),
    "matrix_power_1": (lambda L, A: L.matrix_power(A, 1), lambda dt: [rand(3, 3, dtype=dt)]),
    "matrix_power_3": (lambda L, A: A.matrix_power(3), lambda dt: [rand(2, 3, 3, dtype=dt)]),
    "cross": (lambda L, a, b: L.linalg.cross(a, b), lambda dt: [rand(4, 3, dtype=dt), rand(4, 3, seed=1, dtype=dt)]),
    "cross_dim": (lambda L, a, b: L.linalg.cross(a, b, dim=0), lambda dt: [rand(3, 2, dtype=dt), rand(3, 2, seed=1, dtype=dt)]),
    "cross_broadcast": (lambda L, a, b: L.linalg.cross(a, b), lambda dt: [rand(4, 3, dtype=dt), rand(1, 3, seed=1, dtype=dt)]),
    "multi_dot": (lambda L, a, b, c, d: L.linalg.multi_dot([a, b, c, d]),
                  lambda dt: [rand(2, 5, dtype=dt), rand(5, 3, seed=1, dtype=dt), rand(3, 6, seed=2, dtype=dt),
                              rand(6, seed=3, dtype=dt)]),
    "multi_dot_3": (lambda L, a, b, c: L.linalg.multi_dot([a, b, c]),
                    lambda dt: [rand(4, dtype=dt), rand(4, 3, seed=1, dtype=dt), rand(3, 2, seed=2, dtype=dt)]),
    "vecdot": (lambda L, a, b: L.linalg.vecdot(a, b), lambda dt: [rand(4, 3, dtype=dt), rand(4, 3, seed=1, dtype=dt)]),
    "lu_factor": (lambda L, A: L.linalg.lu_factor(A).LU, lambda dt: [rand(2, 4, 4, dtype=dt)]),
    "lu_solve": (lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B),
                 lambda dt: [rand(2, 3, 3, dtype=dt), rand(2, 3, 2, seed=1, dtype=dt)]),
    "lu_solve_adjoint": (lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B, adjoint=True),
                         lambda dt: [rand(3, 3, dtype=dt), rand(3, 2, seed=1, dtype=dt)]),
    "lu_solve_right": (lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B, left=False),
                       lambda dt: [rand(3, 3, dtype=dt), rand(2, 3, seed=1, dtype=dt)]),
}

for _ord in ["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]:
    CASES[f"matrix_norm_{_ord}"] = (lambda L, A, o=_ord: L.linalg.matrix_norm(A, o),
                                    lambda dt: [rand(2, 3, 4, dtype=dt)])
    CASES[f"matrix_norm_{_ord}_keepdim_dims"] = (
        lambda L, A, o=_ord: L.linalg.matrix_norm(A, o, dim=(0, 2), keepdim=True),
        lambda dt: [rand(3, 2, 4, dtype=dt)])
CASES["norm_vector"] = (lambda L, A: L.linalg.norm(A), lambda dt: [rand(2, 3, 4, dtype=dt)])
CASES["norm_matrix_ord"] = (lambda L, A: L.linalg.norm(A, 1), lambda dt: [rand(3, 4, dtype=dt)])
CASES["norm_dim"] = (lambda L, A: L.linalg.norm(A, 3, dim=1), lambda dt: [rand(3, 4, dtype=dt)])


@pytest.mark.parametrize("dt", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, dt):
    fn, make = CASES[name]
    # these read one triangle of a symmetric input and return torch's
    # symmetrised gradient, which is not a finite difference of one element
    symmetric = name.startswith(("cholesky", "eigh", "eigvalsh", "pinv_hermitian"))
    compare_with_torch(fn, *make(dt), **TOL[dt], gradcheck=not symmetric)


@requires_torch
def test_named_results_and_ints():
    A = well_conditioned(2, 3, 3)
    for lib in (cgrad, torch):
        r = lib.linalg.inv_ex(lib.tensor(A))
        assert str(r.info.dtype).endswith("int32") and tuple(r.info.shape) == (2,)
    c = cgrad.linalg.lu_factor(cgrad.tensor(A))
    t = torch.linalg.lu_factor(torch.tensor(A))
    np.testing.assert_array_equal(c.pivots.numpy(), t.pivots.numpy())
    assert str(c.pivots.dtype) == "cgrad.int32"
    assert type(cgrad.linalg.slogdet(cgrad.tensor(A))).__name__ == "linalg_slogdet"
    assert repr(cgrad.linalg.slogdet(cgrad.tensor(np.eye(2)))).startswith("cgrad.return_types.linalg_slogdet(\nsign=")


@requires_torch
@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 6, 4)])
def test_lstsq_results_per_driver(driver, shape):
    A = rand(*shape)
    B = rand(*shape[:-1], 2, seed=1)
    c = cgrad.linalg.lstsq(cgrad.tensor(A), cgrad.tensor(B), driver=driver)
    t = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver=driver)
    for field in ("solution", "residuals", "rank", "singular_values"):
        cv, tv = getattr(c, field), getattr(t, field)
        assert tuple(cv.shape) == tuple(tv.shape), field
        assert str(cv.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1], field
        np.testing.assert_allclose(cv.numpy(), tv.numpy(), rtol=1e-3, atol=1e-4, err_msg=field)


@requires_torch
@pytest.mark.parametrize("hermitian", [False, True])
def test_matrix_rank(hermitian):
    a = rand(3, 4, 2)
    A = a @ np.swapaxes(a, -1, -2)    # rank 2 of 4
    A[1] = np.eye(4)
    for kw in ({}, {"atol": 0.5}, {"rtol": 0.3}, {"atol": 0.1, "rtol": 0.1}):
        c = cgrad.linalg.matrix_rank(cgrad.tensor(A), hermitian=hermitian, **kw)
        t = torch.linalg.matrix_rank(torch.tensor(A), hermitian=hermitian, **kw)
        np.testing.assert_array_equal(c.numpy(), t.numpy())
        assert str(c.dtype) == "cgrad.int64"


@requires_torch
def test_legacy_svd_qr_and_methods():
    A = rand(4, 3)
    U, S, V = cgrad.svd(cgrad.tensor(A, requires_grad=True))
    np.testing.assert_allclose((U @ cgrad.diag(S) @ V.mT).detach().numpy(), A, atol=1e-5)
    assert type(V.grad_fn).__name__ == "TransposeBackward0"
    Uz, Sz, Vz = cgrad.tensor(A).svd(compute_uv=False)
    tz = torch.tensor(A).svd(compute_uv=False)
    assert tuple(Uz.shape) == tuple(tz.U.shape) and float(Uz.abs().sum()) == 0
    Q, R = cgrad.tensor(A).qr(some=False)
    assert tuple(Q.shape) == (4, 4) and tuple(R.shape) == (4, 3)
    np.testing.assert_allclose((Q @ R).numpy(), A, atol=1e-5)
    M = cgrad.tensor(spd(3, 3))
    Mt = torch.tensor(spd(3, 3))
    for name in ("inverse", "det", "logdet", "matrix_exp", "cholesky", "pinverse"):
        np.testing.assert_allclose(getattr(M, name)().numpy(), getattr(Mt, name)().numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(M.slogdet()[1].numpy(), Mt.slogdet()[1].numpy())
    np.testing.assert_allclose(M.matrix_power(3).numpy(), Mt.matrix_power(3).numpy())
    N, Nt = cgrad.tensor(rand(3, 3, dtype=np.float64)), torch.tensor(rand(3, 3, dtype=np.float64))
    np.testing.assert_allclose(M.cross(N, dim=0).numpy(), Mt.cross(Nt, dim=0).numpy(), atol=1e-12)


@requires_torch
def test_reconstructions_float64():
    A = rand(3, 5, 4, dtype=np.float64)
    U, S, Vh = cgrad.linalg.svd(cgrad.tensor(A))
    assert tuple(U.shape) == (3, 5, 5) and tuple(Vh.shape) == (3, 4, 4)
    np.testing.assert_allclose((U[..., :4] * S.unsqueeze(-2) @ Vh).numpy(), A, atol=1e-12)
    Q, R = cgrad.linalg.qr(cgrad.tensor(A), mode="complete")
    np.testing.assert_allclose((Q @ R).numpy(), A, atol=1e-12)
    H = symmetric(2, 4, 4)
    L, V = cgrad.linalg.eigh(cgrad.tensor(H))
    np.testing.assert_allclose((V * L.unsqueeze(-2) @ V.mT).numpy(), H, atol=1e-12)


# --- errors ------------------------------------------------------------

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]], dtype=np.float32)
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]], dtype=np.float32)

ERRORS = {
    "inv_singular": lambda L: L.linalg.inv(L.tensor(SINGULAR)),
    "inv_singular_3": lambda L: L.linalg.inv(L.tensor([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]])),
    "inv_singular_batch": lambda L: L.linalg.inv(L.stack([L.eye(2), L.tensor(SINGULAR)])),
    "inverse_singular": lambda L: L.inverse(L.tensor(SINGULAR)),
    "matrix_power_singular": lambda L: L.linalg.matrix_power(L.tensor(SINGULAR), -1),
    "solve_singular": lambda L: L.linalg.solve(L.tensor(SINGULAR), L.ones(2)),
    "cholesky_not_pd": lambda L: L.linalg.cholesky(L.tensor(NOT_PD)),
    "cholesky_not_pd_batch": lambda L: L.linalg.cholesky(L.stack([L.eye(2), L.tensor(NOT_PD)])),
    "cholesky_legacy_not_pd": lambda L: L.cholesky(L.tensor(NOT_PD)),
    "lu_factor_singular": lambda L: L.linalg.lu_factor(L.tensor(SINGULAR)),
    "inv_int": lambda L: L.linalg.inv(L.ones(2, 2, dtype=L.int64)),
    "inv_half": lambda L: L.linalg.inv(L.eye(2).half()),
    "inv_1d": lambda L: L.linalg.inv(L.ones(2)),
    "inv_nonsquare": lambda L: L.linalg.inv(L.ones(2, 3)),
    "det_nonsquare": lambda L: L.linalg.det(L.ones(2, 3)),
    "det_int": lambda L: L.linalg.det(L.ones(2, 2, dtype=L.int64)),
    "svd_1d": lambda L: L.linalg.svd(L.ones(3)),
    "eigh_uplo": lambda L: L.linalg.eigh(L.eye(2), UPLO="X"),
    "qr_mode": lambda L: L.linalg.qr(L.ones(3, 3), mode="foo"),
    "solve_shapes": lambda L: L.linalg.solve(L.eye(2), L.ones(3)),
    "solve_shapes_matrix": lambda L: L.linalg.solve(L.eye(2), L.ones(3, 3)),
    "solve_dtypes": lambda L: L.linalg.solve(L.eye(2), L.ones(2, dtype=L.float64)),
    "cross_length": lambda L: L.linalg.cross(L.ones(2, 2), L.ones(2, 2)),
    "multi_dot_one": lambda L: L.linalg.multi_dot([L.ones(2, 2)]),
    "multi_dot_3d": lambda L: L.linalg.multi_dot([L.ones(2, 2), L.ones(2, 2, 2)]),
    "multi_dot_shapes": lambda L: L.linalg.multi_dot([L.ones(2, 3), L.ones(2, 2)]),
    "lstsq_driver": lambda L: L.linalg.lstsq(L.ones(3, 2), L.ones(3, 1), driver="foo"),
    "matrix_norm_ord": lambda L: L.linalg.matrix_norm(L.ones(2, 2), 3),
    "matrix_norm_1d": lambda L: L.linalg.matrix_norm(L.ones(2)),
    "matrix_exp_nonsquare": lambda L: L.linalg.matrix_exp(L.ones(2, 3)),
    "matrix_power_nonsquare": lambda L: L.linalg.matrix_power(L.ones(2, 3), 2),
    "qr_r_backward": lambda L: L.linalg.qr(L.ones(3, 2, requires_grad=True), mode="r").R.sum().backward(),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    with pytest.raises(Exception) as t_err:
        ERRORS[name](torch)
    with pytest.raises(Exception) as c_err:
        ERRORS[name](cgrad)
    assert str(c_err.value) == str(t_err.value).replace("torch.", "cgrad.") or \
        str(c_err.value) == str(t_err.value)
    t_linalg = isinstance(t_err.value, torch.linalg.LinAlgError)
    assert isinstance(c_err.value, cgrad.linalg.LinAlgError) == t_linalg
    assert isinstance(c_err.value, type(t_err.value).__mro__[1] if t_linalg else type(t_err.value))


@requires_torch
def test_ex_variants_report_info():
    for lib in (cgrad, torch):
        r = lib.linalg.inv_ex(lib.stack([lib.eye(2), lib.tensor(SINGULAR)]))
        assert r.info.tolist() == [0, 2]
        c = lib.linalg.cholesky_ex(lib.tensor(NOT_PD))
        assert int(c.info) == 2
    np.testing.assert_allclose(cgrad.linalg.cholesky_ex(cgrad.tensor(NOT_PD)).L.numpy(),
                               torch.linalg.cholesky_ex(torch.tensor(NOT_PD)).L.numpy())
    c = cgrad.linalg.lu_factor_ex(cgrad.tensor(SINGULAR))
    t = torch.linalg.lu_factor_ex(torch.tensor(SINGULAR))
    np.testing.assert_allclose(c.LU.numpy(), t.LU.numpy())
    assert c.pivots.tolist() == t.pivots.tolist() and int(c.info) == int(t.info)


def test_linalg_error_is_runtime_error():
    assert issubclass(cgrad.linalg.LinAlgError, RuntimeError)


# --- float64 gradcheck and gradgradcheck ---------------------------------

GRAD_CASES = {
    "inv": (lambda L, A: L.linalg.inv(A), [well_conditioned(2, 3, 3)]),
    "det": (lambda L, A: L.linalg.det(A), [well_conditioned(2, 3, 3)]),
    "det_singular": (lambda L, A: L.linalg.det(A), [np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, 1.0, -1.0]])]),
    "slogdet": (lambda L, A: L.linalg.slogdet(A).logabsdet, [well_conditioned(3, 3)]),
    "solve": (lambda L, A, B: L.linalg.solve(A, B), [well_conditioned(2, 3, 3), rand(3, 2, seed=1, dtype=np.float64)]),
    "solve_right_vector": (lambda L, A, B: L.linalg.solve(A, B, left=False), [well_conditioned(3, 3), rand(2, 3, seed=1, dtype=np.float64)]),
    "solve_triangular": (lambda L, A, B: L.linalg.solve_triangular(A, B, upper=True),
                         [well_conditioned(3, 3), rand(3, 2, seed=1, dtype=np.float64)]),
    "solve_triangular_right_unit": (lambda L, A, B: L.linalg.solve_triangular(A, B, upper=False, left=False, unitriangular=True),
                                    [rand(3, 3, dtype=np.float64), rand(2, 3, seed=1, dtype=np.float64)]),
    "cholesky": (lambda L, A: L.linalg.cholesky(A @ A.mT + 3 * L.eye(3, dtype=L.float64)), [rand(3, 3, dtype=np.float64)]),
    "cholesky_upper": (lambda L, A: L.linalg.cholesky(A @ A.mT + 3 * L.eye(3, dtype=L.float64), upper=True), [rand(3, 3, dtype=np.float64)]),
    "cholesky_solve": (lambda L, B, A: L.cholesky_solve(B, L.linalg.cholesky(A @ A.mT + 3 * L.eye(3, dtype=L.float64))),
                       [rand(3, 2, dtype=np.float64), rand(3, 3, seed=1, dtype=np.float64)]),
    "cholesky_inverse": (lambda L, A: L.cholesky_inverse(L.linalg.cholesky(A @ A.mT + 3 * L.eye(3, dtype=L.float64))),
                         [rand(3, 3, dtype=np.float64)]),
    "qr": (lambda L, A: tuple(L.linalg.qr(A)), [rand(4, 3, dtype=np.float64)]),
    "qr_wide": (lambda L, A: tuple(L.linalg.qr(A)), [rand(3, 4, dtype=np.float64)]),
    "svd": (lambda L, A: (lambda r: (r.U.abs(), r.S, r.Vh.abs()))(L.linalg.svd(A, full_matrices=False)), [rand(4, 3, dtype=np.float64)]),
    "svd_wide": (lambda L, A: (lambda r: (r.U.abs(), r.S, r.Vh.abs()))(L.linalg.svd(A, full_matrices=False)), [rand(3, 4, dtype=np.float64)]),
    "svdvals": (lambda L, A: L.linalg.svdvals(A), [rand(2, 3, 4, dtype=np.float64)]),
    "eigh": (lambda L, A: (lambda r: (r.eigenvalues, r.eigenvectors.abs()))(L.linalg.eigh(A + A.mT)), [rand(3, 3, dtype=np.float64)]),
    "eigvalsh": (lambda L, A: L.linalg.eigvalsh(A + A.mT), [rand(3, 3, dtype=np.float64)]),
    "pinv": (lambda L, A: L.linalg.pinv(A), [rand(4, 3, dtype=np.float64)]),
    "pinv_wide": (lambda L, A: L.linalg.pinv(A), [rand(3, 4, dtype=np.float64)]),
    "lstsq": (lambda L, A, B: L.linalg.lstsq(A, B).solution, [rand(5, 3, dtype=np.float64), rand(5, 2, seed=1, dtype=np.float64)]),
    "matrix_exp": (lambda L, A: L.linalg.matrix_exp(A), [rand(3, 3, dtype=np.float64)]),
    "cross": (lambda L, a, b: L.linalg.cross(a, b), [rand(2, 3, dtype=np.float64), rand(2, 3, seed=1, dtype=np.float64)]),
    "matrix_norm_nuc": (lambda L, A: L.linalg.matrix_norm(A, "nuc"), [rand(3, 4, dtype=np.float64)]),
    "matrix_norm_2": (lambda L, A: L.linalg.matrix_norm(A, 2), [rand(3, 4, dtype=np.float64)]),
    "matrix_power": (lambda L, A: L.linalg.matrix_power(A, -3), [well_conditioned(3, 3)]),
    "multi_dot": (lambda L, a, b, c: L.linalg.multi_dot([a, b, c]),
                  [rand(2, 3, dtype=np.float64), rand(3, 4, seed=1, dtype=np.float64), rand(4, seed=2, dtype=np.float64)]),
    "lu_factor": (lambda L, A: L.linalg.lu_factor(A).LU, [rand(3, 3, dtype=np.float64)]),
    "lu_solve": (lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B), [rand(3, 3, dtype=np.float64), rand(3, 2, seed=1, dtype=np.float64)]),
    "lu_solve_adjoint": (lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B, adjoint=True),
                         [rand(3, 3, dtype=np.float64), rand(3, 2, seed=1, dtype=np.float64)]),
    "lu_solve_right": (lambda L, A, B: L.linalg.lu_solve(*L.linalg.lu_factor(A), B, left=False),
                       [rand(3, 3, dtype=np.float64), rand(2, 3, seed=1, dtype=np.float64)]),
}


# Cases whose gradcheck is a known open defect, kept visible, not skipped
# (det at a singular matrix left it once det was a product of LU's diagonal
# as PyTorch computes it: numpy's exp(log|det|) was not accurate enough
# around the singular point for the finite differences).
KNOWN_BAD = set()


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="open defect"))
                                  if n in KNOWN_BAD else n for n in sorted(GRAD_CASES)])
def test_gradcheck_and_gradgradcheck(name):
    fn, arrays = GRAD_CASES[name]
    gradchecks(fn, *arrays)
