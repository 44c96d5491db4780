# cgrad.compile's recording fast path: the wrappers capture.py installs
# while a capture runs, and the common case of recording one call, in C.
#
# A capture's first call runs the user's function eagerly with every cgrad
# function, Tensor method and operator swapped for a recording wrapper; the
# capture's cost over one eager call is those wrappers. A wrapper is a
# _RecordingWrapper called through vectorcall (no argument tuple, keyword
# dict or Python frame per call), the capturing thread's recorder is read
# from C thread-local storage, and a call whose arguments are tracked
# tensors, constants and plain numbers, that changes no mode and returns
# one tensor, is encoded and recorded by _record_call without leaving C.
# Anything else (keywords, containers of tensors, a version mismatch, a
# mode change, a break, a result that is not one tensor) takes capture.py's
# Recorder.call, which records exactly what this path records in the cases
# they share (tests/compile/test_compile_capture.py compares the two).

from cpython.list cimport PyList_New, PyList_SET_ITEM

cdef object _SLOW_PATH = object()


cdef class _SlotRef:
    """A recorded argument that is a tracked object: its slot (capture.py's
    _Ref)."""
    cdef readonly Py_ssize_t slot

    def __init__(self, Py_ssize_t slot):
        self.slot = slot

    def __repr__(self):
        return f"_Ref({self.slot})"


# The recorder's two identity maps, in C: object -> slot and Storage ->
# expected version. As dicts keyed by id() integers and Storage objects they
# cost a PyLong and two hashed dict operations each per recorded op, and
# growing them was most of what recording an op added to running it (per op
# at -O3: ~2,500 instructions, ~670 of them in dict writes). Keys are
# pointers: a slot's object is held by `objects`, a version entry holds a
# reference to its Storage, so no key is reused by another object while the
# recorder lives. Linear probing, never shrinking, at most three quarters
# full, made with room for 192 keys (a small capture's tables are each
# allocated once: growing them by doubling from 64 was a fifth of what
# recording added at -O3) and growing fourfold.
cdef extern from *:
    """
    static size_t cg_pointer_hash(const void* p) {
        unsigned long long h = (unsigned long long)(size_t)p;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return (size_t)h;
    }
    """
    size_t cg_pointer_hash(const void* p) nogil


cdef struct _PtrEntry:
    PyObject* key
    long long value


cdef struct _PtrMap:
    _PtrEntry* entries
    size_t capacity         # a power of two, or 0 before the first insert
    size_t count


cdef _PtrEntry* _map_find(_PtrMap* m, PyObject* key) noexcept nogil:
    cdef size_t mask, i
    if m.capacity == 0:
        return NULL
    mask = m.capacity - 1
    i = cg_pointer_hash(key) & mask
    while m.entries[i].key != NULL:
        if m.entries[i].key == key:
            return &m.entries[i]
        i = (i + 1) & mask
    return NULL


cdef int _map_grow(_PtrMap* m) except -1:
    cdef size_t capacity = 256 if m.capacity == 0 else m.capacity * 4
    cdef size_t mask = capacity - 1, i, j
    cdef _PtrEntry* entries = <_PtrEntry*>calloc(capacity, sizeof(_PtrEntry))
    if entries == NULL:
        raise MemoryError()
    for j in range(m.capacity):
        if m.entries[j].key != NULL:
            i = cg_pointer_hash(m.entries[j].key) & mask
            while entries[i].key != NULL:
                i = (i + 1) & mask
            entries[i] = m.entries[j]
    free(m.entries)
    m.entries = entries
    m.capacity = capacity
    return 0


cdef _PtrEntry* _map_entry(_PtrMap* m, PyObject* key, bint* added) except NULL:
    """key's entry, made (value 0, added set) where it has none."""
    cdef size_t mask, i
    if (m.count + 1) * 4 > m.capacity * 3:
        _map_grow(m)
    mask = m.capacity - 1
    i = cg_pointer_hash(key) & mask
    while m.entries[i].key != NULL:
        if m.entries[i].key == key:
            added[0] = False
            return &m.entries[i]
        i = (i + 1) & mask
    m.entries[i].key = key
    m.entries[i].value = 0
    m.count += 1
    added[0] = True
    return &m.entries[i]


