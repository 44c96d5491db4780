"""cgrad.nn.utils: gradient clipping and flat parameter vectors
(torch.nn.utils)."""
from cgrad.nn.utils import clip_grad, convert_parameters, rnn
from cgrad.nn.utils.clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                                      get_total_norm)
from cgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "clip_grad", "convert_parameters"]
__all__ += ["rnn"]
from cgrad.nn.utils.weight_norm import remove_weight_norm, weight_norm  # noqa: E402
__all__ += ["weight_norm", "remove_weight_norm"]
from cgrad.nn.utils import parametrizations, parametrize  # noqa: E402
__all__ += ["parametrize", "parametrizations"]
from cgrad.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402
__all__ += ["spectral_norm", "remove_spectral_norm"]
from cgrad.nn.utils import fusion, init, memory_format, stateless  # noqa: E402
from cgrad.nn.utils.fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,  # noqa: E402
                                   fuse_linear_bn_weights)
from cgrad.nn.utils.init import skip_init  # noqa: E402
from cgrad.nn.utils.memory_format import (convert_conv2d_weight_memory_format,  # noqa: E402
                                          convert_conv3d_weight_memory_format)
__all__ += ["fusion", "init", "memory_format", "stateless", "fuse_conv_bn_eval", "fuse_conv_bn_weights",
            "fuse_linear_bn_eval", "fuse_linear_bn_weights", "skip_init", "convert_conv2d_weight_memory_format",
            "convert_conv3d_weight_memory_format"]
from cgrad.nn.utils import prune  # noqa: E402
__all__ += ["prune"]
