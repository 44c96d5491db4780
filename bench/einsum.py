"""einsum("bij,bjk->bik") against bmm, in cgrad and in torch, one process,
medians of repeated calls after warm-up (interleaved, so machine load hits
both alike), forward alone and forward + backward. The target (issue 16):
cgrad's einsum at or below 1.1x cgrad's bmm.

Sizes: batch 32, 64 x 64 @ 64 x 64 (small: the per-call overhead shows) and
batch 16, 256 x 256 @ 256 x 256 (BLAS-bound). float32.

On a loaded machine wall time is mostly the wait for a core: --cpu
reports process CPU time instead.

    python bench/einsum.py [--repeat N] [--cpu]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SIZES = [(32, 64, 64, 64), (16, 256, 256, 256)]


def cases(lib, b, i, j, k):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((b, i, j)).astype(np.float32), requires_grad=True)
    y = lib.tensor(rng.standard_normal((b, j, k)).astype(np.float32), requires_grad=True)
    g = lib.tensor(rng.standard_normal((b, i, k)).astype(np.float32))

    def einsum_fwd():
        with lib.no_grad():
            return lib.einsum("bij,bjk->bik", x, y)

    def bmm_fwd():
        with lib.no_grad():
            return lib.bmm(x, y)

    def einsum_bwd():
        x.grad = y.grad = None
        lib.einsum("bij,bjk->bik", x, y).backward(g)

    def bmm_bwd():
        x.grad = y.grad = None
        lib.bmm(x, y).backward(g)
    return {"einsum fwd": einsum_fwd, "bmm fwd": bmm_fwd, "einsum f+b": einsum_bwd, "bmm f+b": bmm_bwd}


def medians_us(fns, repeat, warmup=5, clock=time.perf_counter):
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = clock()
            fn()
            times[name].append(clock() - t0)
    return {name: statistics.median(ts) * 1e6 for name, ts in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--cpu", action="store_true", help="process CPU time rather than wall time")
    args = parser.parse_args()
    clock = time.process_time if args.cpu else time.perf_counter
    import cgrad
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    cgrad.set_num_threads(1)
    print(f"single-threaded (2 shared cores); medians in us of {'CPU' if args.cpu else 'wall'} time")
    print(f"{'size':<20}{'case':<12}{'cgrad':>10}{'torch':>10}{'cgrad einsum/bmm':>18}{'torch einsum/bmm':>18}")
    for size in SIZES:
        c = cases(cgrad, *size)
        a = np.asarray(c["einsum fwd"]().numpy())
        np.testing.assert_allclose(a, c["bmm fwd"]().numpy(), rtol=1e-5, atol=1e-4)
        res_c = medians_us(c, args.repeat, clock=clock)
        res_t = medians_us(cases(torch, *size), args.repeat, clock=clock) if torch is not None else None
        label = "{}x{}x{}@{}".format(size[0], size[1], size[2], size[3])
        for kind in ("fwd", "f+b"):
            for op in ("einsum", "bmm"):
                name = f"{op} {kind}"
                line = f"{label:<20}{name:<12}{res_c[name]:>10.1f}"
                line += f"{res_t[name]:>10.1f}" if res_t else f"{'-':>10}"
                if op == "einsum":
                    line += f"{res_c[name] / res_c['bmm ' + kind]:>18.2f}"
                    if res_t:
                        line += f"{res_t[name] / res_t['bmm ' + kind]:>18.2f}"
                print(line)


if __name__ == "__main__":
    main()
