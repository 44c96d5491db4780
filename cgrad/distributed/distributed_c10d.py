"""torch.distributed's collectives and point-to-point operations over MPI.
Each one is started as a non-blocking MPI operation on the tensor's own
memory (zero-copy: the numpy view of its buffer), returning a Work with
async_op=True and waiting on it (bounded by the group's timeout) otherwise.
Tensors leave their buffers only where PyTorch's API hands over a list of
separate tensors (all_gather, gather, scatter): those go through one
contiguous staging array, since MPI moves one buffer per rank.
Ranks given as src/dst are global ranks, group_src/group_dst group ranks."""
import numpy as np

from cgrad.distributed import _mpi_buffers as mb
from cgrad.distributed._reduce_op import ReduceOp
from cgrad.distributed._world import (Work, get_group_rank, get_global_rank, group_of_call as _group_of_call,
                                      group_or_default, watchdog)  # noqa: F401  (DDP reaches group_or_default here)


def _collective(pg, method, op_name, async_op, finish, result, *args, **kwargs):
    """Run MPI's `method` on the group's communicator: its non-blocking form
    returning a Work when async_op, else the blocking one (Open MPI's tuned
    blocking collectives beat its non-blocking ones many times over at 1 MB)
    under the watchdog that enforces the group's timeout."""
    comm = pg._comm
    if async_op:
        request = getattr(comm, "I" + method)(*args, **kwargs)
        work = Work([request], pg, op_name, finish, result)
        work._keep = args        # buffers alive until the operation completes
        return work
    with watchdog.guard(pg, op_name):
        getattr(comm, method.capitalize())(*args, **kwargs)
    if finish is not None:
        finish()
    return None


def _group_rank(group, global_rank, group_rank):
    """PyTorch's _canonicalize_group_rank, checked against the group's size."""
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
    else:
        if global_rank is None:
            raise ValueError("Must specify global_rank or group_rank")
        group_rank = get_group_rank(group, global_rank)
    if not 0 <= group_rank < group.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return group_rank


