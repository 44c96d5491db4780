"""The in-place view-metadata ops (transpose_, t_, swapaxes_, swapdims_,
squeeze_, unsqueeze_, as_strided_) under no_grad on tensors that require
grad, against torch: a view's history is then re-read from its base at the
new geometry (AsStridedBackward0, and gradients through it), and views
made in no_grad or by multi-output ops are refused once grad mode is back,
with torch's texts; leaves, versions and the base's history as torch."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

OPS = [("transpose_", (0, 1)), ("t_", ()), ("swapaxes_", (0, 1)), ("swapdims_", (1, 0)), ("squeeze_", ()),
       ("squeeze_", (0,)), ("unsqueeze_", (1,)), ("as_strided_", ((3, 2), (1, 3))),
       ("as_strided_", ((2, 2), (1, 2), 1)), ("transpose_", (0, 0))]


def _view_of_nonleaf(lib, x_np):
    base = lib.tensor(x_np, requires_grad=True) * 1
    return base[:], base


def _no_grad_view_of_nonleaf(lib, x_np):
    base = lib.tensor(x_np, requires_grad=True) * 1
    with lib.no_grad():
        view = base[:]
    return view, base


def _no_grad_view_of_leaf(lib, x_np):
    base = lib.tensor(x_np, requires_grad=True)
    with lib.no_grad():
        view = base[:]
    return view, base


def _unbind_view(lib, x_np):
    base = lib.tensor(x_np, requires_grad=True) * 1
    return base.unbind(0)[0], base


def _view_of_leaf(lib, x_np):
    base = lib.tensor(x_np, requires_grad=True)
    return base[:], base


KINDS = {"view of non-leaf": _view_of_nonleaf, "no_grad view of non-leaf": _no_grad_view_of_nonleaf,
         "no_grad view of leaf": _no_grad_view_of_leaf, "unbind view": _unbind_view, "view of leaf": _view_of_leaf}


def _attempt(fn):
    try:
        value = fn()
    except RuntimeError as e:
        return ("error", str(e).replace("torch.", "cgrad."))
    return value


def observe(lib, kind, name, args, x_np):
    view, base = KINDS[kind](lib, x_np)
    try:
        with lib.no_grad():
            returned = getattr(view, name)(*args)
    except (IndexError, RuntimeError) as e:     # 1-D unbind views: the dims are out of range
        return type(e), str(e), view._version, tuple(view.shape)
    grad_fn = _attempt(lambda: None if view.grad_fn is None else type(view.grad_fn).__name__)
    return {"same object": returned is view, "geometry": (tuple(view.shape), tuple(view.stride()),
                                                            view.storage_offset()),
            "versions": (view._version, base._version), "grad_fn": grad_fn,
            "is_leaf": _attempt(lambda: view.is_leaf), "requires_grad": view.requires_grad,
            "base grad_fn": None if base.grad_fn is None else type(base.grad_fn).__name__,
            "values": view.detach().numpy().tolist()}


@requires_torch
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name,args", OPS)
@pytest.mark.parametrize("shape", [(2, 3), (1, 6)])
def test_no_grad_in_place_view_ops_match_torch(kind, name, args, shape):
    x_np = np.arange(6.0).reshape(shape)
    assert observe(cgrad, kind, name, args, x_np) == observe(torch, kind, name, args, x_np)


@requires_torch
@pytest.mark.parametrize("name,args", OPS)
def test_gradient_through_a_view_changed_under_no_grad(name, args):
    x_np = np.arange(6.0).reshape(2, 3)
    grads = []
    for lib in (cgrad, torch):
        leaf = lib.tensor(x_np, requires_grad=True)
        view = (leaf * 1)[:]
        with lib.no_grad():
            getattr(view, name)(*args)
        weights = lib.arange(1.0, view.numel() + 1, dtype=lib.float64).reshape(view.shape)
        (view * weights).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
