# Tensor's methods over the math ops: named arithmetic (add, div, pow and
# their in-place forms), in-place random sampling, comparisons, clamping and
# logical/bitwise ops, reductions, linear algebra, the nn functions (the
# pointwise ones: tensor_methods_pointwise.pxi). Each is a thin wrapper that
# sorts out Python arguments and calls the op; they live out of tensor.pxi's
# class body (a cdef class body cannot include a file, and one class in one
# file would be far over the size a reader takes in) and are put into
# Tensor's type at import under their class-body names (install_class_methods
# in tensor_support.pxi), so Tensor.add is still Tensor.add to users.
# Operators (__add__, __lt__, ...) and the hottest unary methods stay in the
# class body: a slot must be defined there, and a class-body method skips
# the `self` type check these module-level functions make.

# --- arithmetic -----------------------------------------------------------


def _tensor_add(Tensor self not None, other, *deprecated, alpha=1):
    if deprecated:
        other, alpha = alpha_first_args("add", True, other, deprecated, alpha)
    return add(self, check_other(other, "add", 1), alpha=alpha)


def _tensor_sub(Tensor self not None, other, *deprecated, alpha=1):
    if deprecated:
        other, alpha = alpha_first_args("sub", True, other, deprecated, alpha)
    return sub(self, check_other(other, "sub", 1), alpha=alpha)


def _tensor_mul(Tensor self not None, other):
    return mul(self, check_other(other, "mul", 1))


def _tensor_div(Tensor self not None, other, *, rounding_mode=NO_ARG):
    return divide_method(self, other, rounding_mode, "div")


def _tensor_divide(Tensor self not None, other, *, rounding_mode=NO_ARG):
    return divide_method(self, other, rounding_mode, "divide")


def _tensor_true_divide(Tensor self not None, other):
    return divide_method(self, other, NO_ARG, "true_divide")


def _tensor_floor_divide(Tensor self not None, other):
    return rounding_method(self, other, RD_FLOOR, "floor_divide")


def _tensor_remainder(Tensor self not None, other):
    return rounding_method(self, other, RD_REMAINDER, "remainder")


def _tensor_fmod(Tensor self not None, other):
    return rounding_method(self, other, RD_FMOD, "fmod")


def _tensor_floor_divide_(Tensor self not None, other):
    return rounding_method_(self, other, RD_FLOOR, "floor_divide_")


def _tensor_remainder_(Tensor self not None, other):
    return rounding_method_(self, other, RD_REMAINDER, "remainder_")


def _tensor_fmod_(Tensor self not None, other):
    return rounding_method_(self, other, RD_FMOD, "fmod_")


def _tensor_pow(Tensor self not None, exponent):
    return _pow(self, exponent)


def _tensor_add_(Tensor self not None, other, *deprecated, alpha=1):
    if deprecated:
        other, alpha = alpha_first_args("add_", True, other, deprecated, alpha)
    return inplace_arith_method(IP_ADD, self, other, alpha, "add_")


def _tensor_sub_(Tensor self not None, other, *deprecated, alpha=1):
    if deprecated:
        other, alpha = alpha_first_args("sub_", True, other, deprecated, alpha)
    return inplace_arith_method(IP_SUB, self, other, alpha, "sub_")


def _tensor_mul_(Tensor self not None, other):
    return inplace_arith_method(IP_MUL, self, other, None, "mul_")


def _tensor_div_(Tensor self not None, other, *, rounding_mode=NO_ARG):
    return divide_method_(self, other, rounding_mode, "div_")


def _tensor_divide_(Tensor self not None, other, *, rounding_mode=NO_ARG):
    return divide_method_(self, other, rounding_mode, "divide_")

# --- in-place random sampling (random_dists.pxi) -------------------------


def _tensor_uniform_(Tensor self not None, from_=0, to=1, *, generator=None, **kwargs):
    return _uniform_(self, kwargs.pop("from", from_), to, generator)


def _tensor_normal_(Tensor self not None, mean=0, std=1, *, generator=None):
    return _normal_(self, mean, std, generator)


def _tensor_random_(Tensor self not None, *args, generator=None, **kwargs):
    return _random_(self, *args, generator=generator, **kwargs)


def _tensor_exponential_(Tensor self not None, lambd=1, *, generator=None):
    return _exponential_(self, lambd, generator)


def _tensor_geometric_(Tensor self not None, p, *, generator=None):
    return _geometric_(self, p, generator)


def _tensor_log_normal_(Tensor self not None, mean=1, std=2, *, generator=None):
    return _log_normal_(self, mean, std, generator)


