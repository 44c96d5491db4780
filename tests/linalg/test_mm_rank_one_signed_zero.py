"""mm and the ops built on it (matmul of matrices, F.linear without bias,
linear's weight gradient for a batch of one) with an inner size of one:
PyTorch's mm gives each product as it is, so a -0.0 (a negative gradient
times a zero input: one-hot and ReLU inputs of batch-1 training loops)
stays -0.0 and prints as "-0.", except for a single-row or single-column
result; bmm, mv and dot accumulate and give +0.0. Compared
with torch sign bit by sign bit, small and large, float32 and float64."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def signs(lib, make, dtype):
    r = make(lib, getattr(lib, dtype))
    return r.detach().signbit().numpy().tolist(), r.detach().numpy().tolist()


CASES = {
    "mm_small": lambda lib, dt: (-lib.ones(1, 3, dtype=dt)).t().mm(lib.zeros(1, 4, dtype=dt)),
    "mm_large": lambda lib, dt: (-lib.ones(1, 300, dtype=dt)).t().mm(lib.zeros(1, 70, dtype=dt)),
    "mm_mixed": lambda lib, dt: lib.tensor([[-1.0], [2.0], [0.0]], dtype=dt).mm(lib.tensor([[0.0, -3.0, -0.0]], dtype=dt)),
    "matmul": lambda lib, dt: lib.matmul(-lib.ones(5, 1, dtype=dt), lib.zeros(1, 6, dtype=dt)),
    "linear_no_bias": lambda lib, dt: lib.nn.functional.linear(-lib.ones(4, 1, dtype=dt), lib.zeros(3, 1, dtype=dt)),
    "bmm": lambda lib, dt: lib.bmm(-lib.ones(2, 3, 1, dtype=dt), lib.zeros(2, 1, 4, dtype=dt)),
    "mm_one_row": lambda lib, dt: (-lib.ones(1, 1, dtype=dt)).mm(lib.zeros(1, 5, dtype=dt)),
    "mm_one_column": lambda lib, dt: (-lib.ones(4, 1, dtype=dt)).mm(lib.zeros(1, 1, dtype=dt)),
    "mv": lambda lib, dt: lib.mv(-lib.ones(3, 1, dtype=dt), lib.zeros(1, dtype=dt)),
    "dot": lambda lib, dt: lib.dot(-lib.ones(1, dtype=dt), lib.zeros(1, dtype=dt)),
    "matmul_vector": lambda lib, dt: lib.matmul(-lib.ones(3, 1, dtype=dt), lib.zeros(1, dtype=dt)),
    "matmul_batched": lambda lib, dt: lib.matmul(-lib.ones(2, 3, 1, dtype=dt), lib.zeros(1, 4, dtype=dt)),
    "strided": lambda lib, dt: (-lib.ones(3, 2, dtype=dt))[:, ::2].mm(lib.zeros(4, 1, dtype=dt).t()),
    "mm_one_by_one": lambda lib, dt: (-lib.ones(1, 1, dtype=dt)).mm(lib.zeros(1, 1, dtype=dt)),
    "full_negative_zero": lambda lib, dt: lib.full((3, 1), -0.0, dtype=dt).mm(lib.ones(1, 4, dtype=dt)),
}


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_rank_one_products_keep_signed_zeros_as_torch(case, dtype):
    assert signs(cgrad, CASES[case], dtype) == signs(torch, CASES[case], dtype)


def weight_grad_signs(lib):
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[0.5, -0.5, 1.0], [-1.0, 0.25, 0.5]]))
        lin.bias.zero_()
    x = lib.tensor([[0.0, 1.0, 0.0]])     # a one-hot input, batch of one
    loss = lib.nn.functional.cross_entropy(lin(x), lib.tensor([0]))
    loss.backward()
    return lin.weight.grad.signbit().numpy().tolist(), str(lin.weight.grad)


@requires_torch
def test_linear_weight_grad_of_batch_one_matches_torch():
    assert weight_grad_signs(cgrad) == weight_grad_signs(torch)


def test_rank_one_product_without_torch():
    r = (-cgrad.ones(1, 2)).t().mm(cgrad.zeros(1, 3))
    assert r.signbit().all()
    assert not (-cgrad.ones(1, 1)).mm(cgrad.zeros(1, 3)).signbit().any()      # one row: accumulated
    assert not (-cgrad.ones(3, 1)).mm(cgrad.zeros(1, 1)).signbit().any()      # one column
    np.testing.assert_array_equal(cgrad.tensor([[2.0], [3.0]]).mm(cgrad.tensor([[4.0, 5.0]])).numpy(),
                                  [[8.0, 10.0], [12.0, 15.0]])
