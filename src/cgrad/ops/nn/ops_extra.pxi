# Norms (linalg.vector_norm, norm), lerp, diag, smooth_l1_loss,
# binary_cross_entropy_with_logits and addmm, each beside its node.


# The 16-bit types where PyTorch computes in float32 and rounds once.

cdef inline Tensor float32_if_half(Tensor t):
    """A float16 / bfloat16 tensor as float32 (exact), others as they are:
    for the kernels PyTorch runs in float32 for the 16-bit types, rounding
    once at the end (rounded_to)."""
    if t._dtype == F16 or t._dtype == BF16:
        return cast_tensor(t, F32)
    return t


cdef inline Tensor rounded_to(Tensor t, int dt):
    """t (computed in float32 for a 16-bit dt) rounded once to dt."""
    if t._dtype != dt:
        return cast_tensor(t, dt)
    return t


# ---------------------------------------------------------------------------
# linalg.vector_norm / norm (LinalgVectorNormBackward0): the value from the
# reduction kernels on a detached input, PyTorch's norm_backward as
# differentiable ops.


cdef class LinalgVectorNormBackward0(Node):
    cdef readonly Tensor self_, result
    cdef long long self_version
    cdef double ord
    cdef tuple dims
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor r = unpack_output(self, self.result, 0)
        cdef Tensor mask, zeros, scaled
        cdef double p = self.ord
        if not self.keepdim:
            g = unsqueeze_dims(g, self.dims)
            r = unsqueeze_dims(r, self.dims)
        if p == 0:
            return (None,)          # PyTorch's undefined gradient
        if p == 1:
            return (op_mul(op_sign(x), g),)
        if p == cmath.INFINITY or p == -cmath.INFINITY:
            mask = cast_tensor(op_compare(CMP_EQ, op_abs(x), r), x._dtype)
            return (op_mul(op_sign(x), op_mul(op_div(g, op_sum(mask, self.dims, True)), mask)),)
        zeros = op_zeros_like(r)
        if p == 2:
            scaled = op_where(op_compare(CMP_EQ, r, 0), zeros, op_div(g, r))
            return (op_mul(x, scaled),)
        scaled = op_where(op_compare(CMP_EQ, r, 0), zeros, op_div(g, op_pow_scalar(r, p - 1)))
        return (op_mul(op_mul(x, op_pow_scalar(op_abs(x), p - 2)), scaled),)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef int no_identity_norm_check(Tensor x, double p, object dim, bint* mask, str fname) except -1:
    """PyTorch's error for a norm without an identity (inf, or a negative
    ord) over an empty reduction: of the whole tensor, or of an empty dim
    among those reduced (a non-empty reduced dim gives an empty result)."""
    cdef int d
    cdef str shown = ("inf" if p > 0 else "-inf") if cmath.isinf(p) else (
        str(int(p)) if p == <long long>p else repr(p))
    if dim is None:
        raise RuntimeError(f"{fname} cannot compute the {shown} norm on an empty tensor because the operation "
                           "does not have an identity")
    for d in range(x._ndim):
        if mask[d] and x._shape[d] == 0:
            raise RuntimeError(f"{fname} cannot compute the {shown} norm on the dimension {d}because this dimension "
                               "is empty and the operation does not have an identity")
    return 0


cdef Tensor vector_norm_dtype(Tensor t, object dtype, str fname):
    """dtype= of a vector norm, as PyTorch checks it: a floating input,
    converted to dtype only when that does not narrow it."""
    cdef int dt
    if dtype is None:
        return t
    dt = dtype_code(dtype)
    if not is_float(t._dtype):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{dtype_title(t._dtype)}")
    if promote_types(t._dtype, dt) != dt:
        raise RuntimeError(f"{fname}: the dtype of the input ({dtype_title(t._dtype)}) should be convertible "
                           f"without narrowing to the specified dtype ({dtype_title(dt)})")
    return op_to_dtype(t, dt)


