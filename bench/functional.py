"""Function transforms: cgrad.func against torch.func, in one process and one
run, medians of repeated calls after warm-up, and the ratio cgrad / torch.

  jacrev   the 64 x 64 Jacobian of a two-layer tanh network R^64 -> R^64
           (64 -> 64 -> 64, float32)
  hessian  the 32 x 32 Hessian of a scalar function of 32 inputs
           (sum(tanh(W x) ** 2) + sum(x ** 3), float64)

torch.func vmaps one backward over the 64 rows and composes jacfwd over
jacrev for hessian; cgrad runs one engine pass per row (no batching rules)
and composes jacrev over jacrev.

    python bench/functional.py [--repeat N]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def workloads(lib, func):
    rng = np.random.default_rng(0)
    w1 = lib.tensor(rng.standard_normal((64, 64)).astype(np.float32) / 8)
    w2 = lib.tensor(rng.standard_normal((64, 64)).astype(np.float32) / 8)
    x = lib.tensor(rng.standard_normal(64).astype(np.float32))
    w = lib.tensor(rng.standard_normal((32, 32)) / 6)
    z = lib.tensor(rng.standard_normal(32))

    def net(v):
        return (w2 @ (w1 @ v).tanh()).tanh()

    def scalar(v):
        return ((w @ v).tanh() ** 2).sum() + (v ** 3).sum()

    jac = func.jacrev(net)
    hes = func.hessian(scalar)
    return {"jacrev": lambda: jac(x), "hessian": lambda: hes(z)}


def median_us(fn, repeat, warmup=5):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    import cgrad
    import cgrad.func
    runs = {"cgrad": workloads(cgrad, cgrad.func)}
    try:
        import torch
        import torch.func
        runs["torch"] = workloads(torch, torch.func)
    except ImportError:
        torch = None
    if torch is not None:
        # the two must agree before their speed is compared
        for name in runs["cgrad"]:
            a = np.asarray(runs["cgrad"][name]().numpy(), dtype=np.float64)
            b = runs["torch"][name]().detach().numpy().astype(np.float64)
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)
    print(f"{'workload':<10}{'cgrad us':>12}{'torch us':>12}{'cgrad/torch':>14}")
    for name in runs["cgrad"]:
        c = median_us(runs["cgrad"][name], args.repeat)
        line = f"{name:<10}{c:>12.1f}"
        if torch is not None:
            t = median_us(runs["torch"][name], args.repeat)
            line += f"{t:>12.1f}{c / t:>14.2f}"
        print(line)


if __name__ == "__main__":
    main()
