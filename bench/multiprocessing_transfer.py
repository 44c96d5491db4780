"""Tensors between processes, cgrad beside torch: the wall time per tensor
of sending float32 tensors of several sizes through a multiprocessing Queue
to a forked child that adds 1 to its first element and acknowledges (the
parent then sees it: shared, not copied; one element, so that the figure is
the transfer's, not a kernel's), and the CPU time of share_memory_() alone on a fresh
tensor. Medians of repeated runs, and the cgrad/torch ratio.

    PYTHONPATH=. /work/main/.venv/bin/python bench/multiprocessing_transfer.py   (from the repository root)
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.cpu_timing import libraries, median_cpu_seconds  # noqa: E402

SIZES = [16, 4096, 262_144, 4_194_304]      # elements
SENDS = 40


def child(lib_name, q_in, q_out):
    import importlib
    lib = importlib.import_module(lib_name)
    while True:
        t = q_in.get()
        if t is None:
            return
        with lib.no_grad():
            t[0] += 1
        q_out.put(True)


def seconds_per_send(lib, lib_name, numel):
    mp = lib.multiprocessing.get_context("fork")
    q_in, q_out = mp.Queue(), mp.Queue()
    worker = mp.Process(target=child, args=(lib_name, q_in, q_out))
    worker.start()
    tensors = [lib.zeros(numel) for _ in range(SENDS)]
    times = []
    for t in tensors:
        start = time.perf_counter()
        q_in.put(t)
        q_out.get(timeout=60)
        times.append(time.perf_counter() - start)
    q_in.put(None)
    worker.join(60)
    assert all(t[0].item() == 1.0 for t in tensors), "the child's writes were not seen"
    return statistics.median(times[3:])


def main():
    libs = libraries()
    for lib in libs.values():
        lib.multiprocessing.set_sharing_strategy("file_descriptor")
        if hasattr(lib, "set_num_threads"):
            lib.set_num_threads(1)
    print(f"{'what':<34}" + "".join(f"{name:>12}" for name in libs) + "   cgrad/torch")
    for numel in SIZES:
        rows = {}
        for name, lib in libs.items():
            rows[name] = seconds_per_send(lib, name, numel)
        ratio = f"{rows['cgrad'] / rows['torch']:>10.2f}" if "torch" in rows else ""
        print(f"{f'queue round trip, {numel} floats':<34}" +
              "".join(f"{v * 1e6:>10.0f}us" for v in rows.values()) + "   " + ratio)
    for numel in SIZES:
        rows = {name: median_cpu_seconds(lambda lib=lib: lib.zeros(numel).share_memory_(), repeat=30)
                for name, lib in libs.items()}
        ratio = f"{rows['cgrad'] / rows['torch']:>10.2f}" if "torch" in rows else ""
        print(f"{f'share_memory_(), {numel} floats':<34}" +
              "".join(f"{v * 1e6:>10.0f}us" for v in rows.values()) + "   " + ratio)


if __name__ == "__main__":
    main()
