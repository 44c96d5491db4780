# Advanced indexing (PyTorch's make_info / AdvancedIndex), its ops and nodes,
# and __getitem__ / __setitem__ built on the parser of index_views.pxi.


# ---------------------------------------------------------------------------
# Advanced indices (PyTorch's make_info / AdvancedIndex)


cdef class _AdvIndex:
    """Advanced indices of a tensor of shape `src_sizes`: per dim None or an
    int64 index tensor (masks already expanded into nonzero coordinates),
    their broadcast shape and numpy's placement of the indexed dims."""
    cdef tuple src_sizes
    cdef list idx              # per dim of src: None or an int64 Tensor
    cdef list saved            # (tensor, version) of the tensors the user gave
    cdef int m                 # number of index tensors
    cdef int first             # first indexed dim
    cdef bint adjacent         # indexed dims adjacent: broadcast dims go there, else first
    cdef int nbd
    cdef Py_ssize_t bshape[MAX_DIMS]
    cdef Py_ssize_t nb
    cdef tuple result_shape

    cdef int check_versions(self, Node node) except -1:
        cdef Tensor t
        for t, v in self.saved:
            unpack_input(node, t, v)
        return 0


cdef list mask_coordinates(Tensor mask):
    """nonzero(mask) as one int64 vector per dim."""
    cdef Py_ssize_t count
    cdef int64_t* outs[MAX_DIMS]
    cdef list coords = []
    cdef Tensor c
    cdef int d
    count = cg_mask_walk(<uint8_t*>mask._data, mask._ndim, mask._shape, mask._strides, mask._numel, NULL)
    for d in range(mask._ndim):
        c = new_tensor_from_tuple((count + 1,), I64)     # a spare slot for the branch-free walk
        c._shape[0] = count
        c._numel = count
        coords.append(c)
        outs[d] = <int64_t*>c._data
    if count:
        cg_mask_walk(<uint8_t*>mask._data, mask._ndim, mask._shape, mask._strides, mask._numel, outs)
    return coords


cdef str mask_mismatch(Tensor mask, int j, int ndim, const Py_ssize_t* shape, int src):
    return (f"The shape of the mask {shape_str(mask._shape, mask._ndim)} at index {j} does not match "
            f"the shape of the indexed tensor {shape_str(shape, ndim)} at index {src}")


cdef int check_mask_shape(Tensor mask, int dim, int ndim, const Py_ssize_t* shape) except -1:
    cdef int j
    for j in range(mask._ndim):
        if dim + j >= ndim:
            raise IndexError(f"too many indices for tensor of dimension {ndim}")
        if mask._shape[j] != shape[dim + j]:
            raise IndexError(mask_mismatch(mask, j, ndim, shape, dim + j))
    return 0


