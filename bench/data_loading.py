"""DataLoader throughput, cgrad beside torch: one epoch over a TensorDataset
of 4,096 samples (784 float32 features and an int64 label), batch 64,
shuffled, with 0 and 2 worker processes; plus the random samplers
(randperm, multinomial, bernoulli, normal) on 10^6 elements.
Medians of repeated runs, and the cgrad/torch ratio.

    PYTHONPATH=. /work/main/.venv/bin/python bench/data_loading.py   (from the repository root)
"""
import statistics
import time


def median_seconds(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def epoch_runner(lib, workers):
    data = lib.utils.data
    lib.manual_seed(0)
    ds = data.TensorDataset(lib.randn(4096, 784), lib.randint(0, 10, (4096,)))
    kw = dict(num_workers=workers, persistent_workers=True) if workers else {}
    loader = data.DataLoader(ds, batch_size=64, shuffle=True, **kw)

    def run():
        for x, y in loader:
            pass
    return run


def sampler_runner(lib, what):
    p = lib.full((1_000_000,), 0.5)
    w = lib.rand(1000)
    calls = {"randperm": lambda: lib.randperm(1_000_000),
             "multinomial": lambda: lib.multinomial(w, 100_000, replacement=True),
             "bernoulli": lambda: lib.bernoulli(p),
             "normal": lambda: lib.normal(0., 1., (1_000_000,))}
    return calls[what]


def main():
    import cgrad
    import torch
    torch.set_num_threads(1)
    rows = []
    for workers in (0, 2):
        t_c = median_seconds(epoch_runner(cgrad, workers), 5)
        t_t = median_seconds(epoch_runner(torch, workers), 5)
        rows.append((f"epoch, {workers} workers (ms)", t_c * 1e3, t_t * 1e3))
    for what in ("randperm", "multinomial", "bernoulli", "normal"):
        t_c = median_seconds(sampler_runner(cgrad, what), 9)
        t_t = median_seconds(sampler_runner(torch, what), 9)
        rows.append((f"{what} 1e6 (ms)", t_c * 1e3, t_t * 1e3))
    print(f"{'workload':32s} {'cgrad':>9s} {'torch':>9s} {'ratio':>7s}")
    for name, c, t in rows:
        print(f"{name:32s} {c:9.2f} {t:9.2f} {c / t:7.2f}")


if __name__ == "__main__":
    main()
