from cgrad.nn.modules.activation import (ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax,
                                         Softplus, Tanh)
from cgrad.nn.modules.activation_pointwise import (Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                                                   LogSigmoid, Mish, ReLU6, Softshrink, Softsign,
                                                   Tanhshrink, Threshold)
from cgrad.nn.modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from cgrad.nn.modules.dropout import Dropout
from cgrad.nn.modules.linear import Flatten, Identity, Linear
from cgrad.nn.modules.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss,
                                   SmoothL1Loss)
from cgrad.nn.modules.module import Module
from cgrad.nn.modules.prelu import PReLU
from cgrad.nn.modules.unflatten import Unflatten

__all__ = ["Module", "Linear", "Identity", "Flatten", "Sequential", "ModuleList", "ModuleDict", "ReLU",
           "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Dropout", "MSELoss", "CrossEntropyLoss",
           "NLLLoss", "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus",
           "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "Hardtanh", "ReLU6",
           "Hardsigmoid", "Hardswish", "Mish", "Softshrink", "Hardshrink", "Threshold", "LogSigmoid",
           "Softsign", "Tanhshrink", "ParameterList", "ParameterDict", "PReLU", "Unflatten"]
