# Convolutions (conv1d/conv2d: any stride, padding, dilation, groups) and
# unfold/fold, by im2col feeding BLAS.
#
# A 1-D convolution is the 2-D one with a height of 1 (same memory). The
# input (N, C, H, W) is unrolled into columns (N, C*kh*kw, oh*ow), which is
# F.unfold's layout; the rows of one group are adjacent there, so the product
# with the weight viewed as (G, OC/G, K) is one batched matmul (numpy's, on
# views of the buffers: gemm per matrix) that lands directly in the output's
# layout (N, OC, oh*ow) - nothing is transposed. A 1x1 kernel with unit
# stride and no padding skips the unrolling: the input is its own columns.
# Backward: bias = sums of g; weight = g @ cols^T per sample, summed over
# the batch (the forward's columns are kept for it); input = col2im(W^T @ g),
# col2im being im2col's adjoint (an accumulating scatter). Under
# create_graph the same formulas run through differentiable ops (matmul,
# sum, and unfold/fold, whose nodes are each other's adjoints), so double
# backward works.


cdef struct ConvGeom:
    Py_ssize_t C, H, W          # channels and size of one image
    Py_ssize_t kh, kw, sh, sw, ph, pw, dh, dw
    Py_ssize_t oh, ow           # output (column) grid


cdef class _ConvSpec:
    """The fixed part of one convolution / unfold call, shared by its nodes."""
    cdef ConvGeom g
    cdef Py_ssize_t N, OC, groups
    cdef bint direct            # 1x1, unit stride, no padding: x is its own columns
    cdef tuple in_shape, w_shape, out_shape
    cdef tuple cols_shape       # unfold's result: (N, C*kh*kw, L), or without N unbatched


