"""cgrad.utils.checkpoint: PyTorch's activation checkpointing.

use_reentrant=True: CheckpointFunction, an autograd.Function that runs the
function without a graph and, in backward, reruns it with one and
backpropagates through it (inside the outer backward).

use_reentrant=False: the function runs with a graph, under saved-tensor
hooks that hand each saved tensor's position in the forward to backward
instead of the tensor; the first unpack reruns the function (same RNG state)
under hooks that collect what it saves, and every unpack then reads its
position (with PyTorch's count and shape/dtype/device checks). In cgrad a
node keeps its saved tensors referenced even under hooks, so this variant
reproduces PyTorch's results and graph but does not lower peak memory.

Warnings and errors are PyTorch 2.13's."""
import contextlib
import warnings

import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad.autograd.function import Function
from cgrad.autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "check_backward_validity", "detach_variable", "noop_context_fn", "set_checkpoint_early_stop",
           "set_checkpoint_debug_enabled"]

_DEFAULT_DETERMINISM_MODE = "default"
_checkpoint_debug_enabled = None
_enable_checkpoint_early_stop = None

_debug_tip_msg = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint\u2011debug mode globally.

If this error occurs under torch.compile with automatic_dynamic_shapes enabled,
it may be because the recomputation selected a different compiled graph than the
forward pass (e.g., a dynamic graph instead of the original static graph).
To fix this, either:
  - Use torch._dynamo.mark_dynamic() to explicitly mark varying dimensions as
    dynamic upfront, avoiding the static-to-dynamic transition.
  - Call torch._C._dynamo.eval_frame._set_lru_cache(False) to disable LRU cache
    reordering, which can change which graph is checked first between forward
    and recompute.
