# 2-D pooling: max_pool2d (with indices), avg_pool2d, adaptive_avg_pool2d,
# adaptive_max_pool2d (the 1-D forms are these on a height of 1, made in
# cgrad.nn.functional as PyTorch makes them).
#
# The input is seen as P planes (N*C, or C unbatched) of H x W, contiguous;
# each kernel walks the output grid of one plane and its window, with
# PyTorch's CPU rules (window clipping, -inf start and NaN propagation for
# max, count_include_pad / divisor_override for avg, floor/ceil bounds for
# adaptive), planes spread over threads when large. Max pools keep the
# argmax (flat h*W + w in the plane, as PyTorch's indices) and their
# backward scatters into zeros by it; avg backward spreads g over windows.
# Every backward is linear in g: its own gradient (create_graph) is the
# forward map again - a gather by the indices for max, the pool for avg -
# so nodes of any order come from the same kernels.

cdef enum:
    POOL_MAX = 0
    POOL_AVG = 1
    POOL_ADAPTIVE_AVG = 2
    POOL_ADAPTIVE_MAX = 3


cdef struct PoolGeom:
    Py_ssize_t P, H, W, oh, ow
    Py_ssize_t kh, kw, sh, sw, ph, pw, dh, dw
    int kind
    bint count_include_pad
    Py_ssize_t divisor          # divisor_override, 0 when none


cdef class _PoolSpec:
    cdef PoolGeom g
    cdef tuple in_shape, out_shape


cdef inline Py_ssize_t adaptive_start(Py_ssize_t o, Py_ssize_t out_size, Py_ssize_t in_size) noexcept nogil:
    return (o * in_size) // out_size


cdef inline Py_ssize_t adaptive_end(Py_ssize_t o, Py_ssize_t out_size, Py_ssize_t in_size) noexcept nogil:
    return ((o + 1) * in_size + out_size - 1) // out_size


cdef inline void pool_window(const PoolGeom* g, Py_ssize_t y, Py_ssize_t x, Py_ssize_t* h0,
                             Py_ssize_t* h1, Py_ssize_t* w0, Py_ssize_t* w1,
                             Py_ssize_t* divide) noexcept nogil:
    """The clipped window [h0, h1) x [w0, w1) of output (y, x) (strides of
    dh, dw for max) and, for avg, the divisor."""
    cdef Py_ssize_t pool_size
    if g.kind == POOL_ADAPTIVE_AVG or g.kind == POOL_ADAPTIVE_MAX:
        h0[0] = adaptive_start(y, g.oh, g.H)
        h1[0] = adaptive_end(y, g.oh, g.H)
        w0[0] = adaptive_start(x, g.ow, g.W)
        w1[0] = adaptive_end(x, g.ow, g.W)
        divide[0] = (h1[0] - h0[0]) * (w1[0] - w0[0])
        return
    if g.kind == POOL_MAX:
        h0[0] = y * g.sh - g.ph
        w0[0] = x * g.sw - g.pw
        h1[0] = min(h0[0] + (g.kh - 1) * g.dh + 1, g.H)
        w1[0] = min(w0[0] + (g.kw - 1) * g.dw + 1, g.W)
        while h0[0] < 0:
            h0[0] += g.dh
        while w0[0] < 0:
            w0[0] += g.dw
        return
    h0[0] = y * g.sh - g.ph
    w0[0] = x * g.sw - g.pw
    h1[0] = min(h0[0] + g.kh, g.H + g.ph)
    w1[0] = min(w0[0] + g.kw, g.W + g.pw)
    pool_size = (h1[0] - h0[0]) * (w1[0] - w0[0])
    h0[0] = max(h0[0], 0)
    w0[0] = max(w0[0], 0)
    h1[0] = min(h1[0], g.H)
    w1[0] = min(w1[0], g.W)
    if g.divisor:
        divide[0] = g.divisor
    elif g.count_include_pad:
        divide[0] = pool_size
    else:
        divide[0] = (h1[0] - h0[0]) * (w1[0] - w0[0])


