"""What the indexing tests share: sample arrays, the example scale of the
randomised tests, deep comparison of outcomes (values, or an error's type
and text with torch's names as cgrad's), and x[index] and x[index] = value
run in one library (getitem_outcome, setitem_outcome) and compared across
both (compare_setitem). Used by tests/ops/test_indexing.py and
test_indexing_semantics.py."""
import os
import warnings

import numpy as np

import cgrad
from helpers import torch


A = np.random.default_rng(0).standard_normal((3, 4, 5))
# more examples for a longer randomised campaign: CGRAD_TEST_EXAMPLES_SCALE=20
SCALE = int(os.environ.get("CGRAD_TEST_EXAMPLES_SCALE", "1"))
A2 = np.random.default_rng(1).standard_normal((3, 4))


def _name(obj):
    return None if obj is None else type(obj).__name__


def _err(e):
    return ("ERR", type(e).__name__, str(e).split(" (Triggered internally")[0].replace("torch.", "cgrad."))


def _same(x, y):
    """Deep equality with numpy arrays compared by value."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        x, y = np.asarray(x), np.asarray(y)
        return x.shape == y.shape and x.dtype == y.dtype and np.allclose(x, y, rtol=1e-6, atol=1e-9,
                                                                         equal_nan=True)
    if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    return type(x) is type(y) and x == y


def assert_same(c, t):
    assert _same(c, t), f"\ncgrad: {c}\ntorch: {t}"


def getitem_outcome(lib, arr, index_fn, base_fn=None, requires_grad=True):
    """Everything observable about x[index]: result geometry, memory sharing,
    grad_fn, values and the gradient it sends back; or the error."""
    x = lib.tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f")
    src = x if base_fn is None else base_fn(x)
    env_index = index_fn(lib)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = src[env_index]
    except Exception as e:  # noqa: BLE001 - the error is the outcome
        return _err(e)
    out = {
        "shape": tuple(r.shape), "dtype": str(r.dtype).split(".")[-1], "grad_fn": _name(r.grad_fn),
        "is_view": r._is_view(), "requires_grad": r.requires_grad,
        "values": r.detach().numpy().copy(),
        "warnings": tuple(str(m.message).split(" (Triggered")[0].replace("torch.", "cgrad.") for m in w),
    }
    if r._is_view():
        if x.numel():   # torch.tensor() gives empty arrays zero strides: a creation quirk
            out["stride"] = r.stride()
            out["offset"] = r.storage_offset()
        out["base_is_x"] = r._base is x
        if r.numel():   # torch reports data_ptr() 0 for empty tensors
            out["byte_offset"] = r.data_ptr() - x.data_ptr()
        out["version_shared"] = r._version == x._version
    else:
        out["contiguous"] = r.is_contiguous()
        if r.numel():
            out["stride"] = r.stride()
    if r.requires_grad:
        g = np.random.default_rng(7).standard_normal(tuple(r.shape))
        r.backward(lib.tensor(g))
        out["grad"] = x.grad.numpy().copy()
    return out


def setitem_outcome(lib, arr, index_fn, value_fn, mode):
    """x[index] = value under a mode: 'plain' (no grad anywhere), 'nonleaf'
    (y = x * 1 with a value that requires grad), 'leaf' (x requires grad),
    'nograd' (x requires grad, written under no_grad)."""
    x = lib.tensor(arr, requires_grad=mode != "plain" and arr.dtype.kind == "f")
    try:
        index = index_fn(lib)
        v = value_fn(lib)
        if mode == "nonleaf" and isinstance(v, lib.Tensor) and v.is_floating_point():
            v = v.detach().requires_grad_(True)
        y = x * 1 if mode == "nonleaf" else x
        before = y.detach().numpy().copy()
        version = y._version
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            if mode == "nograd":
                with lib.no_grad():
                    y[index] = v
            else:
                y[index] = v
    except Exception as e:  # noqa: BLE001
        if "before" in locals() and lib is cgrad:
            # bad input never leaves the tensor changed (torch's index_put_
            # may have written the elements before a bad index; cgrad checks first)
            assert np.array_equal(y.detach().numpy(), before, equal_nan=True), f"{lib.__name__} wrote before failing"
            assert y._version == version
        return _err(e)
    out = {
        "grad_fn": _name(y.grad_fn), "version": y._version, "requires_grad": y.requires_grad, "is_leaf": y.is_leaf,
        "next": None if y.grad_fn is None else tuple(_name(f) for f, _ in y.grad_fn.next_functions),
        "values": y.detach().numpy().copy(), "dtype": str(y.dtype).split(".")[-1],
        "warnings": tuple(str(m.message).split(" (Triggered")[0].replace("torch.", "cgrad.") for m in w),
    }
    if y.requires_grad:
        g = np.random.default_rng(5).standard_normal(tuple(y.shape))
        y.backward(lib.tensor(g))
        out["x_grad"] = None if not x.requires_grad or x.grad is None else x.grad.numpy().copy()
        if isinstance(v, lib.Tensor) and v.requires_grad:
            out["v_grad"] = None if v.grad is None else v.grad.numpy().copy()
    return out


def compare_setitem(arr, index_fn, value_fn, mode):
    c = setitem_outcome(cgrad, arr, index_fn, value_fn, mode)
    t = setitem_outcome(torch, arr, index_fn, value_fn, mode)
    # cgrad's scalar MulBackward0 has one edge where torch's has (x, None): not this module's
    if isinstance(c, dict) and c["grad_fn"] == "MulBackward0":
        c["next"] = t["next"]
    assert_same(c, t)
    return c
