"""Forward-mode formulas of the linalg decompositions and solvers, ported
from PyTorch's derivatives.yaml `result:` entries (FunctionsManual.cpp's
linalg_eig_jvp, linalg_svd_jvp, linalg_qr_jvp, pinv_jvp, linalg_lstsq_jvp,
linalg_matrix_exp_differential, linalg_solve_triangular_forward_AD,
cholesky_solve_jvp, cholesky_inverse_jvp, lu_factor_ex_jvp,
linalg_lu_solve_jvp), written with cgrad's differentiable ops so that a
tangent is differentiable again (jacrev over jacfwd).

Each rule is rule(node, inputs, tangents, out, nr), registered on the node
type (cgrad._C._fw_register_node_rule); it reads the node's saved outputs
(cgrad._C._linalg_saved) and options (_linalg_options). A form a rule does
not cover returns NotImplemented and takes the transpose of the VJP.
"""
import cgrad
from cgrad import _C


def _saved(node, i, out):
    """Saved tensor i of the node: with the node's history when the output
    being computed has it (the tangent then depends on it, reverse over
    forward), detached otherwise (no graph is recorded for reverse mode)."""
    t = _C._linalg_saved(node, i)
    return t if out.grad_fn is not None else t.detach()


def _or_zeros(t, like):
    return _C.zeros_like(like) if t is None else t


def _diag(x):
    return x.diagonal(dim1=-2, dim2=-1)


def _off_diagonal(x):
    return x - _diag(x).diag_embed()


def _eye_like(x):
    n = x.shape[-1]
    return _C.eye(n, dtype=x.dtype)


def _eigh(node, inputs, t, out, nr):
    # linalg_eig_jvp(A_t, L, V, is_hermitian=True): dP = V^H dA V; dL = diag(dP);
    # dV = V (offdiag(dP) / E), E_ij = L_j - L_i (1 on the diagonal)
    L = out if nr == 0 else _saved(node, 0, out)
    V = out if nr == 1 else _saved(node, 1, out)
    dP = V.mT.matmul(t[0]).matmul(V)
    if nr == 0:
        return _diag(dP).clone()
    E = L.unsqueeze(-2) - L.unsqueeze(-1)
    E = _C.where(_eye_like(E).to(_C.bool_), _C.ones_like(E), E)
    return V.matmul(_off_diagonal(dP) / E)


def _svd_reduced(dA, U, S, Vh):
    """(dU, dS, dVh) of a reduced SVD with m >= n (PyTorch's linalg_svd_jvp:
    dP = U^H dA V, dS = diag(dP), dU = U (sym(dP S) / E) + (I - U U^H) dA V
    S^-1, dV = V (sym(S dP) / E), E_jk = S_k^2 - S_j^2)."""
    V = Vh.mT
    dAV = dA.matmul(V)
    dP = U.mT.matmul(dAV)
    dS = _diag(dP).clone()
    dX = _off_diagonal(dP)
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    E = _C.where(_eye_like(E).to(_C.bool_), _C.ones_like(E), E)
    dU = U.matmul((dX * S.unsqueeze(-2) + S.unsqueeze(-1) * dX.mT) / E)
    dV = V.matmul((S.unsqueeze(-1) * dX + dX.mT * S.unsqueeze(-2)) / E)
    if U.shape[-2] > U.shape[-1]:
        dU = dU + (dAV - U.matmul(dP)) / S.unsqueeze(-2)
    return dU, dS, dV.mT


def _svd(node, inputs, t, out, nr):
    (full,) = _C._linalg_options(node)
    U, S, Vh = (out if i == nr else _saved(node, i, out) for i in range(3))
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    dA = t[0]
    if full:
        U, Vh = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
    if m < n:       # the transposed problem (PyTorch's is_wide)
        dV, dS, dUh = _svd_reduced(dA.mT, Vh.mT, S, U.mT)
        dU, dVh = dUh.mT, dV.mT
    else:
        dU, dS, dVh = _svd_reduced(dA, U, S, Vh)
    if nr == 1:
        return dS
    if nr == 0:
        if full and m > k:
            dU = _C.cat([dU, _C.zeros(tuple(dU.shape[:-1]) + (m - k,), dtype=dU.dtype)], -1)
        return dU
    if full and n > k:
        dVh = _C.cat([dVh, _C.zeros(tuple(dVh.shape[:-2]) + (n - k, n), dtype=dVh.dtype)], -2)
    return dVh


