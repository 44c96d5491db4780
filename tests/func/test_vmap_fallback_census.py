"""Which ops still take vmap's per-sample fallback (PyTorch's performance
warning): every sample call of the hand-written ops (the forward-mode AD
samples, tests/autograd/jvp_samples.py and test_jvp_coverage.py) runs under
vmap, its float inputs batched, against a loop of the same call (values),
vmap(grad) against a loop of grad, and torch.func.vmap where installed.

The ops whose fallback warning a sample raises must be exactly the ones
STILL_ON_FALLBACK lists for it: a rule that lands fails here until its
entry goes (the list only shrinks), and an op that loses its rule fails
too. TORCH_REFUSES lists the samples PyTorch's vmap itself refuses, with
PyTorch's error (checked to be cgrad's too)."""
import os
import re
import sys
import warnings

import numpy as np
import pytest

import cgrad
from vmap_check import FALLBACK, assert_same, loop, torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "autograd"))
import jvp_samples  # noqa: E402
import test_jvp_coverage  # noqa: E402

# sample name -> the aten ops it still runs per sample, with why
STILL_ON_FALLBACK = {
    # a vector right-hand side gives residuals whose shape depends on each
    # sample's rank (empty when any is rank-deficient): run per sample
    "lstsq_vector_residuals": {"lstsq"},
}

# samples PyTorch's vmap refuses: the start of its error
TORCH_REFUSES = {
    "masked_select": "vmap: Attempted to vmap over `mask` in torch.masked_select",
}

# samples torch.func.vmap gets wrong (the loop is the reference)
TORCH_FAILS = {
    # torch's rule reads the batched vector as a matrix: "input.size(-2) should match other.size(-2)"
    "lstsq_vector_residuals",
}

SAMPLES = list(jvp_samples.SAMPLES) + list(test_jvp_coverage.SAMPLES)
BATCH = 3


def _batched_inputs(inputs):
    """Float inputs stacked into a batch of scaled copies (scaling keeps
    each input inside its op's domain: probabilities, positive definite
    matrices); integer inputs (indices) shared."""
    arrays, in_dims = [], []
    for a in inputs:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            arrays.append(np.stack([a * (1 - 0.1 * k) for k in range(BATCH)]))
            in_dims.append(0)
        else:
            arrays.append(a)
            in_dims.append(None)
    return arrays, tuple(in_dims)


def _as_lib(lib, a):
    return lib.tensor(a) if isinstance(a, np.ndarray) else a


def _fallbacks(caught):
    names = set()
    for w in caught:
        match = re.search(r"aten::(\S+?)\. Please", str(w.message))
        if FALLBACK in str(w.message) and match:
            names.add(match.group(1))
    return names


def _float_outputs(out):
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, cgrad.Tensor) and o.is_floating_point()]


@pytest.mark.parametrize("sample", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_vmap_of_sample(sample):
    name, fn, inputs, n_dual = sample
    arrays, in_dims = _batched_inputs(inputs)
    args = [_as_lib(cgrad, a) for a in arrays]
    call = lambda *a: fn(cgrad, *a)  # noqa: E731
    if name in TORCH_REFUSES:
        with pytest.raises(RuntimeError, match=re.escape(TORCH_REFUSES[name])):
            cgrad.func.vmap(call, in_dims=in_dims)(*args)
        if torch is not None:
            with pytest.raises(RuntimeError, match=re.escape(TORCH_REFUSES[name])):
                torch.func.vmap(lambda *a: fn(torch, *a), in_dims=in_dims)(*[_as_lib(torch, a) for a in arrays])
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = cgrad.func.vmap(call, in_dims=in_dims)(*args)
        # the gradient w.r.t. the first float input with a tangent in the sample
        duals = range(n_dual) if isinstance(n_dual, int) else n_dual
        floats = [k for k in duals if in_dims[k] == 0]
        differentiable = bool(_float_outputs(out)) and bool(floats)
        if differentiable:
            def summed(*a):
                return sum(o.sum() for o in _float_outputs(fn(cgrad, *a)))
            grad = cgrad.func.grad(summed, argnums=floats[0])
            grads = cgrad.func.vmap(grad, in_dims=in_dims)(*args)
    assert _fallbacks(caught) == STILL_ON_FALLBACK.get(name, set())
    assert_same(out, loop(call, args, in_dims), f"{name}: vmap vs loop", atol=1e-9)
    if differentiable:
        assert_same(grads, loop(grad, args, in_dims), f"{name}: vmap(grad) vs loop", atol=1e-9)
    if torch is not None and name not in TORCH_FAILS:
        expected = torch.func.vmap(lambda *a: fn(torch, *a), in_dims=in_dims)(*[_as_lib(torch, a) for a in arrays])
        assert_same(out, expected, f"{name}: vmap vs torch.func.vmap", atol=1e-9)


def test_fallback_list_names_samples():
    """Every entry of the lists is a sample that exists (a renamed sample
    must not leave a stale entry behind)."""
    names = {s[0] for s in SAMPLES}
    assert set(STILL_ON_FALLBACK) <= names
    assert set(TORCH_REFUSES) <= names
    assert TORCH_FAILS <= names
