"""cgrad's benchmarks against its peers (torch, HIPS autograd, mygrad, micrograd): the
workloads (workloads.py), one process per workload and library (worker.py), the driver
(run.py) and the large-tensor suite (large.py); the figures are in the top-level README.md."""
