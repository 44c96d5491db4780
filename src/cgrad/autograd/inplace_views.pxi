# The in-place view-metadata ops: transpose_, t_, swapaxes_, swapdims_,
# squeeze_, unsqueeze_ (Tensor methods) and the commit as_strided_ uses
# (cgrad/_ops_views.py). Each changes the tensor's sizes, strides and offset
# in place, as PyTorch does: no element moves, the version counter is bumped
# once, and when grad mode records the tensor its history continues at the
# in-place form's node (TransposeBackward1, TBackward1, SqueezeBackward3/4/5,
# UnsqueezeBackward1, AsStridedBackward1), including on views, whose base
# keeps its own history. A tangent (forward AD) takes the same geometry, as
# PyTorch's formulas (self_t.transpose_(...)) do.
#
# The geometry is computed by the out-of-place op on a history-free alias,
# so the argument checks and their errors are the out-of-place op's.


cdef class TransposeBackward1(TransposeBackward0):
    pass


cdef class TBackward1(TBackward0):
    pass


cdef class SqueezeBackward3(SqueezeBackward0):
    """squeeze_(): every size-1 dim dropped in place."""
    pass


cdef class SqueezeBackward5(SqueezeBackward2):
    """squeeze_(dims) with a tuple of dims."""
    pass


cdef class UnsqueezeBackward1(UnsqueezeBackward0):
    pass


cdef void take_geometry(Tensor x, Tensor v) except *:
    """x gets v's sizes, strides and offset (v views x's storage)."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i, nd = v._ndim
    for i in range(nd):
        shape[i] = v._shape[i]
        strides[i] = v._strides[i]
    if x._shape != NULL and x._shape != x._dims:
        free(x._shape)
        x._shape = x._dims
        x._strides = x._dims + INLINE_DIMS
    init_dims(x, nd)
    for i in range(nd):
        x._shape[i] = shape[i]
        x._strides[i] = strides[i]
    x._numel = v._numel
    x._offset = v._offset
    x._data = x._storage.ptr + v._offset * ITEMSIZE[x._dtype]
    x._contiguous = strides_are_contiguous(nd, shape, strides)


cdef bint records_view_inplace(Tensor x) except -1:
    """PyTorch's checks of an in-place op on x, then whether grad mode
    records it (a view whose base was written reads the base first)."""
    check_inplace(x)
    if not cgrad_grad_enabled:
        return False
    refresh_view(x)
    return x._requires_grad


cdef Tensor commit_view_inplace(Tensor x, Tensor v, Node node):
    """x takes v's geometry; node (None: nothing recorded, else a new node
    of the in-place form with its fields set) continues x's history."""
    global cgrad_fwd_active
    cdef object tangent = x._fw_grad if cgrad_fwd_active else None
    cdef bint fwd = cgrad_fwd_active
    if node is not None:
        cgrad_fwd_active = False     # the tangent follows below, not through the node
        try:
            wire1(node, x)
            if isinstance(node, PythonBackward):
                track(node)      # Python-level nodes stay in the GC's view (python_methods.pxi)
            set_history(x, node)
        finally:
            cgrad_fwd_active = fwd
    take_geometry(x, v)
    if tangent is not None and (<Tensor>tangent)._storage is not x._storage:
        take_geometry(<Tensor>tangent, v)
    x._storage.version += 1
    if x._base is not None and node is not None:
        x._view_version = x._storage.version   # its history is current: no re-read of the base
    # unrecorded (no_grad): as after any in-place op, a view's history is
    # re-read from its base (AsStridedBackward0 with the new geometry), or
    # refused as PyTorch does for views made in no_grad or by multi-output ops
    return x


cdef Tensor geometry_alias(Tensor x):
    """x's storage and geometry without history, for the out-of-place op
    that computes the new geometry."""
    cdef Tensor a = alias_detached(x)
    a._requires_grad = False
    return a


