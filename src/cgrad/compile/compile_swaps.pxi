# cgrad.compile's namespace swaps in one pass each way: a capture puts its
# recording wrappers into the namespaces' dicts and Tensor's type dict
# (cgrad/_dynamo/capture.py) and takes them out when it ends.
#
# Each swap is three parallel tuples (names, originals, wrappers) built
# once. Installing checks, name by name, that the dict still holds the
# original (a name rebound since the swap was built, by a monkeypatch,
# must not be undone at uninstall) and writes the wrapper, in the same pass:
# the check and the write were two passes over ~1000 names per capture,
# most of a small capture's fixed cost. Uninstalling writes the originals
# back. No dict of the replaced entries is built either way.


from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM


cdef dict _swap_target_dict(target):
    if isinstance(target, type):
        return <dict>(<PyTypeObject*>target).tp_dict
    return <dict?>target


def _swap_in(target, tuple names, tuple originals, tuple wrappers):
    """Write wrappers[i] under names[i] into target (a dict or a type,
    whose dict is written directly) where it holds originals[i]; True when
    every name did. At the first name that holds something else, the names
    written so far are restored and False is returned (the caller rebuilds
    its swaps from the current values)."""
    return _swap_in_c(target, names, originals, wrappers)


def _swap_out(target, tuple names, tuple originals):
    """Write originals[i] back under names[i] into target."""
    _swap_out_c(target, names, originals)


def _swap_all_in(tuple groups):
    """_swap_in of each (target, names, originals, wrappers) in groups, in
    one call (the step classes: ~20 per capture); where one fails, those
    done are swapped out again and False is returned."""
    cdef Py_ssize_t i, j
    cdef tuple g
    for i in range(len(groups)):
        g = <tuple?>groups[i]
        if not _swap_in_c(g[0], g[1], g[2], g[3]):
            for j in range(i):
                g = <tuple>groups[j]
                _swap_out_c(g[0], g[1], g[2])
            return False
    return True


def _swap_all_out(tuple groups):
    """_swap_out of each group _swap_all_in put in."""
    cdef tuple g
    for item in groups:
        g = <tuple?>item
        _swap_out_c(g[0], g[1], g[2])


cdef bint _swap_in_c(target, tuple names, tuple originals, tuple wrappers) except -1:
    cdef dict d = _swap_target_dict(target)
    cdef Py_ssize_t i, j, n = len(names)
    if len(originals) != n or len(wrappers) != n:
        raise ValueError("names, originals and wrappers differ in length")
    for i in range(n):
        if d.get(names[i], _SWAP_MISSING) is not originals[i]:
            for j in range(i):
                d[names[j]] = originals[j]
            if isinstance(target, type):
                PyType_Modified(<PyTypeObject*>target)
            return False
        d[names[i]] = wrappers[i]
    if isinstance(target, type):
        PyType_Modified(<PyTypeObject*>target)
    return True


cdef int _swap_out_c(target, tuple names, tuple originals) except -1:
    cdef dict d = _swap_target_dict(target)
    cdef Py_ssize_t i
    if len(originals) != len(names):
        raise ValueError("names and originals differ in length")
    for i in range(len(names)):
        d[names[i]] = originals[i]
    if isinstance(target, type):
        PyType_Modified(<PyTypeObject*>target)
    return 0


cdef object _SWAP_MISSING = object()


def _namespace_sizes(tuple names, dict modules, tensor_type):
    """The lengths of the dicts of the modules named (-1 for one not
    loaded) and of tensor_type's dict: capture.py's check, per capture,
    that no name was added since its swaps were built."""
    cdef Py_ssize_t i, n = len(names)
    cdef tuple sizes = PyTuple_New(n + 1)
    cdef object size
    for i in range(n):
        module = modules.get(names[i])
        size = -1 if module is None else len(<dict?>module.__dict__)
        Py_INCREF(size)
        PyTuple_SET_ITEM(sizes, i, size)
    if not isinstance(tensor_type, type):
        raise TypeError("tensor_type must be a type")
    size = len(<dict>(<PyTypeObject*>tensor_type).tp_dict)
    Py_INCREF(size)
    PyTuple_SET_ITEM(sizes, n, size)
    return sizes


