"""vmap's linear-algebra rules (cgrad/func/_batch_rules_linalg.py): every
linalg op and norm form through vmap against a loop and torch.func.vmap
(values, and vmap(grad) against a loop of grad), with no fallback; operands
batched differently (one batched, one shared), logical batch dims, vector
right-hand sides and PyTorch's errors for ranks a batched call would take."""
import numpy as np
import pytest

import cgrad
from vmap_check import check_vmap, torch

rng = np.random.default_rng(11)
B = 3


def R(*shape):
    return rng.uniform(-1.0, 1.0, shape)


def SPD(*shape):
    a = R(*shape)
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(shape[-1])


def SQ(*shape):
    return R(*shape) + 3 * np.eye(shape[-1])


def _spd(L, a):
    return a @ a.mT + 3 * L.eye(a.shape[-1], dtype=a.dtype)


SINGLE = [
    ("inv", lambda L, a: L.linalg.inv(a), SQ(B, 3, 3)),
    ("inv_batch_dims", lambda L, a: L.linalg.inv(a), SQ(B, 2, 3, 3)),
    ("inv_ex", lambda L, a: L.linalg.inv_ex(a).inverse, SQ(B, 3, 3)),
    ("det", lambda L, a: L.linalg.det(a), SQ(B, 3, 3)),
    ("slogdet", lambda L, a: L.linalg.slogdet(a).logabsdet, SQ(B, 3, 3)),
    ("cholesky", lambda L, a: L.linalg.cholesky(_spd(L, a)), R(B, 3, 3)),
    ("cholesky_upper", lambda L, a: L.linalg.cholesky(_spd(L, a), upper=True), R(B, 3, 3)),
    ("cholesky_ex", lambda L, a: L.linalg.cholesky_ex(_spd(L, a)).L, R(B, 3, 3)),
    ("qr", lambda L, a: L.linalg.qr(a), R(B, 4, 3)),
    ("qr_complete_wide", lambda L, a: L.linalg.qr(a, mode="complete").Q, R(B, 3, 4)),
    ("svdvals", lambda L, a: L.linalg.svdvals(a), R(B, 4, 3)),
    ("svd_s", lambda L, a: L.linalg.svd(a, full_matrices=False).S, R(B, 3, 4)),
    ("eigvalsh", lambda L, a: L.linalg.eigvalsh(_spd(L, a)), R(B, 3, 3)),
    ("eigh_upper_values", lambda L, a: L.linalg.eigh(_spd(L, a), UPLO="U").eigenvalues, R(B, 3, 3)),
    ("matrix_exp", lambda L, a: L.linalg.matrix_exp(a), R(B, 3, 3)),
    ("pinv", lambda L, a: L.linalg.pinv(a), R(B, 4, 3)),
    ("matrix_power_3", lambda L, a: L.linalg.matrix_power(a, 3), R(B, 3, 3)),
    ("matrix_power_neg", lambda L, a: L.linalg.matrix_power(a, -2), SQ(B, 3, 3)),
    ("lu_factor", lambda L, a: L.linalg.lu_factor(a).LU, SQ(B, 3, 3)),
    # the cgrad.* spellings and the Tensor methods
    ("torch_det", lambda L, a: L.det(a), SQ(B, 3, 3)),
    ("method_det", lambda L, a: a.det(), SQ(B, 3, 3)),
    ("inverse", lambda L, a: L.inverse(a), SQ(B, 3, 3)),
    ("method_inverse", lambda L, a: a.inverse(), SQ(B, 3, 3)),
    ("logdet", lambda L, a: L.logdet(_spd(L, a)), R(B, 3, 3)),
    ("torch_slogdet", lambda L, a: L.slogdet(a)[1], SQ(B, 3, 3)),
    ("torch_cholesky", lambda L, a: L.cholesky(_spd(L, a)), R(B, 3, 3)),
    ("cholesky_inverse", lambda L, a: L.cholesky_inverse(L.linalg.cholesky(_spd(L, a))), R(B, 3, 3)),
    ("pinverse", lambda L, a: L.pinverse(a), R(B, 4, 3)),
    ("matrix_exp_method", lambda L, a: a.matrix_exp(), R(B, 3, 3)),
    ("torch_qr", lambda L, a: L.qr(a)[1], R(B, 4, 3)),
]


@pytest.mark.parametrize("name,fn,a", SINGLE, ids=[s[0] for s in SINGLE])
def test_single_matrix(name, fn, a):
    check_vmap(fn, [a], atol=1e-9)


