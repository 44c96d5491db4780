"""cgrad.backends: the backend queries PyTorch scripts make (mps, cuda,
cudnn, mkldnn, mkl, openmp, opt_einsum), answered truthfully for cgrad."""
from cgrad.backends import cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum

__all__ = ["cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
