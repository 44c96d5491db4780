"""cgrad.distributed, DistributedDataParallel and the launcher, run for real:
each mpi_*.py script beside this file runs under `mpirun -n 2` and an
oversubscribed `mpirun -n 4` (every wait bounded by a subprocess timeout, so
a hang fails instead of stalling the suite); plus, in this process and
against torch, what needs no MPI: errors before init_process_group, refused
backends, ReduceOp, DistributedSampler. Skipped, with the reason, when
mpi4py or mpirun is missing (pip install cgrad[distributed])."""
import datetime
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

import cgrad
import cgrad.distributed as dist
from cgrad.utils.data import DistributedSampler
from helpers import requires_torch, torch

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cgrad.__file__)))
RUN_TIMEOUT = 120


def find_mpirun():
    beside = os.path.join(os.path.dirname(sys.executable), "mpirun")
    return beside if os.path.exists(beside) else shutil.which("mpirun")


MPIRUN = find_mpirun()
requires_mpi = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or MPIRUN is None,
    reason="needs mpi4py and mpirun (pip install cgrad[distributed]): "
           f"mpi4py {'found' if importlib.util.find_spec('mpi4py') else 'missing'}, "
           f"mpirun {MPIRUN or 'missing'}")


def mpi_env():
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]))
    return env


def run_mpi(nproc, *args):
    command = [MPIRUN, "-n", str(nproc)] + (["--oversubscribe"] if nproc > (os.cpu_count() or 1) else [])
    result = subprocess.run(command + [sys.executable] + list(args), capture_output=True, env=mpi_env(),
                            timeout=RUN_TIMEOUT, cwd=PACKAGE_ROOT)
    return (result.returncode, result.stdout.decode("utf-8", "replace"),
            result.stderr.decode("utf-8", "replace"))


@requires_mpi
@pytest.mark.parametrize("nproc", [2, 4])
def test_collectives_against_numpy(nproc):
    code, out, err = run_mpi(nproc, os.path.join(HERE, "mpi_collectives.py"))
    assert code == 0, out + err
    lines = sorted(line for line in out.splitlines() if "collective checks passed" in line)
    assert len(lines) == nproc, out + err
    assert all(int(line.split(": ")[1].split()[0]) > 150 for line in lines), lines


@requires_mpi
@pytest.mark.parametrize("nproc", [2, 4])
def test_ddp_equals_one_process_on_the_global_batch(nproc):
    code, out, err = run_mpi(nproc, os.path.join(HERE, "mpi_ddp.py"))
    assert code == 0, out + err
    assert f"DDP on {nproc} ranks equals one process on the global batch after 20 steps" in out, out + err


@requires_mpi
def test_a_raising_rank_brings_the_job_down_with_its_error():
    code, out, err = run_mpi(2, os.path.join(HERE, "mpi_failures.py"), "raise")
    assert code != 0
    assert "ValueError: rank 1 fails on purpose" in err
    assert "was not stopped" not in out


@requires_mpi
@pytest.mark.parametrize("mode", ["timeout", "timeout_async"])
def test_a_collective_past_the_timeout_raises_and_ends_the_job(mode):
    code, out, err = run_mpi(2, os.path.join(HERE, "mpi_failures.py"), mode)
    assert code != 0
    assert ("cgrad.distributed.DistBackendError: [Rank 0] Timed out after 2000 ms waiting for all_reduce "
            "to complete") in err, err
    assert "was not stopped" not in out


@requires_mpi
@pytest.mark.parametrize("nproc", [3])
def test_launcher_spawns_mpirun_and_sets_torchrun_variables(nproc, tmp_path):
    script = tmp_path / "show_env.py"
    script.write_text(
        "import os, sys\nimport cgrad, cgrad.distributed as dist\n"
        "dist.init_process_group()\n"
        "t = cgrad.tensor([float(dist.get_rank())])\ndist.all_reduce(t)\n"
        "print('env', *[os.environ[k] for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE', "
        "'MASTER_PORT')], dist.get_rank(), t.item(), *sys.argv[1:], flush=True)\n"
        "dist.destroy_process_group()\n")
    env = mpi_env()
    result = subprocess.run([sys.executable, "-m", "cgrad.distributed.run", "--nproc-per-node", str(nproc),
                             "--master-port", "29911", str(script), "--lr", "0.5"],
                            capture_output=True, env=env, timeout=RUN_TIMEOUT, cwd=PACKAGE_ROOT)
    out = result.stdout.decode("utf-8", "replace")
    assert result.returncode == 0, out + result.stderr.decode("utf-8", "replace")
    rows = sorted(line.split()[1:] for line in out.splitlines() if line.startswith("env "))
    total = float(sum(range(nproc)))
    assert rows == sorted([str(r), str(r), str(nproc), str(nproc), "29911", str(r), str(total), "--lr", "0.5"]
                          for r in range(nproc))


