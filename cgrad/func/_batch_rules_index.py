"""vmap's batching rules for the index ops that address elements by
position: take/put (flat positions), index_select, index_add/index_copy/
index_fill and index_put (positions along dims), indexing and index
assignment (x[i], x[i] = v), masked_select/masked_scatter, and the diagonal
and rotation builders (diag, diag_embed, block_diag, rot90, narrow_copy,
Tensor.unfold).

Flat positions are per sample, so the physical call offsets each sample's
positions by its start in the flattened batch (or gathers along a per-sample
row); positions along a dim take the dim shifted past vmap's batch dim. An
index tensor batched at the level addresses its own sample through an
arange index over the batch put in front of it (the indexed dim moved next
to the batch dim where the op takes one dim): one advanced-indexing call
for the whole batch. Where the batch and the advanced-index dims land in a
physical indexing result is read off a probe of the same index on a tiny
expanded tensor (PyTorch's placement rules, not restated here)."""
import cgrad
from cgrad._C import Tensor
from cgrad.func._batch_rules import (FALLBACK_INPLACE_ERROR, INPLACE_ERROR, _dims_rule, _get_arg, _pad_value,
                                     _shift_dims, vmap_depth)
from cgrad.func._batch_rules_linalg import _own_error
from cgrad.func._batched import BatchedTensor, fallback, level_info, materialize, rule, unwrap, wrap

INDEX_DTYPES = (cgrad.int64, cgrad.int32)


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

def _batch_arange(size, trailing):
    return cgrad.arange(size).reshape((size,) + (1,) * trailing)


def _positions_per_sample(level, index, length):
    """A batched 0-d/1-d index as (batch, k) positions along a dim of
    `length`; None when one is out of range or the index is no vector of
    integers (the caller then lets one sample raise the op's own error)."""
    if index.dim() > 1 or index.dtype not in INDEX_DTYPES:
        return None
    flat = index._value.reshape((index._value.shape[0], -1))
    if flat.numel():
        low, high = flat.aminmax()
        if int(low) < 0 or int(high) >= length:
            return None
    return flat


@rule("index_select")
def index_select_rule(op, level, args, kwargs):
    self, dim, index = args[0], _get_arg(args, kwargs, 1, "dim"), _get_arg(args, kwargs, 2, "index")
    if not _batched_at(index, level):
        return _select_shared_index(op, level, args, kwargs)
    if "out" in kwargs or not isinstance(dim, int) or self.dim() == 0:
        return fallback(op.__name__, op, level, args, kwargs)
    size = level_info(level).size
    x = materialize(self, level, size)
    physical_dim = _shift_dims(dim, self.dim())
    positions = _positions_per_sample(level, index, x.shape[physical_dim])
    if positions is None:
        return _own_error(op, level, args, kwargs)
    picked = x.movedim(physical_dim, 1)[_batch_arange(size, 1), positions]
    return wrap(picked.movedim(1, physical_dim), level)


_select_shared_index = _dims_rule((1,))


def _along_dim_batched_index(op, level, args, kwargs, inplace, with_source):
    """index_add/index_copy/index_fill with an index per sample: the dim
    moved next to the batch dim and addressed by (sample, position) pairs,
    one index_put (accumulating for index_add) or one masked fill."""
    self, index = args[0], _get_arg(args, kwargs, 2, "index")
    third = _get_arg(args, kwargs, 3, "source" if with_source else "value")
    size, rank = level_info(level).size, self.dim()
    x = materialize(self, level, size)
    physical_dim = _shift_dims(_get_arg(args, kwargs, 1, "dim"), rank)
    length = x.shape[physical_dim]
    positions = _positions_per_sample(level, index, length)
    if positions is None:
        return _own_error(op, level, args, kwargs)
    batch = _batch_arange(size, 1)
    if with_source:
        if not isinstance(third, Tensor) or third.dim() != rank or third.dtype != self.dtype or (
                third.shape[physical_dim - 1] != positions.shape[1]):
            return _own_error(op, level, args, kwargs)
        source = materialize(third, level, size).movedim(physical_dim, 1)
        alpha = kwargs.get("alpha", 1)
        if alpha != 1:
            source = source * alpha
        accumulate = op.__name__.startswith("index_add")
        moved = x.movedim(physical_dim, 1)
        try:
            if inplace:
                moved.index_put_((batch, positions), source, accumulate)
                return self
            return wrap(cgrad.index_put(moved, (batch, positions), source, accumulate).movedim(1, physical_dim),
                        level)
        except (RuntimeError, IndexError):
            return _own_error(op, level, args, kwargs)
    # index_fill: each sample's filled positions as a mask over its dim
    if isinstance(third, Tensor) and third.dim() != 0:
        return _own_error(op, level, args, kwargs)
    mask = cgrad.zeros((size, length), dtype=cgrad.bool)
    mask.index_put_((batch, positions), cgrad.tensor(True))
    mask = mask.reshape((size,) + (1,) * (physical_dim - 1) + (length,) + (1,) * (rank - physical_dim))
    if _batched_at(third, level):
        if inplace:
            return fallback(op.__name__, op, level, args, kwargs)
        value = third._value.to(x.dtype).reshape((size,) + (1,) * rank)
        return wrap(cgrad.where(mask, value, x), level)
    if inplace:
        x.masked_fill_(mask, third)
        return self
    return wrap(x.masked_fill(mask, third), level)


