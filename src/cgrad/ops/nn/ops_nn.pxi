# Pointwise losses (mse_loss, binary_cross_entropy), linear, dropout and
# relu_ of nn.functional; see ops_softmax.pxi for the conventions.


# ---------------------------------------------------------------------------
# Pointwise losses: mse_loss and binary_cross_entropy. Their row kernels run
# under run_elementwise (broadcasting, strides, GIL release); a reduced loss
# accumulates in a double through a 0-d operand of stride 0.


cdef struct NnLossCtx:
    double norm          # backward scale (2 or 2/numel for mse; 1/numel for bce mean)
    int has_weight
    int mean
    int bad              # bce: 1 input out of [0, 1], 2 target out of [0, 1]
    int bf16             # bce's 16-bit kernels: bfloat16 (else float16)


cdef inline void nn_mse_fwd_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                 bint acc) noexcept nogil:
    cdef const real_t* x = <const real_t*>p[1]
    cdef const real_t* t = <const real_t*>p[2]
    cdef Py_ssize_t i
    cdef real_t d
    cdef double a = 0
    if acc and s[1] == 1 and s[2] == 1:
        if real_t is float:
            (<double*>p[0])[0] += cgrad_nn_sqdiff_sum_f32(x, t, n)
        else:
            (<double*>p[0])[0] += cgrad_nn_sqdiff_sum_f64(x, t, n)
        return
    for i in range(n):
        d = x[i * s[1]] - t[i * s[2]]
        if acc:
            a += d * d
        else:
            o[i * s[0]] = d * d
    if acc:
        (<double*>p[0])[0] += a


cdef void nn_mse_fwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_fwd_impl(<float*>p[0], p, s, n, False)

cdef void nn_mse_fwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_fwd_impl(<double*>p[0], p, s, n, False)

cdef void nn_mse_acc_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_fwd_impl(<float*>NULL, p, s, n, True)

cdef void nn_mse_acc_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_fwd_impl(<double*>NULL, p, s, n, True)


cdef inline void nn_mse_bwd_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                 NnLossCtx* c) noexcept nogil:
    # OUT norm * (a - b) * g;  IN a, b, g
    cdef const real_t* a = <const real_t*>p[1]
    cdef const real_t* b = <const real_t*>p[2]
    cdef const real_t* g = <const real_t*>p[3]
    cdef real_t norm = <real_t>c.norm
    cdef real_t gv
    cdef Py_ssize_t i
    if s[0] == 1 and s[1] == 1 and s[2] == 1:
        if s[3] == 0:
            gv = g[0]
            for i in range(n):
                o[i] = norm * (a[i] - b[i]) * gv
        else:
            for i in range(n):
                o[i] = norm * (a[i] - b[i]) * g[i * s[3]]
        return
    for i in range(n):
        o[i * s[0]] = norm * (a[i * s[1]] - b[i * s[2]]) * g[i * s[3]]


cdef void nn_mse_bwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_bwd_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx)

cdef void nn_mse_bwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_mse_bwd_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx)


cdef Tensor nn_loss_result(int dt, double value, bint mean, Py_ssize_t numel):
    """A 0-d tensor of dtype dt holding a sum (or mean) accumulated in double."""
    cdef Tensor out = new_tensor(0, NULL, dt)
    if mean:
        value = value / <double>numel
    if dt == F32:
        (<float*>out._data)[0] = <float>value
    elif dt == F16:
        (<uint16_t*>out._data)[0] = cg_d2h(value)
    elif dt == BF16:
        (<uint16_t*>out._data)[0] = cg_d2bf(value)
    else:
        (<double*>out._data)[0] = value
    return out


cdef Tensor nn_run_loss(RowFn elementwise, RowFn accumulate, int nops, Operand* ops, Tensor like,
                        int dt, int reduction, void* ctx):
    """Run a loss row kernel: elementwise into a new tensor of like's shape
    (reduction 'none'), or summed into a 0-d result."""
    cdef Tensor out
    cdef double acc = 0
    if reduction == NN_RED_NONE:
        out = new_unary_result(like._ndim, like._shape, dt, like)     # laid out as the input
        ops[0] = operand_of(out)
        run_elementwise(elementwise, nops, ops, like._ndim, like._shape, like._numel, ctx)
        return out
    ops[0] = operand_of_scalar(&acc, sizeof(double))
    run_elementwise(accumulate, nops, ops, like._ndim, like._shape, like._numel, ctx)
    return nn_loss_result(dt, acc, reduction == NN_RED_MEAN, like._numel)


