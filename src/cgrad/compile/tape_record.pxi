# cgrad.compile's recording fast path: the wrappers capture.py installs
# while a capture runs, and the common case of recording one call, in C.
#
# A capture's first call runs the user's function eagerly with every cgrad
# function, Tensor method and operator swapped for a recording wrapper; the
# capture's cost over one eager call is those wrappers. The wrappers here
# are Cython closures (no Python frame per call), and a call whose
# arguments are tracked tensors, constants and plain numbers, that changes
# no mode and returns one tensor, is encoded and recorded by
# _record_call without leaving C. Anything else (keywords, containers of
# tensors, a version mismatch, a mode change, a break, a result that is not
# one tensor) takes capture.py's Recorder.call, which records exactly what
# this path records in the cases they share (tests/test_compile_capture.py
# compares the two).

cdef object _SLOW_PATH = object()


cdef class _SlotRef:
    """A recorded argument that is a tracked object: its slot (capture.py's
    _Ref)."""
    cdef readonly Py_ssize_t slot

    def __init__(self, Py_ssize_t slot):
        self.slot = slot

    def __repr__(self):
        return f"_Ref({self.slot})"


cdef class _RecorderCore:
    """The state of one capture that the fast path reads and writes;
    capture.Recorder subclasses it with the rest of the logic."""
    cdef public object fullgraph
    cdef public dict sources         # id -> tensor that existed before the call
    cdef public list objects         # slot -> object
    cdef public dict slot_of         # id(object) -> slot
    cdef public list ops             # (fn, name, encoded args, kwnames, nargs, out slots, unpack)
    cdef public dict constants       # id -> constant tensor read by the tape
    cdef public dict versions        # Storage -> version expected at the next use
    cdef public Py_ssize_t depth
    cdef public object broken
    cdef public bint grad_mode
    cdef public bint inference_mode
    cdef public Py_ssize_t held_bytes   # bytes of the tensors the tape's results hold


cdef inline bint _is_plain_scalar(object value):
    cdef object tp = type(value)
    return tp is float or tp is int or tp is bool or value is None or tp is str or tp is dtype


cdef int _encode_fast(_RecorderCore rec, object value, list encoded, list tensors) except -1:
    """Encode one argument as Recorder._encode_value does; 0 where only
    the slow path can (a break, a container holding tensors, an object)."""
    cdef object slot, key
    cdef _SlotRef ref
    if isinstance(value, Tensor):
        key = _object_id(value)
        slot = rec.slot_of.get(key)
        if slot is not None and rec.objects[<Py_ssize_t>slot] is value:
            ref = _SlotRef.__new__(_SlotRef)      # no argument parsing: a direct tp_new
            ref.slot = <Py_ssize_t>slot
            encoded.append(ref)
            tensors.append(value)
            return 1
        if key in rec.sources:
            if key not in rec.constants:
                rec.constants[key] = value
                rec.versions.setdefault((<Tensor>value)._storage, (<Tensor>value)._storage.version)
            encoded.append(value)
            tensors.append(value)
            return 1
        return 0
    if _is_plain_scalar(value):
        # never tracked: Recorder._record gives no slot to a scalar result
        encoded.append(value)
        return 1
    if type(value) is tuple or type(value) is list:
        for v in value:
            if not (type(v) is int or type(v) is float or type(v) is bool):
                return 0
        encoded.append(value)
        return 1
    return 0


cdef inline void _note_version(dict versions, Tensor t):
    versions[t._storage] = t._storage.version


cdef object _record_call(_RecorderCore rec, fn, name, tuple args, replay_fn, bint reflected):
    """Record and run fn(*args) as Recorder.call would, or return the
    slow-path marker (before running anything) where that path is
    needed."""
    cdef list encoded = []
    cdef list tensors = []
    cdef Tensor t
    cdef object expected
    cdef Py_ssize_t slot
    if rec.broken is not None:
        return _SLOW_PATH
    for a in args:
        if not _encode_fast(rec, a, encoded, tensors):
            return _SLOW_PATH
    for a in tensors:
        t = <Tensor>a
        expected = rec.versions.get(t._storage)
        if expected is not None and <long long>expected != t._storage.version:
            return _SLOW_PATH
    if (cgrad_grad_enabled != 0) != rec.grad_mode or (cgrad_inference_mode != 0) != rec.inference_mode:
        return _SLOW_PATH
    rec.depth += 1
    try:
        result = fn(*args)
    finally:
        rec.depth -= 1
    if reflected:
        encoded.reverse()
    recorded = replay_fn if replay_fn is not None else fn
    if not isinstance(result, Tensor):
        rec._record(recorded, name, encoded, None, len(args), tensors, result)
        return result
    t = <Tensor>result
    slot = len(rec.objects)
    rec.objects.append(result)
    rec.slot_of[_object_id(result)] = slot
    tensors.append(result)
    rec.held_bytes += t._numel * ITEMSIZE[t._dtype]
    rec.ops.append((recorded, name, encoded, None, len(args), (slot,), False))
    for a in tensors:
        _note_version(rec.versions, <Tensor>a)
    return result


def _refresh_all_versions(_RecorderCore rec):
    """Set the expected version of every tracked tensor's storage to its
    current one (after a call with wide effects, a backward or a step)."""
    cdef Tensor t
    cdef dict versions = rec.versions
    for o in rec.objects:
        if isinstance(o, Tensor):
            t = <Tensor>o
            versions[t._storage] = t._storage.version
    for o in rec.constants.values():
        t = <Tensor>o
        versions[t._storage] = t._storage.version


def _versions_current(_RecorderCore rec):
    """Whether every tracked tensor's storage is at the version the
    recorder expects (Recorder.finish's check)."""
    cdef Tensor t
    cdef dict versions = rec.versions
    for o in rec.objects:
        if isinstance(o, Tensor):
            t = <Tensor>o
            expected = versions.get(t._storage)
            if expected is None or <long long>expected != t._storage.version:
                return False
    for o in rec.constants.values():
        t = <Tensor>o
        expected = versions.get(t._storage)
        if expected is None or <long long>expected != t._storage.version:
            return False
    return True


def _recording_wrapper(original, name, local, bint fast, replay_fn, bint reflected, bint dunder):
    """The wrapper capture.py swaps in for `original`: outside a capture or
    inside a recorded call it calls original; at depth 0 of a capture it
    records the call (the fast path above, else recorder.call). A dunder
    called with keywords is not an operator call and is not recorded."""
    def wrapper(*args, **kwargs):
        rec = getattr(local, "recorder", None)
        if rec is None or (<_RecorderCore?>rec).depth:
            return original(*args, **kwargs)
        if kwargs:
            if dunder:
                return original(*args, **kwargs)
        elif fast:
            result = _record_call(<_RecorderCore>rec, original, name, args, replay_fn, reflected)
            if result is not _SLOW_PATH:
                return result
        if dunder:
            return rec.call(original, name, args, kwargs, replay_fn, reflected)
        return rec.call(original, name, args, kwargs)
    return wrapper


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
