"""Shared test machinery: differential runs against torch (the oracle,
skipped when absent) and float64 finite-difference gradient checks."""
import numpy as np
import pytest

import cgrad

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")


def grad_fn_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def values(t):
    return np.asarray(t.detach().numpy())


def make_inputs(lib, arrays, requires_grad):
    out = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            rg = requires_grad and a.dtype.kind == "f"
            out.append(lib.tensor(a, requires_grad=rg))
        else:
            out.append(a)
    return out


def assert_close(actual, expected, rtol, atol, what):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def compare_with_torch(fn, *arrays, requires_grad=True, rtol=1e-5, atol=1e-6, check_grad_fn=True,
                       grad_seed=0):
    """Run fn(lib, *tensors) with lib = cgrad and lib = torch on tensors made
    from the same numpy arrays (float arrays require grad), then compare the
    results' values, shapes, dtypes and grad_fn names, and the gradients
    each input receives from backward with the same random grad_output."""
    if torch is None:
        pytest.skip("torch not installed")
    ins_c = make_inputs(cgrad, arrays, requires_grad)
    ins_t = make_inputs(torch, arrays, requires_grad)
    out_c = fn(cgrad, *ins_c)
    out_t = fn(torch, *ins_t)
    outs_c = out_c if isinstance(out_c, (tuple, list)) else (out_c,)
    outs_t = out_t if isinstance(out_t, (tuple, list)) else (out_t,)
    assert len(outs_c) == len(outs_t)
    for k, (c, t) in enumerate(zip(outs_c, outs_t)):
        assert tuple(c.shape) == tuple(t.shape), f"output {k} shape"
        assert dtype_name(c) == dtype_name(t), f"output {k} dtype {c.dtype} vs {t.dtype}"
        assert_close(values(c), t.detach().numpy(), rtol, atol, f"output {k} values")
        assert c.requires_grad == t.requires_grad, f"output {k} requires_grad"
        if check_grad_fn:
            assert grad_fn_name(c) == grad_fn_name(t), f"output {k} grad_fn"
    diff = [(c, t) for c, t in zip(outs_c, outs_t) if t.requires_grad]
    if not diff:
        return out_c, out_t
    rng = np.random.default_rng(grad_seed)
    gos = [rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype) for _, t in diff]
    cgrad.autograd.backward([c for c, _ in diff], [cgrad.tensor(g) for g in gos])
    torch.autograd.backward([t for _, t in diff], [torch.tensor(g) for g in gos])
    for k, (ic, it) in enumerate(zip(ins_c, ins_t)):
        if not isinstance(it, torch.Tensor) or not it.requires_grad:
            continue
        if it.grad is None:
            assert ic.grad is None, f"input {k}: cgrad has a grad, torch has none"
            continue
        assert ic.grad is not None, f"input {k}: torch has a grad, cgrad has none"
        assert dtype_name(ic.grad) == dtype_name(it.grad)
        assert_close(values(ic.grad), it.grad.numpy(), rtol, atol, f"grad of input {k}")
    return out_c, out_t


def check_gradients(fn, *arrays, atol=1e-5, rtol=1e-3):
    """float64 finite-difference check of fn(cgrad, *tensors)."""
    ins = make_inputs(cgrad, [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                              else a for a in arrays], True)
    assert cgrad.autograd.gradcheck(lambda *xs: fn(cgrad, *xs), ins, atol=atol, rtol=rtol)


def rand(*shape, seed=0, low=-2.0, high=2.0, dtype=np.float32):
    return np.asarray(np.random.default_rng(seed).uniform(low, high, size=shape), dtype=dtype)


def positive(*shape, seed=0, dtype=np.float32):
    return rand(*shape, seed=seed, low=0.5, high=2.0, dtype=dtype)
