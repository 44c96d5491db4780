# Storage layer: the bytes behind tensors. Tiny buffers (up to INLINE_BYTES)
# live inside the Storage object itself, so a 16-element float32 tensor costs
# no malloc; larger ones are allocated 64-byte aligned (alloc.h); large ones (LARGE_BYTES and up) come
# from alloc.h and go back to a small cache of freed buffers (below);
# borrowed ones (from_numpy) keep their owner alive through `owner`.

cdef extern from "alloc.h" nogil:
    void* cgrad_alloc_large(size_t nbytes)
    void* cgrad_alloc_aligned(size_t nbytes, int zeroed)

cdef enum:
    LARGE_BYTES = 1 << 20          # from here on, buffers are cached when freed
    LARGE_ROUND = 1 << 16          # large sizes are rounded up to this
    CACHE_SLOTS = 32


# ---------------------------------------------------------------------------
# The cache of freed large buffers: exact size classes, most recent first.
# Allocation and freeing of storage happen with the GIL held, which is the
# cache's lock. Its size is bounded (CGRAD_CACHE_MB, default 256; 0 turns it
# off), so memory it holds is what the last iterations of a loop used.

cdef void* _cache_ptr[CACHE_SLOTS]
cdef size_t _cache_size[CACHE_SLOTS]
cdef int _cache_count = 0
cdef size_t _cache_bytes = 0
cdef size_t _cache_limit = 256 << 20


cdef inline size_t large_class(Py_ssize_t nbytes) noexcept:
    return ((<size_t>nbytes + LARGE_ROUND - 1) // LARGE_ROUND) * LARGE_ROUND


cdef void* cache_take(size_t size) noexcept:
    global _cache_count, _cache_bytes
    cdef int i, j
    cdef void* p
    for i in range(_cache_count - 1, -1, -1):
        if _cache_size[i] == size:
            p = _cache_ptr[i]
            for j in range(i, _cache_count - 1):
                _cache_ptr[j] = _cache_ptr[j + 1]
                _cache_size[j] = _cache_size[j + 1]
            _cache_count -= 1
            _cache_bytes -= size
            return p
    return NULL


cdef void cache_give(void* p, size_t size) noexcept:
    """Keep a freed large buffer, evicting the oldest when over budget."""
    global _cache_count, _cache_bytes
    cdef int j
    if size > _cache_limit:
        free(p)
        return
    while _cache_count > 0 and (_cache_count == CACHE_SLOTS or _cache_bytes + size > _cache_limit):
        free(_cache_ptr[0])
        _cache_bytes -= _cache_size[0]
        for j in range(_cache_count - 1):
            _cache_ptr[j] = _cache_ptr[j + 1]
            _cache_size[j] = _cache_size[j + 1]
        _cache_count -= 1
    _cache_ptr[_cache_count] = p
    _cache_size[_cache_count] = size
    _cache_count += 1
    _cache_bytes += size


def _empty_cache():
    """Release every cached buffer (as torch.cuda.empty_cache does on GPUs)."""
    global _cache_count, _cache_bytes
    cdef int i
    for i in range(_cache_count):
        free(_cache_ptr[i])
    _cache_count = 0
    _cache_bytes = 0


def _set_cache_limit(size_t nbytes):
    global _cache_limit
    _cache_limit = nbytes
    if nbytes == 0:
        _empty_cache()


def _cache_stats():
    return {"buffers": _cache_count, "bytes": _cache_bytes, "limit": _cache_limit}


def _init_cache_limit():
    import os
    mb = os.environ.get("CGRAD_CACHE_MB", "")
    if mb.isdigit():
        _set_cache_limit(int(mb) << 20)


_init_cache_limit()


# Not seen by the cyclic GC: a Storage refers only to its memory's owner (a
# numpy array or another Storage), which never refers back.
@cython.no_gc
@cython.freelist(1024)
cdef class Storage:

    def __dealloc__(self):
        if self.heap:
            if self.nbytes >= LARGE_BYTES and _cache_limit > 0:
                cache_give(self.ptr, large_class(self.nbytes))
            else:
                free(self.ptr)
            self.ptr = NULL
            self.heap = False

    @property
    def nbytes(self):
        return self.nbytes


cdef Storage new_storage(Py_ssize_t nbytes, bint zeroed):
    """A fresh buffer of `nbytes` bytes, zero-filled when `zeroed`."""
    cdef Storage s = Storage.__new__(Storage)
    cdef size_t size
    if nbytes <= INLINE_BYTES:
        s.ptr = <char*>s.small
        if zeroed:
            memset(s.ptr, 0, INLINE_BYTES)
    elif nbytes >= LARGE_BYTES:
        size = large_class(nbytes)
        s.ptr = <char*>cache_take(size)
        if s.ptr == NULL:
            s.ptr = <char*>cgrad_alloc_large(size)
        if s.ptr == NULL:
            raise RuntimeError(
                f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes.")
        if zeroed:
            with nogil:
                memset(s.ptr, 0, nbytes)
        s.heap = True
    else:
        s.ptr = <char*>cgrad_alloc_aligned(nbytes, zeroed)
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
