"""What the profiler costs, cgrad beside torch, in one process: the
per-call time of small ops (x + y, cgrad.add, x.relu(), F.linear) and of a
backward through a 3-layer MLP (per node: the per-node hooks) with no
profile, after a profile ended (the originals are back: the same as
before), and inside a recording profile. Medians of blocks of calls, two
interleaved rounds (the lower kept), so load on a shared machine hits
every column alike.

    python bench/profiler_overhead.py [--repeat N]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.cpu_timing import libraries  # noqa: E402

CALLS = 200     # calls per timed block


def us_per_call(fn, repeat, calls=CALLS):
    for _ in range(calls):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / calls * 1e6


def cases(lib):
    F = lib.nn.functional
    x, y = lib.randn(8, 8), lib.randn(8, 8)
    w, b = lib.randn(8, 8), lib.randn(8)
    model = lib.nn.Sequential(lib.nn.Linear(16, 16), lib.nn.ReLU(), lib.nn.Linear(16, 16), lib.nn.ReLU(),
                              lib.nn.Linear(16, 1))
    inputs = lib.randn(4, 16)

    def backward():
        model(inputs).sum().backward()

    return {"x + y": lambda: x + y, "add(x, y)": lambda: lib.add(x, y), "x.relu()": lambda: x.relu(),
            "F.linear": lambda: F.linear(x, w, b), "MLP fwd+bwd": backward}


def measure(lib, repeat):
    from_cases = cases(lib)
    before = {name: us_per_call(fn, repeat) for name, fn in from_cases.items()}
    with lib.profiler.profile() as prof:
        during = {}
        for name, fn in from_cases.items():
            # a short profile per case keeps the recorded events (and memory) bounded
            during[name] = us_per_call(fn, max(repeat // 10, 3), calls=20)
    del prof
    after = {name: us_per_call(fn, repeat) for name, fn in from_cases.items()}
    return before, after, during


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    libs = libraries()
    results = {name: measure(lib, args.repeat) for name, lib in libs.items()}
    for name, lib in libs.items():
        again = measure(lib, args.repeat)
        results[name] = tuple({case: min(t, other[case]) for case, t in first.items()}
                              for first, other in zip(results[name], again))
    print(f"us per call (median of blocks): no profile / after a profile ended / inside a recording profile")
    header = "".join(f"{lib + ' ' + when:>18s}" for lib in libs for when in ("none", "after", "profiling"))
    print(f"  {'':14s}{header}")
    for case in cases(libs["cgrad"]):
        row = "".join(f"{results[lib][i][case]:18.2f}" for lib in libs for i in range(3))
        print(f"  {case:14s}{row}")


if __name__ == "__main__":
    main()
