"""Run under mpirun (tests/distributed/test_distributed.py starts it): every
collective and point-to-point operation of cgrad.distributed, each dtype,
against the result numpy computes from what every rank contributed. A
failure raises, which aborts the job (non-zero exit, traceback shown)."""
import datetime
import os
import warnings

import numpy as np

import cgrad
import cgrad.distributed as dist

DTYPES = [cgrad.float64, cgrad.float32, cgrad.float16, cgrad.int64, cgrad.int32, cgrad.int16, cgrad.int8,
          cgrad.uint8, cgrad.bool]
NP = {cgrad.float64: np.float64, cgrad.float32: np.float32, cgrad.float16: np.float16, cgrad.int64: np.int64,
      cgrad.int32: np.int32, cgrad.int16: np.int16, cgrad.int8: np.int8, cgrad.uint8: np.uint8,
      cgrad.bool: np.bool_}
checks = 0


def contribution(rank, dtype, shape=(3, 4), salt=0):
    """Rank `rank`'s values: small, exact in every dtype (float16 included)."""
    n = int(np.prod(shape))
    if dtype == cgrad.bool:
        return ((np.arange(n) + rank + salt) % 3 == 0).reshape(shape)
    return ((np.arange(n) * (rank + 1) + salt) % 7 + (1 if dtype == cgrad.uint8 else -3)).astype(NP[dtype]).reshape(shape)


def check(actual, expected):
    global checks
    a = actual.numpy() if isinstance(actual, cgrad.Tensor) else actual
    if a.dtype != np.asarray(expected).dtype or a.shape != np.asarray(expected).shape:
        raise AssertionError(f"dtype/shape {a.dtype}{a.shape} != {np.asarray(expected).dtype}{np.asarray(expected).shape}")
    if not np.array_equal(a, expected):
        raise AssertionError(f"{a} != {expected}")
    checks += 1


def expected_reduction(op, arrays):
    stack = np.stack(arrays)
    if stack.dtype == np.bool_:
        return {dist.ReduceOp.SUM: stack.any(0), dist.ReduceOp.MAX: stack.any(0), dist.ReduceOp.MIN: stack.all(0),
                dist.ReduceOp.PRODUCT: stack.all(0), dist.ReduceOp.AVG: stack.any(0)}[op]
    if op == dist.ReduceOp.SUM:
        return stack.sum(0, dtype=stack.dtype)
    if op == dist.ReduceOp.PRODUCT:
        return stack.prod(0, dtype=stack.dtype)
    if op == dist.ReduceOp.MIN:
        return stack.min(0)
    if op == dist.ReduceOp.MAX:
        return stack.max(0)
    total = stack.sum(0, dtype=stack.dtype)
    if stack.dtype.kind == "f":
        return (total / len(arrays)).astype(stack.dtype)
    return (total / len(arrays)).astype(stack.dtype)


