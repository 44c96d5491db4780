"""The float32 recurrent layers on step_gemm.h's packed kernel (CPUs with
AVX-512; BLAS elsewhere): odd sizes that leave partial row blocks and
masked column panels, forward and backward, against the same layer in
float64 (BLAS), and against torch."""
import numpy as np
import pytest

import cgrad
from tests.helpers import assert_close, requires_torch, torch

SIZES = [(5, 11, 19, 37), (3, 8, 32, 32), (4, 1, 7, 33), (2, 17, 64, 16)]   # steps, batch, input, hidden


def run(lib, mode, dtype, steps, batch, inp, hidden, seed=0):
    rng = np.random.default_rng(seed)
    layer = getattr(lib.nn, mode)(inp, hidden, num_layers=1, bias=True)
    with lib.no_grad():
        for p in layer.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.3))
    layer = layer.to(getattr(lib, dtype))
    x = lib.tensor(rng.standard_normal((steps, batch, inp)), dtype=getattr(lib, dtype), requires_grad=True)
    out, _ = layer(x)
    (out * out).sum().backward()
    return [t.detach().numpy().astype(np.float64) for t in [out, x.grad] + [p.grad for p in layer.parameters()]]


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("sizes", SIZES)
def test_float32_matches_float64(mode, sizes):
    f32, f64 = run(cgrad, mode, "float32", *sizes), run(cgrad, mode, "float64", *sizes)
    for a, b in zip(f32, f64):
        assert_close(a, b, 2e-4, 2e-4, mode)


@requires_torch
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("sizes", SIZES[:2])
def test_float32_matches_torch(mode, sizes):
    for a, b in zip(run(cgrad, mode, "float32", *sizes), run(torch, mode, "float32", *sizes)):
        assert_close(a, b, 2e-4, 2e-4, mode)
