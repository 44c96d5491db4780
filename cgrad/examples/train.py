"""The main job: a small CNN learns the UCI handwritten digits with cgrad,
optionally beside torch.

    python -m cgrad.examples.train                   # train, report test accuracy and time
    python -m cgrad.examples.train --compare-torch   # the same run in torch, side by side
    python -m cgrad.examples.train --plot curves.png # loss and accuracy curves (needs matplotlib)
    python -m cgrad.examples.train --quick           # 3 epochs (CI smoke run)

The data are the 1,797 8x8 images of the UCI optical-digits set as
scikit-learn ships them, stored inside the package (cgrad/examples/data;
licence and citation in DIGITS_NOTICE.txt there), split 80/20 into training
and test sets by cgrad.utils.data.random_split and served in shuffled
mini-batches by cgrad.utils.data.DataLoader, both with seeded Generators:
with a fixed seed the whole run is reproducible. Progress is a tqdm bar when
tqdm is installed (pip install tqdm, or the package's `examples` extra) and
the terminal shows it, one line per epoch otherwise.
"""
import argparse
import sys
import time

import numpy as np

# Where two runs count as parted: float32 rounding alone keeps the per-epoch
# losses within ~1e-6 of each other; above this they follow different paths.
PARTED_RELATIVE_DIFFERENCE = 1e-3
TEST_FRACTION = 0.2
EVAL_BATCH = 512


def build_model(lib, init_weights=None):
    """conv(1->16, 3x3, pad 1) relu maxpool(2) -> 16x4x4, conv(16->32) relu
    maxpool(2) -> 32x2x2, flatten, linear(128->64) relu, linear(64->10)."""
    nn = lib.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )
    if init_weights is not None:
        with lib.no_grad():
            for p, w in zip(model.parameters(), init_weights):
                p.copy_(lib.tensor(w))
    return model


def split_indices(n, seed):
    """Training and test indices: cgrad.utils.data.random_split of range(n)
    with a Generator seeded with `seed`."""
    import cgrad
    from cgrad.utils.data import random_split
    n_test = int(round(n * TEST_FRACTION))
    train, test = random_split(range(n), [n - n_test, n_test], generator=cgrad.Generator().manual_seed(seed))
    return list(train), list(test)


def cgrad_train_loader(dataset, batch, seed):
    """The training batches as a user writes them: shuffled by a Generator
    seeded with `seed`, a new order every epoch."""
    import cgrad
    from cgrad.utils.data import DataLoader
    return DataLoader(dataset, batch_size=batch, shuffle=True, generator=cgrad.Generator().manual_seed(seed))


class ReplayedBatches:
    """The index lists cgrad's training loader draws, epoch after epoch,
    replayed for another library's DataLoader (as its batch_sampler): the
    same seeded cgrad DataLoader is run over range(n), which draws from its
    generator exactly as the one over the images does."""

    def __init__(self, n, batch, seed):
        self.index_loader = cgrad_train_loader(range(n), batch, seed)

    def __iter__(self):
        for indices in self.index_loader:
            yield indices.tolist()

    def __len__(self):
        return len(self.index_loader)


