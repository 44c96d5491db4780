# nll_loss and cross_entropy (class-index and probability targets), with
# their fused kernels and nodes; see ops_softmax.pxi for the conventions.


# ---------------------------------------------------------------------------
# nll_loss: the input seen as (N, C, S) (S = 1 for 1-D/2-D inputs, the
# flattened spatial dims for nll_loss2d), the target as N*S class indices.
# One kernel gathers -w[t] * x[n, t, s] (per element, or summed in double
# with the total weight); the backward scatters -w[t] * g back into zeros.
# The gradient's own backward is the forward again (the op is linear), so
# NllLossBackwardBackward0 just runs the loss on the incoming gradient.


cdef class _NllSpec:
    """The fixed part of one nll_loss call, shared by its nodes."""
    cdef Py_ssize_t N, C, S
    cdef int64_t ignore_index
    cdef int reduction
    cdef bint per_element     # one loss per (n, s): reduction 'none' with a batch
    cdef bint spatial         # nll_loss2d (its nodes are named NllLoss2D...)
    cdef tuple in_shape       # shape of the input the node differentiates
    cdef tuple out_shape      # shape of the loss the kernel makes


cdef int nn_nll_fwd_impl(real_t* out, real_t* total, const real_t* x, const int64_t* t,
                         const real_t* w, Py_ssize_t N, Py_ssize_t C,
                         Py_ssize_t S, int64_t ignore, int reduction, bint per_element,
                         int64_t* bad) noexcept nogil:
    """Returns -1 (bad[0] = the target) when a target is out of range."""
    cdef Py_ssize_t n, s, i
    cdef int64_t tt
    cdef real_t wv
    cdef double acc = 0, tw = 0
    for n in range(N):
        for s in range(S):
            i = n * S + s
            tt = t[i]
            if tt == ignore:
                if per_element:
                    out[i] = 0
                continue
            if tt < 0 or tt >= C:
                bad[0] = tt
                return -1
            wv = w[tt] if w != NULL else 1
            if per_element:
                out[i] = -x[(n * C + tt) * S + s] * wv
            else:
                acc -= x[(n * C + tt) * S + s] * wv
                tw += wv
    if not per_element:
        total[0] = <real_t>tw
        if reduction == NN_RED_MEAN:
            out[0] = <real_t>acc / <real_t>tw
        else:
            out[0] = <real_t>acc
    return 0


cdef void nn_nll_bwd_impl(real_t* gx, const real_t* g, const int64_t* t, const real_t* w,
                          real_t total, Py_ssize_t N, Py_ssize_t C, Py_ssize_t S, int64_t ignore,
                          int reduction, bint per_element) noexcept nogil:
    """gx (zeroed) [n, t, s] = -w[t] * g (g per element, or g / total for mean)."""
    cdef Py_ssize_t n, s, i
    cdef int64_t tt
    cdef real_t gv = 0
    if not per_element:
        gv = -(g[0] / total) if reduction == NN_RED_MEAN else -g[0]
    for n in range(N):
        for s in range(S):
            i = n * S + s
            tt = t[i]
            if tt == ignore or tt < 0 or tt >= C:
                continue
            if per_element:
                gx[(n * C + tt) * S + s] = -(w[tt] if w != NULL else <real_t>1) * g[i]
            else:
                gx[(n * C + tt) * S + s] = w[tt] * gv if w != NULL else gv


cdef int nn_nll_fwd_run(int dt, char* out, char* total, const char* x, const int64_t* t,
                        const char* w, _NllSpec spec, int64_t* bad) noexcept nogil:
    if dt == F32:
        return nn_nll_fwd_impl(<float*>out, <float*>total, <const float*>x, t, <const float*>w,
                               spec.N, spec.C, spec.S, spec.ignore_index, spec.reduction,
                               spec.per_element, bad)
    return nn_nll_fwd_impl(<double*>out, <double*>total, <const double*>x, t, <const double*>w,
                           spec.N, spec.C, spec.S, spec.ignore_index, spec.reduction,
                           spec.per_element, bad)


