"""cgrad.backends.opt_einsum: cgrad's einsum orders its contractions along
numpy's greedy path and never imports the opt_einsum package, so, as in a
PyTorch install without opt_einsum, is_available() is False, enabled is
False, strategy is None, and asking for either raises PyTorch's ValueError."""
import sys
import types
from contextlib import contextmanager

__all__ = ["is_available", "get_opt_einsum", "set_flags", "flags"]


def is_available():
    return False


def get_opt_einsum():
    return None


def _set_enabled(_enabled):
    if _enabled:
        raise ValueError(
            f"opt_einsum is not available, so setting `enabled` to {_enabled} will not reap "
            "the benefits of calculating an optimal path for einsum. torch.einsum will "
            "fall back to contracting from left to right. To enable this optimal path "
            "calculation, please install opt-einsum.")


def _set_strategy(_strategy):
    raise ValueError(
        f"opt_einsum is not available, so setting `strategy` to {_strategy} will not be meaningful. "
        "torch.einsum will bypass path calculation and simply contract from left to right. "
        "Please install opt_einsum or unset `strategy`.")


def set_flags(_enabled=None, _strategy=None):
    orig_flags = (False, None)
    if _enabled is not None:
        _set_enabled(_enabled)
    if _strategy is not None:
        _set_strategy(_strategy)
    return orig_flags


@contextmanager
def flags(enabled=None, strategy=None):
    orig_flags = set_flags(enabled, strategy)
    try:
        yield
    finally:
        set_flags(*orig_flags)


class _OptEinsumModule(types.ModuleType):
    """`opt_einsum.enabled = x` is checked as in PyTorch; strategy stays None
    as a plain attribute (PyTorch's is not a checked property without the
    package)."""

    enabled = property(lambda self: False, lambda self, v: _set_enabled(v))


strategy = None
sys.modules[__name__].__class__ = _OptEinsumModule
