"""The `probs | logits` parameterisation shared by the binary families.

Bernoulli, Binomial, NegativeBinomial, ContinuousBernoulli and
LogitRelaxedBernoulli take either `probs` or `logits` (never both), store the
given one (optionally broadcast with a `total_count`) and compute the other
lazily; `expand` carries over whichever of the two is set. PyTorch repeats
these lines in each family; here the families keep PyTorch's class hierarchy
(each subclasses Distribution or ExponentialFamily directly) and call these
helpers, or bind the shared members below in their class bodies.
"""
from __future__ import annotations

import cgrad
from cgrad.distributions.utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = []


def set_probs_or_logits(dist, probs, logits, total_count=None):
    """Stores `probs` or `logits` on `dist` (as the attribute of that name and
    as `dist._param`), broadcast with `total_count` when one is given (which is
    then stored as `dist.total_count` in the parameter's dtype), and returns
    the batch shape: the parameter's size (() for a Python number, which
    broadcast_all makes a 0-d tensor)."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    name, given = ("probs", probs) if probs is not None else ("logits", logits)
    if total_count is None:
        (param,) = broadcast_all(given)
    else:
        total_count, param = broadcast_all(total_count, given)
        dist.total_count = total_count.type_as(param)
    setattr(dist, name, param)
    dist._param = param
    return param.size()


def expand_probs_or_logits(dist, cls, batch_shape, _instance=None, unchanged=()):
    """`dist.expand(batch_shape, _instance)` for the family `cls`: the copy gets
    whichever of probs/logits `dist` holds (and its total_count, if any)
    expanded to `batch_shape`, and the attributes named in `unchanged` as they are."""
    new = dist._get_checked_instance(cls, _instance)
    batch_shape = cgrad.Size(batch_shape)
    for name in unchanged:
        setattr(new, name, getattr(dist, name))
    if "total_count" in dist.__dict__:
        new.total_count = dist.total_count.expand(batch_shape)
    if "probs" in dist.__dict__:
        new.probs = dist.probs.expand(batch_shape)
        new._param = new.probs
    if "logits" in dist.__dict__:
        new.logits = dist.logits.expand(batch_shape)
        new._param = new.logits
    super(cls, new).__init__(batch_shape, validate_args=False)
    new._validate_args = dist._validate_args
    return new


# The members the families bind in their class bodies (`logits = probs_or_logits.logits`);
# lazy_property stores its value under the wrapped function's name, hence these names.
@lazy_property
def logits(self):
    return probs_to_logits(self.probs, is_binary=True)


@lazy_property
def probs(self):
    return logits_to_probs(self.logits, is_binary=True)


@property
def param_shape(self):
    return self._param.size()


def new_like_param(self, *args, **kwargs):
    return self._param.new(*args, **kwargs)
