"""PyTorch's storage objects: Tensor.untyped_storage() (torch.UntypedStorage,
the bytes under a tensor) and the deprecated Tensor.storage()
(torch.TypedStorage, the same bytes seen as elements of the tensor's dtype).

A storage object here is a window on the tensor's Storage (its buffer and
version counter, which every view of it shares): it holds a flat tensor
over the whole buffer, uint8 for the untyped one, so a write is seen by
every tensor over the buffer (and, as in PyTorch, leaves their version
counter alone: storage writes are not tensor ops), and data_ptr() is the
buffer's start, as PyTorch's is (a view's data_ptr() is
its storage's plus its offset). Two tensors share memory exactly when their
storages' data_ptr() are equal.

share_memory_() moves the buffer into shared memory in place
(src/cgrad/core/shared_storage.pxi: a file other processes map; how it is
named, a descriptor or a path in /dev/shm, is cgrad.multiprocessing's sharing
strategy), for Tensor.share_memory_ as for the storage objects, which
remember the tensor they were taken from so that it follows the move.
"""
import atexit
import itertools
import os
import warnings
import weakref

from cgrad import _C

__all__ = ["UntypedStorage", "TypedStorage", "TENSOR_METHODS"]


def _whole_buffer(tensor):
    """A flat tensor of tensor's dtype over all of its Storage."""
    return _C._tensor_on_storage(tensor.detach(), 0, (_C._storage_extent(tensor),), (1,))


_shm_names = itertools.count()
# Named shared files (file_system strategy): at exit a process ends its holds
# on the files it mapped (mappings of objects never freed would keep them)
# and unlinks the files it made (a message never received would keep one);
# processes that mapped one keep their memory.
_named_mappings = weakref.WeakSet()
_made_files = {}                    # path -> the pid that made it (a forked child inherits these)
_release_registered = False


class _ReleaseKey:
    """What multiprocessing's after-fork registry keys the release by."""


_release_key = _ReleaseKey()


def _register_release(_key=None):
    # a multiprocessing child ends in os._exit, after its finalizers but
    # without atexit; it clears the finalizers it inherits or made while
    # unpickling its Process, then runs the after-fork hooks: this one
    from multiprocessing import util
    util.Finalize(None, _release_named_files, exitpriority=0)


def _hold_named_mapping(mapping):
    global _release_registered
    if not _release_registered:
        from multiprocessing import util
        atexit.register(_release_named_files)
        _register_release()
        util.register_after_fork(_release_key, _register_release)
        _release_registered = True
    _named_mappings.add(mapping)


def _made_named_file(path):
    if len(_made_files) >= 1024:
        for old in [p for p in _made_files if not os.path.exists(p)]:
            del _made_files[old]
    _made_files[path] = os.getpid()


def _release_named_files():
    for mapping in list(_named_mappings):
        mapping.release_file()
    for path, pid in list(_made_files.items()):
        if pid == os.getpid():
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass            # its last holder was done with it


def _share_memory(tensors, copy=True):
    """Moves the Storage under tensors[0] (shared by the others) into shared
    memory, unless it is there already; without `copy` (a tensor just made)
    its values become zeros instead of being copied."""
    if _C._storage_is_shared(tensors[0]):
        return
    from cgrad.multiprocessing import get_sharing_strategy
    if get_sharing_strategy() == "file_system":
        path = f"/dev/shm/cgrad_{os.getpid()}_{os.urandom(4).hex()}_{next(_shm_names)}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            left_behind = _C._storage_share_memory(tuple(tensors), fd, path.encode(), copy)
        except BaseException:
            if os.path.exists(path):
                os.unlink(path)
            raise
        finally:
            os.close(fd)
        _hold_named_mapping(_C._storage_mapping(tensors[0])[0])
        _made_named_file(path)
    else:
        fd = os.memfd_create("cgrad_shared", os.MFD_CLOEXEC)
        try:
            left_behind = _C._storage_share_memory(tuple(tensors), fd, None, copy)
        finally:
            os.close(fd)
    if left_behind:
        warnings.warn(f"share_memory_(): {left_behind} other reference(s) to this storage, made before it moved "
                      "to shared memory (views, numpy arrays, .data aliases), still read its old private copy; "
                      "make them after share_memory_() to share them", UserWarning, stacklevel=3)


def _zeros_in_shared_memory(shape, dtype):
    """A new tensor of zeros in shared memory, written there from the start
    (a DataLoader worker's batch: no copy on the way to the main process)."""
    t = _C.empty(shape, dtype=dtype)
    _share_memory((t,), copy=False)
    return t


def _tensor_share_memory_(self):
    """Tensor.share_memory_(): its storage moved into shared memory (no-op
    when it is there already); returns self."""
    _share_memory((self,))
    return self


def _tensor_is_shared(self):
    return _C._storage_is_shared(self)


