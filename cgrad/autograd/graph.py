"""cgrad.autograd.graph: the graph's node type, as torch.autograd.graph."""
from cgrad._C import Node

__all__ = ["Node"]
