"""vmap's batching rules for the index ops that address elements by
position: take/put (flat positions), index_add/index_copy/index_fill and
index_put (positions along dims), masked_select/masked_scatter, and the
diagonal and rotation builders (diag, diag_embed, block_diag, rot90,
narrow_copy, Tensor.unfold).

Flat positions are per sample, so the physical call offsets each sample's
positions by its start in the flattened batch (or gathers along a per-sample
row); positions along a dim take the dim shifted past vmap's batch dim; the
batch itself is addressed by an arange index where the op takes only
index tensors. Index tensors batched at the level are served by the
fallback except where noted (take, put, masked_scatter)."""
import cgrad
from cgrad._C import Tensor
from cgrad.func._batch_rules import INPLACE_ERROR, _dims_rule, _get_arg, _pad_value, _shift_dims
from cgrad.func._batch_rules_linalg import _own_error
from cgrad.func._batched import BatchedTensor, fallback, level_info, materialize, rule, unwrap, wrap


def _batched_at(x, level):
    return type(x) is BatchedTensor and x._level == level


# --- flat positions ------------------------------------------------------------------

def _flat_positions(level, index, numel):
    """The batch's index (batch dim in front, flattened per sample) with
    negative positions wrapped; None when one is out of range (the caller
    then lets one sample raise the op's own error)."""
    size = level_info(level).size
    flat = materialize(index, level, size).reshape((size, -1))
    if flat.numel() and bool(((flat >= numel) | (flat < -numel)).any()):
        return None
    return cgrad.where(flat < 0, flat + numel, flat)


@rule("take")
def take_rule(op, level, args, kwargs):
    x, index = args[0], _get_arg(args, kwargs, 1, "index")
    if "out" in kwargs or not isinstance(index, Tensor):
        return fallback(op.__name__, op, level, args, kwargs)
    size = level_info(level).size
    values = materialize(x, level, size).reshape((size, -1))
    positions = _flat_positions(level, index, values.shape[1])
    if positions is None:
        return _own_error(op, level, args, kwargs)
    return wrap(values.gather(1, positions).reshape((size,) + tuple(index.shape)), level)


@rule("put")
def put_rule(op, level, args, kwargs):
    x, index, source = args[0], _get_arg(args, kwargs, 1, "index"), _get_arg(args, kwargs, 2, "source")
    accumulate = _get_arg(args, kwargs, 3, "accumulate", False)
    if not isinstance(index, Tensor) or not isinstance(source, Tensor):
        return fallback(op.__name__, op, level, args, kwargs)
    size = level_info(level).size
    values = materialize(x, level, size)
    numel = values[0].numel() if size else 0
    positions = _flat_positions(level, index, numel)
    if positions is None or source.numel() != index.numel():
        return _own_error(op, level, args, kwargs)
    offsets = cgrad.arange(size, dtype=positions.dtype).unsqueeze(1) * numel
    sources = materialize(source, level, size).reshape(-1)
    result = values.contiguous().reshape(-1).put((positions + offsets).reshape(-1), sources, accumulate)
    return wrap(result.reshape(values.shape), level)


# --- positions along a dim ------------------------------------------------------------

def _along_dim(inplace, with_source):
    """index_add/index_copy(x, dim, index, source) and index_fill(x, dim,
    index, value) with the index shared by the samples."""
    def run(op, level, args, kwargs):
        args, kwargs = list(args), dict(kwargs)
        self = args[0]
        index = _get_arg(args, kwargs, 2, "index")
        third = _get_arg(args, kwargs, 3, "source" if with_source else "value")
        if _batched_at(index, level) or "out" in kwargs or self.dim() == 0:
            return fallback(op.__name__, op, level, args, kwargs)
        if inplace and not _batched_at(self, level):
            raise RuntimeError(INPLACE_ERROR.format(op.__name__, op.__name__))
        size = level_info(level).size
        x = materialize(self, level, size)
        dim = _shift_dims(_get_arg(args, kwargs, 1, "dim"), x.dim() - 1)
        extra = {k: v for k, v in kwargs.items() if k not in ("dim", "index", "source", "value")}
        if with_source:
            result = op(x, dim, index, materialize(third, level, size), **extra)
        elif _batched_at(third, level):
            # a value per sample: where the filled mask is set, the sample's value
            if inplace:
                return fallback(op.__name__, op, level, args, kwargs)
            mask = cgrad.zeros(x.shape, dtype=cgrad.bool).index_fill(dim, index, True)
            result = cgrad.where(mask, _pad_value(third._value, 0, x.dim() - 1), x)
        else:
            result = op(x, dim, index, third)
        return self if inplace else wrap(result, level)
    return run


rule("index_add", "index_copy")(_along_dim(False, True))
rule("index_add_", "index_copy_")(_along_dim(True, True))
rule("index_fill")(_along_dim(False, False))
rule("index_fill_")(_along_dim(True, False))


