"""The op table: unary pointwise ops, one row each.

A row is everything cgrad knows about an op, in PyTorch's terms
(derivatives.yaml and native_functions.yaml hold the same facts):

  name     the op (cgrad.<name>, Tensor.<name>, ...)
  node     its grad_fn's name as PyTorch shows it
  ints     integer and bool inputs: 'native' computed in their own type
           (`ifwd`, wrapping as C's casts do), 'float' promoted to float32
           first, 'error' refused with PyTorch's "<kernel>" not implemented
  fwd      the forward: a Cython scalar expression of x (and the params),
           computed in float32 for float16 (rounded once on store)
  grad     the backward, one formula (see formula.py) rendered both as the
           fused kernel and as differentiable ops for create_graph=True.
           Legacy rows state the two separately: `bwd` (kernel expression
           of g and x or y, named by `reads`), `formula` (tensor ops),
           `hbwd` (float16 kernel rounding where PyTorch rounds)
  half     'per_op': the float16 backward rounds after every operation of
           `grad`, as PyTorch's op-by-op formula; default: once, as its
           fused backward kernels
  params   scalar parameters: ((name, default), ...), read by the kernels
           from their context and saved on the node as _saved_<name>
  api      where it appears: 'fn' cgrad.<name>, 'fn_' cgrad.<name>_,
           'meth' / 'meth_' Tensor methods, 'F' nn.functional.<name>
           (with inplace=False when 'F_' too); absent: legacy rows whose
           bindings are still written by hand (tensor.pxi, functions.pxi)
  inplace_node  the grad_fn of the in-place form when PyTorch names it
           differently (it then differentiates from the result)
  kernel   the kernel name in PyTorch's "not implemented for" errors
  bool_error  PyTorch's error text for a bool input, where it has its own
  params_first  the params come before the input in the signature
           (polygamma(n, input))
  expose   (legacy rows) the template writes the function with out= and
           the in-place function; inplace_fn=False where PyTorch has only
           the in-place method (Tensor.sign_, no torch.sign_)
  none_as  {param: value}: the number a parameter given as None stands for
  grad_kernel  the fused kernel's formula where it differs from `grad`
           (PyTorch's backward kernel handles edges the formula does not)
  inplace_node  the grad_fn of the in-place form where PyTorch names it
           differently (same rule, or none where inplace_grad is False)
  half_grad_error  PyTorch has no float16 backward kernel: its error names
           this kernel
  bf16_fwd  the bfloat16 forward where PyTorch's kernel rounds between its
           steps (c10::BFloat16 math): a function of x and params from
           kernels/special_bf16.pxi (else float32's kernel, rounded once)
  inplace_grad  False where PyTorch has no derivative for the in-place form
  out_dtype  'exact' where PyTorch's out= must have the result's dtype
  check    an argument check run before the forward (a call of the row's
           x and params)
  domain   (low, high): where sample inputs are drawn for the generic
           tests (tests/ops/test_op_table.py), as OpInfo's sample inputs
  jvp      forward-mode formula (filled by the forward-mode AD work)
  inplace_grad_formula  the in-place form's backward from its result `y`
           where PyTorch's differs from `grad` (celu_: CeluBackward1)
  inplace_backward_check  a check the in-place form's node runs before
           its backward (a call of the params)
  no_out   PyTorch's function takes no out= (torch.selu, torch.celu)
  bool_ok  with ints 'native': bool inputs too (`ifwd` on uint8), no error
  none_as  (continued) a str value is an expression of the input tensor,
           spelled {x}: nan_to_num's posinf=None is its dtype's largest value
  out_check  a check of out= run before the op (a call of `out` and the
           input `a`), where PyTorch has its own text
  vec_rows {dtype code: C kernel of vec_rows.h}: the forward over large
           contiguous operands, cloned for AVX2 / AVX-512 (same results)
  node_class / inplace_node_class  the Cython class of the node where a
           hand-written node already has PyTorch's name (selu's EluBackward0
           beside elu's): the class is renamed to `node` at import, so
           grad_fn shows PyTorch's name
"""

