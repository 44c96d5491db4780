"""cgrad.optim.adamw: where PyTorch's AdamW lives (torch.optim.adamw.AdamW,
as type(optimizer) prints it and pickle finds it); the class itself is
defined beside Adam in cgrad/optim/adam.py, whose update it shares."""
from cgrad.optim.adam import AdamW

AdamW.__module__ = __name__

__all__ = ["AdamW"]