cdef void pool_fwd_plane(real_t* out, int64_t* idx, const real_t* x, const PoolGeom* g) noexcept nogil:
    cdef Py_ssize_t y, xo, ih, iw, h0, h1, w0, w1, divide, best, o
    cdef Py_ssize_t sdh = 1, sdw = 1
    cdef real_t v, m
    cdef double acc
    if g.kind == POOL_MAX:
        sdh = g.dh
        sdw = g.dw
    for y in range(g.oh):
        for xo in range(g.ow):
            o = y * g.ow + xo
            pool_window(g, y, xo, &h0, &h1, &w0, &w1, &divide)
            if g.kind == POOL_MAX or g.kind == POOL_ADAPTIVE_MAX:
                best = h0 * g.W + w0
                m = -cmath.INFINITY
                ih = h0
                while ih < h1:
                    iw = w0
                    while iw < w1:
                        v = x[ih * g.W + iw]
                        if v > m or v != v:
                            m = v
                            best = ih * g.W + iw
                        iw += sdw
                    ih += sdh
                out[o] = m
                idx[o] = best
            else:
                if h0 >= h1 or w0 >= w1:
                    out[o] = 0
                    continue
                acc = 0
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        acc += x[ih * g.W + iw]
                out[o] = <real_t>(acc / divide)


cdef void pool_bwd_plane(real_t* gx, const real_t* g_out, const int64_t* idx,
                         const PoolGeom* g) noexcept nogil:
    """gx (zeroed) += the gradient of one plane's outputs."""
    cdef Py_ssize_t y, xo, ih, iw, h0, h1, w0, w1, divide, o
    cdef real_t v
    if g.kind == POOL_MAX or g.kind == POOL_ADAPTIVE_MAX:
        for o in range(g.oh * g.ow):
            gx[idx[o]] += g_out[o]
        return
    for y in range(g.oh):
        for xo in range(g.ow):
            pool_window(g, y, xo, &h0, &h1, &w0, &w1, &divide)
            if h0 >= h1 or w0 >= w1:
                continue
            v = g_out[y * g.ow + xo] / <real_t>divide
            for ih in range(h0, h1):
                for iw in range(w0, w1):
                    gx[ih * g.W + iw] += v


cdef void pool_gather_plane(real_t* out, const real_t* gg, const int64_t* idx,
                            const PoolGeom* g) noexcept nogil:
    cdef Py_ssize_t o
    for o in range(g.oh * g.ow):
        out[o] = gg[idx[o]]


cdef enum:
    POOL_FWD = 0
    POOL_BWD = 1
    POOL_GATHER = 2


cdef void pool_planes(int job, real_t* a, int64_t* idx, const real_t* b, const PoolGeom* g,
                      int nthreads) noexcept nogil:
    """Run one job over all planes: FWD a = out, b = x; BWD a = gx, b = g;
    GATHER a = out, b = gg."""
    cdef Py_ssize_t p, isz = g.H * g.W, osz = g.oh * g.ow
    if nthreads > 1:
        for p in prange(g.P, num_threads=nthreads, schedule="static"):
            pool_one_plane(job, a, idx, b, g, p, isz, osz)
    else:
        for p in range(g.P):
            pool_one_plane(job, a, idx, b, g, p, isz, osz)


cdef inline void pool_one_plane(int job, real_t* a, int64_t* idx, const real_t* b, const PoolGeom* g,
                                Py_ssize_t p, Py_ssize_t isz, Py_ssize_t osz) noexcept nogil:
    cdef int64_t* ip = NULL if idx == NULL else idx + p * osz
    if job == POOL_FWD:
        pool_fwd_plane(a + p * osz, ip, b + p * isz, g)
    elif job == POOL_BWD:
        pool_bwd_plane(a + p * isz, b + p * osz, ip, g)
    else:
        pool_gather_plane(a + p * osz, b + p * isz, ip, g)


cdef int run_pool(int job, Tensor a, Tensor idx, Tensor b, _PoolSpec spec) except -1:
    cdef int64_t* ip = NULL if idx is None else <int64_t*>idx._data
    cdef Py_ssize_t work = spec.g.P * (spec.g.H * spec.g.W + spec.g.oh * spec.g.ow)
    cdef int nth = 1
    if spec.g.P == 0 or spec.g.oh * spec.g.ow == 0:
        return 0
    if work >= (1 << 16) and spec.g.P > 1:
        nth = _num_threads if _num_threads < spec.g.P else <int>spec.g.P
    if work < GIL_RELEASE_NUMEL:
        if a._dtype == F32:
            pool_planes(job, <float*>a._data, ip, <float*>b._data, &spec.g, 1)
        else:
            pool_planes(job, <double*>a._data, ip, <double*>b._data, &spec.g, 1)
        return 0
    with nogil:
        if a._dtype == F32:
            pool_planes(job, <float*>a._data, ip, <float*>b._data, &spec.g, nth)
        else:
            pool_planes(job, <double*>a._data, ip, <double*>b._data, &spec.g, nth)
    return 0


