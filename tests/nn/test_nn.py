"""cgrad.nn, cgrad.optim in training, save/load, pickling and the graph
picture: compared with torch where it is installed."""
import copy
import io
import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

# The folder holding the cgrad under test (the worktree, or site-packages when
# the suite runs against an installed wheel): subprocesses import the same one.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cgrad.__file__)))


def mlp(lib, dtype=None):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))


def copy_weights(src, dst_lib, dst):
    with dst_lib.no_grad():
        for p, q in zip(src.parameters(), dst.parameters()):
            q.copy_(dst_lib.tensor(p.detach().numpy().copy()))


# --- Module behaviour -------------------------------------------------------------

@requires_torch
def test_module_repr_names_and_state_dict_match_torch():
    def describe(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.body = mlp(lib)
                self.scale = lib.nn.Parameter(lib.ones(1))
                self.register_buffer("running", lib.zeros(3))
                self.drop = lib.nn.Dropout(0.25)
                self.loss = lib.nn.CrossEntropyLoss()

            def forward(self, x):
                return self.drop(self.body(x)) * self.scale

        net = Net()
        return (repr(net), [n for n, _ in net.named_parameters()], list(net.state_dict()),
                [n for n, _ in net.named_buffers()], [type(m).__name__ for m in net.children()],
                [n for n, _ in net.named_modules()], repr(lib.nn.Linear(2, 3, bias=False)),
                repr(lib.nn.Parameter(lib.ones(2))).replace("torch.", "cgrad."))
    assert describe(cgrad) == describe(torch)


def test_module_attribute_rules():
    m = cgrad.nn.Linear(2, 3)
    assert isinstance(m.weight, cgrad.nn.Parameter) and m.weight.requires_grad and m.weight.is_leaf
    assert tuple(m.weight.shape) == (3, 2)
    with pytest.raises(AttributeError, match="^'Linear' object has no attribute 'foo'$"):
        m.foo
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'weight'"):
        m.weight = 3
    m.train(False)
    assert not m.training and all(not x.training for x in m.modules())
    seq = cgrad.nn.Sequential(m, cgrad.nn.ReLU())
    assert len(seq) == 2 and seq[0] is m and isinstance(seq[-1], cgrad.nn.ReLU)
    seq.zero_grad()
    bound = 1 / np.sqrt(2)
    assert np.all(np.abs(m.weight.detach().numpy()) <= bound)


def test_load_state_dict_errors_change_nothing():
    net = mlp(cgrad)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    bad = dict(net.state_dict())
    del bad["0.bias"]
    bad["2.weight"] = cgrad.zeros(5, 5)
    bad["extra"] = cgrad.ones(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in "
                          'state_dict: "0.bias". \n\tUnexpected key(s) in state_dict: "extra". \n\t'
                          "size mismatch for 2.weight: copying a param with shape cgrad.Size([5, 5]) "
                          "from checkpoint, the shape in current model is cgrad.Size([8, 8]).")
    for k, v in net.state_dict().items():
        assert np.array_equal(v.numpy(), before[k].numpy())
    result = net.load_state_dict({k: v for k, v in before.items() if k != "0.bias"}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == []


@requires_torch
def test_load_state_dict_error_text_matches_torch():
    texts = []
    for lib in (cgrad, torch):
        net = mlp(lib)
        bad = dict(net.state_dict())
        del bad["0.bias"]
        bad["2.weight"] = lib.zeros(5, 5)
        with pytest.raises(RuntimeError) as info:
            net.load_state_dict(bad)
        texts.append(str(info.value).replace("torch.", "cgrad."))
    assert texts[0] == texts[1]


# --- training against torch ---------------------------------------------------------

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("Adam", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.05)),
]


@requires_torch
@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_training_steps_match_torch(name, kwargs, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6)).astype(dtype)
    y = rng.integers(0, 3, 32)
    nets = {}
    ref = mlp(cgrad).to(getattr(cgrad, dtype))
    for lib in (cgrad, torch):
        net = mlp(lib).to(getattr(lib, dtype))
        copy_weights(ref, lib, net)
        opt = getattr(lib.optim, name)(net.parameters(), **kwargs)
        loss_fn = lib.nn.CrossEntropyLoss()
        xt, yt = lib.tensor(x), lib.tensor(y)
        for _ in range(5):
            opt.zero_grad()
            loss = loss_fn(net(xt), yt)
            loss.backward()
            opt.step()
        nets[lib.__name__] = [p.detach().numpy().copy() for p in net.parameters()]
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for a, b in zip(nets["cgrad"], nets["torch"]):
        np.testing.assert_allclose(a, b, **tol)


def test_mse_training_reduces_loss():
    cgrad.manual_seed(0)
    net = cgrad.nn.Sequential(cgrad.nn.Linear(3, 16), cgrad.nn.Sigmoid(), cgrad.nn.Linear(16, 1))
    x = cgrad.randn(64, 3)
    y = (x * cgrad.tensor([1.0, -2.0, 0.5])).sum(1, keepdim=True)
    opt = cgrad.optim.Adam(net.parameters(), lr=0.02)
    loss_fn = cgrad.nn.MSELoss()
    first = None
    for _ in range(200):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.05 * first


