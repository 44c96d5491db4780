# cgrad.compile's C side (cgrad/_dynamo/): the replay loop that runs a
# captured tape, the guard key of a call's tensors, and the patching of
# Tensor's operator slots while a capture runs.
#
# A tape is a list of _TapeOp: a recorded call (the same C callable eager
# code reached: a table function, a Tensor method descriptor, F.linear, an
# optimizer's bound step) and where each argument comes from: a constant
# held by the op, or a slot (the call's inputs, then each op's results).
# Replay calls each op through PyObject_Vectorcall with no Python frame of
# its own, so the ops build the same autograd graph, bump the same version
# counters and run the same hooks as eager code does; what capture removes
# is the user's Python between the ops. A slot is cleared after its last
# use, so intermediates are freed when eager code would drop them.
#
# Operators (x * y, x[i], x += y) live in Tensor's C slots, not in its dict:
# while a capture runs they are pointed at Python-level dispatch (by setting
# the dunder on the type, which CPython's update_slot wires), and afterwards
# the saved slot tables are copied back byte for byte, so eager operators
# pay nothing once the capture ends.

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.string cimport memcmp

cdef extern from "Python.h":
    object PyObject_Vectorcall(object callable, PyObject** args, size_t nargsf, PyObject* kwnames)
    size_t PY_VECTORCALL_ARGUMENTS_OFFSET
    object PyLong_FromVoidPtr(void* p)


cdef inline object _object_id(object o):
    """id(o), without the call through the builtin (which raises an audit
    event per call): the capture and the planner key their dicts by
    identity, several times per recorded op."""
    return PyLong_FromVoidPtr(<void*>o)

cdef extern from *:
    """
    typedef struct {
        PyNumberMethods nb;
        PySequenceMethods sq;
        PyMappingMethods mp;
        richcmpfunc richcompare;
        getiterfunc iter;
        int has_nb, has_sq, has_mp;
    } cg_type_slots;

    static void cg_save_slots(PyObject* t, cg_type_slots* s) {
        PyTypeObject* tp = (PyTypeObject*)t;
        s->has_nb = tp->tp_as_number != NULL;
        s->has_sq = tp->tp_as_sequence != NULL;
        s->has_mp = tp->tp_as_mapping != NULL;
        if (s->has_nb) s->nb = *tp->tp_as_number;
        if (s->has_sq) s->sq = *tp->tp_as_sequence;
        if (s->has_mp) s->mp = *tp->tp_as_mapping;
        s->richcompare = tp->tp_richcompare;
        s->iter = tp->tp_iter;
    }

    static void cg_restore_slots(PyObject* t, cg_type_slots* s) {
        PyTypeObject* tp = (PyTypeObject*)t;
        if (s->has_nb && tp->tp_as_number) *tp->tp_as_number = s->nb;
        if (s->has_sq && tp->tp_as_sequence) *tp->tp_as_sequence = s->sq;
        if (s->has_mp && tp->tp_as_mapping) *tp->tp_as_mapping = s->mp;
        tp->tp_richcompare = s->richcompare;
        tp->tp_iter = s->iter;
        PyType_Modified(tp);
    }

    /* Tensor is a static type, immutable to Python code: the flag is lifted
       for the one PyObject_SetAttr that wires a slot, then set again. */
    static int cg_set_type_attr(PyObject* t, PyObject* name, PyObject* value) {
        PyTypeObject* tp = (PyTypeObject*)t;
        unsigned long saved = tp->tp_flags & Py_TPFLAGS_IMMUTABLETYPE;
        int rc;
        tp->tp_flags &= ~Py_TPFLAGS_IMMUTABLETYPE;
        rc = PyObject_SetAttr(t, name, value);
        tp->tp_flags |= saved;
        return rc;
    }
    """
    ctypedef struct cg_type_slots:
        pass
    void cg_save_slots(object t, cg_type_slots* s)
    void cg_restore_slots(object t, cg_type_slots* s)
    int cg_set_type_attr(object t, object name, object value) except -1


