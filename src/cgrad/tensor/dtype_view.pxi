# Tensor.view(dtype): the same bytes read as another dtype.
#
# PyTorch's result shares the storage (writes show through both ways, and
# the version counter is the storage's) but is no autograd view: it never
# requires grad and has no _base, whatever the dtypes. With a different
# element size the last dim, which must be contiguous, is rescaled, and
# every other stride and the offset must convert exactly.


cdef int check_last_stride(Tensor x, str what) except -1:
    if x._strides[x._ndim - 1] != 1:
        raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {x._strides[x._ndim - 1]}")
    return 0


cdef Tensor op_view_dtype(Tensor x, int dt):
    cdef Py_ssize_t old_size = ITEMSIZE[x._dtype]
    cdef Py_ssize_t new_size = ITEMSIZE[dt]
    cdef Py_ssize_t ratio
    cdef int last = x._ndim - 1
    cdef int i
    cdef Tensor t = alias_detached(x)
    cdef str what = f"to view {dtype_title(x._dtype)} as {dtype_title(dt)} (different element sizes)"
    if old_size != new_size:
        if x._ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if old_size > new_size:
            ratio = old_size // new_size
            check_last_stride(x, what)
            t._shape[last] = x._shape[last] * ratio
            for i in range(last):
                t._strides[i] = x._strides[i] * ratio
            t._offset = x._offset * ratio
        else:
            ratio = new_size // old_size
            if x._shape[last] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got {x._shape[last]}")
            check_last_stride(x, what)
            if x._offset % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, "
                                   f"but got {x._offset}")
            for i in range(last):
                if x._strides[i] % ratio:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {what}, "
                                       f"but got {x._strides[i]}")
            t._shape[last] = x._shape[last] // ratio
            for i in range(last):
                t._strides[i] = x._strides[i] // ratio
            t._offset = x._offset // ratio
        t._numel = checked_numel(t._ndim, t._shape)
        t._contiguous = strides_are_contiguous(t._ndim, t._shape, t._strides)
    t._dtype = dt
    t._data = x._storage.ptr + t._offset * new_size
    return t
