"""SobolEngine (cgrad.quasirandom against torch.quasirandom) and the
TensorBoard writer's CRC-32C (cgrad's numpy lanes against tensorboard's
pure-Python table loop): median process CPU time, cgrad beside its peer in
one run, with the ratio.

SobolEngine cases: construction (direction numbers; scrambling draws
d*30*31 random bits and scrambles every direction number), then draws of
2**m points in d dimensions (cgrad: one gather and one cumulative XOR over
numpy; torch: its C++ loop over points and dimensions).

    python bench/sobol_engine.py [--repeat N]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.cpu_timing import libraries, median_cpu_seconds  # noqa: E402

CASES = [("construct d=1000", 1000, None, False), ("construct scrambled d=1000", 1000, None, True),
         ("draw 2**12 x d=10", 10, 12, False), ("draw 2**16 x d=100", 100, 16, False),
         ("draw 2**10 x d=21201", 21201, 10, True)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    libs = libraries()
    if "torch" in libs:
        libs["torch"].set_num_threads(1)
    print("median process CPU time, ms")
    print(f"{'case':<30}" + "".join(f"{name:>10}" for name in libs) + f"{'ratio':>8}")
    for label, dimension, log2_points, scramble in CASES:
        times = {}
        for name, lib in libs.items():
            engine_class = lib.quasirandom.SobolEngine
            if log2_points is None:
                def call():
                    engine_class(dimension, scramble=scramble, seed=0)
            else:
                engine = engine_class(dimension, scramble=scramble, seed=0)

                def call():
                    engine.reset()
                    engine.draw_base2(log2_points)
            times[name] = median_cpu_seconds(call, args.repeat) * 1e3
        ratio = f"{times['cgrad'] / times['torch']:8.2f}" if "torch" in times else ""
        print(f"{label:<30}" + "".join(f"{t:10.2f}" for t in times.values()) + ratio)
    crc_rows()


def crc_rows():
    from cgrad.utils.tensorboard._records import crc32c
    try:
        from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import crc32c as tensorboard_crc32c
    except ImportError:
        tensorboard_crc32c = None
    print(f"\n{'crc32c (ms)':<30}{'cgrad':>10}{'tensorbd':>10}{'ratio':>8}")
    for size in (1 << 10, 1 << 16, 1 << 20):
        data = os.urandom(size)
        mine = median_cpu_seconds(lambda: crc32c(data), 5) * 1e3
        theirs = median_cpu_seconds(lambda: tensorboard_crc32c(data), 5) * 1e3 if tensorboard_crc32c else None
        ratio = f"{mine / theirs:8.2f}" if theirs else ""
        print(f"{size:>10} bytes{'':<14}{mine:10.2f}" + (f"{theirs:10.2f}" if theirs else "") + ratio)


if __name__ == "__main__":
    main()
