"""Transposed convolutions against torch, in one process: medians of
repeated forward + backward steps (input, weight and bias gradients) after
warm-up, and the ratio cgrad / torch (torch on one thread, as the other
benches in bench/).

  ct2d_s2      8x32x16x16 float32 -> 16 channels, 4x4 kernel, stride 2, padding 1 (a DCGAN up-block)
  ct2d_s1      8x16x32x32 float32 -> 16 channels, 3x3 kernel, padding 1
  ct2d_groups  8x32x16x16 float32 -> 32 channels, 3x3 kernel, stride 2, groups 4, output_padding 1
  ct1d_s2      16x32x128 float32 -> 32 channels, kernel 4, stride 2, padding 1

    python bench/conv_transpose.py [--repeat N]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.side_by_side import compare  # noqa: E402


def workloads(lib):
    F = lib.nn.functional
    rng = np.random.default_rng(0)

    def tensor(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    def step(conv, x, w, b, **kw):
        def run():
            out = conv(x, w, b, **kw)
            out.sum().backward()
            return out
        return run

    return {
        "ct2d_s2": step(F.conv_transpose2d, tensor(8, 32, 16, 16), tensor(32, 16, 4, 4), tensor(16),
                        stride=2, padding=1),
        "ct2d_s1": step(F.conv_transpose2d, tensor(8, 16, 32, 32), tensor(16, 16, 3, 3), tensor(16), padding=1),
        "ct2d_groups": step(F.conv_transpose2d, tensor(8, 32, 16, 16), tensor(32, 8, 3, 3), tensor(32),
                            stride=2, groups=4, output_padding=1),
        "ct1d_s2": step(F.conv_transpose1d, tensor(16, 32, 128), tensor(32, 32, 4), tensor(32),
                        stride=2, padding=1),
    }


if __name__ == "__main__":
    compare(workloads, __doc__)
