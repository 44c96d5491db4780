"""vmap's batching rules for the tensor op families: pointwise (with
broadcasting and scalars), reductions (dim/keepdim), ops with a dim argument,
shape and view ops, joins, indexing and the matmul family.

Each rule gets the dispatching op, the level and the call's arguments; it
swaps every argument batched at that level for its value (batch dim in
front, logical dims shifted by one), adjusts dims and shapes, calls the op
once on the whole batch and wraps the result. Arguments batched at a lower
level pass through untouched (the op dispatches again for them)."""
from cgrad._C import Tensor
from cgrad.func._batched import (BatchedTensor, _wrap_dim, active_levels, call, fallback, level_info,
                                 materialize, rule, unwrap, wrap)

UNARY = """abs absolute acos arccos acosh arccosh asin arcsin asinh arcsinh atan arctan atanh arctanh ceil cos
cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 floor frac i0 lgamma log log10 log1p log2 logit neg
negative rad2deg reciprocal relu round rsqrt sigmoid sign sgn sin sinc sinh sqrt square tan tanh trunc fix
nan_to_num isnan isinf isfinite isposinf isneginf signbit logical_not bitwise_not positive clone contiguous
detach float double half long int short bool byte char to type type_as polygamma mvlgamma hardshrink
clamp clip clamp_min clamp_max relu6 selu celu softsign tanhshrink logsigmoid mish hardswish hardsigmoid
hardtanh threshold softshrink silu leaky_relu elu gelu softplus erfcinv expit
zeros_like ones_like __neg__ __pos__ __abs__ __invert__""".split()
BINARY = """add sub subtract rsub mul multiply div divide true_divide floor_divide remainder fmod pow float_power
maximum minimum fmax fmin atan2 arctan2 hypot copysign xlogy logaddexp logaddexp2 eq ne lt le gt ge
not_equal greater greater_equal less less_equal logical_and logical_or logical_xor bitwise_and bitwise_or
bitwise_xor heaviside nextafter lerp where masked_fill isclose addcmul addcdiv
__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__
__rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__
__eq__ __ne__ __lt__ __le__ __gt__ __ge__""".split()
INPLACE = [n + "_" for n in UNARY + BINARY if not n.startswith("__")] + [
    "__iadd__", "__isub__", "__imul__", "__itruediv__", "zero_", "fill_", "copy_"]


def _rank(x, level):
    if type(x) is BatchedTensor and x._level == level:
        return x._value.dim() - 1
    if isinstance(x, Tensor):
        return x.dim()
    return -1


def _pad_value(v, rank, target):
    """A batched value of logical rank `rank` viewed with target - rank
    size-1 dims after the batch dim, so it broadcasts as PyTorch aligns."""
    for _ in range(target - rank):
        v = v.unsqueeze(1)
    return v


@rule(*UNARY, *BINARY)
def pointwise(op, level, args, kwargs):
    target = max([_rank(a, level) for a in args] + [_rank(a, level) for a in kwargs.values()])

    def align(x):
        if type(x) is BatchedTensor and x._level == level:
            return _pad_value(x._value, x._value.dim() - 1, target)
        return x
    result = op(*[align(a) for a in args], **{k: align(v) for k, v in kwargs.items()})
    return wrap(result, level)


INPLACE_ERROR = (
    "vmap: {}(self, *extra_args) is not possible because there exists a Tensor `other` in extra_args that "
    "has more elements than `self`. This happened due to `other` being vmapped over but `self` not being "
    "vmapped over in a vmap. Please try to use out-of-place operators instead of {}. If said operator is "
    "being called inside the PyTorch framework, please file a bug report instead.")


# the in-place ops PyTorch serves by its fallback refuse in the fallback's words
FALLBACK_INPLACE_ERROR = (
    "vmap: aten::{0}(self, *extra_args) is not possible because there exists a Tensor `other` in extra_args "
    "that has more elements than `self`. This happened due to `other` being vmapped over but `self` not being "
    "vmapped over at level {1}. Please try to use out-of-place operators instead of aten::{0}. If said "
    "operator is being called inside the PyTorch framework, please file a bug report instead.")


