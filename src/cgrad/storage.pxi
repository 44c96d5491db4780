# Storage layer: the bytes behind tensors. Tiny buffers (up to INLINE_BYTES)
# live inside the Storage object itself, so a 16-element float32 tensor costs
# no malloc; larger ones are malloc'ed; borrowed ones (from_numpy) keep their
# owner alive through `owner`.


# Not seen by the cyclic GC: a Storage refers only to its memory's owner (a
# numpy array or another Storage), which never refers back.
@cython.no_gc
@cython.freelist(1024)
cdef class Storage:

    def __dealloc__(self):
        if self.heap:
            free(self.ptr)
            self.ptr = NULL
            self.heap = False

    @property
    def nbytes(self):
        return self.nbytes


cdef Storage new_storage(Py_ssize_t nbytes, bint zeroed):
    """A fresh buffer of `nbytes` bytes, zero-filled when `zeroed`."""
    cdef Storage s = Storage.__new__(Storage)
    if nbytes <= INLINE_BYTES:
        s.ptr = <char*>s.small
        if zeroed:
            memset(s.ptr, 0, INLINE_BYTES)
    else:
        s.ptr = <char*>(calloc(nbytes, 1) if zeroed else malloc(nbytes))
        if s.ptr == NULL:
            raise RuntimeError(
                f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes.")
        s.heap = True
    s.nbytes = nbytes
    return s


cdef Storage borrowed_storage(char* ptr, Py_ssize_t nbytes, object owner):
    """A Storage over memory that `owner` keeps alive (a numpy array, or
    another Storage when only the version counter must differ)."""
    cdef Storage s = Storage.__new__(Storage)
    s.ptr = ptr
    s.nbytes = nbytes
    s.owner = owner
    return s
