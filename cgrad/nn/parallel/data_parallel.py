"""nn.DataParallel and nn.parallel.data_parallel as PyTorch runs them on a
machine without GPUs: the wrapper keeps the module under `module` (so its
state_dict keys gain the "module." prefix scripts strip when loading) and
a forward call is the module's own call, with no replication or scatter.
As in PyTorch without GPUs, device_ids and output_device are ignored."""
from cgrad.nn.modules import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []
        self.dim = dim
        self.output_device = None
        self.src_device_obj = None

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