cdef class _RecorderCore:
    """The state of one capture that the fast path reads and writes;
    capture.Recorder subclasses it with the rest of the logic."""
    cdef public object fullgraph
    cdef public dict sources         # id -> tensor that existed before the call
    cdef public list objects         # slot -> object
    cdef public list ops             # (fn, name, encoded args, kwnames, nargs, out slots, unpack)
    cdef public dict constants       # id -> constant tensor read by the tape
    cdef public Py_ssize_t depth
    cdef public object broken
    cdef public bint grad_mode
    cdef public bint inference_mode
    cdef public Py_ssize_t held_bytes   # bytes of the tensors the tape's results hold
    cdef _PtrMap slots               # object (held by objects) -> its slot
    cdef _PtrMap versions            # Storage (a reference held) -> the version expected at its next use

    def __cinit__(self, *args, **kwargs):
        self.objects = []

    def __dealloc__(self):
        cdef size_t i
        for i in range(self.versions.capacity):
            if self.versions.entries[i].key != NULL:
                Py_DECREF(<object>self.versions.entries[i].key)
        free(self.versions.entries)
        free(self.slots.entries)

    cdef Py_ssize_t _track(self, obj) except -1:
        cdef bint added
        cdef Py_ssize_t slot = len(self.objects)
        cdef Tensor t
        self.objects.append(obj)
        _map_entry(&self.slots, <PyObject*>obj, &added).value = slot
        if isinstance(obj, Tensor):
            t = <Tensor>obj
            _note_version(self, t)
            self.held_bytes += t._numel * ITEMSIZE[t._dtype]
        return slot

    def track(self, obj):
        """Give obj the next slot (objects holds it); a tensor's storage is
        expected at its current version, and its bytes are counted held."""
        return self._track(obj)

    def slot_for(self, obj):
        """obj's slot, or None where it has none."""
        cdef _PtrEntry* e = _map_find(&self.slots, <PyObject*>obj)
        return None if e == NULL else e.value

    def expected_version(self, Tensor t):
        """The version t's storage is expected at, or None where none is."""
        cdef _PtrEntry* e = _map_find(&self.versions, <PyObject*>t._storage)
        return None if e == NULL else e.value

    def note_versions(self, tensors):
        """Expect each tensor's storage at its current version."""
        for t in tensors:
            _note_version(self, <Tensor?>t)

    def note_version_if_absent(self, Tensor t):
        """Expect t's storage at its current version, unless an expectation
        is held already."""
        _note_version_if_absent(self, t)


cdef inline int _note_version(_RecorderCore rec, Tensor t) except -1:
    cdef bint added
    cdef _PtrEntry* e = _map_entry(&rec.versions, <PyObject*>t._storage, &added)
    if added:
        Py_INCREF(t._storage)
    e.value = t._storage.version
    return 0


cdef inline int _note_version_if_absent(_RecorderCore rec, Tensor t) except -1:
    cdef bint added
    cdef _PtrEntry* e = _map_entry(&rec.versions, <PyObject*>t._storage, &added)
    if added:
        Py_INCREF(t._storage)
        e.value = t._storage.version
    return 0


cdef inline bint _is_plain_scalar(object value):
    cdef object tp = type(value)
    return tp is float or tp is int or tp is bool or value is None or tp is str or tp is dtype


