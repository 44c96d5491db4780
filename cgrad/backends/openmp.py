"""cgrad.backends.openmp: whether cgrad's compiled core was built with
OpenMP (setup.py uses it when the compiler has it)."""
from cgrad._build_flags import has_openmp

__all__ = ["is_available"]


def is_available():
    return has_openmp
