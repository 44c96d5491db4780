# Embedding lookups: F.embedding (dense gradient) and the max_norm renorm.
#
# The forward copies weight rows by index (int64 or int32 indices, checked
# against the table's size: PyTorch's "index out of range in self"); the
# backward accumulates g's rows into a zeroed (num, dim) gradient, skipping
# padding_idx and, with scale_grad_by_freq, dividing each by the number of
# times its index occurs in the batch. That backward is linear in g, so its
# own gradient (create_graph) is the lookup again - of the incoming
# gradient, with the padding rows zero; like PyTorch's
# embedding_dense_double_backward it leaves out the frequency scaling.


cdef str checked_type_name(int code):
    """How ATen's checkScalarTypes names a tensor's type: its legacy class
    name, but the backend's type name for bool and bfloat16."""
    if code == BOOL:
        return "CPUBoolType"
    if code == BF16:
        return "CPUBFloat16Type"
    return "cgrad." + legacy_type_name(code)


cdef inline char* opt_data(Tensor t) noexcept:
    """The data pointer of an optional tensor (NULL for None)."""
    return NULL if t is None else t._data


cdef class _EmbSpec:
    cdef Py_ssize_t num, dim
    cdef int64_t padding_idx          # -1 for none (PyTorch's convention after wrapping)
    cdef bint scale_freq
    cdef tuple out_shape, weight_shape


cdef int emb_index_at(const char* idx, int idt, Py_ssize_t i, int64_t* out) noexcept nogil:
    if idt == I64:
        out[0] = (<const int64_t*>idx)[i]
    else:
        out[0] = (<const int32_t*>idx)[i]
    return 0


cdef int emb_gather(real_t* out, const real_t* w, const char* idx, int idt, Py_ssize_t n,
                    Py_ssize_t num, Py_ssize_t D, const int64_t* counts, int64_t padding,
                    bint mask_padding) noexcept nogil:
    """out[i] = w[idx[i]] (rows of D); -1 for an index out of range. With
    counts, each row is divided by its count; mask_padding zeroes padding
    rows (the double backward's lookup)."""
    cdef Py_ssize_t i, j
    cdef int64_t k
    cdef real_t s
    for i in range(n):
        emb_index_at(idx, idt, i, &k)
        if k < 0 or k >= num:
            return -1
        if mask_padding and k == padding:
            for j in range(D):
                out[i * D + j] = 0
            continue
        if counts != NULL:
            s = <real_t>counts[k]
            for j in range(D):
                out[i * D + j] = w[k * D + j] / s
        else:
            memcpy(out + i * D, w + k * D, D * sizeof(real_t))
    return 0


cdef void emb_scatter(real_t* gw, const real_t* g, const char* idx, int idt, Py_ssize_t n,
                      Py_ssize_t num, Py_ssize_t D, const int64_t* counts, int64_t padding) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef int64_t k
    cdef real_t s
    for i in range(n):
        emb_index_at(idx, idt, i, &k)
        if k == padding or k < 0 or k >= num:
            continue
        if counts != NULL:
            s = <real_t>counts[k]
            for j in range(D):
                gw[k * D + j] += g[i * D + j] / s
        else:
            for j in range(D):
                gw[k * D + j] += g[i * D + j]


cdef Tensor emb_counts(Tensor idx, Py_ssize_t num):
    """How often each index occurs (for scale_grad_by_freq)."""
    cdef Tensor counts = new_tensor_from_tuple((num,), I64, True)
    cdef int64_t* c = <int64_t*>counts._data
    cdef Py_ssize_t i
    cdef int64_t k
    for i in range(idx._numel):
        emb_index_at(idx._data, idx._dtype, i, &k)
        if 0 <= k < num:
            c[k] += 1
    return counts


