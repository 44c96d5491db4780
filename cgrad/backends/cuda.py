"""cgrad.backends.cuda: CUDA is not built in; the switches scripts set
(matmul precision, scaled_dot_product_attention kernels) are kept."""
import contextlib
import warnings


def is_built():
    return False


class cuBLASModule:
    """backends.cuda.matmul: the cuBLAS switches scripts set (allow_tf32,
    ...); recorded, without effect on a CPU-only build."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False


matmul = cuBLASModule()


# Which scaled_dot_product_attention kernels may run (PyTorch's global
# switches). On the CPU two exist: the flash kernel (4-D inputs, no
# dropout) and the math composition; the others' switches are recorded.
_sdp_enabled = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True, "overrideable": True}
_fp16_bf16_reduction_math_sdp = False


def flash_sdp_enabled():
    return _sdp_enabled["flash"]


def enable_flash_sdp(enabled):
    _sdp_enabled["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp_enabled["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    _sdp_enabled["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    return _sdp_enabled["math"]


def enable_math_sdp(enabled):
    _sdp_enabled["math"] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp_enabled["cudnn"]


def enable_cudnn_sdp(enabled):
    _sdp_enabled["cudnn"] = bool(enabled)


def fp16_bf16_reduction_math_sdp_allowed():
    return _fp16_bf16_reduction_math_sdp


def allow_fp16_bf16_reduction_math_sdp(enabled):
    global _fp16_bf16_reduction_math_sdp
    _fp16_bf16_reduction_math_sdp = bool(enabled)


def is_ck_sdpa_available():
    return False


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated "
                  "signature.", FutureWarning, stacklevel=3)
    from cgrad.nn.attention import SDPBackend, sdpa_kernel
    chosen = [backend for backend, on in ((SDPBackend.FLASH_ATTENTION, enable_flash),
                                          (SDPBackend.EFFICIENT_ATTENTION, enable_mem_efficient),
                                          (SDPBackend.MATH, enable_math),
                                          (SDPBackend.CUDNN_ATTENTION, enable_cudnn)) if on]
    with sdpa_kernel(chosen) as context:
        yield context
