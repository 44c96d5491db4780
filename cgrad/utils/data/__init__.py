"""cgrad.utils.data: datasets, samplers and the DataLoader, as torch.utils.data
names and behaves them (multi-process loading included)."""
from cgrad.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                                      Subset, TensorDataset, random_split)
from cgrad.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                      SubsetRandomSampler, WeightedRandomSampler)
from cgrad.utils.data._utils.collate import default_collate, default_convert
from cgrad.utils.data._utils.worker import get_worker_info
from cgrad.utils.data.dataloader import DataLoader
from cgrad.utils.data.distributed import DistributedSampler

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info",
           "random_split"]
