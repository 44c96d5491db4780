# In-place ops and their autograd history, as PyTorch defines it.
#
# Without history (no_grad, or nothing requires grad) an in-place op runs its
# kernel straight into the tensor's memory and bumps the version counter.
# With history it is recorded out of place on `old`, a stand-in for the
# tensor's value before the op that carries the tensor's history (an alias,
# or a private copy when the recorded node saves it), and commit_inplace()
# writes the result into the tensor and rebases the history onto the new
# node. For a view, the view's base gets a CopySlices node (the gradient of
# the written region goes through the recorded op, the rest passes through)
# and the view an AsStridedBackward0 node over the base; other views of the
# base notice the version change and regenerate their grad_fn the same way
# the next time autograd looks at them (refresh_view).
#
# In the ops layer, below the op families: each of them records its in-place
# forms through old_value and commit_inplace, and the nodes here are ops'
# nodes like any other (their backward calls ops).


cdef enum:
    IP_ADD = 0
    IP_SUB = 1
    IP_MUL = 2
    IP_DIV = 3

cdef Tensor old_value(Tensor self, bint private_copy):
    """self's value before an in-place op, with self's history."""
    cdef Tensor old, tan
    refresh_view(self)
    old = contiguous_copy(self) if private_copy else alias_detached(self)
    old._grad_fn = self._grad_fn
    old._output_nr = self._output_nr
    old._requires_grad = self._requires_grad
    if cgrad_fwd_active and self._fw_grad is not None:
        # read by the op's JVP before the write (tangents are eager); a
        # private copy is saved for backward, which forward-over-reverse runs
        # after the write has overwritten self's tangent in place: its own copy
        old._fw_grad = self._fw_grad
        if private_copy:
            tan = with_same_meta(old, <Tensor>self._fw_grad)
            fw_set_tangent(old, op_clone(tan) if tan is self._fw_grad else tan)
    return old


cdef Tensor commit_inplace(Tensor self, Tensor result):
    """Write `result` (computed on old_value(self)) into self, then make
    self's history, and for a view its base's, start at result's node."""
    copy_into(self, result)
    self._storage.version += 1
    if result._grad_fn is not None:
        rebase_after_write(self, result._grad_fn)
    if cgrad_fwd_active and result._fw_grad is not None:
        fw_write_inplace(self, <Tensor>result._fw_grad)
    return self


cdef void rebase_after_write(Tensor written, Node fn) except *:
    """`written` was just written in place by the op recorded as fn (whose
    input 0 is written's old value). A tensor that is not a view takes fn as
    its history. For a view, its base takes CopySlices(fn): the gradient of
    the written region goes through fn, the rest to the base's previous
    history; the view then reads the base's new history (AsStridedBackward0),
    and other views of the base regenerate theirs when next used."""
    cdef Tensor base = written._base
    cdef CopySlices cs
    if base is None:
        set_history(written, fn, 0)
        return
    cs = CopySlices.__new__(CopySlices)
    cs.fn = fn
    cs.geometry = view_geometry(base, written)
    wire_copyslices(cs, base, fn)
    set_history(base, cs, 0)
    set_view_history(written, base)


# ---------------------------------------------------------------------------
# Views and their geometry in the base storage's frame


cdef class Geometry:
    """Where a view's elements sit in its base's storage, and where the
    base's do: enough to scatter a view's gradient into a base-shaped one and
    to gather it back."""
    cdef tuple base_size, base_stride, view_size, view_stride
    cdef Py_ssize_t base_offset, view_offset, extent
    cdef int dtype


cdef tuple strides_tuple(Tensor t):
    cdef int i
    return tuple([t._strides[i] for i in range(t._ndim)])


cdef Py_ssize_t storage_extent(Tensor t) noexcept:
    cdef Py_ssize_t e = t._offset + 1
    cdef int i
    if t._numel == 0:
        return t._offset
    for i in range(t._ndim):
        e += (t._shape[i] - 1) * t._strides[i]
    return e


cdef Geometry view_geometry(Tensor base, Tensor view):
    cdef Geometry g = Geometry.__new__(Geometry)
    g.base_size = shape_tuple(base)
    g.base_stride = strides_tuple(base)
    g.base_offset = base._offset
    g.view_size = shape_tuple(view)
    g.view_stride = strides_tuple(view)
    g.view_offset = view._offset
    g.extent = max(storage_extent(base), storage_extent(view))
    g.dtype = base._dtype
    return g


