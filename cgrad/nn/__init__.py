"""cgrad.nn: neural-network building blocks (PyTorch's torch.nn)."""
from cgrad.nn import functional

__all__ = ["functional"]