cdef Tensor op_vector_norm(Tensor x, double p, object dim, bint keepdim, str fname):
    cdef bint mask[MAX_DIMS]
    cdef Tensor xd, a, out
    cdef LinalgVectorNormBackward0 node
    if not is_float(x._dtype):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {dtype_title(x._dtype)}")
    parse_dims(dim, x._ndim, mask)
    if (p < 0 or p == cmath.INFINITY) and x._numel == 0:
        no_identity_norm_check(x, p, dim, mask, fname)
    # PyTorch's norm kernels compute in float32 for the half types and
    # round once, at the end (squares rounded to bfloat16 move the result)
    xd = float32_if_half(alias_detached(x))
    a = op_abs(xd)
    if p == 2:
        out = op_sqrt(op_sum(op_mul(xd, xd), dim, keepdim))
    elif p == 1:
        out = op_sum(a, dim, keepdim)
    elif p == cmath.INFINITY or p == -cmath.INFINITY:
        out = op_amax(a, masked_dims(mask, x._ndim) if dim is not None else None, keepdim, p > 0)
    elif p == 0:
        out = cast_tensor(op_sum(op_compare(CMP_NE, xd, 0), dim, keepdim), x._dtype)
    else:
        out = op_pow_scalar(op_sum(op_pow_scalar(a, p), dim, keepdim), 1.0 / p)
    if out._dtype != x._dtype:
        out = cast_tensor(out, x._dtype)
    if needs_grad(x):
        node = LinalgVectorNormBackward0.__new__(LinalgVectorNormBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.result = save_output(node, out)
        node.ord = p
        node.dims = masked_dims(mask, x._ndim)
        node.keepdim = keepdim
        set_history(out, node)
    return out


cdef double norm_ord(object p, str fname) except? -1:
    if p is None or p == "fro":
        return 2.0
    if isinstance(p, str):
        raise RuntimeError(f"{fname}: ord must be a number, not the string {p!r}")
    return float(p)


def _vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.vector_norm (exported to cgrad.linalg)."""
    cdef Tensor t = input_arg(x, "linalg_vector_norm")
    if ord is None or isinstance(ord, str):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not {py_typename(ord)}")
    t = vector_norm_dtype(t, dtype, "linalg.vector_norm")
    return op_vector_norm(t, norm_ord(ord, "linalg.vector_norm"), dim, keepdim, "linalg.vector_norm")


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm, routed as PyTorch routes it: a vector norm for a number
    p, and for 'fro' over at most two dims; otherwise ('nuc', or 'fro' over
    more dims) linalg.matrix_norm, over all dims when dim is None."""
    cdef Tensor t = input_arg(input, "norm")
    if isinstance(p, str) and not (p == "fro" and (dim is None or is_int_arg(dim) or len(dim) <= 2)):
        from cgrad import linalg
        dims = list(range(t._ndim)) if dim is None else dim
        return with_out(linalg.matrix_norm(t, p, dims, keepdim, dtype=dtype), out, "norm")
    t = vector_norm_dtype(t, dtype, "linalg.vector_norm")
    res = op_vector_norm(t, norm_ord(p, "norm"), dim, keepdim, "linalg.vector_norm")
    check_strict_out(res, out, "resize")
    return with_out(res, out, "norm")


# ---------------------------------------------------------------------------
# lerp(start, end, weight) = start + weight * (end - start). LerpBackward0
# (a number weight): g * (1 - w), g * w; LerpBackward1 (a tensor weight)
# adds g * (end - start) for the weight. Composed of the pointwise ops for
# the value, PyTorch's nodes for the graph.

cdef class LerpBackward0(BinaryNode):
    cdef object weight

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = self.grad_a(op_mul_scalar(g, 1 - self.weight))
        if wants_grad(self, 1):
            gb = self.grad_b(op_mul_scalar(g, self.weight))
        return (ga, gb)


cdef class LerpBackward1(Node):
    cdef readonly Tensor self_, end, weight
    cdef long long v0, v1, v2
    cdef tuple s0, s1, s2

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor a = unpack_input(self, self.self_, self.v0)
        cdef Tensor b = unpack_input(self, self.end, self.v1)
        cdef Tensor w = unpack_input(self, self.weight, self.v2)
        cdef object ga = None, gb = None, gw = None
        if wants_grad(self, 0):
            ga = op_sum_to(op_mul(g, op_rsub_scalar(w, 1)), self.s0)
        if wants_grad(self, 1):
            gb = op_sum_to(op_mul(g, w), self.s1)
        if wants_grad(self, 2):
            gw = op_sum_to(op_mul(g, op_sub(b, a)), self.s2)
        return (ga, gb, gw)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.end = None
        self.weight = None


cdef Tensor op_lerp(Tensor a, Tensor b, object weight):
    cdef Tensor out, w = None
    cdef LerpBackward0 n0
    cdef LerpBackward1 n1
    if b._dtype != a._dtype:
        raise RuntimeError(f"expected dtype {dtype_name_short(a._dtype)} for `end` but got dtype "
                           f"{dtype_name_short(b._dtype)}")
    if isinstance(weight, Tensor):
        w = <Tensor>weight
        if w._ndim == 0 and w._dtype != a._dtype and is_float(a._dtype):
            # PyTorch takes a 0-dim weight of any dtype at input's (its gradient comes back in its own)
            w = op_to_dtype(w, a._dtype)
        if w._dtype != a._dtype:
            raise RuntimeError(f"expected dtype {dtype_name_short(a._dtype)} for `weight` but got dtype "
                               f"{dtype_name_short(w._dtype)}")
    if not is_float(a._dtype):
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for '{dtype_title(a._dtype)}'"
                                  if w is None else
                                  f"\"lerp_kernel_tensor\" not implemented for '{dtype_title(a._dtype)}'")
    if w is None:
        out = fused_values(FUSED_LERP, a._dtype, a, b, None, weight, None)
    else:
        out = fused_values(FUSED_LERP_TENSOR, a._dtype, a, b, w, 0.0, None)
    if w is None:
        if needs_grad2(a, b):
            n0 = LerpBackward0.__new__(LerpBackward0)
            wire2(n0, a, b)
            n0.note_inputs(a, b, out)
            n0.weight = weight
            set_history(out, n0)
        return out
    if (cgrad_grad_enabled and (a._requires_grad or b._requires_grad or w._requires_grad)
            or has_tangent(a) or has_tangent(b) or has_tangent(w)):
        n1 = LerpBackward1.__new__(LerpBackward1)
        wire_many(n1, [a, b, w], 1)
        n1.self_ = a
        n1.v0 = save_version(n1, a)
        n1.end = b
        n1.v1 = save_version(n1, b)
        n1.weight = w
        n1.v2 = save_version(n1, w)
        n1.s0 = shape_tuple(a)
        n1.s1 = shape_tuple(b)
        n1.s2 = shape_tuple(w)
        set_history(out, n1)
    return out


