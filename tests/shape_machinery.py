"""What the shape and join tests share: building the same inputs in cgrad
and torch, comparing results with their layout (strides, storage offset,
contiguity, _base, output_nr) and errors (type and text), and the sample
arrays. Used by tests/ops/test_shape_join.py and test_join_split.py."""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import cgrad
from helpers import compare_with_torch, rand, torch, torch_free_checks


HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64", np.dtype(np.int64): "int64",
          np.dtype(np.bool_): "bool"}


def make_tensor(lib, a, requires_grad=True):
    """lib.tensor(a), but empty arrays through lib.zeros: torch.tensor copies
    numpy's strides for empty arrays, which would blur the layout checks."""
    rg = requires_grad and a.dtype.kind == "f"
    if a.size == 0:
        return lib.zeros(*a.shape, dtype=getattr(lib, DTYPES[a.dtype]), requires_grad=rg)
    return lib.tensor(a, requires_grad=rg)


def grad_fn_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def layout(out, ins):
    """What must agree with torch besides values: geometry, autograd
    metadata and which input (if any) the result is a view of or is."""
    base = out._base
    base_of = None if base is None else next((i for i, x in enumerate(ins) if base is x), "other")
    same_as = next((i for i, x in enumerate(ins) if out is x), None)
    return (tuple(out.shape), str(out.dtype).split(".")[-1], tuple(out.stride()), out.storage_offset(),
            out.is_contiguous(), grad_fn_name(out), out.output_nr, out.requires_grad, base_of, same_as)


def run_layout(lib, fn, arrays, requires_grad):
    ins = [make_tensor(lib, a, requires_grad) if isinstance(a, np.ndarray) else a for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(lib, *ins)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return type(out).__name__, [layout(o, ins) for o in outs]


def compare_layout(fn, *arrays, requires_grad=True):
    if torch is None:   # strides, offsets and view bases are torch's choices: nothing to compare
        torch_free_checks.could_not_check("the layout (strides, views) needs torch")
        return
    expected = run_layout(torch, fn, arrays, requires_grad)
    actual = run_layout(cgrad, fn, arrays, requires_grad)
    assert actual == expected


def compare_all(fn, *arrays, requires_grad=True, **kw):
    """Values, dtypes, grad_fn names and gradients, then the layout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(fn, *arrays, requires_grad=requires_grad, **kw)
    compare_layout(fn, *arrays, requires_grad=requires_grad)


def run_error(lib, fn, arrays):
    ins = [make_tensor(lib, a) if isinstance(a, np.ndarray) else a for a in arrays]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(lib, *ins)
    except Exception as e:  # noqa: BLE001 - the exception itself is what we compare
        return type(e).__name__, str(e).replace("torch.", "cgrad.")
    return None


def compare_error(fn, *arrays):
    if torch is None:
        pytest.skip("torch not installed")
    expected = run_error(torch, fn, arrays)
    assert expected is not None, "torch raised nothing"
    assert run_error(cgrad, fn, arrays) == expected


def r(*shape, seed=0):
    return rand(*shape, seed=seed)


def empty(*shape):
    return np.zeros(shape, np.float32)


def ints(*shape):
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)


def bools(*shape):
    return np.arange(int(np.prod(shape))).reshape(shape) % 3 == 0
