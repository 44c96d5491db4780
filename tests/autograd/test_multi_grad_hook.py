"""torch.autograd.graph.register_multi_grad_hook ("all" and "any" modes)
and the engine queries it is built on (_C._current_graph_task_id,
_C._will_engine_execute_node; src/cgrad/autograd/graph_task.pxi), against
torch: which gradients the hook receives for backward(), autograd.grad and
backward(inputs=...), once per call, nested calls, removal and errors."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

A = np.array([0.5, -1.0, 2.0])
B = np.array([1.5, 0.25, -0.75])


def summary(grads):
    return [None if g is None else g.detach().numpy().round(6).tolist() for g in grads]


def scenario_docstring(lib):
    """PyTorch's own example: tensors off the path get None."""
    log = []
    a = lib.tensor(A, requires_grad=True)
    b = lib.tensor(B, requires_grad=True)
    c = a * b
    d = a * b
    lib.autograd.graph.register_multi_grad_hook((a, b, c, d), lambda gs: log.append([g is not None for g in gs]))
    c.sum().backward(retain_graph=True)
    c.sum().backward(inputs=(a,), retain_graph=True)
    (c + d).sum().backward(inputs=(b, c), retain_graph=True)
    try:        # PyTorch cannot tell whether autograd.grad runs a leaf's hooks
        lib.autograd.grad(d.sum(), b, retain_graph=True)
    except RuntimeError as e:
        log.append(str(e))
    (c + d).sum().backward()
    return log


def scenario_values(lib):
    log = []
    a = lib.tensor(A, requires_grad=True)
    b = lib.tensor(B, requires_grad=True)
    handle = lib.autograd.graph.register_multi_grad_hook((a, b), lambda gs: log.append(summary(gs)))
    (a * 2 + b * 3).sum().backward()
    (a * 5).sum().backward()
    handle.remove()
    (a + b).sum().backward()
    return log, summary([a.grad, b.grad])


def scenario_any(lib):
    log = []
    a = lib.tensor(A, requires_grad=True)
    b = lib.tensor(B, requires_grad=True)
    c = lib.tensor(B)          # does not require grad: left out
    handle = lib.autograd.graph.register_multi_grad_hook(
        (a, b, c), lambda g: log.append(g.detach().numpy().tolist()), mode="any")
    (a * 2 + b * 3).sum().backward()
    (b * 4).sum().backward()
    handle.remove()
    (b * 4).sum().backward()
    return log


def scenario_nested(lib):
    """A hook that runs a backward of its own: the inner call is a task of its own."""
    log = []
    x = lib.tensor(A, requires_grad=True)
    y = lib.tensor(B, requires_grad=True)
    lib.autograd.graph.register_multi_grad_hook((x, y), lambda gs: log.append(("outer", summary(gs))))

    def inner(g):
        u = lib.tensor(A, requires_grad=True)
        v = lib.tensor(B, requires_grad=True)
        lib.autograd.graph.register_multi_grad_hook((u, v), lambda gs: log.append(("inner", summary(gs))))
        with lib.enable_grad():     # hooks run with grad mode off
            (u * v).sum().backward()
        return g

    z = x * y
    z.register_hook(inner)
    z.sum().backward()
    return log


def scenario_errors(lib):
    x = lib.tensor(A, requires_grad=True)
    out = [lib._C._current_graph_task_id()]
    for args in [((x * 2).grad_fn,), (3,)]:
        try:
            lib._C._will_engine_execute_node(*args)
        except RuntimeError as e:
            out.append(str(e))
    try:
        lib.autograd.graph.register_multi_grad_hook((x,), print, mode="some")
    except ValueError as e:
        out.append(str(e))
    return out


SCENARIOS = [scenario_docstring, scenario_values, scenario_any, scenario_nested, scenario_errors]


@requires_torch
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_multi_grad_hook_matches_torch(scenario):
    assert scenario(cgrad) == scenario(torch)


def test_multi_grad_hook_without_torch():
    log = scenario_docstring(cgrad)
    assert log[:3] == [[True, True, True, False], [True, False, True, False], [False, True, True, True]]
    assert log[3].startswith("A leaf node was passed to _will_engine_execute_node")
    log, grads = scenario_values(cgrad)
    assert log == [[[2.0] * 3, [3.0] * 3], [[5.0] * 3, None]]


def test_task_ids_differ_per_call_and_reset_after():
    ids = []
    x = cgrad.tensor(A, requires_grad=True)
    x.register_hook(lambda g: ids.append(cgrad._C._current_graph_task_id()))
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert ids[0] != ids[1] and min(ids) > 0
    assert cgrad._C._current_graph_task_id() == -1
