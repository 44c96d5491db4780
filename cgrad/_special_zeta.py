"""torch.special.zeta (the Hurwitz zeta function zeta(x, q)) by PyTorch's
Cephes algorithm (ATen's Math.h: direct summation until the terms are
negligible, then the Euler-Maclaurin tail), whole-array in float64 and cast
to the result dtype, and torch.special.multigammaln (PyTorch's name for
mvlgamma). zeta is differentiable only in q: d/dq zeta(x, q) =
-x zeta(x + 1, q); a gradient for x is PyTorch's "not implemented" error.
The three signatures record SpecialZetaBackward0 (tensor, tensor), 1
(number, tensor) and 2 (tensor, number), as PyTorch does."""
import numpy as np

from cgrad import _C
from cgrad._op_support import attach, check_int, check_tensor, forward_ad_not_implemented
from cgrad._ops_numeric_extras import mvlgamma
from cgrad._special_common import check_pair, kernel_dtype, pair_values, result_tensor, with_out

__all__ = ["zeta", "multigammaln"]

_MACHEP = 1.11022302462515654042E-16
# the Euler-Maclaurin coefficients (2k)! / B_2k
_EULER_MACLAURIN = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
                    -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
                    1.8152105401943546773e17, -7.1661652561756670113e18)


def _hurwitz_zeta(x, q):
    """zeta(x, q) of float64 arrays of one shape, element by element as
    PyTorch's loop, vectorised: each element leaves the direct sum when its
    term falls below epsilon of the sum, or after 9 terms once past 9."""
    result = np.full(x.shape, np.nan)
    done = np.zeros(x.shape, bool)
    with np.errstate(all="ignore"):
        for mask, value in ((x == 1, np.inf), (x < 1, np.nan), ((q <= 0) & (q == np.floor(q)), np.inf),
                            ((q <= 0) & (x != np.floor(x)), np.nan)):
            mask = mask & ~done
            result[mask] = value
            done |= mask
        s = np.power(q, -x)
        a = q.copy()
        b = np.zeros_like(q)
        active = np.flatnonzero(~done)
        i = 0
        while active.size:
            i += 1
            a[active] += 1.0
            b[active] = np.power(a[active], -x[active])
            s[active] += b[active]
            sa, ba = s[active], b[active]
            converged = (-_MACHEP * sa < ba) & (ba < _MACHEP * sa)
            result[active[converged]] = sa[converged]
            done[active[converged]] = True
            active = active[~converged]
            if i >= 9:
                active = active[a[active] <= 9.0]
        tail = np.flatnonzero(~done)
        xs, ws, bs, ss = x[tail], a[tail], b[tail], s[tail]
        ss = ss + bs * ws / (xs - 1.0)
        ss = ss - 0.5 * bs
        factor, k = np.ones_like(xs), 0.0
        going = np.ones(xs.shape, bool)
        for coefficient in _EULER_MACLAURIN:
            factor = factor * (xs + k)
            bs = bs / ws
            t = factor * bs / coefficient
            ss = np.where(going, ss + t, ss)
            going &= ~(np.abs(t / ss) < _MACHEP)
            k += 1.0
            factor = factor * (xs + k)
            bs = bs / ws
            k += 1.0
        result[tail] = ss
    return result


def _zeta_values(x, q, dtype):
    xv, qv = pair_values(x, q, np.float64)
    return result_tensor(_hurwitz_zeta(xv.ravel(), qv.ravel()).reshape(xv.shape), dtype)


def zeta(input, other, *, out=None):
    """torch.special.zeta(input, other): the Hurwitz zeta function
    sum_k (other + k) ** -input."""
    check_pair("special_zeta", input, other, ("input", "other"))
    dtype = kernel_dtype("zeta", _C.result_type(input, other))
    result = _zeta_values(input, other, dtype)
    x_tensor, q_tensor = isinstance(input, _C.Tensor), isinstance(other, _C.Tensor)
    node = "SpecialZetaBackward" + ("0" if x_tensor and q_tensor else "1" if q_tensor else "2")
    inputs = [input if x_tensor else None, other if q_tensor else None]

    def backward(grad):
        if x_tensor and input.requires_grad:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        q_grad = None
        if q_tensor:
            q_grad = (grad * -input * zeta(input + 1.0, other)).sum_to_size(other.shape).to(other.dtype)
        return (None, q_grad)

    attach([result], node, inputs, backward, jvp=forward_ad_not_implemented("special_zeta"))
    return with_out("zeta", result, out)


def multigammaln(input, p, *, out=None):
    """torch.special.multigammaln: mvlgamma(input, p)."""
    check_tensor(input, "special_multigammaln")
    p = check_int(p, "special_multigammaln", "p", 2)
    return with_out("multigammaln", mvlgamma(input, p), out)
