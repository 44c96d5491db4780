"""Memory: flat RSS over thousands of training steps, saved tensors released
as soon as backward no longer needs them, and no reference cycles that only
the cyclic GC could free (graphs are freed by reference counting alone:
checked with gc.disable() and weakrefs), nor cycles the GC cannot free.
"""
import gc
import weakref

import numpy as np
import pytest

import cgrad
from robust_helpers import requires_torch, run_snippet, torch

# ---------------------------------------------------------------------------
# RSS over 3,000 training steps

MLP = r"""
import gc, os, sys
import cgrad, cgrad.nn as nn
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
cgrad.manual_seed(0)
model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4))
opt = {"adam": lambda: cgrad.optim.Adam(model.parameters(), lr=1e-3),
       "sgd": lambda: cgrad.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9, weight_decay=1e-4)}[sys.argv[1]]()
X = cgrad.randn(64, 16); Y = cgrad.randint(0, 4, (64,)); T = cgrad.randn(64, 4)
ce, mse = nn.CrossEntropyLoss(), nn.MSELoss()
def step(i):
    opt.zero_grad()
    out = model(X)
    loss = ce(out, Y) + 0.1 * mse(out.softmax(1), T) if i % 2 else ce(out, Y)
    loss.backward()
    opt.step()
    with cgrad.no_grad():
        acc = (out.argmax(1) == Y).float().mean().item()
    return loss.item()
for i in range(300):
    step(i)
gc.collect(); r0 = rss(); n0 = len(gc.get_objects())
for i in range(3000):
    step(i)
gc.collect(); r1 = rss(); n1 = len(gc.get_objects())
print((r1 - r0) / 2**20, n1 - n0)
"""


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_rss_flat_over_3000_training_steps(optimizer):
    p = run_snippet(MLP.replace("sys.argv[1]", repr(optimizer)))
    assert p.returncode == 0, p.stderr[-2000:]
    growth_mb, objects = p.stdout.split()
    print(f"\n{optimizer}: RSS growth over 3000 steps {float(growth_mb):.2f} MB, gc-tracked objects {objects}")
    assert float(growth_mb) < 5.0
    assert int(objects) < 100


# ---------------------------------------------------------------------------
# Saved tensors are released as soon as backward no longer needs them

F = cgrad.nn.functional
SAVING_OPS = {
    "exp": lambda l, h: h.exp(), "sin": lambda l, h: h.sin(), "tanh": lambda l, h: h.tanh(),
    "sigmoid": lambda l, h: h.sigmoid(), "sqrt": lambda l, h: h.sqrt(), "log": lambda l, h: h.log(),
    "relu": lambda l, h: h.relu(), "abs": lambda l, h: h.abs(), "pow": lambda l, h: h ** h,
    "div": lambda l, h: 1 / h, "mul": lambda l, h: h * h, "softmax": lambda l, h: h.softmax(1),
    "log_softmax": lambda l, h: h.log_softmax(1), "mm": lambda l, h: h @ h.t(),
    "matmul batched": lambda l, h: h.unsqueeze(0) @ h.t().unsqueeze(0), "max dim": lambda l, h: h.max(1)[0],
    "amax": lambda l, h: h.amax(1), "prod": lambda l, h: h.prod(1), "std": lambda l, h: h.std(1),
    "logsumexp": lambda l, h: h.logsumexp(1), "index_select": lambda l, h: h.index_select(0, l.tensor([0, 2])),
    "advanced index": lambda l, h: h[[0, 1]], "mask index": lambda l, h: h[h > 1],
    "where": lambda l, h: l.where(h > 1, h, h * 2), "masked_fill": lambda l, h: h.masked_fill(h > 1, 0.0),
    "cat": lambda l, h: l.cat([h, h]), "clamp": lambda l, h: h.clamp(0.7, 1.2),
    "maximum": lambda l, h: l.maximum(h, h.flip(0) if hasattr(h, "flip") else h * 0.9),
    "mse_loss": lambda l, h: l.nn.functional.mse_loss(h, h.detach() * 2),
    "cross_entropy": lambda l, h: l.nn.functional.cross_entropy(h, l.tensor([0, 1, 2])),
    "linear": lambda l, h: l.nn.functional.linear(h, h),
}


def _arrays_alive_during_and_after(lib, fn, retain):
    """x (leaf) -> h1 = x * A -> h2 = op(h1 * B) -> loss; A and B live only
    in the graph (from_numpy of arrays we hold weakrefs to). Returns whether
    B's array is alive when backward reaches h1 (its node has run), and
    whether A's and B's arrays are alive after backward."""
    gc.disable()
    try:
        base = np.linspace(0.5, 1.5, 12).astype(np.float32).reshape(3, 4)
        a1, a2 = base.copy(), base[::-1].copy()
        w1, w2 = weakref.ref(a1), weakref.ref(a2)
        x = lib.tensor(base, requires_grad=True)
        h1 = x * lib.from_numpy(a1)
        out = fn(lib, h1 * lib.from_numpy(a2))
        loss = out.sum() if out.dtype == lib.float32 else out.float().sum()
        del a1, a2
        during = []
        h1.register_hook(lambda g: during.append(w2() is not None))
        loss.backward(retain_graph=retain)
        after = (w1() is not None, w2() is not None)
        if retain:
            del loss, out, h1
            after_del = (w1() is not None, w2() is not None)
        else:
            after_del = None
        return during, after, after_del
    finally:
        gc.enable()


@pytest.mark.parametrize("op", sorted(SAVING_OPS))
def test_saved_tensors_released_during_backward(op):
    during, after, _ = _arrays_alive_during_and_after(cgrad, SAVING_OPS[op], retain=False)
    assert during == [False], "the tensor saved by the later node is still alive when backward reaches h1"
    assert after == (False, False), "saved tensors still alive after backward(retain_graph=False)"


@pytest.mark.parametrize("op", ["exp", "mm", "softmax", "cross_entropy", "max dim"])
def test_retain_graph_keeps_then_frees_without_gc(op):
    during, after, after_del = _arrays_alive_during_and_after(cgrad, SAVING_OPS[op], retain=True)
    assert during == [True] and after == (True, True)
    assert after_del == (False, False), "graph not freed by reference counting once its root is dropped"


@requires_torch
@pytest.mark.parametrize("op", ["exp", "mm", "cross_entropy"])
def test_release_timing_as_torch(op):
    for retain in (False, True):
        assert _arrays_alive_during_and_after(cgrad, SAVING_OPS[op], retain) == \
            _arrays_alive_during_and_after(torch, SAVING_OPS[op], retain)


# ---------------------------------------------------------------------------
# No reference cycles: with the cyclic GC off, dropping the last reference
# frees graph, tensors, storages and nodes

class Exp(cgrad.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        out = a.exp()
        ctx.save_for_backward(a, out)
        ctx.scale = 2.0
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return g * out * ctx.scale / 2


def _plain(lib, x):
    y = (x * 2).exp()
    z = y.sum()
    z.backward()
    return [y, z, y.grad_fn]


def _no_backward(lib, x):
    y = (x * 2).exp()
    return [y, y.sum(), y.grad_fn]


def _hooks(lib, x):
    y = (x * 2).exp()
    y.register_hook(lambda g: g * 2)
    y.grad_fn.register_hook(lambda gi, go: None)
    y.grad_fn.register_prehook(lambda go: None)
    x.register_hook(lambda g: g)
    z = y.sum()
    z.backward()
    return [y, z, y.grad_fn]


def _retain_grad(lib, x):
    y = (x * 2).exp()
    y.retain_grad()
    y.sum().backward()
    return [y, y.grad, y.grad_fn]


def _function(lib, x):
    y = Exp.apply(x)
    y.sum().backward()
    return [y, y.grad_fn]


def _function_no_backward(lib, x):
    y = Exp.apply(x)
    return [y, y.grad_fn]


def _views_and_inplace(lib, x):
    b = x * 1
    v = b.view(2, 3)[0]
    v.mul_(2)
    b.sum().backward()
    return [b, v, b.grad_fn, v.grad_fn]


def _indexing(lib, x):
    y = x.view(2, 3)[[0, 1]]
    m = x[x > 0]
    v, i = x.view(2, 3).max(1)
    parts = x.view(2, 3).unbind(0)
    (y.sum() + m.sum() + v.sum() + parts[0].sum()).backward()
    return [y, m, v, i, *parts]


def _create_graph_grad(lib, x):
    y = (x * x).sum()
    g, = lib.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    return [y, g]


def _failing_backward(lib, x):
    h = x.exp()
    h.add_(1)
    z = h.sum()
    try:
        z.backward()
    except RuntimeError:
        pass
    return [h, z]


def _hook_raises(lib, x):
    y = x * 2
    y.register_hook(lambda g: 1 / 0)
    z = y.sum()
    try:
        z.backward()
    except ZeroDivisionError:
        pass
    return [y, z]


def _anomaly(lib, x):
    with lib.autograd.detect_anomaly():
        y = (x * 2).exp()
        y.sum().backward()
    return [y]


def _training(lib, x):
    m = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))
    opt = lib.optim.Adam(m.parameters())
    for _ in range(3):
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(m(x.view(1, 6).expand(4, 6)), lib.zeros(4, dtype=lib.int64))
        loss.backward()
        opt.step()
    return [m, opt, loss, m[0].weight, m[0]]