cdef inline void conv_valid_range(Py_ssize_t off, Py_ssize_t s, Py_ssize_t n_in, Py_ssize_t n_out,
                                  Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """[lo, hi): the outputs o with 0 <= o*s + off < n_in."""
    cdef Py_ssize_t a = 0, b
    if off < 0:
        a = (-off + s - 1) // s
    if n_in - 1 - off < 0:
        b = 0
    else:
        b = (n_in - 1 - off) // s + 1
    if b > n_out:
        b = n_out
    if a > b:
        a = b
    lo[0] = a
    hi[0] = b


cdef void im2col_one(mm_t* cols, const mm_t* x, const ConvGeom* g, bint adjoint) noexcept nogil:
    """cols (C*kh*kw, oh*ow) from one image x (C, H, W); adjoint: x (zeroed
    by the caller) += the columns scattered back (col2im)."""
    cdef Py_ssize_t c, i, j, y, o, iy, off, lo, hi, L = g.oh * g.ow
    cdef Py_ssize_t sw = g.sw
    cdef mm_t* row
    cdef mm_t* dst
    cdef mm_t* src
    for c in range(g.C):
        for i in range(g.kh):
            for j in range(g.kw):
                row = cols + ((c * g.kh + i) * g.kw + j) * L
                off = j * g.dw - g.pw
                conv_valid_range(off, sw, g.W, g.ow, &lo, &hi)
                for y in range(g.oh):
                    iy = y * g.sh - g.ph + i * g.dh
                    dst = row + y * g.ow
                    if iy < 0 or iy >= g.H:
                        if not adjoint:
                            for o in range(g.ow):
                                dst[o] = 0
                        continue
                    src = <mm_t*>x + (c * g.H + iy) * g.W
                    if adjoint:
                        for o in range(lo, hi):
                            src[o * sw + off] += dst[o]
                        continue
                    for o in range(lo):
                        dst[o] = 0
                    if sw == 1:
                        for o in range(lo, hi):
                            dst[o] = src[o + off]
                    else:
                        for o in range(lo, hi):
                            dst[o] = src[o * sw + off]
                    for o in range(hi, g.ow):
                        dst[o] = 0


cdef void im2col_batch(mm_t* cols, mm_t* x, Py_ssize_t N, const ConvGeom* g, bint adjoint,
                       int nthreads) noexcept nogil:
    cdef Py_ssize_t n
    cdef Py_ssize_t xs = g.C * g.H * g.W, cs = g.C * g.kh * g.kw * g.oh * g.ow
    if nthreads > 1:
        for n in prange(N, num_threads=nthreads, schedule="static"):
            im2col_one(cols + n * cs, x + n * xs, g, adjoint)
    else:
        for n in range(N):
            im2col_one(cols + n * cs, x + n * xs, g, adjoint)


cdef int run_im2col(Tensor cols, Tensor img, Py_ssize_t N, ConvGeom* g, bint adjoint) except -1:
    """cols = im2col(img), or (adjoint) img += col2im(cols); both contiguous,
    one dtype among F32, F64, I64."""
    cdef Py_ssize_t work = cols._numel
    cdef int nth = 1
    cdef int dt = cols._dtype
    if work == 0:
        return 0
    if work >= (1 << 17) and N > 1:
        nth = _num_threads if _num_threads < N else <int>N
    if work < GIL_RELEASE_NUMEL:
        if dt == F32:
            im2col_batch(<float*>cols._data, <float*>img._data, N, g, adjoint, 1)
        elif dt == F64:
            im2col_batch(<double*>cols._data, <double*>img._data, N, g, adjoint, 1)
        else:
            im2col_batch(<int64_t*>cols._data, <int64_t*>img._data, N, g, adjoint, 1)
        return 0
    with nogil:
        if dt == F32:
            im2col_batch(<float*>cols._data, <float*>img._data, N, g, adjoint, nth)
        elif dt == F64:
            im2col_batch(<double*>cols._data, <double*>img._data, N, g, adjoint, nth)
        else:
            im2col_batch(<int64_t*>cols._data, <int64_t*>img._data, N, g, adjoint, nth)
    return 0


cdef int conv_compute_dtype(int dt, str what) except -1:
    """The dtype a kernel runs in: float16 and bfloat16 in float32; narrow ints refused."""
    if is_half16(dt):
        return F32
    if dt == F32 or dt == F64 or dt == I64:
        return dt
    if dt != BOOL:
        return I64      # narrow ints: products wrap modulo 2^bits either way
    raise NotImplementedError(f"\"{what}\" not implemented for '{dtype_title(dt)}'")


cdef Tensor conv_as(Tensor t, int dt):
    """t contiguous in dtype dt (itself when it already is)."""
    if t._dtype != dt:
        return cast_tensor(t, dt)
    return nn_contiguous(t)


cdef Tensor im2col_kernel(Tensor img, _ConvSpec spec):
    """Columns (N, C*kh*kw, oh*ow) of img (N images of C x H x W); no history."""
    cdef int cdt = conv_compute_dtype(img._dtype, "im2col")
    cdef Tensor x = conv_as(img, cdt)
    cdef Tensor cols = new_tensor_from_tuple(
        (spec.N, spec.g.C * spec.g.kh * spec.g.kw, spec.g.oh * spec.g.ow) if spec.cols_shape is None
        else spec.cols_shape, cdt)
    run_im2col(cols, x, spec.N, &spec.g, False)
    return cols if cdt == img._dtype else cast_tensor(cols, img._dtype)


cdef Tensor col2im_kernel(Tensor cols, _ConvSpec spec, tuple img_shape):
    """The image (img_shape) whose im2col's adjoint gives cols; no history."""
    cdef int cdt = conv_compute_dtype(cols._dtype, "col2im")
    cdef Tensor c = conv_as(cols, cdt)
    cdef Tensor img = new_tensor_from_tuple(img_shape, cdt, True)
    run_im2col(c, img, spec.N, &spec.g, True)
    return img if cdt == cols._dtype else cast_tensor(img, cols._dtype)


cdef class Im2ColBackward0(Node):
    cdef _ConvSpec spec

    cdef tuple apply(self, object grads):
        return (op_col2im(<Tensor>grads, self.spec, self.spec.in_shape),)


cdef class Col2ImBackward0(Node):
    cdef _ConvSpec spec

    cdef tuple apply(self, object grads):
        return (op_im2col(<Tensor>grads, self.spec),)


cdef Tensor op_im2col(Tensor img, _ConvSpec spec):
    """Differentiable im2col (F.unfold): img of spec.in_shape."""
    cdef Tensor out = im2col_kernel(img, spec)
    cdef Im2ColBackward0 node
    if needs_grad(img):
        node = Im2ColBackward0.__new__(Im2ColBackward0)
        wire1(node, img)
        node.spec = spec
        set_history(out, node)
    return out


cdef Tensor op_col2im(Tensor cols, _ConvSpec spec, tuple img_shape):
    """Differentiable col2im (F.fold): the adjoint of op_im2col."""
    cdef Tensor out = col2im_kernel(cols, spec, img_shape)
    cdef Col2ImBackward0 node
    if needs_grad(cols):
        node = Col2ImBackward0.__new__(Col2ImBackward0)
        wire1(node, cols)
        node.spec = spec
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# The convolution op and its node.


cdef object _np_sum = np.sum


cdef int conv_matmul(object a, object b, object out) except -1:
    """out = a @ b on numpy views, with cgrad's BLAS thread count."""
    cdef int previous
    if pool_matmul(a, b, out):
        return 0
    if not _blas_probed:
        probe_blas_threads()
    if _blas_set_threads_local == NULL:
        _np_matmul(a, b, out=out)
        return 0
    previous = _blas_set_threads_local(_num_threads)
    try:
        _np_matmul(a, b, out=out)
    finally:
        _blas_set_threads_local(previous)
    return 0


cdef void conv_add_bias(mm_t* out, const mm_t* b, Py_ssize_t N, Py_ssize_t OC,
                        Py_ssize_t L) noexcept nogil:
    cdef Py_ssize_t n, c, l
    cdef mm_t v
    cdef mm_t* row
    for n in range(N):
        for c in range(OC):
            v = b[c]
            row = out + (n * OC + c) * L
            for l in range(L):
                row[l] += v


cdef void conv_bias_grad(mm_t* gb, const mm_t* g, Py_ssize_t N, Py_ssize_t OC,
                         Py_ssize_t L) noexcept nogil:
    cdef Py_ssize_t n, c, l
    cdef const mm_t* row
    cdef mm_t acc
    for c in range(OC):
        gb[c] = 0
    for n in range(N):
        for c in range(OC):
            row = g + (n * OC + c) * L
            acc = 0
            for l in range(L):
                acc += row[l]
            gb[c] += acc


cdef tuple conv_forward_kernel(Tensor x, Tensor w, Tensor b, _ConvSpec spec):
    """(output, columns) with no history, computed in x's dtype (float16 in
    float32); the columns are x itself for a direct convolution."""
    cdef int dt = x._dtype
    cdef int cdt = conv_compute_dtype(dt, "conv2d")
    cdef Py_ssize_t G = spec.groups, K = w._numel // spec.OC, L = spec.g.oh * spec.g.ow
    cdef Tensor xc = conv_as(x, cdt), wc = conv_as(w, cdt), bc, cols, out
    if spec.direct:
        cols = xc
    else:
        cols = new_tensor_from_tuple((spec.N, spec.g.C * spec.g.kh * spec.g.kw, L), cdt)
        run_im2col(cols, xc, spec.N, &spec.g, False)
    out = new_tensor_from_tuple(spec.out_shape, cdt)
    if out._numel:
        if K == 0:
            fill_scalar(out, 0)
        else:
            conv_matmul(ndarray_view(wc).reshape(G, spec.OC // G, K),
                        ndarray_view(cols).reshape(spec.N, G, K, L),
                        ndarray_view(out).reshape(spec.N, G, spec.OC // G, L))
        if b is not None:
            bc = conv_as(b, cdt)
            if cdt == F32:
                conv_add_bias(<float*>out._data, <float*>bc._data, spec.N, spec.OC, L)
            elif cdt == F64:
                conv_add_bias(<double*>out._data, <double*>bc._data, spec.N, spec.OC, L)
            else:
                conv_add_bias(<int64_t*>out._data, <int64_t*>bc._data, spec.N, spec.OC, L)
    return (out if cdt == dt else cast_tensor(out, dt)), cols


cdef tuple conv_backward_kernel(Tensor g, Tensor x, Tensor w, Tensor cols, _ConvSpec spec,
                                bint want_x, bint want_w, bint want_b):
    """(grad_input, grad_weight, grad_bias), no history; cols may be None
    (recomputed from x when the weight gradient needs them)."""
    cdef int dt = x._dtype
    cdef int cdt = conv_compute_dtype(dt, "conv2d")
    cdef Py_ssize_t G = spec.groups, OCg = spec.OC // spec.groups, N = spec.N
    cdef Py_ssize_t K = w._numel // spec.OC, L = spec.g.oh * spec.g.ow
    cdef Tensor gc = conv_as(g, cdt), wc, dcols, gx = None, gw = None, gb = None
    cdef object gv = ndarray_view(gc).reshape(N, G, OCg, L)
    cdef object per_sample
    if want_b:
        gb = new_tensor_from_tuple((spec.OC,), cdt)
        if cdt == F32:
            conv_bias_grad(<float*>gb._data, <float*>gc._data, N, spec.OC, L)
        elif cdt == F64:
            conv_bias_grad(<double*>gb._data, <double*>gc._data, N, spec.OC, L)
        else:
            conv_bias_grad(<int64_t*>gb._data, <int64_t*>gc._data, N, spec.OC, L)
    if want_w:
        if cols is None or cols._dtype != cdt:
            cols = conv_as(x, cdt) if spec.direct else im2col_kernel(conv_as(x, cdt), spec)
        gw = new_tensor_from_tuple(spec.w_shape, cdt)
        if N == 1:
            conv_matmul(gv[0], ndarray_view(cols).reshape(G, K, L).transpose(0, 2, 1),
                        ndarray_view(gw).reshape(G, OCg, K))
        elif N * L == 0:
            fill_scalar(gw, 0)
        else:
            per_sample = np.empty((N, G, OCg, K), dtype=gv.dtype)
            conv_matmul(gv, ndarray_view(cols).reshape(N, G, K, L).transpose(0, 1, 3, 2), per_sample)
            _np_sum(per_sample, axis=0, out=ndarray_view(gw).reshape(G, OCg, K))
    if want_x:
        wc = conv_as(w, cdt)
        dcols = new_tensor_from_tuple((N, spec.g.C * spec.g.kh * spec.g.kw, L), cdt,
                                      K == 0 or OCg == 0)
        if dcols._numel and K and OCg:
            conv_matmul(ndarray_view(wc).reshape(G, OCg, K).transpose(0, 2, 1), gv,
                        ndarray_view(dcols).reshape(N, G, K, L))
        if spec.direct:
            gx = op_view(dcols, spec.in_shape)
        else:
            gx = new_tensor_from_tuple(spec.in_shape, cdt, True)
            run_im2col(dcols, gx, N, &spec.g, True)
    if cdt != dt:
        gx = None if gx is None else cast_tensor(gx, dt)
        gw = None if gw is None else cast_tensor(gw, dt)
        gb = None if gb is None else cast_tensor(gb, dt)
    return gx, gw, gb


cdef tuple conv_backward_differentiable(Tensor g, Tensor x, Tensor w, _ConvSpec spec,
                                        bint want_x, bint want_w, bint want_b):
    """The same gradients through differentiable ops (create_graph)."""
    cdef Py_ssize_t G = spec.groups, OCg = spec.OC // spec.groups, N = spec.N
    cdef Py_ssize_t K = w._numel // spec.OC, L = spec.g.oh * spec.g.ow
    cdef Tensor gv = op_reshape(g, (N, G, OCg, L)), cols
    cdef object gx = None, gw = None, gb = None
    if want_b:
        gb = op_sum(op_reshape(g, (N, spec.OC, L)), (0, 2))
    if want_w:
        cols = op_reshape(x, (N, G, K, L)) if spec.direct else \
            op_view(op_im2col(x, spec), (N, G, K, L))
        gw = op_view(op_sum(op_matmul(gv, op_transpose(cols, -1, -2)), 0), spec.w_shape)
    if want_x:
        gx = op_reshape(op_matmul(op_transpose(op_reshape(w, (G, OCg, K)), -1, -2), gv),
                        (N, spec.g.C * spec.g.kh * spec.g.kw, L))
        gx = op_view(gx, spec.in_shape) if spec.direct else op_col2im(gx, spec, spec.in_shape)
    return gx, gw, gb


cdef class ConvolutionBackward0(Node):
    cdef Tensor input_, weight, cols
    cdef long long input_version, weight_version
    cdef _ConvSpec spec
    cdef bint has_bias

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.input_, self.input_version)
        cdef Tensor w = unpack_input(self, self.weight, self.weight_version)
        cdef bint want_b = self.has_bias and wants_grad(self, 2)
        if cgrad_grad_enabled:
            return conv_backward_differentiable(g, x, w, self.spec, wants_grad(self, 0),
                                                wants_grad(self, 1), want_b)
        return conv_backward_kernel(g, x, w, self.cols, self.spec, wants_grad(self, 0),
                                    wants_grad(self, 1), want_b)

    cdef void release_saved(self) noexcept:
        self.input_ = None
        self.weight = None
        self.cols = None

    @property
    def _saved_input(self):
        return saved_attr(self, self.input_, False)

    @property
    def _saved_weight(self):
        return saved_attr(self, self.weight, False)

    @property
    def _saved_stride(self):
        return self.spec_tuple(self.spec.g.sh, self.spec.g.sw)

    @property
    def _saved_padding(self):
        return self.spec_tuple(self.spec.g.ph, self.spec.g.pw)

    @property
    def _saved_dilation(self):
        return self.spec_tuple(self.spec.g.dh, self.spec.g.dw)

    @property
    def _saved_groups(self):
        return self.spec.groups

    @property
    def _saved_transposed(self):
        return False

    def spec_tuple(self, a, b):
        return (b,) if len(self.spec.in_shape) == 3 else (a, b)


cdef Tensor op_convolution(Tensor x, Tensor w, Tensor b, _ConvSpec spec):
    cdef tuple res = conv_forward_kernel(x, w, b, spec)
    cdef Tensor out = <Tensor>res[0]
    cdef Tensor cols = <Tensor>res[1]
    cdef ConvolutionBackward0 node
    cdef bint with_b = b is not None and needs_grad(b)
    if needs_grad(x) or needs_grad(w) or with_b:
        node = ConvolutionBackward0.__new__(ConvolutionBackward0)
        wire_many(node, [x, w, b], 1)
        node.input_ = x
        node.input_version = save_version(node, x)
        node.weight = w
        node.weight_version = save_version(node, w)
        if w._requires_grad and not spec.direct:
            node.cols = cols
        node.spec = spec
        node.has_bias = b is not None
        set_history(out, node)
    return out


cdef str conv_size_str(Py_ssize_t a, Py_ssize_t b, bint one_d):
    return f"({b})" if one_d else f"({a} x {b})"


cdef _ConvSpec conv_spec(Tensor x, Tensor w, Tensor b, tuple stride, tuple padding,
                         tuple dilation, Py_ssize_t groups):
    """Checks (PyTorch's texts, in its order) and the geometry of conv1d
    (3-D x and w) or conv2d (4-D)."""
    cdef int k = x._ndim
    cdef bint one_d = k == 3
    cdef _ConvSpec spec = _ConvSpec.__new__(_ConvSpec)
    cdef Py_ssize_t i, C, OC, ih, iw, kh, kw, eff_h, eff_w
    if b is not None and b._dtype != x._dtype:
        # PyTorch checks the bias's type against the input's before anything else
        raise RuntimeError(f"Input type ({C_TYPE_NAME[x._dtype]}) and bias type "
                           f"({C_TYPE_NAME[b._dtype]}) should be the same")
    for v in stride:
        if v <= 0:
            raise RuntimeError("non-positive stride is not supported")
    for v in padding:
        if v < 0:
            raise RuntimeError("negative padding is not supported")
    for v in dilation:
        if v <= 0:
            raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if w._ndim != k:
        raise RuntimeError(
            f"Expected {w._ndim}-dimensional input for {w._ndim}-dimensional weight "
            f"{shape_str(w._shape, w._ndim)}, but got {k}-dimensional input of size "
            f"{shape_str(x._shape, x._ndim)} instead")
    OC = w._shape[0]
    if OC < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
            f"weight of size {shape_str(w._shape, w._ndim)} instead")
    if OC % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
            f"got weight of size [{shape_str(w._shape, w._ndim)}] instead")  # PyTorch's own brackets
    C = x._shape[1]
    if C != w._shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {shape_str(w._shape, w._ndim)}, expected "
            f"input{shape_str(x._shape, x._ndim)} to have {w._shape[1] * groups} channels, but got "
            f"{C} channels instead")
    if b is not None and not (b._ndim == 1 and b._shape[0] == OC):
        raise RuntimeError(
            f"Given weight of size {shape_str(w._shape, w._ndim)}, expected bias to be 1-dimensional "
            f"with {OC} elements, but got bias of size {shape_str(b._shape, b._ndim)} instead")
    ih = 1 if one_d else x._shape[2]
    iw = x._shape[k - 1]
    kh = 1 if one_d else w._shape[2]
    kw = w._shape[k - 1]
    spec.g.C = C
    spec.g.H = ih
    spec.g.W = iw
    spec.g.kh = kh
    spec.g.kw = kw
    spec.g.sh = 1 if one_d else stride[0]
    spec.g.sw = stride[len(stride) - 1]
    spec.g.ph = 0 if one_d else padding[0]
    spec.g.pw = padding[len(padding) - 1]
    spec.g.dh = 1 if one_d else dilation[0]
    spec.g.dw = dilation[len(dilation) - 1]
    eff_h = spec.g.dh * (kh - 1) + 1
    eff_w = spec.g.dw * (kw - 1) + 1
    if ih + 2 * spec.g.ph < eff_h or iw + 2 * spec.g.pw < eff_w:
        raise RuntimeError(
            f"Calculated padded input size per channel: "
            f"{conv_size_str(ih + 2 * spec.g.ph, iw + 2 * spec.g.pw, one_d)}. Kernel size: "
            f"{conv_size_str(eff_h, eff_w, one_d)}. Kernel size can't be greater than actual input size")
    if x._dtype == BOOL:
        # PyTorch's kernel dispatches on the input's dtype before comparing the weight's
        raise NotImplementedError("\"slow_conv2d_cpu\" not implemented for 'Bool'")
    if x._dtype != w._dtype:
        # worded by the path PyTorch takes, which depends on the shapes and,
        # for float16 input, on the CPU (cgrad/nn/_conv_backend.py)
        from cgrad.nn._conv_backend import mismatch_message
        raise RuntimeError(mismatch_message(x, w, stride, dilation, groups,
                                            lambda t: "cgrad." + legacy_type_name((<Tensor>t)._dtype)))
    spec.g.oh = (ih + 2 * spec.g.ph - eff_h) // spec.g.sh + 1
    spec.g.ow = (iw + 2 * spec.g.pw - eff_w) // spec.g.sw + 1
    spec.N = x._shape[0]
    spec.OC = OC
    spec.groups = groups
    spec.direct = (kh == 1 and kw == 1 and spec.g.sh == 1 and spec.g.sw == 1 and spec.g.ph == 0
                   and spec.g.pw == 0)
    spec.in_shape = shape_tuple(x)
    spec.w_shape = shape_tuple(w)
    if one_d:
        spec.out_shape = (spec.N, OC, spec.g.ow)
    else:
        spec.out_shape = (spec.N, OC, spec.g.oh, spec.g.ow)
    return spec


