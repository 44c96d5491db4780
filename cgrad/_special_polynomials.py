"""torch.special's orthogonal polynomials of (x, n): chebyshev_polynomial_t/
u/v/w, their shifted forms, hermite_polynomial_h/he, laguerre_polynomial_l
and legendre_polynomial_p, by PyTorch's algorithms (ATen's Math.h): the
same special cases (negative n, |x| = 1, the trigonometric closed forms for
large n inside (-1, 1), Hermite's degree limit) and the same three-term
recurrences, run in the result dtype so that overflow and round-off happen
where they do in PyTorch. The recurrences loop over the degree, each step
over every element still recurring; elements leave as their degree is
reached or their value turns nan, as PyTorch's loops stop.

n is truncated to an integer as PyTorch's static_cast does (nan, inf and
values past int64 become int64's minimum, a negative degree, giving 0).
PyTorch gives these functions no derivative: results never require grad."""
import numpy as np

from cgrad import _C
from cgrad._special_common import (check_pair, kernel_dtype, numpy_dtype, pair_dtype, pair_values,
                                   result_tensor, with_out)

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
           "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]

_INT64_MIN = np.iinfo(np.int64).min


def _degrees(n):
    """static_cast<int64_t>(n): x86 gives int64's minimum for nan, inf and
    out-of-range values (hermite_polynomial_h's -1 for nan and inf is as
    negative: either degree gives 0)."""
    with np.errstate(invalid="ignore"):
        fits = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
        degrees = np.trunc(np.where(fits, n, 0)).astype(np.int64)
    return np.where(fits, degrees, _INT64_MIN)


def _fused(a, b, c):
    """a * b + c rounded once, as the fused multiply-add PyTorch's compiled
    float32 recurrences use (a float32 product is exact in float64); float64
    has no wider type here, so it rounds the product too."""
    if a.dtype == np.float64:
        return a * b + c
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(a.dtype)


def _recur(x, n, p, q, step, stop_at_nan=True):
    """PyTorch's loop `for j in 1 .. n-1: r = step(j, p, q, x)` (stopping
    early once q is nan when stop_at_nan), over the elements whose degree n
    is at least 2; each element's final r (nan where the loop never ran,
    PyTorch's uninitialised r)."""
    r = np.full(x.shape, np.nan, dtype=x.dtype)
    active = np.flatnonzero(n >= 2)
    if stop_at_nan:
        active = active[~np.isnan(q[active])]
    xs, ns, ps, qs = x[active], n[active], p[active], q[active]
    j = 1
    while active.size:
        rs = step(j, ps, qs, xs)
        r[active] = rs
        keep = ns > j + 1
        if stop_at_nan:
            keep &= ~np.isnan(rs)
        if not keep.all():
            active, xs, ns, qs, rs = active[keep], xs[keep], ns[keep], qs[keep], rs[keep]
        ps, qs = qs, rs
        j += 1
    return r


def _polynomial(fname, compute):
    def fn(x, n, *, out=None):
        check_pair("special_" + fname, x, n, ("x", "n"))
        dtype = kernel_dtype(fname, pair_dtype(x, n))
        work = numpy_dtype(dtype)
        xv, nv = pair_values(x, n, work)
        with np.errstate(all="ignore"):
            values = compute(xv.ravel(), _degrees(nv.ravel()), work).reshape(xv.shape)
        return with_out(fname, result_tensor(values, dtype), out)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = f"torch.special.{fname}(x, n): the polynomial of degree n at x (no gradient)."
    return fn


def _chebyshev(at_one, at_minus_one, closed_min_degree, closed_form, first, shift=False):
    """A Chebyshev kind: its values at the interval's ends (functions of n),
    the degree past which PyTorch uses the closed form inside the interval,
    the closed form (of theta = acos(t), n and t) and the degree-1 value
    (of t); shift maps x in [0, 1] to t = 2x - 1 as PyTorch writes it."""
    def compute(x, n, work):
        one = work(1.0)
        t = x + x - one if shift else x
        nf = n.astype(work)
        result = _recur(t, n, np.ones_like(t), first(t), lambda j, p, q, t: _fused(t + t, q, -p))
        result = np.where(n == 1, first(t), result)
        result = np.where(n == 0, one, result)
        inside = (n > closed_min_degree) & (np.abs(t) < one)
        if inside.any():
            result = np.where(inside, closed_form(np.arccos(t), nf, t, n), result)
        upper, lower = (x == one, x == 0) if shift else (t == one, t == -one)
        result = np.where(upper, at_one(nf, n), result)
        result = np.where(lower, at_minus_one(nf, n), result)
        return np.where(n < 0, work(0.0), result)
    return compute


def _parity(n, even, odd):
    return np.where(n % 2 == 0, even, odd)


def _closed_t(theta, nf, t, n):
    return np.cos(nf * theta)