def _check_not_self_rank(group, rank, rank_type):
    if group.rank() == rank:
        raise ValueError(f"Invalid {rank_type} rank: {rank_type} rank should not be the same as "
                         "the rank of the current process.")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` across the group, in place on every rank."""
    mb.check_single_tensor(tensor, "tensor")
    pg = _group_of_call("all_reduce", group)
    if pg is None:
        return None
    op = mb.red_op_type(op)
    arr = mb.as_array(tensor)
    return _collective(pg, "allreduce", "all_reduce", async_op, lambda: mb.finish_reduction(op, arr, pg.size()),
                       [tensor], mb.mpi().IN_PLACE, mb.message(arr), mb.mpi_op(op, arr))


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce `tensor` across the group into the destination rank's tensor."""
    mb.check_single_tensor(tensor, "tensor")
    pg = _group_of_call("reduce", group)
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst)
    op = mb.red_op_type(op)
    arr = mb.as_array(tensor)
    MPI = mb.mpi()
    if pg.rank() == root:
        return _collective(pg, "reduce", "reduce", async_op, lambda: mb.finish_reduction(op, arr, pg.size()),
                           [tensor], MPI.IN_PLACE, mb.message(arr), mb.mpi_op(op, arr), root=root)
    return _collective(pg, "reduce", "reduce", async_op, None, [tensor], mb.message(arr), None,
                       mb.mpi_op(op, arr), root=root)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy the source rank's tensor into every rank's."""
    mb.check_single_tensor(tensor, "tensor")
    pg = _group_of_call("broadcast", group)
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src)
    return _collective(pg, "bcast", "broadcast", async_op, None, [tensor], mb.message(mb.as_array(tensor)),
                       root=root)


def _tensor_pair_group(op_name, first, first_name, second, second_name, group):
    """The checks of a call on two tensors (each a single tensor, the two of one
    dtype), then its group as group_of_call gives it."""
    mb.check_single_tensor(first, first_name)
    mb.check_single_tensor(second, second_name)
    mb.ensure_same_dtype(first, second)
    return _group_of_call(op_name, group, stacklevel=5)


def _check_same_size(tensors, expected_numel, what):
    for t in tensors:
        if t.numel() != expected_numel:
            raise ValueError(f"{what}: every tensor must have {expected_numel} elements, got one of {t.numel()}")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank's `tensor`, into `tensor_list` (one per rank) on every rank."""
    mb.check_tensor_list(tensor_list, "tensor_list")
    mb.check_single_tensor(tensor, "tensor")
    mb.ensure_same_dtype(tensor_list, tensor)
    pg = _group_of_call("all_gather", group)
    if pg is None:
        return None
    if len(tensor_list) != pg.size():
        raise ValueError(f"all_gather: tensor_list must hold one tensor per rank ({pg.size()}), "
                         f"got {len(tensor_list)}")
    _check_same_size(tensor_list, tensor.numel(), "all_gather")
    arr = mb.as_array(tensor)
    staging = np.empty((pg.size(),) + arr.shape, dtype=arr.dtype)
    return _collective(pg, "allgather", "all_gather", async_op, lambda: _scatter_rows(staging, tensor_list),
                       [tensor_list], mb.message(arr), mb.message(staging))


def _scatter_rows(staging, tensors):
    for row, t in zip(staging, tensors):
        mb.as_array(t)[...] = row.reshape(tuple(t.shape))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's input, concatenated along dim 0 (or stacked) in rank
    order into `output_tensor`, directly into its buffer."""
    mb.check_single_tensor(input_tensor, "input_tensor")
    mb.check_single_tensor(output_tensor, "output_tensor")
    mb.ensure_same_dtype(output_tensor, input_tensor)
    pg = _group_of_call("all_gather_into_tensor", group)
    if pg is None:
        return None
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise ValueError("output tensor size must be equal to world_size times input tensor size")
    out = mb.as_array(output_tensor)
    return _collective(pg, "allgather", "all_gather_into_tensor", async_op, None, [output_tensor],
                       mb.message(mb.as_array(input_tensor)), mb.message(out))


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` across ranks, rank i keeping the i-th of its world-size
    equal chunks in `output`."""
    pg = _tensor_pair_group("reduce_scatter_tensor", output, "output", input, "input", group)
    if pg is None:
        return None
    if input.numel() != output.numel() * pg.size():
        raise ValueError("input tensor must be the same size as output size times world size")
    op = mb.red_op_type(op)
    out = mb.as_array(output)
    inp = mb.as_array(input)
    return _collective(pg, "reduce_scatter_block", "reduce_scatter_tensor", async_op,
                       lambda: mb.finish_reduction(op, out, pg.size()), [output], mb.message(inp), mb.message(out),
                       mb.mpi_op(op, out))


def _rooted_list_checks(name, tensor, tensors, list_name, root_kind, root, group, group_root):
    """The checks gather and scatter share: `tensor` and the list, and the
    root rank (the `root_kind`: destination or source) holding one tensor
    per rank in the list while no other rank gives one. Returns (group,
    root rank, list), or None when this rank is not in the group."""
    mb.check_single_tensor(tensor, "tensor")
    if tensors:
        mb.check_tensor_list(tensors, list_name)
    else:
        tensors = []
    mb.ensure_same_dtype(tensor, tensors)
    pg = _group_of_call(name, group, stacklevel=5)
    if pg is None:
        return None
    root_rank = _group_rank(pg, root, group_root)
    if pg.rank() == root_rank:
        if not tensors:
            raise ValueError(f"Argument ``{list_name}`` must be specified on {root_kind} rank.")
        if len(tensors) != pg.size():
            raise ValueError(f"{name}: {list_name} must hold one tensor per rank ({pg.size()}), "
                             f"got {len(tensors)}")
        _check_same_size(tensors, tensor.numel(), name)
    elif tensors:
        raise ValueError(f"Argument ``{list_name}`` must NOT be specified on non-{root_kind} ranks.")
    return pg, root_rank, tensors


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Every rank's `tensor` into the destination rank's `gather_list`."""
    checked = _rooted_list_checks("gather", tensor, gather_list, "gather_list", "destination", dst, group,
                                  group_dst)
    if checked is None:
        return None
    pg, root, gather_list = checked
    arr = mb.as_array(tensor)
    if pg.rank() == root:
        staging = np.empty((pg.size(),) + arr.shape, dtype=arr.dtype)
        return _collective(pg, "gather", "gather", async_op, lambda: _scatter_rows(staging, gather_list),
                           [gather_list], mb.message(arr), mb.message(staging), root=root)
    return _collective(pg, "gather", "gather", async_op, None, [gather_list], mb.message(arr), None, root=root)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """The source rank's `scatter_list[i]` into rank i's `tensor`."""
    checked = _rooted_list_checks("scatter", tensor, scatter_list, "scatter_list", "source", src, group,
                                  group_src)
    if checked is None:
        return None
    pg, root, scatter_list = checked
    arr = mb.as_array(tensor)
    if pg.rank() == root:
        staging = np.stack([mb.as_array(t).reshape(arr.shape) for t in scatter_list])
        return _collective(pg, "scatter", "scatter", async_op, None, [tensor], mb.message(staging),
                           mb.message(arr), root=root)
    return _collective(pg, "scatter", "scatter", async_op, None, [tensor], None, mb.message(arr), root=root)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group reaches this call."""
    pg = _group_of_call("barrier", group)
    if pg is None:
        return None
    if async_op:
        return Work([pg._comm.Ibarrier()], pg, "barrier")
    with watchdog.guard(pg, "barrier", timeout):
        pg._comm.Barrier()
    return None


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending `tensor` to the destination rank; returns its Work."""
    mb.check_single_tensor(tensor, "tensor")
    pg = _group_of_call("isend", group)
    if pg is None:
        return None
    peer = _group_rank(pg, dst, group_dst)
    _check_not_self_rank(pg, peer, "destination")
    request = pg._comm.Isend(mb.message(mb.as_array(tensor)), dest=peer, tag=tag)
    return Work([request], pg, "send", None, [tensor])


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into `tensor` from the source rank (any rank when
    neither src nor group_src is given); returns its Work."""
    mb.check_single_tensor(tensor, "tensor")
    pg = _group_of_call("irecv", group)
    if pg is None:
        return None
    MPI = mb.mpi()
    if src is None and group_src is None:
        peer = MPI.ANY_SOURCE
    else:
        peer = _group_rank(pg, src, group_src)
        _check_not_self_rank(pg, peer, "source")
    request = pg._comm.Irecv(mb.message(mb.as_array(tensor)), source=peer, tag=tag)
    work = Work([request], pg, "recv", None, [tensor])
    work._status = MPI.Status()
    return work


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to the destination rank and wait until it has left."""
    mb.check_single_tensor(tensor, "tensor")
    pg = _group_of_call("send", group)
    if pg is None:
        return
    peer = _group_rank(pg, dst, group_dst)
    _check_not_self_rank(pg, peer, "destination")
    with watchdog.guard(pg, "send"):
        pg._comm.Send(mb.message(mb.as_array(tensor)), dest=peer, tag=tag)


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor`; returns the sender's global rank (-1 outside the group)."""
    mb.check_single_tensor(tensor, "tensor")
    pg = _group_of_call("recv", group)
    if pg is None:
        return -1
    MPI = mb.mpi()
    if src is None and group_src is None:
        peer = MPI.ANY_SOURCE
    else:
        peer = _group_rank(pg, src, group_src)
        _check_not_self_rank(pg, peer, "source")
    status = MPI.Status()
    with watchdog.guard(pg, "recv"):
        pg._comm.Recv(mb.message(mb.as_array(tensor)), source=peer, tag=tag, status=status)
    return get_global_rank(pg, status.Get_source())


def all_gather_object(object_list, obj, group=None):
    """Every rank's picklable `obj`, into `object_list` (one per rank)."""
    pg = _group_of_call("all_gather_object", group)
    if pg is None:
        return
    object_list[:] = pg._comm.allgather(obj)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """The source rank's `object_list` entries into every rank's, in place."""
    pg = _group_of_call("broadcast_object_list", group)
    if pg is None:
        return
    root = _group_rank(pg, src, group_src)
    received = pg._comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    object_list[:] = received


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Every rank's picklable `obj` into the destination's `object_gather_list`."""
    pg = _group_of_call("gather_object", group)
    if pg is None:
        return
    root = _group_rank(pg, dst, group_dst)
    gathered = pg._comm.gather(obj, root=root)
    if pg.rank() == root:
        object_gather_list[:] = gathered


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    """The source's `scatter_object_input_list[i]` into rank i's output list's first slot."""
    pg = _group_of_call("scatter_object_list", group)
    if pg is None:
        return
    root = _group_rank(pg, src, group_src)
    item = pg._comm.scatter(list(scatter_object_input_list) if pg.rank() == root else None, root=root)
    scatter_object_output_list[0] = item