def main():
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=60))
    rank, size = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    everyone = range(size)
    ops = [dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MIN, dist.ReduceOp.MAX, dist.ReduceOp.PRODUCT]
    for dtype in DTYPES:
        mine = contribution(rank, dtype)
        all_arrays = [contribution(r, dtype) for r in everyone]
        for op in ops:
            if dtype == cgrad.uint8 and op == dist.ReduceOp.PRODUCT:
                pass    # wraps around as numpy does; still checked
            t = cgrad.from_numpy(mine.copy())
            assert dist.all_reduce(t, op=op) is None
            check(t, expected_reduction(op, all_arrays))
            t = cgrad.from_numpy(mine.copy())
            work = dist.all_reduce(t, op=dist.ReduceOp(op), async_op=True)
            work.wait()
            assert work.is_completed()
            check(t, expected_reduction(op, all_arrays))
            t = cgrad.from_numpy(mine.copy())
            dist.reduce(t, dst=size - 1, op=op)
            if rank == size - 1:
                check(t, expected_reduction(op, all_arrays))
            t = cgrad.from_numpy(np.concatenate([contribution(rank, dtype, salt=s) for s in everyone]))
            out = cgrad.from_numpy(np.zeros((3, 4), dtype=NP[dtype]))
            dist.reduce_scatter_tensor(out, t, op=op)
            check(out, expected_reduction(op, [contribution(r, dtype, salt=rank) for r in everyone]))
        t = cgrad.from_numpy(mine.copy())
        dist.broadcast(t, src=1 % size)
        check(t, all_arrays[1 % size])
        outs = [cgrad.from_numpy(np.zeros((3, 4), dtype=NP[dtype])) for _ in everyone]
        dist.all_gather(outs, cgrad.from_numpy(mine))
        for o, a in zip(outs, all_arrays):
            check(o, a)
        out = cgrad.from_numpy(np.zeros((3 * size, 4), dtype=NP[dtype]))
        dist.all_gather_into_tensor(out, cgrad.from_numpy(mine))
        check(out, np.concatenate(all_arrays))
        gathered = [cgrad.from_numpy(np.zeros((3, 4), dtype=NP[dtype])) for _ in everyone] if rank == 0 else None
        dist.gather(cgrad.from_numpy(mine), gathered, dst=0)
        if rank == 0:
            for o, a in zip(gathered, all_arrays):
                check(o, a)
        pieces = [cgrad.from_numpy(contribution(r, dtype, salt=9)) for r in everyone] if rank == 0 else None
        t = cgrad.from_numpy(np.zeros((3, 4), dtype=NP[dtype]))
        dist.scatter(t, pieces, src=0)
        check(t, contribution(rank, dtype, salt=9))
        # point to point around a ring, blocking and not
        right, left = (rank + 1) % size, (rank - 1) % size
        got = cgrad.from_numpy(np.zeros((3, 4), dtype=NP[dtype]))
        send_work = dist.isend(cgrad.from_numpy(mine), dst=right, tag=5)
        recv_work = dist.irecv(got, src=left, tag=5)
        recv_work.wait()
        send_work.wait()
        check(got, all_arrays[left])
        if rank == 0:
            dist.send(cgrad.from_numpy(mine), dst=size - 1)
        elif rank == size - 1:
            got = cgrad.from_numpy(np.zeros((3, 4), dtype=NP[dtype]))
            assert dist.recv(got) == 0          # any source: the sender's rank comes back
            check(got, all_arrays[0])
    # all to all: rank r sends rank q (q + 1) rows valued 100 r + q (uneven splits), and equal splits
    for dtype in (cgrad.float64, cgrad.int32):
        send = cgrad.from_numpy(np.concatenate([np.full((q + 1, 2), 100 * rank + q) for q in everyone])
                                .astype(NP[dtype]))
        out = cgrad.from_numpy(np.zeros(((rank + 1) * size, 2), dtype=NP[dtype]))
        dist.all_to_all_single(out, send, output_split_sizes=[rank + 1] * size,
                               input_split_sizes=[q + 1 for q in everyone])
        check(out, np.concatenate([np.full((rank + 1, 2), 100 * r + rank) for r in everyone]).astype(NP[dtype]))
        send = cgrad.from_numpy(np.arange(2 * size).astype(NP[dtype]) + 10 * rank)
        out = cgrad.from_numpy(np.zeros(2 * size, dtype=NP[dtype]))
        dist.all_to_all_single(out, send, async_op=True).wait()
        check(out, np.concatenate([np.arange(2 * rank, 2 * rank + 2) + 10 * r for r in everyone]).astype(NP[dtype]))
        outs = [cgrad.from_numpy(np.zeros(r + 1, dtype=NP[dtype])) for r in everyone]
        dist.all_to_all(outs, [cgrad.from_numpy(np.full(rank + 1, rank * 10 + q, dtype=NP[dtype])) for q in everyone])
        for r, o in enumerate(outs):
            check(o, np.full(r + 1, r * 10 + rank, dtype=NP[dtype]))
    right, left = (rank + 1) % size, (rank - 1) % size
    got = cgrad.zeros(3)
    works = dist.batch_isend_irecv([dist.P2POp(dist.isend, cgrad.full((3,), float(rank)), right),
                                    dist.P2POp(dist.irecv, got, left)])
    for w in works:
        w.wait()
    check(got, np.full(3, float(left), dtype=np.float32))
    # zero-copy: what arrives lands in the tensor's own memory, views included
    base = cgrad.zeros(4, 6, dtype=cgrad.float64)
    row = base[1]
    dist.all_reduce(row.fill_(1.0))
    check(base.numpy()[1], np.full(6, float(size)))
    try:
        dist.all_reduce(base.t())
        raise AssertionError("non-contiguous accepted")
    except RuntimeError as e:
        assert str(e) == "Tensors must be contiguous"
    # a sub-group of the even ranks; the others see NON_GROUP_MEMBER
    evens = dist.new_group([r for r in everyone if r % 2 == 0])
    if rank % 2 == 0:
        t = cgrad.tensor([float(rank)])
        dist.all_reduce(t, group=evens)
        check(t, np.array([float(sum(r for r in everyone if r % 2 == 0))], dtype=np.float32))
        assert dist.get_world_size(evens) == len(range(0, size, 2))
        assert dist.get_rank(evens) == rank // 2
    else:
        assert evens == dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(evens) == -1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert dist.all_reduce(cgrad.ones(1), group=evens) is None
        assert "does not belong to the given group" in str(caught[0].message)
        # every call outside its group returns at once, warning at the caller's line
        one, ones = cgrad.ones(1), [cgrad.ones(1)]
        outside = [
            ("reduce", lambda: dist.reduce(one, dst=0, group=evens), None),
            ("broadcast", lambda: dist.broadcast(one, src=0, group=evens), None),
            ("all_gather", lambda: dist.all_gather(ones, one, group=evens), None),
            ("all_gather_into_tensor", lambda: dist.all_gather_into_tensor(one, one, group=evens), None),
            ("reduce_scatter_tensor", lambda: dist.reduce_scatter_tensor(one, one, group=evens), None),
            ("gather", lambda: dist.gather(one, dst=0, group=evens), None),
            ("scatter", lambda: dist.scatter(one, src=0, group=evens), None),
            ("barrier", lambda: dist.barrier(group=evens), None),
            ("isend", lambda: dist.isend(one, dst=0, group=evens), None),
            ("irecv", lambda: dist.irecv(one, src=0, group=evens), None),
            ("send", lambda: dist.send(one, dst=0, group=evens), None),
            ("recv", lambda: dist.recv(one, src=0, group=evens), -1),
            ("all_to_all_single", lambda: dist.all_to_all_single(one, one, group=evens), None),
            ("all_to_all", lambda: dist.all_to_all(ones, ones, group=evens), None),
            ("all_gather_object", lambda: dist.all_gather_object([None], 1, group=evens), None),
            ("broadcast_object_list", lambda: dist.broadcast_object_list([None], src=0, group=evens), None),
            ("gather_object", lambda: dist.gather_object(1, dst=0, group=evens), None),
            ("scatter_object_list", lambda: dist.scatter_object_list([None], src=0, group=evens), None),
        ]
        for name, call, expected in outside:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                assert call() == expected, name
            assert len(caught) == 1 and f"Running {name} on global rank {rank} " in str(caught[0].message), name
            assert caught[0].filename == __file__, (name, caught[0].filename)
    # objects
    objects = [None] * size
    dist.all_gather_object(objects, {"rank": rank})
    assert objects == [{"rank": r} for r in everyone]
    payload = [rank * 10, "x"] if rank == 0 else [None, None]
    dist.broadcast_object_list(payload, src=0)
    assert payload == [0, "x"]
    dist.barrier()
    work = dist.barrier(async_op=True)
    work.wait()
    print(f"rank {rank}/{size}: {checks} collective checks passed", flush=True)
    try:
        dist.init_process_group("mpi")
        raise AssertionError("second init accepted")
    except ValueError as e:
        assert str(e) == "trying to initialize the default process group twice!"
    dist.destroy_process_group()
    assert not dist.is_initialized()
    # env:// (the default init_method): torchrun's RANK must name this process as MPI does
    os.environ["RANK"] = str(rank + 1)
    try:
        dist.init_process_group("mpi")
        raise AssertionError("a RANK disagreeing with MPI accepted")
    except ValueError as e:
        assert "environment variable RANK is" in str(e), e
    os.environ["RANK"] = str(rank)
    dist.init_process_group("mpi", init_method="env://")    # and again after a destroy
    assert dist.get_rank() == rank
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
