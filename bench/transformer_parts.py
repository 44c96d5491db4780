"""Where a TransformerEncoderLayer step's time goes, cgrad beside torch: the
layer of bench/sequence_models.py (width 256, 4 heads, feedforward 1024,
dropout 0, batch_first, batch 8 x sequence 128, float32) taken apart, each
part forward+backward (and the forward alone where named *_fwd):

  attention_gemm  one of the attention's batched products, (32, 128, 64)
                  by (32, 64, 128), forward only (the scores' shape)
  softmax_fwd     softmax over the scores (8, 4, 128, 128)
  sdpa            scaled_dot_product_attention of (8, 4, 128, 64) inputs
  self_attn       the MultiheadAttention block (need_weights=False)
  feedforward     linear2(relu(linear1(x)))
  layer_norm      norm1(x + x)
  layer           the whole layer

Process CPU time per call (medians of --repeat calls), the better of
--rounds rounds, the libraries interleaved part by part so that a shared
machine's drift hits both alike; ratios cgrad / torch.

    python bench/transformer_parts.py [--repeat N] [--rounds R] [--threads T]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.cpu_timing import median_cpu_seconds  # noqa: E402

BATCH, SEQ, WIDTH, HEADS, FF = 8, 128, 256, 4, 1024


def cpu_ms(fn, repeat, warmup=3):
    return median_cpu_seconds(fn, repeat, warmup) * 1e3


def parts(lib):
    rng = np.random.default_rng(0)
    lib.manual_seed(0)
    x = lib.tensor(rng.standard_normal((BATCH, SEQ, WIDTH)).astype(np.float32), requires_grad=True)
    heads = lib.tensor(rng.standard_normal((BATCH, HEADS, SEQ, WIDTH // HEADS)).astype(np.float32),
                       requires_grad=True)
    scores = lib.tensor(rng.standard_normal((BATCH, HEADS, SEQ, SEQ)).astype(np.float32))
    a = lib.tensor(rng.standard_normal((BATCH * HEADS, SEQ, WIDTH // HEADS)).astype(np.float32))
    b = lib.tensor(rng.standard_normal((BATCH * HEADS, WIDTH // HEADS, SEQ)).astype(np.float32))
    layer = lib.nn.TransformerEncoderLayer(WIDTH, HEADS, FF, dropout=0.0, batch_first=True)
    F = lib.nn.functional

    def step(forward):
        def run():
            x.grad = heads.grad = None
            for p in layer.parameters():
                p.grad = None
            forward().sum().backward()
        return run

    return {
        "attention_gemm": lambda: lib.matmul(a, b),
        "softmax_fwd": lambda: lib.softmax(scores, -1),
        "sdpa": step(lambda: F.scaled_dot_product_attention(heads, heads, heads)),
        "self_attn": step(lambda: layer.self_attn(x, x, x, need_weights=False)[0]),
        "feedforward": step(lambda: layer.linear2(lib.relu(layer.linear1(x)))),
        "layer_norm": step(lambda: layer.norm1(x + x)),
        "layer_fwd": lambda: layer(x),
        "layer": step(lambda: layer(x)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import cgrad
    import torch
    cgrad.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    runs = {"cgrad": parts(cgrad), "torch": parts(torch)}
    print(f"TransformerEncoderLayer parts, float32, {args.threads} thread(s), CPU ms per call, median of "
          f"{args.repeat}, best of {args.rounds} rounds:")
    for name in runs["cgrad"]:
        best = {}
        for _ in range(args.rounds):
            for lib in ("torch", "cgrad"):
                best[lib] = min(best.get(lib, float("inf")), cpu_ms(runs[lib][name], args.repeat))
        print(f"  {name:15s} cgrad {best['cgrad']:8.3f}   torch {best['torch']:8.3f}   "
              f"ratio {best['cgrad'] / best['torch']:.3f}", flush=True)


if __name__ == "__main__":
    main()
