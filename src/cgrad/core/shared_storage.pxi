# Shared memory under storages (Tensor.share_memory_, cgrad.multiprocessing):
# a buffer that several processes map (MAP_SHARED) from one file, either an
# anonymous memfd sent to other processes as a file descriptor (PyTorch's
# file_descriptor strategy) or a named file in /dev/shm (file_system) with a
# counter in its last page of the processes and in-flight messages holding
# it: whoever drops it to zero unlinks the file, so no file outlives its users
# (at its exit a process's holds end, and the files it made are unlinked:
# a message never received would otherwise keep its file; processes that
# mapped one keep their memory, cgrad/_storage_api.py).
#
# Moving a storage into shared memory must reach every tensor over it, but a
# tensor caches its data pointer (Tensor._data) and no list of the tensors
# over a Storage exists (they are not even tracked by the GC). So:
#  * a buffer that is a mapping of its own (alloc.h: 4 MiB and more, page
#    aligned, its size class whole pages) is replaced where it is: the values
#    are copied into the file, which is then mapped over the same addresses
#    (MAP_FIXED). No pointer changes: every tensor, view and numpy array
#    over it sees the shared memory at once;
#  * a smaller buffer (malloc'ed among other allocations, or inside the
#    Storage object) cannot be remapped: the Storage moves to a new mapping
#    and _data is updated in the tensors the caller names (the tensor, its
#    base, a storage object's tensors). When the Storage's reference count
#    shows no other referrer, those are all the tensors over it and the old
#    buffer is freed; otherwise something still points into the old buffer
#    (another view made earlier, a numpy array, an alias from .data) and it is
#    kept alive beside the Storage, so that nothing ever reads freed memory.

cdef extern from *:
    """
    #include <sys/mman.h>
    #include <sys/stat.h>
    #include <fcntl.h>
    #include <unistd.h>
    #include <errno.h>
    static char *cg_map_shared(int fd, size_t length, size_t offset, char *at) {
        void *p = mmap(at, length, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED : 0), fd, (off_t)offset);
        return p == MAP_FAILED ? NULL : (char *)p;
    }
    static long cg_counter_add(long *c, long d) { return __atomic_add_fetch(c, d, __ATOMIC_ACQ_REL); }
    static Py_ssize_t cg_page_bytes(void) { return (Py_ssize_t)sysconf(_SC_PAGESIZE); }
    """
    char* cg_map_shared(int fd, size_t length, size_t offset, char* at) nogil
    long cg_counter_add(long* c, long d) nogil
    Py_ssize_t cg_page_bytes() nogil
    int munmap(void* p, size_t length) nogil
    int ftruncate(int fd, long long length) nogil
    int close(int fd) nogil
    int dup(int fd) nogil
    long getpid() nogil
    int unlink(const char* path) nogil
    int open(const char* path, int flags, ...) nogil
    int O_RDWR
    int O_CLOEXEC
    size_t CGRAD_MAP_BYTES


from libc.errno cimport errno


cdef int raise_os_error(str what) except -1:
    import os
    cdef int code = errno
    raise OSError(code, f"{what}: {os.strerror(code)}")


