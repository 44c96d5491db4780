"""cgrad.autograd.graph: the graph's node type, the saved-tensor hooks and
multi-tensor gradient hooks, as torch.autograd.graph. The hook stack itself
lives in the C core (src/cgrad/saved_hooks.pxi), where every save and unpack
consults it; register_multi_grad_hook asks the engine which backward call
is running and what it will execute (src/cgrad/autograd/graph_task.pxi)."""
import contextlib
import functools
import threading
from collections import defaultdict

from cgrad import _C
from cgrad._C import Node

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "register_multi_grad_hook"]


class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it go through
    pack_hook(tensor) -> packed, and backward reads unpack_hook(packed).
    Only the innermost pair applies."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        _C._push_saved_tensors_hooks(self.pack_hook, self.unpack_hook)

    def __exit__(self, *args):
        _C._pop_saved_tensors_hooks()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU and moved back to their device for
    backward. cgrad tensors live on the CPU already, so packing keeps the
    tensor itself (PyTorch's tensor.cpu() is the identity there), or with
    pin_memory=True a copy (nothing is pinnable without an accelerator)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            if not pin_memory:
                return (tensor.device, tensor.cpu())
            packed = _C.empty(tuple(tensor.size()), dtype=tensor.dtype)
            packed.copy_(tensor)
            return (tensor.device, packed)

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Inside it, entering saved_tensors_hooks raises
    RuntimeError(error_message); hooks already active keep working."""
    previous = _C._saved_tensors_hooks_get_disabled_error_message()
    try:
        _C._saved_tensors_hooks_disable(error_message)
        yield
    finally:
        if previous is None:
            _C._saved_tensors_hooks_enable()
        else:
            _C._saved_tensors_hooks_disable(previous)


@functools.lru_cache(maxsize=None)
def _multi_handle_class():
    """_MultiHandle, a RemovableHandle as PyTorch's; made on first use, as
    the handle type's module (cgrad.nn) imports this one."""
    from cgrad.nn.modules._hooks import RemovableHandle

    class _MultiHandle(RemovableHandle):
        """The handle of register_multi_grad_hook: removes every tensor hook."""

        def __init__(self, handles):
            self.handles = handles

        def remove(self):
            for handle in self.handles:
                handle.remove()

        def __getstate__(self):
            return self.handles

        def __setstate__(self, state):
            self.handles = state

    _MultiHandle.__module__ = __name__
    return _MultiHandle


def _get_grad_fn_or_grad_acc(t):
    if t.requires_grad and t.grad_fn is None:
        from cgrad.autograd.grad_mode import enable_grad
        with enable_grad():
            node = t.view_as(t).grad_fn.next_functions[0][0]
    else:
        node = t.grad_fn
    if node is None:
        raise AssertionError("Expected gradient function to be set")
    return node


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """mode="all": fn(grads) once per backward call, after the gradient of
    every tensor that call computes, with None for the others; mode="any":
    fn(grad) with the first of them. Returns a handle removing the hook."""
    supported_modes = ("all", "any")
    lock = threading.Lock()
    if mode not in supported_modes:
        raise ValueError(f"Expects mode to be one of {supported_modes} but got {mode}")

    if mode == "all":
        count = {}
        nb_calls = None
        buffer = {}
        grad_fns = list(map(_get_grad_fn_or_grad_acc, tensors))
        len_tensors = len(tensors)

        def get_inner_hook(idx):
            def inner_hook(grad):
                nonlocal nb_calls
                task = _C._current_graph_task_id()
                if task == -1:
                    raise AssertionError("expected this hook to be called inside a backward call")
                count[task] = count.get(task, 0)
                buffer[task] = buffer.get(task, [None] * len_tensors)
                with lock:
                    curr_count, count[task] = count[task], count[task] + 1
                    if curr_count == 0:
                        # the hooks this call will run, counted on its first one
                        nb_calls = sum(map(_C._will_engine_execute_node, grad_fns))
                buffer[task][idx] = grad
                if curr_count == nb_calls - 1:
                    fn(buffer[task])
                    del count[task]
                    del buffer[task]
            return inner_hook

        handles = tuple(t.register_hook(get_inner_hook(i)) for i, t in enumerate(tensors))
    else:
        ran_hook = defaultdict(bool)

        @functools.wraps(fn)
        def wrapped_fn(grad):
            task = _C._current_graph_task_id()
            if task == -1:
                raise AssertionError("expected this hook to be called inside a backward call")
            with lock:
                prev, ran_hook[task] = ran_hook[task], True
            if prev:
                return
            fn(grad)

        handles = tuple(tensor.register_hook(wrapped_fn) for tensor in tensors if tensor.requires_grad)
    return _multi_handle_class()(handles)
