# The activations of nn.functional with parameters (silu, leaky_relu, elu,
# gelu, softplus): fused forward and backward kernels, PyTorch's nodes.


# ---------------------------------------------------------------------------
# Activations of nn.functional with parameters: silu, leaky_relu, elu, gelu
# (approximate 'none' / 'tanh'), softplus. One forward and one backward row
# kernel per float dtype, switching on the kind (ActParams in ctx); each node
# runs the fused backward, or its formula as differentiable ops under
# create_graph. PyTorch's CPU formulas, in its order of operations and in
# the input's precision (<real_t>1: a bare 1 is a double to Cython, which
# would compute float32's 1 + e^-x in double where PyTorch stays in float).

cdef enum:
    K_SILU = 0
    K_LEAKY = 1
    K_ELU = 2
    K_GELU = 3
    K_GELU_TANH = 4
    K_SOFTPLUS = 5
    K_LEAKY_R = 6       # backward from the result (leaky_relu_ / LeakyReluBackward1)
    K_ELU_R = 7         # backward from the result (elu_ / EluBackward1)

cdef tuple ACT_NAMES = ("silu", "leaky_relu", "elu", "GeluKernelImpl", "GeluKernelImpl", "softplus")

cdef struct ActParams:
    int kind
    double a
    double b

cdef double GELU_BETA = 0.7978845608028654      # M_SQRT2 * M_2_SQRTPI * 0.5
cdef double GELU_KAPPA = 0.044715

# act_rows.h: the contiguous float32 rows, a vectorised loop per kind (and
# AVX2/AVX-512 clones) computing act_fwd / act_bwd's float32 arithmetic
cdef extern from "act_rows.h" nogil:
    int cg_act_fwd_rows_f32(int kind, float a, float b, const float* x, float* o, Py_ssize_t n)
    int cg_act_bwd_rows_f32(int kind, float a, float b, const float* g, const float* x, float* o,
                            Py_ssize_t n)


cdef inline real_t act_fwd(real_t x, const ActParams* p) noexcept nogil:
    cdef real_t a = <real_t>p.a
    cdef real_t t
    if p.kind == K_SILU:
        return x / (<real_t>1 + c_exp(-x))
    if p.kind == K_LEAKY:
        return x if x > 0 else x * a
    if p.kind == K_ELU:
        return x if x > 0 else a * c_expm1(x)
    if p.kind == K_GELU:
        return x * <real_t>0.5 * (<real_t>1 + c_erf(x * <real_t>0.7071067811865476))
    if p.kind == K_GELU_TANH:
        t = <real_t>GELU_BETA * (x + <real_t>GELU_KAPPA * (x * x * x))
        return <real_t>0.5 * x * (<real_t>1 + c_tanh(t))
    # softplus
    t = x * a
    return x if t > <real_t>p.b else c_log1p(c_exp(t)) / a


cdef inline real_t act_bwd(real_t g, real_t x, const ActParams* p) noexcept nogil:
    # x: the input, or the result for the K_*_R kinds
    cdef real_t a = <real_t>p.a
    cdef real_t s, cdf, pdf, x2, inner, th, left, right
    if p.kind == K_SILU:
        s = <real_t>1 / (<real_t>1 + c_exp(-x))
        return g * s * (<real_t>1 + x * (<real_t>1 - s))
    if p.kind == K_LEAKY or p.kind == K_LEAKY_R:
        return g if x > 0 else g * a
    if p.kind == K_ELU:
        return g if x > 0 else g * a * c_exp(x)
    if p.kind == K_ELU_R:
        return g if x > 0 else g * (x + a)
    if p.kind == K_GELU:
        cdf = <real_t>0.5 * (<real_t>1 + c_erf(x * <real_t>0.7071067811865476))
        pdf = <real_t>0.3989422804014327 * c_exp(x * x * <real_t>-0.5)
        return g * (cdf + x * pdf)
    if p.kind == K_GELU_TANH:
        x2 = x * x
        inner = <real_t>GELU_BETA * (x + <real_t>GELU_KAPPA * (x2 * x))
        th = c_tanh(inner)
        left = <real_t>0.5 * x
        right = <real_t>1 + th
        return g * (<real_t>0.5 * right + left * (<real_t>1 - th * th) * (<real_t>GELU_BETA * (<real_t>1 + <real_t>3 * <real_t>GELU_KAPPA * x2)))
    # softplus
    s = c_exp(x * a)
    return g if x * a > <real_t>p.b else g * s / (s + <real_t>1)


cdef void act_fwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef float* o = <float*>p[0]
    cdef const float* x = <const float*>p[1]
    cdef const ActParams* prm = <const ActParams*>ctx
    cdef Py_ssize_t i
    if s[0] == 1 and s[1] == 1 and cg_act_fwd_rows_f32(prm.kind, <float>prm.a, <float>prm.b, x, o, n):
        return
    for i in range(n):
        o[i * s[0]] = act_fwd(x[i * s[1]], <const ActParams*>ctx)


