# Normalisation layers: layer_norm, group_norm and batch_norm (instance_norm
# is batch_norm on a reshaped input, in cgrad.nn.functional, as PyTorch).
#
# All three see the contiguous input as (O, J, I) and normalise each group
# j over its O x I elements: layer_norm (1, rows, normalized numel),
# group_norm (1, N*G, C/G * spatial), batch_norm (N, C, spatial). Mean and
# variance are two-pass sums in double; the node keeps mean and 1/std per
# group. The affine weight and bias are indexed by i (layer_norm), by j
# (batch_norm) or by the channel of (j, i) (group_norm). Backward: the
# usual gx = rstd * (gy - mean(gy) - xhat * mean(gy * xhat)) with gy = g * w
# (gx = g * w * rstd when batch_norm uses given running statistics), and
# the weight/bias gradients as sums of g * xhat and g. Under create_graph
# the same formulas run through differentiable ops. layer_norm's common
# case (contiguous rows) runs the vectorised loops of layer_norm_rows.h.

cdef extern from "layer_norm_rows.h" nogil:
    void cgrad_ln_fwd_rows_f32(float* y, const float* x, const float* w, const float* b, double* mean,
                               double* rstd, double* var, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t n,
                               double eps)
    void cgrad_ln_fwd_rows_f64(double* y, const double* x, const double* w, const double* b, double* mean,
                               double* rstd, double* var, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t n,
                               double eps)
    void cgrad_ln_bwd_rows_f32(float* gx, const float* g, const float* x, const float* w, const double* mean,
                               const double* rstd, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t n)
    void cgrad_ln_bwd_rows_f64(double* gx, const double* g, const double* x, const double* w,
                               const double* mean, const double* rstd, Py_ssize_t r0, Py_ssize_t r1,
                               Py_ssize_t n)
    void cgrad_ln_param_grads_f32(double* gw, double* gb, const float* g, const float* x, const double* mean,
                                  const double* rstd, Py_ssize_t rows, Py_ssize_t n)
    void cgrad_ln_param_grads_f64(double* gw, double* gb, const double* g, const double* x,
                                  const double* mean, const double* rstd, Py_ssize_t rows, Py_ssize_t n)


cdef enum:
    AFF_BY_I = 1
    AFF_BY_J = 2
    AFF_GROUP = 3


cdef struct NormGeom:
    Py_ssize_t outer, groups, inner     # the (O, J, I) view
    Py_ssize_t G, Cg, S          # group_norm: channel of (j, i) = (j % G) * Cg + i / S
    int aff
    double eps
    bint given                   # batch_norm with running statistics (eval)


cdef class _NormSpec:
    cdef NormGeom g
    cdef int kind                # 0 layer, 1 group, 2 batch
    cdef tuple in_shape, w_shape


cdef inline Py_ssize_t norm_aff(const NormGeom* g, Py_ssize_t j, Py_ssize_t i) noexcept nogil:
    if g.aff == AFF_BY_I:
        return i
    if g.aff == AFF_BY_J:
        return j
    return (j % g.G) * g.Cg + i // g.S


cdef void norm_fwd_group(real_t* y, const real_t* x, const real_t* w, const real_t* b,
                         double* mean, double* rstd, double* var, const real_t* gmean,
                         const real_t* gvar, const NormGeom* g, Py_ssize_t j) noexcept nogil:
    cdef Py_ssize_t o, i, base, a
    cdef double s = 0, m, v = 0, d, r, val
    cdef Py_ssize_t cnt = g.outer * g.inner
    if g.given:
        m = gmean[j]
        r = 1.0 / cmath.sqrt(<double>gvar[j] + g.eps)
    else:
        for o in range(g.outer):
            base = (o * g.groups + j) * g.inner
            for i in range(g.inner):
                s += x[base + i]
        m = s / cnt if cnt else 0.0
        for o in range(g.outer):
            base = (o * g.groups + j) * g.inner
            for i in range(g.inner):
                d = x[base + i] - m
                v += d * d
        v = v / cnt if cnt else 0.0
        var[j] = v
        r = 1.0 / cmath.sqrt(v + g.eps)
    mean[j] = m
    rstd[j] = r
    for o in range(g.outer):
        base = (o * g.groups + j) * g.inner
        for i in range(g.inner):
            val = (x[base + i] - m) * r
            if w != NULL or b != NULL:
                a = norm_aff(g, j, i)
                if w != NULL:
                    val = val * w[a]
                if b != NULL:
                    val = val + b[a]
            y[base + i] = <real_t>val


