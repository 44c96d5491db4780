"""vmap's batching rules for cgrad's composite functions (ones PyTorch
builds from other ops, or that reshape by the logical rank): their Python
bodies run on the batched tensors where every op they call batches
(DECOMPOSED), the rank-dependent ones get a rule each (atleast_*d, the
stacks, adjoint, trace, dist, cdist, searchsorted, full_like), and the ops
whose result shape depends on the data refuse as PyTorch's vmap does."""
import cgrad
from cgrad._C import Tensor
from cgrad.func._batch_rules_linalg import _operands, _own_error
from cgrad.func._batch_rules_layers import _merge_batch
from cgrad.func._batched import (BatchedTensor, _ORIGINALS, _build_wrappers, fallback, level_info, materialize,
                                 rule, unwrap, wrap)

_ITEM_ERROR = "vmap: It looks like you're calling .item() on a Tensor"


def _batched_at(x, level):
    return type(x) is BatchedTensor and x._level == level


# Composites whose bodies only call ops with batching rules (checked by
# tests/func/test_vmap_composites.py against loops and torch.func.vmap)
DECOMPOSED = """broadcast_tensors cumulative_trapezoid diff fliplr flipud hsplit vsplit pairwise_distance
repeat_interleave trapezoid trapz cosine_similarity""".split()


def _decomposed(op, level, args, kwargs):
    """The composite's own body on the batched tensors; a form of it that
    reads values (.item()) or reaches a C function without a rule runs per
    sample instead."""
    _build_wrappers()
    body = _ORIGINALS["cgrad", op.__name__]
    try:
        return body(*args, **kwargs)
    except (RuntimeError, TypeError) as error:
        if _ITEM_ERROR not in str(error) and "BatchedTensor" not in str(error):
            raise
    return fallback(op.__name__, op, level, args, kwargs)


rule(*DECOMPOSED)(_decomposed)


@rule("result_type")
def result_type_rule(op, level, args, kwargs):
    """A dtype, not a tensor: promotion sees each sample's rank (a 0-d
    sample promotes as a number would), so sample 0 answers for all."""
    def sample(x):
        return x._value[0] if _batched_at(x, level) else x
    return op(*[sample(a) for a in args], **{k: sample(v) for k, v in kwargs.items()})


DYNAMIC_SHAPE_ERROR = ("vmap: We do not support batching operators that can output dynamic shape. Attempted to "
                       "vmap over aten::{}. Please file an issue at https://github.com/pytorch/pytorch/issues if "
                       "you need this feature.")


def _dynamic_shape(aten_name):
    def refuse(op, level, args, kwargs):
        raise RuntimeError(DYNAMIC_SHAPE_ERROR.format(aten_name))
    return refuse


rule("nonzero")(_dynamic_shape("nonzero"))
rule("unique")(_dynamic_shape("_unique2"))
rule("unique_consecutive")(_dynamic_shape("unique_consecutive"))


# --- by the logical rank ----------------------------------------------------------------

def _atleast(min_rank):
    def run(op, level, args, kwargs):
        if len(args) != 1 or kwargs or not isinstance(args[0], Tensor):
            return fallback(op.__name__, op, level, args, kwargs)
        x, batched = unwrap(args[0], level)
        if not batched:
            return fallback(op.__name__, op, level, args, kwargs)
        rank = x.dim() - 1
        if rank >= min_rank:
            return args[0]
        if rank == 0:
            return wrap(x.reshape((x.shape[0],) + (1,) * min_rank), level)
        if rank == 1:       # (n,) -> (1, n) and (1, n, 1), as PyTorch
            x = x.unsqueeze(1)
            return wrap(x.unsqueeze(-1) if min_rank == 3 else x, level)
        return wrap(x.unsqueeze(-1), level)     # (m, n) -> (m, n, 1)
    return run


rule("atleast_1d")(_atleast(1))
rule("atleast_2d")(_atleast(2))
rule("atleast_3d")(_atleast(3))


def _tensors_of(args, kwargs):
    return list(args[0] if args else kwargs["tensors"])


