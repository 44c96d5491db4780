"""cgrad.compile against eager cgrad, torch eager, torch.compile and (when
installed) jax.jit, in one process and one run; medians, and each
library's ratio to eager cgrad. The first call of each compiled function
(its capture or compilation) is timed on its own and left out of the
medians.

    tiny      50 x (y * 1.01 + 0.5).tanh() on 16 float32 elements, then
              sum().backward(): 151 ops (reported per op)
    pointwise ((x * y + x).tanh() * y).sum() and its backward on 4M float32
    mlp       one SGD step of a 784-256-10 MLP on a 64-sample batch
              (zero_grad, forward, cross_entropy, backward, step)
    lenet     one SGD step of bench/lenet.py's LeNet-style CNN on 64 28x28
              images (conv 5x5, relu, max_pool 2, twice; linear 256-120-10)

    PYTHONPATH=. python bench/compile.py [--repeat N] [--threads T] [--only tiny,pointwise,mlp,lenet]
                                         [--no-torch-compile] [--no-fusion]

What a cgrad capture costs, as multiples of one eager call (wall and CPU),
each the median of --captures rounds that start from
cgrad.compiler.reset():
    capture       the first call: the function run eagerly while every
                  call into cgrad is recorded
    first replay  the second call: it builds the tape from the recording
                  and plans fusion, then replays
    user pays     capture + first replay: everything the first two calls
                  cost beyond two eager calls' worth is compilation
(one-time imports are not counted: a warm-up capture runs first).

Floors, beside the libraries:
    pointwise  "memory floor": numpy's np.add(x, y, out=g) on the same 4M
               float32 arrays: the chain's forward and backward need read
               x and y and write x.grad once (48 MiB), the traffic of that add
    mlp        "GEMM floor": the step's necessary matrix products alone
               (x @ W1.T, h @ W2.T; the weight gradients g2.T @ h and
               g1.T @ x; the hidden gradient g2 @ W2; no input gradient),
               through cgrad.mm (numpy's OpenBLAS, single-threaded on cgrad's
               threads) and through torch.mm (torch's BLAS)

Each row gives the median wall time and the median CPU time of the process
(all its threads) per call: on a shared machine CPU time is the steadier
figure. The load averages before and after the run are printed with it.
jax.jit uses XLA's own threading (not limited by --threads): its CPU time
counts all of XLA's threads.
"""
import argparse
import os
import statistics
import time

import numpy as np

N_STEPS = 50
TINY_OPS = 3 * N_STEPS + 1
WARMUP = 3


def timed(fn, repeat, warmup):
    """(median wall seconds, median CPU seconds) per call of fn."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return statistics.median(wall), statistics.median(cpu)


def first_call(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


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


def lenet_step(lib):
    from bench.lenet import build
    lib.manual_seed(0)
    model = build(lib.nn)
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    F = lib.nn.functional

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, size=64))
    return step, (x, y), None


WORKLOADS = {"tiny": tiny_step, "pointwise": pointwise_step, "mlp": mlp_step, "lenet": lenet_step}


def run_library(lib, kind, compiler, repeat, captures=1):
    """((median wall, median CPU) per call, first call (wall, CPU) or None,
    first replay (wall, CPU) or None); for cgrad.compile the first-call
    and first-replay figures are the medians of `captures` rounds, each
    after cgrad.compiler.reset() (one-time imports are not counted: the
    first capture is a warm-up)."""
    step, args, leaf = WORKLOADS[kind](lib)

    def call(fn):
        def run():
            if leaf is not None:
                leaf.grad = None
            fn(*args)
        return run
    if compiler is None:
        return timed(call(step), repeat, WARMUP), None, None
    compiled = compiler(step)
    first = first_call(call(compiled))
    replay = None
    if compiler is getattr(lib, "compile", None) and hasattr(lib, "compiler") and lib.__name__ == "cgrad":
        firsts, replays = [], []
        for _ in range(captures):
            lib.compiler.reset()
            firsts.append(first_call(call(compiled)))
            replays.append(first_call(call(compiled)))
        first = tuple(statistics.median(s[i] for s in firsts) for i in range(2))
        replay = tuple(statistics.median(s[i] for s in replays) for i in range(2))
    return timed(call(compiled), repeat, WARMUP), first, replay


# --- the floors -------------------------------------------------------------------

def pointwise_floor(repeat):
    """np.add(x, y, out=g) on 4M float32: the chain's memory traffic (read
    x and y, write x.grad) with no arithmetic to speak of."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4 * 2 ** 20).astype(np.float32)
    y = rng.standard_normal(4 * 2 ** 20).astype(np.float32)
    g = np.empty_like(x)
    return timed(lambda: np.add(x, y, out=g), repeat, WARMUP)