cdef void norm_bwd_group(real_t* gx, const real_t* gy, const real_t* x, const real_t* w,
                         const double* mean, const double* rstd, const NormGeom* g,
                         Py_ssize_t j) noexcept nogil:
    cdef Py_ssize_t o, i, base
    cdef double m = mean[j], r = rstd[j], s1 = 0, s2 = 0, gw, xh
    cdef Py_ssize_t cnt = g.outer * g.inner
    if not g.given:
        for o in range(g.outer):
            base = (o * g.groups + j) * g.inner
            for i in range(g.inner):
                gw = gy[base + i] * (w[norm_aff(g, j, i)] if w != NULL else 1.0)
                s1 += gw
                s2 += gw * (x[base + i] - m) * r
        s1 = s1 / cnt
        s2 = s2 / cnt
    for o in range(g.outer):
        base = (o * g.groups + j) * g.inner
        for i in range(g.inner):
            gw = gy[base + i] * (w[norm_aff(g, j, i)] if w != NULL else 1.0)
            if g.given:
                gx[base + i] = <real_t>(gw * r)
            else:
                xh = (x[base + i] - m) * r
                gx[base + i] = <real_t>(r * (gw - s1 - xh * s2))


cdef void norm_param_grads(double* gw, double* gb, const real_t* gy, const real_t* x,
                           const double* mean, const double* rstd, const NormGeom* g) noexcept nogil:
    cdef Py_ssize_t o, j, i, base, a
    cdef double v
    for o in range(g.outer):
        for j in range(g.groups):
            base = (o * g.groups + j) * g.inner
            for i in range(g.inner):
                a = norm_aff(g, j, i)
                v = gy[base + i]
                if gw != NULL:
                    gw[a] += v * (x[base + i] - mean[j]) * rstd[j]
                if gb != NULL:
                    gb[a] += v


cdef void norm_fwd_all(real_t* y, const real_t* x, const real_t* w, const real_t* b, double* mean,
                       double* rstd, double* var, const real_t* gmean, const real_t* gvar,
                       const NormGeom* g, int nthreads) noexcept nogil:
    cdef Py_ssize_t j
    if nthreads > 1:
        for j in prange(g.groups, num_threads=nthreads, schedule="static"):
            norm_fwd_group(y, x, w, b, mean, rstd, var, gmean, gvar, g, j)
    else:
        for j in range(g.groups):
            norm_fwd_group(y, x, w, b, mean, rstd, var, gmean, gvar, g, j)


cdef void norm_bwd_all(real_t* gx, const real_t* gy, const real_t* x, const real_t* w,
                       const double* mean, const double* rstd, const NormGeom* g,
                       int nthreads) noexcept nogil:
    cdef Py_ssize_t j
    if nthreads > 1:
        for j in prange(g.groups, num_threads=nthreads, schedule="static"):
            norm_bwd_group(gx, gy, x, w, mean, rstd, g, j)
    else:
        for j in range(g.groups):
            norm_bwd_group(gx, gy, x, w, mean, rstd, g, j)


cdef inline bint norm_is_rows(const NormGeom* g) noexcept nogil:
    """layer_norm's case: one group per contiguous row, affine by position
    (layer_norm_rows.h's vectorised loops)."""
    return g.outer == 1 and g.aff == AFF_BY_I and not g.given and g.inner > 0


cdef void ln_fwd_rows(bint f32, char* y, char* x, char* w, char* b, double* mean, double* rstd, double* var,
                      const NormGeom* g, int nthreads) noexcept nogil:
    cdef Py_ssize_t t, lo, hi, R = g.groups
    if nthreads > 1:
        for t in prange(nthreads, num_threads=nthreads, schedule="static"):
            lo = R * t // nthreads
            hi = R * (t + 1) // nthreads
            if f32:
                cgrad_ln_fwd_rows_f32(<float*>y, <float*>x, <float*>w, <float*>b, mean, rstd, var, lo, hi,
                                      g.inner, g.eps)
            else:
                cgrad_ln_fwd_rows_f64(<double*>y, <double*>x, <double*>w, <double*>b, mean, rstd, var, lo, hi,
                                      g.inner, g.eps)
    elif f32:
        cgrad_ln_fwd_rows_f32(<float*>y, <float*>x, <float*>w, <float*>b, mean, rstd, var, 0, R, g.inner, g.eps)
    else:
        cgrad_ln_fwd_rows_f64(<double*>y, <double*>x, <double*>w, <double*>b, mean, rstd, var, 0, R, g.inner,
                              g.eps)


