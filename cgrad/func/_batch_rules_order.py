"""vmap's batching rules for order statistics (median, nanmedian, mode,
msort, quantile, nanquantile), the in-place cumulative ops and the special
namespace (cgrad.special's pointwise functions and its dim reductions).

Each is one call of the op on the physical tensor with its dims shifted past
vmap's batch dim; the whole-tensor forms (median() without dim) flatten
every logical dim into one and reduce that."""
from cgrad._C import Tensor
from cgrad.func._batch_rules import _dims_rule, _get_arg, _reduction, _set_arg, _shift_dims, pointwise
from cgrad.func._batched import BatchedTensor, fallback, rule, unwrap, wrap


def _values_of(name):
    """name(x) over all elements as name(x, dim=1).values on the flattened batch."""
    def whole(x, dim):
        return getattr(x, name)(dim).values
    whole.__name__ = name
    return whole


rule("median")(_reduction(_values_of("median")))
rule("nanmedian")(_reduction(_values_of("nanmedian")))
rule("mode")(_dims_rule((1,), default=-1))


@rule("msort")
def msort_rule(op, level, args, kwargs):
    x, batched = unwrap(args[0], level)
    if not batched or kwargs:
        return fallback(op.__name__, op, level, args, kwargs)
    if x.dim() == 1:            # a 0-d sample is its own sort
        return wrap(x.clone(), level)
    return wrap(x.sort(1).values, level)


def _quantile_rule(op, level, args, kwargs):
    """quantile(x, q, dim, keepdim): a 1-D q puts its dim first in the
    result, so the physical result's first two dims are swapped back."""
    args, kwargs = list(args), dict(kwargs)
    x, batched = unwrap(args[0], level)
    q = _get_arg(args, kwargs, 1, "q")
    if not batched or type(q) is BatchedTensor or "out" in kwargs:
        return fallback(op.__name__, op, level, args, kwargs)
    args[0] = x
    rank = x.dim() - 1
    q_dims = 1 if isinstance(q, Tensor) and q.dim() == 1 else 0
    dim = _get_arg(args, kwargs, 2, "dim")
    keepdim = _get_arg(args, kwargs, 3, "keepdim", False)
    if dim is None:
        args[0] = x.reshape((x.shape[0], -1))
        _set_arg(args, kwargs, 2, "dim", 1)
        _set_arg(args, kwargs, 3, "keepdim", False)
    else:
        _set_arg(args, kwargs, 2, "dim", _shift_dims(dim, rank))
    result = op(*args, **kwargs)
    if q_dims:
        result = result.movedim(0, 1)
    if dim is None and keepdim:
        result = result.reshape(tuple(result.shape)[:1 + q_dims] + (1,) * rank)
    return wrap(result, level)


rule("quantile", "nanquantile")(_quantile_rule)


def _dims_inplace(op, level, args, kwargs):
    """cumsum_/cumprod_ on the batched tensor itself, which is returned."""
    self = args[0]
    x, batched = unwrap(self, level)
    if not batched or any(type(a) is BatchedTensor for a in list(args[1:]) + list(kwargs.values())):
        return fallback(op.__name__, op, level, args, kwargs)
    args, kwargs = [x] + list(args[1:]), dict(kwargs)
    _set_arg(args, kwargs, 1, "dim", _shift_dims(_get_arg(args, kwargs, 1, "dim"), x.dim() - 1))
    op(*args, **kwargs)
    return self


rule("cumsum_", "cumprod_")(_dims_inplace)

# --- cgrad.special ---------------------------------------------------------------

SPECIAL_POINTWISE = """erf erfc erfcx erfinv expit exp2 expm1 log1p logit gammaln digamma psi i0 i1 round sinc
xlogy polygamma""".split()
rule(*["special." + n for n in SPECIAL_POINTWISE])(pointwise)
rule("special.softmax", "special.log_softmax", "special.logsumexp")(_dims_rule((1,)))