cdef bint pool_has_indices(_PoolSpec spec) noexcept:
    return spec.g.kind == POOL_MAX or spec.g.kind == POOL_ADAPTIVE_MAX


cdef tuple pool_forward_kernel(Tensor x, _PoolSpec spec):
    """(output, indices or None), no history; float16 runs in float32."""
    cdef int cdt = F32 if is_half16(x._dtype) else x._dtype
    cdef Tensor xc = conv_as(x, cdt)
    cdef Tensor out = new_tensor_from_tuple(spec.out_shape, cdt)
    cdef Tensor idx = new_tensor_from_tuple(spec.out_shape, I64) if pool_has_indices(spec) else None
    run_pool(POOL_FWD, out, idx, xc, spec)
    return (out if cdt == x._dtype else cast_tensor(out, x._dtype)), idx


cdef Tensor pool_backward_kernel(Tensor g, Tensor idx, _PoolSpec spec, int dt):
    cdef int cdt = F32 if is_half16(dt) else dt
    cdef Tensor gc = conv_as(g, cdt)
    cdef Tensor gx = new_tensor_from_tuple(spec.in_shape, cdt, True)
    if idx is not None:
        idx = nn_contiguous(idx)
    run_pool(POOL_BWD, gx, idx, gc, spec)
    return gx if cdt == dt else cast_tensor(gx, dt)


cdef Tensor pool_gather_kernel(Tensor gg, Tensor idx, _PoolSpec spec):
    cdef int cdt = F32 if is_half16(gg._dtype) else gg._dtype
    cdef Tensor gc = conv_as(gg, cdt)
    cdef Tensor out = new_tensor_from_tuple(spec.out_shape, cdt)
    run_pool(POOL_GATHER, out, nn_contiguous(idx), gc, spec)
    return out if cdt == gg._dtype else cast_tensor(out, gg._dtype)


cdef class _PoolNode(Node):
    """The backward of a pool: g -> gradient of the input (linear in g)."""
    cdef Tensor indices
    cdef long long indices_version
    cdef _PoolSpec spec
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor idx = self.indices
        if idx is not None:
            idx = unpack_input(self, idx, self.indices_version)
        elif pool_has_indices(self.spec):
            raise RuntimeError(FREED_MSG)
        return (op_pool_backward(<Tensor>grads, idx, self.spec, self.self_dtype),)

    cdef void release_saved(self) noexcept:
        self.indices = None

    @property
    def _saved_indices(self):
        return saved_attr(self, self.indices, not pool_has_indices(self.spec))

    @property
    def _saved_result1(self):
        return saved_attr(self, self.indices, not pool_has_indices(self.spec))


cdef class MaxPool2DWithIndicesBackward0(_PoolNode):
    pass


cdef class AvgPool2DBackward0(_PoolNode):
    pass


cdef class AdaptiveAvgPool2DBackward0(_PoolNode):
    pass


cdef class AdaptiveMaxPool2DBackward0(_PoolNode):
    pass


cdef class _PoolBackwardNode(Node):
    """The gradient of a pool's backward with respect to its g: the pool's
    forward map (gather by indices for max) applied to the incoming grad."""
    cdef Tensor indices
    cdef _PoolSpec spec

    cdef tuple apply(self, object grads):
        if pool_has_indices(self.spec):
            if self.indices is None:
                raise RuntimeError(FREED_MSG)
            return (op_pool_gather(<Tensor>grads, self.indices, self.spec),)
        return (op_pool_forward(<Tensor>grads, self.spec)[0],)

    cdef void release_saved(self) noexcept:
        self.indices = None


cdef class MaxPool2DWithIndicesBackwardBackward0(_PoolBackwardNode):
    pass


cdef class AvgPool2DBackwardBackward0(_PoolBackwardNode):
    pass


cdef class AdaptiveAvgPool2DBackwardBackward0(_PoolBackwardNode):
    pass


cdef class AdaptiveMaxPool2DBackwardBackward0(_PoolBackwardNode):
    pass


cdef _PoolNode new_pool_node(int kind):
    if kind == POOL_MAX:
        return MaxPool2DWithIndicesBackward0.__new__(MaxPool2DWithIndicesBackward0)
    if kind == POOL_AVG:
        return AvgPool2DBackward0.__new__(AvgPool2DBackward0)
    if kind == POOL_ADAPTIVE_AVG:
        return AdaptiveAvgPool2DBackward0.__new__(AdaptiveAvgPool2DBackward0)
    return AdaptiveMaxPool2DBackward0.__new__(AdaptiveMaxPool2DBackward0)


