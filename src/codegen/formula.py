"""Derivative formulas of the op table, written once and rendered twice.

A table row states each backward rule as one expression in Python syntax
over the incoming gradient `g`, the op's input `x` (PyTorch's `self`), its
result `y`, a binary op's second input `other`, and the op's scalar
parameters by name. For example sinh's rule is `g * cosh(x)`.

The same expression renders to:

- a scalar Cython expression for the fused backward row kernel (one pass
  over memory, no temporaries), in the kernel's compute type;
- a chain of differentiable tensor ops (`op_mul(g, op_cosh(x))`), run when
  a graph of the backward is being built (create_graph=True), so higher
  derivatives need no extra declaration.

Both renderings keep the expression's order of operations, so the fused
kernel and the tensor chain give the same float32/float64 values. For
float16, PyTorch runs a formula op by op and rounds every intermediate
tensor to half; `per_op_half=True` makes the fused kernel round at the same
places (cg_f2h/cg_h2f around each operation), while the default computes
the whole expression in float32 and rounds once, as PyTorch's fused
backward kernels (tanh_backward, threshold_backward, ...) do.

Function calls name scalar functions with a tensor counterpart: every unary
table op (`cosh` -> s_cosh / op_cosh) plus the extra ones in FUNCTIONS.
"""
import ast

TENSOR_VARS = {"g", "x", "y", "other", "t", "t_other"}   # t, t_other: tangents (JVP column)

# name -> (scalar template, tensor template); {0}, {1} are the arguments.
FUNCTIONS = {
    "sign": ("c_sign({0})", "op_sign({0})"),
    "abs": ("c_abs({0})", "op_abs({0})"),
    "exp": ("c_exp({0})", "op_exp({0})"),
    "log": ("c_log({0})", "op_log({0})"),
    "sqrt": ("c_sqrt({0})", "op_sqrt({0})"),
    "rsqrt": ("c_rsqrt({0})", "op_rsqrt({0})"),
    "sin": ("c_sin({0})", "op_sin({0})"),
    "cos": ("c_cos({0})", "op_cos({0})"),
    "tanh": ("c_tanh({0})", "op_tanh({0})"),
    "sigmoid": ("c_sigmoid({0})", "op_sigmoid({0})"),
    "cosh": ("c_cosh({0})", "op_cosh({0})"),
    "sinh": ("c_sinh({0})", "op_sinh({0})"),
    "expm1": ("c_expm1({0})", "op_expm1({0})"),
    "log1p": ("c_log1p({0})", "op_log1p({0})"),
    "polygamma": ("c_polygamma({0}, {1})", "op_polygamma({1}, {0})"),
    "zeros_like": ("0", "op_zeros_like({0})"),
    "logit_backward": ("c_logit_backward({0}, {1}, {2})", None),
    # a scalar parameter rounded to float32, as PyTorch's Scalar.toFloat()
    # in some formulas (celu's 1.0 / alpha.toFloat())
    "float32": ("(<{ct}>(<float>({0})))", "float32_round({0})"),
}

_BINOP = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMP = {ast.Lt: ("<", "lt"), ast.LtE: ("<=", "le"), ast.Gt: (">", "gt"), ast.GtE: (">=", "ge"),
        ast.Eq: ("==", "eq"), ast.NotEq: ("!=", "ne")}
# scalar on the left of a tensor: (op, swapped tensor call)
_TENSOR_SCALAR = {"+": "op_add_scalar", "-": "op_sub_scalar", "*": "op_mul_scalar",
                  "/": "op_div_scalar", "**": "op_pow_scalar"}
_SCALAR_TENSOR = {"+": "op_add_scalar", "-": "op_rsub_scalar", "*": "op_mul_scalar",
                  "/": "op_rdiv_scalar", "**": "op_rpow_scalar"}
_TENSOR_TENSOR = {"+": "op_add", "-": "op_sub", "*": "op_mul", "/": "op_div", "**": "op_pow"}


class FormulaError(ValueError):
    pass


def parse(text):
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise FormulaError(f"bad formula {text!r}: {e}") from None


def variables(text):
    """The tensor variables a formula reads (which saved values its node keeps)."""
    return {n.id for n in ast.walk(parse(text)) if isinstance(n, ast.Name) and n.id in TENSOR_VARS}


# the conversions of the 16-bit floats (half.h), by dtype code
TO_FLOAT = {'F16': 'cg_h2f', 'BF16': 'cg_bf2f'}
FROM_FLOAT = {'F16': 'cg_f2h', 'BF16': 'cg_f2bf'}


