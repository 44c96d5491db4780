"""A Python number beside an integer tensor in the op table's binary ops
that compute integers in float32 (copysign, xlogy, special.xlog1py): PyTorch
converts the number itself to float, so -3 beside uint8 stays -3.0 and 2**62
beside int32 stays 2**62 (converting it to the tensor's dtype first wrapped it
to 253, or to 0)."""
import math

import numpy as np
import pytest

import cgrad
from helpers import requires_torch

try:
    import torch
except ImportError:
    torch = None


def test_by_hand():
    u8 = cgrad.tensor([2, 3], dtype=cgrad.uint8)
    r = cgrad.copysign(u8, -3)
    assert r.dtype == cgrad.float32 and r.tolist() == [-2.0, -3.0]
    assert math.isnan(cgrad.xlogy(u8, -3)[0].item())
    np.testing.assert_allclose(cgrad.xlogy(cgrad.tensor([2, 3], dtype=cgrad.int32), 2**62).numpy(),
                               np.array([2, 3]) * np.log(np.float32(2.0**62)), rtol=1e-6)
    np.testing.assert_allclose(cgrad.xlogy(-3, u8).numpy(), -3 * np.log([2.0, 3.0]), rtol=1e-6)
    assert cgrad.copysign(u8, 3).tolist() == [2.0, 3.0]
    assert u8.copysign(-1).tolist() == [-2.0, -3.0]


CASES = ["T.copysign(T.tensor([2, 3], dtype=T.uint8), -3)", "T.tensor([2, 3], dtype=T.uint8).copysign(-3)",
         "T.xlogy(T.tensor([2, 3], dtype=T.uint8), -3)", "T.xlogy(-3, T.tensor([2, 3], dtype=T.uint8))",
         "T.xlogy(T.tensor([2, 3], dtype=T.int32), 2**62)", "T.special.xlog1py(T.tensor([2, 3], dtype=T.uint8), -3)",
         "T.copysign(T.tensor(2, dtype=T.uint8), -3)", "T.copysign(T.tensor([True, False]), -1)",
         "T.copysign(T.tensor([1.5], dtype=T.float16), -2)", "T.xlogy(T.tensor([2, 3], dtype=T.int8), 2.5)",
         "T.tensor([2, 3], dtype=T.uint8).xlogy_(-3)"]


def _assert_same_outcome(expr):
    """expr through torch and cgrad: the same dtype, shape and values, or
    the same error."""
    results = []
    for T in (torch, cgrad):
        try:
            r = eval(expr, {"T": T})
            results.append((str(r.dtype).split(".")[-1], tuple(r.shape), r.float().numpy()))
        except Exception as e:      # noqa: BLE001 - the error itself is compared
            results.append(f"{type(e).__name__}: {e}".replace("cgrad", "torch"))
    (t, c) = results
    if isinstance(t, str) or isinstance(c, str):
        assert c == t
    else:
        assert c[:2] == t[:2]
        np.testing.assert_allclose(c[2], t[2], rtol=1e-6, equal_nan=True)


@requires_torch
@pytest.mark.parametrize("expr", CASES)
def test_matches_torch(expr):
    _assert_same_outcome(expr)


# A number for `input` of sub/div/true_divide: PyTorch's parser wraps it into a
# tensor of the ordinary op, so its node is SubBackward0 / DivBackward0 (not the
# reflected RsubBackward1 / MulBackward0 of `2 - t` and `2 / t`).
NUMBER_FIRST = ["T.sub(2, x)", "T.sub(2, x, alpha=0.5)", "T.div(2, x)", "T.true_divide(2, x)",
                "T.subtract(2.5, x.half())", "T.sub(2, T.tensor(3, dtype=T.uint8))", "T.div(3, T.tensor([2, 4]))",
                "2 - x", "2 / x", "T.div(2**62, T.tensor([3, -4], dtype=T.int32))",
                "T.div(-3, T.tensor([2, 4], dtype=T.uint8))", "T.sub(-3, T.tensor([2, 4], dtype=T.uint8))",
                "T.sub(True, x)", "T.sub(False, T.tensor([1, 2]))"]


def test_number_first_nodes_by_hand():
    x = cgrad.tensor([1.5, 2.0], requires_grad=True)
    r = cgrad.sub(2, x, alpha=2)
    assert type(r.grad_fn).__name__ == "SubBackward0" and r.tolist() == [-1.0, -2.0]
    r.sum().backward()
    assert x.grad.tolist() == [-2.0, -2.0]
    r = cgrad.div(3, x)
    assert type(r.grad_fn).__name__ == "DivBackward0" and r.tolist() == [2.0, 1.5]
    assert cgrad.sub(2, cgrad.tensor(3, dtype=cgrad.uint8)).item() == 255      # the number wraps as uint8