cdef class _SharedMapping:
    """`length` bytes of a shared file mapped at `ptr`; unmapped (and, for a
    named file whose counter this drops to zero, unlinked) when the last
    storage over it goes."""
    cdef char* ptr
    cdef Py_ssize_t length
    cdef int fd                  # an open descriptor of the file (file_descriptor), else -1
    cdef bytes path              # the file's path (file_system), else None
    cdef long* counter           # file_system: the file's holders, in its last page; else NULL
    cdef long pid                # the process that counted itself in `counter` (a forked child did not)
    cdef object __weakref__      # cgrad.multiprocessing's cache of what this process has mapped

    def __cinit__(self):
        self.fd = -1

    def __dealloc__(self):
        self.release_file()
        if self.ptr != NULL:
            munmap(self.ptr, self.length)
        if self.fd >= 0:
            close(self.fd)

    def release_file(self):
        """This process's hold on a named file ends (the memory stays
        mapped): at exit, or when the last storage over it goes."""
        if self.counter != NULL:
            if self.pid == getpid() and cg_counter_add(self.counter, -1) == 0:
                unlink(self.path)
            munmap(self.counter, cg_page_bytes())
            self.counter = NULL

    def fileno(self):
        """The file's descriptor, open as long as this mapping (-1 for a named file)."""
        return self.fd

    @property
    def filename(self):
        return None if self.path is None else self.path.decode()

    @property
    def size(self):
        return self.length

    def hold_for_message(self):
        """A message naming this file is being sent: the file stays until
        its receiver maps it (and calls release_message)."""
        if self.counter != NULL:
            cg_counter_add(self.counter, 1)

    def release_message(self):
        if self.counter != NULL and cg_counter_add(self.counter, -1) == 0:
            unlink(self.path)

    @property
    def holders(self):
        """The file's holders now (processes and messages in flight), or 0."""
        return 0 if self.counter == NULL else cg_counter_add(self.counter, 0)


cdef inline bint buffer_is_own_mapping(Storage s) noexcept:
    """Whether s's buffer is a mapping of its own (cgrad_alloc_large)."""
    return s.heap and s.nbytes >= LARGE_BYTES and large_class(s.nbytes) >= CGRAD_MAP_BYTES


cdef _SharedMapping storage_mapping(Storage s):
    """The shared mapping s's bytes live in, or None (s may borrow them from
    another Storage: .data's alias)."""
    cdef object o
    cdef _SharedMapping m
    while True:
        o = s.owner
        if type(o) is tuple and len(<tuple>o) == 2 and type((<tuple>o)[0]) is _SharedMapping:
            o = (<tuple>o)[0]
        if type(o) is _SharedMapping:
            m = <_SharedMapping>o
            # an alias made before its Storage moved still points at the old buffer
            if m.ptr <= s.ptr and s.ptr + s.nbytes <= m.ptr + m.length:
                return m
            return None
        if type(o) is not Storage:
            return None
        s = <Storage>o


cdef _SharedMapping map_file_descriptor(int fd, Py_ssize_t length):
    cdef _SharedMapping m = _SharedMapping.__new__(_SharedMapping)
    m.fd = dup(fd)
    if m.fd < 0:
        raise_os_error("dup")
    m.ptr = cg_map_shared(fd, length, 0, NULL)
    if m.ptr == NULL:
        raise_os_error("mmap")
    m.length = length
    return m


def _storage_share_memory(tuple tensors, int fd, bytes path, bint copy=True):
    """Moves the Storage under tensors[0] into the shared file open as fd
    (new and empty: sized here) and points every tensor of `tensors` over
    that Storage, and each one's base, at it (see the top of this file).
    Without `copy` its values are not kept: it reads as zeros (a new file's).
    Returns how many other objects still point at the old buffer (kept
    alive for them): 0 when none, or when the buffer moved in place."""
    cdef Tensor t0 = <Tensor?>tensors[0]
    cdef Storage s = t0._storage
    cdef Storage old
    cdef _SharedMapping m = _SharedMapping.__new__(_SharedMapping)
    cdef Py_ssize_t page = cg_page_bytes()
    cdef bint in_place = buffer_is_own_mapping(s)
    cdef Py_ssize_t length = large_class(s.nbytes) if in_place else (max(s.nbytes, 1) + page - 1) // page * page
    cdef char* q
    cdef list known = []
    cdef Tensor t
    global _live_bytes
    if ftruncate(fd, length + (page if path is not None else 0)) != 0:
        raise_os_error("ftruncate")
    q = cg_map_shared(fd, length, 0, NULL)
    if q == NULL:
        raise_os_error("mmap")
    m.ptr = q
    m.length = length
    if path is not None:
        m.counter = <long*>cg_map_shared(fd, page, length, NULL)
        if m.counter == NULL:
            raise_os_error("mmap")
        m.counter[0] = 1
        m.pid = getpid()
        m.path = path
    else:
        m.fd = dup(fd)
        if m.fd < 0:
            raise_os_error("dup")
    cdef char* ptr_before = s.ptr
    cdef object owner_before = s.owner
    if copy:
        with nogil:
            copy_bytes(q, s.ptr, s.nbytes)
    if s.ptr != ptr_before or s.owner is not owner_before:
        return 0            # another thread moved it meanwhile: that move stands, this mapping goes
    if in_place:
        if cg_map_shared(fd, length, 0, s.ptr) == NULL:
            raise_os_error("mmap")
        munmap(q, length)
        m.ptr = s.ptr
        _live_bytes -= length          # no longer the allocator's: never cached, unmapped by m
        s.heap = False
        s.owner = m
        return 0
    for x in tensors:
        for t in ((<Tensor?>x), (<Tensor>x)._base):
            if t is not None and t._storage is s and not any(k is t for k in known):
                known.append(t)
    old = Storage.__new__(Storage)
    old.ptr = s.ptr
    old.nbytes = s.nbytes
    old.heap = s.heap
    old.owner = s.owner
    # referrers of s: the tensors known, `s` here, and the others
    cdef Py_ssize_t others = Py_REFCNT(s) - len(known) - 1
    s.owner = m if others == 0 else (m, old)
    s.ptr = q
    s.heap = False
    for t in known:
        t._data = q + t._offset * ITEMSIZE[t._dtype]
    return others