def format_seconds(seconds):
    """A duration with three significant digits in a unit that suits it."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale or unit == "us":
            value = seconds / scale
            break
    decimals = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{decimals}f} {unit}"


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


def evaluate(lib, model, loader):
    """(accuracy, logits as a float64 numpy array) over `loader`, in eval mode."""
    model.eval()
    correct, total, logits = 0, 0, []
    with lib.no_grad():
        for xb, yb in loader:
            out = model(xb)
            correct += int((out.argmax(1) == yb).sum().item())
            total += len(yb)
            logits.append(out.numpy().astype(np.float64))
    model.train()
    return correct / total, np.concatenate(logits)


def train(lib, args, init_weights, show_progress=True):
    """Train from `init_weights` on the digits through lib.utils.data;
    returns the per-epoch mean training loss and test accuracy, the final
    accuracies, the initial test logits and the time spent in training
    epochs (loading and steps; evaluation excluded)."""
    import cgrad
    from cgrad.examples.digits import DigitsDataset
    data = lib.utils.data
    full = DigitsDataset(lib)
    train_idx, test_idx = split_indices(len(full), args.seed)
    train_set, test_set = data.Subset(full, train_idx), data.Subset(full, test_idx)
    if lib is cgrad:
        train_loader = cgrad_train_loader(train_set, args.batch, args.seed + 1)
    else:
        train_loader = data.DataLoader(train_set, batch_sampler=ReplayedBatches(len(train_set), args.batch,
                                                                                args.seed + 1))
    test_loader = data.DataLoader(test_set, batch_size=EVAL_BATCH)
    train_eval_loader = data.DataLoader(train_set, batch_size=EVAL_BATCH)
    model = build_model(lib, init_weights)
    opt = lib.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = lib.nn.CrossEntropyLoss()
    _, initial_logits = evaluate(lib, model, test_loader)
    bar = progress(args.epochs, lib.__name__, show_progress)
    losses, test_accs = [], []
    seconds = 0.0
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        total = 0.0
        for xb, yb in train_loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        seconds += time.perf_counter() - t0
        losses.append(total / len(train_set))
        test_accs.append(evaluate(lib, model, test_loader)[0])
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"loss {losses[-1]:.4f} test acc {test_accs[-1]:.3f}")
    if bar is not None:
        bar.close()
    return {"losses": losses, "test_accs": test_accs, "train_acc": evaluate(lib, model, train_eval_loader)[0],
            "test_acc": test_accs[-1], "seconds": seconds, "initial_logits": initial_logits}


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
    logits_c, logits_t = c["initial_logits"], t["initial_logits"]
    initial = np.max(np.abs(logits_c - logits_t)) / np.max(np.abs(logits_t))
    print(f"\nlargest relative loss difference: {diffs[worst]:.1e} (epoch {worst + 1}); "
          f"final test accuracy cgrad {c['test_acc']:.3f}, torch {t['test_acc']:.3f}")
    print(f"Before any step, the two models' test-set logits differ by at most {initial:.1e} relative to the\n"
          f"largest logit: both libraries compute the same float32 operations on the same data, but not\n"
          f"in the same order. Convolutions and matrix products add their terms in a different order\n"
          f"(cgrad unfolds the images and calls numpy's BLAS, torch runs its own convolution kernels),\n"
          f"so results differ in the last bits. Training feeds every step's result into the next one\n"
          f"(Adam divides by running gradient magnitudes, which amplifies small gradients' differences),\n"
          f"so such differences grow over the steps; the largest difference above is that growth.")
    parted = next((e for e, d in enumerate(diffs, 1) if d > PARTED_RELATIVE_DIFFERENCE), None)
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
    fig.suptitle("digits CNN")
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


def parse_args(argv=None):
    """All of the job's command line, checked; exits with usage on errors."""
    p = argparse.ArgumentParser(prog="python -m cgrad.examples.train", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--epochs", type=int, default=15, help="passes over the training set")
    p.add_argument("--batch", type=int, default=32, help="mini-batch size")
    p.add_argument("--lr", type=float, default=0.003, help="Adam's learning rate")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights, the train/test split and the batch order")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for cgrad (and torch with --compare-torch); default: cgrad's default")
    p.add_argument("--compare-torch", action="store_true",
                   help="train the same model in torch too, from the same initial weights on the same "
                        "batches, and compare the runs epoch by epoch")
    p.add_argument("--plot", metavar="FILE",
                   help="write the loss and accuracy curves (of both runs with --compare-torch) to FILE "
                        "as a PNG; needs matplotlib")
    p.add_argument("--quick", action="store_true", help="3 epochs (a smoke run)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or per-epoch lines")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel training over MPI, one model replica per rank (run under mpirun or "
                        "python -m cgrad.distributed.run --nproc-per-node N -m cgrad.examples.train ...)")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = 3
    if args.epochs < 1 or args.batch < 1 or (args.threads is not None and args.threads < 1):
        p.error("--epochs, --batch and --threads must be at least 1")
    if not args.lr > 0:
        p.error("--lr must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
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
    if args.threads is not None:
        cgrad.set_num_threads(args.threads)
    cgrad.manual_seed(args.seed)
    init_weights = [p.detach().numpy().copy() for p in build_model(cgrad).parameters()]
    if args.distributed:
        from cgrad.examples.train_distributed import train_distributed
        return train_distributed(args, init_weights)
    from cgrad.examples.digits import N_SAMPLES
    n_train, n_test = (len(part) for part in split_indices(N_SAMPLES, args.seed))
    print(f"data: UCI handwritten digits (8x8), {n_train} training and {n_test} test images; "
          f"model: CNN conv16-conv32-fc64-fc10, Adam lr={args.lr}, batch {args.batch}, "
          f"{args.epochs} epochs, seed {args.seed}, {cgrad.get_num_threads()} thread(s)", flush=True)
    results = {"cgrad": train(cgrad, args, init_weights, not args.no_progress)}
    if torch is not None:
        torch.set_num_threads(cgrad.get_num_threads())
        torch.manual_seed(args.seed)
        results["torch"] = train(torch, args, init_weights, not args.no_progress)
    print()
    print(f"{'library':8s} {'final loss':>10s} {'train acc':>10s} {'test acc':>9s} {'time':>9s} "
          f"{'per epoch':>10s}")
    for lib, r in results.items():
        print(f"{lib:8s} {r['losses'][-1]:10.4f} {r['train_acc']:10.3f} {r['test_acc']:9.3f} "
              f"{format_seconds(r['seconds']):>9s} {format_seconds(r['seconds'] / args.epochs):>10s}")
    if torch is not None:
        c, t = results["cgrad"], results["torch"]
        print(f"torch time / cgrad time: {t['seconds'] / c['seconds']:.2f}x (training epochs only)")
        print_comparison(c, t)
    if args.plot is not None:
        plot(results, args.plot)
        print(f"\ncurves written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
