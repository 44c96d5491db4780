"""Tensor.register_post_accumulate_grad_hook and AccumulateGrad's node
post-hooks against torch: when they run (after .grad is written, once per
backward per leaf), what they see, handle removal, the errors, and that a
leaf left out by backward(inputs=...) runs none."""
import pytest

import cgrad
from helpers import requires_torch, torch



def events_of(lib, scenario):
    """Run `scenario` in `lib`, returning what the hooks recorded."""
    events = []
    p = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    q = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    scenario(lib, p, q, events)
    return events


def record(events, name):
    return lambda t: events.append((name, t.grad.tolist()))


def s_twice_used(lib, p, q, events):
    p.register_post_accumulate_grad_hook(record(events, "p"))
    (p * p * q).sum().backward()
    (p * 2).sum().backward()


def s_tensor_hook_first(lib, p, q, events):
    p.register_hook(lambda g: g * 10)
    p.register_post_accumulate_grad_hook(record(events, "after"))
    p.register_post_accumulate_grad_hook(record(events, "after2"))
    (p * q).sum().backward()


def s_remove(lib, p, q, events):
    h = p.register_post_accumulate_grad_hook(record(events, "gone"))
    p.register_post_accumulate_grad_hook(record(events, "kept"))
    h.remove()
    (p * q).sum().backward()


def s_retain_graph(lib, p, q, events):
    p.register_post_accumulate_grad_hook(record(events, "p"))
    q.register_post_accumulate_grad_hook(record(events, "q"))
    y = (p * q).sum()
    y.backward(retain_graph=True)
    y.backward()


def s_inputs_subset(lib, p, q, events):
    p.register_post_accumulate_grad_hook(record(events, "p"))
    q.register_post_accumulate_grad_hook(record(events, "q"))
    (p * q).sum().backward(inputs=[q])


def s_grad_call(lib, p, q, events):
    p.register_post_accumulate_grad_hook(record(events, "p"))
    events.append(("grad", lib.autograd.grad((p * q).sum(), p)[0].tolist()))


def s_node_post_hook(lib, p, q, events):
    acc = p.view_as(p).grad_fn.next_functions[0][0]
    acc.register_hook(lambda gi, go: events.append(("node", len(gi), [g.tolist() for g in go], p.grad.tolist())))
    (p * q).sum().backward()


@requires_torch
@pytest.mark.parametrize("scenario", [s_twice_used, s_tensor_hook_first, s_remove, s_retain_graph, s_inputs_subset,
                                      s_grad_call, s_node_post_hook])
def test_hooks_as_torch(scenario):
    assert events_of(cgrad, scenario) == events_of(torch, scenario)


def outcome(fn):
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001 - compared
        return (type(e).__name__, str(e))


@requires_torch
@pytest.mark.parametrize("make", [
    lambda lib: lib.ones(2),
    lambda lib: lib.ones(2, requires_grad=True) * 2,
])
def test_errors_as_torch(make):
    assert outcome(lambda: make(cgrad).register_post_accumulate_grad_hook(print)) == \
        outcome(lambda: make(torch).register_post_accumulate_grad_hook(print))


def test_hooks_die_with_their_leaf():
    import gc
    fired = []
    for _ in range(3):
        p = cgrad.ones(2, requires_grad=True)
        p.register_post_accumulate_grad_hook(lambda t: fired.append(1))
        p.sum().backward()
        del p
        gc.collect()
    assert fired == [1, 1, 1]
    leaf = cgrad.ones(2, requires_grad=True)
    (leaf * 2).sum().backward()      # a fresh leaf (maybe at a freed one's address) runs no stale hook
    assert fired == [1, 1, 1]
