"""The op table's reference column for the tests (PyTorch's OpInfo `ref`):
for each row of cgrad._C._OP_TABLE and _OP_TABLE_BINARY, the values by
numpy or Python's math module in float64, the grad_fn name, and what
integer and bool inputs give (the result dtype, or the error type and
text), recorded from torch 2.13 as literals. Without torch the generic
op-table tests check cgrad against these; with torch they check these
too, so a wrong entry fails CI. Nothing here is imported by cgrad."""
import math
import statistics

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _elementwise(scalar_fn, poles=None):
    """A Python-math scalar function over an array (the reference inputs are
    a few dozen elements). poles(v): torch's value where math raises (a
    pole, or outside the domain)."""
    def one(v):
        try:
            return scalar_fn(v)
        except (ValueError, ZeroDivisionError, OverflowError):
            if poles is None:
                raise
            return poles(v)

    def apply(x):
        x = np.asarray(x, dtype=np.float64)
        return np.array([one(float(v)) for v in x.reshape(-1)], dtype=np.float64).reshape(x.shape)
    return apply


def _digamma(x):
    """psi(x) by the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10,
    then the asymptotic series (error below 1e-16 there)."""
    if x == 0.0:
        return -math.inf  # torch's value at the pole 0 (its sign as PyTorch documents)
    acc = 0.0
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return acc + math.log(x) - 0.5 / x - series


def _trigamma_derivative(x):
    """polygamma(2, x): psi''(x) = psi''(x + 1) - 2/x**3, then the
    asymptotic series for x >= 10."""
    if x == 0.0:
        return -math.inf  # torch's value at the pole 0
    acc = 0.0
    while x < 10.0:
        acc -= 2.0 / x ** 3
        x += 1.0
    return acc + (-1 / x ** 2 - 1 / x ** 3 - 1 / (2 * x ** 4) + 1 / (6 * x ** 6) - 1 / (6 * x ** 8)
                  + 3 / (10 * x ** 10) - 5 / (6 * x ** 12))


def _erfinv(y):
    """Newton on math.erf from a bisection start: converges to the last
    bit within a few steps on (-1, 1)."""
    if abs(y) >= 1.0:
        return math.copysign(math.inf, y) if abs(y) == 1.0 else math.nan
    lo, hi = -6.0, 6.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if math.erf(mid) < y:
            lo = mid
        else:
            hi = mid
    x = 0.5 * (lo + hi)
    for _ in range(3):
        x -= (math.erf(x) - y) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


def _i1(x):
    """Modified Bessel I1 by its power series (|x| <= 3 here)."""
    term = x / 2
    total = term
    for k in range(1, 40):
        term *= (x / 2) ** 2 / (k * (k + 1))
        total += term
    return total


def _softplus(x):
    return np.logaddexp(0.0, x)


UNARY = {
    "tan": np.tan,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "exp2": np.exp2,
    "erfc": _elementwise(math.erfc),
    "deg2rad": np.deg2rad,
    "rad2deg": np.rad2deg,
    "sinc": np.sinc,  # the normalised sinc, sin(pi x) / (pi x), as torch's
    "lgamma": _elementwise(math.lgamma, poles=lambda v: math.inf),
    "digamma": _elementwise(_digamma),
    "polygamma": lambda n, x: _elementwise(_trigamma_derivative)(x) if n == 2 else None,
    "erfinv": _elementwise(_erfinv),
    "i0": np.i0,
    "i1": _elementwise(_i1),
    "logit": lambda x, eps: np.log(np.clip(x, eps, 1 - eps) / (1 - np.clip(x, eps, 1 - eps))),
    "hardtanh": lambda x, lo, hi: np.clip(x, lo, hi),
    "hardsigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "softshrink": lambda x, lam: np.where(x > lam, x - lam, np.where(x < -lam, x + lam, 0.0)),
    "hardshrink": lambda x, lam: np.where(np.abs(x) > lam, x, 0.0),
    "threshold": lambda x, th, value: np.where(x > th, x, value),
    "logsigmoid": lambda x: -_softplus(-x),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "celu": lambda x, alpha: np.maximum(x, 0) + np.minimum(0, alpha * np.expm1(np.minimum(x, 0) / alpha)),
    "nan_to_num": lambda x, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf),
    "erfcx": _elementwise(lambda v: math.exp(v * v) * math.erfc(v)),
    "entr": lambda x: np.where(x > 0, -x * np.log(np.where(x > 0, x, 1.0)), np.where(x == 0, 0.0, -np.inf)),
    "ndtri": _elementwise(lambda p: statistics.NormalDist().inv_cdf(p) if 0 < p < 1
                          else (-math.inf if p == 0 else (math.inf if p == 1 else math.nan))),
    "log_ndtr": _elementwise(lambda v: math.log(0.5 * math.erfc(-v / math.sqrt(2)))),
    "i0e": lambda x: np.i0(x) * np.exp(-np.abs(x)),
    "i1e": lambda x: _elementwise(_i1)(x) * np.exp(-np.abs(x)),
}


def unary_reference(name, x, args, params_first):
    fn = UNARY[name]
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(fn(*args, x) if params_first else fn(x, *args), dtype=np.float64)


# torch's grad_fn names; the rows whose name is not the CamelCase of the op
UNARY_GRAD_FN_INPLACE = {"asinh": "AsinhBackward1", "acosh": "AcoshBackward1", "atanh": "AtanhBackward1",
                         "polygamma": "PolygammaBackward1", "threshold": "ThresholdBackward1",
                         "selu": "EluBackward1", "celu": "CeluBackward1"}