cdef Tensor nn_mse_grad(Tensor a, Tensor b, Tensor g, int dt, double norm, int out_dt):
    """norm * (a - b) * g computed in dt, returned as out_dt (a, b same shape)."""
    cdef Tensor out
    cdef Operand ops[4]
    cdef NnLossCtx c
    if is_half16(dt):
        # PyTorch's mse_loss_backward for half is three half ops, each
        # rounded: (a - b) * norm (a half), then * g
        out = binary_kernel(SUB_ROWS, a, b, dt, dt, "sub")
        out = scalar_kernel(MUL_ROWS, out, norm, False, dt, dt, "mul")
        out = op_mul(out, g if g._dtype == dt else cast_tensor(g, dt))
        return out if out_dt == dt else cast_tensor(out, out_dt)
    if a._dtype != dt:
        a = cast_tensor(a, dt)
    if b._dtype != dt:
        b = cast_tensor(b, dt)
    if g._dtype != dt:
        g = cast_tensor(g, dt)
    c.norm = norm
    out = new_tensor(a._ndim, a._shape, dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(a)
    ops[2] = operand_of(b)
    ops[3] = operand_of(g)
    run_elementwise(nn_mse_bwd_F32 if dt == F32 else nn_mse_bwd_F64, 4, ops, a._ndim, a._shape,
                    a._numel, &c)
    if out_dt != dt:
        out = cast_tensor(out, out_dt)
    return out


cdef class MseLossBackward0(Node):
    cdef Tensor self_, target
    cdef long long self_version, target_version
    cdef int reduction, dt

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor t = unpack_input(self, self.target, self.target_version)
        cdef double norm = 2.0 / x._numel if self.reduction == NN_RED_MEAN else 2.0
        cdef object gx = None, gt = None
        if cgrad_grad_enabled:
            # norm * (self - target) * grad, and the same with the roles swapped
            if wants_grad(self, 0):
                gx = op_to_dtype(op_mul(op_mul_scalar(op_sub(x, t), norm), g), x._dtype)
            if wants_grad(self, 1):
                gt = op_to_dtype(op_mul(op_mul_scalar(op_sub(t, x), norm), g), t._dtype)
            return (gx, gt)
        if wants_grad(self, 0):
            gx = nn_mse_grad(x, t, g, self.dt, norm, x._dtype)
        if wants_grad(self, 1):
            gt = nn_mse_grad(t, x, g, self.dt, norm, t._dtype)
        return (gx, gt)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.target = None


cdef Tensor op_mse_loss(Tensor x, Tensor t, int reduction):
    """mean/sum/none of (x - t)^2; x and t of one shape (F.mse_loss
    broadcasts them first), computed in their promoted dtype."""
    cdef int dt = tensor_result_type(x, t)
    cdef int cdt
    cdef Tensor xc = x, tc = t, out
    cdef Operand ops[3]
    cdef MseLossBackward0 node
    if not same_shape(x, t):
        raise RuntimeError(f"mse_loss: input {shape_str(x._shape, x._ndim)} and target "
                           f"{shape_str(t._shape, t._ndim)} must have the same shape")
    if not is_float(dt):
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{dtype_title(dt)}'")
    cdt = F32 if is_half16(dt) else dt      # float16: computed in float32, rounded at the end
    if xc._dtype != cdt:
        xc = cast_tensor(xc, cdt)
    if tc._dtype != cdt:
        tc = cast_tensor(tc, cdt)
    ops[1] = operand_of(xc)
    ops[2] = operand_of(tc)
    if cdt == F32:
        out = nn_run_loss(nn_mse_fwd_F32, nn_mse_acc_F32, 3, ops, xc, cdt, reduction, NULL)
    else:
        out = nn_run_loss(nn_mse_fwd_F64, nn_mse_acc_F64, 3, ops, xc, cdt, reduction, NULL)
    if out._dtype != dt:
        out = cast_tensor(out, dt)
    if needs_grad2(x, t):
        node = MseLossBackward0.__new__(MseLossBackward0)
        wire2(node, x, t)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.target = t
        node.target_version = save_version(node, t)
        node.reduction = reduction
        node.dt = dt
        set_history(out, node)
    return out


def _mse_loss(input, target, reduction=1):
    """mse_loss of same-shape tensors, the reduction as PyTorch's enum."""
    cdef Tensor x = nn_tensor_arg(input, "mse_loss", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "mse_loss", "target", 2)
    return op_mse_loss(x, t, nn_reduction_arg(reduction))


# binary_cross_entropy: PyTorch's clamped logs (>= -100), its input and
# target range checks, and its backward's EPSILON = 1e-12 on x * (1 - x).

cdef inline void nn_bce_fwd_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                 NnLossCtx* c, bint acc) noexcept nogil:
    cdef const real_t* x = <const real_t*>p[1]
    cdef const real_t* t = <const real_t*>p[2]
    cdef const real_t* w = <const real_t*>p[3]
    cdef Py_ssize_t i
    cdef real_t xv, tv, l, lx, l1x
    cdef double a = 0
    if c.bad:
        return
    for i in range(n):
        xv = x[i * s[1]]
        tv = t[i * s[2]]
        if not (xv >= 0 and xv <= 1):
            c.bad = 1
            return
        if not (tv >= 0 and tv <= 1):
            c.bad = 2
            return
        if real_t is float:
            l1x = cmath.log1pf(-xv)
            lx = cmath.logf(xv)
        else:
            l1x = cmath.log1p(-xv)
            lx = cmath.log(xv)
        if l1x < -100:
            l1x = -100
        if lx < -100:
            lx = -100
        l = (tv - 1) * l1x - tv * lx
        if c.has_weight:
            l = l * w[i * s[3]]
        if acc:
            a += l
        else:
            o[i * s[0]] = l
    if acc:
        (<double*>p[0])[0] += a