cdef void ln_bwd_rows(bint f32, char* gx, char* gy, char* x, char* w, double* mean, double* rstd,
                      const NormGeom* g, int nthreads) noexcept nogil:
    cdef Py_ssize_t t, lo, hi, R = g.groups
    if nthreads > 1:
        for t in prange(nthreads, num_threads=nthreads, schedule="static"):
            lo = R * t // nthreads
            hi = R * (t + 1) // nthreads
            if f32:
                cgrad_ln_bwd_rows_f32(<float*>gx, <float*>gy, <float*>x, <float*>w, mean, rstd, lo, hi, g.inner)
            else:
                cgrad_ln_bwd_rows_f64(<double*>gx, <double*>gy, <double*>x, <double*>w, mean, rstd, lo, hi,
                                      g.inner)
    elif f32:
        cgrad_ln_bwd_rows_f32(<float*>gx, <float*>gy, <float*>x, <float*>w, mean, rstd, 0, R, g.inner)
    else:
        cgrad_ln_bwd_rows_f64(<double*>gx, <double*>gy, <double*>x, <double*>w, mean, rstd, 0, R, g.inner)


cdef inline int norm_threads(Py_ssize_t numel, Py_ssize_t J) noexcept:
    if numel >= (1 << 16) and J > 1:
        return _num_threads if _num_threads < J else <int>J
    return 1


cdef tuple norm_forward_kernel(Tensor x, Tensor w, Tensor b, Tensor gmean, Tensor gvar,
                               _NormSpec spec):
    """(y, mean, rstd, biased var) with no history; mean/rstd/var float64 of
    J (var None with given statistics)."""
    cdef int cdt = F32 if is_half16(x._dtype) else x._dtype
    cdef Tensor xc = conv_as(x, cdt)
    cdef Tensor wc = None if w is None else conv_as(w, cdt)
    cdef Tensor bc = None if b is None else conv_as(b, cdt)
    cdef Tensor mc = None if gmean is None else conv_as(gmean, cdt)
    cdef Tensor vc = None if gvar is None else conv_as(gvar, cdt)
    cdef Tensor y = new_tensor(x._ndim, x._shape, cdt)
    cdef Tensor mean = new_tensor_from_tuple((spec.g.groups,), F64)
    cdef Tensor rstd = new_tensor_from_tuple((spec.g.groups,), F64)
    cdef Tensor var = new_tensor_from_tuple((spec.g.groups,), F64)
    cdef int nth = norm_threads(x._numel, spec.g.groups)
    cdef char* wp = opt_data(wc)
    cdef char* bp = opt_data(bc)
    cdef char* mp = opt_data(mc)
    cdef char* vp = opt_data(vc)
    with nogil:
        if norm_is_rows(&spec.g):
            ln_fwd_rows(cdt == F32, y._data, xc._data, wp, bp, <double*>mean._data, <double*>rstd._data,
                        <double*>var._data, &spec.g, nth)
        elif cdt == F32:
            norm_fwd_all(<float*>y._data, <float*>xc._data, <float*>wp, <float*>bp,
                         <double*>mean._data, <double*>rstd._data, <double*>var._data,
                         <float*>mp, <float*>vp, &spec.g, nth)
        else:
            norm_fwd_all(<double*>y._data, <double*>xc._data, <double*>wp, <double*>bp,
                         <double*>mean._data, <double*>rstd._data, <double*>var._data,
                         <double*>mp, <double*>vp, &spec.g, nth)
    return (y if cdt == x._dtype else cast_tensor(y, x._dtype)), mean, rstd, var


