"""cgrad.jit.save / load: scripted and traced modules round-trip as data
(same outputs, parameters, training flags, extra files), and load refuses
what it would have to run or import code for."""
import io
import pickle
import zipfile

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
from tests.helpers import requires_torch, torch
from tests.jit.jit_models import make_classes, rand  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.* is deprecated:DeprecationWarning")


class CNet(cnn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = cnn.Linear(4, 6)
        self.fc2 = cnn.Linear(6, 3)
        self.register_buffer("shift", cgrad.zeros(3))
        self.register_buffer("scratch", cgrad.ones(1), persistent=False)

    def forward(self, x):
        return self.fc2(cgrad.tanh(self.fc1(x))) + self.shift


class ConvNet(cnn.Module):
    def __init__(self):
        super().__init__()
        self.conv = cnn.Conv2d(1, 2, 3, padding=1)
        self.norm = cnn.BatchNorm2d(2)
        self.act = cgrad.relu
        self.sizes = (2, {"k": [1, 2]})

    def forward(self, x):
        return self.act(self.norm(self.conv(x))).flatten(1)


def _round_trip(module, **kwargs):
    buffer = io.BytesIO()
    cgrad.jit.save(module, buffer, **kwargs)
    buffer.seek(0)
    return buffer


def test_scripted_module_round_trip():
    m = ConvNet()
    m.norm.running_mean.add_(0.5)
    sm = cgrad.jit.script(m).eval()
    loaded = cgrad.jit.load(_round_trip(sm))
    assert isinstance(loaded, cgrad.jit.RecursiveScriptModule)
    assert repr(loaded) == repr(sm) and loaded.training is False and loaded.norm.training is False
    assert list(loaded.state_dict()) == list(sm.state_dict())
    for key, value in sm.state_dict().items():
        assert cgrad.equal(loaded.state_dict()[key], value), key
    assert loaded.sizes == (2, {"k": [1, 2]}) and loaded.act is cgrad.relu
    assert isinstance(loaded.conv.weight, cnn.Parameter) and loaded.conv.weight.requires_grad
    assert loaded.conv.weight is not m.conv.weight
    x = cgrad.tensor(rand(2, 1, 4, 4))
    assert cgrad.allclose(loaded(x), sm(x))


def test_traced_module_round_trip_and_file_path(tmp_path):
    m = CNet()
    traced = cgrad.jit.trace(m, cgrad.tensor(rand(3, 4)))
    path = tmp_path / "net.pt"
    traced.save(str(path))
    loaded = cgrad.jit.load(str(path))
    assert isinstance(loaded, cgrad.jit.TopLevelTracedModule)
    y = cgrad.tensor(rand(3, 4, seed=9))
    assert cgrad.allclose(loaded(y), m(y))
    assert "linear" in str(loaded.graph)


def test_save_to_buffer_and_extra_files():
    sm = cgrad.jit.script(CNet())
    data = sm.save_to_buffer(_extra_files={"meta.txt": b"hello"})
    extra = {"meta.txt": "", "absent": "x"}
    loaded = cgrad.jit.load(io.BytesIO(data), _extra_files=extra)
    assert extra == {"meta.txt": b"hello", "absent": "x"}
    assert isinstance(loaded, cgrad.jit.ScriptModule)


@requires_torch
def test_save_of_a_plain_module_fails_as_torch():
    with pytest.raises(AttributeError) as expected:
        torch.jit.save(torch.nn.Linear(2, 2), io.BytesIO())
    with pytest.raises(AttributeError) as got:
        cgrad.jit.save(cnn.Linear(2, 2), io.BytesIO())
    assert str(got.value) == str(expected.value)


def test_save_refuses_classes_defined_in_functions():
    with pytest.raises(RuntimeError, match="is defined inside a function"):
        cgrad.jit.save(cgrad.jit.script(make_classes(cgrad)[0]()), io.BytesIO())


def test_save_refuses_attributes_it_cannot_rebuild_without_code():
    m = CNet()
    m.callback = lambda x: x
    with pytest.raises(RuntimeError, match="attribute 'callback' of CNet holds a function"):
        cgrad.jit.save(cgrad.jit.script(m), io.BytesIO())


class _Boom:
    def __reduce__(self):
        import os
        return (os.system, ("echo pwned",))


def _checkpoint_with(data):
    buffer = io.BytesIO()
    cgrad.save(data, buffer)
    buffer.seek(0)
    return buffer


def test_load_never_runs_code_from_the_file():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"format": "cgrad.jit module/1", "x": _Boom()}))
        z.writestr("archive/version", "3\n")
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="not a module saved by cgrad.jit.save"):
        cgrad.jit.load(buffer)


