"""Tensors through cgrad.multiprocessing's queues, pipes, Process arguments
and pools, with each start method: they arrive over the sender's memory
(writes on either side are seen by the other), keep dtype, geometry,
requires_grad and Parameter; spawn()'s errors are torch's. Every wait is
bounded: a hung child fails the test instead of hanging the suite."""
import os
import sys

import pytest

import cgrad
import cgrad.multiprocessing as cmp
import mp_workers
from helpers import requires_torch, torch

METHODS = [m for m in ("fork", "spawn", "forkserver") if m in cmp.get_all_start_methods()]
TIMEOUT = 20


# every start method by descriptor; by file name through a queue and through spawn's pickled arguments
CASES = [(m, "file_descriptor") for m in METHODS] + [(m, "file_system") for m in ("fork", "spawn")]


@pytest.fixture
def strategy(request):
    previous = cmp.get_sharing_strategy()
    cmp.set_sharing_strategy(request.param)
    yield request.param
    cmp.set_sharing_strategy(previous)


def finish(process):
    process.join(TIMEOUT)
    if process.is_alive():
        process.kill()
    assert process.exitcode == 0


@pytest.mark.parametrize("method,strategy", CASES, indirect=["strategy"])
def test_queue_both_ways(method, strategy):
    ctx = cmp.get_context(method)
    q_in, q_out = ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=mp_workers.receive_and_add, args=(q_in, q_out, "cgrad", 10))
    child.start()
    plain = cgrad.arange(6.0)                      # moved to shared memory when sent
    base = cgrad.arange(8, dtype=cgrad.int32).share_memory_()
    strided = base[1::3]
    param = cgrad.nn.Parameter(cgrad.ones(2, 3))
    sent = [plain, base, strided, param]
    for t in sent:
        q_in.put(t)
    q_in.put(None)
    seen = [q_out.get(timeout=TIMEOUT) for _ in sent]
    pointers = q_out.get(timeout=TIMEOUT)
    finish(child)
    assert [s["is_shared"] for s in seen] == [True] * 4
    assert [s["type"] for s in seen] == ["Tensor", "Tensor", "Tensor", "Parameter"]
    assert [s["requires_grad"] for s in seen] == [False, False, False, True]
    assert [s["dtype"] for s in seen] == ["float32", "int32", "int32", "float32"]
    assert seen[2]["stride"] == (3,) and seen[2]["shape"] == (3,) and seen[2]["values"] == [11, 14, 17]   # base got its +10 first
    assert pointers[1] == pointers[2]            # one storage in the child too
    # the child's writes are the parent's: base got +10 twice where strided covers it
    assert plain.tolist() == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    assert base.tolist() == [10, 21, 12, 13, 24, 15, 16, 27]
    assert param.detach().tolist() == [[11.0] * 3] * 2 and param.requires_grad and plain.is_shared()


@pytest.mark.parametrize("method,strategy", CASES, indirect=["strategy"])
def test_process_arguments(method, strategy):
    ctx = cmp.get_context(method)
    q_out = ctx.Queue()
    a = cgrad.zeros(2, 2)
    b = cgrad.full((300,), 2.0, dtype=cgrad.float64).share_memory_()
    child = ctx.Process(target=mp_workers.add_to_args, args=([a, b], 1.0, "cgrad", q_out))
    child.start()
    seen = q_out.get(timeout=TIMEOUT)
    finish(child)
    if method == "fork":
        # fork pickles nothing (the child has the objects themselves): only
        # what was shared before it is shared, as with torch
        assert [s["is_shared"] for s in seen] == [False, True]
        assert a.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    else:
        assert all(s["is_shared"] for s in seen)
        assert a.tolist() == [[1.0, 1.0], [1.0, 1.0]] and a.is_shared()
    assert b.tolist() == [3.0] * 300


@pytest.mark.parametrize("method,strategy", CASES, indirect=["strategy"])
def test_tensor_made_in_child(method, strategy):
    ctx = cmp.get_context(method)
    q_out, received = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=mp_workers.send_back, args=(q_out, received, "cgrad", 4.5, (3, 2)))
    child.start()
    t = q_out.get(timeout=TIMEOUT)
    received.set()
    finish(child)                                  # the child is gone: its memory stays ours
    assert t.tolist() == [[4.5, 4.5]] * 3 and t.is_shared()