# Class closures (Tensor and its subclasses, the optimizers, the LR schedulers):
# each capture's install needs them, and walking __subclasses__() in Python
# for ~40 classes was a tenth of installing. A closure found once is reused
# while every live subclass of each of its classes is still one of its
# members (checked in C over the types' subclass dicts, nothing allocated);
# a class added since (a user's optimizer or Tensor subclass) finds it again.
cdef extern from *:
    """
    static PyObject* cg_type_subclasses(PyObject* tp) { return ((PyTypeObject*)tp)->tp_subclasses; }
    """
    PyObject* cg_type_subclasses(object tp)

from cpython.dict cimport PyDict_Next
from cpython.set cimport PySet_Contains


cdef bint _closure_whole(tuple classes, frozenset members) except -1:
    cdef PyObject* subclasses
    cdef PyObject* key
    cdef PyObject* ref
    cdef Py_ssize_t pos
    for cls in classes:
        subclasses = cg_type_subclasses(cls)
        if subclasses == NULL:
            continue
        pos = 0
        while PyDict_Next(<object>subclasses, &pos, &key, &ref):
            # 3.11 keeps {id: weakref} per type; a dead referent is None
            sub = <object>PyWeakref_GetObject(<object>ref)
            if sub is not None and not PySet_Contains(members, sub):
                return False
    return True


cdef dict _closure_cache = {}       # root -> (its closure, breadth first, as a frozenset too)


def _subclass_closure(root):
    """root and its subclasses, breadth first, as a tuple: the same tuple
    as last time unless a subclass was added since."""
    cached = _closure_cache.get(root)
    if cached is not None and _closure_whole(<tuple>cached[0], <frozenset>cached[1]):
        return cached[0]
    found = [root]
    cdef Py_ssize_t i = 0
    while i < len(found):
        for sub in found[i].__subclasses__():
            if sub not in found:
                found.append(sub)
        i += 1
    classes = tuple(found)
    _closure_cache[root] = (classes, frozenset(classes))
    return classes


cdef class _SlotSnapshot:
    """The operator slots of one type (Tensor or a subclass) as they were
    before a capture, to copy back after it."""
    cdef cg_type_slots saved
    cdef object tp

    def __cinit__(self, tp):
        self.tp = tp
        cg_save_slots(tp, &self.saved)

    def restore(self):
        cg_restore_slots(self.tp, &self.saved)

    cdef bint matches(self, _SlotSnapshot other):
        return self.tp is other.tp and memcmp(&self.saved, &other.saved, sizeof(cg_type_slots)) == 0


# the types patched last time -> (the dunders, their slot tables while patched, before patching)
cdef dict _patched_slots = {}


def _patch_tensor_slots(dict dunders):
    """Set each dunder (name -> Python callable) on Tensor through the type's
    setattr, so the C slots dispatch to it; returns what restore needs: the
    slot snapshots of Tensor and of its subclasses (whose inherited slots
    CPython rewires too) and the dict entries replaced."""
    cdef tuple types = _subclass_closure(Tensor)
    snapshots = [_SlotSnapshot(t) for t in types]
    cdef dict d = <dict>(<PyTypeObject*>Tensor).tp_dict
    key = types
    patched = _patched_slots.get(key)
    previous = None
    if patched is not None and patched[0] is dunders and _dict_holds_all(d, <dict>patched[3]):
        previous = patched[3]       # the entries replaced last time, all still there: the same dict serves
    if previous is None:
        previous = {name: d.get(name) for name in dunders}
    if patched is not None and patched[0] is dunders and _snapshots_match(snapshots, patched[2]):
        # the same wrappers over the same slot tables as last time: write the dict entries and
        # copy in the slot tables those setattrs made then (49 setattrs, each rewiring the slots
        # of Tensor and its subclasses, were most of a small capture's fixed cost)
        for name, fn in dunders.items():
            d[name] = fn
        for snap in patched[1]:
            (<_SlotSnapshot>snap).restore()
    else:
        for name, fn in dunders.items():
            cg_set_type_attr(Tensor, name, fn)
        _patched_slots.clear()
        _patched_slots[key] = (dunders, [_SlotSnapshot(t) for t in types], snapshots, previous)
    return snapshots, previous