cdef inline float hround(float v, int bf16) noexcept nogil:
    """v rounded to float16 (bf16: bfloat16) and back: one c10::Half
    (BFloat16) operation's result."""
    return cg_round_h16(v, bf16)


cdef void nn_bce_fwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    """OUT the elementwise loss (float16), IN x, t (float16): PyTorch's
    kernel in c10::Half arithmetic, every operation rounded to half."""
    cdef uint16_t* o = <uint16_t*>p[0]
    cdef const uint16_t* x = <const uint16_t*>p[1]
    cdef const uint16_t* t = <const uint16_t*>p[2]
    cdef NnLossCtx* c = <NnLossCtx*>ctx
    cdef int bf16 = c.bf16
    cdef float xv, tv, lx, l1x
    cdef Py_ssize_t i
    if c.bad:
        return
    for i in range(n):
        xv = cg_h16_to_f(x[i * s[1]], bf16)
        tv = cg_h16_to_f(t[i * s[2]], bf16)
        if not (xv >= 0 and xv <= 1):
            c.bad = 1
            return
        if not (tv >= 0 and tv <= 1):
            c.bad = 2
            return
        l1x = hround(cmath.log1pf(-xv), bf16)
        lx = hround(cmath.logf(xv), bf16)
        l1x = l1x if l1x > -100 else -100
        lx = lx if lx > -100 else -100
        o[i * s[0]] = cg_f_to_h16(hround(hround(tv - 1, bf16) * l1x, bf16) - hround(tv * lx, bf16), bf16)


cdef void nn_bce_bwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    """OUT grad of x, IN g, x, t (float16): g * (x - t) / max((1 - x) * x,
    EPSILON) in half arithmetic (EPSILON = 1e-12 is 0 as a half)."""
    cdef uint16_t* o = <uint16_t*>p[0]
    cdef const uint16_t* g = <const uint16_t*>p[1]
    cdef const uint16_t* x = <const uint16_t*>p[2]
    cdef const uint16_t* t = <const uint16_t*>p[3]
    cdef float xv, d
    cdef int bf16 = (<NnLossCtx*>ctx).bf16
    cdef Py_ssize_t i
    for i in range(n):
        xv = cg_h16_to_f(x[i * s[2]], bf16)
        d = hround(hround(1 - xv, bf16) * xv, bf16)
        d = d if d > 0 else 0
        o[i * s[0]] = cg_f_to_h16(hround(cg_h16_to_f(g[i * s[1]], bf16) * hround(xv - cg_h16_to_f(t[i * s[3]], bf16), bf16), bf16) / d, bf16)