def _closed_u(theta, nf, t, n):
    sin_theta = np.sin(theta)
    return np.where(sin_theta != 0, np.sin((nf + 1) * theta) / sin_theta, (nf + 1) * np.cos((nf + 1) * theta) / t)


def _closed_v(theta, nf, t, n):
    half = np.asarray(2.0, dtype=t.dtype)
    return np.where(np.sin(theta / half) != 1, np.cos((nf + t.dtype.type(0.5)) * theta) / np.cos(theta / half),
                    _parity(n, n + n + 1.0, -(n + n + 1.0)))


def _closed_w(theta, nf, t, n, x_positive):
    half = np.asarray(2.0, dtype=t.dtype)
    return np.where(np.cos(theta / half) != 1, np.sin((nf + t.dtype.type(0.5)) * theta) / np.sin(theta / half),
                    np.where(x_positive, n + n + 1.0, _parity(n, 1.0, -1.0)))


_ones = lambda nf, n: np.ones_like(nf)  # noqa: E731

chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", _chebyshev(
    _ones, lambda nf, n: _parity(n, 1.0, -1.0), 6, _closed_t, lambda t: t))
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", _chebyshev(
    lambda nf, n: n + 1.0, lambda nf, n: _parity(n, n + 1.0, -(n + 1.0)), 8, _closed_u, lambda t: t + t))
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", _chebyshev(
    _ones, lambda nf, n: _parity(n, n + n + 1.0, -(n + n + 1.0)), 8, _closed_v, lambda t: t + t - 1))
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", _chebyshev(
    lambda nf, n: n + n + 1.0, lambda nf, n: _parity(n, 1.0, -1.0), 8,
    lambda theta, nf, t, n: _closed_w(theta, nf, t, n, t > 0), lambda t: t + t + 1))
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", _chebyshev(
    _ones, lambda nf, n: _parity(n, 1.0, -1.0), 6, _closed_t, lambda t: t, shift=True))
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", _chebyshev(
    lambda nf, n: n + 1.0, lambda nf, n: _parity(n, n + 1.0, -(n + 1.0)), 6, _closed_u, lambda t: t + t, shift=True))
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", _chebyshev(
    _ones, lambda nf, n: _parity(n, n + n + 1.0, -(n + n + 1.0)), 6, _closed_v, lambda t: t + t - 1, shift=True))
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", _chebyshev(
    lambda nf, n: n + n + 1.0, lambda nf, n: _parity(n, 1.0, -1.0), 4,
    # PyTorch's shifted W closed form ends in +-1 by n's parity alone
    lambda theta, nf, t, n: _closed_w(theta, nf, t, n, False), lambda t: t + t + 1, shift=True))


def _hermite_limit(work):
    # PyTorch's getHermitianLimit: past it the recurrence is not trusted
    return 128 if work is np.float32 else 512


def _hermite_h(x, n, work):
    two_x = x + x
    result = _recur(x, np.where(n > _hermite_limit(work), 0, n), np.ones_like(x), two_x,
                    lambda j, p, q, x: _fused(x + x, q, -(work(2 * j) * p)), stop_at_nan=False)
    result = np.where(n > _hermite_limit(work), np.nan, result)
    result = np.where(n == 1, two_x, result)
    result = np.where(n == 0, work(1.0), result)
    return np.where(n < 0, work(0.0), result)


def _hermite_he(x, n, work):
    result = _recur(x, np.where(n > _hermite_limit(work), 0, n), np.ones_like(x), x.copy(),
                    lambda j, p, q, x: _fused(x, q, -(work(j) * p)), stop_at_nan=False)
    result = np.where(n > _hermite_limit(work), np.nan, result)
    result = np.where(n == 1, x, result)
    result = np.where(n == 0, work(1.0), result)
    return np.where(n < 0, work(0.0), result)


def _laguerre_l(x, n, work):
    one = work(1.0)
    result = _recur(x, n, np.ones_like(x), one - x,
                    lambda j, p, q, x: _fused(work(j + j) + (one - x), q, -(work(j) * p)) / work(j + 1))
    result = np.where(n == 1, one - x, result)
    result = np.where((n == 0) | (np.abs(x) == 0), one, result)
    return np.where(n < 0, work(0.0), result)


def _legendre_p(x, n, work):
    one = work(1.0)
    result = _recur(x, n, np.ones_like(x), x.copy(),
                    lambda j, p, q, x: _fused(work(j + j + 1) * x, q, -(work(j) * p)) / work(j + 1))
    result = np.where(n == 1, x, result)
    result = np.where(n == 0, one, result)
    result = np.where(np.abs(x) == one, np.where((x > 0) | (n % 2 == 0), one, -one), result)
    return np.where(n < 0, work(0.0), result)


hermite_polynomial_h = _polynomial("hermite_polynomial_h", _hermite_h)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", _hermite_he)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", _laguerre_l)
legendre_polynomial_p = _polynomial("legendre_polynomial_p", _legendre_p)
