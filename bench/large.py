"""The large-tensor suite: work on 200,000,000-element vectors and 8192x8192
float32 matrices, cgrad beside torch in one run, each figure also against
the machine's own limit measured in the same run.

    python -m bench --large                  # every row (several minutes)
    python -m bench --large --quick          # small sizes, one repeat: a CI smoke run (< 2 min)
    python -m bench --large --only sum0 cat0 --libs cgrad torch
    python -m bench --large --only sum1 zero_ --rounds 5   # 5 processes each, medians

Each (row, library) runs in its own fresh process (bench.large --worker),
so that a row's first call meets fresh memory (pages the process never
touched) and its peak memory (ru_maxrss) is its own. A row's figure is the
median of 3 calls after a first one; rows marked `fresh` also report that
first call, the cost of fresh memory. cgrad's and torch's processes of a
row alternate (--rounds R: R of each, alternating which goes first; the
figures are their medians), and the load average at the start and end of
the run is printed with the table: on a shared machine, read the ratios
with it. The limit beside each row is measured
in the cgrad process after its row. For memory-bound rows it counts every
byte the row reads and writes (all its inputs read once and all its
outputs written once, by each op of the row as PyTorch runs it, forward
and backward: `passes` at each row) at the rate of a numpy copy of the
row's main tensor (which reads and writes that tensor's bytes once): a
copy row's limit is the copy itself, a reduction's half of it, cat of two
matrices twice it. For product rows it is numpy's matmul of the same shapes
(BLAS). In --quick mode the
sizes are small, each library runs every row in one process (import once)
and peak memory is that process's running peak.

Results go to bench/results/large.json (large_quick.json for --quick), and
a full run's table to bench/results/large.md. No
timing is asserted anywhere; read the ratios, which compare within one run.
"""
import argparse
import datetime
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TIMEOUT = 900
LIBS = ("cgrad", "torch")


class Sizes:
    def __init__(self, quick):
        self.vec = 4_000_000 if quick else 200_000_000      # elements of the vector rows
        self.mat = 1024 if quick else 8192                  # side of the square float32 matrices
        self.idx = 1_000_000 if quick else 16_000_000       # int64 indices of the gather rows
        self.mm = 256 if quick else 2048                    # side of the product rows


# ---------------------------------------------------------------------------
# The rows. Each maker takes (lib, sizes) and returns a zero-argument call
# that runs one repetition; the data it needs is made before the timing.
# `nbytes(sizes)` is the size of the row's main tensor and `passes` the
# bytes the row reads and writes in all, in units of nbytes (a copy of the
# main tensor: 2, one read and one write; x * y: 3; cat of two: 4): the
# limit is that traffic at the rate of a numpy copy of the main tensor
# measured in the same process. The code is written once: cgrad mirrors
# torch's API.

ROWS = {}


def row(name, nbytes, fresh=False, kind="mem", passes=2):
    """passes: the bytes the row reads and writes, in units of nbytes (its
    main tensor): every input read once and every output written once, by
    each op of the row as PyTorch runs it (forward and backward), the least
    traffic the work can have. The limit is that many bytes moved at the
    copy's rate (see limit_ms)."""
    def register(maker):
        ROWS[name] = {"make": maker, "nbytes": nbytes, "fresh": fresh, "kind": kind,
                      "passes": passes, "doc": (maker.__doc__ or name).strip()}
        return maker
    return register


def vec_bytes(s):
    return 4 * s.vec


def mat_bytes(s):
    return 4 * s.mat * s.mat


def matrix(lib, s):
    g = lib.Generator().manual_seed(0)
    return lib.rand(s.mat, s.mat, generator=g)


@row("ones_grad", vec_bytes, fresh=True, passes=1)
def _ones_grad(lib, s):
    """ones(N, requires_grad=True)"""
    return lambda: lib.ones(s.vec, requires_grad=True)


@row("zeros", vec_bytes, fresh=True, passes=1)
def _zeros(lib, s):
    """zeros(N)"""
    return lambda: lib.zeros(s.vec)


@row("full", vec_bytes, fresh=True, passes=1)
def _full(lib, s):
    """full((N,), 2.5)"""
    return lambda: lib.full((s.vec,), 2.5)


@row("empty_fill", vec_bytes, fresh=True, passes=1)
def _empty_fill(lib, s):
    """empty(N).fill_(2.5)"""
    return lambda: lib.empty(s.vec).fill_(2.5)


@row("zero_", vec_bytes, passes=1)
def _zero_(lib, s):
    """x.zero_() on N (memory reused)"""
    x = lib.ones(s.vec)
    return x.zero_


@row("add_sum_bwd", vec_bytes, fresh=True, passes=4)
def _add_sum_bwd(lib, s):
    """(x + x).sum().backward(), N"""
    x = lib.ones(s.vec, requires_grad=True)

    def run():
        x.grad = None
        (x + x).sum().backward()
    return run