cdef Tensor frame_tensor(Storage buf, int dt, tuple size, tuple stride, Py_ssize_t offset):
    """A tensor over `buf` with the given geometry (no history, no _base)."""
    cdef Tensor t = fresh_tensor()
    cdef int i, nd = len(size)
    init_dims(t, nd)
    for i in range(nd):
        t._shape[i] = size[i]
        t._strides[i] = stride[i]
    t._numel = checked_numel(nd, t._shape)
    t._dtype = dt
    t._storage = buf
    t._offset = offset
    t._data = buf.ptr + offset * ITEMSIZE[dt]
    t._contiguous = strides_are_contiguous(nd, t._shape, t._strides)
    return t


cdef Tensor scatter_view_grad(Tensor g, Geometry geo):
    """A base-shaped gradient: zeros, with g in the view's region (summed
    where the view's elements share memory: an expanded or unfolded view)."""
    cdef Storage buf = new_storage(geo.extent * ITEMSIZE[geo.dtype], True)
    cdef Tensor region = frame_tensor(buf, geo.dtype, geo.view_size, geo.view_stride, geo.view_offset)
    if view_overlaps(geo.view_size, geo.view_stride):
        accumulate_into_view(buf, geo, g)
    else:
        copy_into(region, g)
    return frame_tensor(buf, geo.dtype, geo.base_size, geo.base_stride, geo.base_offset)


cdef bint view_overlaps(tuple size, tuple stride):
    """Whether two elements of a view may share memory: its dims sorted by
    stride, each must step past everything the smaller ones reach."""
    cdef Py_ssize_t reach = 0
    for st, sz in sorted([(abs(stride[i]), size[i]) for i in range(len(size)) if size[i] > 1]):
        if st <= reach:
            return True
        reach += (sz - 1) * st
    return False


cdef void accumulate_into_view(Storage buf, Geometry geo, Tensor g) except *:
    """buf[position of each view element] += g's element, in one numpy
    add.at over the whole view."""
    cdef Py_ssize_t extent = geo.extent
    positions = np.full((), geo.view_offset, np.int64)
    for sz, st in zip(geo.view_size, geo.view_stride):
        positions = np.add.outer(positions, np.arange(sz, dtype=np.int64) * st)
    flat = ndarray_view(frame_tensor(buf, geo.dtype, (extent,), (1,), 0))
    values = ndarray_view(contiguous_copy(g) if g._dtype == geo.dtype else cast_tensor(g, geo.dtype))
    np.add.at(flat, positions.reshape(-1), values.reshape(-1))


cdef tuple split_view_grad(Tensor g, Geometry geo):
    """(g with the view's region zeroed, the view's region of g): the two
    parts of a base-shaped gradient, as new tensors."""
    cdef Storage buf = new_storage(geo.extent * ITEMSIZE[geo.dtype], True)
    cdef Tensor frame = frame_tensor(buf, geo.dtype, geo.base_size, geo.base_stride, geo.base_offset)
    cdef Tensor region = frame_tensor(buf, geo.dtype, geo.view_size, geo.view_stride, geo.view_offset)
    cdef Tensor inside
    copy_into(frame, g)
    inside = contiguous_copy(region)
    fill_scalar(region, 0)
    return (frame, inside)


cdef class AsStridedBackward0(Node):
    """The history of a view whose base was modified in place: the view is
    read out of the base's current value."""
    cdef Geometry geometry

    cdef tuple apply(self, object grads):
        return (op_view_scatter(<Tensor>grads, self.geometry),)


cdef class AsStridedScatterBackward0(Node):
    """Backward of scattering a view-shaped gradient into a base-shaped one
    (only met in higher-order gradients)."""
    cdef Geometry geometry

    cdef tuple apply(self, object grads):
        return (op_view_gather(<Tensor>grads, self.geometry),)


cdef Tensor op_view_scatter(Tensor g, Geometry geo):
    cdef Tensor out = scatter_view_grad(g, geo)
    cdef AsStridedScatterBackward0 node
    if needs_grad(g):
        node = AsStridedScatterBackward0.__new__(AsStridedScatterBackward0)
        wire1(node, g)
        node.geometry = geo
        set_history(out, node)
    return out


cdef Tensor op_view_gather(Tensor g, Geometry geo):
    cdef Tensor out = <Tensor>split_view_grad(g, geo)[1]
    cdef AsStridedBackward0 node
    if needs_grad(g):
        node = AsStridedBackward0.__new__(AsStridedBackward0)
        wire1(node, g)
        node.geometry = geo
        set_history(out, node)
    return out


