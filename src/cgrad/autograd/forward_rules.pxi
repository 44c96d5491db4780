# Explicit forward-mode (JVP) formulas of the hand-written ops, PyTorch's
# derivatives.yaml `result:` entries.
#
# forward_ad.pxi asks a node for the tangent of its output. Table rows answer
# from their JVP column, views with views of the input's tangent; every other
# node used to fall back to the transpose of its VJP (one extra backward
# pass through a throwaway graph). The rules here compute the tangent
# directly, reading the node's saved parameters (dims, alpha, spec, ...),
# which only Cython code of this module can see; hence this file rather than
# Python rules.
#
# A rule is rule(node, inputs, tangents, out, nr): inputs as the node was
# wired (an in-place op wires its input's value from before the write),
# tangents None where an input has none. It returns the tangent, or
# NotImplemented to decline a form of its op (the name-keyed Python rules
# and then the transpose serve that form). Rules run with forward AD off and
# grad mode as the caller had it, so a tangent stays differentiable
# (reverse-over-forward). Two families:
#
#   element-wise   PyTorch's auto_element_wise: a pointwise unary op's
#                  Jacobian is diagonal (softmax's is symmetric), so J t is
#                  the node's own backward applied to t;
#   explicit       one formula per op (add, addmm, sum, cat, nll_loss, ...).


cdef inline object tangent_or_zero(object t):
    """An absent tangent in a formula that mixes several: PyTorch's zero."""
    return 0.0 if t is None else t


cdef object plus_terms(object a, object b):
    if a is None:
        return b
    if b is None:
        return a
    return op_add(<Tensor>a, <Tensor>b)


cdef Tensor times(object t, object scalar):
    """t * scalar, skipping the multiply when scalar is absent or 1."""
    if scalar is None or scalar == 1:
        return <Tensor>t
    return op_mul_scalar(<Tensor>t, scalar)


cdef Tensor in_dtype_of(Tensor tan, Tensor out):
    return tan if tan._dtype == out._dtype or not is_float(out._dtype) else op_to_dtype(tan, out._dtype)


cdef Tensor keepdim_of(Tensor y, tuple dims, bint keepdim, int ndim):
    """A reduction's result with its reduced dims restored (size 1)."""
    if keepdim or ndim == 0 or y._ndim == ndim:
        return y
    return unsqueeze_dims(y, dims)


# ---------------------------------------------------------------------------
# element-wise: J t = J^T t

def _jvp_elementwise(Node n, tuple inputs, tuple t, Tensor out, int nr):
    if t[0] is None or (len(t) > 1 and t[1] is not None):
        return NotImplemented
    return (<tuple>n.apply(t[0]))[0]


cdef bint formula_differentiable(tuple tensors) except -1:
    """PyTorch evaluates every term of a product rule, an absent tangent
    being a zero tensor (ZeroTensor), so its tangent is differentiable - an
    AddBackward0 carrying the primals' history - as soon as any primal or
    tangent of the formula requires grad. The product rules do the same
    with absent_term."""
    if not cgrad_grad_enabled:
        return False
    for x in tensors:
        if x is not None and (<Tensor>x).requires_grad:
            return True
    return False


cdef Tensor absent_term(Tensor primal, int dtype):
    """A product-rule term whose tangent is absent: a 0-dim -0.0 (adding it
    changes no value, -0.0 included), carrying primal's history when primal
    requires grad, as PyTorch's ZeroTensor times primal does: zero whatever
    primal holds (inf, nan) and a zero gradient for it."""
    cdef Tensor never, zero
    if primal is None or not primal.requires_grad:
        zero = new_tensor(0, NULL, dtype, True)
    else:
        never = new_tensor(0, NULL, BOOL, True)
        zero = op_sum(op_where(never, primal, 0), None, False, None)
    return op_neg(zero)


def _fw_absent_term(primal, Tensor term):
    """absent_term for the Python rules (cgrad/autograd/_jvp_rules.py), in
    the dtype of the term it is added to."""
    return absent_term(primal, term._dtype)