def _addc_route(Tensor input not None, Tensor tensor1 not None, Tensor tensor2 not None):
    """How addcmul / addcdiv run (cgrad/_ops_composites.py): 0 the fused
    value alone, 1 through the node (a gradient is recorded), 2 through the
    node with tangents (forward mode)."""
    if has_tangent(input) or has_tangent(tensor1) or has_tangent(tensor2):
        return 2
    if needs_grad(input) or needs_grad(tensor1) or needs_grad(tensor2):
        return 1
    return 0


def _addc_values(Tensor input not None, Tensor tensor1 not None, Tensor tensor2 not None, value,
                 bint divide):
    """addcmul's (addcdiv's when `divide`) value as PyTorch's kernel
    computes it (fma_rows.h), in the operands' promoted floating dtype; no
    history. None for the other dtypes (integer arithmetic, exact in the
    composite's order too)."""
    cdef int dt = result_type3(input, tensor1, tensor2)
    if not has_fused_rows(dt):
        return None
    return fused_values(FUSED_ADDCDIV if divide else FUSED_ADDCMUL, dt, input, tensor1, tensor2,
                        normalize_scalar(value), None)


cdef str dtype_name_short(int dt):
    return ("float" if dt == F32 else "double" if dt == F64 else "c10::Half" if dt == F16 else "c10::BFloat16" if dt == BF16
            else dtype_title(dt).lower())


def lerp(input, end, weight, *, out=None):
    cdef Tensor a = input_arg(input, "lerp")
    return with_out(op_lerp(a, need_tensor(end, "lerp", "end", 2),
                            weight if isinstance(weight, Tensor) else normalize_scalar(weight)), out, "lerp")


# ---------------------------------------------------------------------------
# diag: a 1-D input placed on the k-th diagonal of a square matrix
# (DiagEmbedBackward0), or the k-th diagonal of a matrix
# (DiagonalBackward0_copy); each one's gradient is the other op.

cdef Py_ssize_t diag_len(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k) noexcept:
    cdef Py_ssize_t r = (m if m < n - k else n - k) if k >= 0 else (m + k if m + k < n else n)
    return r if r > 0 else 0