cdef Tensor emb_gather_kernel(Tensor w, Tensor idx, _EmbSpec spec, bint backward_of_backward):
    """The lookup (no history): the forward, or the double backward's
    lookup of the incoming gradient."""
    cdef int cdt = F32 if is_half16(w._dtype) else w._dtype
    cdef Tensor wc, out, counts = None
    cdef const int64_t* cp = NULL
    cdef int rc
    if not is_float(w._dtype):
        # integer tables are looked up as raw rows (PyTorch allows any dtype)
        out = op_index_select(w, 0, op_reshape(idx, (-1,)))
        return op_view(out, spec.out_shape)
    wc = conv_as(w, cdt)
    out = new_tensor_from_tuple(spec.out_shape, cdt)
    idx = nn_contiguous(idx)
    if cdt == F32:
        with nogil:
            rc = emb_gather(<float*>out._data, <float*>wc._data, idx._data, idx._dtype, idx._numel,
                            spec.num, spec.dim, cp, spec.padding_idx, backward_of_backward)
    else:
        with nogil:
            rc = emb_gather(<double*>out._data, <double*>wc._data, idx._data, idx._dtype, idx._numel,
                            spec.num, spec.dim, cp, spec.padding_idx, backward_of_backward)
    if rc < 0:
        raise IndexError("index out of range in self")
    return out if cdt == w._dtype else cast_tensor(out, w._dtype)


cdef Tensor emb_scatter_kernel(Tensor g, Tensor idx, _EmbSpec spec, int dt):
    cdef int cdt = F32 if is_half16(dt) else dt
    cdef Tensor gc = conv_as(g, cdt)
    cdef Tensor gw = new_tensor_from_tuple(spec.weight_shape, cdt, True)
    cdef Tensor counts = None
    cdef const int64_t* cp = NULL
    idx = nn_contiguous(idx)
    if spec.scale_freq:
        counts = emb_counts(idx, spec.num)
        cp = <int64_t*>counts._data
    if cdt == F32:
        with nogil:
            emb_scatter(<float*>gw._data, <float*>gc._data, idx._data, idx._dtype, idx._numel,
                        spec.num, spec.dim, cp, spec.padding_idx)
    else:
        with nogil:
            emb_scatter(<double*>gw._data, <double*>gc._data, idx._data, idx._dtype, idx._numel,
                        spec.num, spec.dim, cp, spec.padding_idx)
    return gw if cdt == dt else cast_tensor(gw, dt)


cdef class EmbeddingBackward0(Node):
    cdef Tensor indices
    cdef long long indices_version
    cdef _EmbSpec spec
    cdef int weight_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor idx = unpack_input(self, self.indices, self.indices_version)
        return (op_embedding_backward(<Tensor>grads, idx, self.spec, self.weight_dtype),)

    cdef void release_saved(self) noexcept:
        self.indices = None

    @property
    def _saved_indices(self):
        return saved_attr(self, self.indices, False)

    @property
    def _saved_padding_idx(self):
        return self.spec.padding_idx

    @property
    def _saved_scale_grad_by_freq(self):
        return self.spec.scale_freq

    @property
    def _saved_sparse(self):
        return False


cdef class EmbeddingDenseBackwardBackward0(Node):
    """The gradient of the embedding's backward with respect to its g."""
    cdef Tensor indices
    cdef _EmbSpec spec

    cdef tuple apply(self, object grads):
        if self.indices is None:
            raise RuntimeError(FREED_MSG)
        return (emb_gather_kernel(<Tensor>grads, self.indices, self.spec, True),)

    cdef void release_saved(self) noexcept:
        self.indices = None


cdef Tensor op_embedding_backward(Tensor g, Tensor idx, _EmbSpec spec, int dt):
    cdef Tensor gw = emb_scatter_kernel(g, idx, spec, dt)
    cdef EmbeddingDenseBackwardBackward0 node
    if needs_grad(g):
        node = EmbeddingDenseBackwardBackward0.__new__(EmbeddingDenseBackwardBackward0)
        wire1(node, g)
        node.indices = idx
        node.spec = spec
        set_history(gw, node)
    return gw