cdef void nn_bce_tbwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    """OUT grad of t, IN g, x, t (float16): -logit(x) * g (logit in float,
    rounded; the product rounded)."""
    cdef uint16_t* o = <uint16_t*>p[0]
    cdef const uint16_t* g = <const uint16_t*>p[1]
    cdef const uint16_t* x = <const uint16_t*>p[2]
    cdef float xv
    cdef int bf16 = (<NnLossCtx*>ctx).bf16
    cdef Py_ssize_t i
    for i in range(n):
        xv = cg_h16_to_f(x[i * s[2]], bf16)
        o[i * s[0]] = cg_f_to_h16(-hround(cmath.logf(xv / (1 - xv)), bf16) * cg_h16_to_f(g[i * s[1]], bf16), bf16)


cdef void nn_bce_fwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_fwd_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx, False)

cdef void nn_bce_fwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_fwd_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx, False)

cdef void nn_bce_acc_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_fwd_impl(<float*>NULL, p, s, n, <NnLossCtx*>ctx, True)

cdef void nn_bce_acc_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_fwd_impl(<double*>NULL, p, s, n, <NnLossCtx*>ctx, True)


cdef inline void nn_bce_bwd_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                 NnLossCtx* c, bint wrt_target) noexcept nogil:
    # input:  g * (x - t) / max((1 - x) * x, 1e-12)  [/ numel]
    # target: -log(x / (1 - x)) * g                 [/ numel]
    # (with a weight the mean's division waits for nn_bce_weight_row, as
    # PyTorch multiplies by the weight first)
    cdef const real_t* g = <const real_t*>p[1]
    cdef const real_t* x = <const real_t*>p[2]
    cdef const real_t* t = <const real_t*>p[3]
    cdef Py_ssize_t i
    cdef real_t xv, d, v
    cdef real_t eps = <real_t>1e-12
    cdef real_t count = <real_t>c.norm
    cdef bint div = c.mean and not c.has_weight
    for i in range(n):
        xv = x[i * s[2]]
        if wrt_target:
            v = -c_log(xv / (1 - xv)) * g[i * s[1]]
        else:
            d = (1 - xv) * xv
            if not (d >= eps):
                d = eps
            v = g[i * s[1]] * (xv - t[i * s[3]]) / d
        if div:
            v = v / count
        o[i * s[0]] = v


cdef inline void nn_bce_weight_impl(real_t* o, char** p, const Py_ssize_t* s, Py_ssize_t n,
                                    NnLossCtx* c) noexcept nogil:
    # OUT o = o * w [/ numel]; IN o, w
    cdef const real_t* w = <const real_t*>p[2]
    cdef real_t count = <real_t>c.norm
    cdef Py_ssize_t i
    cdef real_t v
    for i in range(n):
        v = o[i * s[0]] * w[i * s[2]]
        if c.mean:
            v = v / count
        o[i * s[0]] = v


cdef void nn_bce_bwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_bwd_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx, False)

cdef void nn_bce_bwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_bwd_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx, False)

cdef void nn_bce_tbwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_bwd_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx, True)

cdef void nn_bce_tbwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_bwd_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx, True)

cdef void nn_bce_weight_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_weight_impl(<float*>p[0], p, s, n, <NnLossCtx*>ctx)

cdef void nn_bce_weight_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    nn_bce_weight_impl(<double*>p[0], p, s, n, <NnLossCtx*>ctx)


