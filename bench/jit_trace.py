"""cgrad.jit (script, trace) against eager cgrad, and torch.jit (script,
trace) against eager torch, in one process and one run: the median wall
and CPU time per call and each row's ratio to its library's eager call.

    mlp_fwd    forward of a 64-256-256-10 MLP (tanh) on a 32-sample batch
    mlp_step   the same forward, sum() and backward()
    tiny       20 x (x * 1.01 + 0.5).tanh() on 16 float32 elements, forward only

    PYTHONPATH=. python bench/jit_trace.py [--repeat N] [--threads T]

A traced cgrad call replays the tape recorded at trace time (one C loop
over the recorded calls, no Python between them); a scripted call runs
the module's Python, as eager does.
"""
import argparse
import os
import statistics
import time
import warnings

import numpy as np


def timed(fn, repeat, warmup=5):
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def build(lib, rng):
    nn = lib.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(64, 256)
            self.b = nn.Linear(256, 256)
            self.c = nn.Linear(256, 10)

        def forward(self, x):
            return self.c(lib.tanh(self.b(lib.tanh(self.a(x)))))

    model = MLP()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05))
    return model


def tiny(x):
    for _ in range(20):
        x = (x * 1.01 + 0.5).tanh()
    return x


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import cgrad
    libs = [("cgrad", cgrad)]
    try:
        import torch
        torch.set_num_threads(args.threads)
        libs.append(("torch", torch))
    except ImportError:
        pass
    cgrad.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    print(f"load average before: {os.getloadavg()}")
    rows = []
    for name, lib in libs:
        rng = np.random.default_rng(0)
        model = build(lib, rng)
        x = lib.tensor(rng.standard_normal((32, 64)).astype(np.float32))
        small = lib.tensor(rng.standard_normal(16).astype(np.float32))
        scripted = lib.jit.script(model)
        traced = lib.jit.trace(model, x)
        traced_tiny = lib.jit.trace(tiny, small)

        def step(m):
            def run():
                for p in model.parameters():
                    p.grad = None
                m(x).sum().backward()
            return run

        with lib.no_grad():
            cases = [("mlp_fwd", "eager", lambda: model(x)), ("mlp_fwd", "jit.script", lambda: scripted(x)),
                     ("mlp_fwd", "jit.trace", lambda: traced(x)),
                     ("tiny", "eager", lambda: tiny(small)), ("tiny", "jit.trace", lambda: traced_tiny(small))]
            measured = [(w, k, timed(fn, args.repeat)) for w, k, fn in cases]
        measured += [("mlp_step", k, timed(step(m), args.repeat)) for k, m in
                     (("eager", model), ("jit.script", scripted), ("jit.trace", traced))]
        eager = {w: t for w, k, t in measured if k == "eager"}
        for workload, kind, (wall, cpu) in measured:
            rows.append((workload, name, kind, wall, cpu, wall / eager[workload][0]))
    print(f"{'workload':10} {'library':6} {'mode':11} {'wall us':>10} {'cpu us':>10} {'vs eager':>9}")
    for workload, name, kind, wall, cpu, ratio in sorted(rows, key=lambda r: (r[0], r[1])):
        print(f"{workload:10} {name:6} {kind:11} {wall * 1e6:10.1f} {cpu * 1e6:10.1f} {ratio:9.2f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
