"""cgrad.utils: PyTorch's torch.utils helpers that training scripts use (data loading)."""
from cgrad.utils import data

__all__ = ["data"]
