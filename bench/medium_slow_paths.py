"""The pointwise and order-statistic ops that were far slower than torch
on medium tensors (kernels7): pow by 2/3/-2, round, fmod, remainder, topk,
kthvalue, median(dim), cummax, cummin, cgrad beside torch.

Two sizes: a 64x784 float32 matrix at 1 thread (the sweep that found
them) and a 2048x2048 (4M-element) one at 2 threads. Each row is timed
after warm-up; the median of the runs is printed with cgrad/torch.

    PYTHONPATH=. python bench/medium_slow_paths.py [--rows pow2 topk1 ...] [--big-only | --small-only]
"""
import argparse
import statistics
import time

import numpy as np

ROWS = {
    "pow2": lambda L, a: a ** 2,
    "pow3": lambda L, a: a ** 3,
    "pow_m2": lambda L, a: a ** -2,
    "round": lambda L, a: a.round(),
    "fmod": lambda L, a: L.fmod(a, 0.3),
    "remainder": lambda L, a: L.remainder(a, 0.3),
    "topk1": lambda L, a: a.topk(5, 1),
    "topk0": lambda L, a: a.topk(5, 0),
    "kth1": lambda L, a: a.kthvalue(3, 1),
    "median1": lambda L, a: a.median(1),
    "nanmedian1": lambda L, a: a.nanmedian(1),
    "cummax1": lambda L, a: a.cummax(1),
    "cummin0": lambda L, a: a.cummin(0),
}


def median_time(fn, budget):
    fn()
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 300):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(shape, threads, rows, budget):
    import cgrad
    import torch
    torch.set_num_threads(threads)
    cgrad.set_num_threads(threads)
    arr = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    a_c, a_t = cgrad.tensor(arr), torch.tensor(arr)
    print(f"{shape[0]}x{shape[1]} float32, {threads} thread(s)")
    for name in rows:
        fn = ROWS[name]
        tc = median_time(lambda: fn(cgrad, a_c), budget)
        tt = median_time(lambda: fn(torch, a_t), budget)
        print(f"  {name:<12} cgrad {tc * 1e6:11.1f} us  torch {tt * 1e6:11.1f} us  cgrad/torch {tc / tt:6.2f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", nargs="*", default=list(ROWS))
    p.add_argument("--big-only", action="store_true")
    p.add_argument("--small-only", action="store_true")
    args = p.parse_args()
    if not args.big_only:
        run((64, 784), 1, args.rows, 0.5)
    if not args.small_only:
        run((2048, 2048), 2, args.rows, 2.0)


if __name__ == "__main__":
    main()
