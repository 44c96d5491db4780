"""cgrad.nn: neural-network building blocks (PyTorch's torch.nn)."""
from cgrad.nn import functional, init, utils
from cgrad.nn.modules import (CrossEntropyLoss, Dropout, Flatten, Identity, Linear, LogSoftmax,
                              Module, ModuleDict, ModuleList, MSELoss, NLLLoss, ReLU, Sequential,
                              Sigmoid, Softmax, Tanh, LeakyReLU, ELU, GELU, SiLU, Softplus, L1Loss,
                              SmoothL1Loss, BCELoss, BCEWithLogitsLoss, ParameterDict, ParameterList,
                              PReLU, Unflatten)
from cgrad.nn.modules.activation_pointwise import (Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                                                   LogSigmoid, Mish, ReLU6, Softshrink, Softsign,
                                                   Tanhshrink, Threshold)
from cgrad.nn.modules import _LAYERS
from cgrad.nn.modules import *  # noqa: F401,F403  (the layer modules, listed in _LAYERS)
from cgrad.nn.parameter import Buffer, Parameter

__all__ = ["functional", "init", "Parameter", "Buffer", "Module", "Linear", "Identity", "Flatten", "Sequential",
           "ModuleList", "ModuleDict", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Dropout",
           "MSELoss", "CrossEntropyLoss", "NLLLoss", "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus",
           "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "Hardtanh", "ReLU6",
           "Hardsigmoid", "Hardswish", "Mish", "Softshrink", "Hardshrink", "Threshold", "LogSigmoid",
           "Softsign", "Tanhshrink", "ParameterList", "ParameterDict", "PReLU", "Unflatten", "utils"]
__all__ += _LAYERS

# DistributedDataParallel (issue 19)
from cgrad.nn import parallel  # noqa: E402
from cgrad.nn.parallel import DataParallel  # noqa: E402

__all__ += ["DataParallel"]
from cgrad.nn.parameter import UninitializedBuffer, UninitializedParameter  # noqa: E402
__all__ += ["UninitializedParameter", "UninitializedBuffer"]

# Submodules PyTorch's torch.nn exposes as attributes, loaded on first use.
_LAZY_SUBMODULES = ("attention", "grad", "common_types")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"cgrad.nn.{name}")
    raise AttributeError(f"module 'cgrad.nn' has no attribute '{name}'")
