"""A LeNet-style training step, cgrad beside torch in one process and run:
64 x 1 x 28 x 28 float32 images through conv(1->6, 5x5) + relu + max_pool(2),
conv(6->16, 5x5) + relu + max_pool(2), flatten, linear(256->120) + relu,
linear(120->10), cross_entropy, backward and an Adam step. Both models start
from the same weights (torch's copied from cgrad's). Reported: the median
step time of each (ms) and the ratio cgrad / torch; both libraries get the
same thread count (--threads, default 1: the machine is shared).

    python bench/lenet.py [--repeat N] [--threads T]
"""
import argparse
import statistics
import time

import numpy as np

BATCH = 64


def build(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.ReLU(),
        nn.Linear(120, 10),
    )


def make_step(lib, model, images, labels):
    F = lib.nn.functional
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    x = lib.tensor(images)
    y = lib.tensor(labels)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def ms_per_step(step, repeat, warmup=10):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import cgrad
    cgrad.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)
    cgrad.manual_seed(0)
    model_c = build(cgrad.nn)
    step_c = make_step(cgrad, model_c, images, labels)
    results = {"cgrad": ms_per_step(step_c, args.repeat)}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
        model_t = build(torch.nn)
        with torch.no_grad():
            for pc, pt in zip(model_c.parameters(), model_t.parameters()):
                pt.copy_(torch.tensor(pc.detach().numpy()))
        step_t = make_step(torch, model_t, images, labels)
        results["torch"] = ms_per_step(step_t, args.repeat)
        # a second round of each so drift on a shared machine hits both alike
        results["cgrad"] = min(results["cgrad"], ms_per_step(step_c, args.repeat))
        results["torch"] = min(results["torch"], ms_per_step(step_t, args.repeat))
    print(f"LeNet training step, batch {BATCH} x 1 x 28 x 28 float32, Adam, {args.threads} thread(s), "
          f"median of {args.repeat}:")
    for name, ms in results.items():
        print(f"  {name:6s} {ms:8.3f} ms/step")
    if "torch" in results:
        print(f"  ratio cgrad/torch: {results['cgrad'] / results['torch']:.3f}")


if __name__ == "__main__":
    main()
