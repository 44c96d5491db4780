"""cgrad and torch side by side in one process, for the benches whose
workloads are steps built per library (bench/nn_functional.py,
bench/conv_transpose.py): the two libraries' results must agree before
their speed is compared; then the median time of each step and the ratio
cgrad / torch (torch on one thread, as the other benches in bench/)."""
import argparse

import numpy as np

from bench.worker import timed


def compare(workloads, description):
    """workloads(lib) -> {name: step}; a step returns the tensor compared."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
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
