"""The SGD and Adam/AdamW kernels' code paths against torch step by step:
each option combination has its own vectorised loop (and Adam works in
blocks of 256 elements), and a parameter of at least 2 x 65,536 elements is
split over two threads. Sizes sit just below, at and above those
boundaries, odd ones included; the threaded update must equal the
one-thread update bit for bit, and both must follow torch after every step."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

PER_THREAD = 1 << 16          # OPTIM_MIN_NUMEL_PER_THREAD in optim_kernels.pxi

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, amsgrad=True)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True, maximize=True)),
]

SIZES = [1, 255, 256, 257, 1001, 2 * PER_THREAD - 1, 2 * PER_THREAD, 2 * PER_THREAD + 1, 3 * PER_THREAD + 77]


def run(lib, name, kwargs, p0, grads, threads=None):
    """The parameter after each step (numpy copies)."""
    if threads is not None:
        lib.set_num_threads(threads)
    p = lib.tensor(p0.copy(), requires_grad=True)
    opt = getattr(lib.optim, name)([p], **kwargs)
    seen = []
    for g in grads:
        opt.zero_grad()
        p.grad = lib.tensor(g)
        opt.step()
        seen.append(p.detach().numpy().copy())
    return seen


@pytest.fixture
def restore_threads():
    before = cgrad.get_num_threads()
    yield
    cgrad.set_num_threads(before)


@requires_torch
@pytest.mark.parametrize("name,kwargs", CONFIGS)
@pytest.mark.parametrize("n", SIZES)
def test_kernel_paths_follow_torch_and_split_changes_nothing(name, kwargs, n, restore_threads):
    rng = np.random.default_rng(n)
    p0 = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(4)]
    grads[2][: min(n, 5)] = 0.0          # zero gradients (amsgrad's maximum keeps the old value)
    one = run(cgrad, name, kwargs, p0, grads, threads=1)
    two = run(cgrad, name, kwargs, p0, grads, threads=2)
    want = run(torch, name, kwargs, p0, grads)
    for step, (a, b, w) in enumerate(zip(one, two, want)):
        assert np.array_equal(a, b), f"step {step}: the threaded update differs"
        np.testing.assert_allclose(a, w, rtol=2e-6, atol=1e-7, err_msg=f"step {step}")


@requires_torch
@pytest.mark.parametrize("name,kwargs", CONFIGS)
@pytest.mark.parametrize("n", [257, 2 * PER_THREAD + 1])
def test_float64_paths_match_torch_to_the_last_bits(name, kwargs, n, restore_threads):
    """float64: SGD identical to torch; Adam identical for all but a few
    elements (torch takes its sqrt from MKL's vector math, off by one ulp for
    some inputs; a parameter near zero turns that into several of its ulps)."""
    rng = np.random.default_rng(7)
    p0 = rng.standard_normal(n)
    grads = [rng.standard_normal(n) for _ in range(3)]
    got = run(cgrad, name, kwargs, p0, grads, threads=2)
    want = run(torch, name, kwargs, p0, grads)
    for a, w in zip(got, want):
        if name == "SGD":
            assert np.array_equal(a, w)
        else:
            assert np.mean(a == w) >= 0.99
            np.testing.assert_allclose(a, w, rtol=1e-14, atol=1e-16)


def test_nan_and_inf_gradients_propagate_as_in_torch(restore_threads):
    """Non-finite values through the vectorised loops: a NaN gradient makes
    that element NaN (amsgrad's maximum keeps the NaN), others stay finite."""
    for threads in (1, 2):
        cgrad.set_num_threads(threads)
        n = 2 * PER_THREAD + 3
        p = cgrad.zeros(n, requires_grad=True)
        opt = cgrad.optim.Adam([p], lr=0.1, amsgrad=True)
        g = np.ones(n, dtype=np.float32)
        g[[0, 300, n - 1]] = np.nan
        g[5] = np.inf
        p.grad = cgrad.tensor(g)
        opt.step()
        out = p.detach().numpy()
        assert np.isnan(out[[0, 300, n - 1]]).all()
        assert np.isnan(out[5])          # inf / sqrt(inf): NaN, as torch
        assert np.isnan(opt.state[p]["max_exp_avg_sq"].numpy()[[0, 300, n - 1]]).all()
        assert np.isfinite(np.delete(out, [0, 5, 300, n - 1])).all()
