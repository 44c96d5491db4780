"""Issue 15's training benchmarks, cgrad beside torch in one process and
run, medians of repeated runs after warm-up, and the ratio cgrad / torch:

  lenet       one training step of a LeNet-style CNN on 64 x 1 x 28 x 28
              float32 images: conv(1->6, 5x5) relu maxpool(2), conv(6->16,
              5x5) relu maxpool(2), linear(256->120) relu, linear(120->10),
              cross-entropy, backward, Adam                (target <= 1.0x)
  emb_ln_mlp  one training step of an embedding + LayerNorm + MLP model on
              64 x 32 token ids: embedding(10000, 128), layer_norm(128),
              linear(128->256) relu, linear(256->128), mean over the 32
              positions, linear(128->10), cross-entropy, backward, Adam
                                                             (target <= 0.7x)
  loader      one shuffled epoch of DataLoader over a TensorDataset of
              60,000 samples (784 float32 features and an int64 label),
              batch 64, in the main process                (target <= 0.5x)

Both models start from the same weights (torch's copied from cgrad's) and
see the same data; both libraries get the same thread count (--threads,
default 1: the machine is shared; 2 shows the BLAS-thread interaction).

    PYTHONPATH=. python bench/train_steps.py [--repeat N] [--threads T] [--only NAME ...]
"""
import argparse
import os
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGETS = {"lenet": 1.0, "emb_ln_mlp": 0.7, "loader": 0.5}


def lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 10))


class EmbLnMlp:
    """Built for either library from its nn module; parameters in a fixed order."""

    def __init__(self, nn):
        self.emb = nn.Embedding(10000, 128)
        self.norm = nn.LayerNorm(128)
        self.fc1, self.fc2, self.head = nn.Linear(128, 256), nn.Linear(256, 128), nn.Linear(128, 10)
        self.modules = [self.emb, self.norm, self.fc1, self.fc2, self.head]

    def parameters(self):
        return [p for m in self.modules for p in m.parameters()]

    def __call__(self, tokens):
        h = self.norm(self.emb(tokens))
        h = self.fc2(self.fc1(h).relu())
        return self.head(h.mean(1))


def copy_weights(lib, src_params, dst_params):
    with lib.no_grad():
        for s, d in zip(src_params, dst_params):
            d.copy_(lib.tensor(s.detach().numpy()))


def step_runner(lib, model, params, x, y):
    F = lib.nn.functional
    opt = lib.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return step


def build_steps(name, cgrad, torch):
    rng = np.random.default_rng(0)
    cgrad.manual_seed(0)
    if name == "lenet":
        x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
        mc, mt = lenet(cgrad.nn), lenet(torch.nn) if torch else None
    else:
        x = rng.integers(0, 10000, (64, 32))
        mc, mt = EmbLnMlp(cgrad.nn), EmbLnMlp(torch.nn) if torch else None
    y = rng.integers(0, 10, 64)
    runs = {"cgrad": step_runner(cgrad, mc, list(mc.parameters()), cgrad.tensor(x), cgrad.tensor(y))}
    if torch:
        copy_weights(torch, list(mc.parameters()), list(mt.parameters()))
        runs["torch"] = step_runner(torch, mt, list(mt.parameters()), torch.tensor(x), torch.tensor(y))
    return runs


def loader_runner(lib):
    data = lib.utils.data
    rng = np.random.default_rng(0)
    ds = data.TensorDataset(lib.tensor(rng.standard_normal((60_000, 784)).astype(np.float32)),
                            lib.tensor(rng.integers(0, 10, 60_000)))
    loader = data.DataLoader(ds, batch_size=64, shuffle=True, generator=lib.Generator().manual_seed(0))

    def epoch():
        for _ in loader:
            pass
    return epoch


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def median_ms(fn, repeat, warmup):
    """(median wall ms, median process CPU ms, minor page faults) per call.
    On a shared machine the wall time of a one-thread run grows with the
    load, its CPU time far less: compare CPU times there (with several
    threads CPU time also counts threads that spin while they wait). Page
    faults after warm-up count fresh memory a step touches: an allocator
    that reuses its buffers takes none."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    faults = minor_faults()
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    faults = (minor_faults() - faults) / repeat
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3, faults


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50, help="repetitions of a step (an epoch: a fifth)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=list(TARGETS), choices=list(TARGETS))
    args = parser.parse_args()
    import cgrad
    try:
        import torch
    except ImportError:
        torch = None
    cgrad.set_num_threads(args.threads)
    if torch:
        torch.set_num_threads(args.threads)
    print(f"{'workload':12s} {'cgrad ms':>10s} {'torch ms':>10s} {'ratio':>7s}   {'cgrad cpu':>10s} "
          f"{'torch cpu':>10s} {'ratio':>7s}   {'target':>6s}   {'faults c':>9s} {'faults t':>8s}   "
          f"({args.threads} thread(s), medians; ratio = cgrad / torch)")
    for name in args.only:
        if name == "loader":
            runs = {"cgrad": loader_runner(cgrad)}
            if torch:
                runs["torch"] = loader_runner(torch)
            repeat, warmup = max(3, args.repeat // 5), 1
        else:
            runs = build_steps(name, cgrad, torch)
            repeat, warmup = args.repeat, 10
        res = {lib: median_ms(fn, repeat, warmup) for lib, fn in runs.items()}
        # a second round of each, so drift on a shared machine hits both alike
        for lib, fn in runs.items():
            again = median_ms(fn, repeat, 1)
            res[lib] = (min(res[lib][0], again[0]), min(res[lib][1], again[1]), again[2])
        (cw, cc, cf) = res["cgrad"]
        line = f"{name:12s} {cw:10.3f}"
        if torch:
            tw, tc, tf = res["torch"]
            line += (f" {tw:10.3f} {cw / tw:6.2f}x   {cc:10.3f} {tc:10.3f} {cc / tc:6.2f}x   "
                     f"{TARGETS[name]:5.1f}x   {cf:9.1f} {tf:8.1f}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