# --- save / load / pickle -------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    net = mlp(cgrad)
    opt = cgrad.optim.Adam(net.parameters(), lr=0.01)
    net(cgrad.randn(4, 6)).sum().backward()
    opt.step()
    obj = {"model": net.state_dict(), "optim": opt.state_dict(), "epoch": 3, "name": "mlp",
           "shape": (2, 3), "grad": cgrad.ones(2, requires_grad=True), "none": None}
    path = tmp_path / "ckpt.cgrad"
    cgrad.save(obj, str(path))
    back = cgrad.load(str(path))
    assert back["epoch"] == 3 and back["name"] == "mlp" and back["shape"] == (2, 3) and back["none"] is None
    assert back["grad"].requires_grad
    for k, v in obj["model"].items():
        assert back["model"][k].dtype == v.dtype and np.array_equal(back["model"][k].numpy(), v.numpy())
    net2 = mlp(cgrad)
    net2.load_state_dict(back["model"])
    opt2 = cgrad.optim.Adam(net2.parameters(), lr=0.01)
    opt2.load_state_dict(back["optim"])
    assert opt2.state_dict()["state"][0]["step"].item() == 1.0
    buf = io.BytesIO()
    cgrad.save(cgrad.arange(5), buf)
    buf.seek(0)
    assert cgrad.load(buf).tolist() == [0, 1, 2, 3, 4]


def test_load_never_unpickles(tmp_path):
    import zipfile
    path = tmp_path / "evil.cgrad"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("structure.json", '{"format": "cgrad-save-v1", "object": {"__tensor__": "t0"}}')
        buf = io.BytesIO()
        np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
        z.writestr("t0.npy", buf.getvalue())
    with pytest.raises(ValueError, match="allow_pickle"):
        cgrad.load(str(path))
    # cgrad.save pickles any object, as torch.save does; weights_only loading refuses it
    cgrad.save({"x": object()}, str(tmp_path / "obj.pt"))
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL object was not an allowed global"):
        cgrad.load(str(tmp_path / "obj.pt"))


def test_pickle_and_deepcopy():
    t = cgrad.tensor([[1.0, 2.0]], requires_grad=True)
    (t * 2).sum().backward()
    u = pickle.loads(pickle.dumps(t))
    assert u.requires_grad and u.grad is None and u.tolist() == [[1.0, 2.0]]
    d = copy.deepcopy(t)
    assert d.requires_grad and d.grad.tolist() == [[2.0, 2.0]] and d is not t
    p = cgrad.nn.Parameter(cgrad.ones(2))
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is cgrad.nn.Parameter and q.requires_grad
    net = mlp(cgrad)
    net2 = copy.deepcopy(net)
    assert all(np.array_equal(a.detach().numpy(), b.detach().numpy())
               for a, b in zip(net.parameters(), net2.parameters()))
    assert all(a is not b for a, b in zip(net.parameters(), net2.parameters()))
    with pytest.raises(RuntimeError, match="^Only Tensors created explicitly by the user"):
        copy.deepcopy(t * 2)
    assert pickle.loads(pickle.dumps(net))[0].weight.shape == (8, 6)


# --- the graph picture -------------------------------------------------------------

def test_to_dot_nodes_and_edges():
    x = cgrad.tensor([2.0, 1.0], requires_grad=True)
    y = cgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z = cgrad.mm(x.view(1, 2), y).tanh().sum()
    dot = cgrad.viz.to_dot(z, params={"x": x, "y": y})
    nodes = dict(re.findall(r'^\s*(\w+) \[label="([^"]*)"', dot, flags=re.M))
    edges = re.findall(r"^\s*(\w+) -> (\w+)", dot, flags=re.M)
    labels = {v.split("\\n")[0] for v in nodes.values()}
    assert {"SumBackward0", "TanhBackward0", "MmBackward0", "ViewBackward0", "x", "y", "output"} <= labels
    by_label = {v.split("\\n")[0]: k for k, v in nodes.items() if not k.startswith("s")}
    for a, b in [("TanhBackward0", "SumBackward0"), ("MmBackward0", "TanhBackward0"),
                 ("ViewBackward0", "MmBackward0"), ("y", "MmBackward0"), ("x", "ViewBackward0")]:
        assert (by_label[a], by_label[b]) in edges, (a, b)
    assert any(v.startswith("saved") for v in nodes.values())
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")


def test_draw_explains_what_to_install(tmp_path):
    try:
        import graphviz  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install graphviz"):
            cgrad.viz.draw(cgrad.ones(2, requires_grad=True).sum(), str(tmp_path / "g.svg"))
        return
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    out = cgrad.viz.draw(cgrad.ones(2, requires_grad=True).sum(), str(tmp_path / "g.svg"))
    assert os.path.exists(out)


def test_draw_without_dot_leaves_no_file(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))     # no `dot` to be found
    monkeypatch.chdir(out_dir)
    with pytest.raises(RuntimeError, match="Graphviz's `dot` program was not found"):
        cgrad.viz.draw(cgrad.ones(2, requires_grad=True).sum(), "graph.png")
    assert sorted(os.listdir(out_dir)) == []


def test_draw_writes_the_named_file_only(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    monkeypatch.chdir(tmp_path)
    x = cgrad.ones(2, requires_grad=True)
    assert cgrad.viz.draw((x * 2).sum(), "graph.svg", params={"x": x}) == "graph.svg"
    assert sorted(os.listdir(tmp_path)) == ["graph.svg"]
    with open("graph.svg") as f:
        assert "<svg" in f.read()

