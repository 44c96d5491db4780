"""The torch.* names of the linear-algebra functions added beside
cgrad.linalg (lu_unpack, the deprecated lu and triangular_solve, geqrf,
ormqr, chain_matmul, vdot, and the functions PyTorch removed in 1.9), under
the names cgrad/__init__.py's lazy table looks up."""
from cgrad._linalg_composites import (chain_matmul, diagflat, eig, frobenius_norm, lstsq, matrix_rank,
                                      nuclear_norm, solve, symeig, vdot)
from cgrad._linalg_householder import geqrf, ormqr
from cgrad._linalg_lu import lu_deprecated as lu
from cgrad._linalg_lu import lu_unpack, triangular_solve

__all__ = ["chain_matmul", "diagflat", "eig", "frobenius_norm", "nuclear_norm", "geqrf", "lstsq", "lu", "lu_unpack", "matrix_rank", "ormqr", "solve",
           "symeig", "triangular_solve", "vdot"]


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


# Tensor methods of these (installed by cgrad/_tensor_ops.py, whose import
# the placeholders in src/cgrad/tensor_core.pxi trigger)
TENSOR_METHODS = {"lu": _method(lu), "triangular_solve": _method(triangular_solve), "geqrf": _method(geqrf),
                  "ormqr": _method(ormqr), "vdot": _method(vdot), "diagflat": _method(diagflat)}
