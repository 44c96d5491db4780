"""torch.func-style transforms: cgrad.func beside torch.func and JAX (jax.jit
of the same transform) in one process and one run; medians of repeated calls
after warm-up, and the ratios cgrad / torch and cgrad / JAX.

  jacrev      the 64 x 64 Jacobian of a two-layer tanh network R^64 -> R^64
              (64 -> 64 -> 64, float32)
  hessian     the 32 x 32 Hessian of a scalar function of 32 inputs
              (sum(tanh(W x) ** 2) + sum(x ** 3), float64)
  per_sample  per-sample gradients (vmap(grad)) of the cross-entropy of a
              784-256-10 ReLU MLP over a batch of 64 (float32)

Every library's results are checked against cgrad's before timing; the
libraries take turns call by call (a shared machine's load hits all alike). JAX runs
its jitted transform (compiled once, outside the timing) and blocks until
the result is ready.

--separate times each library in a process of its own instead (one after
the other, so for a quiet machine): with --cpu, the process CPU time counts
every thread of the process, and JAX's runtime threads, once JAX is loaded,
add to the time of whatever call is running (cgrad's jacrev measured 199 us
alone and 325-416 us beside a loaded JAX, on the same build).

    python bench/func_transforms.py [--repeat N] [--threads T] [--runs K] [--cpu] [--only jacrev,...] [--separate]
"""
import json
import subprocess
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def data():
    rng = np.random.default_rng(0)
    return {
        "w1": rng.standard_normal((64, 64)).astype(np.float32) / 8,
        "w2": rng.standard_normal((64, 64)).astype(np.float32) / 8,
        "x": rng.standard_normal(64).astype(np.float32),
        "w": rng.standard_normal((32, 32)) / 6,
        "z": rng.standard_normal(32),
        "fc1_w": (rng.standard_normal((256, 784)) / 28).astype(np.float32),
        "fc1_b": np.zeros(256, np.float32),
        "fc2_w": (rng.standard_normal((10, 256)) / 16).astype(np.float32),
        "fc2_b": np.zeros(10, np.float32),
        "images": rng.standard_normal((64, 784)).astype(np.float32),
        "labels": rng.integers(0, 10, 64),
    }


def torchlike_workloads(lib):
    """cgrad and torch share one spelling."""
    d = {k: lib.tensor(v) for k, v in data().items()}
    F = lib.nn.functional
    func = lib.func

    def net(v):
        return (d["w2"] @ (d["w1"] @ v).tanh()).tanh()

    def scalar(v):
        return ((d["w"] @ v).tanh() ** 2).sum() + (v ** 3).sum()

    def loss(params, image, label):
        hidden = F.relu(F.linear(image, params["fc1_w"], params["fc1_b"]))
        logits = F.linear(hidden, params["fc2_w"], params["fc2_b"])
        return F.cross_entropy(logits.unsqueeze(0), label.unsqueeze(0))

    params = {k: d[k] for k in ("fc1_w", "fc1_b", "fc2_w", "fc2_b")}
    jac = func.jacrev(net)
    hes = func.hessian(scalar)
    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))
    return {"jacrev": lambda: jac(d["x"]),
            "hessian": lambda: hes(d["z"]),
            "per_sample": lambda: per_sample(params, d["images"], d["labels"])}


def jax_workloads():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    d = {k: jnp.asarray(v) for k, v in data().items()}

    def net(v):
        return jnp.tanh(d["w2"] @ jnp.tanh(d["w1"] @ v))

    def scalar(v):
        return (jnp.tanh(d["w"] @ v) ** 2).sum() + (v ** 3).sum()

    def loss(params, image, label):
        hidden = jax.nn.relu(params["fc1_w"] @ image + params["fc1_b"])
        logits = params["fc2_w"] @ hidden + params["fc2_b"]
        return -jax.nn.log_softmax(logits)[label]

    params = {k: d[k] for k in ("fc1_w", "fc1_b", "fc2_w", "fc2_b")}
    jac = jax.jit(jax.jacrev(net))
    hes = jax.jit(jax.hessian(scalar))
    per_sample = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))

    def ready(fn):
        return lambda: jax.block_until_ready(fn())
    return {"jacrev": ready(lambda: jac(d["x"])),
            "hessian": ready(lambda: hes(d["z"])),
            "per_sample": ready(lambda: per_sample(params, d["images"], d["labels"]))}


def as_numpy(result):
    if isinstance(result, dict):
        return {k: as_numpy(v) for k, v in result.items()}
    if hasattr(result, "detach"):
        result = result.detach()
    return np.asarray(result.numpy() if hasattr(result, "numpy") else result, dtype=np.float64)