cdef _AdvIndex prepare_advanced(int ndim, const Py_ssize_t* shape, list tindex):
    """Check and lay out advanced indices, raising PyTorch's errors in its
    order: index dtypes, mask shapes, broadcasting, empty indexed dims."""
    cdef _AdvIndex ai = _AdvIndex.__new__(_AdvIndex)
    cdef Tensor t
    cdef int d, j, k, nd, last = -1
    cdef Py_ssize_t bs[MAX_DIMS]
    cdef list idx = [None] * ndim
    cdef list defined = []
    cdef list res
    cdef bint byte_mask = False
    for d, t in tindex:
        if t._dtype != I64 and t._dtype != I32 and not is_mask_dtype(t._dtype):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    ai.saved = []
    for d, t in tindex:
        ai.saved.append((t, t._storage.version))
        if is_mask_dtype(t._dtype):
            check_mask_shape(t, d, ndim, shape)
            if t._dtype == U8:
                byte_mask = True
                t = as_bool_mask(t)
            coords = mask_coordinates(t)
            for j in range(t._ndim):
                idx[d + j] = coords[j]
        else:
            if d >= ndim:
                raise IndexError(f"too many indices for tensor of dimension {ndim} (got {d + 1})")
            idx[d] = t if t._dtype == I64 else cast_tensor(t, I64)
    if byte_mask:
        import warnings
        warnings.warn(UINT8_INDEX_MSG, UserWarning, stacklevel=1)
    for d in range(ndim):
        if idx[d] is not None:
            defined.append(d)
    ai.m = len(defined)
    ai.first = defined[0]
    ai.adjacent = defined[-1] - defined[0] + 1 == ai.m
    # broadcast the index shapes
    nd = 0
    for d in defined:
        t = <Tensor>idx[d]
        try:
            nd = broadcast_shapes(nd, ai.bshape, t._ndim, t._shape, bs)
        except RuntimeError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join([shape_str((<Tensor>idx[k])._shape, (<Tensor>idx[k])._ndim)
                                          for k in defined])) from None
        for j in range(nd):
            ai.bshape[j] = bs[j]
    ai.nbd = nd
    ai.nb = 1
    for j in range(nd):
        ai.nb *= ai.bshape[j]
    # an empty indexed dim can only take an empty index
    for d in defined:
        if shape[d] == 0 and ai.nb != 0:
            raise IndexError("index is out of bounds for dimension with size 0")
    ai.idx = idx
    ai.src_sizes = tuple([shape[d] for d in range(ndim)])
    bshape_t = [ai.bshape[j] for j in range(nd)]
    if ai.adjacent:
        res = [shape[d] for d in range(ai.first)] + bshape_t + \
              [shape[d] for d in range(ai.first + ai.m, ndim)]
    else:
        res = bshape_t + [shape[d] for d in range(ndim) if idx[d] is None]
    if len(res) > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    ai.result_shape = tuple(res)
    return ai


cdef int coalesce_dims(int n, Py_ssize_t* shape, Py_ssize_t* sa, Py_ssize_t* sd) noexcept:
    """Drop size-1 dims and merge adjacent dims both operands walk as one."""
    cdef int i, k = 0
    for i in range(n):
        if shape[i] == 1:
            continue
        if k > 0 and sa[k - 1] == sa[i] * shape[i] and sd[k - 1] == sd[i] * shape[i]:
            shape[k - 1] *= shape[i]
            sa[k - 1] = sa[i]
            sd[k - 1] = sd[i]
            continue
        shape[k] = shape[i]
        sa[k] = sa[i]
        sd[k] = sd[i]
        k += 1
    return k


