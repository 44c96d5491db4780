"""cgrad.mps: torch.mps (Apple's Metal device module) as a PyTorch build
without MPS answers it: no device, so the queries return False / 0, seeding
is accepted and ignored, and every call that reaches the backend raises
PyTorch's RuntimeError naming the backend function it could not run.
(cgrad.backends.mps, the build query module, is a different module.)"""

__all__ = ["compile_shader", "device_count", "get_rng_state", "manual_seed", "seed", "set_rng_state",
           "synchronize", "empty_cache", "set_per_process_memory_fraction", "current_allocated_memory",
           "driver_allocated_memory", "recommended_max_memory", "is_available"]


def _without_mps(function):
    raise RuntimeError(f"Cannot execute {function}() without MPS backend.")


def is_available():
    return False


def device_count():
    return 0


def synchronize():
    _without_mps("deviceSynchronize")


def manual_seed(seed):
    """Accepted and ignored, as PyTorch does without MPS."""


def seed():
    _without_mps("getDefaultGenerator")


def get_rng_state(device="mps"):
    _without_mps("getDefaultGenerator")


def set_rng_state(new_state, device="mps"):
    _without_mps("getDefaultGenerator")


def empty_cache():
    _without_mps("emptyCache")


def set_per_process_memory_fraction(fraction):
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if fraction < 0 or fraction > 2:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~2")
    _without_mps("setMemoryFraction")


def current_allocated_memory():
    _without_mps("getCurrentAllocatedMemory")


def driver_allocated_memory():
    _without_mps("getDriverAllocatedMemory")


def recommended_max_memory():
    _without_mps("getRecommendedMaxMemory")


def compile_shader(source):
    raise RuntimeError("MPS is not available")
