"""The nn.functional ops PyTorch also exposes as torch.<name> (torch.conv2d,
torch.layer_norm, torch.embedding, ...), with the torch-level signatures
where they differ from F's: torch.embedding takes (weight, indices) and
padding_idx=-1 for none, torch.max_pool2d has no return_indices, the norms
take a trailing cudnn flag."""
from cgrad.nn import functional as F

__all__ = ["conv1d", "conv2d", "cosine_similarity", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle",
           "avg_pool1d", "adaptive_avg_pool1d", "bilinear", "layer_norm", "group_norm", "max_pool1d",
           "max_pool2d", "embedding", "conv_transpose1d", "conv_transpose2d"]

conv1d = F.conv1d
conv2d = F.conv2d
conv_transpose1d = F.conv_transpose1d
conv_transpose2d = F.conv_transpose2d
cosine_similarity = F.cosine_similarity
pairwise_distance = F.pairwise_distance
pixel_shuffle = F.pixel_shuffle
pixel_unshuffle = F.pixel_unshuffle
avg_pool1d = F.avg_pool1d
adaptive_avg_pool1d = F.adaptive_avg_pool1d
bilinear = F.bilinear


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode=ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode=ceil_mode)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return F.rms_norm(input, normalized_shape, weight, eps)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, pad, "constant", value)


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return F.feature_alpha_dropout(input, p, train)


def feature_dropout(input, p, train):
    return F._feature_dropout(input, p, train, False)


def pdist(input, p=2):
    return F.pdist(input, p)


def channel_shuffle(input, groups):
    return F.channel_shuffle(input, groups)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), always: torch.adaptive_max_pool1d has no return_indices."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode=ceil_mode,
                        return_indices=True)


__all__ += ["batch_norm", "instance_norm", "rms_norm", "constant_pad_nd", "alpha_dropout", "feature_alpha_dropout",
            "feature_dropout", "pdist", "channel_shuffle", "adaptive_max_pool1d", "max_pool1d_with_indices"]


# the volumetric ops (torch.conv3d, torch.conv_transpose3d, torch.max_pool3d)
conv3d = F.conv3d
conv_transpose3d = F.conv_transpose3d


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode=ceil_mode)


__all__ += ["conv3d", "conv_transpose3d", "max_pool3d"]


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    # the reduction is an enum here (0 none, 1 mean, 2 sum); left out it is none, as PyTorch's binding gives
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)


__all__ += ["ctc_loss"]
