"""The check every vmap op test runs: vmap(f) against a Python loop of f
over the samples (values), vmap(grad(sum f)) against a loop of grad
(gradients), no fallback warning (the op's batching rule ran), and, with
torch installed, torch.func.vmap of the same f."""
import warnings

import numpy as np

import cgrad

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None

FALLBACK = "There is a performance drop"


def to_lib(lib, a):
    return lib.tensor(a) if isinstance(a, np.ndarray) else a


def as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def assert_same(actual, expected, what, atol=1e-6):
    actual, expected = as_list(actual), as_list(expected)
    assert len(actual) == len(expected), what
    for a, e in zip(actual, expected):
        a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
        e = e.detach().numpy() if hasattr(e, "detach") else np.asarray(e)
        assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
        np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=1e-5, atol=atol,
                                   err_msg=what)


def run_quiet(fn, *args):
    """fn(*args), asserting vmap did not fall back to the per-sample loop."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args)
    slow = [str(w.message) for w in caught if FALLBACK in str(w.message)]
    assert not slow, slow
    return out


def loop(fn, args, in_dims, out_stack=True):
    """fn per sample, stacked on dim 0 (the reference)."""
    size = next(a.shape[d] for a, d in zip(args, in_dims) if d is not None)
    results = []
    for i in range(size):
        sample = [a if d is None else a.select(d, i) for a, d in zip(args, in_dims)]
        results.append(as_list(fn(*sample)))
    return [cgrad.stack([r[k] for r in results]) for k in range(len(results[0]))]


def check_vmap(f, arrays, in_dims=0, grad=True, atol=1e-6, against_torch=True):
    """f(lib, *tensors) under vmap equals the loop; with grad, so does the
    gradient of f's sum w.r.t. the first batched float argument (the first
    float argument when none is batched). against_torch=False for the cases
    torch.func.vmap itself gets wrong (the loop is the reference there)."""
    compare = torch is not None and against_torch
    if isinstance(in_dims, int) or in_dims is None:
        in_dims = (in_dims,) * len(arrays)
    args = [to_lib(cgrad, a) for a in arrays]
    fc = lambda *a: f(cgrad, *a)  # noqa: E731
    out = run_quiet(cgrad.func.vmap(fc, in_dims=in_dims), *args)
    assert_same(out, loop(fc, args, in_dims), "vmap values vs loop", atol)
    targs = None
    if compare:
        targs = [to_lib(torch, a) for a in arrays]
        tout = torch.func.vmap(lambda *a: f(torch, *a), in_dims=in_dims)(*targs)
        assert_same(out, tout, "vmap values vs torch.func.vmap", atol)
    if not grad:
        return
    floats = [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    batched = [i for i in floats if in_dims[i] is not None]
    # an unbatched argument's gradient is still per sample (grad broadcasts it)
    k = (batched or floats)[0]

    def summed(lib):
        def g(*a):
            outs = as_list(f(lib, *a))
            return sum(o.sum() for o in outs if o.is_floating_point())
        return g
    grads = run_quiet(cgrad.func.vmap(cgrad.func.grad(summed(cgrad), argnums=k), in_dims=in_dims), *args)
    expected = loop(cgrad.func.grad(summed(cgrad), argnums=k), args, in_dims)
    assert_same(grads, expected, "vmap(grad) vs loop of grad", atol)
    if compare:
        tgrads = torch.func.vmap(torch.func.grad(summed(torch), argnums=k), in_dims=in_dims)(*targs)
        assert_same(grads, tgrads, "vmap(grad) vs torch.func", atol)
