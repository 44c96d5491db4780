"""The in-place view-metadata ops (transpose_, t_, swapaxes_, swapdims_,
squeeze_, unsqueeze_, as_strided_) against torch: new sizes and strides on
the same object, one version bump, the grad_fn of the in-place form (on
non-leaves and on views, whose base keeps its history), torch's refusals,
gradients, and float64 gradcheck/gradgradcheck."""
import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from tests.helpers import requires_torch, torch

OPS = [("transpose_", (0, 1)), ("t_", ()), ("swapaxes_", (0, 1)), ("swapdims_", (1, 0)), ("squeeze_", ()),
       ("unsqueeze_", (1,)), ("unsqueeze_", (-1,)), ("as_strided_", ((3, 2), (1, 3))),
       ("as_strided_", ((2, 2), (1, 2), 1))]
SQUEEZE_FORMS = [(), (0,), ((0, 2),), (2,), (-2,)]


def geometry(t):
    return tuple(t.shape), tuple(t.stride()), t.storage_offset()


def node_name(t):
    return None if t.grad_fn is None else t.grad_fn.name()


def run(lib, name, args, kind, x_np):
    """The op on a tensor of kind 'plain', 'nonleaf', 'view', 'nograd_leaf';
    returns (returned, tensor, base-or-None)."""
    if kind == "plain":
        x = lib.tensor(x_np)
        return getattr(x, name)(*args), x, None
    if kind == "nonleaf":
        x = lib.tensor(x_np, requires_grad=True) * 1
        return getattr(x, name)(*args), x, None
    if kind == "view":
        base = lib.tensor(x_np, requires_grad=True) * 1
        v = base[:]
        return getattr(v, name)(*args), v, base
    x = lib.tensor(x_np, requires_grad=True)
    with lib.no_grad():
        return getattr(x, name)(*args), x, None


@requires_torch
@pytest.mark.parametrize("kind", ["plain", "nonleaf", "view", "nograd_leaf"])
@pytest.mark.parametrize("name,args", OPS)
def test_matches_torch(name, args, kind):
    x_np = np.arange(6.0).reshape(2, 3)
    rc, xc, bc = run(cgrad, name, args, kind, x_np)
    rt, xt, bt = run(torch, name, args, kind, x_np)
    assert rc is xc and rt is xt
    assert geometry(xc) == geometry(xt)
    assert xc._version == xt._version
    assert node_name(xc) == node_name(xt)
    assert xc.is_leaf == xt.is_leaf and xc.requires_grad == xt.requires_grad
    assert xc._is_view() == xt._is_view()
    np.testing.assert_array_equal(xc.detach().numpy(), xt.detach().numpy())
    if bc is not None:
        assert xc._base is bc and xt._base is bt
        assert node_name(bc) == node_name(bt) == "CloneBackward0" or node_name(bc) == node_name(bt)
    if xt.grad_fn is not None:
        assert [node_name_of(f) for f, _ in xc.grad_fn.next_functions] == \
            [node_name_of(f) for f, _ in xt.grad_fn.next_functions]


def node_name_of(fn):
    return None if fn is None else fn.name()


@requires_torch
@pytest.mark.parametrize("args", SQUEEZE_FORMS)
def test_squeeze_forms_match_torch(args):
    x_np = np.zeros((1, 2, 1, 3))
    res = []
    for lib in (cgrad, torch):
        leaf = lib.tensor(x_np, requires_grad=True)
        x = leaf * 1
        x.squeeze_(*args)
        (x * lib.arange(x.numel(), dtype=lib.float64).reshape(x.shape)).sum().backward()
        res.append((geometry(x), node_name(x), leaf.grad.numpy().tolist()))
    assert res[0] == res[1]


