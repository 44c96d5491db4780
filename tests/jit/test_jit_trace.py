"""cgrad.jit.trace / trace_module against torch.jit.trace: replayed
outputs and gradients, control flow frozen at the example (with torch's
TracerWarning), check_trace's warnings and errors, the traced module's
structure and shared parameters."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
from tests.helpers import requires_torch, torch
from tests.jit.jit_models import copy_weights, make_classes, rand

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.* is deprecated:DeprecationWarning")
CNet, CWithIgnored, CBranchy = make_classes(cgrad)


def _tracer_messages(record, lib):
    return [str(w.message) for w in record if issubclass(w.category, lib.jit.TracerWarning)]


@requires_torch
def test_traced_module_replays_outputs_and_gradients_like_torch():
    c, t = CNet(), make_classes(torch)[0]()
    copy_weights(c, t, torch)
    x0 = rand(2, 4)
    tc, tt = cgrad.jit.trace(c, cgrad.tensor(x0)), torch.jit.trace(t, torch.tensor(x0))
    assert isinstance(tc, cgrad.jit.TopLevelTracedModule) and isinstance(tc, cgrad.jit.TracedModule)
    assert isinstance(tc, cgrad.jit.ScriptModule) and not isinstance(tc, cgrad.jit.RecursiveScriptModule)
    assert (tc.fc1.weight is c.fc1.weight) and (tt.fc1.weight is t.fc1.weight)
    for seed in (1, 2):
        x = rand(2, 4, seed=seed)
        xc, xt = cgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        oc, ot = tc(xc), tt(xt)
        np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-5, atol=1e-6)
        oc.sum().backward()
        ot.sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.fc2.weight.grad.numpy(), t.fc2.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    # a new batch size: torch's graph generalises; cgrad traces that signature again
    x = rand(7, 4, seed=3)
    np.testing.assert_allclose(tc(cgrad.tensor(x)).detach().numpy(), tt(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@requires_torch
def test_data_dependent_branch_is_frozen_with_torchs_warning():
    def cfn(x):
        if x.sum() > 0:
            return x * 2
        return x * 3

    def tfn(x):
        if x.sum() > 0:
            return x * 2
        return x * 3

    with warnings.catch_warnings(record=True) as rc:
        warnings.simplefilter("always")
        tc = cgrad.jit.trace(cfn, cgrad.ones(2))
    with warnings.catch_warnings(record=True) as rt:
        warnings.simplefilter("always")
        tt = torch.jit.trace(tfn, torch.ones(2))
    assert _tracer_messages(rc, cgrad) == _tracer_messages(rt, torch)
    assert len(_tracer_messages(rc, cgrad)) == 2      # the trace and check_trace's second trace
    neg = -np.ones(2, dtype=np.float32)
    np.testing.assert_array_equal(tc(cgrad.tensor(neg)).numpy(), tt(torch.tensor(neg)).numpy())
    np.testing.assert_array_equal(tc(cgrad.tensor(neg)).numpy(), -2 * np.ones(2))
    assert isinstance(tc, cgrad.jit.ScriptFunction) and tc.name == "cfn"


@requires_torch
@pytest.mark.parametrize("read", ["float", "item", "int"])
def test_values_read_into_python_are_constants(read):
    def body(lib):
        def fn(x):
            s = x.sum()
            value = {"float": lambda: float(s), "item": lambda: s.item(), "int": lambda: int(s)}[read]()
            return x * value
        return fn

    with warnings.catch_warnings(record=True) as rc:
        warnings.simplefilter("always")
        tc = cgrad.jit.trace(body(cgrad), cgrad.ones(3), check_trace=False)
    with warnings.catch_warnings(record=True) as rt:
        warnings.simplefilter("always")
        tt = torch.jit.trace(body(torch), torch.ones(3), check_trace=False)
    assert _tracer_messages(rc, cgrad) == _tracer_messages(rt, torch)
    x = rand(3)
    np.testing.assert_allclose(tc(cgrad.tensor(x)).numpy(), tt(torch.tensor(x)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(tc(cgrad.tensor(x)).numpy(), x * 3, rtol=1e-6)


@requires_torch
def test_iterating_a_tensor_is_recorded_with_torchs_warning():
    def fn(x):
        return [row * 2 for row in x][0]

    with warnings.catch_warnings(record=True) as rc:
        warnings.simplefilter("always")
        tc = cgrad.jit.trace(fn, cgrad.ones(2, 3), check_trace=False)
    with warnings.catch_warnings(record=True) as rt:
        warnings.simplefilter("always")
        tt = torch.jit.trace(fn, torch.ones(2, 3), check_trace=False)
    assert _tracer_messages(rc, cgrad) == _tracer_messages(rt, torch)
    x = rand(2, 3)
    np.testing.assert_allclose(tc(cgrad.tensor(x)).numpy(), tt(torch.tensor(x)).numpy())


@requires_torch
@pytest.mark.filterwarnings("ignore::cgrad.jit._trace.TracerWarning")
def test_traced_module_branch_frozen_and_is_tracing():
    seen = []

    class Probe(cnn.Module):
        def forward(self, x):
            seen.append(cgrad.jit.is_tracing())
            return x + 1

    traced = cgrad.jit.trace(Probe(), cgrad.ones(2), check_trace=False)
    assert seen == [True] and cgrad.jit.is_tracing() is False
    traced(cgrad.ones(2))
    assert seen == [True]       # a replay runs the recorded calls, not the Python
    c, t = CBranchy(), make_classes(torch)[2]()
    copy_weights(c, t, torch)
    x = np.abs(rand(2, 3)) * 100
    tc = cgrad.jit.trace(c, cgrad.tensor(x), check_trace=False)
    tt = torch.jit.trace(t, torch.tensor(x), check_trace=False)
    np.testing.assert_allclose(tc(cgrad.tensor(-x)).detach().numpy(), tt(torch.tensor(-x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@requires_torch
def test_check_inputs_that_take_another_branch_fail_the_check():
    def fn(x):
        if x.sum() > 0:
            return x.exp()
        return x.sin()

    with pytest.raises(torch.jit.TracingCheckError, match="Graphs differed across invocations"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.jit.trace(fn, torch.ones(2), check_inputs=[(-torch.ones(2),)])
    with pytest.raises(cgrad.jit.TracingCheckError, match="Graphs differed across invocations"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cgrad.jit.trace(fn, cgrad.ones(2), check_inputs=[(-cgrad.ones(2),)])


@requires_torch
def test_traced_module_repr_matches_torch():
    tc = cgrad.jit.trace(cnn.Sequential(cnn.Linear(2, 2), cnn.Tanh()), cgrad.ones(1, 2))
    tt = torch.jit.trace(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh()), torch.ones(1, 2))
    assert repr(tc) == repr(tt)
    assert type(tc.get_submodule("0")).__name__ == type(tt.get_submodule("0")).__name__ == "TracedModule"


def test_check_trace_warns_on_nondeterministic_module():
    m = cnn.Sequential(cnn.Linear(4, 4), cnn.Dropout(0.5))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        cgrad.jit.trace(m, cgrad.ones(8, 4))
    messages = _tracer_messages(record, cgrad)
    assert any(msg.startswith("Trace had nondeterministic nodes. Did you forget call .eval()") for msg in messages)
    assert any(msg.startswith("Output nr 1. of the traced function does not match") for msg in messages)


@requires_torch
def test_trace_errors_match_torch():
    for lib in (cgrad, torch):
        with pytest.raises(RuntimeError, match="Could not get name of python class object"):
            lib.jit.trace(3, lib.ones(1))
        with pytest.raises(TypeError, match="'int' object is not iterable"):
            lib.jit.trace(lib.nn.Linear(2, 2), 3)
        with pytest.raises(TypeError, match="'NoneType' object is not iterable"):
            lib.jit.trace(lambda x: x)


def test_trace_module_traces_several_methods():
    m = CNet()
    x = cgrad.tensor(rand(3, 4))
    traced = cgrad.jit.trace_module(m, {"forward": x, "embed": (x,)})
    y = cgrad.tensor(rand(3, 4, seed=5))
    assert cgrad.allclose(traced(y), m(y))
    assert cgrad.allclose(traced.embed(y), m.embed(y))
    assert "linear" in str(traced.graph) and "not TorchScript IR" in str(traced.graph)


def test_traced_function_with_kwarg_inputs():
    def fn(x, y):
        return x * y

    traced = cgrad.jit.trace(fn, example_kwarg_inputs={"x": cgrad.ones(2), "y": cgrad.full((2,), 3.0)})
    assert cgrad.equal(traced(x=cgrad.full((2,), 2.0), y=cgrad.full((2,), 5.0)), cgrad.full((2,), 10.0))


def test_tracing_a_scripted_module_returns_it():
    sm = cgrad.jit.script(CNet())
    with pytest.warns(UserWarning, match="tracing it is a no-op"):
        assert cgrad.jit.trace(sm, cgrad.ones(1, 4)) is sm


def test_data_dependent_shapes_run_eagerly():
    def fn(x):
        return x[x > 0].sum()

    traced = cgrad.jit.trace(fn, cgrad.tensor([1.0, -1.0, 2.0]))
    assert traced(cgrad.tensor([-1.0, 5.0, 7.0])).item() == 12.0


def test_frozen_traced_module():
    m = CNet().eval()
    traced = cgrad.jit.trace(m, cgrad.ones(2, 4))
    frozen = cgrad.jit.freeze(traced)
    assert isinstance(frozen, cgrad.jit.TopLevelTracedModule) and list(frozen.parameters()) == []
    x = cgrad.tensor(rand(2, 4))
    assert cgrad.allclose(frozen(x), m(x))


@requires_torch
@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("name", ["list", "dict", "nested", "int"])
def test_traced_outputs_follow_torchs_rules(name, strict):
    def body(lib):
        return {"list": lambda a: [a, a * 2], "dict": lambda a: {"s": a + 1}, "nested": lambda a: (a, [a * 3]),
                "int": lambda a: (a, 3)}[name]

    try:
        expected = torch.jit.trace(body(torch), torch.ones(2), strict=strict)(torch.full((2,), 2.0))
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            cgrad.jit.trace(body(cgrad), cgrad.ones(2), strict=strict)
        assert str(got.value) == str(e)
        return
    got = cgrad.jit.trace(body(cgrad), cgrad.ones(2), strict=strict)(cgrad.full((2,), 2.0))
    assert repr(got).replace("cgrad", "torch") == repr(expected)


@requires_torch
def test_batch_norm_in_training_replays_its_running_stats_like_torch():
    def run(lib):
        nn = lib.nn
        m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
        with lib.no_grad():
            for i, p in enumerate(m.parameters()):
                p.copy_(lib.linspace(-1, 1, p.numel()).reshape(p.shape) * (i + 1) * 0.3)
        x = lib.linspace(-2, 2, 32).reshape(2, 1, 4, 4)
        traced = lib.jit.trace(m, x)
        out = traced(x * 2)
        traced.eval()       # a trace keeps the training behaviour it recorded, in both
        after_eval = traced(x)
        return (out.detach().numpy(), after_eval.detach().numpy(), m[1].running_mean.numpy(),
                m[1].running_var.numpy(), m[1].num_batches_tracked.item())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, expected = run(cgrad), run(torch)
    for g, e in zip(got[:4], expected[:4]):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)
    assert got[4] == expected[4] == 7


@requires_torch
def test_forward_hooks_are_recorded_into_the_trace_as_torchs():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        calls = []
        m.register_forward_hook(lambda mod, i, o: (calls.append(1), o + 100)[1])
        traced = lib.jit.trace(m, lib.ones(1, 2), check_trace=False)
        out = traced(lib.ones(1, 2)) - m(lib.ones(1, 2))
        return out.detach().numpy(), len(calls), len(traced._forward_hooks), type(
            lib.jit.trace(m.forward, lib.ones(1, 2), check_trace=False)).__name__

    got, expected = run(cgrad), run(torch)
    np.testing.assert_allclose(got[0], expected[0])
    assert got[1:] == expected[1:] == (2, 0, "TopLevelTracedModule")


def test_signatures_kept_are_bounded(monkeypatch):
    from cgrad.jit import _trace
    monkeypatch.setattr(_trace, "MAX_SIGNATURES", 2)

    def fn(x):
        return x * 2

    traced = cgrad.jit.trace(fn, cgrad.ones(1))
    for n in range(2, 6):
        assert cgrad.equal(traced(cgrad.ones(n)), cgrad.full((n,), 2.0))
    assert len(traced._runner.entries) == 2
