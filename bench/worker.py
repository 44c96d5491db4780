"""Runs one workload for one library in this process and prints one JSON
line: `python -m bench.worker <workload> <lib> --repeat N`. The driver
(bench/run.py) starts one such process per (workload, library)."""
import argparse
import gc
import json
import resource
import statistics
import sys
import time

from bench.workloads import WORKLOADS


def rss_mb():
    """Current resident set size."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeat, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_leak(lib, steps):
    from bench.workloads import MLP
    run = getattr(MLP(), f"setup_{lib}")()
    for _ in range(100):
        run()
    gc.collect()
    before = rss_mb()
    for _ in range(steps):
        run()
    gc.collect()
    return {"value": rss_mb() - before, "rss_before_mb": before, "steps": steps}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload")
    p.add_argument("lib")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.workload == "mlp_leak":
        result = run_leak(args.lib, 200 if args.quick else 2000)
    else:
        w = WORKLOADS[args.workload]()
        run = getattr(w, f"setup_{args.lib}")()
        repeat = max(3, int(args.repeat * getattr(w, "repeat_scale", 1.0)))
        if args.quick:
            repeat = 2
        gc.collect()
        rss_before = rss_mb()
        seconds = timed(run, repeat, warmup=1 if args.quick else 2)
        result = {"seconds": seconds, "repeat": repeat,
                  "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before}
        scale = {"us/op": 1e6 / (w.ops or 1), "ms/step": 1e3, "ms/iter": 1e3}[w.unit]
        result["value"] = seconds * scale
        if args.lib == "cgrad" and hasattr(w, "limit"):
            result["limit_ms"] = timed(w.limit(), repeat, warmup=1) * 1e3
    result.update(workload=args.workload, lib=args.lib)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
