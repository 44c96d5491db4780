"""Eager cgrad against cgrad.compile on one of bench/compile.py's workloads,
interleaved: rounds of `per` calls alternate between the two (the order
flips every round), so that drift on a shared machine hits both alike;
medians of the process CPU time per call, and their ratio. For the
question bench/compile.py's separate blocks cannot settle on a loaded
machine: is the compiled step slower than eager, and by how much? The
page faults per call (minor faults of the process, getrusage) are printed
beside: a step that hands buffers back to the kernel and faults them in
again pays for it in every call.

    PYTHONPATH=. python bench/compile_ab.py mlp [--rounds 40] [--per 10] [--threads 1]
"""
import argparse
import resource
import statistics
import time

import cgrad
from bench.compile import WORKLOADS


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=sorted(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--per", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    cgrad.set_num_threads(args.threads)

    def runner(fn, call_args, leaf):
        def run():
            if leaf is not None:
                leaf.grad = None
            fn(*call_args)
        return run
    step, call_args, leaf = WORKLOADS[args.kind](cgrad)
    eager = runner(step, call_args, leaf)
    step, call_args, leaf = WORKLOADS[args.kind](cgrad)       # its own model, optimizer and data
    compiled = runner(cgrad.compile(step), call_args, leaf)
    for _ in range(3):
        eager()
        compiled()
    times = {eager: [], compiled: []}
    faults = {eager: 0, compiled: 0}
    for r in range(args.rounds):
        for run in (eager, compiled) if r % 2 == 0 else (compiled, eager):
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = time.process_time()
            for _ in range(args.per):
                run()
            times[run].append((time.process_time() - start) / args.per)
            faults[run] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    e, c = statistics.median(times[eager]), statistics.median(times[compiled])
    calls = args.rounds * args.per
    print(f"{args.kind}: eager {e * 1e3:.4f} ms  cgrad.compile {c * 1e3:.4f} ms  compiled/eager {c / e:.3f} "
          f"(CPU time, medians of {args.rounds} interleaved rounds of {args.per} calls); page faults per "
          f"call: eager {faults[eager] / calls:.1f}, compiled {faults[compiled] / calls:.1f}")


if __name__ == "__main__":
    main()
