"""cgrad.cuda: what a CPU-only PyTorch build answers. No CUDA device exists,
so the queries return False/0 (the memory statistics 0 bytes, as PyTorch's
for an uninitialised CUDA), the calls that need a device raise PyTorch's
AssertionError (or, where PyTorch reaches a CUDA-only binding first, its
AttributeError), and seeding and RNG-state setters are accepted and
ignored, as PyTorch queues them (a script seeds every backend without
checking)."""

import collections
import warnings

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def init():
    raise AssertionError(_NOT_COMPILED)


def current_device():
    raise AssertionError(_NOT_COMPILED)


def set_device(device):
    raise AssertionError(_NOT_COMPILED)


def get_device_name(device=None):
    raise AssertionError(_NOT_COMPILED)


def get_device_properties(device=None):
    raise AssertionError(_NOT_COMPILED)


def get_device_capability(device=None):
    raise AssertionError(_NOT_COMPILED)


def synchronize(device=None):
    raise AssertionError(_NOT_COMPILED)


def is_bf16_supported(including_emulation=True):
    return False


def empty_cache():
    """Nothing is cached when CUDA was never initialised."""


def manual_seed(seed):
    """Accepted and ignored: there is no CUDA generator to seed."""
    int(seed)       # PyTorch converts it first


def manual_seed_all(seed):
    """Accepted and ignored: there is no CUDA generator to seed."""
    int(seed)


def seed():
    """Accepted and ignored."""


def seed_all():
    """Accepted and ignored."""


# --- the caching allocator's statistics: PyTorch reads them from memory_stats(),
# an empty dict while CUDA is uninitialised, so the byte counts are 0 and the
# summary fails on its first key; the resets call into a CUDA-only binding.

def memory_stats(device=None):
    return collections.OrderedDict()


def memory_allocated(device=None):
    return memory_stats(device).get("allocated_bytes.all.current", 0)


def max_memory_allocated(device=None):
    return memory_stats(device).get("allocated_bytes.all.peak", 0)


def memory_reserved(device=None):
    return memory_stats(device).get("reserved_bytes.all.current", 0)


def max_memory_reserved(device=None):
    return memory_stats(device).get("reserved_bytes.all.peak", 0)


def memory_cached(device=None):
    warnings.warn("`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`", FutureWarning,
                  stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None):
    warnings.warn("`torch.cuda.max_memory_cached` has been renamed to `torch.cuda.max_memory_reserved`",
                  FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


def memory_summary(device=None, abbreviated=False):
    stats = memory_stats(device)
    return stats["allocated_bytes.all.current"]     # PyTorch's KeyError: no statistics without CUDA


def _missing_binding(name):
    return AttributeError(f"module 'cgrad._C' has no attribute '{name}'")


def reset_peak_memory_stats(device=None):
    raise _missing_binding("_cuda_resetPeakMemoryStats")


def reset_max_memory_allocated(device=None):
    warnings.warn("torch.cuda.reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats, which resets "
                  "/all/ peak memory stats.", FutureWarning, stacklevel=2)
    return reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None):
    warnings.warn("torch.cuda.reset_max_memory_cached now calls torch.cuda.reset_peak_memory_stats, which resets "
                  "/all/ peak memory stats.", FutureWarning, stacklevel=2)
    return reset_peak_memory_stats(device)


def reset_accumulated_memory_stats(device=None):
    raise _missing_binding("_cuda_resetAccumulatedMemoryStats")


def memory_snapshot(mempool_id=None):
    raise _missing_binding("_cuda_memorySnapshot")


def mem_get_info(device=None):
    raise AssertionError(_NOT_COMPILED)


def set_per_process_memory_fraction(fraction, device=None):
    raise AssertionError(_NOT_COMPILED)


def caching_allocator_alloc(size, device=None, stream=None):
    raise AssertionError(_NOT_COMPILED)


def ipc_collect():
    raise AssertionError(_NOT_COMPILED)


def can_device_access_peer(device, peer_device):
    raise AssertionError(_NOT_COMPILED)


def list_gpu_processes(device=None):
    return "pynvml module not found, please install nvidia-ml-py"


def _nvml_query(device=None):
    raise ModuleNotFoundError("nvidia-ml-py does not seem to be installed or it can't be imported.")


utilization = memory_usage = temperature = power_draw = clock_rate = _nvml_query


# --- random state: PyTorch queues the setters until CUDA initialises (never,
# here); the getters need a device

def get_rng_state(device="cuda"):
    raise AssertionError(_NOT_COMPILED)


def get_rng_state_all():
    return []


def set_rng_state(new_state, device="cuda"):
    """Queued by PyTorch until CUDA initialises: accepted and ignored."""
    new_state.clone()       # PyTorch copies it first


def set_rng_state_all(new_states):
    """Accepted and ignored, as set_rng_state."""
    for state in new_states:
        set_rng_state(state)


def initial_seed():
    raise AssertionError(_NOT_COMPILED)


def get_arch_list():
    return []


def get_gencode_flags():
    return ""


# --- devices and streams as context managers: entering a CUDA device fails, a
# negative index or a CPU tensor's device is a no-op, as PyTorch's

class device:
    def __init__(self, device):
        from cgrad._C import device as _device
        if isinstance(device, (str, _device)):
            device = _device(device).index if _device(device).type == "cuda" else -1
        self.idx = device

    def __enter__(self):
        if self.idx < 0:
            return None
        raise RuntimeError("PyTorch was compiled without CUDA support")

    def __exit__(self, *exc):
        return False


class device_of(device):
    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


class StreamContext:
    """A no-op without CUDA (PyTorch's checks whether CUDA is available first)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def stream(stream):
    return StreamContext(stream)


def current_stream(device=None):
    raise AssertionError(_NOT_COMPILED)


def default_stream(device=None):
    raise AssertionError(_NOT_COMPILED)


class Stream:
    def __new__(cls, device=None, priority=0, **kwargs):
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class Event:
    def __new__(cls, enable_timing=False, blocking=False, interprocess=False):
        raise RuntimeError("Tried to instantiate dummy base class Event")



# cgrad.cuda.amp: PyTorch's deprecated CUDA spellings of the amp classes,
# importable as `from cgrad.cuda.amp import GradScaler` too (cgrad.cuda is a
# module, not a package, so the submodule is registered by name)
import sys as _sys  # noqa: E402

from cgrad import _cuda_amp as amp  # noqa: E402

_sys.modules["cgrad.cuda.amp"] = amp

from cgrad._build_flags import OutOfMemoryError  # noqa: E402  (torch.cuda.OutOfMemoryError is torch.OutOfMemoryError)