def _tensor_cauchy_(Tensor self not None, median=0, sigma=1, *, generator=None):
    return _cauchy_(self, median, sigma, generator)


def _tensor_bernoulli_(Tensor self not None, p=0.5, *, generator=None):
    return _bernoulli_(self, p, generator)


def _tensor_bernoulli(Tensor self not None, *args, generator=None, **kwargs):
    return bernoulli(self, *args, generator=generator, **kwargs)


def _tensor_multinomial(Tensor self not None, num_samples, replacement=False, *, generator=None):
    return multinomial(self, num_samples, replacement, generator=generator)

# --- comparisons, clamping, maximum/minimum, where ---------------------------


def _tensor_lt(Tensor self not None, other):
    return compare_method(CMP_LT, self, other, "lt")


def _tensor_le(Tensor self not None, other):
    return compare_method(CMP_LE, self, other, "le")


def _tensor_gt(Tensor self not None, other):
    return compare_method(CMP_GT, self, other, "gt")


def _tensor_ge(Tensor self not None, other):
    return compare_method(CMP_GE, self, other, "ge")


def _tensor_eq(Tensor self not None, other):
    return compare_method(CMP_EQ, self, other, "eq")


def _tensor_ne(Tensor self not None, other):
    return compare_method(CMP_NE, self, other, "ne")


def _tensor_less(Tensor self not None, other):
    return compare_method(CMP_LT, self, other, "less")


def _tensor_less_equal(Tensor self not None, other):
    return compare_method(CMP_LE, self, other, "less_equal")


def _tensor_greater(Tensor self not None, other):
    return compare_method(CMP_GT, self, other, "greater")


def _tensor_greater_equal(Tensor self not None, other):
    return compare_method(CMP_GE, self, other, "greater_equal")


def _tensor_not_equal(Tensor self not None, other):
    return compare_method(CMP_NE, self, other, "not_equal")


def _tensor_equal(Tensor self not None, other):
    return op_equal(self, need_tensor(other, "equal", "other", 1))


def _tensor_clamp(Tensor self not None, min=None, max=None):
    return clamp_dispatch(self, min, max, CL_CLAMP, "clamp", True)


def _tensor_clip(Tensor self not None, min=None, max=None):
    return clamp_dispatch(self, min, max, CL_CLAMP, "clip", True)


def _tensor_clamp_min(Tensor self not None, min):
    return clamp_dispatch(self, min, None, CL_MIN, "clamp_min", True)


def _tensor_clamp_max(Tensor self not None, max):
    return clamp_dispatch(self, None, max, CL_MAX, "clamp_max", True)


def _tensor_clamp_(Tensor self not None, min=None, max=None):
    return clamp_inplace(self, min, max, CL_CLAMP, "clamp_")


def _tensor_clip_(Tensor self not None, min=None, max=None):
    return clamp_inplace(self, min, max, CL_CLAMP, "clip_")


def _tensor_clamp_min_(Tensor self not None, min):
    return clamp_inplace(self, min, None, CL_MIN, "clamp_min_")


def _tensor_clamp_max_(Tensor self not None, max):
    return clamp_inplace(self, None, max, CL_MAX, "clamp_max_")


def _tensor_maximum(Tensor self not None, other):
    return op_maxmin(MM_MAXIMUM, self, need_tensor(other, "maximum", "other", 1))


def _tensor_minimum(Tensor self not None, other):
    return op_maxmin(MM_MINIMUM, self, need_tensor(other, "minimum", "other", 1))


def _tensor_fmax(Tensor self not None, other):
    return op_maxmin(MM_FMAX, self, need_tensor(other, "fmax", "other", 1))


def _tensor_fmin(Tensor self not None, other):
    return op_maxmin(MM_FMIN, self, need_tensor(other, "fmin", "other", 1))


def _tensor_where(Tensor self not None, condition, other):
    if not isinstance(condition, Tensor) or not tensor_or_number(other):
        raise invalid_arguments("where", (condition, other), WHERE_METHOD_OPTIONS)
    return op_where(<Tensor>condition, self, normalize_scalar(other))


def _tensor_logical_not(Tensor self not None):
    return op_logical_not(self)


def _tensor_logical_and(Tensor self not None, other):
    return op_logical(LG_AND, self, need_tensor(other, "logical_and", "other", 1))


def _tensor_logical_or(Tensor self not None, other):
    return op_logical(LG_OR, self, need_tensor(other, "logical_or", "other", 1))


def _tensor_logical_xor(Tensor self not None, other):
    return op_logical(LG_XOR, self, need_tensor(other, "logical_xor", "other", 1))


