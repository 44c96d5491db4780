"""What the single-script benchmarks share: the median process CPU time of
a call (on the shared 2-core machine CPU time is the steadier figure; a
one-thread call's wall time grows with the load), and the libraries to put
side by side (cgrad, and torch where it is installed)."""
import statistics
import time


def median_cpu_seconds(fn, repeat, warmup=3):
    """The median CPU time of fn() over `repeat` calls after `warmup` more."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def libraries():
    """{"cgrad": cgrad, "torch": torch}, without torch where it is missing."""
    import cgrad
    libs = {"cgrad": cgrad}
    try:
        import torch
    except ImportError:
        return libs
    libs["torch"] = torch
    return libs
