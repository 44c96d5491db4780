"""Dirichlet(concentration): distributions on the probability simplex.
rsample normalises standard gamma samples, so its gradient is the gamma
sample's implicit reparameterisation gradient carried through the
normalisation."""
import numpy as np

import cgrad
from cgrad import _C
from cgrad.distributions import constraints
from cgrad.distributions.exp_family import ExponentialFamily
from cgrad.autograd import Function
from cgrad.distributions.utils import finfo
from cgrad.distributions.gamma import _sample_standard_gamma, _standard_gamma_grad

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution with `concentration` along the last dimension (event_shape (K,))."""
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = cgrad.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        super(Dirichlet, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return _Dirichlet.apply(self.concentration.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (cgrad.xlogy(self.concentration - 1.0, value).sum(-1) + cgrad.lgamma(self.concentration.sum(-1))
                - cgrad.lgamma(self.concentration).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        mode[mask] = cgrad.nn.functional.one_hot(mode[mask].argmax(dim=-1), concentrationm1.shape[-1]).to(mode)
        return mode

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (cgrad.lgamma(self.concentration).sum(-1) - cgrad.lgamma(a0) - (k - a0) * cgrad.digamma(a0)
                - ((self.concentration - 1.0) * cgrad.digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - cgrad.lgamma(x.sum(-1))


_NUMPY_DTYPES = {cgrad.float16: np.float16, cgrad.float32: np.float32, cgrad.float64: np.float64}


class _Dirichlet(Function):
    """One node for the reparameterised sample gammas / gammas.sum(-1), as
    torch's _Dirichlet (its name and its one input); the gradient is the
    gamma reparameterisation's, through the normalisation."""

    @staticmethod
    def forward(ctx, concentration):
        # as ATen's _s_dirichlet_cpu: gammas drawn in double, normalised in
        # double, cast back and kept inside [tiny, the float below 1]
        draws = _C._standard_gamma_draws(concentration.detach().double())
        dtype = concentration.dtype
        # ATen sums each row of K (small) doubles in order: a running sum's last value
        row_sums = np.cumsum(draws, axis=-1)[..., -1:]
        gammas64 = cgrad.tensor(draws)
        sample = cgrad.tensor(draws / row_sums).to(dtype)
        below_one = float(np.nextafter(np.array(1.0, dtype=_NUMPY_DTYPES[dtype]), 0))
        sample = sample.clamp(min=finfo(dtype).tiny, max=below_one)
        gammas = gammas64.to(dtype).clamp(min=finfo(dtype).tiny)
        total = gammas.sum(-1, True)
        ctx.save_for_backward(concentration, gammas, total)
        return sample

    @staticmethod
    def backward(ctx, grad_output):
        concentration, gammas, total = ctx.saved_tensors
        x = gammas / total
        grad_gammas = (grad_output - (grad_output * x).sum(-1, True)) / total
        return grad_gammas * _standard_gamma_grad(concentration, gammas)
