"""cgrad.save / cgrad.load in PyTorch's checkpoint format: files written by
torch 2.13 in the test itself (zip and legacy formats) load into cgrad with
every dtype cgrad has and views still sharing storage; files cgrad writes
load in torch with weights_only=True; cgrad's earlier format still loads."""
import collections
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _values(t):
    return t.detach().numpy()


def _torch_checkpoint():
    base = torch.arange(12.).reshape(3, 4)
    obj = {f"t_{dt}": (torch.arange(6) % 2).to(getattr(torch, dt)).reshape(2, 3) for dt in DTYPES}
    obj.update({"base": base, "col": base[:, 1], "tail": base.view(-1)[5:], "trans": base.t(),
                "grad": torch.ones(2, requires_grad=True), "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 2),
                "size": torch.Size([2, 3]), "dtype": torch.float16, "nested": [(1, 2.5, None, "s", b"by", {"k": 1})],
                "odict": collections.OrderedDict(a=torch.ones(1)), "set": {1, 2}})
    return obj


@requires_torch
@pytest.mark.parametrize("legacy", [False, True])
def test_load_torch_written_checkpoint(tmp_path, legacy):
    obj = _torch_checkpoint()
    path = tmp_path / "ckpt.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    back = cgrad.load(path)
    for dt in DTYPES:
        t = back[f"t_{dt}"]
        assert str(t.dtype) == f"cgrad.{dt}" and np.array_equal(_values(t), obj[f"t_{dt}"].numpy())
    for key in ("base", "col", "tail", "trans", "scalar", "empty"):
        assert tuple(back[key].shape) == tuple(obj[key].shape)
        assert back[key].stride() == obj[key].stride() and back[key].storage_offset() == obj[key].storage_offset()
        assert np.array_equal(_values(back[key]), obj[key].numpy())
    assert back["grad"].requires_grad and back["grad"].is_leaf
    assert back["size"] == cgrad.Size([2, 3]) and type(back["size"]) is cgrad.Size
    assert back["dtype"] is cgrad.float16
    assert back["nested"] == [(1, 2.5, None, "s", b"by", {"k": 1})] and back["set"] == {1, 2}
    assert type(back["odict"]) is collections.OrderedDict
    back["base"][0, 1] = 100.0                     # views loaded from one storage still share it
    assert back["col"][0].item() == 100.0 and back["trans"][1, 0].item() == 100.0
    assert back["tail"][0].item() == 5.0