@requires_torch
@pytest.mark.parametrize("expr", NUMBER_FIRST)
def test_number_first_matches_torch(expr):
    results = []
    for T in (torch, cgrad):
        x = T.tensor([1.5, 2.0], requires_grad=True)
        try:
            r = eval(expr, {"T": T, "x": x})
        except RuntimeError as e:
            results.append(str(e))
            continue
        if r.requires_grad:
            r.sum().backward()
        results.append((type(r.grad_fn).__name__, str(r.dtype).split(".")[-1], r.detach().float().numpy(),
                        None if x.grad is None else x.grad.numpy()))
    if isinstance(results[0], str) or isinstance(results[1], str):
        assert results[1] == results[0]
        return
    (nt, dt, vt, gt), (nc, dc, vc, gc) = results
    assert (nc, dc) == (nt, dt)
    np.testing.assert_allclose(vc, vt, rtol=1e-6)
    assert (gc is None) == (gt is None)
    if gt is not None:
        np.testing.assert_allclose(gc, gt, rtol=1e-6)


# lerp's weight as a 0-dim tensor of another dtype: PyTorch takes it at the
# input's dtype, as a number (a 1-dim one must match), its gradient in its own.
LERP = ["T.lerp(T.tensor([1.0, 2.0], dtype=T.float64), T.zeros(2, dtype=T.float64), T.tensor(0.25))",
        "T.lerp(T.tensor([1.0, 2.0], dtype=T.float64), T.zeros(2, dtype=T.float64), T.tensor(3))",
        "T.lerp(T.tensor([1.0, 2.0], dtype=T.float64), T.zeros(2, dtype=T.float64), T.tensor(True))",
        "T.lerp(T.tensor([1.0, 2.0], dtype=T.float16), T.zeros(2, dtype=T.float16), T.tensor(0.3))",
        "T.lerp(T.tensor([1.0, 2.0], dtype=T.float64), T.zeros(2, dtype=T.float64), T.tensor([0.25]))",
        "T.tensor([1.0, 2.0], dtype=T.float64).lerp_(T.zeros(2, dtype=T.float64), T.tensor(0.5))"]


def test_lerp_zero_dim_weight_by_hand():
    x = cgrad.tensor([1.0, 2.0], dtype=cgrad.float64, requires_grad=True)
    w = cgrad.tensor(0.25, requires_grad=True)
    r = cgrad.lerp(x, cgrad.zeros(2, dtype=cgrad.float64), w)
    assert r.dtype == cgrad.float64 and r.tolist() == [0.75, 1.5]
    assert type(r.grad_fn).__name__ == "LerpBackward1"
    r.sum().backward()
    assert w.grad.dtype == cgrad.float32 and w.grad.item() == -3.0 and x.grad.tolist() == [0.75, 0.75]


@requires_torch
@pytest.mark.parametrize("expr", LERP)
def test_lerp_zero_dim_weight_matches_torch(expr):
    _assert_same_outcome(expr)


# Where PyTorch takes no number (ldexp), or names div's kernel in its text (divide).
REFUSALS = ["T.ldexp(T.ones(2), 2)", "T.ldexp(2, T.ones(2))", "T.ones(2).ldexp(2)", "T.ones(2).ldexp_(2.5)",
            "T.ldexp(T.ones(2), None)", "T.divide(T.ones(2), 2, rounding_mode='bogus')",
            "T.ones(2).divide_(2, rounding_mode='true')", "T.div(T.ones(2), T.ones(2), rounding_mode='x')"]


def test_refusals_by_hand():
    with pytest.raises(TypeError, match=r"ldexp\(\): argument 'other' \(position 2\) must be Tensor, not int"):
        cgrad.ldexp(cgrad.ones(2), 2)
    with pytest.raises(RuntimeError, match="^div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                                           "but found 'bogus'$"):
        cgrad.divide(cgrad.ones(2), 2, rounding_mode="bogus")
    assert cgrad.ldexp(cgrad.ones(2), cgrad.tensor([1, 2])).tolist() == [2.0, 4.0]


@requires_torch
@pytest.mark.parametrize("expr", REFUSALS)
def test_refusals_match_torch(expr):
    errors = []
    for T in (torch, cgrad):
        with pytest.raises(Exception) as info:
            eval(expr, {"T": T})
        errors.append(f"{info.type.__name__}: {info.value}")
    assert errors[1] == errors[0]
