"""Which ops still take vmap's per-sample fallback (PyTorch's performance
warning): every sample call of the hand-written ops (the forward-mode AD
samples, tests/autograd/jvp_samples.py and test_jvp_coverage.py, and the
index-op samples below) runs under vmap against a loop of the same call
(values), vmap(grad) against a loop of grad, and torch.func.vmap where
installed; twice: with the float inputs batched and the integer (index)
inputs shared, then with the integer inputs batched too (each sample its
own positions: the sample's indices rolled).

The ops whose fallback warning a sample raises must be exactly the ones
STILL_ON_FALLBACK (integers shared) or STILL_ON_FALLBACK_INDEX_BATCHED
(integers batched) lists for it: a rule that lands fails here until its
entry goes (the lists only shrink), and an op that loses its rule fails
too. TORCH_REFUSES lists the samples PyTorch's vmap itself refuses, with
PyTorch's error (checked to be cgrad's too).

`PYTHONPATH=. python tests/func/test_vmap_fallback_census.py` (from the
repository root) prints the census: every sample that still reaches the
fallback, and the ops it reaches there."""
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

# sample name -> the aten ops it still runs per sample, with why (none now:
# lstsq with a vector right-hand side has its rule; only samples whose
# gelsd/gelss residuals exist for some samples and not others still run
# per sample, and none of these samples is rank-deficient)
STILL_ON_FALLBACK = {
}