def vmap_depth(level):
    """PyTorch's number for a level in its errors: the vmap's nesting depth."""
    return [entry.level for entry in active_levels()].index(level) + 1


@rule(*INPLACE)
def pointwise_inplace(op, level, args, kwargs):
    self = args[0]
    if not (type(self) is BatchedTensor and self._level == level):
        name = op.__name__
        raise RuntimeError(INPLACE_ERROR.format(name, name))
    pointwise(op, level, args, kwargs)
    return self


# --- reductions ----------------------------------------------------------------

def _get_arg(args, kwargs, pos, name, default=None):
    if name in kwargs:
        return kwargs[name]
    if len(args) > pos:
        return args[pos]
    return default


def _set_arg(args, kwargs, pos, name, value):
    if name in kwargs or len(args) <= pos:
        kwargs[name] = value
    else:
        args[pos] = value


def _shift_dims(dim, rank):
    if isinstance(dim, (tuple, list)):
        return tuple(_wrap_dim(d, rank) + 1 for d in dim)
    return _wrap_dim(dim, rank) + 1


def _reduction(full_op=None, dim_pos=1):
    def reduce(op, level, args, kwargs):
        if dim_pos == 1 and (isinstance(args[1] if len(args) > 1 else kwargs.get("other"), Tensor)):
            return pointwise(op, level, args, kwargs)        # max(input, other) and the like
        x, batched = unwrap(args[0], level)
        if not batched:
            return fallback(op.__name__, op, level, args, kwargs)
        args, kwargs = [x] + list(args[1:]), dict(kwargs)
        rank = x.dim() - 1
        dim = _get_arg(args, kwargs, dim_pos, "dim")
        if isinstance(dim, bool):     # std(input, unbiased) / var(input, unbiased)
            args.pop(dim_pos)
            kwargs["correction"] = int(dim)
            dim = None
        if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
            keepdim = _get_arg(args, kwargs, dim_pos + 1, "keepdim", False)
            flat = x.flatten(1) if rank > 0 else x.unsqueeze(1)
            args[0] = flat
            _set_arg(args, kwargs, dim_pos, "dim", 1)
            fn = full_op if full_op is not None else op
            result = fn(*args, **kwargs)
            if keepdim:
                shape = (x.shape[0],) + (1,) * rank
                result = (type(result)([r.reshape(shape) for r in result]) if isinstance(result, tuple)
                          else result.reshape(shape))       # std_mean, aminmax: every part
            return wrap(result, level)
        _set_arg(args, kwargs, dim_pos, "dim", _shift_dims(dim, rank))
        return wrap(op(*args, **kwargs), level)
    return reduce


def _full(name):
    def full(x, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)
    full.__name__ = name
    return full


for _name in ("sum", "mean", "prod", "nansum", "nanmean", "amax", "amin", "argmax", "argmin", "all", "any",
              "std", "var", "logsumexp", "count_nonzero"):
    rule(_name)(_reduction())
for _name in ("std_mean", "var_mean", "aminmax"):
    rule(_name)(_reduction())
rule("max")(_reduction(_full("amax")))
rule("min")(_reduction(_full("amin")))
rule("norm")(_reduction(dim_pos=2))


# --- ops with dim arguments (no reduction) -----------------------------------

def _dims_rule(positions, rank_extra=0, names=("dim",), default=None):
    """A rule for ops whose args at `positions` (named `names`) are logical
    dims of a rank rank(x) + rank_extra."""
    def run(op, level, args, kwargs):
        x, batched = unwrap(args[0], level)
        if not batched or any(type(a) is BatchedTensor and a._level == level for a in args[1:]):
            return fallback(op.__name__, op, level, args, kwargs)
        args, kwargs = [x] + list(args[1:]), dict(kwargs)
        rank = x.dim() - 1 + rank_extra
        for pos, name in zip(positions, names):
            dim = _get_arg(args, kwargs, pos, name, default)
            if dim is not None:
                _set_arg(args, kwargs, pos, name, _shift_dims(dim, rank))
        return wrap(op(*args, **kwargs), level)
    return run