cdef int adv_run(_AdvIndex ai, int op, Tensor a, Tensor dense) except -1:
    """The kernel over a (the indexed tensor, of shape ai.src_sizes) and
    dense (of the result shape for a gather; broadcastable to it for a put
    or scatter-add, same dtype as a). Bounds are checked before anything is
    written; nothing runs when the result is empty."""
    cdef cg_iplan plan
    cdef int R = len(ai.result_shape)
    cdef Py_ssize_t rshape[MAX_DIMS]
    cdef Py_ssize_t dst[MAX_DIMS]
    cdef Py_ssize_t sizes[MAX_DIMS]
    cdef Py_ssize_t sst[MAX_DIMS]
    cdef char* ip[MAX_DIMS]
    cdef Py_ssize_t* ist = NULL
    cdef int64_t* a_tab = NULL
    cdef int64_t* d_tab = NULL
    cdef int64_t bad = 0
    cdef int r, od, d, k, kk, nbd = ai.nbd, bstart, ni = 0
    cdef Py_ssize_t total = 1
    cdef Tensor t
    cdef int kind = kernel_kind(op, a._dtype)
    cdef int isz = ITEMSIZE[a._dtype]
    cdef bint done
    for r in range(R):
        rshape[r] = ai.result_shape[r]
        total *= rshape[r]
    if total == 0:
        return 0
    if op == K_GATHER and adv_gather_flat(ai, a, dense) == 1:     # large: one pass over threads
        return 0
    for r in range(R):
        od = r - (R - dense._ndim)
        dst[r] = 0 if od < 0 or dense._shape[od] == 1 else dense._strides[od]
    # outer dims (before the index dims when they stay in place)
    plan.n_outer = ai.first if ai.adjacent else 0
    for d in range(plan.n_outer):
        plan.outer_shape[d] = a._shape[d]
        plan.a_outer[d] = a._strides[d]
        plan.d_outer[d] = dst[d]
    bstart = plan.n_outer
    # inner dims: the non-indexed dims after them, in order
    r = bstart + nbd
    for d in range(plan.n_outer, a._ndim):
        if ai.idx[d] is None:
            plan.inner_shape[ni] = a._shape[d]
            plan.a_inner[ni] = a._strides[d]
            plan.d_inner[ni] = dst[r]
            ni += 1
            r += 1
    plan.n_inner = coalesce_dims(ni, plan.inner_shape, plan.a_inner, plan.d_inner)
    plan.nb = ai.nb
    try:
        ist = <Py_ssize_t*>malloc((ai.m * nbd + 1) * sizeof(Py_ssize_t))
        a_tab = <int64_t*>malloc((ai.nb + 1) * sizeof(int64_t))
        d_tab = <int64_t*>malloc((ai.nb + 1) * sizeof(int64_t))
        if ist == NULL or a_tab == NULL or d_tab == NULL:
            raise MemoryError()
        k = 0
        for d in range(a._ndim):
            if ai.idx[d] is None:
                continue
            t = <Tensor>ai.idx[d]
            ip[k] = t._data
            sizes[k] = a._shape[d]
            sst[k] = a._strides[d]
            for kk in range(nbd):
                od = kk - (nbd - t._ndim)
                ist[k * nbd + kk] = 0 if od < 0 or t._shape[od] == 1 else t._strides[od]
            k += 1
        if ai.nb * ai.m < GIL_RELEASE_NUMEL:
            k = cg_index_table(ai.m, ip, ist, nbd, ai.bshape, sizes, sst, ai.nb, a_tab, &bad)
        else:
            with nogil:
                k = cg_index_table(ai.m, ip, ist, nbd, ai.bshape, sizes, sst, ai.nb, a_tab, &bad)
        if k >= 0:
            raise IndexError(f"index {bad} is out of bounds for dimension {k} with size {sizes[k]}")
        cg_dense_table(nbd, ai.bshape, dst + bstart, ai.nb, d_tab)
        plan.a_tab = a_tab
        plan.d_tab = d_tab
        if (op == K_GATHER and plan.n_outer == 0 and plan.n_inner == 1 and plan.a_inner[0] == 1
                and plan.d_inner[0] == 1 and dense._storage is not None and dense._storage.heap):
            # whole rows (index_select(0, ...) of a contiguous matrix): large
            # ones over threads by streaming stores (kernel_drivers.pxi)
            with nogil:
                done = gather_rows_fresh(dense._data, d_tab, a._data, a_tab, ai.nb, plan.inner_shape[0], isz)
            if done:
                return 0
        if total < GIL_RELEASE_NUMEL:
            cg_index_run(&plan, kind, a._data, dense._data, isz)
        else:
            with nogil:
                cg_index_run(&plan, kind, a._data, dense._data, isz)
    finally:
        free(ist)
        free(a_tab)
        free(d_tab)
    return 0


cdef Tensor adv_gather(Tensor src, _AdvIndex ai, bint iterator_layout=False):
    """src[indices] as a new tensor: contiguous, or (iterator_layout) laid
    out as PyTorch's index() lays out its result."""
    cdef Tensor out = new_tensor_from_tuple(ai.result_shape, src._dtype)
    if iterator_layout and out._ndim > 1:
        index_output_strides(ai, src, out)
    adv_run(ai, K_GATHER, src, out)
    return out


