"""The thread-local state cgrad.jit's parts share: how deep the current
thread is inside a scripted module's or function's call (an @jit.unused
method called from there raises as TorchScript's would), and the trace
running on this thread, if any (is_tracing)."""
import threading

_local = threading.local()


def scripted_depth():
    return getattr(_local, "scripted", 0)


class inside_scripted:
    """The body of a scripted call: entered around the Python it runs."""
    __slots__ = ()

    def __enter__(self):
        _local.scripted = getattr(_local, "scripted", 0) + 1

    def __exit__(self, *exc):
        _local.scripted -= 1


INSIDE_SCRIPTED = inside_scripted()


def tracing():
    return getattr(_local, "tracing", 0) > 0


class inside_trace:
    __slots__ = ()

    def __enter__(self):
        _local.tracing = getattr(_local, "tracing", 0) + 1

    def __exit__(self, *exc):
        _local.tracing -= 1


INSIDE_TRACE = inside_trace()
