"""vmap of a custom autograd.Function, as PyTorch's functorch rules for
them: a Function called on BatchedTensors (cgrad/func/_batched.py) must
use the setup_context style and either define a `vmap` staticmethod, which
gets the physical tensors with their batch dims and returns outputs with
theirs, or set generate_vmap_rule = True. PyTorch then vmaps forward,
setup_context and backward together; cgrad runs the Function once per
sample and stacks the results (vmap's fallback), which keeps the user's
backward for every sample and so gives the same values and gradients."""
import collections

from cgrad import _C
from cgrad.func._batched import BatchedTensor, fallback, level_info, max_level, quiet_fallback

VmapInfo = collections.namedtuple("VmapInfo", ["batch_size", "randomness"])

_DOCS = "For more details, please see https://pytorch.org/docs/main/notes/extending.func.html"


def batched_arguments(args, kwargs):
    return max_level(args, kwargs) > 0


def _wrap_output(output, out_dim, level, size):
    if not isinstance(output, _C.Tensor):
        return output
    if out_dim is None:     # the same for every sample: broadcast over the batch
        return BatchedTensor(output.unsqueeze(0).expand(size, *output.shape), level)
    return BatchedTensor(output.movedim(out_dim, 0), level)


def _run_vmap_staticmethod(cls, level, args, kwargs):
    entry = level_info(level)
    in_dims = tuple(0 if type(a) is BatchedTensor and a._level == level else None for a in args)
    physical = tuple(a._value if d == 0 else a for a, d in zip(args, in_dims))
    result = cls.vmap(VmapInfo(entry.size, entry.randomness), in_dims, *physical, **kwargs)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"The autograd.Function's vmap staticmethod must return an (output, out_dims) tuple. "
                           f"{_DOCS}")
    outputs, out_dims = result
    if not isinstance(outputs, tuple):
        return _wrap_output(outputs, out_dims, level, entry.size)
    if not isinstance(out_dims, tuple):
        out_dims = (out_dims,) * len(outputs)
    if len(out_dims) != len(outputs):
        raise RuntimeError(f"The autograd.Function's vmap staticmethod returned an incompatible (output, out_dims) "
                           f"tuple. Expected out_dims={out_dims} to be compatible with the structure of `output`. "
                           f"{_DOCS}")
    return tuple(_wrap_output(o, d, level, entry.size) for o, d in zip(outputs, out_dims))


def vmap_apply(cls, args, kwargs):
    name = cls.__name__
    if not cls._uses_setup_context:
        raise RuntimeError("In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, "
                           "jacrev, ...), it must override the setup_context staticmethod. " + _DOCS)
    has_vmap = any("vmap" in vars(k) for k in cls.__mro__ if k.__module__ != "cgrad.autograd.function")
    if has_vmap and cls.generate_vmap_rule:
        raise RuntimeError(f"You tried to vmap over {name}, but it has both generate_vmap_rule=True and an "
                           "overridden vmap staticmethod. Please set generate_vmap_rule=False or delete the "
                           "overridden vmap staticmethod to avoid ambiguity. " + _DOCS)
    level = max_level(args, kwargs)
    if has_vmap:
        return _run_vmap_staticmethod(cls, level, args, kwargs)
    if not cls.generate_vmap_rule:
        raise RuntimeError(f"You tried to vmap over {name}, but it does not have vmap support. Please override "
                           "and implement the vmap staticmethod or set generate_vmap_rule=True. " + _DOCS)
    with quiet_fallback():
        return fallback(name, cls.apply, level, args, kwargs)
