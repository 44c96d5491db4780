# Storage layer: the bytes behind tensors. Tiny buffers (up to INLINE_BYTES)
# live inside the Storage object itself, so a 16-element float32 tensor costs
# no malloc; larger ones are allocated 64-byte aligned (alloc.h); large ones (LARGE_BYTES and up) come
# from alloc.h (mapped from the kernel from 4 MiB on) and go back to a cache of freed buffers
# (below); borrowed ones (from_numpy) keep their owner alive through `owner`.

from cython.parallel cimport prange
from cpython.object cimport destructor

cdef extern from "alloc.h" nogil:
    void* cgrad_alloc_large(size_t nbytes, int* fresh)
    void cgrad_free_large(void* p, size_t nbytes)
    void* cgrad_alloc_aligned(size_t nbytes, int zeroed)

cdef extern from "stream_fill.h" nogil:
    int cg_stream_fill(char* p, size_t nbytes, const char* value, size_t isz)
    int cg_page_resident(const char* p)

cdef enum:
    # from here on, buffers are cached when freed: glibc's malloc serves
    # buffers from 128 KiB up (its mmap threshold) from fresh mappings, or
    # from heap top it hands back to the kernel once more than twice that is
    # free, so such buffers were faulted in afresh each time (the 784-256-10
    # MLP step's 0.8 MB weight gradient: 376 page faults per step, 1.9 ms
    # against 0.8 ms without them, bench/compile.py's mlp)
    LARGE_BYTES = 1 << 17
    LARGE_ROUND = 1 << 16          # large sizes are rounded up to this
    CACHE_SLOTS = 32
    HUGE_SLOTS = 4
    # a zero fill or byte copy is split over threads from here on (each
    # thread writes, and for fresh pages faults in, its own share)
    PARALLEL_BYTES = 1 << 22
    # fills of this many bytes and more stream past the caches (stream_fill.h);
    # smaller ones may be read back from cache soon after
    STREAM_FILL_BYTES = 1 << 25

# the most threads a kernel over a large buffer uses, fills and copies here
# included (set_num_threads, kernels/kernels_iter.pxi)
cdef int _num_threads = 1


# ---------------------------------------------------------------------------
# The cache of freed large buffers: exact size classes, most recent first.
# Allocation and freeing of storage happen with the GIL held, which is the
# cache's lock. Its size is bounded (CGRAD_CACHE_MB, default 256; 0 turns it
# off), so memory it holds is what the last iterations of a loop used.
#
# Buffers bigger than that budget (a 200M-element float32 vector is 800 MB)
# go to a second tier of HUGE_SLOTS buffers. When a large allocation misses
# both tiers, cached buffers (the huge tier's, then the oldest of the other)
# are freed first, as many as it takes to keep memory held (live large
# buffers plus cached ones) within twice the live peak (the most live
# buffers alone ever needed: the peak without any cache), and within the
# live peak plus the cache budget. So the cache raises the peak by a bounded
# amount, and a loop whose allocations vary in size (a training step:
# activations of several sizes, a large embedding gradient that zero_grad
# frees and the next backward asks for again) keeps the buffers it reuses
# instead of handing them back to the kernel and faulting them in afresh
# every iteration. (Freeing down to the live peak itself, or a quarter above it,
# is not enough: a loop whose buffers of distinct sizes are never all live
# at once thrashes, and in the embedding + MLP step the 5 MB gradient, the
# least recently freed buffer when the backward first misses, went back to
# the kernel every step.)
# A miss for a buffer bigger than the whole budget (allocated rarely: the
# huge tier returns it by its exact size) frees down to the live peak itself,
# with no slack: such buffers are what sets a process's peak memory.

cdef void* _huge_ptr[HUGE_SLOTS]
cdef size_t _huge_size[HUGE_SLOTS]
cdef int _huge_count = 0

cdef void* _cache_ptr[CACHE_SLOTS]
cdef size_t _cache_size[CACHE_SLOTS]
cdef int _cache_count = 0
cdef size_t _cache_bytes = 0
cdef size_t _cache_limit = 256 << 20
cdef size_t _huge_bytes = 0
cdef size_t _live_bytes = 0        # large buffers in use (by size class)
cdef size_t _live_peak = 0         # the most _live_bytes has been
cdef size_t _fresh_count = 0       # large buffers that had to come from the system