PI = 3.141592653589793

LEGACY = [
    dict(name='neg', node='NegBackward0', ints='native', expose=1, fwd='-x', ifwd='-x',
         bwd='-g', reads='', formula='op_neg(g)'),
    dict(name='abs', node='AbsBackward0', ints='native', expose=1, fwd='c_abs(x)', ifwd='x if x >= 0 else -x',
         bwd='g * c_sign(x)', reads='x', formula='op_mul(g, op_sign(x))'),
    dict(name='sign', node='SignBackward0', ints='native', expose=1, inplace_fn=False, fwd='c_sign(x)', ifwd='(x > 0) - (x < 0)',
         bwd='0', reads='', formula='op_zeros_like(g)'),
    dict(name='relu', node='ReluBackward0', ints='native', fwd='0 if x < 0 else x', ifwd='0 if x <= 0 else x',
         bwd='0 if y <= 0 else g', reads='y', formula='relu_grad_recorded(g, y)'),
    dict(name='exp', node='ExpBackward0', ints='float', expose=1, fwd='c_exp(x)', vec_rows=dict(F32='cg_vrow_exp_f32'),
         bwd='g * y', reads='y', formula='op_mul(g, y)'),
    dict(name='log', node='LogBackward0', ints='float', expose=1, fwd='c_log(x)', vec_rows=dict(F32='cg_vrow_log_f32'),
         bwd='g / x', reads='x', formula='op_div(g, x)'),
    dict(name='sqrt', node='SqrtBackward0', ints='float', expose=1, fwd='c_sqrt(x)',
         bwd='g / (2 * y)', reads='y', formula='op_div(g, op_mul_scalar(y, 2))',
         hbwd='cg_f2h(g / cg_h2f(cg_f2h(2 * y)))'),
    dict(name='sin', node='SinBackward0', ints='float', expose=1, fwd='c_sin(x)',
         bwd='g * c_cos(x)', reads='x', formula='op_mul(g, op_cos(x))',
         hbwd='cg_f2h(g * cg_h2f(cg_f2h(c_cos(x))))'),
    dict(name='cos', node='CosBackward0', ints='float', expose=1, fwd='c_cos(x)',
         bwd='g * -c_sin(x)', reads='x', formula='op_mul(g, op_neg(op_sin(x)))',
         hbwd='cg_f2h(g * -cg_h2f(cg_f2h(c_sin(x))))'),
    dict(name='tanh', node='TanhBackward0', ints='float', expose=1, fwd='c_tanh(x)', vec_rows=dict(F32='cg_vrow_tanh_f32', F64='cg_vrow_tanh_f64'),
         bwd='g * (1 - y * y)', reads='y', formula='op_mul(g, op_rsub_scalar(op_mul(y, y), 1))'),
    dict(name='sigmoid', node='SigmoidBackward0', ints='float', expose=1, fwd='c_sigmoid(x)', vec_rows=dict(F32='cg_vrow_sigmoid_f32', F64='cg_vrow_sigmoid_f64'),
         bwd='g * (1 - y) * y', reads='y', formula='op_mul(op_mul(g, op_rsub_scalar(y, 1)), y)',
         hbwd='cg_f2h(cg_h2f(cg_f2h(g * cg_h2f(cg_f2h(1 - y)))) * y)'),
    dict(name='reciprocal', node='ReciprocalBackward0', ints='float', expose=1, fwd='1 / x',
         bwd='-g * (y * y)', reads='y', formula='op_mul(op_neg(g), op_mul(y, y))',
         hbwd='cg_f2h(-g * cg_h2f(cg_f2h(y * y)))'),
    dict(name='rsqrt', node='RsqrtBackward0', ints='float', fwd='c_rsqrt(x)', expose=1,
         bwd='-0.5 * g * (y * y * y)', reads='y', formula='op_mul(op_mul_scalar(g, -0.5), op_pow_scalar(y, 3))'),
    dict(name='log1p', node='Log1PBackward0', ints='float', fwd='c_log1p(x)', expose=1, vec_rows=dict(F32='cg_vrow_log1p_f32'),
         bwd='g / (x + 1)', reads='x', formula='op_div(g, op_add_scalar(x, 1))'),
    dict(name='expm1', node='Expm1Backward0', ints='float', fwd='c_expm1(x)', expose=1, vec_rows=dict(F32='cg_vrow_expm1_f32'),
         bwd='g * (y + 1)', reads='y', formula='op_mul(g, op_add_scalar(y, 1))'),
    dict(name='log2', node='Log2Backward0', ints='float', fwd='c_log2(x)', expose=1,
         bwd='g / (x * <CT>0.6931471805599453)', reads='x', formula='op_div(g, op_mul_scalar(x, 0.6931471805599453))'),
    dict(name='log10', node='Log10Backward0', ints='float', fwd='c_log10(x)', expose=1,
         bwd='g / (x * <CT>2.3025850929940456)', reads='x', formula='op_div(g, op_mul_scalar(x, 2.3025850929940456))'),
    dict(name='sinh', node='SinhBackward0', ints='float', fwd='c_sinh(x)', expose=1,
         bwd='g * c_cosh(x)', reads='x', formula='op_mul(g, op_cosh(x))'),
    dict(name='cosh', node='CoshBackward0', ints='float', fwd='c_cosh(x)', expose=1,
         bwd='g * c_sinh(x)', reads='x', formula='op_mul(g, op_sinh(x))'),
    dict(name='asin', node='AsinBackward0', ints='float', fwd='c_asin(x)', expose=1,
         bwd='g * c_rsqrt(-x * x + 1)', reads='x', formula='op_mul(g, op_rsqrt(op_rsub_scalar(op_mul(x, x), 1)))'),
    dict(name='acos', node='AcosBackward0', ints='float', fwd='c_acos(x)', expose=1,
         bwd='g * -c_rsqrt(-x * x + 1)', reads='x', formula='op_mul(g, op_neg(op_rsqrt(op_rsub_scalar(op_mul(x, x), 1))))'),
    dict(name='atan', node='AtanBackward0', ints='float', fwd='c_atan(x)', expose=1,
         bwd='g / (x * x + 1)', reads='x', formula='op_div(g, op_add_scalar(op_mul(x, x), 1))'),
    dict(name='erf', node='ErfBackward0', ints='float', fwd='c_erf(x)', expose=1, vec_rows=dict(F32='cg_vrow_erf_f32'),
         bwd='<CT>1.1283791670955126 * c_exp(-(x * x)) * g', reads='x',
         formula='op_mul(op_mul_scalar(op_exp(op_neg(op_pow_scalar(x, 2))), 1.1283791670955126), g)'),
    dict(name='floor', node='FloorBackward0', ints='native', fwd='c_floor(x)', ifwd='x', expose=1,
         boolerr='floor_vml_cpu', bwd='0', reads='', formula='op_zeros_like(g)'),
    dict(name='ceil', node='CeilBackward0', ints='native', fwd='c_ceil(x)', ifwd='x', expose=1,
         boolerr='ceil_vml_cpu', bwd='0', reads='', formula='op_zeros_like(g)'),
    dict(name='round', node='RoundBackward0', ints='native', fwd='c_round(x)', ifwd='x', expose=1,
         vec_rows=dict(F32='cg_vrow_round_f32'),
         boolerr='round_vml_cpu', bwd='0', reads='', formula='op_zeros_like(g)'),
    dict(name='trunc', node='TruncBackward0', ints='native', fwd='c_trunc(x)', ifwd='x', expose=1,
         boolerr='trunc_vml_cpu', bwd='0', reads='', formula='op_zeros_like(g)'),
    dict(name='frac', node='FracBackward0', ints='error', fwd='x - c_trunc(x)', expose=1,
         bwd='g', reads='', formula='g'),
    dict(name='sgn', node='SgnBackward0', ints='native', fwd='(x > 0) - (x < 0)', ifwd='(x > 0) - (x < 0)',
         expose=1, bwd='0', reads='', formula='op_zeros_like(g)'),
]