def assert_same(reference, other, name, lib):
    if isinstance(reference, dict):
        for key in reference:
            assert_same(reference[key], other[key], f"{name}[{key}]", lib)
        return
    np.testing.assert_allclose(other, reference, rtol=1e-4, atol=1e-5, err_msg=f"{lib} {name}")


def medians_us(fns, repeat, warmup=5, clock=time.perf_counter):
    """Median time of each of fns (lib -> callable), the libraries taking
    turns call by call, so that load on a shared machine hits them alike.
    clock=time.process_time gives the CPU time of the process (all its
    threads), which other sessions' load does not inflate the way it does
    wall time."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {lib: [] for lib in fns}
    for _ in range(repeat):
        for lib, fn in fns.items():
            t0 = clock()
            fn()
            times[lib].append(clock() - t0)
    return {lib: statistics.median(t) * 1e6 for lib, t in times.items()}


def load_average():
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unknown"


def separate(args):
    """Each library timed by a worker process of this script; the table."""
    forwarded = ["--repeat", str(args.repeat)] + (["--cpu"] if args.cpu else [])
    forwarded += (["--only", args.only] if args.only else []) + (["--threads", str(args.threads)] if args.threads
                                                                  else [])
    print(f"timing {'process CPU time' if args.cpu else 'wall time'}, medians of {args.repeat} calls, each library "
          "in its own process")
    for run in range(args.runs):
        print(f"run {run + 1}: {load_average()}")
        times = {}
        for lib in ("cgrad", "torch", "jax"):
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", lib] + forwarded,
                                 capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            if json.loads(out) is not None:
                times[lib] = json.loads(out)
            else:
                print(f"{lib} not installed: its column is left out")
        libs = list(times)
        print(f"{'workload':<12}" + "".join(f"{lib + ' us':>12}" for lib in libs)
              + "".join(f"{'cgrad/' + lib:>14}" for lib in libs[1:]))
        for name in times["cgrad"]:
            print(f"{name:<12}" + "".join(f"{times[lib][name]:>12.1f}" for lib in libs)
                  + "".join(f"{times['cgrad'][name] / times[lib][name]:>14.2f}" for lib in libs[1:]))
    print(f"end: {load_average()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole table (noise shows as spread)")
    parser.add_argument("--cpu", action="store_true",
                        help="time process CPU time (all threads) instead of wall time")
    parser.add_argument("--only", default=None, help="comma-separated workloads to run")
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads for every library (on a loaded machine, 1 keeps a descheduled "
                             "worker thread from stalling an op)")
    parser.add_argument("--separate", action="store_true", help="time each library in a process of its own")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.separate:
        return separate(args)
    if args.threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
        if args.threads == 1:
            os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
    import cgrad
    if args.threads is not None:
        cgrad.set_num_threads(args.threads)
    runs = {"cgrad": torchlike_workloads(cgrad)}
    if args.worker in (None, "torch"):
        try:
            import torch
            if args.threads is not None:
                torch.set_num_threads(args.threads)
            runs["torch"] = torchlike_workloads(torch)
        except ImportError:
            print("torch not installed: its column is left out")
    if args.worker in (None, "jax"):
        try:
            runs["jax"] = jax_workloads()
        except ImportError:
            print("jax not installed: its column is left out")
    for name in runs["cgrad"]:
        reference = as_numpy(runs["cgrad"][name]())
        for lib in runs:
            if lib != "cgrad":
                assert_same(reference, as_numpy(runs[lib][name]()), name, lib)
    libs = list(runs)
    clock = time.process_time if args.cpu else time.perf_counter
    names = [n for n in runs["cgrad"] if args.only is None or n in args.only.split(",")]
    if args.worker is not None:
        if args.worker not in runs:
            print(json.dumps(None))
            return
        # the other libraries only served the check of the results above
        print(json.dumps({name: medians_us({args.worker: runs[args.worker][name]}, args.repeat,
                                           clock=clock)[args.worker] for name in names}))
        return
    header = f"{'workload':<12}" + "".join(f"{lib + ' us':>12}" for lib in libs)
    header += "".join(f"{'cgrad/' + lib:>14}" for lib in libs[1:])
    print(f"timing {'process CPU time' if args.cpu else 'wall time'}, medians of {args.repeat} calls")
    for run in range(args.runs):
        print(f"run {run + 1}: {load_average()}")
        print(header)
        for name in names:
            times = medians_us({lib: runs[lib][name] for lib in libs}, args.repeat, clock=clock)
            line = f"{name:<12}" + "".join(f"{times[lib]:>12.1f}" for lib in libs)
            line += "".join(f"{times['cgrad'] / times[lib]:>14.2f}" for lib in libs[1:])
            print(line)
    print(f"end: {load_average()}")


if __name__ == "__main__":
    main()