def test_load_refuses_classes_it_would_have_to_import_or_that_are_not_modules():
    root = cgrad.jit._serialization._encode_node(cgrad.jit.script(CNet()))
    for path, message in (("some_module_never_imported:Net", "is not imported; import it before loading"),
                          ("os:system", "is not an nn.Module subclass"),
                          ("builtins:dict", "is not an nn.Module subclass"),
                          ("cgrad.jit._script:RecursiveScriptModule", "is not an nn.Module subclass")):
        data = {"format": "cgrad.jit module/1", "root": dict(root, **{"class": path}), "traced_inputs": None,
                "extra_files": {}}
        with pytest.raises(RuntimeError, match=message):
            cgrad.jit.load(_checkpoint_with(data))
    assert "some_module_never_imported" not in __import__("sys").modules
    bad_function = dict(root, attributes={"f": {"__cgrad_jit_function__": "os:system"}})
    with pytest.raises(RuntimeError, match="only cgrad's own functions load"):
        cgrad.jit.load(_checkpoint_with({"format": "cgrad.jit module/1", "root": bad_function,
                                         "traced_inputs": None, "extra_files": {}}))


def test_load_refuses_other_files():
    with pytest.raises(RuntimeError, match="not a module saved by cgrad.jit.save"):
        cgrad.jit.load(io.BytesIO(b"garbage"))
    with pytest.raises(RuntimeError, match="use cgrad.load for it"):
        cgrad.jit.load(_checkpoint_with({"w": cgrad.ones(2)}))


@requires_torch
def test_torchscript_archive_is_refused(tmp_path):
    path = tmp_path / "ts.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(RuntimeError, match="not a module saved by cgrad.jit.save"):
        cgrad.jit.load(str(path))


def test_loaded_module_trains():
    loaded = cgrad.jit.load(_round_trip(cgrad.jit.script(CNet())))
    opt = cgrad.optim.SGD(loaded.parameters(), lr=0.05)
    x = cgrad.tensor(rand(4, 4))
    before = loaded(x).pow(2).sum().item()
    for _ in range(5):
        opt.zero_grad()
        loaded(x).pow(2).sum().backward()
        opt.step()
    assert loaded(x).pow(2).sum().item() < before
    np.testing.assert_(all(p.grad is not None for p in loaded.parameters()))


class LegacyScriptModule(cgrad.jit.ScriptModule):
    def __init__(self):
        super().__init__()
        self.w = cnn.Parameter(cgrad.full((3,), 2.0))

    @cgrad.jit.script_method
    def forward(self, x):
        return x * self.w


@requires_torch
def test_legacy_script_module_subclass_as_torch():
    class TorchLegacy(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.full((3,), 2.0))

        @torch.jit.script_method
        def forward(self, x):
            return x * self.w

    c, t = LegacyScriptModule(), TorchLegacy()
    assert cgrad.jit.script(c) is c and torch.jit.script(t) is t
    assert c(cgrad.ones(3)).tolist() == t(torch.ones(3)).tolist()
    buffer = io.BytesIO()
    torch.jit.save(t, buffer)
    buffer.seek(0)
    loaded_t = torch.jit.load(buffer)
    loaded_c = cgrad.jit.load(_round_trip(c))
    assert type(loaded_c).__name__ == type(loaded_t).__name__ == "RecursiveScriptModule"
    assert loaded_c(cgrad.ones(3)).tolist() == loaded_t(torch.ones(3)).tolist()