cdef tuple nn_nll_forward_kernel(Tensor x, Tensor target, Tensor weight, _NllSpec spec):
    """(loss, total_weight) of x (the spec's layout) and target (int64); no
    history. Raises PyTorch's IndexError for an out-of-range target.
    float16 is computed in float32 and rounded."""
    cdef Tensor out, total
    cdef char* wp = NULL
    cdef int64_t bad = 0
    cdef int rc
    if is_half16(x._dtype):
        out, total = nn_nll_forward_kernel(cast_tensor(x, F32), target,
                                           None if weight is None else cast_tensor(weight, F32), spec)
        return cast_tensor(out, x._dtype), cast_tensor(total, x._dtype)
    if target._dtype != I64:
        target = cast_tensor(target, I64)
    out = new_tensor_from_tuple(spec.out_shape, x._dtype)
    total = new_tensor(0, NULL, x._dtype, True)
    x = nn_contiguous(x)
    target = nn_contiguous(target)
    if weight is not None:
        weight = nn_contiguous(weight)
        wp = weight._data
    if spec.N * spec.S >= GIL_RELEASE_NUMEL:
        with nogil:
            rc = nn_nll_fwd_run(x._dtype, out._data, total._data, x._data, <int64_t*>target._data,
                                wp, spec, &bad)
    else:
        rc = nn_nll_fwd_run(x._dtype, out._data, total._data, x._data, <int64_t*>target._data,
                            wp, spec, &bad)
    if rc < 0:
        raise IndexError(f"Target {bad} is out of bounds.")
    return out, total


cdef void nn_nll_bwd_run(int dt, char* gx, const char* g, const int64_t* t, const char* w,
                         const char* total, _NllSpec spec) noexcept nogil:
    if dt == F32:
        nn_nll_bwd_impl(<float*>gx, <const float*>g, t, <const float*>w, (<const float*>total)[0],
                        spec.N, spec.C, spec.S, spec.ignore_index, spec.reduction, spec.per_element)
    else:
        nn_nll_bwd_impl(<double*>gx, <const double*>g, t, <const double*>w,
                        (<const double*>total)[0], spec.N, spec.C, spec.S, spec.ignore_index,
                        spec.reduction, spec.per_element)


cdef Tensor nn_nll_backward_kernel(Tensor g, Tensor target, Tensor weight, Tensor total, int dt,
                                   _NllSpec spec):
    """The gradient of the loss's input (the spec's in_shape, dtype dt)."""
    cdef Tensor gx
    cdef char* wp = NULL
    if is_half16(dt):
        return cast_tensor(nn_nll_backward_kernel(
            g, target, None if weight is None else cast_tensor(weight, F32),
            cast_tensor(total, F32), F32, spec), dt)
    if target._dtype != I64:
        target = cast_tensor(target, I64)
    gx = new_tensor_from_tuple(spec.in_shape, dt, True)
    if g._dtype != dt:
        g = cast_tensor(g, dt)
    g = nn_contiguous(g)
    target = nn_contiguous(target)
    if weight is not None:
        weight = nn_contiguous(weight)
        wp = weight._data
    if gx._numel == 0:
        return gx
    if spec.N * spec.S >= GIL_RELEASE_NUMEL:
        with nogil:
            nn_nll_bwd_run(dt, gx._data, g._data, <int64_t*>target._data, wp, total._data, spec)
    else:
        nn_nll_bwd_run(dt, gx._data, g._data, <int64_t*>target._data, wp, total._data, spec)
    return gx


cdef class NllLossBackward0(Node):
    cdef Tensor target, weight, total_weight
    cdef long long target_version, weight_version
    cdef _NllSpec spec
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor target = unpack_input(self, self.target, self.target_version)
        cdef Tensor weight = self.weight
        if weight is not None:
            weight = unpack_input(self, weight, self.weight_version)
        if cgrad_grad_enabled:
            return (op_nll_backward(g, target, weight, self.total_weight, self.self_dtype, self.spec),)
        return (nn_nll_backward_kernel(g, target, weight, self.total_weight, self.self_dtype, self.spec),)

    cdef void release_saved(self) noexcept:
        self.target = None
        self.weight = None
        self.total_weight = None


cdef class NllLoss2DBackward0(NllLossBackward0):
    pass


cdef class NllLossBackwardBackward0(Node):
    """The gradient of nll_loss's gradient with respect to grad_output: the
    loss itself, applied to the incoming gradient (total_weight for its
    forward-mode formula: the backward op again, on the tangent)."""
    cdef Tensor target, weight, total_weight
    cdef _NllSpec spec

    cdef tuple apply(self, object grads):
        if self.target is None:
            raise RuntimeError(FREED_MSG)
        return (op_nll(<Tensor>grads, self.target, self.weight, self.spec)[0],)

    cdef void release_saved(self) noexcept:
        self.target = None
        self.weight = None
        self.total_weight = None


