"""cgrad.func (grad, grad_and_value, vjp, jacrev, hessian, functional_call,
stack_module_state) against torch.func: values, the structure of results
(argnums, has_aux, pytrees), nesting, and error texts."""
import numpy as np
import pytest

import cgrad
import cgrad.func
from tests.helpers import requires_torch, torch


if torch is not None:
    import torch.func

RNG = np.random.default_rng(3)
A = RNG.standard_normal(4)
B = RNG.standard_normal(4)
W = RNG.standard_normal((3, 4))


def libs():
    return ((cgrad, cgrad.func), (torch, torch.func))


def same_tree(c, t, path="result"):
    if isinstance(t, (tuple, list)):
        assert type(c) is type(t) and len(c) == len(t), f"{path}: {type(c)} vs {type(t)}"
        for k, (ci, ti) in enumerate(zip(c, t)):
            same_tree(ci, ti, f"{path}[{k}]")
    elif isinstance(t, dict):
        assert isinstance(c, dict) and list(c) == list(t), path
        for k in t:
            same_tree(c[k], t[k], f"{path}[{k!r}]")
    elif isinstance(t, torch.Tensor):
        assert isinstance(c, cgrad.Tensor), f"{path}: {type(c)}"
        assert tuple(c.shape) == tuple(t.shape), f"{path}: {tuple(c.shape)} vs {tuple(t.shape)}"
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], path
        assert c.requires_grad == t.requires_grad, f"{path}: requires_grad"
        tol = 1e-9 if t.dtype == torch.float64 else 1e-5
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol * 1e-2, err_msg=path)
    else:
        assert c == t, path


def run(fn):
    return [fn(lib, F) for lib, F in libs()]


def errors_alike(fn):
    errs = []
    for lib, F in libs():
        with pytest.raises(Exception) as info:
            fn(lib, F)
        errs.append(info.value)
    c, t = errs
    assert type(c) is type(t), f"{type(c).__name__}: {c} / {type(t).__name__}: {t}"
    assert str(c) == str(t).replace("torch.", "cgrad."), f"{c!s} / {t!s}"


def loss(x, y):
    return (x.sin() * y).sum() + (x ** 2).sum()


@requires_torch
def test_grad_argnums():
    same_tree(*run(lambda lib, F: F.grad(loss)(lib.tensor(A), lib.tensor(B))))
    same_tree(*run(lambda lib, F: F.grad(loss, argnums=1)(lib.tensor(A), lib.tensor(B))))
    same_tree(*run(lambda lib, F: F.grad(loss, argnums=(0, 1))(lib.tensor(A), lib.tensor(B))))
    same_tree(*run(lambda lib, F: F.grad(loss, argnums=-1)(lib.tensor(A), lib.tensor(B))))


@requires_torch
def test_grad_has_aux_and_value():
    f = lambda x, y: (loss(x, y), {"sq": x * x, "pair": (x.sum(), y)})  # noqa: E731
    same_tree(*run(lambda lib, F: F.grad(f, has_aux=True)(lib.tensor(A), lib.tensor(B))))
    same_tree(*run(lambda lib, F: F.grad_and_value(f, has_aux=True)(lib.tensor(A), lib.tensor(B))))
    same_tree(*run(lambda lib, F: F.grad_and_value(loss, argnums=(1, 0))(lib.tensor(A), lib.tensor(B))))


@requires_torch
def test_grad_pytree_argument_and_kwargs():
    def f(params, x, scale=1.0):
        return ((params["w"] @ x).tanh().sum() + params["b"].sum()) * scale
    same_tree(*run(lambda lib, F: F.grad(f)({"w": lib.tensor(W), "b": lib.tensor(B[:3])}, lib.tensor(A),
                                             scale=2.0)))


@requires_torch
def test_grad_unused_input_gives_zeros():
    same_tree(*run(lambda lib, F: F.grad(lambda x, y: (x * 2).sum(), argnums=(0, 1))(lib.tensor(A),
                                                                                  lib.tensor(B))))