cdef class DiagEmbedBackward0(Node):
    cdef Py_ssize_t offset

    cdef tuple apply(self, object grads):
        return (op_diag_extract(<Tensor>grads, self.offset),)


cdef class DiagonalBackward0_copy(Node):
    cdef Py_ssize_t offset, m, n

    cdef tuple apply(self, object grads):
        return (op_diag_place(<Tensor>grads, self.m, self.n, self.offset),)


cdef Tensor op_diag_extract(Tensor x, Py_ssize_t k):
    """The k-th diagonal of the matrix x, as a new 1-D tensor."""
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]
    cdef Py_ssize_t m = x._shape[0], n = x._shape[1]
    cdef Tensor out
    cdef DiagonalBackward0_copy node
    shape[0] = diag_len(m, n, k)
    strides[0] = x._strides[0] + x._strides[1]
    out = contiguous_copy(make_view(alias_detached(x), 1, shape, strides,
                                    x._offset + (k * x._strides[1] if k >= 0 else -k * x._strides[0])
                                    if shape[0] > 0 else x._offset))
    if needs_grad(x):
        node = DiagonalBackward0_copy.__new__(DiagonalBackward0_copy)
        wire1(node, x)
        node.offset = k
        node.m = m
        node.n = n
        set_history(out, node)
    return out


cdef Tensor op_diag_place(Tensor v, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k):
    """A zero m x n matrix with v on its k-th diagonal."""
    cdef Py_ssize_t shape[2]
    cdef Py_ssize_t dshape[1]
    cdef Py_ssize_t dstrides[1]
    cdef Tensor out
    cdef DiagEmbedBackward0 node
    shape[0] = m
    shape[1] = n
    out = new_tensor(2, shape, v._dtype, True)
    dshape[0] = v._shape[0]
    dstrides[0] = n + 1
    if v._shape[0] > 0:
        copy_into(make_view(out, 1, dshape, dstrides, k if k >= 0 else -k * n), alias_detached(v))
    if needs_grad(v):
        node = DiagEmbedBackward0.__new__(DiagEmbedBackward0)
        wire1(node, v)
        node.offset = k
        set_history(out, node)
    return out


cdef Tensor op_diag(Tensor x, Py_ssize_t k):
    cdef Py_ssize_t size
    if x._ndim == 1:
        size = x._shape[0] + (k if k >= 0 else -k)
        return op_diag_place(x, size, size, k)
    if x._ndim == 2:
        return op_diag_extract(x, k)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x._ndim}D")


def diag(input, diagonal=0, *, out=None):
    return with_out(op_diag(input_arg(input, "diag"), as_index(diagonal, "diagonal")), out, "diag")


# ---------------------------------------------------------------------------
# smooth_l1_loss (SmoothL1LossBackward0): 0.5 d^2 / beta where |d| < beta,
# else |d| - 0.5 beta (d = input - target), reduced; the gradient is
# norm * clamp(d / beta, -1, 1) * g. Same-shape inputs (F.smooth_l1_loss
# broadcasts first); beta > 0 (beta == 0 is l1_loss there).

cdef class SmoothL1LossBackward0(Node):
    cdef readonly Tensor self_, target
    cdef long long self_version, target_version
    cdef int reduction
    cdef double beta

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor t = unpack_input(self, self.target, self.target_version)
        cdef int dt = tensor_result_type(x, t)
        # a bool side is 0/1 in the common dtype, as in the forward
        cdef Tensor d = op_sub(x if x._dtype != BOOL else cast_tensor(x, dt),
                               t if t._dtype != BOOL else cast_tensor(t, dt))
        cdef Tensor ones = new_tensor(d._ndim, d._shape, d._dtype)
        cdef Tensor c
        cdef double norm = 1.0 / x._numel if self.reduction == NN_RED_MEAN else 1.0
        cdef object gx = None, gt = None
        fill_scalar(ones, 1)
        c = op_where(op_compare(CMP_GT, d, self.beta), ones,
                     op_where(op_compare(CMP_LT, d, -self.beta), op_neg(ones), op_div_scalar(d, self.beta)))
        c = op_mul(op_mul_scalar(c, norm), g)
        if wants_grad(self, 0):
            gx = op_to_dtype(c, x._dtype) if c._dtype != x._dtype else c
        if wants_grad(self, 1):
            c = op_neg(c)
            gt = op_to_dtype(c, t._dtype) if c._dtype != t._dtype else c
        return (gx, gt)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.target = None


