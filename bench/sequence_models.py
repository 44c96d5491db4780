"""Sequence-model training steps, cgrad beside torch in one process and run:

  lstm         a 2-layer LSTM (input 256, hidden 256) on batch 32 x sequence 64
               float32: forward, sum of the output and the final states,
               backward, SGD step
  transformer  one TransformerEncoderLayer (width 256, 4 heads, feedforward
               1024, dropout 0, batch_first) on batch 8 x sequence 128 float32:
               forward, sum, backward

Both libraries start from the same weights (copied from numpy) and get the
same thread count (--threads, default 1: the machine is shared). Reported:
the median step time of each (ms), the better of two rounds each so drift
on a shared machine hits both alike, and the ratio cgrad / torch.

    python bench/sequence_models.py [--repeat N] [--threads T] [--only lstm|transformer]
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
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


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
        ms_c = ms_per_step(step_c, args.repeat)
        ms_t = ms_per_step(step_t, args.repeat)
        ms_c = min(ms_c, ms_per_step(step_c, args.repeat))
        ms_t = min(ms_t, ms_per_step(step_t, args.repeat))
        print(f"{titles[which]}, float32, {args.threads} thread(s), median of {args.repeat}:")
        print(f"  cgrad  {ms_c:8.2f} ms/step")
        print(f"  torch  {ms_t:8.2f} ms/step")
        print(f"  ratio cgrad/torch: {ms_c / ms_t:.3f}")


if __name__ == "__main__":
    main()
