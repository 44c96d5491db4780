"""cgrad.utils.hooks (torch.utils.hooks): the handle every register_*_hook
returns, the module backward-hook machinery, and the decorator marking a
hook as not to be serialised."""
from cgrad.nn.modules._hooks import BackwardHook, RemovableHandle

__all__ = ["RemovableHandle", "BackwardHook", "unserializable_hook"]


def unserializable_hook(f):
    f.__torch_unserializable__ = True
    return f
