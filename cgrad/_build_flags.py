"""What a PyTorch script asks about the build and the process before it
starts: torch.has_lapack / has_mkl / has_openmp / has_spectral,
compiled_with_cxx11_abi(), is_vulkan_available(), init_num_threads(),
set_anomaly_enabled(), and the exception classes OutOfMemoryError and
AcceleratorError (RuntimeErrors, as in PyTorch).

The answers are cgrad's own, not copies of torch's: cgrad's linear algebra
runs on numpy's LAPACK (has_lapack), it links no MKL and has no FFT module
(torch.fft), so has_mkl and has_spectral are False; has_openmp says
whether the compiled core was built with OpenMP (setup.py uses it when the
compiler has it), read from the symbols the extension imports.
"""
import mmap

from cgrad import _C

__all__ = ["has_lapack", "has_mkl", "has_openmp", "has_spectral", "compiled_with_cxx11_abi", "is_vulkan_available",
           "init_num_threads", "set_anomaly_enabled", "OutOfMemoryError", "AcceleratorError"]


def _extension_uses_openmp():
    """Whether cgrad._C calls into an OpenMP runtime (GCC's GOMP_* or
    LLVM's __kmpc_* entry points among its imported symbols)."""
    try:
        with open(_C.__file__, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as image:
            return image.find(b"GOMP_parallel") >= 0 or image.find(b"__kmpc_fork_call") >= 0
    except (OSError, ValueError):
        return False


has_lapack = True
has_mkl = False
has_spectral = False
has_openmp = _extension_uses_openmp()


def compiled_with_cxx11_abi():
    """True: cgrad's compiled core is C, built by the platform's default
    toolchain, whose C++ standard library uses the C++11 ABI; a C++ extension
    built beside it needs no -D_GLIBCXX_USE_CXX11_ABI=0."""
    return True


def is_vulkan_available():
    return False


def init_num_threads():
    """Nothing per thread to set up: cgrad's kernels read the one thread
    count of set_num_threads on every parallel region, from any thread."""


def set_anomaly_enabled(enabled, check_nan=True):
    """What autograd.detect_anomaly sets, without the context: anomaly mode
    on or off, and whether it also checks backward's results for NaN."""
    if not isinstance(enabled, bool):
        raise TypeError(f"set_anomaly_enabled(): argument 'enabled' (position 1) must be bool, "
                        f"not {type(enabled).__name__}")
    if not isinstance(check_nan, bool):
        raise TypeError(f"set_anomaly_enabled(): argument 'check_nan' (position 2) must be bool, "
                        f"not {type(check_nan).__name__}")
    _C._set_anomaly_enabled(enabled, check_nan)


class OutOfMemoryError(RuntimeError):
    """Raised when an allocation fails (torch.OutOfMemoryError; torch.cuda's too)."""


class AcceleratorError(RuntimeError):
    """Raised on an accelerator's failure; cgrad runs on the CPU only, so it
    exists for scripts that catch it."""


OutOfMemoryError.__module__ = AcceleratorError.__module__ = "cgrad"
