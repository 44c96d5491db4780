"""The op table's JVP column (forward-mode AD), keyed by row name.

A row may also carry `jvp=` itself; this file keeps the column apart so that
rows added in parallel merge without touching it. A value is either

  'element_wise'  PyTorch's auto_element_wise: the JVP of a pointwise op is
                  its backward formula with the incoming gradient `g`
                  replaced by the input's tangent (for a binary op, the sum
                  of both inputs' terms), exact because a pointwise op's
                  Jacobian is diagonal and real;
  a formula       formula.py syntax over the tangent `t` (unary) or `t` and
                  `t_other` (binary), the inputs `x`, `other` and the result
                  `y`, and the row's parameters.

A row without a JVP renders a node whose forward AD raises PyTorch's
"Trying to use forward AD with <op> that does not support it because it has
not been implemented yet." error, and render_all lists such rows.
"""

ELEMENT_WISE = 'element_wise'

UNARY = {name: ELEMENT_WISE for name in (
    # legacy rows
    'neg', 'abs', 'sign', 'relu', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'reciprocal',
    'rsqrt', 'log1p', 'expm1', 'log2', 'log10', 'sinh', 'cosh', 'asin', 'acos', 'atan', 'erf', 'floor',
    'ceil', 'round', 'trunc', 'frac', 'sgn',
    # table rows
    'tan', 'asinh', 'acosh', 'atanh', 'exp2', 'erfc', 'deg2rad', 'rad2deg', 'sinc', 'lgamma', 'digamma',
    'polygamma', 'erfinv', 'i0', 'i1', 'logit', 'hardtanh', 'hardsigmoid', 'hardswish', 'mish',
    'softshrink', 'hardshrink', 'threshold', 'logsigmoid', 'selu', 'celu', 'nan_to_num',
    'erfcx', 'entr', 'ndtri', 'log_ndtr', 'i0e', 'i1e',
)}

BINARY = {name: ELEMENT_WISE for name in (
    'hypot', 'copysign', 'logaddexp', 'logaddexp2', 'xlogy', 'xlog1py',
)}
