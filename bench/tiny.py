"""The foundation's benchmark: a chain of 50 x (y * 1.01 + 0.5).tanh() on a
16-element float32 tensor, then sum().backward(), timed for cgrad and, when
installed, torch, in one process and one run. Reported as microseconds per op
(forward plus backward; 151 ops per chain) and as the ratio cgrad / torch.

    python bench/tiny.py [--repeat N]
"""
import argparse
import statistics
import time

N_STEPS = 50
OPS_PER_CHAIN = 3 * N_STEPS + 1   # mul, add, tanh per step, then sum


def chain(lib):
    x = lib.ones(16, requires_grad=True)
    y = x
    for _ in range(N_STEPS):
        y = (y * 1.01 + 0.5).tanh()
    y.sum().backward()
    return x.grad


def us_per_op(lib, repeat, warmup=20):
    for _ in range(warmup):
        chain(lib)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        chain(lib)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / OPS_PER_CHAIN * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    import cgrad
    results = {"cgrad": us_per_op(cgrad, args.repeat)}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        results["torch"] = us_per_op(torch, args.repeat)
        # interleave a second round so drift on a shared machine hits both alike
        results["cgrad"] = min(results["cgrad"], us_per_op(cgrad, args.repeat))
        results["torch"] = min(results["torch"], us_per_op(torch, args.repeat))
    print(f"tiny chain, 16-element float32, {OPS_PER_CHAIN} ops, median of {args.repeat}:")
    for name, us in results.items():
        print(f"  {name:6s} {us:8.3f} us/op")
    if "torch" in results:
        print(f"  ratio cgrad/torch: {results['cgrad'] / results['torch']:.3f}")


if __name__ == "__main__":
    main()