cdef int index_output_strides(_AdvIndex ai, Tensor src, Tensor out) except -1:
    """Give `out` (fresh, dense) the strides TensorIterator gives index()'s
    output: the result dims ordered fastest-first as the inputs order them
    (the source restrided with zeros on the index dims, then each index
    tensor expanded to the broadcast shape and reshaped with ones around
    it), then packed densely in that order."""
    cdef int R = out._ndim, nops = 1 + ai.m, before, r, k, d, i, j, dim0, dim1, tmp, cmp
    cdef int perm[MAX_DIMS]
    cdef Py_ssize_t est[MAX_DIMS]
    cdef Py_ssize_t ones_shape[MAX_DIMS]
    cdef Py_ssize_t vst[MAX_DIMS]
    cdef Py_ssize_t next_stride
    cdef Py_ssize_t* st = <Py_ssize_t*>malloc(nops * R * sizeof(Py_ssize_t))
    cdef Py_ssize_t s0, s1
    cdef Tensor t, tmpv
    cdef bint inverted
    if st == NULL:
        raise MemoryError()
    try:
        before = ai.first if ai.adjacent else 0
        # operand 0: the source restrided over the result dims (bytes)
        for r in range(before):
            st[r] = src._strides[r] * ITEMSIZE[src._dtype]
        for r in range(before, before + ai.nbd):
            st[r] = 0
        r = before + ai.nbd
        for d in range(before, src._ndim):
            if ai.idx[d] is None:
                st[r] = src._strides[d] * ITEMSIZE[src._dtype]
                r += 1
        # operands 1..m: the index tensors, expanded then reshaped
        k = 1
        for d in range(src._ndim):
            if ai.idx[d] is None:
                continue
            t = <Tensor>ai.idx[d]
            for j in range(ai.nbd):
                i = j - (ai.nbd - t._ndim)
                est[j] = 0 if i < 0 or (t._shape[i] == 1 and ai.bshape[j] != 1) else t._strides[i]
            tmpv = make_view(t, ai.nbd, ai.bshape, est, t._offset)
            for r in range(R):
                ones_shape[r] = ai.bshape[r - before] if before <= r < before + ai.nbd else 1
            if not view_strides(tmpv, R, ones_shape, vst):
                next_stride = 1
                for r in range(R - 1, -1, -1):
                    vst[r] = next_stride
                    next_stride *= ones_shape[r] if ones_shape[r] > 0 else 1
            for r in range(R):
                st[k * R + r] = 0 if (ones_shape[r] == 1 and out._shape[r] != 1) else vst[r] * 8
            k += 1
        # TensorIterator's reorder_dimensions: insertion sort, fastest first
        for i in range(R):
            perm[i] = R - 1 - i
        for i in range(1, R):
            dim1 = i
            for dim0 in range(i - 1, -1, -1):
                cmp = 0
                for k in range(nops):
                    s0 = st[k * R + perm[dim0]]
                    s1 = st[k * R + perm[dim1]]
                    if s0 == 0 or s1 == 0:
                        continue
                    if s0 < s1:
                        cmp = -1
                        break
                    if s0 > s1:
                        cmp = 1
                        break
                    if out._shape[perm[dim0]] > out._shape[perm[dim1]]:
                        cmp = 1
                        break
                if cmp > 0:
                    tmp = perm[dim0]
                    perm[dim0] = perm[dim1]
                    perm[dim1] = tmp
                    dim1 = dim0
                elif cmp < 0:
                    break
        inverted = True
        for i in range(R):
            if perm[i] != R - 1 - i:
                inverted = False
        if not inverted:
            next_stride = 1
            for i in range(R):
                out._strides[perm[i]] = next_stride
                next_stride *= out._shape[perm[i]]
            out._contiguous = out._numel == 0 or strides_are_contiguous(R, out._shape, out._strides)
    finally:
        free(st)
    return 0


# ---------------------------------------------------------------------------
# Advanced-indexing ops and their nodes