cdef tuple norm_backward_kernel(Tensor g, Tensor x, Tensor w, Tensor mean, Tensor rstd,
                                _NormSpec spec, bint want_x, bint want_w, bint want_b):
    cdef int cdt = F32 if is_half16(x._dtype) else x._dtype
    cdef Tensor gc = conv_as(g, cdt), xc = conv_as(x, cdt)
    cdef Tensor wc = None if w is None else conv_as(w, cdt)
    cdef Tensor gx = None, gw = None, gb = None
    cdef int nth = norm_threads(x._numel, spec.g.groups)
    cdef char* wp = opt_data(wc)
    cdef char* gwp
    cdef char* gbp
    if want_x:
        gx = new_tensor(x._ndim, x._shape, cdt)
        with nogil:
            if norm_is_rows(&spec.g):
                ln_bwd_rows(cdt == F32, gx._data, gc._data, xc._data, wp, <double*>mean._data,
                            <double*>rstd._data, &spec.g, nth)
            elif cdt == F32:
                norm_bwd_all(<float*>gx._data, <float*>gc._data, <float*>xc._data, <float*>wp,
                             <double*>mean._data, <double*>rstd._data, &spec.g, nth)
            else:
                norm_bwd_all(<double*>gx._data, <double*>gc._data, <double*>xc._data, <double*>wp,
                             <double*>mean._data, <double*>rstd._data, &spec.g, nth)
        if cdt != x._dtype:
            gx = cast_tensor(gx, x._dtype)
    if want_w or want_b:
        if want_w:
            gw = new_tensor_from_tuple(spec.w_shape, F64, True)
        if want_b:
            gb = new_tensor_from_tuple(spec.w_shape, F64, True)
        gwp = opt_data(gw)
        gbp = opt_data(gb)
        with nogil:
            if norm_is_rows(&spec.g) and cdt == F32:
                cgrad_ln_param_grads_f32(<double*>gwp, <double*>gbp, <float*>gc._data, <float*>xc._data,
                                         <double*>mean._data, <double*>rstd._data, spec.g.groups, spec.g.inner)
            elif norm_is_rows(&spec.g):
                cgrad_ln_param_grads_f64(<double*>gwp, <double*>gbp, <double*>gc._data, <double*>xc._data,
                                         <double*>mean._data, <double*>rstd._data, spec.g.groups, spec.g.inner)
            elif cdt == F32:
                norm_param_grads(<double*>gwp, <double*>gbp, <float*>gc._data,
                                 <float*>xc._data, <double*>mean._data, <double*>rstd._data, &spec.g)
            else:
                norm_param_grads(<double*>gwp, <double*>gbp, <double*>gc._data,
                                 <double*>xc._data, <double*>mean._data, <double*>rstd._data, &spec.g)
        dt = x._dtype if w is None else w._dtype
        gw = None if gw is None else cast_tensor(gw, dt)
        gb = None if gb is None else cast_tensor(gb, dt)
    return gx, gw, gb


cdef Tensor norm_stat_view(Tensor stat, _NormSpec spec, int dt):
    """mean or rstd (J,) as a differentiable-free tensor broadcasting over
    the (O, J, I) view, in dtype dt."""
    return op_view(cast_tensor(stat, dt), (1, spec.g.groups, 1))


cdef Tensor norm_weight_view(Tensor w, _NormSpec spec):
    """The weight broadcast against the input's own shape."""
    cdef int nd = len(spec.in_shape)
    if spec.kind == 0:
        return w
    return op_view(w, (spec.in_shape[1],) + (1,) * (nd - 2))


