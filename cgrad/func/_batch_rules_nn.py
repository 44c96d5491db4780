"""vmap's batching rules for cgrad.nn.functional (activations, linear,
losses, dropout) and for random operations under vmap's randomness modes.

Activations are pointwise and run on the physical tensor. Losses run with
reduction='none' on the whole batch and are then reduced per sample (the
mean of cross_entropy / nll_loss divides by each sample's own total target
weight). Random operations follow PyTorch: 'error' refuses them, 'different'
draws independently per sample, 'same' draws once for all samples."""
import functools
import inspect

import cgrad
from cgrad.func import _batched
from cgrad.func._batched import (BatchedTensor, active_levels, call, call_F, fallback, level_info,
                                 materialize, rule, unwrap, wrap)
from cgrad.func._batch_rules import matmul_rule, pointwise

ACTIVATIONS = """relu relu_ relu6 elu elu_ selu celu leaky_relu leaky_relu_ gelu silu mish softplus hardtanh
hardtanh_ hardswish hardsigmoid logsigmoid softsign tanhshrink threshold threshold_ softshrink hardshrink sigmoid
tanh""".split()
for _name in ACTIVATIONS:
    rule("F." + _name)(pointwise)


@rule("rrelu", "rrelu_")
def rrelu_unsupported(op, level, args, kwargs):
    # PyTorch's vmap has no rule for rrelu (F.rrelu reaches the same refusal
    # from cgrad/nn/_rrelu.py when it meets a batched tensor)
    raise RuntimeError(f"vmap: we do not yet support aten::{op.__name__}. Please file an issue")


@functools.lru_cache(maxsize=None)
def _signature(name):
    import cgrad.nn.functional as F
    return inspect.signature(_batched._ORIGINALS.get(("F", name), getattr(F, name)))


def _bind(name, args, kwargs):
    bound = _signature(name).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _reduction_of(arguments):
    if arguments.get("size_average") is not None or arguments.get("reduce") is not None:
        import cgrad.nn.functional as F
        return F._legacy_get_string(arguments["size_average"], arguments["reduce"])
    return arguments["reduction"]


def _reduce_per_sample(loss, reduction, level):
    """loss: the physical elementwise loss, batch in front."""
    if reduction == "none":
        return wrap(loss, level)
    flat = loss.reshape((loss.shape[0], -1))
    return wrap(flat.sum(1) if reduction == "sum" else flat.mean(1), level)


@rule("F.linear")
def linear_rule(op, level, args, kwargs):
    arguments = _bind("linear", args, kwargs)
    x, weight, bias = arguments["input"], arguments["weight"], arguments["bias"]
    w, w_batched = unwrap(weight, level)
    b_batched = type(bias) is BatchedTensor and bias._level == level
    if not w_batched and not b_batched:
        value, _ = unwrap(x, level)
        return wrap(call_F("linear", value, w, bias), level)
    if w_batched and type(w) is not BatchedTensor and w.dim() == 3 and w.stride(0) == 0:
        value = materialize(x, level, level_info(level).size)
        if type(value) is not BatchedTensor:
            out = BatchedTensor(_SharedWeightLinear.apply(value, w), level)
            return out if bias is None else call("add", out, bias)
    out = matmul_rule(op, level, (x, weight.transpose(-1, -2)), {})
    return out if bias is None else call("add", out, bias)


