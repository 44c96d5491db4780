"""cgrad.jit.script against torch.jit.script: the same modules and
functions scripted through both give the same outputs and gradients;
the scripted tree shares the original's parameters as torch's does;
@ignore/@unused/@export, freeze, optimize_for_inference and the misuse
errors as torch's."""
import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
from tests.helpers import requires_torch, torch
from tests.jit.jit_models import copy_weights, make_classes, rand

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.* is deprecated:DeprecationWarning")

CNet, CWithIgnored, CBranchy = make_classes(cgrad)


def _pair():
    """(cgrad module, torch module) with the same weights."""
    TNet = make_classes(torch)[0]
    c, t = CNet(), TNet()
    copy_weights(c, t, torch)
    return c, t


@requires_torch
def test_scripted_module_outputs_and_gradients_match_torch():
    c, t = _pair()
    sc, st = cgrad.jit.script(c), torch.jit.script(t)
    x = rand(5, 4)
    xc, xt = cgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oc, ot = sc(xc), st(xt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-5, atol=1e-6)
    oc.pow(2).sum().backward()
    ot.pow(2).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (name, pc), (_, pt) in zip(c.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pc.grad.numpy(), pt.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(sc.embed(xc).detach().numpy(), st.embed(xt).detach().numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
def test_scripted_module_structure_matches_torch():
    c, t = _pair()
    sc, st = cgrad.jit.script(c), torch.jit.script(t)
    assert type(sc).__name__ == type(st).__name__ == "RecursiveScriptModule"
    assert isinstance(sc, cgrad.jit.ScriptModule) and isinstance(sc, cnn.Module)
    assert isinstance(sc.fc1, cgrad.jit.RecursiveScriptModule)
    assert repr(sc) == repr(st)
    assert list(sc.state_dict()) == list(st.state_dict())
    assert [n for n, _ in sc.named_parameters()] == [n for n, _ in st.named_parameters()]
    assert sc.original_name == st.original_name == "Net"
    assert sc.scale == st.scale == 2.0
    # parameters and buffers are the original's objects, in both libraries
    assert (sc.fc1.weight is c.fc1.weight) == (st.fc1.weight is t.fc1.weight) is True
    assert (sc.shift is c.shift) == (st.shift is t.shift) is True
    # the training flags are the scripted tree's own
    sc.eval()
    st.eval()
    assert (sc.training, sc.fc1.training, c.training) == (st.training, st.fc1.training, t.training) == \
        (False, False, True)


def test_optimizer_on_scripted_module_updates_original():
    c = CNet()
    sc = cgrad.jit.script(c)
    before = c.fc1.weight.detach().clone()
    opt = cgrad.optim.SGD(sc.parameters(), lr=0.1)
    sc(cgrad.tensor(rand(3, 4))).sum().backward()
    opt.step()
    assert not cgrad.equal(before, c.fc1.weight.detach())
    assert cgrad.equal(sc.fc1.weight, c.fc1.weight)


@requires_torch
def test_scripted_sequential_iterates_like_torch():
    sc = cgrad.jit.script(cnn.Sequential(cnn.Linear(2, 2), cnn.ReLU()))
    st = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()))
    assert repr(sc) == repr(st)
    assert len(sc) == len(st) == 2
    copy_weights(sc, st, torch)
    x = rand(3, 2)
    np.testing.assert_allclose(sc(cgrad.tensor(x)).detach().numpy(), st(torch.tensor(x)).detach().numpy(), rtol=1e-6)


def test_scripted_module_list_and_dict():
    class Stack(cnn.Module):
        def __init__(self):
            super().__init__()
            self.layers = cnn.ModuleList([cnn.Linear(2, 2) for _ in range(3)])
            self.heads = cnn.ModuleDict({"a": cnn.Linear(2, 1)})

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.heads["a"](x)

    m = Stack()
    x = cgrad.tensor(rand(4, 2))
    assert cgrad.equal(cgrad.jit.script(m)(x), m(x))