# the same with the integer inputs batched as well (only samples that have any)
STILL_ON_FALLBACK_INDEX_BATCHED = {
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

IDX, R = jvp_samples.IDX, jvp_samples.R

# the index ops with positions of their own (the integer input is what the
# second pass batches)
INDEX_SAMPLES = [
    ("index_add", lambda L, a, i, s: a.index_add(0, i, s), [R(4, 3), IDX(3, 1), R(2, 3)], 1),
    ("index_add_alpha_dim1", lambda L, a, s, i: L.index_add(a, 1, i, s, alpha=0.5), [R(3, 4), R(3, 2), IDX(0, 2)],
     2),
    ("index_copy", lambda L, a, i, s: a.index_copy(0, i, s), [R(4, 3), IDX(3, 1), R(2, 3)], 1),
    ("index_fill", lambda L, a, i: a.index_fill(1, i, -0.5), [R(3, 4), IDX(3, 1)], 1),
    ("index_put", lambda L, a, i, v: a.index_put((i,), v), [R(4, 3), IDX(3, 1), R(2, 3)], 1),
    ("index_put_accumulate", lambda L, a, i, j, v: a.index_put((i, j), v, accumulate=True),
     [R(4, 3), IDX(3, 1, 3), IDX(0, 2, 0), R(3)], 1),
    ("index_pair", lambda L, a, i, j: a[i, :, j], [R(4, 2, 3), IDX(3, 1), IDX(0, 2)], 1),
    ("index_setitem", lambda L, a, i, v: _set(a * 1, i, v), [R(4, 3), IDX(3, 1), R(2, 3)], 1),
    ("scatter", lambda L, a, i, s: a.scatter(1, i, s), [R(3, 4), np.array([[0], [2], [3]]), R(3, 1)], 1),
    ("scatter_add", lambda L, a, i, s: L.scatter_add(a, 1, i, s),
     [R(3, 4), np.array([[0, 1], [2, 2], [3, 0]]), R(3, 2)], 1),
    ("scatter_reduce", lambda L, a, i, s: a.scatter_reduce(1, i, s, "amax"),
     [R(3, 4), np.array([[0, 1], [2, 2], [3, 0]]), R(3, 2)], 1),
    ("take", lambda L, a, i: L.take(a, i), [R(3, 4), IDX(11, -1, 5, 0)], 1),
    ("take_along_dim", lambda L, a, i: L.take_along_dim(a, i, 1), [R(3, 4), np.array([[0, 1], [2, 2], [3, 0]])],
     1),
    ("conv_transpose2d", lambda L, x, w, b: L.nn.functional.conv_transpose2d(x, w, b, stride=2, groups=2),
     [R(1, 4, 3, 3), R(4, 3, 2, 2), R(6)], 3),
    ("conv1d_groups", lambda L, x, w: L.nn.functional.conv1d(x, w, groups=2), [R(2, 4, 6), R(6, 2, 3)], 2),
    ("conv3d", lambda L, x, w: L.nn.functional.conv3d(x, w, padding=1), [R(1, 2, 3, 3, 3), R(2, 2, 2, 2, 2)], 2),
]


def _set(x, index, value):
    x[index] = value
    return x


SAMPLES = list(jvp_samples.SAMPLES) + list(test_jvp_coverage.SAMPLES) + INDEX_SAMPLES
BATCH = 3


def _batched_inputs(inputs, index_batched=False):
    """Float inputs stacked into a batch of scaled copies (scaling keeps
    each input inside its op's domain: probabilities, positive definite
    matrices); integer inputs (indices) shared, or with index_batched each
    sample's indices rolled by its number (the same values, so every
    sample stays in range and keeps its output shape)."""
    arrays, in_dims = [], []
    for a in inputs:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            arrays.append(np.stack([a * (1 - 0.1 * k) for k in range(BATCH)]))
            in_dims.append(0)
        elif index_batched and _is_index(a):
            arrays.append(np.stack([np.roll(a.reshape(-1), k).reshape(a.shape) for k in range(BATCH)]))
            in_dims.append(0)
        else:
            arrays.append(a)
            in_dims.append(None)
    return arrays, tuple(in_dims)


def _is_index(a):
    return isinstance(a, np.ndarray) and a.dtype.kind in "iu"


INDEX_BATCHED_SAMPLES = [s for s in SAMPLES if any(_is_index(a) for a in s[2])]


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


def _census_run(sample, index_batched):
    """(ops that fell back, outputs, gradients or None, arrays, in_dims)."""
    name, fn, inputs, n_dual = sample
    arrays, in_dims = _batched_inputs(inputs, index_batched)
    args = [_as_lib(cgrad, a) for a in arrays]
    call = lambda *a: fn(cgrad, *a)  # noqa: E731
    grad = grads = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = cgrad.func.vmap(call, in_dims=in_dims)(*args)
        # the gradient w.r.t. the first float input with a tangent in the sample
        duals = range(n_dual) if isinstance(n_dual, int) else n_dual
        floats = [k for k in duals if in_dims[k] == 0 and arrays[k].dtype.kind == "f"]
        if _float_outputs(out) and floats:
            def summed(*a):
                return sum(o.sum() for o in _float_outputs(fn(cgrad, *a)))
            grad = cgrad.func.grad(summed, argnums=floats[0])
            grads = cgrad.func.vmap(grad, in_dims=in_dims)(*args)
    return _fallbacks(caught), (call, out), (grad, grads), arrays, in_dims


def _check_sample(sample, index_batched, still_on_fallback):
    name, fn = sample[0], sample[1]
    arrays, in_dims = _batched_inputs(sample[2], index_batched)
    args = [_as_lib(cgrad, a) for a in arrays]
    if name in TORCH_REFUSES:
        with pytest.raises(RuntimeError, match=re.escape(TORCH_REFUSES[name])):
            cgrad.func.vmap(lambda *a: fn(cgrad, *a), in_dims=in_dims)(*args)
        if torch is not None:
            with pytest.raises(RuntimeError, match=re.escape(TORCH_REFUSES[name])):
                torch.func.vmap(lambda *a: fn(torch, *a), in_dims=in_dims)(*[_as_lib(torch, a) for a in arrays])
        return
    fell_back, (call, out), (grad, grads), arrays, in_dims = _census_run(sample, index_batched)
    assert fell_back == still_on_fallback.get(name, set())
    assert_same(out, loop(call, args, in_dims), f"{name}: vmap vs loop", atol=1e-9)
    if grad is not None:
        assert_same(grads, loop(grad, args, in_dims), f"{name}: vmap(grad) vs loop", atol=1e-9)
    if torch is not None and name not in TORCH_FAILS:
        expected = torch.func.vmap(lambda *a: fn(torch, *a), in_dims=in_dims)(*[_as_lib(torch, a) for a in arrays])
        assert_same(out, expected, f"{name}: vmap vs torch.func.vmap", atol=1e-9)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_vmap_of_sample(sample):
    _check_sample(sample, False, STILL_ON_FALLBACK)


@pytest.mark.parametrize("sample", INDEX_BATCHED_SAMPLES, ids=[s[0] for s in INDEX_BATCHED_SAMPLES])
def test_vmap_of_sample_with_batched_indices(sample):
    _check_sample(sample, True, STILL_ON_FALLBACK_INDEX_BATCHED)


def test_fallback_list_names_samples():
    """Every entry of the lists is a sample that exists (a renamed sample
    must not leave a stale entry behind)."""
    names = {s[0] for s in SAMPLES}
    assert set(STILL_ON_FALLBACK) <= names
    assert set(STILL_ON_FALLBACK_INDEX_BATCHED) <= {s[0] for s in INDEX_BATCHED_SAMPLES}
    assert set(TORCH_REFUSES) <= names
    assert TORCH_FAILS <= names


def census():
    """{(sample, "indices shared" or "indices batched"): ops run per sample}
    for every sample that still reaches the fallback."""
    found = {}
    for index_batched, samples in ((False, SAMPLES), (True, INDEX_BATCHED_SAMPLES)):
        for sample in samples:
            if sample[0] in TORCH_REFUSES:
                continue
            fell_back = _census_run(sample, index_batched)[0]
            if fell_back:
                found[sample[0], "indices batched" if index_batched else "indices shared"] = fell_back
    return found


if __name__ == "__main__":
    still = census()
    print(f"{len(SAMPLES)} samples, {len(INDEX_BATCHED_SAMPLES)} of them with integer inputs (run twice)")
    print(f"still on the per-sample fallback: {len(still)}")
    for (name, mode), ops in sorted(still.items()):
        print(f"  {name} ({mode}): {', '.join(sorted(ops))}")