class _SharedWeightLinear(cgrad.autograd.Function):
    """linear(x[b], weight[b]) for every sample b of a weight whose batch dim
    has stride 0 (one weight shared by all samples, expanded so that each
    sample gets its own gradient, as grad inside vmap does): the forward is
    one matrix product with the shared weight instead of a batched product,
    the weight's gradient is each sample's outer product, written once."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return cgrad.nn.functional.linear(x, weight[0])

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = grad.matmul(weight[0])
        if ctx.needs_input_grad[1]:
            size = x.shape[0]
            if x.dim() == 2:
                grad_w = grad.unsqueeze(2) * x.unsqueeze(1)
            else:
                flat_g = grad.reshape((size, -1, grad.shape[-1]))
                flat_x = x.reshape((size, -1, x.shape[-1]))
                grad_w = flat_g.transpose(1, 2).matmul(flat_x)
        return grad_x, grad_w


POINTWISE_LOSSES = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                    "binary_cross_entropy_with_logits", "soft_margin_loss")


def _pointwise_loss(name):
    def run(op, level, args, kwargs):
        import cgrad.nn.functional as F
        arguments = _bind(name, args, kwargs)
        if arguments.get("weight") is not None and name in ("mse_loss", "l1_loss"):
            return fallback(name, op, level, args, kwargs)
        reduction = _reduction_of(arguments)
        if name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
            F._size_warning(arguments["input"], arguments["target"])
        arguments.pop("size_average", None)
        arguments.pop("reduce", None)
        arguments["reduction"] = "none"
        size = level_info(level).size
        for key in ("input", "target"):       # some losses refuse a target of another shape
            arguments[key] = BatchedTensor(materialize(arguments[key], level, size), level)
        elementwise = pointwise(op, level, (), arguments)
        return _reduce_per_sample(materialize(elementwise, level, size), reduction, level)
    return run


for _name in POINTWISE_LOSSES:
    rule("F." + _name)(_pointwise_loss(_name))


def _class_loss(name):
    """cross_entropy / nll_loss: the batch folds into the loss's own batch
    dim N (or becomes it for a single sample), reduction='none', then each
    sample's mean divides by its own total target weight."""
    def run(op, level, args, kwargs):
        arguments = _bind(name, args, kwargs)
        weight = arguments.get("weight")
        if type(weight) is BatchedTensor or arguments.get("label_smoothing", 0.0) not in (0, 0.0):
            return fallback(name, op, level, args, kwargs)
        size = level_info(level).size
        x = materialize(arguments["input"], level, size)
        target = materialize(arguments["target"], level, size)
        reduction = _reduction_of(arguments)
        probabilities = target.is_floating_point()
        logical_rank = x.dim() - 1
        if logical_rank == 1:                       # (C,) per sample: the batch is N
            flat_x, flat_t = x, target
        else:                                       # (N, C, d...) per sample: fold B into N
            flat_x = x.reshape((-1,) + tuple(x.shape[2:]))
            flat_t = target.reshape((-1,) + tuple(target.shape[2:]))
        extra = {"weight": weight, "ignore_index": arguments["ignore_index"], "reduction": "none"}
        if name == "cross_entropy":
            extra["label_smoothing"] = arguments["label_smoothing"]
        loss = call_F(name, flat_x, flat_t, **extra)
        loss = loss.reshape((size,) + tuple(loss.shape[1:]) if logical_rank == 1 else
                            (size, -1) + tuple(loss.shape[1:]))
        if reduction != "mean" or probabilities:
            return _reduce_per_sample(loss, reduction, level)
        valid = (target != arguments["ignore_index"])
        if weight is None:
            denominator = valid.to(loss.dtype)
        else:
            safe = target.masked_fill(~valid, 0)
            denominator = weight[safe] * valid.to(weight.dtype)
        denominator = denominator.reshape((size, -1)).sum(1)
        return wrap(loss.reshape((size, -1)).sum(1) / denominator, level)
    return run


rule("F.cross_entropy")(_class_loss("cross_entropy"))
rule("F.nll_loss")(_class_loss("nll_loss"))


# --- randomness -----------------------------------------------------------------

RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the 'same' "
                "or 'different' randomness flags on vmap or perform the randomness operation out of vmap")


def random_level():
    """The innermost vmap level a random op has not yet been batched over."""
    ceiling = getattr(_batched._state, "random_ceiling", None)
    for entry in reversed(active_levels()):
        if ceiling is None or entry.level < ceiling:
            return entry
    return None


class _Below:
    """Inside, random ops see only the levels below `level`."""

    def __init__(self, level):
        self.level = level

    def __enter__(self):
        self.previous = getattr(_batched._state, "random_ceiling", None)
        _batched._state.random_ceiling = self.level

    def __exit__(self, *exc):
        _batched._state.random_ceiling = self.previous


def _per_sample(op, entry, args, kwargs, same):
    """op once per sample below entry's level; with same, every sample
    starts from the same generator state."""
    state = cgrad.get_rng_state() if same else None
    results = []
    with _Below(entry.level):
        for i in range(entry.size):
            if same:
                cgrad.set_rng_state(state)
            sample_args = [_batched._select_sample(a, entry.level, i) for a in args]
            sample_kwargs = {k: _batched._select_sample(v, entry.level, i) for k, v in kwargs.items()}
            results.append(op(*sample_args, **sample_kwargs))
            if same and not _batched._has_batched(args, kwargs):
                return results[0]
    return _batched._stack_results(results, entry.level)


def random_rule(op, level, args, kwargs):
    entry = random_level()
    if entry is None:
        return getattr(op, "_vmap_original", op)(*args, **kwargs)
    if entry.randomness == "error":
        raise RuntimeError(RANDOM_ERROR)
    return _per_sample(op, entry, args, kwargs, entry.randomness == "same")