NO_CYCLES = {
    "plain graph": _plain, "graph without backward": _no_backward, "tensor and node hooks": _hooks,
    "retain_grad": _retain_grad, "custom Function": _function,
    "custom Function without backward": _function_no_backward, "views and in-place": _views_and_inplace,
    "indexing, max, unbind": _indexing, "autograd.grad create_graph": _create_graph_grad,
    "failed backward": _failing_backward, "hook raised": _hook_raises, "detect_anomaly": _anomaly,
    "training loop (nn, optim)": _training,
}


def _weakrefs(objs):
    refs = []
    for o in objs:
        try:
            refs.append(weakref.ref(o))
        except TypeError:
            pass
    return refs


@pytest.mark.parametrize("name", sorted(NO_CYCLES))
def test_graphs_freed_without_cyclic_gc(name):
    gc.disable()
    try:
        arr = np.arange(6, dtype=np.float32) / 5 + 0.1
        x = cgrad.tensor(arr, requires_grad=True)
        objs = [x] + NO_CYCLES[name](cgrad, x)
        refs = _weakrefs(objs)
        del objs, x
        alive = [r() for r in refs]
        alive = [type(a).__name__ for a in alive if a is not None]
        assert alive == [], f"still alive with the cyclic GC off: {alive}"
    finally:
        gc.enable()


def _ctx_attribute(lib):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = a.exp()
            ctx.out = out            # a plain attribute, not save_for_backward
            return out

        @staticmethod
        def backward(ctx, g):
            return g * ctx.out
    x = lib.ones(3, requires_grad=True)
    y = F.apply(x)
    return [x, y]


def _own_grad(lib):
    x = lib.ones(3, requires_grad=True)
    try:
        x.grad = x
    except RuntimeError:
        pass
    return [x]


def _hook_closure(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * y.detach())       # torch leaks this one too
    return [x, y]


def _tensor_in_cyclic_list(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    cyc = [y]
    cyc.append(cyc)
    return [x, y]


@requires_torch
@pytest.mark.parametrize("scenario", [
    pytest.param(_ctx_attribute, id="Function storing its output on ctx"),
    pytest.param(_own_grad, id="x.grad = x"),
    pytest.param(_hook_closure, id="hook closure over its tensor"),
    pytest.param(_tensor_in_cyclic_list, id="tensor inside a cyclic list"),
])
def test_user_cycles_collected_as_in_torch(scenario):
    """Cycles a user makes: after gc.collect(), cgrad keeps no more alive
    than torch does."""
    def alive_after_collect(lib):
        refs = [weakref.ref(o) for o in scenario(lib)]
        gc.collect()
        return sum(r() is not None for r in refs)
    assert alive_after_collect(cgrad) <= alive_after_collect(torch)
