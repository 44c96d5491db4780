"""cgrad.accelerator: PyTorch's device-generic accelerator API, answered as
a CPU-only PyTorch build answers it. cgrad computes on the CPU alone, so
there is no current accelerator: the queries the tutorials make
(`is_available()`, `current_accelerator()`, `device_count()`) return
False / None / 0, and every call that needs a device raises the RuntimeError
PyTorch raises, after the same argument checks in the same order (a device
given as a string or `device` is checked before the missing accelerator is
reported, an int is taken as an index; see `_device_index`)."""
import warnings

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "get_device_capability",
           "current_stream", "device_count", "device_index", "empty_cache", "empty_host_cache", "get_memory_info",
           "is_available", "max_memory_allocated", "max_memory_reserved", "memory_allocated", "memory_reserved",
           "memory_stats", "reset_accumulated_memory_stats", "reset_peak_memory_stats", "set_device_idx",
           "set_device_index", "set_stream", "synchronize"]

_NO_ACCELERATOR = "Cannot access accelerator device when none is available."


def _no_accelerator():
    raise RuntimeError(_NO_ACCELERATOR)


def _device_index(device, optional):
    """PyTorch's torch.accelerator._utils._get_device_index: an int is an
    index as given; a device (or its string) must be of the accelerator's
    type, and with no accelerator PyTorch says so first."""
    from cgrad import device as device_type
    if isinstance(device, int):
        return device
    if isinstance(device, (str, device_type)):
        raise RuntimeError("Accelerator expected")
    if not optional:
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
    return current_device_index()


def is_available():
    return False


def current_accelerator(check_available=False):
    return None


def device_count():
    return 0


def current_device_index():
    _no_accelerator()


def current_device_idx():
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_index(device, /):
    index = _device_index(device, optional=False)
    if index >= 0:          # PyTorch: a negative index is a no-op, even without a device
        _no_accelerator()


def set_device_idx(device, /):
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


def get_device_capability(device=None, /):
    _device_index(device, optional=True)
    _no_accelerator()


def current_stream(device=None, /):
    _device_index(device, optional=True)
    _no_accelerator()


def set_stream(stream):
    _no_accelerator()


def synchronize(device=None, /):
    _device_index(device, optional=True)
    _no_accelerator()


class device_index:
    """Context manager selecting an accelerator device index; None selects
    nothing (and so works without an accelerator)."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            _no_accelerator()

    def __exit__(self, *exc_info):
        return None


# memory: PyTorch asks whether the accelerator's allocator was initialised
# before anything else, which raises when there is no accelerator
def empty_cache():
    _no_accelerator()


def empty_host_cache():
    _no_accelerator()


def memory_stats(device_index=None, /):
    _no_accelerator()


def memory_allocated(device_index=None, /):
    _no_accelerator()


def max_memory_allocated(device_index=None, /):
    _no_accelerator()


def memory_reserved(device_index=None, /):
    _no_accelerator()


def max_memory_reserved(device_index=None, /):
    _no_accelerator()


def reset_accumulated_memory_stats(device_index=None, /):
    _no_accelerator()


def reset_peak_memory_stats(device_index=None, /):
    _no_accelerator()


def get_memory_info(device_index=None, /):
    _device_index(device_index, optional=True)
    _no_accelerator()