for _name in ("rand", "randn", "randint", "randperm", "normal", "bernoulli", "rand_like", "randn_like",
              "randint_like", "multinomial", "poisson"):
    rule(_name)(random_rule)


def _compiled_method(op, args, kwargs):
    """op on an unbatched tensor without going through vmap's wrapper."""
    original = _batched._TENSOR_METHODS.get(op.__name__, (None,))[0]
    if original is not None and type(args[0]) is not BatchedTensor:
        return original(*args, **kwargs)
    return op(*args, **kwargs)


@rule("normal_", "uniform_", "bernoulli_", "random_", "exponential_", "geometric_", "cauchy_",
      "log_normal_")
def inplace_random_rule(op, level, args, kwargs):
    entry = random_level()
    if entry is None:
        return _compiled_method(op, args, kwargs)
    if entry.randomness == "error":
        raise RuntimeError(RANDOM_ERROR)
    self, batched = unwrap(args[0], entry.level)
    if not batched:
        if entry.randomness == "different":
            raise RuntimeError("vmap: Cannot ask for different inplace randomness on an unbatched tensor. "
                               "This will appear like same randomness. If this is necessary for your usage, "
                               "please file an issue with functorch.")
        with _Below(entry.level):
            return op(*args, **kwargs)
    with _Below(entry.level):
        if entry.randomness == "different":
            op(self, *args[1:], **kwargs)
        else:
            sample = self[0].clone()
            op(sample, *args[1:], **kwargs)
            self.copy_(sample.expand_as(self))
    return args[0]


@rule("F.dropout", "dropout")
def dropout_rule(op, level, args, kwargs):
    if "train" in kwargs:
        kwargs = dict(kwargs)
        kwargs["training"] = kwargs.pop("train")
    arguments = _bind("dropout", args, kwargs)
    x, p, training = arguments["input"], arguments["p"], arguments["training"]
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return x
    entry = random_level()
    if entry is None:
        return call_F("dropout", x, p, True)
    if entry.randomness == "error":
        raise RuntimeError(RANDOM_ERROR)
    value, batched = unwrap(x, entry.level)
    with _Below(entry.level):
        if entry.randomness == "same":
            logical = value[0] if batched else value
            mask = call_F("dropout", call("ones_like", logical), p, True)
            return x * mask
        physical = materialize(x, entry.level, entry.size)
        return BatchedTensor(call_F("dropout", physical, p, True), entry.level)


@rule("F.layer_norm")
def layer_norm_rule(op, level, args, kwargs):
    """The normalized dims are the last ones, the same in every sample."""
    arguments = _bind("layer_norm", args, kwargs)
    if any(type(arguments[k]) is BatchedTensor and arguments[k]._level == level for k in ("weight", "bias")):
        # a weight or bias per sample: normalized without them, then scaled
        # and shifted by them (padded to the sample's rank)
        size = level_info(level).size
        x = materialize(arguments["input"], level, size)
        result = call_F("layer_norm", x, arguments["normalized_shape"], None, None, arguments["eps"])
        for name in ("weight", "bias"):
            t = arguments[name]
            if t is None:
                continue
            v = t._value if type(t) is BatchedTensor and t._level == level else t.unsqueeze(0)
            for _ in range(x.dim() - v.dim()):
                v = v.unsqueeze(1)
            result = result * v if name == "weight" else result + v
        return wrap(result, level)
    value, _ = unwrap(arguments["input"], level)
    return wrap(call_F("layer_norm", value, arguments["normalized_shape"], arguments["weight"],
                       arguments["bias"], arguments["eps"]), level)


@rule("F.one_hot")
def one_hot_rule(op, level, args, kwargs):
    """One call on the batch; the class count cannot come from the data."""
    arguments = _bind("one_hot", args, kwargs)
    if _batched_at_level(arguments["num_classes"], level):
        return fallback("one_hot", op, level, args, kwargs)
    if arguments["num_classes"] == -1:
        raise RuntimeError("When vmap-ing torch.nn.functional.one_hot, please provide an explicit positive "
                           "num_classes argument.")
    indices, _ = unwrap(arguments["tensor"], level)
    return wrap(call_F("one_hot", indices, arguments["num_classes"]), level)


@rule("F.multi_margin_loss", "F.multilabel_margin_loss")
def margin_loss_per_sample(op, level, args, kwargs):
    # no batching rule in PyTorch either: its fallback (and warning) per sample
    return fallback(op.__name__, op, level, args, kwargs)


def _batched_at_level(x, level):
    return type(x) is BatchedTensor and x._level == level
