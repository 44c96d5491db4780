"""cgrad.backends.mkldnn: oneDNN (MKL-DNN) flags. cgrad's kernels are its
own, not oneDNN's, so is_available() is False (PyTorch's CPU wheels say
True). The flags scripts set (enabled, deterministic, allow_tf32) are kept
and checked as PyTorch's are (a non-bool raises its RuntimeError), and
flags() sets and restores them, but they select nothing in cgrad."""
import sys
import types
from contextlib import contextmanager

__all__ = ["is_available", "is_acl_available", "verbose", "set_flags", "flags", "VERBOSE_OFF", "VERBOSE_ON",
           "VERBOSE_ON_CREATION"]

VERBOSE_OFF = 0
VERBOSE_ON = 1
VERBOSE_ON_CREATION = 2

# PyTorch's setter names, which its error texts quote
_SETTERS = {"enabled": "set_enabled_mkldnn", "deterministic": "set_deterministic_mkldnn",
            "allow_tf32": "set_onednn_allow_tf32"}
_flag_values = {"enabled": True, "deterministic": False, "allow_tf32": False}


def is_available():
    return False


def is_acl_available():
    return False


def _set_flag(name, value):
    if not isinstance(value, bool):
        raise RuntimeError(f"{_SETTERS[name]} expects a bool, but got {type(value).__name__}")
    _flag_values[name] = value


class verbose:
    """On-demand oneDNN verbose messages: there is no oneDNN to make verbose,
    so any level but VERBOSE_OFF fails as PyTorch's does when oneDNN refuses."""

    def __init__(self, level):
        self.level = level

    def __enter__(self):
        if self.level == VERBOSE_OFF:
            return None
        raise AssertionError("Failed to set MKLDNN into verbose mode. Please consider to disable this verbose scope.")

    def __exit__(self, exc_type, exc_val, exc_tb):
        return False


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None, _fp32_precision="none"):
    orig_flags = (_flag_values["enabled"], _flag_values["deterministic"], _flag_values["allow_tf32"], "none")
    for name, value in (("enabled", _enabled), ("deterministic", _deterministic), ("allow_tf32", _allow_tf32)):
        if value is not None:
            _set_flag(name, value)
    return orig_flags


@contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision="none"):
    orig_flags = set_flags(enabled, deterministic, allow_tf32, fp32_precision)
    try:
        yield
    finally:
        set_flags(*orig_flags)


class _MkldnnModule(types.ModuleType):
    """`mkldnn.enabled = x` goes through the same check as set_flags."""

    enabled = property(lambda self: _flag_values["enabled"], lambda self, v: _set_flag("enabled", v))
    deterministic = property(lambda self: _flag_values["deterministic"],
                             lambda self, v: _set_flag("deterministic", v))
    allow_tf32 = property(lambda self: _flag_values["allow_tf32"], lambda self, v: _set_flag("allow_tf32", v))


sys.modules[__name__].__class__ = _MkldnnModule