for _name in ("softmax", "log_softmax", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "select",
              "narrow", "unflatten", "sort", "argsort"):
    rule(_name)(_dims_rule((1,)))
rule("topk", "kthvalue", "renorm")(_dims_rule((2,)))
rule("unbind")(_dims_rule((1,), default=0))
rule("split", "chunk", "split_with_sizes", "tensor_split")(_dims_rule((2,), default=0))
rule("transpose", "swapaxes", "swapdims")(_dims_rule((1, 2), names=("dim0", "dim1")))
rule("movedim", "moveaxis")(_dims_rule((1, 2), names=("source", "destination")))
rule("diagonal")(_dims_rule((2, 3), names=("dim1", "dim2")))
rule("unsqueeze")(_dims_rule((1,), rank_extra=1))
rule("flip")(_dims_rule((1,), names=("dims",)))
rule("roll")(_dims_rule((2,), names=("dims",)))
rule("tril", "triu", "tril_", "triu_", "t_", "trace_")(pointwise)


@rule("t")
def t_rule(op, level, args, kwargs):
    x, _ = unwrap(args[0], level)
    if x.dim() - 1 < 2:
        return args[0]
    return wrap(x.transpose(1, 2), level)


@rule("T")
def T_rule(op, level, args, kwargs):
    x, _ = unwrap(args[0], level)
    return wrap(x.permute((0,) + tuple(range(x.dim() - 1, 0, -1))), level)


@rule("squeeze")
def squeeze_rule(op, level, args, kwargs):
    x, _ = unwrap(args[0], level)
    dim = _get_arg(args, kwargs, 1, "dim")
    if dim is None:
        keep = [0] + [d for d in range(1, x.dim()) if x.shape[d] != 1]
        return wrap(x.reshape(tuple(x.shape[d] for d in keep)), level)
    return wrap(x.squeeze(_shift_dims(dim, x.dim() - 1)), level)


@rule("flatten")
def flatten_rule(op, level, args, kwargs):
    x, _ = unwrap(args[0], level)
    rank = x.dim() - 1
    start = _get_arg(args, kwargs, 1, "start_dim", 0)
    end = _get_arg(args, kwargs, 2, "end_dim", -1)
    if rank == 0:
        return wrap(x.reshape((x.shape[0], 1)), level)
    return wrap(x.flatten(_shift_dims(start, rank), _shift_dims(end, rank)), level)


@rule("ravel")
def ravel_rule(op, level, args, kwargs):
    x, _ = unwrap(args[0], level)
    return wrap(x.reshape((x.shape[0], -1)), level)


# --- shape and view ops --------------------------------------------------------

def _shape_arg(args, kwargs, name="shape"):
    if name in kwargs:
        shape = kwargs[name]
    elif len(args) == 2 and isinstance(args[1], (tuple, list)):
        shape = args[1]
    else:
        shape = args[1:]
    return tuple(shape.shape if isinstance(shape, Tensor) else shape)


@rule("view", "reshape")
def view_rule(op, level, args, kwargs):
    x, batched = unwrap(args[0], level)
    if len(args) == 2 and not isinstance(args[1], (tuple, list, int)) and "shape" not in kwargs:
        return wrap(x.view(args[1]), level)          # view(dtype)
    shape = _shape_arg(args, kwargs, "size" if "size" in kwargs else "shape")
    return wrap(getattr(x, op.__name__ if op.__name__ in ("view", "reshape") else "reshape")(
        (x.shape[0],) + tuple(shape)), level)


@rule("view_as", "reshape_as")
def view_as_rule(op, level, args, kwargs):
    return view_rule(op, level, (args[0], tuple(args[1].shape)), {})


