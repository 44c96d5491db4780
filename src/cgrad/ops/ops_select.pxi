# Selecting reductions and statistics, layer 2: the differentiable ops
# (prod, max, min, amax, amin, argmax, argmin, var, std, logsumexp), each
# beside its node. Kernels: select_kernels.pxi; Python surface: select_api.pxi.

# ---------------------------------------------------------------------------
# max / min over all elements (MaxBackward1 / MinBackward1): the gradient is
# shared evenly by the elements equal to the result (by the NaNs when it is
# NaN), PyTorch's evenly_distribute_backward.

cdef class _ExtremeAllNode(Node):
    cdef Tensor self_, result
    cdef long long self_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor mask, count
        cdef double v = scalar_value(y)
        if v != v:
            mask = isnan_mask(x)
        else:
            mask = op_compare(CMP_EQ, x, y)
        count = op_sum(mask, None, False, None)
        return (op_where(mask, op_div(g, count), op_zeros_like(x)),)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef class MaxBackward1(_ExtremeAllNode):
    pass


cdef class MinBackward1(_ExtremeAllNode):
    pass


cdef str empty_reduce_msg(str fname):
    return (f"{fname}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument.")


cdef Tensor op_max_all(Tensor x, bint is_max):
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out
    cdef _ExtremeAllNode node
    if x._numel == 0:
        raise RuntimeError(empty_reduce_msg("max" if is_max else "min"))
    parse_dims(None, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    out = new_tensor(0, NULL, x._dtype)
    run_extreme(src, &plan, out, None, is_max)
    if needs_grad(x):
        node = MaxBackward1.__new__(MaxBackward1) if is_max else MinBackward1.__new__(MinBackward1)
        wire1(node, x)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.result = save_output(node, out)
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# max / min along a dim (MaxBackward0 / MinBackward0): values and indices;
# the gradient goes to the index returned.

cdef class _ExtremeDimNode(Node):
    cdef Tensor indices
    cdef tuple self_sizes
    cdef int dim
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor idx = self.indices
        cdef Tensor out, onehot
        cdef RedPlan p
        cdef KernelArgs a
        if idx is None:
            raise RuntimeError(FREED_MSG)
        block_of_dim(self.self_sizes, self.dim, &p)
        if not cgrad_grad_enabled:
            out = new_tensor_from_tuple(self.self_sizes, g._dtype, True)
            g = contiguous_of(g)
            idx = contiguous_of(idx)
            a.dtype = g._dtype
            a.g = g._data
            a.idx = <int64_t*>idx._data
            a.out = out._data
            plan_args(&a, &p)
            run_dispatch(scatter_dispatch, &a)
            return (out,)
        # under create_graph: where(one_hot(indices), g, 0), differentiable in g
        onehot = new_tensor_from_tuple(self.self_sizes, BOOL, True)
        idx = contiguous_of(idx)
        onehot_kernel(<const int64_t*>idx._data, <uint8_t*>onehot._data, p.outer, p.n, p.inner)
        if not self.keepdim and len(self.self_sizes) > 0:
            g = op_unsqueeze(g, self.dim)
        return (op_where(onehot, g, scalar_tensor(0, g._dtype)),)

    cdef void release_saved(self) noexcept:
        self.indices = None


cdef class MaxBackward0(_ExtremeDimNode):
    pass


cdef class MinBackward0(_ExtremeDimNode):
    pass


cdef tuple op_max_dim(Tensor x, object dim, bint keepdim, bint is_max):
    """(values, indices) of the max (min) along dim."""
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, vals, idx
    cdef _ExtremeDimNode node
    cdef str fname = "max" if is_max else "min"
    cdef int d = wrap_dim(as_index(dim, "dim"), x._ndim)
    if x._numel == 0 and x._shape[d] == 0:
        raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    parse_dims(d, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    vals = reduced_output(x, mask, keepdim, x._dtype)
    idx = reduced_output(x, mask, keepdim, I64)
    run_extreme(src, &plan, vals, idx, is_max)
    if needs_grad(x):
        node = MaxBackward0.__new__(MaxBackward0) if is_max else MinBackward0.__new__(MinBackward0)
        wire1(node, x)
        node.indices = alias_detached(idx)
        node.self_sizes = shape_tuple(x)
        node.dim = d
        node.keepdim = keepdim
        set_history(vals, node)
    return (vals, idx)


# ---------------------------------------------------------------------------
# amax / amin (AmaxBackward0 / AminBackward0): the gradient is split evenly
# among the elements equal to the result, PyTorch's scale_grad_by_count.

cdef class _AmaxNode(Node):
    cdef Tensor self_, result
    cdef long long self_version
    cdef tuple dims
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor mask, count
        if not self.keepdim:
            g = unsqueeze_dims(g, self.dims)
            y = unsqueeze_dims(y, self.dims)
        mask = op_compare(CMP_EQ, y, x)
        count = op_sum(mask, self.dims, True, None)
        return (op_mul(op_div(g, count), mask),)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef class AmaxBackward0(_AmaxNode):
    pass


cdef class AminBackward0(_AmaxNode):
    pass


cdef int check_nonempty_dims(Tensor x, object dim, str fname) except -1:
    """PyTorch's zero_numel_check_dims for a reduction of an empty tensor."""
    cdef tuple dims
    cdef int d
    if x._numel != 0:
        return 0
    if dim is None:
        dims = ()
    elif isinstance(dim, tuple):
        dims = dim
    else:
        dims = (dim,)
    if len(dims) == 0:
        raise RuntimeError(empty_reduce_msg(fname))
    for item in dims:
        d = wrap_dim(item, x._ndim)
        if x._ndim > 0 and x._shape[d] == 0:
            raise IndexError(f"{fname}(): Expected reduction dim {item} to have non-zero size.")
    return 0


cdef Tensor op_amax(Tensor x, object dim, bint keepdim, bint is_max):
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out
    cdef _AmaxNode node
    cdef str fname = "amax" if is_max else "amin"
    check_nonempty_dims(x, dim, fname)
    parse_dims(dim, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    out = reduced_output(x, mask, keepdim, x._dtype)
    run_extreme(src, &plan, out, None, is_max)
    if needs_grad(x):
        node = AmaxBackward0.__new__(AmaxBackward0) if is_max else AminBackward0.__new__(AminBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.result = save_output(node, out)
        node.dims = masked_dims(mask, x._ndim)
        node.keepdim = keepdim
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# argmax / argmin: int64, first occurrence on ties, the first NaN wins.

cdef Tensor op_argmax(Tensor x, object dim, bint keepdim, bint is_max):
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, vals, idx
    cdef str fname = "argmax" if is_max else "argmin"
    cdef int d = 0
    if dim is not None:
        d = wrap_dim(dim, x._ndim)
    if x._numel == 0:
        if dim is None:
            raise IndexError(f"{fname}(): Expected reduction dim to be specified for input.numel() == 0.")
        if x._shape[d] == 0:
            raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    if x._dtype == BOOL:
        raise RuntimeError(f"{fname}(): does not support bool input")
    parse_dims(None if dim is None else d, x._ndim, mask)
    src = plan_reduction(x, mask, &plan, dim is None)   # a flat index counts in C order
    vals = reduced_output(x, mask, keepdim, x._dtype)
    idx = reduced_output(x, mask, keepdim, I64)
    run_extreme(src, &plan, vals, idx, is_max)
    return idx


# ---------------------------------------------------------------------------
# prod (ProdBackward0 over all elements, ProdBackward1 along a dim). The
# gradient is grad * result / input without zeros in the input, else the
# product of the other elements (PyTorch's prod_safe_zeros_backward); over
# all elements with several zeros and no graph being built, zeros.

cdef Tensor prod_safe_formula(Tensor g, Tensor x, object dim):
    """g times the product of the other elements of each slice, as
    differentiable ops (used under create_graph when x has zeros). With
    p = the product of the slice's nonzero elements and z = that of its
    zeros (0 when there are any, but with the right derivatives):
      at a nonzero x_k:  p / x_k * z                 (the exact product)
      at a zero x_k:     p * (the product of the other zeros), which is
                         1 for one zero, the other zero for two, and 0 for
                         more (exact up to second derivatives)."""
    cdef Tensor zero = scalar_tensor(0, x._dtype)
    cdef Tensor one = scalar_tensor(1, x._dtype)
    cdef Tensor nz = op_compare(CMP_EQ, x, 0)
    cdef bint keep = dim is not None
    cdef Tensor cnt = op_sum(nz, dim, True, None)
    cdef Tensor x_safe = op_where(nz, one, x)
    cdef Tensor p = op_prod(x_safe, dim, keep, None)
    cdef Tensor z = op_prod(op_where(nz, x, one), dim, keep, None)
    cdef Tensor zsum = op_sum(op_where(nz, x, zero), dim, True, None)
    cdef Tensor other_zeros = op_where(op_compare(CMP_EQ, cnt, 1), one,
                                       op_where(op_compare(CMP_EQ, cnt, 2), op_sub(zsum, x), zero))
    return op_mul(g, op_where(nz, op_mul(p, other_zeros), op_mul(op_div(p, x_safe), z)))


cdef void prod_safe_dispatch(KernelArgs* a) noexcept nogil:
    # float16 comes as float32 (prod_safe_kernel_grad)
    if a.dtype == F32:
        prod_safe_kernel(<const float*>a.x, <const float*>a.g, <float*>a.out, a.acc, a.outer, a.n,
                         a.inner)
    else:
        prod_safe_kernel(<const double*>a.x, <const double*>a.g, <double*>a.out, a.acc, a.outer,
                         a.n, a.inner)


cdef Tensor prod_safe_kernel_grad(Tensor g, Tensor x, RedPlan* p):
    """The fused prod_safe_zeros_backward over x seen as [outer, n, inner]
    (x contiguous, g contiguous of outer*inner elements)."""
    cdef Tensor out, acc
    cdef KernelArgs a
    if is_half16(x._dtype):
        out = new_tensor(x._ndim, x._shape, x._dtype)
        acc = new_tensor(1, &p.inner, F32)
        prod_safe_kernel_half(<const uint16_t*>x._data, <const uint16_t*>g._data, <uint16_t*>out._data,
                              <float*>acc._data, p.outer, p.n, p.inner, x._dtype == BF16)
        return out
    out = new_tensor(x._ndim, x._shape, x._dtype)
    acc = double_buffer(p.inner)
    a.dtype = x._dtype
    a.x = x._data
    a.g = g._data
    a.out = out._data
    a.acc = <double*>acc._data
    plan_args(&a, p)
    run_dispatch(prod_safe_dispatch, &a)
    return out


cdef class ProdBackward0(Node):
    cdef Tensor self_, result
    cdef long long self_version
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor gx
        cdef Py_ssize_t zeros
        cdef RedPlan p
        if x._dtype != g._dtype:
            x = op_to_dtype(x, g._dtype)
        if x._ndim == 0:
            gx = g
        else:
            zeros = count_zeros(x)
            if zeros == 0:
                gx = op_mul(g, op_div(y, x))
            elif not cgrad_grad_enabled and zeros > 1:
                gx = op_zeros_like(x)
            elif not cgrad_grad_enabled:
                p.outer = 1
                p.n = x._numel
                p.inner = 1
                gx = prod_safe_kernel_grad(contiguous_of(g), contiguous_of(x), &p)
            else:
                gx = prod_safe_formula(g, x, None)
        if gx._dtype != self.self_dtype:
            gx = op_to_dtype(gx, self.self_dtype)
        return (gx,)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef class ProdBackward1(Node):
    cdef Tensor self_, result
    cdef long long self_version
    cdef int self_dtype
    cdef int dim
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor gx
        cdef RedPlan p
        if x._dtype != g._dtype:
            x = op_to_dtype(x, g._dtype)
        if x._ndim == 0:
            gx = g
        else:
            if not self.keepdim:
                g = op_unsqueeze(g, self.dim)
                y = op_unsqueeze(y, self.dim)
            if count_zeros(x) == 0:
                gx = op_mul(g, op_div(y, x))
            elif not cgrad_grad_enabled:
                block_of_dim(shape_tuple(x), self.dim, &p)
                gx = prod_safe_kernel_grad(contiguous_of(g), contiguous_of(x), &p)
            else:
                gx = prod_safe_formula(g, x, self.dim)
        if gx._dtype != self.self_dtype:
            gx = op_to_dtype(gx, self.self_dtype)
        return (gx,)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef Tensor op_prod(Tensor x, object dim, bint keepdim, object dtype):
    """prod over all elements (dim None) or along one dim; integer and bool
    inputs give int64; `dtype` converts the input first."""
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out, acc, orig = x
    cdef int dt
    cdef ProdBackward0 n0
    cdef ProdBackward1 n1
    cdef int d = 0
    if dim is not None:
        d = wrap_dim(dim, x._ndim)
    if dtype is not None:
        dt = dtype_code(dtype)
    elif is_float(x._dtype):
        dt = x._dtype
    else:
        dt = I64
    if needs_grad(x) and not is_float(dt):
        raise RuntimeError(f"Autograd not support dtype: {dtype_title(dt)}")
    if x._dtype != dt:
        x = cast_tensor(x, dt)      # dtype= converts each element first (0.5 -> False for bool)
    if not is_float(dt) and dt != I64:
        # integer and bool products run in int64 (wrapping to the type is exact)
        x = cast_tensor(x, I64)
    parse_dims(None if dim is None else d, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    out = reduced_output(x, mask, keepdim and dim is not None, x._dtype)
    run_reduce_kernel(K_PROD, src, out, &plan, 0)
    if out._dtype != dt:
        out = cast_tensor(out, dt)
    if needs_grad(orig):
        if dim is None:
            n0 = ProdBackward0.__new__(ProdBackward0)
            wire1(n0, orig)
            n0.self_ = orig
            n0.self_version = save_version(n0, orig)
            n0.self_dtype = orig._dtype
            n0.result = save_output(n0, out)
            set_history(out, n0)
        else:
            n1 = ProdBackward1.__new__(ProdBackward1)
            wire1(n1, orig)
            n1.self_ = orig
            n1.self_version = save_version(n1, orig)
            n1.self_dtype = orig._dtype
            n1.result = save_output(n1, out)
            n1.dim = d
            n1.keepdim = keepdim
            set_history(out, n1)
    return out


# ---------------------------------------------------------------------------
# var / std (VarBackward0 / StdBackward0), PyTorch's var_backward and
# std_backward.

cdef Tensor var_backward(Tensor g, Tensor x, tuple dims, Py_ssize_t rnumel, double correction,
                         bint keepdim):
    """dims None: over all elements. rnumel: the number of elements PyTorch
    counts in the reduced dims (1 for an empty dim list)."""
    cdef double dof
    cdef Tensor mean, cond
    if x._ndim == 0 or dims is None:
        dof = x._numel - correction
        if dof <= 0:
            mean = op_mean(x, None, False, None)
            cond = op_compare(CMP_EQ, x, mean)
            return op_mul(g, op_where(cond, scalar_tensor(cmath.NAN, g._dtype),
                                      scalar_tensor(cmath.INFINITY, g._dtype)))
        return op_mul(op_mul_scalar(g, 2.0 / dof), op_sub(x, op_mean(x, None, False, None)))
    if not keepdim and x._ndim > 1:
        g = unsqueeze_dims(g, dims)
    dof = rnumel - correction
    # 2 / dof is C's division (cdivision): inf for dof == 0, as in PyTorch
    return op_mul(op_mul_scalar(g, 2.0 / dof), op_sub(x, op_mean(x, dims, True, None)))


cdef class VarBackward0(Node):
    cdef Tensor self_
    cdef long long self_version
    cdef tuple dims
    cdef Py_ssize_t rnumel
    cdef double correction
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        return (var_backward(<Tensor>grads, x, self.dims, self.rnumel, self.correction,
                             self.keepdim),)

    cdef void release_saved(self) noexcept:
        self.self_ = None


cdef class StdBackward0(VarBackward0):
    cdef Tensor result

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        # grad / (2 * std), 0 where std == 0
        g = op_where(op_compare(CMP_EQ, y, 0), scalar_tensor(0, g._dtype),
                     op_div(g, op_mul_scalar(y, 2)))
        return (var_backward(g, x, self.dims, self.rnumel, self.correction, self.keepdim),)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef Tensor op_var(Tensor x, object dim, object correction, bint keepdim, bint take_sqrt):
    """var (std) over `dim` (None: all; an int or a sequence of ints)."""
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out, acc
    cdef double corr = 1.0 if correction is None else <double>correction
    cdef VarBackward0 node
    cdef Py_ssize_t rnumel = 1
    cdef Py_ssize_t n_out
    cdef str fname = "std" if take_sqrt else "var"
    if not is_float(x._dtype):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    parse_dims(dim, x._ndim, mask)
    src = plan_reduction(x, mask, &plan)
    out = reduced_output(x, mask, keepdim, x._dtype)
    n_out = plan.outer * plan.inner
    if (0 if n_out == 0 else x._numel // n_out) - corr <= 0:
        import warnings
        warnings.warn(
            f"{fname}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).", UserWarning, stacklevel=1)
    run_reduce_kernel(K_STD if take_sqrt else K_VAR, src, out, &plan, corr)
    if needs_grad(x):
        node = StdBackward0.__new__(StdBackward0) if take_sqrt else VarBackward0.__new__(VarBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.correction = corr
        node.keepdim = keepdim
        if dim is None:
            node.dims = None
        else:
            node.dims = masked_dims(mask, x._ndim)
            # PyTorch's _safe_size: the sizes of the dims as listed (none: 1)
            if x._ndim > 0:
                for item in (dim if isinstance(dim, tuple) else (dim,)):
                    rnumel *= x._shape[wrap_dim(item, x._ndim)]
            node.rnumel = rnumel
        if take_sqrt:
            (<StdBackward0>node).result = save_output(node, out)
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# logsumexp (LogsumexpBackward0): grad * exp(x - result).

cdef void lse_bwd_F32(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    # OUT grad of x; IN g, x, result: g * exp(x - result)
    cdef float* o = <float*>p[0]
    cdef const float* g = <const float*>p[1]
    cdef const float* x = <const float*>p[2]
    cdef const float* y = <const float*>p[3]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = g[i * s[1]] * c_exp(x[i * s[2]] - y[i * s[3]])


cdef void lse_bwd_F64(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef double* o = <double*>p[0]
    cdef const double* g = <const double*>p[1]
    cdef const double* x = <const double*>p[2]
    cdef const double* y = <const double*>p[3]
    cdef Py_ssize_t i
    for i in range(n):
        o[i * s[0]] = g[i * s[1]] * c_exp(x[i * s[2]] - y[i * s[3]])


cdef class LogsumexpBackward0(Node):
    cdef Tensor self_, result
    cdef long long self_version
    cdef tuple dims
    cdef bint keepdim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor y = unpack_output(self, self.result, 0)
        cdef Tensor out
        cdef Operand ops[4]
        if not self.keepdim and x._ndim != 0:
            g = unsqueeze_dims(g, self.dims)
            y = unsqueeze_dims(y, self.dims)
        if cgrad_grad_enabled or g._dtype != x._dtype or is_half16(x._dtype):
            return (op_mul(g, op_exp(op_sub(x, y))),)
        # fused: one pass, g and y broadcast over the reduced dims
        out = new_tensor(x._ndim, x._shape, x._dtype)
        ops[0] = operand_of(out)
        ops[1] = operand_of(g)
        ops[2] = operand_of(x)
        ops[3] = operand_of(y)
        run_elementwise(lse_bwd_F32 if x._dtype == F32 else lse_bwd_F64, 4, ops, x._ndim, x._shape,
                        x._numel, NULL)
        return (out,)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.result = None


cdef int zero_infinite_halves(Tensor m) except -1:
    """m (a fresh contiguous float16 or bfloat16 tensor) with +-inf replaced by 0."""
    cdef uint16_t* p = <uint16_t*>m._data
    cdef uint16_t inf_bits = 0x7f80 if m._dtype == BF16 else 0x7c00
    cdef Py_ssize_t i
    for i in range(m._numel):
        if (p[i] & 0x7fff) == inf_bits:
            p[i] = 0
    return 0


cdef Tensor logsumexp_half(Tensor x, object dim, bint keepdim):
    """float16 logsumexp as PyTorch composes it, every step a float16 op:
    max (infinite ones as 0), exp(x - max), sum, log, + max."""
    cdef Tensor xd = alias_detached(x)        # no history for the steps
    cdef Tensor m = op_amax(xd, dim, True, True)
    cdef Tensor ms = op_amax(xd, dim, keepdim, True)
    zero_infinite_halves(m)
    zero_infinite_halves(ms)
    return op_add(op_log(op_sum(op_exp(op_sub(xd, m)), dim, keepdim, None)), ms)


cdef Tensor op_logsumexp(Tensor x, object dim, bint keepdim):
    cdef bint mask[MAX_DIMS]
    cdef RedPlan plan
    cdef Tensor src, out, acc
    cdef LogsumexpBackward0 node
    if not is_float(x._dtype):
        x = cast_tensor(x, DEFAULT_FLOAT)
    parse_dims(dim, x._ndim, mask)
    if isinstance(dim, tuple) and len(dim) == 0 and not keepdim and x._ndim > 0 and x._numel > 0:
        # PyTorch adds amax(x, (), keepdim=True) to a 0-d sum here and fails
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape "
                           f"[{', '.join(['1'] * x._ndim)}]")
    if is_half16(x._dtype) and x._numel > 0:
        out = logsumexp_half(x, dim, keepdim)
    else:
        src = plan_reduction(x, mask, &plan)
        out = reduced_output(x, mask, keepdim, x._dtype)
        run_reduce_kernel(K_LSE, src, out, &plan, 0)
    if needs_grad(x):
        node = LogsumexpBackward0.__new__(LogsumexpBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.result = save_output(node, out)
        node.dims = masked_dims(mask, x._ndim)
        node.keepdim = keepdim
        set_history(out, node)
    return out
