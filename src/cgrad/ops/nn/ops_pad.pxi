# Padding: F.pad's constant (any dims, negative pads crop), reflect and
# replicate modes (circular is slice copies in cgrad.nn.functional, as
# PyTorch makes it, so it carries CopySlices).
#
# Each output coordinate along a dim maps to a source coordinate, or to
# none (-1) in a constant border: one int64 map per dim (identity where the
# dim is not padded), concatenated. The forward fills the constant, then
# walks the output rows (an odometer over the leading dims) and gathers each
# row of the last dim through the maps, by element size so every dtype
# works. The backward accumulates g through the same maps (reflect and
# replicate send several outputs to one input). Constant padding's gradient
# is the opposite padding (a crop), as in PyTorch; the other modes'
# gradient of the gradient is the padding again.

cdef enum:
    PAD_CONSTANT = 0
    PAD_REFLECT = 1
    PAD_REPLICATE = 2


cdef class _PadSpec:
    cdef int mode
    cdef tuple pads             # F.pad's list: last dim first, (left, right) pairs
    cdef tuple in_shape, out_shape
    cdef Tensor maps            # int64, the concatenated per-dim maps
    cdef Py_ssize_t map_off[MAX_DIMS]


cdef _PadSpec pad_spec(Tensor x, tuple pads, int mode):
    """Shapes and maps of one padding (pads already checked)."""
    cdef _PadSpec spec = _PadSpec.__new__(_PadSpec)
    cdef int nd = x._ndim, d, k
    cdef Py_ssize_t total = 0, o, s, n_in, left, right, n_out
    cdef list out_shape = []
    cdef int64_t* m
    for d in range(nd):
        k = nd - 1 - d
        left = pads[2 * k] if 2 * k < len(pads) else 0
        right = pads[2 * k + 1] if 2 * k + 1 < len(pads) else 0
        out_shape.append(x._shape[d] + left + right)
        spec.map_off[d] = total
        total += x._shape[d] + left + right
    spec.mode = mode
    spec.pads = pads
    spec.in_shape = shape_tuple(x)
    spec.out_shape = tuple(out_shape)
    spec.maps = new_tensor_from_tuple((total,), I64)
    m = <int64_t*>spec.maps._data
    for d in range(nd):
        k = nd - 1 - d
        left = pads[2 * k] if 2 * k < len(pads) else 0
        n_in = x._shape[d]
        n_out = out_shape[d]
        for o in range(n_out):
            s = o - left
            if mode == PAD_CONSTANT:
                if s < 0 or s >= n_in:
                    s = -1
            elif mode == PAD_REFLECT:
                if s < 0:
                    s = -s
                elif s >= n_in:
                    s = 2 * (n_in - 1) - s
            else:
                if s < 0:
                    s = 0
                elif s >= n_in:
                    s = n_in - 1
            m[spec.map_off[d] + o] = s
    return spec


cdef inline void pad_copy_row(char* dst, const char* src, const int64_t* m, Py_ssize_t n,
                              int isz) noexcept nogil:
    cdef Py_ssize_t o
    cdef int64_t s
    if isz == 8:
        for o in range(n):
            s = m[o]
            if s >= 0:
                (<uint64_t*>dst)[o] = (<const uint64_t*>src)[s]
    elif isz == 4:
        for o in range(n):
            s = m[o]
            if s >= 0:
                (<uint32_t*>dst)[o] = (<const uint32_t*>src)[s]
    elif isz == 2:
        for o in range(n):
            s = m[o]
            if s >= 0:
                (<uint16_t*>dst)[o] = (<const uint16_t*>src)[s]
    else:
        for o in range(n):
            s = m[o]
            if s >= 0:
                dst[o] = src[s]