@row("mul_exp_bwd", vec_bytes, fresh=True, passes=14)
def _mul_exp_bwd(lib, s):
    """(x * y).exp().sum().backward(), N"""
    g = lib.Generator().manual_seed(0)
    x = lib.rand(s.vec, generator=g).requires_grad_()
    y = lib.rand(s.vec, generator=g).requires_grad_()

    def run():
        x.grad = y.grad = None
        (x * y).exp().sum().backward()
    return run


@row("mul", vec_bytes, passes=3)
def _mul(lib, s):
    """x * y, N"""
    x = lib.ones(s.vec)
    y = lib.full((s.vec,), 2.0)
    return lambda: x * y


@row("exp", vec_bytes, passes=2)
def _exp(lib, s):
    """x.exp(), N"""
    x = lib.ones(s.vec)
    return x.exp


@row("cast_f64", vec_bytes, passes=3)
def _cast_f64(lib, s):
    """x.double(), N float32 -> float64"""
    x = lib.ones(s.vec)
    return x.double


@row("cast_f32", vec_bytes, passes=3)
def _cast_f32(lib, s):
    """x.float(), N float64 -> float32"""
    x = lib.ones(s.vec, dtype=lib.float64)
    return x.float


@row("t_contig", mat_bytes, passes=2)
def _t_contig(lib, s):
    """a.t().contiguous(), M x M"""
    a = matrix(lib, s)
    return lambda: a.t().contiguous()