def _storage_is_shared(Tensor t):
    """Whether t's memory is shared (a tensor made before its Storage moved
    out of place still reads the old buffer: not shared)."""
    cdef _SharedMapping m = storage_mapping(t._storage)
    return m is not None and (t._numel == 0 or m.ptr <= t._data < m.ptr + m.length)


def _storage_mapping(Tensor t):
    """(the _SharedMapping under t's Storage, the Storage's byte offset in
    it, its size in bytes), or None when t is not in shared memory."""
    cdef Storage s = t._storage
    cdef _SharedMapping m = storage_mapping(s)
    if m is None:
        return None
    return m, s.ptr - m.ptr, s.nbytes


def _map_shared_fd(int fd, Py_ssize_t length):
    """A new mapping of the shared file open as fd (which stays the caller's)."""
    return map_file_descriptor(fd, length)


def _map_shared_file(str filename, Py_ssize_t length):
    """A new mapping of the named shared file (counted as one more holder)."""
    cdef bytes path = filename.encode()
    cdef int fd = open(path, O_RDWR | O_CLOEXEC)
    cdef _SharedMapping m
    if fd < 0:
        raise_os_error(f"unable to open shared memory object <{filename}> in read-write mode")
    try:
        m = _SharedMapping.__new__(_SharedMapping)
        m.ptr = cg_map_shared(fd, length, 0, NULL)
        if m.ptr == NULL:
            raise_os_error("mmap")
        m.length = length
        m.counter = <long*>cg_map_shared(fd, cg_page_bytes(), length, NULL)
        if m.counter == NULL:
            raise_os_error("mmap")
        cg_counter_add(m.counter, 1)
        m.pid = getpid()
        m.path = path
    finally:
        close(fd)
    return m


def _shared_bytes_tensor(_SharedMapping m, Py_ssize_t byte_offset, Py_ssize_t nbytes):
    """A flat uint8 tensor over nbytes of m from byte_offset: a Storage of
    its own that keeps m mapped."""
    if byte_offset < 0 or nbytes < 0 or byte_offset + nbytes > m.length:
        raise RuntimeError(f"shared storage of {nbytes} bytes at {byte_offset} is outside its mapping "
                           f"of {m.length} bytes")
    cdef Py_ssize_t shape = nbytes
    cdef Tensor t = fresh_tensor()
    init_dims(t, 1)
    t._shape[0] = shape
    t._numel = shape
    t._dtype = U8
    set_contiguous_strides(t)
    t._storage = borrowed_storage(m.ptr + byte_offset, nbytes, m)
    t._data = t._storage.ptr
    return t