cdef tuple norm_backward_differentiable(Tensor g, Tensor x, Tensor w, Tensor mean, Tensor rstd,
                                        _NormSpec spec, bint want_x, bint want_w, bint want_b):
    """The same gradients through differentiable ops (create_graph): the
    statistics are recomputed from x with ops so their dependence on x is
    differentiated too."""
    cdef tuple view3 = (spec.g.outer, spec.g.groups, spec.g.inner)
    cdef Tensor x3 = op_reshape(x, view3), m, xc, r, xhat3, xhat, gy, gy3, s1, s2
    cdef object gx = None, gw = None, gb = None
    cdef list red = []
    cdef int d, nd = len(spec.in_shape)
    if spec.g.given:
        m = norm_stat_view(mean, spec, x._dtype)
        r = norm_stat_view(rstd, spec, x._dtype)
    else:
        m = op_mean(x3, (0, 2), True)
        xc = op_sub(x3, m)
        r = op_rsqrt(op_add_scalar(op_mean(op_mul(xc, xc), (0, 2), True), spec.g.eps))
    xhat3 = op_mul(op_sub(x3, m), r)
    xhat = op_reshape(xhat3, spec.in_shape)
    gy = op_mul(g, norm_weight_view(w, spec)) if w is not None else g
    if want_x:
        gy3 = op_reshape(gy, view3)
        if spec.g.given:
            gx = op_reshape(op_mul(gy3, r), spec.in_shape)
        else:
            s1 = op_mean(gy3, (0, 2), True)
            s2 = op_mean(op_mul(gy3, xhat3), (0, 2), True)
            gx = op_reshape(op_mul(r, op_sub(op_sub(gy3, s1), op_mul(xhat3, s2))), spec.in_shape)
    if want_w or want_b:
        if spec.kind == 0:
            red = list(range(nd - len(spec.w_shape)))
        else:
            red = [d for d in range(nd) if d != 1]
        if want_w:
            gw = op_sum(op_mul(g, xhat), tuple(red)) if red else op_mul(g, xhat)
        if want_b:
            gb = op_sum(g, tuple(red)) if red else g
    return gx, gw, gb


cdef class _NormNode(Node):
    cdef Tensor input_, weight, mean, rstd
    cdef long long input_version, weight_version
    cdef _NormSpec spec

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.input_, self.input_version)
        cdef Tensor w = self.weight
        if self.mean is None:
            raise RuntimeError(FREED_MSG)
        if w is not None:
            w = unpack_input(self, w, self.weight_version)
        if cgrad_grad_enabled:
            return norm_backward_differentiable(g, x, w, self.mean, self.rstd, self.spec,
                                                wants_grad(self, 0), wants_grad(self, 1),
                                                wants_grad(self, 2))
        return norm_backward_kernel(g, x, w, self.mean, self.rstd, self.spec, wants_grad(self, 0),
                                    wants_grad(self, 1), wants_grad(self, 2))

    cdef void release_saved(self) noexcept:
        self.input_ = None
        self.weight = None
        self.mean = None
        self.rstd = None

    @property
    def _saved_input(self):
        return saved_attr(self, self.input_, False)

    @property
    def _saved_weight(self):
        return saved_attr(self, self.weight, False)


cdef class NativeLayerNormBackward0(_NormNode):
    pass


cdef class NativeGroupNormBackward0(_NormNode):
    pass


cdef class NativeBatchNormBackward0(_NormNode):
    pass


cdef tuple op_norm(Tensor x, Tensor w, Tensor b, Tensor gmean, Tensor gvar, _NormSpec spec):
    """(output, mean, biased var): the statistics as float64 tensors of J."""
    cdef tuple res = norm_forward_kernel(x, w, b, gmean, gvar, spec)
    cdef Tensor out = <Tensor>res[0]
    cdef _NormNode node
    if needs_grad(x) or (w is not None and needs_grad(w)) or (b is not None and needs_grad(b)):
        if spec.kind == 0:
            node = NativeLayerNormBackward0.__new__(NativeLayerNormBackward0)
        elif spec.kind == 1:
            node = NativeGroupNormBackward0.__new__(NativeGroupNormBackward0)
        else:
            node = NativeBatchNormBackward0.__new__(NativeBatchNormBackward0)
        wire_many(node, [x, w, b], 1)
        node.input_ = x
        node.input_version = save_version(node, x)
        node.weight = w
        if w is not None:
            node.weight_version = save_version(node, w)
        node.mean = <Tensor>res[1]
        node.rstd = <Tensor>res[2]
        if spec.kind == 0 and x._dtype == BF16:
            # PyTorch's bfloat16 layer_norm saves its statistics as bfloat16
            # tensors: its backward reads them rounded
            node.mean = cast_tensor(cast_tensor(node.mean, BF16), F64)
            node.rstd = cast_tensor(cast_tensor(node.rstd, BF16), F64)
        node.spec = spec
        set_history(out, node)
    return out, res[1], res[3]