def _embedding(weight, indices, padding_idx, scale_grad_by_freq):
    """torch.embedding(weight, indices, padding_idx, scale_grad_by_freq):
    padding_idx already wrapped (-1 for none)."""
    cdef Tensor w = nn_tensor_arg(weight, "embedding", "weight", 1)
    cdef Tensor idx = nn_tensor_arg(indices, "embedding", "indices", 2)
    cdef _EmbSpec spec = _EmbSpec.__new__(_EmbSpec)
    cdef Tensor out
    cdef EmbeddingBackward0 node
    if w._ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if idx._dtype != I64 and idx._dtype != I32:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
            f"Int; but got {checked_type_name(idx._dtype)} instead (while checking arguments for "
            "embedding)")
    spec.num = w._shape[0]
    spec.dim = w._shape[1]
    spec.padding_idx = padding_idx
    spec.scale_freq = scale_grad_by_freq
    spec.out_shape = shape_tuple(idx) + (spec.dim,)
    spec.weight_shape = shape_tuple(w)
    out = emb_gather_kernel(w, idx, spec, False)
    if needs_grad(w):
        node = EmbeddingBackward0.__new__(EmbeddingBackward0)
        wire1(node, w)
        node.indices = idx
        node.indices_version = save_version(node, idx)
        node.spec = spec
        node.weight_dtype = w._dtype
        set_history(out, node)
    return out


cdef void emb_renorm_rows(real_t* w, const int64_t* rows, Py_ssize_t nrows, Py_ssize_t D,
                          double max_norm, double p) noexcept nogil:
    cdef Py_ssize_t r, j
    cdef double norm, scale, a
    for r in range(nrows):
        norm = 0
        for j in range(D):
            a = cmath.fabs(<double>w[rows[r] * D + j])
            if p == 1:
                norm += a
            elif p == 2:
                norm += a * a
            elif cmath.isinf(p):
                norm = a if a > norm else norm
            else:
                norm += cmath.pow(a, p)
        if p == 2:
            norm = cmath.sqrt(norm)
        elif p != 1 and not cmath.isinf(p):
            norm = cmath.pow(norm, 1.0 / p)
        if norm > max_norm:
            scale = max_norm / (norm + 1e-7)
            for j in range(D):
                w[rows[r] * D + j] = <real_t>(w[rows[r] * D + j] * scale)


def _embedding_renorm_(weight, indices, double max_norm, double norm_type):
    """torch.embedding_renorm_: rows of weight used by indices whose p-norm
    exceeds max_norm are scaled down to it, in place (no history)."""
    cdef Tensor w = nn_tensor_arg(weight, "embedding_renorm_", "weight", 1)
    cdef Tensor idx = nn_tensor_arg(indices, "embedding_renorm_", "indices", 2)
    cdef Tensor rows
    cdef Py_ssize_t i
    cdef int64_t k
    if w._ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if idx._dtype != I64 and idx._dtype != I32:
        raise RuntimeError(
            "Expected tensor for argument #2 'indices' to have one of the following scalar types: Long, "
            f"Int; but got {checked_type_name(idx._dtype)} instead (while checking arguments for "
            "embedding_renorm_)")
    if not w._contiguous or not (w._dtype == F32 or w._dtype == F64):
        raise RuntimeError("embedding_renorm_: weight must be a contiguous float32 or float64 tensor")
    idx = nn_contiguous(idx)
    for i in range(idx._numel):
        emb_index_at(idx._data, idx._dtype, i, &k)
        if k < 0 or k >= w._shape[0]:
            raise IndexError("index out of range in self")
    rows = ndarray_to_tensor_i64(np.unique(ndarray_view(cast_tensor(idx, I64))))
    if w._dtype == F32:
        emb_renorm_rows(<float*>w._data, <int64_t*>rows._data, rows._numel, w._shape[1], max_norm,
                        norm_type)
    else:
        emb_renorm_rows(<double*>w._data, <int64_t*>rows._data, rows._numel, w._shape[1], max_norm,
                        norm_type)
    w._storage.version += 1
    return w


