"""Sequence-model training steps, cgrad beside torch in one process and run:

  lstm         a 2-layer LSTM (input 256, hidden 256) on batch 32 x sequence 64
               float32: forward, sum of the output and the final states,
               backward, SGD step
  transformer  one TransformerEncoderLayer (width 256, 4 heads, feedforward
               1024, dropout 0, batch_first) on batch 8 x sequence 128 float32:
               forward, sum, backward

Both libraries start from the same weights (copied from numpy) and get the
same thread count (--threads, default 1: the machine is shared). Reported:
the median step time of each (ms, wall and process CPU), the better of
--rounds rounds each, the libraries' rounds interleaved so drift on a
shared machine hits both alike, and the ratios cgrad / torch. On a loaded
machine a one-thread step's wall time grows with the load and its CPU
time far less: compare CPU times there.

    python bench/sequence_models.py [--repeat N] [--rounds R] [--threads T] [--only lstm|transformer]
"""
import argparse
import statistics
import time

import numpy as np

BATCH_LSTM, SEQ_LSTM, HIDDEN_LSTM = 32, 64, 256
BATCH_TR, SEQ_TR, WIDTH_TR, HEADS_TR = 8, 128, 256, 4


def copy_weights(model_c, model_t):
    import cgrad
    import torch
    rng = np.random.default_rng(0)
    params_c = dict(model_c.named_parameters())
    for name, pt in model_t.named_parameters():
        arr = (rng.standard_normal(tuple(pt.shape)) * 0.05).astype(np.float32)
        with torch.no_grad():
            pt.copy_(torch.tensor(arr))
        with cgrad.no_grad():
            params_c[name].copy_(cgrad.tensor(arr))


def lstm_step(lib, model, x):
    opt = lib.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        out, (h, c) = model(x)
        loss = out.sum() + h.sum() + c.sum()
        loss.backward()
        opt.step()
    return step


def transformer_step(lib, layer, x):
    def step():
        for p in layer.parameters():
            p.grad = None
        layer(x).sum().backward()
    return step


def ms_per_step(step, repeat, warmup=5):
    """(median wall ms, median process CPU ms) per step."""
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def build(lib, which):
    rng = np.random.default_rng(1)
    if which == "lstm":
        model = lib.nn.LSTM(HIDDEN_LSTM, HIDDEN_LSTM, num_layers=2)
        x = lib.tensor(rng.standard_normal((SEQ_LSTM, BATCH_LSTM, HIDDEN_LSTM)).astype(np.float32))
        return model, x, lstm_step
    model = lib.nn.TransformerEncoderLayer(WIDTH_TR, HEADS_TR, dim_feedforward=4 * WIDTH_TR, dropout=0.0,
                                           batch_first=True)
    x = lib.tensor(rng.standard_normal((BATCH_TR, SEQ_TR, WIDTH_TR)).astype(np.float32), requires_grad=True)
    return model, x, transformer_step


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("lstm", "transformer"))
    args = parser.parse_args()
    import cgrad
    import torch
    cgrad.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    titles = {"lstm": f"2-layer LSTM step, batch {BATCH_LSTM} x sequence {SEQ_LSTM}, hidden {HIDDEN_LSTM}, SGD",
              "transformer": f"TransformerEncoderLayer forward+backward, batch {BATCH_TR} x sequence {SEQ_TR}, "
                             f"width {WIDTH_TR}, {HEADS_TR} heads"}
    for which in ("lstm", "transformer"):
        if args.only and args.only != which:
            continue
        model_c, x_c, make_c = build(cgrad, which)
        model_t, x_t, make_t = build(torch, which)
        copy_weights(model_c, model_t)
        step_c = make_c(cgrad, model_c, x_c)
        step_t = make_t(torch, model_t, x_t)
        best = {"cgrad": (float("inf"), float("inf")), "torch": (float("inf"), float("inf"))}
        for r in range(args.rounds):
            for lib, step in (("cgrad", step_c), ("torch", step_t)):
                wall, cpu = ms_per_step(step, args.repeat, warmup=5 if r == 0 else 1)
                best[lib] = (min(best[lib][0], wall), min(best[lib][1], cpu))
        (wc, cc), (wt, ct) = best["cgrad"], best["torch"]
        print(f"{titles[which]}, float32, {args.threads} thread(s), median of {args.repeat}, "
              f"best of {args.rounds} rounds:")
        print(f"  cgrad  {wc:8.2f} ms/step   cpu {cc:8.2f} ms")
        print(f"  torch  {wt:8.2f} ms/step   cpu {ct:8.2f} ms")
        print(f"  ratio cgrad/torch: {wc / wt:.3f}   cpu {cc / ct:.3f}", flush=True)


if __name__ == "__main__":
    main()
