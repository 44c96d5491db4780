"""F.channel_shuffle: the channels of each sample regrouped (ShuffleNet's
channel shuffle), a reshape-transpose-reshape with PyTorch's checks and
its ChannelShuffleBackward0 node name."""
from cgrad.nn._named_node import named

__all__ = ["channel_shuffle"]


def channel_shuffle(input, groups):
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    channels = input.shape[1]
    if channels % groups != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} channels and "
                           f"{groups} groups.")
    batch, rest = input.shape[0], tuple(input.shape[2:])
    shuffled = input.reshape(batch, groups, channels // groups, *rest).transpose(1, 2)
    return named(shuffled.reshape(batch, channels, *rest), "ChannelShuffleBackward0")
