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
"""
import warnings

from cgrad import _C

__all__ = ["UntypedStorage", "TypedStorage", "TENSOR_METHODS"]


def _whole_buffer(tensor):
    """A flat tensor of tensor's dtype over all of its Storage."""
    return _C._tensor_on_storage(tensor.detach(), 0, (_C._storage_extent(tensor),), (1,))


class _StorageBase:
    __slots__ = ("_flat",)

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
        return False        # cgrad's buffers are the process's own

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

    @classmethod
    def _of(cls, tensor):
        self = cls.__new__(cls)
        flat = _whole_buffer(tensor)
        self._flat = flat if flat.dtype == _C.uint8 else flat.view(_C.uint8)
        return self

    @property
    def dtype(self):
        return _C.uint8

    def clone(self):
        copy = UntypedStorage.__new__(UntypedStorage)
        copy._flat = self._flat.clone()
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
        return self

    @property
    def dtype(self):
        return self._flat.dtype

    def untyped(self):
        return UntypedStorage._of(self._flat)

    @property
    def _untyped_storage(self):
        return self.untyped()

    def clone(self):
        copy = TypedStorage.__new__(TypedStorage)
        copy._flat = self._flat.clone()
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


TENSOR_METHODS = {"untyped_storage": _untyped_storage, "storage": _storage}

_C._install_missing_tensor_methods(TENSOR_METHODS)