def _tensor_bitwise_not(Tensor self not None):
    return op_bitwise_not(self)


def _tensor_bitwise_and(Tensor self not None, other):
    return bitwise_method(BW_AND, self, other)


def _tensor_bitwise_or(Tensor self not None, other):
    return bitwise_method(BW_OR, self, other)


def _tensor_bitwise_xor(Tensor self not None, other):
    return bitwise_method(BW_XOR, self, other)

# --- reductions -------------------------------------------------------------


def _tensor_sum(Tensor self not None, dim=NO_ARG, keepdim=False, *, dtype=None, **kwargs):
    if kwargs:
        dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "sum")
    # dim=None given is the dim overload (SumBackward1 / MeanBackward1), over every dim as ()
    dim = None if dim is NO_ARG else (() if dim is None else dim)
    if dim is not None and type(dim) is not int:
        check_reduce_dim(dim, "sum")
    return op_sum(self, dim, keepdim, dtype)


def _tensor_mean(Tensor self not None, dim=NO_ARG, keepdim=False, *, dtype=None, **kwargs):
    if kwargs:
        dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "mean")
    # dim=None given is the dim overload (SumBackward1 / MeanBackward1), over every dim as ()
    dim = None if dim is NO_ARG else (() if dim is None else dim)
    if dim is not None and type(dim) is not int:
        check_reduce_dim(dim, "mean")
    return op_mean(self, dim, keepdim, dtype)


def _tensor_prod(Tensor self not None, *args, **kwargs):
    """prod(*, dtype=None); prod(dim, keepdim=False, *, dtype=None)."""
    return prod_impl(self, args, dim_aliases(kwargs), True)


def _tensor_max(Tensor self not None, *args, **kwargs):
    """max() -> Tensor; max(dim, keepdim=False) -> (values, indices);
    max(other) -> maximum(self, other)."""
    return max_min_impl(True, self, args, dim_aliases(kwargs), True)


def _tensor_min(Tensor self not None, *args, **kwargs):
    """min() -> Tensor; min(dim, keepdim=False) -> (values, indices);
    min(other) -> minimum(self, other)."""
    return max_min_impl(False, self, args, dim_aliases(kwargs), True)


def _tensor_amax(Tensor self not None, *args, **kwargs):
    """amax(dim=(), keepdim=False)."""
    return amax_impl(True, self, args, dim_aliases(kwargs), True)


def _tensor_amin(Tensor self not None, *args, **kwargs):
    """amin(dim=(), keepdim=False)."""
    return amax_impl(False, self, args, dim_aliases(kwargs), True)


def _tensor_argmax(Tensor self not None, *args, **kwargs):
    """argmax(dim=None, keepdim=False)."""
    return argmax_impl(True, self, args, dim_aliases(kwargs), True)


def _tensor_argmin(Tensor self not None, *args, **kwargs):
    """argmin(dim=None, keepdim=False)."""
    return argmax_impl(False, self, args, dim_aliases(kwargs), True)


def _tensor_var(Tensor self not None, *args, **kwargs):
    """var(dim=None, *, correction=1, keepdim=False); var(dim, unbiased,
    keepdim); var(unbiased)."""
    return var_impl(False, self, args, dim_aliases(kwargs), True)


def _tensor_std(Tensor self not None, *args, **kwargs):
    """std(dim=None, *, correction=1, keepdim=False); std(dim, unbiased,
    keepdim); std(unbiased)."""
    return var_impl(True, self, args, dim_aliases(kwargs), True)


def _tensor_logsumexp(Tensor self not None, *args, **kwargs):
    """logsumexp(dim, keepdim=False)."""
    return logsumexp_impl(self, args, dim_aliases(kwargs), True)

# --- linear algebra -----------------------------------------------------------


def _tensor_mm(Tensor self not None, mat2):
    return op_mm(self, tensor_arg(mat2, "mm", "mat2"))


def _tensor_mv(Tensor self not None, vec):
    return op_mv(self, tensor_arg(vec, "mv", "vec"))


def _tensor_dot(Tensor self not None, other):
    return op_dot(self, tensor_arg(other, "dot", "tensor"))


def _tensor_matmul(Tensor self not None, other):
    return op_matmul(self, tensor_arg(other, "matmul"))


def _tensor_bmm(Tensor self not None, mat2):
    return op_bmm(self, tensor_arg(mat2, "bmm", "mat2"))

# --- neural-net functions ---------------------------------------------------------