# Attribute hooks: the recording wrappers reached by lookup, not by writing
# them into dicts. Writing ~1300 wrappers into the namespaces' dicts and
# Tensor's type dict, and the originals back, was most of a capture's fixed
# cost (100-230 us, memory-bound after a large step had evicted the dicts).
# While a capture runs, Tensor (and its subclasses) get a tp_getattro that
# answers a method lookup with the recording wrapper bound to the tensor,
# and each recorded namespace module is given a ModuleType subclass whose
# tp_getattro answers with the namespace's wrapper: two pointer writes per
# type or module each way. A name answers with its wrapper only while the
# dict still holds the original the wrapper was made for: a monkeypatched
# name, or vmap's own wrappers written in while a vmap runs, are returned as
# the dict holds them.
cdef extern from *:
    """
    static PyObject* cg_method_table = NULL;    /* name -> (original, wrapper), while a capture runs */
    static PyObject* cg_module_tables = NULL;   /* module -> {name -> (original, wrapper)}, likewise */

    static PyObject* cg_tensor_getattro(PyObject* obj, PyObject* name) {
        PyObject* table = cg_method_table;
        if (table != NULL && PyUnicode_CheckExact(name)) {
            PyObject* entry = PyDict_GetItemWithError(table, name);
            if (entry == NULL) {
                if (PyErr_Occurred()) return NULL;
            } else if (_PyType_Lookup(Py_TYPE(obj), name) == PyTuple_GET_ITEM(entry, 0)) {
                /* a method is a non-data descriptor: an instance attribute of that name wins */
                PyObject** dictptr = _PyObject_GetDictPtr(obj);
                PyObject* own = NULL;
                if (dictptr != NULL && *dictptr != NULL) {
                    own = PyDict_GetItemWithError(*dictptr, name);
                    if (own == NULL && PyErr_Occurred()) return NULL;
                }
                if (own == NULL) return PyMethod_New(PyTuple_GET_ITEM(entry, 1), obj);
            }
        }
        return PyObject_GenericGetAttr(obj, name);
    }

    static PyObject* cg_module_getattro(PyObject* module, PyObject* name) {
        PyObject* tables = cg_module_tables;
        if (tables != NULL && PyUnicode_CheckExact(name)) {
            PyObject* table = PyDict_GetItemWithError(tables, module);
            PyObject* entry = NULL;
            if (table != NULL) entry = PyDict_GetItemWithError(table, name);
            if (entry != NULL) {
                PyObject* current = PyDict_GetItemWithError(PyModule_GetDict(module), name);
                if (current == PyTuple_GET_ITEM(entry, 0)) {
                    PyObject* wrapper = PyTuple_GET_ITEM(entry, 1);
                    Py_INCREF(wrapper);
                    return wrapper;
                }
            }
            if (PyErr_Occurred()) return NULL;
        }
        return PyModule_Type.tp_getattro(module, name);
    }

    static int cg_has_tensor_getattro(PyObject* tp) {
        return ((PyTypeObject*)tp)->tp_getattro == cg_tensor_getattro;
    }

    static int cg_has_generic_getattro(PyObject* tp) {
        return ((PyTypeObject*)tp)->tp_getattro == PyObject_GenericGetAttr;
    }

    static void cg_set_tensor_getattro(PyObject* tp, int hooked) {
        ((PyTypeObject*)tp)->tp_getattro = hooked ? cg_tensor_getattro : PyObject_GenericGetAttr;
        PyType_Modified((PyTypeObject*)tp);
    }

    static void cg_set_module_getattro(PyObject* tp) {
        ((PyTypeObject*)tp)->tp_getattro = cg_module_getattro;
        PyType_Modified((PyTypeObject*)tp);
    }

    static void cg_set_tables(PyObject* methods, PyObject* modules) {
        PyObject* old_methods = cg_method_table;
        PyObject* old_modules = cg_module_tables;
        Py_XINCREF(methods);
        Py_XINCREF(modules);
        cg_method_table = methods;
        cg_module_tables = modules;
        Py_XDECREF(old_methods);
        Py_XDECREF(old_modules);
    }
    """
    bint cg_has_tensor_getattro(object tp)
    bint cg_has_generic_getattro(object tp)
    void cg_set_tensor_getattro(object tp, int hooked)
    void cg_set_module_getattro(object tp)
    void cg_set_tables(PyObject* methods, PyObject* modules)


def _make_recording_module_type(type module_subclass):
    """Give a ModuleType subclass (capture.py's _RecordingModule, with no
    attribute hooks of its own) the lookup that answers with the
    namespaces' recording wrappers."""
    if "__getattribute__" in module_subclass.__dict__ or "__getattr__" in module_subclass.__dict__:
        raise TypeError("the recording module type must not define __getattribute__ or __getattr__")
    cg_set_module_getattro(module_subclass)


def _tensor_types():
    """Tensor and its subclasses, breadth first."""
    return _subclass_closure(Tensor)


def _hook_tensor_attributes(dict methods, dict modules):
    """Start answering lookups with the recording wrappers: `methods` maps
    a Tensor method's name to (its original, its wrapper), `modules` maps
    a namespace module to such a table. Returns the Tensor types hooked
    (those whose lookup was the generic one), for _unhook_tensor_attributes."""
    cg_set_tables(<PyObject*>methods, <PyObject*>modules)
    hooked = []
    for tp in _tensor_types():
        if cg_has_generic_getattro(tp):
            cg_set_tensor_getattro(tp, 1)
            hooked.append(tp)
    return hooked


def _unhook_tensor_attributes(hooked):
    """Stop: the hooked types, and any subclass made meanwhile (it
    inherited the hook), get the generic lookup back."""
    cg_set_tables(NULL, NULL)
    for tp in hooked:
        cg_set_tensor_getattro(tp, 0)
    for tp in _tensor_types():
        if cg_has_tensor_getattro(tp):
            cg_set_tensor_getattro(tp, 0)
