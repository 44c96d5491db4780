"""PyTorch's torch._linalg_utils helpers that svd_lowrank, pca_lowrank and
lobpcg are written with (dense tensors only: cgrad has no sparse layout)."""
import cgrad


def is_sparse(A):
    if isinstance(A, cgrad.Tensor):
        return False
    raise TypeError(f"expected Tensor but got {type(A)}")


def get_floating_dtype(A):
    """A's floating dtype; integer dtypes map to float32."""
    return A.dtype if A.dtype in (cgrad.float16, cgrad.float32, cgrad.float64) else cgrad.float32


def matmul(A, B):
    """A @ B, or B when A is None."""
    return B if A is None else cgrad.matmul(A, B)


def bform(X, A, Y):
    """The bilinear form X^T A Y."""
    return matmul(X.mT, matmul(A, Y))


def qform(A, S):
    """The quadratic form S^T A S."""
    return bform(S, A, S)


def basis(A):
    """An orthonormal basis of A's columns."""
    return cgrad.linalg.qr(A).Q


def symeig(A, largest=False):
    """A's eigenpairs, ascending (descending with largest)."""
    if largest is None:
        largest = False
    E, Z = cgrad.linalg.eigh(A, UPLO="U")
    if largest:
        E = cgrad.flip(E, dims=(-1,))
        Z = cgrad.flip(Z, dims=(-1,))
    return E, Z