@row("permute_contig", mat_bytes, passes=2)
def _permute_contig(lib, s):
    """a.view(64, M/64, M).permute(2, 0, 1).contiguous()"""
    a = matrix(lib, s).view(64, s.mat // 64, s.mat)
    return lambda: a.permute(2, 0, 1).contiguous()


@row("expand_rows", mat_bytes, passes=1)
def _expand_rows(lib, s):
    """a[:1].expand(M, M).contiguous()"""
    a = matrix(lib, s)[:1]
    return lambda: a.expand(s.mat, s.mat).contiguous()


@row("expand_cols", mat_bytes, passes=1)
def _expand_cols(lib, s):
    """a[:, :1].expand(M, M).contiguous()"""
    a = matrix(lib, s)[:, :1]
    return lambda: a.expand(s.mat, s.mat).contiguous()


@row("t_exp", mat_bytes, passes=2)
def _t_exp(lib, s):
    """a.t().exp(), M x M: the result keeps the transposed layout, as PyTorch's"""
    a = matrix(lib, s)
    return lambda: a.t().exp()


@row("t_mul_t", mat_bytes, passes=2)
def _t_mul_t(lib, s):
    """a.t() * a.t(), M x M"""
    a = matrix(lib, s)
    return lambda: a.t() * a.t()


@row("t_add", mat_bytes, passes=3)
def _t_add(lib, s):
    """a.t() + b, M x M: a transposed and a contiguous input"""
    a = matrix(lib, s)
    b = matrix(lib, s)
    return lambda: a.t() + b


@row("cat0", mat_bytes, passes=4)
def _cat0(lib, s):
    """cat([a, b], 0), M x M each"""
    a, b = matrix(lib, s), matrix(lib, s) + 1
    return lambda: lib.cat([a, b], 0)


@row("cat1", mat_bytes, passes=4)
def _cat1(lib, s):
    """cat([a, b], 1), M x M each"""
    a, b = matrix(lib, s), matrix(lib, s) + 1
    return lambda: lib.cat([a, b], 1)


@row("stack0", mat_bytes, passes=4)
def _stack0(lib, s):
    """stack([a, b], 0)"""
    a, b = matrix(lib, s), matrix(lib, s) + 1
    return lambda: lib.stack([a, b], 0)


@row("stack1", mat_bytes, passes=4)
def _stack1(lib, s):
    """stack([a, b], 1)"""
    a, b = matrix(lib, s), matrix(lib, s) + 1
    return lambda: lib.stack([a, b], 1)


def _reduction(name, doc, call, passes=1):
    # passes: a reduction reads the matrix once (its output is one row);
    # softmax and cumsum also write a matrix
    for dim in (0, 1):
        def make(lib, s, dim=dim):
            a = matrix(lib, s)
            return lambda: call(lib, a, dim)
        make.__doc__ = doc.replace("D", str(dim))
        row(f"{name}{dim}", mat_bytes, passes=passes)(make)


_reduction("sum", "a.sum(D), M x M", lambda lib, a, d: a.sum(d))
_reduction("mean", "a.mean(D)", lambda lib, a, d: a.mean(d))
_reduction("var", "a.var(D)", lambda lib, a, d: a.var(d))
_reduction("amax", "a.amax(D)", lambda lib, a, d: a.amax(d))
_reduction("logsumexp", "a.logsumexp(D)", lambda lib, a, d: a.logsumexp(d))
_reduction("softmax", "a.softmax(D)", lambda lib, a, d: a.softmax(d), passes=2)
_reduction("log_softmax", "a.log_softmax(D)", lambda lib, a, d: a.log_softmax(d), passes=2)
_reduction("cumsum", "a.cumsum(D)", lambda lib, a, d: a.cumsum(d), passes=2)


def _vector_reduction(name, doc, call):
    def make(lib, s):
        x = lib.rand(s.vec, generator=lib.Generator().manual_seed(0))
        return lambda: call(x)
    make.__doc__ = doc
    row(f"{name}_vec", vec_bytes, passes=1)(make)


# full reductions of one long vector: the n elements split over the threads
_vector_reduction("sum", "x.sum(), N", lambda x: x.sum())
_vector_reduction("amax", "x.amax(), N", lambda x: x.amax())
_vector_reduction("logsumexp", "x.logsumexp(0), N", lambda x: x.logsumexp(0))


@row("flat_index", lambda s: 8 * s.idx, passes=2)
def _flat_index(lib, s):
    """a.flatten()[idx], idx: I random int64"""
    a = matrix(lib, s)
    g = lib.Generator().manual_seed(1)
    idx = lib.randint(0, s.mat * s.mat, (s.idx,), generator=g)
    return lambda: a.flatten()[idx]


@row("index_select0", mat_bytes, passes=2)
def _index_select0(lib, s):
    """a.index_select(0, perm), M rows"""
    a = matrix(lib, s)
    perm = lib.randperm(s.mat, generator=lib.Generator().manual_seed(1))
    return lambda: a.index_select(0, perm)


@row("gather1", mat_bytes, passes=4)
def _gather1(lib, s):
    """a.gather(1, idx), idx: M x M random int64"""
    a = matrix(lib, s)
    idx = lib.randint(0, s.mat, (s.mat, s.mat), generator=lib.Generator().manual_seed(1))
    return lambda: a.gather(1, idx)


@row("mm", lambda s: s.mm, kind="blas")
def _mm(lib, s):
    """a @ b, K x K float32"""
    g = lib.Generator().manual_seed(0)
    a, b = lib.rand(s.mm, s.mm, generator=g), lib.rand(s.mm, s.mm, generator=g)
    return lambda: a @ b


# ---------------------------------------------------------------------------
# Worker side: one process runs rows for one library.

def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def first_and_median(fn, repeat):
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    del out
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    return first, statistics.median(times)


def limit_call(spec, s):
    if spec["kind"] == "blas":
        rng = np.random.default_rng(0)
        a = rng.random((s.mm, s.mm), dtype=np.float32)
        b = rng.random((s.mm, s.mm), dtype=np.float32)
        return lambda: a @ b
    n = spec["nbytes"](s) // 4
    src = np.ones(n, np.float32)
    dst = np.zeros(n, np.float32)
    return lambda: np.copyto(dst, src)


def limit_ms(spec, copy_ms):
    """The row's limit from the time of a numpy copy of its main tensor
    (nbytes read and nbytes written): the row's own traffic, `passes` times
    nbytes read and written in all, at the copy's rate. A product row's
    limit is numpy's matmul itself."""
    if spec["kind"] == "blas":
        return copy_ms
    return copy_ms * spec["passes"] / 2


def run_rows(lib_name, names, quick, repeat):
    lib = __import__(lib_name)
    s = Sizes(quick)
    out = {}
    for name in names:
        spec = ROWS[name]
        gc.collect()
        rss_before = rss_mb()
        fn = spec["make"](lib, s)
        first, median = first_and_median(fn, repeat)
        r = {"first_ms": first * 1e3, "ms": median * 1e3, "peak_mb": peak_rss_mb(),
             "rss_before_mb": rss_before}
        del fn
        gc.collect()
        if lib_name == "cgrad":
            _, lim = first_and_median(limit_call(spec, s), repeat)
            r["copy_ms"] = lim * 1e3
            r["limit_ms"] = limit_ms(spec, lim * 1e3)
        out[name] = r
    return out


# ---------------------------------------------------------------------------
# Driver side.

def spawn(lib, names, quick, repeat):
    cmd = [sys.executable, "-m", "bench.large", "--worker", lib, "--repeat", str(repeat), "--only", *names]
    if quick:
        cmd.append("--quick")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return {n: {"error": f"timed out after {TIMEOUT} s"} for n in names}
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["failed"])[-1]
        return {n: {"error": last[:200]} for n in names}
    return json.loads(p.stdout.strip().splitlines()[-1])