cdef void act_fwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef double* o = <double*>p[0]
    cdef const double* x = <const double*>p[1]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = act_fwd(x[i * s[1]], <const ActParams*>ctx)


cdef void act_fwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    half_blocks(act_fwd_F32, 2, p, s, n, ctx, 3, 1)


cdef void act_fwd_BF16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    bf16_blocks(act_fwd_F32, 2, p, s, n, ctx, 3, 1)


cdef void act_bwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef float* o = <float*>p[0]
    cdef const float* g = <const float*>p[1]
    cdef const float* x = <const float*>p[2]
    cdef const ActParams* prm = <const ActParams*>ctx
    cdef Py_ssize_t i
    if (s[0] == 1 and s[1] == 1 and s[2] == 1
            and cg_act_bwd_rows_f32(prm.kind, <float>prm.a, <float>prm.b, g, x, o, n)):
        return
    for i in range(n):
        o[i * s[0]] = act_bwd(g[i * s[1]], x[i * s[2]], <const ActParams*>ctx)


cdef void act_bwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef double* o = <double*>p[0]
    cdef const double* g = <const double*>p[1]
    cdef const double* x = <const double*>p[2]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = act_bwd(g[i * s[1]], x[i * s[2]], <const ActParams*>ctx)


cdef void act_bwd_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    half_blocks(act_bwd_F32, 3, p, s, n, ctx, 7, 1)


cdef void act_bwd_BF16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    bf16_blocks(act_bwd_F32, 3, p, s, n, ctx, 7, 1)


cdef Tensor act_kernel(bint backward, Tensor a, Tensor b, ActParams* prm):
    """forward: act(a); backward: the fused gradient from g=a and x=b."""
    cdef Tensor out
    cdef Operand ops[3]
    cdef int dt = a._dtype
    if backward and b._dtype != dt:
        dt = b._dtype
    out = new_result_same_shape(a._ndim, a._shape, dt, a, b if backward else None)
    if a._dtype != dt:
        a = cast_tensor(a, dt)
    ops[0] = operand_of(out)
    ops[1] = operand_of(a)
    if backward:
        ops[2] = operand_of(b)
        run_elementwise(act_bwd_F32 if dt == F32 else (act_bwd_F64 if dt == F64 else
                        (act_bwd_F16 if dt == F16 else act_bwd_BF16)),
                        3, ops, out._ndim, out._shape, out._numel, prm)
    else:
        run_elementwise(act_fwd_F32 if dt == F32 else (act_fwd_F64 if dt == F64 else
                        (act_fwd_F16 if dt == F16 else act_fwd_BF16)),
                        2, ops, out._ndim, out._shape, out._numel, prm)
    return out


cdef Tensor act_formula(int kind, double a, double b, Tensor g, Tensor x):
    """The backward as differentiable ops (create_graph)."""
    cdef Tensor s, cdf, pdf, x2, th, left, right, inner
    if kind == K_SILU:
        s = op_sigmoid(x)
        return op_mul(op_mul(g, s), op_add_scalar(op_mul(x, op_rsub_scalar(s, 1)), 1))
    if kind == K_LEAKY or kind == K_LEAKY_R:
        return op_where(op_compare(CMP_GT, x, 0), g, op_mul_scalar(g, a))
    if kind == K_ELU:
        return op_where(op_compare(CMP_GT, x, 0), g, op_mul(op_mul_scalar(g, a), op_exp(x)))
    if kind == K_ELU_R:
        return op_where(op_compare(CMP_GT, x, 0), g, op_mul(g, op_add_scalar(x, a)))
    if kind == K_GELU:
        cdf = op_mul_scalar(op_add_scalar(op_erf(op_mul_scalar(x, 0.7071067811865476)), 1), 0.5)
        pdf = op_mul_scalar(op_exp(op_mul_scalar(op_mul(x, x), -0.5)), 0.3989422804014327)
        return op_mul(g, op_add(cdf, op_mul(x, pdf)))
    if kind == K_GELU_TANH:
        x2 = op_mul(x, x)
        inner = op_mul_scalar(op_add(x, op_mul_scalar(op_mul(x2, x), GELU_KAPPA)), GELU_BETA)
        th = op_tanh(inner)
        left = op_mul_scalar(x, 0.5)
        right = op_add_scalar(th, 1)
        return op_mul(g, op_add(op_mul_scalar(right, 0.5),
                                op_mul(op_mul(left, op_rsub_scalar(op_mul(th, th), 1)),
                                       op_mul_scalar(op_add_scalar(op_mul_scalar(x2, 3 * GELU_KAPPA), 1),
                                                     GELU_BETA))))
    # softplus
    s = op_mul_scalar(x, a)
    return op_where(op_compare(CMP_GT, s, b), g, op_mul(g, op_sigmoid(s)))