@rule("permute")
def permute_rule(op, level, args, kwargs):
    x, _ = unwrap(args[0], level)
    dims = _shape_arg(args, kwargs, "dims")
    rank = x.dim() - 1
    if len(dims) != rank:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = {rank} is "
                           f"not equal to len(dims) = {len(dims)}")
    return wrap(x.permute((0,) + _shift_dims(dims, rank)), level)


@rule("expand")
def expand_rule(op, level, args, kwargs):
    x, batched = unwrap(args[0], level)
    sizes = _shape_arg(args, kwargs, "size")
    rank = x.dim() - 1
    if len(sizes) < rank:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({rank})")
    x = _pad_value(x, rank, len(sizes))
    return wrap(x.expand((x.shape[0],) + tuple(sizes)), level)


@rule("expand_as")
def expand_as_rule(op, level, args, kwargs):
    if type(args[1]) is BatchedTensor and args[1]._level == level and not (
            type(args[0]) is BatchedTensor and args[0]._level == level):
        size = level_info(level).size
        return expand_rule(op, level, (BatchedTensor(materialize(args[0], level, size), level),
                                       tuple(args[1].shape)), {})
    return expand_rule(op, level, (args[0], tuple(args[1].shape)), {})


@rule("repeat", "tile")
def repeat_rule(op, level, args, kwargs):
    x, _ = unwrap(args[0], level)
    reps = _shape_arg(args, kwargs, "dims" if op.__name__ == "tile" else "repeats")
    rank = x.dim() - 1
    if op.__name__ == "tile" and len(reps) < rank:
        reps = (1,) * (rank - len(reps)) + tuple(reps)
    x = _pad_value(x, rank, len(reps))
    return wrap(x.repeat((1,) + tuple(reps)), level)


@rule("cat", "concat", "concatenate", "stack", "hstack", "vstack")
def join_rule(op, level, args, kwargs):
    tensors = list(args[0] if args else kwargs["tensors"])
    dim = _get_arg(args, kwargs, 1, "dim", 0)
    size = level_info(level).size
    name = op.__name__
    if name in ("hstack", "vstack"):
        return fallback(name, op, level, args, kwargs)
    values = [materialize(t, level, size) for t in tensors]
    if name == "stack":
        rank = values[0].dim()          # logical rank + 1 for the new dim
    else:
        ranks = [v.dim() - 1 for v in values if not (v.dim() == 2 and v.shape[1] == 0)]
        rank = ranks[0] if ranks else 1
    shifted = _wrap_dim(dim, rank) + 1
    return wrap(call("stack" if name == "stack" else "cat", values, shifted), level)


# --- matmul family ------------------------------------------------------------

def _matmul_values(a, a_batched, b, b_batched):
    """The physical matmul of logical a @ b with the batch dim in front of
    each batched operand; returns the physical result (batch in front)."""
    ra = a.dim() - 1 if a_batched else a.dim()
    rb = b.dim() - 1 if b_batched else b.dim()
    if a_batched and b_batched:
        if ra == 1 and rb == 1:
            return (a * b).sum(-1)
        if ra == 1:
            return (_pad_value(a, 1, rb - 1).unsqueeze(-2) @ b).squeeze(-2)
        if rb == 1:
            return (a @ _pad_value(b, 1, ra - 1).unsqueeze(-1)).squeeze(-1)
        top = max(ra, rb)
        return _pad_value(a, ra, top) @ _pad_value(b, rb, top)
    if a_batched:
        if ra == 1 and rb > 2:
            return (_pad_value(a, 1, rb - 1).unsqueeze(-2) @ b).squeeze(-2)
        if ra >= 2 and rb > ra:
            a = _pad_value(a, ra, rb)
        return a @ b
    # only b batched
    if rb == 1:
        if ra == 1:
            return b @ a
        if ra == 2:                     # rows of b times a^T: contiguous, batch in front
            return b @ a.transpose(0, 1)
        return (a @ b.transpose(0, 1)).movedim(-1, 0)
    if ra > rb:
        b = _pad_value(b, rb, ra)
    return a @ b