cdef Tensor ndarray_to_tensor_i64(object arr):
    cdef Tensor t = new_tensor_from_tuple((len(arr),), I64)
    ndarray_view(t)[...] = arr
    return t


# ---------------------------------------------------------------------------
# embedding_bag: bags of indices (input[offsets[b]:offsets[b + 1]]) reduced
# to one row each by sum (optionally weighted per sample), mean or max,
# padding_idx entries left out (mean divides by the count of the others; an
# empty bag gives zeros). The node keeps the bag sizes and, for max, the
# argmax row per output element; its backward scatters g back the same way
# and, for per_sample_weights, gives each sample g[bag] . weight[row]. As in
# PyTorch, that backward is not itself differentiable: with create_graph its
# results get PyTorch's nodes that raise when backward reaches them
# (EmbeddingBagBackwardBackward0 for the weight's, NotImplemented for the
# per-sample weights'), so the graph shows what PyTorch's shows.

cdef enum:
    BAG_SUM = 0
    BAG_MEAN = 1
    BAG_MAX = 2


cdef class _BagSpec:
    cdef Py_ssize_t num, dim, n, bags
    cdef int mode
    cdef int64_t padding_idx
    cdef bint scale_freq
    cdef tuple weight_shape


cdef void bag_forward(real_t* out, int64_t* argmax, int64_t* bag_size, const real_t* w,
                      const int64_t* idx, const int64_t* off, const real_t* psw, _BagSpec spec) noexcept:
    cdef Py_ssize_t b, k, j, s, e, D = spec.dim
    cdef int64_t r, cnt
    cdef real_t v
    for b in range(spec.bags):
        s = off[b]
        e = off[b + 1]
        for j in range(D):
            out[b * D + j] = 0
            if argmax != NULL:
                argmax[b * D + j] = -1
        cnt = 0
        for k in range(s, e):
            r = idx[k]
            if r == spec.padding_idx:
                continue
            for j in range(D):
                v = w[r * D + j]
                if spec.mode == BAG_MAX:
                    if cnt == 0 or v > out[b * D + j]:
                        out[b * D + j] = v
                        argmax[b * D + j] = r
                elif psw != NULL:
                    out[b * D + j] += v * psw[k]
                else:
                    out[b * D + j] += v
            cnt += 1
        if spec.mode == BAG_MEAN and cnt > 0:
            for j in range(D):
                out[b * D + j] /= cnt
        bag_size[b] = cnt


cdef void bag_backward(real_t* gw, real_t* gpsw, const real_t* g, const real_t* w,
                       const int64_t* argmax, const int64_t* bag_size, const int64_t* idx,
                       const int64_t* off, const real_t* psw, const int64_t* counts,
                       _BagSpec spec) noexcept:
    cdef Py_ssize_t b, k, j, s, e, D = spec.dim
    cdef int64_t r
    cdef real_t scale, acc
    for b in range(spec.bags):
        if spec.mode == BAG_MAX:
            if gw != NULL:
                for j in range(D):
                    r = argmax[b * D + j]
                    if r >= 0:
                        gw[r * D + j] += g[b * D + j]
            continue
        s = off[b]
        e = off[b + 1]
        for k in range(s, e):
            r = idx[k]
            if r == spec.padding_idx:
                if gpsw != NULL:
                    gpsw[k] = 0
                continue
            if gpsw != NULL:
                acc = 0
                for j in range(D):
                    acc += g[b * D + j] * w[r * D + j]
                gpsw[k] = acc
            if gw == NULL:
                continue
            scale = psw[k] if psw != NULL else 1
            if spec.mode == BAG_MEAN:
                scale = scale / bag_size[b]
            if counts != NULL:
                scale = scale / counts[r]
            for j in range(D):
                gw[r * D + j] += g[b * D + j] * scale


cdef class EmbeddingBagBackwardBackward0(Node):
    """The history of embedding_bag's weight gradient under create_graph:
    PyTorch records it over (grad, per_sample_weights) and raises when
    backward reaches it."""

    cdef tuple apply(self, object grads):
        raise NotImplementedError("the derivative for '_embedding_bag_backward' is not implemented.")


