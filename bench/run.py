"""cgrad's benchmark suite: every workload for cgrad and for every peer that
is installed (torch, HIPS autograd, MyGrad, micrograd), each in its own
process, medians of repeated runs after warm-up, then a table of medians and
of each peer's time divided by cgrad's, and a bar chart.

    python -m bench                 # the full suite (several minutes)
    python -m bench --quick         # a smoke run: every workload once or twice
    python -m bench --only tiny mlp --libs cgrad torch

Results go to bench/results/latest.json and, when matplotlib is installed,
bench/results/chart.png. No timing is asserted anywhere: this machine is
shared and noisy; read the ratios, which compare libraries within one run.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from bench.workloads import LIBS, WORKLOADS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORDER = ["tiny", "scalar", "deep", "mlp", "matmul", "ewise", "mlp_leak", "optim", "lenet", "emb_ln_mlp",
         "loader"]
TIMEOUT = 900


def installed(lib):
    return importlib.util.find_spec(lib) is not None


def run_worker(workload, lib, repeat, quick):
    cmd = [sys.executable, "-m", "bench.worker", workload, lib, "--repeat", str(repeat)]
    if quick:
        cmd.append("--quick")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {TIMEOUT} s"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:200]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_times(libs, runs):
    """Wall time of `import X` in a fresh interpreter, median of runs."""
    res = {}
    for mod in ["numpy"] + libs:
        times = []
        for _ in range(runs):
            code = f"import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                 env=dict(os.environ, PYTHONPATH=ROOT))
            if out.returncode == 0:
                times.append(float(out.stdout.strip()))
        if times:
            res[mod] = statistics.median(times)
    return res


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def table(results, libs):
    head = ["workload", "unit"] + libs + [f"{l}/cgrad" for l in libs if l != "cgrad"]
    rows = []
    for wname in ORDER:
        if wname not in results:
            continue
        w = WORKLOADS[wname]
        r = results[wname]
        c = r.get("cgrad", {}).get("value")
        row = [wname, w.unit]
        for lib in libs:
            row.append(fmt(r[lib]["value"]) if lib in r and "value" in r[lib] else
                       ("err" if lib in r else "-"))
        for lib in libs:
            if lib == "cgrad":
                continue
            v = r.get(lib, {}).get("value")
            row.append(f"{v / c:.2f}x" if v is not None and c and wname != "mlp_leak" else "-")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def extras(results, imports):
    lines = []
    for wname in ("matmul", "ewise"):
        c = results.get(wname, {}).get("cgrad", {})
        if "limit_ms" in c:
            what = "three numpy matmuls (BLAS limit)" if wname == "matmul" else \
                "one numpy copy of 4M float32 (bandwidth)"
            lines.append(f"{wname}: cgrad {c['value']:.2f} ms = {c['value'] / c['limit_ms']:.2f}x "
                         f"{what} ({c['limit_ms']:.2f} ms)")
    for wname in ("deep", "mlp", "ewise"):
        for lib, r in results.get(wname, {}).items():
            if "peak_rss_mb" in r:
                lines.append(f"{wname}: peak RSS {lib} {r['peak_rss_mb']:.0f} MB "
                             f"(workload adds {r['peak_rss_mb'] - r['rss_before_mb']:.0f} MB)")
    if imports:
        lines.append("import: " + ", ".join(f"{m} {t * 1e3:.0f} ms" for m, t in imports.items()))
    return "\n".join(lines)


def chart(results, libs, path, stamp):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no chart; pip install matplotlib)")
        return
    names = [w for w in ORDER if w in results and w != "mlp_leak" and "cgrad" in results[w]]
    peers = [l for l in libs if l != "cgrad"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / max(1, len(peers))
    for k, lib in enumerate(peers):
        xs, ys = [], []
        for i, w in enumerate(names):
            v = results[w].get(lib, {}).get("value")
            c = results[w]["cgrad"].get("value")
            if v and c:
                xs.append(i + (k - (len(peers) - 1) / 2) * width)
                ys.append(v / c)
        ax.bar(xs, ys, width=width, label=lib)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_ylabel("peer time / cgrad time (log scale; > 1: cgrad faster)")
    ax.set_title(f"cgrad vs peers, {stamp}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"chart: {os.path.relpath(path, ROOT)}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: one or two repetitions")
    p.add_argument("--only", nargs="*", default=None, help="workloads to run")
    p.add_argument("--libs", nargs="*", default=None, help="libraries to run")
    p.add_argument("--repeat", type=int, default=30, help="repetitions of the lighter workloads")
    p.add_argument("--no-chart", action="store_true")
    args = p.parse_args(argv)
    libs = [l for l in (args.libs or LIBS) if installed(l)]
    if "cgrad" not in libs:
        libs.insert(0, "cgrad")
    names = [w for w in ORDER if args.only is None or w in args.only]
    results = {}
    t0 = time.time()
    for wname in names:
        w = WORKLOADS[wname]
        results[wname] = {}
        for lib in libs:
            if lib not in w.libs:
                continue
            r = run_worker(wname, lib, args.repeat, args.quick)
            results[wname][lib] = r
            status = r.get("error") or f"{fmt(r['value'])} {w.unit}"
            print(f"  {wname:9s} {lib:10s} {status}", flush=True)
    imports = {} if args.only else import_times([l for l in libs if l != "micrograd"], 2 if args.quick else 7)
    stamp = (f"{datetime.date.today().isoformat()}, {platform.machine()} {os.cpu_count()} cores, "
             f"Python {platform.python_version()}")
    print(f"\ncgrad benchmark suite ({stamp}; {time.time() - t0:.0f} s)\n")
    print(table(results, libs))
    print()
    print(extras(results, imports))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "latest.json"), "w") as f:
        json.dump({"stamp": stamp, "results": results, "imports": imports}, f, indent=1)
    if not args.no_chart:
        chart(results, libs, os.path.join(HERE, "results", "chart.png"), stamp)


if __name__ == "__main__":
    main()