class _StorageBase:
    # _source: the tensor this storage object was taken from, if any (see the top)
    __slots__ = ("_flat", "_source")

    def size(self):
        return self._flat.numel()

    def __len__(self):
        return self._flat.numel()

    def nbytes(self):
        return self._flat.nbytes

    def element_size(self):
        return self._flat.element_size()

    def data_ptr(self):
        return self._flat.data_ptr()

    @property
    def device(self):
        return _C.device("cpu")

    @property
    def is_cuda(self):
        return False

    @property
    def is_sparse(self):
        return False

    def is_shared(self):
        return _C._storage_is_shared(self._flat)

    def share_memory_(self):
        """Moves the buffer into shared memory, in place (every tensor over
        it follows); a no-op when it is there already. Returns self."""
        _share_memory((self._flat,) if self._source is None else (self._flat, self._source))
        return self

    def _share_fd_cpu_(self):
        """(descriptor, size in bytes) of the shared file under this storage
        (moved there first, by descriptor)."""
        self.share_memory_()
        mapping = _C._storage_mapping(self._flat)[0]
        if mapping.fileno() < 0:
            raise RuntimeError("storage is shared by file name (file_system strategy), not by descriptor")
        return mapping.fileno(), self.nbytes()

    def _share_filename_cpu_(self):
        """(None, file name, size in bytes) of the shared file under this
        storage (moved there first, by name)."""
        if not self.is_shared():
            from cgrad.multiprocessing import get_sharing_strategy, set_sharing_strategy
            previous = get_sharing_strategy()
            set_sharing_strategy("file_system")
            try:
                self.share_memory_()
            finally:
                set_sharing_strategy(previous)
        mapping = _C._storage_mapping(self._flat)[0]
        if mapping.filename is None:
            raise RuntimeError("storage is shared by descriptor (file_descriptor strategy), not by file name")
        return None, mapping.filename, self.nbytes()

    def is_pinned(self, device="cuda"):
        return False

    def get_device(self):
        return -1

    def tolist(self):
        return self._flat.tolist()

    def __iter__(self):
        return iter(self.tolist())

    def _index(self, idx):
        if isinstance(idx, bool) or not hasattr(idx, "__index__"):
            raise TypeError(f"can't index a {type(self).__module__}.{type(self).__name__} with "
                            f"{type(idx).__name__}")
        i = idx.__index__()
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for storage of size {n}")
        return i + n if i < 0 else i

    def __getitem__(self, idx):
        return self._flat[self._index(idx)].item()

    # Writes go through a numpy view of the buffer: PyTorch's storage writes
    # bypass the tensors' version counter, and so do these.
    def __setitem__(self, idx, value):
        self._flat.numpy()[self._index(idx)] = value

    def fill_(self, value):
        self._flat.numpy()[...] = value
        return self

    def copy_(self, source, non_blocking=None):
        if not isinstance(source, _StorageBase):
            raise TypeError(f"copy_(): argument 'source' must be a storage, not {type(source).__name__}")
        if source.nbytes() != self.nbytes():
            raise RuntimeError(f"size does not match, self was {self.nbytes()} bytes but src was "
                               f"{source.nbytes()} bytes")
        self._flat.view(_C.uint8).numpy()[...] = source._flat.view(_C.uint8).numpy()
        return self

    def cpu(self):
        return self


class UntypedStorage(_StorageBase):
    """torch.UntypedStorage: `UntypedStorage(n)` makes n fresh bytes (zeros),
    `UntypedStorage(sequence)` bytes with those values; tensor.untyped_storage()
    is the buffer under a tensor."""
    __slots__ = ()

    def __init__(self, data=0, *, device=None):
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"cgrad has no device '{device}': storages live on the CPU")
        if hasattr(data, "__index__") and not isinstance(data, bool):
            self._flat = _C.zeros(data.__index__(), dtype=_C.uint8)
        else:
            self._flat = _C.tensor(list(data), dtype=_C.uint8)
        self._source = None

    @classmethod
    def _of(cls, tensor):
        self = cls.__new__(cls)
        flat = _whole_buffer(tensor)
        self._flat = flat if flat.dtype == _C.uint8 else flat.view(_C.uint8)
        self._source = tensor
        return self

    @classmethod
    def _new_shared(cls, size, *, device=None):
        """`size` bytes of zeros in shared memory (torch's UntypedStorage._new_shared)."""
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"cgrad has no device '{device}': storages live on the CPU")
        return cls._of(_zeros_in_shared_memory((size.__index__(),), _C.uint8))

    def _typed(self, dtype):
        """The TypedStorage of dtype over these bytes."""
        itemsize = _C.empty(0, dtype=dtype).element_size()
        return TypedStorage._of(self._flat[:len(self) // itemsize * itemsize].view(dtype))

    @property
    def dtype(self):
        return _C.uint8

    def clone(self):
        copy = UntypedStorage.__new__(UntypedStorage)
        copy._flat = self._flat.clone()
        copy._source = None
        return copy

    def untyped(self):
        return self

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[cgrad.storage.UntypedStorage(device=cpu) of size {len(self)}]"


class TypedStorage(_StorageBase):
    """torch.TypedStorage (deprecated by PyTorch, still what tensor.storage()
    returns): the buffer as elements of the tensor's dtype."""
    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise RuntimeError("cgrad makes a TypedStorage only from a tensor: tensor.storage()")

    @classmethod
    def _of(cls, tensor):
        self = cls.__new__(cls)
        self._flat = _whole_buffer(tensor)
        self._source = tensor
        return self

    @property
    def dtype(self):
        return self._flat.dtype

    def untyped(self):
        untyped = UntypedStorage._of(self._flat)
        untyped._source = self._source
        return untyped

    @property
    def _untyped_storage(self):
        return self.untyped()

    def clone(self):
        copy = TypedStorage.__new__(TypedStorage)
        copy._flat = self._flat.clone()
        copy._source = None
        return copy

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[cgrad.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size {len(self)}]"


_warned_typed = False


def _storage(self):
    global _warned_typed
    if not _warned_typed:
        _warned_typed = True
        warnings.warn("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the "
                      "only storage class. This should only matter to you if you are using storages directly.  To "
                      "access UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()",
                      UserWarning, stacklevel=2)
    return TypedStorage._of(self)


def _untyped_storage(self):
    return UntypedStorage._of(self)


TENSOR_METHODS = {"untyped_storage": _untyped_storage, "storage": _storage,
                  "share_memory_": _tensor_share_memory_, "is_shared": _tensor_is_shared}

_C._install_missing_tensor_methods(TENSOR_METHODS)