cdef class NllLoss2DBackwardBackward0(NllLossBackwardBackward0):
    pass


cdef tuple op_nll(Tensor x, Tensor target, Tensor weight, _NllSpec spec):
    """(loss, total_weight): the checked core of nll_loss / nll_loss2d."""
    cdef tuple res = nn_nll_forward_kernel(x, target, weight, spec)
    cdef Tensor out = <Tensor>res[0]
    cdef NllLossBackward0 node
    if needs_grad(x):
        node = (NllLoss2DBackward0.__new__(NllLoss2DBackward0) if spec.spatial
                else NllLossBackward0.__new__(NllLossBackward0))
        wire1(node, x)
        node.target = target
        node.target_version = save_version(node, target)
        node.weight = weight
        if weight is not None:
            node.weight_version = save_version(node, weight)
        node.total_weight = <Tensor>res[1]
        node.spec = spec
        node.self_dtype = x._dtype
        set_history(out, node)
    return res


cdef Tensor op_nll_backward(Tensor g, Tensor target, Tensor weight, Tensor total, int dt,
                            _NllSpec spec):
    cdef Tensor gx = nn_nll_backward_kernel(g, target, weight, total, dt, spec)
    cdef NllLossBackwardBackward0 node
    if needs_grad(g):
        node = (NllLoss2DBackwardBackward0.__new__(NllLoss2DBackwardBackward0) if spec.spatial
                else NllLossBackwardBackward0.__new__(NllLossBackwardBackward0))
        wire1(node, g)
        node.target = target
        node.weight = weight
        node.total_weight = total
        node.spec = spec
        set_history(gx, node)
    return gx


cdef int nn_check_weight_no_grad(Tensor w, str fname) except -1:
    if w is not None and w._requires_grad and cgrad_grad_enabled:
        raise RuntimeError(
            f"The function '{fname}' is not differentiable with respect to argument 'weight'. "
            "This input cannot have requires_grad True.")
    return 0


cdef str nn_target_dtype_msg(Tensor t):
    return f"expected target dtype to be Long or Byte, but got {dtype_title(t._dtype)}"


cdef int nn_check_weight_dtype(Tensor x, Tensor w) except -1:
    if w is not None and w._dtype != x._dtype:
        raise RuntimeError(
            f"expected scalar type {dtype_title(x._dtype)} but found {dtype_title(w._dtype)}")
    return 0


cdef tuple nn_nll_loss(Tensor x, Tensor t, Tensor w, int reduction, int64_t ignore):
    """nll_loss on a 1-D (C) or 2-D (N, C) input."""
    cdef _NllSpec spec = _NllSpec.__new__(_NllSpec)
    cdef Py_ssize_t C = x._shape[x._ndim - 1]
    nn_check_weight_no_grad(w, "nll_loss_forward")
    if t._ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if t._dtype != I64 and t._dtype != U8:
        raise RuntimeError(nn_target_dtype_msg(t))
    if x._ndim == 1 and t._ndim == 1 and t._shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {t._shape[0]}")
    if w is not None and not (w._ndim == 1 and w._numel == C):
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but got "
            f"weight tensor of shape: {shape_str(w._shape, w._ndim)}")
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"nll_loss_out_frame\" not implemented for '{dtype_title(x._dtype)}'")
    nn_check_weight_dtype(x, w)
    spec.N = x._shape[0] if x._ndim == 2 else 1
    spec.C = C
    spec.S = 1
    spec.ignore_index = ignore
    spec.reduction = reduction
    spec.per_element = reduction == NN_RED_NONE and x._ndim == 2
    spec.spatial = False
    spec.in_shape = shape_tuple(x)
    spec.out_shape = (spec.N,) if spec.per_element else ()
    return op_nll(x, t, w, spec)


