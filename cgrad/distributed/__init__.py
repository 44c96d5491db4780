"""cgrad.distributed: torch.distributed's process groups and collectives,
run on MPI through mpi4py (an optional dependency: pip install
cgrad[distributed]). Launch with `python -m cgrad.distributed.run
--nproc-per-node N script.py` or under mpirun directly."""
from cgrad.distributed._reduce_op import ReduceOp
from cgrad.distributed._world import (Backend, DistBackendError, DistError, GroupMember, ProcessGroup, Work,
                                      default_pg_timeout, destroy_process_group, get_backend, get_global_rank,
                                      get_group_rank, get_process_group_ranks, get_rank, get_world_size,
                                      init_process_group, is_available, is_gloo_available, is_initialized,
                                      is_mpi_available, is_nccl_available, is_torchelastic_launched,
                                      is_ucc_available, is_xccl_available, new_group)
from cgrad.distributed.distributed_c10d import (all_gather, all_gather_into_tensor, all_gather_object,
                                                all_reduce, barrier, broadcast, broadcast_object_list, gather,
                                                gather_object, irecv, isend, recv, reduce, reduce_scatter_tensor,
                                                scatter, scatter_object_list, send)
from cgrad.distributed._all_to_all import P2POp, all_to_all, all_to_all_single, batch_isend_irecv

group = GroupMember

__all__ = ["P2POp", "all_to_all", "all_to_all_single", "batch_isend_irecv", "Backend", "DistBackendError", "DistError", "GroupMember", "ProcessGroup", "ReduceOp", "Work",
           "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce", "barrier", "broadcast",
           "broadcast_object_list", "default_pg_timeout", "destroy_process_group", "gather", "gather_object",
           "get_backend", "get_global_rank", "get_group_rank", "get_process_group_ranks", "get_rank",
           "get_world_size", "group", "init_process_group", "irecv", "is_available", "is_gloo_available",
           "is_initialized", "is_mpi_available", "is_nccl_available", "is_torchelastic_launched",
           "is_ucc_available", "is_xccl_available", "isend", "new_group", "recv", "reduce",
           "reduce_scatter_tensor", "scatter", "scatter_object_list", "send"]
