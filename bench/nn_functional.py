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
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.side_by_side import compare  # noqa: E402


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


if __name__ == "__main__":
    compare(workloads, __doc__)
