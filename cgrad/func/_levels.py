"""The vmap levels running on this thread (outermost first): what
cgrad.func's reverse-mode transforms consult to know whether they run inside
vmap, kept apart from the batching machinery so that importing cgrad.func
does not load it."""
import threading

_state = threading.local()
_level_counter = [0]


class _Level:
    __slots__ = ("level", "size", "randomness")

    def __init__(self, level, size, randomness):
        self.level, self.size, self.randomness = level, size, randomness


def active_levels():
    """The vmap levels currently running on this thread, outermost first."""
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    return stack


def level_info(level):
    for entry in active_levels():
        if entry.level == level:
            return entry
    raise RuntimeError("vmap: a BatchedTensor escaped the vmap that created it; return it from the "
                       "vmapped function instead of storing it")


def new_level(size, randomness):
    _level_counter[0] += 1
    entry = _Level(_level_counter[0], size, randomness)
    active_levels().append(entry)
    return entry


def pop_level(entry):
    active_levels().remove(entry)