cdef class IndexBackward0(Node):
    cdef _AdvIndex ai
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Py_ssize_t rshape[MAX_DIMS]
        cdef int i, R
        if self.ai is None:
            raise RuntimeError(FREED_MSG)
        self.ai.check_versions(self)
        if shape_tuple(g) != self.ai.result_shape:     # only from a direct grad_fn call
            R = len(self.ai.result_shape)
            for i in range(R):
                rshape[i] = self.ai.result_shape[i]
            if not expandable_to(g, R, rshape):
                raise RuntimeError(f"shape mismatch: value tensor of shape {shape_str(g._shape, g._ndim)} "
                                   f"cannot be broadcast to indexing result of shape {shape_str(rshape, R)}")
        return (op_index_put_ai(new_tensor_from_tuple(self.ai.src_sizes, g._dtype, True), self.ai, g,
                                True, True),)

    cdef void release_saved(self) noexcept:
        self.ai = None


cdef Tensor op_index_ai(Tensor src, _AdvIndex ai):
    """src[indices] (a copy), IndexBackward0."""
    cdef Tensor out = adv_gather(src, ai, True)
    cdef IndexBackward0 node
    if needs_grad(src):
        node = IndexBackward0.__new__(IndexBackward0)
        wire1(node, src)
        node.ai = ai
        node.self_dtype = src._dtype
        set_history(out, node)
    return out


cdef class IndexPutBackward0(InplaceFn):
    cdef _AdvIndex ai
    cdef tuple values_sizes
    cdef int values_dtype
    cdef bint accumulate

    cdef object grad_self_part(self, Tensor g):
        if self.ai is None:
            raise RuntimeError(FREED_MSG)
        self.ai.check_versions(self)
        if self.accumulate:
            return g
        return op_index_put_ai(g, self.ai, zeros_scalar(g._dtype), False)

    cdef object grad_other_part(self, Tensor g):
        cdef Tensor r
        if self.ai is None:
            raise RuntimeError(FREED_MSG)
        self.ai.check_versions(self)
        r = op_index_ai(g, self.ai)
        if shape_tuple(r) != self.values_sizes:
            r = op_sum_to(r, self.values_sizes)
        return op_to_dtype(r, self.values_dtype)

    cdef void release_saved(self) noexcept:
        self.ai = None


cdef class IndexPutImplBackward0(IndexPutBackward0):
    pass


cdef Tensor op_index_put_ai(Tensor self, _AdvIndex ai, Tensor values, bint accumulate,
                            bint self_is_scratch=False):
    """Out-of-place index_put: a copy of self with values (broadcast to the
    indexing result, same dtype) written (or added) at the indices.
    IndexPutBackward0, or IndexPutImplBackward0 when accumulating (the
    backward of indexing). A fresh private `self` (self_is_scratch) is
    written in place instead of copied."""
    cdef Tensor out = self if self_is_scratch else contiguous_copy(self)
    cdef IndexPutBackward0 node
    if values._dtype != out._dtype:
        values = cast_tensor(values, out._dtype)
    adv_run(ai, K_ACCUM if accumulate else K_PUT, out, values)
    if needs_grad2(self, values):
        node = (IndexPutImplBackward0.__new__(IndexPutImplBackward0) if accumulate
                else IndexPutBackward0.__new__(IndexPutBackward0))
        wire2(node, self, values)
        node.ai = ai
        node.values_sizes = shape_tuple(values)
        node.values_dtype = values._dtype
        node.accumulate = accumulate
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# __getitem__


cdef Tensor tensor_getitem(Tensor self, object index):
    cdef _Parsed p = parse_index(self, index, False)
    cdef Tensor sliced
    if not p.tindex:
        if not p.steps:
            return op_alias(self)
        return parsed_view(self, p)
    sliced = parsed_view(self, p) if p.steps else self
    return op_index_ai(sliced, prepare_advanced(sliced._ndim, sliced._shape, p.tindex))


# ---------------------------------------------------------------------------
# __setitem__


