"""cgrad.backends.mkl: cgrad is not built with Intel MKL (its BLAS is
numpy's), so is_available() is False, truthfully (PyTorch's x86 wheels say
True)."""
from cgrad._build_flags import has_mkl

__all__ = ["is_available", "verbose", "VERBOSE_OFF", "VERBOSE_ON"]

VERBOSE_OFF = 0
VERBOSE_ON = 1


def is_available():
    return has_mkl


class verbose:
    """On-demand MKL verbose messages: with no MKL, any level but
    VERBOSE_OFF fails as PyTorch's does when MKL refuses."""

    def __init__(self, enable):
        self.enable = enable

    def __enter__(self):
        if self.enable == VERBOSE_OFF:
            return None
        raise AssertionError("Failed to set MKL into verbose mode. Please consider to disable this verbose scope.")

    def __exit__(self, exc_type, exc_val, exc_tb):
        return False
