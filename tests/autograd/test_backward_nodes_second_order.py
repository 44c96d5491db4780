"""The nodes a create_graph backward records for its own backward ops
(pool, padding, embedding and nll_loss backward, select/slice backward, the
view scatter of a view read after an in-place write on its base):

- float64 gradgradcheck of each op (the node is differentiated) and of its
  gradient function (third order: the node's own backward differentiated);
- forward-over-reverse through each node by its explicit formula
  (src/cgrad/forward_rules_backward_nodes.pxi), with no transpose-of-VJP
  call: the tangent of the gradient as a function of the cotangent, checked
  against finite differences, the VJP (<J t, u> == <t, J^T u>) and
  torch.autograd.forward_ad where installed (tests/autograd/test_jvp_ops.py's
  check_tangent);
- hvp by forward-over-reverse against torch.func."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck

from fwd_helpers import torch
from test_jvp_explicit import transpose_calls  # noqa: F401 (fixture)
from test_jvp_ops import check_tangent

rng = np.random.default_rng(21)


def R(*shape):
    return rng.uniform(-1.0, 1.0, shape)


def F(L):
    return L.nn.functional


def _written_view(L, x):
    # the view of a base written in place is read back through AsStridedBackward0,
    # whose backward records AsStridedScatterBackward0
    y = x.clone()
    v = y[1:]
    y.mul_(2.0)
    return v * 1.0


# name, op(L, x), x, the second-order node its gradient records
OPS = [
    ("avg_pool2d", lambda L, x: F(L).avg_pool2d(x, 2), R(1, 2, 4, 4), "AvgPool2DBackwardBackward0"),
    ("max_pool2d", lambda L, x: F(L).max_pool2d(x, 2), R(1, 2, 4, 4), "MaxPool2DWithIndicesBackwardBackward0"),
    ("adaptive_avg_pool2d", lambda L, x: F(L).adaptive_avg_pool2d(x, (2, 3)), R(1, 2, 5, 6),
     "AdaptiveAvgPool2DBackwardBackward0"),
    ("adaptive_max_pool2d", lambda L, x: F(L).adaptive_max_pool2d(x, (2, 3)), R(1, 2, 5, 6),
     "AdaptiveMaxPool2DBackwardBackward0"),
    ("reflection_pad1d", lambda L, x: F(L).pad(x, (2, 1), mode="reflect"), R(1, 2, 5),
     "ReflectionPad1DBackwardBackward0"),
    ("reflection_pad2d", lambda L, x: F(L).pad(x, (2, 1, 1, 1), mode="reflect"), R(1, 2, 4, 5),
     "ReflectionPad2DBackwardBackward0"),
    ("reflection_pad3d", lambda L, x: F(L).pad(x, (1, 1, 1, 0, 0, 1), mode="reflect"), R(1, 1, 3, 3, 3),
     "ReflectionPad3DBackwardBackward0"),
    ("replication_pad1d", lambda L, x: F(L).pad(x, (2, 1), mode="replicate"), R(1, 2, 5),
     "ReplicationPad1DBackwardBackward0"),
    ("replication_pad2d", lambda L, x: F(L).pad(x, (2, 1, 1, 1), mode="replicate"), R(1, 2, 4, 5),
     "ReplicationPad2DBackwardBackward0"),
    ("replication_pad3d", lambda L, x: F(L).pad(x, (1, 1, 1, 0, 0, 1), mode="replicate"), R(1, 1, 3, 3, 3),
     "ReplicationPad3DBackwardBackward0"),
    ("embedding", lambda L, w: F(L).embedding(L.tensor([[0, 2], [2, 3]]), w), R(4, 3),
     "EmbeddingDenseBackwardBackward0"),
    ("nll_loss", lambda L, x: F(L).nll_loss(x, L.tensor([0, 2, 1]), weight=L.tensor([1.0, 2.0, 0.5],
                                                                                   dtype=L.float64)),
     R(3, 3), "NllLossBackwardBackward0"),
    ("nll_loss_sum", lambda L, x: F(L).nll_loss(x, L.tensor([0, 2, 1]), reduction="sum"), R(3, 3),
     "NllLossBackwardBackward0"),
    ("nll_loss2d", lambda L, x: F(L).nll_loss(x, L.tensor([[[0, 2], [1, 1]]])), R(1, 3, 2, 2),
     "NllLoss2DBackwardBackward0"),
    ("select", lambda L, x: x.select(1, 2), R(3, 4), "SelectBackwardBackward0"),
    ("slice", lambda L, x: x[:, 1:4:2], R(3, 5), "SliceBackwardBackward0"),
    ("as_strided_scatter", _written_view, R(3, 4), "AsStridedScatterBackward0"),
]


def _leaf(lib, x):
    return lib.tensor(x).requires_grad_()


@pytest.mark.parametrize("name,op,x,node", OPS, ids=[o[0] for o in OPS])
def test_gradgradcheck_and_third_order(name, op, x, node):
    x = _leaf(cgrad, x)
    assert gradcheck(lambda a: op(cgrad, a), [x])
    assert gradgradcheck(lambda a: op(cgrad, a), [x])
    u = cgrad.tensor(np.random.default_rng(1).standard_normal(tuple(op(cgrad, x).shape)))

    def gradient(a):
        return cgrad.autograd.grad(op(cgrad, a), a, u, create_graph=True)[0]
    assert gradgradcheck(gradient, [x])


@pytest.mark.parametrize("name,op,x,node", OPS, ids=[o[0] for o in OPS])
def test_gradient_records_the_node(name, op, x, node):
    x = _leaf(cgrad, x)
    out = op(cgrad, x)
    u = cgrad.ones(out.shape, dtype=cgrad.float64, requires_grad=True)
    g, = cgrad.autograd.grad(out, x, u, create_graph=True)
    assert type(g.grad_fn).__name__ == node or node in _node_names(g.grad_fn)


def _node_names(fn):
    names, stack, seen = set(), [fn], set()
    while stack:            # an explicit stack: no recursion over the graph
        f = stack.pop()
        if f is None or id(f) in seen:
            continue
        seen.add(id(f))
        names.add(type(f).__name__)
        stack.extend(n for n, _ in f.next_functions)
    return names


@pytest.mark.parametrize("name,op,x,node", OPS, ids=[o[0] for o in OPS])
def test_forward_over_reverse_by_formula(name, op, x, node, transpose_calls):
    """The tangent of u -> J(x)^T u (the node's op, linear in u)."""
    shape = tuple(op(cgrad, cgrad.tensor(x)).shape)

    def gradient_of_cotangent(L, u):
        leaf = _leaf(L, x)
        return L.autograd.grad(op(L, leaf), leaf, u, create_graph=True)[0]
    check_tangent(gradient_of_cotangent, [np.random.default_rng(2).standard_normal(shape)], [0])
    assert node not in transpose_calls, f"{node} served by the transpose of its VJP"


@pytest.mark.parametrize("name,op,x,node", [o for o in OPS if o[0] != "as_strided_scatter"],
                         ids=[o[0] for o in OPS if o[0] != "as_strided_scatter"])
def test_hvp_forward_over_reverse(name, op, x, node):
    """jvp(grad(f)) of f = sum(op(x) ** 3): the Hessian-vector product
    through the second-order node, against torch.func and reverse-over-reverse."""
    v = np.random.default_rng(3).standard_normal(x.shape)

    def f(L):
        return lambda a: (op(L, a) ** 3).sum()
    _, hvp = cgrad.func.jvp(cgrad.func.grad(f(cgrad)), (cgrad.tensor(x),), (cgrad.tensor(v),))
    leaf = _leaf(cgrad, x)
    g, = cgrad.autograd.grad(f(cgrad)(leaf), leaf, create_graph=True)
    expected, = cgrad.autograd.grad(g, leaf, cgrad.tensor(v))
    np.testing.assert_allclose(hvp.numpy(), expected.numpy(), rtol=1e-9, atol=1e-12)
    if torch is not None:
        _, thvp = torch.func.jvp(torch.func.grad(f(torch)), (torch.tensor(x),), (torch.tensor(v),))
        np.testing.assert_allclose(hvp.numpy(), thvp.numpy(), rtol=1e-9, atol=1e-12)
