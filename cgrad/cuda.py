"""cgrad.cuda: what a CPU-only PyTorch build answers. No CUDA device exists,
so the queries return False/0 and the calls that need a device raise
PyTorch's AssertionError; seeding calls are silently accepted, as PyTorch
does (a script seeds every backend without checking)."""

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


def manual_seed_all(seed):
    """Accepted and ignored: there is no CUDA generator to seed."""


def seed():
    """Accepted and ignored."""


def seed_all():
    """Accepted and ignored."""


def memory_allocated(device=None):
    raise AssertionError(_NOT_COMPILED)


def max_memory_allocated(device=None):
    raise AssertionError(_NOT_COMPILED)


def memory_reserved(device=None):
    raise AssertionError(_NOT_COMPILED)



# cgrad.cuda.amp: PyTorch's deprecated CUDA spellings of the amp classes,
# importable as `from cgrad.cuda.amp import GradScaler` too (cgrad.cuda is a
# module, not a package, so the submodule is registered by name)
import sys as _sys  # noqa: E402

from cgrad import _cuda_amp as amp  # noqa: E402

_sys.modules["cgrad.cuda.amp"] = amp

from cgrad._build_flags import OutOfMemoryError  # noqa: E402  (torch.cuda.OutOfMemoryError is torch.OutOfMemoryError)
