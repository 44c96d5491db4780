"""all_to_all_single, all_to_all and batched point-to-point (P2POp,
batch_isend_irecv), as torch.distributed names them. all_to_all_single
moves the tensors' own buffers (rows along dim 0, evenly or by the split
sizes given); all_to_all goes through contiguous staging arrays, as MPI
moves one buffer per rank."""
import numpy as np

from cgrad.distributed import _mpi_buffers as mb
from cgrad.distributed._world import Work, group_of_call as _group_of_call
from cgrad.distributed.distributed_c10d import _collective, _tensor_pair_group, irecv, isend


def _counts(tensor, split_sizes, size, what):
    """Elements and offsets per rank for splits of `tensor` along dim 0."""
    rows = tensor.shape[0] if tensor.dim() > 0 else 1
    row_numel = tensor.numel() // rows if rows else 0
    if not split_sizes:
        if rows % size != 0:
            raise ValueError(f"Tensor's dim 0 does not divide equally across group size {size}")
        split_sizes = [rows // size] * size
    elif len(split_sizes) != size or sum(split_sizes) != rows:
        raise ValueError(f"Split sizes doesn't match total dim 0 size of the {what} tensor")
    counts = [s * row_numel for s in split_sizes]
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()
    return counts, offsets


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op=False):
    """Split `input` along dim 0 into one piece per rank, send piece i to
    rank i, and concatenate the pieces received into `output`."""
    pg = _tensor_pair_group("all_to_all_single", output, "output", input, "input", group)
    if pg is None:
        return None
    size = pg.size()
    send_counts, send_offsets = _counts(input, input_split_sizes, size, "input")
    recv_counts, recv_offsets = _counts(output, output_split_sizes, size, "output")
    inp, out = mb.as_array(input), mb.as_array(output)
    return _collective(pg, "alltoallv", "all_to_all_single", async_op, None, [output],
                       [inp, (send_counts, send_offsets), mb.datatype(inp)],
                       [out, (recv_counts, recv_offsets), mb.datatype(out)])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """input_tensor_list[i] to rank i; what rank j sent lands in output_tensor_list[j]."""
    mb.check_tensor_list(output_tensor_list, "output_tensor_list")
    mb.check_tensor_list(input_tensor_list, "input_tensor_list")
    mb.ensure_same_dtype(output_tensor_list, input_tensor_list)
    pg = _group_of_call("all_to_all", group)
    if pg is None:
        return None
    size = pg.size()
    if len(input_tensor_list) != size or len(output_tensor_list) != size:
        raise ValueError(f"all_to_all: both tensor lists must hold one tensor per rank ({size})")
    send = np.concatenate([mb.as_array(t).reshape(-1) for t in input_tensor_list])
    recv_counts = [t.numel() for t in output_tensor_list]
    recv = np.empty(sum(recv_counts), dtype=send.dtype)
    send_counts = [t.numel() for t in input_tensor_list]

    def offsets(counts):
        return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()

    def unpack():
        for t, start, n in zip(output_tensor_list, offsets(recv_counts), recv_counts):
            mb.as_array(t)[...] = recv[start:start + n].reshape(tuple(t.shape))

    return _collective(pg, "alltoallv", "all_to_all", async_op, unpack, [output_tensor_list],
                       [send, (send_counts, offsets(send_counts)), mb.datatype(send)],
                       [recv, (recv_counts, offsets(recv_counts)), mb.datatype(recv)])


class P2POp:
    """One isend or irecv for batch_isend_irecv."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``cgrad.distributed.isend`` or "
                             "``cgrad.distributed.irecv``.")
        mb.check_single_tensor(tensor, "tensor")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = \
            op, tensor, peer, group, tag, group_peer

    def __repr__(self):
        return (f"P2POp(op={self.op.__name__}, tensor={tuple(self.tensor.shape)}, peer={self.peer}, "
                f"tag={self.tag})")


def batch_isend_irecv(p2p_op_list):
    """Start every operation of the list; returns their Works."""
    if not isinstance(p2p_op_list, list) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``cgrad.distributed.P2POp``.")
    groups = {id(p.group) for p in p2p_op_list}
    if len(groups) > 1:
        raise ValueError("All ops need to use the same group.")
    works = []
    for p in p2p_op_list:
        if p.op is isend:
            works.append(isend(p.tensor, p.peer, p.group, p.tag, p.group_peer))
        else:
            works.append(irecv(p.tensor, p.peer, p.group, p.tag, p.group_peer))
    return [w for w in works if isinstance(w, Work)]
