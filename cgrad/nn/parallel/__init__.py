"""cgrad.nn.parallel: data-parallel training across processes (PyTorch's
torch.nn.parallel.DistributedDataParallel, over cgrad.distributed), and
DataParallel as it runs without GPUs."""
from cgrad.nn.parallel.data_parallel import DataParallel, data_parallel
from cgrad.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel", "DataParallel", "data_parallel"]