@rule("hstack")
def hstack_rule(op, level, args, kwargs):
    parts = [cgrad.atleast_1d(t) for t in _tensors_of(args, kwargs)]
    return cgrad.cat(parts, 0 if all(p.dim() == 1 for p in parts) else 1)


@rule("vstack", "row_stack")
def vstack_rule(op, level, args, kwargs):
    return cgrad.cat([cgrad.atleast_2d(t) for t in _tensors_of(args, kwargs)], 0)


@rule("dstack")
def dstack_rule(op, level, args, kwargs):
    return cgrad.cat([cgrad.atleast_3d(t) for t in _tensors_of(args, kwargs)], 2)


@rule("column_stack")
def column_stack_rule(op, level, args, kwargs):
    parts = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in _tensors_of(args, kwargs)]
    return cgrad.cat(parts, 1)


@rule("adjoint")
def adjoint_rule(op, level, args, kwargs):
    x, batched = unwrap(args[0], level)
    if not batched or x.dim() - 1 < 2:
        return _own_error(op, level, args, kwargs)
    return wrap(x.transpose(-2, -1), level)


@rule("trace")
def trace_rule(op, level, args, kwargs):
    x, batched = unwrap(args[0], level)
    if not batched or x.dim() - 1 != 2:
        return _own_error(op, level, args, kwargs)
    return wrap(x.diagonal(0, 1, 2).sum(-1), level)


@rule("dist")
def dist_rule(op, level, args, kwargs):
    a, b = args[0], args[1] if len(args) > 1 else kwargs["other"]
    p = args[2] if len(args) > 2 else kwargs.get("p", 2)
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or isinstance(p, BatchedTensor):
        return fallback(op.__name__, op, level, args, kwargs)
    return cgrad.linalg.vector_norm(a - b, p)


@rule("cdist")
def cdist_rule(op, level, args, kwargs):
    a, b = args[0], args[1] if len(args) > 1 else kwargs["x2"]
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or a.dim() < 2 or b.dim() < 2:
        return _own_error(op, level, args, kwargs)
    va, vb = _operands(level, [a, b], [2, 2])
    rest = {k: v for k, v in kwargs.items() if k != "x2"}
    return wrap(op(va, vb, *args[2:], **rest), level)


@rule("searchsorted")
def searchsorted_rule(op, level, args, kwargs):
    """A 1-D sorted sequence serves every value; batched, it is a row per
    sample, and the values are flattened to match its rows."""
    seq, values = args[0], args[1] if len(args) > 1 else kwargs.get("input")
    rest = {k: v for k, v in kwargs.items() if k != "input"}
    if not isinstance(seq, Tensor) or not isinstance(values, Tensor) or len(args) > 2 or any(
            _batched_at(v, level) for v in rest.values()):
        return fallback(op.__name__, op, level, args, kwargs)
    if not _batched_at(seq, level):
        if seq.dim() == 1:
            return wrap(op(seq, unwrap(values, level)[0], **rest), level)
        return fallback(op.__name__, op, level, args, kwargs)
    size = level_info(level).size
    s = seq._value
    v = materialize(values, level, size)
    if seq.dim() == 1:
        result = op(s, v.reshape((size, -1)), **rest)
        return wrap(result.reshape(v.shape), level)
    return wrap(op(s, v, **rest), level)


@rule("full_like", "empty_like")
def like_rule(op, level, args, kwargs):
    x, batched = unwrap(args[0], level)
    if not batched or any(_batched_at(v, level) for v in list(args[1:]) + list(kwargs.values())):
        return fallback(op.__name__, op, level, args, kwargs)
    return wrap(op(x, *args[1:], **kwargs), level)


for _name, _core in (("avg_pool1d", 2), ("max_pool1d", 2), ("adaptive_avg_pool1d", 2)):
    rule(_name)(_merge_batch(_name, _core))     # cgrad.<pool> as F.<pool>