cdef Tensor nn_bce_grad(Tensor g, Tensor x, Tensor t, Tensor w, int reduction, bint wrt_target):
    cdef Tensor out
    cdef Operand ops[4]
    cdef NnLossCtx c
    if is_half16(x._dtype):
        # PyTorch's half (bfloat16) kernels, then the weight and the mean as half ops
        if g._dtype != x._dtype:
            g = cast_tensor(g, x._dtype)
        out = new_tensor(x._ndim, x._shape, x._dtype)
        ops[0] = operand_of(out)
        ops[1] = operand_of(g)
        ops[2] = operand_of(x)
        ops[3] = operand_of(t)
        c.bf16 = x._dtype == BF16
        run_elementwise(nn_bce_tbwd_F16 if wrt_target else nn_bce_bwd_F16, 4, ops, x._ndim, x._shape,
                        x._numel, &c)
        if w is not None:
            out = binary_kernel(MUL_ROWS, out, w, x._dtype, x._dtype, "mul")
        if reduction == NN_RED_MEAN:
            out = f16_scalar_kernel(div_scalar_row_F16 if x._dtype == F16 else div_scalar_row_BF16, out,
                                    out._ndim, out._shape, <float>x._numel, x._dtype)
        return out
    out = new_tensor(x._ndim, x._shape, x._dtype)
    if g._dtype != x._dtype:
        g = cast_tensor(g, x._dtype)
    c.has_weight = w is not None
    c.mean = reduction == NN_RED_MEAN
    c.norm = <double>x._numel
    ops[0] = operand_of(out)
    ops[1] = operand_of(g)
    ops[2] = operand_of(x)
    ops[3] = operand_of(t)
    if wrt_target:
        run_elementwise(nn_bce_tbwd_F32 if x._dtype == F32 else nn_bce_tbwd_F64, 4, ops,
                        x._ndim, x._shape, x._numel, &c)
    else:
        run_elementwise(nn_bce_bwd_F32 if x._dtype == F32 else nn_bce_bwd_F64, 4, ops,
                        x._ndim, x._shape, x._numel, &c)
    if w is not None:
        ops[1] = operand_of(out)
        ops[2] = operand_of(w)
        run_elementwise(nn_bce_weight_F32 if x._dtype == F32 else nn_bce_weight_F64, 3, ops,
                        x._ndim, x._shape, x._numel, &c)
    return out


cdef class BinaryCrossEntropyBackward0(Node):
    cdef Tensor self_, target, weight
    cdef long long self_version, target_version
    cdef int reduction

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor t = unpack_input(self, self.target, self.target_version)
        cdef Tensor w = self.weight
        cdef Tensor d, v
        cdef object gx = None, gt = None
        if cgrad_grad_enabled:
            if wants_grad(self, 0):
                d = op_mul(op_rsub_scalar(x, 1), x)
                d = op_where(op_compare(CMP_GE, d, 1e-12), d, nn_scalar_like(1e-12, d._dtype))
                v = op_div(op_mul(g, op_sub(x, t)), d)
                gx = nn_bce_scale(v, w, self.reduction, x._numel)
            if wants_grad(self, 1):
                v = op_mul(op_neg(op_log(op_div(x, op_rsub_scalar(x, 1)))), g)
                gt = nn_bce_scale(v, w, self.reduction, x._numel)
            return (gx, gt)
        if wants_grad(self, 0):
            gx = nn_bce_grad(g, x, t, w, self.reduction, False)
        if wants_grad(self, 1):
            gt = nn_bce_grad(g, x, t, w, self.reduction, True)
        return (gx, gt)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.target = None
        self.weight = None


cdef Tensor nn_scalar_like(double v, int dt):
    cdef Tensor t = new_tensor(0, NULL, dt)
    fill_scalar(t, v)
    return t


cdef Tensor nn_bce_scale(Tensor v, Tensor w, int reduction, Py_ssize_t numel):
    if w is not None:
        v = op_mul(v, w)
    if reduction == NN_RED_MEAN:
        v = op_div_scalar(v, numel)
    return v