@requires_torch
def test_nested_grad_and_outer_autograd():
    f = lambda x: (x ** 3).sin().sum()  # noqa: E731
    same_tree(*run(lambda lib, F: F.grad(lambda x: F.grad(f)(x).sum())(lib.tensor(A))))
    res = []
    for lib, F in libs():
        x = lib.tensor(A, requires_grad=True)
        g = F.grad(f)(x)
        assert g.requires_grad
        g.sum().backward()
        res.append(x.grad)
    same_tree(*res)


@requires_torch
def test_grad_errors():
    errors_alike(lambda lib, F: F.grad(lambda x: x * 2)(lib.tensor(A)))
    errors_alike(lambda lib, F: F.grad(lambda x: 3.0)(lib.tensor(A)))
    errors_alike(lambda lib, F: F.grad(lambda x: x.sum(), has_aux=True)(lib.tensor(A)))
    errors_alike(lambda lib, F: F.grad(lambda x: (x.sum(), {"n": 3}), has_aux=True)(lib.tensor(A)))
    errors_alike(lambda lib, F: F.grad(loss, argnums=2)(lib.tensor(A), lib.tensor(B)))
    errors_alike(lambda lib, F: F.grad(loss, argnums=(0, 0))(lib.tensor(A), lib.tensor(B)))
    errors_alike(lambda lib, F: F.grad(loss, argnums=())(lib.tensor(A), lib.tensor(B)))
    errors_alike(lambda lib, F: F.grad(loss, argnums=[0])(lib.tensor(A), lib.tensor(B)))
    errors_alike(lambda lib, F: F.grad(loss, argnums=1.0)(lib.tensor(A), lib.tensor(B)))
    errors_alike(lambda lib, F: F.grad(loss)(2.0, lib.tensor(B)))


@requires_torch
def test_vjp():
    def f(x, y):
        return x.exp() * y, (x - y).sum()
    res = []
    for lib, F in libs():
        out, fn = F.vjp(f, lib.tensor(A), lib.tensor(B))
        res.append((out, fn((lib.tensor(B), lib.tensor(2.0)))))
    same_tree(*res)
    res = []
    for lib, F in libs():
        out, fn, aux = F.vjp(lambda x: (x.tanh(), x.cos()), lib.tensor(A), has_aux=True)
        res.append((out, fn(lib.ones(4, dtype=lib.float64)), aux))
    same_tree(*res)


@requires_torch
def test_vjp_errors():
    errors_alike(lambda lib, F: F.vjp(lambda x: x.sum(), lib.tensor(A), has_aux=True))
    errors_alike(lambda lib, F: F.vjp(lambda x: (x > 0), lib.tensor(A)))
    errors_alike(lambda lib, F: F.vjp(lambda x: 3, lib.tensor(A)))
    errors_alike(lambda lib, F: F.vjp(lambda x: x * 2, lib.tensor(A))[1]((lib.ones(4),)))


@requires_torch
@pytest.mark.parametrize("chunk_size", [None, 1, 3, 100])
def test_jacrev(chunk_size):
    net = lambda w, x: (w @ x).tanh()  # noqa: E731
    same_tree(*run(lambda lib, F: F.jacrev(net, chunk_size=chunk_size)(lib.tensor(W), lib.tensor(A))))
    same_tree(*run(lambda lib, F: F.jacrev(net, argnums=(0, 1), chunk_size=chunk_size)(lib.tensor(W),
                                                                                        lib.tensor(A))))
    same_tree(*run(lambda lib, F: F.jacrev(lambda x, y: {"p": x * y, "s": (x + y).sum()}, argnums=1,
                                           chunk_size=chunk_size)(lib.tensor(A), lib.tensor(B))))


@requires_torch
def test_jacrev_has_aux_and_errors():
    same_tree(*run(lambda lib, F: F.jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(lib.tensor(A))))
    errors_alike(lambda lib, F: F.jacrev(lambda x: x.sin(), chunk_size=0)(lib.tensor(A)))
    errors_alike(lambda lib, F: F.jacrev(lambda x: x.sin(), argnums=3)(lib.tensor(A)))