@rule("group_norm")
def group_norm_rule(op, level, args, kwargs):
    """cgrad.group_norm as F.group_norm (cudnn_enabled changes nothing on CPU)."""
    from cgrad.func._batch_rules_layers import group_norm_rule as layer_rule
    args, kwargs = list(args[:5]), {k: v for k, v in kwargs.items() if k != "cudnn_enabled"}
    return layer_rule(op, level, args, kwargs)


def _contracted(dims, rank_a, rank_b):
    """tensordot's dims as two lists of logical dims (non-negative)."""
    if isinstance(dims, int):
        if dims < 0:
            return None
        return list(range(rank_a - dims, rank_a)), list(range(dims))
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    da, db = dims
    da, db = ([da], [db]) if isinstance(da, int) else (list(da), list(db))
    if len(da) != len(db):
        return None
    return [d % max(rank_a, 1) for d in da], [d % max(rank_b, 1) for d in db]


@rule("tensordot")
def tensordot_rule(op, level, args, kwargs):
    """One batched matrix product: each operand's free dims gathered in
    front of (a) or behind (b) its contracted ones, flattened to a matrix
    per sample."""
    a, b = args[0], args[1]
    dims = args[2] if len(args) > 2 else kwargs.get("dims", 2)
    if (not isinstance(a, Tensor) or not isinstance(b, Tensor) or "out" in kwargs
            or isinstance(dims, BatchedTensor)):
        return fallback(op.__name__, op, level, args, kwargs)
    pair = _contracted(dims, a.dim(), b.dim())
    if pair is None or any(a.shape[i] != b.shape[j] for i, j in zip(*pair)) or len(set(pair[0])) != len(
            pair[0]) or len(set(pair[1])) != len(pair[1]):
        return _own_error(op, level, args, kwargs)
    size = level_info(level).size
    da, db = pair
    free_a = [d for d in range(a.dim()) if d not in da]
    free_b = [d for d in range(b.dim()) if d not in db]
    va = materialize(a, level, size).permute([0] + [d + 1 for d in free_a + da])
    vb = materialize(b, level, size).permute([0] + [d + 1 for d in db + free_b])
    shape_a = [a.shape[d] for d in free_a]
    shape_b = [b.shape[d] for d in free_b]
    k = 1
    for d in da:
        k *= a.shape[d]
    product = cgrad.bmm(va.reshape((size, -1, k)), vb.reshape((size, k, -1)))
    return wrap(product.reshape([size] + shape_a + shape_b), level)


@rule("kron")
def kron_rule(op, level, args, kwargs):
    """Each pair of dims (a's i-th, b's i-th) becomes one dim of size
    a_i * b_i: a spread over even positions, b over odd, multiplied."""
    a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other")
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or "out" in kwargs:
        return fallback(op.__name__, op, level, args, kwargs)
    size = level_info(level).size
    rank = max(a.dim(), b.dim())
    sa = (1,) * (rank - a.dim()) + tuple(a.shape)
    sb = (1,) * (rank - b.dim()) + tuple(b.shape)
    va = materialize(a, level, size).reshape((size,) + sum(((n, 1) for n in sa), ()))
    vb = materialize(b, level, size).reshape((size,) + sum(((1, n) for n in sb), ()))
    return wrap((va * vb).reshape((size,) + tuple(x * y for x, y in zip(sa, sb))), level)


@rule("bucketize")
def bucketize_rule(op, level, args, kwargs):
    """Shared boundaries serve every value of the batch at once; batched
    boundaries are a sorted row per sample (searchsorted's rule)."""
    values = args[0] if args else kwargs.get("input")
    boundaries = args[1] if len(args) > 1 else kwargs.get("boundaries")
    rest = {k: v for k, v in kwargs.items() if k not in ("input", "boundaries")}
    if (not isinstance(values, Tensor) or not isinstance(boundaries, Tensor) or len(args) > 2
            or _batched_at(boundaries, level) or boundaries.dim() != 1 or "out" in rest):
        return fallback(op.__name__, op, level, args, kwargs)
    return wrap(op(unwrap(values, level)[0], boundaries, **rest), level)
