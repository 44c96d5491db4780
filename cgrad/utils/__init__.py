"""cgrad.utils: PyTorch's torch.utils helpers that training scripts use (data loading, DLPack,
activation checkpointing)."""
from cgrad.utils import checkpoint, data, dlpack, hooks

__all__ = ["checkpoint", "data", "dlpack", "hooks"]


def __getattr__(name):
    # the benchmark and tensorboard utilities load on first use
    if name in ("benchmark", "tensorboard"):
        import importlib
        return importlib.import_module(f"cgrad.utils.{name}")
    raise AttributeError(f"module 'cgrad.utils' has no attribute '{name}'")