MATH = ('fn', 'fn_', 'meth', 'meth_')

TABLE = [
    # ---- math ------------------------------------------------------------
    dict(name='tan', node='TanBackward0', ints='float', fwd='c_tan(x)', domain=(-1.4, 1.4),
         grad='g * (1 + y ** 2)', half='per_op', api=MATH),
    dict(name='asinh', inplace_grad=False, inplace_node='AsinhBackward1', node='AsinhBackward0', ints='float', fwd='c_asinh(x)',
         grad='g * rsqrt(x ** 2 + 1)', half='per_op', api=MATH),
    dict(name='acosh', inplace_grad=False, inplace_node='AcoshBackward1', node='AcoshBackward0', ints='float', fwd='c_acosh(x)', domain=(1.1, 4.0),
         grad='g * rsqrt(x ** 2 - 1)', half='per_op', api=MATH),
    dict(name='atanh', inplace_grad=False, inplace_node='AtanhBackward1', node='AtanhBackward0', ints='float', fwd='c_atanh(x)', domain=(-0.9, 0.9),
         grad='g / (1 - x ** 2)', half='per_op', api=MATH),
    dict(name='exp2', node='Exp2Backward0', ints='float', fwd='c_exp2(x)',
         grad='g * y * 0.6931471805599453', half='per_op', api=MATH),
    dict(name='erfc', node='ErfcBackward0', vec_rows=dict(F32='cg_vrow_erfc_f32'), ints='float', fwd='c_erfc(x)',
         grad='-1.1283791670955126 * exp(-(x ** 2)) * g', half='per_op', api=MATH),
    dict(name='deg2rad', node='Deg2RadBackward0', ints='float', fwd=f'x * <CT>{PI / 180!r}',
         grad=f'g * {PI / 180!r}', api=MATH),
    dict(name='rad2deg', node='Rad2DegBackward0', ints='float', fwd=f'x * <CT>{180 / PI!r}',
         grad=f'g * {180 / PI!r}', api=MATH),
    dict(name='sinc', node='SincBackward0', ints='float',
         fwd=f'<CT>1 if x == 0 else c_sin(x * <CT>{PI!r}) / (x * <CT>{PI!r})',
         grad=f'0 if x * x * {PI!r} == 0 else g * (x * {PI!r} * cos(x * {PI!r}) - sin(x * {PI!r})) / (x * x * {PI!r})',
         half='per_op', api=MATH),
    # ---- special functions (scalar algorithms in special_math.h) ----------
    dict(name='lgamma', node='LgammaBackward0', ints='float', fwd='c_lgamma(x)',
         grad='g * digamma(x)', half='per_op', api=('fn', 'meth', 'meth_')),
    dict(name='digamma', node='DigammaBackward0', ints='float', fwd='c_digamma(x)',
         grad='g * polygamma(1, x)', half='per_op', api=('fn', 'meth', 'meth_'), domain=(0.2, 4.0)),
    dict(name='polygamma', node='PolygammaBackward0', ints='float', params=(('n', None),),
         params_first=True, check='check_polygamma_n(n)', inplace_node='PolygammaBackward1', fwd='c_polygamma(n, x)',
         grad='g * polygamma(n + 1, x)', half='per_op', api=('fn', 'meth', 'meth_'), domain=(0.2, 4.0)),
    dict(name='erfinv', node='ErfinvBackward0', ints='float', fwd='c_erfinv(x)',
         grad='0.886226925452758 * exp(erfinv(x) ** 2) * g', half='per_op', api=('fn', 'meth', 'meth_'),
         domain=(-0.9, 0.9)),
    dict(name='i0', node='I0Backward0', ints='float', fwd='c_i0(x)',
         grad='g * i1(x)', half='per_op', api=MATH),
    dict(name='i1', node='SpecialI1Backward0', ints='float', fwd='c_i1(x)',
         grad='g * 0.5 if x == 0 else g * (i0(x) - i1(x) / x)', half='per_op', api=(),
         half_grad_error='i1_backward'),
    dict(name='logit', bf16_fwd='bf16_logit(x, eps)', node='LogitBackward0', ints='float', params=(('eps', None),), none_as={'eps': -1.0},
         fwd='c_logit(x, eps)', grad_kernel='logit_backward(g, x, eps)',
         grad='0 if (x < eps or x > 1 - eps) else g / (x * (1 - x))', half='per_op', api=MATH,
         domain=(0.05, 0.95)),
    # ---- activations (nn.functional) ---------------------------------------
    dict(name='hardtanh', node='HardtanhBackward0', ints='native', params=(('min_val', -1.0), ('max_val', 1.0)),
         # clamp's order (min, then max), as PyTorch's kernel: max_val wins where min_val > max_val
         fwd='(max_val if min_val > max_val else min_val) if x < min_val else (max_val if x > max_val else x)',
         ifwd='(<T>max_val if min_val > max_val else <T>min_val) if x < min_val else (<T>max_val if x > max_val else x)',
         grad='0 if (x <= min_val or x >= max_val) else g', api=('F', 'F_'),
         bool_error='Bool inputs not supported for hardtanh'),
    dict(name='hardsigmoid', node='HardsigmoidBackward0', ints='error',
         fwd='<CT>0 if x + 3 <= 0 else (<CT>1 if x + 3 >= 6 else (x + 3) / 6)',
         grad='g * 0.1666666716337204 if (x > -3 and x < 3) else 0', api=('F', 'F_')),
    dict(name='hardswish', node='HardswishBackward0', ints='error',
         fwd='x * (<CT>0 if x + 3 <= 0 else (<CT>6 if x + 3 >= 6 else x + 3)) / 6',
         grad='0 if x <= -3 else (g if x >= 3 else g * (x / 3 + 0.5))', api=('F', 'F_')),
    dict(name='mish', node='MishBackward0', vec_rows=dict(F32='cg_vrow_mish_f32'), ints='error', fwd='x * c_tanh(c_log1p(c_exp(x)))',
         grad='g * (tanh(log1p(exp(x))) + x * sigmoid(x) * (1 - tanh(log1p(exp(x))) ** 2))',
         api=('F', 'F_')),
    dict(name='softshrink', node='SoftshrinkBackward0', ints='error', params=(('lambd', 0.5),),
         fwd='x - lambd if x > lambd else (x + lambd if x < -lambd else x * 0)',
         grad='0 if (x >= -lambd and x <= lambd) else g', api=('F',), kernel='softshrink_check',
         check='check_shrink_lambda(x, lambd)'),
    dict(name='hardshrink', node='HardshrinkBackward0', ints='error', params=(('lambd', 0.5),),
         fwd='<CT>0 if (x >= -lambd and x <= lambd) else x',
         grad='0 if (x >= -lambd and x <= lambd) else g', api=('F', 'fn', 'meth'), out_dtype='exact'),
    dict(name='threshold', node='ThresholdBackward0', ints='native', params=(('threshold', None), ('value', None)),
         fwd='value if x <= threshold else x', ifwd='<T>value if x <= threshold else x',
         grad='0 if x <= threshold else g', api=('F', 'F_', 'fn', 'fn_'),
         check='check_params_fit(x, threshold, value)', inplace_node='ThresholdBackward1'),
    dict(name='logsigmoid', node='LogSigmoidBackward0', vec_rows=dict(F32='cg_vrow_logsigmoid_f32'), ints='error',
         fwd='(x if x < 0 else <CT>0) - c_log1p(c_exp(-c_abs(x)))',
         grad='g * (1 - exp(-abs(x)) / (1 + exp(-abs(x))) if x < 0 else exp(-abs(x)) / (1 + exp(-abs(x))))',
         api=('F',), kernel='log_sigmoid_cpu'),
]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

