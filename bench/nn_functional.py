"""nn.functional composites (interpolate, huber_loss, kl_div, glu,
pixel_shuffle, cosine_similarity) against torch, in one process: medians
of repeated forward + backward steps after warm-up, and the ratio
cgrad / torch.

  upsample_nearest   8x16x32x32 float32, scale 2, nearest
  upsample_bilinear  8x16x32x32 float32, scale 2, bilinear
  upsample_bicubic   8x16x32x32 float32, to 48x48, bicubic
  huber_loss         256x512 float32, mean
  kl_div             256x512 float32, batchmean
  glu                256x512 float32, dim -1
  pixel_shuffle      8x64x16x16 float32, factor 2
  cosine_similarity  256x512 float32, dim 1

    python bench/nn_functional.py [--repeat N]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.worker import timed  # noqa: E402


def workloads(lib):
    F = lib.nn.functional
    rng = np.random.default_rng(0)
    img = lib.tensor(rng.standard_normal((8, 16, 32, 32)).astype(np.float32), requires_grad=True)
    a = lib.tensor(rng.standard_normal((256, 512)).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal((256, 512)).astype(np.float32))
    ps = lib.tensor(rng.standard_normal((8, 64, 16, 16)).astype(np.float32), requires_grad=True)

    def step(make):
        def run():
            out = make()
            out.sum().backward()
            return out
        return run

    return {
        "upsample_nearest": step(lambda: F.interpolate(img, scale_factor=2)),
        "upsample_bilinear": step(lambda: F.interpolate(img, scale_factor=2, mode="bilinear")),
        "upsample_bicubic": step(lambda: F.interpolate(img, size=(48, 48), mode="bicubic")),
        "huber_loss": step(lambda: F.huber_loss(a, b)),
        "kl_div": step(lambda: F.kl_div(a, b.softmax(1), reduction="batchmean")),
        "glu": step(lambda: F.glu(a)),
        "pixel_shuffle": step(lambda: F.pixel_shuffle(ps, 2)),
        "cosine_similarity": step(lambda: F.cosine_similarity(a, b)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    import cgrad
    runs = {"cgrad": workloads(cgrad)}
    try:
        import torch
        torch.set_num_threads(1)
        runs["torch"] = workloads(torch)
    except ImportError:
        torch = None
    if torch is not None:
        # the two must agree before their speed is compared
        for name in runs["cgrad"]:
            x = np.asarray(runs["cgrad"][name]().detach().numpy(), dtype=np.float64)
            y = runs["torch"][name]().detach().numpy().astype(np.float64)
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-4, err_msg=name)
    print(f"{'workload':<20}{'cgrad us':>12}{'torch us':>12}{'cgrad/torch':>14}")
    for name in runs["cgrad"]:
        c = timed(runs["cgrad"][name], args.repeat, 3) * 1e6
        line = f"{name:<20}{c:>12.1f}"
        if torch is not None:
            t = timed(runs["torch"][name], args.repeat, 3) * 1e6
            line += f"{t:>12.1f}{c / t:>14.2f}"
        print(line)


if __name__ == "__main__":
    main()
