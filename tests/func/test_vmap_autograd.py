"""Reverse mode with vmap, against torch.func and loops: vmap(grad) per-sample
gradients (batched and shared arguments), grad(vmap), vmap(vjp) with
batched cotangents, vmap(jacrev), vmap(hessian), jacrev and hessian through
the vmapped rows (and their fallback for functions vmap cannot run),
autograd.functional.jacobian(vectorize=True), and
autograd.grad(is_grads_batched=True)."""
import numpy as np
import pytest

import cgrad
from cgrad.func._batched import BatchedTensor
from helpers import requires_torch, torch
from vmap_check import assert_same, run_quiet

rng = np.random.default_rng(3)
X = rng.standard_normal((4, 5))
W = rng.standard_normal((3, 5))
Z = rng.standard_normal(6)


def both(make, *arrays):
    out_c = make(cgrad)(*[cgrad.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    out_t = make(torch)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    return out_c, out_t


def flat(out):
    if isinstance(out, dict):
        return [out[k] for k in sorted(out)]
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in flat(x)]
    return [out]


def check_both(make, *arrays, atol=1e-6):
    out_c, out_t = both(make, *arrays)
    for a, b in zip(flat(out_c), flat(out_t), strict=True):
        assert_same(a, b, "cgrad vs torch", atol)
    return out_c


@requires_torch
def test_per_sample_grads_of_shared_and_batched_arguments():
    def make(L):
        def loss(w, x):
            return (L.tanh(L.nn.functional.linear(x, w)) ** 2).sum()
        return L.func.vmap(L.func.grad(loss, argnums=(0, 1)), in_dims=(None, 0))
    check_both(make, W, X)


@requires_torch
def test_grad_of_vmap():
    check_both(lambda L: L.func.grad(lambda x: L.func.vmap(lambda r: (r.sin() * r).sum())(x).pow(2).sum()), X)


@requires_torch
def test_vmap_of_vjp_with_batched_cotangents():
    def make(L):
        def f(x):
            _, vjp_fn = L.func.vjp(lambda v: (v.exp() * v).cumsum(0), x)
            return L.func.vmap(vjp_fn)(L.eye(5, dtype=x.dtype))
        return f
    check_both(make, X[0])


@requires_torch
def test_vmap_of_jacrev_and_hessian():
    check_both(lambda L: L.func.vmap(L.func.jacrev(lambda x: x.sin() * x.sum())), X)
    check_both(lambda L: L.func.vmap(L.func.hessian(lambda x: (x ** 3).sum() + x.prod())), X)


@requires_torch
def test_vmap_vmap_grad():
    def make(L):
        g = L.func.grad(lambda a, b: (a * b).tanh().sum())
        return L.func.vmap(L.func.vmap(g, in_dims=(0, None)), in_dims=(None, 0))
    check_both(make, X, W)


@requires_torch
def test_jacrev_runs_the_function_once_and_batches_the_backward():
    """Outside other transforms jacrev runs func once, as torch.func's does,
    and takes every row from its graph in one batched backward pass; under
    vmap, func sees the batched tensors."""
    seen = []

    def make(L):
        w = L.tensor(W)

        def net(v):
            seen.append(type(v))
            return (w @ v).tanh()
        return L.func.jacrev(net)
    out = check_both(make, X[0])
    assert seen == [cgrad.Tensor, torch.Tensor]
    assert tuple(out.shape) == (3, 5)
    seen.clear()
    jac = make(cgrad)
    calls = []
    from cgrad.autograd import _batched_grad
    real = _batched_grad._one_pass
    _batched_grad._one_pass = lambda *a: calls.append(1) or real(*a)
    try:
        jac(cgrad.tensor(X[1]))
    finally:
        _batched_grad._one_pass = real
    assert seen == [cgrad.Tensor] and calls == [1]
    seen.clear()
    run_quiet(lambda: cgrad.func.vmap(jac)(cgrad.tensor(X[:2])))
    assert BatchedTensor in seen


@requires_torch
def test_jacrev_falls_back_for_data_dependent_control_flow():
    def make(L):
        def f(x):
            return x.sin() if float(x.sum()) > 0 else x.cos()
        return L.func.jacrev(f)
    check_both(make, X[0])
    check_both(make, -np.abs(X[0]))


@requires_torch
def test_jacrev_argnums_tuple_outputs_and_has_aux():
    def make(L):
        def f(a, b):
            return (a * b.sum(), {"p": a.exp()}), a.sum()
        return L.func.jacrev(f, argnums=(0, 1), has_aux=True)
    check_both(make, X[0], X[1])


@requires_torch
def test_hessian():
    check_both(lambda L: L.func.hessian(lambda v: ((L.tensor(W[:, :3]) @ v[:3]).tanh() ** 2).sum() + (v ** 3).sum()),
               Z)


@requires_torch
@pytest.mark.parametrize("create_graph", [False, True])
def test_autograd_functional_jacobian_vectorize(create_graph):
    def make(L):
        def f(a, b):
            return (a @ b.T).tanh(), a.sum(0) * 2
        return lambda a, b: L.autograd.functional.jacobian(f, (a, b), create_graph=create_graph, vectorize=True)
    out = check_both(make, X, W)
    assert all(j.requires_grad == create_graph for j in flat(out))
    # against the non-vectorized loop
    ref = cgrad.autograd.functional.jacobian(lambda a, b: ((a @ b.T).tanh(), a.sum(0) * 2),
                                             (cgrad.tensor(X), cgrad.tensor(W)))
    for a, b in zip(flat(out), flat(ref)):
        assert_same(a, b, "vectorize vs loop")


@requires_torch
def test_autograd_functional_hessian_vectorize():
    check_both(lambda L: lambda z: L.autograd.functional.hessian(lambda v: (v.sin() * v).sum(), z,
                                                                  vectorize=True), Z)


@requires_torch
def test_is_grads_batched():
    def make(L):
        def f(x, g):
            x = x.detach().requires_grad_()
            y = (x.tanh() * 3).cumsum(0)
            return L.autograd.grad(y, x, g, is_grads_batched=True)
        return f
    check_both(make, X[0], rng.standard_normal((7, 5)))


@requires_torch
def test_is_grads_batched_errors():
    def make(L):
        def f(x, g):
            x = x.detach().requires_grad_()
            return L.autograd.grad(x * 2, x, g, is_grads_batched=True)
        return f
    with pytest.raises(RuntimeError) as want:
        make(torch)(torch.tensor(X[0]), torch.ones(3, 4))
    with pytest.raises(RuntimeError) as got:
        make(cgrad)(cgrad.tensor(X[0]), cgrad.ones(3, 4))
    assert str(got.value) == str(want.value).replace("torch.", "cgrad.")


def test_vmap_grad_uses_one_engine_pass():
    # the per-sample gradients are batched kernels: no fallback warning
    w = cgrad.tensor(W)
    out = run_quiet(cgrad.func.vmap(cgrad.func.grad(lambda x: (w @ x).relu().sum())), cgrad.tensor(X))
    expected = cgrad.stack([cgrad.func.grad(lambda x: (w @ x).relu().sum())(cgrad.tensor(r)) for r in X])
    assert_same(out, expected, "vmap(grad) vs loop")


@requires_torch
def test_backward_through_vmap_outputs():
    def make(L):
        def f(x, w):
            x = x.detach().requires_grad_()
            w = w.detach().requires_grad_()
            y = L.func.vmap(lambda r: (w @ r).tanh(), in_dims=0)(x)
            (y ** 2).sum().backward()
            return x.grad, w.grad
        return f
    check_both(make, X, W)


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "hessian", "vjp", "jvp"])
def test_transform_of_namespace_function_under_vmap(transform):
    """vmap(jacrev(cgrad.sin)): the transform holds cgrad.sin itself (taken
    before vmap installed its wrappers) and must still batch it."""
    x = rng.standard_normal((4, 3))

    def make(lib):
        F = lib.func
        return {"grad": lambda v: F.grad(lib.sum)(v), "jacrev": F.jacrev(lib.sin), "jacfwd": F.jacfwd(lib.sin),
                "hessian": lambda v: F.hessian(lib.sum)(v),
                "vjp": lambda v: F.vjp(lib.sin, v)[1](lib.ones_like(v))[0],
                "jvp": lambda v: F.jvp(lib.sin, (v,), (lib.ones_like(v),))[1]}[transform]
    out = run_quiet(cgrad.func.vmap(make(cgrad)), cgrad.tensor(x))
    expected = cgrad.stack([make(cgrad)(cgrad.tensor(row)) for row in x])
    assert_same(out, expected, "vmap vs loop")
    if torch is not None:
        assert_same(out, torch.func.vmap(make(torch))(torch.tensor(x)), "vmap vs torch.func.vmap")
