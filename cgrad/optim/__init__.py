"""cgrad.optim: PyTorch's optimizers (SGD, Adam, AdamW, RMSprop, Adagrad,
Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD, LBFGS, Adafactor, Muon) with
their update rules, lr_scheduler and swa_utils."""
from cgrad.optim.adadelta import Adadelta
from cgrad.optim.adagrad import Adagrad
from cgrad.optim.adam import Adam
from cgrad.optim.adamw import AdamW
from cgrad.optim.adamax import Adamax
from cgrad.optim.lbfgs import LBFGS
from cgrad.optim.nadam import NAdam
from cgrad.optim.optimizer import Optimizer
from cgrad.optim.radam import RAdam
from cgrad.optim.rmsprop import RMSprop
from cgrad.optim.sgd import SGD
from cgrad.optim.asgd import ASGD
from cgrad.optim.rprop import Rprop
from cgrad.optim.adafactor import Adafactor
from cgrad.optim.muon import Muon

# PyTorch defines these two in private modules and exports them from torch.optim itself
Adafactor.__module__ = Muon.__module__ = __name__
from cgrad.optim import lr_scheduler
from cgrad.optim import swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
           "LBFGS", "Rprop", "ASGD", "Adafactor", "Muon", "lr_scheduler", "swa_utils"]