def _along_dim(inplace, with_source):
    """index_add/index_copy(x, dim, index, source) and index_fill(x, dim,
    index, value)."""
    def run(op, level, args, kwargs):
        args, kwargs = list(args), dict(kwargs)
        self = args[0]
        index = _get_arg(args, kwargs, 2, "index")
        third = _get_arg(args, kwargs, 3, "source" if with_source else "value")
        if "out" in kwargs or self.dim() == 0 or not isinstance(_get_arg(args, kwargs, 1, "dim"), int):
            return fallback(op.__name__, op, level, args, kwargs)
        if inplace and not _batched_at(self, level):
            if op.__name__ == "index_copy_":
                raise RuntimeError(FALLBACK_INPLACE_ERROR.format(op.__name__, vmap_depth(level)))
            raise RuntimeError(INPLACE_ERROR.format(op.__name__, op.__name__))
        if _batched_at(index, level):
            return _along_dim_batched_index(op, level, args, kwargs, inplace, with_source)
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


def _lower_level(x, level):
    return type(x) is BatchedTensor and x._level != level


def _index_put(inplace):
    """x[indices] = values: the batch addressed by an arange index in front
    of the index tensors (each batched one with its batch dim against it)."""
    def run(op, level, args, kwargs):
        self = args[0]
        indices = tuple(_get_arg(args, kwargs, 1, "indices"))
        values = _get_arg(args, kwargs, 2, "values")
        accumulate = _get_arg(args, kwargs, 3, "accumulate", False)
        _refuse_batched_mask(indices, level)
        if (not indices or any(not isinstance(i, Tensor) or _lower_level(i, level) or i.dtype == cgrad.bool
                               for i in indices) or not isinstance(values, Tensor)):
            return fallback(op.__name__, op, level, args, kwargs)
        if inplace and not _batched_at(self, level):
            raise RuntimeError(INPLACE_ERROR.format(op.__name__, op.__name__))
        if len(indices) > self.dim():
            return _own_error(op, level, args, kwargs)
        size = level_info(level).size
        x = materialize(self, level, size)
        index_shape = cgrad.broadcast_shapes(*[tuple(i.shape) for i in indices])
        physical = tuple(_pad_value(i._value, i._value.dim() - 1, len(index_shape)) if _batched_at(i, level) else i
                         for i in indices)
        target_rank = len(index_shape) + self.dim() - len(indices)
        v = values._value if _batched_at(values, level) else values.unsqueeze(0)
        v = _pad_value(v, v.dim() - 1, target_rank)
        try:
            result = op(x, (_batch_arange(size, len(index_shape)),) + physical, v, accumulate)
        except (RuntimeError, IndexError):
            return _own_error(op, level, args, kwargs)
        return self if inplace else wrap(result, level)
    return run


rule("index_put")(_index_put(False))
rule("index_put_")(_index_put(True))


# --- x[index] and x[index] = value ------------------------------------------------------

_BATCH_MARK, _BLOCK_MARK = 3, 2      # probe sizes: the batch dim, the advanced-index dims


def _probe_item(item):
    """item with the same placement effect on a probe of size-1 dims: index
    tensors become zeros of size 2 in each of their (logical) dims, ints 0."""
    if isinstance(item, Tensor):
        return cgrad.zeros((), dtype=cgrad.int64).expand((_BLOCK_MARK,) * item.dim())
    if isinstance(item, int) and not isinstance(item, bool):
        return 0
    return item


def _placement_key(item):
    """What of an index item decides where result dims go (not sizes)."""
    if isinstance(item, Tensor):
        return item.dim()
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, bool):
        return "bool"
    return "int" if isinstance(item, int) else "slice"


_PERMUTATIONS = {}      # placement key -> (perm, logical result rank)


def _result_permutation(items, rank, batch_item):
    """(perm, logical result rank): x_physical[(batch_item,) + items]
    permuted by perm has the batch dim first, then the logical result's dims
    in order. batch_item is slice(None) or the batch's arange index. Cached
    by what decides the placement (the probe costs a few small ops)."""
    key = (tuple(_placement_key(i) for i in items), rank,
           None if isinstance(batch_item, slice) else batch_item.dim())
    known = _PERMUTATIONS.get(key)
    if known is None:
        if len(_PERMUTATIONS) > 1024:
            _PERMUTATIONS.clear()
        known = _PERMUTATIONS[key] = _probe_permutation(items, rank, batch_item)
    return known


