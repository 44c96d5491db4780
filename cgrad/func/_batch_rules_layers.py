"""vmap's batching rules for the layer functions of cgrad.nn.functional
that take an optional leading batch dim N: convolutions, pooling, fold and
unfold, pixel shuffles, padding, prelu, group norm; and embedding.

A layer function accepts its input with or without N, so a sample without
N is already a valid batch (vmap's batch dim becomes N), and a sample with
N has vmap's dim merged into N for the call and split off the result. The
weights are shared by the samples, except for the convolutions (a weight
or a bias per sample: one grouped call) and prelu; elsewhere a weight
batched at the level takes the fallback."""
import cgrad
from cgrad._C import Tensor
from cgrad.func._batch_rules_linalg import _own_error
from cgrad.func._batch_rules_nn import _bind
from cgrad.func._batched import BatchedTensor, call_F, fallback, level_info, materialize, rule, unwrap, wrap


def _batched_at(x, level):
    return type(x) is BatchedTensor and x._level == level


def _split_batch(result, size):
    if isinstance(result, tuple):
        return type(result)(_split_batch(r, size) for r in result)
    return result.unflatten(0, (size, result.shape[0] // size)) if isinstance(result, Tensor) else result


def _merge_batch(name, core_rank):
    """name's input has `core_rank` dims without N (core_rank + 1 with)."""
    def run(op, level, args, kwargs):
        arguments = _bind(name, args, kwargs)
        x, batched = unwrap(arguments["input"], level)
        others = [v for k, v in arguments.items() if k != "input"]
        if not batched or any(_batched_at(v, level) for v in others):
            return fallback(name, op, level, args, kwargs)
        rank = x.dim() - 1
        if rank == core_rank:
            arguments["input"] = x
            return wrap(call_F(name, **arguments), level)
        if rank != core_rank + 1:
            return _own_error(op, level, args, kwargs)
        size = x.shape[0]
        arguments["input"] = x.flatten(0, 1)
        return wrap(_split_batch(call_F(name, **arguments), size), level)
    return run


LAYERS = {
    "conv1d": 2, "conv2d": 3, "conv3d": 4, "conv_transpose1d": 2, "conv_transpose2d": 3, "conv_transpose3d": 4,
    "max_pool1d": 2, "max_pool2d": 3, "max_pool1d_with_indices": 2, "max_pool2d_with_indices": 3,
    "avg_pool1d": 2, "avg_pool2d": 3, "adaptive_avg_pool1d": 2, "adaptive_avg_pool2d": 3,
    "adaptive_max_pool1d": 2, "adaptive_max_pool2d": 3, "adaptive_max_pool1d_with_indices": 2,
    "adaptive_max_pool2d_with_indices": 3, "unfold": 3, "fold": 2, "pixel_shuffle": 3, "pixel_unshuffle": 3,
    "max_pool3d": 4, "avg_pool3d": 4, "adaptive_avg_pool3d": 4, "adaptive_max_pool3d": 4,
    "max_pool3d_with_indices": 4, "adaptive_max_pool3d_with_indices": 4,
}
for _name, _core in LAYERS.items():
    rule("F." + _name)(_merge_batch(_name, _core))


def _conv_per_sample_weight(name, core_rank):
    """A convolution (or transposed one) whose weight differs per sample: one
    grouped convolution, the samples' channels side by side (groups times the
    batch), as PyTorch's rule does; grouping keeps each sample's groups in
    order, so groups > 1 batch the same way. A bias per sample with a
    shared weight is added to the shared weight's batched result."""
    shared = _merge_batch(name, core_rank)

    def run(op, level, args, kwargs):
        arguments = _bind(name, args, kwargs)
        weight, bias = arguments["weight"], arguments["bias"]
        rest = [v for k, v in arguments.items() if k not in ("input", "weight", "bias")]
        if any(_batched_at(v, level) for v in rest) or not isinstance(weight, Tensor):
            return fallback(name, op, level, args, kwargs)
        x = arguments["input"]
        if not _batched_at(weight, level):
            if not _batched_at(bias, level):
                return shared(op, level, args, kwargs)
            if x.dim() not in (core_rank, core_rank + 1) or bias.dim() != 1:
                return _own_error(op, level, args, kwargs)
            arguments["bias"] = None
            size = level_info(level).size
            out = materialize(shared(op, level, (), arguments) if _batched_at(x, level) else call_F(name, **arguments),
                              level, size)
            channels = (size,) + (1,) * (x.dim() - core_rank) + (bias.shape[0],) + (1,) * (core_rank - 1)
            return wrap(out + bias._value.reshape(channels), level)
        if x.dim() not in (core_rank, core_rank + 1) or weight.dim() != core_rank + 1:
            return _own_error(op, level, args, kwargs)
        size = level_info(level).size
        value = materialize(x, level, size)
        if x.dim() == core_rank:
            value = value.unsqueeze(1)
        merged = value.movedim(0, 1).flatten(1, 2)          # (N, batch * C, ...)
        arguments["input"] = merged
        arguments["weight"] = weight._value.flatten(0, 1)
        if bias is not None:
            arguments["bias"] = (bias._value if _batched_at(bias, level) else bias.unsqueeze(0).expand(
                (size,) + tuple(bias.shape))).flatten(0, 1)
        arguments["groups"] = arguments["groups"] * size
        try:
            out = call_F(name, **arguments)
        except RuntimeError:
            return _own_error(op, level, args, kwargs)
        out = out.unflatten(1, (size, out.shape[1] // size)).movedim(1, 0)
        return wrap(out.squeeze(1) if x.dim() == core_rank else out, level)
    return run


for _name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
    rule("F." + _name)(_conv_per_sample_weight(_name, LAYERS[_name]))


@rule("F.pad")
def pad_rule(op, level, args, kwargs):
    """Constant padding pads trailing dims of any rank; the other modes take
    an input with or without N, as the layers do."""
    arguments = _bind("pad", args, kwargs)
    x, batched = unwrap(arguments["input"], level)
    if not batched or _batched_at(arguments["value"], level):
        return fallback("pad", op, level, args, kwargs)
    padded = len(arguments["pad"]) // 2
    rank = x.dim() - 1
    if arguments["mode"] == "constant":
        if padded > rank:
            return _own_error(op, level, args, kwargs)
        arguments["input"] = x
        return wrap(call_F("pad", **arguments), level)
    return _merge_batch("pad", padded + 1)(op, level, args, kwargs)


@rule("F.prelu", "prelu")
def prelu_rule(op, level, args, kwargs):
    """prelu's channels are dim 1 of the sample (none below rank 2)."""
    x, batched = unwrap(args[0], level)
    weight = args[1] if len(args) > 1 else kwargs.get("weight")
    if not isinstance(weight, Tensor):
        return fallback("prelu", op, level, args, kwargs)
    if _batched_at(weight, level):
        # a weight per sample: prelu's formula with it on the channel dim
        size = level_info(level).size
        x = materialize(args[0], level, size)
        rank = x.dim() - 1
        if weight.dim() != 1 or (rank < 2 and weight.numel() != 1):
            return _own_error(op, level, args, kwargs)
        w = weight._value
        shape = (size,) + (1,) * rank if weight.numel() == 1 else (size, 1, w.shape[1]) + (1,) * (rank - 2)
        return wrap(cgrad.where(x >= 0, x, w.reshape(shape) * x), level)
    if weight.numel() == 1 and x.dim() - 1 < 2:
        return wrap(op(x, weight), level)
    if x.dim() - 1 < 2:
        return _own_error(op, level, args, kwargs)
    size = x.shape[0]
    return wrap(op(x.flatten(0, 1), weight).unflatten(0, (size, x.shape[1])), level)


@rule("F.group_norm")
def group_norm_rule(op, level, args, kwargs):
    arguments = _bind("group_norm", args, kwargs)
    x, batched = unwrap(arguments["input"], level)
    if not batched or any(_batched_at(arguments[k], level) for k in ("weight", "bias")):
        return fallback("group_norm", op, level, args, kwargs)
    if x.dim() - 1 < 2:
        return _own_error(op, level, args, kwargs)
    size = x.shape[0]
    arguments["input"] = x.flatten(0, 1)
    return wrap(call_F("group_norm", **arguments).unflatten(0, (size, x.shape[1])), level)


@rule("F.embedding")
def embedding_rule(op, level, args, kwargs):
    """Indices batched, table shared: one lookup. A table per sample is
    indexed by (sample, index) pairs."""
    arguments = _bind("embedding", args, kwargs)
    indices, weight = arguments["input"], arguments["weight"]
    if not _batched_at(weight, level):
        value, _ = unwrap(indices, level)
        arguments["input"] = value
        return wrap(call_F("embedding", **arguments), level)
    if (_batched_at(arguments.get("padding_idx"), level) or arguments.get("padding_idx") is not None
            or arguments.get("max_norm") is not None or weight.dim() != 2):
        return fallback("embedding", op, level, args, kwargs)
    size = level_info(level).size
    index = materialize(indices, level, size)
    sample = cgrad.arange(size).reshape((size,) + (1,) * (index.dim() - 1))
    return wrap(weight._value[sample, index], level)
