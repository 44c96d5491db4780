"""det and slogdet as PyTorch computes them (the product of LU's diagonal,
of A^T where A is contiguous, times the permutation's sign), against
torch: the sign of a singular matrix's zero determinant, batched and
transposed inputs; and PyTorch's name for its linear-algebra error."""
import math

import numpy as np
import pytest

import cgrad
from tests.helpers import assert_close, requires_torch, torch

SINGULAR = [
    [[1.0, 2.0], [2.0, 4.0]],
    [[2.0, 4.0], [1.0, 2.0]],
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, 1.0, -1.0]],
    [[0.0, 0.0], [0.0, 0.0]],
]


def signed(value):
    return (math.copysign(1.0, value), abs(value))


@requires_torch
@pytest.mark.parametrize("rows", SINGULAR)
@pytest.mark.parametrize("transposed", [False, True])
def test_singular_zero_keeps_torchs_sign(rows, transposed):
    out = []
    for lib in (cgrad, torch):
        A = lib.tensor(rows)
        A = A.t() if transposed else A
        sign, logabs = lib.linalg.slogdet(A)
        out.append((signed(lib.linalg.det(A).item()), signed(sign.item()), logabs.item()))
    assert out[0] == out[1]


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 3), (4, 5, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("transposed", [False, True])
def test_det_and_slogdet_match_torch(dtype, shape, transposed):
    a = np.random.default_rng(sum(shape)).standard_normal(shape)
    res = {}
    for lib in (cgrad, torch):
        A = lib.tensor(a, dtype=getattr(lib, dtype))
        A = A.transpose(-2, -1) if transposed else A
        sign, logabs = lib.linalg.slogdet(A)
        res[lib.__name__] = (lib.linalg.det(A).numpy(), sign.numpy(), logabs.numpy())
    tol = 1e-5 if dtype == "float32" else 1e-12
    for c, t, what in zip(res["cgrad"], res["torch"], ("det", "sign", "logabsdet")):
        assert c.dtype == t.dtype
        assert_close(c, t, tol, tol, what)


def test_det_by_hand():
    # LU of [[1, 2], [3, 4]]^T pivots once: det = -(2 * -1) ... = -2
    assert cgrad.linalg.det(cgrad.tensor([[1.0, 2.0], [3.0, 4.0]])).item() == -2.0
    assert math.copysign(1.0, cgrad.linalg.det(cgrad.tensor([[1.0, 2.0], [2.0, 4.0]])).item()) == -1.0
    sign, logabs = cgrad.linalg.slogdet(cgrad.tensor([[2.0, 0.0], [0.0, 3.0]]))
    assert (sign.item(), logabs.item()) == (1.0, pytest.approx(math.log(6.0), rel=1e-7))


def test_linalg_error_is_named_as_torchs():
    assert cgrad.linalg.LinAlgError.__name__ == "_LinAlgError"
    assert cgrad.linalg.LinAlgError.__module__ == "cgrad._C"
    with pytest.raises(cgrad.linalg.LinAlgError) as err:
        cgrad.linalg.inv(cgrad.tensor([[1.0, 2.0], [2.0, 4.0]]))
    assert type(err.value).__name__ == "_LinAlgError" and isinstance(err.value, RuntimeError)
