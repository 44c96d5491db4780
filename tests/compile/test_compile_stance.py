"""cgrad.compiler.disable, allow_in_graph and set_stance, as torch.compiler's:
a disabled function runs eagerly and breaks a capture that reaches it
(fullgraph=True raises); allow_in_graph records a function as one call of
the tape; each stance (force_eager, eager_on_recompile, fail_on_recompile)
as a setter, a context manager and a decorator."""
import numpy as np
import pytest

import cgrad
from cgrad._dynamo.eval_frame import _CACHES, _COUNTERS
from tests.helpers import requires_torch

try:
    import torch
except ImportError:
    torch = None


@pytest.fixture(autouse=True)
def fresh_cache():
    cgrad.compiler.reset()
    cgrad.compiler.set_stance("default")
    yield
    cgrad.compiler.set_stance("default")
    cgrad.compiler.reset()


def entries():
    return [e for cache in _CACHES.values() for es in cache["entries"].values() for e in es]


def test_disable_runs_eagerly_and_breaks_a_capture():
    calls = []

    @cgrad.compiler.disable
    def helper(x):
        calls.append(1)
        return x * 2

    def step(x):
        return helper(x).tanh()
    x = cgrad.tensor([0.5, -1.0])
    compiled = cgrad.compile(step)
    for _ in range(3):
        assert np.array_equal(compiled(x).numpy(), step(x).numpy())
    assert len(calls) == 6 and entries()[0].tape is None and "disable" in entries()[0].break_reason
    with pytest.raises(cgrad.compiler.Unsupported, match="cgrad.compiler.disable"):
        cgrad.compile(step, fullgraph=True)(cgrad.ones(3))
    assert cgrad.compile(helper)(x).tolist() == [1.0, -2.0] and _COUNTERS["captures"] == 2
    assert cgrad.compiler.disable(reason="why")(helper)(x).tolist() == [1.0, -2.0]


def test_allow_in_graph_records_one_call_replayed_with_new_arguments():
    made = []

    def inner(x):
        made.append(1)
        return x.exp() + 1
    wrapped = cgrad.compiler.allow_in_graph(inner)

    def step(x):
        return wrapped(x) * 3
    compiled = cgrad.compile(step, fullgraph=True)
    for v in ([0.0, 1.0], [2.0, -1.0]):
        x = cgrad.tensor(v, requires_grad=True)
        out = compiled(x)
        out.sum().backward()
        xe = cgrad.tensor(v, requires_grad=True)
        step(xe).sum().backward()
        assert np.array_equal(out.detach().numpy(), step(xe).detach().numpy())
        assert np.array_equal(x.grad.numpy(), xe.grad.numpy())
    assert entries()[0].ops[0] == "inner" and len(entries()[0].ops) == 2


def test_stances_as_setter_context_manager_and_decorator():
    def step(x):
        return x * 2
    compiled = cgrad.compile(step)
    x = cgrad.ones(2)
    with cgrad.compiler.set_stance("force_eager"):
        compiled(x)
    assert _COUNTERS["captures"] == 0
    compiled(x)
    assert _COUNTERS["captures"] == 1

    with cgrad.compiler.set_stance("fail_on_recompile"):
        compiled(x)                                  # a cached guard set: replayed
        with pytest.raises(RuntimeError, match="Detected recompile when torch.compile stance is 'fail_on_recompile'"):
            compiled(cgrad.ones(3))
    assert cgrad._dynamo.decorators.current_stance() == "default"

    @cgrad.compiler.set_stance("eager_on_recompile")
    def run(t):
        return compiled(t)
    assert cgrad._dynamo.decorators.current_stance() == "default"
    assert run(cgrad.ones(4)).tolist() == [2.0] * 4 and _COUNTERS["captures"] == 1 and _COUNTERS["replays"] == 1

    cgrad.compiler.set_stance("force_eager")
    compiled(cgrad.ones(5))
    cgrad.compiler.set_stance("default")
    assert _COUNTERS["captures"] == 1
    with pytest.raises(RuntimeError, match="invalid torch.compile stance 'sometimes'"):
        cgrad.compiler.set_stance("sometimes")
    with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend set"):
        cgrad.compiler.set_stance("force_eager", force_backend="eager")


@requires_torch
def test_stance_errors_match_torch():
    for args, kwargs in [(("force_eager",), {"force_backend": "eager"})]:
        with pytest.raises(RuntimeError) as te:
            torch.compiler.set_stance(*args, **kwargs)
        with pytest.raises(RuntimeError) as ce:
            cgrad.compiler.set_stance(*args, **kwargs)
        assert str(te.value) == str(ce.value)
    torch.compiler.set_stance("default")