cdef bint _dict_holds_all(dict d, dict entries) except -1:
    """Whether d holds each of entries' values, by identity, under its name
    (None: no entry)."""
    for name, value in entries.items():
        if d.get(name) is not value:
            return False
    return True


cdef bint _snapshots_match(list snapshots, list old) except -1:
    cdef Py_ssize_t i
    if len(snapshots) != len(old):
        return False
    for i in range(len(snapshots)):
        if not (<_SlotSnapshot>snapshots[i]).matches(<_SlotSnapshot>old[i]):
            return False
    return True



def _restore_tensor_slots(state):
    """Undo _patch_tensor_slots: dict entries written back directly (not
    through setattr, which would leave Python-level dispatch in the slots)
    and every saved slot table copied back."""
    snapshots, previous = state
    cdef PyTypeObject* tp = <PyTypeObject*>Tensor
    cdef dict d = <dict>tp.tp_dict
    for name, fn in previous.items():
        if fn is None:
            d.pop(name, None)
        else:
            d[name] = fn
    for snap in snapshots:
        (<_SlotSnapshot>snap).restore()


def _storage_of(Tensor t):
    """t's Storage: the key of a capture's expected versions (views of one
    buffer share it, and its version counter). Keyed by the object, hashed
    by identity, no id() integer is made per lookup."""
    return t._storage


def _storage_key(Tensor t):
    """The identity of t's storage: views of one buffer share it, and so
    share the version counter capture checks."""
    return _object_id(t._storage)


def _tensor_guard_key(Tensor t):
    """What a tape depends on in an input or closed-over tensor: its type,
    dtype, shape, strides, offset, autograd state and whether it has a
    .grad (code that reads p.grad or accumulates into it takes another
    path when it is None)."""
    cdef Py_ssize_t i
    shape = tuple([t._shape[i] for i in range(t._ndim)])
    strides = tuple([t._strides[i] for i in range(t._ndim)])
    return (type(t), t._dtype, shape, strides, t._offset, t._requires_grad,
            t._grad_fn is None, t._grad is None, t._is_inference)


cdef enum:
    TAPE_MAX_ARGS = 64
    SLOT_CONSTANT = -1
    SLOT_NESTED = -2        # a list or tuple argument holding slot references


cdef class _TapeOp:
    """One recorded call. Built by cgrad/_dynamo/capture.py."""
    cdef object fn
    cdef tuple values          # positional then keyword values (constants; None where a slot goes)
    cdef object kwnames        # tuple of keyword names, or None
    cdef Py_ssize_t nargs      # positional count
    cdef Py_ssize_t nvalues
    cdef Py_ssize_t slot_of[TAPE_MAX_ARGS]
    cdef tuple nested          # per SLOT_NESTED value: (container type, ((slot or -1, constant), ...))
    cdef tuple out_slots       # where results go: () discards, (k,) one result, else a sequence unpacked
    cdef Py_ssize_t out0       # out_slots[0], or -1
    cdef bint unpack
    cdef Py_ssize_t* frees     # slots whose last use is this op
    cdef Py_ssize_t nfrees
    cdef readonly object name  # for explain() and error messages

    def __dealloc__(self):
        free(self.frees)

    def __init__(self, fn, tuple values, tuple slots, kwnames, Py_ssize_t nargs, tuple nested,
                 tuple out_slots, bint unpack, tuple free_after, name):
        cdef Py_ssize_t i
        if len(values) > TAPE_MAX_ARGS or len(values) != len(slots):
            raise ValueError("compile: too many arguments for one recorded call")
        self.fn = fn
        self.values = values
        self.kwnames = kwnames
        self.nargs = nargs
        self.nvalues = len(values)
        for i in range(self.nvalues):
            self.slot_of[i] = slots[i]
        self.nested = nested
        self.out_slots = out_slots
        self.out0 = out_slots[0] if len(out_slots) else -1
        self.unpack = unpack
        self.nfrees = len(free_after)
        self.frees = <Py_ssize_t*>malloc((self.nfrees + 1) * sizeof(Py_ssize_t))
        if self.frees == NULL:
            raise MemoryError()
        for i in range(self.nfrees):
            self.frees[i] = free_after[i]
        self.name = name


