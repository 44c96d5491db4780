"""The engine of the foundation: depth, fan-in, accumulation, retain_graph,
inputs=, and the grad modes."""
import gc
import threading

import numpy as np
import pytest

import cgrad
from helpers import requires_torch


def test_million_node_chain_backward_and_free():
    x = cgrad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001
    y.backward()
    # float32 products, rounded at each of the million steps as in torch
    expected = np.multiply.accumulate(np.full(1_000_000, np.float32(1.0000001)))[-1]
    assert x.grad.item() == pytest.approx(float(expected), rel=1e-6)
    del y  # freeing the chain must not recurse on the C stack
    gc.collect()


def test_deep_chain_with_saved_tensors_freed_without_backward():
    x = cgrad.ones(3, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y.tanh()
    del y


def test_leaf_used_many_times_gets_the_sum():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    total = x * 0
    for i in range(1000):
        total = total + x * float(i % 3)
    total.sum().backward()
    expected = sum(float(i % 3) for i in range(1000))
    assert x.grad.tolist() == [expected, expected]


def test_diamond_graph():
    x = cgrad.tensor([1.5, -0.5], requires_grad=True)
    a = x * 2
    b = a.exp()
    c = a.tanh()
    (b * c + a).sum().backward()
    xa = np.array([1.5, -0.5]) * 2
    want = 2 * (np.exp(xa) * np.tanh(xa) + np.exp(xa) * (1 - np.tanh(xa) ** 2) + 1)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5)


def test_gradients_accumulate_and_reset():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    g = x.grad
    (x * x).sum().backward()
    assert x.grad is g  # accumulated in place
    assert x.grad.tolist() == [4.0, 8.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_grad_does_not_alias_user_gradient():
    x = cgrad.ones(2, requires_grad=True)
    g = cgrad.tensor([1.0, 2.0])
    (x + 0).backward(g)
    assert x.grad.tolist() == [1.0, 2.0]
    with cgrad.no_grad():
        g += 1
    assert x.grad.tolist() == [1.0, 2.0]


def test_shared_gradient_buffer_not_aliased_between_leaves():
    a = cgrad.ones(2, requires_grad=True)
    b = cgrad.ones(2, requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad
    with cgrad.no_grad():
        a.grad += 1
    assert b.grad.tolist() == [1.0, 1.0]


def test_retain_graph_allows_second_backward():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_graph_without_saved_tensors_can_run_twice():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 2).sum()
    y.backward()
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_backward_inputs_restricts_accumulation():
    a = cgrad.tensor([1.0], requires_grad=True)
    b = cgrad.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None
    with pytest.raises(RuntimeError, match=r"^`inputs` argument to `backward\(\)` cannot be empty.$"):
        (a * b).sum().backward(inputs=[])


def test_autograd_grad_returns_without_accumulating():
    a = cgrad.tensor([1.0, 3.0], requires_grad=True)
    y = (a * a).sum()
    (ga,) = cgrad.autograd.grad(y, a)
    assert ga.tolist() == [2.0, 6.0] and a.grad is None


def test_backward_from_leaf_and_no_grad_results():
    x = cgrad.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0
    with cgrad.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        y.backward()


def test_backward_inside_no_grad_still_works():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with cgrad.no_grad():
        y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_grad_modes_as_context_managers_and_decorators():
    x = cgrad.ones(2, requires_grad=True)

    @cgrad.no_grad()
    def f():
        return x * 2

    assert not f().requires_grad
    with cgrad.no_grad():
        with cgrad.enable_grad():
            assert (x * 2).requires_grad
        assert not cgrad.is_grad_enabled()
    with cgrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cgrad.is_grad_enabled()
    cgrad.set_grad_enabled(False)
    assert not cgrad.is_grad_enabled()
    cgrad.set_grad_enabled(True)

    @cgrad.enable_grad()
    def gen():
        yield (x * 2).requires_grad

    with cgrad.no_grad():
        assert next(gen())


def test_grad_mode_is_thread_local():
    seen = []
    with cgrad.no_grad():
        t = threading.Thread(target=lambda: seen.append(cgrad.is_grad_enabled()))
        t.start()
        t.join()
        assert not cgrad.is_grad_enabled()
    assert seen == [True]


def test_threads_build_independent_graphs():
    results = {}

    def work(i):
        x = cgrad.tensor([float(i)], requires_grad=True)
        y = x
        for _ in range(2000):
            y = (y * 1.0 + 0.0).tanh() + x
        y.sum().backward()
        results[i] = x.grad.item()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        x = cgrad.tensor([float(i)], requires_grad=True)
        y = x
        for _ in range(2000):
            y = (y * 1.0 + 0.0).tanh() + x
        y.sum().backward()
        assert results[i] == x.grad.item()


@requires_torch
def test_next_functions_and_names_match_torch():
    import torch
    for lib in (cgrad, torch):
        x = lib.ones(2, requires_grad=True)
        y = (x * 2).sum()
        fn = y.grad_fn
        names = (type(fn).__name__, type(fn.next_functions[0][0]).__name__,
                 type(fn.next_functions[0][0].next_functions[0][0]).__name__)
        if lib is cgrad:
            got = names
    assert got == names == ("SumBackward0", "MulBackward0", "AccumulateGrad")


def test_freed_nodes_are_reused_with_fresh_state():
    """Nodes come from per-size free lists (node.pxi): a reused block must
    start as a new node (no hooks, metadata or edges of its last life), and
    Python subclasses of node classes keep CPython's allocator."""
    import gc
    import weakref
    for _ in range(3):
        x = cgrad.ones(4, requires_grad=True)
        y = (x * 2.0 + 1.0).tanh()
        y.grad_fn.register_hook(lambda gi, go: None)
        y.grad_fn.metadata["k"] = 1
        ref = weakref.ref(y.grad_fn)
        y.sum().backward()
        del y
        gc.collect()
        assert ref() is None
        z = (x * 3.0).tanh()
        assert z.grad_fn.metadata == {}
        assert z.grad_fn.next_functions[0][0].name() == "MulBackward0"
        z.sum().backward()
        assert x.grad is not None
        x.grad = None
