"""cgrad.backends: the backend queries PyTorch scripts make (mps, cuda,
cudnn), answered for a CPU-only build."""
from cgrad.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
