"""Shared test machinery: differential runs against torch (the oracle) and
float64 finite-difference gradient checks.

Without torch, compare_with_torch still checks what needs no oracle: the
float64 gradients of the same expression against finite differences (full
Jacobians for small inputs, a random directional derivative for large ones,
second order too), every gradient's shape and dtype against its input's
(PyTorch's rule), and, where the caller passes `reference=` (a numpy
function of the input arrays), the values, shapes and dtypes. A call that
finds nothing to check records why; a test whose every such call checked
nothing is reported as skipped, with the reasons, by tests/conftest.py,
never as passed (torch_free_checks below)."""
import sys

import numpy as np
import pytest

import cgrad

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")


class TorchFreeChecks:
    """What the helpers checked, without torch, during the running test:
    `checked` counts calls that asserted something real, `unchecked` holds
    the reasons of calls that could not. tests/conftest.py resets it before
    each test and turns a test that passed with unchecked calls only into a
    visible skip."""

    def __init__(self):
        self.checked = 0
        self.unchecked = []

    def reset(self):
        self.checked = 0
        self.unchecked = []

    def passed(self):
        self.checked += 1

    def could_not_check(self, reason):
        self.unchecked.append(reason)

    def nothing_checked(self):
        return self.checked == 0 and bool(self.unchecked)


def _shared_checks():
    """One record for the whole run: some test modules import this file as
    `helpers`, others as `tests.helpers` (two module objects)."""
    for name in ("helpers", "tests.helpers"):
        other = sys.modules.get(name)
        if name != __name__ and other is not None and hasattr(other, "torch_free_checks"):
            return other.torch_free_checks
    return TorchFreeChecks()


torch_free_checks = _shared_checks()


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


def threads_fixture(*counts):
    """A pytest fixture named `threads` that runs each test using it once per
    cgrad thread count in counts (None: the default), restoring the count
    after; a test module takes it as `threads = threads_fixture(None, 1, 3)`."""
    ids = ["default-threads" if c is None else f"{c}-thread" + ("" if c == 1 else "s") for c in counts]

    @pytest.fixture(params=list(counts), ids=ids)
    def threads(request):
        old = cgrad.get_num_threads()
        if request.param is not None:
            cgrad.set_num_threads(request.param)
        yield
        cgrad.set_num_threads(old)
    return threads


# Two float32 ulps, relative: torch's float32 log, exp... are not correctly
# rounded on every CPU (on AMD Zen 4 its AVX-512 log(1.5) is one ulp above
# the nearest float), so a float32 value is compared at float32's precision
# even where the float64 values of the same test must agree to 1e-9.
FLOAT32_RTOL = 2.0 ** -22


def assert_close_to_torch(c, t, what, rtol=1e-9, atol=1e-10):
    """A cgrad result (tensor or number) against torch's: the same shape and
    close values, at float32's precision when both are float32."""
    import torch
    c = np.asarray(c.detach().numpy() if isinstance(c, cgrad.Tensor) else c)
    t = np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t)
    if c.dtype == np.float32 and t.dtype == np.float32:
        rtol = max(rtol, FLOAT32_RTOL)
    assert_close(c, t, rtol, atol, what)


def compare_with_torch(fn, *arrays, requires_grad=True, rtol=1e-5, atol=1e-6, check_grad_fn=True,
                       grad_seed=0, reference=None, gradcheck=True, gradgradcheck=True):
    """Run fn(lib, *tensors) with lib = cgrad and lib = torch on tensors made
    from the same numpy arrays (float arrays require grad), then compare the
    results' values, shapes, dtypes and grad_fn names, and the gradients
    each input receives from backward with the same random grad_output.

    reference(*arrays) -> array or tuple of arrays: the expected outputs
    computed with numpy, in the dtype PyTorch documents for the result;
    checked with or without torch. Without torch, fn's float64 gradients are
    also checked against finite differences (gradcheck=False where the
    inputs sit on a kink or a tie, where finite differences have no
    meaning; gradgradcheck=False where torch's backward itself is not
    differentiable)."""
    if reference is not None:
        check_reference(fn, arrays, reference, rtol, atol)
    if torch is None:
        return check_without_torch(fn, arrays, requires_grad, gradcheck, gradgradcheck), None
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


