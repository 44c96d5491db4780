"""cgrad.return_types, as torch.return_types: the named tuples (values,
indices) that max(dim) and min(dim) return. The classes are made in the
compiled core (select_api.pxi) with this module as their __module__, so
results pickle by reference to them here."""
from cgrad._C import return_types as _made_in_core

max = _made_in_core.max
min = _made_in_core.min

__all__ = ["max", "min"]

# the named results of cgrad.linalg and its torch.* aliases
from cgrad._linalg_results import TYPES as _LINALG_TYPES
globals().update(_LINALG_TYPES)
__all__ += list(_LINALG_TYPES)

# the named results of sort, topk, kthvalue, median, mode, cummax, aminmax...
from cgrad._op_support import RESULT_TYPES as _OP_TYPES
globals().update(_OP_TYPES)
__all__ += list(_OP_TYPES)

# the named results of linalg.lu, lu_unpack, the deprecated lu/triangular_solve, geqrf
from cgrad._linalg_lu import RESULT_TYPES as _LU_TYPES
from cgrad._linalg_householder import GEQRF_RESULT as geqrf
globals().update(_LU_TYPES)
__all__ += list(_LU_TYPES) + ["geqrf"]
from cgrad._linalg_ldl import LDL_FACTOR as linalg_ldl_factor, LDL_FACTOR_EX as linalg_ldl_factor_ex
__all__ += ["linalg_ldl_factor", "linalg_ldl_factor_ex"]
