"""NegativeBinomial(total_count, probs | logits): failures before total_count successes.

Ported from PyTorch 2.13's torch/distributions/negative_binomial.py (BSD-3-Clause), over
cgrad's differentiable ops."""
from __future__ import annotations

import cgrad
from cgrad.distributions.utils import lazy_functional as F
from cgrad import Tensor
from cgrad.distributions import constraints
from cgrad.distributions.distribution import Distribution
from cgrad.distributions.gamma import Gamma
from cgrad.distributions.utils import lazy_property
from cgrad.distributions import _probs_or_logits as probs_or_logits


__all__ = ["NegativeBinomial"]


class NegativeBinomial(Distribution):
    r"""
    Creates a Negative Binomial distribution, i.e. distribution
    of the number of successful independent and identical Bernoulli trials
    before :attr:`total_count` failures are achieved. The probability
    of success of each Bernoulli trial is :attr:`probs`.

    Args:
        total_count (float or Tensor): non-negative number of negative Bernoulli
            trials to stop, although the distribution is still valid for real
            valued count
        probs (Tensor): Event probabilities of success in the half open interval [0, 1)
        logits (Tensor): Event log-odds for probabilities of success
    """

    # pyrefly: ignore [bad-override]
    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(
        self,
        total_count: Tensor | float,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        batch_shape = probs_or_logits.set_probs_or_logits(self, probs, logits, total_count=total_count)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return probs_or_logits.expand_probs_or_logits(self, NegativeBinomial, batch_shape, _instance)

    _new = probs_or_logits.new_like_param

    @property
    def mean(self) -> Tensor:
        return self.total_count * cgrad.exp(self.logits)

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / cgrad.sigmoid(-self.logits)

    logits = probs_or_logits.logits
    probs = probs_or_logits.probs
    param_shape = probs_or_logits.param_shape

    @lazy_property
    def _gamma(self) -> Gamma:
        # Note we avoid validating because self.total_count can be zero.
        return Gamma(
            concentration=self.total_count,
            rate=cgrad.exp(-self.logits),
            validate_args=False,
        )

    def sample(self, sample_shape=cgrad.Size()):
        with cgrad.no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return cgrad.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)

        log_unnormalized_prob = self.total_count * F.logsigmoid(
            -self.logits
        ) + value * F.logsigmoid(self.logits)

        log_normalization = (
            -cgrad.lgamma(self.total_count + value)
            + cgrad.lgamma(1.0 + value)
            + cgrad.lgamma(self.total_count)
        )
        # The case self.total_count == 0 and value == 0 has probability 1 but
        # lgamma(0) is infinite. Handle this case separately using a function
        # that does not modify tensors in place to allow Jit compilation.
        log_normalization = log_normalization.masked_fill(
            self.total_count + value == 0.0, 0.0
        )

        return log_unnormalized_prob - log_normalization
