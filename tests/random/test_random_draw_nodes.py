"""The history of draws from tensor parameters, as PyTorch records it:
bernoulli(p) BernoulliBackward0, normal(mean, std) NormalBackward1/2/3,
poisson(rates) PoissonBackward0, each giving its parameters zero gradients
(in their own shapes) and zero tangents; bernoulli(input, p) the
NotImplemented node whose backward and forward AD raise; out= refused with
history; none recorded under no_grad. The grad_fn names, edges, gradients
and errors are asserted as torch 2.13 gives them (and compared with torch
where installed)."""
import numpy as np
import pytest

import cgrad
import cgrad.autograd.forward_ad as fwAD

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None


def _params(lib):
    p = lib.full((2, 3), 0.3, dtype=lib.float64, requires_grad=True)
    mean = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    std = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
    rates = lib.full((3,), 2.0, dtype=lib.float64, requires_grad=True)
    return p, mean, std, rates


DRAWS = [
    # name, draw(lib, p, mean, std, rates), grad_fn name, the parameters it has edges to
    ("bernoulli", lambda L, p, m, s, r: L.bernoulli(p), "BernoulliBackward0", ("p",)),
    ("bernoulli_method", lambda L, p, m, s, r: p.bernoulli(), "BernoulliBackward0", ("p",)),
    ("normal_tensor_mean", lambda L, p, m, s, r: L.normal(m, 2.0), "NormalBackward1", ("mean",)),
    ("normal_tensor_std", lambda L, p, m, s, r: L.normal(1.0, s), "NormalBackward2", ("std",)),
    ("normal_both_broadcast", lambda L, p, m, s, r: L.normal(m, s), "NormalBackward3", ("mean", "std")),
    ("normal_std_only_requires_grad", lambda L, p, m, s, r: L.normal(m.detach(), s), "NormalBackward3",
     ("std",)),
    ("poisson", lambda L, p, m, s, r: L.poisson(r * 2), "PoissonBackward0", ("rates",)),
]


def _grads(lib, draw):
    p, mean, std, rates = _params(lib)
    out = draw(lib, p, mean, std, rates)
    out.sum().backward()
    return out, {"p": p.grad, "mean": mean.grad, "std": std.grad, "rates": rates.grad}


@pytest.mark.parametrize("name,draw,node,with_grad", DRAWS, ids=[d[0] for d in DRAWS])
def test_draw_records_node_with_zero_gradients(name, draw, node, with_grad):
    out, grads = _grads(cgrad, draw)
    assert type(out.grad_fn).__name__ == node and out.grad_fn.name() == node
    assert out.requires_grad
    for key, g in grads.items():
        if key in with_grad:
            assert g is not None, key
            assert g.dtype == cgrad.float64 and (g == 0).all(), key
        else:
            assert g is None, key
    params_shapes = {"p": (2, 3), "mean": (3,), "std": (2, 3), "rates": (3,)}
    for key in with_grad:
        assert tuple(grads[key].shape) == params_shapes[key]
    if torch is not None:
        tout, tgrads = _grads(torch, draw)
        assert tout.grad_fn.name() == out.grad_fn.name()
        assert [type(f).__name__ if f is not None else None for f, _ in out.grad_fn.next_functions] == [
            type(f).__name__ if f is not None else None for f, _ in tout.grad_fn.next_functions]
        for key in grads:
            assert (grads[key] is None) == (tgrads[key] is None), key
            if grads[key] is not None:
                np.testing.assert_array_equal(grads[key].numpy(), tgrads[key].numpy())


def test_normal_both_edges_as_torch():
    """A parameter that needs no grad is a (None, 0) edge, as in PyTorch."""
    _, mean, std, _ = _params(cgrad)
    out = cgrad.normal(mean.detach(), std)
    edges = out.grad_fn.next_functions
    assert edges[0] == (None, 0) and type(edges[1][0]).__name__ == "AccumulateGrad"


@pytest.mark.parametrize("call", [lambda L, p: L.bernoulli(p, 0.5), lambda L, p: p.bernoulli(0.3),
                                  lambda L, p: L.bernoulli(p, p=0.2)])
def test_bernoulli_with_p_has_no_derivative(call):
    p = cgrad.full((3,), 0.3, dtype=cgrad.float64, requires_grad=True)
    out = call(cgrad, p)
    assert type(out.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="^derivative for aten::bernoulli is not implemented$"):
        out.sum().backward()
    with fwAD.dual_level():
        dual = fwAD.make_dual(p.detach(), cgrad.ones(3, dtype=cgrad.float64))
        with pytest.raises(NotImplementedError,
                           match=r"^Trying to use forward AD with aten::bernoulli that does not support it\.$"):
            call(cgrad, dual)


def test_draw_tangents_are_zero():
    p = cgrad.full((3,), 0.3, dtype=cgrad.float64)
    with fwAD.dual_level():
        dual = fwAD.make_dual(p, cgrad.ones(3, dtype=cgrad.float64))
        for out in (cgrad.bernoulli(dual), cgrad.normal(dual, 1.0), cgrad.normal(0.0, dual),
                    cgrad.normal(dual, dual), cgrad.poisson(dual)):
            tangent = fwAD.unpack_dual(out).tangent
            assert tangent is not None and tangent.shape == (3,) and (tangent == 0).all()


def test_no_history_without_grad():
    p, mean, std, rates = _params(cgrad)
    with cgrad.no_grad():
        for out in (cgrad.bernoulli(p), cgrad.normal(mean, std), cgrad.poisson(rates)):
            assert out.grad_fn is None and not out.requires_grad
    for out in (cgrad.bernoulli(p.detach()), cgrad.normal(mean.detach(), 1.0), cgrad.poisson(rates.detach())):
        assert out.grad_fn is None and not out.requires_grad


@pytest.mark.parametrize("fname,call", [
    ("normal", lambda p, o: cgrad.normal(p, 1.0, out=o)),
    ("bernoulli", lambda p, o: cgrad.bernoulli(p, out=o)),
])
def test_out_refused_with_history(fname, call):
    p = cgrad.full((3,), 0.5, dtype=cgrad.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"^{fname}\\(\\): functions with out=... arguments don't support "
                                           "automatic differentiation, but one of the arguments requires grad.$"):
        call(p, cgrad.empty(3, dtype=cgrad.float64))


def test_second_order_through_draw():
    """d(draw * mean)/dmean is the draw (its own gradient is zero); the
    gradient of that gradient is zeros, through the draw's node."""
    mean = cgrad.full((3,), 0.5, dtype=cgrad.float64, requires_grad=True)
    draw = cgrad.normal(mean, 1.0)
    g, = cgrad.autograd.grad((draw * mean).sum(), mean, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), draw.detach().numpy())
    gg, = cgrad.autograd.grad(g.sum(), mean)
    np.testing.assert_array_equal(gg.numpy(), np.zeros(3))
