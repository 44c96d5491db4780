"""cgrad.autocast / cgrad.amp.autocast (see cgrad/amp/__init__.py)."""
import functools
import warnings

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled"]

_enabled = {"cpu": False, "cuda": False}


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
            raise NotImplementedError(
                "cgrad.autocast on the CPU computes in bfloat16 or float16, which cgrad does not have; "
                "run in float32 (enabled=False)")
        self._previous = None

    def __enter__(self):
        self._previous = _enabled.get(self.device, False)
        _enabled[self.device] = self._enabled
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        _enabled[self.device] = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorated
