"""Scale: a 1,000,000-op chain differentiated and freed (no RecursionError,
no C-stack overflow), a leaf used 200,000 times in one graph, zero-element
tensors through every op and its backward (against torch), and (slow) one
200-million-element float32 tensor through an op and its backward with peak
RSS compared to torch's.
"""
import gc
import sys

import numpy as np
import pytest

import cgrad
from robust_helpers import outcome, requires_torch, run_snippet, same_error, torch

N_CHAIN = 1_000_000


def test_million_op_chain_backward_and_free():
    """Alternating y + 1 / y * -1 / y - 0.5 / view: exact values, exact
    gradient (+-1), then the graph is freed by dropping the root."""
    x = cgrad.zeros(4, requires_grad=True)
    y = x
    for i in range(N_CHAIN // 4):
        y = ((y + 1) * -1 - 0.5).view(2, 2).view(4)
    assert y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [1.0] * 4          # an even number of sign flips
    assert y.tolist() == [0.0] * 4               # ((0 + 1) * -1 - 0.5) ... twice gives 0 back
    del y
    gc.collect()


def test_million_op_chain_freed_without_backward():
    x = cgrad.ones(4, requires_grad=True)
    y = x
    for i in range(N_CHAIN // 2):
        y = y.sin().exp()
    del y                                        # must not recurse through 1e6 nodes
    z = (x * 2).sum()
    z.backward()
    assert x.grad.tolist() == [2.0] * 4


def test_deep_chain_retain_graph_autograd_grad_and_create_graph():
    x = cgrad.tensor([0.5, -0.25], dtype=cgrad.float64, requires_grad=True)
    y = x
    for i in range(200_000):
        y = y * 1.0 if i % 2 else y + 0.0
    s = (y * y).sum()
    g1, = cgrad.autograd.grad(s, x, retain_graph=True)
    g2, = cgrad.autograd.grad(s, x, create_graph=True)
    assert g1.tolist() == g2.tolist() == [1.0, -0.5]
    h, = cgrad.autograd.grad(g2.sum(), x)        # second order through the 200k chain
    assert h.tolist() == [2.0, 2.0]
    del s, y, g2


def test_deep_chain_in_a_thread_with_a_small_stack():
    """The engine must not use the C stack per node: a 300k chain in a
    thread with a 256 KiB stack."""
    p = run_snippet("""
        import threading, cgrad
        threading.stack_size(256 * 1024)
        out = []
        def work():
            x = cgrad.ones(2, requires_grad=True)
            y = x
            for _ in range(300_000):
                y = y * 1.0
            y.sum().backward()
            del y
            out.append(x.grad.tolist())
        t = threading.Thread(target=work); t.start(); t.join()
        print(out)
    """)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "[[1.0, 1.0]]"


def test_deep_chain_freed_without_backward_in_a_thread_with_a_small_stack():
    """Freeing a 300k graph (saved inputs and edges, no backward) must not
    nest one C frame per node: CPython 3.13's trashcan no longer bounds it
    on a 128 KiB thread stack, so cgrad does."""
    p = run_snippet("""
        import threading, cgrad
        threading.stack_size(128 * 1024)
        out = []
        def work():
            x = cgrad.ones(2, requires_grad=True)
            y = x
            for _ in range(300_000):
                y = y.sin() * 1.0
            del y
            out.append((x * 2).sum().item())
        t = threading.Thread(target=work); t.start(); t.join()
        print(out)
    """)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "[4.0]"


def test_leaf_used_200k_times():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    s = x * 0
    for _ in range(200_000):
        s = s + x
    s.sum().backward()
    assert x.grad.tolist() == [200_000.0, 200_000.0]


def test_leaf_used_200k_times_in_one_node():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    parts = [x * 1.0 for _ in range(200_000)]
    z = cgrad.stack(parts).sum() + cgrad.cat(parts[:1000]).sum()
    z.backward()
    assert x.grad.tolist() == [201_000.0, 201_000.0]


def test_200k_hooks_and_retained_grads():
    x = cgrad.ones(2, requires_grad=True)
    y = x
    seen = [0]

    def hook(g):
        seen[0] += 1
    for i in range(200_000):
        y = y * 1.0
        if i % 2 == 0:
            y.register_hook(hook)
    y.retain_grad()
    y.sum().backward()
    assert seen[0] == 100_000 and y.grad.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------
# Zero-element tensors through every op and backward, against torch

ZERO_SHAPES = [(0,), (2, 0), (0, 3), (0, 2, 3), (2, 0, 3)]

ZERO_OPS = {
    "neg": lambda l, a: -a, "exp": lambda l, a: a.exp(), "log": lambda l, a: a.log(), "sqrt": lambda l, a: a.sqrt(),
    "sin": lambda l, a: a.sin(), "tanh": lambda l, a: a.tanh(), "sigmoid": lambda l, a: a.sigmoid(),
    "relu": lambda l, a: a.relu(), "abs": lambda l, a: a.abs(), "reciprocal": lambda l, a: a.reciprocal(),
    "sign": lambda l, a: a.sign(), "add": lambda l, a: a + a, "mul scalar": lambda l, a: a * 3,
    "div": lambda l, a: a / (a + 1), "pow": lambda l, a: a ** 2, "rpow": lambda l, a: 2 ** a,
    "maximum": lambda l, a: l.maximum(a, a * 2), "where": lambda l, a: l.where(a > 0, a, a * 2),
    "masked_fill": lambda l, a: a.masked_fill(a > 0, 1.0), "clamp": lambda l, a: a.clamp(-1, 1),
    "add broadcast": lambda l, a: a + l.ones(a.shape[-1]) if a.dim() else a,
    "sum": lambda l, a: a.sum(), "sum dim 0": lambda l, a: a.sum(0), "sum last": lambda l, a: a.sum(-1),
    "sum keepdim": lambda l, a: a.sum(0, keepdim=True), "mean": lambda l, a: a.mean(),
    "mean dim 0": lambda l, a: a.mean(0), "prod": lambda l, a: a.prod(), "prod dim 0": lambda l, a: a.prod(0),
    "var": lambda l, a: a.var(), "std dim 0": lambda l, a: a.std(0), "amax": lambda l, a: a.amax(),
    "amax last": lambda l, a: a.amax(-1), "max dim 0": lambda l, a: a.max(0), "argmax": lambda l, a: a.argmax(),
    "argmin last": lambda l, a: a.argmin(-1), "logsumexp 0": lambda l, a: a.logsumexp(0),
    "logsumexp last": lambda l, a: a.logsumexp(-1), "softmax last": lambda l, a: a.softmax(-1),
    "log_softmax 0": lambda l, a: a.log_softmax(0), "view -1": lambda l, a: a.view(-1),
    "reshape 0,-1": lambda l, a: a.reshape(0, -1), "reshape -1,0": lambda l, a: a.reshape(-1, 0),
    "transpose": lambda l, a: a.transpose(0, -1), "permute reversed": lambda l, a: a.permute(*range(a.dim())[::-1]),
    "unsqueeze": lambda l, a: a.unsqueeze(1), "squeeze": lambda l, a: a.squeeze(),
    "expand": lambda l, a: a.unsqueeze(0).expand(3, *a.shape), "flatten": lambda l, a: a.flatten(),
    "clone": lambda l, a: a.clone(), "contiguous of transpose": lambda l, a: a.transpose(0, -1).contiguous(),
    "cat with itself": lambda l, a: l.cat([a, a]), "cat dim -1": lambda l, a: l.cat([a, a], -1),
    "stack": lambda l, a: l.stack([a, a], 0), "split": lambda l, a: a.split(1, 0),
    "chunk last": lambda l, a: a.chunk(2, -1), "unbind 0": lambda l, a: a.unbind(0),
    "narrow": lambda l, a: a.narrow(0, 0, 0), "index_select": lambda l, a: a.index_select(0, l.tensor([], dtype=l.int64)),
    "getitem mask": lambda l, a: a[a > 0], "getitem empty list": lambda l, a: a[[]],
    "getitem slice": lambda l, a: a[1:], "getitem ellipsis": lambda l, a: a[..., :1],
    "matmul with its transpose": lambda l, a: a @ a.transpose(-1, -2) if a.dim() >= 2 else l.dot(a, a),
    "mm zero inner": lambda l, a: l.mm(a.reshape(-1, 0) if a.numel() == 0 else a, l.ones(0, 4)),
    "linear": lambda l, a: l.nn.functional.linear(a, l.ones(5, a.shape[-1])),
    "mse_loss": lambda l, a: l.nn.functional.mse_loss(a, a.detach() + 1),
    "l1_loss sum": lambda l, a: l.nn.functional.l1_loss(a, a.detach(), reduction="sum"),
    "cross_entropy": lambda l, a: l.nn.functional.cross_entropy(a.reshape(0, -1) if a.shape[0] == 0 else a,
                                                                l.zeros(0, dtype=l.int64)),
    "double": lambda l, a: a.double(), "to int": lambda l, a: a.long(), "eq": lambda l, a: a == a,
    "in-place add_ of a clone": lambda l, a: a.clone().add_(1),
    "setitem": lambda l, a: _setitem_clone(a),
}


def _setitem_clone(a):
    b = a.clone()
    b[...] = 2.0
    return b


def _values_and_grads(lib, fn, arr):
    x = lib.tensor(arr, requires_grad=True)
    out = fn(lib, x)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    res = [(tuple(o.shape), str(o.dtype).split(".")[-1], [repr(v) for v in o.detach().numpy().ravel().tolist()])
           for o in outs]
    diff = [o for o in outs if o.requires_grad]
    if diff:
        lib.autograd.backward(diff, [lib.ones_like(o) for o in diff])
    g = None if x.grad is None else (tuple(x.grad.shape), x.grad.numpy().tolist())
    return res, [o.requires_grad for o in outs], g


@requires_torch
@pytest.mark.parametrize("shape", ZERO_SHAPES, ids=lambda s: "x".join(map(str, s)) or "0")
@pytest.mark.parametrize("op", sorted(ZERO_OPS))
def test_zero_element_tensors(op, shape):
    arr = np.zeros(shape, np.float32)
    fn = ZERO_OPS[op]
    tk = outcome(torch, fn, [arr], preset_grad=False)[0]
    if tk != "ok":
        same_error(fn, arr, preset_grad=False)
        return
    expected = _values_and_grads(torch, fn, arr)
    got = _values_and_grads(cgrad, fn, arr)
    assert got == expected


# ---------------------------------------------------------------------------
# One 200-million-element float32 tensor (800 MB) through an op and back

BIG = r"""
import resource, sys
lib = __import__(sys.argv[1])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
x = lib.ones(200_000_000, requires_grad=True)
y = (x.tanh() * x).sum()
y.backward()
g = (float(x.grad[0]), float(x.grad[-1]), float(x.grad[123_456_789]))
del y
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(g, (peak - base) / 1024)
"""


@requires_torch
@pytest.mark.slow
def test_200M_elements_peak_memory_vs_torch():
    """(tanh(x) * x).sum() backward on 200M float32: the same gradient as
    torch and a peak RSS (above the interpreter's) within two full-size
    copies (1.6 GB) of torch's."""
    import subprocess
    from robust_helpers import WORKTREE
    import os
    env = dict(os.environ, PYTHONPATH=WORKTREE)
    runs = {}
    for lib in ("torch", "cgrad"):
        p = subprocess.run([sys.executable, "-c", BIG, lib], capture_output=True, text=True, timeout=600, env=env)
        assert p.returncode == 0, f"{lib}: exit {p.returncode}\n{p.stderr[-2000:]}"
        grads, extra_mb = p.stdout.strip().rsplit(" ", 1)
        runs[lib] = (grads, float(extra_mb))
    print(f"\npeak RSS above start: cgrad {runs['cgrad'][1]:.0f} MB, torch {runs['torch'][1]:.0f} MB")
    assert runs["cgrad"][0] == runs["torch"][0]
    assert runs["cgrad"][1] <= runs["torch"][1] + 2 * 800
