"""LazyLinear, LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d and
UninitializedParameter against torch: reprs before and after the first
forward, the class each becomes, parameter shapes and identity (an
optimizer made before the first forward keeps working), state_dict before
initialisation and load_state_dict materialising, error texts."""
import numpy as np
import pytest

import cgrad
import cgrad.nn as nn
from helpers import requires_torch, torch
from nn_compare import assert_same_errors

CASES = [
    (lambda lib: lib.nn.LazyLinear(4), (2, 5, 3)),
    (lambda lib: lib.nn.LazyLinear(4, bias=False), (3,)),
    (lambda lib: lib.nn.LazyConv1d(4, 3, padding=1), (2, 3, 7)),
    (lambda lib: lib.nn.LazyConv2d(4, 3, stride=2, groups=2), (2, 6, 7, 7)),
    (lambda lib: lib.nn.LazyConv2d(4, 3, padding="same", padding_mode="reflect", bias=False), (3, 6, 6)),
    (lambda lib: lib.nn.LazyConv3d(2, 2), (1, 3, 4, 4, 4)),
    (lambda lib: lib.nn.LazyConvTranspose1d(4, 3, stride=2), (2, 3, 5)),
    (lambda lib: lib.nn.LazyConvTranspose2d(4, 3, output_padding=1, stride=2, groups=2), (2, 4, 3, 3)),
    (lambda lib: lib.nn.LazyConvTranspose3d(2, 2), (1, 3, 2, 2, 2)),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(CASES)))
def test_lazy_module_matches_torch(case):
    make, shape = CASES[case]
    mc, mt = make(cgrad), make(torch)
    assert repr(mc) == repr(mt)
    assert [repr(p) for p in mc.parameters()] == [repr(p) for p in mt.parameters()]
    assert list(mc.state_dict()) == list(mt.state_dict())
    params_c = list(mc.parameters())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    yc, yt = mc(cgrad.tensor(x)), mt(torch.tensor(x))
    assert repr(mc) == repr(mt)
    assert type(mc).__name__ == type(mt).__name__
    assert [type(p).__name__ for p in mc.parameters()] == [type(p).__name__ for p in mt.parameters()]
    assert [tuple(p.shape) for p in mc.parameters()] == [tuple(p.shape) for p in mt.parameters()]
    assert all(a is b for a, b in zip(params_c, mc.parameters()))
    assert tuple(yc.shape) == tuple(yt.shape)
    # with torch's initial values the layers compute the same
    with cgrad.no_grad():
        for pc, pt in zip(mc.parameters(), mt.parameters()):
            pc.copy_(cgrad.tensor(pt.detach().numpy()))
    np.testing.assert_allclose(mc(cgrad.tensor(x)).detach().numpy(), mt(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@requires_torch
def test_load_state_dict_materialises_as_torch():
    source = torch.nn.Linear(3, 4)
    mt = torch.nn.LazyLinear(4)
    mt.load_state_dict(source.state_dict())
    mc = cgrad.nn.LazyLinear(4)
    mc.load_state_dict({k: cgrad.tensor(v.numpy()) for k, v in source.state_dict().items()})
    assert repr(mc) == repr(mt) and type(mc).__name__ == type(mt).__name__
    np.testing.assert_array_equal(mc.weight.detach().numpy(), source.weight.detach().numpy())
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(mc(cgrad.tensor(x)).detach().numpy(), mt(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6)


@requires_torch
def test_errors_match_torch():
    assert_same_errors([
        lambda lib: lib.nn.LazyConv2d(4, 3)(lib.ones(3, 3)),
        lambda lib: lib.nn.LazyConv1d(4, 3, groups=2)(lib.ones(1, 3, 5)),
        lambda lib: lib.nn.parameter.UninitializedParameter().shape,
    ], torch, cgrad)


def test_training_step_without_torch():
    model = nn.Sequential(nn.LazyConv2d(3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    opt = cgrad.optim.SGD(model.parameters(), lr=0.1)
    x = cgrad.ones(4, 2, 5, 5)
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
    assert type(model[0]) is nn.Conv2d and type(model[3]) is nn.Linear
    assert tuple(model[0].weight.shape) == (3, 2, 3, 3) and tuple(model[3].weight.shape) == (2, 75)
    assert model[3].weight.grad is not None and model(x).pow(2).mean().item() < loss.item()
    assert cgrad.nn.parameter.is_lazy(nn.LazyLinear(2).weight)