def _as_outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def check_reference(fn, arrays, reference, rtol, atol):
    """fn's cgrad outputs against numpy's: values, shapes and dtypes."""
    outs = _as_outputs(fn(cgrad, *make_inputs(cgrad, arrays, False)))
    with np.errstate(all="ignore"):
        expected = _as_outputs(reference(*[a.copy() if isinstance(a, np.ndarray) else a for a in arrays]))
    assert len(outs) == len(expected), f"{len(outs)} outputs, the reference has {len(expected)}"
    for k, (c, e) in enumerate(zip(outs, expected)):
        e = np.asarray(e)
        assert dtype_name(c) == e.dtype.name, f"output {k} dtype {c.dtype} vs reference {e.dtype}"
        assert_close(values(c), e, rtol, atol, f"output {k} values against the reference")
    torch_free_checks.passed()


# Finite differences over every element cost two runs of fn per input
# element; above this many elements a random directional derivative (two
# runs in all, as torch's gradcheck fast_mode does) checks the backward.
FULL_JACOBIAN_ELEMENTS = 48
SECOND_ORDER_ELEMENTS = 16


def _float64_inputs(arrays, requires_grad):
    return make_inputs(cgrad, [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                               else a for a in arrays], requires_grad)


def _differentiable(outs):
    return [o for o in outs if isinstance(o, cgrad.Tensor) and o.requires_grad]


def check_without_torch(fn, arrays, requires_grad, gradcheck=True, gradgradcheck=True):
    """What compare_with_torch checks when torch is absent (see the module
    docstring). Returns fn's cgrad outputs on the caller's arrays."""
    ins = make_inputs(cgrad, arrays, requires_grad)
    out = fn(cgrad, *ins)
    diff = _differentiable(_as_outputs(out))
    leaves = [x for x in ins if isinstance(x, cgrad.Tensor) and x.requires_grad]
    if not diff or not leaves:
        torch_free_checks.could_not_check("no output to differentiate: values need torch or a reference")
        return out
    # PyTorch's rule: a gradient has its input's shape and dtype
    rng = np.random.default_rng(0)
    gos = [cgrad.tensor(rng.standard_normal(tuple(o.shape))).to(o.dtype) for o in diff]
    cgrad.autograd.backward(diff, gos)
    for k, x in enumerate(leaves):
        if x.grad is not None:
            assert tuple(x.grad.shape) == tuple(x.shape), f"grad of input {k}: shape"
            assert dtype_name(x.grad) == dtype_name(x), f"grad of input {k}: dtype {x.grad.dtype}"
    if not all(np.isfinite(values(x.grad)).all() for x in leaves if x.grad is not None):
        torch_free_checks.could_not_check("non-finite gradients (a degenerate point): no finite differences")
        return out
    if not gradcheck:
        torch_free_checks.could_not_check("gradcheck off for these inputs: values and gradients need torch")
        return out
    # finite differences only through the inputs fn differentiates (not
    # through one it detaches, whose gradient is None)
    received = [isinstance(x, cgrad.Tensor) and x.grad is not None for x in ins]
    if not any(received):
        torch_free_checks.could_not_check("no input receives a gradient: values need torch or a reference")
        return out
    ins64 = _float64_inputs(arrays, requires_grad)
    ins64 = [x.detach().requires_grad_(True) if got else (x.detach() if isinstance(x, cgrad.Tensor) else x)
             for x, got in zip(ins64, received)]
    try:
        outs64 = _as_outputs(fn(cgrad, *ins64))
    except (RuntimeError, TypeError, ValueError) as e:  # fn mixes in float32 tensors of its own
        torch_free_checks.could_not_check(f"fn refuses float64 inputs ({type(e).__name__}: {e})")
        return out
    diff64 = _differentiable(outs64)
    if not diff64 or any(dtype_name(o) != "float64" for o in diff64):
        torch_free_checks.could_not_check("fn does not compute in float64 from float64 inputs: "
                                          "finite differences would be too coarse")
        return out
    finite = all(np.isfinite(values(x)).all() for x in ins64 if isinstance(x, cgrad.Tensor) and x.requires_grad)
    if not finite or not all(np.isfinite(values(o)).all() for o in diff64):
        torch_free_checks.could_not_check("non-finite inputs or outputs: finite differences have no meaning")
        return out

    def fn64(*xs):
        return fn(cgrad, *xs)
    n_in = sum(x.numel() for x in ins64 if isinstance(x, cgrad.Tensor) and x.requires_grad)
    n_out = sum(o.numel() for o in diff64)
    if n_in <= FULL_JACOBIAN_ELEMENTS and n_out <= 4 * FULL_JACOBIAN_ELEMENTS:
        assert cgrad.autograd.gradcheck(fn64, ins64, eps=1e-6, atol=1e-5, rtol=1e-3)
        if (gradgradcheck and n_in <= SECOND_ORDER_ELEMENTS and n_out <= 4 * SECOND_ORDER_ELEMENTS
                and _second_derivatives_finite(fn64, ins64)):
            assert cgrad.autograd.gradgradcheck(fn64, ins64, eps=1e-6, atol=1e-4, rtol=1e-3)
    else:
        directional_gradcheck(fn64, ins64)
    torch_free_checks.passed()
    return out


