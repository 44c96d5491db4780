"""cgrad.cpu, as torch.cpu: the device-agnostic API for the one CPU device
(is_available, device_count, synchronize, streams and events that do
nothing), so code written for `torch.cuda`/`torch.cpu` alike runs."""
__all__ = ["is_available", "is_initialized", "device_count", "current_device", "set_device", "synchronize", "amp",
           "Stream", "Event", "StreamContext", "stream", "current_stream"]


def is_available():
    return True


def is_initialized():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def set_device(device):
    """The CPU is the only device: nothing to set."""


def synchronize(device=None):
    """CPU kernels have finished when they return: nothing to wait for."""


class Stream:
    """The CPU runs one ordered stream; its methods have nothing to wait on."""

    def __init__(self, priority=-1):
        pass

    def wait_stream(self, stream):
        pass

    def record_event(self):
        pass

    def wait_event(self, event):
        pass


class Event:
    def query(self):
        return True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass

    def wait(self, stream=None):
        pass


_default_stream = _current_stream = Stream()


def current_stream(device=None):
    return _current_stream


class StreamContext:
    """Makes `stream` the current one inside the block (current_stream()
    answers it), as torch.cpu's; None leaves the current stream alone."""

    def __init__(self, stream):
        self.stream = stream
        self.prev_stream = _default_stream

    def __enter__(self):
        global _current_stream
        if self.stream is not None:
            self.prev_stream = _current_stream
            _current_stream = self.stream

    def __exit__(self, *exc):
        global _current_stream
        if self.stream is not None:
            _current_stream = self.prev_stream


def stream(stream):
    return StreamContext(stream)


# cgrad.cpu.amp: PyTorch's deprecated CPU spellings of the amp classes,
# importable as `from cgrad.cpu.amp import autocast` too (cgrad.cpu is a
# module, not a package, so the submodule is registered by name)
import sys as _sys  # noqa: E402

from cgrad import _cpu_amp as amp  # noqa: E402

_sys.modules["cgrad.cpu.amp"] = amp
