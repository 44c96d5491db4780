"""cgrad.special: PyTorch's torch.special for the functions cgrad has.

erfcx, entr, ndtri, log_ndtr, i0e, i1e and xlog1py are op-table rows of
their own (src/codegen/table_unary.py / table_binary.py, PyTorch's
Special*Backward0 names and float16 gaps); ndtr is PyTorch's composite of
erf; the others are PyTorch's aliases of cgrad ops (expit is
sigmoid, gammaln lgamma, psi digamma, ...) with the same results and
grad_fn. As in PyTorch, argument-type errors and out= errors name the
function special_<name>. torch.special has no erfcinv, so neither has this.
"""
from cgrad import _C
from cgrad._op_support import typename
from cgrad._op_support import numpy_dim_spellings
from cgrad.nn._named_node import named

_Tensor = _C.Tensor

__all__ = ["erf", "erfc", "erfcx", "erfinv", "expit", "exp2", "expm1", "log1p", "logit", "gammaln", "digamma",
           "psi", "polygamma", "i0", "i1", "sinc", "round", "xlogy", "logsumexp", "softmax", "log_softmax",
           "entr", "ndtr", "ndtri", "log_ndtr", "i0e", "i1e", "xlog1py"]


def _need_tensor(fname, value, position=1, argname="input"):
    if not isinstance(value, _Tensor):
        raise TypeError(f"special_{fname}(): argument '{argname}' (position {position}) must be Tensor, "
                        f"not {typename(value)}")


def _with_out(fname, result, out):
    return result if out is None else _C._with_out(result, out, "special_" + fname)


def _unary(fname, target):
    def fn(input, *, out=None):
        _need_tensor(fname, input)
        return _with_out(fname, target(input), out)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"torch.special.{fname}: cgrad.{getattr(target, '__name__', fname)} of input."
    return fn


erf = _unary("erf", _C.erf)
erfc = _unary("erfc", _C.erfc)
erfcx = _unary("erfcx", _C._op_erfcx)
erfinv = _unary("erfinv", _C.erfinv)
expit = _unary("expit", _C.sigmoid)
exp2 = _unary("exp2", _C.exp2)
expm1 = _unary("expm1", _C.expm1)
log1p = _unary("log1p", _C.log1p)
gammaln = _unary("gammaln", _C.lgamma)
digamma = _unary("digamma", _C.digamma)
psi = _unary("psi", _C.digamma)
i0 = _unary("i0", _C.i0)
i1 = _unary("i1", _C._op_i1)
sinc = _unary("sinc", _C.sinc)
entr = _unary("entr", _C._op_entr)
ndtri = _unary("ndtri", _C._op_ndtri)
log_ndtr = _unary("log_ndtr", _C._op_log_ndtr)
i0e = _unary("i0e", _C._op_i0e)
i1e = _unary("i1e", _C._op_i1e)


def ndtr(input, *, out=None):
    # PyTorch's ndtr is composite, (1 + erf(x / sqrt 2)) / 2 op by op, so
    # its values and grad_fn (MulBackward1) are those ops'
    # (its scalar multiply's node, MulBackward1, on top of the graph)
    _need_tensor("ndtr", input)
    result = (1 + _C.erf(input * 0.7071067811865476)) * 0.5
    return _with_out("ndtr", named(result, "MulBackward1") if result.requires_grad else result, out)


def logit(input, eps=None, *, out=None):
    _need_tensor("logit", input)
    return _with_out("logit", _C.logit(input, eps), out)


def polygamma(n, input, *, out=None):
    _need_tensor("polygamma", input, 2)
    return _with_out("polygamma", _C.polygamma(n, input), out)


def round(input, *, decimals=0, out=None):
    # always PyTorch's decimals overload (RoundBackward1; integers refused)
    _need_tensor("round", input)
    return _C.round(input, decimals=decimals, out=out)


def _is_number(value):
    return isinstance(value, (bool, int, float)) and not isinstance(value, _Tensor)


def xlog1py(input, other, *, out=None):
    if not ((isinstance(input, _Tensor) and (isinstance(other, _Tensor) or _is_number(other)))
            or (_is_number(input) and isinstance(other, _Tensor))):
        raise TypeError(f"special_xlog1py() received an invalid combination of arguments - got "
                        f"({typename(input)}, {typename(other)}), but expected one of:\n"
                        " * (Tensor input, Tensor other, *, Tensor out = None)\n"
                        " * (Number self, Tensor other, *, Tensor out = None)\n"
                        " * (Tensor input, Number other, *, Tensor out = None)\n")
    return _C.xlog1py(input, other) if out is None else _C.xlog1py(input, other, out=out)


def xlogy(input, other, *, out=None):
    return _C.xlogy(input, other) if out is None else _C.xlogy(input, other, out=out)


@numpy_dim_spellings
def logsumexp(input, dim, keepdim=False, *, out=None):
    _need_tensor("logsumexp", input)
    return _with_out("logsumexp", _C.logsumexp(input, dim, keepdim), out)


@numpy_dim_spellings
def softmax(input, dim, *, dtype=None):
    _need_tensor("softmax", input)
    return _C.softmax(input, dim, dtype=dtype)


@numpy_dim_spellings
def log_softmax(input, dim, *, dtype=None):
    _need_tensor("log_softmax", input)
    return _C.log_softmax(input, dim, dtype=dtype)


# the rest of torch.special: zeta and the incomplete gammas, the Bessel and
# Airy functions, the orthogonal polynomials (pure-Python modules of their own)
from cgrad._special_zeta import multigammaln, zeta  # noqa: E402
from cgrad._special_igamma import gammainc, gammaincc  # noqa: E402
from cgrad._special_bessel import (  # noqa: E402
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
    modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1, spherical_bessel_j0)
from cgrad._special_polynomials import (  # noqa: E402
    chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w,
    hermite_polynomial_h, hermite_polynomial_he, laguerre_polynomial_l, legendre_polynomial_p,
    shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w)
from cgrad import _special_bessel, _special_polynomials  # noqa: E402

__all__ += ["zeta", "multigammaln", "gammainc", "gammaincc"] + _special_bessel.__all__ + _special_polynomials.__all__
