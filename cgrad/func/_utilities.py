"""The smaller members of torch.func: linearize, functionalize,
debug_unwrap and replace_all_batch_norm_modules_.

linearize returns func's value and a jvp_fn that checks its tangents as
PyTorch's does (structure, then each one's shape, device and dtype) and
runs forward mode at the saved primals. PyTorch traces the JVP once into a
graph (make_fx) and replays it; cgrad has no tracer, so jvp_fn runs the
forward-mode pass again: the same values, func re-evaluated per call.

functionalize exists in PyTorch to rewrite a traced program without
mutations; run eagerly (as here, with nothing tracing it) the function's
observable behaviour, outputs and input mutations included, is what the
rewrite preserves, so the wrapper runs func as it is after PyTorch's
argument check."""
import functools

import cgrad
from cgrad.func._pytree import tree_flatten, tree_unflatten

__all__ = ["linearize", "functionalize", "debug_unwrap", "replace_all_batch_norm_modules_"]


def _check_tangents(flat_tangents, flat_primals):
    for idx, (t, p) in enumerate(zip(flat_tangents, flat_primals)):
        for what, got, want in (("shape", t.shape, p.shape), ("device", t.device, p.device),
                                ("dtype", t.dtype, p.dtype)):
            if got != want:
                raise RuntimeError(f"tangent:{idx} with {what} {got} in flattened pytree doesn't match the "
                                   f"{what} {want} of the corresponding primal.")


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is the Jacobian-vector
    product of func at primals (the linear approximation's slope)."""
    from cgrad.func._vmap import treespec_repr
    output = func(*primals)
    flat_primals, primals_spec = tree_flatten(primals)

    def jvp_fn(*tangents):
        flat_tangents, tangents_spec = tree_flatten(tangents)
        if tangents_spec != primals_spec:
            raise RuntimeError(f"Expected the tangents {treespec_repr(tangents_spec)} to have the same argspec "
                               f"as the primals {treespec_repr(primals_spec)}")
        _check_tangents(flat_tangents, flat_primals)
        return cgrad.func.jvp(func, primals, tangents)[1]
    return output, jvp_fn


_REMOVE_ERROR = (
    "functionalize(f, remove='mutations'): received invalid argument for remove={}. Valid options are:\n"
    "     remove='mutations': all inplace and out= operators will be removed from the program, and replaced "
    "with their out-of-place equivalents.\n"
    "     remove='mutations_and_views': In addition to the above, all aliasing operators {{view}} will be "
    "replaced with their non-aliasing counterparts, {{view}}_copy.\n")


def functionalize(func, *, remove="mutations"):
    """func with its mutations removed when traced; run eagerly, func's
    own results and input mutations (see the module comment)."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(_REMOVE_ERROR.format(remove))

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapped


def debug_unwrap(tensor, *, recurse=True):
    """The tensor a vmap's BatchedTensor wraps (its batch dim in front); with
    recurse, down to the physical tensor under every level. Other tensors
    as they are. For debugging only."""
    from cgrad.func._levels import active_levels
    if not active_levels():
        return tensor
    from cgrad.func._batched import BatchedTensor
    while type(tensor) is BatchedTensor:
        tensor = tensor._value
        if not recurse:
            break
    return tensor


def replace_all_batch_norm_modules_(root):
    """Every BatchNorm module in root (root included) stops tracking running
    statistics: running_mean, running_var and num_batches_tracked become
    None, track_running_stats False. Returns root."""
    from cgrad.nn.modules.batchnorm import _BatchNorm
    for module in [root] + list(root.modules()):
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