def _tensor_softmax(Tensor self not None, *args, **kwargs):
    """softmax(dim, dtype=None)"""
    return nn_softmax_call("softmax", self, args, kwargs, False, True)


def _tensor_log_softmax(Tensor self not None, *args, **kwargs):
    """log_softmax(dim, dtype=None)"""
    return nn_softmax_call("log_softmax", self, args, kwargs, True, True)


def _tensor_relu_(Tensor self not None):
    """relu in place."""
    return nn_relu_(self)

# --- any/all, count_nonzero, cumsum, outer products, norms


def _tensor_any(Tensor self not None, dim=None, keepdim=False, **kwargs):
    if kwargs:
        dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "any")
    return op_any_all(self, reduce_dim_arg(dim), keepdim, False)


def _tensor_all(Tensor self not None, dim=None, keepdim=False, **kwargs):
    if kwargs:
        dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "all")
    return op_any_all(self, reduce_dim_arg(dim), keepdim, True)


def _tensor_count_nonzero(Tensor self not None, dim=None, **kwargs):
    if kwargs:
        dim = axis_kwarg(NO_ARG if dim is None else dim, kwargs, "count_nonzero")
    return op_count_nonzero(self, dim)


def _tensor_cumsum(Tensor self not None, dim=NO_ARG, *, dtype=None, **kwargs):
    return cumsum_call(self, required_dim_arg(dim, kwargs, "cumsum"), dtype, "cumsum")


def _tensor_cumsum_(Tensor self not None, dim, *, dtype=None):
    cdef Tensor r
    check_inplace(self)
    if (cgrad_grad_enabled and self._requires_grad) or has_tangent(self):
        r = cumsum_call(old_value(self, False), dim, dtype, "cumsum_")
        if r._dtype != self._dtype:
            r = op_to_dtype(r, self._dtype)
        return commit_inplace(self, r)
    r = cumsum_call(alias_detached(self), dim, dtype, "cumsum_")
    copy_into(self, r)
    self._storage.version += 1
    return self


def _tensor_outer(Tensor self not None, vec2):
    return op_outer(self, need_tensor(vec2, "outer", "vec2", 1))


def _tensor_ger(Tensor self not None, vec2):
    return op_outer(self, need_tensor(vec2, "ger", "vec2", 1))


