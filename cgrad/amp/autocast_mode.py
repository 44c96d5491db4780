"""cgrad.autocast / cgrad.amp.autocast (see cgrad/amp/__init__.py), and
the autocast state PyTorch keeps per thread and exposes at top level
(torch.set_autocast_enabled, is_autocast_cpu_enabled, get/set_autocast_dtype,
the cache switch, the nesting counter). One process-wide state here: the
per-device enabled flags and dtypes, whether casts would be cached, and how
deep autocast regions nest.

An enabled CPU autocast computes as PyTorch's: the ops of its
lower_precision_fp list (matmul, mm, bmm, addmm, baddbmm, addbmm, linear,
the convolutions, scaled_dot_product_attention) cast their float32 operands
to the autocast dtype (bfloat16 by default, or float16) with a recorded
cast (ToCopyBackward0), and the losses of its fp32 list cast float16 and
bfloat16 operands to float32; everything else runs in its inputs' dtypes.
The cast itself lives in the ops (cgrad._C._autocast_args and the matmul
family's entry points), switched on here through _C._set_autocast_cpu_dtype.
The flags of the other devices are recorded, as on a CPU-only PyTorch, and
change no computation."""
import functools
import warnings

from cgrad import _C

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "set_autocast_enabled",
           "get_autocast_dtype", "set_autocast_dtype", "get_autocast_cpu_dtype", "set_autocast_cpu_dtype",
           "is_autocast_cpu_enabled", "set_autocast_cpu_enabled", "is_autocast_ipu_enabled",
           "set_autocast_ipu_enabled", "is_autocast_xla_enabled", "set_autocast_xla_enabled",
           "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
           "autocast_increment_nesting", "autocast_decrement_nesting"]

_enabled = {"cpu": False, "cuda": False}
_cache = {"enabled": True, "nesting": 0}
# PyTorch's default autocast dtypes per device type
_dtypes = {"cpu": _C.bfloat16, "cuda": _C.float16, "mps": _C.float16, "xpu": _C.float16, "hpu": _C.bfloat16,
           "xla": _C.bfloat16, "ipu": _C.float16, "mtia": _C.float16, "maia": _C.bfloat16,
           "privateuseone": _C.float16}
_CPU_DTYPES = (_C.bfloat16, _C.float16)
# the device types PyTorch's device-string parser knows, in its error's order
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                 "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


def _sync_cpu():
    """Tell the ops the CPU autocast state: its dtype while enabled, else None."""
    _C._set_autocast_cpu_dtype(_dtypes["cpu"] if _enabled["cpu"] else None)


def is_autocast_available(device_type):
    return device_type == "cpu"


def is_autocast_enabled(device_type=None):
    return _enabled.get(device_type or "cuda", False)


def get_autocast_dtype(device_type):
    """The dtype an autocast region on device_type computes its
    lower-precision ops in (what autocast(device_type) uses when given no dtype)."""
    _check_device_type(device_type)
    name = device_type.split(":")[0]
    if name not in _dtypes:
        raise RuntimeError("unsupported scalarType")
    return _dtypes[name]


def set_autocast_dtype(device_type, dtype):
    _check_device_type(device_type)
    if not isinstance(dtype, _C.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' (position 2) must be cgrad.dtype, not "
                        f"{type(dtype).__name__}")
    _dtypes[device_type.split(":")[0]] = dtype
    _sync_cpu()


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return _dtypes["cpu"]


def set_autocast_cpu_dtype(dtype):
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


class autocast:
    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        self._enabled = bool(enabled)
        if device_type not in ("cpu", "cuda"):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.fast_dtype = _dtypes[device_type] if dtype is None else dtype
        if device_type == "cuda" and self._enabled:
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                          stacklevel=2)
            self._enabled = False
        if device_type == "cpu" and self._enabled and self.fast_dtype not in _CPU_DTYPES:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                          "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        self._cache_enabled = cache_enabled
        self._previous = None

    def __enter__(self):
        self._previous = (_enabled.get(self.device, False), _dtypes.get(self.device), _cache["enabled"])
        _enabled[self.device] = self._enabled
        if self._enabled:
            _dtypes[self.device] = self.fast_dtype
        if self._cache_enabled is not None:
            _cache["enabled"] = bool(self._cache_enabled)
        autocast_increment_nesting()
        _sync_cpu()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        autocast_decrement_nesting()
        _enabled[self.device], _dtypes[self.device], _cache["enabled"] = self._previous
        _sync_cpu()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorated


def _check_device_type(device_type):
    if device_type.split(":")[0] not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: "
                           f"{device_type}")


def _check_bool(fn, name, position, value):
    if not isinstance(value, bool):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be bool, not {type(value).__name__}")


def _set_enabled(device_type, enabled):
    _enabled[device_type] = enabled
    _sync_cpu()


def set_autocast_enabled(device_type, enabled=None):
    """set_autocast_enabled(device_type, enabled), or the deprecated
    set_autocast_enabled(enabled) for CUDA."""
    if enabled is None:
        _check_bool("set_autocast_enabled", "enabled", 1, device_type)
        device_type, enabled = "cuda", device_type
    else:
        _check_bool("set_autocast_enabled", "enabled", 2, enabled)
        _check_device_type(device_type)
    _set_enabled(device_type, enabled)


def _deprecated(old, new):
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3)


def _check_enabled_type(enabled):
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool (got {type(enabled).__name__})")


def is_autocast_cpu_enabled():
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return _enabled["cpu"]


def set_autocast_cpu_enabled(enabled):
    _check_enabled_type(enabled)
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    _set_enabled("cpu", enabled)


def is_autocast_ipu_enabled():
    _deprecated("is_autocast_ipu_enabled()", "is_autocast_enabled('ipu')")
    return _enabled.get("ipu", False)


def set_autocast_ipu_enabled(enabled):
    _check_enabled_type(enabled)
    _deprecated("set_autocast_ipu_enabled(enabled)", "set_autocast_enabled('ipu', enabled)")
    _set_enabled("ipu", enabled)


def is_autocast_xla_enabled():
    _deprecated("is_autocast_xla_enabled()", "is_autocast_enabled('xla')")
    return _enabled.get("xla", False)


def set_autocast_xla_enabled(enabled):
    _check_enabled_type(enabled)
    _deprecated("set_autocast_xla_enabled(enabled)", "set_autocast_enabled('xla', enabled)")
    _set_enabled("xla", enabled)


def is_autocast_cache_enabled():
    return _cache["enabled"]


def set_autocast_cache_enabled(enabled):
    _check_enabled_type(enabled)
    _cache["enabled"] = enabled


def clear_autocast_cache():
    """Nothing to drop: cgrad's autocast casts each time (no cache of cast weights)."""


def autocast_increment_nesting():
    _cache["nesting"] += 1
    return _cache["nesting"]


def autocast_decrement_nesting():
    _cache["nesting"] -= 1
    return _cache["nesting"]