cdef _PoolBackwardNode new_pool_backward_node(int kind):
    if kind == POOL_MAX:
        return MaxPool2DWithIndicesBackwardBackward0.__new__(MaxPool2DWithIndicesBackwardBackward0)
    if kind == POOL_AVG:
        return AvgPool2DBackwardBackward0.__new__(AvgPool2DBackwardBackward0)
    if kind == POOL_ADAPTIVE_AVG:
        return AdaptiveAvgPool2DBackwardBackward0.__new__(AdaptiveAvgPool2DBackwardBackward0)
    return AdaptiveMaxPool2DBackwardBackward0.__new__(AdaptiveMaxPool2DBackwardBackward0)


cdef tuple op_pool_forward(Tensor x, _PoolSpec spec):
    cdef tuple res = pool_forward_kernel(x, spec)
    cdef Tensor out = <Tensor>res[0]
    cdef _PoolNode node
    if needs_grad(x):
        node = new_pool_node(spec.g.kind)
        wire1(node, x)
        node.indices = <Tensor>res[1]
        if node.indices is not None:
            node.indices_version = save_version(node, node.indices)
        node.spec = spec
        node.self_dtype = x._dtype
        set_history(out, node)
    return res


cdef Tensor op_pool_gather(Tensor gg, Tensor idx, _PoolSpec spec):
    """gg taken at the argmax of each window: a max pool with fixed indices
    (its node is the max pool's, so further orders follow)."""
    cdef Tensor out = pool_gather_kernel(gg, idx, spec)
    cdef _PoolNode node
    if needs_grad(gg):
        node = new_pool_node(spec.g.kind)
        wire1(node, gg)
        node.indices = idx
        node.indices_version = save_version(node, idx)
        node.spec = spec
        node.self_dtype = gg._dtype
        set_history(out, node)
    return out


cdef Tensor op_pool_backward(Tensor g, Tensor idx, _PoolSpec spec, int dt):
    cdef Tensor gx = pool_backward_kernel(g, idx, spec, dt)
    cdef _PoolBackwardNode node
    if needs_grad(g):
        node = new_pool_backward_node(spec.g.kind)
        wire1(node, g)
        node.indices = idx
        node.spec = spec
        set_history(gx, node)
    return gx


# ---------------------------------------------------------------------------
# Argument checks and output sizes (PyTorch's pooling_output_shape and
# pool2d_shape_check, their texts and order).


cdef object pooling_output_size(object in_size, object kernel, object pad, object stride,
                                object dilation, bint ceil_mode):
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > ((kernel - 1) * dilation + 1) // 2:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pad}, "
                           f"kernel_size={kernel} and dilation={dilation}")
    out = (in_size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) \
        // stride + 1
    if ceil_mode and (out - 1) * stride >= in_size + pad:
        out -= 1
    return out


cdef int pool2d_shape_check(Tensor x, tuple k, tuple s, tuple p, tuple d, object oh,
                            object ow) except -1:
    cdef int nd = x._ndim
    cdef bint valid_dims
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    valid_dims = x._shape[nd - 2] != 0 and x._shape[nd - 1] != 0
    if not ((nd == 3 and x._shape[0] != 0 and valid_dims) or (nd == 4 and valid_dims and x._shape[1] != 0)):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{shape_str(x._shape, x._ndim)}")
    if not (k[1] // 2 >= p[1] and k[0] // 2 >= p[0]):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"Given input size: ({x._shape[nd - 3]}x{x._shape[nd - 2]}x{x._shape[nd - 1]}). "
            f"Calculated output size: ({x._shape[nd - 3]}x{oh}x{ow}). Output size is too small")
    return 0


cdef _PoolSpec pool_spec(Tensor x, int kind, object oh, object ow):
    cdef _PoolSpec spec = _PoolSpec.__new__(_PoolSpec)
    cdef int nd = x._ndim
    cdef int d
    spec.g.kind = kind
    spec.g.P = 1
    for d in range(nd - 2):
        spec.g.P *= x._shape[d]
    spec.g.H = x._shape[nd - 2]
    spec.g.W = x._shape[nd - 1]
    spec.g.oh = oh
    spec.g.ow = ow
    spec.in_shape = shape_tuple(x)
    spec.out_shape = spec.in_shape[:nd - 2] + (oh, ow)
    return spec


