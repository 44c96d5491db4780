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