cdef object _encode_fast(_RecorderCore rec, object value, PyObject** tensors, Py_ssize_t* ntensors):
    """One argument encoded as Recorder._encode_value does, a tensor noted
    in tensors (borrowed: the call's arguments hold it); _SLOW_PATH where
    only the slow path can (a break, a container holding tensors, an
    object)."""
    cdef object key
    cdef _SlotRef ref
    cdef _PtrEntry* e
    if isinstance(value, Tensor):
        e = _map_find(&rec.slots, <PyObject*>value)
        if e != NULL:
            ref = _SlotRef.__new__(_SlotRef)      # no argument parsing: a direct tp_new
            ref.slot = <Py_ssize_t>e.value
            tensors[ntensors[0]] = <PyObject*>value
            ntensors[0] += 1
            return ref
        key = _object_id(value)
        if key in rec.sources:
            if key not in rec.constants:
                rec.constants[key] = value
                _note_version_if_absent(rec, <Tensor>value)
            tensors[ntensors[0]] = <PyObject*>value
            ntensors[0] += 1
            return value
        return _SLOW_PATH
    if _is_plain_scalar(value):
        # never tracked: Recorder._record gives no slot to a scalar result
        return value
    if type(value) is tuple or type(value) is list:
        for v in value:
            if not (type(v) is int or type(v) is float or type(v) is bool):
                return _SLOW_PATH
        return value
    return _SLOW_PATH


cdef object _record_call(_RecorderCore rec, fn, name, PyObject** args, Py_ssize_t nargs, replay_fn,
                         bint reflected):
    """Record and run fn(*args[:nargs]) as Recorder.call would, or return
    the slow-path marker (before running anything) where that path is
    needed."""
    cdef list encoded
    cdef object value
    cdef PyObject* tensors[TAPE_MAX_ARGS]
    cdef long long noted[TAPE_MAX_ARGS]     # per tensor argument: the version its entry holds
    cdef bint has_entry[TAPE_MAX_ARGS]
    cdef Py_ssize_t ntensors = 0
    cdef Tensor t
    cdef _PtrEntry* e
    cdef Py_ssize_t i
    if rec.broken is not None or nargs > TAPE_MAX_ARGS:
        return _SLOW_PATH
    encoded = PyList_New(nargs)       # its exact size: no growth while it is filled
    for i in range(nargs):
        value = _encode_fast(rec, <object>args[i], tensors, &ntensors)
        if value is _SLOW_PATH:
            return _SLOW_PATH           # the list's unfilled items are NULL, which its dealloc skips
        Py_INCREF(value)
        PyList_SET_ITEM(encoded, i, value)
    for i in range(ntensors):
        t = <Tensor>tensors[i]
        e = _map_find(&rec.versions, <PyObject*>t._storage)
        has_entry[i] = e != NULL
        if e == NULL:
            pass                    # no entry yet: written after the call
        elif e.value != t._storage.version:
            return _SLOW_PATH
        else:
            noted[i] = e.value
    if (cgrad_grad_enabled != 0) != rec.grad_mode or (cgrad_inference_mode != 0) != rec.inference_mode:
        return _SLOW_PATH
    rec.depth += 1
    try:
        result = PyObject_Vectorcall(fn, args, <size_t>nargs, NULL)
    finally:
        rec.depth -= 1
    if reflected:
        encoded.reverse()
    recorded = replay_fn if replay_fn is not None else fn
    if not isinstance(result, Tensor):
        rec._record(recorded, name, encoded, None, nargs, [<object>tensors[i] for i in range(ntensors)], result)
        return result
    rec.ops.append((recorded, name, encoded, None, nargs, (rec._track(result),), False))
    for i in range(ntensors):
        # an argument an out-of-place op left at the version its entry holds needs no write
        if not has_entry[i] or noted[i] != (<Tensor>tensors[i])._storage.version:
            _note_version(rec, <Tensor>tensors[i])
    return result


def _refresh_all_versions(_RecorderCore rec):
    """Set the expected version of every tracked tensor's storage to its
    current one (after a call with wide effects, a backward or a step)."""
    for o in rec.objects:
        if isinstance(o, Tensor):
            _note_version(rec, <Tensor>o)
    for o in rec.constants.values():
        _note_version(rec, <Tensor>o)


