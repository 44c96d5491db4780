"""gather, scatter and scatter_add at medium sizes, cgrad beside torch in
one process: along the last dim and the first of a 64x784 float32 matrix,
the last dim of an (8, 16, 32) tensor, a 1000-element vector; random int64
indices of the input's shape. Process CPU time per call (median of
--repeat calls after warm-up, the libraries interleaved op by op), 1
thread each; ratio cgrad / torch.

    python bench/gather_scatter.py [--repeat N]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.cpu_timing import median_cpu_seconds  # noqa: E402

CASES = [((64, 784), 1), ((64, 784), 0), ((8, 16, 32), 2), ((1000,), 0)]


def cpu_us(fn, repeat):
    return median_cpu_seconds(fn, repeat, warmup=20) * 1e6


def calls(lib, shape, dim):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    index = lib.tensor(rng.integers(0, shape[dim], size=shape))
    zeros = lib.zeros(shape)
    return {"gather": lambda: lib.gather(x, dim, index),
            "scatter": lambda: zeros.scatter(dim, index, x),
            "scatter_add": lambda: zeros.scatter_add(dim, index, x)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    import cgrad
    import torch
    cgrad.set_num_threads(1)
    torch.set_num_threads(1)
    print("gather/scatter, float32, 1 thread, CPU us per call (median):")
    for shape, dim in CASES:
        runs = {"cgrad": calls(cgrad, shape, dim), "torch": calls(torch, shape, dim)}
        for op in runs["cgrad"]:
            t = cpu_us(runs["torch"][op], args.repeat)
            c = cpu_us(runs["cgrad"][op], args.repeat)
            print(f"  {op:12s} {str(shape):12s} dim {dim}   cgrad {c:9.2f}   torch {t:9.2f}   ratio {c / t:.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