UNARY_GRAD_FN = {"deg2rad": "Deg2RadBackward0", "rad2deg": "Rad2DegBackward0", "i1": "SpecialI1Backward0",
                 "logsigmoid": "LogSigmoidBackward0", "selu": "EluBackward0", "nan_to_num": "NanToNumBackward0",
                 "erfcx": "SpecialErfcxBackward0", "entr": "SpecialEntrBackward0",
                 "ndtri": "SpecialNdtriBackward0", "log_ndtr": "SpecialLogNdtrBackward0",
                 "i0e": "SpecialI0EBackward0", "i1e": "SpecialI1EBackward0"}


def unary_grad_fn(name, inplace=False):
    if inplace and name in UNARY_GRAD_FN_INPLACE:
        return UNARY_GRAD_FN_INPLACE[name]
    return UNARY_GRAD_FN.get(name, name[:1].upper() + name[1:] + "Backward0")


# torch has no derivative for these in-place forms (backward raises this)
UNARY_INPLACE_NO_DERIVATIVE = {name: f"the derivative for 'inplace version of {name}' is not implemented."
                               for name in ("asinh", "acosh", "atanh")}

# (row, dtype, "forward" or "backward") -> torch's NotImplementedError text
UNARY_MISSING_KERNELS = {("erfcx", "float16", "forward"): '"erfcx_cpu" not implemented for \'Half\'',
                         ("i1", "float16", "backward"): '"i1_backward" not implemented for \'Half\'',
                         ("ndtri", "float16", "forward"): '"ndtri_cpu" not implemented for \'Half\'',
                         ("log_ndtr", "float16", "forward"): '"log_ndtr_cpu" not implemented for \'Half\'',
                         ("i1e", "float16", "backward"): '"i1e_backward" not implemented for \'Half\''}

# out= of float64 for a float32 input: cast into, except where torch wants
# the input's dtype (the error text)
UNARY_OUT_DTYPE_ERRORS = {
    "hardshrink": ("Found dtype Double but expected Float", "Found dtype Long but expected Double"),
    "nan_to_num": ("nan_to_num: dtype of out: Double should be same as input: Float",
                   "nan_to_num: dtype of out: Long should be same as input: Double"),
}
OUT_CAST_ERROR = "result type Double can't be cast to the desired output type Long"


# torch's ScalarType names in its "not implemented for" texts
SCALAR_TYPE = {"int64": "Long", "int32": "Int", "uint8": "Byte", "bool": "Bool"}
INTEGER_DTYPES = ("int64", "int32", "uint8", "bool")


def _not_implemented(kernel):
    return {d: ("NotImplementedError", f'"{kernel}" not implemented for \'{SCALAR_TYPE[d]}\'')
            for d in INTEGER_DTYPES}


_TO_FLOAT = {d: "float32" for d in INTEGER_DTYPES}   # promoted to the default dtype
_NATIVE = {d: d for d in INTEGER_DTYPES}
UNARY_INTEGER_INPUTS = {
    **{name: _TO_FLOAT for name in ("tan", "asinh", "acosh", "atanh", "exp2", "erfc", "deg2rad", "rad2deg",
                                    "sinc", "lgamma", "digamma", "polygamma", "erfinv", "i0", "i1", "logit",
                                    "erfcx", "entr", "ndtri", "log_ndtr", "i0e", "i1e")},
    "hardtanh": {**_NATIVE, "bool": ("RuntimeError", "Bool inputs not supported for hardtanh")},
    "hardsigmoid": _not_implemented("hardsigmoid_cpu"),
    "hardswish": _not_implemented("hardswish_cpu"),
    "mish": _not_implemented("mish_cpu"),
    "softshrink": _not_implemented("softshrink_check"),
    "hardshrink": _not_implemented("hardshrink_cpu"),
    "threshold": {"int64": "int64", "int32": "int32",
                  "uint8": ("RuntimeError", "value cannot be converted to type uint8_t without overflow"),
                  "bool": ("NotImplementedError", '"threshold_cpu" not implemented for \'Bool\'')},
    "logsigmoid": _not_implemented("log_sigmoid_cpu"),
    "selu": _not_implemented("elu_cpu"),
    "celu": _not_implemented("elu_cpu"),
    "nan_to_num": _NATIVE,
}


BINARY = {
    "hypot": np.hypot,
    "copysign": np.copysign,
    "logaddexp": np.logaddexp,
    "logaddexp2": np.logaddexp2,
    # 0 where x == 0 (even for y == 0), as torch's
    "xlogy": lambda x, y: np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y))),
    "heaviside": lambda x, values: np.where(x == 0, values, (x > 0).astype(np.float64)),
    "xlog1py": lambda x, y: np.where(x == 0, 0.0, x * np.log1p(np.where(x == 0, 0.0, y))),
}

BINARY_GRAD_FN = {"hypot": "HypotBackward0", "copysign": "CopysignBackward0", "logaddexp": "LogaddexpBackward0",
                  "logaddexp2": "Logaddexp2Backward0", "xlogy": "XlogyBackward0", "heaviside": None,
                  "xlog1py": "SpecialXlog1PyBackward0"}

BINARY_INTEGER_INPUTS = {
    "hypot": _not_implemented("hypot_cpu"),
    "copysign": _TO_FLOAT,
    "logaddexp": _not_implemented("logaddexp_cpu"),
    "logaddexp2": _not_implemented("logaddexp2_cpu"),
    "xlogy": _TO_FLOAT,
    "heaviside": _NATIVE,
    "xlog1py": _TO_FLOAT,
}


def binary_reference(name, a, b):
    with np.errstate(all="ignore"):
        return np.asarray(BINARY[name](np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)),
                          dtype=np.float64)