cdef class CopySlices(Node):
    """A base whose region (a view) was modified in place by the op recorded
    as fn. Edge 0 is the base's previous history, the others are fn's other
    inputs (as in PyTorch): the region's gradient goes through fn, whose
    gradient for the region's old value goes back into the base's."""
    cdef readonly Node fn

    def name(self):
        return "torch::autograd::CopySlices"     # PyTorch's C++ name, as its name() shows it
    cdef Geometry geometry

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor region, rest, old_grad
        cdef tuple fn_grads, parts
        if cgrad_grad_enabled:
            region = op_view_gather(g, self.geometry)
            fn_grads = self.fn.apply(region)
            rest = op_sub(g, op_view_scatter(region, self.geometry))
            if fn_grads[0] is not None:
                rest = op_add(rest, op_view_scatter(<Tensor>fn_grads[0], self.geometry))
            return (rest,) + fn_grads[1:]
        parts = split_view_grad(g, self.geometry)
        rest = <Tensor>parts[0]
        fn_grads = self.fn.apply(<Tensor>parts[1])
        if fn_grads[0] is not None:
            old_grad = <Tensor>fn_grads[0]
            copy_into(frame_tensor(rest._storage, rest._dtype, self.geometry.view_size,
                                   self.geometry.view_stride, self.geometry.view_offset), old_grad)
        return (rest,) + fn_grads[1:]

    cdef void release_saved(self) noexcept:
        if self.fn is not None:
            self.fn.release_saved()


cdef void wire_copyslices(CopySlices cs, Tensor base, Node fn) except *:
    cdef tuple fn_nrs = fn.next_nrs
    cs.next_edges = (grad_edge(base),) + fn.next_edges[1:]
    if base._output_nr or fn_nrs is not None:
        cs.next_nrs = (base._output_nr,) + (fn_nrs[1:] if fn_nrs is not None
                                             else (0,) * (len(fn.next_edges) - 1))
    cs.num_outputs = 1
    cs.seq = next_seq()
    untrack(cs)


cdef void set_view_history(Tensor view, Tensor base) except *:
    cdef AsStridedBackward0 node = AsStridedBackward0.__new__(AsStridedBackward0)
    wire1(node, base)
    node.geometry = view_geometry(base, view)
    set_history(view, node, 0)
    view._view_version = view._storage.version


cdef void refresh_view_slow(Tensor t) except *:
    """A view whose memory was written since its history was set: its
    grad_fn becomes a read of the base's current history."""
    cdef Tensor base = t._base
    if t._creation_meta != CM_DEFAULT and (t._grad_fn is not None or base._requires_grad):
        if not cgrad_grad_enabled:
            return      # stays stale: PyTorch too refuses it only once grad mode is back
        raise RuntimeError(view_rebase_error(t, True))
    t._view_version = t._storage.version
    if base._requires_grad:
        set_view_history(t, base)


refresh_stale_view = refresh_view_slow


# ---------------------------------------------------------------------------
# The arithmetic in-place ops: add_, sub_, mul_, div_ and += -= *= /=


