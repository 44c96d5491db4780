"""cgrad.utils: PyTorch's torch.utils helpers that training scripts use (data loading, DLPack,
activation checkpointing)."""
from cgrad.utils import checkpoint, data, dlpack, hooks

__all__ = ["checkpoint", "data", "dlpack", "hooks"]


def __getattr__(name):
    # the benchmark utilities load on first use
    if name == "benchmark":
        import importlib
        return importlib.import_module("cgrad.utils.benchmark")
    raise AttributeError(f"module 'cgrad.utils' has no attribute '{name}'")