def _convolution(input, weight, bias, tuple stride, tuple padding, tuple dilation, groups):
    """conv1d (3-D input and weight) or conv2d (4-D), batched; padding given
    as numbers (F.conv* resolves 'same'/'valid' and unbatched inputs)."""
    cdef Tensor x = nn_tensor_arg(input, "conv", "input", 1)
    cdef Tensor w = nn_tensor_arg(weight, "conv", "weight", 2)
    cdef Tensor b = nn_optional_tensor_arg(bias, "conv", "bias", 3)
    cdef _ConvSpec spec = conv_spec(x, w, b, stride, padding, dilation,
                                    nn_int_arg(groups, "conv", "groups", 7))
    return follow_input_format(op_convolution(x, w, b, spec), x, w)


cdef _ConvSpec unfold_spec(tuple img_shape, tuple kernel, tuple dilation, tuple padding,
                           tuple stride):
    """img_shape: (C, H, W) unbatched, else (N, C, H, W)."""
    cdef _ConvSpec spec = _ConvSpec.__new__(_ConvSpec)
    if len(img_shape) == 3:
        img_shape = (1,) + img_shape
    spec.N = img_shape[0]
    spec.g.C = img_shape[1]
    spec.g.H = img_shape[2]
    spec.g.W = img_shape[3]
    spec.g.kh = kernel[0]
    spec.g.kw = kernel[1]
    spec.g.dh = dilation[0]
    spec.g.dw = dilation[1]
    spec.g.ph = padding[0]
    spec.g.pw = padding[1]
    spec.g.sh = stride[0]
    spec.g.sw = stride[1]
    spec.g.oh = (spec.g.H + 2 * spec.g.ph - (spec.g.dh * (spec.g.kh - 1) + 1)) // spec.g.sh + 1
    spec.g.ow = (spec.g.W + 2 * spec.g.pw - (spec.g.dw * (spec.g.kw - 1) + 1)) // spec.g.sw + 1
    spec.groups = 1
    return spec


