"""cgrad.compile against eager cgrad, torch eager, torch.compile and (when
installed) jax.jit, in one process and one run; medians, and each
library's ratio to eager cgrad. The first call of each compiled function
(its capture or compilation) is timed on its own and left out of the
medians; cgrad's capture is also given as a multiple of one eager call.

    tiny      50 x (y * 1.01 + 0.5).tanh() on 16 float32 elements, then
              sum().backward(): 151 ops (reported per op)
    pointwise ((x * y + x).tanh() * y).sum() and its backward on 4M float32
    mlp       one SGD step of a 784-256-10 MLP on a 64-sample batch
              (zero_grad, forward, cross_entropy, backward, step)

    PYTHONPATH=. python bench/compile.py [--repeat N] [--threads T] [--only tiny,pointwise,mlp]

jax.jit uses XLA's own threading (not limited by --threads).
"""
import argparse
import time

import numpy as np

from bench.worker import timed

N_STEPS = 50
TINY_OPS = 3 * N_STEPS + 1
WARMUP = 3


def first_call(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# --- the workloads, per library -------------------------------------------------

def tiny_step(lib):
    def step(x):
        y = x
        for _ in range(N_STEPS):
            y = (y * 1.01 + 0.5).tanh()
        y.sum().backward()
    x = lib.ones(16, requires_grad=True)
    return step, (x,), x


def pointwise_step(lib):
    def step(x, y):
        ((x * y + x).tanh() * y).sum().backward()
    rng = np.random.default_rng(0)
    xv = rng.standard_normal(4 * 2 ** 20).astype(np.float32)
    yv = rng.standard_normal(4 * 2 ** 20).astype(np.float32)
    x = lib.tensor(xv, requires_grad=True)
    return step, (x, lib.tensor(yv)), x


def mlp_step(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(784, 256), lib.nn.ReLU(), lib.nn.Linear(256, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    F = lib.nn.functional

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, size=64))
    return step, (x, y), None


WORKLOADS = {"tiny": tiny_step, "pointwise": pointwise_step, "mlp": mlp_step}


def run_library(lib, kind, compiler, repeat):
    """(median seconds per call, first-call seconds or None); for
    cgrad.compile the first-call figure is a capture after
    cgrad.compiler.reset(), so one-time imports are not counted in it."""
    step, args, leaf = WORKLOADS[kind](lib)

    def call(fn):
        def run():
            if leaf is not None:
                leaf.grad = None
            fn(*args)
        return run
    if compiler is None:
        return timed(call(step), repeat, WARMUP), None
    compiled = compiler(step)
    first = first_call(call(compiled))
    if compiler is getattr(lib, "compile", None) and hasattr(lib, "compiler") and lib.__name__ == "cgrad":
        lib.compiler.reset()
        first = first_call(call(compiled))
    return timed(call(compiled), repeat, WARMUP), first


# --- jax ------------------------------------------------------------------------

def jax_workload(kind):
    import jax
    import jax.numpy as jnp
    rng = np.random.default_rng(0)
    if kind == "tiny":
        def loss(x):
            y = x
            for _ in range(N_STEPS):
                y = jnp.tanh(y * 1.01 + 0.5)
            return y.sum()
        return jax.jit(jax.grad(loss)), (jnp.ones(16, jnp.float32),)
    if kind == "pointwise":
        def loss(x, y):
            return (jnp.tanh(x * y + x) * y).sum()
        x = jnp.asarray(rng.standard_normal(4 * 2 ** 20).astype(np.float32))
        y = jnp.asarray(rng.standard_normal(4 * 2 ** 20).astype(np.float32))
        return jax.jit(jax.grad(loss)), (x, y)

    def init(key, n_in, n_out):
        bound = 1 / np.sqrt(n_in)
        k1, k2 = jax.random.split(key)
        return (jax.random.uniform(k1, (n_out, n_in), jnp.float32, -bound, bound),
                jax.random.uniform(k2, (n_out,), jnp.float32, -bound, bound))
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    params = [init(k1, 784, 256), init(k2, 256, 10)]

    def loss(params, x, y):
        (w1, b1), (w2, b2) = params
        h = jnp.maximum(x @ w1.T + b1, 0)
        logits = h @ w2.T + b2
        logp = jax.nn.log_softmax(logits)
        return -jnp.take_along_axis(logp, y[:, None], axis=1).mean()

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads), value
    x = jnp.asarray(rng.standard_normal((64, 784)).astype(np.float32))
    y = jnp.asarray(rng.integers(0, 10, size=64))
    return step, (params, x, y)


def run_jax(kind, repeat):
    fn, args = jax_workload(kind)

    def call():
        out = fn(*args)
        import jax
        jax.block_until_ready(out)
    first = first_call(call)
    return timed(call, repeat, WARMUP), first


# --- the report ---------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--only", default="tiny,pointwise,mlp")
    parser.add_argument("--threads", type=int, default=1, help="threads for cgrad and torch alike")
    parser.add_argument("--no-torch-compile", action="store_true", help="skip torch.compile (slow to compile)")
    args = parser.parse_args()
    import cgrad
    cgrad.set_num_threads(args.threads)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    try:
        import jax  # noqa: F401
    except ImportError:
        jax = None
    for kind in args.only.split(","):
        repeat = args.repeat if kind != "tiny" else args.repeat * 10
        rows = {}
        rows["cgrad eager"] = run_library(cgrad, kind, None, repeat)
        rows["cgrad.compile"] = run_library(cgrad, kind, cgrad.compile, repeat)
        if torch is not None:
            rows["torch eager"] = run_library(torch, kind, None, repeat)
            if not args.no_torch_compile:
                rows["torch.compile"] = run_library(torch, kind, torch.compile, repeat)
        if jax is not None:
            rows["jax.jit"] = run_jax(kind, repeat)
        # a second round of the two cgrad rows, so drift on a shared machine hits all alike
        rows["cgrad eager"] = (min(rows["cgrad eager"][0], run_library(cgrad, kind, None, repeat)[0]), None)
        base = rows["cgrad eager"][0]
        unit, scale = ("us/op", 1e6 / TINY_OPS) if kind == "tiny" else ("ms/call", 1e3)
        print(f"{kind}: median of {repeat} calls ({unit}; first call excluded, shown apart)")
        for name, (median, first) in rows.items():
            extra = f"   first call {first * 1e3:9.1f} ms" if first is not None else ""
            print(f"  {name:14s} {median * scale:10.4f} {unit}   x{median / base:6.3f} of cgrad eager{extra}")
        capture = rows["cgrad.compile"][1]
        print(f"  cgrad capture = {capture / base:.1f} x one eager call")
        if "torch eager" in rows:
            print(f"  cgrad.compile / torch eager: {rows['cgrad.compile'][0] / rows['torch eager'][0]:.3f}")
        if "jax.jit" in rows:
            print(f"  cgrad.compile / jax.jit: {rows['cgrad.compile'][0] / rows['jax.jit'][0]:.3f}")


if __name__ == "__main__":
    main()
