# Tensor's methods over the pointwise ops: the unary math ops (rsqrt, log1p,
# sinh, floor, round, ...) with their in-place forms, the in-place forms of
# the unary ops whose out-of-place methods are in tensor.pxi's class body
# (neg_, exp_, ...), isnan/isinf/isfinite, isclose/allclose, atan2 and lerp.
# Thin wrappers kept out of tensor.pxi's class body and installed into
# Tensor's type at import under their class-body names (see
# tensor_methods_math.pxi's header for why).

# --- unary math ops and their in-place forms, predicates, isclose, atan2, lerp


def _tensor_rsqrt(Tensor self not None):
    return op_rsqrt(self)


def _tensor_rsqrt_(Tensor self not None):
    return op_rsqrt_(self)


def _tensor_log1p(Tensor self not None):
    return op_log1p(self)


def _tensor_log1p_(Tensor self not None):
    return op_log1p_(self)


def _tensor_expm1(Tensor self not None):
    return op_expm1(self)


def _tensor_expm1_(Tensor self not None):
    return op_expm1_(self)


# in-place forms of the unary ops whose methods are in tensor.pxi's class body
def _tensor_neg_(Tensor self not None):
    return op_neg_(self)


def _tensor_negative(Tensor self not None):
    return op_neg(self)


def _tensor_negative_(Tensor self not None):
    return op_neg_(self)


def _tensor_abs_(Tensor self not None):
    return op_abs_(self)


def _tensor_absolute(Tensor self not None):
    return op_abs(self)


def _tensor_absolute_(Tensor self not None):
    return op_abs_(self)


def _tensor_sign_(Tensor self not None):
    return op_sign_(self)


def _tensor_exp_(Tensor self not None):
    return op_exp_(self)


def _tensor_log_(Tensor self not None):
    return op_log_(self)


def _tensor_sqrt_(Tensor self not None):
    return op_sqrt_(self)


def _tensor_sin_(Tensor self not None):
    return op_sin_(self)


def _tensor_cos_(Tensor self not None):
    return op_cos_(self)


def _tensor_tanh_(Tensor self not None):
    return op_tanh_(self)


def _tensor_sigmoid_(Tensor self not None):
    return op_sigmoid_(self)


def _tensor_reciprocal_(Tensor self not None):
    return op_reciprocal_(self)


def _tensor_log2(Tensor self not None):
    return op_log2(self)


def _tensor_log2_(Tensor self not None):
    return op_log2_(self)


def _tensor_log10(Tensor self not None):
    return op_log10(self)


def _tensor_log10_(Tensor self not None):
    return op_log10_(self)


def _tensor_sinh(Tensor self not None):
    return op_sinh(self)


def _tensor_sinh_(Tensor self not None):
    return op_sinh_(self)


def _tensor_cosh(Tensor self not None):
    return op_cosh(self)


def _tensor_cosh_(Tensor self not None):
    return op_cosh_(self)


def _tensor_asin(Tensor self not None):
    return op_asin(self)


def _tensor_asin_(Tensor self not None):
    return op_asin_(self)


def _tensor_acos(Tensor self not None):
    return op_acos(self)


def _tensor_acos_(Tensor self not None):
    return op_acos_(self)


def _tensor_atan(Tensor self not None):
    return op_atan(self)


def _tensor_atan_(Tensor self not None):
    return op_atan_(self)


def _tensor_erf(Tensor self not None):
    return op_erf(self)


def _tensor_erf_(Tensor self not None):
    return op_erf_(self)


def _tensor_floor(Tensor self not None):
    return op_floor(self)


def _tensor_floor_(Tensor self not None):
    return op_floor_(self)


def _tensor_ceil(Tensor self not None):
    return op_ceil(self)


def _tensor_ceil_(Tensor self not None):
    return op_ceil_(self)


def _tensor_round(Tensor self not None, *, decimals=None):
    return op_round(self) if decimals is None else op_round_decimals(self, decimals, True)


def _tensor_round_(Tensor self not None, *, decimals=None):
    return op_round_(self) if decimals is None else op_round_decimals_(self, decimals)


def _tensor_trunc(Tensor self not None):
    return op_trunc(self)


def _tensor_trunc_(Tensor self not None):
    return op_trunc_(self)


def _tensor_frac(Tensor self not None):
    return op_frac(self)


def _tensor_frac_(Tensor self not None):
    return op_frac_(self)


