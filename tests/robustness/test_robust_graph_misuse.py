"""Misuse of autograd, against torch: bad backward()/autograd.grad()
arguments, .grad / requires_grad / .data assignments, second backward
without retain_graph, backward inside no_grad, in-place changes of saved
tensors, autograd.grad on inputs outside the graph, backward from inside
hooks, and failing backward passes (what each leaf's .grad holds
afterwards, exactly as torch leaves it).

Everything here is safe in-process; the cases that crash cgrad live in
test_robust_crash.py (subprocesses).
"""
import numpy as np
import pytest

from robust_helpers import attempt, requires_torch, same_observations, same_outcome

pytestmark = requires_torch

A = np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 0.5


def xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


def cases(table):
    out = []
    for name, v in table.items():
        if isinstance(v, tuple):
            out.append(pytest.param(v[0], id=name, marks=v[1]))
        else:
            out.append(pytest.param(v, id=name))
    return out


# ---------------------------------------------------------------------------
# backward() / autograd.grad() arguments (a: (2, 3) leaf with a preset .grad)

def _set_grad(a, g):
    a.grad = g
    return a.grad


BACKWARD_ARGS = {
    "gradient wrong shape": lambda l, a: (a * 2).backward(l.ones(3)),
    "gradient wrong rank": lambda l, a: (a * 2).backward(l.ones(3, 2)),
    "gradient for scalar wrong shape": lambda l, a: (a * 2).sum().backward(l.ones(1)),
    "gradient float64": lambda l, a: ((a * 2).sum().backward(l.tensor(1.0, dtype=l.float64)), a.grad)[1],
    "gradient str": lambda l, a: (a * 2).sum().backward("a"),
    "gradient int tensor": lambda l, a: ((a * 2).sum().backward(l.tensor(1)), a.grad)[1],
    "gradient bool tensor": lambda l, a: ((a * 2).sum().backward(l.tensor(True)), a.grad)[1],
    "non-scalar without gradient": lambda l, a: (a * 2).backward(),
    "output not requiring grad": lambda l, a: a.detach().sum().backward(),
    "int output": lambda l, a: a.argmax().backward(),
    "bool output": lambda l, a: (a > 0).sum().backward(),
    "inputs empty": lambda l, a: (a * 2).sum().backward(inputs=[]),
    "inputs not requiring grad": lambda l, a: (a * 2).sum().backward(inputs=[l.ones(2)]),
    "inputs unused leaf": lambda l, a: ((a * 2).sum().backward(inputs=[l.ones(2, requires_grad=True)]), a.grad)[1],
    "grad unused input": lambda l, a: l.autograd.grad((a * 2).sum(), [a, l.ones(2, requires_grad=True)]),
    "grad input not requiring grad": lambda l, a: l.autograd.grad((a * 2).sum(), [l.ones(2)]),
    "grad input outside graph": lambda l, a: l.autograd.grad((a * 2).sum(), l.ones(3, requires_grad=True)),
    "grad input outside graph allow_unused": lambda l, a: l.autograd.grad(
        (a * 2).sum(), [a, l.ones(3, requires_grad=True)], allow_unused=True),
    "grad input outside graph materialize": lambda l, a: l.autograd.grad(
        (a * 2).sum(), [a, l.ones(3, requires_grad=True)], materialize_grads=True),
    "grad input is a sibling branch": lambda l, a: (lambda b: l.autograd.grad((a * 2).sum(), [b]))(a * 3),
    "grad of intermediate": lambda l, a: (lambda b: l.autograd.grad((b * b).sum(), [b]))(a * 2),
    "grad_outputs wrong shape": lambda l, a: l.autograd.grad([a * 2], [a], grad_outputs=[l.ones(3)]),
    "grad_outputs None for non-scalar": lambda l, a: l.autograd.grad([a * 2], [a], grad_outputs=[None]),
    "grad inputs empty": lambda l, a: l.autograd.grad([(a * 2).sum()], []),
    "grad output not requiring grad": lambda l, a: l.autograd.grad(l.ones(()), [a]),
    "grad_outputs too many": lambda l, a: l.autograd.grad([(a * 2).sum()], [a], grad_outputs=[l.ones(()), l.ones(())]),
    "grad_outputs int tensor": lambda l, a: l.autograd.grad([a * 2], [a], grad_outputs=[l.ones(2, 3, dtype=l.int64)]),
    "grad inputs non-tensor": lambda l, a: l.autograd.grad([(a * 2).sum()], [1.0]),
    "set grad wrong shape": lambda l, a: _set_grad(a, l.ones(3)),
    "set grad float64": lambda l, a: _set_grad(a, l.ones(2, 3, dtype=l.float64)),
    "set grad int": lambda l, a: _set_grad(a, l.ones(2, 3, dtype=l.int64)),
    "set grad 5": lambda l, a: _set_grad(a, 5),
    "set grad list": lambda l, a: _set_grad(a, [[1.0, 2.0, 3.0]] * 2),
    "set grad to itself": lambda l, a: _set_grad(a, a),
    "set grad on non-leaf": lambda l, a: _set_grad(a * 2, l.ones(2, 3)),
    "set grad on non-leaf wrong shape": lambda l, a: _set_grad(a * 2, l.ones(3)),
    "set requires_grad False on non-leaf": lambda l, a: setattr(a * 2, "requires_grad", False),
    "set requires_grad True on non-leaf": lambda l, a: setattr(a * 2, "requires_grad", True),
    "requires_grad_(False) on non-leaf": lambda l, a: (a * 2).requires_grad_(False),
    "set requires_grad on int tensor": lambda l, a: setattr(l.ones(2, dtype=l.int64), "requires_grad", True),
    "requires_grad_() on int tensor": lambda l, a: l.ones(2, dtype=l.int64).requires_grad_(),
    "set requires_grad 'yes'": lambda l, a: setattr(a, "requires_grad", "yes"),
    "set requires_grad None": lambda l, a: setattr(a, "requires_grad", None),
    "retain_grad without grad": lambda l, a: l.ones(2).retain_grad(),
    "register_hook without grad": lambda l, a: l.ones(2).register_hook(lambda g: g),
    "set data non-tensor": lambda l, a: setattr(a, "data", 5),
    "set data int tensor on leaf requiring grad":
        lambda l, a: (setattr(a, "data", l.ones(5, dtype=l.int64)), a.requires_grad, a.dtype)[1:],
    "set data other shape and dtype": lambda l, a: (setattr(a, "data", l.ones(5, dtype=l.float64)), a)[1],
    "detach_ on a view": lambda l, a: (a * 1)[0].detach_(),
    "item of non-scalar": lambda l, a: a.item(),
    "numpy of tensor requiring grad": lambda l, a: a.numpy(),
    "float() of non-scalar": lambda l, a: float(a),
    "bool() of non-scalar": lambda l, a: bool(a),
    "len() of 0-d": lambda l, a: len(a.sum()),
    "iter() of 0-d": lambda l, a: iter(a.sum()),
}