def _second_derivatives_finite(fn, inputs):
    """False where the first derivatives have a pole (std at zero
    variance): gradgradcheck's finite differences mean nothing there."""
    diff_inputs = [x for x in inputs if isinstance(x, cgrad.Tensor) and x.requires_grad]
    outs = _differentiable(_as_outputs(fn(*inputs)))
    rng = np.random.default_rng(1)
    gos = [cgrad.tensor(rng.standard_normal(tuple(o.shape)), requires_grad=True) for o in outs]
    grads = cgrad.autograd.grad(outs, diff_inputs, gos, create_graph=True, allow_unused=True)
    grads = [g for g in grads if g is not None]
    if not all(np.isfinite(values(g)).all() for g in grads):
        return False
    graphed = [g for g in grads if g.requires_grad]
    if not graphed:
        return True
    seconds = cgrad.autograd.grad(graphed, diff_inputs + gos, [cgrad.ones_like(g) for g in graphed],
                                  allow_unused=True)
    return all(np.isfinite(values(s)).all() for s in seconds if s is not None)


def directional_gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """v . J u by central differences along a random direction u of the
    inputs that require grad, against the same product from one backward
    with the random grad_output v (torch's gradcheck fast_mode)."""
    rng = np.random.default_rng(seed)
    diff_inputs = [x for x in inputs if isinstance(x, cgrad.Tensor) and x.requires_grad]
    directions = [rng.standard_normal(tuple(x.shape)) for x in diff_inputs]
    base = [values(x).copy() for x in diff_inputs]

    def shifted(step):
        with cgrad.no_grad():
            for x, b, u in zip(diff_inputs, base, directions):
                x.copy_(cgrad.tensor(b + step * u))
        outs = [values(o).astype(np.float64).copy() for o in _differentiable(_as_outputs(fn(*inputs)))]
        with cgrad.no_grad():
            for x, b in zip(diff_inputs, base):
                x.copy_(cgrad.tensor(b))
        return outs
    plus, minus = shifted(eps), shifted(-eps)
    outs = _differentiable(_as_outputs(fn(*inputs)))
    vs = [rng.standard_normal(tuple(o.shape)) for o in outs]
    numerical = sum(float((v * (p - m) / (2 * eps)).sum()) for v, p, m in zip(vs, plus, minus))
    grads = cgrad.autograd.grad(outs, diff_inputs, [cgrad.tensor(v) for v in vs], allow_unused=True)
    analytical = sum(float((values(g) * u).sum()) for g, u in zip(grads, directions) if g is not None)
    assert abs(analytical - numerical) <= atol + rtol * abs(numerical), (
        f"directional derivative: analytical {analytical!r}, numerical {numerical!r}")


def check_gradients(fn, *arrays, atol=1e-5, rtol=1e-3):
    """float64 finite-difference check of fn(cgrad, *tensors)."""
    ins = make_inputs(cgrad, [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                              else a for a in arrays], True)
    assert cgrad.autograd.gradcheck(lambda *xs: fn(cgrad, *xs), ins, atol=atol, rtol=rtol)


def rand(*shape, seed=0, low=-2.0, high=2.0, dtype=np.float32):
    return np.asarray(np.random.default_rng(seed).uniform(low, high, size=shape), dtype=dtype)


def positive(*shape, seed=0, dtype=np.float32):
    return rand(*shape, seed=seed, low=0.5, high=2.0, dtype=dtype)