cdef int unfold_check_params(tuple kernel, tuple dilation, tuple padding, tuple stride) except -1:
    if kernel[0] <= 0 or kernel[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{kernel[0]} kernel_width: {kernel[1]}")
    if dilation[0] <= 0 or dilation[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{dilation[0]} dilation_width: {dilation[1]}")
    if padding[0] < 0 or padding[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")
    if stride[0] <= 0 or stride[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: "
                           f"{stride[0]} stride_width: {stride[1]}")
    return 0


def _unfold(input, tuple kernel, tuple dilation, tuple padding, tuple stride):
    """F.unfold (im2col) of a 3-D (unbatched) or 4-D input."""
    cdef Tensor x = nn_tensor_arg(input, "im2col", "input", 1)
    cdef bint batched = x._ndim == 4
    cdef _ConvSpec spec
    unfold_check_params(kernel, dilation, padding, stride)
    if x._ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x._ndim}, "
                         f"{x._ndim - 1}], but got {x._ndim})")
    if not (x._ndim == 3 or x._ndim == 4) or x._shape[x._ndim - 3] == 0 or \
            x._shape[x._ndim - 2] == 0 or x._shape[x._ndim - 1] == 0:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {shape_str(x._shape, x._ndim)}")
    spec = unfold_spec(shape_tuple(x), kernel, dilation, padding, stride)
    if spec.g.oh < 1 or spec.g.ow < 1:
        raise RuntimeError(
            f"Given input with spatial size ({spec.g.H}, {spec.g.W}), kernel_size=({kernel[0]}, "
            f"{kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, "
            f"{padding[1]}), calculated shape of the array of sliding blocks as ({spec.g.oh}, "
            f"{spec.g.ow}), but its components must be at least one.")
    spec.in_shape = shape_tuple(x)
    spec.cols_shape = (spec.g.C * spec.g.kh * spec.g.kw, spec.g.oh * spec.g.ow)
    if batched:
        spec.cols_shape = (spec.N,) + spec.cols_shape
    return op_im2col(x, spec)


def _fold(input, tuple output_size, tuple kernel, tuple dilation, tuple padding, tuple stride):
    """F.fold (col2im) of a 2-D (unbatched) or 3-D input of blocks."""
    cdef Tensor x = nn_tensor_arg(input, "col2im", "input", 1)
    cdef bint batched = x._ndim == 3
    cdef _ConvSpec spec
    cdef Py_ssize_t C, ksize
    unfold_check_params(kernel, dilation, padding, stride)
    if output_size[0] <= 0 or output_size[1] <= 0:
        raise RuntimeError(f"Expected output spatial size to be positive, but got: output_size=("
                           f"{output_size[0]}, {output_size[1]})")
    if not (x._ndim == 2 or x._ndim == 3) or x._shape[x._ndim - 2] == 0 or x._shape[x._ndim - 1] == 0:
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch "
                           f"size and non-zero dimensions for input, but got: "
                           f"{shape_str(x._shape, x._ndim)}")
    ksize = kernel[0] * kernel[1]
    if x._shape[x._ndim - 2] % ksize:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
            f"got input.size(1)={x._shape[x._ndim - 2]} and kernel_size=({kernel[0]}, {kernel[1]}).")
    C = x._shape[x._ndim - 2] // ksize
    spec = unfold_spec(((x._shape[0],) if batched else ()) + (C,) + output_size, kernel, dilation,
                       padding, stride)
    if spec.g.oh < 1 or spec.g.ow < 1 or spec.g.oh * spec.g.ow != x._shape[x._ndim - 1]:
        raise RuntimeError(
            f"Given output_size=({output_size[0]}, {output_size[1]}), kernel_size=({kernel[0]}, "
            f"{kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, "
            f"{padding[1]}), stride=({stride[0]}, {stride[1]}), expected size of input's dimension 2 "
            f"to match the calculated number of sliding blocks {spec.g.oh} * {spec.g.ow} = "
            f"{spec.g.oh * spec.g.ow}, but got input.size(2)={x._shape[x._ndim - 1]}.")
    spec.in_shape = ((x._shape[0],) if batched else ()) + (C,) + output_size
    spec.cols_shape = shape_tuple(x)
    return op_col2im(x, spec, spec.in_shape)
