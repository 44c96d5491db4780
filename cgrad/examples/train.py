"""The main job: train an MLP classifier with cgrad, optionally beside torch.

    python -m cgrad.examples.train                   # train, report accuracy and time
    python -m cgrad.examples.train --compare-torch   # the same run in torch, side by side
    python -m cgrad.examples.train --plot curves.png # loss and accuracy curves (needs matplotlib)
    python -m cgrad.examples.train --quick           # a few epochs (CI smoke run)

The data set is generated deterministically (no download): points on K
interleaved noisy spiral arms in the plane, the class being the arm. With a
fixed seed the whole run is reproducible. Progress is a tqdm bar when tqdm is
installed (pip install tqdm, or the package's `examples` extra) and the
terminal shows it, one line per epoch otherwise.
"""
import argparse
import math
import sys
import time

import numpy as np

# Where two runs count as parted: float32 rounding alone keeps the per-epoch
# losses within ~1e-6 of each other; above this they follow different paths.
PARTED_RELATIVE_DIFFERENCE = 1e-3


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


def format_seconds(seconds):
    """A duration with three significant digits in a unit that suits it."""
    if seconds >= 1:
        return f"{three_digits(seconds)} s"
    if seconds >= 1e-3:
        return f"{three_digits(seconds * 1e3)} ms"
    return f"{three_digits(seconds * 1e6)} us"


def three_digits(value):
    # (#.3g keeps trailing zeros, 1.50, but also prints 116 as "116.")
    return f"{value:.0f}" if value >= 99.95 else f"{value:#.3g}"


class EpochLines:
    """Progress without tqdm (or into a file or pipe): one complete line per
    epoch, so redirected output stays readable line by line."""

    def __init__(self, total, desc):
        self.total, self.desc, self.n = total, desc, 0

    def update(self, k):
        self.n += k

    def set_postfix_str(self, s):
        print(f"{self.desc}: epoch {self.n}/{self.total} {s}", file=sys.stderr, flush=True)

    def close(self):
        pass


def progress(total, desc, enabled):
    """A tqdm bar when tqdm is installed and stderr is a terminal, else
    EpochLines; None when progress is off."""
    if not enabled:
        return None
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, desc=desc, unit="epoch", leave=True)
    return EpochLines(total, desc)


def accuracy(lib, model, x, y):
    with lib.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(lib, data, args, init_weights, show_progress=True):
    """Train from `init_weights` on mini-batches drawn from a numpy generator
    seeded with args.seed + 1 (the same batches in any library); returns the
    per-epoch mean training loss and test accuracy, the final accuracies and
    the time spent in training steps (evaluation excluded)."""
    (xtr, ytr), (xte, yte) = data
    model = build(lib, args.hidden, args.classes, init_weights)
    opt = lib.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = lib.nn.CrossEntropyLoss()
    xtr_t, ytr_t = lib.tensor(xtr), lib.tensor(ytr)
    xte_t, yte_t = lib.tensor(xte), lib.tensor(yte)
    n = len(ytr)
    rng = np.random.default_rng(args.seed + 1)
    bar = progress(args.epochs, lib.__name__, show_progress)
    losses, test_accs = [], []
    seconds = 0.0
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
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
        seconds += time.perf_counter() - t0
        losses.append(total / n)
        test_accs.append(accuracy(lib, model, xte_t, yte_t))
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"loss {losses[-1]:.4f} test acc {test_accs[-1]:.3f}")
    if bar is not None:
        bar.close()
    return {"losses": losses, "test_accs": test_accs, "train_acc": accuracy(lib, model, xtr_t, ytr_t),
            "test_acc": test_accs[-1] if test_accs else accuracy(lib, model, xte_t, yte_t),
            "seconds": seconds}


def relative_difference(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-30)


