"""cgrad.nn.modules: PyTorch's torch.nn module classes, one file per family
(activations, convolutions, pooling, normalization, losses, ...), gathered here
under the names torch.nn.modules exports."""
from cgrad.nn.modules.activation import (ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax,
                                         Softplus, Tanh)
from cgrad.nn.modules.activation_pointwise import (Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                                                   LogSigmoid, Mish, ReLU6, Softshrink, Softsign,
                                                   Tanhshrink, Threshold)
from cgrad.nn.modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from cgrad.nn.modules.dropout import Dropout, Dropout1d, Dropout2d
from cgrad.nn.modules.linear import Flatten, Identity, Linear
from cgrad.nn.modules.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss,
                                   SmoothL1Loss)
from cgrad.nn.modules.module import Module
from cgrad.nn.modules.prelu import PReLU
from cgrad.nn.modules.unflatten import Unflatten
from cgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from cgrad.nn.modules.conv import Conv1d, Conv2d
from cgrad.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d
from cgrad.nn.modules.normalization import GroupNorm, LayerNorm
from cgrad.nn.modules.padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d,
                                      ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                                      ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                                      ZeroPad3d)
from cgrad.nn.modules.sparse import Embedding, EmbeddingBag
from cgrad.nn.modules.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
                                      AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d)

__all__ = ["Module", "Linear", "Identity", "Flatten", "Sequential", "ModuleList", "ModuleDict", "ReLU",
           "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Dropout", "MSELoss", "CrossEntropyLoss",
           "NLLLoss", "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus",
           "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "Hardtanh", "ReLU6",
           "Hardsigmoid", "Hardswish", "Mish", "Softshrink", "Hardshrink", "Threshold", "LogSigmoid",
           "Softsign", "Tanhshrink", "ParameterList", "ParameterDict", "PReLU", "Unflatten"]
_LAYERS = ["Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d",
           "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d", "Embedding", "EmbeddingBag", "Dropout1d", "Dropout2d", "LayerNorm", "GroupNorm", "BatchNorm1d",
           "BatchNorm2d", "InstanceNorm1d", "InstanceNorm2d"]
__all__ += _LAYERS
from cgrad.nn.modules.activation import GLU, Softmin
from cgrad.nn.modules.activation_pointwise import CELU, SELU
from cgrad.nn.modules.distance import CosineSimilarity, PairwiseDistance
from cgrad.nn.modules.dropout import AlphaDropout
from cgrad.nn.modules.linear import Bilinear
from cgrad.nn.modules.loss import (CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss,
                                   MarginRankingLoss, MultiLabelSoftMarginLoss, PoissonNLLLoss, SoftMarginLoss,
                                   TripletMarginLoss)
from cgrad.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle
from cgrad.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

_LAYERS += ["GLU", "Softmin", "CELU", "SELU", "CosineSimilarity", "PairwiseDistance", "AlphaDropout", "Bilinear",
            "CosineEmbeddingLoss", "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss",
            "MarginRankingLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss",
            "PixelShuffle", "PixelUnshuffle", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
__all__ += _LAYERS[-23:]
from cgrad.nn.modules.rnn import GRU, LSTM, RNN, RNNBase
from cgrad.nn.modules.rnn_cell import GRUCell, LSTMCell, RNNCell, RNNCellBase
_LAYERS += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
__all__ += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
from cgrad.nn.modules.attention import MultiheadAttention
from cgrad.nn.modules.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                                          TransformerEncoder, TransformerEncoderLayer)
_LAYERS += ["MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
            "TransformerEncoderLayer", "TransformerDecoderLayer"]
__all__ += ["MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
            "TransformerEncoderLayer", "TransformerDecoderLayer"]
from cgrad.nn.modules.activation import RReLU
_LAYERS += ["RReLU"]
__all__ += ["RReLU"]
from cgrad.nn.modules.fold import ChannelShuffle, Fold, Softmax2d, Unfold
_LAYERS += ["Fold", "Unfold", "ChannelShuffle", "Softmax2d"]
__all__ += ["Fold", "Unfold", "ChannelShuffle", "Softmax2d"]
from cgrad.nn.modules.rms_norm import RMSNorm
_LAYERS += ["RMSNorm"]
__all__ += ["RMSNorm"]
from cgrad.nn.modules.conv import ConvTranspose1d, ConvTranspose2d
_LAYERS += ["ConvTranspose1d", "ConvTranspose2d"]
__all__ += ["ConvTranspose1d", "ConvTranspose2d"]
from cgrad.nn.modules.pooling import LPPool1d, LPPool2d, LPPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
from cgrad.nn.modules.dropout import Dropout3d, FeatureAlphaDropout
from cgrad.nn.modules.loss import MultiLabelMarginLoss, MultiMarginLoss, NLLLoss2d, TripletMarginWithDistanceLoss
from cgrad.nn.modules.normalization import LocalResponseNorm
_LAYERS += ["LPPool1d", "LPPool2d", "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Dropout3d", "FeatureAlphaDropout",
            "LocalResponseNorm"]
__all__ += ["LPPool1d", "LPPool2d", "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Dropout3d", "FeatureAlphaDropout",
            "MultiMarginLoss", "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss", "LocalResponseNorm", "NLLLoss2d"]
from cgrad.nn.modules.volumetric import (AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, BatchNorm3d, Conv3d,
                                         ConvTranspose3d, InstanceNorm3d, MaxPool3d)
_LAYERS += ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d",
            "BatchNorm3d", "InstanceNorm3d"]
__all__ += ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d",
            "BatchNorm3d", "InstanceNorm3d"]
from cgrad.nn.modules.lazy import (LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d,
                                   LazyConvTranspose3d, LazyLinear)
_LAYERS += ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
            "LazyConvTranspose3d"]
__all__ += ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
            "LazyConvTranspose3d"]
from cgrad.nn.modules.lazy_norm import (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d,  # noqa: E402
                                        LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d)
_LAYERS += ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
            "LazyInstanceNorm3d"]
__all__ += ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
            "LazyInstanceNorm3d"]
from cgrad.nn.modules.adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402
_LAYERS += ["AdaptiveLogSoftmaxWithLoss"]
__all__ += ["AdaptiveLogSoftmaxWithLoss"]
from cgrad.nn.modules.loss import CTCLoss  # noqa: E402
__all__ += ["CTCLoss"]
from cgrad.nn.modules.pooling import FractionalMaxPool2d, FractionalMaxPool3d  # noqa: E402
_LAYERS += ["FractionalMaxPool2d", "FractionalMaxPool3d"]
__all__ += ["FractionalMaxPool2d", "FractionalMaxPool3d"]
from cgrad.nn.modules.sync_batchnorm import SyncBatchNorm  # noqa: E402
_LAYERS += ["SyncBatchNorm"]
__all__ += ["SyncBatchNorm"]