cdef object inplace_arith(int which, Tensor self, object other, object alpha):
    # NotImplemented for a non-number other: += then falls back as Python does
    cdef Tensor ot = None
    cdef int dt, nd
    cdef RowFn* rows
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Operand ops[3]
    cdef ScalarBuf buf
    if isinstance(other, Tensor):
        ot = <Tensor>other
    elif is_scalar(other):
        other = normalize_scalar(other)
    else:
        return NotImplemented
    check_inplace(self)
    dt = tensor_result_type(self, ot) if ot is not None else scalar_result_type(self._dtype, other)
    if which == IP_DIV and not is_float(dt):
        dt = DEFAULT_FLOAT
    if which == IP_SUB and (self._dtype == BOOL or (ot is not None and ot._dtype == BOOL)
                            or isinstance(other, bool)):
        check_bool_sub(self, other)
    check_alpha(dt, alpha)
    if alpha is not None and alpha == 1:
        alpha = None
    check_written_overlap(self)
    check_input_overlap(self, ot)
    if CATEGORY[dt] > CATEGORY[self._dtype]:
        raise RuntimeError(
            f"result type {dtype_title(dt)} can't be cast to the desired output type {dtype_title(self._dtype)}")
    if ot is not None:
        nd = broadcast_shapes(self._ndim, self._shape, ot._ndim, ot._shape, shape)
        if not shape_equals(self, nd, shape):
            raise RuntimeError(
                f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the broadcast "
                f"shape {shape_str(shape, nd)}")
    if which == IP_SUB and (self._dtype == BOOL or (ot is not None and ot._dtype == BOOL)
                            or isinstance(other, bool)):
        check_bool_sub(self, other)
    if records(self, other):
        return commit_inplace(self, arith_on(which, old_value(self, saves_self(which, ot)), ot, other,
                                             alpha))
    if dt != self._dtype or (is_half16(self._dtype) and (which == IP_MUL or which == IP_DIV)
                             and (ot is None or ot._numel == 1)):
        # computed in the promoted dtype (PyTorch's common dtype) and then
        # stored; float16 by a scalar uses the scalar's own value (op_mul/op_div)
        copy_into(self, arith_on(which, self, ot, other, alpha))
        self._storage.version += 1
        return self
    rows = binary_rows(which)
    if rows[self._dtype] == NULL:
        raise RuntimeError(f"\"{binary_name(which)}\" not implemented for '{dtype_title(self._dtype)}'")
    if alpha is not None and has_fused_rows(self._dtype) and alpha != 1:
        # one rounding, as PyTorch (fma_rows.h); sub is add with -alpha
        if ot is not None:
            fused_values(FUSED_AXPY, self._dtype, self, ot, None,
                         -alpha if which == IP_SUB else alpha, self)
        else:
            fused_number_values(self._dtype, self, other, -alpha if which == IP_SUB else alpha, self)
        self._storage.version += 1
        return self
    ops[0] = operand_of(self)
    ops[1] = operand_of(self)
    if ot is not None:
        if alpha is not None:
            # alpha * other in self's dtype, the op's common dtype (in a lower
            # other's own dtype, float32 += alpha * bfloat16 lost bits)
            ot = scalar_kernel(MUL_ROWS, ot, alpha, False, self._dtype, self._dtype, "mul")
        if ot._dtype != self._dtype:
            ot = cast_tensor(ot, self._dtype)
        ops[2] = operand_of(ot)
    else:
        store_scalar(&buf, other * alpha if alpha is not None else other, self._dtype)
        ops[2] = operand_of_scalar(&buf, ITEMSIZE[self._dtype])
    run_elementwise(rows[self._dtype], 3, ops, self._ndim, self._shape, self._numel, NULL)
    self._storage.version += 1
    return self


cdef object inplace_arith_method(int which, Tensor self, object other, object alpha, str name):
    """add_/sub_/mul_/div_: a non-number other is an argument error."""
    cdef object r = inplace_arith(which, self, other, alpha)
    if r is NotImplemented:
        raise TypeError(f"{name}(): argument 'other' (position 1) must be Tensor, not {py_typename(other)}")
    return r


cdef inline bint saves_self(int which, Tensor ot):
    """Whether the recorded node keeps the old value (then it must be a
    private copy, or the in-place write would invalidate it)."""
    return (which == IP_MUL or which == IP_DIV) and ot is not None and ot._requires_grad


cdef Tensor arith_on(int which, Tensor old, Tensor ot, object other, object alpha):
    if ot is not None:
        if which == IP_ADD:
            return op_add(old, ot, alpha)
        if which == IP_SUB:
            return op_sub(old, ot, alpha)
        if which == IP_MUL:
            return op_mul(old, ot)
        return op_div(old, ot)
    if which == IP_ADD:
        return op_add_scalar(old, other, alpha)
    if which == IP_SUB:
        return op_sub_scalar(old, other, alpha)
    if which == IP_MUL:
        return op_mul_scalar(old, other)
    return op_div_scalar(old, other)


cdef RowFn* binary_rows(int which) noexcept:
    if which == IP_ADD:
        return ADD_ROWS
    if which == IP_SUB:
        return SUB_ROWS
    if which == IP_MUL:
        return MUL_ROWS
    return DIV_ROWS


cdef str binary_name(int which):
    return ("add", "sub", "mul", "div")[which]


# ---------------------------------------------------------------------------
# zero_, fill_, copy_