cdef inline bint _version_current(_RecorderCore rec, Tensor t) noexcept:
    cdef _PtrEntry* e = _map_find(&rec.versions, <PyObject*>t._storage)
    return e != NULL and e.value == t._storage.version


def _versions_current(_RecorderCore rec):
    """Whether every tracked tensor's storage is at the version the
    recorder expects (Recorder.finish's check)."""
    for o in rec.objects:
        if isinstance(o, Tensor) and not _version_current(rec, <Tensor>o):
            return False
    for o in rec.constants.values():
        if not _version_current(rec, <Tensor>o):
            return False
    return True


# The recorder of the thread that captures, in C thread-local storage: a
# wrapper reads it with one load, where threading.local's attribute lookup
# cost two dict lookups per call. capture.py's _local is a _RecorderLocal,
# whose `recorder` attribute is this slot (cgrad.jit's trace sets it too).
cdef extern from *:
    """
    static __thread PyObject* cg_thread_recorder = NULL;    /* a reference, while a capture runs */

    static PyObject* cg_get_recorder(void) { return cg_thread_recorder; }

    static PyObject** cg_tuple_items(PyObject* t) { return ((PyTupleObject*)t)->ob_item; }

    static void cg_set_recorder(PyObject* recorder) {
        PyObject* old = cg_thread_recorder;
        Py_XINCREF(recorder);
        cg_thread_recorder = recorder;
        Py_XDECREF(old);
    }

    typedef PyObject* (*cg_wrapper_impl_t)(PyObject*, PyObject**, size_t, PyObject*);
    static cg_wrapper_impl_t cg_wrapper_impl = NULL;

    static PyObject* cg_wrapper_vectorcall(PyObject* callable, PyObject* const* args, size_t nargsf,
                                           PyObject* kwnames) {
        return cg_wrapper_impl(callable, (PyObject**)args, nargsf, kwnames);
    }

    /* A _RecordingWrapper is called through vectorcall (no argument tuple or
       keyword dict is built per call) and binds as a method: a bound
       PyMethod prepends the instance, as for a function. */
    static void cg_make_wrapper_type(PyObject* tp, Py_ssize_t vectorcall_offset) {
        PyTypeObject* t = (PyTypeObject*)tp;
        t->tp_vectorcall_offset = vectorcall_offset;
        t->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR;
        PyType_Modified(t);
    }
    """
    ctypedef object (*cg_wrapper_impl_t)(object, PyObject**, size_t, PyObject*)
    cg_wrapper_impl_t cg_wrapper_impl
    void* cg_wrapper_vectorcall
    PyObject* cg_get_recorder()
    PyObject** cg_tuple_items(object t)
    void cg_set_recorder(PyObject* recorder)
    void cg_make_wrapper_type(object tp, Py_ssize_t vectorcall_offset)
    Py_ssize_t PyVectorcall_NARGS(size_t nargsf)
    object PyMethod_New(object func, object self)


cdef class _RecorderLocal:
    """capture.py's _local: `recorder` is this thread's capture, or None."""

    @property
    def recorder(self):
        cdef PyObject* rec = cg_get_recorder()
        if rec == NULL:
            return None
        return <object>rec

    @recorder.setter
    def recorder(self, value):
        cg_set_recorder(NULL if value is None else <PyObject*>value)

    @recorder.deleter
    def recorder(self):
        cg_set_recorder(NULL)


cdef class _RecordingWrapper:
    """What capture.py swaps in for a callable `original`: outside a
    capture or inside a recorded call it calls original; at depth 0 of a
    capture it records the call (_record_call above, else the recorder's
    call). A dunder called with keywords is not an operator call and is
    not recorded. Its __dict__ holds __name__, __doc__ and
    _compile_original."""
    cdef void* vectorcall               # cg_wrapper_vectorcall: the type's vectorcall slot reads it here
    cdef readonly object original
    cdef readonly object name
    cdef object replay_fn
    cdef bint fast, reflected, dunder
    cdef dict __dict__

    def __call__(self, *args, **kwargs):
        # reached only through tp_call (the type's vectorcall serves calls): the same dispatch
        return _wrapper_dispatch(self, args, kwargs)

    def __get__(self, obj, objtype):
        if obj is None:
            return self
        return PyMethod_New(self, obj)

    def __repr__(self):
        return f"<recording wrapper of {self.original!r}>"


