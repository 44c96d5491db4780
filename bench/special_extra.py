"""The pure-Python torch.special functions (cgrad/_special_zeta.py,
_special_igamma.py, _special_bessel.py, _special_polynomials.py) against
torch's compiled kernels: medians of repeated calls after warm-up, the two
libraries interleaved (so machine load hits both alike), float64, 10 000
elements (a 100-element row shows the per-call overhead). Ratio = cgrad /
torch.

    python bench/special_extra.py [--repeat N]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cases(lib, n):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.uniform(0.1, 20.0, n))
    u = lib.tensor(rng.uniform(-1.0, 1.0, n))
    a = lib.tensor(rng.uniform(0.1, 50.0, n))
    s = lib.special
    return {
        "zeta": lambda: s.zeta(a + 1.5, x),
        "gammainc": lambda: s.gammainc(a, x),
        "gammaincc": lambda: s.gammaincc(a, x),
        "bessel_j0": lambda: s.bessel_j0(x),
        "bessel_y1": lambda: s.bessel_y1(x),
        "modified_bessel_k1": lambda: s.modified_bessel_k1(x),
        "airy_ai": lambda: s.airy_ai(u * 5),
        "chebyshev_polynomial_t n=5": lambda: s.chebyshev_polynomial_t(u, 5),
        "chebyshev_polynomial_t n=50": lambda: s.chebyshev_polynomial_t(u, 50),
        "legendre_polynomial_p n=50": lambda: s.legendre_polynomial_p(u, 50),
        "hermite_polynomial_h n=50": lambda: s.hermite_polynomial_h(u, 50),
    }


def median_us(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    import torch

    import cgrad
    torch.set_num_threads(1)
    for n in (100, 10_000):
        ours, theirs = cases(cgrad, n), cases(torch, n)
        print(f"\n{n} elements, float64, median us")
        print(f"{'function':30s} {'cgrad':>10s} {'torch':>10s} {'ratio':>7s}")
        for name in ours:
            for fn in (ours[name], theirs[name]):
                for _ in range(3):
                    fn()
            c, t = [], []
            for _ in range(args.repeat):
                c.append(median_us(ours[name], 1))
                t.append(median_us(theirs[name], 1))
            mc, mt = statistics.median(c), statistics.median(t)
            print(f"{name:30s} {mc:10.1f} {mt:10.1f} {mc / mt:7.1f}")


if __name__ == "__main__":
    main()
