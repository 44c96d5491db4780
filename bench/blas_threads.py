"""Matrix products beside cgrad's parallel elementwise kernels, with BLAS on
cgrad's own OpenMP threads (now) and on OpenBLAS's separate thread pool
(before): the bug of issue 15, where a 256 x 256 product took 13 ms instead
of a fraction of a millisecond right after a parallel elementwise op on a
2-core machine, because the idle threads of one pool held the cores the
other pool needed. Each mode runs in its own process; medians of wall and
process CPU time (CPU above wall * threads means threads spinning).

  matmul          c = a @ b, 256 x 256 float32
  ewise           y = x * 2, 10^6 float32 (parallel over the threads)
  ewise+matmul    x * 2 then a @ b, alternating
  lenet step      issue 15's LeNet training step (bench/train_steps.py)
  torch rows      the same in torch, for scale

    PYTHONPATH=. python bench/blas_threads.py [--threads 2] [--repeat 200]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def median_ms(fn, repeat, warmup=20):
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def worker(mode, threads, repeat):
    if mode == "torch":
        import torch as lib
    else:
        import cgrad as lib
        lib._C._set_blas_on_cgrad_threads(mode == "cgrad-pool")
    lib.set_num_threads(threads)
    from bench.train_steps import build_steps
    import cgrad
    try:
        import torch
    except ImportError:
        torch = None
    a, b, x = lib.randn(256, 256), lib.randn(256, 256), lib.randn(10 ** 6)

    def both():
        x * 2
        a @ b
    res = {"matmul": median_ms(lambda: a @ b, repeat), "ewise": median_ms(lambda: x * 2, repeat),
           "ewise+matmul": median_ms(both, repeat)}
    steps = build_steps("lenet", cgrad, torch if mode == "torch" else None)
    res["lenet step"] = median_ms(steps["torch" if mode == "torch" else "cgrad"], max(10, repeat // 4))
    print(json.dumps(res))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=200)
    p.add_argument("--worker", default=None)
    args = p.parse_args()
    if args.worker:
        worker(args.worker, args.threads, args.repeat)
        return
    modes = {"cgrad-pool": "cgrad, BLAS on cgrad's threads (now)",
             "cgrad-openblas": "cgrad, BLAS on OpenBLAS's threads (before)", "torch": "torch"}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    results = {}
    for mode in modes:
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", mode, "--threads",
                              str(args.threads), "--repeat", str(args.repeat)],
                             capture_output=True, text=True, env=env, cwd=ROOT)
        if out.returncode != 0:
            print(f"{mode}: failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{args.threads} thread(s); median wall ms / median CPU ms per call")
    names = list(next(iter(results.values())))
    print(f"{'':16s}" + "".join(f"{m:>22s}" for m in results))
    for name in names:
        print(f"{name:16s}" + "".join(f"{results[m][name][0]:11.3f} /{results[m][name][1]:8.3f}" for m in results))


if __name__ == "__main__":
    main()