def gemm_floor(lib, repeat):
    """The MLP step's necessary matrix products alone, through lib.mm
    (cgrad's: numpy's OpenBLAS called single-threaded on cgrad's own
    threads, blas_pool.pxi; torch's: its MKL/OpenBLAS) into preallocated
    outputs: forward x @ W1.T and h @ W2.T, the weight gradients g2.T @ h
    and g1.T @ x, the hidden gradient g2 @ W2 (no input gradient). numpy's
    own matmul is not the figure: in a process that imported cgrad its
    OpenBLAS pool competes with cgrad's threads (blas_pool.pxi's comment)."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    shapes = {"x": (64, 784), "w1": (256, 784), "w2": (10, 256), "h": (64, 256), "g2": (64, 10), "g1": (64, 256)}
    a = {k: lib.tensor(rng.standard_normal(v).astype(f32)) for k, v in shapes.items()}
    outs = {"h": (64, 256), "o": (64, 10), "dw2": (10, 256), "dh": (64, 256), "dw1": (256, 784)}
    o = {k: lib.empty(v) for k, v in outs.items()}
    mm = lib.mm

    def products():
        mm(a["x"], a["w1"].T, out=o["h"])
        mm(a["h"], a["w2"].T, out=o["o"])
        mm(a["g2"].T, a["h"], out=o["dw2"])
        mm(a["g2"], a["w2"], out=o["dh"])
        mm(a["g1"].T, a["x"], out=o["dw1"])
    return timed(products, repeat, WARMUP)


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


def jax_lenet():
    import jax
    import jax.numpy as jnp
    rng = np.random.default_rng(0)
    keys = jax.random.split(jax.random.PRNGKey(0), 8)

    def uniform(key, shape, fan_in):
        bound = 1 / np.sqrt(fan_in)
        return jax.random.uniform(key, shape, jnp.float32, -bound, bound)
    params = [(uniform(keys[0], (6, 1, 5, 5), 25), uniform(keys[1], (6,), 25)),
              (uniform(keys[2], (16, 6, 5, 5), 150), uniform(keys[3], (16,), 150)),
              (uniform(keys[4], (120, 256), 256), uniform(keys[5], (120,), 256)),
              (uniform(keys[6], (10, 120), 120), uniform(keys[7], (10,), 120))]

    def conv_relu_pool(h, w, b):
        h = jax.lax.conv_general_dilated(h, w, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW"))
        h = jnp.maximum(h + b[None, :, None, None], 0)
        return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def loss(params, x, y):
        (c1, d1), (c2, d2), (w3, b3), (w4, b4) = params
        h = conv_relu_pool(conv_relu_pool(x, c1, d1), c2, d2).reshape(x.shape[0], -1)
        logits = jnp.maximum(h @ w3.T + b3, 0) @ w4.T + b4
        logp = jax.nn.log_softmax(logits)
        return -jnp.take_along_axis(logp, y[:, None], axis=1).mean()

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads), value
    x = jnp.asarray(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = jnp.asarray(rng.integers(0, 10, size=64))
    return step, (params, x, y)


def run_jax(kind, repeat):
    fn, args = jax_lenet() if kind == "lenet" else jax_workload(kind)

    def call():
        out = fn(*args)
        import jax
        jax.block_until_ready(out)
    first = first_call(call)
    return timed(call, repeat, WARMUP), first, None


# --- the report ---------------------------------------------------------------------

def load():
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--only", default="tiny,pointwise,mlp,lenet")
    parser.add_argument("--threads", type=int, default=1, help="threads for cgrad and torch alike")
    parser.add_argument("--captures", type=int, default=5, help="cgrad captures timed (median)")
    parser.add_argument("--no-torch-compile", action="store_true", help="skip torch.compile (slow to compile)")
    parser.add_argument("--no-fusion", action="store_true",
                        help="cgrad.compile replays its tapes op by op (no fused pointwise programs)")
    args = parser.parse_args()
    import cgrad
    cgrad.set_num_threads(args.threads)
    if args.no_fusion:
        cgrad._dynamo.config.fuse_pointwise = False
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    try:
        import jax  # noqa: F401
    except ImportError:
        jax = None
    print(f"threads {args.threads}; fusion {'off' if args.no_fusion else 'on'}; {load()} at the start")
    for kind in args.only.split(","):
        repeat = args.repeat if kind != "tiny" else args.repeat * 10
        rows = {}
        rows["cgrad eager"] = run_library(cgrad, kind, None, repeat)
        rows["cgrad.compile"] = run_library(cgrad, kind, cgrad.compile, repeat, args.captures)
        if torch is not None:
            rows["torch eager"] = run_library(torch, kind, None, repeat)
            if not args.no_torch_compile:
                rows["torch.compile"] = run_library(torch, kind, torch.compile, repeat)
        if jax is not None:
            rows["jax.jit"] = run_jax(kind, repeat)
        # a second round of the two cgrad rows, so drift on a shared machine hits all alike
        again = run_library(cgrad, kind, None, repeat)[0]
        rows["cgrad eager"] = (tuple(min(a, b) for a, b in zip(rows["cgrad eager"][0], again)), None, None)
        again = run_library(cgrad, kind, cgrad.compile, repeat, args.captures)
        rows["cgrad.compile"] = tuple(tuple(min(a, b) for a, b in zip(mine, other))
                                      for mine, other in zip(rows["cgrad.compile"], again))
        base_wall, base_cpu = rows["cgrad eager"][0]
        unit, scale = ("us/op", 1e6 / TINY_OPS) if kind == "tiny" else ("ms/call", 1e3)
        floors = {}
        if kind == "pointwise":
            floors["memory floor"] = pointwise_floor(repeat)
        if kind == "mlp":
            floors["GEMM floor (cgrad's BLAS)"] = gemm_floor(cgrad, repeat)
            if torch is not None:
                floors["GEMM floor (torch's BLAS)"] = gemm_floor(torch, repeat)
        print(f"{kind}: median of {repeat} calls ({unit}, wall and CPU; first call excluded, shown apart)")
        for name, ((wall, cpu), first, _) in list(rows.items()) + [(k, (v, None, None)) for k, v in floors.items()]:
            extra = f"   first call {first[0] * 1e3:9.2f} ms (cpu {first[1] * 1e3:.2f})" if first is not None else ""
            print(f"  {name:14s} wall {wall * scale:10.4f}  cpu {cpu * scale:10.4f} {unit}   "
                  f"x{cpu / base_cpu:6.3f} of cgrad eager (cpu){extra}")
        (capture_wall, capture_cpu), (replay_wall, replay_cpu) = rows["cgrad.compile"][1:]
        print(f"  cgrad capture (first call) = {capture_wall / base_wall:.2f} x one eager call (wall), "
              f"{capture_cpu / base_cpu:.2f} x (cpu); first replay (builds the tape, plans fusion) "
              f"{replay_wall / base_wall:.2f} x (wall), {replay_cpu / base_cpu:.2f} x (cpu); "
              f"user pays (capture + first replay) {(capture_wall + replay_wall) / base_wall:.2f} x (wall), "
              f"{(capture_cpu + replay_cpu) / base_cpu:.2f} x (cpu)")
        compiled_wall, compiled_cpu = rows["cgrad.compile"][0]
        peers = dict(rows, **{k: (v, None, None) for k, v in floors.items()})
        for peer in ("torch eager", "torch.compile", "jax.jit") + tuple(floors):
            if peer in peers:
                peer_wall, peer_cpu = peers[peer][0]
                print(f"  cgrad.compile / {peer}: wall {compiled_wall / peer_wall:.3f}, cpu {compiled_cpu / peer_cpu:.3f}")
        print(f"  ({load()})")


if __name__ == "__main__":
    main()
