"""Hook handles are numbered from one counter, as PyTorch's
torch.utils.hooks.RemovableHandle.next_id: tensor, node, post-accumulate,
module (forward, pre, full backward) and optimizer hooks each take the next
id, so the keys of a module's _forward_pre_hooks (printed by the pruning
tutorial) are the ones PyTorch shows after the same calls."""
import pytest

import cgrad
from helpers import requires_torch, torch


def id_steps(lib):
    hooks = __import__(lib.__name__ + ".utils.hooks", fromlist=["RemovableHandle"])
    handle_cls = hooks.RemovableHandle
    steps = []
    last = [handle_cls.next_id]

    def step(label):
        steps.append((label, handle_cls.next_id - last[0]))
        last[0] = handle_cls.next_id

    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g)
    step("tensor hook")
    y.grad_fn.register_hook(lambda *a: None)
    step("node hook")
    y.grad_fn.register_prehook(lambda *a: None)
    step("node prehook")
    x.register_post_accumulate_grad_hook(lambda t: None)
    step("post-accumulate hook")
    m = lib.nn.Linear(2, 2)
    m.register_forward_pre_hook(lambda *a: None)
    step("forward pre hook")
    m.register_forward_hook(lambda *a: None)
    step("forward hook")
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    opt.register_step_pre_hook(lambda *a: None)
    step("optimizer hook")
    m.register_full_backward_hook(lambda *a: None)
    step("full backward hook")
    m(x).sum().backward()
    step("forward and backward with a full backward hook")
    m2 = lib.nn.Linear(2, 2)
    h = m2.register_forward_pre_hook(lambda *a: None)
    steps.append(("key", list(m2._forward_pre_hooks.keys()) == [h.id]))
    return steps


@requires_torch
def test_hook_handle_ids_count_as_torch():
    assert id_steps(cgrad) == id_steps(torch)


def test_hook_handle_ids_share_one_counter():
    x = cgrad.ones(2, requires_grad=True)
    a = (x * 2).register_hook(lambda g: g)
    m = cgrad.nn.Linear(2, 2)
    b = m.register_forward_hook(lambda *args: None)
    assert b.id == a.id + 1
    assert cgrad.utils.hooks.RemovableHandle.next_id == b.id + 1