cdef Tensor op_binary_cross_entropy(Tensor x, Tensor t, Tensor w, int reduction):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    cdef Tensor out, wc = None
    cdef Operand ops[4]
    cdef NnLossCtx c
    cdef BinaryCrossEntropyBackward0 node
    if w is not None and w._requires_grad and cgrad_grad_enabled:
        raise RuntimeError(
            "The function 'binary_cross_entropy' is not differentiable with respect to argument "
            "'weight'. This input cannot have requires_grad True.")
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for '{dtype_title(x._dtype)}'")
    if t._dtype != x._dtype:
        raise RuntimeError(f"Found dtype {dtype_title(t._dtype)} but expected {dtype_title(x._dtype)}")
    if not same_shape(x, t):
        raise RuntimeError(f"binary_cross_entropy: input {shape_str(x._shape, x._ndim)} and target "
                           f"{shape_str(t._shape, t._ndim)} must have the same shape")
    if w is not None:
        nd = broadcast_shapes(x._ndim, x._shape, w._ndim, w._shape, shape)
        if not shape_equals(x, nd, shape):
            raise RuntimeError(f"output with shape {shape_str(x._shape, x._ndim)} doesn't match the "
                               f"broadcast shape {shape_str(shape, nd)}")
        wc = w if w._dtype == x._dtype else cast_tensor(w, x._dtype)
    c.bad = 0
    c.has_weight = wc is not None
    ops[1] = operand_of(x)
    ops[2] = operand_of(t)
    ops[3] = operand_of(wc) if wc is not None else operand_of_scalar(&c.norm, sizeof(double))
    if is_half16(x._dtype):
        # the elementwise loss in half (bfloat16) arithmetic, then the
        # weight and the reduction as half ops (PyTorch's order)
        out = new_tensor(x._ndim, x._shape, x._dtype)
        ops[0] = operand_of(out)
        c.bf16 = x._dtype == BF16
        run_elementwise(nn_bce_fwd_F16, 3, ops, x._ndim, x._shape, x._numel, &c)
        if not c.bad:
            if wc is not None:
                out = binary_kernel(MUL_ROWS, out, wc, x._dtype, x._dtype, "mul")
            if reduction == NN_RED_MEAN:
                out = op_mean(out, None, False, None)
            elif reduction == NN_RED_SUM:
                out = op_sum(out, None, False, None)
    elif x._dtype == F32:
        out = nn_run_loss(nn_bce_fwd_F32, nn_bce_acc_F32, 4, ops, x, F32, reduction, &c)
    else:
        out = nn_run_loss(nn_bce_fwd_F64, nn_bce_acc_F64, 4, ops, x, F64, reduction, &c)
    if c.bad:
        raise RuntimeError(f"all elements of {'input' if c.bad == 1 else 'target'} should be between 0 and 1")
    if needs_grad2(x, t):
        node = BinaryCrossEntropyBackward0.__new__(BinaryCrossEntropyBackward0)
        wire2(node, x, t)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.target = t
        node.target_version = save_version(node, t)
        node.weight = wc
        node.reduction = reduction
        set_history(out, node)
    return out


def _binary_cross_entropy(input, target, weight=None, reduction=1):
    cdef Tensor x = nn_tensor_arg(input, "binary_cross_entropy", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "binary_cross_entropy", "target", 2)
    cdef Tensor w = nn_optional_tensor_arg(weight, "binary_cross_entropy", "weight", 3)
    return op_binary_cross_entropy(x, t, w, nn_reduction_arg(reduction))


# ---------------------------------------------------------------------------
# linear: composed exactly as PyTorch's at::linear composes it, so results
# carry the same grad_fn: addmm for 2-D input with bias, addmm between a
# flattening reshape and a view for contiguous inputs whose bias broadcasts
# along the last dim, else matmul followed by the bias add.


cdef class AddmmBackward0(Node):
    cdef Tensor mat1, mat2
    cdef long long mat1_version, mat2_version
    cdef tuple self_sizes
    cdef object alpha, beta         # None: 1 (F.linear; cgrad.addmm sets them)
    cdef bint mat2_column_major     # F.linear's weight.t(): see mat2_gradient

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor ga = g
        cdef object gs = None, g1 = None, g2 = None
        if self.alpha is not None and self.alpha != 1:
            ga = op_mul_scalar(g, self.alpha)
        if wants_grad(self, 0):
            gs = op_sum_to(g if self.beta is None or self.beta == 1 else op_mul_scalar(g, self.beta),
                           self.self_sizes)
        if wants_grad(self, 1):
            g1 = op_mm(ga, op_t(unpack_input(self, self.mat2, self.mat2_version)))
        if wants_grad(self, 2):
            g2 = mat2_gradient(ga, unpack_input(self, self.mat1, self.mat1_version), self.mat2_column_major)
        return (gs, g1, g2)

    cdef void release_saved(self) noexcept:
        self.mat1 = None
        self.mat2 = None