def _index_put(inplace):
    """x[indices] = values with index tensors shared by the samples: the
    batch is addressed by an arange index in front of them."""
    def run(op, level, args, kwargs):
        self = args[0]
        indices = tuple(_get_arg(args, kwargs, 1, "indices"))
        values = _get_arg(args, kwargs, 2, "values")
        accumulate = _get_arg(args, kwargs, 3, "accumulate", False)
        if (not indices or any(not isinstance(i, Tensor) or _batched_at(i, level) or i.dtype == cgrad.bool
                               for i in indices) or not isinstance(values, Tensor)):
            return fallback(op.__name__, op, level, args, kwargs)
        if inplace and not _batched_at(self, level):
            raise RuntimeError(INPLACE_ERROR.format(op.__name__, op.__name__))
        if len(indices) > self.dim():
            return _own_error(op, level, args, kwargs)
        size = level_info(level).size
        x = materialize(self, level, size)
        index_shape = cgrad.broadcast_shapes(*[tuple(i.shape) for i in indices])
        batch_index = cgrad.arange(size).reshape((size,) + (1,) * len(index_shape))
        target_rank = len(index_shape) + self.dim() - len(indices)
        v = values._value if _batched_at(values, level) else values.unsqueeze(0)
        v = _pad_value(v, v.dim() - 1, target_rank)
        result = op(x, (batch_index,) + indices, v, accumulate)
        return self if inplace else wrap(result, level)
    return run


rule("index_put")(_index_put(False))
rule("index_put_")(_index_put(True))


# --- masks ------------------------------------------------------------------------------

MASKED_SELECT_ERROR = (
    "vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We cannot support this because "
    "for each batch this would return a differently shaped Tensor. Please file an issue at "
    "https://github.com/pytorch/pytorch/issues if you need this feature.")


@rule("masked_select")
def masked_select_rule(op, level, args, kwargs):
    self, mask = args[0], _get_arg(args, kwargs, 1, "mask")
    if _batched_at(mask, level):
        raise RuntimeError(MASKED_SELECT_ERROR)
    if "out" in kwargs or not isinstance(mask, Tensor):
        return fallback(op.__name__, op, level, args, kwargs)
    x, _ = unwrap(self, level)
    shape = tuple(cgrad.broadcast_shapes(tuple(self.shape), tuple(mask.shape)))
    return wrap(x.expand((x.shape[0],) + shape)[(slice(None), mask.expand(shape))], level)


@rule("masked_scatter")
def masked_scatter_rule(op, level, args, kwargs):
    """Each sample takes its own source's elements in order: the k-th set
    position reads source element k (a running count of the mask)."""
    self, mask, source = args[0], _get_arg(args, kwargs, 1, "mask"), _get_arg(args, kwargs, 2, "source")
    if not isinstance(mask, Tensor) or not isinstance(source, Tensor) or mask.dtype != cgrad.bool:
        return fallback(op.__name__, op, level, args, kwargs)
    size = level_info(level).size
    shape = tuple(cgrad.broadcast_shapes(tuple(self.shape), tuple(mask.shape)))
    if shape != tuple(self.shape):
        return _own_error(op, level, args, kwargs)
    x = materialize(self, level, size).reshape((size, -1))
    m = materialize(mask, level, size)
    m = _pad_value(m, m.dim() - 1, len(shape)).expand((size,) + shape).reshape((size, -1))
    src = materialize(source, level, size).reshape((size, -1))
    counts = m.sum(1)
    if src.shape[1] == 0 or bool((counts > src.shape[1]).any()):
        return _own_error(op, level, args, kwargs)
    positions = (m.long().cumsum(1) - 1).clamp(0, src.shape[1] - 1)
    result = cgrad.where(m, src.gather(1, positions), x)
    return wrap(result.reshape((size,) + shape), level)


# --- diagonals, blocks, rotations -----------------------------------------------------

@rule("diag")
def diag_rule(op, level, args, kwargs):
    x, batched = unwrap(args[0], level)
    offset = _get_arg(args, kwargs, 1, "diagonal", 0)
    if not batched or "out" in kwargs or isinstance(offset, BatchedTensor):
        return fallback(op.__name__, op, level, args, kwargs)
    rank = x.dim() - 1
    if rank == 1:
        return wrap(x.diag_embed(offset), level)
    if rank == 2:
        return wrap(x.diagonal(offset, 1, 2), level)
    return _own_error(op, level, args, kwargs)


rule("diag_embed")(_dims_rule((2, 3), rank_extra=1, names=("dim1", "dim2")))
rule("rot90")(_dims_rule((2,), names=("dims",), default=(0, 1)))
rule("narrow_copy")(_dims_rule((1,)))
rule("unfold")(_dims_rule((1,), names=("dimension",)))


@rule("block_diag")
def block_diag_rule(op, level, args, kwargs):
    """The samples' blocks written into one zero batch of matrices."""
    if kwargs or any(not isinstance(t, Tensor) or t.dim() > 2 for t in args):
        return fallback(op.__name__, op, level, args, kwargs)
    size = level_info(level).size
    blocks = []
    for t in args:
        v = materialize(t, level, size)
        if t.dim() == 0:
            v = v.reshape((size, 1, 1))
        elif t.dim() == 1:
            v = v.unsqueeze(1)
        blocks.append(v)
    dtype = blocks[0].dtype
    for v in blocks[1:]:
        dtype = cgrad.promote_types(dtype, v.dtype)
    rows, cols = sum(v.shape[1] for v in blocks), sum(v.shape[2] for v in blocks)
    result = cgrad.zeros((size, rows, cols), dtype=dtype)
    r = c = 0
    for v in blocks:        # one slice write per block (blocks are few), not per element
        result[:, r:r + v.shape[1], c:c + v.shape[2]] = v
        r, c = r + v.shape[1], c + v.shape[2]
    return wrap(result, level)