@pytest.mark.parametrize("fn", cases(BACKWARD_ARGS))
def test_autograd_arguments(fn):
    """The same error (or result) as torch, and on error no tensor changed."""
    same_outcome(fn, A)


# ---------------------------------------------------------------------------
# Graph misuse, as scenarios observed step by step in both libraries

def second_backward(l, op):
    x = l.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = op(x).sum()
    y.backward()
    return attempt(y.backward), x.grad


def backward_in_no_grad(l):
    x = l.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    with l.no_grad():
        y.backward()
    return x.grad, x.grad.requires_grad


def build_in_no_grad(l):
    x = l.tensor([1.0, 2.0], requires_grad=True)
    with l.no_grad():
        y = (x * x).sum()
    return y.requires_grad, attempt(y.backward)


def inference_mode_graph(l):
    x = l.tensor([1.0, 2.0], requires_grad=True)
    with l.inference_mode():
        y = (x * x).sum()
        w = l.ones(2)
    z = (x * w).sum()
    z.backward()
    return attempt(y.backward), x.grad, attempt(w.add_, 1)


def inplace_saved(l, how):
    x = l.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1
    y = a.sin() if how != "output" else a.exp()
    if how == "direct":
        a.add_(1)
    elif how == "view":
        a[0].mul_(2)
    elif how == "output":
        y.add_(1)
    elif how == "data":
        a.data.mul_(2)
    elif how == "detach":
        a.detach().mul_(2)
    elif how == "numpy":
        a.detach().numpy()[0] = 5.0
    elif how == "leaf in no_grad":
        y = (x * x).sin()
        with l.no_grad():
            x.mul_(2)
    return attempt(y.sum().backward), x.grad, x._version, a._version


def reentrant_backward(l):
    """backward() on an independent graph from inside a hook."""
    x = l.tensor([1.0, 2.0], requires_grad=True)
    w = l.tensor([3.0, 4.0], requires_grad=True)
    seen = []

    def hook(g):
        (w * w).sum().backward()
        seen.append(w.grad.clone())
        return g * 2
    a = x * 2
    a.register_hook(hook)
    a.sum().backward()
    return x.grad, w.grad, seen


def grad_inside_hook(l):
    x = l.tensor([1.0, 2.0], requires_grad=True)
    w = l.tensor([3.0, 4.0], requires_grad=True)
    got = []

    def hook(g):
        got.append(l.autograd.grad((w * w * w).sum(), w)[0])
        return g
    a = x.exp()
    a.register_hook(hook)
    a.sum().backward()
    return x.grad, got, w.grad


def same_graph_from_hook(l):
    """A hook calls backward on the graph that is being differentiated
    (retain_graph=False): the inner call frees the graph under the outer."""
    x = l.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    y = (a * a).sum()
    calls = []

    def hook(g):
        if not calls:
            calls.append(1)
            calls.append(attempt(y.backward))
        return g
    a.register_hook(hook)
    return attempt(y.backward), calls, x.grad


def hook_changes_things(l, what):
    x = l.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.grad = l.ones(3)
    a = x * 1
    b = a * a

    def hook(g):
        if what == "clear grad":
            x.grad = None
        elif what == "modify saved":
            with l.no_grad():
                a.mul_(5)
        elif what == "set data":
            x.data = l.zeros(3)
        return g
    b.register_hook(hook)
    return attempt((b * 2).sum().backward), x.grad


def hook_returns_grad_requiring_grad(l):
    x = l.tensor([1.0, 2.0], requires_grad=True)
    w = l.tensor([3.0, 4.0], requires_grad=True)
    a = x * 2
    a.register_hook(lambda g: g * w)
    a.sum().backward()
    return x.grad, x.grad.requires_grad, w.grad


def hook_returns_expanded(l):
    x = l.ones(2, 3, requires_grad=True)
    x.register_hook(lambda g: l.ones(1, 3).expand(2, 3))
    (x * 2).sum().backward()
    x.grad.add_(1)           # accumulating into it must not write through the expansion
    (x * 2).sum().backward()
    return x.grad


def retain_then_free(l):
    x = l.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return attempt(y.backward), x.grad


def detach_saved(l):
    x = l.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * a
    a.detach_()
    return attempt(b.sum().backward), x.grad


def requires_grad_off_mid_graph(l):
    x = l.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.requires_grad_(False)
    return attempt(y.backward), x.grad


def double_backward(l):
    x = l.tensor([2.0], requires_grad=True)
    g, = l.autograd.grad(x ** 3, x, create_graph=True)
    g.backward()
    first = x.grad.clone()
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    return first, g, x.grad.requires_grad


SCENARIOS = {
    "second backward, saved tensors": lambda l: second_backward(l, lambda x: x * x),
    "second backward, exp": lambda l: second_backward(l, lambda x: x.exp()),
    "second backward, add (nothing saved)": lambda l: second_backward(l, lambda x: x + 2),
    "second backward, mul by a Python number": lambda l: second_backward(l, lambda x: x * 2),
    "second backward, view": lambda l: second_backward(l, lambda x: x.view(3, 1)),
    "backward inside no_grad": backward_in_no_grad,
    "graph built in no_grad": build_in_no_grad,
    "inference mode": inference_mode_graph,
    "in-place on saved input": lambda l: inplace_saved(l, "direct"),
    "in-place on saved input through a view": lambda l: inplace_saved(l, "view"),
    "in-place on saved output": lambda l: inplace_saved(l, "output"),
    "in-place through .data (not detected)": lambda l: inplace_saved(l, "data"),
    "in-place through detach()": lambda l: inplace_saved(l, "detach"),
    "write through numpy() (not detected)": lambda l: inplace_saved(l, "numpy"),
    "in-place on leaf under no_grad": lambda l: inplace_saved(l, "leaf in no_grad"),
    "reentrant backward from a hook": reentrant_backward,
    "autograd.grad inside a hook": grad_inside_hook,
    "backward of the same graph from its hook": same_graph_from_hook,
    "hook clears the leaf's grad": lambda l: hook_changes_things(l, "clear grad"),
    "hook modifies a saved tensor in place": lambda l: hook_changes_things(l, "modify saved"),
    "hook sets .data": lambda l: hook_changes_things(l, "set data"),
    "hook returns a gradient requiring grad": hook_returns_grad_requiring_grad,
    "hook returns an expanded gradient": hook_returns_expanded,
    "retain_graph then free": retain_then_free,
    "detach_ of a saved tensor": detach_saved,
    "requires_grad_(False) on a leaf mid-graph": requires_grad_off_mid_graph,
    "double backward": double_backward,
}