cdef inline void pad_add_row(real_t* gx, const real_t* g, const int64_t* m, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t o
    cdef int64_t s
    for o in range(n):
        s = m[o]
        if s >= 0:
            gx[s] += g[o]


cdef void pad_walk(bint backward, char* out, char* x, int isz, int nd, const Py_ssize_t* oshape,
                   const Py_ssize_t* istrides, const int64_t* maps, const Py_ssize_t* map_off,
                   int dt) noexcept nogil:
    """Forward: out (the padded tensor) gathers from x. Backward: x (the
    zeroed input gradient) accumulates out (the padded gradient)."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t rows = 1, r, base, OL = oshape[nd - 1]
    cdef int64_t s
    cdef int d
    cdef bint valid
    cdef const int64_t* last = maps + map_off[nd - 1]
    for d in range(nd - 1):
        rows *= oshape[d]
        idx[d] = 0
    for r in range(rows):
        base = 0
        valid = True
        for d in range(nd - 1):
            s = maps[map_off[d] + idx[d]]
            if s < 0:
                valid = False
                break
            base += s * istrides[d]
        if valid:
            if not backward:
                pad_copy_row(out + r * OL * isz, x + base * isz, last, OL, isz)
            elif dt == F32:
                pad_add_row(<float*>x + base, <float*>out + r * OL, last, OL)
            else:
                pad_add_row(<double*>x + base, <double*>out + r * OL, last, OL)
        d = nd - 2
        while d >= 0:
            idx[d] += 1
            if idx[d] < oshape[d]:
                break
            idx[d] = 0
            d -= 1


cdef int run_pad(bint backward, Tensor padded, Tensor img, _PadSpec spec) except -1:
    cdef Py_ssize_t oshape[MAX_DIMS]
    cdef Py_ssize_t istrides[MAX_DIMS]
    cdef int nd = img._ndim, d
    cdef int isz = ITEMSIZE[img._dtype]
    cdef int dt = img._dtype
    if padded._numel == 0 or img._numel == 0:
        return 0
    if nd == 0:
        memcpy(img._data if backward else padded._data, padded._data if backward else img._data, isz)
        return 0
    for d in range(nd):
        oshape[d] = padded._shape[d]
        istrides[d] = img._strides[d]
    if padded._numel < GIL_RELEASE_NUMEL:
        pad_walk(backward, padded._data, img._data, isz, nd, oshape, istrides,
                 <int64_t*>spec.maps._data, spec.map_off, dt)
        return 0
    with nogil:
        pad_walk(backward, padded._data, img._data, isz, nd, oshape, istrides,
                 <int64_t*>spec.maps._data, spec.map_off, dt)
    return 0


cdef Tensor pad_forward_kernel(Tensor x, _PadSpec spec, object value):
    cdef Tensor xc = nn_contiguous(x)
    cdef Tensor out = new_tensor_from_tuple(spec.out_shape, x._dtype)
    if spec.mode == PAD_CONSTANT:
        fill_scalar(out, value)
    run_pad(False, out, xc, spec)
    return out


cdef Tensor pad_backward_kernel(Tensor g, _PadSpec spec, int dt):
    cdef int cdt = F32 if is_half16(dt) else dt
    cdef Tensor gc = conv_as(g, cdt)
    cdef Tensor gx = new_tensor_from_tuple(spec.in_shape, cdt, True)
    run_pad(True, gc, gx, spec)
    return gx if cdt == dt else cast_tensor(gx, dt)


cdef class ConstantPadNdBackward0(Node):
    cdef _PadSpec spec

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef tuple neg = tuple([-p for p in self.spec.pads])
        return (op_pad(g, pad_spec(g, neg, PAD_CONSTANT), 0),)

    @property
    def _saved_pad(self):
        return self.spec.pads


cdef class _PadNode(Node):
    cdef _PadSpec spec
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        return (op_pad_backward(<Tensor>grads, self.spec, self.self_dtype),)

    @property
    def _saved_padding(self):
        return self.spec.pads


cdef class ReflectionPad1DBackward0(_PadNode):
    pass

cdef class ReflectionPad2DBackward0(_PadNode):
    pass

cdef class ReflectionPad3DBackward0(_PadNode):
    pass

cdef class ReplicationPad1DBackward0(_PadNode):
    pass

cdef class ReplicationPad2DBackward0(_PadNode):
    pass

cdef class ReplicationPad3DBackward0(_PadNode):
    pass


cdef class _PadBackwardNode(Node):
    """The gradient of a reflect/replicate padding's backward: the padding."""
    cdef _PadSpec spec

    cdef tuple apply(self, object grads):
        return (op_pad(<Tensor>grads, self.spec, 0),)

cdef class ReflectionPad1DBackwardBackward0(_PadBackwardNode):
    pass

cdef class ReflectionPad2DBackwardBackward0(_PadBackwardNode):
    pass

cdef class ReflectionPad3DBackwardBackward0(_PadBackwardNode):
    pass

cdef class ReplicationPad1DBackwardBackward0(_PadBackwardNode):
    pass

cdef class ReplicationPad2DBackwardBackward0(_PadBackwardNode):
    pass

cdef class ReplicationPad3DBackwardBackward0(_PadBackwardNode):
    pass


cdef Node new_pad_node(_PadSpec spec, bint backward):
    cdef int k = len(spec.pads) // 2
    cdef type cls
    if spec.mode == PAD_REFLECT:
        if backward:
            cls = (ReflectionPad1DBackwardBackward0, ReflectionPad2DBackwardBackward0,
                   ReflectionPad3DBackwardBackward0)[k - 1]
        else:
            cls = (ReflectionPad1DBackward0, ReflectionPad2DBackward0, ReflectionPad3DBackward0)[k - 1]
    elif backward:
        cls = (ReplicationPad1DBackwardBackward0, ReplicationPad2DBackwardBackward0,
               ReplicationPad3DBackwardBackward0)[k - 1]
    else:
        cls = (ReplicationPad1DBackward0, ReplicationPad2DBackward0, ReplicationPad3DBackward0)[k - 1]
    return cls.__new__(cls)


cdef Tensor op_pad(Tensor x, _PadSpec spec, object value):
    cdef Tensor out = pad_forward_kernel(x, spec, value)
    cdef Node node
    if needs_grad(x):
        if spec.mode == PAD_CONSTANT:
            node = ConstantPadNdBackward0.__new__(ConstantPadNdBackward0)
            (<ConstantPadNdBackward0>node).spec = spec
        else:
            node = new_pad_node(spec, False)
            (<_PadNode>node).spec = spec
            (<_PadNode>node).self_dtype = x._dtype
        wire1(node, x)
        set_history(out, node)
    return out


cdef Tensor op_pad_backward(Tensor g, _PadSpec spec, int dt):
    cdef Tensor gx = pad_backward_kernel(g, spec, dt)
    cdef _PadBackwardNode node
    if needs_grad(g):
        node = <_PadBackwardNode>new_pad_node(spec, True)
        node.spec = spec
        wire1(node, g)
        set_history(gx, node)
    return gx


def _pad(input, tuple pads, int mode, value):
    """F.pad for the constant (mode 0), reflect (1) and replicate (2) modes;
    pads checked by the caller (ints, even length, sizes in range)."""
    cdef Tensor x = nn_tensor_arg(input, "pad", "input", 1)
    cdef int d, k
    cdef Py_ssize_t n
    if mode == PAD_CONSTANT:
        for k in range(len(pads) // 2):
            d = x._ndim - 1 - k
            n = x._shape[d] + pads[2 * k] + pads[2 * k + 1]
            if n < 0:
                raise RuntimeError(
                    f"The input size {x._shape[d]}, plus negative padding {pads[2 * k]} and "
                    f"{pads[2 * k + 1]} resulted in a negative output size, which is invalid. Check "
                    f"dimension {d} of your input.")
        if value is None:
            value = 0
    return follow_input_format(op_pad(x, pad_spec(x, pads, mode), value), x)
