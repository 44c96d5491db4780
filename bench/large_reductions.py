"""Large reductions, softmax, cumsum and gathers: cgrad against torch and
against the machine's own limit, each in its own process.

Each row is an expression over an 8192x8192 float32 matrix `a`, a
200,000,000-element float32 vector `v` or a 16M-element int64 index `idx`.
A worker process builds the inputs once, runs the expression once (first
call: page faults, lazy set-up), then times it three times and prints the
median. The limit is numpy copying the bytes the row reads (np.copyto of a
same-sized buffer), the memory bandwidth one thread gets on this machine;
for a gather, the bytes of its index (the elements it fetches at random
have no copy to compare with). A reduction's limit here is thus a copy of
its input, twice the bytes it moves; `python -m bench --large` counts every
byte a row reads and writes instead (see bench/large.py).

    python bench/large_reductions.py [--rows sum0 sum1 ...] [--libs cgrad torch]

Rows: the columns are cgrad and torch (seconds), cgrad/torch, and
cgrad/limit. The lead folds these rows into `python -m bench --large`.
"""
import argparse
import json
import os
import subprocess
import sys

N = 8192
VEC = 200_000_000
NIDX = 16_000_000

# name: (the inputs the row reads, the expression)
ROWS = {
    "sum0": ("a", "a.sum(0)"),
    "sum1": ("a", "a.sum(1)"),
    "sum_vec": ("v", "v.sum()"),
    "mean0": ("a", "a.mean(0)"),
    "mean1": ("a", "a.mean(1)"),
    "var0": ("a", "a.var(0)"),
    "var1": ("a", "a.var(1)"),
    "var_vec": ("v", "v.var()"),
    "amax0": ("a", "a.amax(0)"),
    "amax1": ("a", "a.amax(1)"),
    "amax_vec": ("v", "v.amax()"),
    "lse0": ("a", "a.logsumexp(0)"),
    "lse1": ("a", "a.logsumexp(1)"),
    "softmax0": ("a", "a.softmax(0)"),
    "softmax1": ("a", "a.softmax(1)"),
    "log_softmax1": ("a", "a.log_softmax(1)"),
    "cumsum0": ("a", "a.cumsum(0)"),
    "cumsum1": ("a", "a.cumsum(1)"),
    "gather_flat": ("a,idx", "a.flatten()[idx]"),
    "index_select": ("a,idx", "a.flatten().index_select(0, idx)"),
    "gather": ("a,idx", "a.flatten().gather(0, idx)"),
}

WORKER = r"""
import statistics, sys, time
import numpy as np
lib_name, inputs, expr = sys.argv[1], sys.argv[2], sys.argv[3]
rng = np.random.default_rng(0)
env = {}
if lib_name == "numpy":
    # the limit: copy the bytes of the inputs the row reads
    src = {"a": (8192 * 8192, np.float32), "v": (200_000_000, np.float32),
           "idx": (16_000_000, np.int64)}
    # a gather reads its index in order and the rest at random: its limit
    # is the copy of the index
    keys = ["idx"] if "idx" in inputs else inputs.split(",")
    arrays = [np.ones(src[k][0], src[k][1]) for k in keys]
    outs = [np.empty_like(x) for x in arrays]
    def run():
        for o, x in zip(outs, arrays):
            np.copyto(o, x)
else:
    lib = __import__(lib_name)
    if "a" in inputs:
        env["a"] = lib.from_numpy(rng.standard_normal((8192, 8192), dtype=np.float32))
    if "v" in inputs:
        env["v"] = lib.from_numpy(rng.standard_normal(200_000_000, dtype=np.float32))
    if "idx" in inputs:
        env["idx"] = lib.from_numpy(rng.integers(0, 8192 * 8192, 16_000_000, dtype=np.int64))
    code = compile(expr, "<row>", "eval")
    def run():
        return eval(code, env)
run()
times = []
for _ in range(3):
    t0 = time.perf_counter()
    r = run()
    times.append(time.perf_counter() - t0)
    del r
print(statistics.median(times))
"""


def time_row(lib, inputs, expr):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.getcwd() + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", WORKER, lib, inputs, expr], capture_output=True,
                         text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{lib} {expr}: {out.stderr.strip()[-500:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", nargs="*", default=list(ROWS))
    parser.add_argument("--libs", nargs="*", default=["cgrad", "torch"])
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = {}
    print(f"{'row':14s} {'expression':36s}" + "".join(f"{lib:>9s}" for lib in args.libs)
          + f"{'limit':>9s}   c/torch  c/limit")
    for name in args.rows:
        inputs, expr = ROWS[name]
        t = {lib: time_row(lib, inputs, expr) for lib in args.libs}
        t["limit"] = time_row("numpy", inputs, expr)
        results[name] = t
        line = f"{name:14s} {expr:36s}" + "".join(f"{t[lib]:9.4f}" for lib in args.libs) + f"{t['limit']:9.4f}"
        if "cgrad" in t and "torch" in t:
            line += f"   {t['cgrad'] / t['torch']:6.2f}"
        if "cgrad" in t:
            line += f"   {t['cgrad'] / t['limit']:6.2f}"
        print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
