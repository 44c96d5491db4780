# masked_fill and index_select, with their nodes.


# ---------------------------------------------------------------------------
# masked_fill


cdef void masked_fill_row_1(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint8_t* m = <const uint8_t*>p[1]
    cdef uint8_t v = (<uint8_t*>ctx)[0]
    cdef Py_ssize_t i
    for i in range(n):
        if m[i * s[1]]:
            o[i * s[0]] = v


cdef void masked_fill_row_2(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint16_t* o = <uint16_t*>p[0]
    cdef const uint8_t* m = <const uint8_t*>p[1]
    cdef uint16_t v = (<uint16_t*>ctx)[0]
    cdef Py_ssize_t i
    for i in range(n):
        if m[i * s[1]]:
            o[i * s[0]] = v


cdef void masked_fill_row_4(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint32_t* o = <uint32_t*>p[0]
    cdef const uint8_t* m = <const uint8_t*>p[1]
    cdef uint32_t v = (<uint32_t*>ctx)[0]
    cdef Py_ssize_t i
    for i in range(n):
        if m[i * s[1]]:
            o[i * s[0]] = v


cdef void masked_fill_row_8(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint64_t* o = <uint64_t*>p[0]
    cdef const uint8_t* m = <const uint8_t*>p[1]
    cdef uint64_t v = (<uint64_t*>ctx)[0]
    cdef Py_ssize_t i
    for i in range(n):
        if m[i * s[1]]:
            o[i * s[0]] = v


cdef int masked_fill_into(Tensor dst, Tensor mask, int dim, object value) except -1:
    """dst[m] = value where mask (aligned with dst's dims from `dim` on,
    broadcast over the others) is true; value converted to dst's dtype."""
    cdef ScalarBuf buf
    cdef Operand ops[2]
    cdef Py_ssize_t mshape[MAX_DIMS]
    cdef Py_ssize_t mstrides[MAX_DIMS]
    cdef int i, isz = ITEMSIZE[dst._dtype]
    cdef RowFn fn = masked_fill_row_1 if isz == 1 else (
        masked_fill_row_2 if isz == 2 else (masked_fill_row_4 if isz == 4 else masked_fill_row_8))
    store_scalar(&buf, value, dst._dtype)
    for i in range(dst._ndim):
        if dim <= i < dim + mask._ndim:
            mshape[i] = mask._shape[i - dim]
            mstrides[i] = mask._strides[i - dim]
        else:
            mshape[i] = 1
            mstrides[i] = 0
    ops[0] = operand_of(dst)
    ops[1] = operand_of(mask)
    ops[1].ndim = dst._ndim
    ops[1].shape = mshape
    ops[1].strides = mstrides
    ops[1].contiguous = mask._contiguous and dim == 0 and mask._ndim == dst._ndim
    return run_elementwise(fn, 2, ops, dst._ndim, dst._shape, dst._numel, &buf)


cdef class MaskedFillBackward0(Node):
    cdef Tensor mask
    cdef long long mask_version
    cdef tuple self_sizes       # set when self was broadcast
    cdef int self_dtype

    cdef Tensor grad_self(self, Tensor g):
        g = op_masked_fill(g, unpack_input(self, self.mask, self.mask_version), 0, None)
        if self.self_sizes is not None:
            g = op_sum_to(g, self.self_sizes)
        return g

    cdef tuple apply(self, object grads):
        if wants_grad(self, 0):
            return (self.grad_self(<Tensor>grads),)
        return (None,)

    cdef void release_saved(self) noexcept:
        self.mask = None


cdef class MaskedFillBackward1(MaskedFillBackward0):
    cdef int value_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gv = None
        if wants_grad(self, 0):
            ga = self.grad_self(g)
        if wants_grad(self, 1):
            gv = op_where(unpack_input(self, self.mask, self.mask_version), g, zeros_scalar(g._dtype))
            gv = op_to_dtype(op_sum(<Tensor>gv), self.value_dtype)
        return (ga, gv)


cdef tuple masked_fill_value(object value, str fname):
    """(the value as a Python number, the value tensor or None)."""
    cdef Tensor vt
    if isinstance(value, Tensor):
        vt = <Tensor>value
        if vt._ndim != 0:
            raise RuntimeError(f"{fname} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{vt._ndim} dimension(s).")
        return (scalar_value(vt), vt)
    if is_scalar(value):
        return (normalize_scalar(value), None)
    raise TypeError(
        f"masked_fill() received an invalid combination of arguments - got (Tensor, {tp_name(value)}), "
        "but expected one of:\n * (Tensor mask, Tensor value)\n      didn't match because some of the "
        f"arguments have invalid types: (Tensor, !{tp_name(value)}!)\n * (Tensor mask, Number value)\n"
        "      didn't match because some of the arguments have invalid types: "
        f"(Tensor, !{tp_name(value)}!)\n")


cdef int check_bool_mask(Tensor mask) except -1:
    if mask._dtype != BOOL:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{C_TYPE_NAME[mask._dtype]}")
    return 0


cdef Tensor op_masked_fill(Tensor self, Tensor mask, object value, Tensor vt):
    """self where mask is false, value where it is true (self and mask
    broadcast); MaskedFillBackward0, or MaskedFillBackward1 for a tensor
    value."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    cdef Tensor out
    cdef MaskedFillBackward0 node
    cdef MaskedFillBackward1 node1
    check_bool_mask(mask)
    nd = broadcast_shapes(mask._ndim, mask._shape, self._ndim, self._shape, shape)
    out = new_tensor(nd, shape, self._dtype)
    copy_into(out, self)
    masked_fill_into(out, mask, nd - mask._ndim, value)
    if vt is not None and needs_grad2(self, vt):
        node1 = MaskedFillBackward1.__new__(MaskedFillBackward1)
        wire2(node1, self, vt)
        node1.value_dtype = vt._dtype
        node = node1
    elif needs_grad(self):
        node = MaskedFillBackward0.__new__(MaskedFillBackward0)
        wire1(node, self)
    else:
        return out
    node.mask = mask
    node.mask_version = save_version(node, mask)
    node.self_dtype = self._dtype
    if not same_shape(out, self):
        node.self_sizes = shape_tuple(self)
    set_history(out, node)
    return out


cdef Tensor masked_fill_inplace(Tensor self, Tensor mask, object value, Tensor vt):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    cdef bint history
    cdef MaskedFillBackward0 node
    cdef MaskedFillBackward1 node1
    check_bool_mask(mask)
    nd = broadcast_shapes(self._ndim, self._shape, mask._ndim, mask._shape, shape)
    if not shape_equals(self, nd, shape):
        raise RuntimeError(f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the "
                           f"broadcast shape {shape_str(shape, nd)}")
    history = write_needs_history(self, vt)
    if history:
        check_setitem_leaf(self, False)
    else:
        check_inplace(self)
    if has_internal_overlap(self):
        import warnings
        warnings.warn(MASKED_FILL_EXPANDED_MSG, UserWarning, stacklevel=1)
    masked_fill_into(self, mask, self._ndim - mask._ndim, value)
    self._storage.version += 1
    if not history:
        return self
    if vt is not None:
        node1 = MaskedFillBackward1.__new__(MaskedFillBackward1)
        wire2(node1, self, vt)
        node1.value_dtype = vt._dtype
        node = node1
    else:
        node = MaskedFillBackward0.__new__(MaskedFillBackward0)
        wire1(node, self)
    node.mask = mask
    node.mask_version = save_version(node, mask)
    node.self_dtype = self._dtype
    set_history(self, node)
    return self


def masked_fill(input, mask, value):
    """input with value where mask is true (mask broadcast)."""
    cdef Tensor x = input_arg(input, "masked_fill")
    cdef Tensor m = tensor_arg(mask, "masked_fill", "mask")
    v, vt = masked_fill_value(value, "masked_fill_")
    return op_masked_fill(x, m, v, vt)


# ---------------------------------------------------------------------------
# index_select


cdef class IndexSelectBackward0(Node):
    cdef tuple self_sizes
    cdef int dim
    cdef Tensor index
    cdef long long index_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor index = unpack_input(self, self.index, self.index_version)
        return (op_index_add_zeros(self.self_sizes, self.dim, index, g),)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef class IndexAddBackward0(Node):
    cdef int dim
    cdef Tensor index

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gs = None
        if wants_grad(self, 0):
            ga = g
        if wants_grad(self, 1):
            if self.index is None:
                raise RuntimeError(FREED_MSG)
            gs = op_index_select(g, self.dim, self.index)
        return (ga, gs)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef _AdvIndex select_plan(Tensor x, int dim, Tensor index):
    """index_select as advanced indexing of x (ndim >= 1) by a vector."""
    cdef _AdvIndex ai = _AdvIndex.__new__(_AdvIndex)
    cdef Py_ssize_t one = 1
    cdef list idx = [None] * x._ndim
    cdef list res
    if index._ndim == 0:
        index = make_view(index, 1, &one, &one, index._offset)
    idx[dim] = index
    ai.idx = idx
    ai.saved = []
    ai.m = 1
    ai.first = dim
    ai.adjacent = True
    ai.nbd = 1
    ai.bshape[0] = index._numel
    ai.nb = index._numel
    ai.src_sizes = shape_tuple(x)
    res = list(ai.src_sizes)
    res[dim] = index._numel
    ai.result_shape = tuple(res)
    return ai


cdef int check_select_bounds(Tensor x, int dim, Tensor index) except -1:
    cdef Py_ssize_t bad, n = index._numel
    cdef Py_ssize_t ist = index._strides[0] if index._ndim else 1
    cdef int64_t size
    cdef int64_t v
    if x._ndim > 1:
        if n == 0:
            return 0
        if x._numel == 0:
            if x._shape[dim] <= 0:
                raise RuntimeError("index_select(): self indexing axis dim should be positive")
            size = x._shape[dim]
        else:
            size = x._shape[dim]
    else:
        size = x._numel
    bad = cg_select_check(<int64_t*>index._data, ist, n, size)
    if bad >= 0:
        v = (<int64_t*>index._data)[bad * ist]
        if x._ndim > 1 and (dim == 1 or x._numel == 0):
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={v} axis_dim={size}")
        raise IndexError("index out of range in self")
    return 0


cdef Tensor op_index_select(Tensor x, int dim, Tensor index):
    cdef Tensor out
    cdef IndexSelectBackward0 node
    if x._ndim == 0:
        out = contiguous_copy(x)
    else:
        out = adv_gather(x, select_plan(x, dim, index))
    if needs_grad(x):
        node = IndexSelectBackward0.__new__(IndexSelectBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        node.dim = dim
        node.index = index
        node.index_version = save_version(node, index)
        set_history(out, node)
    return out


cdef Tensor op_index_add_zeros(tuple sizes, int dim, Tensor index, Tensor source):
    """zeros(sizes).index_add_(dim, index, source), differentiable in
    source (IndexAddBackward0)."""
    cdef Tensor out = new_tensor_from_tuple(sizes, source._dtype, True)
    cdef IndexAddBackward0 node
    if out._ndim == 0:
        copy_into(out, source)
    else:
        adv_run(select_plan(out, dim, index), K_ACCUM, out, source)
    if needs_grad(source):
        node = IndexAddBackward0.__new__(IndexAddBackward0)
        wire_many(node, [None, source], 1)
        node.dim = dim
        node.index = index
        set_history(out, node)
    return out


cdef Tensor index_select_checked(Tensor x, object dim, object index):
    cdef Tensor idx
    cdef Py_ssize_t dim_i = as_index(dim, "index_select(): argument 'dim' (position 1)")
    cdef int d
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' (position 2) must be Tensor, not {tp_name(index)}")
    idx = <Tensor>index
    d = wrap_dim(dim_i, x._ndim)
    if idx._ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if x._ndim == 0 and idx._numel != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx._numel} value(s)")
    if idx._dtype != I64 and idx._dtype != I32:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if idx._dtype == I32:
        idx = cast_tensor(idx, I64)
    check_select_bounds(x, d, idx)
    return op_index_select(x, d, idx)


def index_select(input, dim, index, *, out=None):
    """The entries of input at `index` (a vector) along dim."""
    return with_out(index_select_checked(input_arg(input, "index_select"), dim, index), out, "index_select")
