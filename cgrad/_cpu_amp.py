"""cgrad.cpu.amp: PyTorch's deprecated CPU spellings of autocast and
GradScaler (`torch.cpu.amp.autocast()`, bfloat16 by default), which warn
and forward to cgrad.amp with device 'cpu'."""
from cgrad._amp_deprecated import device_amp_classes

__all__ = ["autocast", "GradScaler"]

autocast, GradScaler = device_amp_classes("cpu")
