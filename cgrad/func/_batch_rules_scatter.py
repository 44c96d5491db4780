"""vmap's batching rules for the ops that read or write along a dim at
per-element positions given by an index tensor of the input's rank: gather,
take_along_dim, scatter, scatter_add and scatter_reduce (and their in-place
forms).

Every operand (input, index, src) gets the batch dim in front, batched or
not (an unbatched one is expanded, a view), so the op runs once on the
whole batch with its dim shifted past the batch dim: position k of sample b
then addresses sample b's own row, whether the index is batched or shared.
A logical 0-d operand is given one trailing dim for the call (the op's
scalar case). A logical call the op rejects is handed to one sample, so
its error is the op's own, with logical shapes."""
import cgrad
from cgrad._C import Tensor
from cgrad.func._batch_rules import FALLBACK_INPLACE_ERROR, INPLACE_ERROR, _get_arg, _shift_dims, vmap_depth
from cgrad.func._batch_rules_linalg import _own_error
from cgrad.func._batched import BatchedTensor, call, fallback, level_info, materialize, rule, wrap


def _batched_at(x, level):
    return type(x) is BatchedTensor and x._level == level


def _physical(level, tensors, rank):
    """Each tensor with the batch dim in front; logical 0-d calls get one
    trailing dim (the op's scalar case addresses it as dim 0)."""
    size = level_info(level).size
    values = [materialize(t, level, size) if isinstance(t, Tensor) else t for t in tensors]
    if rank == 0:
        values = [v.unsqueeze(1) if isinstance(v, Tensor) and v.dim() == 1 else v for v in values]
    return values


@rule("gather")
def gather_rule(op, level, args, kwargs):
    x, dim, index = args[0], _get_arg(args, kwargs, 1, "dim"), _get_arg(args, kwargs, 2, "index")
    extra = {k: v for k, v in kwargs.items() if k not in ("dim", "index")}
    if "out" in extra or not isinstance(index, Tensor) or not isinstance(dim, int) or len(args) > 3:
        return fallback(op.__name__, op, level, args, kwargs)
    rank = x.dim()
    if index.dim() != rank:
        return _own_error(op, level, args, kwargs)      # (the op's scalar-and-vector mixes included)
    xv, iv = _physical(level, [x, index], rank)
    try:
        result = call("gather", xv, _shift_dims(dim, rank), iv, **extra)
    except (RuntimeError, IndexError):
        return _own_error(op, level, args, kwargs)
    return wrap(result.squeeze(1) if rank == 0 else result, level)


@rule("take_along_dim")
def take_along_dim_rule(op, level, args, kwargs):
    x, index = args[0], _get_arg(args, kwargs, 1, "indices")
    dim = _get_arg(args, kwargs, 2, "dim")
    if "out" in kwargs or not isinstance(index, Tensor) or not (dim is None or isinstance(dim, int)):
        return fallback(op.__name__, op, level, args, kwargs)
    size = level_info(level).size
    xv, iv = materialize(x, level, size), materialize(index, level, size)
    try:
        if dim is None:
            return wrap(call("take_along_dim", xv.reshape((size, -1)), iv.reshape((size, -1)), 1), level)
        if x.dim() != index.dim() or x.dim() == 0:
            return _own_error(op, level, args, kwargs)
        return wrap(call("take_along_dim", xv, iv, _shift_dims(dim, x.dim())), level)
    except (RuntimeError, IndexError):
        return _own_error(op, level, args, kwargs)


def _scatter(name, inplace, source_name):
    """scatter / scatter_add / scatter_reduce(input, dim, index, src or
    value, ...) with any of input, index and src batched."""
    def run(op, level, args, kwargs):
        args, kwargs = list(args), dict(kwargs)
        self, dim = args[0], _get_arg(args, kwargs, 1, "dim")
        index = _get_arg(args, kwargs, 2, "index")
        if "value" in kwargs:
            source_key, source = "value", kwargs["value"]
        else:
            source_key, source = source_name, _get_arg(args, kwargs, 3, source_name)
        if "out" in kwargs or not isinstance(index, Tensor) or not isinstance(dim, int):
            return fallback(op.__name__, op, level, args, kwargs)
        if inplace and not _batched_at(self, level):
            if op.__name__ == "scatter_":
                raise RuntimeError(FALLBACK_INPLACE_ERROR.format(op.__name__, vmap_depth(level)))
            raise RuntimeError(INPLACE_ERROR.format(op.__name__, op.__name__))
        rank = self.dim()
        operands = [self, index] + ([source] if isinstance(source, Tensor) else [])
        if any(t.dim() != rank for t in operands[1:]):
            return _own_error(op, level, args, kwargs)
        if source_key == "value" and isinstance(source, Tensor):
            return fallback(op.__name__, op, level, args, kwargs)
        values = _physical(level, operands, rank)
        rest = {k: v for k, v in kwargs.items() if k not in ("dim", "index", source_key)}
        trailing = list(args[4:])
        physical_dim = _shift_dims(dim, rank)
        target = values[0]
        src = values[2] if len(values) > 2 else source
        try:
            if inplace:
                getattr(target, op.__name__)(physical_dim, values[1], src, *trailing, **rest)
                return self
            result = call(name, target, physical_dim, values[1], src, *trailing, **rest)
        except (RuntimeError, IndexError):
            return _own_error(op, level, args, kwargs)
        return wrap(result.squeeze(1) if rank == 0 else result, level)
    return run


rule("scatter")(_scatter("scatter", False, "src"))
rule("scatter_")(_scatter("scatter", True, "src"))
rule("scatter_add")(_scatter("scatter_add", False, "src"))
rule("scatter_add_")(_scatter("scatter_add", True, "src"))
rule("scatter_reduce")(_scatter("scatter_reduce", False, "src"))
rule("scatter_reduce_")(_scatter("scatter_reduce", True, "src"))