cdef inline size_t large_class(Py_ssize_t nbytes) noexcept:
    return ((<size_t>nbytes + LARGE_ROUND - 1) // LARGE_ROUND) * LARGE_ROUND


cdef void huge_flush() noexcept:
    global _huge_count, _huge_bytes
    cdef int i
    for i in range(_huge_count):
        cgrad_free_large(_huge_ptr[i], _huge_size[i])
    _huge_count = 0
    _huge_bytes = 0


cdef inline bint over_peak(size_t size) noexcept:
    """Whether allocating `size` more bytes now would hold more than the
    live peak (counting this allocation) plus its slack."""
    cdef size_t peak = _live_peak if _live_peak > _live_bytes + size else _live_bytes + size
    cdef size_t slack = peak
    if slack > _cache_limit:
        slack = _cache_limit
    if size > _cache_limit:
        # a buffer bigger than the whole cache budget sets a new peak of its
        # own: no cached buffer is held beside it beyond the live peak
        slack = 0
    return _live_bytes + _cache_bytes + _huge_bytes + size > peak + slack


cdef void cache_make_room(size_t size) noexcept:
    """Free cached buffers, huge tier first, then oldest first, until an
    allocation of `size` bytes keeps memory held within the live peak and
    its slack, or nothing is cached (see above)."""
    global _huge_count, _huge_bytes, _cache_count, _cache_bytes
    cdef int j
    while _huge_count > 0 and over_peak(size):
        _huge_count -= 1
        _huge_bytes -= _huge_size[_huge_count]
        cgrad_free_large(_huge_ptr[_huge_count], _huge_size[_huge_count])
    while _cache_count > 0 and over_peak(size):
        _cache_bytes -= _cache_size[0]
        cgrad_free_large(_cache_ptr[0], _cache_size[0])
        for j in range(_cache_count - 1):
            _cache_ptr[j] = _cache_ptr[j + 1]
            _cache_size[j] = _cache_size[j + 1]
        _cache_count -= 1


cdef inline void count_live(size_t size) noexcept:
    """A large buffer of `size` bytes goes into use."""
    global _live_bytes, _live_peak
    _live_bytes += size
    if _live_bytes > _live_peak:
        _live_peak = _live_bytes


cdef void* cache_take(size_t size) noexcept:
    """A cached buffer of exactly `size` bytes, or NULL after making room
    for one (the caller then allocates)."""
    global _cache_count, _cache_bytes, _huge_count, _huge_bytes
    cdef int i, j
    cdef void* p
    for i in range(_huge_count - 1, -1, -1):
        if _huge_size[i] == size:
            p = _huge_ptr[i]
            for j in range(i, _huge_count - 1):
                _huge_ptr[j] = _huge_ptr[j + 1]
                _huge_size[j] = _huge_size[j + 1]
            _huge_count -= 1
            _huge_bytes -= size
            return p
    for i in range(_cache_count - 1, -1, -1):
        if _cache_size[i] == size:
            p = _cache_ptr[i]
            for j in range(i, _cache_count - 1):
                _cache_ptr[j] = _cache_ptr[j + 1]
                _cache_size[j] = _cache_size[j + 1]
            _cache_count -= 1
            _cache_bytes -= size
            return p
    cache_make_room(size)
    return NULL


cdef void cache_give(void* p, size_t size) noexcept:
    """Keep a freed large buffer, evicting the oldest when over budget."""
    global _cache_count, _cache_bytes, _huge_count, _huge_bytes
    cdef int j
    if size > _cache_limit:
        if _huge_count == HUGE_SLOTS:
            cgrad_free_large(_huge_ptr[0], _huge_size[0])
            _huge_bytes -= _huge_size[0]
            for j in range(_huge_count - 1):
                _huge_ptr[j] = _huge_ptr[j + 1]
                _huge_size[j] = _huge_size[j + 1]
            _huge_count -= 1
        _huge_ptr[_huge_count] = p
        _huge_size[_huge_count] = size
        _huge_count += 1
        _huge_bytes += size
        return
    while _cache_count > 0 and (_cache_count == CACHE_SLOTS or _cache_bytes + size > _cache_limit):
        cgrad_free_large(_cache_ptr[0], _cache_size[0])
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
        cgrad_free_large(_cache_ptr[i], _cache_size[i])
    _cache_count = 0
    _cache_bytes = 0
    huge_flush()


def _set_cache_limit(size_t nbytes):
    global _cache_limit
    _cache_limit = nbytes
    if nbytes == 0:
        _empty_cache()


def _cache_stats():
    return {"buffers": _cache_count, "bytes": _cache_bytes, "limit": _cache_limit,
            "huge_buffers": _huge_count, "huge_bytes": _huge_bytes,
            "live_bytes": _live_bytes, "live_peak": _live_peak, "system_allocs": _fresh_count}


def _reset_peak():
    """Start the live peak afresh at what is live now (as
    torch.cuda.reset_peak_memory_stats does)."""
    global _live_peak
    _live_peak = _live_bytes


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

    @property
    def nbytes(self):
        return self.nbytes


# Storage's tp_dealloc releases a heap buffer, then hands over to the one
# Cython generated (no __dealloc__: see tensor_dealloc in tensor_core.pxi).
cdef destructor storage_generated_dealloc = (<PyTypeObject*>Storage).tp_dealloc


cdef void storage_dealloc(PyObject* o) noexcept:
    global _live_bytes
    if (<Storage>o).heap:
        if (<Storage>o).nbytes >= LARGE_BYTES:
            _live_bytes -= large_class((<Storage>o).nbytes)
            if _cache_limit > 0:
                cache_give((<Storage>o).ptr, large_class((<Storage>o).nbytes))
            else:
                cgrad_free_large((<Storage>o).ptr, large_class((<Storage>o).nbytes))
        else:
            free((<Storage>o).ptr)
        (<Storage>o).ptr = NULL
        (<Storage>o).heap = False
    storage_generated_dealloc(o)


(<PyTypeObject*>Storage).tp_dealloc = <destructor>storage_dealloc


cdef bint stream_fill(char* p, size_t nbytes, const char* value, int isz) noexcept nogil:
    """p[0:nbytes] = the isz-byte item at value, repeated, by streaming
    stores over threads (each writing, and for fresh pages faulting in, its
    own share) when nbytes is at least STREAM_FILL_BYTES and its pages are
    in memory. False when not done (too small, fresh pages, or stores that
    cannot stream): the caller fills."""
    cdef int nthreads = <int>(nbytes // PARALLEL_BYTES)
    cdef Py_ssize_t t, chunk, start, count
    cdef int done = 1
    if nbytes < STREAM_FILL_BYTES or isz <= 0 or 16 % isz != 0:
        return False
    # fresh pages (a buffer just mapped) fill faster by ordinary stores
    if not cg_page_resident(p) or not cg_page_resident(p + nbytes - 1):
        return False
    if nthreads > _num_threads:
        nthreads = _num_threads
    if nthreads <= 1:
        return cg_stream_fill(p, nbytes, value, isz)
    # chunks of whole 64-byte lines: each starts as far from a line as p does
    chunk = ((<Py_ssize_t>nbytes + nthreads - 1) // nthreads + 63) & ~(<Py_ssize_t>63)
    for t in prange(nthreads, num_threads=nthreads, schedule="static"):
        start = t * chunk
        count = min(chunk, <Py_ssize_t>nbytes - start)
        if count > 0:
            done &= cg_stream_fill(p + start, count, value, isz)
    return done


cdef void zero_bytes(char* p, size_t nbytes) noexcept nogil:
    """memset(p, 0, nbytes), split over threads for large buffers."""
    cdef int nthreads = <int>(nbytes // PARALLEL_BYTES)
    cdef Py_ssize_t t, chunk, start, count
    cdef char zero = 0
    if stream_fill(p, nbytes, &zero, 1):
        return
    if nthreads > _num_threads:
        nthreads = _num_threads
    if nthreads <= 1:
        memset(p, 0, nbytes)
        return
    # chunks of whole 64-byte lines, in the order run_parallel splits flat work
    chunk = ((<Py_ssize_t>nbytes + nthreads - 1) // nthreads + 63) & ~(<Py_ssize_t>63)
    for t in prange(nthreads, num_threads=nthreads, schedule="static"):
        start = t * chunk
        count = min(chunk, <Py_ssize_t>nbytes - start)
        if count > 0:
            memset(p + start, 0, count)


cdef void copy_bytes(char* dst, const char* src, size_t nbytes) noexcept nogil:
    """memcpy(dst, src, nbytes), split over threads for large buffers (each
    thread first-touches its own share of a fresh dst)."""
    cdef int nthreads = <int>(nbytes // PARALLEL_BYTES)
    cdef Py_ssize_t t, chunk, start, count
    if nthreads > _num_threads:
        nthreads = _num_threads
    if nthreads <= 1:
        memcpy(dst, src, nbytes)
        return
    chunk = ((<Py_ssize_t>nbytes + nthreads - 1) // nthreads + 63) & ~(<Py_ssize_t>63)
    for t in prange(nthreads, num_threads=nthreads, schedule="static"):
        start = t * chunk
        count = min(chunk, <Py_ssize_t>nbytes - start)
        if count > 0:
            memcpy(dst + start, src + start, count)


cdef Storage new_storage(Py_ssize_t nbytes, bint zeroed):
    """A fresh buffer of `nbytes` bytes, zero-filled when `zeroed`."""
    global _fresh_count
    cdef Storage s = Storage.__new__(Storage)
    cdef size_t size
    cdef int fresh = 0
    if nbytes <= INLINE_BYTES:
        s.ptr = <char*>s.small
        if zeroed:
            memset(s.ptr, 0, INLINE_BYTES)
    elif nbytes >= LARGE_BYTES:
        size = large_class(nbytes)
        s.ptr = <char*>cache_take(size)
        if s.ptr == NULL:
            s.ptr = <char*>cgrad_alloc_large(size, &fresh)
            _fresh_count += 1
        if s.ptr == NULL:
            raise RuntimeError(
                f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes.")
        count_live(size)
        if zeroed and not fresh:
            with nogil:
                zero_bytes(s.ptr, nbytes)
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