cdef int norm_mixed_check(Tensor x, tuple params) except -1:
    """ATen's CPU norms take parameters of the input's dtype, or float32
    ones for a bfloat16/float16 input (mixed type, computed in float32);
    any other mix fails, a parameter that is not float32 first. (Where:
    layer_norm before its shape checks, group_norm before its kernel's
    dtype check, batch_norm after it.)"""
    cdef object p
    cdef bint mixed = False
    for p in params:
        if p is not None and (<Tensor>p)._dtype != x._dtype:
            mixed = True
    if mixed:
        for p in params:
            if p is not None and (<Tensor>p)._dtype != F32:
                raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if not is_half16(x._dtype):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    return 0


cdef int norm_float_check(Tensor x, str kernel) except -1:
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_title(x._dtype)}'")
    return 0


def _layer_norm(input, tuple normalized_shape, weight, bias, double eps):
    cdef Tensor x = nn_tensor_arg(input, "layer_norm", "input", 1)
    cdef Tensor w = nn_optional_tensor_arg(weight, "layer_norm", "weight", 3)
    cdef Tensor b = nn_optional_tensor_arg(bias, "layer_norm", "bias", 4)
    cdef _NormSpec spec = _NormSpec.__new__(_NormSpec)
    cdef int k = len(normalized_shape)
    cdef Py_ssize_t inner = 1
    cdef str ns = list_str(list(normalized_shape))
    norm_mixed_check(x, (w, b))
    if k < 1:
        raise RuntimeError(f"Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
                           f"least one element, but got normalized_shape = {ns}")
    if w is not None and shape_tuple(w) != normalized_shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of "
                           f"shape {shape_str(w._shape, w._ndim)} and normalized_shape = {ns}")
    if b is not None and shape_tuple(b) != normalized_shape:
        raise RuntimeError(f"Expected bias to be of same shape as normalized_shape, but got bias of "
                           f"shape {shape_str(b._shape, b._ndim)} and normalized_shape = {ns}")
    if x._ndim < k or shape_tuple(x)[x._ndim - k:] != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={ns}, expected input with shape [*, "
                           f"{', '.join([str(s) for s in normalized_shape])}], but got input of size"
                           f"{shape_str(x._shape, x._ndim)}")
    norm_float_check(x, "LayerNormKernelImpl")
    for s in normalized_shape:
        inner *= s
    spec.kind = 0
    spec.g.outer = 1
    spec.g.inner = inner
    spec.g.groups = x._numel // inner if inner else 0
    spec.g.aff = AFF_BY_I
    spec.g.eps = eps
    spec.in_shape = shape_tuple(x)
    spec.w_shape = normalized_shape
    return op_norm(x, w, b, None, None, spec)[0]