@requires_torch
@pytest.mark.parametrize("name,args", OPS)
def test_gradient_through_view_matches_torch(name, args):
    x_np = np.arange(6.0).reshape(2, 3)
    grads = []
    for lib in (cgrad, torch):
        leaf = lib.tensor(x_np, requires_grad=True)
        base = leaf * 1
        v = base[1:] if len(args) == 3 else base[:]     # as_strided_ with an explicit offset
        getattr(v, name)(*args)
        weights = lib.arange(1.0, v.numel() + 1, dtype=lib.float64).reshape(v.shape)
        (v * weights).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@requires_torch
@pytest.mark.parametrize("name,args", OPS)
def test_leaf_and_view_of_leaf_refused_as_torch(name, args):
    x_np = np.arange(6.0).reshape(2, 3)
    texts = []
    for lib in (cgrad, torch):
        row = []
        for make in (lambda: lib.tensor(x_np, requires_grad=True),
                     lambda: lib.tensor(x_np, requires_grad=True)[:]):
            with pytest.raises(RuntimeError) as err:
                getattr(make(), name)(*args)
            row.append(str(err.value))
        texts.append(row)
    assert texts[0] == texts[1]


@requires_torch
def test_errors_match_torch():
    cases = ["x.transpose_(0, 5)", "lib.randn(2, 2, 2).t_()", "x.unsqueeze_(5)", "x.squeeze_(4)",
             "x.as_strided_((10,), (1,))", "x.as_strided_((2,), (1,), -1)", "x.unsqueeze_(1.5)",
             "x.transpose_(0, 1.5)", "x.swapdims_(0, 'a')", "x.squeeze_(1.5)"]
    for case in cases:
        texts = []
        for lib in (cgrad, torch):
            x = lib.randn(2, 3)
            with pytest.raises(Exception) as err:
                eval(case, {"x": x, "lib": lib})
            texts.append((type(err.value), str(err.value).replace("torch.", "cgrad.")))
            assert x.shape == (2, 3) and x._version == 0      # nothing changed
        assert texts[0] == texts[1], case


@requires_torch
def test_saved_tensor_modified_error_matches_torch():
    texts = []
    for lib in (cgrad, torch):
        y = lib.randn(2, 2, requires_grad=True) * 1
        z = y * y
        y.t_()
        with pytest.raises(RuntimeError) as err:
            z.sum().backward()
        texts.append(str(err.value).replace("torch.", "cgrad."))
    assert texts[0] == texts[1]
    assert "which is output 0 of T1," in texts[0]


def test_other_views_read_the_base_after_the_change():
    base = cgrad.arange(6.0).reshape(2, 3).requires_grad_()
    b = base * 1
    v = b[0]
    b.t_()
    v.mul_(2)       # a write through an old view, after the base's geometry changed
    b.sum().backward()
    np.testing.assert_array_equal(base.grad.numpy(), [[2, 2, 2], [1, 1, 1]])


def test_forward_ad_tangent_follows():
    import cgrad.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        p = fwAD.make_dual(cgrad.randn(2, 3), cgrad.arange(6.0).reshape(2, 3))
        q = p * 1
        q.t_()
        tangent = fwAD.unpack_dual(q).tangent
        assert tuple(tangent.shape) == (3, 2)
        np.testing.assert_array_equal(tangent.numpy(), np.arange(6.0).reshape(2, 3).T)


def test_more_dims_than_inline_storage():
    x = cgrad.randn(1, 1, 1, 1, 1, 2)
    for _ in range(4):
        x.unsqueeze_(0)
    assert tuple(x.shape) == (1,) * 9 + (2,)
    x.squeeze_()
    assert tuple(x.shape) == (2,)
    assert x._version == 5


@pytest.mark.parametrize("name,args", OPS)
def test_gradcheck_and_gradgradcheck(name, args):
    leaf = cgrad.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)

    def f(t):
        y = t * 1
        getattr(y, name)(*args)
        return y * y

    assert gradcheck(f, (leaf,))
    assert gradgradcheck(f, (leaf,))
