# vmap's dispatch for Tensor methods (cgrad/func/_batched.py): while a vmap
# runs, the methods of an unbatched Tensor that take another tensor (x.add(y),
# x.mm(y), y.expand_as(x), ...) are swapped for Python wrappers that send a
# call with a BatchedTensor argument to its batching rule, and swapped back
# when the last vmap ends. Outside vmap the type holds its compiled methods
# and nothing is checked. Indexing is a slot, not a method: while a vmap runs,
# Tensor.__getitem__/__setitem__ first ask vmap_index_hook (declared in
# tensor.pxi), which sends an index or value holding a BatchedTensor to its
# rule and answers NotImplemented otherwise.


def _swap_tensor_methods(dict methods):
    """Put methods (name -> callable) into Tensor's type dict and return
    the entries they replace (None where there was none)."""
    cdef PyTypeObject* tp = <PyTypeObject*>Tensor
    cdef dict d = <dict>tp.tp_dict
    cdef dict previous = {}
    for name, fn in methods.items():
        previous[name] = d.get(name)
        if fn is None:
            d.pop(name, None)
        else:
            d[name] = fn
    PyType_Modified(tp)
    return previous


def _set_vmap_index_hook(hook):
    """hook(tensor, index, None) for x[index], hook(tensor, index, (value,))
    for x[index] = value: NotImplemented lets the Tensor's own code run. None
    removes it."""
    global vmap_index_hook
    vmap_index_hook = hook
