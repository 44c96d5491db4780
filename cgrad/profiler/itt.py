"""torch.profiler.itt: Intel ITT range markers for VTune. cgrad has no ITT,
so is_available() is False and the markers do nothing (a script that
calls them runs unchanged)."""
from contextlib import contextmanager

__all__ = ["is_available", "range_push", "range_pop", "mark", "range"]


def is_available():
    return False


def range_push(msg):
    return 0


def range_pop():
    return 0


def mark(msg):
    return 0


@contextmanager
def range(msg, *args, **kwargs):
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