@requires_torch
def test_hessian():
    f = lambda x: (x ** 3).sum() + x.sin().prod()  # noqa: E731
    same_tree(*run(lambda lib, F: F.hessian(f)(lib.tensor(A))))
    g = lambda x, y: (x * y.exp()).sum() + (x ** 2 * y).sum()  # noqa: E731
    same_tree(*run(lambda lib, F: F.hessian(g, argnums=(0, 1))(lib.tensor(A), lib.tensor(B))))
    same_tree(*run(lambda lib, F: F.hessian(g, argnums=1)(lib.tensor(A), lib.tensor(B))))


def test_vmap_is_exported():
    # the behaviour is tested in tests/func/
    assert cgrad.func.vmap is cgrad.vmap


def make_module(lib):
    lib.manual_seed(0)
    m = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Tanh(), lib.nn.Linear(3, 2))
    with lib.no_grad():
        for k, p in enumerate(m.parameters()):
            p.copy_(lib.tensor(np.random.default_rng(k).standard_normal(tuple(p.shape)).astype(np.float32)))
    return m


@requires_torch
def test_functional_call():
    res = []
    for lib, F in libs():
        m = make_module(lib)
        x = lib.tensor(A.astype(np.float32))
        params = {k: v.detach() * 2 for k, v in m.named_parameters()}
        out = F.functional_call(m, params, (x,))
        again = m(x)
        grads = F.grad(lambda p: F.functional_call(m, p, x).sum())(params)
        partial = F.functional_call(m, [{"0.weight": params["0.weight"]}, {"2.bias": params["2.bias"]}], x)
        res.append((out, again, grads, partial))
    same_tree(*res)


@requires_torch
def test_functional_call_errors():
    errors_alike(lambda lib, F: F.functional_call(make_module(lib), {"nope": lib.ones(1)}, lib.ones(4),
                                                  strict=True))
    errors_alike(lambda lib, F: F.functional_call(make_module(lib), [{"0.bias": lib.ones(3)},
                                                                     {"0.bias": lib.ones(3)}], lib.ones(4)))
    errors_alike(lambda lib, F: F.functional_call(make_module(lib), 3, lib.ones(4)))
    errors_alike(lambda lib, F: F.functional_call(make_module(lib), [{"a": 1}, 2], lib.ones(4)))


@requires_torch
def test_functional_call_tied_weights():
    res = []
    for lib, F in libs():
        m = lib.nn.Module()
        m.a = lib.nn.Linear(2, 2, bias=False)
        m.b = lib.nn.Linear(2, 2, bias=False)
        with lib.no_grad():
            m.a.weight.copy_(lib.tensor([[0.5, -1.0], [2.0, 0.25]]))
        m.b.weight = m.a.weight
        m.forward = lambda x: m.b(m.a(x))
        w = lib.ones(2, 2)
        tied = F.functional_call(m, {"a.weight": w}, (lib.ones(2),))
        untied = F.functional_call(m, {"a.weight": w}, (lib.ones(2),), tie_weights=False)
        res.append((tied.detach(), untied.detach()))
    same_tree(*res)


@requires_torch
def test_stack_module_state():
    res = []
    for lib, F in libs():
        models = [make_module(lib) for _ in range(3)]
        params, buffers = F.stack_module_state(models)
        res.append((params, buffers))
    same_tree(*res)
    errors_alike(lambda lib, F: F.stack_module_state([]))


def test_gradcheck_through_transforms():
    x = cgrad.tensor(A[:3], requires_grad=True)
    f = lambda x: (x ** 3).sin().sum()  # noqa: E731
    assert cgrad.autograd.gradcheck(cgrad.func.grad(f), (x,))
    assert cgrad.autograd.gradcheck(cgrad.func.jacrev(lambda x: x.tanh() * x.sum()), (x,))
    assert cgrad.autograd.gradcheck(cgrad.func.hessian(f), (x,))