cdef Tensor op_smooth_l1_loss(Tensor x, Tensor t, int reduction, double beta):
    cdef int dt = tensor_result_type(x, t)
    cdef Tensor d, ad, out
    cdef SmoothL1LossBackward0 node
    if not is_float(dt):
        raise NotImplementedError(f"\"smooth_l1_cpu\" not implemented for '{dtype_title(dt)}'")
    # PyTorch's kernel subtracts in the common dtype: a bool side is 0/1 there
    d = op_sub(alias_detached(x) if x._dtype != BOOL else cast_tensor(alias_detached(x), dt),
               alias_detached(t) if t._dtype != BOOL else cast_tensor(alias_detached(t), dt))
    ad = op_abs(d)
    out = op_where(op_compare(CMP_LT, ad, beta), op_div_scalar(op_mul(op_mul_scalar(d, 0.5), d), beta),
                   op_sub_scalar(ad, 0.5 * beta))
    if reduction == NN_RED_MEAN:
        out = op_mean(out)
    elif reduction == NN_RED_SUM:
        out = op_sum(out)
    if needs_grad2(x, t):
        node = SmoothL1LossBackward0.__new__(SmoothL1LossBackward0)
        wire2(node, x, t)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.target = t
        node.target_version = save_version(node, t)
        node.reduction = reduction
        node.beta = beta
        set_history(out, node)
    return out


def _smooth_l1_loss(input, target, reduction=1, double beta=1.0):
    """smooth_l1_loss of same-shape tensors, the reduction as PyTorch's enum."""
    cdef Tensor x = nn_tensor_arg(input, "smooth_l1_loss", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "smooth_l1_loss", "target", 2)
    return op_smooth_l1_loss(x, t, nn_reduction_arg(reduction), beta)


# ---------------------------------------------------------------------------
# binary_cross_entropy_with_logits (BinaryCrossEntropyWithLogitsBackward0):
# (1 - t) x + lw softplus(-x), lw = (pos_weight - 1) t + 1 (1 without
# pos_weight), times weight, reduced. Gradients (PyTorch's forms):
# input: ((pos_weight t + 1 - t) sigmoid(x) - pos_weight t) or sigmoid(x) - t;
# target: -x + (pos_weight - 1) softplus(-x) or -x; times weight, g, 1/n.

cdef Tensor softplus_neg(Tensor x):
    """log(1 + exp(-x)), stably: log1p(exp(-|x|)) + max(-x, 0)."""
    return op_add(op_log1p(op_exp(op_neg(op_abs(x)))), op_relu(op_neg(x)))


cdef class BinaryCrossEntropyWithLogitsBackward0(Node):
    cdef readonly Tensor self_, target, weight, pos_weight
    cdef long long self_version, target_version
    cdef int reduction

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor t = unpack_input(self, self.target, self.target_version)
        cdef Tensor scale = g, d, pt
        cdef object gx = None, gt = None
        if self.reduction == NN_RED_MEAN:
            scale = op_div_scalar(g, x._numel)
        if self.weight is not None:
            scale = op_mul(scale, self.weight)
        if wants_grad(self, 0):
            if self.pos_weight is None:
                d = op_sub(op_sigmoid(x), t)
            else:
                pt = op_mul(self.pos_weight, t)
                d = op_sub(op_mul(op_sub(op_add_scalar(pt, 1), t), op_sigmoid(x)), pt)
            d = op_mul(d, scale)
            gx = op_to_dtype(d, x._dtype) if d._dtype != x._dtype else d
        if wants_grad(self, 1):
            d = op_neg(x)
            if self.pos_weight is not None:
                d = op_add(d, op_mul(op_sub_scalar(self.pos_weight, 1), softplus_neg(x)))
            d = op_mul(d, scale)
            gt = op_to_dtype(d, t._dtype) if d._dtype != t._dtype else d
        return (gx, gt)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.target = None
        self.weight = None
        self.pos_weight = None