cdef tuple nn_nll_loss2d(Tensor x, Tensor t, Tensor w, int reduction, int64_t ignore,
                         Py_ssize_t S, bint viewed):
    """nll_loss2d on a 4-D input (viewed=False), or on a 3-D / >4-D input
    PyTorch views as (N, C, 1, S) with its target as (N, 1, S)."""
    cdef _NllSpec spec = _NllSpec.__new__(_NllSpec)
    cdef Py_ssize_t C = x._shape[1]
    nn_check_weight_no_grad(w, "nll_loss2d_forward")
    if not viewed:
        if t._ndim != 3:
            raise RuntimeError(
                "only batches of spatial targets supported (3D tensors) but got targets of "
                f"dimension: {t._ndim}")
    if t._dtype != I64 and t._dtype != U8:
        raise RuntimeError(nn_target_dtype_msg(t))
    if w is not None and w._numel != C:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if not viewed:
        if not (x._shape[0] == t._shape[0] and x._shape[2] == t._shape[1] and x._shape[3] == t._shape[2]):
            raise RuntimeError(
                f"size mismatch (got input: {shape_str(x._shape, x._ndim)} , target: "
                f"{shape_str(t._shape, t._ndim)}")
    if not is_float(x._dtype):
        raise NotImplementedError(
            f"\"nll_loss2d_forward_out_frame\" not implemented for '{dtype_title(x._dtype)}'")
    nn_check_weight_dtype(x, w)
    spec.N = x._shape[0]
    spec.C = C
    spec.S = S
    spec.ignore_index = ignore
    spec.reduction = reduction
    spec.per_element = reduction == NN_RED_NONE
    spec.spatial = True
    spec.in_shape = shape_tuple(x)
    if not spec.per_element:
        spec.out_shape = ()
    elif viewed:
        spec.out_shape = (spec.N, 1, S)
    else:
        spec.out_shape = shape_tuple(t)
    return op_nll(x, t, w, spec)


cdef tuple nn_nll_loss_nd(Tensor x, Tensor t, Tensor w, int reduction, int64_t ignore):
    """PyTorch's nll_loss_nd: (loss, total_weight) for any input of rank >= 1,
    classes in dim 1 (dim 0 for an unbatched 1-D input)."""
    cdef Py_ssize_t S = 1
    cdef int d
    cdef tuple res, out_size
    if x._ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x._ndim})")
    if x._ndim != 1 and x._shape[0] != (t._shape[0] if t._ndim else 0):
        raise ValueError(
            f"Expected input batch_size ({x._shape[0]}) to match target batch_size "
            f"({t._shape[0] if t._ndim else 0}).")
    if x._ndim <= 2:
        return nn_nll_loss(x, t, w, reduction, ignore)
    if x._ndim == 4:
        return nn_nll_loss2d(x, t, w, reduction, ignore, x._shape[2] * x._shape[3], False)
    out_size = (x._shape[0],) + shape_tuple(x)[2:]
    if shape_tuple(t)[1:] != shape_tuple(x)[2:]:
        raise RuntimeError(f"Expected target size {list_str(list(out_size))}, got "
                           f"{shape_str(t._shape, t._ndim)}")
    for d in range(2, x._ndim):
        S *= x._shape[d]
    res = nn_nll_loss2d(x, t, w, reduction, ignore, S, True)
    if reduction == NN_RED_NONE:
        return op_view(<Tensor>res[0], out_size), res[1]
    return res


cdef int nn_reduction_arg(object reduction) except -1:
    if isinstance(reduction, bool) or not isinstance(reduction, (int, np.integer)) \
            or not 0 <= reduction <= 2:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return <int>reduction


def _nll_loss_nd(input, target, weight=None, reduction=1, ignore_index=-100):
    """nll_loss with the reduction as PyTorch's enum (0 none, 1 mean, 2 sum)."""
    cdef Tensor x = nn_tensor_arg(input, "nll_loss_nd", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "nll_loss_nd", "target", 2)
    cdef Tensor w = nn_optional_tensor_arg(weight, "nll_loss_nd", "weight", 3)
    cdef int red = nn_reduction_arg(reduction)
    cdef int64_t ign = nn_int_arg(ignore_index, "nll_loss_nd", "ignore_index", 5)
    return nn_nll_loss_nd(x, t, w, red, ign)[0]


# ---------------------------------------------------------------------------
# cross_entropy: log_softmax over the class dim, then nll_loss_nd; with
# label smoothing or class-probability targets, PyTorch's composite formulas
# (whose results carry AddBackward0 / DivBackward1 / NegBackward0).


cdef class DivBackward1(Node):
    """tensor / number as PyTorch's C++ code divides (div.Scalar)."""
    cdef object other
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = op_div_scalar(<Tensor>grads, self.other)
        if g._dtype != self.self_dtype:
            g = op_to_dtype(g, self.self_dtype)
        return (g,)


cdef Tensor nn_div_number(Tensor a, object s):
    cdef int dt = scalar_result_type(a._dtype, s)
    cdef Tensor out
    cdef DivBackward1 node
    if not is_float(dt):
        dt = DEFAULT_FLOAT
    out = scalar_kernel(DIV_ROWS, a, s, False, dt, dt, "div")
    if needs_grad(a):
        node = DivBackward1.__new__(DivBackward1)
        wire1(node, a)
        node.other = s
        node.self_dtype = a._dtype
        set_history(out, node)
    return out