cdef void record_bag_gradient_history(Tensor gw, Tensor gpsw, Tensor g, Tensor w, Tensor psw) except *:
    """Histories of the gradients EmbeddingBagBackward0 made while grad mode
    is on (create_graph), with PyTorch's edges."""
    cdef EmbeddingBagBackwardBackward0 weight_node
    cdef NotImplementedBackward node
    if gw is not None and (needs_grad(g) or (psw is not None and needs_grad(psw))):
        weight_node = EmbeddingBagBackwardBackward0.__new__(EmbeddingBagBackwardBackward0)
        wire_many(weight_node, [g, psw], 1)
        set_history(gw, weight_node)
    if gpsw is not None and (needs_grad(g) or needs_grad(w)):
        node = NotImplementedBackward.__new__(NotImplementedBackward)
        wire_many(node, [t for t in (g, w) if needs_grad(t)], 1)
        node.aten_name = "_embedding_bag_per_sample_weights_backward"
        set_history(gpsw, node)


cdef class EmbeddingBagBackward0(Node):
    cdef Tensor weight, indices, offsets, per_sample_weights, argmax, bag_size
    cdef long long weight_version
    cdef _BagSpec spec

    cdef tuple apply(self, object grads):
        cdef Tensor g, gw = None, gpsw = None, counts = None, w, psw
        cdef int dt
        if self.indices is None:
            raise RuntimeError(FREED_MSG)
        w = conv_as(unpack_input(self, self.weight, self.weight_version), self.weight._dtype)
        psw = self.per_sample_weights
        dt = w._dtype
        g = conv_as(<Tensor>grads, dt)
        if wants_grad(self, 0):
            gw = new_tensor_from_tuple(self.spec.weight_shape, dt, True)
            if self.spec.scale_freq:
                counts = emb_counts(self.indices, self.spec.num)
        if psw is not None and wants_grad(self, 1):
            gpsw = new_tensor_from_tuple((self.spec.n,), dt, True)
        if dt == F32:
            bag_backward(<float*>opt_data(gw), <float*>opt_data(gpsw), <float*>g._data, <float*>w._data,
                         <int64_t*>opt_data(self.argmax), <int64_t*>self.bag_size._data,
                         <int64_t*>self.indices._data, <int64_t*>self.offsets._data,
                         <float*>opt_data(psw), <int64_t*>opt_data(counts), self.spec)
        else:
            bag_backward(<double*>opt_data(gw), <double*>opt_data(gpsw), <double*>g._data,
                         <double*>w._data, <int64_t*>opt_data(self.argmax),
                         <int64_t*>self.bag_size._data, <int64_t*>self.indices._data,
                         <int64_t*>self.offsets._data, <double*>opt_data(psw),
                         <int64_t*>opt_data(counts), self.spec)
        if cgrad_grad_enabled:
            record_bag_gradient_history(gw, gpsw, <Tensor>grads, w, psw)
        return gw, gpsw

    cdef void release_saved(self) noexcept:
        self.weight = None
        self.indices = None
        self.offsets = None
        self.per_sample_weights = None
        self.argmax = None
        self.bag_size = None


