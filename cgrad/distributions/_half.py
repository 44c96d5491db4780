"""What HalfNormal and HalfCauchy share: each is |X| for X ~ Base(0, scale),
a TransformedDistribution of the base through AbsTransform, as in PyTorch.
Folding at zero doubles the density on [0, inf) (log_prob + log 2), maps the
cdf to 2 F(x) - 1, the quantile q to the base's (q + 1) / 2, and lowers the
entropy by log 2. The two families keep PyTorch's class hierarchy (each a
TransformedDistribution) and bind these members in their class bodies
(`cdf = half.cdf`); only their moments and log_prob's input handling differ.
"""
import math

import cgrad

__all__ = []


@property
def scale(self):
    return self.base_dist.scale


@property
def mode(self):
    return cgrad.zeros_like(self.scale)


def folded_log_prob(dist, value):
    """log_prob of |X| at the tensor `value` (-inf below zero), unvalidated."""
    log_prob = dist.base_dist.log_prob(value) + math.log(2)
    return cgrad.where(value >= 0, log_prob, -math.inf)


def cdf(self, value):
    if self._validate_args:
        self._validate_sample(value)
    return 2 * self.base_dist.cdf(value) - 1


def icdf(self, prob):
    return self.base_dist.icdf((prob + 1) / 2)


def entropy(self):
    return self.base_dist.entropy() - math.log(2)