@requires_torch
def test_ignore_and_unused_as_torch():
    TWithIgnored = make_classes(torch)[1]
    c, t = CWithIgnored(), TWithIgnored()
    copy_weights(c, t, torch)
    sc, st = cgrad.jit.script(c), torch.jit.script(t)
    x = rand(4, 3)
    np.testing.assert_allclose(sc(cgrad.tensor(x)).detach().numpy(), st(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(torch.jit.Error, match="This Python function is annotated to be ignored and cannot be run"):
        st(torch.tensor(x), True)
    with pytest.raises(cgrad.jit.Error, match="This Python function is annotated to be ignored and cannot be run"):
        sc(cgrad.tensor(x), True)
    # called directly from Python, an unused method runs, in both
    assert cgrad.equal(sc.never(cgrad.tensor(x)), cgrad.tensor(x))
    assert torch.equal(st.never(torch.tensor(x)), torch.tensor(x))
    # the original module is eager Python: its unused method runs from forward
    assert cgrad.equal(c(cgrad.tensor(x), True), cgrad.tensor(x))


def test_ignored_function_called_from_scripted_code_may_call_unused():
    @cgrad.jit.unused
    def helper(x):
        return x + 1

    @cgrad.jit.ignore
    def python_side(x):
        return helper(x)

    def scripted_calls_unused(x):
        return helper(x)

    x = cgrad.ones(2)
    assert cgrad.equal(cgrad.jit.script(python_side)(x), x + 1)
    with pytest.raises(cgrad.jit.Error):
        cgrad.jit.script(scripted_calls_unused)(x)
    assert cgrad.equal(helper(x), x + 1)


@requires_torch
def test_script_function_matches_torch():
    def cfn(x, y):
        return cgrad.sigmoid(x) * y + x.sum()

    def tfn(x, y):
        return torch.sigmoid(x) * y + x.sum()

    sc, st = cgrad.jit.script(cfn), torch.jit.script(tfn)
    assert isinstance(sc, cgrad.jit.ScriptFunction) and sc.name == st.name.replace("tfn", "cfn")
    a, b = rand(3), rand(3, seed=1)
    ac, bc = cgrad.tensor(a, requires_grad=True), cgrad.tensor(b)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b)
    oc, ot = sc(ac, bc), st(at, bt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-6)
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(ac.grad.numpy(), at.grad.numpy(), rtol=1e-5)
    assert "not TorchScript" in sc.code and "def cfn" in sc.code
    assert "not TorchScript IR" in str(sc.graph)


@requires_torch
@pytest.mark.parametrize("make", [lambda lib: 3, lambda lib: "s", lambda lib: None, lambda lib: lib.nn.Linear,
                                  lambda lib: int, lambda lib: len])
def test_script_misuse_errors_match_torch(make):
    with pytest.raises(Exception) as expected:
        torch.jit.script(make(torch))
    with pytest.raises(type(expected.value)) as got:
        cgrad.jit.script(make(cgrad))
    assert str(got.value) == str(expected.value).replace("torch.nn.modules", "cgrad.nn.modules")


def test_script_plain_class_and_already_scripted():
    class Plain:
        pass

    assert cgrad.jit.script(Plain) is Plain
    sc = cgrad.jit.script(CNet())
    assert cgrad.jit.script(sc) is sc


@requires_torch
def test_freeze_and_optimize_for_inference_as_torch():
    c, t = _pair()
    for fn in ("freeze", "optimize_for_inference"):
        for lib, m in ((cgrad, c), (torch, t)):
            with pytest.raises(RuntimeError, match="expects a ScriptModule as input"):
                getattr(lib.jit, fn)(m)
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        cgrad.jit.freeze(cgrad.jit.script(c))
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        torch.jit.freeze(torch.jit.script(t))
    x = rand(2, 4)
    for frozen_c, frozen_t in ((cgrad.jit.freeze(cgrad.jit.script(c).eval()),
                                torch.jit.freeze(torch.jit.script(t).eval())),
                               (cgrad.jit.optimize_for_inference(cgrad.jit.script(c)),
                                torch.jit.optimize_for_inference(torch.jit.script(t)))):
        assert isinstance(frozen_c, cgrad.jit.RecursiveScriptModule)
        assert list(frozen_c.parameters()) == list(frozen_t.parameters()) == []
        assert list(frozen_c.state_dict()) == list(frozen_t.state_dict()) == []
        xc = cgrad.tensor(x, requires_grad=True)
        out = frozen_c(xc)
        np.testing.assert_allclose(out.detach().numpy(), frozen_t(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        out.sum().backward()
        assert c.fc1.weight.grad is None       # frozen constants are not the parameters
        assert xc.grad is not None


def test_is_scripting_false_in_scripted_code():
    seen = []

    def fn(x):
        seen.append(cgrad.jit.is_scripting())
        return x

    cgrad.jit.script(fn)(cgrad.ones(1))
    assert seen == [False] and cgrad.jit.is_scripting() is False
