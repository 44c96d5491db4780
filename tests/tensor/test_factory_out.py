"""out= on the factories (zeros, ones, empty, full, eye, arange, linspace,
rand, randn, randint) as PyTorch has it: the values are written into out,
which is returned and resized to them; out's dtype is the values' dtype
unless dtype= names another (an error); an out that requires grad is
refused. Without torch the checks against hand-written values still run."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

VALUE_CASES = [
    ("zeros", lambda L, o: L.zeros(2, 3, out=o), [[0.0] * 3] * 2),
    ("ones", lambda L, o: L.ones(4, out=o), [1.0] * 4),
    ("full", lambda L, o: L.full((2,), 3.0, out=o), [3.0, 3.0]),
    ("eye", lambda L, o: L.eye(2, out=o), [[1.0, 0.0], [0.0, 1.0]]),
    ("arange", lambda L, o: L.arange(1, 4, out=o), [1.0, 2.0, 3.0]),
    ("linspace", lambda L, o: L.linspace(0, 1, 3, out=o), [0.0, 0.5, 1.0]),
]


@pytest.mark.parametrize("name,make,want", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_values_written_into_out(name, make, want):
    out = cgrad.full((5,), 7.0)
    version = out._version
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = make(cgrad, out)
    assert got is out
    assert out.tolist() == want
    assert out._version > version


def test_out_dtype_is_the_values_dtype():
    out = cgrad.empty(3, dtype=cgrad.int64)
    assert cgrad.full((2,), 2.5, out=out).tolist() == [2, 2]
    assert out.dtype == cgrad.int64
    assert cgrad.arange(3, out=cgrad.empty(3, dtype=cgrad.int64)).tolist() == [0, 1, 2]
    out = cgrad.empty(3)
    r = cgrad.randint(0, 10, (4,), out=out, generator=cgrad.Generator().manual_seed(0))
    assert r is out and out.dtype == cgrad.float32 and out.shape == (4,)
    assert all(v == int(v) and 0 <= v < 10 for v in out.tolist())


def test_random_factories_fill_out_like_their_result():
    for name in ("rand", "randn"):
        out = cgrad.empty(1)
        r = getattr(cgrad, name)(2, 3, out=out, generator=cgrad.Generator().manual_seed(3))
        want = getattr(cgrad, name)(2, 3, generator=cgrad.Generator().manual_seed(3))
        assert r is out and out.shape == (2, 3)
        assert out.tolist() == want.tolist()


def test_non_contiguous_out_of_the_right_shape_keeps_its_strides():
    base = cgrad.full((2, 3), 9.0)
    out = base.t()
    cgrad.zeros(3, 2, out=out)
    assert out.stride() == (1, 3)
    assert base.tolist() == [[0.0] * 3] * 2


def test_requires_grad_true_marks_out():
    out = cgrad.empty(2)
    cgrad.zeros(2, out=out, requires_grad=True)
    assert out.requires_grad and out.tolist() == [0.0, 0.0]


ERROR_CASES = [
    ("dtype", lambda L: L.zeros(2, dtype=L.float64, out=L.empty(2)), RuntimeError),
    ("dtype_rand", lambda L: L.rand(2, dtype=L.float64, out=L.empty(2)), RuntimeError),
    ("dtype_arange", lambda L: L.arange(2, dtype=L.float64, out=L.empty(2)), RuntimeError),
    ("dtype_randint", lambda L: L.randint(3, (2,), dtype=L.float64, out=L.empty(2)), RuntimeError),
    ("not_tensor", lambda L: L.zeros(2, out=3), TypeError),
    ("requires_grad", lambda L: L.ones(2, out=L.empty(2, requires_grad=True)), RuntimeError),
]


@pytest.mark.parametrize("name,call,exc", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors(name, call, exc):
    with pytest.raises(exc) as got:
        call(cgrad)
    if torch is not None:
        with pytest.raises(exc) as want:
            call(torch)
        assert str(got.value) == str(want.value).replace("torch.", "cgrad.")
    else:
        assert str(got.value)


def test_arange_warns_when_the_element_count_changes():
    with pytest.warns(UserWarning, match=r"^The number of elements in the out tensor of shape \[5\] is 5 which "
                                         r"does not match the computed number of elements 3\."):
        out = cgrad.arange(3, out=cgrad.empty(5))
    assert out.tolist() == [0.0, 1.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cgrad.zeros(2, out=cgrad.empty(5))      # the other factories resize silently


@requires_torch
@pytest.mark.parametrize("name,make,want", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_against_torch(name, make, want):
    for start in ((5,), (2, 3), (0,)):
        c_out, t_out = cgrad.full(start, 7.0), torch.full(start, 7.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make(cgrad, c_out)
            make(torch, t_out)
        assert c_out.shape == tuple(t_out.shape) and c_out.dtype.__repr__().split(".")[1] == str(t_out.dtype).split(".")[1]
        np.testing.assert_array_equal(c_out.numpy(), t_out.numpy())
