"""cgrad.autocast / cgrad.amp.autocast (see cgrad/amp/__init__.py), and
the autocast state PyTorch keeps per thread and exposes at top level
(torch.set_autocast_enabled, is_autocast_cpu_enabled, the cache switch,
the nesting counter). One process-wide state here: the per-device enabled
flags that autocast sets, whether casts would be cached, and how deep
autocast regions nest. CPU autocast cannot be switched on (cgrad has no
bfloat16 matmuls), by the context or by set_autocast_enabled alike; the
flags of the other devices are recorded, as on a CPU-only PyTorch, and
change no computation. The autocast dtypes are left out: the CPU's
default, bfloat16, is a dtype cgrad does not have."""
import functools
import warnings

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "set_autocast_enabled",
           "is_autocast_cpu_enabled", "set_autocast_cpu_enabled", "is_autocast_ipu_enabled",
           "set_autocast_ipu_enabled", "is_autocast_xla_enabled", "set_autocast_xla_enabled",
           "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
           "autocast_increment_nesting", "autocast_decrement_nesting"]

_enabled = {"cpu": False, "cuda": False}
_cache = {"enabled": True, "nesting": 0}
# the device types PyTorch's device-string parser knows, in its error's order
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                 "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_CPU_REFUSAL = ("cgrad.autocast on the CPU computes in bfloat16 or float16, which cgrad does not have; "
                "run in float32 (enabled=False)")


def is_autocast_available(device_type):
    return device_type == "cpu"


def is_autocast_enabled(device_type=None):
    return _enabled.get(device_type or "cuda", False)


class autocast:
    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        if device_type == "cuda" and self._enabled:
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                          stacklevel=2)
            self._enabled = False
        elif device_type not in ("cpu", "cuda"):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        if self._enabled:
            raise NotImplementedError(_CPU_REFUSAL)
        self._cache_enabled = cache_enabled
        self._previous = None

    def __enter__(self):
        self._previous = (_enabled.get(self.device, False), _cache["enabled"])
        _enabled[self.device] = self._enabled
        if self._cache_enabled is not None:
            _cache["enabled"] = bool(self._cache_enabled)
        autocast_increment_nesting()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        autocast_decrement_nesting()
        _enabled[self.device], _cache["enabled"] = self._previous
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
    if device_type == "cpu" and enabled:
        raise NotImplementedError(_CPU_REFUSAL)
    _enabled[device_type] = enabled


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
    """Nothing to drop: cgrad's autocast never casts, so it caches no cast weights."""


def autocast_increment_nesting():
    _cache["nesting"] += 1
    return _cache["nesting"]


def autocast_decrement_nesting():
    _cache["nesting"] -= 1
    return _cache["nesting"]
