"""nn.utils.skip_init: a module whose parameters and buffers are left
uninitialised (for code that fills them itself). PyTorch builds the module
on the meta device; cgrad has only the CPU, so it builds it there and then
replaces every tensor with an uninitialised one (to_empty): the same
result, at the cost of one initialisation."""
import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    from cgrad.nn.modules.module import Module
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = final_device
    return module_cls(*args, **kwargs).to_empty(device=final_device)
