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


def _swap_out(target, tuple names, tuple originals):
    """Write originals[i] back under names[i] into target."""
    cdef dict d = _swap_target_dict(target)
    cdef Py_ssize_t i
    if len(originals) != len(names):
        raise ValueError("names and originals differ in length")
    for i in range(len(names)):
        d[names[i]] = originals[i]
    if isinstance(target, type):
        PyType_Modified(<PyTypeObject*>target)


cdef object _SWAP_MISSING = object()
