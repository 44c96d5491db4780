"""cgrad.amp: PyTorch's mixed-precision entry points as a CPU-only build
runs them. GradScaler scales the loss, unscales the gradients, skips the
steps whose gradients are not finite and adapts the scale (working for
float32 on the CPU as PyTorch's 'cpu' scaler does; a 'cuda' scaler
disables itself with PyTorch's warning). autocast for a CUDA device
disables itself with PyTorch's warning; a disabled CPU autocast is a
plain context; an enabled CPU autocast is refused: it would compute in
bfloat16 or float16 matmuls, which cgrad does not have."""
from cgrad.amp.autocast_mode import autocast, is_autocast_available
from cgrad.amp.grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_available"]
