"""cgrad.linalg: PyTorch's torch.linalg functions that cgrad provides."""
from cgrad._C import _vector_norm

__all__ = ["vector_norm"]


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ord-norm of x's elements (over dim if given): ord a number, inf or -inf."""
    return _vector_norm(x, ord, dim, keepdim, dtype=dtype)