TABLE += [
    # ---- nn rows over elu's kernel (PyTorch's elu with scale/input_scale) ---
    # (c_where: both arms computed, so the float32 loops vectorise)
    dict(name='selu', node='EluBackward0', node_class='SeluBackward', inplace_node='EluBackward1',
         inplace_node_class='SeluInplaceBackward', ints='error', kernel='elu_cpu', vec_rows=dict(F32='cg_vrow_selu_f32'),
         fwd=f'c_where(x <= 0, c_expm1(x) * (<CT>{SELU_ALPHA!r} * <CT>{SELU_SCALE!r}), x * <CT>{SELU_SCALE!r})',
         grad=f'g * ({SELU_ALPHA!r} * {SELU_SCALE!r}) * exp(x) if x <= 0 else g * {SELU_SCALE!r}',
         api=('fn', 'fn_', 'F', 'F_'), no_out=True),
    dict(name='celu', node='CeluBackward0', inplace_node='CeluBackward1', ints='error', kernel='elu_cpu',
         params=(('alpha', 1.0),), check='check_celu_alpha(alpha)',
         inplace_backward_check='check_inplace_elu_alpha(alpha)',
         inplace_grad_formula='g * (1 / float32(alpha)) * (y + alpha) if y <= 0 else g',
         fwd='c_where(x <= 0, c_expm1(x * (<CT>1 / alpha)) * alpha, x)',
         grad='g * (1 / float32(alpha)) * alpha * exp(x * (1 / float32(alpha))) if x <= 0 else g',
         api=('fn', 'fn_', 'F', 'F_'), no_out=True),
    dict(name='nan_to_num', node='NanToNumBackward0', ints='native', bool_ok=True,
         params=(('nan', 0.0), ('posinf', None), ('neginf', None)),
         none_as={'posinf': 'float_max_of({x})', 'neginf': '-float_max_of({x})'},
         fwd='nan if x != x else (posinf if (x - x != 0 and x > 0) else (neginf if x - x != 0 else x))',
         ifwd='x', grad='g if x - x == 0 else 0', api=MATH,
         out_check='check_out_same_dtype(out, a, "nan_to_num")'),
]

