"""The op table: binary pointwise ops, one row each (see table_unary.py for
the fields they share). Both inputs broadcast and promote as PyTorch's
TensorIterator does; each gradient is summed back over broadcast dims and
cast to its input's dtype.

  fwd          the forward: a Cython scalar expression of a and b
  ifwd         the forward for integer and bool types (ints='native')
  grad_self    the gradient of input (formula.py syntax: g, x, other, y)
  grad_other   the gradient of other; None: other is not differentiable
  scalar_other a Python number is taken as other (wrapped as PyTorch's
               wrapped-number tensor), recorded by the node named here
  scalar_self  likewise for a number as input
  no_grad      PyTorch has no derivative: its NotImplemented node is
               recorded, and backward through it raises
  bf16_fwd     the bfloat16 forward of a and b where PyTorch rounds between
               steps (kernels/special_bf16.pxi)
"""

MATH = ('fn', 'meth', 'meth_')

TABLE = [
    dict(name='hypot', node='HypotBackward0', ints='error', fwd='c_hypot(a, b)',
         grad_self='g * x / y', grad_other='g * other / y', half='per_op', api=MATH),
    dict(name='copysign', node='CopysignBackward0', ints='float', fwd='c_copysign(a, b)',
         grad_self='g * (0 if x == 0 else y / x)', grad_other='zeros_like(g)', half='per_op',
         scalar_other='CopysignBackward1', api=MATH),
    dict(name='logaddexp', node='LogaddexpBackward0', ints='error', fwd='c_logaddexp(a, b)',
         grad_self='g / (1 + exp(other - x))', grad_other='g / (1 + exp(x - other))', half='per_op',
         api=('fn', 'meth')),
    dict(name='logaddexp2', node='Logaddexp2Backward0', ints='error', fwd='c_logaddexp2(a, b)',
         grad_self='g / (1 + exp2(other - x))', grad_other='g / (1 + exp2(x - other))', half='per_op',
         api=('fn', 'meth')),
    dict(name='xlogy', bf16_fwd='bf16_xlogy(a, b)', node='XlogyBackward0', ints='float', fwd='c_xlogy(a, b)',
         grad_self='g * log(other)',
         grad_other='g * x / other', half='per_op',
         scalar_other='XlogyBackward2', scalar_self='XlogyBackward1', api=('fn', 'fn_', 'meth', 'meth_'),
         domain_other=(0.2, 3.0)),
    dict(name='heaviside', node='HeavisideBackward0', ints='native', fwd='c_heaviside(a, b)',
         ifwd='<T>(b if a == 0 else (0 if a < 0 else 1))', no_grad=True, api=MATH),
]

TABLE += [
    # torch.special.xlog1py (no torch.xlog1py): cgrad.special wraps the 'fn' binding
    dict(name='xlog1py', bf16_fwd='bf16_xlog1py(a, b)', node='SpecialXlog1PyBackward0', ints='float', fwd='c_xlog1py(a, b)',
         grad_self='g * log1p(other)',
         grad_other='g * x / (other + 1)', half='per_op',
         scalar_other='SpecialXlog1PyBackward2', scalar_self='SpecialXlog1PyBackward1', api=('fn',),
         domain_other=(-0.5, 3.0)),
]
