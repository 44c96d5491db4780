"""cgrad.nn.parallel: data-parallel training across processes (PyTorch's
torch.nn.parallel.DistributedDataParallel, over cgrad.distributed)."""
from cgrad.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