cdef Tensor value_to_tensor(Tensor self, object value):
    """PyTorch's valueToTensor: tensors as they are, Python numbers as 0-d
    tensors of self's dtype; anything else is a TypeError."""
    cdef Tensor t
    cdef ScalarBuf buf
    cdef double d
    cdef int dt = self._dtype
    if isinstance(value, Tensor):
        return <Tensor>value
    if is_long_index(value) or isinstance(value, bool):
        value = int(value)
        if value > SSIZE_MAX or value < SSIZE_MIN:
            raise ValueError("Overflow when unpacking long long")
    elif isinstance(value, complex):
        if value.imag != 0:
            raise RuntimeError(f"value cannot be converted to type {SCALAR_TYPE_NAME[dt]} without overflow")
        value = value.real
    elif isinstance(value, float):
        value = float(value)
    else:
        raise TypeError(f"can't assign a {tp_name(value)} to a cgrad.{legacy_type_name(dt)}")
    cre_check_fill(value, dt, 1)     # a 0-d tensor filled with the value
    t = new_tensor(0, NULL, dt)
    store_scalar(&buf, value, dt)
    memcpy(t._data, &buf, ITEMSIZE[dt])
    return t


cdef inline bint write_needs_history(Tensor self, Tensor v) noexcept:
    """An in-place write is recorded when grad mode is on and the result is
    differentiable: self floating point, and self or the value requiring
    grad."""
    return (cgrad_grad_enabled and is_float(self._dtype)
            and (self._requires_grad or (v is not None and v._requires_grad))) or (
        has_tangent(self) or has_tangent(v))


cdef int check_setitem_leaf(Tensor self, bint through_view) except -1:
    """In-place writes that need history: PyTorch's errors on leaves and
    views of leaves."""
    cdef Tensor base = self._base
    if self._grad_fn is None and self._requires_grad:
        raise RuntimeError(VIEW_LEAF_INPLACE_MSG if through_view else LEAF_INPLACE)
    if base is not None and base._grad_fn is None and base._requires_grad:
        raise RuntimeError(VIEW_LEAF_INPLACE_MSG)
    if self._is_inference and not cgrad_inference_mode:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed."
                           "You can make a clone to get a normal tensor before doing inplace update."
                           "See https://github.com/pytorch/rfcs/pull/17 for more details.")
    return 0


cdef int strip_leading_ones(Tensor v) noexcept:
    """How many leading size-1 dims v has (numpy's compatibility rule for
    assigned values)."""
    cdef int k = 0
    while k < v._ndim and v._shape[k] == 1:
        k += 1
    return k


cdef Tensor stripped_view(Tensor v, int lead):
    if lead == 0:
        return v
    return make_view(v, v._ndim - lead, v._shape + lead, v._strides + lead, v._offset)


cdef int check_expand(Tensor v, int lead, Tensor dst) except -1:
    """expand_inplace's errors for v (minus its leading ones) against dst."""
    cdef int nd = v._ndim - lead
    cdef int i, off = dst._ndim - nd
    cdef Py_ssize_t s
    if nd > dst._ndim:
        raise RuntimeError(
            f"expand(cgrad.{legacy_type_name(v._dtype)}{{{shape_str(v._shape + lead, nd)}}}, "
            f"size={shape_str(dst._shape, dst._ndim)}): the number of sizes provided ({dst._ndim}) must "
            f"be greater or equal to the number of dimensions in the tensor ({nd})")
    for i in range(nd):
        s = v._shape[lead + i]
        if s != 1 and s != dst._shape[off + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({dst._shape[off + i]}) must match the existing size "
                f"({s}) at non-singleton dimension {off + i}.  Target sizes: "
                f"{shape_str(dst._shape, dst._ndim)}.  Tensor sizes: {shape_str(v._shape + lead, nd)}")
    return 0