@requires_torch
def test_load_torch_state_dicts_and_mmap(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    opt = torch.optim.Adam(net.parameters())
    net(torch.randn(5, 4)).sum().backward()
    opt.step()
    path = tmp_path / "sd.pt"
    torch.save({"model": net.state_dict(), "optim": opt.state_dict(), "param": net[0].weight}, path)
    for mmap in (False, True):
        back = cgrad.load(str(path), mmap=mmap, map_location="cpu")
        mine = cgrad.nn.Sequential(cgrad.nn.Linear(4, 3), cgrad.nn.ReLU(), cgrad.nn.Linear(3, 2))
        mine.load_state_dict(back["model"])
        x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
        np.testing.assert_allclose(_values(mine(cgrad.tensor(x))), net(torch.tensor(x)).detach().numpy(), rtol=1e-6)
        state = back["optim"]["state"][0]
        assert np.array_equal(_values(state["exp_avg"]), opt.state_dict()["state"][0]["exp_avg"].numpy())
        assert type(back["param"]) is cgrad.nn.Parameter and back["param"].requires_grad
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        cgrad.load(open(path, "rb"), mmap=True)


@requires_torch
def test_torch_reads_what_cgrad_writes(tmp_path):
    base = cgrad.arange(12.).reshape(3, 4)
    obj = {f"t_{dt}": (cgrad.arange(6) % 2).to(getattr(cgrad, dt)).reshape(2, 3) for dt in DTYPES}
    obj.update({"base": base, "col": base[:, 1], "trans": base.t(), "param": cgrad.nn.Parameter(cgrad.ones(2)),
                "size": cgrad.Size([4]), "dtype": cgrad.int8, "grad": cgrad.ones(2, requires_grad=True),
                "nested": [(1, None, "x", {"y": 2.0})], "odict": collections.OrderedDict(b=cgrad.zeros(1))})
    for legacy in (False, True):
        path = tmp_path / f"c{legacy}.pt"
        cgrad.save(obj, path, _use_new_zipfile_serialization=not legacy)
        back = torch.load(path, weights_only=True)
        for dt in DTYPES:
            assert back[f"t_{dt}"].dtype == getattr(torch, dt)
            assert np.array_equal(back[f"t_{dt}"].numpy(), _values(obj[f"t_{dt}"]))
        assert back["trans"].stride() == (1, 4) and back["col"].storage_offset() == 1
        back["base"][0, 1] = -1.0
        assert back["col"][0].item() == -1.0                      # one storage in the file
        assert type(back["param"]) is torch.nn.Parameter and back["grad"].requires_grad
        assert back["size"] == torch.Size([4]) and back["dtype"] is torch.int8
        assert back["nested"] == [(1, None, "x", {"y": 2.0})] and type(back["odict"]) is collections.OrderedDict
        again = cgrad.load(path)
        assert np.array_equal(_values(again["base"]), _values(base))


def test_zip_storages_are_64_byte_aligned(tmp_path):
    path = tmp_path / "x.pt"
    cgrad.save({"a": cgrad.ones(3), "b": cgrad.zeros(5, dtype=cgrad.int8), "c": cgrad.ones(7, dtype=cgrad.float64)}, path)
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        names = z.namelist()
        assert names[0] == "x/data.pkl" and "x/version" in names and "x/byteorder" in names
        for info in z.infolist():
            if "/data/" in info.filename:
                f.seek(info.header_offset + 26)
                n, e = np.frombuffer(f.read(4), "<u2")
                assert (info.header_offset + 30 + n + e) % 64 == 0


def test_round_trip_without_torch_and_module_pickling(tmp_path):
    net = cgrad.nn.Sequential(cgrad.nn.Linear(3, 2), cgrad.nn.Tanh())
    path = tmp_path / "model.pt"
    cgrad.save(net, path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        cgrad.load(path)
    back = cgrad.load(path, weights_only=False)
    x = cgrad.randn(4, 3)
    assert np.array_equal(_values(back(x)), _values(net(x)))
    buf = io.BytesIO()
    cgrad.save([cgrad.arange(3), (cgrad.tensor(2.0),)], buf)
    buf.seek(0)
    a, (b,) = cgrad.load(buf)
    assert a.tolist() == [0, 1, 2] and b.item() == 2.0


Point = collections.namedtuple("Point", "x")


def test_safe_globals_allow_a_class(tmp_path):
    path = tmp_path / "pt.pt"
    cgrad.save({"point": Point(1)}, path)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL test_serialization.Point was not an allowed global"):
        cgrad.load(path)
    cgrad.serialization.add_safe_globals([Point])
    try:
        assert cgrad.load(path)["point"] == Point(1)
    finally:
        cgrad.serialization.clear_safe_globals()


@requires_torch
def test_weights_only_error_text_matches_torch(tmp_path):
    path = tmp_path / "obj.pt"
    torch.save({"x": collections.deque([1])}, path)
    with pytest.raises(pickle.UnpicklingError) as mine:
        cgrad.load(path)
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(path)
    expected = str(theirs.value).replace("torch.serialization.", "cgrad.serialization.").replace(
        "Re-running `torch.load`", "Re-running `cgrad.load`")
    assert str(mine.value) == expected
    with cgrad.serialization.safe_globals([collections.deque]):
        assert cgrad.load(path)["x"] == collections.deque([1])
    assert cgrad.serialization.get_safe_globals() == []


def test_cgrad_v1_files_still_load(tmp_path):
    path = tmp_path / "old.cgrad"
    arr = np.arange(4, dtype=np.int16)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("structure.json", json.dumps({"format": "cgrad-save-v1", "object": {
            "w": {"__tensor__": "t0", "dtype": "int16", "requires_grad": False},
            "t": {"__tuple__": [1, 2]}, "k": {"__items__": [[1, "one"]], "__ordered__": True}}}))
        buf = io.BytesIO()
        np.save(buf, arr)
        z.writestr("t0.npy", buf.getvalue())
    back = cgrad.load(path)
    assert back["w"].dtype == cgrad.int16 and back["w"].tolist() == [0, 1, 2, 3]
    assert back["t"] == (1, 2) and back["k"] == {1: "one"}


@requires_torch
def test_cuda_locations_need_map_location(tmp_path):
    path = tmp_path / "cuda.pt"
    torch.save({"w": torch.ones(2)}, path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    pkl = [n for n in members if n.endswith("data.pkl")][0]
    members[pkl] = members[pkl].replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    with zipfile.ZipFile(path, "w") as z:
        for n, d in members.items():
            z.writestr(n, d)
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        cgrad.load(path)
    assert cgrad.load(path, map_location="cpu")["w"].tolist() == [1.0, 1.0]
    assert cgrad.load(path, map_location={"cuda:0": "cpu"})["w"].tolist() == [1.0, 1.0]