cdef object _build_nested(tuple spec, list slots):
    container, items = spec
    values = [slots[s] if s >= 0 else c for s, c in items]
    return values if container is list else tuple(values)


@cython.boundscheck(False)
@cython.wraparound(False)
def _replay_tape(list tape, list slots):
    """Run every op of `tape` with `slots` holding the inputs (filled in
    place with the results)."""
    cdef _TapeOp op
    cdef PyObject* argv[TAPE_MAX_ARGS + 1]
    cdef Py_ssize_t i, s, k
    cdef list held
    cdef PyObject* kw
    for op in tape:
        held = None
        k = 0
        for i in range(op.nvalues):
            s = op.slot_of[i]
            if s >= 0:
                argv[i + 1] = <PyObject*>slots[s]
            elif s == SLOT_CONSTANT:
                argv[i + 1] = <PyObject*>op.values[i]
            else:
                if held is None:
                    held = []
                held.append(_build_nested(<tuple>op.nested[k], slots))
                k += 1
                argv[i + 1] = <PyObject*>held[len(held) - 1]
        kw = NULL if op.kwnames is None else <PyObject*>op.kwnames
        result = PyObject_Vectorcall(op.fn, &argv[1], <size_t>op.nargs | PY_VECTORCALL_ARGUMENTS_OFFSET, kw)
        if op.unpack:
            for i, value in enumerate(result):
                slots[<Py_ssize_t>op.out_slots[i]] = value
        elif op.out0 >= 0:
            slots[op.out0] = result
        for i in range(op.nfrees):
            slots[op.frees[i]] = None


def _swap_type_dict(type tp, dict methods):
    """Put methods (name -> callable) into a C type's dict (one whose
    attributes Python code cannot set, as _HookHandle's) and return the
    entries they replace."""
    cdef PyTypeObject* t = <PyTypeObject*>tp
    cdef dict d = <dict>t.tp_dict
    cdef dict previous = {}
    for name, fn in methods.items():
        previous[name] = d.get(name)
        if fn is None:
            d.pop(name, None)
        else:
            d[name] = fn
    PyType_Modified(t)
    return previous


cdef struct _KeyBuf:
    Py_ssize_t* data
    Py_ssize_t n
    Py_ssize_t cap


cdef int _key_push(_KeyBuf* kb, Py_ssize_t value) except -1:
    cdef Py_ssize_t* grown
    if kb.n == kb.cap:
        grown = <Py_ssize_t*>realloc(kb.data, 2 * kb.cap * sizeof(Py_ssize_t))
        if grown == NULL:
            raise MemoryError()
        kb.data = grown
        kb.cap *= 2
    kb.data[kb.n] = value
    kb.n += 1
    return 0


cdef int _key_tensor(_KeyBuf* kb, Tensor t) except -1:
    cdef Py_ssize_t i
    cdef object tp = type(t)
    _key_push(kb, <Py_ssize_t><void*>tp)
    _key_push(kb, t._dtype | (t._ndim << 8) | (t._requires_grad << 20) | ((t._grad_fn is None) << 21)
              | ((t._grad is None) << 22) | (t._is_inference << 23))
    _key_push(kb, t._offset)
    for i in range(t._ndim):
        _key_push(kb, t._shape[i])
        _key_push(kb, t._strides[i])
    return 0