cdef bint same_data(Tensor a, Tensor b) noexcept:
    """copy_'s early exit: the same elements in the same layout."""
    cdef int i
    if a._storage is not b._storage or a._offset != b._offset or a._dtype != b._dtype:
        return False
    if not same_shape(a, b):
        return False
    for i in range(a._ndim):
        if a._strides[i] != b._strides[i]:
            return False
    return True


cdef int setitem_basic(Tensor self, _Parsed p, Tensor v) except -1:
    """copy_to(self[basic index], v): copy_ (same shape), fill_ (0-d value)
    or copy_ of v expanded (leading ones of v dropped first)."""
    cdef Tensor dst = self if not p.steps else make_view(self, p.g.ndim, p.g.shape, p.g.strides,
                                                           p.g.offset)
    cdef bint fill = False
    cdef int lead = 0, i, off, st
    cdef Py_ssize_t eshape[MAX_DIMS]
    cdef Py_ssize_t estrides[MAX_DIMS]
    cdef Tensor src, value_in
    cdef InplaceFn fn
    cdef bint history = write_needs_history(self, v)
    if not same_shape(dst, v):
        if v._ndim == 0:
            fill = True
        else:
            lead = strip_leading_ones(v)
            check_expand(v, lead, dst)
    if history:
        check_setitem_leaf(self, bool(p.steps))
    elif self._is_inference and not cgrad_inference_mode:
        check_inplace(self)
    src = stripped_view(v, lead) if lead else v
    if not same_data(dst, src):
        if has_internal_overlap(dst):
            raise RuntimeError(INTERNAL_OVERLAP_MSG)
        if not fill and src._storage is dst._storage:
            # the geometry of src expanded to dst, as copy_ sees it
            off = dst._ndim - src._ndim
            for i in range(dst._ndim):
                eshape[i] = dst._shape[i]
                estrides[i] = 0 if (i < off or src._shape[i - off] == 1) else src._strides[i - off]
            st = overlap_status(dst, dst._ndim, eshape, estrides, src)
            if st == OVERLAP_PARTIAL:
                raise RuntimeError(PARTIAL_OVERLAP_MSG)
            src = contiguous_copy(src)      # read everything before writing
        copy_into(dst, src)
    self._storage.version += 1
    if not history:
        return 0
    # the graph: the write recorded on self (or on its region: CopySlices)
    if fill:
        fn = FillBackward3.__new__(FillBackward3)
        (<FillBackward3>fn).value_dtype = v._dtype
        value_in = v
    else:
        fn = CopyBackwards.__new__(CopyBackwards)
        (<CopyBackwards>fn).src_dtype = v._dtype
        value_in = v
        if not same_shape(dst, v):
            if lead:
                value_in = op_view(value_in, shape_tuple(v)[lead:])
            if not same_shape(value_in, dst):
                value_in = op_expand(value_in, shape_tuple(dst))
    record_write(self, p, fn, value_in)
    return 0


cdef int record_write(Tensor self, _Parsed p, InplaceFn fn, Tensor value_in) except -1:
    """Give self the history of a write into it (or into its region, a view:
    then its base gets CopySlices; see inplace_history.pxi)."""
    cdef Tensor region = self if not p.steps else make_view(self, p.g.ndim, p.g.shape, p.g.strides,
                                                              p.g.offset)
    wire_many(fn, [self, value_in], 1)
    if has_tangent(self) or has_tangent(value_in):
        fw_record_write(self, region, fn, value_in)
        if not (cgrad_grad_enabled and (self._requires_grad or value_in._requires_grad)):
            return 0        # forward AD only: no history
    rebase_after_write(region, fn)
    if self._base is not None and region is not self:
        # self (a view) looked at its base's history before the rebase
        set_view_history(self, self._base)
    return 0