NORMS = [
    ("vector_norm", lambda L, a: L.linalg.vector_norm(a)),
    ("vector_norm_keepdim", lambda L, a: L.linalg.vector_norm(a, keepdim=True)),
    ("vector_norm_1_dim0", lambda L, a: L.linalg.vector_norm(a, 1, dim=0)),
    ("vector_norm_3_dims", lambda L, a: L.linalg.vector_norm(a, 3, dim=(0, -1), keepdim=True)),
    ("vector_norm_inf", lambda L, a: L.linalg.vector_norm(a, float("inf"), dim=1)),
    ("vector_norm_-inf", lambda L, a: L.linalg.vector_norm(a, -float("inf"))),
    ("vector_norm_0", lambda L, a: L.linalg.vector_norm(a, 0, dim=-1)),
    ("vector_norm_half", lambda L, a: L.linalg.vector_norm(a, 0.5, dim=(1,))),
    ("vector_norm_dtype", lambda L, a: L.linalg.vector_norm(a.float(), dtype=L.float64)),
    ("matrix_norm_fro", lambda L, a: L.linalg.matrix_norm(a)),
    ("matrix_norm_nuc", lambda L, a: L.linalg.matrix_norm(a, "nuc")),
    ("matrix_norm_2", lambda L, a: L.linalg.matrix_norm(a, 2)),
    ("matrix_norm_-2", lambda L, a: L.linalg.matrix_norm(a, -2)),
    ("matrix_norm_1", lambda L, a: L.linalg.matrix_norm(a, 1)),
    ("matrix_norm_-1_keepdim", lambda L, a: L.linalg.matrix_norm(a, -1, keepdim=True)),
    ("matrix_norm_inf_dims", lambda L, a: L.linalg.matrix_norm(a, float("inf"), dim=(1, 0))),
    ("matrix_norm_fro_dims", lambda L, a: L.linalg.matrix_norm(a, dim=(0, 2), keepdim=True)),
    ("norm_default", lambda L, a: L.linalg.norm(a)),
    ("norm_default_keepdim", lambda L, a: L.linalg.norm(a, keepdim=True)),
    ("norm_ord_2d", lambda L, a: L.linalg.norm(a[0], 1)),
    ("norm_ord_1d", lambda L, a: L.linalg.norm(a[0, 0], 3)),
    ("norm_nuc_2d", lambda L, a: L.linalg.norm(a[0], "nuc")),
    ("norm_dim_int", lambda L, a: L.linalg.norm(a, 2, dim=1)),
    ("norm_dims_pair", lambda L, a: L.linalg.norm(a, float("inf"), dim=(2, 1))),
    ("norm_dims_fro", lambda L, a: L.linalg.norm(a, dim=(0, 1))),
    ("torch_norm", lambda L, a: L.norm(a)),
    ("torch_norm_p_dim", lambda L, a: a.norm(3, dim=1)),
]


@pytest.mark.parametrize("name,fn", NORMS, ids=[s[0] for s in NORMS])
def test_norms(name, fn):
    check_vmap(fn, [R(B, 2, 3, 4)], atol=1e-9)


