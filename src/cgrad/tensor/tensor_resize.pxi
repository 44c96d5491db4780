# Tensor.resize_ and resize_as_: a new shape (contiguous strides) over the
# tensor's storage, which grows when too small. PyTorch grows the storage in
# place; cgrad gives the tensor a larger storage holding the old bytes (the
# prefix PyTorch keeps), so views made before the resize keep the old
# storage. The new elements are uninitialised, as in PyTorch.


def _tensor_resize_(Tensor self, *size, memory_format=None):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int ndim, i
    cdef Storage old_storage = self._storage
    cdef Py_ssize_t old_start = self._offset * ITEMSIZE[self._dtype]
    cdef Py_ssize_t kept
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not is_int_arg(s):
            raise TypeError(f"resize_(): argument 'size' (position 1) must be tuple of ints, not "
                            f"{py_typename(s)}")
    ndim = len(size)
    if ndim > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if memory_format is channels_last and ndim != 4:
        raise RuntimeError("required rank 4 tensor to use channels_last format")
    for i in range(ndim):
        if size[i] < 0:
            raise RuntimeError("numel: integer multiplication overflow")
        shape[i] = size[i]
    if shape_equals(self, ndim, shape):
        return self                     # same shape: PyTorch keeps the strides
    check_inplace(self)
    resize_out(self, ndim, shape)
    if self._storage is not old_storage:
        kept = min(old_storage.nbytes - old_start, self._storage.nbytes)
        if kept > 0:
            memcpy(self._storage.ptr, old_storage.ptr + old_start, kept)
    if memory_format is channels_last:
        return restride_channels_last(self)
    return self


cdef Tensor restride_channels_last(Tensor t):
    """t's (N, C, H, W) elements laid out channels-last (C fastest)."""
    cdef Py_ssize_t c = t._shape[1], h = t._shape[2], w = t._shape[3]
    t._strides[1] = 1
    t._strides[3] = c
    t._strides[2] = c * w
    t._strides[0] = c * w * h
    t._contiguous = strides_are_contiguous(4, t._shape, t._strides)
    return t


def _tensor_resize_as_(Tensor self, Tensor the_template, *, memory_format=None):
    return _tensor_resize_(self, tuple(the_template.shape), memory_format=memory_format)


install_tensor_methods({"resize_": _tensor_resize_, "resize_as_": _tensor_resize_as_})
