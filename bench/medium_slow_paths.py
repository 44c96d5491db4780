"""The pointwise and order-statistic ops that were far slower than torch
on medium tensors: pow by 2/3/-2, round, fmod, remainder, topk, kthvalue,
median(dim), cummax, cummin (kernels7), and the special functions and
activations over erf/erfc/log1p/expm1 (vecmath8: erf, erfc, log1p, expm1,
gelu, gelu_tanh, elu, selu, softplus, mish, logsigmoid, silu, forward and
forward+backward), cgrad beside torch.

Two sizes: a 64x784 float32 matrix at 1 thread (the sweep that found
them) and a 2048x2048 (4M-element) one at 2 threads. cgrad and torch are
timed in alternating batches (interleaved, so both see the same load on a
shared machine) with the process CPU time (all threads); the median batch
per call is printed with cgrad/torch. A `_fb` row is forward + backward
(y.backward(g) with a fixed g).

    PYTHONPATH=. python bench/medium_slow_paths.py [--rows pow2 gelu gelu_fb ...] [--big-only | --small-only]
        [--dtype float32] [--budget-scale 1.0] [--wall]
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

# pointwise functions of one tensor, timed forward and forward+backward
UNARY = {
    "erf": lambda L, a: L.erf(a),
    "erfc": lambda L, a: L.erfc(a),
    "log1p": lambda L, a: L.log1p(a.abs()),
    "expm1": lambda L, a: L.expm1(a),
    "gelu": lambda L, a: L.nn.functional.gelu(a),
    "gelu_tanh": lambda L, a: L.nn.functional.gelu(a, approximate="tanh"),
    "elu": lambda L, a: L.nn.functional.elu(a),
    "selu": lambda L, a: L.nn.functional.selu(a),
    "softplus": lambda L, a: L.nn.functional.softplus(a),
    "mish": lambda L, a: L.nn.functional.mish(a),
    "logsigmoid": lambda L, a: L.nn.functional.logsigmoid(a),
    "silu": lambda L, a: L.nn.functional.silu(a),
}
# log1p's row takes |a| inside the timed call for both libraries: give it
# a non-negative input instead so only log1p is timed
NONNEG = {"log1p"}
UNARY["log1p"] = lambda L, a: L.log1p(a)
for _name in list(UNARY):
    ROWS[_name] = UNARY[_name]
    ROWS[_name + "_fb"] = None      # forward + backward, built in run()


def interleaved_medians(fn_c, fn_t, budget, clock):
    """Median seconds per call of fn_c and fn_t, timed in alternating
    batches sized to ~2 ms."""
    for f in (fn_c, fn_t, fn_c, fn_t):
        f()
    t = clock()
    fn_c()
    per = max(clock() - t, 1e-7)
    batch = max(1, min(200, int(0.002 / per)))
    tc, tt = [], []
    start = time.perf_counter()
    while len(tc) < 5 or (time.perf_counter() - start < budget and len(tc) < 300):
        for f, out in ((fn_c, tc), (fn_t, tt)):
            t = clock()
            for _ in range(batch):
                f()
            out.append((clock() - t) / batch)
    return statistics.median(tc), statistics.median(tt)


def make_call(L, name, arr):
    base = name[:-3] if name.endswith("_fb") else name
    a = L.tensor(np.abs(arr) if base in NONNEG else arr)
    if not name.endswith("_fb"):
        fn = ROWS[name]
        if base in UNARY:
            def call():
                with L.no_grad():
                    fn(L, a)
            return call
        return lambda: fn(L, a)
    fn = UNARY[base]
    a.requires_grad_(True)
    g = L.ones_like(a) * 0.5

    def call():
        a.grad = None
        fn(L, a).backward(g)
    return call


def run(shape, threads, rows, budget, dtype, clock):
    import cgrad
    import torch
    torch.set_num_threads(threads)
    cgrad.set_num_threads(threads)
    arr = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    print(f"{shape[0]}x{shape[1]} {dtype}, {threads} thread(s)")
    for name in rows:
        tc, tt = interleaved_medians(make_call(cgrad, name, arr), make_call(torch, name, arr), budget, clock)
        print(f"  {name:<14} cgrad {tc * 1e6:11.1f} us  torch {tt * 1e6:11.1f} us  cgrad/torch {tc / tt:6.2f}",
              flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", nargs="*", default=list(ROWS))
    p.add_argument("--big-only", action="store_true")
    p.add_argument("--small-only", action="store_true")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--budget-scale", type=float, default=1.0)
    p.add_argument("--wall", action="store_true", help="wall-clock time instead of process CPU time")
    args = p.parse_args()
    clock = time.perf_counter if args.wall else time.process_time
    if not args.big_only:
        run((64, 784), 1, args.rows, 0.5 * args.budget_scale, args.dtype, clock)
    if not args.small_only:
        run((2048, 2048), 2, args.rows, 2.0 * args.budget_scale, args.dtype, clock)


if __name__ == "__main__":
    main()