def print_comparison(c, t):
    """Per-epoch losses of both runs side by side, and what their difference means."""
    diffs = [relative_difference(a, b) for a, b in zip(c["losses"], t["losses"])]
    print("\nper-epoch mean training loss (same initial weights, same mini-batches in the same order):")
    print(f"{'epoch':>5s} {'cgrad':>10s} {'torch':>10s} {'rel. diff':>10s} "
          f"{'cgrad acc':>9s} {'torch acc':>9s}")
    for e, (a, b, d) in enumerate(zip(c["losses"], t["losses"], diffs), 1):
        print(f"{e:5d} {a:10.6f} {b:10.6f} {d:10.1e} {c['test_accs'][e - 1]:9.3f} "
              f"{t['test_accs'][e - 1]:9.3f}")
    worst = max(range(len(diffs)), key=diffs.__getitem__)
    print(f"\nlargest relative loss difference: {diffs[worst]:.1e} (epoch {worst + 1}); "
          f"final test accuracy cgrad {c['test_acc']:.3f}, torch {t['test_acc']:.3f}")
    parted = next((e for e, d in enumerate(diffs, 1) if d > PARTED_RELATIVE_DIFFERENCE), None)
    print("Both runs compute the same float32 operations on the same data, but not in the same order:\n"
          "matrix products and sums add their terms in a different order (each library's BLAS and\n"
          "reduction kernels), so results differ in the last bits (relative ~1e-7). Training feeds\n"
          "every step's result into the next one, and such differences grow over the steps.")
    if parted is None:
        print(f"Here the runs stay together: no epoch's losses differ by more than "
              f"{PARTED_RELATIVE_DIFFERENCE:g} relative.")
    else:
        print(f"Here the losses are more than {PARTED_RELATIVE_DIFFERENCE:g} apart (relative) from epoch "
              f"{parted} on: from there the runs are two\ndifferent trainings of the same model, "
              f"so compare their accuracy, not their losses.")


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for lib, r in results.items():
        epochs = range(1, len(r["losses"]) + 1)
        style = "-" if lib == "cgrad" else "--"
        ax_loss.plot(epochs, r["losses"], style, label=lib)
        ax_acc.plot(epochs, r["test_accs"], style, label=lib)
    ax_loss.set(title="mean training loss", xlabel="epoch", yscale="log")
    ax_acc.set(title="test accuracy", xlabel="epoch", ylim=(0, 1))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The module docstring as written, and each option's default (flags and
    options without one show none)."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m cgrad.examples.train", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--epochs", type=int, default=60, help="passes over the training set")
    p.add_argument("--classes", type=int, default=5, help="spiral arms, i.e. classes")
    p.add_argument("--per-class", type=int, default=400, help="points per arm (80%% train, 20%% test)")
    p.add_argument("--hidden", type=int, default=64, help="width of the two hidden layers")
    p.add_argument("--batch", type=int, default=64, help="mini-batch size")
    p.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed of the data, the initial weights and the batches")
    p.add_argument("--compare-torch", action="store_true",
                   help="train the same model in torch too, from the same initial weights on the same "
                        "batches, and compare the runs epoch by epoch")
    p.add_argument("--plot", metavar="FILE",
                   help="write the loss and accuracy curves (of both runs with --compare-torch) to FILE "
                        "as a PNG; needs matplotlib")
    p.add_argument("--quick", action="store_true", help="3 epochs on 100 points per arm (a smoke run)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or per-epoch lines")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel training over MPI, one model replica per rank (run under mpirun or "
                        "python -m cgrad.distributed.run --nproc-per-node N -m cgrad.examples.train ...)")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.per_class = 3, 100
    if args.epochs < 1 or args.per_class < 2 or args.batch < 1 or args.hidden < 1 or args.classes < 2:
        p.error("--epochs, --batch and --hidden must be at least 1, --per-class and --classes at least 2")
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("--plot needs matplotlib, which is not installed: pip install matplotlib",
                  file=sys.stderr)
            return 1
    torch = None
    if args.compare_torch:
        try:
            import torch
        except ImportError:
            print("--compare-torch needs torch, which is not installed: pip install torch", file=sys.stderr)
            return 1

    import cgrad
    cgrad.manual_seed(args.seed)
    x, y = spirals(args.per_class, args.classes, noise=0.15, seed=args.seed)
    split = int(0.8 * len(y))
    data = ((x[:split], y[:split]), (x[split:], y[split:]))
    init_model = build(cgrad, args.hidden, args.classes)
    init_weights = [p.detach().numpy().copy() for p in init_model.parameters()]
    if args.distributed:
        from cgrad.examples.train_distributed import train_distributed
        return train_distributed(args, data, init_weights)
    print(f"data: {args.classes} spiral arms, {split} training and {len(y) - split} test points; "
          f"model: MLP 2-{args.hidden}-{args.hidden}-{args.classes}, Adam lr={args.lr}, "
          f"batch {args.batch}, {args.epochs} epochs, seed {args.seed}", flush=True)
    results = {"cgrad": train(cgrad, data, args, init_weights, not args.no_progress)}
    if torch is not None:
        torch.manual_seed(args.seed)
        results["torch"] = train(torch, data, args, init_weights, not args.no_progress)
    print()
    print(f"{'library':8s} {'final loss':>10s} {'train acc':>10s} {'test acc':>9s} {'time':>9s} "
          f"{'per epoch':>10s}")
    for lib, r in results.items():
        print(f"{lib:8s} {r['losses'][-1]:10.4f} {r['train_acc']:10.3f} {r['test_acc']:9.3f} "
              f"{format_seconds(r['seconds']):>9s} {format_seconds(r['seconds'] / args.epochs):>10s}")
    if torch is not None:
        c, t = results["cgrad"], results["torch"]
        print(f"torch time / cgrad time: {t['seconds'] / c['seconds']:.2f}x (training steps only)")
        print_comparison(c, t)
    if args.plot is not None:
        plot(results, args.plot)
        print(f"\ncurves written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