class ScalarRenderer:
    """Renders a formula as a Cython scalar expression in compute type `ct`.
    `names` maps variable names to their scalar spelling (parameters read
    from the kernel's ctx); `half` ('F16', 'BF16'; True is 'F16') rounds
    each operation to that 16-bit float."""

    def __init__(self, ct, names, half=False):
        self.ct, self.names = ct, names
        self.half = 'F16' if half is True else half

    def render(self, node):
        return self._r(node, top=True)

    def _round(self, e, top):
        if top or not self.half:
            return e
        return f"{TO_FLOAT[self.half]}({FROM_FLOAT[self.half]}({e}))"

    def _r(self, n, top=False):
        if isinstance(n, ast.Constant):
            if isinstance(n.value, bool) or not isinstance(n.value, (int, float)):
                raise FormulaError(f"unsupported constant {n.value!r}")
            return f"(<{self.ct}>{float(n.value)!r})"
        if isinstance(n, ast.Name):
            return self.names.get(n.id, n.id)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return f"(-{self._r(n.operand)})"   # negation is exact: never rounded
        if isinstance(n, ast.BinOp):
            op = _BINOP[type(n.op)]
            if op == "**":
                k = n.right.value if isinstance(n.right, ast.Constant) else None
                if k in (2, 3):
                    b = self._r(n.left)
                    return self._round("(" + " * ".join([b] * k) + ")", top)
                return self._round(f"c_pow({self._r(n.left)}, {self._r(n.right)})", top)
            return self._round(f"({self._r(n.left)} {op} {self._r(n.right)})", top)
        if isinstance(n, ast.Compare) and len(n.ops) == 1:
            return f"({self._r(n.left)} {_CMP[type(n.ops[0])][0]} {self._r(n.comparators[0])})"
        if isinstance(n, ast.BoolOp):
            word = " and " if isinstance(n.op, ast.And) else " or "
            return "(" + word.join(self._r(v) for v in n.values) + ")"
        if isinstance(n, ast.IfExp):
            return f"({self._r(n.body, top)} if {self._r(n.test)} else {self._r(n.orelse, top)})"
        if isinstance(n, ast.Call):
            args = [self._r(a) for a in n.args]
            return self._round(function(n.func.id)[0].format(*args, ct=self.ct), top)
        raise FormulaError(f"unsupported syntax: {ast.dump(n)}")


class TensorRenderer:
    """Renders a formula as differentiable tensor ops. Scalars (constants,
    parameters) stay Python numbers and use the *_scalar forms, as PyTorch's
    formulas do with their Scalar arguments."""

    def __init__(self, names):
        self.names = names

    def render(self, node):
        code, kind = self._r(node)
        if kind != "tensor":
            raise FormulaError("a gradient formula must give a tensor")
        return code

    def _r(self, n):
        if isinstance(n, ast.Constant):
            return repr(n.value), "scalar"
        if isinstance(n, ast.Name):
            if n.id in TENSOR_VARS:
                return n.id, "tensor"
            return self.names.get(n.id, n.id), "scalar"
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            c, k = self._r(n.operand)
            return (f"op_neg({c})", k) if k == "tensor" else (f"(-{c})", k)
        if isinstance(n, ast.BinOp):
            op = _BINOP[type(n.op)]
            (a, ka), (b, kb) = self._r(n.left), self._r(n.right)
            if ka == kb == "scalar":
                return f"({a} {op} {b})", "scalar"
            if ka == kb == "tensor":
                return f"{_TENSOR_TENSOR[op]}({a}, {b})", "tensor"
            if ka == "tensor":
                return f"{_TENSOR_SCALAR[op]}({a}, {b})", "tensor"
            return f"{_SCALAR_TENSOR[op]}({b}, {a})", "tensor"
        if isinstance(n, ast.Compare) and len(n.ops) == 1:
            (a, ka), (b, kb) = self._r(n.left), self._r(n.comparators[0])
            name = _CMP[type(n.ops[0])][1]
            if ka == "tensor" and kb == "scalar":
                return f"op_compare(CMP_{name.upper()}, {a}, {b})", "tensor"
            if ka == kb == "tensor":
                return f"op_compare(CMP_{name.upper()}, {a}, {b})", "tensor"
            raise FormulaError("comparisons take a tensor on the left")
        if isinstance(n, ast.BoolOp):
            parts = [self._r(v)[0] for v in n.values]
            fn = "op_logical_and" if isinstance(n.op, ast.And) else "op_logical_or"
            out = parts[0]
            for p in parts[1:]:
                out = f"{fn}({out}, {p})"
            return out, "tensor"
        if isinstance(n, ast.IfExp):
            (c, _), (a, ka), (b, kb) = self._r(n.test), self._r(n.body), self._r(n.orelse)
            if ka == "scalar" and kb == "scalar":
                raise FormulaError("a conditional needs a tensor branch")
            like = a if ka == "tensor" else b
            if ka == "scalar":
                a = f"scalar_like({a}, {like})"
            if kb == "scalar":
                b = f"scalar_like({b}, {like})"
            return f"op_where({c}, {a}, {b})", "tensor"
        if isinstance(n, ast.Call):
            args, kinds = [], set()
            for a in n.args:
                c, k = self._r(a)
                args.append(c)
                kinds.add(k)
            template = function(n.func.id)[1]
            if template is None:
                raise FormulaError(f"{n.func.id} has no tensor form: give `grad` beside `grad_kernel`")
            return template.format(*args), ("scalar" if kinds == {"scalar"} else "tensor")
        raise FormulaError(f"unsupported syntax: {ast.dump(n)}")


def function(name):
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise FormulaError(f"unknown function {name!r} in a formula") from None


def register_table_ops(names):
    """Every unary table op can be called in another op's formula."""
    for name in names:
        FUNCTIONS.setdefault(name, (f"s_{name}({{0}})", f"op_{name}({{0}})"))