cdef int setitem_advanced(Tensor self, _Parsed p, Tensor v) except -1:
    """index_put_(self[basic part], indices, v with its leading ones dropped)."""
    cdef Tensor sliced = self if not p.steps else make_view(self, p.g.ndim, p.g.shape, p.g.strides,
                                                              p.g.offset)
    cdef bint history = write_needs_history(self, v)
    cdef int lead = strip_leading_ones(v)
    cdef Tensor vs = stripped_view(v, lead)
    cdef Tensor mask, t, value_in
    cdef _AdvIndex ai = None
    cdef Py_ssize_t rshape[MAX_DIMS]
    cdef int i, R, d
    cdef IndexPutBackward0 fn
    if history:
        check_setitem_leaf(self, bool(p.steps))
    elif self._is_inference and not cgrad_inference_mode:
        check_inplace(self)
    expanded = has_internal_overlap(sliced)
    if expanded:
        import warnings
        warnings.warn(INDEX_PUT_EXPANDED_MSG, UserWarning, stacklevel=1)
    if v._numel == 1 and len(p.tindex) == 1 and is_mask_dtype((<Tensor>p.tindex[0][1])._dtype):
        # PyTorch dispatches this to masked_fill_ with the value as a scalar
        d = p.tindex[0][0]
        mask = <Tensor>p.tindex[0][1]
        check_bool_mask(mask)       # masked_fill_ refuses a uint8 mask
        check_mask_shape(mask, d, sliced._ndim, sliced._shape)
        if expanded:
            import warnings
            warnings.warn(MASKED_FILL_EXPANDED_MSG, UserWarning, stacklevel=1)
        if history:
            ai = prepare_advanced(sliced._ndim, sliced._shape, p.tindex)
        masked_fill_into(sliced, mask, d, scalar_value(v))
    else:
        if overlap_status(sliced, vs._ndim, vs._shape, vs._strides, vs) in (OVERLAP_PARTIAL, OVERLAP_FULL):
            raise RuntimeError(PARTIAL_OVERLAP_MSG)
        for d, t in p.tindex:
            if (t._dtype == I64 or t._dtype == I32) and overlap_status(sliced, t._ndim, t._shape, t._strides, t) in (
                    OVERLAP_PARTIAL, OVERLAP_FULL):
                raise RuntimeError(PARTIAL_OVERLAP_MSG)
        ai = prepare_advanced(sliced._ndim, sliced._shape, p.tindex)
        R = len(ai.result_shape)
        for i in range(R):
            rshape[i] = ai.result_shape[i]
        if not expandable_to(vs, R, rshape):
            raise RuntimeError(f"shape mismatch: value tensor of shape {shape_str(vs._shape, vs._ndim)} "
                               f"cannot be broadcast to indexing result of shape {shape_str(rshape, R)}")
        if vs._dtype != sliced._dtype:
            raise RuntimeError(
                f"Index put requires the source and destination dtypes match, got "
                f"{dtype_title(sliced._dtype)} for the destination and {dtype_title(vs._dtype)} for the source.")
        if vs._storage is sliced._storage:
            vs = contiguous_copy(vs)
        adv_run(ai, K_PUT, sliced, vs)
    self._storage.version += 1
    if not history:
        return 0
    fn = IndexPutBackward0.__new__(IndexPutBackward0)
    fn.ai = ai
    value_in = op_view(v, shape_tuple(v)[lead:]) if lead else v
    fn.values_sizes = shape_tuple(value_in)
    fn.values_dtype = v._dtype
    record_write(self, p, fn, value_in)
    return 0


cdef bint expandable_to(Tensor v, int nd, const Py_ssize_t* shape) noexcept:
    cdef int i, off = nd - v._ndim
    if off < 0:
        return False
    for i in range(v._ndim):
        if v._shape[i] != 1 and v._shape[i] != shape[off + i]:
            return False
    return True


cdef int tensor_setitem(Tensor self, object index, object value) except -1:
    cdef Tensor v = value_to_tensor(self, value)
    cdef _Parsed p
    if index is False:
        return 0
    p = parse_index(self, index, True)
    if p.tindex:
        return setitem_advanced(self, p, v)
    return setitem_basic(self, p, v)
