"""How tensors and storages cross process boundaries (PyTorch's
torch/multiprocessing/reductions.py, for CPU memory).

A tensor is pickled as its storage plus its geometry, dtype and
requires_grad; the storage is first moved into shared memory
(Tensor.share_memory_'s move, in place: the sender's tensors use the shared
memory from then on) and is pickled as a handle to it: a descriptor of the
file (multiprocessing's DupFd: passed to a process being started, or
fetched from the sender's resource sharer by a queue's receiver) or the
file's name. The receiver maps the file and builds the tensor over it, so
both processes see each other's writes. A process keeps one mapping per
shared file it was sent (shared_cache, weakly), so tensors sent over one
storage share its memory again on arrival (one mapping; each tensor sent
gets a Storage of its own over it, as each storage sent does). .grad and autograd history are not sent
(a non-leaf that requires grad is refused, as torch refuses it).
"""
import os
import threading
import weakref
from multiprocessing import reduction
from multiprocessing.util import register_after_fork

from cgrad import _C, _storage_api

__all__ = ["reduce_tensor", "rebuild_tensor", "reduce_storage", "rebuild_storage_fd", "rebuild_storage_filename",
           "rebuild_storage_empty", "reduce_typed_storage", "rebuild_typed_storage", "init_reductions",
           "shared_cache", "SharedCache"]


class SharedCache(dict):
    """What a process has mapped: a key naming a shared file -> a weak
    reference to its mapping (_C._SharedMapping)."""

    def __init__(self):
        super().__init__()
        self.limit = 128
        self._after_fork()
        register_after_fork(self, SharedCache._after_fork)

    def _after_fork(self):
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            ref = dict.get(self, key)
            return None if ref is None else ref()

    def __setitem__(self, key, mapping):
        with self.lock:
            dict.__setitem__(self, key, weakref.ref(mapping))
            if len(self) > self.limit:
                self.free_dead_references()

    def free_dead_references(self):
        for key, ref in list(self.items()):
            if ref() is None:
                del self[key]
        self.limit = max(128, 2 * len(self))


shared_cache = SharedCache()


def fd_id(fd):
    """What names the file open as fd in every process (as torch's fd_id)."""
    stat = os.fstat(fd)
    return (stat.st_ino, stat.st_dev)


def _untyped_over(flat):
    return _storage_api.UntypedStorage._of(flat)


def rebuild_storage_empty(cls):
    return cls()


def rebuild_storage_fd(cls, df, size, offset, nbytes):
    fd = df.detach()
    try:
        key = fd_id(fd)
        mapping = shared_cache.get(key)
        if mapping is None:
            mapping = _C._map_shared_fd(fd, size)
            shared_cache[key] = mapping
        return _untyped_over(_C._shared_bytes_tensor(mapping, offset, nbytes))
    finally:
        os.close(fd)


def rebuild_storage_filename(cls, filename, size, offset, nbytes):
    mapping = shared_cache.get(filename)
    if mapping is None:
        mapping = _C._map_shared_file(filename, size)
        shared_cache[filename] = mapping
        _storage_api._hold_named_mapping(mapping)
    mapping.release_message()         # the sender's hold for this message ends here
    return _untyped_over(_C._shared_bytes_tensor(mapping, offset, nbytes))


def reduce_storage(storage):
    """An UntypedStorage as a handle to its shared memory (moved there first)."""
    if storage.nbytes() == 0:
        return (rebuild_storage_empty, (type(storage),))
    storage.share_memory_()
    mapping, offset, nbytes = _C._storage_mapping(storage._flat)
    if mapping.fileno() >= 0:
        fd = mapping.fileno()
        shared_cache[fd_id(fd)] = mapping
        return (rebuild_storage_fd, (type(storage), reduction.DupFd(fd), mapping.size, offset, nbytes))
    mapping.hold_for_message()
    shared_cache[mapping.filename] = mapping
    return (rebuild_storage_filename, (type(storage), mapping.filename, mapping.size, offset, nbytes))


def rebuild_typed_storage(untyped, dtype):
    return untyped._typed(dtype)


def reduce_typed_storage(storage):
    return (rebuild_typed_storage, (storage.untyped(), storage.dtype))


def rebuild_tensor(cls, storage, dtype, metadata):
    storage_offset, size, stride, requires_grad = metadata
    flat = storage._flat
    itemsize = _C.empty(0, dtype=dtype).element_size()
    typed = flat[:flat.numel() // itemsize * itemsize].view(dtype)
    t = _C._tensor_on_storage(typed, storage_offset, size, stride)
    from cgrad.nn.parameter import Parameter
    if cls is Parameter:
        # given to the constructor: an integer Parameter must not require grad
        return Parameter(t, requires_grad=requires_grad)
    t.requires_grad = requires_grad
    return t


def _warn_if_has_hooks(tensor):
    import warnings
    hooks = getattr(tensor, "_backward_hooks", None)
    for hook in (hooks or {}).values():
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, you can "
                          "decorate the function with @torch.utils.hooks.unserializable_hook to suppress this "
                          "warning", stacklevel=2)


def reduce_tensor(tensor):
    """A tensor as (its class, its storage in shared memory, dtype, geometry, requires_grad)."""
    if tensor.requires_grad and not tensor.is_leaf:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
                           "not support crossing process boundaries.  If you just want to transfer the data, call "
                           "detach() on the tensor before serializing (e.g., putting it on the queue).")
    _warn_if_has_hooks(tensor)
    metadata = (tensor.storage_offset(), tuple(tensor.size()), tensor.stride(), tensor.requires_grad)
    return (rebuild_tensor, (type(tensor), _storage_api.UntypedStorage._of(tensor), tensor.dtype, metadata))


def init_reductions():
    """Registers the reductions with multiprocessing's ForkingPickler."""
    from cgrad.nn.parameter import Parameter
    reduction.register(_storage_api.UntypedStorage, reduce_storage)
    reduction.register(_storage_api.TypedStorage, reduce_typed_storage)
    reduction.register(_C.Tensor, reduce_tensor)
    reduction.register(Parameter, reduce_tensor)

