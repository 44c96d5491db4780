"""linalg.lu, lu_unpack, the deprecated torch.lu and triangular_solve, geqrf,
householder_product and ormqr against torch: values, gradients, grad_fn
names, named results and error texts; float64 gradcheck and gradgradcheck
of each differentiable one. Inputs are C-contiguous copies (the
finite-difference check perturbs its inputs through a flat numpy view)."""
import warnings

import numpy as np
import pytest

import cgrad
from tests.helpers import compare_with_torch, rand, requires_torch, torch

pytestmark = pytest.mark.filterwarnings("ignore:torch\\.(lu|triangular_solve) is deprecated")

TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-7, atol=1e-9)}
DTYPES = [np.float32, np.float64]


def dominant(*shape, seed=0, dtype=np.float64):
    a = rand(*shape, seed=seed, low=-1.0, high=1.0, dtype=np.float64)
    return (a + 3 * np.eye(shape[-2], shape[-1])).astype(dtype)


def lu_factors(*shape, seed=0, dtype=np.float64):
    r = cgrad.linalg.lu_factor(cgrad.tensor(rand(*shape, seed=seed, dtype=np.float64)))
    return np.ascontiguousarray(r.LU.numpy().astype(dtype)), r.pivots.numpy()


def reflectors(*shape, seed=0, dtype=np.float64):
    """geqrf's (a, tau) of a random matrix, as numpy computes them."""
    h, tau = np.linalg.qr(rand(*shape, seed=seed, dtype=np.float64), mode="raw")
    return np.ascontiguousarray(np.swapaxes(h, -1, -2)).astype(dtype), tau.astype(dtype)


def gradchecks(fn, *arrays):
    ins = [cgrad.tensor(np.ascontiguousarray(a), requires_grad=a.dtype.kind == "f") for a in arrays]
    diff = [x for x in ins if x.requires_grad]

    def f(*xs):
        it = iter(xs)
        return fn(cgrad, *[next(it) if x.requires_grad else x for x in ins])
    assert cgrad.autograd.gradcheck(f, diff, atol=1e-5, rtol=1e-3)
    assert cgrad.autograd.gradgradcheck(f, diff, atol=1e-5, rtol=1e-3)


CASES = {
    "lu_square": (lambda L, A: tuple(L.linalg.lu(A)), lambda dt: [dominant(2, 3, 3, dtype=dt)]),
    "lu_wide": (lambda L, A: tuple(L.linalg.lu(A)), lambda dt: [dominant(2, 3, 5, dtype=dt)]),
    "lu_tall": (lambda L, A: tuple(L.linalg.lu(A)), lambda dt: [dominant(5, 3, dtype=dt)]),
    "lu_L_only": (lambda L, A: L.linalg.lu(A).L, lambda dt: [dominant(3, 4, dtype=dt)]),
    "lu_U_only": (lambda L, A: L.linalg.lu(A).U, lambda dt: [dominant(4, 3, dtype=dt)]),
    "lu_unpack": (lambda L, LU, piv: tuple(L.lu_unpack(LU, piv)), lambda dt: list(lu_factors(2, 3, 3, dtype=dt))),
    "lu_unpack_tall": (lambda L, LU, piv: tuple(L.lu_unpack(LU, piv)), lambda dt: list(lu_factors(5, 3, dtype=dt))),
    "lu_unpack_wide": (lambda L, LU, piv: tuple(L.lu_unpack(LU, piv)), lambda dt: list(lu_factors(3, 5, dtype=dt))),
    "lu_factor_wide": (lambda L, A: L.linalg.lu_factor(A).LU, lambda dt: [dominant(2, 3, 5, dtype=dt)]),
    "lu_factor_ex_tall": (lambda L, A: L.linalg.lu_factor_ex(A).LU, lambda dt: [dominant(5, 3, dtype=dt)]),
    "torch_lu": (lambda L, A: L.lu(A)[0], lambda dt: [dominant(2, 3, 3, dtype=dt)]),
    "triangular_solve": (lambda L, b, A: tuple(L.triangular_solve(b, A)),
                         lambda dt: [rand(3, 2, dtype=dt), dominant(3, 3, seed=1, dtype=dt)]),
    "triangular_solve_broadcast": (lambda L, b, A: tuple(L.triangular_solve(b, A, upper=False)),
                                   lambda dt: [rand(4, 3, 2, dtype=dt), dominant(2, 1, 3, 3, seed=1, dtype=dt)]),
    "triangular_solve_transpose_unit": (
        lambda L, b, A: tuple(L.triangular_solve(b, A, upper=True, transpose=True, unitriangular=True)),
        lambda dt: [rand(3, 2, dtype=dt), rand(3, 3, seed=1, dtype=dt)]),
    "householder_product": (lambda L, a, tau: L.linalg.householder_product(a, tau),
                            lambda dt: list(reflectors(2, 5, 3, dtype=dt))),
    "householder_product_fewer_tau": (lambda L, a, tau: L.linalg.householder_product(a, tau[:2]),
                                      lambda dt: list(reflectors(4, 3, dtype=dt))),
    "ormqr": (lambda L, a, tau, c: L.ormqr(a, tau, c),
              lambda dt: list(reflectors(2, 4, 3, dtype=dt)) + [rand(2, 4, 2, seed=2, dtype=dt)]),
    "ormqr_transpose": (lambda L, a, tau, c: L.ormqr(a, tau, c, transpose=True),
                        lambda dt: list(reflectors(4, 3, dtype=dt)) + [rand(4, 5, seed=2, dtype=dt)]),
    "ormqr_right": (lambda L, a, tau, c: L.ormqr(a, tau, c, left=False),
                    lambda dt: list(reflectors(4, 3, dtype=dt)) + [rand(2, 4, seed=2, dtype=dt)]),
    "ormqr_right_transpose": (lambda L, a, tau, c: L.ormqr(a, tau, c, left=False, transpose=True),
                              lambda dt: list(reflectors(2, 4, 3, dtype=dt)) + [rand(2, 3, 4, seed=2, dtype=dt)]),
}