@rule("matmul", "__matmul__")
def matmul_rule(op, level, args, kwargs):
    a, ab = unwrap(args[0], level)
    b, bb = unwrap(args[1] if len(args) > 1 else kwargs["other"], level)
    if (a.dim() - ab) == 0 or (b.dim() - bb) == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.dim() - ab}D and {b.dim() - bb}D")
    return wrap(_matmul_values(a, ab, b, bb), level)


@rule("__rmatmul__")
def rmatmul_rule(op, level, args, kwargs):
    return matmul_rule(op, level, (args[1], args[0]), {})


def _matrix_rule(name, ranks):
    def run(op, level, args, kwargs):
        a, ab = unwrap(args[0], level)
        b, bb = unwrap(args[1] if len(args) > 1 else kwargs.get("mat2", kwargs.get("vec")), level)
        got = (a.dim() - ab, b.dim() - bb)
        if got != ranks:
            # the op's own error, on one sample's logical shapes
            return op(a[0] if ab else a, b[0] if bb else b)
        return wrap(_matmul_values(a, ab, b, bb), level)
    return run


rule("mm")(_matrix_rule("mm", (2, 2)))
rule("bmm")(_matrix_rule("bmm", (3, 3)))
rule("mv")(_matrix_rule("mv", (2, 1)))
rule("dot", "inner", "vdot")(_matrix_rule("dot", (1, 1)))


@rule("outer", "ger")
def outer_rule(op, level, args, kwargs):
    a, ab = unwrap(args[0], level)
    b, bb = unwrap(args[1], level)
    return wrap(a.unsqueeze(-1) * b.unsqueeze(-2), level)


@rule("addmm")
def addmm_rule(op, level, args, kwargs):
    inp, m1, m2 = args[0], args[1], args[2]
    beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
    product = matmul_rule(op, level, (m1, m2), {})
    return beta * inp + alpha * product if (beta, alpha) != (1, 1) else inp + product


def _add_product(ranks, product, reduce_first=False):
    """addmv, addr, baddbmm, addbmm: beta * input + alpha * (a . b), the
    product through its own rule; beta == 0 ignores input (its NaNs too)."""
    def run(op, level, args, kwargs):
        inp, a, b = args[0], args[1], args[2]
        if len(args) > 3 or (a.dim(), b.dim()) != ranks:
            return fallback(op.__name__, op, level, args, kwargs)   # legacy positional beta/alpha, errors
        beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
        result = product(op, level, (a, b), {})
        if reduce_first:
            result = result.sum(0)
        if alpha != 1:
            result = result * alpha
        if beta == 0:
            return result
        return inp + result if beta == 1 else inp * beta + result
    return run


rule("addmv")(_add_product((2, 1), matmul_rule))
rule("addr")(_add_product((1, 1), outer_rule))
rule("baddbmm")(_add_product((3, 3), matmul_rule))
rule("addbmm")(_add_product((3, 3), matmul_rule, reduce_first=True))


# --- queries and factories that see the logical (per-sample) tensor ----------

@rule("new_zeros", "new_ones", "new_full", "new_empty", "new_tensor")
def new_tensor_rule(op, level, args, kwargs):
    """Unbatched, with the dtype of the batched tensor (as PyTorch)."""
    x, _ = unwrap(args[0], level)
    return op(x, *args[1:], **kwargs)


@rule("is_tensor")
def is_tensor_rule(op, level, args, kwargs):
    return True


@rule("numel", "is_floating_point", "is_complex", "is_contiguous", "stride", "storage_offset")
def metadata_rule(op, level, args, kwargs):
    name = op.__name__
    if name in ("numel", "is_floating_point", "is_complex"):
        return getattr(args[0], name)()
    x, _ = unwrap(args[0], level)
    if name == "is_contiguous":
        return x.is_contiguous()
    if name == "storage_offset":
        return x.storage_offset()
    strides = tuple(x.stride())[1:]
    return strides if not args[1:] and "dim" not in kwargs else strides[_wrap_dim(
        args[1] if len(args) > 1 else kwargs["dim"], len(strides))]
