"""autograd.graph.saved_tensors_hooks, save_on_cpu and
disable_saved_tensors_hooks against torch: which tensors are packed, that
backward reads the unpacked values (also under create_graph and for custom
Functions), nesting, and PyTorch's errors."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

X = np.array([0.5, -1.25, 2.0])


def logged_run(lib, body):
    """body(lib, x) under hooks that log every pack and unpack; returns the
    log, the output value and x.grad after backward."""
    log = []

    def pack(t):
        log.append(("pack", tuple(t.shape), lib.is_grad_enabled()))
        return t

    def unpack(t):
        log.append(("unpack", tuple(t.shape)))
        return t

    x = lib.tensor(X, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = body(lib, x)
    n_packed = len(log)
    y.sum().backward()
    return log, n_packed, y.detach().numpy(), x.grad.numpy()


BODIES = {
    "mul_inputs": lambda lib, x: x * (x * 2),
    "exp_output": lambda lib, x: x.exp(),
    "tanh_output": lambda lib, x: x.tanh(),
    "pow": lambda lib, x: x.pow(3),
    "sin_input": lambda lib, x: x.sin(),
    "matmul": lambda lib, x: x.reshape(3, 1) @ x.reshape(1, 3),
    "chain": lambda lib, x: ((x * 3).sigmoid() * x).log_softmax(0),
    "scalar_mul": lambda lib, x: x * 2 + 1,
    "linear": lambda lib, x: lib.nn.functional.linear(x.reshape(1, 3), x.reshape(1, 3).expand(2, 3) * 1, x[:2]),
    "mm": lambda lib, x: x.reshape(3, 1).mm(x.reshape(1, 3) * 2),
    "clamp_tensors": lambda lib, x: x.clamp(x * 0 - 1, x * 0 + 1),
    "maximum": lambda lib, x: lib.maximum(x, x.flip(0)),
    "mse_loss": lambda lib, x: lib.nn.functional.mse_loss(x, x.flip(0) * 2).reshape(1),
    "relu_in_place": lambda lib, x: (x * 1).relu_(),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(BODIES))
def test_pack_unpack_calls_match_torch(name):
    c = logged_run(cgrad, BODIES[name])
    t = logged_run(torch, BODIES[name])
    assert c[1] == t[1], f"packed {c[1]} tensors, torch {t[1]}"
    assert sorted(c[0]) == sorted(t[0])
    np.testing.assert_allclose(c[2], t[2], rtol=1e-12)
    np.testing.assert_allclose(c[3], t[3], rtol=1e-12)


def hooked_values(lib, create_graph=False):
    """Hooks that change the saved values: backward must use what unpack
    returns."""
    x = lib.tensor(X, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 4, lambda t: t / 2):
        y = (x * x).sum() + x.exp().sum()
    g, = lib.autograd.grad(y, x, create_graph=create_graph)
    return x, g


@requires_torch
def test_backward_reads_unpacked_values():
    c = hooked_values(cgrad)[1]
    t = hooked_values(torch)[1]
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12)


@requires_torch
def test_create_graph_through_unpacked_values():
    res = []
    for lib in (cgrad, torch):
        x, g = hooked_values(lib, create_graph=True)
        assert g.requires_grad
        g.sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


def test_pack_runs_without_grad_and_unpack_in_backward_mode():
    seen = []
    x = cgrad.tensor(X, requires_grad=True)

    def pack(t):
        seen.append(("pack", cgrad.is_grad_enabled()))
        return t

    def unpack(t):
        seen.append(("unpack", cgrad.is_grad_enabled()))
        return t

    with cgrad.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = x.exp().sum()
    cgrad.autograd.grad(y, x, create_graph=True)
    assert seen == [("pack", False), ("unpack", True)]


@requires_torch
def test_custom_function_saved_tensors_go_through_hooks():
    res = []
    for lib in (cgrad, torch):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * x
                ctx.save_for_backward(x, y)
                return y

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                return g * (2 * x + y)

        x = lib.tensor(X, requires_grad=True)
        calls = []
        with lib.autograd.graph.saved_tensors_hooks(lambda t: (calls.append(1), t + 1)[1], lambda t: t):
            out = Square.apply(x)
        out.sum().backward()
        res.append((len(calls), x.grad.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


@requires_torch
def test_saved_attribute_shows_unpacked_value():
    res = []
    for lib in (cgrad, torch):
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 0 + 7, lambda t: t):
            y = x * x
        s = y.grad_fn._saved_self
        res.append((s.detach().numpy(), s.requires_grad))
    np.testing.assert_allclose(res[0][0], res[1][0])
    assert res[0][1] == res[1][1]


def test_innermost_hooks_win_and_stack_unwinds():
    outer, inner = [], []
    x = cgrad.tensor(X, requires_grad=True)
    with cgrad.autograd.graph.saved_tensors_hooks(lambda t: (outer.append(1), t)[1], lambda t: t):
        with cgrad.autograd.graph.saved_tensors_hooks(lambda t: (inner.append(1), t)[1], lambda t: t):
            x.exp()
        x.exp()
    x.exp()
    assert (len(outer), len(inner)) == (1, 1)


def test_no_hooks_no_calls_and_no_packed_state():
    x = cgrad.tensor(X, requires_grad=True)
    y = (x * x).exp().sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(X * X) * 2 * X, rtol=1e-12)


def errors(fn):
    out = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        out.append(info.value)
    assert type(out[0]) is type(out[1])
    assert str(out[0]) == str(out[1])


@requires_torch
def test_unpack_must_return_tensor():
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: 1, lambda t: "no"):
            y = x.sin().sum()
        y.backward()
    errors(run)


@requires_torch
def test_pack_must_not_modify_input_in_place():
    def run(lib):
        x = lib.tensor(X, requires_grad=True) * 1
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.add_(1), lambda t: t):
            x.sin()
    errors(run)


@requires_torch
def test_second_backward_without_retain_graph():
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = x.exp().sum()
        y.backward()
        y.backward()
    errors(run)


@requires_torch
def test_retain_graph_unpacks_again():
    counts = []
    for lib in (cgrad, torch):
        n = [0]
        x = lib.tensor(X, requires_grad=True)

        def unpack(t):
            n[0] += 1
            return t

        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, unpack):
            y = x.exp().sum()
        y.backward(retain_graph=True)
        y.backward()
        counts.append(n[0])
    assert counts[0] == counts[1]


@requires_torch
def test_disable_saved_tensors_hooks():
    def run(lib):
        with lib.autograd.graph.disable_saved_tensors_hooks("hooks are off here"):
            with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    errors(run)
    for lib in (cgrad, torch):
        with lib.autograd.graph.disable_saved_tensors_hooks("outer"):
            with lib.autograd.graph.disable_saved_tensors_hooks("inner"):
                pass
            with pytest.raises(RuntimeError, match="^outer$"):
                with lib.autograd.graph.save_on_cpu():
                    pass
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass


@requires_torch
@pytest.mark.parametrize("pin_memory", [False, True])
def test_save_on_cpu(pin_memory):
    res = []
    for lib in (cgrad, torch):
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.save_on_cpu(pin_memory=pin_memory):
            y = (x * x.exp()).tanh().sum()
        y.backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


def test_hooks_are_per_thread():
    import threading
    packed = []
    x = cgrad.tensor(X, requires_grad=True)
    with cgrad.autograd.graph.saved_tensors_hooks(lambda t: (packed.append(1), t)[1], lambda t: t):
        thread = threading.Thread(target=lambda: x.exp())
        thread.start()
        thread.join()
    assert packed == []