cdef Tensor op_addmm(Tensor bias, Tensor m1, Tensor m2):
    """bias + m1 @ m2 (bias broadcast to the product's shape)."""
    cdef Py_ssize_t shape[2]
    cdef Tensor out, b, acc
    cdef AddmmBackward0 node
    if bias._dtype != m2._dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {dtype_title(bias._dtype)} "
                           f"and {dtype_title(m2._dtype)}")
    if m1._dtype != m2._dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {dtype_title(m1._dtype)} "
                           f"and {dtype_title(m2._dtype)}")
    if m1._ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {m1._ndim}-D tensor")
    if m2._ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {m2._ndim}-D tensor")
    if m1._shape[1] != m2._shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({m1._shape[0]}x{m1._shape[1]} and "
            f"{m2._shape[0]}x{m2._shape[1]})")
    shape[0] = m1._shape[0]
    shape[1] = m2._shape[1]
    if bias._ndim > 2:
        raise RuntimeError(
            f"expand(cgrad.{legacy_type_name(bias._dtype)}{{{shape_str(bias._shape, bias._ndim)}}}, "
            f"size=[{shape[0]}, {shape[1]}]): the number of sizes provided (2) must be greater or equal "
            f"to the number of dimensions in the tensor ({bias._ndim})")
    b = op_expand(alias_detached(bias), (shape[0], shape[1]))
    check_not_bool(m1, "addmm_impl_cpu_")
    out = new_tensor(2, shape, m1._dtype)
    if is_half16(m1._dtype):
        # PyTorch's gemm for half (and bfloat16) adds the bias in float and rounds once
        acc = new_tensor(2, shape, F32)
        mm_into(acc, cast_tensor(m1, F32), cast_tensor(m2, F32))
        add_into(acc, cast_tensor(b, F32))
        copy_into(out, acc)
    elif not addmm_fused_into(out, b, m1, m2):
        mm_into(out, m1, m2)
        add_into(out, b)
    if (cgrad_grad_enabled and (bias._requires_grad or m1._requires_grad or m2._requires_grad)
            or has_tangent(bias) or has_tangent(m1) or has_tangent(m2)):
        node = AddmmBackward0.__new__(AddmmBackward0)
        wire_many(node, [bias, m1, m2], 1)
        if m2._requires_grad or has_tangent(m2):
            node.mat1 = m1
            node.mat1_version = save_version(node, m1)
            node.mat2_column_major = column_major(m2)
        if m1._requires_grad or has_tangent(m1):
            node.mat2 = m2
            node.mat2_version = save_version(node, m2)
        node.self_sizes = shape_tuple(bias)
        set_history(out, node)
    return out


