"""autograd.grad(..., is_grads_batched=True) as one batched backward pass
(cgrad/autograd/_batched_grad.py, src/cgrad/batched_backward.pxi), against
torch: values for every node family with a batched rule (matmul, broadcasting
arithmetic, reductions, views, joins, softmax), the element-wise diagonal, the
Jacobian-row path of small outputs, the per-sample fallback (multi-output
nodes without a rule, cumprod), create_graph (double backward through the
batched formulas), non-leaf inputs, retain_graph, hooks, errors, PyTorch's
legacy-vmap fallback warning switch, and the forward-mode Jacobian and
Hessian of autograd.functional (vmap over jvp)."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

pytestmark = requires_torch

B = 5


def _vjps(lib, fn, arrays, create_graph, seed):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = fn(lib, *xs)
    v = lib.tensor(np.random.default_rng(seed).standard_normal((B,) + tuple(y.shape)))
    grads = lib.autograd.grad(y, xs, v, is_grads_batched=True, create_graph=create_graph, allow_unused=True)
    if create_graph:     # differentiate the batched VJPs once more (through the batched formulas)
        total = sum((g * g).sum() for g in grads if g is not None)
        if not total.requires_grad:     # a linear function: its VJP does not depend on the inputs
            return list(grads)
        second = lib.autograd.grad(total, xs, allow_unused=True)
        return list(grads) + list(second)
    return list(grads)


def check_against_torch(fn, shapes, create_graph=False, seed=0):
    arrays = [np.random.default_rng(seed + i).standard_normal(s) for i, s in enumerate(shapes)]
    got = _vjps(cgrad, fn, arrays, create_graph, seed)
    want = _vjps(torch, fn, arrays, create_graph, seed)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert tuple(g.shape) == tuple(w.shape)
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-10, atol=1e-12)


CASES = {
    "mm_tanh": (lambda L, x, w: (x @ w).tanh(), [(3, 4), (4, 2)]),
    "addmm": (lambda L, b, x, w: L.addmm(b, x, w, beta=0.5, alpha=2.0).sigmoid(), [(2,), (3, 4), (4, 2)]),
    "linear": (lambda L, x, w, b: L.nn.functional.linear(x, w, b).tanh(), [(3, 4), (2, 4), (2,)]),
    "relu": (lambda L, x: x.relu() * 2, [(3, 4)]),
    "mv": (lambda L, a, v: L.mv(a, v).exp(), [(3, 4), (4,)]),
    "dot": (lambda L, a, v: L.dot(a, v).reshape(1), [(4,), (4,)]),
    "broadcast": (lambda L, a, b: a * b + a / (b + 3) - b, [(3, 1), (4,)]),
    "reductions": (lambda L, a: L.stack([a.sum(), a.mean()]), [(3, 4)]),
    "reduce_dims": (lambda L, a: a.sum(1) * a.mean(0, keepdim=True).sum(), [(3, 4)]),
    "views": (lambda L, a: a.t().reshape(2, 6).permute(1, 0).unsqueeze(1).expand(6, 3, 2).transpose(0, 2)[1, :, 1:5:2],
              [(3, 4)]),
    "squeeze": (lambda L, a: a.unsqueeze(0).squeeze() * 2, [(3, 4)]),
    "cumprod_fallback": (lambda L, a: a.cumprod(1) + a.sin(), [(3, 4)]),
    "split_cat": (lambda L, a: L.cat(a.split(2, 1)[::-1]) ** 2, [(3, 4)]),
    "unbind_stack": (lambda L, a: L.stack(a.unbind(1)[1:], 1).cos(), [(3, 4)]),
    "scalars": (lambda L, a: (2 - a) * 3 + a / 2 - 1 + a ** 3, [(3, 4)]),
    "unused_input": (lambda L, a, b: a.log1p().abs(), [(3,), (2,)]),
    "pow_tensor": (lambda L, a, b: a.abs() ** b, [(3,), (3,)]),
    "dtype_round_trip": (lambda L, a: a.clone().to(L.float32).to(L.float64), [(3,)]),
    "softmax": (lambda L, a: a.softmax(1) * a.log_softmax(0), [(3, 4)]),
    "cross_entropy": (lambda L, a: L.nn.functional.cross_entropy(a, L.tensor([0, 2, 1])).reshape(1),
                      [(3, 4)]),
    "mlp": (lambda L, x, w1, w2: (x @ w1).tanh() @ w2, [(2, 6), (6, 5), (5, 3)]),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(CASES))
def test_batched_vjps_match_torch(name, create_graph):
    fn, shapes = CASES[name]
    check_against_torch(fn, shapes, create_graph)


def _count_applies(monkeypatch):
    """Count the per-sample applies of the fallback."""
    from cgrad.autograd import _batched_grad
    calls = []
    real = _batched_grad._per_sample

    def counting(node, slots, batch):
        calls.append(node.name())
        return real(node, slots, batch)
    monkeypatch.setattr(_batched_grad, "_per_sample", counting)
    return calls


def test_rules_cover_a_network_without_per_sample_fallback(monkeypatch):
    calls = _count_applies(monkeypatch)
    x = cgrad.randn(8, 6, requires_grad=True, dtype=cgrad.float64)
    w = cgrad.randn(6, 4, requires_grad=True, dtype=cgrad.float64)
    b = cgrad.randn(4, requires_grad=True, dtype=cgrad.float64)
    y = cgrad.nn.functional.cross_entropy(cgrad.nn.functional.linear(x, w.t(), b).tanh(),
                                          cgrad.tensor([0, 1, 2, 3, 0, 1, 2, 3]))
    out = (x.sigmoid() @ w).softmax(1).sum(0) * y
    cgrad.autograd.grad(out, (x, w, b), cgrad.randn(16, 4, dtype=cgrad.float64), is_grads_batched=True)
    assert calls == []


def test_fallback_runs_per_sample_for_a_node_without_rule(monkeypatch):
    calls = _count_applies(monkeypatch)
    x = cgrad.randn(3, 4, requires_grad=True, dtype=cgrad.float64)
    cgrad.autograd.grad(x.cumprod(1), x, cgrad.randn(B, 3, 4, dtype=cgrad.float64), is_grads_batched=True)
    assert calls == ["CumprodBackward0"]


def test_non_leaf_inputs_and_retain_graph():
    res = []
    for lib in (cgrad, torch):
        x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
        h = x.sin() * 2
        out = (h @ h.t()).sum(0)
        v = lib.tensor(np.arange(B * 3.0).reshape(B, 3))
        g1 = lib.autograd.grad(out, (h, x), v, is_grads_batched=True, retain_graph=True)
        g2 = lib.autograd.grad(out, (x,), v * 2, is_grads_batched=True)
        res.append([t.numpy() for t in g1 + g2])
        with pytest.raises(RuntimeError) as info:
            lib.autograd.grad(out, (x,), v, is_grads_batched=True)
        res[-1].append(str(info.value))
    for a, b in zip(*res):
        if isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_hooks_see_one_sample_at_a_time():
    seen = {}
    for lib in (cgrad, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=lib.float64)
        h = x * 2
        shapes = []
        h.register_hook(lambda g: shapes.append(tuple(g.shape)) or g * 10)
        (g,) = lib.autograd.grad(h.exp(), x, lib.ones(4, 3, dtype=lib.float64), is_grads_batched=True)
        seen[lib.__name__] = (g.numpy(), shapes)
    np.testing.assert_allclose(seen["cgrad"][0], seen["torch"][0])
    # torch's hook runs once on the batched gradient, shaped as one sample
    assert set(seen["cgrad"][1]) == set(seen["torch"][1]) == {(3,)}


def test_errors_match_torch():
    def errors(make):
        out = []
        for lib in (cgrad, torch):
            with pytest.raises(Exception) as info:
                make(lib)
            out.append(info.value)
        assert type(out[0]) is type(out[1])
        assert str(out[0]) == str(out[1])

    def unused(lib):
        x = lib.ones(3, requires_grad=True)
        z = lib.ones(3, requires_grad=True)
        lib.autograd.grad(x.exp(), (x, z), lib.ones(2, 3), is_grads_batched=True)

    def no_grad_output(lib):
        x = lib.ones(3, requires_grad=True)
        lib.autograd.grad(x.detach().exp(), (x,), lib.ones(2, 3), is_grads_batched=True)

    def input_without_grad(lib):
        x = lib.ones(3, requires_grad=True)
        lib.autograd.grad(x.exp(), (lib.ones(3),), lib.ones(2, 3), is_grads_batched=True)

    errors(unused)
    errors(no_grad_output)
    errors(input_without_grad)


def test_fallback_warning_is_off_by_default_and_switchable():
    assert cgrad._C._debug_only_are_vmap_fallback_warnings_enabled() is False
    x = cgrad.randn(3, 4, requires_grad=True, dtype=cgrad.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cgrad.autograd.grad(x.cumprod(1), x, cgrad.randn(B, 3, 4, dtype=cgrad.float64), is_grads_batched=True)
    cgrad._C._debug_only_display_vmap_fallback_warnings(True)
    try:
        assert cgrad._C._debug_only_are_vmap_fallback_warnings_enabled() is True
        with pytest.warns(UserWarning) as record:
            cgrad.autograd.grad(x.cumprod(1), x, cgrad.randn(B, 3, 4, dtype=cgrad.float64),
                                is_grads_batched=True)
    finally:
        cgrad._C._debug_only_display_vmap_fallback_warnings(False)
    message = str(record[0].message)
    # PyTorch's legacy-vmap text, naming the op's backward
    assert message.startswith("There is a performance drop because we have not yet implemented the batching "
                              "rule for aten::cumprod_backward. You are using the legacy vmap prototype")
    torch._C._debug_only_display_vmap_fallback_warnings(True)
    try:
        t = torch.randn(3, 4, requires_grad=True, dtype=torch.float64)
        with pytest.warns(UserWarning) as torch_record:
            torch.autograd.grad(t.cumprod(1), t, torch.randn(B, 3, 4, dtype=torch.float64), is_grads_batched=True)
    finally:
        torch._C._debug_only_display_vmap_fallback_warnings(False)
    assert str(torch_record[0].message).startswith(message)


# --- forward-mode Jacobian and Hessian of autograd.functional -------------------

def _flat(r):
    if isinstance(r, (tuple, list)):
        return [y for x in r for y in _flat(x)]
    return [r]


def _functional(lib):
    F = lib.autograd.functional
    g = np.random.default_rng(0)
    x, y, w = (lib.tensor(g.standard_normal(s)) for s in [(3,), (2, 2), (4, 3)])
    return {
        "single": F.jacobian(lambda a: (w @ a).tanh(), x, strategy="forward-mode", vectorize=True),
        "tuple": F.jacobian(lambda a, b: ((a * b.sum()).sin(), b.exp(), a.sum()), (x, y),
                            strategy="forward-mode", vectorize=True),
        "independent": F.jacobian(lambda a, b: (a * 2, lib.ones(2)), (x, y), strategy="forward-mode",
                                  vectorize=True),
        "hessian": F.hessian(lambda a: (a ** 3).sum() + (w @ a).tanh().sum(), x,
                             outer_jacobian_strategy="forward-mode", vectorize=True),
        "hessian_tuple": F.hessian(lambda a, b: (a ** 3).sum() * b.sum(), (x, y),
                                   outer_jacobian_strategy="forward-mode", vectorize=True),
    }


def test_forward_mode_jacobian_and_hessian_match_torch():
    got, want = _functional(cgrad), _functional(torch)
    for key in want:
        a, b = _flat(got[key]), _flat(want[key])
        assert len(a) == len(b), key
        for p, q in zip(a, b):
            assert tuple(p.shape) == tuple(q.shape), key
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=key)


def test_forward_mode_jacobian_runs_func_once_under_vmap():
    calls = []

    def f(a):
        calls.append(1)
        return a.exp() * 2

    x = cgrad.randn(7, dtype=cgrad.float64)
    jac = cgrad.autograd.functional.jacobian(f, x, strategy="forward-mode", vectorize=True)
    assert len(calls) == 1
    np.testing.assert_allclose(jac.numpy(), np.diag(2 * np.exp(x.numpy())), rtol=1e-12)