cdef Tensor nn_class_weight_view(Tensor w, int ndim, int class_dim):
    """weight (C,) viewed to broadcast against an ndim input along class_dim."""
    cdef list shape = [1] * ndim
    if ndim <= 1:
        return w
    shape[class_dim] = w._numel
    return op_view(w, tuple(shape))


cdef Tensor nn_ce_prob_target(Tensor x, Tensor t, Tensor w, int reduction, double ls):
    cdef int class_dim = 0 if x._ndim == 1 else 1
    cdef Py_ssize_t C
    cdef Tensor inp, target, prod, total
    if x._ndim == 0:
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    C = x._shape[class_dim]
    if w is not None and not (w._ndim == 1 and w._numel == C):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all {C} classes or no "
            f"classes but got weight tensor of shape: {shape_str(w._shape, w._ndim)}")
    inp = op_softmax(x, class_dim, x._dtype, True)
    target = t
    if ls > 0.0:
        if ls > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {ls:g}")
        target = op_add_scalar(op_mul_scalar(t, 1 - ls), ls / C)
    prod = op_mul(inp, target)
    if w is not None:
        prod = op_mul(prod, nn_class_weight_view(w, inp._ndim, class_dim))
    if reduction == NN_RED_NONE:
        return op_neg(op_sum(prod, class_dim))
    total = op_sum(prod)
    if reduction == NN_RED_SUM:
        return op_neg(total)
    if inp._numel == 0:
        return op_neg(op_mul_scalar(total, float("nan")))
    return nn_div_number(op_neg(total), inp._numel // C)


cdef Tensor nn_ce_label_smoothing(Tensor x, Tensor t, Tensor w, int reduction, int64_t ignore,
                                  double ls):
    cdef int class_dim = 0 if x._ndim == 1 else 1
    cdef Tensor inp = op_softmax(x, class_dim, x._dtype, True)
    cdef tuple res = nn_nll_loss_nd(inp, t, w, reduction, ignore)
    cdef Tensor nll = <Tensor>res[0]
    cdef Tensor smooth, ret
    cdef Py_ssize_t C = inp._shape[class_dim]
    if w is not None:
        smooth = op_neg(op_sum(op_mul(inp, nn_class_weight_view(w, inp._ndim, class_dim)), class_dim))
    else:
        smooth = op_neg(op_sum(inp, class_dim))
    smooth = op_where(op_compare(CMP_EQ, t, ignore), new_tensor(0, NULL, smooth._dtype, True), smooth)
    if reduction == NN_RED_MEAN:
        ret = op_div(op_sum(smooth), <Tensor>res[1])
    elif reduction == NN_RED_SUM:
        ret = op_sum(smooth)
    else:
        ret = smooth
    return op_add(op_mul_scalar(nll, 1 - ls), op_mul_scalar(ret, ls / C))


def _cross_entropy(input, target, weight=None, reduction=1, ignore_index=-100,
                   label_smoothing=0.0):
    """cross_entropy with the reduction as PyTorch's enum."""
    cdef Tensor x = nn_tensor_arg(input, "cross_entropy_loss", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "cross_entropy_loss", "target", 2)
    cdef Tensor w = nn_optional_tensor_arg(weight, "cross_entropy_loss", "weight", 3)
    cdef int red = nn_reduction_arg(reduction)
    cdef int64_t ign = nn_int_arg(ignore_index, "cross_entropy_loss", "ignore_index", 5)
    cdef double ls
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float, np.integer, np.floating)):
        raise TypeError("cross_entropy_loss(): argument 'label_smoothing' (position 6) must be "
                        f"float, not {type(label_smoothing).__name__}")
    ls = label_smoothing
    if same_shape(x, t):
        if not is_float(t._dtype):
            raise RuntimeError("Expected floating point type for target with class probabilities, "
                               f"got {dtype_title(t._dtype)}")
        if ign >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return nn_ce_prob_target(x, t, w, red, ls)
    if ls > 0.0:
        if ls > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {ls:g}")
        return nn_ce_label_smoothing(x, t, w, red, ign, ls)
    return nn_nll_loss_nd(op_softmax(x, 0 if x._ndim == 1 else 1, x._dtype, True), t, w, red,
                          ign)[0]
