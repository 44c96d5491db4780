"""Import cost of cgrad beside numpy's own: medians of fresh interpreters.

    python bench/import_time.py [--runs 10]

Each run starts a new interpreter for `import numpy` and one for
`import cgrad`, alternating so that machine noise falls on both; the
interpreter's own start-up (`pass`) is measured too and subtracted. The
target (issue 12) is cgrad within numpy + 15 ms (judged on CPU time, which
other processes on a loaded machine disturb far less than wall time). Then
`python -X importtime` attributes it: the modules `import cgrad` loads beyond
numpy's, with their median own (self) times over the runs.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wall_and_cpu(code, env):
    """Wall time of a fresh interpreter running `code`, and its CPU time
    (user + system: steadier than wall time on a loaded machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def importtime_self_us(code, env):
    """{module: self time in us} from one `python -X importtime -c code`."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=True, env=env, cwd=ROOT,
                         capture_output=True, text=True).stderr
    return {m.group(2).strip(): int(m.group(1))
            for m in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \|(.*)", out)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    codes = {"python": "pass", "numpy": "import numpy", "cgrad": "import cgrad"}
    for code in codes.values():     # warm the file cache
        wall_and_cpu(code, env)
    times = {name: ([], []) for name in codes}
    for _ in range(args.runs):
        for name, code in codes.items():
            elapsed, cpu = wall_and_cpu(code, env)
            times[name][0].append(elapsed)
            times[name][1].append(cpu)
    for kind, k in (("wall", 0), ("CPU", 1)):
        med = {name: statistics.median(ts[k]) * 1e3 for name, ts in times.items()}
        print(f"{kind:4s} medians of {args.runs} fresh interpreters: start-up {med['python']:.1f} ms, "
              f"import numpy {med['numpy'] - med['python']:.1f} ms, import cgrad "
              f"{med['cgrad'] - med['python']:.1f} ms (numpy included): cgrad's own "
              f"{med['cgrad'] - med['numpy']:.1f} ms")
    own_cpu = (statistics.median(times["cgrad"][1]) - statistics.median(times["numpy"][1])) * 1e3
    print(f"target, import cgrad within numpy + 15 ms (CPU): {'met' if own_cpu <= 15 else 'MISSED'} "
          f"({own_cpu:+.1f} ms)")

    numpy_modules = set(importtime_self_us("import numpy", env))
    runs = [importtime_self_us("import cgrad", env) for _ in range(args.runs)]
    added = sorted({m for run in runs for m in run} - numpy_modules)
    self_us = {m: statistics.median(run.get(m, 0) for run in runs) for m in added}
    print(f"-X importtime, modules import cgrad loads beyond numpy's (median self time of {args.runs} runs):")
    for m in sorted(added, key=lambda m: -self_us[m]):
        print(f"  {self_us[m] / 1e3:7.2f} ms  {m}")


if __name__ == "__main__":
    main()
