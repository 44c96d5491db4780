"""Per-call cost of Tensor.view beside unsqueeze (the cheapest view) and
reshape, for cgrad and, when installed, torch, in one process: medians of
blocks of calls, two interleaved rounds (the lower kept) so that load on a
shared machine hits both libraries alike.

    python bench/view_cost.py [--repeat N]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.cpu_timing import libraries  # noqa: E402

CALLS = 200     # calls per timed block

CASES = {
    "view(6, 4)": lambda x: x.view(6, 4),
    "view((6, 4))": lambda x: x.view((6, 4)),
    "view(-1)": lambda x: x.view(-1),
    "unsqueeze(0)": lambda x: x.unsqueeze(0),
    "reshape(6, 4)": lambda x: x.reshape(6, 4),
}


def us_per_call(fn, x, repeat):
    for _ in range(CALLS):
        fn(x)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(CALLS):
            fn(x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / CALLS * 1e6


def measure(lib, repeat):
    x = lib.randn(4, 6)
    return {name: us_per_call(fn, x, repeat) for name, fn in CASES.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    libs = libraries()
    results = {name: measure(lib, args.repeat) for name, lib in libs.items()}
    for name, lib in libs.items():
        again = measure(lib, args.repeat)
        results[name] = {case: min(t, again[case]) for case, t in results[name].items()}
    print(f"Tensor.view cost on a 4x6 float32 tensor, us per call (median of {args.repeat} blocks of {CALLS}):")
    print(f"  {'':16s}" + "".join(f"{name:>10s}" for name in libs) + ("   cgrad/torch" if "torch" in libs else ""))
    for case in CASES:
        row = "".join(f"{results[name][case]:10.3f}" for name in libs)
        ratio = f"   {results['cgrad'][case] / results['torch'][case]:.2f}" if "torch" in libs else ""
        print(f"  {case:16s}{row}{ratio}")


if __name__ == "__main__":
    main()