@requires_torch
@pytest.mark.parametrize("dt", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, dt):
    fn, make = CASES[name]
    compare_with_torch(fn, *make(dt), **TOL[dt])


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_and_gradgradcheck(name):
    fn, make = CASES[name]
    gradchecks(fn, *make(np.float64))


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 5), (5, 3), (4, 4, 2)])
def test_lu_reconstructs(shape):
    A = rand(*shape, dtype=np.float64)
    P, L, U = cgrad.linalg.lu(cgrad.tensor(A))
    k = min(shape[-2:])
    assert tuple(P.shape) == shape[:-2] + (shape[-2], shape[-2])
    assert tuple(L.shape) == shape[:-1] + (k,) and tuple(U.shape) == shape[:-2] + (k, shape[-1])
    np.testing.assert_allclose((P @ L @ U).numpy(), A, atol=1e-12)
    np.testing.assert_allclose(np.abs(L.numpy()).max(), 1.0)     # partial pivoting: |L| <= 1


def test_geqrf_reconstructs_through_householder_product():
    A = rand(2, 5, 3, dtype=np.float64)
    a, tau = cgrad.geqrf(cgrad.tensor(A))
    Q = cgrad.linalg.householder_product(a, tau)
    np.testing.assert_allclose((Q @ a.triu()[..., :3, :]).numpy(), A, atol=1e-12)
    full = cgrad.ormqr(a, tau, cgrad.eye(5, dtype=cgrad.float64).expand(2, 5, 5))
    np.testing.assert_allclose(full[..., :3].numpy(), Q.numpy(), atol=1e-12)


@requires_torch
def test_geqrf_values_and_named_results():
    A = rand(2, 5, 3, dtype=np.float64)
    c, t = cgrad.geqrf(cgrad.tensor(A)), torch.geqrf(torch.tensor(A))
    assert type(c).__name__ == "geqrf"
    np.testing.assert_allclose(c.a.numpy(), t.a.numpy(), atol=1e-12)
    np.testing.assert_allclose(c.tau.numpy(), t.tau.numpy(), atol=1e-12)
    x = cgrad.tensor(A, requires_grad=True)
    a, _ = cgrad.geqrf(x)
    assert type(a.grad_fn).__name__ == "GeqrfBackward0"
    with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not implemented."):
        a.sum().backward()
    P, L, U = cgrad.linalg.lu(cgrad.tensor(A))
    r = cgrad.linalg.lu(cgrad.tensor(A))
    assert type(r).__name__ == "linalg_lu" and repr(r).startswith("cgrad.return_types.linalg_lu(\nP=")
    assert type(cgrad.lu(cgrad.tensor(A[0, :3]), get_infos=True)).__name__ == "_lu_with_info"
    assert type(cgrad.lu(cgrad.tensor(A[0, :3]))) is tuple
    assert cgrad.return_types.triangular_solve.__name__ == "triangular_solve"


@requires_torch
def test_torch_lu_singular_reports_info():
    for lib in (cgrad, torch):
        LU, piv, info = lib.lu(lib.zeros(2, 3, 3), get_infos=True)
        lib.lu(lib.zeros(3, 3))            # no error without get_infos either
        assert info.tolist() == [1, 1] and piv.tolist() == [[1, 2, 3], [1, 2, 3]]


def _error(lib, expr):
    try:
        eval(expr, {"L": lib, "np": np})
    except Exception as e:     # noqa: BLE001 - the error itself is compared
        return type(e).__name__, str(e).split("\n")[0].replace("cgrad.", "torch.")
    return None


