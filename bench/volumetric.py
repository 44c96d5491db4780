"""The volumetric layers, spatial sampling and reducing scatters against
torch, in one process: medians of repeated forward + backward steps after
warm-up, and the ratio cgrad / torch (torch on one thread, as the other
benches in bench/).

  conv3d          4x8x16x16x16 float32 -> 16 channels, 3x3x3 kernel, padding 1
  conv3d_s2_g2    4x16x16x16x16 -> 16 channels, 3x3x3 kernel, stride 2, groups 2
  conv_t3d_s2     4x16x8x8x8 -> 8 channels, 4x4x4 kernel, stride 2, padding 1
  max_pool3d      4x16x16x16x16, kernel 2
  avg_pool3d      4x16x16x16x16, kernel 3, stride 2, padding 1
  adaptive_avg3d  4x16x16x16x16 -> 5x5x5
  adaptive_max3d  4x16x16x16x16 -> 5x5x5
  grid_bilinear   8x16x32x32 sampled at an 8x32x32 affine grid (input and theta gradients)
  grid_bicubic    the same, bicubic
  scatter_amax    scatter_reduce(0, index, src, 'amax') of 100,000x16 rows into 1,000
  index_mean      index_reduce(0, index, source, 'mean') of 100,000x16 rows into 1,000

    python bench/volumetric.py [--repeat N]
"""
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.side_by_side import compare  # noqa: E402

warnings.filterwarnings("ignore", "index_reduce")


def workloads(lib):
    F = lib.nn.functional
    rng = np.random.default_rng(0)

    def tensor(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    def step(fn, *args, **kw):
        def run():
            out = fn(*args, **kw)
            out.sum().backward()
            return out
        return run

    volume = tensor(4, 16, 16, 16, 16)
    images, theta = tensor(8, 16, 32, 32), lib.tensor(rng.uniform(-0.5, 0.5, (8, 2, 3)).astype(np.float32),
                                                      requires_grad=True)

    def sample(mode):
        def run():
            grid = F.affine_grid(theta, (8, 16, 32, 32), align_corners=False)
            return F.grid_sample(images, grid, mode=mode, align_corners=False)
        return run

    rows = tensor(100_000, 16)
    index = lib.tensor(rng.integers(0, 1000, 100_000))
    target = tensor(1000, 16)
    return {
        "conv3d": step(F.conv3d, tensor(4, 8, 16, 16, 16), tensor(16, 8, 3, 3, 3), tensor(16), padding=1),
        "conv3d_s2_g2": step(F.conv3d, volume, tensor(16, 8, 3, 3, 3), tensor(16), stride=2, groups=2),
        "conv_t3d_s2": step(F.conv_transpose3d, tensor(4, 16, 8, 8, 8), tensor(16, 8, 4, 4, 4), tensor(8),
                            stride=2, padding=1),
        "max_pool3d": step(F.max_pool3d, volume, 2),
        "avg_pool3d": step(F.avg_pool3d, volume, 3, stride=2, padding=1),
        "adaptive_avg3d": step(F.adaptive_avg_pool3d, volume, 5),
        "adaptive_max3d": step(F.adaptive_max_pool3d, volume, 5),
        "grid_bilinear": step(sample("bilinear")),
        "grid_bicubic": step(sample("bicubic")),
        "scatter_amax": step(lambda: target.scatter_reduce(0, index.unsqueeze(1).expand(-1, 16), rows, "amax")),
        "index_mean": step(lambda: target.index_reduce(0, index, rows, "mean")),
    }


if __name__ == "__main__":
    compare(workloads, __doc__)
