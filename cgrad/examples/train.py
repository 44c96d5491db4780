"""The main job: train an MLP classifier with cgrad, optionally beside torch.

    python -m cgrad.examples.train                   # train, report accuracy and time
    python -m cgrad.examples.train --compare-torch   # the same run in torch, side by side
    python -m cgrad.examples.train --quick           # a few epochs (CI smoke run)

The data set is generated deterministically (no download): points on K
interleaved noisy spiral arms in the plane, the class being the arm. With a
fixed seed the whole run is reproducible.
"""
import argparse
import math
import sys
import time

import numpy as np


def spirals(n_per_class, n_classes, noise, seed):
    """Points on `n_classes` interleaved spiral arms: (x float32 (N, 2), y int64 (N,))."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(n_classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        theta = np.linspace(k * 2 * math.pi / n_classes, k * 2 * math.pi / n_classes + 3.5, n_per_class)
        theta = theta + rng.normal(0, noise, n_per_class)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(n_per_class, k))
    x = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys).astype(np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def build(lib, hidden, n_classes, init_weights=None):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, n_classes))
    if init_weights is not None:
        with lib.no_grad():
            for p, w in zip(model.parameters(), init_weights):
                p.copy_(lib.tensor(w))
    return model


def progress(total, desc, enabled):
    """tqdm when installed, else a plain line rewritten in place."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
        return tqdm(total=total, desc=desc, leave=True)
    except ImportError:
        class Line:
            def __init__(self):
                self.n = 0

            def update(self, k):
                self.n += k

            def set_postfix_str(self, s):
                print(f"\r{desc}: epoch {self.n}/{total} {s}", end="", file=sys.stderr, flush=True)

            def close(self):
                print(file=sys.stderr)
        return Line()


def train(lib, data, args, init_weights, show_progress=True):
    (xtr, ytr), (xte, yte) = data
    model = build(lib, args.hidden, args.classes, init_weights)
    opt = lib.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = lib.nn.CrossEntropyLoss()
    xtr_t, ytr_t = lib.tensor(xtr), lib.tensor(ytr)
    n = len(ytr)
    rng = np.random.default_rng(args.seed + 1)
    bar = progress(args.epochs, lib.__name__, show_progress)
    losses = []
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        order = lib.tensor(rng.permutation(n))
        total = 0.0
        for start in range(0, n, args.batch):
            idx = order[start:start + args.batch]
            xb, yb = xtr_t[idx], ytr_t[idx]
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        losses.append(total / n)
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"loss {losses[-1]:.4f}")
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    with lib.no_grad():
        model.eval()
        acc_tr = (model(xtr_t).argmax(1) == ytr_t).float().mean().item()
        acc_te = (model(lib.tensor(xte)).argmax(1) == lib.tensor(yte)).float().mean().item()
    return {"losses": losses, "train_acc": acc_tr, "test_acc": acc_te, "seconds": seconds}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--classes", type=int, default=5)
    p.add_argument("--per-class", type=int, default=400)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compare-torch", action="store_true", help="train the same model in torch too")
    p.add_argument("--quick", action="store_true", help="3 epochs on less data")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.per_class = 3, 100

    import cgrad
    cgrad.manual_seed(args.seed)
    x, y = spirals(args.per_class, args.classes, noise=0.15, seed=args.seed)
    split = int(0.8 * len(y))
    data = ((x[:split], y[:split]), (x[split:], y[split:]))
    init_model = build(cgrad, args.hidden, args.classes)
    init_weights = [p.detach().numpy().copy() for p in init_model.parameters()]
    print(f"data: {args.classes} spiral arms, {split} training and {len(y) - split} test points; "
          f"model: MLP 2-{args.hidden}-{args.hidden}-{args.classes}, Adam lr={args.lr}, "
          f"batch {args.batch}, {args.epochs} epochs, seed {args.seed}")
    results = {"cgrad": train(cgrad, data, args, init_weights, not args.no_progress)}
    if args.compare_torch:
        try:
            import torch
        except ImportError:
            print("--compare-torch: torch is not installed (pip install torch)")
            return 1
        torch.manual_seed(args.seed)
        results["torch"] = train(torch, data, args, init_weights, not args.no_progress)
    print()
    print(f"{'library':8s} {'final loss':>10s} {'train acc':>10s} {'test acc':>9s} {'time (s)':>9s}")
    for lib, r in results.items():
        print(f"{lib:8s} {r['losses'][-1]:10.4f} {r['train_acc']:10.3f} {r['test_acc']:9.3f} "
              f"{r['seconds']:9.2f}")
    if "torch" in results:
        c, t = results["cgrad"], results["torch"]
        print(f"\ntorch time / cgrad time: {t['seconds'] / c['seconds']:.2f}x; largest loss difference "
              f"over the epochs: {max(abs(a - b) for a, b in zip(c['losses'], t['losses'])):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
