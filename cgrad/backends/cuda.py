"""cgrad.backends.cuda: CUDA is not built in; the switches scripts set
(matmul precision, scaled_dot_product_attention kernels) are kept."""
import contextlib
import warnings


def is_built():
    return False


def _reduction_setting(value, attr_name):
    """(allow_reduced_precision, allow_splitk) from a bool or a tuple/list
    of one or two bools, with PyTorch's errors."""
    def ensure_bool(obj, which):
        if isinstance(obj, bool):
            return obj
        raise TypeError(f"{attr_name} expects a bool for {which}, but got {type(obj)!r}")
    if isinstance(value, bool):
        return value, True
    if isinstance(value, (list, tuple)):
        if not value:
            raise TypeError(f"{attr_name} expects at least one boolean argument")
        if len(value) > 2:
            raise TypeError(f"{attr_name} expects at most two boolean arguments")
        allow_reduced_precision = ensure_bool(value[0], "allow_reduced_precision")
        if len(value) == 1:
            return allow_reduced_precision, True
        allow_splitk = ensure_bool(value[1], "allow_splitk")
        if allow_reduced_precision and not allow_splitk:
            raise RuntimeError("allow_splitk=False is not supported when reduced precision reductions are enabled")
        return allow_reduced_precision, allow_splitk
    raise TypeError(f"{attr_name} expects a bool or a tuple/list of bools, but got {type(value)!r}")


def _ensure_flag(value, setter):
    if not isinstance(value, bool):
        raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
    return value


class cuBLASModule:
    """backends.cuda.matmul: the cuBLAS switches scripts set; without effect
    on a CPU-only build. As in PyTorch, allow_tf32 and fp32_precision are
    views of the process-wide float32 matmul precision (allow_tf32 = True
    is set_float32_matmul_precision("high")), and names PyTorch does not
    know raise AttributeError instead of becoming new attributes."""

    _reductions = {"fp16": (True, True), "bf16": (True, True)}
    _fp16_accumulation = False

    def __getattr__(self, name):
        from cgrad import _global_settings
        if name == "allow_tf32":
            return _global_settings.get_float32_matmul_precision() != "highest"
        if name == "fp32_precision":
            return _global_settings._state["fp32_precision"]
        if name == "allow_fp16_accumulation":
            return cuBLASModule._fp16_accumulation
        for kind in ("fp16", "bf16"):
            if name == f"allow_{kind}_reduced_precision_reduction":
                return cuBLASModule._reductions[kind][0]
            if name == f"allow_{kind}_reduced_precision_reduction_split_k":
                return cuBLASModule._reductions[kind][1]
        raise AttributeError("Unknown attribute " + name)

    def __setattr__(self, name, value):
        from cgrad import _global_settings
        if name == "allow_tf32":
            _global_settings.set_float32_matmul_precision(
                "high" if _ensure_flag(value, "set_allow_tf32_cublas") else "highest")
            return
        if name == "fp32_precision":
            if value not in ("ieee", "tf32", "none"):
                raise RuntimeError(f"Unknown precision: {value}")
            _global_settings._state["fp32_precision"] = value
            if value != "none":
                _global_settings._state["matmul_precision"] = "high" if value == "tf32" else "highest"
            return
        if name == "allow_fp16_accumulation":
            cuBLASModule._fp16_accumulation = _ensure_flag(value, "set_allow_fp16_accumulation_cublas")
            return
        for kind in ("fp16", "bf16"):
            attr_name = f"allow_{kind}_reduced_precision_reduction"
            if name == attr_name:
                cuBLASModule._reductions[kind] = _reduction_setting(value, attr_name)
                return
        raise AttributeError("Unknown attribute " + name)


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