@pytest.mark.parametrize("fn", cases(SCENARIOS))
def test_graph_misuse(fn):
    same_observations(fn)


# ---------------------------------------------------------------------------
# Failing backward passes: what every leaf holds afterwards, as in torch
# (no leaf of the failing path half-updated; torch's own order otherwise)

def failing_backward(l, how):
    w = l.ones(3, requires_grad=True)
    x = l.ones(3, requires_grad=True)
    v = l.ones(3, requires_grad=True)
    w.grad = l.full((3,), 0.5)

    class Raises(l.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("backward failed")

    class WrongShape(l.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return l.ones(2)

    class WrongType(l.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return 5

    if how == "version error, late":
        a = (w * 2).sum()
        h = x.exp()
        h.add_(1)
        y = a + h.sum() + (v * 3).sum()
    elif how == "version error, early":
        h = x.exp()
        h.add_(1)
        y = h.sum() + (w * 2).sum() + (v * 3).sum()
    elif how == "Function raises, late":
        y = (w * 2).sum() + Raises.apply(x).sum() + (v * 3).sum()
    elif how == "Function raises, early":
        f = Raises.apply(x).sum()
        y = (w * 2).sum() + f + (v * 3).sum()
    elif how == "Function returns wrong shape":
        y = (w * 2).sum() + WrongShape.apply(x).sum() + (v * 3).sum()
    elif how == "Function returns a non-tensor":
        y = (w * 2).sum() + WrongType.apply(x).sum() + (v * 3).sum()
    elif how == "tensor hook raises":
        h = x * 2
        h.register_hook(lambda g: 1 / 0)
        y = (w * 2).sum() + h.sum() + (v * 3).sum()
    elif how == "tensor hook returns wrong shape":
        h = x * 2
        h.register_hook(lambda g: l.ones(2))
        y = (w * 2).sum() + h.sum() + (v * 3).sum()
    elif how == "leaf hook raises (other input of the same node)":
        x.register_hook(lambda g: 1 / 0)
        y = (w * x).sum() + (v * 3).sum()
    elif how == "leaf hook raises (first input of the node)":
        w.register_hook(lambda g: 1 / 0)
        y = (w * x).sum() + (v * 3).sum()
    elif how == "second backward, partly freed":
        y0 = (w * x).sum()
        y0.backward()
        y = y0 + (v * 3).sum()
    err = attempt(y.backward)
    return err, w.grad, x.grad, v.grad, w._version, x._version


FAILING = ["version error, late", "version error, early", "Function raises, late", "Function raises, early",
           "Function returns wrong shape", "tensor hook raises", "tensor hook returns wrong shape",
           "second backward, partly freed",
           "Function returns a non-tensor", "leaf hook raises (other input of the same node)",
           "leaf hook raises (first input of the node)"]


@pytest.mark.parametrize("how", FAILING)
def test_failing_backward_leaves_grads_as_torch(how):
    same_observations(lambda l: failing_backward(l, how))


# ---------------------------------------------------------------------------
# Hooks returning bad values (tensor hooks, in-process: these do not crash)


def tensor_hook_returns(l, make):
    x = l.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x.exp()
    a.register_hook(lambda g: make(l))
    return attempt(a.sum().backward), x.grad


@pytest.mark.parametrize("make", cases({
    "wrong shape": lambda l: l.ones(7),
    "broadcastable shape": lambda l: l.ones(1),
    "float64": lambda l: l.ones(3, dtype=l.float64),
    "int64": lambda l: l.ones(3, dtype=l.int64),
    "None": lambda l: None,
    "non-contiguous": lambda l: l.ones(3, 2).t()[0],
    "int": lambda l: 5,
    "tuple": lambda l: (l.ones(3),),
    "list": lambda l: [l.ones(3)],
}))
def test_tensor_hook_returns(make):
    same_observations(lambda l: tensor_hook_returns(l, make))
