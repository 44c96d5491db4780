# Basic indexing: the view ops (select, slice, alias) with their nodes, and
# the parser that turns an index into view steps and advanced indices
# (PyTorch's applySlicing); see index_kernels.pxi for the layers.


# ---------------------------------------------------------------------------
# View ops of basic indexing and their nodes


cdef class SelectBackward0(Node):
    cdef tuple self_sizes
    cdef int dim
    cdef Py_ssize_t index

    cdef tuple apply(self, object grads):
        return (op_select_backward(<Tensor>grads, self.self_sizes, self.dim, self.index),)


cdef class SliceBackward0(Node):
    cdef tuple self_sizes
    cdef int dim
    cdef Py_ssize_t start, end, step

    cdef tuple apply(self, object grads):
        return (op_slice_backward(<Tensor>grads, self.self_sizes, self.dim, self.start, self.end,
                                  self.step),)


cdef class AliasBackward0(Node):
    cdef tuple apply(self, object grads):
        return (grads,)


cdef class SelectBackwardBackward0(Node):
    cdef int dim
    cdef Py_ssize_t index

    cdef tuple apply(self, object grads):
        return (op_select(<Tensor>grads, self.dim, self.index),)


cdef class SliceBackwardBackward0(Node):
    cdef int dim
    cdef Py_ssize_t start, end, step

    cdef tuple apply(self, object grads):
        return (op_slice(<Tensor>grads, self.dim, self.start, self.end, self.step),)


cdef Tensor select_view(Tensor x, int dim, Py_ssize_t index):
    """x.select(dim, index) as a plain view; dim and index already valid
    (index in [0, size))."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i, j = 0
    for i in range(x._ndim):
        if i != dim:
            shape[j] = x._shape[i]
            strides[j] = x._strides[i]
            j += 1
    return make_view(x, x._ndim - 1, shape, strides, x._offset + index * x._strides[dim])


cdef Tensor slice_view(Tensor x, int dim, Py_ssize_t start, Py_ssize_t end, Py_ssize_t step):
    """x[start:end:step] along dim as a plain view; start <= end already
    clamped to [0, size], step > 0."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i
    for i in range(x._ndim):
        shape[i] = x._shape[i]
        strides[i] = x._strides[i]
    shape[dim] = (end - start + step - 1) // step
    strides[dim] = x._strides[dim] * step
    return make_view(x, x._ndim, shape, strides, x._offset + start * x._strides[dim])