def _jvp_mul(MulBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    if n.other is None and n.other_scalar is not None:      # mul(x, number)
        if formula_differentiable((inputs[0], t[0])):
            # other_t * self_p + self_t * other_p, the number's tangent absent
            return op_add(absent_term(<Tensor>inputs[0], (<Tensor>t[0])._dtype),
                          op_mul_scalar(<Tensor>t[0], n.other_scalar))
        return op_mul_scalar(<Tensor>t[0], n.other_scalar)
    return NotImplemented


def _jvp_div(DivBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    if type(n) is DivBackward0 and n.other is None and n.other_scalar is not None:     # div(x, number)
        if formula_differentiable((inputs[0], t[0])):
            # (self_t - other_t * result) / other_p, the number's tangent absent
            return op_div_scalar(op_add(<Tensor>t[0], absent_term(<Tensor>inputs[0], (<Tensor>t[0])._dtype)),
                                 n.other_scalar)
        return op_div_scalar(<Tensor>t[0], n.other_scalar)
    return NotImplemented


# ---------------------------------------------------------------------------
# arithmetic

def _jvp_add(AddBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # self_t + maybe_multiply(other_t, alpha)
    return plus_terms(t[0], None if t[1] is None else times(t[1], n.alpha))


def _jvp_sub(SubBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # self_t - maybe_multiply(other_t, alpha)
    if t[1] is None:
        return t[0]
    b = times(t[1], n.alpha)
    return op_neg(b) if t[0] is None else op_sub(<Tensor>t[0], b)


def _jvp_pow_tensor(PowBackward1 n, tuple inputs, tuple t, Tensor out, int nr):
    # pow_backward_self(self_t, self, exponent) + pow_backward_exponent(exponent_t, self, exponent, result)
    cdef Tensor a = <Tensor>inputs[0], b = <Tensor>inputs[1], term
    cdef object total = None
    if t[0] is not None:
        term = op_mul(<Tensor>t[0], op_mul(b, op_pow(a, op_sub_scalar(b, 1))))
        total = op_where(op_compare(CMP_EQ, b, 0), op_zeros_like(term), term)
    if t[1] is not None:
        term = op_mul(<Tensor>t[1], op_mul(out, op_log(a)))
        term = op_where(op_logical_and(op_compare(CMP_EQ, a, 0), op_compare(CMP_GE, b, 0)),
                        op_zeros_like(term), term)
        total = plus_terms(total, term)
    return total


def _jvp_maximum(MaxMinNode n, tuple inputs, tuple t, Tensor out, int nr):
    # other_t + (self > other or isnan(self)) * (self_t - other_t); minimum with <
    cdef Tensor a = <Tensor>inputs[0], b = <Tensor>inputs[1]
    cdef Tensor wins = op_compare(CMP_GT if type(n) is MaximumBackward0 else CMP_LT, a, b)
    wins = op_logical_or(wins, isnan_mask(a))
    return op_where(wins, tangent_or_zero(t[0]), tangent_or_zero(t[1]))


def _jvp_where(WhereBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_where(n.condition, tangent_or_zero(t[0]), tangent_or_zero(t[1]))


def _jvp_clamp_tensor(ClampTensorNode n, tuple inputs, tuple t, Tensor out, int nr):
    # PyTorch's clamp_jvp
    cdef Tensor x = n.self_, lo = n.min_, hi = n.max_
    cdef object tx = tangent_or_zero(t[0]), tlo = 0.0, thi = 0.0
    if type(n) is ClampBackward0:
        tlo = tangent_or_zero(t[1])
        thi = tangent_or_zero(t[2])
    elif type(n) is ClampMinBackward1:
        tlo = tangent_or_zero(t[1])
    else:
        thi = tangent_or_zero(t[1])
    if lo is not None and hi is not None:
        return op_where(op_compare(CMP_GT, lo, hi), thi,
                        op_where(op_compare(CMP_LT, x, lo), tlo, op_where(op_compare(CMP_GT, x, hi), thi, tx)))
    if lo is not None:
        return op_where(op_compare(CMP_GT, x, lo), tx, tlo)
    return op_where(op_compare(CMP_LT, x, hi), tx, thi)


cdef Tensor lerp_of_tangents(tuple inputs, tuple t, object weight):
    """lerp(self_t, end_t, weight) as PyTorch's formula: the lerp kernel
    itself (one rounding, fma_rows.h), a missing tangent as zeros."""
    cdef Tensor st = <Tensor>t[0] if t[0] is not None else op_zeros_like(<Tensor>inputs[0])
    cdef Tensor et = <Tensor>t[1] if t[1] is not None else op_zeros_like(<Tensor>inputs[1])
    return op_lerp(st, et, weight)


def _jvp_lerp_scalar(LerpBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # lerp(self_t, end_t, weight)
    if t[0] is None and t[1] is None:
        return None
    return lerp_of_tangents(inputs, t, n.weight)


def _jvp_lerp_tensor(LerpBackward1 n, tuple inputs, tuple t, Tensor out, int nr):
    # lerp(self_t, end_t, weight) + weight_t * (end - self)
    cdef Tensor a = <Tensor>inputs[0], b = <Tensor>inputs[1], w = <Tensor>inputs[2]
    cdef object total = None
    if t[0] is not None or t[1] is not None:
        total = lerp_of_tangents(inputs, t, w)
    if t[2] is not None:
        total = plus_terms(total, op_mul(<Tensor>t[2], op_sub(b, a)))
    return total


def _jvp_identity(Node n, tuple inputs, tuple t, Tensor out, int nr):
    """fmod / remainder by a number: self_t."""
    if len(t) > 1 and t[1] is not None:
        return NotImplemented
    return op_clone(<Tensor>t[0])


def _jvp_clone(Node n, tuple inputs, tuple t, Tensor out, int nr):
    return op_clone(<Tensor>t[0])


# ---------------------------------------------------------------------------
# matrix products

def _jvp_addmm(AddmmBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # maybe_multiply(self_t, beta) + maybe_multiply(mat1_t.mm(mat2), alpha) + maybe_multiply(mat1.mm(mat2_t), alpha)
    cdef object prod = None
    if formula_differentiable(inputs[1:] + t):
        # PyTorch multiplies an absent mat1/mat2 tangent as a real zero
        # matrix then (formula_differentiable; nan where the other holds inf)
        t = (t[0],) + tuple(op_zeros_like(<Tensor>inputs[i]) if t[i] is None else t[i] for i in (1, 2))
    if t[1] is not None:
        prod = op_mm(<Tensor>t[1], <Tensor>inputs[2])
    if t[2] is not None:
        prod = plus_terms(prod, op_mm(<Tensor>inputs[1], <Tensor>t[2]))
    if prod is not None:
        prod = times(prod, n.alpha)
    return plus_terms(None if t[0] is None else times(t[0], n.beta), prod)


# ---------------------------------------------------------------------------
# reductions

def _jvp_sum_all(SumBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return in_dtype_of(op_sum(<Tensor>t[0], None, False, None), out)


def _jvp_sum_dims(SumBackward1 n, tuple inputs, tuple t, Tensor out, int nr):
    return in_dtype_of(op_sum(<Tensor>t[0], n.dims, n.keepdim, None), out)


def _jvp_mean_all(MeanBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return in_dtype_of(op_mean(<Tensor>t[0], None, False, None), out)


def _jvp_mean_dims(MeanBackward1 n, tuple inputs, tuple t, Tensor out, int nr):
    return in_dtype_of(op_mean(<Tensor>t[0], n.dims, n.keepdim, None), out)


def _jvp_amax(_AmaxNode n, tuple inputs, tuple t, Tensor out, int nr):
    # amaxamin_jvp: the tangent averaged over the elements equal to the result
    cdef Tensor x = <Tensor>inputs[0], tan = <Tensor>t[0]
    cdef Tensor mask = op_compare(CMP_EQ, x, keepdim_of(out, n.dims, n.keepdim, x._ndim))
    if x._ndim == 0:
        return op_clone(tan)
    return op_div(op_sum(op_mul(tan, mask), n.dims, n.keepdim, None), op_sum(mask, n.dims, n.keepdim, None))


def _jvp_extreme_all(_ExtremeAllNode n, tuple inputs, tuple t, Tensor out, int nr):
    # evenly_read_jvp: the mean of the tangent where self equals the result (is NaN when it is)
    cdef Tensor x = <Tensor>inputs[0]
    cdef double v = scalar_value(out)
    cdef Tensor mask = isnan_mask(x) if v != v else op_compare(CMP_EQ, x, out)
    return op_div(op_sum(op_mul(<Tensor>t[0], mask), None, False, None), op_sum(mask, None, False, None))


def _jvp_extreme_dim(_ExtremeDimNode n, tuple inputs, tuple t, Tensor out, int nr):
    # gather_with_keepdimed_indices(self_t, dim, indices, keepdim)
    cdef Tensor tan = <Tensor>t[0], idx = n.indices
    if nr != 0 or idx is None or tan._ndim == 0:
        return NotImplemented
    if idx._ndim != tan._ndim:
        idx = op_unsqueeze(idx, n.dim)
    tan = op_gather(tan, n.dim, idx)
    return tan if n.keepdim else op_squeeze_dims(tan, (n.dim,))


def _jvp_logsumexp(LogsumexpBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # logsumexp_jvp: sum(softmax(self) * self_t, dim, keepdim)
    cdef Tensor x = <Tensor>inputs[0]
    if x._ndim == 0:
        return op_clone(<Tensor>t[0])
    cdef Tensor p = op_exp(op_sub(x, keepdim_of(out, n.dims, n.keepdim, x._ndim)))
    return op_sum(op_mul(p, <Tensor>t[0]), n.dims, n.keepdim, None)


cdef Tensor var_jvp(VarBackward0 n, Tensor x, Tensor tan):
    # (2 / (N - correction)) * sum(self_t * (self - mean(self, dim, keepdim=True)), dim, keepdim),
    # N as var_backward counts it (PyTorch's _safe_size of the listed dims)
    cdef double dof = (x._numel if n.dims is None else n.rnumel) - n.correction
    cdef Tensor centered = op_sub(x, op_mean(x, n.dims, True, None))
    return op_mul_scalar(op_sum(op_mul(tan, centered), n.dims, n.keepdim, None), 2.0 / dof)


def _jvp_var(VarBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    if type(n) is not VarBackward0 or (<Tensor>inputs[0])._ndim == 0:
        return NotImplemented
    return var_jvp(n, <Tensor>inputs[0], <Tensor>t[0])


def _jvp_std(StdBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # var_jvp / (2 * result)
    if (<Tensor>inputs[0])._ndim == 0:
        return NotImplemented
    return op_div(var_jvp(n, <Tensor>inputs[0], <Tensor>t[0]), op_mul_scalar(out, 2))


def _jvp_vector_norm(LinalgVectorNormBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # linalg_vector_norm_jvp for ord 2 and 1 (other orders: the transpose)
    cdef Tensor x = <Tensor>inputs[0], tan = <Tensor>t[0], r
    cdef object dims = n.dims if n.dims is not None and len(n.dims) else None
    if x._ndim == 0:
        return NotImplemented
    if n.ord == 0.0:
        return op_zeros_like(out)
    if n.ord == 1.0:
        return op_sum(op_mul(op_sgn(x), tan), dims, n.keepdim, None)
    if n.ord != 2.0:
        return vector_norm_jvp_other(n, x, tan, out, dims)
    r = op_div(op_sum(op_mul(x, tan), dims, n.keepdim, None), out)
    return op_where(op_compare(CMP_EQ, out, 0), op_zeros_like(r), r)


cdef Tensor vector_norm_jvp_other(LinalgVectorNormBackward0 n, Tensor x, Tensor tan, Tensor out, object dims):
    # linalg_vector_norm_jvp: +-inf: the mean of sgn(x) t over the elements at the norm (or NaN);
    # other orders: sum(x |x|^(p-2) t) / norm^(p-1), 0 where the norm is 0
    cdef Tensor normk, mask, r
    cdef tuple kept = dims if dims is not None else tuple(range(x._ndim))
    if n.ord == cmath.INFINITY or n.ord == -cmath.INFINITY:
        normk = keepdim_of(out, kept, n.keepdim, x._ndim)
        mask = op_logical_or(op_compare(CMP_EQ, op_abs(x), normk), isnan_mask(normk))
        r = op_sum(op_mul(op_mul(op_sgn(x), tan), mask), dims, n.keepdim, None)
        return op_div(r, op_sum(mask, dims, n.keepdim, None))
    r = op_sum(op_mul(op_mul(x, op_pow_scalar(op_abs(x), n.ord - 2)), tan), dims, n.keepdim, None)
    r = op_div(r, op_pow_scalar(out, n.ord - 1))
    return op_where(op_compare(CMP_EQ, out, 0), op_zeros_like(r), r)


def _jvp_cumsum(CumsumBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    if (<Tensor>t[0])._ndim == 0:
        return NotImplemented
    return in_dtype_of(op_cumsum(<Tensor>t[0], n.dim), out)


# ---------------------------------------------------------------------------
# joining, layout and indexing: the op itself applied to the tangent

def _jvp_cat(CatBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    cdef list parts = [op_zeros_like(<Tensor>x) if tan is None else tan for x, tan in zip(inputs, t)]
    return op_cat(parts, n.dim)


def _jvp_stack(StackBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    cdef list parts = [op_zeros_like(<Tensor>x) if tan is None else tan for x, tan in zip(inputs, t)]
    return op_stack(parts, n.dim)


def _jvp_flip(FlipBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_flip(<Tensor>t[0], n.dims)


def _jvp_roll(RollBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_roll(<Tensor>t[0], n.shifts, n.dims)


def _jvp_repeat(RepeatBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_repeat(<Tensor>t[0], n.repeats)


def _jvp_tril(TrilBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_tri(<Tensor>t[0], n.diagonal, True)


def _jvp_triu(TriuBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_tri(<Tensor>t[0], n.diagonal, False)


def _jvp_index(IndexBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    if n.ai is None:
        return NotImplemented
    return op_index_ai(<Tensor>t[0], n.ai)


def _jvp_index_select(IndexSelectBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_index_select(<Tensor>t[0], n.dim, n.index)


def _jvp_gather(GatherBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_gather(<Tensor>t[0], n.dim, n.index)


def _jvp_masked_fill(MaskedFillBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # self_t.masked_fill(mask, 0); with a tensor value, where(mask, value_t, self_t)
    if type(n) is MaskedFillBackward1:
        return op_where(n.mask, tangent_or_zero(t[1]), tangent_or_zero(t[0]))
    return op_masked_fill(<Tensor>t[0], n.mask, 0, None)


def _jvp_constant_pad(ConstantPadNdBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_pad(<Tensor>t[0], n.spec, 0)


def _jvp_embedding(EmbeddingBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # embedding(weight_t, indices): the tangent's rows at the indices
    if n.indices is None:
        return NotImplemented
    rows = op_index_select(<Tensor>t[0], 0, op_reshape(n.indices, (-1,)))
    return op_reshape(rows, shape_tuple(out))


# ---------------------------------------------------------------------------
# softmax family and losses

def _jvp_softmax(SoftmaxBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # result * (self_t - sum(result * self_t, dim, keepdim=True))
    cdef Tensor tan = <Tensor>t[0]
    if out._ndim == 0:
        return op_zeros_like(tan)
    return op_mul(out, op_sub(tan, op_sum(op_mul(out, tan), (n.dim,), True, None)))


def _jvp_log_softmax(LogSoftmaxBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # self_t - sum(self_t * exp(result), dim, keepdim=True)
    cdef Tensor tan = <Tensor>t[0]
    if out._ndim == 0:
        return op_zeros_like(tan)
    return op_sub(tan, op_sum(op_mul(tan, op_exp(out)), (n.dim,), True, None))


def _jvp_nll_loss(NllLossBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # nll_loss(self_t, target, weight, reduction, ignore_index): linear in self
    return (<tuple>op_nll(<Tensor>t[0], n.target, n.weight, n.spec))[0]


def _jvp_mse_loss(MseLossBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # apply_loss_reduction(2 (self - target) (self_t - target_t), reduction)
    cdef Tensor x = <Tensor>inputs[0], y = <Tensor>inputs[1], d
    if t[1] is None:
        d = <Tensor>t[0]
    elif t[0] is None:
        d = op_neg(<Tensor>t[1])
    else:
        d = op_sub(<Tensor>t[0], <Tensor>t[1])
    d = op_mul(op_mul_scalar(op_sub(x, y), 2.0), d)
    if n.reduction == NN_RED_MEAN:
        return op_mean(d, None, False, None)
    if n.reduction == NN_RED_SUM:
        return op_sum(d, None, False, None)
    return d


def _jvp_pointwise_loss(Node n, tuple inputs, tuple t, Tensor out, int nr):
    """A loss that is element-wise before its reduction (bce, bce with
    logits, smooth_l1): its backward at a gradient of ones gives each
    element's derivative; J t is their product with the tangents, summed
    when the loss is reduced to a number."""
    cdef Tensor ones = op_add_scalar(op_zeros_like(out), 1)
    cdef object total = None
    cdef tuple grads = <tuple>n.apply(ones)
    for i in range(len(t)):
        if t[i] is None or i >= len(grads) or grads[i] is None:
            continue
        if out._ndim != 0 and shape_tuple(<Tensor>t[i]) != shape_tuple(out):
            return NotImplemented       # reduction 'none' with a broadcast input
        total = plus_terms(total, op_mul(<Tensor>grads[i], <Tensor>t[i]))
    if total is None:
        return op_zeros_like(out)
    return op_sum(<Tensor>total, None, False, None) if out._ndim == 0 else total


def _jvp_atan2(Atan2Backward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # (other * self_t - self * other_t) / (self^2 + other^2)
    cdef Tensor a = <Tensor>inputs[0], b = <Tensor>inputs[1]
    cdef object num = None
    if t[0] is not None:
        num = op_mul(b, <Tensor>t[0])
    if t[1] is not None:
        num = op_neg(op_mul(a, <Tensor>t[1])) if num is None else op_sub(<Tensor>num, op_mul(a, <Tensor>t[1]))
    return op_div(<Tensor>num, op_add(op_mul(a, a), op_mul(b, b)))


def _jvp_fmax(MaxMinNode n, tuple inputs, tuple t, Tensor out, int nr):
    # other_t + (self > other (fmin: <) or isnan(other)) * (self_t - other_t)
    cdef Tensor a = <Tensor>inputs[0], b = <Tensor>inputs[1]
    cdef Tensor wins = op_compare(CMP_GT if type(n) is FmaxBackward0 else CMP_LT, a, b)
    return op_where(op_logical_or(wins, isnan_mask(b)), tangent_or_zero(t[0]), tangent_or_zero(t[1]))


def _jvp_to_copy(ToCopyBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_to_dtype(<Tensor>t[0], out._dtype) if is_float(out._dtype) else NotImplemented


def _jvp_pool(_PoolNode n, tuple inputs, tuple t, Tensor out, int nr):
    # max pools: the tangent at each window's argmax; average pools: the pool of the tangent
    if nr != 0:
        return NotImplemented
    if pool_has_indices(n.spec):
        return NotImplemented if n.indices is None else op_pool_gather(<Tensor>t[0], n.indices, n.spec)
    return (<tuple>op_pool_forward(<Tensor>t[0], n.spec))[0]


def _jvp_pad(_PadNode n, tuple inputs, tuple t, Tensor out, int nr):
    return op_pad(<Tensor>t[0], n.spec, 0)


def _jvp_convolution(ConvolutionBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # conv(input_t, weight) + conv(input, weight_t) + bias_t (bilinear, plus the bias)
    cdef object total = None
    if t[0] is not None:
        total = op_convolution(<Tensor>t[0], <Tensor>inputs[1], None, n.spec)
    if t[1] is not None:
        total = plus_terms(total, op_convolution(<Tensor>inputs[0], <Tensor>t[1], None, n.spec))
    if len(t) > 2 and t[2] is not None:
        total = plus_terms(total, op_reshape(<Tensor>t[2], (-1,) + (1,) * (out._ndim - 2)))
    return total


def _jvp_norm(_NormNode n, tuple inputs, tuple t, Tensor out, int nr):
    # layer_norm_jvp / group_norm_jvp / batch_norm_jvp in the (outer, groups, inner) view whose
    # statistics run over dims 0 and 2: xhat_t = rstd * (c - xhat * mean(xhat * c)), c = x_t - mean(x_t)
    # (x_t * rstd with given statistics); out_t = xhat_t * weight + xhat * weight_t + bias_t
    cdef _NormSpec spec = n.spec
    cdef tuple view3 = (spec.g.outer, spec.g.groups, spec.g.inner)
    cdef Tensor x = <Tensor>inputs[0], w = <Tensor>inputs[1], x3, m, xc, r, xhat3, c
    cdef object total = None
    if nr != 0:
        return NotImplemented
    x3 = op_reshape(x, view3)
    if spec.g.given:
        m = norm_stat_view(n.mean, spec, x._dtype)
        r = norm_stat_view(n.rstd, spec, x._dtype)
        xc = op_sub(x3, m)
    else:
        m = op_mean(x3, (0, 2), True)
        xc = op_sub(x3, m)
        r = op_rsqrt(op_add_scalar(op_mean(op_mul(xc, xc), (0, 2), True), spec.g.eps))
    xhat3 = op_mul(xc, r)
    if t[0] is not None:
        c = op_reshape(<Tensor>t[0], view3)
        if spec.g.given:
            c = op_mul(c, r)
        else:
            c = op_sub(c, op_mean(c, (0, 2), True))
            c = op_mul(r, op_sub(c, op_mul(xhat3, op_mean(op_mul(xhat3, c), (0, 2), True))))
        total = op_reshape(c, spec.in_shape)
        if w is not None:
            total = op_mul(<Tensor>total, norm_weight_view(w, spec))
    if len(t) > 1 and t[1] is not None:
        total = plus_terms(total, op_mul(op_reshape(xhat3, spec.in_shape), norm_weight_view(<Tensor>t[1], spec)))
    if len(t) > 2 and t[2] is not None:
        total = plus_terms(total, norm_weight_view(<Tensor>t[2], spec))
    return total


# ---------------------------------------------------------------------------
# prod, scatter, index_put and the writes (copy_, fill_, zero_, setitem)

cdef Tensor tangent_or_zeros_like(object t, Tensor like):
    return op_zeros_like(like) if t is None else <Tensor>t


def _jvp_prod(Node n, tuple inputs, tuple t, Tensor out, int nr):
    # prod_backward(ones, self, result).mul_(self_t).sum() (over dim, keepdim, for prod(dim)): the
    # Jacobian of a product is one row per output element, J^T 1 read off the node's own backward
    cdef Tensor x = <Tensor>inputs[0], tan = <Tensor>t[0]
    cdef Tensor d = <Tensor>(<tuple>n.apply(op_expand(op_full_like_one(out), shape_tuple(out))))[0]
    cdef Tensor term
    if not (x._requires_grad or tan._requires_grad):
        d = alias_detached(d)       # the saved result's history must not reach the tangent
    term = op_mul(d, tan)
    if type(n) is ProdBackward0:
        return in_dtype_of(op_sum(term, None, False, None), out)
    return in_dtype_of(op_sum(term, ((<ProdBackward1>n).dim,), (<ProdBackward1>n).keepdim, None), out)


cdef Tensor op_full_like_one(Tensor like):
    cdef Tensor one = new_tensor(0, NULL, like._dtype)
    fill_scalar(one, 1)
    return one


def _jvp_scatter(Node n, tuple inputs, tuple t, Tensor out, int nr):
    # self_t.scatter(dim, index, src_t); with a value, self_t.scatter(dim, index, 0)
    cdef Tensor self_t = tangent_or_zeros_like(t[0], out)
    if type(n) is ScatterBackward1:
        return op_scatter(self_t, (<ScatterBackward1>n).dim, (<ScatterBackward1>n).index, None, 0)
    return op_scatter(self_t, (<ScatterBackward0>n).dim, (<ScatterBackward0>n).index,
                      tangent_or_zeros_like(t[1], <Tensor>inputs[1]), None)


def _jvp_scatter_add(ScatterAddBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # self_t.scatter_add(dim, index, src_t)
    cdef Tensor self_t = tangent_or_zeros_like(t[0], out)
    if t[1] is None:
        return op_clone(self_t)
    return op_scatter_add(self_t, n.dim, n.index, <Tensor>t[1])


def _jvp_index_put(IndexPutBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # self_t.index_put(indices, values_t, accumulate) (self[indices] = values as well)
    cdef Tensor self_t
    cdef Tensor values_t
    if n.ai is None or len(inputs) < 2:
        return NotImplemented
    self_t = tangent_or_zeros_like(t[0], out)
    if len(t) < 2 or t[1] is None:
        values_t = zeros_scalar(self_t._dtype)
    else:
        values_t = <Tensor>t[1]
        if values_t._dtype != self_t._dtype:
            values_t = op_to_dtype(values_t, self_t._dtype)
    return op_index_put_ai(self_t, n.ai, values_t, n.accumulate)


def _jvp_write(Node n, tuple inputs, tuple t, Tensor out, int nr):
    # copy_: self_t.copy_(src_t); fill_(tensor value): the value's tangent everywhere; fill_(number)
    # and zero_: zeros
    cdef Tensor value_t
    if type(n) is FillBackward2 or type(n) is ZeroBackward0 or len(t) < 2 or t[1] is None:
        return op_zeros_like(out)
    value_t = <Tensor>t[1]
    if value_t._dtype != out._dtype:
        value_t = op_to_dtype(value_t, out._dtype)
    return op_clone(op_expand(value_t, shape_tuple(out)))


FW_NODE_RULES.update({
    ProdBackward0: _jvp_prod, ProdBackward1: _jvp_prod,
    ScatterBackward0: _jvp_scatter, ScatterBackward1: _jvp_scatter, ScatterAddBackward0: _jvp_scatter_add,
    IndexPutBackward0: _jvp_index_put,
    CopyBackwards: _jvp_write, FillBackward3: _jvp_write, FillBackward2: _jvp_write, ZeroBackward0: _jvp_write,
})


FW_NODE_RULES.update({
    # element-wise (the backward applied to the tangent)
    RsubBackward1: _jvp_elementwise, PowBackward0: _jvp_elementwise, PowBackward2: _jvp_elementwise,
    ClampBackward1: _jvp_elementwise, ClampMinBackward0: _jvp_elementwise, ClampMaxBackward0: _jvp_elementwise,
    SiluBackward0: _jvp_elementwise, LeakyReluBackward0: _jvp_elementwise, LeakyReluBackward1: _jvp_elementwise,
    EluBackward0: _jvp_elementwise, EluBackward1: _jvp_elementwise, GeluBackward0: _jvp_elementwise,
    SoftplusBackward0: _jvp_elementwise,
    MulBackward0: _jvp_mul, DivBackward0: _jvp_div,
    # arithmetic
    AddBackward0: _jvp_add, SubBackward0: _jvp_sub, PowBackward1: _jvp_pow_tensor,
    MaximumBackward0: _jvp_maximum, MinimumBackward0: _jvp_maximum, WhereBackward0: _jvp_where,
    ClampBackward0: _jvp_clamp_tensor, ClampMinBackward1: _jvp_clamp_tensor, ClampMaxBackward1: _jvp_clamp_tensor,
    LerpBackward0: _jvp_lerp_scalar, LerpBackward1: _jvp_lerp_tensor,
    FmodBackward0: _jvp_identity, RemainderBackward0: _jvp_identity, CloneBackward0: _jvp_clone,
    # matrix products (mm, bmm, mv, dot: cgrad/autograd/_jvp_rules.py)
    AddmmBackward0: _jvp_addmm,
    # reductions
    SumBackward0: _jvp_sum_all, SumBackward1: _jvp_sum_dims, MeanBackward0: _jvp_mean_all,
    MeanBackward1: _jvp_mean_dims, AmaxBackward0: _jvp_amax, AminBackward0: _jvp_amax,
    MaxBackward1: _jvp_extreme_all, MinBackward1: _jvp_extreme_all,
    MaxBackward0: _jvp_extreme_dim, MinBackward0: _jvp_extreme_dim,
    LogsumexpBackward0: _jvp_logsumexp, VarBackward0: _jvp_var, StdBackward0: _jvp_std,
    LinalgVectorNormBackward0: _jvp_vector_norm, CumsumBackward0: _jvp_cumsum,
    # joining, layout, indexing
    CatBackward0: _jvp_cat, StackBackward0: _jvp_stack, FlipBackward0: _jvp_flip, RollBackward0: _jvp_roll,
    RepeatBackward0: _jvp_repeat, TrilBackward0: _jvp_tril, TriuBackward0: _jvp_triu,
    IndexBackward0: _jvp_index, IndexSelectBackward0: _jvp_index_select, GatherBackward0: _jvp_gather,
    MaskedFillBackward0: _jvp_masked_fill, MaskedFillBackward1: _jvp_masked_fill,
    ConstantPadNdBackward0: _jvp_constant_pad, EmbeddingBackward0: _jvp_embedding,
    # softmax family and losses
    SoftmaxBackward0: _jvp_softmax, LogSoftmaxBackward0: _jvp_log_softmax,
    NllLossBackward0: _jvp_nll_loss, NllLoss2DBackward0: _jvp_nll_loss, MseLossBackward0: _jvp_mse_loss,
    BinaryCrossEntropyBackward0: _jvp_pointwise_loss, BinaryCrossEntropyWithLogitsBackward0: _jvp_pointwise_loss,
    SmoothL1LossBackward0: _jvp_pointwise_loss,
    # more arithmetic, conversions, pools, paddings, convolution
    Atan2Backward0: _jvp_atan2, FmaxBackward0: _jvp_fmax, FminBackward0: _jvp_fmax,
    DivBackward1: _jvp_elementwise, ToCopyBackward0: _jvp_to_copy,
    MaxPool2DWithIndicesBackward0: _jvp_pool, AvgPool2DBackward0: _jvp_pool,
    AdaptiveAvgPool2DBackward0: _jvp_pool, AdaptiveMaxPool2DBackward0: _jvp_pool,
    ReflectionPad1DBackward0: _jvp_pad, ReflectionPad2DBackward0: _jvp_pad, ReflectionPad3DBackward0: _jvp_pad,
    ReplicationPad1DBackward0: _jvp_pad, ReplicationPad2DBackward0: _jvp_pad, ReplicationPad3DBackward0: _jvp_pad,
    ConvolutionBackward0: _jvp_convolution,
    NativeLayerNormBackward0: _jvp_norm, NativeGroupNormBackward0: _jvp_norm, NativeBatchNormBackward0: _jvp_norm,
})


def _fw_explicit_rule_names():
    """The grad_fn names served by an explicit rule of this file."""
    return sorted(cls.__name__ for cls in FW_NODE_RULES)