@requires_mpi
def test_launcher_reports_a_failing_script(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("import os\nif os.environ['RANK'] == '1':\n    raise KeyError('missing on rank 1')\n"
                      "import time\ntime.sleep(60)\n")
    # rank 0 would sleep a minute: the job must end before then (a hang raises TimeoutExpired)
    result = subprocess.run([sys.executable, "-m", "cgrad.distributed.run", "--nproc_per_node=2", str(script)],
                            capture_output=True, env=mpi_env(), timeout=45, cwd=PACKAGE_ROOT)
    assert result.returncode != 0
    assert "KeyError: 'missing on rank 1'" in result.stderr.decode("utf-8", "replace")


@requires_mpi
def test_main_job_distributed_mode():
    code, out, err = run_mpi(2, "-m", "cgrad.examples.train", "--quick", "--no-progress", "--distributed")
    assert code == 0, out + err
    assert "2 ranks" in out, out + err


# In this process: nothing initializes MPI here (the suite's DataLoader workers fork).

LIBS = [cgrad] + ([] if torch is None else [torch])


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:   # noqa: BLE001 - the exception is the result compared
        return (type(e).__name__, str(e).replace("torch.", "cgrad."))


@requires_torch
@pytest.mark.parametrize("call", [
    lambda d, lib: d.get_rank(),
    lambda d, lib: d.get_world_size(),
    lambda d, lib: d.barrier(),
    lambda d, lib: d.all_reduce(lib.ones(2)),
    lambda d, lib: d.broadcast(lib.ones(2), src=0),
    lambda d, lib: d.destroy_process_group(),
    lambda d, lib: d.new_group([0]),
    lambda d, lib: d.is_initialized(),
    lambda d, lib: d.init_process_group("mpi", timeout=5),
    lambda d, lib: d.all_reduce([1.0]),
    lambda d, lib: d.all_gather(lib.ones(2), lib.ones(2)),
    lambda d, lib: d.all_gather([lib.ones(2), 3], lib.ones(2)),
    lambda d, lib: d.P2POp(print, lib.ones(1)),
    lambda d, lib: d.batch_isend_irecv([1]),
])
def test_errors_before_init_as_torch(call):
    ours = outcome(lambda: call(dist, cgrad))
    theirs = outcome(lambda: call(torch.distributed, torch))
    assert ours == theirs


@requires_torch
def test_reduce_op_and_backend_as_torch():
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"):
        ours, theirs = getattr(dist.ReduceOp, name), getattr(torch.distributed.ReduceOp, name)
        assert (int(ours), repr(ours)) == (int(theirs), repr(theirs))
        assert dist.ReduceOp(ours) == ours and dist.ReduceOp.RedOpType[name] == ours
    assert dist.Backend("MPI") == torch.distributed.Backend("MPI") == "mpi"
    assert dist.Backend.GLOO == "gloo" and dist.GroupMember.WORLD is None
    assert dist.default_pg_timeout == torch.distributed.default_pg_timeout == datetime.timedelta(minutes=30)


def test_refused_backends():
    for backend, text in (("gloo", "Distributed package doesn't have Gloo built in"),
                          ("nccl", "Distributed package doesn't have NCCL built in"),
                          ("cuda:nccl", "Distributed package doesn't have NCCL built in")):
        with pytest.raises(RuntimeError) as info:
            dist.init_process_group(backend)
        assert str(info.value) == text
    with pytest.raises(ValueError, match="Unknown backend 'tcp'"):
        dist.init_process_group("tcp")
    assert not dist.is_initialized()
    assert dist.is_gloo_available() is False and dist.is_nccl_available() is False
    assert dist.is_available() == (importlib.util.find_spec("mpi4py") is not None)


@requires_torch
@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (11, 4, False), (3, 4, False),
                                                  (12, 4, True), (7, 1, False)])
def test_distributed_sampler_as_torch_in_order(n, replicas, drop_last):
    from torch.utils.data import DistributedSampler as TorchSampler
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert (list(ours), len(ours), ours.total_size) == (list(theirs), len(theirs), theirs.total_size)


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (23, 4, False)])
def test_distributed_sampler_shuffled_shares(n, replicas, drop_last):
    """Shuffled, the ranks' shares are one permutation (seed + epoch) dealt
    round-robin: disjoint up to the padding, the same on every rank."""
    shares = []
    for rank in range(replicas):
        s = DistributedSampler(range(n), replicas, rank, shuffle=True, seed=3, drop_last=drop_last)
        s.set_epoch(5)
        shares.append(list(s))
        again = DistributedSampler(range(n), replicas, rank, shuffle=True, seed=3, drop_last=drop_last)
        again.set_epoch(5)
        assert list(again) == shares[-1]
        again.set_epoch(6)
        assert list(again) != shares[-1] or n < 4
    dealt = [v for row in zip(*shares) for v in row]
    if drop_last:
        assert len(set(dealt)) == len(dealt) == (n // replicas) * replicas
    else:
        assert set(dealt) == set(range(n)) and len(dealt) == -(-n // replicas) * replicas


@requires_torch
@pytest.mark.parametrize("rank,replicas", [(3, 3), (-1, 2)])
def test_distributed_sampler_bad_rank_as_torch(rank, replicas):
    from torch.utils.data import DistributedSampler as TorchSampler
    assert outcome(lambda: DistributedSampler(range(4), replicas, rank)) == \
        outcome(lambda: TorchSampler(range(4), replicas, rank))