def _tensor_norm(Tensor self not None, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(self, p, dim, keepdim, dtype=dtype)

# --- linear algebra (cgrad/_linalg_legacy.py: PyTorch's torch.* forms)


def _tensor_inverse(Tensor self not None):
    from cgrad import _linalg_legacy
    return _linalg_legacy.inverse(self)


def _tensor_det(Tensor self not None):
    from cgrad import _linalg_legacy
    return _linalg_legacy.det(self)


def _tensor_logdet(Tensor self not None):
    from cgrad import _linalg_legacy
    return _linalg_legacy.logdet(self)


def _tensor_slogdet(Tensor self not None):
    from cgrad import _linalg_legacy
    return _linalg_legacy.slogdet(self)


def _tensor_cholesky(Tensor self not None, upper=False):
    from cgrad import _linalg_legacy
    return _linalg_legacy.cholesky(self, upper)


def _tensor_cholesky_solve(Tensor self not None, input2, upper=False):
    from cgrad import _linalg_legacy
    return _linalg_legacy.cholesky_solve(self, input2, upper)


def _tensor_cholesky_inverse(Tensor self not None, upper=False):
    from cgrad import _linalg_legacy
    return _linalg_legacy.cholesky_inverse(self, upper)


def _tensor_pinverse(Tensor self not None, rcond=1e-15):
    from cgrad import _linalg_legacy
    return _linalg_legacy.pinverse(self, rcond)


def _tensor_svd(Tensor self not None, some=True, compute_uv=True):
    from cgrad import _linalg_legacy
    return _linalg_legacy.svd(self, some, compute_uv)


def _tensor_qr(Tensor self not None, some=True):
    from cgrad import _linalg_legacy
    return _linalg_legacy.qr(self, some)


def _tensor_matrix_exp(Tensor self not None):
    from cgrad import _linalg_legacy
    return _linalg_legacy.matrix_exp(self)


def _tensor_matrix_power(Tensor self not None, n):
    from cgrad import _linalg_legacy
    return _linalg_legacy.matrix_power(self, n)


def _tensor_cross(Tensor self not None, other, dim=None):
    from cgrad import _linalg_legacy
    return _linalg_legacy.cross(self, other, dim)


def _tensor_lu_solve(Tensor self not None, LU_data, LU_pivots):
    from cgrad import _linalg_legacy
    return _linalg_legacy.lu_solve(self, LU_data, LU_pivots)


def _tensor_addmm(Tensor self not None, mat1, mat2, *deprecated, beta=1, alpha=1):
    if deprecated:
        _, mat1, mat2, beta, alpha = beta_first_args("addmm", True, (mat1, mat2) + deprecated, beta, alpha)
    return op_addmm_ab(self, need_tensor(mat1, "addmm", "mat1", 1), need_tensor(mat2, "addmm", "mat2", 2),
                       normalize_scalar(beta), normalize_scalar(alpha))


install_class_methods({
    "add": _tensor_add, "sub": _tensor_sub, "mul": _tensor_mul, "div": _tensor_div, "divide": _tensor_divide,
    "true_divide": _tensor_true_divide, "floor_divide": _tensor_floor_divide, "remainder": _tensor_remainder,
    "fmod": _tensor_fmod, "floor_divide_": _tensor_floor_divide_, "remainder_": _tensor_remainder_,
    "fmod_": _tensor_fmod_, "pow": _tensor_pow, "add_": _tensor_add_, "sub_": _tensor_sub_,
    "mul_": _tensor_mul_, "div_": _tensor_div_, "divide_": _tensor_divide_, "uniform_": _tensor_uniform_,
    "normal_": _tensor_normal_, "random_": _tensor_random_, "exponential_": _tensor_exponential_,
    "geometric_": _tensor_geometric_, "log_normal_": _tensor_log_normal_, "cauchy_": _tensor_cauchy_,
    "bernoulli_": _tensor_bernoulli_, "bernoulli": _tensor_bernoulli, "multinomial": _tensor_multinomial,
    "lt": _tensor_lt, "le": _tensor_le, "gt": _tensor_gt, "ge": _tensor_ge, "eq": _tensor_eq,
    "ne": _tensor_ne, "less": _tensor_less, "less_equal": _tensor_less_equal, "greater": _tensor_greater,
    "greater_equal": _tensor_greater_equal, "not_equal": _tensor_not_equal, "equal": _tensor_equal,
    "clamp": _tensor_clamp, "clip": _tensor_clip, "clamp_min": _tensor_clamp_min,
    "clamp_max": _tensor_clamp_max, "clamp_": _tensor_clamp_, "clip_": _tensor_clip_,
    "clamp_min_": _tensor_clamp_min_, "clamp_max_": _tensor_clamp_max_, "maximum": _tensor_maximum,
    "minimum": _tensor_minimum, "fmax": _tensor_fmax, "fmin": _tensor_fmin, "where": _tensor_where,
    "logical_not": _tensor_logical_not, "logical_and": _tensor_logical_and, "logical_or": _tensor_logical_or,
    "logical_xor": _tensor_logical_xor, "bitwise_not": _tensor_bitwise_not,
    "bitwise_and": _tensor_bitwise_and, "bitwise_or": _tensor_bitwise_or, "bitwise_xor": _tensor_bitwise_xor,
    "sum": _tensor_sum, "mean": _tensor_mean, "prod": _tensor_prod, "max": _tensor_max, "min": _tensor_min,
    "amax": _tensor_amax, "amin": _tensor_amin, "argmax": _tensor_argmax, "argmin": _tensor_argmin,
    "var": _tensor_var, "std": _tensor_std, "logsumexp": _tensor_logsumexp, "mm": _tensor_mm,
    "mv": _tensor_mv, "dot": _tensor_dot, "matmul": _tensor_matmul, "bmm": _tensor_bmm,
    "softmax": _tensor_softmax, "log_softmax": _tensor_log_softmax, "relu_": _tensor_relu_,
    "any": _tensor_any, "all": _tensor_all, "count_nonzero": _tensor_count_nonzero, "cumsum": _tensor_cumsum,
    "cumsum_": _tensor_cumsum_, "outer": _tensor_outer, "ger": _tensor_ger, "norm": _tensor_norm,
    "inverse": _tensor_inverse, "det": _tensor_det, "logdet": _tensor_logdet, "slogdet": _tensor_slogdet,
    "cholesky": _tensor_cholesky, "cholesky_solve": _tensor_cholesky_solve,
    "cholesky_inverse": _tensor_cholesky_inverse, "pinverse": _tensor_pinverse, "svd": _tensor_svd,
    "qr": _tensor_qr, "matrix_exp": _tensor_matrix_exp, "matrix_power": _tensor_matrix_power,
    "cross": _tensor_cross, "lu_solve": _tensor_lu_solve, "addmm": _tensor_addmm,
})
