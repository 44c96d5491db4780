"""The `probs | logits` parameterisation the binary families share
(cgrad/distributions/_probs_or_logits.py), against torch.distributions:
for Bernoulli, Binomial, NegativeBinomial, ContinuousBernoulli and
(Logit)RelaxedBernoulli, built from probs, from logits and from Python
numbers: batch shapes, the stored and the lazily computed parameter,
param_shape, _new's dtype, expand (which parameter it carries over) and the
error when both or neither are given."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

PROBS = np.array([[0.2, 0.5, 0.9], [0.3, 0.6, 0.1]])
LOGITS = np.array([[-1.0, 0.3, 2.0], [0.5, -0.2, 1.5]])

FAMILIES = {
    "Bernoulli": lambda lib, **p: lib.distributions.Bernoulli(**p),
    "Binomial": lambda lib, **p: lib.distributions.Binomial(lib.tensor([[4.0], [7.0]]), **p),
    "BinomialIntCount": lambda lib, **p: lib.distributions.Binomial(5, **p),
    "NegativeBinomial": lambda lib, **p: lib.distributions.NegativeBinomial(3.0, **p),
    "ContinuousBernoulli": lambda lib, **p: lib.distributions.ContinuousBernoulli(**p),
    "LogitRelaxedBernoulli": lambda lib, **p: lib.distributions.relaxed_bernoulli.LogitRelaxedBernoulli(
        lib.tensor(0.5), **p),
}


def _param(lib, kind, source):
    if source == "number":
        return {kind: 0.25 if kind == "probs" else -0.75}
    return {kind: lib.tensor(PROBS if kind == "probs" else LOGITS)}


def _both(c, t, what):
    c = c.detach().numpy() if isinstance(c, cgrad.Tensor) else np.asarray(c)
    t = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    assert c.shape == t.shape and c.dtype == t.dtype, what
    tol = 1e-6 if c.dtype == np.float32 else 1e-12   # Python numbers give float32 tensors
    np.testing.assert_allclose(c, t, rtol=tol, atol=tol, err_msg=what)


@requires_torch
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("kind", ["probs", "logits"])
@pytest.mark.parametrize("source", ["tensor", "number"])
def test_parameterisation_matches_torch(family, kind, source):
    dc = FAMILIES[family](cgrad, **_param(cgrad, kind, source))
    dt = FAMILIES[family](torch, **_param(torch, kind, source))
    assert tuple(dc.batch_shape) == tuple(dt.batch_shape)
    assert tuple(dc.param_shape) == tuple(dt.param_shape)
    assert sorted(k for k in ("probs", "logits") if k in vars(dc)) == [kind]
    _both(dc.probs, dt.probs, f"{family}.probs")
    _both(dc.logits, dt.logits, f"{family}.logits")
    assert str(dc._new((2,)).dtype).replace("cgrad.", "torch.") == str(dt._new((2,)).dtype)
    if hasattr(dt, "total_count"):
        _both(dc.total_count, dt.total_count, f"{family}.total_count")
        assert str(dc.total_count.dtype).replace("cgrad.", "torch.") == str(dt.total_count.dtype)

    shape = (4,) + tuple(dt.batch_shape)
    fresh_c = FAMILIES[family](cgrad, **_param(cgrad, kind, source))
    fresh_t = FAMILIES[family](torch, **_param(torch, kind, source))
    ec, et = fresh_c.expand(shape), fresh_t.expand(shape)
    assert type(ec) is type(dc) and tuple(ec.batch_shape) == tuple(et.batch_shape) == shape
    assert sorted(k for k in ("probs", "logits") if k in vars(ec)) == [kind]
    assert tuple(ec.param_shape) == tuple(et.param_shape)
    _both(ec.probs, et.probs, f"{family}.expand.probs")
    if hasattr(et, "total_count"):
        _both(ec.total_count, et.total_count, f"{family}.expand.total_count")


@requires_torch
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("given", ["both", "neither"])
def test_both_or_neither_parameter_raises_as_torch(family, given):
    errors = []
    for lib in (cgrad, torch):
        params = {"probs": lib.tensor([0.5]), "logits": lib.tensor([0.0])} if given == "both" else {}
        with pytest.raises(Exception) as info:
            FAMILIES[family](lib, **params)
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[0] == errors[1] == ("ValueError", "Either `probs` or `logits` must be specified, but not both.")