def _tensor_transpose_(Tensor self, dim0, dim1):
    cdef int d0 = int_arg(dim0, "transpose_", "dim0", 1)
    cdef int d1 = int_arg(dim1, "transpose_", "dim1", 2)
    return transpose_inplace(self, d0, d1)


def _tensor_swapaxes_(Tensor self, axis0, axis1):
    return transpose_inplace(self, int_arg(axis0, "swapaxes_", "axis0", 1), int_arg(axis1, "swapaxes_", "axis1", 2))


def _tensor_swapdims_(Tensor self, dim0, dim1):
    return transpose_inplace(self, int_arg(dim0, "swapdims_", "dim0", 1), int_arg(dim1, "swapdims_", "dim1", 2))


cdef Tensor transpose_inplace(Tensor x, Py_ssize_t dim0, Py_ssize_t dim1):
    cdef bint record = records_view_inplace(x)
    cdef Tensor v = op_transpose(geometry_alias(x), dim0, dim1)
    cdef TransposeBackward1 node = None
    if record:
        node = TransposeBackward1.__new__(TransposeBackward1)
        node.dim0 = wrap_dim(dim0, x._ndim)
        node.dim1 = wrap_dim(dim1, x._ndim)
    return commit_view_inplace(x, v, node)


def _tensor_t_(Tensor self):
    cdef bint record
    cdef Tensor v
    cdef TBackward1 node = None
    if self._ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self._ndim}D")
    record = records_view_inplace(self)
    v = op_t(geometry_alias(self))
    if record:
        node = TBackward1.__new__(TBackward1)
    return commit_view_inplace(self, v, node)


def _tensor_unsqueeze_(Tensor self, dim):
    cdef Py_ssize_t d = int_arg(dim, "unsqueeze_", "dim", 1)
    cdef bint record = records_view_inplace(self)
    cdef Tensor v = op_unsqueeze(geometry_alias(self), d)
    cdef UnsqueezeBackward1 node = None
    if record:
        node = UnsqueezeBackward1.__new__(UnsqueezeBackward1)
        node.dim = wrap_dim(d, self._ndim + 1)
    return commit_view_inplace(self, v, node)


def _tensor_squeeze_(Tensor self, *args, **kwargs):
    cdef object dim
    cdef bint record
    cdef Tensor v
    cdef Node node = None
    try:
        dim = squeeze_dim_args(args, kwargs, False)
    except TypeError as e:
        raise TypeError(str(e).replace("squeeze()", "squeeze_()", 1)) from None
    record = records_view_inplace(self)
    v = op_squeeze_any(geometry_alias(self), dim)
    if record:
        if dim is None:
            node = SqueezeBackward3.__new__(SqueezeBackward3)
            (<SqueezeBackward3>node).self_sizes = shape_tuple(self)
        elif isinstance(dim, tuple):
            node = SqueezeBackward5.__new__(SqueezeBackward5)
            (<SqueezeBackward5>node).self_sizes = shape_tuple(self)
        else:
            node = SqueezeBackward4.__new__(SqueezeBackward4)
            (<SqueezeBackward4>node).self_sizes = shape_tuple(self)
            (<SqueezeBackward4>node).dim = wrap_dim(dim, self._ndim)
    return commit_view_inplace(self, v, node)


def _view_inplace(Tensor x, Tensor v, node_cls=None, backward_fn=None):
    """as_strided_'s commit (cgrad/_ops_views.py): x takes v's geometry (v a
    checked view of x's storage); when grad mode records x, a new node_cls
    node (a PythonBackward subclass) with backward_fn continues its history."""
    cdef PythonBackward node = None
    if records_view_inplace(x) and node_cls is not None:
        node = node_cls()
        node.backward_fn = backward_fn
    return commit_view_inplace(x, v, node)


install_tensor_methods({
    "transpose_": _tensor_transpose_, "swapaxes_": _tensor_swapaxes_, "swapdims_": _tensor_swapdims_,
    "t_": _tensor_t_, "squeeze_": _tensor_squeeze_, "unsqueeze_": _tensor_unsqueeze_,
})
