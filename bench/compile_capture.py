"""What cgrad.compile's first two calls cost on bench/compile.py's tiny
chain (or the MLP step), in instructions counted by callgrind: the
repeatable companion of compile.py's CPU times on a shared machine.

Each phase runs ROUNDS times inside itertools.starmap, and callgrind
collects only while starmap_next runs (--toggle-collect), so start-up,
import and warm-up are left out; the phases:
    eager         one eager call of the step
    capture       the first call after cgrad.compiler.reset(): the step
                  run eagerly while it is recorded (the reset, which frees
                  the previous capture's recording, is not counted, as in
                  compile.py; --count-reset counts it, as this script did
                  before round 11)
    first replay  the second call: builds the tape or plans the fused
                  program from the recording, then replays
    install       putting the recording wrappers in place and taking them
                  out again (part of every capture)
and the ratios the README quotes: capture alone, and capture plus first
replay, against one eager call.

    PYTHONPATH=. python bench/compile_capture.py [--kind tiny|mlp]   # needs valgrind
    ... --profile DIR     also writes DIR/callgrind.<phase> for callgrind_annotate
    ... --count-reset     the capture phase includes cgrad.compiler.reset()
"""
import argparse
import os
import re
import subprocess
import sys

ROUNDS = 20

WORKER = """
import itertools, sys
sys.path.insert(0, {root!r})
import cgrad
from bench.compile import WORKLOADS
from cgrad._dynamo import capture
cgrad.set_num_threads(1)
step, args, leaf = WORKLOADS[{kind!r}](cgrad)
compiled = cgrad.compile(step)

def call(fn):
    if leaf is not None:
        leaf.grad = None
    fn(*args)

def eager():
    call(step)

def first():
    cgrad.compiler.reset()
    call(compiled)

for _ in range(20):
    eager()
for _ in range(5):
    first()
    call(compiled)
measured = lambda fn: list(itertools.starmap(fn, [()]))
phase = {phase!r}
for _ in range({rounds}):
    if phase == "eager":
        measured(eager)
    elif phase == "capture":
        if {count_reset!r}:
            measured(first)
        else:
            cgrad.compiler.reset()
            measured(lambda: call(compiled))
    elif phase == "first replay":
        first()
        measured(lambda: call(compiled))
    else:
        measured(lambda: (capture.install(), capture.uninstall()))
"""


def instructions(kind, phase, profile=None, count_reset=False):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = WORKER.format(root=root, kind=kind, phase=phase, rounds=ROUNDS, count_reset=count_reset)
    # one thread per pool: idle OpenMP / BLAS workers would add a count that depends on timing
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0")
    out = "/dev/null" if profile is None else os.path.join(profile, "callgrind." + phase.replace(" ", "_"))
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=starmap_next",
                           f"--callgrind-out-file={out}", sys.executable, "-c", code],
                          capture_output=True, text=True, check=True, env=env)
    match = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    if match is None:
        raise RuntimeError(f"no callgrind summary in:\n{proc.stderr[-2000:]}")
    return int(match.group(1)) / ROUNDS


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="tiny", choices=["tiny", "mlp"])
    parser.add_argument("--profile", metavar="DIR", help="keep each phase's callgrind output in DIR")
    parser.add_argument("--count-reset", action="store_true",
                        help="count cgrad.compiler.reset() (freeing the previous capture) in the capture")
    args = parser.parse_args()
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    counts = {}
    for phase in ("eager", "capture", "first replay", "install"):
        counts[phase] = instructions(args.kind, phase, args.profile, args.count_reset)
        print(f"  {phase:13s} {counts[phase]:12,.0f} instructions   x{counts[phase] / counts['eager']:.2f} of eager",
              flush=True)
    print(f"  capture {counts['capture'] / counts['eager']:.2f} x one eager call; capture + first replay "
          f"{(counts['capture'] + counts['first replay']) / counts['eager']:.2f} x")


if __name__ == "__main__":
    main()