cdef Tensor op_select(Tensor x, int dim, Py_ssize_t index):
    cdef Tensor out = select_view(x, dim, index)
    cdef SelectBackward0 node
    if needs_grad(x):
        node = SelectBackward0.__new__(SelectBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        node.dim = dim
        node.index = index
        set_history(out, node)
    return out


cdef Tensor op_slice(Tensor x, int dim, Py_ssize_t start, Py_ssize_t end, Py_ssize_t step):
    cdef Tensor out = slice_view(x, dim, start, end, step)
    cdef SliceBackward0 node
    if needs_grad(x):
        node = SliceBackward0.__new__(SliceBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        node.dim = dim
        node.start = start
        node.end = end
        node.step = step
        set_history(out, node)
    return out


cdef Tensor op_alias(Tensor x):
    return alias_into(make_view(x, x._ndim, x._shape, x._strides, x._offset), x)


cdef Tensor alias_into(Tensor out, Tensor x):
    """out, a fresh view of all of x, on x's graph through AliasBackward0."""
    cdef AliasBackward0 node
    if needs_grad(x):
        node = AliasBackward0.__new__(AliasBackward0)
        wire1(node, x)
        set_history(out, node)
    return out


cdef Tensor op_select_backward(Tensor g, tuple sizes, int dim, Py_ssize_t index):
    """zeros(sizes) with g written at index along dim."""
    cdef Tensor out = new_tensor_from_tuple(sizes, g._dtype, True)
    cdef SelectBackwardBackward0 node
    copy_into(select_view(out, dim, index), g)
    if needs_grad(g):
        node = SelectBackwardBackward0.__new__(SelectBackwardBackward0)
        wire1(node, g)
        node.dim = dim
        node.index = index
        set_history(out, node)
    return out


cdef Tensor op_slice_backward(Tensor g, tuple sizes, int dim, Py_ssize_t start, Py_ssize_t end,
                              Py_ssize_t step):
    cdef Tensor out = new_tensor_from_tuple(sizes, g._dtype, True)
    cdef Tensor dst = slice_view(out, dim, start, end, step)
    cdef SliceBackwardBackward0 node
    cdef Py_ssize_t bshape[MAX_DIMS]
    if not same_shape(dst, g):      # only from a direct grad_fn call: copy_'s check
        if broadcast_shapes(dst._ndim, dst._shape, g._ndim, g._shape, bshape) != dst._ndim:
            raise RuntimeError(f"expand: the number of sizes provided ({dst._ndim}) must be greater or "
                               f"equal to the number of dimensions in the tensor ({g._ndim})")
    copy_into(dst, g)
    if needs_grad(g):
        node = SliceBackwardBackward0.__new__(SliceBackwardBackward0)
        wire1(node, g)
        node.dim = dim
        node.start = start
        node.end = end
        node.step = step
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# Parsing an index (PyTorch's applySlicing). The view steps are applied to a
# geometry held in C arrays and recorded as tuples so that they can be
# replayed as differentiable ops (grad mode) or undone (CopySlices).

cdef enum:
    STEP_SELECT = 0
    STEP_SLICE = 1
    STEP_UNSQUEEZE = 2


cdef struct Geom:
    int ndim
    Py_ssize_t offset
    Py_ssize_t shape[MAX_DIMS]
    Py_ssize_t strides[MAX_DIMS]


cdef class _Parsed:
    cdef Geom g
    cdef list steps          # view steps, in order
    cdef list tindex         # advanced indices: (dim, Tensor) in order


cdef int step_select(_Parsed p, int dim, Py_ssize_t index, Py_ssize_t real_dim) except -1:
    cdef Geom* g = &p.g
    cdef Py_ssize_t size
    cdef int i
    if index == 0 and dim == 0 and g.ndim == 0:
        raise IndexError(ZERO_DIM_INDEX_MSG)
    size = g.shape[dim] if dim < g.ndim else 0
    if not (size > -1 - index and size > index):
        raise IndexError(f"index {index} is out of bounds for dimension {real_dim} with size {size}")
    if index < 0:
        index += size
    g.offset += index * g.strides[dim]
    for i in range(dim, g.ndim - 1):
        g.shape[i] = g.shape[i + 1]
        g.strides[i] = g.strides[i + 1]
    g.ndim -= 1
    p.steps.append((STEP_SELECT, dim, index))
    return 0


cdef int step_slice(_Parsed p, int dim, object sl, bint optimize) except -1:
    cdef Geom* g = &p.g
    cdef Py_ssize_t start, stop, step, length
    step = 1 if sl.step is None else slice_component(sl.step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    start = (SSIZE_MAX if step < 0 else 0) if sl.start is None else slice_component(sl.start)
    stop = (SSIZE_MIN if step < 0 else SSIZE_MAX) if sl.stop is None else slice_component(sl.stop)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    if g.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    if dim >= g.ndim:
        # past the last dim (several Ellipses): PyTorch skips a full slice
        # there without looking at the size, else slice() rejects the dim
        if optimize and start == 0 and stop == SSIZE_MAX and step == 1:
            return 0
        wrap_dim(dim, g.ndim)
    length = g.shape[dim]
    if optimize and start == 0 and stop >= length and step == 1:
        return 0
    if start < 0:
        start += length
    if stop < 0:
        stop += length
    if start < 0:
        start = 0
    elif start > length:
        start = length
    if stop < start:
        stop = start
    elif stop > length:
        stop = length
    g.offset += start * g.strides[dim]
    g.shape[dim] = (stop - start + step - 1) // step
    g.strides[dim] *= step
    p.steps.append((STEP_SLICE, dim, start, stop, step))
    return 0


cdef int step_unsqueeze(_Parsed p, int dim) except -1:
    cdef Geom* g = &p.g
    cdef int i
    if dim > g.ndim:
        wrap_dim(dim, g.ndim + 1)
    if g.ndim + 1 > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    for i in range(g.ndim, dim, -1):
        g.shape[i] = g.shape[i - 1]
        g.strides[i] = g.strides[i - 1]
    g.strides[dim] = g.strides[dim + 1] * g.shape[dim + 1] if dim < g.ndim else 1
    g.shape[dim] = 1
    g.ndim += 1
    p.steps.append((STEP_UNSQUEEZE, dim))
    return 0


cdef int step_bool(_Parsed p, int dim, bint value) except -1:
    """A boolean adds a dim of size 1, indexed by [0] (True) or [] (False)."""
    step_unsqueeze(p, dim)
    p.tindex.append((dim, long_vector([0] if value else [])))
    return 0


cdef bint treat_sequence_as_tuple(object index) except -1:
    """numpy's heuristic (as PyTorch keeps it): a short non-tuple sequence
    holding a slice, Ellipsis, None, a tensor or a sequence is a tuple."""
    cdef Py_ssize_t n, i
    if isinstance(index, tuple):
        return True
    if isinstance(index, Tensor) or type(index) is np.ndarray:
        return False
    if not PySequence_Check(index):
        return False
    try:
        n = len(index)
    except Exception:
        return False
    if n >= 32:
        return False
    for i in range(n):
        try:
            obj = index[i]
        except Exception:
            return False
        if (isinstance(obj, Tensor) or PySequence_Check(obj) or isinstance(obj, slice)
                or obj is Ellipsis or obj is None):
            import warnings
            warnings.warn(SEQ_AS_TUPLE_MSG, UserWarning, stacklevel=1)
            return True
    return False


cdef int count_specified_dims(tuple index) except -1:
    cdef int count = 0
    for obj in index:
        if isinstance(obj, Tensor):
            count += (<Tensor>obj)._ndim if is_mask_dtype((<Tensor>obj)._dtype) else 1
        elif obj is not None and obj is not Ellipsis and obj is not True and obj is not False:
            count += 1
    return count


cdef object as_plain_lists(object data):
    """Nested sequences (ranges, ...) as lists, for tensor_from_data."""
    if isinstance(data, (list, tuple)):
        return [as_plain_lists(x) for x in data]
    if isinstance(data, (str, bytes, Tensor, np.ndarray)) or not PySequence_Check(data):
        return data
    return [as_plain_lists(x) for x in data]


cdef Tensor sequence_to_index(object seq):
    """PyTorch's sequenceToVariable: a bool tensor when the data is bool,
    else int64 (floats truncate)."""
    cdef Tensor t
    if isinstance(seq, np.ndarray):
        if seq.dtype == np.bool_ or seq.dtype == np.uint8:
            if seq.dtype == np.uint8:
                import warnings
                warnings.warn("indexing with dtype cgrad.uint8 is now deprecated, please use a dtype "
                              "cgrad.bool instead.", UserWarning, stacklevel=1)
            return tensor_from_ndarray(np.array(seq, dtype=np.bool_), False)
        try:
            arr = np.asarray(seq, dtype=np.int64)
        except (TypeError, ValueError):
            raise RuntimeError(f"Could not infer dtype of {tp_name(seq.flat[0]) if seq.size else 'object'}")
        return tensor_from_ndarray(np.array(arr), False)
    t = tensor_from_data(as_plain_lists(seq), None)
    if t._dtype != BOOL and t._dtype != I64:
        t = cast_tensor(t, I64)
    return t


cdef inline bint is_mask_dtype(int dt) noexcept:
    """Index tensors of these dtypes are masks (uint8: deprecated)."""
    return dt == BOOL or dt == U8


cdef int index_tensor_step(_Parsed p, int* dim, Tensor t, Py_ssize_t real_dim) except -1:
    """A tensor in the index: a 0-d integer one selects, a 0-d bool (or
    uint8) one acts as a Python bool, others are advanced indices at `dim`."""
    if t._ndim == 0 and (is_int(t._dtype) or t._dtype == BOOL):
        if is_mask_dtype(t._dtype):
            step_bool(p, dim[0], (<uint8_t*>t._data)[0] != 0)
            dim[0] += 1
        else:
            step_select(p, dim[0], <int64_t>scalar_value(t), real_dim)
        return 0
    p.tindex.append((dim[0], t))
    dim[0] += t._ndim if is_mask_dtype(t._dtype) else 1
    return 0


cdef str UINT8_INDEX_MSG = ("indexing with dtype cgrad.uint8 is now deprecated, please use a dtype "
                            "cgrad.bool instead.")


cdef Tensor as_bool_mask(Tensor t):
    """A uint8 index tensor as the bool mask PyTorch makes of it."""
    return cast_tensor(t, BOOL) if t._dtype == U8 else t


cdef _Parsed parse_index(Tensor self, object index, bint setting):
    """The view steps and advanced indices of `index` on self. `setting`
    gives __setitem__'s treatment of single simple indices (a full slice is
    no view, a True no advanced index)."""
    cdef _Parsed p = _Parsed.__new__(_Parsed)
    cdef Geom* g = &p.g
    cdef tuple tup
    cdef int dim = 0, specified, i
    cdef Py_ssize_t real_dim
    g.ndim = self._ndim
    g.offset = self._offset
    for i in range(self._ndim):
        g.shape[i] = self._shape[i]
        g.strides[i] = self._strides[i]
    p.steps = []
    p.tindex = []
    # single simple indices (PyTorch handles these before wrapping in a tuple)
    if index is None:
        step_unsqueeze(p, 0)
        return p
    if index is Ellipsis:
        return p
    if is_long_index(index):
        step_select(p, 0, unpack_long(index), 0)
        return p
    if isinstance(index, slice):
        step_slice(p, 0, index, setting)
        return p
    if index is True or index is False:
        if setting:
            step_unsqueeze(p, 0)
        else:
            step_bool(p, 0, index)
        return p
    if treat_sequence_as_tuple(index):
        tup = tuple(index)
    else:
        tup = (index,)
    specified = count_specified_dims(tup)
    if specified > self._ndim:
        raise IndexError(f"too many indices for tensor of dimension {self._ndim}")
    real_dim = 0
    for obj in tup:
        if is_long_index(obj):
            step_select(p, dim, unpack_long(obj), real_dim)
        elif isinstance(obj, slice):
            step_slice(p, dim, obj, True)
            dim += 1
        elif obj is Ellipsis:
            dim += self._ndim - specified
        elif obj is None:
            step_unsqueeze(p, dim)
            dim += 1
        elif obj is True or obj is False:
            step_bool(p, dim, obj)
            dim += 1
        elif isinstance(obj, Tensor):
            index_tensor_step(p, &dim, <Tensor>obj, real_dim)
        elif PySequence_Check(obj):
            index_tensor_step(p, &dim, sequence_to_index(obj), real_dim)
        else:
            try:
                v = _operator.index(obj)
            except TypeError:
                raise IndexError(INVALID_INDEX_MSG.format(tp_name(obj))) from None
            step_select(p, dim, unpack_long(v), real_dim)
        real_dim += 1
    return p


cdef Tensor apply_steps(Tensor t, list steps):
    """Replay view steps as ops (recording history when t needs grad)."""
    for st in steps:
        if st[0] == STEP_SELECT:
            t = op_select(t, st[1], st[2])
        elif st[0] == STEP_SLICE:
            t = op_slice(t, st[1], st[2], st[3], st[4])
        else:
            t = op_unsqueeze(t, st[1])
    return t


cdef Tensor parsed_view(Tensor self, _Parsed p):
    """self with p's view steps applied: one view, or the chain of view ops
    (with their nodes) when self needs grad."""
    if needs_grad(self):
        return apply_steps(self, p.steps)
    return make_view(self, p.g.ndim, p.g.shape, p.g.strides, p.g.offset)
