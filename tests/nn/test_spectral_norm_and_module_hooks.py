"""nn.utils.spectral_norm (the hook form) and the Module hooks it rests on
(state_dict pre/post hooks, load_state_dict pre/post hooks, the deprecated
register_backward_hook), Module.to_empty and Module.compile: against torch,
and without torch against hand-computed values (sigma by SVD)."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def _sigma_max(matrix):
    return np.linalg.svd(matrix, compute_uv=False)[0]


def test_spectral_norm_converges_to_the_largest_singular_value():
    cgrad.manual_seed(0)
    m = cgrad.nn.utils.spectral_norm(cgrad.nn.Linear(6, 4), n_power_iterations=50)
    w = m.weight_orig.detach().numpy().copy()
    m(cgrad.randn(2, 6))
    np.testing.assert_allclose(m.weight.detach().numpy(), w / _sigma_max(w), rtol=1e-4)
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert m.state_dict()._metadata[""]["spectral_norm"] == {"weight.version": 1}
    cgrad.nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, cgrad.nn.Parameter)
    # the upgrade hook went with it: the module loads its own state again
    assert str(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"


def test_spectral_norm_eval_does_not_iterate():
    m = cgrad.nn.utils.spectral_norm(cgrad.nn.Linear(3, 3)).eval()
    u = m.weight_u.clone()
    m(cgrad.randn(1, 3))
    assert bool((m.weight_u == u).all())


def test_spectral_norm_errors():
    m = cgrad.nn.utils.spectral_norm(cgrad.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks on the same parameter weight"):
        cgrad.nn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got n_power_iterations=0"):
        cgrad.nn.utils.spectral_norm(cgrad.nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="spectral_norm of 'bias' not found in Linear"):
        cgrad.nn.utils.remove_spectral_norm(cgrad.nn.Linear(2, 2), "bias")
    with pytest.raises(ValueError, match="`SpectralNorm` cannot be applied as parameter `bias` is None"):
        cgrad.nn.utils.spectral_norm(cgrad.nn.Linear(2, 2, bias=False), "bias")


@requires_torch
@pytest.mark.parametrize("kind, shape, n_iter, train", [
    ("Linear", (3, 5), 1, True), ("Conv2d", (2, 3, 6, 6), 2, True), ("ConvTranspose2d", (2, 3, 5, 5), 1, True),
    ("ConvTranspose2d", (2, 3, 5, 5), 1, False)])
def test_spectral_norm_matches_torch(kind, shape, n_iter, train):
    args = (5, 4) if kind == "Linear" else (3, 4, 3)
    tm = torch.nn.utils.spectral_norm(getattr(torch.nn, kind)(*args), n_power_iterations=n_iter).train(train)
    cm = cgrad.nn.utils.spectral_norm(getattr(cgrad.nn, kind)(*args), n_power_iterations=n_iter).train(train)
    cm.load_state_dict({k: cgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    for _ in range(3):
        ty, cy = tm(torch.tensor(x)), cm(cgrad.tensor(x))
        ty.square().sum().backward()
        cy.square().sum().backward()
        np.testing.assert_allclose(cy.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
        tg = tm.weight_orig.grad.numpy()
        np.testing.assert_allclose(cm.weight_orig.grad.numpy(), tg, rtol=1e-3, atol=1e-4 * np.abs(tg).max())
        np.testing.assert_allclose(cm.weight_u.numpy(), tm.weight_u.numpy(), rtol=1e-4, atol=1e-6)
        assert cy.grad_fn.name() == ty.grad_fn.name()
    assert list(cm.state_dict()) == list(tm.state_dict())
    torch.nn.utils.remove_spectral_norm(tm)
    cgrad.nn.utils.remove_spectral_norm(cm)
    np.testing.assert_allclose(cm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
def test_spectral_norm_loads_a_version_0_checkpoint_as_torch():
    # a tall weight: W^T W must be invertible for the upgrade's solve to be well defined
    tm = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 5).double())
    tm(torch.randn(2, 3, dtype=torch.float64))
    sd = tm.state_dict()
    old = {k: v for k, v in sd.items() if k != "weight_v"}
    old["weight"] = tm.weight.detach()
    tm2 = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 5).double())
    tm2.load_state_dict(dict(old))
    cm2 = cgrad.nn.utils.spectral_norm(cgrad.nn.Linear(3, 5).double())
    cm2.load_state_dict({k: cgrad.tensor(v.numpy()) for k, v in old.items()})
    np.testing.assert_allclose(cm2.weight_v.numpy(), tm2.weight_v.numpy(), rtol=1e-7)
    assert "weight" not in cm2.state_dict()


def _hook_order(lib):
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    order = []
    for name, mod in m.named_modules():
        mod.register_state_dict_pre_hook(lambda mod, prefix, kv, name=name: order.append(("pre", name, prefix)))
        mod.register_state_dict_post_hook(
            lambda mod, sd, prefix, md, name=name: order.append(("post", name, prefix, len(sd))))
        mod.register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, *rest, name=name: order.append(("load_pre", name, prefix)))
        mod.register_load_state_dict_post_hook(
            lambda mod, keys, name=name: order.append(("load_post", name, list(keys.missing_keys))))
    state = dict(m.state_dict())
    del state["0.bias"]
    result = m.load_state_dict(state, strict=False)
    return order, str(result)


def test_state_dict_hooks_order():
    order, result = _hook_order(cgrad)
    # each module's post-hook after its children's (depth first), load post-hooks see the keys so far
    assert order[:8] == [("pre", "", ""), ("pre", "0", "0."), ("post", "0", "0.", 2), ("pre", "1", "1."),
                         ("post", "1", "1.", 2), ("pre", "2", "2."), ("post", "2", "2.", 4), ("post", "", "", 4)]
    assert order[8:] == [("load_pre", "", ""), ("load_pre", "0", "0."), ("load_post", "0", ["0.bias"]),
                         ("load_pre", "1", "1."), ("load_post", "1", ["0.bias"]), ("load_pre", "2", "2."),
                         ("load_post", "2", ["0.bias"]), ("load_post", "", ["0.bias"])]
    assert result == "_IncompatibleKeys(missing_keys=['0.bias'], unexpected_keys=[])"


@requires_torch
def test_state_dict_hooks_order_matches_torch():
    assert _hook_order(cgrad) == _hook_order(torch)


def test_load_state_dict_post_hook_can_clear_missing_keys_and_must_return_none():
    m = cgrad.nn.Linear(2, 2)
    m.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.clear())
    assert str(m.load_state_dict({"weight": cgrad.zeros(2, 2)})) == "<All keys matched successfully>"
    m2 = cgrad.nn.Linear(2, 2)
    m2.register_load_state_dict_post_hook(lambda mod, keys: 1)
    with pytest.raises(AssertionError, match="are not expected to return new values"):
        m2.load_state_dict(m2.state_dict())
    m3 = cgrad.nn.Linear(2, 2)
    m3.register_state_dict_post_hook(lambda *a: {})
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m3.state_dict()
    m4 = cgrad.nn.Linear(2, 2)
    m4._register_state_dict_hook(lambda mod, sd, prefix, md: {"replaced": 1})
    assert m4.state_dict() == {"replaced": 1}


def _non_full_hook_run(lib):
    lin = lib.nn.Linear(3, 2)
    seen = []
    lin.register_backward_hook(lambda mod, gi, go: seen.append(
        ([None if g is None else tuple(g.shape) for g in gi], [tuple(g.shape) for g in go])))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = lin(lib.ones(5, 3, requires_grad=True))
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        lin.register_full_backward_hook(lambda *a: None)
    return seen, [(w.category.__name__, str(w.message)) for w in caught]


def test_register_backward_hook_sees_the_output_node_gradients():
    seen, caught = _non_full_hook_run(cgrad)
    # Linear's node is addmm: grads of bias, input and the transposed weight
    assert seen == [([(2,), (5, 3), (3, 2)], [(5, 2)])]
    assert caught and caught[0][0] == "FutureWarning" and "non-full backward hook" in caught[0][1]


@requires_torch
def test_register_backward_hook_matches_torch():
    assert _non_full_hook_run(cgrad) == _non_full_hook_run(torch)


def test_to_empty_keeps_shapes_dtypes_and_parameters():
    m = cgrad.nn.Linear(3, 2).double()
    weight = m.weight
    assert m.to_empty(device="cpu") is m
    assert m.weight is weight and m.weight.shape == (2, 3) and m.weight.dtype == cgrad.float64


def test_module_compile_replays_the_same_results():
    cgrad.manual_seed(0)
    m = cgrad.nn.Sequential(cgrad.nn.Linear(3, 4), cgrad.nn.Tanh(), cgrad.nn.Linear(4, 1))
    x = cgrad.randn(5, 3)
    expected = m(x).detach().numpy()
    m.compile()
    for _ in range(3):
        y = m(x)
        np.testing.assert_array_equal(y.detach().numpy(), expected)
    y.sum().backward()
    assert m[0].weight.grad.shape == (4, 3)
    assert type(m) is cgrad.nn.Sequential
