"""Tensor.share_memory_ / is_shared, the storage objects' forms,
Module.share_memory and the sharing strategies, against torch; shared
memory seen from a forked child; no file or descriptor outlives its tensors."""
import os
import pickle
import warnings
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import cgrad
import cgrad.multiprocessing as cmp
from helpers import requires_torch, torch

LIBS = ["cgrad"] + (["torch"] if torch is not None else [])


def lib_of(name):
    return cgrad if name == "cgrad" else torch


@pytest.fixture(params=["file_descriptor", "file_system"])
def strategy(request):
    previous = cmp.get_sharing_strategy()
    cmp.set_sharing_strategy(request.param)
    if torch is not None:
        torch.multiprocessing.set_sharing_strategy(request.param)
    yield request.param
    cmp.set_sharing_strategy(previous)
    if torch is not None:
        torch.multiprocessing.set_sharing_strategy(previous)


def share_facts(lib):
    """is_shared and values around share_memory_, as torch reports them."""
    a = lib.arange(6.0)
    facts = [a.is_shared()]
    r = a.share_memory_()
    v = a[2:]
    a[3] = 30.0
    facts += [r is a, a.is_shared(), v.is_shared(), a.tolist(), v.tolist(), a.share_memory_() is a]
    facts += [a.data.is_shared(), a.detach().is_shared(), a.clone().is_shared(), (a + 1).is_shared()]
    facts += [lib.empty(0).share_memory_().is_shared()]
    i = lib.tensor([[1, 2], [3, 4]], dtype=lib.int16).t()
    facts += [i.share_memory_().tolist(), i.is_shared(), i.stride()]
    p = lib.nn.Parameter(lib.ones(3))
    facts += [type(p.share_memory_()).__name__, p.is_shared(), p.requires_grad]
    return facts


@pytest.mark.parametrize("name", LIBS)
def test_share_memory_facts(name, strategy):
    assert share_facts(lib_of(name)) == [False, True, True, True, [0.0, 1.0, 2.0, 30.0, 4.0, 5.0],
                                         [2.0, 30.0, 4.0, 5.0], True, True, True, False, False, True,
                                         [[1, 3], [2, 4]], True, (1, 2), "Parameter", True, True]


def storage_facts(lib):
    x = lib.arange(4.0)
    s = x.untyped_storage()
    facts = [s.is_shared(), s.share_memory_() is s, s.is_shared(), x.is_shared()]
    x[0] = 7.0
    facts += [x.untyped_storage().tolist()[:4], x.tolist()]
    y = lib.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = y.storage()
    facts += [t.is_shared(), t.share_memory_() is t, y.is_shared()]
    return facts


@pytest.mark.parametrize("name", LIBS)
def test_storage_share_memory(name):
    assert storage_facts(lib_of(name)) == [False, True, True, True, [0, 0, 224, 64], [7.0, 1.0, 2.0, 3.0],
                                           False, True, True]


@requires_torch
def test_module_share_memory_matches_torch():
    seen = {}
    for name in ("torch", "cgrad"):
        lib = lib_of(name)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        model[0].weight.grad = lib.zeros(4, 3)
        before = [p.detach().clone() for p in model.parameters()]
        assert model.share_memory() is model
        seen[name] = ([p.is_shared() for p in model.parameters()], model[0].weight.grad.is_shared(),
                      model[0].bias.grad is None, [b.is_shared() for b in model.buffers()],
                      all((p.detach() == q).all().item() for p, q in zip(model.parameters(), before)))
    assert seen["cgrad"] == seen["torch"]
    assert seen["cgrad"][0] == [True] * 4


@requires_torch
def test_errors_match_torch():
    texts = {}
    for name in ("torch", "cgrad"):
        lib = lib_of(name)
        nonleaf = lib.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError) as info:
            ForkingPickler.dumps(nonleaf)
        with pytest.raises(AssertionError) as strategy_info:
            lib.multiprocessing.set_sharing_strategy("shared")
        texts[name] = (str(info.value), str(strategy_info.value).replace("'", ""))
    assert texts["cgrad"][0] == texts["torch"][0]
    # the set's order in the message is the set's iteration order
    assert sorted(texts["cgrad"][1].split("{")[1]) == sorted(texts["torch"][1].split("{")[1])
    assert texts["cgrad"][1].split("{")[0] == texts["torch"][1].split("{")[0]
    assert cmp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    assert cmp.get_sharing_strategy() == torch.multiprocessing.get_sharing_strategy()


def test_shared_tensor_cannot_resize():
    a = cgrad.zeros(3).share_memory_()
    with pytest.raises(RuntimeError, match="Trying to resize storage that is not resizable"):
        a.resize_(10)


@pytest.mark.parametrize("name", LIBS)
def test_sending_moves_to_shared_memory(name):
    lib = lib_of(name)
    b = lib.ones(3, requires_grad=True)
    payload = ForkingPickler.dumps(b)
    assert b.is_shared()
    got = pickle.loads(payload)
    assert got.requires_grad and got.is_shared() and got.is_leaf
    with lib.no_grad():
        got[0] = 5.0
    assert b.tolist() == [5.0, 1.0, 1.0]


