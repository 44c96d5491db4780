"""cgrad.utils.benchmark's Fuzzer: from one seed the same parameters,
tensor shapes, strides and properties as torch's Fuzzer (the draws are
numpy's, in torch's order), aliases, strict parameters, constraints and
limits, and torch's refusals."""
import numpy as np
import pytest

import cgrad
from cgrad.utils import benchmark as cb

from helpers import requires_torch

try:
    import torch
    import torch.utils.benchmark as tb
except ImportError:
    torch = tb = None


def _draws(lib, bm, n=15, seed=7):
    fuzzer = bm.Fuzzer(
        parameters=[bm.FuzzedParameter("k0", 4, 256, distribution="loguniform"),
                    bm.FuzzedParameter("k1", 1, 8, distribution="uniform", strict=True),
                    bm.FuzzedParameter("k_alias", distribution="uniform", minval=1, maxval=2),
                    [bm.FuzzedParameter("s", 1, 3, distribution="uniform"),
                     bm.FuzzedParameter("d", 1, 3, distribution="uniform")],
                    bm.FuzzedParameter("f", minval=0.0, maxval=1.0, distribution="uniform")],
        tensors=[bm.FuzzedTensor("x", size=("k0", "k1", 3), steps=("s", 1, 2), dim_parameter="d",
                                 max_elements=4096, max_allocation_bytes=40000),
                 bm.FuzzedTensor("y", size=("k1", "k0"), probability_contiguous=0.2, dtype=lib.int32)],
        constraints=[lambda p: p["k0"] % 2 == 0], seed=seed)
    out = []
    for tensors, properties, params in fuzzer.take(n):
        for name, t in tensors.items():
            props = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in properties[name].items()}
            props["dtype"] = props["dtype"].replace("torch.", "").replace("cgrad.", "")
            out.append((name, tuple(t.shape), tuple(t.stride()), str(t.dtype).split(".")[-1], props))
        out.append(params)
    return out, fuzzer.rejection_rate


@requires_torch
@pytest.mark.parametrize("seed", [0, 7, 123])
def test_fuzzer_draws_match_torch(seed):
    assert _draws(cgrad, cb, seed=seed) == _draws(torch, tb, seed=seed)


def test_fuzzer_by_hand():
    draws, rejection_rate = _draws(cgrad, cb, n=20)
    params = [d for d in draws if isinstance(d, dict)]
    assert len(params) == 20 and all(p["k0"] % 2 == 0 for p in params) and 0 < rejection_rate < 1
    assert len({p["k1"] for p in params}) >= 1
    for name, shape, stride, dtype, props in (d for d in draws if isinstance(d, tuple)):
        assert props["numel"] == int(np.prod(shape))
        if name == "x":
            assert props["numel"] <= 4096 and dtype == "float32"
        else:
            assert dtype == "int32"
    tensors, _, _ = next(cb.Fuzzer([cb.FuzzedParameter("n", 2, 4, distribution="uniform")],
                                   [cb.FuzzedTensor("t", size=("n", "n"))], seed=1).take(1))
    t = tensors["t"]
    assert isinstance(t, cgrad.Tensor) and ((t >= 0) & (t < 1)).all().item()


def test_aliases_and_refusals():
    # (a ParameterAlias reaches a draw only through a custom distribution, which torch 2.13's normalization
    # check refuses whenever numpy would accept it: the resolution is checked directly)
    resolved = cb.Fuzzer._resolve_aliases({"a": 4, "b": cb.ParameterAlias("c"), "c": cb.ParameterAlias("a")})
    assert resolved == {"a": 4, "b": 4, "c": 4}
    assert repr(cb.ParameterAlias("a")) == "ParameterAlias[alias_to: a]"
    with pytest.raises(AssertionError, match="Unknown distribution: normal"):
        cb.FuzzedParameter("x", 0, 1, distribution="normal")
    with pytest.raises(AssertionError, match="Probabilities cannot be negative"):
        cb.FuzzedParameter("x", distribution={1: -0.5, 2: 0.5})
    with pytest.raises(ValueError, match="Duplicate names in parameters and tensors"):
        cb.Fuzzer([cb.FuzzedParameter("t", 1, 2, distribution="uniform")], [cb.FuzzedTensor("t", size=(1,))])
    with pytest.raises(ValueError, match="Failed to generate a set of valid parameters."):
        next(cb.Fuzzer([cb.FuzzedParameter("n", 1, 2, distribution="uniform")], [],
                       constraints=[lambda p: False], seed=0).take(1))
    with pytest.raises(ValueError, match="ParameterAlias cycle detected"):
        cb.Fuzzer._resolve_aliases({"p": cb.ParameterAlias("q"), "q": cb.ParameterAlias("p")})


@requires_torch
@pytest.mark.parametrize("distribution", [{1: 0.5, 2: 0.5}, {1: 0.25, 2: 0.25}])
def test_custom_distribution_check_as_torch(distribution):
    def outcome(bm):
        try:
            bm.FuzzedParameter("x", distribution=distribution)
            return None
        except AssertionError as e:
            return str(e)
    assert outcome(cb) == outcome(tb)
