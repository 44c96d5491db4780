"""Import cost of cgrad beside numpy's own: medians of fresh interpreters.

    python bench/import_time.py [--runs 10]

Each run starts a new interpreter for `import numpy` and one for
`import cgrad`, alternating so that machine noise falls on both; the
interpreter's own start-up (`pass`) is measured too and subtracted. The
target (issue 12) is cgrad within numpy + 15 ms. `python -X importtime -c
"import cgrad"` shows where the time goes.
"""
import argparse
import os
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

if __name__ == "__main__":
    main()
