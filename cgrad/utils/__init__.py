"""cgrad.utils: PyTorch's torch.utils helpers that training scripts use (data loading, DLPack,
activation checkpointing)."""
from cgrad.utils import checkpoint, data, dlpack, hooks

__all__ = ["checkpoint", "data", "dlpack", "hooks"]