@pytest.mark.parametrize("numel", [3, 100_000, 2_000_000], ids=["inline", "heap", "own_mapping"])
def test_forked_child_writes_are_seen(numel, strategy):
    a = cgrad.arange(float(numel))
    a.share_memory_()
    tail = a[numel - 2:]
    pid = os.fork()
    if pid == 0:
        try:
            a[0] = -1.0
            tail[1] = -2.0
        finally:
            os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    assert a[0].item() == -1.0 and a[numel - 1].item() == -2.0 and tail[1].item() == -2.0
    assert a[1].item() == 1.0


def test_large_buffer_moves_in_place():
    # a buffer with pages of its own is remapped where it is: views and numpy
    # arrays made before the move share it too
    a = cgrad.zeros(2_000_000)
    before = a.numpy()
    view = a[10:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a.share_memory_()
    assert view.is_shared() and a.data_ptr() == before.ctypes.data
    pid = os.fork()
    if pid == 0:
        a[10] = 3.0
        os._exit(0)
    os.waitpid(pid, 0)
    assert before[10] == 3.0 and view[0].item() == 3.0


def test_earlier_view_of_small_buffer_warns_and_stays_private():
    a = cgrad.zeros(8)
    early = a[2:]
    with pytest.warns(UserWarning, match="1 other reference"):
        a.share_memory_()
    # early still points at the old buffer (kept alive for it), so it is not shared
    assert a.is_shared() and not early.is_shared()
    a[2] = 1.0
    late = a[2:]
    assert late.is_shared() and late[0].item() == 1.0


def shm_files():
    return {f for f in os.listdir("/dev/shm") if f.startswith(f"cgrad_{os.getpid()}_")}


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def test_nothing_left_behind(strategy):
    import gc
    gc.collect()
    fds, files = open_fds(), shm_files()
    tensors = [cgrad.arange(float(n)).share_memory_() for n in (1, 40, 1000, 2_000_000)]
    received = [pickle.loads(ForkingPickler.dumps(t)) for t in tensors[:3]] if strategy == "file_system" else []
    if strategy == "file_system":
        assert len(shm_files() - files) == 4
    else:
        assert open_fds() == fds + 4          # one descriptor per shared storage, to send it again
    del tensors, received
    gc.collect()
    assert shm_files() == files
    assert open_fds() == fds


def test_named_files_released_at_exit():
    import subprocess
    import sys
    code = ("import cgrad, cgrad.multiprocessing as mp, os\n"
            "mp.set_sharing_strategy('file_system')\n"
            "kept = [cgrad.ones(5).share_memory_()]\n"
            "kept.append(kept)\n"          # a cycle: never freed before exit
            "from multiprocessing.reduction import ForkingPickler\n"
            "ForkingPickler.dumps(cgrad.zeros(3))\n"      # a message never received
            "print(os.getpid())\n")
    pid = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=60).stdout.strip()
    assert [f for f in os.listdir("/dev/shm") if f.startswith(f"cgrad_{pid}_")] == []


def test_values_survive_every_dtype():
    for dt in (cgrad.float32, cgrad.float64, cgrad.float16, cgrad.int64, cgrad.int32, cgrad.int16, cgrad.int8,
               cgrad.uint8, cgrad.bool):
        x = cgrad.arange(10).to(dt)
        expect = x.clone()
        assert cgrad.equal(x.share_memory_(), expect) and x.is_shared()
        y = pickle.loads(ForkingPickler.dumps(x[1::3]))
        assert y.dtype == dt and cgrad.equal(y, expect[1::3])


def test_numpy_bridge_after_sharing():
    a = cgrad.zeros(5).share_memory_()
    n = a.numpy()
    n[1] = 4.0
    assert a[1].item() == 4.0
    b = cgrad.from_numpy(np.arange(4.0))
    b.share_memory_()
    assert b.is_shared() and b.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("nbytes", [10, 8 << 20])
def test_new_shared_storage(name, nbytes):
    s = lib_of(name).UntypedStorage._new_shared(nbytes)
    assert s.is_shared() and s.nbytes() == nbytes
    assert [s[i] for i in (0, nbytes // 2, nbytes - 1)] == [0, 0, 0]


@pytest.mark.parametrize("name", LIBS)
def test_grad_is_not_sent(name):
    # mnist_hogwild relies on it: each worker's gradients are its own
    lib = lib_of(name)
    p = lib.nn.Parameter(lib.ones(2))
    p.grad = lib.full((2,), 3.0)
    q = pickle.loads(ForkingPickler.dumps(p))
    assert (type(q).__name__, q.grad, q.requires_grad, p.is_shared(), p.grad.is_shared()) == \
        ("Parameter", None, True, True, False)