def combine_rounds(runs):
    """One row's figures over rounds (each a process of its own): the median
    of each time, the largest peak."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    out = {}
    for key in ok[0]:
        vals = [r[key] for r in ok if key in r]
        out[key] = max(vals) if key == "peak_mb" else statistics.median(vals)
    out["rounds"] = len(ok)
    return out


def ms(v):
    if v is None:
        return "-"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def table(results, libs):
    has_torch = "torch" in libs
    head = ["row", "cgrad ms", "torch ms", "c/t", "limit ms", "c/limit", "first cgrad", "first torch",
            "first c/t", "peak MB cgrad", "peak MB torch"]
    rows = []
    for name, r in results.items():
        c, t = r.get("cgrad", {}), r.get("torch", {}) if has_torch else {}
        if "error" in c or "error" in t:
            rows.append([name, c.get("error", "") and "err", t.get("error", "") and "err"] + [""] * 8)
            continue
        fresh = ROWS[name]["fresh"]
        rows.append([
            name, ms(c.get("ms")), ms(t.get("ms")), ratio(c.get("ms"), t.get("ms")),
            ms(c.get("limit_ms")), ratio(c.get("ms"), c.get("limit_ms")),
            ms(c.get("first_ms")) if fresh else "", ms(t.get("first_ms")) if fresh else "",
            ratio(c.get("first_ms"), t.get("first_ms")) if fresh else "",
            f"{c['peak_mb']:.0f}" if "peak_mb" in c else "-",
            f"{t['peak_mb']:.0f}" if "peak_mb" in t else "-"])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["| " + " | ".join(str(x).ljust(w) for x, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--large", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true", help="small sizes, one repeat, one process per library")
    p.add_argument("--only", nargs="*", default=None, help="rows to run")
    p.add_argument("--libs", nargs="*", default=None, help="libraries to run (cgrad, torch)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1,
                   help="processes per row and library, alternating; figures are their medians")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--no-chart", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    names = [n for n in ROWS if args.only is None or n in args.only]
    repeat = 1 if args.quick else args.repeat
    if args.worker:
        json.dump(run_rows(args.worker, names, args.quick, repeat), sys.stdout)
        print()
        return
    import importlib.util
    libs = [l for l in (args.libs or LIBS) if importlib.util.find_spec(l) is not None]
    if "cgrad" not in libs:
        libs.insert(0, "cgrad")
    t0 = time.time()
    results = {n: {} for n in names}
    # cgrad and torch alternate row by row (and, over rounds, which goes
    # first), so that a change in the machine's load (other processes) falls
    # on both libraries' figures of a row alike
    load_before = os.getloadavg()
    batches = [names] if args.quick else [[n] for n in names]
    rounds = 1 if args.quick else max(args.rounds, 1)
    for batch in batches:
        runs = {n: {lib: [] for lib in libs} for n in batch}
        for k in range(rounds):
            for lib in (libs if k % 2 == 0 else libs[::-1]):
                for n, r in spawn(lib, batch, args.quick, repeat).items():
                    runs[n][lib].append(r)
                    status = r.get("error") or f"{ms(r['ms'])} ms (first {ms(r['first_ms'])} ms)"
                    print(f"  {n:16s} {lib:6s} {status}", flush=True)
        for n in batch:
            for lib in libs:
                results[n][lib] = combine_rounds(runs[n][lib])
    load_after = os.getloadavg()
    s = Sizes(args.quick)
    stamp = (f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
             f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"\ncgrad large-tensor suite ({stamp}; {time.time() - t0:.0f} s)")
    load = (f"load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end "
            f"({os.cpu_count()} cores)")
    print(f"N = {s.vec:,} float32, M = {s.mat}, I = {s.idx:,}, K = {s.mm}; ms: median of {repeat} "
          f"after a first call; first: that first call (fresh memory); limit: every byte the row reads "
          f"and writes, at the rate of a numpy copy of its main tensor measured in the same process "
          f"(mm: numpy matmul); peak: ru_maxrss of the row's process; "
          f"{rounds} process(es) per row and library, medians; {load}\n")
    text = table(results, libs)
    print(text)
    print()
    for n in names:
        print(f"  {n}: {ROWS[n]['doc']}")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    path = os.path.join(HERE, "results", "large_quick.json" if args.quick else "large.json")
    with open(path, "w") as f:
        json.dump({"stamp": stamp, "sizes": vars(s), "repeat": repeat, "rounds": rounds, "load": load,
                   "results": results,
                   "table": text}, f, indent=1)
    if not args.quick and args.only is None:
        # the full run's table, kept in the repository beside the README's figures
        with open(os.path.join(HERE, "results", "large.md"), "w") as f:
            f.write(f"cgrad large-tensor suite ({stamp}; {load}; {rounds} process(es) per row and "
                    f"library)\n\n{text}\n\n")
            f.write("".join(f"- {n}: {ROWS[n]['doc']}\n" for n in names))
    print(f"\nresults: {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
