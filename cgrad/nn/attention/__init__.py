"""cgrad.nn.attention: which kernels scaled_dot_product_attention may use
(PyTorch's SDPBackend and the sdpa_kernel context manager, over the
switches in cgrad.backends.cuda). On the CPU, cgrad as PyTorch runs the
flash kernel where it applies (4-D inputs, no dropout, ...) and the math
composition otherwise; disabling both leaves no kernel, with PyTorch's
errors."""
import contextlib
import enum
import warnings

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __repr__(self):
        return f"<SDPBackend.{self.name}: {self.value}>"

    def __str__(self):
        return f"SDPBackend.{self.name}"


_SWITCHES = {SDPBackend.FLASH_ATTENTION: "flash", SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
             SDPBackend.MATH: "math", SDPBackend.CUDNN_ATTENTION: "cudnn", SDPBackend.OVERRIDEABLE: "overrideable"}


def _enabled_backends():
    from cgrad.backends.cuda import _sdp_enabled
    return [backend for backend, switch in _SWITCHES.items() if _sdp_enabled[switch]]


def _enable_only(backends):
    from cgrad.backends.cuda import _sdp_enabled
    for backend, switch in _SWITCHES.items():
        _sdp_enabled[switch] = backend in backends


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Only `backends` may run scaled_dot_product_attention inside the
    block; the previous switches come back on exit (set_priority orders
    the backends on CUDA; on the CPU the order is fixed: flash, then math)."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    previous = _enabled_backends()
    try:
        _enable_only(list(dict.fromkeys(backends)))
        yield {}
    finally:
        _enable_only(previous)


def _choose_cpu_kernel(flash_applies, why_not_flash):
    """True for the flash kernel, False for math; PyTorch's errors when the
    enabled switches leave neither."""
    from cgrad.backends.cuda import _sdp_enabled
    if not (_sdp_enabled["flash"] or _sdp_enabled["math"]):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely due to "
                           "turning off both the math kernel and the fused kernels.")
    if _sdp_enabled["flash"] and flash_applies:
        return True
    if _sdp_enabled["math"]:
        return False
    warnings.warn("Flash attention kernel not used because:", stacklevel=3)
    if why_not_flash:
        warnings.warn(why_not_flash, stacklevel=3)
    raise RuntimeError("No available kernel.  Aborting execution.")
