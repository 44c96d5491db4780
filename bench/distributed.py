"""Data-parallel training over MPI on this machine: DDP step time of an MLP
(the main job's, widened to 2-512-512-10) on a fixed global batch of 512,
on 1 and 2 ranks (speedup T1/T2, efficiency T1/(2*T2)); and all_reduce
time and bandwidth on 2 ranks from 4 KB to 64 MB (float32), cgrad beside
mpi4py's Allreduce on a numpy array (the floor cgrad's layer stands on).
Medians; bus bandwidth as NCCL reports it: 2(n-1)/n * bytes / time.

    PYTHONPATH=. /work/main/.venv/bin/python bench/distributed.py   (from the repository root)
"""
import json
import os
import statistics
import subprocess
import sys
import time

GLOBAL_BATCH, HIDDEN, STEPS, WARMUP = 512, 512, 30, 5
SIZES = [4 << 10, 64 << 10, 1 << 20, 8 << 20, 64 << 20]


def median_seconds(fn, repeat, barrier):
    fn()
    times = []
    for _ in range(repeat):
        barrier()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker():
    import numpy as np
    from mpi4py import MPI

    import cgrad
    import cgrad.distributed as dist
    from cgrad.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    barrier = dist.barrier
    cgrad.manual_seed(0)
    nn = cgrad.nn
    model = nn.Sequential(nn.Linear(2, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                          nn.Linear(HIDDEN, 10))
    ddp = DDP(model)
    opt = cgrad.optim.SGD(ddp.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    share = GLOBAL_BATCH // size
    x = cgrad.randn(share, 2)
    y = cgrad.randint(0, 10, (share,))

    def step():
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()

    for _ in range(WARMUP):
        step()
    result = {"ranks": size, "step_seconds": median_seconds(step, STEPS, barrier),
              "parameters": sum(p.numel() for p in model.parameters())}
    if size > 1:
        rows = []
        for nbytes in SIZES:
            t = cgrad.ones(nbytes // 4)
            a = np.ones(nbytes // 4, dtype=np.float32)
            repeat = 20 if nbytes <= (1 << 20) else 5
            ours = median_seconds(lambda: dist.all_reduce(t), repeat, barrier)
            floor = median_seconds(lambda: MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, a), repeat, barrier)
            rows.append({"bytes": nbytes, "cgrad_seconds": ours, "mpi4py_seconds": floor})
        result["all_reduce"] = rows
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


def mpirun():
    beside = os.path.join(os.path.dirname(sys.executable), "mpirun")
    return beside if os.path.exists(beside) else "mpirun"


def run(nproc):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([mpirun(), "-n", str(nproc), sys.executable, os.path.abspath(__file__), "--worker"],
                         env=env, capture_output=True, text=True, check=True, timeout=600).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])


def main():
    one, two = run(1), run(2)
    t1, t2 = one["step_seconds"], two["step_seconds"]
    print(f"DDP step, MLP 2-{HIDDEN}-{HIDDEN}-10 ({one['parameters']:,} parameters, "
          f"{one['parameters'] * 4 / 2**20:.2f} MB of float32 gradients), global batch {GLOBAL_BATCH}, "
          f"OMP_NUM_THREADS=1:")
    print(f"  1 rank : {t1 * 1e3:8.2f} ms")
    print(f"  2 ranks: {t2 * 1e3:8.2f} ms   speedup {t1 / t2:.2f}x, scaling efficiency {t1 / (2 * t2):.0%}")
    print("\nall_reduce (SUM, float32) on 2 ranks:")
    print(f"{'size':>8s} {'cgrad':>10s} {'mpi4py':>10s} {'ratio':>6s} {'cgrad algbw':>12s} {'busbw':>10s}")
    for row in two["all_reduce"]:
        n, c, m = row["bytes"], row["cgrad_seconds"], row["mpi4py_seconds"]
        size = f"{n >> 20} MB" if n >= 1 << 20 else f"{n >> 10} KB"
        print(f"{size:>8s} {c * 1e6:8.1f}us {m * 1e6:8.1f}us {c / m:6.2f} {n / c / 1e9:9.2f} GB/s "
              f"{n / c / 1e9:7.2f} GB/s")
    alpha, beta = fit_ring_model(two["all_reduce"], 2)
    print(f"\nring model T(S) = 2(n-1) a + 2(n-1)/n S/B fitted to these medians (least squares, relative): "
          f"a = {alpha * 1e6:.1f} us, B = {1 / beta / 1e9:.2f} GB/s")
    for row in two["all_reduce"]:
        predicted = ring_seconds(row["bytes"], 2, alpha, 1 / beta)
        print(f"  {row['bytes']:>10,d} B: measured {row['cgrad_seconds'] * 1e6:10.1f} us, model "
              f"{predicted * 1e6:10.1f} us ({predicted / row['cgrad_seconds']:.2f}x)")
    results = {"1": one, "2": two, "ring_fit": {"alpha_seconds": alpha, "bandwidth_bytes_per_second": 1 / beta},
               "load_average": os.getloadavg()}
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "distributed.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"(load average while measuring: {' '.join(f'{v:.1f}' for v in os.getloadavg())}; "
          f"written to bench/results/distributed.json)")
    return results


def ring_seconds(nbytes, n, alpha, bandwidth):
    """Ring all-reduce: a reduce-scatter then an all-gather, n-1 steps each,
    every step sending one 1/n chunk to the next rank."""
    return 2 * (n - 1) * alpha + 2 * (n - 1) / n * nbytes / bandwidth


def fit_ring_model(rows, n):
    """alpha (latency per step) and 1/B from the medians, each weighted by
    1/time so small and large messages count alike."""
    import numpy as np
    a = np.array([[2 * (n - 1), 2 * (n - 1) / n * r["bytes"]] for r in rows], dtype=float)
    t = np.array([r["cgrad_seconds"] for r in rows])
    coef, *_ = np.linalg.lstsq(a / t[:, None], np.ones_like(t), rcond=None)
    return max(coef[0], 0.0), coef[1]


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        main()
