"""cgrad.amp: PyTorch's mixed-precision entry points as a CPU-only build
runs them. GradScaler scales the loss, unscales the gradients, skips the
steps whose gradients are not finite and adapts the scale (working for
float32 on the CPU as PyTorch's 'cpu' scaler does; a 'cuda' scaler
disables itself with PyTorch's warning). autocast for a CUDA device
disables itself with PyTorch's warning; a CPU autocast computes PyTorch's
lower-precision list (matmuls, linear, convolutions) in bfloat16 (or the
float16 it is given) and its fp32 list (the losses) in float32, see
autocast_mode.py."""
from cgrad.amp.autocast_mode import autocast, is_autocast_available
from cgrad.amp.grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_available"]