def _group_norm(input, Py_ssize_t num_groups, weight, bias, double eps):
    cdef Tensor x = nn_tensor_arg(input, "group_norm", "input", 1)
    cdef Tensor w = nn_optional_tensor_arg(weight, "group_norm", "weight", 3)
    cdef Tensor b = nn_optional_tensor_arg(bias, "group_norm", "bias", 4)
    cdef _NormSpec spec = _NormSpec.__new__(_NormSpec)
    cdef Py_ssize_t N = x._shape[0], C = x._shape[1], S = 1
    cdef int d
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {shape_str(x._shape, x._ndim)} and num_groups={num_groups}")
    if w is not None and not (w._ndim == 1 and w._numel == C):
        raise RuntimeError(f"Expected weight to be a vector of size equal to the number of channels in "
                           f"input, but got weight of shape {shape_str(w._shape, w._ndim)} and input of "
                           f"shape {shape_str(x._shape, x._ndim)}")
    if b is not None and not (b._ndim == 1 and b._numel == C):
        raise RuntimeError(f"Expected bias to be a vector of size equal to the number of channels in "
                           f"input, but got bias of shape {shape_str(b._shape, b._ndim)} and input of "
                           f"shape {shape_str(x._shape, x._ndim)}")
    norm_mixed_check(x, (w, b))
    norm_float_check(x, "GroupNormKernelImpl")
    for d in range(2, x._ndim):
        S *= x._shape[d]
    spec.kind = 1
    spec.g.outer = 1
    spec.g.groups = N * num_groups
    spec.g.inner = (C // num_groups) * S
    spec.g.G = num_groups
    spec.g.Cg = C // num_groups
    spec.g.S = S
    spec.g.aff = AFF_GROUP
    spec.g.eps = eps
    spec.in_shape = shape_tuple(x)
    spec.w_shape = (C,)
    return follow_input_format(<Tensor>op_norm(x, w, b, None, None, spec)[0], x)


cdef int bn_update_running(Tensor running, Tensor stat, double momentum, double correction) except -1:
    """running = (1 - momentum) * running + momentum * stat * correction, in place."""
    cdef Py_ssize_t c
    cdef double* s = <double*>stat._data
    if not running._contiguous or not is_float(running._dtype) or is_half16(running._dtype):
        upd = cast_tensor(stat, running._dtype)
        copy_into(running, op_add(op_mul_scalar(running, 1 - momentum),
                                  op_mul_scalar(upd, momentum * correction)))
    elif running._dtype == F32:
        for c in range(running._numel):
            (<float*>running._data)[c] = <float>((1 - momentum) * (<float*>running._data)[c]
                                                 + momentum * s[c] * correction)
    else:
        for c in range(running._numel):
            (<double*>running._data)[c] = ((1 - momentum) * (<double*>running._data)[c]
                                           + momentum * s[c] * correction)
    running._storage.version += 1
    return 0


def _batch_norm(input, weight, bias, running_mean, running_var, bint training, double momentum,
                double eps):
    """batch_norm over dim 1 of an (N, C, *) input; with training the batch
    statistics (and the running ones updated in place), else the running
    ones."""
    cdef Tensor x = nn_tensor_arg(input, "batch_norm", "input", 1)
    cdef Tensor w = nn_optional_tensor_arg(weight, "batch_norm", "weight", 2)
    cdef Tensor b = nn_optional_tensor_arg(bias, "batch_norm", "bias", 3)
    cdef Tensor rm = nn_optional_tensor_arg(running_mean, "batch_norm", "running_mean", 4)
    cdef Tensor rv = nn_optional_tensor_arg(running_var, "batch_norm", "running_var", 5)
    cdef _NormSpec spec = _NormSpec.__new__(_NormSpec)
    cdef Py_ssize_t C, S = 1, n
    cdef int d
    cdef bint use_running = not training
    if x._ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x._ndim}, "
                         f"{x._ndim - 1}], but got 1)")
    C = x._shape[1]
    if x._numel == 0:
        # ATen answers an empty batch before checking anything else: a copy
        # of the input, times the first weight and plus the first bias, so
        # that the graph still reaches them (running statistics untouched)
        out = x.clone()
        if w is not None:
            out = out * w.select(0, 0)
        if b is not None:
            out = out + b.select(0, 0)
        return out
    # ATen's order: each running statistic (present, or required in
    # evaluation mode), then the affine parameters, then the kernel's 1-d
    # accessor of the statistics
    for name, t in (("running_mean", rm), ("running_var", rv)):
        if t is not None:
            if (<Tensor>t)._numel != C:
                raise RuntimeError(f"{name} should contain {C} elements not {(<Tensor>t)._numel}")
        elif use_running:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    for name, t in (("weight", w), ("bias", b)):
        if t is not None and (<Tensor>t)._numel != C:
            raise RuntimeError(f"{name} should contain {C} elements not {(<Tensor>t)._numel}")
    for t in (rm, rv):
        if t is not None and (<Tensor>t)._ndim != 1:
            raise RuntimeError(f"TensorAccessor expected 1 dims but tensor has {(<Tensor>t)._ndim}")
    norm_float_check(x, "batch_norm")
    norm_mixed_check(x, (w, b, rm, rv))
    for d in range(2, x._ndim):
        S *= x._shape[d]
    spec.kind = 2
    spec.g.outer = x._shape[0]
    spec.g.groups = C
    spec.g.inner = S
    spec.g.aff = AFF_BY_J
    spec.g.eps = eps
    spec.g.given = use_running
    spec.in_shape = shape_tuple(x)
    spec.w_shape = (C,)
    cdef tuple res = op_norm(x, w, b, rm if use_running else None, rv if use_running else None, spec)
    n = spec.g.outer * S
    if training and rm is not None:
        bn_update_running(rm, <Tensor>res[1], momentum, 1.0)
    if training and rv is not None:
        bn_update_running(rv, <Tensor>res[2], momentum, <double>n / (n - 1) if n > 1 else 1.0)
    return follow_input_format(<Tensor>res[0], x)
