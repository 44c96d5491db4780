"""torch.svd_lowrank and torch.pca_lowrank: randomized truncated SVD
(Halko, Martinsson and Tropp 2009, algorithms 4.4 and 5.1) over cgrad's
differentiable matmul, qr and svd, as PyTorch's torch/_lowrank.py composes
them (dense tensors only: cgrad has no sparse layout). The random test
matrix comes from cgrad's generator, so cgrad.manual_seed makes the
result repeatable."""
import cgrad

__all__ = ["svd_lowrank", "pca_lowrank"]


def _floating_dtype(A):
    return A.dtype if A.dtype in (cgrad.float16, cgrad.float32, cgrad.float64) else cgrad.float32


def get_approximate_basis(A, q, niter=2, M=None):
    """Q with q orthonormal columns such that Q Q^H (A - M) approximates A - M."""
    niter = 2 if niter is None else niter
    R = cgrad.randn(A.shape[-1], q, dtype=_floating_dtype(A))
    X = cgrad.matmul(A, R)
    if M is not None:
        X = X - cgrad.matmul(M, R)
    Q = cgrad.linalg.qr(X).Q
    for _ in range(niter):
        X = cgrad.matmul(A.mH, Q)
        if M is not None:
            X = X - cgrad.matmul(M.mH, Q)
        Q = cgrad.linalg.qr(X).Q
        X = cgrad.matmul(A, Q)
        if M is not None:
            X = X - cgrad.matmul(M, Q)
        Q = cgrad.linalg.qr(X).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) of rank q with A - M ~ U diag(S) V^H."""
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:
        A = A.mH
        if M is not None:
            M = M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = cgrad.matmul(Q.mH, A)
    if M is not None:
        B = B - cgrad.matmul(Q.mH, M)
    U, S, Vh = cgrad.linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q=None, center=True, niter=2):
    """svd_lowrank of A with its column means removed (center=True)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    C = A.mean(dim=(-2,), keepdim=True)
    return svd_lowrank(A - C, q, niter=niter, M=None)
