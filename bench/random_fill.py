"""Large random fills (rand / randn / uniform_ / normal_ / bernoulli_ /
randint / randperm of 10^7 elements) for cgrad beside torch: both draw
PyTorch's MT19937 stream, serially (ATen holds its generator's lock for a
whole fill), so this times the engine and the transformations. Medians of
--repeat calls per library, each library timed in turn round by round so
that load on a shared machine hits both alike; the ratio is cgrad / torch.

    python bench/random_fill.py [--n 10000000] [--repeat 5]
"""
import argparse
import statistics
import time

import cgrad

try:
    import torch
except ImportError:       # cgrad alone
    torch = None

CASES = {
    "rand float32": lambda L, n: L.rand(n),
    "rand float64": lambda L, n: L.rand(n, dtype=L.float64),
    "randn float32": lambda L, n: L.randn(n),
    "randn float64": lambda L, n: L.randn(n, dtype=L.float64),
    "uniform_(-1, 1)": lambda L, n: L.empty(n).uniform_(-1, 1),
    "bernoulli_(0.3)": lambda L, n: L.empty(n).bernoulli_(0.3),
    "randint(0, 10)": lambda L, n: L.randint(0, 10, (n,)),
    "randperm": lambda L, n: L.randperm(n),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10 ** 7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    libs = [("cgrad", cgrad)] + ([("torch", torch)] if torch is not None else [])
    print(f"{'case':18s} " + " ".join(f"{name + ' ms':>10s}" for name, _ in libs) + ("   ratio" if torch else ""))
    for case, fn in CASES.items():
        times = {name: [] for name, _ in libs}
        for _ in range(args.repeat):
            for name, lib in libs:
                lib.manual_seed(0)
                t0 = time.perf_counter()
                fn(lib, args.n)
                times[name].append(time.perf_counter() - t0)
        med = {name: statistics.median(ts) * 1e3 for name, ts in times.items()}
        line = f"{case:18s} " + " ".join(f"{med[name]:10.1f}" for name, _ in libs)
        if torch is not None:
            line += f"   {med['cgrad'] / med['torch']:5.2f}"
        print(line)


if __name__ == "__main__":
    main()
