"""Process-wide switches that PyTorch scripts set at their top for
reproducibility or speed: deterministic algorithms and their debug mode,
the float32 matmul precision, warn-always and the inter-op thread count.

cgrad's CPU kernels are deterministic already (each reduction has a fixed
order) and its float32 matmuls always run in full float32 ("highest"), so
these record and report the setting, as PyTorch does on a CPU build; none
changes a result."""
import warnings

__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "set_warn_always", "is_warn_always_enabled", "set_num_interop_threads", "get_num_interop_threads"]

# fp32_precision is the newer spelling of matmul_precision (backends.cuda.matmul.fp32_precision):
# "none" until either is set, then "ieee" for "highest" and "tf32" otherwise.
_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest", "fp32_precision": "none",
          "warn_always": False, "interop_threads": 2}


def use_deterministic_algorithms(mode, *, warn_only=False):
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, "
                        f"not {type(mode).__name__}")
    _state["deterministic"] = mode
    _state["warn_only"] = bool(warn_only) and mode


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                               f"but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_float32_matmul_precision(precision):
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision
    _state["fp32_precision"] = "ieee" if precision == "highest" else "tf32"


def get_float32_matmul_precision():
    return _state["matmul_precision"]


def set_warn_always(b):
    _state["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _state["warn_always"]


def set_num_interop_threads(num):
    if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
        raise RuntimeError("Number of inter-op threads must be positive")
    _state["interop_threads"] = num


def get_num_interop_threads():
    return _state["interop_threads"]