cdef class InplaceFn(Node):
    """Nodes of writes (zero_, fill_, copy_, __setitem__): from the gradient
    of the written tensor, the gradient of its old value (grad_self_part;
    None: zeros, it was overwritten) and of the written value
    (grad_other_part)."""

    cdef object grad_self_part(self, Tensor g):
        return None

    cdef object grad_other_part(self, Tensor g):
        return None

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = self.grad_self_part(g)
            if ga is None:
                ga = op_zeros_like(g)
        if len(self.next_edges) == 1:
            return (ga,)
        if wants_grad(self, 1):
            gb = self.grad_other_part(g)
        return (ga, gb)


cdef class CopyBackwards(InplaceFn):
    cdef int src_dtype

    def name(self):
        return "torch::autograd::CopyBackwards"     # PyTorch's C++ name, as its name() shows it

    cdef object grad_other_part(self, Tensor g):
        return op_to_dtype(g, self.src_dtype)


cdef class FillBackward3(InplaceFn):
    cdef int value_dtype

    cdef object grad_other_part(self, Tensor g):
        return op_to_dtype(op_sum(g), self.value_dtype)


cdef class ZeroBackward0(InplaceFn):
    pass


cdef class FillBackward2(InplaceFn):
    """fill_ with a number: the old value gets no gradient."""
    pass


cdef Tensor inplace_zero(Tensor self):
    cdef Tensor old, result
    cdef ZeroBackward0 node
    check_inplace(self)
    if records(self, None):
        old = old_value(self, False)
        result = op_zeros_like(old)
        node = ZeroBackward0.__new__(ZeroBackward0)
        wire1(node, old)
        set_history(result, node)
        return commit_inplace(self, result)
    fill_scalar(self, 0)
    self._storage.version += 1
    return self


cdef Tensor inplace_fill(Tensor self, object value):
    cdef Tensor old, result, vt = None
    cdef Node node
    if isinstance(value, Tensor):
        vt = <Tensor>value
        if vt._ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {vt._ndim} dimensions.")
    elif is_scalar(value):
        value = normalize_scalar(value)
    else:
        raise invalid_arguments("fill_", (value,), [("(Tensor value)", ["Tensor"]), ("(Number value)", ["Number"])])
    if vt is None:
        cre_check_fill(value, self._dtype, self._numel)
    check_inplace(self)
    if records(self, vt):
        old = old_value(self, False)
        result = new_tensor(self._ndim, self._shape, self._dtype)
        if vt is not None:
            copy_into(result, vt)
            node = FillBackward3.__new__(FillBackward3)
            (<FillBackward3>node).value_dtype = vt._dtype
            wire_many(node, [old, vt], 1)
        else:
            fill_scalar(result, value)
            node = FillBackward2.__new__(FillBackward2)
            wire1(node, old)
        set_history(result, node)
        return commit_inplace(self, result)
    if vt is not None:
        copy_into(self, vt)
    else:
        fill_scalar(self, value)
    self._storage.version += 1
    return self


cdef Tensor inplace_copy(Tensor self, object src_arg):
    cdef Tensor src, old, result
    cdef CopyBackwards node
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    if not isinstance(src_arg, Tensor):
        if not is_scalar(src_arg):
            raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {py_typename(src_arg)}")
        # PyTorch's argument parser wraps a number as a 0-dim tensor (double, int64 or bool), then copies it
        src_arg = from_numpy(np.asarray(normalize_scalar(src_arg)))
    src = <Tensor>src_arg
    if not same_elements(self, src):     # copying a tensor onto its own elements does nothing
        check_written_overlap(self)
        check_input_overlap(self, src)
    nd = broadcast_shapes(self._ndim, self._shape, src._ndim, src._shape, shape)
    if not shape_equals(self, nd, shape):
        raise RuntimeError(
            f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the broadcast "
            f"shape {shape_str(shape, nd)}")
    check_inplace(self)
    if records(self, src):
        old = old_value(self, False)
        result = new_tensor(self._ndim, self._shape, self._dtype)
        copy_into(result, src)
        node = CopyBackwards.__new__(CopyBackwards)
        node.src_dtype = src._dtype
        # the source as the write saw it: broadcast to self's shape (its
        # gradient is summed back by ExpandBackward0)
        wire_many(node, [old, src if same_shape(src, self) else op_expand(src, shape_tuple(self))], 1)
        set_history(result, node)
        return commit_inplace(self, result)
    if src._storage is self._storage and not (src._data == self._data and same_shape(src, self)):
        src = contiguous_copy(src)   # overlapping copy: read everything before writing
    copy_into(self, src)
    self._storage.version += 1
    return self
