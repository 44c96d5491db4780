"""cgrad.multiprocessing: PyTorch's torch.multiprocessing, Python's
multiprocessing with tensors sent through shared memory.

Everything multiprocessing exports is re-exported (Process, Queue, Pool,
get_context, ...), as torch does with `from multiprocessing import *`;
importing this package registers the reductions of cgrad/multiprocessing/
reductions.py with multiprocessing's ForkingPickler, which every queue,
pipe, pool and spawned Process of any start method pickles with: a tensor
sent there moves to shared memory (if it is not there yet) and arrives as a
tensor over the same memory. How shared memory is named between processes
is the sharing strategy: "file_descriptor" (the default on Linux, an
anonymous file passed as a descriptor) or "file_system" (a named file in
/dev/shm). spawn / start_processes and their ProcessContext are spawn.py's.
"""
import multiprocessing
import sys
from multiprocessing import *  # noqa: F401,F403  (re-exported, as torch.multiprocessing does)

from cgrad.multiprocessing.reductions import init_reductions
from cgrad.multiprocessing.spawn import (ENV_VAR_PARALLEL_START, ProcessContext, ProcessExitedException,
                                         ProcessRaisedException, SpawnContext, spawn, start_processes)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]
__all__ += multiprocessing.__all__

if sys.platform == "darwin" or sys.platform == "win32":
    _sharing_strategy = "file_system"
    _all_sharing_strategies = {"file_system"}
else:
    _sharing_strategy = "file_descriptor"
    _all_sharing_strategies = {"file_descriptor", "file_system"}


def set_sharing_strategy(new_strategy):
    """Sets how CPU tensors are shared from now on: one of
    get_all_sharing_strategies()."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of {_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy():
    """The current strategy for sharing CPU tensors."""
    return _sharing_strategy


def get_all_sharing_strategies():
    """The sharing strategies this system supports."""
    return _all_sharing_strategies


init_reductions()