cdef int _key_open(_KeyBuf* kb) except -1:
    kb.n = 0
    kb.cap = 64
    kb.data = <Py_ssize_t*>malloc(kb.cap * sizeof(Py_ssize_t))
    if kb.data == NULL:
        raise MemoryError()
    return 0


cdef bytes _key_close(_KeyBuf* kb):
    cdef bytes out = PyBytes_FromStringAndSize(<char*>kb.data, kb.n * sizeof(Py_ssize_t))
    free(kb.data)
    kb.data = NULL
    return out


def _tensors_key(tensors):
    """The guard state of closed-over tensors as one bytes object (what
    _tensor_guard_key gives, packed): compared whole on every call."""
    cdef _KeyBuf kb
    _key_open(&kb)
    try:
        for t in tensors:
            _key_tensor(&kb, <Tensor?>t)
    except BaseException:
        free(kb.data)
        raise
    return _key_close(&kb)


def _call_key(fn, args, kwargs):
    """A call's guard key and its tensors in argument order: the grad and
    inference modes, fn's identity, then each argument depth first: a
    tensor's type, dtype, shape, strides, offset and autograd state (an
    alias of an earlier argument as its index), a Python scalar's type and
    value, a container's type and length (a dict's keys), any other
    object's identity. Packed into bytes, with what cannot be packed (a
    string, an int beyond 64 bits, a dict's keys) in a side tuple."""
    cdef _KeyBuf kb
    cdef list tensors = []
    cdef list extra = []
    cdef list pending = [kwargs, args] if kwargs else [args]
    _key_open(&kb)
    try:
        _call_key_walk(&kb, fn, pending, tensors, extra)
    except BaseException:
        free(kb.data)
        raise
    key = _key_close(&kb)
    return (key, tuple(extra)) if extra else key, tensors


cdef int _call_key_walk(_KeyBuf* kb, fn, list pending, list tensors, list extra) except -1:
    cdef dict seen = None
    cdef double d
    cdef Py_ssize_t bits
    cdef object obj, tp
    _key_push(kb, cgrad_grad_enabled | (cgrad_inference_mode << 1))
    _key_push(kb, <Py_ssize_t><void*>fn)
    while pending:
        obj = pending.pop()
        tp = type(obj)
        if isinstance(obj, Tensor):
            if seen is None:
                seen = {}
            first = seen.get(_object_id(obj))
            if first is None:
                seen[_object_id(obj)] = len(tensors)
                tensors.append(obj)
                _key_tensor(kb, <Tensor>obj)
            else:
                _key_push(kb, 1)
                _key_push(kb, <Py_ssize_t>first)
        elif tp is tuple or tp is list:
            _key_push(kb, <Py_ssize_t><void*>tp)
            _key_push(kb, len(obj))
            pending.extend(reversed(obj))
        elif tp is float:
            d = obj
            memcpy(&bits, &d, sizeof(double))
            _key_push(kb, <Py_ssize_t><void*>tp)
            _key_push(kb, bits)
        elif tp is bool or obj is None:
            _key_push(kb, <Py_ssize_t><void*>obj)
        elif tp is int and -(1 << 62) < obj < (1 << 62):
            _key_push(kb, <Py_ssize_t><void*>tp)
            _key_push(kb, <Py_ssize_t>obj)
        elif tp is dict:
            _key_push(kb, <Py_ssize_t><void*>tp)
            extra.append(tuple(obj))
            pending.extend(reversed(list(obj.values())))
        elif tp is str or tp is int:
            _key_push(kb, 2)
            extra.append(obj)
        elif isinstance(obj, tuple):        # a namedtuple or structseq
            _key_push(kb, <Py_ssize_t><void*>tp)
            _key_push(kb, len(obj))
            pending.extend(reversed(obj))
        else:
            _key_push(kb, 3)
            _key_push(kb, <Py_ssize_t><void*>obj)
    return 0
