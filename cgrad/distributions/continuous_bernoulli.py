"""ContinuousBernoulli(probs | logits): the continuous Bernoulli distribution on [0, 1].

Ported from PyTorch 2.13's torch/distributions/continuous_bernoulli.py (BSD-3-Clause), over
cgrad's differentiable ops."""
from __future__ import annotations

import math

import cgrad
from cgrad.distributions.utils import lazy_functional as F

_Number = (int, float, bool)   # torch.types._Number
from cgrad import Tensor
from cgrad.distributions import _probs_or_logits as probs_or_logits
from cgrad.distributions import constraints
from cgrad.distributions.exp_family import ExponentialFamily
from cgrad.distributions.utils import (
    broadcast_all,
    clamp_probs,
    lazy_property,
    logits_to_probs,
)


__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    r"""
    Creates a continuous Bernoulli distribution parameterized by :attr:`probs`
    or :attr:`logits` (but not both).

    The distribution is supported in [0, 1] and parameterized by 'probs' (in
    (0,1)) or 'logits' (real-valued). Note that, unlike the Bernoulli, 'probs'
    does not correspond to a probability and 'logits' does not correspond to
    log-odds, but the same names are used due to the similarity with the
    Bernoulli. See [1] for more details.

    Example::

        >>> # xdoctest: +IGNORE_WANT("non-deterministic")
        >>> m = ContinuousBernoulli(cgrad.tensor([0.3]))
        >>> m.sample()
        tensor([ 0.2538])

    Args:
        probs (Number, Tensor): (0,1) valued parameters
        logits (Number, Tensor): real valued parameters whose sigmoid matches 'probs'

    [1] The continuous Bernoulli: fixing a pervasive error in variational
    autoencoders, Loaiza-Ganem G and Cunningham JP, NeurIPS 2019.
    https://arxiv.org/abs/1907.06845
    """

    # pyrefly: ignore [bad-override]
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(
        self,
        probs: Tensor | Number | None = None,
        logits: Tensor | Number | None = None,
        lims: tuple[float, float] = (0.499, 0.501),
        validate_args: bool | None = None,
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError(
                "Either `probs` or `logits` must be specified, but not both."
            )
        if probs is not None:
            is_scalar = isinstance(probs, _Number)
            # pyrefly: ignore [read-only]
            (self.probs,) = broadcast_all(probs)
            # validate 'probs' here if necessary as it is later clamped for numerical stability
            # close to 0 and 1, later on; otherwise the clamped 'probs' would always pass
            if validate_args is not None:
                if not self.arg_constraints["probs"].check(self.probs).all():
                    raise ValueError("The parameter probs has invalid values")
            # pyrefly: ignore [read-only]
            self.probs = clamp_probs(self.probs)
        else:
            if logits is None:
                raise AssertionError("logits is unexpectedly None")
            is_scalar = isinstance(logits, _Number)
            # pyrefly: ignore [read-only]
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        if is_scalar:
            batch_shape = cgrad.Size()
        else:
            batch_shape = self._param.size()
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return probs_or_logits.expand_probs_or_logits(self, ContinuousBernoulli, batch_shape, _instance,
                                                      unchanged=('_lims',))

    _new = probs_or_logits.new_like_param

    def _outside_unstable_region(self):
        return cgrad.max(
            cgrad.le(self.probs, self._lims[0]), cgrad.gt(self.probs, self._lims[1])
        )

    def _cut_probs(self):
        return cgrad.where(
            self._outside_unstable_region(),
            self.probs,
            self._lims[0] * cgrad.ones_like(self.probs),
        )

    def _cont_bern_log_norm(self):
        """computes the log normalizing constant as a function of the 'probs' parameter"""
        cut_probs = self._cut_probs()
        cut_probs_below_half = cgrad.where(
            cgrad.le(cut_probs, 0.5), cut_probs, cgrad.zeros_like(cut_probs)
        )
        cut_probs_above_half = cgrad.where(
            cgrad.ge(cut_probs, 0.5), cut_probs, cgrad.ones_like(cut_probs)
        )
        log_norm = cgrad.log(
            cgrad.abs(cgrad.log1p(-cut_probs) - cgrad.log(cut_probs))
        ) - cgrad.where(
            cgrad.le(cut_probs, 0.5),
            cgrad.log1p(-2.0 * cut_probs_below_half),
            cgrad.log(2.0 * cut_probs_above_half - 1.0),
        )
        x = cgrad.pow(self.probs - 0.5, 2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return cgrad.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / (
            cgrad.log1p(-cut_probs) - cgrad.log(cut_probs)
        )
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * cgrad.pow(x, 2)) * x
        return cgrad.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self) -> Tensor:
        return cgrad.sqrt(self.variance)

    @property
    def variance(self) -> Tensor:
        cut_probs = self._cut_probs()
        vars = cut_probs * (cut_probs - 1.0) / cgrad.pow(
            1.0 - 2.0 * cut_probs, 2
        ) + 1.0 / cgrad.pow(cgrad.log1p(-cut_probs) - cgrad.log(cut_probs), 2)
        x = cgrad.pow(self.probs - 0.5, 2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return cgrad.where(self._outside_unstable_region(), vars, taylor)

    logits = probs_or_logits.logits

    @lazy_property
    def probs(self) -> Tensor:
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    param_shape = probs_or_logits.param_shape

    def sample(self, sample_shape=cgrad.Size()):
        shape = self._extended_shape(sample_shape)
        u = cgrad.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        with cgrad.no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape: _size = cgrad.Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = cgrad.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return (
            -F.binary_cross_entropy_with_logits(logits, value, reduction="none")
            + self._cont_bern_log_norm()
        )

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = (
            cgrad.pow(cut_probs, value) * cgrad.pow(1.0 - cut_probs, 1.0 - value)
            + cut_probs
            - 1.0
        ) / (2.0 * cut_probs - 1.0)
        unbounded_cdfs = cgrad.where(self._outside_unstable_region(), cdfs, value)
        return cgrad.where(
            cgrad.le(value, 0.0),
            cgrad.zeros_like(value),
            cgrad.where(cgrad.ge(value, 1.0), cgrad.ones_like(value), unbounded_cdfs),
        )

    def icdf(self, value):
        cut_probs = self._cut_probs()
        return cgrad.where(
            self._outside_unstable_region(),
            (
                cgrad.log1p(-cut_probs + value * (2.0 * cut_probs - 1.0))
                - cgrad.log1p(-cut_probs)
            )
            / (cgrad.log(cut_probs) - cgrad.log1p(-cut_probs)),
            value,
        )

    def entropy(self):
        log_probs0 = cgrad.log1p(-self.probs)
        log_probs1 = cgrad.log(self.probs)
        return (
            self.mean * (log_probs0 - log_probs1)
            - self._cont_bern_log_norm()
            - log_probs0
        )

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    # pyrefly: ignore [bad-override]
    def _log_normalizer(self, x):
        """computes the log normalizing constant as a function of the natural parameter"""
        out_unst_reg = cgrad.max(
            cgrad.le(x, self._lims[0] - 0.5), cgrad.gt(x, self._lims[1] - 0.5)
        )
        cut_nat_params = cgrad.where(
            out_unst_reg, x, (self._lims[0] - 0.5) * cgrad.ones_like(x)
        )
        log_norm = cgrad.log(
            cgrad.abs(cgrad.special.expm1(cut_nat_params))
        ) - cgrad.log(cgrad.abs(cut_nat_params))
        taylor = 0.5 * x + cgrad.pow(x, 2) / 24.0 - cgrad.pow(x, 4) / 2880.0
        return cgrad.where(out_unst_reg, log_norm, taylor)
