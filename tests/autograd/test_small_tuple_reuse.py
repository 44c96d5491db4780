"""The engine and the graph reuse the small tuples every op makes (a node's
edge tuple, a backward's result tuple, see src/cgrad/node.pxi) once nothing
else holds them. A tuple that user code still holds (through a node hook,
a node called directly, next_functions) must keep its contents whatever
graphs are built and freed afterwards."""
import gc

import numpy as np

import cgrad
from helpers import requires_torch, torch


def _chain(x, steps=20):
    y = x
    for _ in range(steps):
        y = (y * 1.01 + 0.5).tanh()
    return y


def _churn(steps=2000):
    """Build and free enough graphs to cycle every reused tuple many times."""
    for _ in range(steps // 100):
        x = cgrad.ones(4, requires_grad=True)
        _chain(x, 100).sum().backward()


def test_hook_kept_result_tuples_keep_their_contents():
    kept = []
    x = cgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * 3.0
    z = (y + 1.0).tanh()
    for node in (y.grad_fn, z.grad_fn.next_functions[0][0], z.grad_fn):
        node.register_hook(lambda grad_inputs, grad_outputs: kept.append((grad_inputs, grad_outputs)))
    z.sum().backward()
    snapshot = [tuple(None if g is None else g.tolist() for g in gi) for gi, _ in kept]
    _churn()
    gc.collect()
    assert [tuple(None if g is None else g.tolist() for g in gi) for gi, _ in kept] == snapshot
    # tanh's input gradient, then add's (its scalar operand gets None), then mul's
    t = np.tanh(np.array([0.5, -1.0, 2.0], dtype=np.float32) * 3 + 1)
    np.testing.assert_allclose(snapshot[0][0], 1 - t * t, rtol=1e-5)
    assert snapshot[1][1] is None
    np.testing.assert_allclose(snapshot[2][0], (1 - t * t) * 3, rtol=1e-5)


def test_node_called_directly_returns_a_tuple_that_stays():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    w = cgrad.tensor([3.0, 4.0], requires_grad=True)
    node = (x * w).grad_fn
    result = node(cgrad.ones(2))
    assert isinstance(result, tuple) and len(result) == 2
    before = [g.tolist() for g in result]
    _churn()
    assert [g.tolist() for g in result] == before == [[3.0, 4.0], [1.0, 2.0]]


def test_next_functions_survive_freed_graphs():
    x = cgrad.ones(3, requires_grad=True)
    y = (x * 2.0 + 1.0).tanh()
    edges = y.grad_fn.next_functions
    add_node = edges[0][0]
    add_edges = add_node.next_functions
    del y
    _churn()
    assert add_node.name() == "AddBackward0"
    assert add_edges[0][0].name() == "MulBackward0"
    assert add_edges[1] == (None, 0)
    assert add_edges[0][0].next_functions[0][0].variable is x


def test_edges_of_a_tracked_node_are_reused_safely():
    # a node given a hook is tracked by the cyclic collector, and so is its
    # edge tuple: freeing it must take the tuple out of the collector's view
    for _ in range(50):
        x = cgrad.ones(2, requires_grad=True)
        y = x * 2.0
        y.grad_fn.register_prehook(lambda g: None)
        z = y + 1.0
        z.grad_fn.metadata["k"] = 1
        del y, z
        gc.collect()
    _churn()
    gc.collect()


def test_grads_are_right_after_many_reuses():
    x = cgrad.ones(16, requires_grad=True)
    _churn()
    _chain(x, 50).sum().backward()
    ref = np.ones(16, dtype=np.float32)
    y = ref.copy()
    grads = []
    for _ in range(50):
        pre = y * np.float32(1.01) + np.float32(0.5)
        y = np.tanh(pre)
        grads.append(1 - y * y)
    g = np.ones(16, dtype=np.float32)
    for d in reversed(grads):
        g = g * d * np.float32(1.01)
    np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-4)


@requires_torch
def test_chain_matches_torch_after_reuse():
    _churn()
    xs = [lib.ones(16, requires_grad=True) for lib in (cgrad, torch)]
    for lib, x in zip((cgrad, torch), xs):
        _chain(x, 50).sum().backward()
    np.testing.assert_allclose(xs[0].grad.numpy(), xs[1].grad.numpy(), rtol=1e-5)