TABLE += [
    # ---- torch.special only (cgrad.special); no float16 kernel in PyTorch ----
    dict(name='erfcx', node='SpecialErfcxBackward0', ints='float', fwd='<CT>cg_erfcx(<double>x)',
         check='check_no_half(x, "erfcx_cpu")', grad='g * (2 * x * y - 1.1283791670955126)', api=()),
]

TABLE += [
    # ---- more of torch.special (scalar functions in special_ndtr.pxi) -------
    dict(name='entr', bf16_fwd='bf16_entr(x)', node='SpecialEntrBackward0', ints='float', fwd='c_entr(x)',
         grad='g * -(1 + log(x))', half='per_op', api=(), domain=(0.1, 3.0)),
    dict(name='ndtri', node='SpecialNdtriBackward0', ints='float', fwd='<CT>cg_ndtri(<double>x)',
         check='check_no_half(x, "ndtri_cpu")', grad='g * 2.5066282746310002 * exp(y ** 2 / 2)', api=(),
         domain=(0.05, 0.95)),
    dict(name='log_ndtr', node='SpecialLogNdtrBackward0', ints='float', fwd='<CT>cg_log_ndtr(<double>x)',
         check='check_no_half(x, "log_ndtr_cpu")', grad='g / 2.5066282746310002 * exp(-(y + x ** 2 / 2))',
         api=()),
    dict(name='i0e', node='SpecialI0EBackward0', ints='float', fwd='c_i0e(x)',
         grad='g * (i1e(x) - y) if x > 0 else (g * (i1e(x) + y) if x < 0 else g * i1e(x))', half='per_op',
         api=()),
    dict(name='i1e', node='SpecialI1EBackward0', ints='float', fwd='c_i1e(x)',
         grad='g * 0.5 if x == 0 else (g * (i0e(x) - y * (1 + x ** -1)) if x > 0 else g * (i0e(x) - y * (-1 + x ** -1)))',
         grad_kernel='g * 0.5 if x == 0 else (g * (i0e(x) - y * (1 + 1 / x)) if x > 0 else g * (i0e(x) - y * (-1 + 1 / x)))',
         half='per_op', api=(),
         half_grad_error='i1e_backward'),
]
