"""cgrad.autograd.graph: the graph's node type and the saved-tensor hooks, as
torch.autograd.graph. The hook stack itself lives in the C core
(src/cgrad/saved_hooks.pxi), where every save and unpack consults it."""
import contextlib

from cgrad import _C
from cgrad._C import Node

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]


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
