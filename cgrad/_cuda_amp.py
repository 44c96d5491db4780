"""cgrad.cuda.amp: PyTorch's deprecated CUDA spellings of autocast and
GradScaler (`from torch.cuda.amp import GradScaler, autocast`), which warn
and forward to cgrad.amp with device 'cuda' (so they disable themselves,
with PyTorch's warnings, when enabled: there is no CUDA device)."""
from cgrad._amp_deprecated import device_amp_classes

__all__ = ["autocast", "GradScaler"]

autocast, GradScaler = device_amp_classes("cuda")