See https://github.com/pytorch/pytorch/issues/166926 for more details and
workaround examples.
"""   # PyTorch 2.13's text, verbatim


class CheckpointError(RuntimeError):
    pass


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    global _checkpoint_debug_enabled
    prev = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = prev


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    global _enable_checkpoint_early_stop
    prev = _enable_checkpoint_early_stop
    _enable_checkpoint_early_stop = enable
    try:
        yield
    finally:
        _enable_checkpoint_early_stop = prev


def detach_variable(inputs):
    if isinstance(inputs, tuple):
        out = []
        for inp in inputs:
            if not isinstance(inp, Tensor):
                out.append(inp)
                continue
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            out.append(x)
        return tuple(out)
    raise RuntimeError(
        f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")


def check_backward_validity(inputs):
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def _rng_state_as_of(state, enabled):
    """Run with the CPU generator at `state`, restoring the current state
    after (PyTorch's fork_rng + set_rng_state)."""
    if not enabled:
        yield
        return
    current = _C.get_rng_state()
    _C.set_rng_state(state)
    try:
        yield
    finally:
        _C.set_rng_state(current)


# --- use_reentrant=True ----------------------------------------------------

class CheckpointFunction(Function):

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_cpu_state = _C.get_rng_state()
        ctx.inputs = []
        ctx.tensor_indices = []
        tensor_inputs = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensor_inputs.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensor_inputs)
        with cgrad.no_grad():
            outputs = run_function(*args)
        return outputs

    @staticmethod
    def backward(ctx, *args):
        if not _C._is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible"
                " with .grad() or passing an `inputs` parameter to .backward()."
                " To resolve this error, you can either set use_reentrant=False,"
                " or call .backward() without passing the `inputs` argument.")
        inputs = list(ctx.inputs)
        tensors = ctx.saved_tensors
        for i, idx in enumerate(ctx.tensor_indices):
            inputs[idx] = tensors[i]
        with _rng_state_as_of(getattr(ctx, "fwd_cpu_state", None), ctx.preserve_rng_state):
            detached_inputs = detach_variable(tuple(inputs))
            with cgrad.enable_grad():
                outputs = ctx.run_function(*detached_inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outputs_with_grad = []
        args_with_grad = []
        for i in range(len(outputs)):
            if isinstance(outputs[i], Tensor) and outputs[i].requires_grad:
                outputs_with_grad.append(outputs[i])
                args_with_grad.append(args[i])
        if len(outputs_with_grad) == 0:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        cgrad.autograd.backward(outputs_with_grad, args_with_grad)
        grads = tuple(inp.grad if isinstance(inp, Tensor) else None for inp in detached_inputs)
        return (None, None) + grads


# --- use_reentrant=False ---------------------------------------------------

class _StopRecomputationError(Exception):
    pass


def _default_meta_extractor(x):
    return {"shape": x.shape, "dtype": x.dtype, "device": x.device}


_allowed_determinism_checks_to_fns = {
    _DEFAULT_DETERMINISM_MODE: _default_meta_extractor,
    "none": lambda _: None,
}


class _Holder:
    """What the forward's pack hook returns: the position of the saved
    tensor among those the checkpointed region saved."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class _CheckpointFrame:
    def __init__(self, recompute_fn, early_stop, metadata_fn):
        self.recompute_fn = recompute_fn
        self.early_stop = early_stop
        self.metadata_fn = metadata_fn
        self.x_metadatas = []
        self.recomputed = None     # position -> tensor, after a recomputation
        self.forward_completed = False

    def pack(self, x):
        self.x_metadatas.append(self.metadata_fn(x))
        return _Holder(len(self.x_metadatas) - 1)

    def unpack(self, holder):
        if not self.forward_completed:
            raise CheckpointError("torch.utils.checkpoint: Unpack is being triggered for a tensor that was "
                                  "saved before the checkpointed forward completed.")
        if self.recomputed is None or holder.index not in self.recomputed:
            self.recompute()
        return self.recomputed[holder.index]

    def recompute(self):
        recomputed = {}
        expected = len(self.x_metadatas)
        frame = self

        def pack_hook(x):
            x = x.detach() if x.requires_grad else x
            idx = len(recomputed)
            if idx >= expected:
                raise CheckpointError("torch.utils.checkpoint: trying to save more tensors during "
                                      f"recomputation than during the original forward pass.\n{_debug_tip_msg}")
            recomputed[idx] = x
            if frame.early_stop and len(recomputed) == expected:
                raise _StopRecomputationError
            return x

        def unpack_hook(x):
            return x

        try:
            with saved_tensors_hooks(pack_hook, unpack_hook), cgrad.enable_grad():
                self.recompute_fn()
        except _StopRecomputationError:
            pass
        if len(recomputed) != expected:
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the original forward "
                f"and recomputation.\nNumber of tensors saved during forward: {expected}\nNumber of tensors "
                f"saved during recomputation: {len(recomputed)}.\n{_debug_tip_msg}")
        different = []
        for idx, x_meta in enumerate(self.x_metadatas):
            meta = self.metadata_fn(recomputed[idx])
            if x_meta != meta:
                different.append((idx, x_meta, meta))
        if different:
            listing = "".join(f"tensor at position {idx}:\nsaved metadata: {a}\nrecomputed metadata: {b}\n"
                              for idx, a, b in different)
            raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have "
                                  f"different metadata than during the forward pass.\n{listing}.\n{_debug_tip_msg}")
        self.recomputed = recomputed


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, debug,
                                  early_stop, *args, **kwargs):
    if _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check in _allowed_determinism_checks_to_fns:
        metadata_fn = _allowed_determinism_checks_to_fns[determinism_check]
    else:
        raise ValueError(f"determinism_check should be one of {list(_allowed_determinism_checks_to_fns.keys())}, "
                         f"but got {determinism_check}")
    forward_context, recompute_context = context_fn()
    fwd_cpu_state = _C.get_rng_state() if preserve_rng_state else None

    def recompute_fn():
        with _rng_state_as_of(fwd_cpu_state, preserve_rng_state), recompute_context:
            function(*args, **kwargs)

    if not cgrad.is_grad_enabled():
        return function(*args, **kwargs)
    frame = _CheckpointFrame(recompute_fn,
                             _enable_checkpoint_early_stop if _enable_checkpoint_early_stop is not None
                             else early_stop, metadata_fn)
    suppressed = True
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        ret = function(*args, **kwargs)
        suppressed = False
    if suppressed:
        raise RuntimeError("torch.utils.checkpoint: the forward context provided by context_fn suppressed an "
                           "exception raised during the checkpointed forward. This is not supported because "
                           "checkpoint cannot return a value for a failed forward.")
    frame.forward_completed = True
    return ret


# --- entry points ----------------------------------------------------------

def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check=_DEFAULT_DETERMINISM_MODE, debug=False, early_stop=True, **kwargs):
    """Run function(*args, **kwargs) without keeping its intermediate
    activations for backward; backward recomputes them."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be "
            "passed explicitly. Starting in PyTorch 2.9, calling checkpoint "
            "without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, debug, early_stop,
                                         *args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a sequence of modules or functions in `segments` chunks, all but
    the last checkpointed."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
            "parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    if isinstance(functions, cgrad.nn.Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