def _embedding_bag(weight, indices, offsets, int mode, per_sample_weights, bint include_last_offset,
                   padding_idx, bint scale_grad_by_freq):
    """embedding_bag over 1-D indices and offsets (F.embedding_bag has made
    2-D input 1-D); padding_idx wrapped already (None for none)."""
    cdef Tensor w = nn_tensor_arg(weight, "embedding_bag", "weight", 1)
    cdef Tensor idx = nn_tensor_arg(indices, "embedding_bag", "indices", 2)
    cdef Tensor off = nn_tensor_arg(offsets, "embedding_bag", "offsets", 3)
    cdef Tensor psw = nn_optional_tensor_arg(per_sample_weights, "embedding_bag", "per_sample_weights", 7)
    cdef _BagSpec spec = _BagSpec.__new__(_BagSpec)
    cdef Tensor out, argmax = None, bag_size, off_ext, wc, pswc = None
    cdef EmbeddingBagBackward0 node
    cdef Py_ssize_t k, nb
    cdef int64_t v
    cdef int dt = w._dtype
    for t, name in ((idx, "indices"), (off, "offsets")):
        if (<Tensor>t)._dtype != I64 and (<Tensor>t)._dtype != I32:
            raise RuntimeError(
                f"Expected tensor for argument #1 '{name}' to have one of the following scalar types: "
                f"Long, Int; but got {checked_type_name((<Tensor>t)._dtype)} instead (while "
                "checking arguments for embedding_bag)")
    if dt != F32 and dt != F64:
        raise NotImplementedError(f"\"embedding_bag_cpu\" not implemented for '{dtype_title(dt)}'")
    idx = cast_tensor(idx, I64)
    off = cast_tensor(off, I64)
    spec.num = w._shape[0]
    spec.dim = w._shape[1]
    spec.n = idx._numel
    spec.mode = mode
    spec.padding_idx = -1 if padding_idx is None else padding_idx
    spec.scale_freq = scale_grad_by_freq
    spec.weight_shape = shape_tuple(w)
    for k in range(idx._numel):
        v = (<int64_t*>idx._data)[k]
        if v < 0 or v >= spec.num:
            raise RuntimeError(f"Index {k} of input takes value {v} which is not in the valid range "
                               f"[0, {spec.num})")
    nb = off._numel
    if nb and (<int64_t*>off._data)[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                           f"start from position 0. However, got {(<int64_t*>off._data)[0]}\n"
                           "[ cgrad.LongTensor{} ]")
    if nb and (<int64_t*>off._data)[nb - 1] > spec.n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {spec.n} but got "
                           f"offsets[-1] of {(<int64_t*>off._data)[nb - 1]}")
    for k in range(1, nb):
        if (<int64_t*>off._data)[k] < (<int64_t*>off._data)[k - 1]:
            raise RuntimeError("offsets must be monotonically increasing")
    # offsets extended by the end (or -1 standing for it) so bag b ends at off_ext[b + 1]
    spec.bags = nb - 1 if include_last_offset else nb
    if spec.bags < 0:
        spec.bags = 0
    off_ext = new_tensor_from_tuple((spec.bags + 1,), I64)
    for k in range(spec.bags):
        (<int64_t*>off_ext._data)[k] = (<int64_t*>off._data)[k]
    (<int64_t*>off_ext._data)[spec.bags] = (<int64_t*>off._data)[spec.bags] if include_last_offset \
        else spec.n
    wc = nn_contiguous(w)
    if psw is not None:
        pswc = conv_as(psw, dt)
    out = new_tensor_from_tuple((spec.bags, spec.dim), dt)
    bag_size = new_tensor_from_tuple((spec.bags,), I64)
    if mode == BAG_MAX:
        argmax = new_tensor_from_tuple((spec.bags, spec.dim), I64)
    if dt == F32:
        bag_forward(<float*>out._data, <int64_t*>opt_data(argmax), <int64_t*>bag_size._data,
                    <float*>wc._data, <int64_t*>idx._data, <int64_t*>off_ext._data,
                    <float*>opt_data(pswc), spec)
    else:
        bag_forward(<double*>out._data, <int64_t*>opt_data(argmax), <int64_t*>bag_size._data,
                    <double*>wc._data, <int64_t*>idx._data, <int64_t*>off_ext._data,
                    <double*>opt_data(pswc), spec)
    if needs_grad(w) or (psw is not None and needs_grad(psw)):
        node = EmbeddingBagBackward0.__new__(EmbeddingBagBackward0)
        wire_many(node, [w, psw], 1)
        node.weight = w
        node.weight_version = save_version(node, w)
        node.indices = idx
        node.offsets = off_ext
        node.per_sample_weights = pswc
        node.argmax = argmax
        node.bag_size = bag_size
        node.spec = spec
        set_history(out, node)
    return out
