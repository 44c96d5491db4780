"""cgrad.xpu: Intel's XPU backend as a CPU-only PyTorch build answers it.
No XPU exists: queries return False / 0 / empty, the memory counters read 0
(PyTorch reads an allocator that was never initialised), seeding is
accepted and ignored (a script seeds every backend without checking), and
the calls that need a device raise PyTorch's AssertionError."""
from collections import OrderedDict

__all__ = ["current_device", "current_stream", "device", "device_count", "empty_cache", "get_arch_list",
           "get_device_capability", "get_device_name", "get_device_properties", "get_gencode_flags",
           "get_rng_state", "get_rng_state_all", "init", "initial_seed", "is_available", "is_bf16_supported",
           "is_initialized", "is_tf32_supported", "manual_seed", "manual_seed_all", "max_memory_allocated",
           "max_memory_reserved", "mem_get_info", "memory_allocated", "memory_reserved", "memory_stats", "seed",
           "seed_all", "set_device", "set_rng_state", "set_rng_state_all", "set_stream", "synchronize"]

_NOT_COMPILED = "Torch not compiled with XPU enabled"


def _not_compiled():
    raise AssertionError(_NOT_COMPILED)


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def init():
    _not_compiled()


def current_device():
    _not_compiled()


def set_device(device):
    _not_compiled()


def get_device_name(device=None):
    _not_compiled()


def get_device_properties(device=None):
    _not_compiled()


def get_device_capability(device=None):
    _not_compiled()


def current_stream(device=None):
    _not_compiled()


def set_stream(stream):
    """PyTorch returns at once for None and, without XPU, does nothing else."""


def synchronize(device=None):
    _not_compiled()


def is_bf16_supported(including_emulation=True):
    return False


def is_tf32_supported():
    return False


def get_arch_list():
    return []


def get_gencode_flags():
    return ""


def empty_cache():
    """Nothing is cached when XPU was never initialised."""


def manual_seed(seed):
    """Checked as an int, then ignored: there is no XPU generator to seed."""
    int(seed)


def manual_seed_all(seed):
    """Checked as an int, then ignored: there is no XPU generator to seed."""
    int(seed)


def seed():
    """Accepted and ignored: there is no XPU generator to seed."""


def seed_all():
    """Accepted and ignored: there is no XPU generator to seed."""


def initial_seed():
    _not_compiled()


def get_rng_state(device="xpu"):
    _not_compiled()


def set_rng_state(new_state, device="xpu"):
    """Accepted and ignored, as PyTorch queues it until an XPU is initialised (never)."""


def get_rng_state_all():
    return []


def set_rng_state_all(new_states):
    for state in new_states:
        set_rng_state(state)


def memory_stats(device=None):
    return OrderedDict()


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def mem_get_info(device=None):
    _not_compiled()


class device:
    """Context manager selecting an XPU; entering it fails as PyTorch's does
    on a build without XPU."""

    def __init__(self, device):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        raise NotImplementedError("PyTorch was compiled without XPU support")

    def __exit__(self, *exc_info):
        return False
