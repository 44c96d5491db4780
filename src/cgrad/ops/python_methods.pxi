# The bridge for ops written in pure Python over whole numpy buffers
# (cgrad/_ops_*.py): their Tensor methods, their graph nodes (Python
# subclasses of PythonBackward named as PyTorch names them, e.g.
# SortBackward0), strided views, out= and in-place commits through the same
# machinery the compiled ops use. A cdef class's type dict and the nodes'
# C fields cannot be reached from Python, hence these few entry points.


def _install_tensor_methods(dict methods):
    """Add methods to Tensor; a name Tensor already has is refused."""
    drop_lazy_placeholders(methods)
    install_tensor_methods(methods)


def _install_missing_tensor_methods(dict methods):
    """Add the methods Tensor does not have yet (a name it holds only as a
    placeholder of a lazily loaded method counts as missing); the others are
    left as they are."""
    cdef dict d = <dict>(<PyTypeObject*>Tensor).tp_dict
    _install_tensor_methods({name: fn for name, fn in methods.items()
                             if fn is not None and (name not in d or type(d[name]) is LazyTensorMethod)})


cdef class PythonBackward(Node):
    """A node whose backward is a Python callable: backward_fn(grads) gets
    the output gradient (a list of them, None for unused outputs, when the
    node has several outputs) and returns one gradient (or None) per input.
    Python code may hold cycles, so these nodes stay in the GC's view.
    jvp_fn(tangents, nr), when set, is the op's forward-mode formula: the
    tangent of output nr from the inputs' tangents (None where absent)."""
    cdef public object backward_fn
    cdef public object jvp_fn

    cdef tuple apply(self, object grads):
        if self.backward_fn is None:
            raise RuntimeError(FREED_MSG)
        return tuple(self.backward_fn(grads))

    cdef void release_saved(self) noexcept:
        self.backward_fn = None
        self.saved_freed = True


def _attach_history(list outputs, node_cls, list inputs, backward_fn, jvp_fn=None):
    """Record outputs (None entries stay without history) as made by a new
    node_cls node over inputs (None entries get no edge), when grad mode is
    on and an input requires grad, or an input has a forward-AD tangent.
    Returns the node, or None."""
    cdef PythonBackward node
    cdef bint wanted = False
    cdef int i
    if not cgrad_grad_enabled and not cgrad_fwd_active:
        return None
    for x in inputs:
        if x is not None and needs_grad(<Tensor>x):
            wanted = True
    if not wanted:
        return None
    node = node_cls()
    wire_many(node, inputs, len(outputs))
    track(node)
    node.backward_fn = backward_fn
    node.jvp_fn = jvp_fn
    for i in range(len(outputs)):
        if outputs[i] is not None:
            set_history(<Tensor>outputs[i], node, i)
    return node


def _strided_view(Tensor x, tuple size, tuple stride, Py_ssize_t offset):
    """A view of x's storage with the given geometry, without history (the
    caller attaches it); sizes and strides already checked."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i, nd = len(size)
    if nd > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    for i in range(nd):
        shape[i] = size[i]
        strides[i] = stride[i]
    return shape_view(x, nd, shape, strides, offset)


def _storage_extent(Tensor x):
    """Elements of x's storage (how far a strided view may reach)."""
    return x._storage.nbytes // ITEMSIZE[x._dtype]


def _with_out(result, out, str fname):
    """PyTorch's out= tail: checks, resize (with its warning), write."""
    return with_out(result, out, fname)


def _check_inplace(Tensor x):
    """PyTorch's refusals of an in-place op on x (leaf, view, inference)."""
    check_inplace(x)


def _old_value(Tensor x):
    """x's current value with x's history, to compute an in-place op on."""
    return old_value(x, True)


def _commit_inplace(Tensor x, Tensor result):
    """Write result (computed on _old_value(x)) into x; x's history (or its
    base's, for a view) continues at result's node."""
    if result._grad_fn is not None:
        return commit_inplace(x, result)
    check_written_overlap(x)
    copy_into(x, result if result._dtype == x._dtype else cast_tensor(result, x._dtype))
    x._storage.version += 1
    if cgrad_fwd_active and result._fw_grad is not None:     # forward AD only: the tangent is written too
        fw_write_inplace(x, <Tensor>result._fw_grad)
    return x


def _same_shape_view(Tensor x):
    """x.view(x.shape) without parsing a size: the ViewBackward0 alias that
    PyTorch's einsum ends with, at the cost of a view."""
    cdef Tensor out = shape_view(x, x._ndim, x._shape, x._strides, x._offset)
    cdef ViewBackward0 node
    if needs_grad(x):
        node = ViewBackward0.__new__(ViewBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out
