"""cgrad.autograd.functional and autograd.grad(is_grads_batched=True)
against torch: values, the nesting of results, create_graph, strict-mode
errors, vectorize, strategy, and the errors of bad arguments."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch


RNG = np.random.default_rng(7)
A = RNG.standard_normal(4)
B = RNG.standard_normal(4)
M = RNG.standard_normal((2, 3))


def both(fn):
    """fn(lib, F) for cgrad and torch."""
    return (fn(cgrad, cgrad.autograd.functional), fn(torch, torch.autograd.functional))


def assert_same_tree(c, t, path="result"):
    if isinstance(t, tuple):
        assert isinstance(c, tuple) and len(c) == len(t), f"{path}: {type(c)} vs tuple of {len(t)}"
        for k, (ci, ti) in enumerate(zip(c, t)):
            assert_same_tree(ci, ti, f"{path}[{k}]")
        return
    assert isinstance(c, cgrad.Tensor), f"{path}: {type(c)}"
    assert tuple(c.shape) == tuple(t.shape), f"{path}: shape {tuple(c.shape)} vs {tuple(t.shape)}"
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], path
    assert c.requires_grad == t.requires_grad, f"{path}: requires_grad"
    assert (c.grad_fn is None) == (t.grad_fn is None), f"{path}: grad_fn"
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=path)


def errors_alike(fn):
    """fn(lib, F) raises the same type and text for cgrad and torch."""
    errs = []
    for lib, F in ((cgrad, cgrad.autograd.functional), (torch, torch.autograd.functional)):
        with pytest.raises(Exception) as info:
            fn(lib, F)
        errs.append(info.value)
    c, t = errs
    assert type(c) is type(t), f"{type(c).__name__}: {c} / {type(t).__name__}: {t}"
    assert str(c) == str(t).replace("torch.Size", "cgrad.Size").replace("torch.float", "cgrad.float")
    return c


def f_vec(x):
    return x.tanh() * x.sum()


def f_pair(x, y):
    return x * y.exp(), (x - y).pow(2).sum()


def f_scalar(x):
    return (x ** 3).sum() + x.sin().prod()


def f_scalar2(x, y):
    return (x * y.sin()).sum() + (x ** 2 * y).sum()


# --- jacobian --------------------------------------------------------------

@requires_torch
@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_single(vectorize, create_graph):
    c, t = both(lambda lib, F: F.jacobian(f_vec, lib.tensor(A), create_graph=create_graph, vectorize=vectorize))
    assert_same_tree(c, t)


@requires_torch
@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_tuple_inputs_and_outputs(vectorize):
    c, t = both(lambda lib, F: F.jacobian(f_pair, (lib.tensor(A), lib.tensor(B)), vectorize=vectorize))
    assert_same_tree(c, t)


@requires_torch
def test_jacobian_tuple_inputs_single_output_and_matrix_shapes():
    c, t = both(lambda lib, F: F.jacobian(lambda x, y: x @ y.T, (lib.tensor(M), lib.tensor(M))))
    assert_same_tree(c, t)
    c, t = both(lambda lib, F: F.jacobian(lambda x: (x.exp(), x.sum()), lib.tensor(M)))
    assert_same_tree(c, t)


@requires_torch
def test_jacobian_create_graph_is_differentiable():
    res = []
    for lib, F in ((cgrad, cgrad.autograd.functional), (torch, torch.autograd.functional)):
        x = lib.tensor(A, requires_grad=True)
        j = F.jacobian(f_vec, x, create_graph=True)
        j.sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10)


@requires_torch
def test_jacobian_independent_input_zero_or_strict():
    c, t = both(lambda lib, F: F.jacobian(lambda x, y: x * 2, (lib.tensor(A), lib.tensor(B))))
    assert_same_tree(c, t)
    errors_alike(lambda lib, F: F.jacobian(lambda x, y: x * 2, (lib.tensor(A), lib.tensor(B)), strict=True))
    errors_alike(lambda lib, F: F.jacobian(lambda x: lib.ones(3), lib.tensor(A), strict=True))
    errors_alike(lambda lib, F: F.jacobian(lambda x: x * 2, lib.tensor(A), strict=True, create_graph=True))
    errors_alike(lambda lib, F: F.jacobian(f_vec, lib.tensor(A), strict=True, vectorize=True))
    c, t = both(lambda lib, F: F.jacobian(lambda x: lib.ones(3), lib.tensor(A)))
    assert_same_tree(c, t)


@requires_torch
def test_jacobian_argument_errors():
    errors_alike(lambda lib, F: F.jacobian(f_vec, 3.0))
    errors_alike(lambda lib, F: F.jacobian(f_pair, (lib.tensor(A), 2)))
    errors_alike(lambda lib, F: F.jacobian(lambda x: 3, lib.tensor(A)))
    errors_alike(lambda lib, F: F.jacobian(f_vec, lib.tensor(A), strategy="sideways"))


@requires_torch
def test_jacobian_forward_mode():
    errors_alike(lambda lib, F: F.jacobian(f_vec, lib.tensor(A), strategy="forward-mode"))
    errors_alike(lambda lib, F: F.jacobian(f_vec, lib.tensor(A), strategy="forward-mode", create_graph=True))
    errors_alike(lambda lib, F: F.jacobian(f_vec, lib.tensor(A), strategy="forward-mode", strict=True))
    c, t = both(lambda lib, F: F.jacobian(f_vec, lib.tensor(A), strategy="forward-mode", vectorize=True))
    assert_same_tree(c, t)      # forward mode (more in tests/autograd/test_jvp_transforms.py)
    errors_alike(lambda lib, F: F.hessian(f_scalar, lib.tensor(A), outer_jacobian_strategy="forward-mode"))


def test_jacobian_does_not_touch_inputs():
    x = cgrad.tensor(A, requires_grad=True)
    cgrad.autograd.functional.jacobian(f_vec, x)
    assert x.grad is None


# --- hessian ---------------------------------------------------------------

@requires_torch
@pytest.mark.parametrize("vectorize", [False, True])
def test_hessian(vectorize):
    c, t = both(lambda lib, F: F.hessian(f_scalar, lib.tensor(A), vectorize=vectorize))
    assert_same_tree(c, t)
    c, t = both(lambda lib, F: F.hessian(f_scalar2, (lib.tensor(A), lib.tensor(B)), vectorize=vectorize))
    assert_same_tree(c, t)


@requires_torch
def test_hessian_create_graph_and_errors():
    c, t = both(lambda lib, F: F.hessian(f_scalar, lib.tensor(A), create_graph=True))
    assert_same_tree(c, t)
    errors_alike(lambda lib, F: F.hessian(f_vec, lib.tensor(A)))
    errors_alike(lambda lib, F: F.hessian(lambda x: (x.sum(), x.sum()), lib.tensor(A)))
    errors_alike(lambda lib, F: F.hessian(lambda x: (2 * x).sum(), lib.tensor(A), strict=True))
    errors_alike(lambda lib, F: F.hessian(lambda x, y: (x ** 2).sum(), (lib.tensor(A), lib.tensor(B)),
                                          strict=True))


# --- vjp / jvp / hvp / vhp -------------------------------------------------

@requires_torch
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp(create_graph):
    c, t = both(lambda lib, F: F.vjp(f_vec, lib.tensor(A), lib.tensor(B), create_graph=create_graph))
    assert_same_tree(c, t)
    c, t = both(lambda lib, F: F.vjp(f_pair, (lib.tensor(A), lib.tensor(B)), (lib.tensor(B), lib.tensor(2.0)),
                                     create_graph=create_graph))
    assert_same_tree(c, t)
    c, t = both(lambda lib, F: F.vjp(f_scalar, lib.tensor(A)))
    assert_same_tree(c, t)


@requires_torch
def test_vjp_errors():
    errors_alike(lambda lib, F: F.vjp(f_vec, lib.tensor(A)))
    errors_alike(lambda lib, F: F.vjp(f_vec, lib.tensor(A), lib.ones(3)))
    errors_alike(lambda lib, F: F.vjp(f_pair, (lib.tensor(A), lib.tensor(B)), (lib.tensor(B),)))
    errors_alike(lambda lib, F: F.vjp(f_pair, (lib.tensor(A), lib.tensor(B)), (lib.tensor(B), lib.ones(2))))
    errors_alike(lambda lib, F: F.vjp(lambda x, y: x * 2, (lib.tensor(A), lib.tensor(B)), lib.tensor(B),
                                      strict=True))
    errors_alike(lambda lib, F: F.vjp(lambda x: x.detach(), lib.tensor(A), lib.tensor(B), strict=True))


@requires_torch
@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp(create_graph):
    c, t = both(lambda lib, F: F.jvp(f_vec, lib.tensor(A), lib.tensor(B), create_graph=create_graph))
    assert_same_tree(c, t)
    c, t = both(lambda lib, F: F.jvp(f_pair, (lib.tensor(A), lib.tensor(B)), (lib.tensor(B), lib.tensor(A)),
                                     create_graph=create_graph))
    assert_same_tree(c, t)


@requires_torch
def test_jvp_errors():
    errors_alike(lambda lib, F: F.jvp(f_vec, lib.tensor(A)))
    errors_alike(lambda lib, F: F.jvp(f_vec, lib.tensor(A), lib.ones(2)))
    errors_alike(lambda lib, F: F.jvp(lambda x: x.detach() * 2, lib.tensor(A), lib.tensor(B), strict=True))
    c, t = both(lambda lib, F: F.jvp(lambda x: x * 2, lib.tensor(A), lib.tensor(B), strict=True))
    assert_same_tree(c, t)
    errors_alike(lambda lib, F: F.jvp(lambda x, y: x * 2, (lib.tensor(A), lib.tensor(B)),
                                      (lib.tensor(B), lib.tensor(A)), strict=True))


@requires_torch
@pytest.mark.parametrize("name", ["hvp", "vhp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_hvp_vhp(name, create_graph):
    c, t = both(lambda lib, F: getattr(F, name)(f_scalar, lib.tensor(A), lib.tensor(B), create_graph=create_graph))
    assert_same_tree(c, t)
    c, t = both(lambda lib, F: getattr(F, name)(f_scalar2, (lib.tensor(A), lib.tensor(B)),
                                                (lib.tensor(B), lib.tensor(A)), create_graph=create_graph))
    assert_same_tree(c, t)


@requires_torch
@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp_errors(name):
    errors_alike(lambda lib, F: getattr(F, name)(f_vec, lib.tensor(A), lib.tensor(B)))
    errors_alike(lambda lib, F: getattr(F, name)(lambda x: (x.sum(), x.sum()), lib.tensor(A), lib.tensor(B)))
    errors_alike(lambda lib, F: getattr(F, name)(f_scalar, lib.tensor(A)))
    errors_alike(lambda lib, F: getattr(F, name)(lambda x: (2 * x).sum(), lib.tensor(A), lib.tensor(B),
                                                 strict=True))


# --- autograd.grad(is_grads_batched=True) ----------------------------------

def batched(lib, create_graph=False, **kw):
    x = lib.tensor(A, requires_grad=True)
    y = lib.tensor(B, requires_grad=True)
    out = x.sin() * y
    return lib.autograd.grad(out, (x, y), lib.eye(4, dtype=lib.float64) * 2, is_grads_batched=True,
                             create_graph=create_graph, **kw)


@requires_torch
@pytest.mark.parametrize("create_graph", [False, True])
def test_is_grads_batched(create_graph):
    c = batched(cgrad, create_graph)
    t = batched(torch, create_graph)
    assert_same_tree(c, t)


@requires_torch
def test_is_grads_batched_several_outputs_and_unused():
    res = []
    for lib in (cgrad, torch):
        x = lib.tensor(A, requires_grad=True)
        z = lib.tensor(B, requires_grad=True)
        o1, o2 = x.exp(), (x * 3).sum()
        g = lib.autograd.grad((o1, o2), (x, z), (lib.ones(5, 4, dtype=lib.float64), lib.arange(5.0).double()),
                              is_grads_batched=True, allow_unused=True, retain_graph=True)
        g2 = lib.autograd.grad((o1, o2), (x, z), (lib.ones(5, 4, dtype=lib.float64), lib.arange(5.0).double()),
                               is_grads_batched=True, materialize_grads=True)
        res.append((g, g2))
    assert res[0][0][1] is None and res[1][0][1] is None
    assert_same_tree(res[0][0][0], res[1][0][0])
    assert_same_tree(res[0][1], res[1][1])


def batched_err(lib, grads, outs=1, **kw):
    x = lib.tensor(A, requires_grad=True)
    y = lib.tensor(B, requires_grad=True)
    o = (x.sin(), (x * 2).sum())[:outs]
    return lib.autograd.grad(o, (x, y), grads(lib), is_grads_batched=True, **kw)


@requires_torch
def test_is_grads_batched_errors():
    def same(**kw):
        errs = []
        for lib in (cgrad, torch):
            with pytest.raises(Exception) as info:
                batched_err(lib, **kw)
            errs.append(info.value)
        assert type(errs[0]) is type(errs[1])
        assert str(errs[0]) == str(errs[1]).replace("torch.", "cgrad.")
    same(grads=lambda lib: lib.ones(3, 2, dtype=lib.float64))                       # row shape mismatch
    same(grads=lambda lib: lib.ones(3, 4, dtype=lib.float64))                       # y unused
    same(grads=lambda lib: (lib.ones(3, 4, dtype=lib.float64), lib.ones(2, dtype=lib.float64)), outs=2,
         allow_unused=True)                                                          # batch sizes differ
    same(grads=lambda lib: (lib.ones(3, 4, dtype=lib.float64), None), outs=2, allow_unused=True)


def test_is_grads_batched_frees_graph_after_last_row():
    x = cgrad.tensor(A, requires_grad=True)
    out = x.exp()
    cgrad.autograd.grad(out, x, cgrad.eye(4, dtype=cgrad.float64), is_grads_batched=True)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        cgrad.autograd.grad(out, x, cgrad.ones(4, dtype=cgrad.float64))


def test_gradcheck_through_create_graph_results():
    x = cgrad.tensor(A[:3], requires_grad=True)
    F = cgrad.autograd.functional
    assert cgrad.autograd.gradcheck(lambda x: F.jacobian(f_vec, x, create_graph=True), (x,))
    assert cgrad.autograd.gradcheck(lambda x: F.hessian(f_scalar, x, create_graph=True, vectorize=True), (x,))
    assert cgrad.autograd.gradcheck(lambda x: F.vjp(f_vec, x, x * 2, create_graph=True)[1], (x,))
    assert cgrad.autograd.gradcheck(lambda x: F.jvp(f_vec, x, x.cos(), create_graph=True)[1], (x,))
    assert cgrad.autograd.gradcheck(lambda x: F.hvp(f_scalar, x, x.sin(), create_graph=True)[1], (x,))


@pytest.mark.parametrize("kind", ["hessian", "hessian_tuple", "jacobian", "jacobian_inputs_require_grad"])
def test_forward_mode_results_keep_their_graph_as_torch(kind):
    """PyTorch's forward-mode jacobian detaches nothing: hessian with
    outer_jacobian_strategy='forward-mode' (its inner jacobian marks the
    inputs requiring grad) returns tensors with a grad_fn, a plain jacobian
    of inputs without grad does not."""
    def run(lib):
        AF = lib.autograd.functional
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=kind == "jacobian_inputs_require_grad")
        if kind == "hessian":
            out = AF.hessian(lambda t: (t.sin() * t).sum(), x, vectorize=True, outer_jacobian_strategy="forward-mode")
        elif kind == "hessian_tuple":
            out = AF.hessian(lambda a, b: (a.sin() * b).sum(), (x, x * 2), vectorize=True,
                             outer_jacobian_strategy="forward-mode")
            out = [e for row in out for e in row]
        else:
            out = AF.jacobian(lambda t: t.sin() * t, x, vectorize=True, strategy="forward-mode")
        outs = out if isinstance(out, list) else [out]
        return [(o.detach().numpy(), o.requires_grad, None if o.grad_fn is None else o.grad_fn.name())
                for o in outs]
    ours = run(cgrad)
    expected = {"hessian": [True], "hessian_tuple": [True] * 4, "jacobian": [False],
                "jacobian_inputs_require_grad": [True]}[kind]
    assert [r for _, r, _ in ours] == expected
    if torch is not None:
        for (value, requires_grad, name), (t_value, t_requires_grad, t_name) in zip(ours, run(torch)):
            np.testing.assert_allclose(value, t_value, rtol=1e-12)
            assert (requires_grad, name) == (t_requires_grad, t_name)
