"""Instructions per op of bench/tiny.py's chain, counted by callgrind: the
repeatable companion of the timings (a shared, noisy machine moves times, not
instruction counts).

Each library runs the chain twice under `valgrind --tool=callgrind`, once
with LOW and once with HIGH chains after the same warm-up; the difference of
the two totals divided by the extra ops is the cost of one op (forward plus
backward) with start-up, import and warm-up cancelled out.

    python bench/instructions.py [--libs cgrad torch]    # needs valgrind; torch takes minutes
"""
import argparse
import re
import subprocess
import sys

LOW, HIGH, WARMUP = 20, 120, 20

WORKER = """
import sys
sys.path.insert(0, {bench_dir!r})
from tiny import chain
lib = __import__({lib!r})
for _ in range({warmup}):
    chain(lib)
for _ in range({chains}):
    chain(lib)
"""


def total_instructions(lib, chains):
    import os
    code = WORKER.format(bench_dir=os.path.dirname(os.path.abspath(__file__)), lib=lib,
                         warmup=WARMUP, chains=chains)
    # One thread per pool: callgrind counts every thread's instructions, and
    # idle OpenMP / BLAS workers spinning for a while after their last task
    # add a count that depends on timing (runs varied by +-25% with them).
    # The tiny chain runs on the calling thread either way.
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0")
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    match = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    if match is None:
        raise RuntimeError(f"no callgrind summary in:\n{proc.stderr[-2000:]}")
    return int(match.group(1))


def main():
    from tiny import OPS_PER_CHAIN
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--libs", nargs="+", default=["cgrad", "torch"])
    args = parser.parse_args()
    per_op = {}
    for lib in args.libs:
        extra = total_instructions(lib, HIGH) - total_instructions(lib, LOW)
        per_op[lib] = extra / ((HIGH - LOW) * OPS_PER_CHAIN)
        print(f"  {lib:6s} {per_op[lib]:10.0f} instructions/op", flush=True)
    if "cgrad" in per_op and "torch" in per_op:
        print(f"  ratio cgrad/torch: {per_op['cgrad'] / per_op['torch']:.3f}")


if __name__ == "__main__":
    main()