ERRORS = [
    "L.linalg.lu(L.ones(3))",
    "L.linalg.lu(L.ones(3, 3, dtype=L.int64))",
    "L.linalg.lu(L.ones(3, 3, dtype=L.float16))",
    "L.linalg.lu(L.eye(3), pivot=False)",
    "L.lu_unpack(L.eye(3), L.tensor([1, 2, 3]))",
    "L.lu_unpack(L.eye(3), L.tensor([0, 2, 3], dtype=L.int32))",
    "L.lu_unpack(L.ones(3), L.tensor([1, 2, 3], dtype=L.int32))",
    "L.triangular_solve(L.ones(3, 2), L.eye(3, dtype=L.float64))",
    "L.triangular_solve(L.ones(3, 2), L.ones(2, 3))",
    "L.triangular_solve(L.ones(4, 2), L.eye(3))",
    "L.triangular_solve(L.ones(2), L.eye(3))",
    "L.triangular_solve(L.ones(3, 2, dtype=L.int32), L.ones(3, 3, dtype=L.int32))",
    "L.linalg.householder_product(L.ones(4, 3), L.ones(4))",
    "L.linalg.householder_product(L.ones(3, 4), L.ones(3))",
    "L.linalg.householder_product(L.ones(4), L.ones(3))",
    "L.linalg.householder_product(L.ones(4, 3), L.ones(3, dtype=L.float64))",
    "L.linalg.householder_product(L.ones(4, 3, dtype=L.int32), L.ones(3, dtype=L.int32))",
    "L.linalg.householder_product(L.ones(2, 4, 3), L.ones(3))",
    "L.linalg.householder_product(L.ones(2, 4, 3), L.ones(1, 3))",
    "L.geqrf(L.ones(3))",
    "L.geqrf(L.ones(3, 3, dtype=L.int32))",
    "L.ormqr(L.ones(4, 3), L.ones(3), L.ones(4, 2), left=False)",
    "L.ormqr(L.ones(4, 3), L.ones(3), L.ones(3, 2))",
    "L.ormqr(L.ones(4, 3), L.ones(4), L.ones(4, 2))",
    "L.ormqr(L.ones(4, 3), L.ones(3), L.ones(4, 2, dtype=L.float64))",
    "L.ormqr(L.ones(4, 3), L.ones(3, dtype=L.float64), L.ones(4, 2))",
    "L.ormqr(L.ones(4), L.ones(3), L.ones(4, 2))",
    "L.ormqr(L.ones(4, 3), L.ones(3), L.ones(4))",
    "L.ormqr(L.ones(2, 4, 3), L.ones(3), L.ones(2, 4, 5))",
    "L.ormqr(L.ones(2, 4, 3), L.ones(2, 3), L.ones(4, 5))",
    "L.ormqr(L.ones(4, 5), L.ones(5), L.ones(4, 5))",
]


@requires_torch
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("expr", ERRORS)
def test_errors_as_torch(expr):
    expected = _error(torch, expr)
    assert expected is not None
    assert _error(cgrad, expr) == expected


def test_deprecations_warn_once_per_process():
    from cgrad import _linalg_lu
    _linalg_lu._WARNED.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for _ in range(2):
            cgrad.lu(cgrad.eye(2))
            cgrad.triangular_solve(cgrad.ones(2, 1), cgrad.eye(2))
            cgrad.chain_matmul(cgrad.eye(2), cgrad.eye(2))
    texts = [str(x.message) for x in w]
    assert len(texts) == 3
    assert texts[0].startswith("torch.lu is deprecated in favor of torch.linalg.lu_factor")
    assert texts[1].startswith("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular")
    assert texts[2].startswith("torch.chain_matmul is deprecated")


@requires_torch
@pytest.mark.filterwarnings("ignore")
def test_tensor_methods_match_torch():
    A = dominant(3, 3)
    b = rand(3, 2, seed=1, dtype=np.float64)
    a, tau = reflectors(4, 3)
    for method, args in [("lu", ()), ("triangular_solve", ("A",)), ("geqrf", ()), ("vdot", ("v",)),
                         ("diagflat", ())]:
        outs = []
        for lib in (cgrad, torch):
            x = lib.tensor(b if method == "triangular_solve" else (A[0] if method == "vdot" else A))
            extra = [lib.tensor(A) if s == "A" else lib.tensor(A[1]) for s in args]
            r = getattr(x, method)(*extra)
            outs.append([t.numpy() for t in (r if isinstance(r, tuple) else (r,))])
        for c, t in zip(*outs):
            np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12, err_msg=method)
    c = cgrad.tensor(a).ormqr(cgrad.tensor(tau), cgrad.tensor(b[:, :1].repeat(4, 0)[:4]))
    t = torch.tensor(a).ormqr(torch.tensor(tau), torch.tensor(b[:, :1].repeat(4, 0)[:4]))
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)
