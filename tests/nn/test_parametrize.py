"""nn.utils.parametrize and nn.utils.parametrizations (orthogonal,
weight_norm, spectral_norm) against torch: parametrized values and the
gradients of the stored originals, reprs, class names, state_dict keys,
assignment through right_inverse, cached(), chaining,
remove_parametrizations, error texts; known values without torch."""
import numpy as np
import pytest

import cgrad
import cgrad.nn as nn
from cgrad.nn.utils import parametrizations, parametrize
from helpers import requires_torch, torch
from nn_compare import assert_same_errors


def symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(0, 1)

        def right_inverse(self, a):
            return a.triu()
    return Symmetric()


def scaled(lib):
    class Scale(lib.nn.Module):
        def forward(self, x):
            return 2 * x
    return Scale()


def copy_state(mc, mt):
    with cgrad.no_grad():
        for (name, pc), (_, pt) in zip(mc.named_parameters(), mt.named_parameters()):
            pc.copy_(cgrad.tensor(pt.detach().numpy()))
        for (name, bc), (_, bt) in zip(mc.named_buffers(), mt.named_buffers()):
            bc.copy_(cgrad.tensor(bt.detach().numpy()))


def forward_backward(mc, mt, in_features):
    x = np.random.default_rng(0).standard_normal((2, in_features))
    yc, yt = mc(cgrad.tensor(x)), mt(torch.tensor(x))
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    yc.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    for (name, pc), (_, pt) in zip(mc.named_parameters(), mt.named_parameters()):
        np.testing.assert_allclose(pc.grad.numpy(), pt.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@requires_torch
def test_register_parametrization_matches_torch():
    modules = []
    for lib in (cgrad, torch):
        torch.manual_seed(0)
        m = lib.nn.Linear(3, 3).double()
        lib.nn.utils.parametrize.register_parametrization(m, "weight", symmetric(lib))
        lib.nn.utils.parametrize.register_parametrization(m, "weight", scaled(lib))
        modules.append(m)
    mc, mt = modules
    copy_state(mc, mt)
    assert repr(mc) == repr(mt) and type(mc).__name__ == type(mt).__name__ == "ParametrizedLinear"
    assert list(mc.state_dict()) == list(mt.state_dict())
    np.testing.assert_allclose(mc.weight.detach().numpy(), mt.weight.detach().numpy())
    forward_backward(mc, mt, 3)
    value = np.arange(9.0).reshape(3, 3)
    for m, lib in ((mc, cgrad), (mt, torch)):
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", symmetric(lib))
        m.weight = lib.tensor(value + value.T)
    np.testing.assert_allclose(mc.weight.detach().numpy(), mt.weight.detach().numpy())
    np.testing.assert_allclose(mc.parametrizations.weight.original.detach().numpy(),
                               mt.parametrizations.weight.original.detach().numpy())
    for m, lib in ((mc, cgrad), (mt, torch)):
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
    assert type(mc).__name__ == type(mt).__name__ == "Linear" and repr(mc) == repr(mt)
    assert list(mc.state_dict()) == list(mt.state_dict())
    np.testing.assert_allclose(mc.weight.detach().numpy(), mt.weight.detach().numpy())


ORTHOGONAL = [{}, dict(orthogonal_map="cayley"), dict(orthogonal_map="householder"),
              dict(orthogonal_map="householder", use_trivialization=False), dict(orthogonal_map="matrix_exp")]


@requires_torch
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("which", [("orthogonal", kw) for kw in ORTHOGONAL] + [("weight_norm", {}),
                                   ("weight_norm", dict(dim=1)), ("weight_norm", dict(dim=None)),
                                   ("spectral_norm", {}), ("spectral_norm", dict(n_power_iterations=3))])
def test_parametrizations_match_torch(shape, which):
    name, kwargs = which
    torch.manual_seed(0)
    mt = torch.nn.Linear(shape[1], shape[0]).double()
    mc = cgrad.nn.Linear(shape[1], shape[0]).double()
    copy_state(mc, mt)
    getattr(torch.nn.utils.parametrizations, name)(mt, **kwargs)
    getattr(parametrizations, name)(mc, **kwargs)
    # the random parts (spectral_norm's starting vectors, the completion of a
    # non-square orthogonal base) come from each library's generator: take torch's
    copy_state(mc, mt)
    assert repr(mc) == repr(mt)
    assert list(mc.state_dict()) == list(mt.state_dict())
    np.testing.assert_allclose(mc.weight.detach().numpy(), mt.weight.detach().numpy(), rtol=1e-10, atol=1e-12)
    forward_backward(mc, mt, shape[1])
    if name == "orthogonal":
        w = mc.weight.detach().numpy()
        small = w if w.shape[0] >= w.shape[1] else w.T
        np.testing.assert_allclose(small.T @ small, np.eye(small.shape[1]), atol=1e-12)


@requires_torch
def test_spectral_norm_power_iteration_matches_torch():
    torch.manual_seed(0)
    mt = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Conv2d(2, 3, 2).double())
    mc = parametrizations.spectral_norm(cgrad.nn.Conv2d(2, 3, 2).double())
    copy_state(mc, mt)
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4))
    for training in (True, True, False):
        mc.train(training)
        mt.train(training)
        np.testing.assert_allclose(mc(cgrad.tensor(x)).detach().numpy(), mt(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-12)
    for (name, bc), (_, bt) in zip(mc.named_buffers(), mt.named_buffers()):
        np.testing.assert_allclose(bc.numpy(), bt.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@requires_torch
def test_errors_match_torch():
    def shape_changing(lib):
        class Row(lib.nn.Module):
            def forward(self, x):
                return x[0]
        return Row()

    assert_same_errors([
        lambda lib: lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 2), "nothing",
                                                                      symmetric(lib)),
        lambda lib: lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 2), "weight",
                                                                      shape_changing(lib)),
        lambda lib: lib.nn.utils.parametrize.remove_parametrizations(lib.nn.Linear(2, 2), "weight"),
        lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), "bias"),
        lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), orthogonal_map="qr"),
        lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), "other"),
        lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), dim=3),
        lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0),
        lambda lib: setattr(lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2),
                                                                     use_trivialization=False), "weight",
                            lib.eye(2)),
    ], torch, cgrad)


def test_cached_and_optimizer_identity_without_torch():
    m = nn.Linear(3, 3)
    weight = m.weight
    calls = []

    class Counting(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 1

    opt = cgrad.optim.SGD(m.parameters(), lr=0.1)
    parametrize.register_parametrization(m, "weight", Counting())
    assert m.parametrizations.weight.original is weight
    calls.clear()
    with parametrize.cached():
        a, b = m.weight, m.weight
    assert a is b and len(calls) == 1
    m(cgrad.ones(1, 3)).sum().backward()
    before = weight.detach().clone()
    opt.step()
    assert not cgrad.equal(before, m.parametrizations.weight.original.detach())
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert parametrize.type_before_parametrizations(m) is nn.Linear
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and m.weight is weight
    parametrizations.orthogonal(m, "weight")
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-5)