cdef class ActNode(Node):
    cdef readonly Tensor saved
    cdef long long saved_version
    cdef ActParams prm
    cdef bint from_result

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x
        if self.from_result:
            if self.prm.a < 0:
                msg = ("In-place {} backward calculation is triggered with a negative slope which is not "
                       "supported. This is caused by calling in-place forward function with a negative slope, "
                       "please call out-of-place version instead.")
                if self.prm.kind == K_LEAKY_R:
                    raise RuntimeError(msg.format("leakyReLu") + " File an issue at https://github.com/pytorch/"
                                       "pytorch if you do require supporting in-place leakRelu backward "
                                       "calculation with negative slope")
                raise RuntimeError(msg.format("elu"))
            x = unpack_output(self, self.saved, self.saved_version)
        else:
            x = unpack_input(self, self.saved, self.saved_version)
        if cgrad_grad_enabled:
            return (act_formula(self.prm.kind, self.prm.a, self.prm.b, g, x),)
        return (act_kernel(True, g, x, &self.prm),)

    cdef void release_saved(self) noexcept:
        self.saved = None


cdef class SiluBackward0(ActNode):
    pass


cdef class LeakyReluBackward0(ActNode):
    pass


cdef class LeakyReluBackward1(ActNode):
    pass


cdef class EluBackward0(ActNode):
    pass


cdef class EluBackward1(ActNode):
    pass


cdef class GeluBackward0(ActNode):
    pass


cdef class SoftplusBackward0(ActNode):
    pass


cdef ActNode act_node(int kind, bint inplace):
    if kind == K_SILU:
        return SiluBackward0.__new__(SiluBackward0)
    if kind == K_LEAKY:
        return (LeakyReluBackward1.__new__(LeakyReluBackward1) if inplace
                else LeakyReluBackward0.__new__(LeakyReluBackward0))
    if kind == K_ELU:
        return EluBackward1.__new__(EluBackward1) if inplace else EluBackward0.__new__(EluBackward0)
    if kind == K_GELU or kind == K_GELU_TANH:
        return GeluBackward0.__new__(GeluBackward0)
    return SoftplusBackward0.__new__(SoftplusBackward0)


cdef Tensor op_activation(Tensor x, int kind, double a, double b):
    cdef ActParams prm
    cdef Tensor out
    cdef ActNode node
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"{ACT_NAMES[kind]}_cpu\" not implemented for '{dtype_title(x._dtype)}'"
                                  if kind != K_GELU and kind != K_GELU_TANH else
                                  f"\"GeluKernelImpl\" not implemented for '{dtype_title(x._dtype)}'")
    prm.kind = kind
    prm.a = a
    prm.b = b
    out = act_kernel(False, x, None, &prm)
    if needs_grad(x):
        node = act_node(kind, False)
        wire1(node, x)
        node.prm = prm
        node.saved = x
        node.saved_version = save_version(node, x)
        node.from_result = False
        set_history(out, node)
    return out


cdef Tensor op_activation_(Tensor x, int kind, double a, double b):
    """In place: silu_ keeps the old input; leaky_relu_ and elu_ differentiate
    from the result (LeakyReluBackward1, EluBackward1), as PyTorch."""
    cdef ActParams prm
    cdef Tensor r
    cdef ActNode node
    check_inplace(x)
    if not is_float(x._dtype):
        op_activation(x, kind, a, b)          # raises the dtype error
    if (cgrad_grad_enabled and x._requires_grad) or has_tangent(x):
        if (kind == K_LEAKY or kind == K_ELU) and not cgrad_fwd_active:
            r = op_activation(alias_detached(old_value(x, False)), kind, a, b)
            node = act_node(kind, True)
            wire1(node, old_value(x, False))
            node.prm.kind = K_LEAKY_R if kind == K_LEAKY else K_ELU_R
            node.prm.a = a
            node.prm.b = b
            node.from_result = True
            set_history(r, node)
            commit_inplace(x, r)
            node.saved = save_output(node, x)
            node.saved_version = x._storage.version
            return x
        return commit_inplace(x, op_activation(old_value(x, True), kind, a, b))
    prm.kind = kind
    prm.a = a
    prm.b = b
    r = act_kernel(False, alias_detached(x), None, &prm)
    copy_into(x, r)
    x._storage.version += 1
    return x


def _activation(input, int kind, double a=0, double b=0, bint inplace=False):
    """nn.functional's silu (0), leaky_relu (1), elu (2), gelu (3; 4: tanh
    approximation), softplus (5): a is the slope, alpha or beta, b softplus's
    threshold."""
    cdef Tensor x = input_arg(input, ("silu", "leaky_relu", "elu", "gelu", "gelu", "softplus")[kind])
    if inplace:
        return op_activation_(x, kind, a, b)
    return op_activation(x, kind, a, b)
