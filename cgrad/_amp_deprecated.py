"""PyTorch's deprecated per-device spellings of autocast and GradScaler
(`torch.cuda.amp.autocast`, `torch.cpu.amp.GradScaler`, ...): each warns
with PyTorch's FutureWarning and is cgrad.amp's class for its device."""
import warnings

from cgrad.amp import autocast as _autocast
from cgrad.amp import GradScaler as _GradScaler

__all__ = ["device_amp_classes"]


def device_amp_classes(device_type):
    """(autocast, GradScaler) as torch.<device_type>.amp has them."""

    class autocast(_autocast):
        def __init__(self, enabled=True, dtype=None, cache_enabled=True):
            warnings.warn(f"`torch.{device_type}.amp.autocast(args...)` is deprecated. Please use "
                          f"`torch.amp.autocast('{device_type}', args...)` instead.", FutureWarning, stacklevel=2)
            super().__init__(device_type, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class GradScaler(_GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            warnings.warn(f"`torch.{device_type}.amp.GradScaler(args...)` is deprecated. Please use "
                          f"`torch.amp.GradScaler('{device_type}', args...)` instead.", FutureWarning, stacklevel=2)
            super().__init__(device_type, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)

    autocast.__module__ = GradScaler.__module__ = f"cgrad.{device_type}.amp"
    return autocast, GradScaler