cdef Tensor nn_add_bias_(Tensor out, Tensor b):
    """out.add_(b) on a fresh matmul result, as a differentiable add: the
    broadcast may not grow out, and out keeps its dtype."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd = broadcast_shapes(out._ndim, out._shape, b._ndim, b._shape, shape)
    cdef int dt
    if not shape_equals(out, nd, shape):
        raise RuntimeError(f"output with shape {shape_str(out._shape, out._ndim)} doesn't match the "
                           f"broadcast shape {shape_str(shape, nd)}")
    dt = tensor_result_type(out, b)
    if CATEGORY[dt] > CATEGORY[out._dtype]:
        raise RuntimeError(f"result type {dtype_title(dt)} can't be cast to the desired output type "
                           f"{dtype_title(out._dtype)}")
    if b._dtype != out._dtype:
        b = op_to_dtype(b, out._dtype)
    return op_add(out, b)


cdef Tensor nn_linear(Tensor x, Tensor w, Tensor b):
    cdef Py_ssize_t flat = 1
    cdef int d
    cdef Tensor r
    x = autocast_lower(x)
    w = autocast_lower(w)
    b = autocast_lower(b)
    if x._ndim == 0 or w._ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{x._ndim}D and {w._ndim}D")
    if b is not None and x._ndim == 2:
        return op_addmm(b, x, op_t(w))
    if b is not None and (x._contiguous or x._numel == 0) and b._ndim >= 1 and \
            b._numel == b._shape[b._ndim - 1]:
        for d in range(x._ndim - 1):
            flat *= x._shape[d]
        r = op_addmm(b, op_reshape(x, (flat, x._shape[x._ndim - 1])), op_t(w))
        return op_view(r, shape_tuple(x)[:-1] + (r._shape[1],))
    r = op_matmul(x, op_t(w))
    if b is None:
        return r
    return nn_add_bias_(r, b)


def _linear(input, weight, bias=None):
    """input @ weight.T + bias, composed as PyTorch composes it."""
    cdef Tensor x = nn_tensor_arg(input, "linear", "input", 1)
    cdef Tensor w = nn_tensor_arg(weight, "linear", "weight", 2)
    cdef Tensor b = nn_optional_tensor_arg(bias, "linear", "bias", 3)
    return nn_linear(x, w, b)


# ---------------------------------------------------------------------------
# dropout: x * noise, noise = bernoulli(1 - p) / (1 - p) drawn from the
# seeded generator (cgrad.manual_seed); MulBackward0 as in PyTorch.


cdef void nn_dropout_noise_impl(real_t* out, const uint8_t* keep_mask, Py_ssize_t n, double keep) noexcept nogil:
    cdef real_t scale = (<real_t>1) / <real_t>keep
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = scale if keep_mask[i] else 0


cdef Tensor nn_dropout(Tensor x, double p, bint train, bint inplace):
    """ATen's _dropout on the CPU: noise = empty_like(input).bernoulli_(1 - p)
    (drawn in input's memory order), noise.div_(1 - p), input * noise."""
    cdef Tensor noise
    cdef object keep_mask
    cdef double keep = 1.0 - p
    cdef const uint8_t* kp
    cdef Py_ssize_t n = x._numel
    if p == 0 or not train or x._numel == 0:
        return x
    if p == 1:
        noise = new_tensor(0, NULL, x._dtype, True)
    else:
        if not is_float(x._dtype):
            raise RuntimeError(f"result type Float can't be cast to the desired output type "
                               f"{dtype_title(x._dtype)}")
        noise = new_tensor(x._ndim, x._shape, F32 if is_half16(x._dtype) else x._dtype)
        keep_mask = np.ascontiguousarray(bernoulli_draws(x, <Generator>default_generator, None, F64, keep))
        kp = <const uint8_t*>cnp.PyArray_DATA(<cnp.ndarray>keep_mask)
        with nogil:
            if noise._dtype == F32:
                nn_dropout_noise_impl(<float*>noise._data, kp, n, keep)
            else:
                nn_dropout_noise_impl(<double*>noise._data, kp, n, keep)
        if is_half16(x._dtype):
            noise = cast_tensor(noise, x._dtype)
    if inplace:
        return inplace_arith(IP_MUL, x, noise, None)
    return op_mul(x, noise)


def _dropout(input, p=0.5, training=True, inplace=False):
    """F.dropout after its argument check."""
    cdef Tensor x = nn_tensor_arg(input, "dropout", "input", 1)
    return nn_dropout(x, p, training, inplace)


def dropout(input, p, train):
    """cgrad.dropout(input, p, train), as torch.dropout."""
    cdef Tensor x = nn_tensor_arg(input, "dropout", "input", 1)
    if p < 0 or p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    return nn_dropout(x, p, train, False)


# ---------------------------------------------------------------------------
# relu_ (F.relu(inplace=True)): recorded out of place and written into x
# (commit_inplace, views included); the node saves x itself at its new
# version.


cdef Tensor nn_relu_(Tensor x):
    cdef Tensor old, r
    check_inplace(x)
    if x._dtype == BOOL:
        raise RuntimeError(bool_unary_message("relu"))
    check_written_overlap(x)
    if (cgrad_grad_enabled and x._requires_grad) or has_tangent(x):
        hooks_were = pause_saved_hooks()     # the result is saved once, below
        try:
            r = op_relu(old_value(x, False))
        finally:
            resume_saved_hooks(hooks_were)
        commit_inplace(x, r)
        if r._grad_fn is None:      # forward AD only
            return x
        # PyTorch's relu_ saves x itself, at its new version
        (<ReluBackward0>r._grad_fn).result = save_output((<ReluBackward0>r._grad_fn), x)
        (<ReluBackward0>r._grad_fn).saved_version = x._storage.version
        return x
    run_unary(RELU_FWD[x._dtype], x, x)
    x._storage.version += 1
    return x


def relu_(input):
    """relu in place (torch.relu_)."""
    return nn_relu_(nn_tensor_arg(input, "relu_", "input", 1))
