"""Gamma(concentration, rate), and the standard gamma sample with its
implicit reparameterisation gradient, which Gamma, Beta and Dirichlet
rsample differentiate through.

A gamma sample x ~ Gamma(alpha, 1) is PyTorch's: ATen's sample_gamma on the
default generator's stream (torch's values after the same seed). Its derivative with respect to alpha is the implicit one,
dx/dalpha = -(dF/dalpha) / (dF/dx) with F the gamma CDF (Figurnov et al.,
2018), evaluated as torch's _standard_gamma_grad does: a Taylor series of
the CDF for x < 0.8, Rice's saddle-point expansion for alpha > 8, and a
bivariate rational approximation elsewhere, all as whole-tensor cgrad ops.
"""
from numbers import Number

import numpy as np

import cgrad
from cgrad import _C
from cgrad.autograd import Function
from cgrad.distributions import constraints
from cgrad.distributions.exp_family import ExponentialFamily
from cgrad.distributions.utils import broadcast_all, finfo

__all__ = ["Gamma"]

# Coefficients of the rational approximation of dx/dalpha in u = log(x/alpha), v = log(alpha).
_COEF_UV = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
            (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915,
             -0.00058392623),
            (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326,
             0.00085092367, -1.5247877e-07))
_SERIES_TERMS = 5
CGRAD_TO_NUMPY = {cgrad.float16: np.float16, cgrad.float32: np.float32, cgrad.float64: np.float64}


def _sample_standard_gamma(concentration):
    """Gamma(concentration, 1) samples of concentration's shape and dtype, outside the graph."""
    # PyTorch's sample_gamma on its stream, floored at the dtype's tiny (small
    # concentrations underflow to 0, where log_prob and the gradient are undefined)
    x = _C._standard_gamma_draws(concentration.detach())
    return cgrad.tensor(np.maximum(x, finfo(concentration.dtype).tiny).astype(CGRAD_TO_NUMPY[concentration.dtype]))


def _standard_gamma_grad(alpha, x):
    """d x / d alpha for standard gamma samples x of concentration alpha (implicit reparameterisation)."""
    with cgrad.no_grad():
        out_dtype = x.dtype
        a = alpha.to(cgrad.float64)
        x = x.to(cgrad.float64)
        # x < 0.8: the CDF's Taylor series and its derivative in alpha
        numer = cgrad.ones_like(x)
        denom = a.clone()
        series1 = numer / denom
        series2 = numer / (denom * denom)
        for i in range(1, _SERIES_TERMS + 1):
            numer = numer * (-x / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x.pow(a)
        gamma_pdf = x.pow(a - 1) * cgrad.exp(-x)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (cgrad.log(x) - cgrad.digamma(a)) * gamma_cdf - pow_x_alpha * series2
        small_x = -gamma_cdf_alpha / gamma_pdf
        small_x = cgrad.where(cgrad.isnan(small_x), cgrad.zeros_like(small_x), small_x)
        # alpha > 8: Rice's saddle-point expansion, near and away from x = alpha
        numer_1 = 1 + 24 * a * (1 + 12 * a)
        numer_2 = 1440 * (a * a) + 6 * x * (53 - 120 * x) - 65 * x * x / a + a * (107 + 3600 * x)
        near = numer_1 * numer_2 / (1244160 * (a * a) * (a * a))
        sqrt_8a = cgrad.sqrt(8 * a)
        term2 = sqrt_8a / (a - x)
        term3 = (x - a - a * cgrad.log(x / a)).pow(-1.5)
        term23 = cgrad.where(x < a, term2 - term3, term2 + term3)
        term1 = cgrad.log(x / a) * term23 - cgrad.sqrt(2 / a) * (a + x) / ((a - x) * (a - x))
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        far = -stirling * (x * term1) / sqrt_8a
        large_alpha = cgrad.where((0.9 * a <= x) & (x <= 1.1 * a), near, far)
        # elsewhere: the rational approximation
        u = cgrad.log(x / a)
        v = cgrad.log(a)
        coef_v = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_COEF_UV)]
        p = coef_v[0] + v * (coef_v[1] + v * (coef_v[2] + v * coef_v[3]))
        q = coef_v[4] + v * (coef_v[5] + v * (coef_v[6] + v * coef_v[7]))
        rational = cgrad.exp(p / q)
        result = cgrad.where(x < 0.8, small_x, cgrad.where(a > 8, large_alpha, rational))
        return result.to(out_dtype)


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx, concentration):
        x = _sample_standard_gamma(concentration)
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        x, concentration = ctx.saved_tensors
        return grad_output * _standard_gamma_grad(concentration, x)


# torch._standard_gamma's node is the ATen op's StandardGammaBackward0
_StandardGamma._backward_cls.__name__ = _StandardGamma._backward_cls.__qualname__ = "StandardGammaBackward0"


def _standard_gamma(concentration):
    """Standard gamma samples, differentiable in `concentration` (torch._standard_gamma)."""
    return _StandardGamma.apply(concentration)


class Gamma(ExponentialFamily):
    """The gamma distribution with shape `concentration` and `rate` (1 / scale)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, Number) and isinstance(rate, Number):
            batch_shape = cgrad.Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = cgrad.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Gamma, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=cgrad.Size()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=finfo(value.dtype).tiny)  # not recorded in the graph
        return value

    def log_prob(self, value):
        if not isinstance(value, cgrad.Tensor):
            value = cgrad.tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (cgrad.xlogy(self.concentration, self.rate) + cgrad.xlogy(self.concentration - 1, value)
                - self.rate * value - cgrad.lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return cgrad.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        return (self.concentration - cgrad.log(self.rate) + cgrad.lgamma(self.concentration)
                + (1.0 - self.concentration) * cgrad.digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return cgrad.lgamma(x + 1) + (x + 1) * cgrad.log(-y.reciprocal())