cdef Tensor op_bce_with_logits(Tensor x, Tensor t, Tensor weight, Tensor pos_weight, int reduction):
    cdef int dt = tensor_result_type(x, t)
    cdef Tensor xd, td, loss
    cdef BinaryCrossEntropyWithLogitsBackward0 node
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None and (<Tensor>w)._requires_grad and cgrad_grad_enabled:
            raise RuntimeError(f"The function 'binary_cross_entropy_with_logits' is not differentiable with "
                               f"respect to argument '{name}'. This input cannot have requires_grad True.")
    if not is_float(t._dtype) and is_float(dt):
        raise RuntimeError(f"result type {dtype_title(dt)} can't be cast to the desired output type "
                           f"{dtype_title(t._dtype)}")
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{dtype_title(x._dtype)}'")
    xd = alias_detached(x)
    td = alias_detached(t)
    if pos_weight is None:
        loss = op_add(op_mul(op_rsub_scalar(td, 1), xd), softplus_neg(xd))
    else:
        loss = op_add(op_mul(op_rsub_scalar(td, 1), xd),
                      op_mul(op_add_scalar(op_mul(op_sub_scalar(pos_weight, 1), td), 1), softplus_neg(xd)))
    if weight is not None:
        loss = op_mul(loss, weight)
    if reduction == NN_RED_MEAN:
        loss = op_mean(loss)
    elif reduction == NN_RED_SUM:
        loss = op_sum(loss)
    if needs_grad2(x, t):
        node = BinaryCrossEntropyWithLogitsBackward0.__new__(BinaryCrossEntropyWithLogitsBackward0)
        wire2(node, x, t)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.target = t
        node.target_version = save_version(node, t)
        node.weight = None if weight is None else alias_detached(weight)
        node.pos_weight = None if pos_weight is None else alias_detached(pos_weight)
        node.reduction = reduction
        set_history(loss, node)
    return loss


def _binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    """binary_cross_entropy_with_logits, the reduction as PyTorch's enum."""
    cdef Tensor x = nn_tensor_arg(input, "binary_cross_entropy_with_logits", "input", 1)
    cdef Tensor t = nn_tensor_arg(target, "binary_cross_entropy_with_logits", "target", 2)
    return op_bce_with_logits(x, t, weight, pos_weight, nn_reduction_arg(reduction))


# ---------------------------------------------------------------------------
# addmm(input, mat1, mat2, *, beta=1, alpha=1) = beta input + alpha mat1 @ mat2
# (AddmmBackward0; beta == 0 ignores input, as PyTorch).

cdef Tensor addmm_scaled_values(Tensor bias, Tensor m1, Tensor m2, object beta, object alpha):
    """beta bias + alpha m1 @ m2, without history. For float16 and bfloat16
    PyTorch's CPU gemm accumulates, scales and adds in float32 and rounds
    once at the end, so these do too (rounding alpha m1 @ m2 and beta bias
    each on their own differs in the last bit)."""
    cdef int dt = m2._dtype
    cdef Tensor prod, out
    bias, m1, m2 = float32_if_half(bias), float32_if_half(m1), float32_if_half(m2)
    prod = op_mm(m1, m2)
    out = op_mul_scalar(prod, alpha)
    if beta != 0:
        out = op_add(op_mul_scalar(op_expand(bias, (prod._shape[0], prod._shape[1])), beta), out)
    return rounded_to(out, dt)


cdef Tensor op_addmm_ab(Tensor bias, Tensor m1, Tensor m2, object beta, object alpha):
    cdef Tensor out
    cdef AddmmBackward0 node
    if beta == 1 and alpha == 1:
        return op_addmm(bias, m1, m2)
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
    out = addmm_scaled_values(alias_detached(bias), alias_detached(m1), alias_detached(m2), beta, alpha)
    if (cgrad_grad_enabled and (bias._requires_grad or m1._requires_grad or m2._requires_grad)
            or has_tangent(bias) or has_tangent(m1) or has_tangent(m2)):
        node = AddmmBackward0.__new__(AddmmBackward0)
        wire_many(node, [bias, m1, m2], 1)
        if m2._requires_grad or has_tangent(m2):
            node.mat1 = m1
            node.mat1_version = save_version(node, m1)
        if m1._requires_grad or has_tangent(m1):
            node.mat2 = m2
            node.mat2_version = save_version(node, m2)
        node.self_sizes = shape_tuple(bias)
        node.alpha = alpha
        node.beta = beta
        set_history(out, node)
    return out