def _probe_permutation(items, rank, batch_item):
    probe_items = tuple(_probe_item(i) for i in items)
    logical = tuple(cgrad.zeros(()).expand((1,) * rank)[probe_items].shape)
    if isinstance(batch_item, slice):
        batch_probe = batch_item
    else:
        batch_probe = cgrad.zeros((), dtype=cgrad.int64).expand((_BATCH_MARK,) + (1,) * (batch_item.dim() - 1))
    physical = tuple(cgrad.zeros(()).expand((_BATCH_MARK,) + (1,) * rank)[(batch_probe,) + probe_items].shape)
    batch_dim = physical.index(_BATCH_MARK)
    block = [d for d, n in enumerate(physical) if n == _BLOCK_MARK]
    others = iter(d for d, n in enumerate(physical) if d != batch_dim and n != _BLOCK_MARK)
    perm, pos = [batch_dim], 0
    while pos < len(logical):
        if block and logical[pos] == _BLOCK_MARK:
            perm += block
            pos += len(block)
        else:
            perm.append(next(others))
            pos += 1
    return tuple(perm), len(logical)


BOOL_MASK_ERROR = ("vmap: We do not support batching operators that can support dynamic shape. Attempting to "
                   "batch over indexing with a boolean mask.")


def _refuse_batched_mask(items, level):
    """A boolean mask batched at the level selects a number of elements per
    sample: PyTorch's vmap refuses it, for reads and writes alike."""
    for i in items:
        if _batched_at(i, level) and i.dtype == cgrad.bool:
            raise RuntimeError(BOOL_MASK_ERROR)


def _plain_items(items):
    """True when every item is one _probe_item knows (no lists, no masks)."""
    for i in items:
        if isinstance(i, Tensor):
            if i.dtype == cgrad.bool or i.dtype.is_floating_point:
                return False
        elif not (i is None or i is Ellipsis or isinstance(i, (int, slice))):
            return False
    return True


def _physical_index(level, items):
    """(batch item, physical items): the arange over the batch and each
    index tensor batched at level with its batch dim against it, when one
    is; slice(None) and the items themselves otherwise."""
    batched = [i for i in items if _batched_at(i, level)]
    if not batched:
        return slice(None), items
    adv_rank = max(i.dim() for i in items if isinstance(i, Tensor))
    size = level_info(level).size
    physical = tuple(_pad_value(i._value, i._value.dim() - 1, adv_rank) if _batched_at(i, level) else i
                     for i in items)
    return _batch_arange(size, adv_rank), physical


def _single_shared_advanced(items, level):
    """At most one advanced item (tensor, mask or list), not batched: after
    the batch's slice its dims stay where they are."""
    advanced = [i for i in items if isinstance(i, (Tensor, list))]
    return len(advanced) == 0 or (len(advanced) == 1 and type(advanced[0]) is not BatchedTensor)


@rule("__getitem__")
def getitem_rule(op, level, args, kwargs):
    items = args[1] if isinstance(args[1], tuple) else (args[1],)
    _refuse_batched_mask(items, level)
    if _batched_at(args[0], level) and _single_shared_advanced(items, level):
        return wrap(args[0]._value[(slice(None),) + items], level)
    if any(_lower_level(i, level) for i in items) or not _plain_items(items):
        return fallback("index", op, level, args, kwargs)
    size = level_info(level).size
    x = materialize(args[0], level, size)
    batch_item, physical = _physical_index(level, items)
    perm, _ = _result_permutation(items, args[0].dim(), batch_item)
    try:
        result = x[(batch_item,) + physical]
    except (RuntimeError, IndexError):
        return _own_error(op, level, args, kwargs)
    return wrap(result if perm == tuple(range(len(perm))) else result.permute(perm), level)


@rule("__setitem__")
def setitem_rule(op, level, args, kwargs):
    x, batched = unwrap(args[0], level)
    items = args[1] if isinstance(args[1], tuple) else (args[1],)
    _refuse_batched_mask(items, level)
    if not batched:
        # a tensor in the index makes the write an index_put_, else a copy_
        name = "index_put_" if any(isinstance(i, (Tensor, list)) for i in items) else "inplace arithmetic"
        raise RuntimeError(INPLACE_ERROR.format(name, name))
    value = args[2]
    if _single_shared_advanced(items, level):
        full, target_rank = (slice(None),) + items, None
    elif _lower_level(value, level) or any(_lower_level(i, level) for i in items) or not _plain_items(items):
        return fallback("index_put_", op, level, args, kwargs)
    else:
        batch_item, physical = _physical_index(level, items)
        perm, target_rank = _result_permutation(items, args[0].dim(), batch_item)
        if perm != tuple(range(len(perm))):
            # the written region's dims are not in the logical order: per sample
            return fallback("index_put_", op, level, args, kwargs)
        full = (batch_item,) + physical
    if _batched_at(value, level):
        if target_rank is None:
            target_rank = x[full].dim() - 1
        v = value._value
        value = _pad_value(v, v.dim() - 1, target_rank)
    x[full] = value
    return None


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