cdef object _wrapper_dispatch(_RecordingWrapper w, tuple args, dict kwargs):
    cdef PyObject* found = cg_get_recorder()
    cdef object result
    if found == NULL or (<_RecorderCore?><object>found).depth:
        return w.original(*args, **kwargs)
    rec = <object>found
    if kwargs:
        if w.dunder:
            return w.original(*args, **kwargs)
    elif w.fast:
        result = _record_call(<_RecorderCore>rec, w.original, w.name,
                              cg_tuple_items(args), len(args), w.replay_fn, w.reflected)
        if result is not _SLOW_PATH:
            return result
    if w.dunder:
        return rec.call(w.original, w.name, args, kwargs if kwargs else {}, w.replay_fn, w.reflected)
    return rec.call(w.original, w.name, args, kwargs if kwargs else {})


cdef object _wrapper_vectorcall_impl(object callable, PyObject** args, size_t nargsf, PyObject* kwnames):
    cdef _RecordingWrapper w = <_RecordingWrapper>callable
    cdef PyObject* found = cg_get_recorder()
    cdef Py_ssize_t nargs = PyVectorcall_NARGS(nargsf), i, nkw
    cdef object result
    if found == NULL or (<_RecorderCore?><object>found).depth:
        return PyObject_Vectorcall(w.original, args, nargsf, kwnames)
    if kwnames == NULL or len(<tuple>kwnames) == 0:
        if w.fast:
            result = _record_call(<_RecorderCore><object>found, w.original, w.name, args, nargs, w.replay_fn,
                                  w.reflected)
            if result is not _SLOW_PATH:
                return result
        return _wrapper_dispatch(w, tuple([<object>args[i] for i in range(nargs)]), None)
    if w.dunder:
        return PyObject_Vectorcall(w.original, args, nargsf, kwnames)
    nkw = len(<tuple>kwnames)
    kwargs = {}
    for i in range(nkw):
        kwargs[(<tuple>kwnames)[i]] = <object>args[nargs + i]
    return _wrapper_dispatch(w, tuple([<object>args[i] for i in range(nargs)]), kwargs)


cg_wrapper_impl = _wrapper_vectorcall_impl


cdef _make_wrapper_type():
    cdef _RecordingWrapper probe = _RecordingWrapper.__new__(_RecordingWrapper)
    cg_make_wrapper_type(_RecordingWrapper, <Py_ssize_t>(<char*>&probe.vectorcall - <char*><PyObject*>probe))


_make_wrapper_type()


def _recording_wrapper(original, name, bint fast, replay_fn, bint reflected, bint dunder):
    """The wrapper capture.py swaps in for `original` (see
    _RecordingWrapper); replay_fn, when given, is what the tape calls
    instead (operator.mul for Tensor.__mul__), with the two arguments
    swapped for a reflected dunder."""
    cdef _RecordingWrapper w = _RecordingWrapper.__new__(_RecordingWrapper)
    w.vectorcall = cg_wrapper_vectorcall
    w.original = original
    w.name = name
    w.replay_fn = replay_fn
    w.fast = fast
    w.reflected = reflected
    w.dunder = dunder
    return w


def _dict_holds(target, tuple names, tuple values):
    """Whether target (a dict, or a type's dict) holds each values[i], by
    identity, under names[i]: the check that a swap's originals were not
    rebound."""
    cdef Py_ssize_t i
    cdef dict d = <dict>(<PyTypeObject*>target).tp_dict if isinstance(target, type) else <dict?>target
    if len(names) != len(values):
        raise ValueError("names and values differ in length")
    for i in range(len(names)):
        if d.get(names[i], _SLOW_PATH) is not values[i]:
            return False
    return True
