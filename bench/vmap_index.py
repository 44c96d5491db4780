"""vmap with batched INDEX tensors (each sample its own positions): cgrad's
batching rules beside the per-sample fallback they replaced (the same call
with the op's rule taken out of the table) and beside torch.func.vmap; medians
of process CPU time over repeated calls after warm-up, and the ratios.

  index_select    x.index_select(0, i)          i: 16 rows per sample
  index_add       x.index_add(0, i, src)
  getitem         x[i]
  gather          x.gather(1, c)                c: 4 columns per row
  scatter_add     x.scatter_add(1, c, x[:, :4])
  take_along_dim  cgrad.take_along_dim(x, c, 1)

x is float64 (128, 32) per sample, a batch of 64.

    python bench/vmap_index.py [--repeat N]
"""
import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.cpu_timing import median_cpu_seconds  # noqa: E402

CASES = {
    "index_select": ("index_select", lambda L, x, i, c: x.index_select(0, i)),
    "index_add": ("index_add", lambda L, x, i, c: x.index_add(0, i, x[:16] * 2)),
    "getitem": ("__getitem__", lambda L, x, i, c: x[i]),
    "gather": ("gather", lambda L, x, i, c: x.gather(1, c)),
    "scatter_add": ("scatter_add", lambda L, x, i, c: x.scatter_add(1, c, x[:, :4])),
    "take_along_dim": ("take_along_dim", lambda L, x, i, c: L.take_along_dim(x, c, 1)),
}


def _median_us(fn, repeat):
    return median_cpu_seconds(fn, repeat) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    import cgrad
    import cgrad.func._vmap  # noqa: F401  (registers the batching rules)
    from cgrad.func import _batched
    try:
        import torch
    except ImportError:
        torch = None
    warnings.simplefilter("ignore")       # the fallback's performance warning
    rng = np.random.default_rng(0)
    arrays = (rng.standard_normal((64, 128, 32)), rng.integers(0, 128, (64, 16)), rng.integers(0, 32, (64, 128, 4)))
    ours = [cgrad.tensor(a) for a in arrays]
    theirs = [torch.tensor(a) for a in arrays] if torch is not None else None
    print(f"batch 64 of float64 (128, 32); medians of {args.repeat} calls, process CPU time, us")
    print(f"{'op':16s} {'rule':>10s} {'fallback':>10s} {'torch':>10s} {'fallback/rule':>14s} {'rule/torch':>11s}")
    for name, (key, f) in CASES.items():
        vmapped = cgrad.func.vmap(lambda *a: f(cgrad, *a))
        expected = vmapped(*ours).numpy()
        rule_us = _median_us(lambda: vmapped(*ours), args.repeat)
        saved = _batched.RULES.pop(key)
        try:
            np.testing.assert_allclose(vmapped(*ours).numpy(), expected, rtol=1e-12)
            fallback_us = _median_us(lambda: vmapped(*ours), args.repeat)
        finally:
            _batched.RULES[key] = saved
        torch_text = ratio_text = "-"
        if torch is not None:
            t_vmapped = torch.func.vmap(lambda *a: f(torch, *a))
            np.testing.assert_allclose(t_vmapped(*theirs).numpy(), expected, rtol=1e-12)
            torch_us = _median_us(lambda: t_vmapped(*theirs), args.repeat)
            torch_text, ratio_text = f"{torch_us:10.1f}", f"{rule_us / torch_us:11.2f}"
        print(f"{name:16s} {rule_us:10.1f} {fallback_us:10.1f} {torch_text:>10s} {fallback_us / rule_us:14.1f} "
              f"{ratio_text:>11s}")


if __name__ == "__main__":
    main()