TWO = [
    ("solve", lambda L, a, b: L.linalg.solve(a, b), [SQ(B, 3, 3), R(B, 3, 2)], 0),
    ("solve_vector", lambda L, a, b: L.linalg.solve(a, b), [SQ(B, 3, 3), R(B, 3)], 0),
    ("solve_vector_batch_dims", lambda L, a, b: L.linalg.solve(a, b), [SQ(B, 2, 3, 3), R(B, 3)], 0, False),
    ("solve_shared_A", lambda L, a, b: L.linalg.solve(a, b), [SQ(3, 3), R(B, 3)], (None, 0)),
    ("solve_shared_b", lambda L, a, b: L.linalg.solve(a, b), [SQ(B, 2, 3, 3), R(3, 4)], (0, None), False),
    ("solve_right", lambda L, a, b: L.linalg.solve(a, b, left=False), [SQ(B, 3, 3), R(B, 2, 3)], 0),
    ("solve_ex", lambda L, a, b: L.linalg.solve_ex(a, b).result, [SQ(B, 3, 3), R(B, 3)], 0),
    ("solve_triangular", lambda L, a, b: L.linalg.solve_triangular(a.triu(), b, upper=True),
     [SQ(B, 3, 3), R(B, 3, 2)], 0),
    ("solve_triangular_right_shared", lambda L, a, b: L.linalg.solve_triangular(
        a.tril(), b, upper=False, left=False, unitriangular=True), [SQ(3, 3), R(B, 2, 3)], (None, 0)),
    ("cholesky_solve", lambda L, b, a: L.cholesky_solve(b, L.linalg.cholesky(_spd(L, a))),
     [R(B, 3, 2), R(B, 3, 3)], 0),
    ("cholesky_solve_method_upper", lambda L, b, a: b.cholesky_solve(L.linalg.cholesky(_spd(L, a), upper=True),
                                                                      upper=True), [R(B, 3, 2), R(3, 3)], (0, None)),
    ("lstsq", lambda L, a, b: L.linalg.lstsq(a, b).solution, [R(B, 5, 3), R(B, 5, 2)], 0),
    ("lstsq_shared_A", lambda L, a, b: L.linalg.lstsq(a, b).solution, [R(5, 3), R(B, 5, 2)], (None, 0)),
    ("lu_solve", lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b), [SQ(B, 3, 3), R(B, 3, 2)], 0),
    ("lu_solve_adjoint_right", lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b, left=False,
                                                                  adjoint=True), [SQ(3, 3), R(B, 2, 3)], (None, 0)),
    ("linalg_cross", lambda L, a, b: L.linalg.cross(a, b), [R(B, 2, 3), R(1, 3)], (0, None)),
    ("linalg_cross_dim0", lambda L, a, b: L.linalg.cross(a, b, dim=0), [R(B, 3, 2), R(3, 2)], (0, None)),
    ("cross_first_dim_of_3", lambda L, a, b: L.cross(a, b), [R(B, 2, 3), R(B, 2, 3)], 0),
    ("cross_method_dim", lambda L, a, b: a.cross(b, dim=1), [R(B, 2, 3), R(B, 2, 3)], 0),
    ("vecdot", lambda L, a, b: L.linalg.vecdot(a, b), [R(B, 2, 4), R(4)], (0, None)),
    ("vecdot_dim0", lambda L, a, b: L.linalg.vecdot(a, b, dim=0), [R(B, 4, 2), R(B, 4, 2)], 0),
    ("multi_dot", lambda L, a, b: L.linalg.multi_dot([a, b, b.mT, a.mT]), [R(B, 2, 3), R(B, 3, 4)], 0),
    ("multi_dot_vectors", lambda L, a, b: L.linalg.multi_dot([a[0], b, b.mT, a[1]]), [R(B, 2, 3), R(3, 4)],
     (0, None)),
]


@pytest.mark.parametrize("case", TWO, ids=[s[0] for s in TWO])
def test_two_operands(case):
    # False as a fifth item: torch.func.vmap fails there (its solve rule pads
    # no logical batch dims), so the loop alone is the reference
    name, fn, arrays, in_dims = case[:4]
    check_vmap(fn, arrays, in_dims, atol=1e-9, against_torch=case[4] if len(case) > 4 else True)


ERRORS = [
    ("inv_vector", lambda L, a: L.linalg.inv(a[0]), R(B, 3, 3)),
    ("det_not_square", lambda L, a: L.linalg.det(a), R(B, 3, 4)),
    ("matrix_norm_vector", lambda L, a: L.linalg.matrix_norm(a[0]), R(B, 3, 3)),
    ("norm_ord_3d", lambda L, a: L.linalg.norm(a, 2), R(B, 2, 3, 3)),
    ("solve_vector_A", lambda L, a: L.linalg.solve(a[0], a[0]), R(B, 3, 3)),
]


@pytest.mark.parametrize("name,fn,a", ERRORS, ids=[s[0] for s in ERRORS])
def test_errors_of_one_sample(name, fn, a):
    """A logical shape the op refuses raises the op's own error (the
    physical tensor's extra dim must not make it acceptable)."""
    with pytest.raises(RuntimeError) as caught:
        cgrad.func.vmap(lambda x: fn(cgrad, x))(cgrad.tensor(a))
    with pytest.raises(RuntimeError) as direct:
        fn(cgrad, cgrad.tensor(a[0]))
    assert str(caught.value) == str(direct.value)
    if torch is not None:
        with pytest.raises(RuntimeError):
            torch.func.vmap(lambda x: fn(torch, x))(torch.tensor(a))


def test_jacfwd_and_hessian_through_linalg():
    """jacfwd (vmap over jvp) and jacrev of functions of linalg ops, against torch.func."""
    def f(L):
        return lambda a: L.linalg.slogdet(_spd(L, a)).logabsdet + L.linalg.vector_norm(
            L.linalg.solve(a + 3 * L.eye(3, dtype=a.dtype), a[0]), 3)
    a = R(3, 3)
    for transform in ("jacfwd", "jacrev", "hessian"):
        got = getattr(cgrad.func, transform)(f(cgrad))(cgrad.tensor(a))
        if torch is not None:
            expected = getattr(torch.func, transform)(f(torch))(torch.tensor(a))
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-7, atol=1e-9)
        else:
            assert got.shape == (3, 3) * (1 if transform != "hessian" else 2)
