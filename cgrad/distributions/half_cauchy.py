"""HalfCauchy(scale): |Cauchy(0, scale)|, as a TransformedDistribution.

Ported from PyTorch 2.13's torch/distributions/half_cauchy.py (BSD-3-Clause), over
cgrad's differentiable ops."""
from __future__ import annotations

import math

import cgrad
from cgrad import Tensor
from cgrad.distributions import _half as half
from cgrad.distributions import constraints
from cgrad.distributions.cauchy import Cauchy
from cgrad.distributions.transformed_distribution import TransformedDistribution
from cgrad.distributions.transforms import AbsTransform


__all__ = ["HalfCauchy"]


class HalfCauchy(TransformedDistribution):
    r"""
    Creates a half-Cauchy distribution parameterized by `scale` where::

        X ~ Cauchy(0, scale)
        Y = |X| ~ HalfCauchy(scale)

    Example::

        >>> # xdoctest: +IGNORE_WANT("non-deterministic")
        >>> m = HalfCauchy(cgrad.tensor([1.0]))
        >>> m.sample()  # half-cauchy distributed with scale=1
        tensor([ 2.3214])

    Args:
        scale (float or Tensor): scale of the full Cauchy distribution
    """

    arg_constraints = {"scale": constraints.positive}
    # pyrefly: ignore [bad-override]
    support = constraints.nonnegative
    has_rsample = True
    # pyrefly: ignore [bad-override]
    base_dist: Cauchy

    def __init__(
        self,
        scale: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    scale = half.scale

    @property
    def mean(self) -> Tensor:
        return cgrad.full(
            self._extended_shape(),
            math.inf,
            dtype=self.scale.dtype,
            device=self.scale.device,
        )

    mode = half.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = cgrad.as_tensor(
            value, dtype=self.base_dist.scale.dtype, device=self.base_dist.scale.device
        )
        return half.folded_log_prob(self, value)

    cdf = half.cdf
    icdf = half.icdf
    entropy = half.entropy