def test_simple_queue_pipe_and_pool():
    ctx = cmp.get_context("spawn")
    queue = ctx.SimpleQueue()
    queue.put(cgrad.ones(3))
    assert queue.get().is_shared()
    reader, writer = ctx.Pipe()
    writer.send(cgrad.arange(3))
    assert reader.recv().tolist() == [0, 1, 2]
    with ctx.Pool(2) as pool:
        squares = pool.map(mp_workers.pool_square, [cgrad.full((2,), float(i)) for i in range(4)])
    assert [s.tolist() for s in squares] == [[float(i * i)] * 2 for i in range(4)]
    assert all(s.is_shared() for s in squares)


def test_spawn_runs_every_rank():
    shared = cgrad.zeros(3).share_memory_()
    assert cmp.spawn(mp_workers.add_rank, args=(shared, 5.0), nprocs=2) is None
    assert shared.tolist() == [5.0, 5.0, 0.0]
    context = cmp.start_processes(mp_workers.add_rank, args=(shared, 1.0), nprocs=2, join=False,
                                  start_method="fork")
    assert isinstance(context, cmp.ProcessContext) and len(context.pids()) == 2
    while not context.join(timeout=TIMEOUT):
        pass
    assert shared.tolist() == [6.0, 6.0, 0.0]


def spawn_error(lib, fn, arg):
    errors = (lib.multiprocessing.ProcessRaisedException, lib.multiprocessing.ProcessExitedException)
    with pytest.raises(errors) as info:
        lib.multiprocessing.start_processes(fn, args=(arg,), nprocs=2, start_method="fork")
    return info.value


@requires_torch
def test_spawn_errors_match_torch():
    # the same worker functions (they import neither library) under both
    for fn, arg in ((mp_workers.fail_in_child, "bad rank"), (mp_workers.exit_in_child, 3)):
        ours, theirs = spawn_error(cgrad, fn, arg), spawn_error(torch, fn, arg)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.error_index == theirs.error_index
        if isinstance(ours, cmp.ProcessExitedException):
            assert str(ours) == str(theirs) and ours.exit_code == theirs.exit_code == 3
        else:
            # the traceback's last line and the header are the same; paths differ
            assert str(ours).splitlines()[:3] == str(theirs).splitlines()[:3]
            assert str(ours).splitlines()[-1] == str(theirs).splitlines()[-1] == "ValueError: bad rank"


def test_spawn_other_start_method_warns():
    with pytest.warns(FutureWarning, match="This method only supports start_method=spawn"):
        cmp.spawn(mp_workers.add_rank, args=(cgrad.zeros(1).share_memory_(), 1.0), nprocs=1,
                  start_method="fork")


@requires_torch
def test_exports_match_torch():
    ours = {n for n in dir(cmp) if not n.startswith("_")}
    theirs = {n for n in dir(torch.multiprocessing) if not n.startswith("_")}
    # what torch has beyond ours is its own machinery (modules, its C helpers)
    assert theirs - ours <= {"torch", "sys", "multiprocessing", "reductions", "spawn", "init_reductions"}
    assert sorted(cmp.__all__) == sorted(torch.multiprocessing.__all__)
    assert cmp.Process is torch.multiprocessing.Process and cmp.Queue == torch.multiprocessing.Queue


def test_module_is_lazy_attribute():
    assert cgrad.multiprocessing is cmp
    assert sys.modules["cgrad.multiprocessing"] is cmp and os.cpu_count() == cmp.cpu_count()


@pytest.mark.parametrize("context", [None, "spawn"])
def test_dataloader_batches_arrive_in_shared_memory(context):
    from cgrad.utils.data import DataLoader
    loader = DataLoader(mp_workers.Squares(), batch_size=2, num_workers=2, timeout=TIMEOUT,
                        multiprocessing_context=context)
    batches = list(loader)
    assert [b.tolist() for b in batches] == [[0.0, 1.0], [4.0, 9.0], [16.0, 25.0]]
    shared = [b.is_shared() for b in batches]
    if torch is not None and context is None:
        from torch.utils.data import DataLoader as TorchLoader
        theirs = TorchLoader(mp_workers.Squares(), batch_size=2, num_workers=2, timeout=TIMEOUT)
        assert shared == [b.is_shared() for b in theirs]
    assert shared == [True] * 3
