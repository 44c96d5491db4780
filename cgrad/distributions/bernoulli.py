"""Bernoulli(probs or logits): 0/1 samples, parameterised by the
probability of 1 or its log-odds (the other computed lazily)."""
import cgrad
from cgrad.distributions import _probs_or_logits as probs_or_logits
from cgrad.distributions import constraints
from cgrad.distributions.exp_family import ExponentialFamily
from cgrad.distributions.utils import broadcast_all

__all__ = ["Bernoulli"]

nan = float("nan")


class Bernoulli(ExponentialFamily):
    """Samples are 1 with probability `probs` (or sigmoid(`logits`)) and 0 otherwise."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        batch_shape = probs_or_logits.set_probs_or_logits(self, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return probs_or_logits.expand_probs_or_logits(self, Bernoulli, batch_shape, _instance)

    _new = probs_or_logits.new_like_param

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs)
        mode[self.probs == 0.5] = nan
        return mode

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    logits = probs_or_logits.logits
    probs = probs_or_logits.probs
    param_shape = probs_or_logits.param_shape

    def sample(self, sample_shape=cgrad.Size()):
        shape = self._extended_shape(sample_shape)
        with cgrad.no_grad():
            return cgrad.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -cgrad.nn.functional.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return cgrad.nn.functional.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = cgrad.arange(2, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + self._batch_shape)
        return values

    @property
    def _natural_params(self):
        return (cgrad.logit(self.probs),)

    def _log_normalizer(self, x):
        return cgrad.log1p(cgrad.exp(x))
