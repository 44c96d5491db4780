"""Shared by the recurrent and attention tests: build a module in cgrad and
in torch with the same weights (drawn in numpy), and compare results and
every parameter gradient."""
import numpy as np

import cgrad
from helpers import assert_close, torch


def copy_weights(mod_c, mod_t, seed=0, scale=0.3):
    """Give both modules the same parameters (same names, same order)."""
    names_c = [n for n, _ in mod_c.named_parameters()]
    names_t = [n for n, _ in mod_t.named_parameters()]
    assert names_c == names_t
    rng = np.random.default_rng(seed)
    params_c = dict(mod_c.named_parameters())
    for name, pt in mod_t.named_parameters():
        arr = (rng.standard_normal(tuple(pt.shape)) * scale).astype(str(pt.dtype).split(".")[-1])
        with torch.no_grad():
            pt.copy_(torch.tensor(arr))
        with cgrad.no_grad():
            params_c[name].copy_(cgrad.tensor(arr))


def compare_param_grads(mod_c, mod_t, rtol, atol):
    grads_c = {n: p.grad for n, p in mod_c.named_parameters()}
    for name, pt in mod_t.named_parameters():
        if pt.grad is None:
            assert grads_c[name] is None, name
            continue
        assert grads_c[name] is not None, f"{name}: no gradient in cgrad"
        assert_close(grads_c[name].numpy(), pt.grad.numpy(), rtol, atol, f"grad of {name}")


def flat(results):
    """The tensors of a nested (output, (h, c)) result, in order."""
    out = []
    stack = [results]
    while stack:
        item = stack.pop(0)
        if isinstance(item, (tuple, list)):
            stack[0:0] = list(item)
        elif item is not None:
            out.append(item)
    return out


def backward_both(outs_c, outs_t, seed=1):
    """Backward through every output with the same random grad_outputs."""
    rng = np.random.default_rng(seed)
    gos = [rng.standard_normal(tuple(t.shape)).astype(str(t.dtype).split(".")[-1]) for t in outs_t]
    cgrad.autograd.backward(list(outs_c), [cgrad.tensor(g) for g in gos])
    torch.autograd.backward(list(outs_t), [torch.tensor(g) for g in gos])