def _qr_square_or_tall(dA, Q, R):
    # dA = dQ R + Q dR: C = Q^H dA R^-1, dR R^-1 = triu(C + C^H) with its diagonal halved, dQ = dA R^-1 - Q dR R^-1
    dA_Rinv = cgrad.linalg.solve_triangular(R, dA, upper=True, left=False)
    C = Q.mT.matmul(dA_Rinv)
    sym = C + C.mT
    T = sym.triu() - 0.5 * _diag(sym).diag_embed()
    return dA_Rinv - Q.matmul(T), T.matmul(R)


def _qr(node, inputs, t, out, nr):
    (mode,) = _C._linalg_options(node)
    if mode == "r":
        raise RuntimeError(
            "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
            "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    Q = out if nr == 0 else _saved(node, 0, out)
    R = out if nr == 1 else _saved(node, 1, out)
    m, n = Q.shape[-2], R.shape[-1]
    dA = t[0]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    if m >= n:
        dQ, dR = _qr_square_or_tall(dA, Q, R)
    else:
        # A = Q [R1 R2]: the square part as above, then dR2 = Q^H (dA2 - dQ R2)
        dQ, dR1 = _qr_square_or_tall(dA.narrow(-1, 0, m), Q, R.narrow(-1, 0, m))
        dR2 = Q.mT.matmul(dA.narrow(-1, m, n - m) - dQ.matmul(R.narrow(-1, m, n - m)))
        dR = _C.cat([dR1, dR2], -1)
    return dQ if nr == 0 else dR


def _pinv_tangent(A, P, dA):
    # -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P
    dAh = dA.mT
    term = -P.matmul(dA).matmul(P)
    term = term + P.matmul(P.mT).matmul(dAh - dAh.matmul(A).matmul(P))
    return term + (dAh - P.matmul(A.matmul(dAh))).matmul(P.mT.matmul(P))


def _pinv(node, inputs, t, out, nr):
    return _pinv_tangent(inputs[0], out, t[0])


def _lstsq(node, inputs, t, out, nr):
    # solution, linalg_lstsq_jvp: dX = d(pinv(A)) B + pinv(A) dB;
    # residuals sum((AX - B)^2) over rows: 2 sum(r * (dA X - dB)), as A^T r = 0
    (vector,) = _C._linalg_options(node)
    A, B = inputs
    dA, dB = t
    P = cgrad.linalg.pinv(A)
    if vector:
        B = B.unsqueeze(-1)
        dB = None if dB is None else dB.unsqueeze(-1)
    if nr == 1:
        if out.numel() == 0:
            return _C.zeros_like(out)
        X = P.matmul(B)
        change = None if dA is None else dA.matmul(X)
        if dB is not None:
            change = -dB if change is None else change - dB
        return (2 * (A.matmul(X) - B) * change).sum(-2)     # (..., 1) for a vector B too
    total = None
    if dA is not None:
        total = _pinv_tangent(A, P, dA).matmul(B)
    if dB is not None:
        term = P.matmul(dB)
        total = term if total is None else total + term
    return total.squeeze(-1) if vector else total


def _matrix_exp(node, inputs, t, out, nr):
    # linalg_matrix_exp_differential(A, dA): the upper right block of exp([[A, dA], [0, A]])
    A, dA = inputs[0], t[0]
    n = A.shape[-1]
    top = _C.cat([A, dA], -1)
    bottom = _C.cat([_C.zeros_like(A), A], -1)
    return cgrad.linalg.matrix_exp(_C.cat([top, bottom], -2))[..., :n, n:]


def _cross(node, inputs, t, out, nr):
    # cross(self_t, other) + cross(self, other_t)
    d = _C._linalg_options(node)[0]
    total = None
    if t[0] is not None:
        total = cgrad.linalg.cross(t[0], inputs[1], dim=d)
    if t[1] is not None:
        term = cgrad.linalg.cross(inputs[0], t[1], dim=d)
        total = term if total is None else total + term
    return total


def _solve_triangular(node, inputs, t, out, nr):
    # linalg_solve_triangular_forward_AD: A dX = dB - proj(dA) X (X dA on the right), proj the triangle A reads
    upper, left, unitriangular = _C._linalg_options(node)[:3]
    A = inputs[0]
    rhs = _or_zeros(t[1], inputs[1])
    if t[0] is not None:
        proj = t[0].triu(int(unitriangular)) if upper else t[0].tril(-int(unitriangular))
        rhs = rhs - (proj.matmul(out) if left else out.matmul(proj))
    return cgrad.linalg.solve_triangular(A, rhs, upper=upper, left=left, unitriangular=unitriangular)


def _cholesky_solve(node, inputs, t, out, nr):
    # cholesky_solve_jvp: dA = dK + dK^H, dK = dL L^H (dU^H U when upper); X_t = cholesky_solve(dB - dA X, L)
    upper = _C._linalg_options(node)[0]
    B, L = inputs
    rhs = _or_zeros(t[0], B)
    if t[1] is not None:
        dK = t[1].mT.matmul(L) if upper else t[1].matmul(L.mT)
        rhs = rhs - (dK + dK.mT).matmul(out)
    return cgrad.cholesky_solve(rhs, L, upper)


def _cholesky_inverse(node, inputs, t, out, nr):
    # cholesky_inverse_jvp: -A^-1 dA A^-1, dA = dL L^H + L dL^H (dU^H U + U^H dU when upper)
    upper = _C._linalg_options(node)[0]
    L, dL = inputs[0], t[0]
    dK = dL.mT.matmul(L) if upper else dL.matmul(L.mT)
    return -out.matmul(dK + dK.mT).matmul(out)


def _lu_factors(LU):
    L = LU.tril(-1) + _eye_like(LU)
    return L, LU.triu()


def _lu_factor(node, inputs, t, out, nr):
    # lu_factor_ex_jvp (square): A = P L U, dK = L^-1 P^T dA U^-1 = U A^-1 dA U^-1,
    # dLU = L tril(dK, -1) + triu(dK) U; P never needs forming
    if nr != 0 or out.shape[-1] != out.shape[-2]:
        return NotImplemented
    pivots = _saved(node, 1, out)
    L, U = _lu_factors(out)
    inv_dA = cgrad.linalg.lu_solve(out, pivots, t[0])
    dK = cgrad.linalg.solve_triangular(U, U.matmul(inv_dA), upper=True, left=False)
    return L.matmul(dK.tril(-1)) + dK.triu().matmul(U)


def _lu_solve_left(LU, pivots, dLU, B, dB, X, adjoint):
    """dX of A X = B (adjoint: A^H X = B), A = P L U, dA = P (dL U + L dU):
    A dX = dB - dA X, or A^H dX = dB - dA^H X; P cancels against A^-1 in
    the first, and in the second P^T X = L^-H U^-H B."""
    rhs = dB
    if dLU is not None:
        L, U = _lu_factors(LU)
        dL, dU = dLU.tril(-1), dLU.triu()
        M = dL.matmul(U) + L.matmul(dU)
        if not adjoint:
            inner = cgrad.linalg.solve_triangular(L, M.matmul(X), upper=False, unitriangular=True)
            term = cgrad.linalg.solve_triangular(U, inner, upper=True)
            solved = cgrad.linalg.lu_solve(LU, pivots, _or_zeros(dB, B))
            return solved - term
        Z = cgrad.linalg.solve_triangular(U.mT, B, upper=False)
        Z = cgrad.linalg.solve_triangular(L.mT, Z, upper=True, unitriangular=True)
        rhs = _or_zeros(dB, B) - M.mT.matmul(Z)
    return cgrad.linalg.lu_solve(LU, pivots, rhs, adjoint=adjoint)


def _lu_solve(node, inputs, t, out, nr):
    # linalg_lu_solve_jvp; the right-hand form X A = B is the left form of A^H X^H = B^H
    left, adjoint = _C._linalg_options(node)[:2]
    LU, B = inputs[0], inputs[2]
    dLU, dB = t[0], t[2]
    pivots = _saved(node, 1, out)
    if left:
        return _lu_solve_left(LU, pivots, dLU, B, dB, out, adjoint)
    dXh = _lu_solve_left(LU, pivots, dLU, B.mT, None if dB is None else dB.mT, out.mT, not adjoint)
    return dXh.mT


RULES = {
    "LinalgEighBackward0": _eigh,
    "LinalgSvdBackward0": _svd,
    "LinalgQrBackward0": _qr,
    "LinalgPinvBackward0": _pinv,
    "LinalgLstsqBackward0": _lstsq,
    "LinalgMatrixExpBackward0": _matrix_exp,
    "LinalgCrossBackward0": _cross,
    "LinalgSolveTriangularBackward0": _solve_triangular,
    "CholeskySolveBackward0": _cholesky_solve,
    "CholeskyInverseBackward0": _cholesky_inverse,
    "LinalgLuFactorExBackward0": _lu_factor,
    "LinalgLuSolveBackward0": _lu_solve,
}

for _name, _rule in RULES.items():
    _C._fw_register_node_rule(getattr(_C, _name), _rule)
