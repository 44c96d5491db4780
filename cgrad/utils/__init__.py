"""cgrad.utils: PyTorch's torch.utils helpers that training scripts use (data loading, DLPack)."""
from cgrad.utils import data, dlpack

__all__ = ["data", "dlpack"]
