"""The cgrad.* functions and Tensor methods of the Python-level tensor ops
(issue 16, part 3): sorting (_ops_sort), contractions (_ops_einsum), views
and layout (_ops_views), cumulative ops (_ops_cumulative), indexed reads
and writes (_ops_index_extra), reductions (_ops_reduce_extra) and set /
counting ops (_ops_unique). Importing this module installs the methods."""
from cgrad import _C
from cgrad._ops_sort import (sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile,
                             nanquantile)
from cgrad._ops_einsum import einsum, tensordot, kron, baddbmm, addbmm, addmv, addr, cdist, beta_first_method
from cgrad._ops_views import (diagonal, as_strided, as_strided_, narrow_copy, rot90, diag_embed, trace, block_diag, meshgrid,
                              cartesian_prod, combinations, triu_indices, tril_indices, _tensor_unfold)
from cgrad._ops_cumulative import cumprod, cummax, cummin, logcumsumexp, _tensor_cumprod_
from cgrad._ops_index_extra import (masked_select, masked_scatter, index_add, index_copy, index_fill, index_put,
                                    take, take_along_dim, put, index_add_, index_copy_, index_fill_,
                                    index_put_, masked_scatter_, put_)
from cgrad._ops_reduce_extra import nansum, nanmean, std_mean, var_mean, aminmax
from cgrad._ops_unique import (unique, unique_consecutive, bincount, histc, searchsorted, bucketize,
                               _tensor_unique)


def _method(fn):
    """fn(input, ...) as a Tensor method."""
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _inplace_of(fn, name):
    def method(self, *args, **kwargs):
        _C._check_inplace(self)
        src = _C._old_value(self) if self.requires_grad and _C.is_grad_enabled() else self
        return _C._commit_inplace(self, fn(src, *args, **kwargs))
    method.__name__ = name
    return method


def _addop_inplace(fn, name):
    def method(self, a, b, *, beta=1, alpha=1):
        _C._check_inplace(self)
        src = _C._old_value(self) if self.requires_grad and _C.is_grad_enabled() else self
        r = fn(src, a, b, beta=beta, alpha=alpha)
        if tuple(r.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(r.shape)}")
        return _C._commit_inplace(self, r)
    method.__name__ = name
    return method


_METHODS = {
    "sort": _method(sort), "argsort": _method(argsort), "msort": _method(msort), "topk": _method(topk),
    "kthvalue": _method(kthvalue), "median": _method(median), "nanmedian": _method(nanmedian),
    "mode": _method(mode), "quantile": _method(quantile), "nanquantile": _method(nanquantile),
    "kron": _method(kron), "trace": _method(trace), "diagonal": _method(diagonal),
    "diag_embed": _method(diag_embed), "as_strided": _method(as_strided), "unfold": _tensor_unfold,
    "narrow_copy": _method(narrow_copy), "rot90": _method(rot90),
    "baddbmm": beta_first_method(baddbmm, "baddbmm"), "addbmm": beta_first_method(addbmm, "addbmm"),
    "addmv": beta_first_method(addmv, "addmv"), "addr": beta_first_method(addr, "addr"),
    "baddbmm_": beta_first_method(_addop_inplace(baddbmm, "baddbmm_"), "baddbmm_"),
    "addbmm_": beta_first_method(_addop_inplace(addbmm, "addbmm_"), "addbmm_"),
    "addmv_": beta_first_method(_addop_inplace(addmv, "addmv_"), "addmv_"),
    "addr_": beta_first_method(_addop_inplace(addr, "addr_"), "addr_"),
    "cumprod": _method(cumprod), "cumprod_": _tensor_cumprod_, "cummax": _method(cummax),
    "cummin": _method(cummin), "logcumsumexp": _method(logcumsumexp),
    "masked_select": _method(masked_select), "masked_scatter": _method(masked_scatter),
    "masked_scatter_": masked_scatter_,
    "index_add": _method(index_add), "index_add_": index_add_, "index_copy": _method(index_copy),
    "index_copy_": index_copy_, "index_fill": _method(index_fill), "index_fill_": index_fill_,
    "index_put": _method(index_put), "index_put_": index_put_, "take": _method(take),
    "take_along_dim": _method(take_along_dim), "put": _method(put), "put_": put_,
    "nansum": _method(nansum), "nanmean": _method(nanmean), "aminmax": _method(aminmax),
    "unique": _tensor_unique, "unique_consecutive": _method(unique_consecutive),
    "bincount": _method(bincount), "histc": _method(histc), "as_strided_": as_strided_,
}
# exactly the names Tensor holds placeholders for (src/cgrad/tensor_core.pxi's
# LAZY_TENSOR_OPS_METHODS): a listed name missing here is a KeyError, an
# unlisted one here an ImportError
_C._install_tensor_methods({name: _METHODS[name] for name in _C._LAZY_TENSOR_OPS_METHODS})
if len(_METHODS) != len(_C._LAZY_TENSOR_OPS_METHODS):
    raise ImportError("cgrad._tensor_ops: methods missing from tensor_core.pxi's LAZY_TENSOR_OPS_METHODS: "
                      f"{sorted(set(_METHODS) - set(_C._LAZY_TENSOR_OPS_METHODS))}")
# Tensor.lu, triangular_solve, geqrf, ormqr, vdot, diagflat (listed with the
# imported modules' methods)
from cgrad._linalg_torch_level import TENSOR_METHODS as _LINALG_METHODS  # noqa: E402
_C._install_missing_tensor_methods(_LINALG_METHODS)

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
           "nanquantile", "einsum", "tensordot", "kron", "baddbmm", "addbmm", "addmv", "addr", "cdist",
           "diagonal", "as_strided", "as_strided_", "narrow_copy", "rot90", "diag_embed", "trace", "block_diag", "meshgrid",
           "cartesian_prod", "combinations", "triu_indices", "tril_indices", "cumprod", "cummax", "cummin",
           "logcumsumexp", "masked_select", "masked_scatter", "index_add", "index_copy", "index_fill",
           "index_put", "take", "take_along_dim", "nansum", "nanmean", "std_mean", "var_mean", "aminmax",
           "unique", "unique_consecutive", "bincount", "histc", "searchsorted", "bucketize"]

# the composites' Tensor methods (addcmul_, repeat_interleave, pow_, ...) install with these
from cgrad import _ops_composites  # noqa: E402,F401
from cgrad import _ops_numeric_composites  # noqa: E402,F401
from cgrad import _legacy_tensor_types  # noqa: E402,F401  (Tensor.new)
from cgrad import _ops_view_copies  # noqa: E402,F401  (select_scatter, unsafe_split, ...)
from cgrad import _ops_real_views  # noqa: E402,F401  (conj, real, angle, ...)
from cgrad import _ops_numeric_extras  # noqa: E402,F401  (ldexp, frexp, histogram, ...)
from cgrad import _ops_inplace_forms  # noqa: E402,F401  (bitwise_and_, addmm_, renorm_, ...)
from cgrad import _layouts  # noqa: E402,F401  (Tensor.layout)
from cgrad import _ops_scatter_reduce  # noqa: E402,F401  (scatter_reduce, index_reduce and their in-place forms)
from cgrad import _tensor_legacy_methods  # noqa: E402,F401  (resize, nonzero_static, dim_order, the removed solve/eig, ...)
from cgrad import _storage_api  # noqa: E402,F401  (untyped_storage, storage)
from cgrad import _special_igamma  # noqa: E402,F401  (igamma, igammac and their in-place forms)