def _tensor_square(Tensor self not None):
    return op_square(self)


def _tensor_square_(Tensor self not None):
    return op_square_(self)


def _tensor_sgn(Tensor self not None):
    return op_sgn(self)


def _tensor_sgn_(Tensor self not None):
    return op_sgn_(self)


def _tensor_isnan(Tensor self not None):
    return op_fpclass(self, FP_ISNAN)


def _tensor_isinf(Tensor self not None):
    return op_fpclass(self, FP_ISINF)


def _tensor_isfinite(Tensor self not None):
    return op_fpclass(self, FP_ISFINITE)


def _tensor_isclose(Tensor self not None, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return op_isclose(self, need_tensor(other, "isclose", "other", 1), rtol, atol, equal_nan)


def _tensor_allclose(Tensor self not None, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return allclose(self, other, rtol, atol, equal_nan)


def _tensor_atan2(Tensor self not None, other):
    return op_atan2(self, need_tensor(other, "atan2", "other", 1))


def _tensor_arctan2(Tensor self not None, other):
    return op_atan2(self, need_tensor(other, "arctan2", "other", 1))

# --- lerp


def _tensor_lerp(Tensor self not None, end, weight):
    return op_lerp(self, need_tensor(end, "lerp", "end", 1),
                   weight if isinstance(weight, Tensor) else normalize_scalar(weight))


def _tensor_lerp_(Tensor self not None, end, weight):
    cdef Tensor e = need_tensor(end, "lerp_", "end", 1)
    cdef Tensor r
    w = weight if isinstance(weight, Tensor) else normalize_scalar(weight)
    check_inplace(self)
    if (cgrad_grad_enabled and (self._requires_grad or e._requires_grad or
                                (isinstance(w, Tensor) and (<Tensor>w)._requires_grad))) or (
            has_tangent(self) or has_tangent(e) or has_tangent(w)):
        return commit_inplace(self, op_lerp(old_value(self, isinstance(w, Tensor)), e, w))
    r = op_lerp(alias_detached(self), alias_detached(e),
                alias_detached(<Tensor>w) if isinstance(w, Tensor) else w)
    copy_into(self, r)
    self._storage.version += 1
    return self


install_class_methods({
    "rsqrt": _tensor_rsqrt, "rsqrt_": _tensor_rsqrt_, "log1p": _tensor_log1p, "log1p_": _tensor_log1p_,
    "expm1": _tensor_expm1, "expm1_": _tensor_expm1_, "neg_": _tensor_neg_, "negative": _tensor_negative,
    "negative_": _tensor_negative_, "abs_": _tensor_abs_, "absolute": _tensor_absolute,
    "absolute_": _tensor_absolute_, "sign_": _tensor_sign_, "exp_": _tensor_exp_, "log_": _tensor_log_,
    "sqrt_": _tensor_sqrt_, "sin_": _tensor_sin_, "cos_": _tensor_cos_, "tanh_": _tensor_tanh_,
    "sigmoid_": _tensor_sigmoid_, "reciprocal_": _tensor_reciprocal_, "log2": _tensor_log2,
    "log2_": _tensor_log2_, "log10": _tensor_log10, "log10_": _tensor_log10_, "sinh": _tensor_sinh,
    "sinh_": _tensor_sinh_, "cosh": _tensor_cosh, "cosh_": _tensor_cosh_, "asin": _tensor_asin,
    "asin_": _tensor_asin_, "acos": _tensor_acos, "acos_": _tensor_acos_, "atan": _tensor_atan,
    "atan_": _tensor_atan_, "erf": _tensor_erf, "erf_": _tensor_erf_, "floor": _tensor_floor,
    "floor_": _tensor_floor_, "ceil": _tensor_ceil, "ceil_": _tensor_ceil_, "round": _tensor_round,
    "round_": _tensor_round_, "trunc": _tensor_trunc, "trunc_": _tensor_trunc_, "frac": _tensor_frac,
    "frac_": _tensor_frac_, "square": _tensor_square, "square_": _tensor_square_, "sgn": _tensor_sgn,
    "sgn_": _tensor_sgn_, "isnan": _tensor_isnan, "isinf": _tensor_isinf, "isfinite": _tensor_isfinite,
    "isclose": _tensor_isclose, "allclose": _tensor_allclose, "atan2": _tensor_atan2,
    "arctan2": _tensor_arctan2, "lerp": _tensor_lerp, "lerp_": _tensor_lerp_,
})
