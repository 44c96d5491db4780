"""The torch.* names of the linear-algebra functions added beside
cgrad.linalg (lu_unpack, the deprecated lu and triangular_solve, geqrf,
ormqr, chain_matmul, vdot, and the functions PyTorch removed in 1.9), under
the names cgrad/__init__.py's lazy table looks up."""
from cgrad._linalg_composites import chain_matmul, eig, lstsq, matrix_rank, solve, symeig, vdot
from cgrad._linalg_householder import geqrf, ormqr
from cgrad._linalg_lu import lu_deprecated as lu
from cgrad._linalg_lu import lu_unpack, triangular_solve

__all__ = ["chain_matmul", "eig", "geqrf", "lstsq", "lu", "lu_unpack", "matrix_rank", "ormqr", "solve",
           "symeig", "triangular_solve", "vdot"]
