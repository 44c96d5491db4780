"""cgrad.optim: SGD, Adam and AdamW with PyTorch's API and update rules."""
from cgrad.optim.adam import Adam, AdamW
from cgrad.optim.optimizer import Optimizer
from cgrad.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]