cdef int pool_float_check(Tensor x, str name) except -1:
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtype_title(x._dtype)}'")
    return 0


cdef tuple pool_results_as_input(tuple res, Tensor x):
    """A pooling's (output, indices) in x's suggested layout, as PyTorch's."""
    cdef object r
    for r in res:
        if isinstance(r, Tensor):
            follow_input_format(<Tensor>r, x)
    return res


def _max_pool2d(input, tuple kernel, tuple stride, tuple padding, tuple dilation, bint ceil_mode):
    """(output, indices) of max_pool2d_with_indices; the tuples have two ints."""
    cdef Tensor x = nn_tensor_arg(input, "max_pool2d_with_indices", "input", 1)
    cdef _PoolSpec spec
    if not (x._ndim == 3 or x._ndim == 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    oh = pooling_output_size(x._shape[x._ndim - 2], kernel[0], padding[0], stride[0], dilation[0],
                             ceil_mode)
    ow = pooling_output_size(x._shape[x._ndim - 1], kernel[1], padding[1], stride[1], dilation[1],
                             ceil_mode)
    pool2d_shape_check(x, kernel, stride, padding, dilation, oh, ow)
    pool_float_check(x, "max_pool2d")
    spec = pool_spec(x, POOL_MAX, oh, ow)
    spec.g.kh = kernel[0]
    spec.g.kw = kernel[1]
    spec.g.sh = stride[0]
    spec.g.sw = stride[1]
    spec.g.ph = padding[0]
    spec.g.pw = padding[1]
    spec.g.dh = dilation[0]
    spec.g.dw = dilation[1]
    return pool_results_as_input(op_pool_forward(x, spec), x)


def _avg_pool2d(input, tuple kernel, tuple stride, tuple padding, bint ceil_mode,
                bint count_include_pad, divisor_override):
    cdef Tensor x = nn_tensor_arg(input, "avg_pool2d", "input", 1)
    cdef _PoolSpec spec
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if not (x._ndim == 3 or x._ndim == 4):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{shape_str(x._shape, x._ndim)}")
    oh = pooling_output_size(x._shape[x._ndim - 2], kernel[0], padding[0], stride[0], 1, ceil_mode)
    ow = pooling_output_size(x._shape[x._ndim - 1], kernel[1], padding[1], stride[1], 1, ceil_mode)
    pool2d_shape_check(x, kernel, stride, padding, (1, 1), oh, ow)
    pool_float_check(x, "avg_pool2d")
    spec = pool_spec(x, POOL_AVG, oh, ow)
    spec.g.kh = kernel[0]
    spec.g.kw = kernel[1]
    spec.g.sh = stride[0]
    spec.g.sw = stride[1]
    spec.g.ph = padding[0]
    spec.g.pw = padding[1]
    spec.g.dh = spec.g.dw = 1
    spec.g.count_include_pad = count_include_pad
    spec.g.divisor = 0 if divisor_override is None else divisor_override
    return follow_input_format(<Tensor>op_pool_forward(x, spec)[0], x)


def _adaptive_pool2d(input, tuple output_size, bint is_max):
    """adaptive_avg_pool2d, or adaptive_max_pool2d's (output, indices)."""
    cdef str name = "adaptive_max_pool2d" if is_max else "adaptive_avg_pool2d"
    cdef Tensor x = nn_tensor_arg(input, name, "input", 1)
    cdef int d
    cdef _PoolSpec spec
    if len(output_size) != 2:
        raise RuntimeError(f"{name}: output_size must be 2")
    if not (x._ndim == 3 or x._ndim == 4):
        raise RuntimeError(f"{name}(): Expected 3D or 4D tensor, but got"
                           f"{':' if is_max else ''} {shape_str(x._shape, x._ndim)}")
    # PyTorch's max checks every non-batch dim, its avg only H and W
    for d in range(1 if is_max else x._ndim - 2, x._ndim):
        if x._shape[d] == 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                f"has sizes {shape_str(x._shape, x._ndim)} with dimension {d} being empty")
    if output_size[0] < 0 or output_size[1] < 0:
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but "
                           f"received {{{output_size[0]}, {output_size[1]}}}")
    pool_float_check(x, name)
    spec = pool_spec(x, POOL_ADAPTIVE_MAX if is_max else POOL_ADAPTIVE_AVG, output_size[0],
                     output_size[1])
    res = pool_results_as_input(op_pool_forward(x, spec), x)
    return res if is_max else res[0]
